//! Valid scripts: the resulting plan, field by field.

use std::time::Duration;

use hornet_script::plan::{
    ArrivalMode, Body, LoopOver, Pacing, Phase, PhaseKind, RequestStep, Step, UserRamp,
};
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
    Phase {
        name: name.map(str::to_string),
        duration: Duration::from_secs_f64(secs),
        kind,
        max_vusers,
        mode: ArrivalMode::Uniform,
        pacing: None,
    }
}

/// A closed-model phase.
fn users(name: Option<&str>, secs: f64, users: u64, ramp: UserRamp, pacing: Option<Pacing>) -> Phase {
    Phase { pacing, ..phase(name, secs, PhaseKind::Users { users, ramp }, None) }
}

/// An arrival-rate phase (`ramp_to` if it ramps) with the given mode.
fn rate(name: Option<&str>, secs: f64, rate: f64, ramp_to: Option<f64>, mode: ArrivalMode) -> Phase {
    Phase { mode, ..phase(name, secs, PhaseKind::Rate { rate, ramp_to }, None) }
}

/// A script with `config` lines (indented by two spaces) and a trivial scenario.
fn with_config(config: &str) -> String {
    format!("config:\n  target: http://h\n{config}scenarios:\n  - flow: [ {{ get: {{ url: / }} }} ]\n")
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
    sourceAddresses: [127.0.0.2, "127.0.0.3", "::1"]
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
    let sources: Vec<String> = p.http.source_addresses.iter().map(|a| a.to_string()).collect();
    assert_eq!(sources, ["127.0.0.2", "127.0.0.3", "::1"]);
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
        p.endpoint_names(),
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
    assert!(matches!(&s.flow[2], Step::Think(t) if t.jitter.is_none() && t.duration == ms(500)));
    let Step::Loop { over: LoopOver::Count(count), steps } = &s.flow[3] else {
        panic!("expected a loop: {:?}", s.flow[3])
    };
    assert_eq!(*count, 3);
    assert_eq!(steps.len(), 2);
    let post = request(&steps[0]);
    assert_eq!(post.method, http::Method::POST);
    assert_eq!(post.endpoint, 1);
    let Some(Body::Json(body)) = &post.body else { panic!("expected a JSON body") };
    let vars = &p.variables;
    // Key order is the file's order; a whole `{{ id }}` keeps the number type.
    assert_eq!(render_json(body, vars), r#"{"zulu":42,"alpha":1,"label":"n-42","tags":["x","t"]}"#);
    assert!(matches!(&steps[1], Step::Think(t) if t.jitter.is_none() && t.duration == ms(2000)));

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
    assert_eq!(p.endpoint_names(), ["GET /a", "posted"]);
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
    assert_eq!(p.endpoint_names(), ["GET https://example.com/health", "HEAD http://x/"]);
}

#[test]
fn empty_phases_and_null_maps_are_accepted() {
    let p = plan(
        "config:\n  target: http://h\n  phases: []\n  variables:\n  http:\nscenarios:\n  - flow: [ { think: 1 } ]\n",
    );
    assert!(p.phases.is_empty() && p.variables.is_empty());
    assert!(
        matches!(&p.scenarios[0].flow[0], Step::Think(t) if t.jitter.is_none() && t.duration == Duration::from_secs(1))
    );
}

#[test]
fn command_line_options_override_the_script() {
    let src = "config:\n  target: not a url\n  timeout: 3\nscenarios:\n  - flow:\n      - get: { url: /x }\n";
    let opts =
        LoadOptions { target: Some("https://h:8443".to_string()), insecure: true, ..LoadOptions::default() };
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
    assert_eq!(p.endpoint_names(), ["GET /"]);

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

// ---- the full scenario language ----

use hornet_script::load_files;
use hornet_script::plan::{
    Capture, CaptureSource, Expect, FormPart, Jitter, PayloadOrder, RegexGroup, Think,
};
use std::path::{Path, PathBuf};

fn capture_summary(c: &Capture) -> String {
    let source = match &c.source {
        CaptureSource::Json { source, .. } => format!("json {source}"),
        CaptureSource::Regexp { regex, group } => format!("regexp {} {group:?}", regex.as_str()),
        CaptureSource::Header(h) => format!("header {h}"),
        CaptureSource::Selector { source, attr, .. } => format!("selector {source} {attr:?}"),
    };
    format!(
        "{source} as={:?} strict={} index={:?} equals={:?}",
        c.name,
        c.strict,
        c.index,
        c.equals.as_ref().map(|t| t.source().to_string())
    )
}

#[test]
fn before_after_log_parallel_loops_and_think_jitter() {
    let p = plan(
        r#"
config:
  target: http://h
  defaults:
    think: { jitter: "20%" }
before:
  flow:
    - post:
        url: /login
        capture: { json: $.token, as: token }
    - log: "logged in as {{ token }} ({{ $testId }})"
after:
  flow:
    - delete: { url: "/sessions/{{ token }}" }
scenarios:
  - flow:
      - think: 1
      - think: 2
        jitter: 0.5
      - think: 1s
        jitter: 300ms
      - loop:
          - loop:
              - get: { url: "/items/{{ $loopElement }}?n={{ $loopCount }}" }
            over: [a, b]
        count: 2
      - get:
          url: /list
          capture: { json: "$.items", as: items }
      - loop:
          - get: { url: "/items/{{ $loopElement.id }}" }
        over: items
      - loop:
          - get: { url: "/x" }
        over: "{{ items }}"
      - parallel:
          - get: { url: /a }
          - get: { url: /b, headers: { authorization: "Bearer {{ token }}" } }
"#,
    );
    let before = p.before.as_ref().expect("before");
    assert_eq!(before.len(), 2);
    assert_eq!(request(&before[0]).captures[0].name.as_deref(), Some("token"));
    assert!(matches!(&before[1], Step::Log(t) if t.source() == "logged in as {{ token }} ({{ $testId }})"));
    let after = p.after.as_ref().expect("after");
    assert_eq!(request(&after[0]).method, http::Method::DELETE);

    let flow = &p.scenarios[0].flow;
    assert!(matches!(flow[0], Step::Think(Think { duration, jitter: Some(Jitter::Fraction(f)), .. })
        if duration == ms(1000) && (f - 0.2).abs() < 1e-12));
    assert!(matches!(flow[1], Step::Think(Think { jitter: Some(Jitter::Absolute(d)), .. }) if d == ms(500)));
    assert!(matches!(flow[2], Step::Think(Think { jitter: Some(Jitter::Absolute(d)), .. }) if d == ms(300)));
    let Step::Loop { over: LoopOver::Count(2), steps } = &flow[3] else { panic!("{:?}", flow[3]) };
    let Step::Loop { over: LoopOver::Values(values), steps: inner } = &steps[0] else {
        panic!("{:?}", steps[0])
    };
    assert_eq!(values, &[json!("a"), json!("b")]);
    assert_eq!(request(&inner[0]).url.source(), "/items/{{ $loopElement }}?n={{ $loopCount }}");
    assert!(matches!(&flow[5], Step::Loop { over: LoopOver::Variable(v), .. } if v == "items"));
    assert!(matches!(&flow[6], Step::Loop { over: LoopOver::Variable(v), .. } if v == "items"));
    let Step::Parallel(par) = &flow[7] else { panic!("{:?}", flow[7]) };
    let urls: Vec<&str> = par.iter().map(|s| request(s).url.source()).collect();
    assert_eq!(urls, ["/a", "/b"]);
    assert!(p.endpoint_names().contains(&"POST /login"), "before-flow requests have endpoints");
}

#[test]
fn request_options_bodies_captures_and_expectations() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("photo.png"), b"\x89PNG").unwrap();
    let script = dir.path().join("load.yaml");
    std::fs::write(
        &script,
        r#"
config:
  target: http://h
  variables: { user: { name: ann, id: 7 }, pw: secret }
  defaults:
    strictCapture: false
    cookie: { session: "abc-{{ pw }}" }
scenarios:
  - flow:
      - post:
          url: /login
          form: { username: "{{ user.name }}", remember: true }
          auth: { user: "{{ user.name }}", pass: "{{ pw }}" }
          cookie: { theme: dark }
          followRedirect: false
          gzip: false
          probability: 12.5
          ifTrue: "user.id > 3 and pw != ''"
          capture:
            - json: $.items[0].id
              as: first
              strict: true
            - regexp: "id=(?P<id>\\d+)"
              group: id
              flags: ig
              as: rid
              index: last
            - regexp: "a(b)"
              group: 1
              as: b
            - header: Location
              as: where
            - selector: "a.next"
              attr: href
              as: next
              index: 2
          match:
            json: $.id
            value: "{{ user.id }}"
          expect:
            - statusCode: 200
            - statusCode: [200, 201]
            - notStatusCode: 500
            - contentType: json
            - hasProperty: data.items
            - notHasProperty: error
            - equals: ["{{ first }}", "1"]
            - hasHeader: ETag
            - headerEquals: [content-type, "application/json"]
            - matchesRegexp: "^\\{"
      - post:
          url: /upload
          formData:
            title: "photo of {{ user.name }}"
            count: 3
            note: { value: "hi" }
            file: { fromFile: ./photo.png, contentType: image/png }
            raw: { fromFile: photo.png }
          expect: { statusCode: 201, hasHeader: location }
      - get:
          url: "/items/{{ next }}?w={{ where }}&b={{ b }}&r={{ rid }}"
          match: [ { header: x-id, value: "7", as: xid } ]
"#,
    )
    .unwrap();
    let p = match load_files(std::slice::from_ref(&script), &LoadOptions::default()) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(p.source.as_deref(), Some(script.as_path()));
    assert!(!p.strict_capture);
    let cookies: Vec<(&str, &str)> =
        p.default_cookies.iter().map(|(n, t)| (n.as_str(), t.source())).collect();
    assert_eq!(cookies, [("session", "abc-{{ pw }}")]);

    let flow = &p.scenarios[0].flow;
    let login = request(&flow[0]);
    let Some(Body::Form(form)) = &login.body else { panic!("{:?}", login.body) };
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (k.as_str(), v.source())).collect();
    assert_eq!(form, [("username", "{{ user.name }}"), ("remember", "true")]);
    let (user, pass) = login.auth.as_ref().expect("auth");
    assert_eq!((user.source(), pass.source()), ("{{ user.name }}", "{{ pw }}"));
    assert_eq!(login.cookies.len(), 1);
    assert_eq!((login.cookies[0].0.as_str(), login.cookies[0].1.source()), ("theme", "dark"));
    assert!(!login.follow_redirect && !login.decompress);
    assert_eq!(login.probability, Some(12.5));
    assert_eq!(login.condition.as_ref().map(|c| c.source()), Some("user.id > 3 and pw != ''"));

    let captures: Vec<String> = login.captures.iter().map(capture_summary).collect();
    assert_eq!(
        captures,
        [
            "json $.items[0].id as=Some(\"first\") strict=true index=First equals=None",
            "regexp id=(?P<id>\\d+) Some(Name(\"id\")) as=Some(\"rid\") strict=false index=Last equals=None",
            "regexp a(b) Some(Index(1)) as=Some(\"b\") strict=false index=First equals=None",
            "header location as=Some(\"where\") strict=false index=First equals=None",
            "selector a.next Some(\"href\") as=Some(\"next\") strict=false index=Nth(2) equals=None",
            "json $.id as=None strict=false index=First equals=Some(\"{{ user.id }}\")",
        ]
    );
    // The `i` flag is applied; `g` is accepted and has no effect.
    let CaptureSource::Regexp { regex, .. } = &login.captures[1].source else { unreachable!() };
    assert!(regex.is_match("ID=42"));
    let CaptureSource::Json { path, .. } = &login.captures[0].source else { unreachable!() };
    assert_eq!(path.query(&json!({"items": [{"id": 5}]})).exactly_one().ok(), Some(&json!(5)));
    assert!(
        matches!(&login.captures[1].source, CaptureSource::Regexp { group: Some(RegexGroup::Name(n)), .. } if n == "id")
    );

    let kinds: Vec<&str> = login.expects.iter().map(Expect::kind).collect();
    assert_eq!(
        kinds,
        [
            "statusCode",
            "statusCode",
            "notStatusCode",
            "contentType",
            "hasProperty",
            "notHasProperty",
            "equals",
            "hasHeader",
            "headerEquals",
            "matchesRegexp"
        ]
    );
    assert!(matches!(&login.expects[1], Expect::StatusCode(c) if c == &[200, 201]));
    assert!(matches!(&login.expects[2], Expect::NotStatusCode(c) if c == &[500]));
    assert!(matches!(&login.expects[4], Expect::HasProperty(p) if p == "data.items"));
    assert!(matches!(&login.expects[6], Expect::Equals(v) if v.len() == 2 && v[0].source() == "{{ first }}"));
    assert!(matches!(&login.expects[7], Expect::HasHeader(h) if h == "etag"));
    assert!(
        matches!(&login.expects[8], Expect::HeaderEquals(h, v) if h == "content-type" && v.source() == "application/json")
    );
    assert!(
        matches!(&login.expects[9], Expect::MatchesRegexp(r) if r.is_match("{\"a\":1}") && !r.is_match("x{"))
    );
    assert!(login.needs_body());

    let upload = request(&flow[1]);
    let Some(Body::Multipart(parts)) = &upload.body else { panic!("{:?}", upload.body) };
    let names: Vec<&str> = parts.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["title", "count", "note", "file", "raw"]);
    assert!(matches!(&parts[0].1, FormPart::Value(t) if t.source() == "photo of {{ user.name }}"));
    assert!(matches!(&parts[1].1, FormPart::Value(t) if t.source() == "3"));
    assert!(matches!(&parts[2].1, FormPart::Value(t) if t.source() == "hi"));
    let photo = dir.path().join("photo.png");
    assert!(
        matches!(&parts[3].1, FormPart::File { path, content_type: Some(t), shipped: None } if *path == photo && t == "image/png")
    );
    assert!(
        matches!(&parts[4].1, FormPart::File { path, content_type: None, shipped: None } if *path == photo)
    );
    // A single expect map with several keys is several expectations.
    assert!(
        matches!(upload.expects.as_slice(), [Expect::StatusCode(c), Expect::HasHeader(h)] if c == &[201] && h == "location")
    );
    assert!(!upload.needs_body());

    let get = request(&flow[2]);
    assert_eq!(
        capture_summary(&get.captures[0]),
        "header x-id as=Some(\"xid\") strict=false index=First equals=Some(\"7\")"
    );
    // Defaults when nothing is said.
    assert!(get.follow_redirect && get.decompress && get.probability.is_none() && get.condition.is_none());
}

