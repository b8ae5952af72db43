//! End-to-end tests of the scenario language (issue "full scenario language"): captures, cookies,
//! CSV payloads, loops, conditions, expectations, thresholds and the command-line overrides,
//! each against the embedded target on loopback.

mod common;

use common::{
    Case, check, counter, endpoint, run_ok, run_script, run_yaml, run_yaml_ok, target, text, with_target,
};

#[test]
fn login_flow_captures_token_and_cookie_and_uses_them() {
    let t = target();
    let report = run_yaml_ok(
        &with_target(
            r#"
config:
  target: "TARGET"
  phases:
    - duration: 1
      arrivalCount: 4
  plugins:
    expect: {}
scenarios:
  - flow:
      - post:
          url: /login
          json: { username: ann, password: secret }
          capture:
            - json: "$.token"
              as: token
            - header: set-cookie
              as: raw_cookie
          expect:
            - statusCode: 200
            - hasProperty: token
      - get:
          url: /echo
          name: echo
          headers:
            authorization: "Bearer {{ token }}"
          expect:
            - matchesRegexp: "Bearer tok-[0-9a-f]+"
            - matchesRegexp: "session="
            - contentType: json
"#,
            &t,
        ),
        &["-q", "--seed", "3"],
    );
    assert_eq!(counter(&report, "vusers.completed"), 4);
    assert_eq!(counter(&report, "plugins.expect.ok"), 4 * 5);
    assert_eq!(counter(&report, "plugins.expect.failed"), 0);
    assert_eq!(endpoint(&report, "echo")["requests"], 4);
}

#[test]
fn csv_payload_drives_each_vu_in_sequence() {
    let t = target();
    let case = Case::new();
    case.script("users.csv", "username,password\nalice,a1\nbob,b2\ncarol,c3\n");
    let script = case.script(
        "csv.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  phases:
    - duration: 1
      arrivalCount: 6
  payload:
    path: users.csv
    fields: [username, password]
    skipHeader: true
    order: sequence
  plugins:
    expect: {}
scenarios:
  - flow:
      - post:
          url: /login
          json: { username: "{{ username }}", password: "{{ password }}" }
          capture:
            json: "$.user"
            as: user
          expect:
            - equals: ["{{ user }}", "{{ username }}"]
"#,
            &t,
        ),
    );
    let report = run_ok(&case, &script, &["-q"]);
    assert_eq!(counter(&report, "plugins.expect.ok"), 6);
    assert_eq!(counter(&report, "plugins.expect.failed"), 0);
}

#[test]
fn loop_over_captured_items() {
    let t = target();
    let report = run_yaml_ok(
        &with_target(
            r#"
config:
  target: "TARGET"
scenarios:
  - flow:
      - get:
          url: /items
          capture: { json: "$.items", as: items }
      - loop:
          - get:
              url: "/items/{{ $loopElement.id }}"
              name: item
              capture: { json: "$.id", as: last_id }
        over: items
      - get:
          url: "/items/{{ last_id }}"
          name: last
"#,
            &t,
        ),
        &["-q"],
    );
    assert_eq!(endpoint(&report, "item")["requests"], 10);
    assert_eq!(endpoint(&report, "item")["codes"]["200"], 10);
    assert_eq!(endpoint(&report, "last")["codes"]["200"], 1, "last captured id is 10, a valid item");
}

#[test]
fn failed_strict_capture_fails_the_vu() {
    let t = target();
    let case = Case::new();
    let script = case.script(
        "strict.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  phases:
    - duration: 1
      arrivalCount: 3
scenarios:
  - flow:
      - get:
          url: /json
          capture:
            - json: "$.nope"
              as: nope
            - json: "$.missing"
              as: relaxed
              strict: false
      - get: { url: "/", name: after }
"#,
            &t,
        ),
    );
    let (out, report) = run_script(&case, &script, &["-q"]);
    assert!(out.status.success(), "{}", text(&out));
    let report = report.expect("report");
    assert_eq!(counter(&report, "errors.capture-failed"), 3);
    assert_eq!(counter(&report, "vusers.failed"), 3);
    assert_eq!(endpoint(&report, "after")["requests"], 0);
}

