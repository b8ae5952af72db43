//! End-to-end tests of Artillery `processor` JavaScript: hooks that sign and generate requests,
//! judged by what the embedded target received; custom metrics in the JSON report; an error in
//! JavaScript counted as an error, not a crash; a bad processor refused before anything is sent.

mod common;

use std::path::PathBuf;

use common::{Case, counter, endpoint, run_ok, run_script, target, text, with_target};
use hornet_target::RunningTarget;

const SIGNING_JS: &str = r#"
const crypto = require('crypto');
const KEY = 'test-secret';

function sign(body) {
  return crypto.createHmac('sha256', KEY).update(body).digest('hex');
}

// beforeRequest: sign the JSON body the request will carry.
function signRequest(requestParams, context, events, next) {
  const body = JSON.stringify(requestParams.json);
  requestParams.json = JSON.parse(body);
  requestParams.headers['x-signature'] = sign(body);
  requestParams.headers['x-vu'] = context._uid;
  return next();
}

// afterResponse: the echo says what the server received; check the signature against it.
function checkEcho(requestParams, response, context, events, next) {
  const echoed = JSON.parse(response.body);
  const ok = echoed.headers['x-signature'] === sign(echoed.body);
  events.emit('counter', ok ? 'signature.verified' : 'signature.mismatch', 1);
  events.emit('histogram', 'echo.body_length', echoed.body.length);
  events.emit('rate', 'echo.rate');
  next();
}

// A function step that generates data used by a later URL.
function pickItem(context, events, done) {
  context.vars.itemId = 1 + Math.floor(Math.random() * 1000);
  context.vars.order = { qty: context.vars.itemId % 7 + 1, note: 'generated' };
  done();
}

module.exports = { signRequest, checkEcho, pickItem };
"#;

const SIGNING_YAML: &str = r#"
config:
  target: "TARGET"
  processor: ./signing.js
  phases:
    - duration: 1
      arrivalCount: 5
  plugins:
    expect: {}
scenarios:
  - flow:
      - function: pickItem
      - get:
          url: "/items/{{ itemId }}"
          name: item
          expect:
            - statusCode: 200
      - post:
          url: /echo
          name: signed
          json: { item: "{{ itemId }}", qty: "{{ order.qty }}" }
          beforeRequest: signRequest
          afterResponse: checkEcho
          expect:
            - statusCode: 200
"#;

#[test]
fn hooks_sign_requests_generate_data_and_report_custom_metrics() {
    let t = target();
    let case = Case::new();
    case.script("signing.js", SIGNING_JS);
    let script = case.script("signing.yaml", &with_target(SIGNING_YAML, &t));
    let report = run_ok(&case, &script, &["-q", "--seed", "7"]);
    assert_eq!(counter(&report, "vusers.completed"), 5, "{report}");
    // The generated id made a valid URL every time, and every signature matched what was received.
    assert_eq!(endpoint(&report, "item")["requests"], 5);
    assert_eq!(counter(&report, "plugins.expect.failed"), 0, "{report}");
    assert_eq!(counter(&report, "signature.verified"), 5, "{report}");
    assert_eq!(counter(&report, "signature.mismatch"), 0, "{report}");
    let summary = &report["aggregate"]["summaries"]["echo.body_length"];
    assert_eq!(summary["count"], 5, "{report}");
    assert!(summary["min"].as_f64().is_some_and(|v| v > 10.0), "{summary}");
    assert!(report["aggregate"]["rates"]["echo.rate"].as_f64().is_some_and(|r| r > 0.0), "{report}");
}

#[test]
fn local_workers_load_the_processor_and_send_its_metrics_to_the_controller() {
    let t = target();
    let case = Case::new();
    case.script("signing.js", SIGNING_JS);
    let script = case.script("signing.yaml", &with_target(SIGNING_YAML, &t));
    let report = run_ok(&case, &script, &["-q", "--seed", "7", "--local-workers", "2"]);
    assert_eq!(counter(&report, "vusers.completed"), 5, "{report}");
    assert_eq!(counter(&report, "signature.verified"), 5, "{report}");
    assert_eq!(report["aggregate"]["summaries"]["echo.body_length"]["count"], 5, "{report}");
}