#[test]
fn strict_capture_defaults_to_true_and_http_defaults_are_accepted() {
    let p = plan(
        "config:\n  target: http://h\n  http:\n    defaults:\n      headers: { x-a: b }\n      think: { jitter: 1 }\nscenarios:\n  - flow:\n      - get: { url: /, capture: { json: $.a, as: a } }\n      - think: 2\n",
    );
    assert!(p.strict_capture);
    assert!(request(&p.scenarios[0].flow[0]).captures[0].strict);
    assert_eq!(p.default_headers[0].0.as_str(), "x-a");
    assert!(
        matches!(p.scenarios[0].flow[1], Step::Think(Think { jitter: Some(Jitter::Absolute(d)), .. }) if d == ms(1000))
    );
}

fn write(dir: &Path, name: &str, text: &str) -> PathBuf {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(&path, text).unwrap();
    path
}

#[test]
fn payloads_are_read_cast_and_in_scope() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "data/users.csv", "name;age;admin\nann;31;true\n\nbob;007;false;extra\n");
    write(dir.path(), "data/raw.csv", "1,x\n2,y\n");
    write(dir.path(), "data/all.csv", "id,label\n1,one\n2,two\n");
    let script = write(
        dir.path(),
        "load.yaml",
        r#"
config:
  target: http://h
  payload:
    - path: data/users.csv
      fields: [name, age, admin]
      skipHeader: true
      delimiter: ";"
      order: sequence
    - path: ./data/raw.csv
      fields: [n, letter]
      cast: false
    - path: data/all.csv
      loadAll: true
      name: catalogue
      fields: [id, label]
      skipHeader: true
    - path: data/raw.csv
      loadAll: true
      name: pairs
scenarios:
  - flow:
      - get: { url: "/u/{{ name }}?age={{ age }}&a={{ admin }}&n={{ n }}{{ letter }}&c={{ catalogue[0].id }}{{ pairs }}" }
"#,
    );
    let p = match load_files(&[script], &LoadOptions::default()) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(p.payloads.len(), 4);
    let users = &p.payloads[0];
    assert_eq!(users.path, dir.path().join("data/users.csv"));
    assert_eq!(users.fields, ["name", "age", "admin"]);
    assert_eq!(users.order, PayloadOrder::Sequence);
    assert_eq!(users.load_all, None);
    // Header skipped, empty line skipped (the default), numbers and booleans cast, `007` kept.
    assert_eq!(
        *users.rows,
        vec![
            vec![json!("ann"), json!(31), json!(true)],
            vec![json!("bob"), json!("007"), json!(false), json!("extra")]
        ]
    );
    let raw = &p.payloads[1];
    assert_eq!(raw.path, dir.path().join("data/raw.csv"), "`./` is dropped");
    assert_eq!(raw.order, PayloadOrder::Random);
    assert_eq!(*raw.rows, vec![vec![json!("1"), json!("x")], vec![json!("2"), json!("y")]], "cast: false");
    let all = &p.payloads[2];
    assert_eq!(all.load_all.as_deref(), Some("catalogue"));
    assert_eq!(*all.rows, vec![vec![json!(1), json!("one")], vec![json!(2), json!("two")]]);
    assert_eq!(all.load_all_value(), json!([{"id": 1, "label": "one"}, {"id": 2, "label": "two"}]));
    let pairs = &p.payloads[3];
    assert!(pairs.fields.is_empty());
    assert_eq!(pairs.load_all_value(), json!([[1, "x"], [2, "y"]]));
}

