//! End-to-end WebSocket runs against the embedded target (loopback only, port 0, bounded runs):
//! exact counts, round-trip times, handshake and timeout errors, mixed HTTP + WebSocket flows,
//! wss://, and the outputs.

mod common;

use common::*;
use hornet_target::{RunningTarget, TargetOptions};

fn tls_target() -> RunningTarget {
    RunningTarget::start_tls(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 })
        .expect("start tls target")
}

fn ws(yaml: &str, t: &RunningTarget) -> String {
    yaml.replace("WSTARGET", &t.ws_url()).replace("TARGET", &t.url())
}

fn summary(report: &serde_json::Value, name: &str) -> serde_json::Value {
    report["aggregate"]["summaries"][name].clone()
}

/// An Artillery-style `ws` script: the counts of messages, replies and connections are exact.
#[test]
fn artillery_style_script_counts_exactly() {
    let t = target();
    let r = run_yaml_ok(
        &ws(
            r#"
config:
  target: "WSTARGET/ws/echo"
  phases: [ { duration: 1, arrivalCount: 4 } ]
scenarios:
  - engine: ws
    flow:
      - send: "hello"
      - send: { type: greet, n: 1 }
      - think: 0.1
      - send:
          payload: '{"id": "{{ $uuid }}", "v": 42}'
          capture: { json: "$.v", as: v }
          match: { json: "$.v", value: "42" }
          name: echo v
      - loop:
          - send: { payload: "v={{ v }}", match: { regexp: "v=(\\d+)", value: "42" }, name: echo loop }
          - think: 0.05
        count: 3
"#,
            &t,
        ),
        &[],
    );
    // 4 VUs x (2 plain sends + 1 send with reply + 3 loop sends) = 24 messages; all are echoed,
    // and the plain sends' echoes are read too (during the think or as the next reply).
    assert_eq!(counter(&r, "websocket.messages_sent"), 24, "{r}");
    assert_eq!(counter(&r, "websocket.connections"), 4);
    assert_eq!(counter(&r, "websocket.close.1000"), 4);
    assert_eq!(counter(&r, "vusers.completed"), 4);
    assert_eq!(counter(&r, "vusers.failed"), 0);
    assert_eq!(counter(&r, "errors"), 0);
    assert_eq!(counter(&r, "http.requests"), 0, "WebSocket steps are not HTTP requests");
    let received = counter(&r, "websocket.messages_received");
    assert_eq!(received, 24, "every echo is counted, even without a capture");
    assert_eq!(summary(&r, "websocket.rtt")["count"], 16, "4 x (1 + 3) sends wait for a reply");
    let echo_v = endpoint(&r, "echo v");
    assert_eq!(echo_v["protocol"], "ws");
    assert_eq!((echo_v["requests"].as_u64(), echo_v["responses"].as_u64()), (Some(4), Some(4)));
    assert_eq!(endpoint(&r, "echo loop")["responses"], 12);
    let connect = endpoint(&r, "WS connect /ws/echo");
    assert_eq!(connect["responses"], 4);
    assert!(r["aggregate"]["rates"]["websocket.send_rate"].as_f64().unwrap_or(0.0) > 0.0);
}

/// The round-trip time includes the server's delay.
#[test]
fn rtt_reflects_server_delay() {
    let t = target();
    let r = run_yaml_ok(
        &ws(
            r#"
config:
  target: "TARGET"
  phases: [ { duration: 1, arrivalCount: 2 } ]
  ensure:
    thresholds:
      - websocket.rtt.p50: 500
scenarios:
  - flow:
      - connect: "/ws/echo?delay_ms=50"
      - loop:
          - send: { payload: ping, match: { regexp: ping, value: ping } }
        count: 5
"#,
            &t,
        ),
        &[],
    );
    let rtt = summary(&r, "websocket.rtt");
    assert_eq!(rtt["count"], 10);
    let p50 = rtt["p50"].as_f64().unwrap_or(0.0);
    assert!((50.0..80.0).contains(&p50), "p50 {p50} ms");
    assert!(rtt["min"].as_f64().unwrap_or(0.0) >= 50.0, "{rtt}");
    let ep = endpoint(&r, "WS send ping");
    assert!(ep["summary"]["p50"].as_f64().unwrap_or(0.0) >= 50.0);
}

/// A handshake refused with 404 fails the VU, with the status in the error.
#[test]
fn handshake_to_missing_path_fails_the_vu() {
    let t = target();
    let (out, r) = run_yaml(
        &ws(
            "config:\n  target: WSTARGET\n  phases: [ { duration: 1, arrivalCount: 2 } ]\nscenarios:\n  - flow:\n      - connect: /ws/nope\n      - send: never\n",
            &t,
        ),
        &[],
    );
    assert_eq!(counter(&r, "vusers.failed"), 2, "{}", text(&out));
    assert_eq!(counter(&r, "errors.handshake-refused"), 2);
    assert_eq!(counter(&r, "websocket.messages_sent"), 0);
    let errors = r["errors"].as_array().expect("errors");
    assert_eq!(errors[0]["kind"], "handshake-refused");
    assert_eq!(errors[0]["endpoint"], "WS connect /ws/nope");
    assert_eq!(errors[0]["first_message"], "handshake refused: 404 Not Found");
}