#[test]
fn an_error_in_javascript_fails_the_vu_and_is_counted() {
    let t = target();
    let case = Case::new();
    case.script(
        "failing.js",
        "module.exports = {\n  explode(context, events, done) {\n    if (context.vars.$loopCount === 2) {\n      throw new Error('boom at two');\n    }\n    done();\n  },\n};\n",
    );
    let script = case.script(
        "failing.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  processor: failing.js
  phases:
    - duration: 1
      arrivalCount: 3
scenarios:
  - flow:
      - loop:
          - function: explode
          - get: { url: /json, name: json }
        count: 3
"#,
            &t,
        ),
    );
    let (out, report) = run_script(&case, &script, &["-q"]);
    let report = report.unwrap_or_else(|| panic!("no report: {}", text(&out)));
    assert_eq!(counter(&report, "vusers.failed"), 3, "{report}");
    assert_eq!(counter(&report, "errors.processor"), 3, "{report}");
    // The first iteration's request went out; the VU stopped at the throw in the second.
    assert_eq!(endpoint(&report, "json")["requests"], 3);
}

/// A script whose `beforeRequest` misspells the processor's `signRequest` (at typo.yaml:8:26).
fn misspelt_hook(case: &Case, t: &RunningTarget) -> PathBuf {
    case.script("funcs.js", "module.exports = { signRequest(r, c, e, next) { next(); } };\n");
    case.script(
        "typo.yaml",
        &with_target(
            "config:\n  target: \"TARGET\"\n  processor: funcs.js\nscenarios:\n  - flow:\n      - get:\n          url: /json\n          beforeRequest: signRequst\n",
            t,
        ),
    )
}