#[test]
fn a_payload_in_parse_str_is_relative_to_the_current_directory() {
    // Tests run in the crate's directory.
    let e = parse_str(
        "config:\n  target: http://h\n  payload: { path: no-such-dir/u.csv, fields: [a] }\nscenarios:\n  - flow: [ {think: 1} ]\n",
        "t.yaml",
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(e.message.contains("`no-such-dir/u.csv`"), "{e}");
    let p = plan(
        "config:\n  target: http://h\n  payload: { path: Cargo.toml, fields: [line], delimiter: \"|\" }\nscenarios:\n  - flow: [ {think: 1} ]\n",
    );
    assert_eq!(p.payloads[0].rows[0], [json!("[package]")]);
}

#[test]
fn ensure_apdex_and_expect_settings() {
    let p = plan(
        r#"
config:
  target: http://h
  ensure:
    p95: 200
    maxErrorRate: 1.5
    thresholds:
      - http.response_time.p99: 500
    conditions:
      - expression: "http.codes.200 > 10 and vusers.failed == 0"
      - expression: "http.request_rate >= 100"
        strict: false
  plugins:
    ensure:
      thresholds:
        - vusers.session_length.max: 3000
      median: 50
    apdex: {}
    expect: { outputFormat: silent, expectDefault200: true, reportFailuresAsErrors: true }
    metrics-by-endpoint: { useOnlyRequestNames: true }
scenarios:
  - flow: [ {think: 1} ]
"#,
    );
    let thresholds: Vec<(&str, f64)> =
        p.ensure.thresholds.iter().map(|t| (t.metric.as_str(), t.max)).collect();
    assert_eq!(
        thresholds,
        [
            ("http.response_time.p95", 200.0),
            ("http.response_time.p99", 500.0),
            ("vusers.session_length.max", 3000.0),
            ("http.response_time.median", 50.0),
        ]
    );
    assert_eq!(p.ensure.max_error_rate, Some(1.5));
    let conditions: Vec<(&str, bool)> =
        p.ensure.conditions.iter().map(|c| (c.expression.source(), c.strict)).collect();
    assert_eq!(
        conditions,
        [("http.codes.200 > 10 and vusers.failed == 0", true), ("http.request_rate >= 100", false)]
    );
    assert_eq!(p.apdex_threshold_ms, Some(500.0), "apdex without a threshold defaults to 500 ms");
    assert!(p.expect.fail_run && p.expect.default_200);

    let p = plan(
        "config:\n  target: http://h\n  apdex: { threshold: 100 }\n  plugins: { apdex: {} }\n  expect: {}\nscenarios:\n  - flow: [ {think: 1} ]\n",
    );
    assert_eq!(p.apdex_threshold_ms, Some(100.0));
    assert!(p.expect.fail_run && !p.expect.default_200);

    let p = plan("config:\n  target: http://h\nscenarios:\n  - flow: [ {think: 1} ]\n");
    assert!(
        p.ensure.thresholds.is_empty() && p.ensure.conditions.is_empty() && p.ensure.max_error_rate.is_none()
    );
    assert_eq!(p.apdex_threshold_ms, None);
    assert_eq!(p.expect, Default::default());
    assert_eq!(p.environment, None);
}

const ENVIRONMENTS: &str = r#"
config:
  target: http://localhost
  phases: [ { duration: 60, arrivalRate: 10 } ]
  variables: { a: 1, b: 2 }
  http: { timeout: 5, pool: 4 }
  environments:
    staging:
      target: https://staging.example.com
      phases: [ { duration: 5, arrivalCount: 5 } ]
      variables: { b: 20, c: 30 }
      http: { timeout: 1 }
    empty:
scenarios:
  - flow:
      - get: { url: "/{{ a }}/{{ b }}/{{ c }}" }
"#;

#[test]
fn environment_is_deep_merged_over_config() {
    let opts = LoadOptions { environment: Some("staging".to_string()), ..LoadOptions::default() };
    let p = plan_with(ENVIRONMENTS, &opts);
    assert_eq!(p.environment.as_deref(), Some("staging"));
    assert_eq!(p.target.as_deref(), Some("https://staging.example.com"));
    assert_eq!(p.phases, [phase(None, 5.0, PhaseKind::Count { count: 5 }, None)], "lists are replaced");
    assert_eq!(p.variables, [("a".into(), json!(1)), ("b".into(), json!(20)), ("c".into(), json!(30))]);
    assert_eq!((p.http.timeout, p.http.pool), (Duration::from_secs(1), Some(4)), "maps merge key by key");

    let opts = LoadOptions { environment: Some("empty".to_string()), ..LoadOptions::default() };
    // `c` is defined only in staging: without it, it renders as `undefined`, with a warning.
    let p = plan_with(ENVIRONMENTS, &opts);
    assert_eq!(p.warnings.len(), 1);
    assert!(p.warnings[0].0.message.starts_with("variable `c` in `url` is not defined anywhere"), "{p:?}");
}

#[test]
fn variables_from_the_command_line_replace_and_add() {
    let opts = LoadOptions {
        variables: vec![("b".to_string(), json!("two")), ("c".to_string(), json!([1, 2]))],
        ..LoadOptions::default()
    };
    let p = plan_with(ENVIRONMENTS, &opts);
    assert_eq!(
        p.variables,
        [("a".into(), json!(1)), ("b".into(), json!("two")), ("c".into(), json!([1, 2]))]
    );
}

#[test]
fn overrides_merge_into_config_or_the_whole_script() {
    let opts = LoadOptions {
        overrides: Some(
            json!({"phases": [{"duration": 1, "arrivalRate": 2}], "http": {"pool": 9}, "variables": {"c": 3}}),
        ),
        ..LoadOptions::default()
    };
    let p = plan_with(ENVIRONMENTS, &opts);
    assert_eq!(p.phases, [phase(None, 1.0, PhaseKind::Rate { rate: 2.0, ramp_to: None }, None)]);
    assert_eq!((p.http.timeout, p.http.pool), (Duration::from_secs(5), Some(9)));
    assert_eq!(p.variables.len(), 3);

    // Artillery's form: keys of the whole script; overrides apply after -e.
    let opts = LoadOptions {
        environment: Some("staging".to_string()),
        overrides: Some(
            json!({"config": {"target": "http://o"}, "scenarios": [{"flow": [{"get": {"url": "/only"}}]}]}),
        ),
        ..LoadOptions::default()
    };
    let p = plan_with(ENVIRONMENTS, &opts);
    assert_eq!(p.target.as_deref(), Some("http://o"));
    assert_eq!(p.endpoint_names(), ["GET /only"], "the overrides' scenarios replace the script's");
    assert_eq!(p.phases, [phase(None, 5.0, PhaseKind::Count { count: 5 }, None)]);
}

#[test]
fn scenario_names_select_scenarios_and_prune_endpoints() {
    let src = "config:\n  target: http://h\nbefore:\n  flow: [ {get: {url: /setup}} ]\nscenarios:\n  - name: browse\n    flow: [ {get: {url: /a}}, {get: {url: /shared}} ]\n  - name: buy\n    weight: 0\n    flow: [ {get: {url: /b}}, {get: {url: /shared}} ]\n  - name: other\n    flow: [ {get: {url: /c}} ]\n";
    let opts = LoadOptions { scenario_names: vec!["buy".to_string()], ..LoadOptions::default() };
    let p = plan_with(src, &opts);
    assert_eq!(p.scenarios.len(), 1);
    assert_eq!((p.scenarios[0].name.as_str(), p.scenarios[0].weight), ("buy", 1), "picked by name, it runs");
    // Unused endpoints are dropped; the others keep their order of first appearance.
    assert_eq!(p.endpoint_names(), ["GET /setup", "GET /shared", "GET /b"]);
    let ids: Vec<u32> = p.scenarios[0].flow.iter().map(|s| request(s).endpoint).collect();
    assert_eq!(ids, [2, 1]);
    assert_eq!(request(&p.before.as_ref().unwrap()[0]).endpoint, 0);

    let opts =
        LoadOptions { scenario_names: vec!["other".into(), "browse".into()], ..LoadOptions::default() };
    let p = plan_with(src, &opts);
    let names: Vec<&str> = p.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["browse", "other"], "file order is kept");
    assert_eq!(p.endpoint_names(), ["GET /setup", "GET /a", "GET /shared", "GET /c"]);
}