#[test]
fn expectations_that_fail_exit_1() {
    let t = target();
    let case = Case::new();
    let script = case.script(
        "expect.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  phases:
    - duration: 1
      arrivalCount: 2
  plugins:
    expect: {}
scenarios:
  - flow:
      - get:
          url: /status/503
          name: broken
          expect:
            - statusCode: 200
      - get:
          url: /json
          expect:
            - statusCode: [200, 201]
            - hasProperty: items
"#,
            &t,
        ),
    );
    let (out, report) = run_script(&case, &script, &["-q"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = report.expect("report");
    assert_eq!(counter(&report, "plugins.expect.failed"), 2);
    assert_eq!(counter(&report, "plugins.expect.ok"), 4);
    assert_eq!(check(&report, "expect").map(|c| c["ok"].clone()), Some(serde_json::json!(false)));
    assert!(String::from_utf8_lossy(&out.stdout).contains("statusCode"), "{}", text(&out));
}

#[test]
fn thresholds_pass_with_0_and_fail_with_1() {
    let t = target();
    let case = Case::new();
    let yaml = |p95: u32| {
        with_target(
            &format!(
                r#"
config:
  target: "TARGET"
  phases:
    - duration: 1
      arrivalCount: 10
  ensure:
    thresholds:
      - http.response_time.p95: {p95}
      - "http.response_time.GET /json.p99": 5000
    conditions:
      - expression: "http.codes.200 == 20 and vusers.failed == 0"
    maxErrorRate: 0
  apdex:
    threshold: 500
scenarios:
  - flow:
      - get: {{ url: "/delay/30", name: slow }}
      - get: {{ url: "/json" }}
"#
            ),
            &t,
        )
    };
    let pass = case.script("pass.yaml", &yaml(5000));
    let report = run_ok(&case, &pass, &["-q"]);
    let checks = report["checks"].as_array().expect("checks");
    assert_eq!(checks.len(), 4, "{checks:?}");
    assert!(checks.iter().all(|c| c["ok"] == true), "{checks:?}");
    assert!(report["apdex"]["score"].as_f64().is_some_and(|s| s > 0.99), "{}", report["apdex"]);

    let fail = case.script("fail.yaml", &yaml(10));
    let (out, report) = run_script(&case, &fail, &["-q"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let report = report.expect("report");
    assert_eq!(check(&report, "p95").map(|c| c["ok"].clone()), Some(serde_json::json!(false)));
    assert!(String::from_utf8_lossy(&out.stdout).contains("p95"), "{}", text(&out));
}

#[test]
fn missing_processor_file_is_a_clear_error() {
    let case = Case::new();
    let script = case.script(
        "processor.yaml",
        "config:\n  target: \"http://127.0.0.1:9\"\n  processor: ./functions.js\nscenarios:\n  - flow:\n      - function: setUser\n      - get: { url: \"/\" }\n",
    );
    let (out, report) = run_script(&case, &script, &[]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(report.is_none());
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("processor.yaml:3:14") && err.contains("functions.js` does not exist"), "{err}");
}

#[test]
fn environments_vars_overrides_files_and_scenario_names_combine() {
    let t = target();
    let case = Case::new();
    let common = case.script(
        "common.yaml",
        &with_target(
            r#"
config:
  target: "http://127.0.0.1:9"
  variables:
    path: "/status/404"
  environments:
    local:
      target: "TARGET"
      phases:
        - duration: 1
          arrivalCount: 5
scenarios:
  - name: skipped
    flow:
      - get: { url: "/", name: skipped }
"#,
            &t,
        ),
    );
    let more = case.script(
        "more.yaml",
        "scenarios:\n  - name: wanted\n    flow:\n      - get: { url: \"{{ path }}\", name: wanted }\n",
    );
    let report_path = case.report_path();
    let out = common::hornet()
        .arg("run")
        .args([&common, &more])
        .args(["-e", "local", "--var", "path=/items/3", "--scenario-name", "wanted", "-q", "-o"])
        .arg(&report_path)
        .args(["--overrides", r#"{"phases": [{"duration": 1, "arrivalCount": 7}]}"#])
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("json");
    assert_eq!(counter(&report, "vusers.created"), 7, "overrides replace the environment's phases");
    assert_eq!(endpoint(&report, "wanted")["codes"]["200"], 7, "--var replaced the path");
    assert!(report["endpoints"].as_array().is_some_and(|e| e.iter().all(|e| e["name"] != "skipped")));
}

#[test]
fn before_flow_captures_are_shared_and_conditions_select_requests() {
    let t = target();
    let report = run_yaml_ok(
        &with_target(
            r#"
config:
  target: "TARGET"
  phases:
    - duration: 1
      arrivalCount: 4
  defaults:
    cookie:
      theme: dark
before:
  flow:
    - post:
        url: /login
        json: { username: setup }
        capture: { json: "$.token", as: token }
scenarios:
  - flow:
      - get:
          url: /echo
          name: with token
          capture:
            - regexp: "Bearer (tok-[0-9a-f]+)"
              as: seen
            - regexp: "theme=dark"
              as: theme
      - get:
          url: /items/1
          name: never
          ifTrue: "seen == 'nothing'"
      - get:
          url: /items/2
          name: always
          ifTrue: "theme == 'theme=dark' and not (seen == '')"
      - get:
          url: /items/3
          name: no chance
          probability: 0
      - parallel:
          - get: { url: "/delay/100", name: p1 }
          - get: { url: "/delay/100", name: p2 }
          - get: { url: "/delay/100", name: p3 }
      - think: 0.05
        jitter: "50%"
      - log: "vu saw {{ seen }}"
"#,
            &t,
        )
        .replace(
            "url: /echo\n",
            "url: /echo\n          headers: { authorization: \"Bearer {{ token }}\" }\n",
        ),
        &["-q"],
    );
    assert_eq!(counter(&report, "vusers.completed"), 4);
    assert_eq!(endpoint(&report, "with token")["requests"], 4);
    assert!(
        report["endpoints"]
            .as_array()
            .is_some_and(|e| e.iter().all(|e| e["name"] != "never" || e["requests"] == 0))
    );
    assert_eq!(endpoint(&report, "always")["requests"], 4);
    for p in ["p1", "p2", "p3"] {
        assert_eq!(endpoint(&report, p)["requests"], 4);
    }
    // The three parallel requests overlap: a VU's session is far shorter than 3 × 100 ms.
    let session = report["aggregate"]["summaries"]["vusers.session_length"]["max"].as_f64().unwrap_or(0.0);
    assert!(session < 280.0, "session {session} ms");
}

#[test]
fn forms_auth_redirects_and_gzip() {
    let t = target();
    let case = Case::new();
    case.script("upload.txt", "file content 123");
    let script = case.script(
        "requests.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  plugins:
    expect: {}
scenarios:
  - flow:
      - post:
          url: /echo
          name: form
          form: { a: "1", b: "x y" }
          expect:
            - matchesRegexp: "a=1&b=x\\+y"
            - matchesRegexp: "x-www-form-urlencoded"
      - post:
          url: /echo
          name: multipart
          formData:
            field: value
            file: { fromFile: ./upload.txt, contentType: text/plain }
          expect:
            - matchesRegexp: "file content 123"
            - matchesRegexp: "multipart/form-data"
      - get:
          url: /echo
          name: auth
          auth: { user: ann, pass: secret }
          expect:
            - matchesRegexp: "Basic YW5uOnNlY3JldA=="
      - get:
          url: /redirect/3
          name: redirect
          expect:
            - statusCode: 200
      - get:
          url: /redirect/1
          name: no follow
          followRedirect: false
          expect:
            - statusCode: 302
      - get:
          url: /gzip
          name: gzip
          capture: { json: "$.name", as: name }
          expect:
            - equals: ["{{ name }}", "hornet"]
"#,
            &t,
        ),
    );
    let (out, report) = run_script(&case, &script, &["-q"]);
    let report = report.expect("report");
    assert_eq!(counter(&report, "plugins.expect.failed"), 0, "{}", text(&out));
    assert_eq!(counter(&report, "plugins.expect.ok"), 8);
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn abort_on_fail_stops_a_failing_run_early() {
    let t = target();
    let case = Case::new();
    let script = case.script(
        "abort.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  phases:
    - duration: 60
      arrivalRate: 10
  ensure:
    thresholds:
      - http.response_time.p95: 5
scenarios:
  - flow:
      - get: { url: "/delay/20" }
"#,
            &t,
        ),
    );
    let started = std::time::Instant::now();
    let (out, report) = run_script(&case, &script, &["-q", "--abort-on-fail"]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let elapsed = started.elapsed().as_secs_f64();
    assert!(elapsed < 20.0, "the 60 s run should stop soon after the 10 s grace period, took {elapsed:.1} s");
    let report = report.expect("report written after aborting");
    assert_eq!(report["run"]["interrupted"], true);
    assert_eq!(check(&report, "p95").map(|c| c["ok"].clone()), Some(serde_json::json!(false)));
    assert!(String::from_utf8_lossy(&out.stderr).contains("abort-on-fail"), "{}", text(&out));
}

/// The embedded target, counting what it receives.
fn recording_target() -> hornet_target::RunningTarget {
    let options = hornet_target::TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 };
    hornet_target::RunningTarget::start_recording(options, false).expect("start target")
}

#[test]
fn every_redirect_hop_counts_as_a_request_and_a_response_as_the_server_saw_them() {
    let t = recording_target();
    let (out, report) = run_yaml(
        &with_target(
            "config:\n  target: \"TARGET\"\n  phases:\n    - duration: 1\n      arrivalCount: 4\n\
             scenarios:\n  - flow:\n      - get: { url: \"/redirect/3\", name: chain }\n",
            &t,
        ),
        &["-q"],
    );
    assert!(out.status.success(), "{}", text(&out));
    let served = t.requests().expect("recording")["total"].as_u64().expect("total");
    // 4 chains of 3 redirects, then the 200: 16 requests and 16 responses, as Artillery counts them
    // (one `request` event and one response per hop).
    assert_eq!(served, 16);
    assert_eq!(counter(&report, "http.requests"), served, "{report}");
    assert_eq!(counter(&report, "http.responses"), served);
    assert_eq!(counter(&report, "http.codes.302"), 12);
    assert_eq!(counter(&report, "http.codes.200"), 4);
    assert_eq!(endpoint(&report, "chain")["requests"], 16);
    // The time is the whole chain's, once per request step.
    assert_eq!(report["aggregate"]["summaries"]["http.response_time"]["count"], 4, "{report}");
}

#[test]
fn a_redirect_chain_past_the_limit_is_a_too_many_redirects_error() {
    let t = recording_target();
    let (out, report) = run_yaml(
        &with_target(
            r#"
config:
  target: "TARGET"
  phases:
    - duration: 1
      arrivalCount: 3
scenarios:
  - flow:
      - get: { url: "/redirect/11", name: endless }
      - get: { url: "/redirect/10", name: ten }
"#,
            &t,
        ),
        &["-q"],
    );
    assert!(out.status.success(), "{}", text(&out));
    // 10 redirects are followed; the 11th is the error, and the VU ends there.
    assert_eq!(counter(&report, "errors.too-many-redirects"), 3, "{}", text(&out));
    assert_eq!(endpoint(&report, "endless")["failures"], 3);
    // Each VU's chain is 11 requests and 11 redirect responses (10 followed, the 11th past the
    // limit): counted as the server saw them, none as the request's response (no response time).
    let served = t.requests().expect("recording")["total"].as_u64().expect("total");
    assert_eq!(served, 33);
    assert_eq!(counter(&report, "http.requests"), served, "{report}");
    assert_eq!(counter(&report, "http.codes.302"), served);
    assert_eq!(report["aggregate"]["summaries"]["http.response_time"]["count"], 0, "{report}");
    assert!(text(&out).contains("more than 10 redirects"), "{}", text(&out));
    let (out, report) = run_yaml(
        &with_target(
            "config:\n  target: \"TARGET\"\n  phases:\n    - duration: 1\n      arrivalCount: 3\nscenarios:\n  - flow:\n      - get: { url: \"/redirect/10\", name: ten }\n",
            &t,
        ),
        &["-q"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(counter(&report, "errors.too-many-redirects"), 0, "10 redirects are within the limit");
    assert_eq!(counter(&report, "http.codes.200"), 3);
}

#[test]
fn each_arrival_sends_its_own_uuid_the_same_in_all_its_requests() {
    let t = target();
    let yaml = with_target(
        r#"
config:
  target: "TARGET"
  phases:
    - duration: 1
      arrivalCount: 6
scenarios:
  - flow:
      - get:
          url: "/echo?first={{ $uuid }}"
          capture: { regexp: '"query":"first=([^"]*)"', as: first }
      - get:
          url: /echo
          headers: { x-vu: "{{ $uuid }}" }
          capture: { regexp: '"x-vu":"([^"]*)"', as: second }
      - log: "arrival first={{ first }} second={{ second }}"
"#,
        &t,
    );
    let (out, report) = run_yaml(&yaml, &[]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(counter(&report, "vusers.completed"), 6);
    // What the target received, as each arrival read it back.
    let mut seen = std::collections::HashSet::new();
    for line in text(&out).lines().filter_map(|l| l.split_once("arrival first=").map(|(_, rest)| rest)) {
        let (first, second) = line.split_once(" second=").expect("both captures in the log line");
        assert_eq!(first, second, "an arrival's requests carry one $uuid");
        let groups: Vec<usize> = first.split('-').map(str::len).collect();
        assert_eq!(groups, [8, 4, 4, 4, 12], "a UUID: {first}");
        assert!(seen.insert(first.to_string()), "{first} was sent by two arrivals");
    }
    assert_eq!(seen.len(), 6, "{}", text(&out));
}
