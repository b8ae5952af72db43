//! Processor `function` steps outside the scenarios' HTTP flows, end to end: in the `before` flow
//! (what it sets reaches every VU's templates, as Artillery hands `before`'s variables on), in the
//! `after` flow, and in a WebSocket flow; and inside a `loop`, where `context.vars` has
//! `$loopElement` and `$loopCount`. Judged by what the embedded target received: the
//! recording target's request log, and for WebSocket the echo of what the server got.

mod common;

use common::{Case, counter, endpoint, run_ok, target, with_target};
use hornet_target::{RunningTarget, TargetOptions};

fn recording_target() -> RunningTarget {
    RunningTarget::start_recording(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 }, false)
        .expect("start recording target")
}

const FLOWS_JS: &str = r#"
const crypto = require('crypto');
module.exports = {
  // (context, events, done), as in a scenario's flow.
  makeToken(context, events, done) {
    context.vars.token = 'tok-' + crypto.createHash('sha256').update('seed').digest('hex').slice(0, 8);
    events.emit('counter', 'tokens.made', 1);
    done();
  },
  tagItem(context, events, done) {
    context.vars.tag = context.vars.$loopElement.name + '@' + context.vars.$loopCount;
    done();
  },
  async closing(context, events) {
    await new Promise((resolve) => setTimeout(resolve, 5));
    context.vars.bye = 'bye-' + context.vars.token;
  },
};
"#;

/// Writes `flows.js` and the script `name` (`TARGET` pointed at `t`) into `case`.
fn flows_script(case: &Case, name: &str, yaml: &str, t: &RunningTarget) -> std::path::PathBuf {
    case.script("flows.js", FLOWS_JS);
    case.script(name, &with_target(yaml, t))
}

/// The first 8 hex digits of SHA-256("seed"), as `makeToken` makes them.
const TOKEN: &str = "tok-19b25856";

#[test]
fn function_steps_run_in_the_before_and_after_flows() {
    let t = recording_target();
    let case = Case::new();
    let script = flows_script(
        &case,
        "flows.yaml",
        r#"
config:
  target: "TARGET"
  processor: ./flows.js
  phases:
    - duration: 1
      arrivalCount: 3
before:
  flow:
    - function: makeToken
    - get: { url: "/before", headers: { x-token: "{{ token }}" } }
scenarios:
  - flow:
      - get: { url: "/main", headers: { x-token: "{{ token }}" } }
after:
  flow:
    - function: makeToken
    - function: closing
    - get: { url: "/after", headers: { x-token: "{{ bye }}" } }
"#,
        &t,
    );
    let report = run_ok(&case, &script, &["-q"]);
    let log = t.requests().expect("recording");
    let received = |route: &str| {
        let r = &log["routes"][route];
        (r["count"].as_u64().unwrap_or(0), r["fields"]["header:x-token"]["values"].clone())
    };
    assert_eq!(received("GET /before"), (1, serde_json::json!([TOKEN])), "{log}");
    assert_eq!(received("GET /main"), (3, serde_json::json!([TOKEN])), "{log}");
    assert_eq!(received("GET /after"), (1, serde_json::json!([format!("bye-{TOKEN}")])), "{log}");
    assert_eq!(counter(&report, "vusers.completed"), 3, "{report}");
}

#[test]
fn a_function_step_runs_in_a_websocket_flow() {
    let t = target();
    let case = Case::new();
    case.script("flows.js", FLOWS_JS);
    let script = case.script(
        "ws.yaml",
        &format!(
            r#"
config:
  target: "{}/ws/echo"
  processor: ./flows.js
  phases:
    - duration: 1
      arrivalCount: 2
scenarios:
  - engine: ws
    flow:
      - function: makeToken
      - send:
          payload: "token={{{{ token }}}}"
          capture: {{ regexp: "token=(.+)", as: echoed }}
          match: {{ regexp: "token=(.+)", value: "{TOKEN}" }}
          name: echo token
      - function: closing
      - send:
          payload: "{{{{ bye }}}}"
          match: {{ regexp: "(.+)", value: "bye-{TOKEN}" }}
          name: echo bye
"#,
            t.ws_url()
        ),
    );
    let report = run_ok(&case, &script, &["-q"]);
    // The server echoed the token the function made, and the value a later async function made
    // from it: each matched for both VUs.
    assert_eq!(counter(&report, "vusers.completed"), 2, "{report}");
    assert_eq!(counter(&report, "vusers.failed"), 0, "{report}");
    assert_eq!(counter(&report, "errors"), 0, "{report}");
    assert_eq!(endpoint(&report, "echo token")["responses"], 2, "{report}");
    assert_eq!(endpoint(&report, "echo bye")["responses"], 2, "{report}");
    assert_eq!(counter(&report, "tokens.made"), 2, "{report}");
}

#[test]
fn a_function_in_a_loop_sees_the_loop_element_and_count() {
    let t = recording_target();
    let case = Case::new();
    let script = flows_script(
        &case,
        "loop.yaml",
        r#"
config:
  target: "TARGET"
  processor: ./flows.js
  phases:
    - duration: 1
      arrivalCount: 2
scenarios:
  - flow:
      - loop:
          - function: tagItem
          - get: { url: "/items", headers: { x-item: "{{ tag }}" } }
        over:
          - { name: apple }
          - { name: pear }
"#,
        &t,
    );
    run_ok(&case, &script, &["-q"]);
    let log = t.requests().expect("recording");
    let route = &log["routes"]["GET /items"];
    assert_eq!(route["count"], 4, "{log}");
    assert_eq!(route["fields"]["header:x-item"]["values"], serde_json::json!(["apple@1", "pear@2"]), "{log}");
}