#[test]
fn several_files_are_merged_in_order() {
    let dir = tempfile::tempdir().unwrap();
    let common = write(
        dir.path(),
        "common.yml",
        "config:\n  target: http://common\n  phases: [ {duration: 10, arrivalRate: 1} ]\n  variables: { page: 1, size: 10 }\n  defaults: { headers: { x-team: perf } }\nscenarios:\n  - name: health\n    flow: [ {get: {url: /health}} ]\n",
    );
    write(dir.path(), "sub/users.csv", "ann\n");
    let scenarios = write(
        dir.path(),
        "sub/scenarios.yml",
        "config:\n  variables: { size: 50 }\n  payload: { path: users.csv, fields: [user] }\nscenarios:\n  - name: browse\n    flow: [ {get: {url: \"/items?p={{ page }}&s={{ size }}&u={{ user }}\"}} ]\n",
    );
    let p = match load_files(&[common.clone(), scenarios], &LoadOptions::default()) {
        Ok(p) => p,
        Err(e) => panic!("{e}"),
    };
    assert_eq!(p.source.as_deref(), Some(common.as_path()));
    assert_eq!(p.target.as_deref(), Some("http://common"));
    assert_eq!(p.phases.len(), 1);
    assert_eq!(p.variables, [("page".into(), json!(1)), ("size".into(), json!(50))]);
    assert_eq!(p.default_headers.len(), 1);
    let names: Vec<&str> = p.scenarios.iter().map(|s| s.name.as_str()).collect();
    assert_eq!(names, ["health", "browse"], "scenarios are concatenated");
    assert_eq!(p.payloads[0].path, dir.path().join("sub/users.csv"), "relative to the file that names it");
}

