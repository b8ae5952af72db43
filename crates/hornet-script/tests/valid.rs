//! Valid scripts: the resulting plan, field by field.

use std::time::Duration;

use hornet_script::plan::{Body, Phase, PhaseKind, RequestStep, Step};
use hornet_script::template::JsonTemplate;
use hornet_script::{LoadOptions, Plan, load_file, parse_str};
use serde_json::json;

fn plan(src: &str) -> Plan {
    plan_with(src, &LoadOptions::default())
}

fn plan_with(src: &str, opts: &LoadOptions) -> Plan {
    match parse_str(src, "test.yaml", opts) {
        Ok(p) => p,
        Err(e) => panic!("unexpected error:\n{e}"),
    }
}

fn request(step: &Step) -> &RequestStep {
    match step {
        Step::Request(r) => r,
        other => panic!("not a request: {other:?}"),
    }
}

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn phase(name: Option<&str>, secs: f64, kind: PhaseKind, max_vusers: Option<u64>) -> Phase {
    Phase { name: name.map(str::to_string), duration: Duration::from_secs_f64(secs), kind, max_vusers }
}

fn render_json(t: &JsonTemplate, vars: &[(String, serde_json::Value)]) -> String {
    let mut out = String::new();
    t.render_into(vars, &mut out);
    out
}

const FULL: &str = r#"
config:
  target: "http://localhost:8080/api"
  phases:
    - name: warm up
      duration: 10
      arrivalRate: 1
      rampTo: 5
    - duration: "5m"
      arrivalRate: 0.5
      maxVusers: 100
      mode: uniform
    - duration: 1.5
      arrivalCount: 20
    - pause: 500ms
    - duration: "90s"
      arrivalRate: 0
  http:
    timeout: "2.5s"
    pool: 8
  tls:
    rejectUnauthorized: false
  defaults:
    headers:
      User-Agent: hornet-test
      x-version: 2
  variables:
    zeta: 1
    alpha: [a, b]
    nested: {k: v}
    quoted: "007"
    id: 42
    token: abc
    term: t
  gracefulStop: 1m
scenarios:
  - name: browse
    weight: 3
    engine: http
    flow:
      - get:
          url: "/items/{{ id }}"
      - get:
          url: "/items/{{ id }}"
          headers:
            Authorization: "Bearer {{ token }}"
          qs:
            page: 2
            q: "{{ term }}"
      - think: 0.5
      - loop:
          - post:
              url: /orders
              name: create order
              json:
                zulu: "{{ id }}"
                alpha: 1
                label: "n-{{ id }}"
                tags: [x, "{{ term }}"]
          - think: "2s"
        count: 3
  - flow:
      - put: { url: "https://other.example.com/x", body: "raw {{ id }}", name: create order }
      - patch: { url: /p }
      - delete: { url: /d }
      - head: { url: /h }
      - options: { url: /o }
"#;