/// A `wait` that gets no matching message in time is a timeout error.
#[test]
fn wait_that_times_out_is_a_timeout_error() {
    let t = target();
    let (out, r) = run_yaml(
        &ws(
            r#"
config:
  target: "WSTARGET"
  phases: [ { duration: 1, arrivalCount: 1 } ]
scenarios:
  - flow:
      - connect: "/ws/ticker?ms=20"
      - wait: { match: { json: "$.type", value: tick }, capture: { json: "$.n", as: n }, name: first tick }
      - wait: { match: { json: "$.type", value: tock }, timeout: 0.3, name: never }
"#,
            &t,
        ),
        &[],
    );
    assert_eq!(counter(&r, "errors.timeout"), 1, "{}", text(&out));
    assert_eq!(counter(&r, "vusers.failed"), 1);
    assert_eq!(endpoint(&r, "first tick")["responses"], 1);
    let never = endpoint(&r, "never");
    assert_eq!((never["requests"].as_u64(), never["responses"].as_u64()), (Some(1), Some(0)));
    assert_eq!(never["errors"]["timeout"], 1);
    // Ticks kept arriving during the 0.3 s wait: all are counted.
    assert!(counter(&r, "websocket.messages_received") >= 5, "{r}");
}

/// Log in over HTTP, then connect with the captured token (the endpoint requires it).
#[test]
fn mixed_http_login_then_ws_with_token() {
    let t = target();
    let case = Case::new();
    let script = case.script(
        "ws.yaml",
        &ws(
            r#"
config:
  target: "WSTARGET"
  phases: [ { duration: 1, arrivalCount: 2 } ]
scenarios:
  - name: with token
    flow:
      - post: { url: /login, json: { username: u, password: p }, capture: { json: "$.token", as: token } }
      - connect:
          target: "/ws/echo?require_token=1"
          headers: { authorization: "Bearer {{ token }}" }
      - send: { payload: "{{ token }}", capture: { regexp: "tok-[0-9a-f]+", as: echoed } }
      - get: { url: "/echo?t={{ echoed }}" }
"#,
            &t,
        ),
    );
    let r = run_ok(&case, &script, &[]);
    assert_eq!(counter(&r, "vusers.completed"), 2);
    assert_eq!(counter(&r, "http.requests"), 4, "only the HTTP steps: {r}");
    assert_eq!(counter(&r, "websocket.messages_sent"), 2);
    assert_eq!(counter(&r, "errors"), 0);

    // Without the token the upgrade is refused with 401.
    let script = case.script(
        "no-token.yaml",
        &ws(
            "config:\n  target: TARGET\nscenarios:\n  - flow:\n      - connect: \"/ws/echo?require_token=1\"\n",
            &t,
        ),
    );
    let (_, r) = run_script(&case, &script, &[]);
    let r = r.expect("report");
    assert_eq!(r["errors"][0]["first_message"], "handshake refused: 401 Unauthorized");
}

/// wss:// against the TLS target with `--insecure`, and https:// requests in the same flow.
#[test]
fn wss_against_the_tls_target() {
    let t = tls_target();
    let r = run_yaml_ok(
        &ws(
            r#"
config:
  target: "WSTARGET"
  tls: { rejectUnauthorized: false }
  phases: [ { duration: 1, arrivalCount: 2 } ]
scenarios:
  - flow:
      - get: { url: /json }
      - connect: /ws/echo
      - send: { payload: secure, match: { regexp: secure, value: secure } }
"#,
            &t,
        ),
        &[],
    );
    assert!(t.ws_url().starts_with("wss://"));
    assert_eq!(counter(&r, "http.codes.200"), 2, "{r}");
    assert_eq!(counter(&r, "websocket.messages_received"), 2);
    assert_eq!(counter(&r, "errors"), 0);
}

/// Without the insecure setting, the self-signed certificate is refused as a TLS error.
#[test]
fn wss_without_insecure_is_a_tls_error() {
    let t = tls_target();
    let (_, r) =
        run_yaml(&ws("config:\n  target: WSTARGET\nscenarios:\n  - flow:\n      - send: hi\n", &t), &[]);
    assert_eq!(counter(&r, "errors.tls"), 1, "{r}");
}