#[test]
fn templates_accept_builtins_paths_and_captures_defined_later() {
    let p = plan(
        r#"
config:
  target: http://h
  variables: { user: { name: ann, tags: [a] } }
scenarios:
  - flow:
      - get: { url: "/r/{{ $randomNumber(1, 10) }}/{{ $randomString(4) }}/{{ $uuid }}/{{ $environment }}" }
      - get: { url: "/u/{{ user.name }}/{{ user.tags[0] }}/{{ later }}/{{ target }}" }
      - get: { url: /later, capture: { header: x-later, as: later } }
"#,
    );
    assert_eq!(p.scenarios[0].flow.len(), 3);
}

#[test]
fn the_documented_complete_example_is_valid() {
    let doc =
        std::fs::read_to_string(Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/script-format.md"))
            .unwrap();
    let section = doc.split("## A complete example").nth(1).expect("the section exists");
    let yaml = section.split("```yaml\n").nth(1).and_then(|b| b.split("```").next()).expect("a yaml block");
    let p = plan(yaml);
    assert_eq!(p.scenarios.len(), 2);
    assert_eq!(p.ensure.thresholds.len(), 1);
}

#[test]
fn open_phases_take_a_mode_and_fractional_rates() {
    let p = plan(&with_config(
        "  phases:
    - { duration: 10, arrivalRate: 0.2 }
    - { duration: 10, arrivalRate: 2, rampTo: 8, mode: poisson }
    - { duration: 10, arrivalCount: 5, mode: poisson, maxVusers: 3 }
    - { duration: 10, arrivalRate: 4, mode: uniform }
",
    ));
    assert_eq!(
        p.phases,
        [
            rate(None, 10.0, 0.2, None, ArrivalMode::Uniform),
            rate(None, 10.0, 2.0, Some(8.0), ArrivalMode::Poisson),
            Phase { mode: ArrivalMode::Poisson, ..phase(None, 10.0, PhaseKind::Count { count: 5 }, Some(3)) },
            rate(None, 10.0, 4.0, None, ArrivalMode::Uniform),
        ]
    );
}

#[test]
fn config_mode_is_the_default_for_phases_with_arrivals() {
    let p = plan(&with_config(
        "  mode: poisson
  phases:
    - { duration: 10, arrivalRate: 2 }
    - { duration: 10, arrivalRate: 2, mode: uniform }
    - { duration: 10, arrivalCount: 5 }
    - { duration: 10, requestRate: 50 }
    - { duration: 10, users: 5 }
    - { pause: 1 }
    - { duration: 10, arrivalRate: 0 }
",
    ));
    let modes: Vec<ArrivalMode> = p.phases.iter().map(|p| p.mode).collect();
    use ArrivalMode::{Poisson, Uniform};
    // Closed-model phases and pauses have no arrivals to space: always uniform.
    assert_eq!(modes, [Poisson, Uniform, Poisson, Poisson, Uniform, Uniform, Uniform]);
    assert_eq!(
        plan(&with_config("  mode: uniform\n  phases: [ {duration: 1, arrivalRate: 1} ]\n")).phases[0].mode,
        Uniform
    );
}

#[test]
fn closed_model_phases() {
    let p = plan(&with_config(
        "  phases:
    - name: start at once
      duration: 30s
      users: 10
    - name: spawn
      duration: 1m
      users: 50
      spawnRate: 2.5
      pacing: 2s
    - name: ramp
      duration: 120
      rampUsers: 100
      throughput: 0.5
    - { duration: 10, users: 0 }
    - { duration: 10, rampUsers: 0, pacing: 1.5 }
    - { duration: 10, users: 4, pacing: 250ms }
",
    ));
    assert_eq!(
        p.phases,
        [
            users(Some("start at once"), 30.0, 10, UserRamp::Immediate, None),
            users(
                Some("spawn"),
                60.0,
                50,
                UserRamp::SpawnRate(2.5),
                Some(Pacing::Interval(Duration::from_secs(2)))
            ),
            users(Some("ramp"), 120.0, 100, UserRamp::Linear, Some(Pacing::Throughput(0.5))),
            users(None, 10.0, 0, UserRamp::Immediate, None),
            users(None, 10.0, 0, UserRamp::Linear, Some(Pacing::Interval(ms(1500)))),
            users(None, 10.0, 4, UserRamp::Immediate, Some(Pacing::Interval(ms(250)))),
        ]
    );
    assert_eq!(Pacing::Throughput(0.5).interval(), Duration::from_secs(2));
}

#[test]
fn request_rate_phases_default_to_100_vusers() {
    let p = plan(&with_config(
        "  phases:
    - { name: steady, duration: 30, requestRate: 200 }
    - { duration: 1m, requestRate: 10, rampTo: 500, maxVusers: 20, mode: poisson }
    - { duration: 5, requestRate: 0 }
    - { duration: 5, requestRate: 0.5 }
",
    ));
    let rr = |rate, ramp_to| PhaseKind::RequestRate { rate, ramp_to };
    assert_eq!(
        p.phases,
        [
            phase(Some("steady"), 30.0, rr(200.0, None), Some(100)),
            Phase { mode: ArrivalMode::Poisson, ..phase(None, 60.0, rr(10.0, Some(500.0)), Some(20)) },
            phase(None, 5.0, PhaseKind::Pause, None),
            phase(None, 5.0, rr(0.5, None), Some(hornet_script::plan::DEFAULT_REQUEST_RATE_VUSERS)),
        ]
    );
    assert_eq!(hornet_script::plan::DEFAULT_REQUEST_RATE_VUSERS, 100);
}

#[test]
fn target_stages_expand_to_closed_model_phases() {
    let p = plan(&with_config(
        "  stages:
    - { duration: 30s, target: 100, name: up }
    - { duration: 2m, target: 100, pacing: 2s }
    - { duration: 10, target: 20, throughput: 4 }
    - { duration: 10, target: 0 }
",
    ));
    assert_eq!(
        p.phases,
        [
            // Each ramp starts from the previous stage's target (0 before the first).
            users(Some("up"), 30.0, 100, UserRamp::Linear, None),
            // The same target as before: hold.
            users(None, 120.0, 100, UserRamp::Immediate, Some(Pacing::Interval(Duration::from_secs(2)))),
            users(None, 10.0, 20, UserRamp::Linear, Some(Pacing::Throughput(4.0))),
            users(None, 10.0, 0, UserRamp::Linear, None),
        ]
    );
    // A first stage at 0 users holds 0.
    let p = plan(&with_config("  stages: [ {duration: 5, target: 0}, {duration: 5, target: 3} ]\n"));
    assert_eq!(
        p.phases,
        [users(None, 5.0, 0, UserRamp::Immediate, None), users(None, 5.0, 3, UserRamp::Linear, None)]
    );
}

#[test]
fn rate_stages_expand_to_arrival_rate_ramps() {
    use ArrivalMode::{Poisson, Uniform};
    let p = plan(&with_config(
        "  stages:
    - { duration: 30s, rate: 50, name: ramp up }
    - { duration: 1m, rate: 50 }
    - { duration: 10, rate: 0.5 }
    - { duration: 10, rate: 0 }
    - { duration: 10, rate: 0 }
",
    ));
    assert_eq!(
        p.phases,
        [
            rate(Some("ramp up"), 30.0, 0.0, Some(50.0), Uniform),
            rate(None, 60.0, 50.0, None, Uniform),
            rate(None, 10.0, 50.0, Some(0.5), Uniform),
            rate(None, 10.0, 0.5, Some(0.0), Uniform),
            phase(None, 10.0, PhaseKind::Pause, None),
        ]
    );
    let p = plan(&with_config(
        "  mode: poisson\n  startRate: 10\n  stages: [ {duration: 20, rate: 30}, {duration: \"1m\", rate: 10} ]\n",
    ));
    assert_eq!(
        p.phases,
        [rate(None, 20.0, 10.0, Some(30.0), Poisson), rate(None, 60.0, 30.0, Some(10.0), Poisson)]
    );
    let p = plan(&with_config("  startRate: 5\n  stages: [ {duration: 20, rate: 5} ]\n"));
    assert_eq!(p.phases, [rate(None, 20.0, 5.0, None, Uniform)]);
    assert!(plan(&with_config("  stages: []\n")).phases.is_empty(), "no stages: functional mode");
}

#[test]
fn every_example_script_is_valid() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    paths.sort();
    let names: Vec<String> =
        paths.iter().map(|p| p.file_name().unwrap().to_string_lossy().into_owned()).collect();
    for expected in ["demo.yaml", "soak.yaml", "spike.yaml", "step.yaml"] {
        assert!(names.iter().any(|n| n == expected), "examples/{expected} is missing: {names:?}");
    }
    for path in &paths {
        let p = match load_file(path, &LoadOptions::default()) {
            Ok(p) => p,
            Err(e) => panic!("{} does not load:\n{e}", path.display()),
        };
        assert!(!p.phases.is_empty(), "{} has no phases", path.display());
        assert_eq!(p.target.as_deref(), Some("http://127.0.0.1:8080"), "{}", path.display());
    }

    let load = |name: &str| load_file(&dir.join(name), &LoadOptions::default()).unwrap();
    let spike = load("spike.yaml");
    let rates: Vec<(u64, &PhaseKind)> =
        spike.phases.iter().map(|p| (p.duration.as_secs(), &p.kind)).collect();
    assert!(rates.contains(&(30, &PhaseKind::Rate { rate: 200.0, ramp_to: None })), "{rates:?}");
    assert!(rates.iter().filter(|(_, k)| **k == PhaseKind::Rate { rate: 10.0, ramp_to: None }).count() >= 2);

    let step = load("step.yaml");
    let mut held: Vec<u64> = step
        .phases
        .iter()
        .filter_map(|p| match p.kind {
            PhaseKind::Users { users, ramp: UserRamp::Immediate }
                if p.duration == Duration::from_secs(120) =>
            {
                Some(users)
            }
            _ => None,
        })
        .collect();
    held.dedup();
    assert_eq!(held, [50, 100, 150, 200]);

    let soak = load("soak.yaml");
    assert!(
        soak.phases.iter().any(|p| p.duration == Duration::from_secs(4 * 3600)
            && matches!(p.kind, PhaseKind::Users { users: 300, .. })
            && p.pacing == Some(Pacing::Interval(Duration::from_secs(5)))),
        "{:?}",
        soak.phases
    );
}