#[test]
fn full_script_builds_the_expected_plan() {
    let p = plan(FULL);
    assert_eq!(p.source, None);
    assert_eq!(p.target.as_deref(), Some("http://localhost:8080/api"));
    assert_eq!(
        p.phases,
        [
            phase(Some("warm up"), 10.0, PhaseKind::Rate { rate: 1.0, ramp_to: Some(5.0) }, None),
            phase(None, 300.0, PhaseKind::Rate { rate: 0.5, ramp_to: None }, Some(100)),
            phase(None, 1.5, PhaseKind::Count { count: 20 }, None),
            phase(None, 0.5, PhaseKind::Pause, None),
            phase(None, 90.0, PhaseKind::Pause, None),
        ]
    );
    assert_eq!(p.http.timeout, ms(2500));
    assert_eq!(p.http.pool, Some(8));
    assert!(p.http.insecure);
    let headers: Vec<(&str, &str)> =
        p.default_headers.iter().map(|(n, t)| (n.as_str(), t.source())).collect();
    assert_eq!(headers, [("user-agent", "hornet-test"), ("x-version", "2")]);
    assert_eq!(
        p.variables,
        [
            ("zeta".to_string(), json!(1)),
            ("alpha".to_string(), json!(["a", "b"])),
            ("nested".to_string(), json!({"k": "v"})),
            ("quoted".to_string(), json!("007")),
            ("id".to_string(), json!(42)),
            ("token".to_string(), json!("abc")),
            ("term".to_string(), json!("t")),
        ]
    );
    assert_eq!(p.graceful_stop, Duration::from_secs(60));

    // Endpoint names: explicit name, or METHOD + URL template; same name, same id.
    assert_eq!(
        p.endpoints,
        ["GET /items/{{ id }}", "create order", "PATCH /p", "DELETE /d", "HEAD /h", "OPTIONS /o"]
    );

    assert_eq!(p.scenarios.len(), 2);
    let s = &p.scenarios[0];
    assert_eq!((s.name.as_str(), s.weight, s.flow.len()), ("browse", 3, 4));
    let first = request(&s.flow[0]);
    assert_eq!(first.method, http::Method::GET);
    assert_eq!(first.url.source(), "/items/{{ id }}");
    assert_eq!(first.endpoint, 0);
    assert!(first.headers.is_empty() && first.qs.is_empty() && first.body.is_none());
    let second = request(&s.flow[1]);
    assert_eq!(second.endpoint, 0, "same URL template, same endpoint");
    assert_eq!(second.headers.len(), 1);
    assert_eq!(second.headers[0].0.as_str(), "authorization");
    assert_eq!(second.headers[0].1.source(), "Bearer {{ token }}");
    let qs: Vec<(&str, &str)> = second.qs.iter().map(|(k, v)| (k.as_str(), v.source())).collect();
    assert_eq!(qs, [("page", "2"), ("q", "{{ term }}")]);
    assert!(matches!(s.flow[2], Step::Think(d) if d == ms(500)));
    let Step::Loop { count, steps } = &s.flow[3] else { panic!("expected a loop: {:?}", s.flow[3]) };
    assert_eq!(*count, 3);
    assert_eq!(steps.len(), 2);
    let post = request(&steps[0]);
    assert_eq!(post.method, http::Method::POST);
    assert_eq!(post.endpoint, 1);
    let Some(Body::Json(body)) = &post.body else { panic!("expected a JSON body") };
    let vars = &p.variables;
    // Key order is the file's order; a whole `{{ id }}` keeps the number type.
    assert_eq!(render_json(body, vars), r#"{"zulu":42,"alpha":1,"label":"n-42","tags":["x","t"]}"#);
    assert!(matches!(steps[1], Step::Think(d) if d == ms(2000)));

    let s = &p.scenarios[1];
    assert_eq!((s.name.as_str(), s.weight), ("scenario 2", 1));
    let put = request(&s.flow[0]);
    assert_eq!(put.method, http::Method::PUT);
    assert_eq!(put.endpoint, 1, "explicit name shared with the POST");
    assert!(matches!(&put.body, Some(Body::Raw(t)) if t.source() == "raw {{ id }}"));
    let methods: Vec<&str> = s.flow[1..].iter().map(|st| request(st).method.as_str()).collect();
    assert_eq!(methods, ["PATCH", "DELETE", "HEAD", "OPTIONS"]);
}

#[test]
fn merge_keys_and_aliases_work() {
    let p = plan(
        r#"
config:
  target: http://h
  phases:
    - &steady
      duration: 60
      arrivalRate: 10
      maxVusers: 50
    - <<: *steady
      arrivalRate: 20
      name: doubled
  defaults:
    headers: &common
      x-team: perf
scenarios:
  - flow:
      - get: &req
          url: /a
          headers: *common
      - post:
          <<: *req
          name: posted
          json: { a: 1 }
"#,
    );
    assert_eq!(
        p.phases,
        [
            phase(None, 60.0, PhaseKind::Rate { rate: 10.0, ramp_to: None }, Some(50)),
            phase(Some("doubled"), 60.0, PhaseKind::Rate { rate: 20.0, ramp_to: None }, Some(50)),
        ]
    );
    let flow = &p.scenarios[0].flow;
    let get = request(&flow[0]);
    let post = request(&flow[1]);
    assert_eq!(post.url.source(), "/a");
    assert_eq!(get.headers.len(), 1);
    assert_eq!(post.headers.len(), 1);
    assert_eq!(post.headers[0].0.as_str(), "x-team");
    assert_eq!(p.endpoints, ["GET /a", "posted"]);
    assert_eq!(p.default_headers[0].1.source(), "perf");
}

#[test]
fn functional_mode_defaults_and_absolute_urls() {
    let p = plan(
        "config: {}\nscenarios:\n  - flow:\n      - get: { url: 'https://example.com/health' }\n  - weight: 0\n    flow:\n      - head: { url: 'http://x/' }\n",
    );
    assert!(p.phases.is_empty(), "no phases: functional mode");
    assert_eq!(p.target, None);
    assert_eq!(p.http, hornet_script::plan::HttpSettings::default());
    assert_eq!(p.graceful_stop, Duration::from_secs(30));
    assert!(p.default_headers.is_empty() && p.variables.is_empty());
    assert_eq!(p.scenarios[0].name, "scenario 1");
    assert_eq!(p.scenarios[1].weight, 0);
    assert_eq!(p.endpoints, ["GET https://example.com/health", "HEAD http://x/"]);
}

#[test]
fn empty_phases_and_null_maps_are_accepted() {
    let p = plan(
        "config:\n  target: http://h\n  phases: []\n  variables:\n  http:\nscenarios:\n  - flow: [ { think: 1 } ]\n",
    );
    assert!(p.phases.is_empty() && p.variables.is_empty());
    assert!(matches!(p.scenarios[0].flow[0], Step::Think(d) if d == Duration::from_secs(1)));
}

#[test]
fn command_line_options_override_the_script() {
    let src = "config:\n  target: not a url\n  timeout: 3\nscenarios:\n  - flow:\n      - get: { url: /x }\n";
    let opts = LoadOptions { target: Some("https://h:8443".to_string()), insecure: true };
    let p = plan_with(src, &opts);
    assert_eq!(p.target.as_deref(), Some("https://h:8443"));
    assert!(p.http.insecure);
    assert_eq!(p.http.timeout, Duration::from_secs(3), "config.timeout is an alias of http.timeout");
}

#[test]
fn phase_variants() {
    let p = plan(
        "config:\n  target: http://h\n  phases:\n    - {duration: 0, arrivalRate: 0}\n    - {duration: 5, arrivalCount: 0}\n    - {duration: 5, arrivalRate: 0, rampTo: 4}\n    - {pause: 2, name: breather, maxVusers: 3}\nscenarios:\n  - flow: [ {think: 0} ]\n",
    );
    assert_eq!(
        p.phases,
        [
            phase(None, 0.0, PhaseKind::Pause, None),
            phase(None, 5.0, PhaseKind::Pause, None),
            phase(None, 5.0, PhaseKind::Rate { rate: 0.0, ramp_to: Some(4.0) }, None),
            phase(Some("breather"), 2.0, PhaseKind::Pause, Some(3)),
        ]
    );
}

#[test]
fn load_file_sets_source_and_reports_io_errors() {
    let dir = std::env::temp_dir().join(format!("hornet-script-test-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("ok.yaml");
    std::fs::write(&path, "config: {target: 'http://h'}\nscenarios: [{flow: [{get: {url: /}}]}]\n").unwrap();
    let p = load_file(&path, &LoadOptions::default()).unwrap();
    assert_eq!(p.source.as_deref(), Some(path.as_path()));
    assert_eq!(p.endpoints, ["GET /"]);

    let missing = dir.join("missing.yaml");
    let e = load_file(&missing, &LoadOptions::default()).unwrap_err();
    assert_eq!(e.line, 0);
    assert!(e.message.contains("missing.yaml"), "{e}");
    assert!(e.to_string().starts_with("error: cannot read `"), "{e}");
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn error_positions_are_exact() {
    let e = parse_str(
        "config:\n  target: http://h\n  phases:\n    - duration: 10\n      arivalRate: 5\nscenarios: []\n",
        "f.yaml",
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert_eq!((e.file.as_str(), e.line, e.column, e.underline), ("f.yaml", 5, 7, 10));
    assert_eq!(e.help.as_deref(), Some("did you mean `arrivalRate`?"));
    assert_eq!(e.source_line.as_deref(), Some("      arivalRate: 5"));

    // A template error points inside the string, past the quote.
    let e = parse_str(
        "config: {target: 'http://h'}\nscenarios:\n  - flow:\n      - get: { url: \"/a/{{ id\" }\n",
        "f.yaml",
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert_eq!((e.line, e.column), (4, 25));
}