#[test]
fn a_misspelt_function_and_a_syntax_error_stop_the_run_before_it_starts() {
    let t = target();
    let case = Case::new();
    let script = misspelt_hook(&case, &t);
    let (out, report) = run_script(&case, &script, &["-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(report.is_none());
    let shown = text(&out);
    assert!(shown.contains("typo.yaml:8:26"), "{shown}");
    assert!(shown.contains("did you mean `signRequest`?"), "{shown}");

    case.script("broken.js", "module.exports = {\n  f(context, events, done) {\n    done(;\n  },\n};\n");
    let script = case.script(
        "broken.yaml",
        &with_target(
            "config:\n  target: \"TARGET\"\n  processor: broken.js\nscenarios:\n  - flow:\n      - function: f\n",
            &t,
        ),
    );
    let (out, _) = run_script(&case, &script, &["-q"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("broken.js:3:"), "{}", text(&out));
}

#[test]
fn on_error_sees_a_failed_request_and_hooks_apply_at_scenario_level() {
    let t = target();
    let case = Case::new();
    case.script(
        "hooks.js",
        r#"
module.exports = {
  tag(requestParams, context, events, next) {
    requestParams.headers['x-scenario-hook'] = 'yes';
    next();
  },
  seen(requestParams, response, context, events, next) {
    const echoed = JSON.parse(response.body);
    events.emit('counter', 'tagged.' + echoed.headers['x-scenario-hook'], 1);
    next();
  },
  onFailure(err, requestParams, context, events, next) {
    events.emit('counter', 'failed.requests', 1);
    next();
  },
};
"#,
    );
    // Port 9 on loopback: nothing listens, so the second request fails without a response.
    let script = case.script(
        "hooks.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  processor: ./hooks.js
  phases:
    - duration: 1
      arrivalCount: 2
scenarios:
  - beforeRequest: tag
    afterResponse: [seen]
    onError: onFailure
    flow:
      - get: { url: /echo, name: echo }
      - get: { url: "http://127.0.0.1:9/", name: closed }
"#,
            &t,
        ),
    );
    let (out, report) = run_script(&case, &script, &["-q"]);
    let report = report.unwrap_or_else(|| panic!("no report: {}", text(&out)));
    assert_eq!(counter(&report, "tagged.yes"), 2, "{report}");
    assert_eq!(counter(&report, "failed.requests"), 2, "{report}");
    assert_eq!(counter(&report, "vusers.failed"), 2, "{report}");
    assert_eq!(counter(&report, "errors.processor"), 0, "{report}");
}

#[test]
fn a_call_over_its_time_budget_or_memory_limit_fails_its_vu_and_the_run_goes_on() {
    let t = target();
    let case = Case::new();
    // Module state is shared by the VUs of a thread: only the first VU misbehaves, as `mode` says.
    case.script(
        "heavy.js",
        r#"
let started = 0;
module.exports = {
  work(context, events, done) {
    started += 1;
    if (started === 1 && context.vars.mode === 'spin') { for (;;) {} }
    if (started === 1 && context.vars.mode === 'hog') {
      const keep = [];
      for (let i = 0; i < 1e8; i++) keep.push('x'.repeat(256) + i);
    }
    done();
  },
};
"#,
    );
    for (mode, message) in [("spin", "ran longer than its budget of 500ms"), ("hog", "out of memory")] {
        let yaml = r#"
config:
  target: "TARGET"
  processor: heavy.js
  processorLimits: { timeout: 500ms, memory: 16 }
  variables: { mode: MODE }
  phases:
    - duration: 1
      arrivalCount: 3
scenarios:
  - flow:
      - function: work
      - get: { url: /json, name: json }
"#;
        let script = case.script(&format!("{mode}.yaml"), &with_target(&yaml.replace("MODE", mode), &t));
        let (out, report) = run_script(&case, &script, &["-q", "--threads", "1"]);
        let report = report.unwrap_or_else(|| panic!("no report: {}", text(&out)));
        assert_eq!(counter(&report, "vusers.failed"), 1, "{mode}: {report}");
        assert_eq!(counter(&report, "vusers.completed"), 2, "{mode}: {report}");
        assert_eq!(counter(&report, "errors.processor"), 1, "{mode}: {report}");
        assert_eq!(endpoint(&report, "json")["requests"], 2, "{mode}");
        let errors = report["errors"].to_string();
        assert!(errors.contains(message), "{mode}: {errors}");
    }
}

#[test]
fn the_processor_example_runs_against_the_target() {
    let t = target();
    let case = Case::new();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/processor.yaml");
    let url = t.url();
    let phases = r#"{"phases": [{"duration": 1, "arrivalCount": 4}]}"#;
    let (out, report) = run_script(&case, &example, &["-q", "-t", &url, "--overrides", phases]);
    assert!(out.status.success(), "{}", text(&out));
    let report = report.expect("report written");
    assert_eq!(counter(&report, "vusers.completed"), 4, "{report}");
    // The summary shows the processor's metrics apart from hornet's own.
    let shown = text(&out);
    let section = shown.split("Processor metrics (events.emit)").nth(1).unwrap_or_else(|| panic!("{shown}"));
    assert!(section.contains("orders.made 4, orders.signed 4"), "{shown}");
    assert!(section.contains("| echo.body_bytes |"), "{shown}");
    assert_eq!(counter(&report, "orders.made"), 4, "{report}");
    assert_eq!(counter(&report, "orders.signed"), 4, "{report}");
    assert_eq!(report["aggregate"]["summaries"]["echo.body_bytes"]["count"], 4, "{report}");
}

#[test]
fn hooks_run_on_requests_sent_in_parallel() {
    let t = target();
    let case = Case::new();
    case.script(
        "parallel.js",
        r#"
module.exports = {
  tag(requestParams, context, events, next) {
    requestParams.headers['x-tag'] = requestParams.url.endsWith('/a') ? 'a' : 'b';
    next();
  },
  seen(requestParams, response, context, events, next) {
    events.emit('counter', 'echoed.' + JSON.parse(response.body).headers['x-tag'], 1);
    next();
  },
};
"#,
    );
    let script = case.script(
        "parallel.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  processor: parallel.js
  phases:
    - duration: 1
      arrivalCount: 3
scenarios:
  - beforeRequest: tag
    flow:
      - parallel:
          - get: { url: /echo/a, afterResponse: seen }
          - get: { url: /echo/b, afterResponse: seen }
"#,
            &t,
        ),
    );
    let report = run_ok(&case, &script, &["-q"]);
    assert_eq!(counter(&report, "echoed.a"), 3, "{report}");
    assert_eq!(counter(&report, "echoed.b"), 3, "{report}");
}

#[test]
fn after_response_gets_the_request_object_before_request_changed() {
    let t = target();
    let case = Case::new();
    case.script(
        "same.js",
        r#"
let sent = null;
module.exports = {
  mark(requestParams, context, events, next) {
    requestParams.startedAt = () => 'not JSON';
    requestParams.headers['x-mark'] = 'm';
    sent = requestParams;
    next();
  },
  check(requestParams, response, context, events, next) {
    const same = requestParams === sent && typeof requestParams.startedAt === 'function';
    events.emit('counter', same ? 'request.same' : 'request.other', 1);
    events.emit('counter', requestParams.headers['x-mark'] === 'm' ? 'mark.kept' : 'mark.lost', 1);
    next();
  },
};
"#,
    );
    let script = case.script(
        "same.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  processor: same.js
  phases:
    - duration: 1
      arrivalCount: 2
scenarios:
  - beforeRequest: mark
    afterResponse: check
    flow:
      - get: { url: /echo }
      - post: { url: /echo, json: { a: 1 } }
"#,
            &t,
        ),
    );
    let report = run_ok(&case, &script, &["-q"]);
    // As in Artillery, one object goes through the request's hooks: what `beforeRequest` left on
    // it, even a value JSON cannot carry, is what `afterResponse` gets.
    assert_eq!(counter(&report, "request.same"), 4, "{report}");
    assert_eq!(counter(&report, "mark.kept"), 4, "{report}");
}