#[test]
fn the_workload_models_section_is_valid_and_shows_the_example_files() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let doc = std::fs::read_to_string(root.join("docs/script-format.md")).unwrap();
    let section = doc.split("\n## Workload models\n").nth(1).expect("the section exists");
    let section = section.split("\n## ").next().unwrap();
    let blocks: Vec<&str> =
        section.split("```yaml\n").skip(1).map(|b| b.split("```").next().expect("a closed block")).collect();
    assert!(blocks.len() >= 8, "{} yaml blocks", blocks.len());
    for block in &blocks {
        let script = if block.contains("scenarios:") {
            block.to_string()
        } else {
            format!("{block}scenarios:\n  - flow: [ {{ get: {{ url: \"http://h/\" }} }} ]\n")
        };
        let p = match parse_str(&script, "doc.yaml", &LoadOptions::default()) {
            Ok(p) => p,
            Err(e) => panic!("a block of the Workload models section does not load:\n{e}\n{block}"),
        };
        assert!(!p.phases.is_empty(), "{block}");
    }
    for name in ["spike", "step", "soak"] {
        let file = std::fs::read_to_string(root.join(format!("examples/{name}.yaml"))).unwrap();
        let body: Vec<&str> = file.lines().skip_while(|l| l.starts_with('#')).collect();
        let body = body.join("\n");
        assert!(
            blocks.iter().any(|b| b.trim_end() == body.trim()),
            "docs/script-format.md does not show examples/{name}.yaml as it is"
        );
    }
}