/// The outputs show WebSocket figures only when there are WebSocket steps.
#[test]
fn outputs_show_websocket_sections() {
    let t = target();
    let case = Case::new();
    let script = case.script(
        "ws.yaml",
        &ws(
            "config:\n  target: WSTARGET\nscenarios:\n  - flow:\n      - send: { payload: a, match: { regexp: a, value: a } }\n",
            &t,
        ),
    );
    let csv = case.dir.path().join("out");
    let (out, _) = run_script(&case, &script, &["--csv", csv.to_str().unwrap_or_default()]);
    let shown = text(&out);
    assert!(out.status.success(), "{shown}");
    assert!(shown.contains("WebSocket"), "{shown}");
    assert!(shown.contains("websocket.rtt"), "{shown}");
    let stats = std::fs::read_to_string(case.dir.path().join("out_stats.csv")).unwrap_or_default();
    assert!(stats.lines().any(|l| l.starts_with("WS,WS send a,")), "{stats}");

    let http_only = case.script(
        "http.yaml",
        &with_target("config:\n  target: TARGET\nscenarios:\n  - flow:\n      - get: { url: / }\n", &t),
    );
    let (out, r) = run_script(&case, &http_only, &[]);
    assert!(!text(&out).contains("WebSocket"), "{}", text(&out));
    let r = r.expect("report");
    assert!(
        r["aggregate"]["counters"]
            .as_object()
            .is_some_and(|c| !c.keys().any(|k| k.starts_with("websocket.")))
    );
    assert!(r["endpoints"][0].get("protocol").is_none(), "HTTP endpoints carry no protocol field");
}

/// A connection dropped without a close frame is an abnormal close (code 1006) and fails the VU.
#[test]
fn dropped_connection_is_an_abnormal_close() {
    let t = target();
    let (out, r) = run_yaml(
        &ws(
            r#"
config:
  target: "WSTARGET"
  phases: [ { duration: 1, arrivalCount: 1 } ]
scenarios:
  - flow:
      - connect: "/ws/echo?drop_after=1"
      - send: { payload: one, match: { regexp: one, value: one } }
      - send: { payload: two, match: { regexp: two, value: two }, name: second }
"#,
            &t,
        ),
        &[],
    );
    assert_eq!(counter(&r, "errors.abnormal-close"), 1, "{}", text(&out));
    assert_eq!(counter(&r, "websocket.close.1006"), 1);
    assert_eq!(counter(&r, "vusers.failed"), 1);
    assert_eq!(endpoint(&r, "second")["errors"]["abnormal-close"], 1);
}

/// The VU's cookie jar goes with the upgrade request (the login's session cookie opens
/// `require_cookie=session`); subprotocols are offered and accepted; binary messages round-trip.
#[test]
fn cookies_subprotocols_and_binary_messages() {
    let t = target();
    let case = Case::new();
    let script = case.script(
        "ws.yaml",
        &ws(
            r#"
config:
  target: "TARGET"
  ws: { subprotocols: [json, chat] }
  phases: [ { duration: 1, arrivalCount: 2 } ]
scenarios:
  - flow:
      - post: { url: /login, json: { username: u, password: p } }
      - connect: "/ws/echo?require_cookie=session"
      - sendBytes: { hex: "00ff41", match: { regexp: "A", value: "A" }, name: bytes }
      - send: { payload: '{"k": [1, 2]}', capture: { json: "$.k[1]", as: k }, name: json }
      - log: "k={{ k }}"
"#,
            &t,
        ),
    );
    let r = run_ok(&case, &script, &[]);
    assert_eq!(counter(&r, "errors"), 0, "{r}");
    assert_eq!(counter(&r, "websocket.connections"), 2);
    assert_eq!(counter(&r, "websocket.bytes_sent"), 2 * (3 + 13));
    assert_eq!(endpoint(&r, "bytes")["responses"], 2);

    // Without the login, there is no cookie and the upgrade is refused.
    let script = case.script(
        "no-cookie.yaml",
        &ws("config:\n  target: TARGET\nscenarios:\n  - flow:\n      - connect: \"/ws/echo?require_cookie=session\"\n", &t),
    );
    let (_, r) = run_script(&case, &script, &[]);
    let r = r.expect("report");
    assert_eq!(r["errors"][0]["first_message"], "handshake refused: 401 Unauthorized");
}

/// Out of file descriptors, a WebSocket connection fails as the generator's own error, as an HTTP
/// one does: `too-many-open-files`, never blamed on the server.
#[test]
fn out_of_file_descriptors_is_too_many_open_files_for_websocket_too() {
    let t = target();
    let case = Case::new();
    // 200 users holding a WebSocket connection each for 300 ms, in a process that may open 64 files.
    let script = case.script(
        "ws.yaml",
        &ws(
            "config:\n  target: \"WSTARGET/ws/echo\"\n  phases:\n    - duration: 2\n      users: 200\n\
             scenarios:\n  - engine: ws\n    flow:\n      - send: \"hi\"\n      - think: 0.3\n",
            &t,
        ),
    );
    let report_path = case.report_path();
    let mut command = hornet();
    command.arg("run").arg(&script).arg("-o").arg(&report_path).args(["--threads", "1", "-q"]);
    limit_open_files(&mut command, 64);
    let out = command.output().expect("run hornet");
    assert!(out.status.success(), "{}", text(&out));
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("json");
    assert!(counter(&report, "errors.too-many-open-files") > 0, "{report}");
    for blamed in ["errors.connect-refused", "errors.connect-reset", "errors.abnormal-close"] {
        assert_eq!(counter(&report, blamed), 0, "{blamed}: never blamed on the server: {report}");
    }
    assert!(counter(&report, "websocket.connections") > 0, "the connections that fit still work: {report}");
    assert!(report.to_string().contains("open-file limit is 64"), "{report}");
}