#[test]
fn async_hooks_are_awaited_and_url_and_query_changes_reach_the_server() {
    let t = target();
    let case = Case::new();
    case.script(
        "async.js",
        r#"
const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));
module.exports = {
  async fetchToken(context, events) {
    await sleep(5);
    context.vars.token = 'tok-' + context.vars.$loopCount;
  },
  rewrite(requestParams, context, events, next) {
    requestParams.url = requestParams.url.replace('/echo/old', '/echo/new');
    requestParams.qs = { token: context.vars.token };
    return sleep(1).then(() => next());
  },
  async check(requestParams, response, context, events) {
    const echoed = JSON.parse(response.body);
    if (echoed.path === '/echo/new' && echoed.query === 'token=' + context.vars.token) {
      events.emit('counter', 'rewritten', 1);
    }
  },
};
"#,
    );
    let script = case.script(
        "async.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  processor: async.js
  phases:
    - duration: 1
      arrivalCount: 2
scenarios:
  - flow:
      - loop:
          - function: fetchToken
          - get:
              url: /echo/old
              name: echo
              beforeRequest: rewrite
              afterResponse: check
        count: 2
"#,
            &t,
        ),
    );
    let report = run_ok(&case, &script, &["-q"]);
    assert_eq!(counter(&report, "rewritten"), 4, "{report}");
    assert_eq!(counter(&report, "errors"), 0, "{report}");
}

#[test]
fn a_controller_refuses_a_bad_processor_before_starting_its_workers() {
    let t = target();
    let case = Case::new();
    let script = misspelt_hook(&case, &t);
    let (out, report) = run_script(&case, &script, &["--local-workers", "2"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(report.is_none());
    let shown = text(&out);
    assert!(shown.contains("typo.yaml:8:26"), "{shown}");
    assert!(shown.contains("did you mean `signRequest`?"), "{shown}");
    assert!(!shown.contains("local worker"), "a worker was started: {shown}");
}