#[test]
fn think_and_loop_count_may_be_templates_rendered_at_run_time() {
    let p = plan(
        "config:\n  target: http://h\n  variables: { n: 2, pause: 500ms }\nscenarios:\n  - flow:\n      - loop:\n          - think: \"{{ pause }}\"\n            jitter: 10%\n        count: \"{{ n }}\"\n",
    );
    let Step::Loop { over: LoopOver::CountRendered(count), steps } = &p.scenarios[0].flow[0] else {
        panic!("not a templated loop: {:?}", p.scenarios[0].flow[0])
    };
    assert_eq!(count.source(), "{{ n }}");
    match &steps[0] {
        Step::Think(t) => {
            assert_eq!(t.rendered.as_ref().map(|r| r.source()), Some("{{ pause }}"));
            assert_eq!(t.duration, Duration::ZERO);
            assert!(matches!(t.jitter, Some(Jitter::Fraction(f)) if (f - 0.1).abs() < 1e-9));
        }
        other => panic!("not a think: {other:?}"),
    }
    let e = parse_str(
        "config:\n  target: http://h\nscenarios:\n  - flow:\n      - think: \"{{ pause\"\n",
        "t.yaml",
        &LoadOptions::default(),
    )
    .unwrap_err();
    assert!(e.message.starts_with("invalid template in `think`"), "{e}");
}

#[test]
fn a_property_path_may_be_a_template() {
    let p = plan(
        "config:\n  target: http://h\n  variables: { field: id }\nscenarios:\n  - flow:\n      - get:\n          url: /\n          expect:\n            - hasProperty: \"data.{{ field }}\"\n            - notHasProperty: error\n",
    );
    match request(&p.scenarios[0].flow[0]).expects.as_slice() {
        [Expect::HasPropertyRendered(path), Expect::NotHasProperty(plain)] => {
            assert_eq!(path.source(), "data.{{ field }}");
            assert_eq!(plain, "error");
        }
        other => panic!("unexpected expectations {other:?}"),
    }
}

#[test]
fn an_endpoint_has_the_method_its_scenario_requests_share() {
    let p = plan(
        r#"
config: { target: "http://127.0.0.1:9" }
before:
  flow:
    - post: { url: /login }
scenarios:
  - flow:
      - get: { url: /a, name: shared }
      - loop:
          - post: { url: /b, name: shared }
          - put: { url: /c }
        count: 2
  - flow:
      - parallel:
          - get: { url: /d, name: d }
          - get: { url: /d, name: d }
      - connect: "/ws"
"#,
    );
    let method = |name: &str| endpoint(&p, name).method.as_deref();
    assert_eq!(method("shared"), None, "two methods share the name");
    assert_eq!(method("PUT /c"), Some("PUT"));
    assert_eq!(method("d"), Some("GET"));
    assert_eq!(method("WS connect /ws"), Some("WS"));
    assert_eq!(method("POST /login"), None, "only scenario steps count");
}

/// The plan's endpoint named `name`.
fn endpoint<'a>(p: &'a Plan, name: &str) -> &'a hornet_script::plan::Endpoint {
    p.endpoints.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("{name} missing"))
}

#[test]
fn an_endpoint_has_the_scenario_that_uses_it_alone() {
    let p = plan(
        r#"
config: { target: "http://127.0.0.1:9" }
before:
  flow:
    - post: { url: /login }
scenarios:
  - name: browse
    flow:
      - get: { url: /a, name: shared }
      - loop:
          - get: { url: /b }
        count: 2
  - name: buy
    flow:
      - parallel:
          - get: { url: /a, name: shared }
          - post: { url: /c }
      - connect: "/ws"
"#,
    );
    let scenario = |name: &str| endpoint(&p, name).scenario.as_deref();
    assert_eq!(scenario("shared"), None, "two scenarios share it");
    assert_eq!(scenario("GET /b"), Some("browse"));
    assert_eq!(scenario("POST /c"), Some("buy"));
    assert_eq!(scenario("WS connect /ws"), Some("buy"));
    assert_eq!(scenario("POST /login"), None, "only scenario steps count");
}

#[test]
fn expected_status_takes_statuses_and_ranges_and_defaults_to_below_400() {
    assert_eq!(plan(&with_config("")).http.expected_status, [100..=399]);
    let p = plan(&with_config("  http:\n    expectedStatus: [200-299, 404, \"409\"]\n"));
    assert_eq!(p.http.expected_status, [200..=299, 404..=404, 409..=409]);
    let p = plan(&with_config("  http:\n    expectedStatus: 200-499\n"));
    assert_eq!(p.http.expected_status, [200..=499]);
}

#[test]
fn max_capture_body_takes_bytes_or_a_size_and_defaults_to_16_mib() {
    assert_eq!(plan(&with_config("")).http.max_capture_body, 16 << 20);
    assert_eq!(plan(&with_config("  http:\n    maxCaptureBody: 4096\n")).http.max_capture_body, 4096);
    assert_eq!(plan(&with_config("  http:\n    maxCaptureBody: 64 MiB\n")).http.max_capture_body, 64 << 20);
    assert_eq!(plan(&with_config("  http:\n    maxCaptureBody: 2MB\n")).http.max_capture_body, 2_000_000);
}

#[test]
fn publish_metrics_entries_are_read_in_order() {
    use hornet_script::plan::{PrometheusPush, PublishMetrics};
    let p = plan(
        r#"
config:
  target: http://h
  plugins:
    publish-metrics:
      - type: prometheus
        pushgateway: "http://127.0.0.1:9091"
        tags: ["team:checkout", "env: staging:eu"]
      - type: prometheus
        pushgateway: https://push.example/base
scenarios:
  - flow: [ {think: 1} ]
"#,
    );
    assert_eq!(
        p.publish_metrics,
        [
            PublishMetrics::Prometheus(PrometheusPush {
                pushgateway: "http://127.0.0.1:9091".into(),
                labels: vec![("team".into(), "checkout".into()), ("env".into(), "staging:eu".into())],
            }),
            PublishMetrics::Prometheus(PrometheusPush {
                pushgateway: "https://push.example/base".into(),
                labels: Vec::new(),
            }),
        ]
    );
    let none = plan(
        "config:\n  target: http://h\n  plugins:\n    publish-metrics:\nscenarios:\n  - flow: [ {think: 1} ]\n",
    );
    assert!(none.publish_metrics.is_empty());
}

#[test]
fn tracing_is_off_unless_the_script_or_trace_asks() {
    use hornet_script::plan::{Propagation, Tracing};
    assert_eq!(plan(&with_config("")).tracing, None);
    let traced = plan_with(&with_config(""), &LoadOptions { trace: true, ..LoadOptions::default() });
    assert_eq!(traced.tracing, Some(Tracing::default()));
    assert_eq!(Tracing::default().sample_rate, 1.0);
    assert_eq!(plan(&with_config("  tracing: true\n")).tracing, Some(Tracing::default()));
    assert_eq!(plan(&with_config("  tracing: false\n")).tracing, None);
    let p =
        plan(&with_config("  tracing:\n    propagate: w3c\n    sampleRate: 0.25\n    perIteration: true\n"));
    assert_eq!(
        p.tracing,
        Some(Tracing { propagate: Propagation::W3c, sample_rate: 0.25, per_iteration: true })
    );
    // The script's own settings win over --trace's defaults.
    let p = plan_with(
        &with_config("  tracing:\n    sampleRate: 0\n"),
        &LoadOptions { trace: true, ..LoadOptions::default() },
    );
    assert_eq!(p.tracing.map(|t| t.sample_rate), Some(0.0));
}

#[test]
fn the_test_id_is_testid_or_drawn_from_the_seed() {
    let p = plan(&with_config(""));
    assert_eq!(p.test_id, None);
    assert_eq!(p.test_id(7), p.test_id(7));
    assert_ne!(p.test_id(7), p.test_id(8));
    assert_eq!(p.test_id(7).len(), 16);
    let p = plan_with(
        &with_config(""),
        &LoadOptions { test_id: Some("nightly-42".into()), ..LoadOptions::default() },
    );
    assert_eq!(p.test_id(7), "nightly-42");
}

#[test]
fn open_telemetry_publish_metrics_map_onto_otlp_and_tracing() {
    use hornet_script::plan::{OtlpPush, PublishMetrics};
    let p = plan(&with_config(
        "  plugins:\n    publish-metrics:\n      - type: open-telemetry\n        serviceName: shop\n        metrics:\n          endpoint: http://127.0.0.1:4318\n          exporter: otlp-proto\n        traces:\n          sampleRate: 0.2\n",
    ));
    assert_eq!(
        p.publish_metrics,
        [PublishMetrics::OpenTelemetry(OtlpPush {
            metrics: Some("http://127.0.0.1:4318".into()),
            traces_sample_rate: Some(0.2)
        })]
    );
    assert_eq!(p.tracing.map(|t| t.sample_rate), Some(0.2), "traces turn tracing on");
    assert!(!p.warnings.is_empty(), "serviceName and span export are not done: {:?}", p.warnings);
    // Defaults: Artillery's endpoint; no traces section, no tracing; config.tracing wins.
    let p = plan(&with_config(
        "  plugins:\n    publish-metrics:\n      - type: open-telemetry\n        metrics: {}\n",
    ));
    assert_eq!(
        p.publish_metrics,
        [PublishMetrics::OpenTelemetry(OtlpPush {
            metrics: Some("http://localhost:4318".into()),
            traces_sample_rate: None
        })]
    );
    assert_eq!(p.tracing, None);
    let p = plan(&with_config(
        "  tracing: { sampleRate: 0.5 }\n  plugins:\n    publish-metrics:\n      - type: open-telemetry\n        traces: { sampleRate: 1 }\n",
    ));
    assert_eq!(p.tracing.map(|t| t.sample_rate), Some(0.5));
}

#[test]
fn form_data_files_are_kept_for_a_controller_and_taken_from_the_plan_on_a_worker() {
    use hornet_script::plan::FormPart;
    use hornet_script::{DataFile, DataFiles, ShippedDataFiles, load_sources};
    use std::sync::Arc;
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("a.bin"), "on-disk-a").unwrap();
    std::fs::write(dir.path().join("b.bin"), "on-disk-b").unwrap();
    let script = "config:\n  target: http://h\nbefore:\n  flow:\n    - post: { url: /b, formData: { f: { fromFile: b.bin } } }\n\
                  scenarios:\n  - flow:\n      - post: { url: /a, formData: { f: { fromFile: a.bin } } }\n";
    let load = |files: DataFiles| {
        let opts = LoadOptions { data_files: files, ..LoadOptions::default() };
        load_sources(vec![("s.yaml".into(), script.into(), dir.path().to_path_buf())], &opts)
    };
    let file_part = |steps: &[Step]| match &request(&steps[0]).body {
        Some(Body::Multipart(parts)) => match &parts[0].1 {
            FormPart::File { path, shipped, .. } => (path.clone(), shipped.clone()),
            other => panic!("{other:?}"),
        },
        other => panic!("{other:?}"),
    };
    // On one machine nothing is kept: the run reads the file.
    assert!(load(DataFiles::Disk).unwrap().kept_form_files.is_empty());
    // A controller keeps each file as read, `before` first.
    let kept = load(DataFiles::DiskKept).unwrap();
    let names: Vec<(String, &[u8])> =
        kept.kept_form_files.iter().map(|f| (f.name.clone(), &*f.data)).collect();
    let shown = |f: &str| dir.path().join(f).display().to_string();
    assert_eq!(names, [(shown("b.bin"), &b"on-disk-b"[..]), (shown("a.bin"), &b"on-disk-a"[..])]);
    assert_eq!(file_part(&kept.scenarios[0].flow), (dir.path().join("a.bin"), None));
    // A worker takes them from the plan, by position, and opens no path.
    let file = |name: &str, data: &str| DataFile { name: name.into(), data: Arc::from(data.as_bytes()) };
    let shipped = ShippedDataFiles {
        payloads: Vec::new(),
        form_files: vec![file("ctl/b.bin", "shipped-b"), file("ctl/a.bin", "shipped-a")],
    };
    let plan = load(DataFiles::Shipped(Arc::new(shipped))).unwrap();
    let (path, data) = file_part(&plan.scenarios[0].flow);
    assert_eq!((path, data.as_deref()), ("ctl/a.bin".into(), Some(&b"shipped-a"[..])));
    let (_, data) = file_part(plan.before.as_deref().unwrap());
    assert_eq!(data.as_deref(), Some(&b"shipped-b"[..]));
    // One file short: an error at the `fromFile` it lacks, not a read of the disk.
    let one = ShippedDataFiles { payloads: Vec::new(), form_files: vec![file("ctl/b.bin", "shipped-b")] };
    let err = load(DataFiles::Shipped(Arc::new(one))).unwrap_err();
    assert_eq!(err.message, "the `fromFile` file `a.bin` was not shipped with the plan");
    assert_eq!((err.file.as_str(), err.line), ("s.yaml", 8), "{err}");
    assert!(
        err.to_string().contains("reads only the `fromFile` files the controller sent (1 of them)"),
        "{err}"
    );
}
