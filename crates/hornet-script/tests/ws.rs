//! WebSocket steps and `config.ws`: the plans they build and the errors bad input gives.

use std::time::Duration;

use hornet_script::plan::{CaptureSource, Protocol, Step, WsPayload, WsStep};
use hornet_script::{LoadOptions, Plan, parse_str};

fn plan(src: &str) -> Plan {
    match parse_str(src, "ws.yaml", &LoadOptions::default()) {
        Ok(p) => p,
        Err(e) => panic!("unexpected error:\n{e}"),
    }
}

fn error(src: &str) -> String {
    match parse_str(src, "ws.yaml", &LoadOptions::default()) {
        Ok(p) => panic!("expected an error, got {p:?}"),
        Err(e) => e.to_string(),
    }
}

fn ws(step: &Step) -> &WsStep {
    match step {
        Step::Ws(w) => w,
        other => panic!("not a WebSocket step: {other:?}"),
    }
}

/// Artillery's documented `ws` example shape, with every new step.
const ARTILLERY_WS: &str = r#"
config:
  target: "ws://127.0.0.1:9/ws/echo"
  ws:
    subprotocols: [json]
    headers: { x-client: hornet }
    timeout: 3
  phases: [ { duration: 1, arrivalCount: 1 } ]
scenarios:
  - engine: ws
    flow:
      - send: "hello"
      - send: { type: greet, who: "{{ $uuid }}" }
      - send:
          payload: '{"id": 7}'
          capture: { json: "$.id", as: id }
          match: { json: "$.id", value: "7" }
          name: echo id
      - sendBytes: "AAEC"
      - sendBytes: { hex: "ff00", match: { regexp: ".", value: "x" }, timeout: 1 }
      - wait: { match: { json: "$.type", value: tick }, capture: { json: "$.n", as: n } }
      - wait: { regexp: "^tick" }
      - loop:
          - send: "{{ id }}"
          - think: 0.1
        count: 2
      - log: "done {{ n }}"
      - close: 4000
"#;

#[test]
fn artillery_ws_script_builds_the_expected_steps() {
    let p = plan(ARTILLERY_WS);
    assert_eq!(p.ws.subprotocols, ["json"]);
    assert_eq!(p.ws.headers.len(), 1);
    assert_eq!(p.ws.timeout, Duration::from_secs(3));
    let flow = &p.scenarios[0].flow;
    // The first step is a send, so VUs connect to the target by themselves.
    let implicit = p.ws.implicit_connect.expect("implicit connect endpoint");
    assert_eq!(p.endpoints[implicit as usize].name, "WS connect /ws/echo");
    match ws(&flow[0]) {
        WsStep::Send(s) => {
            assert!(matches!(&s.payload, WsPayload::Text(t) if t.source() == "hello"));
            assert!(s.reply.is_none(), "a plain send does not wait");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(ws(&flow[1]), WsStep::Send(s) if matches!(s.payload, WsPayload::Json(_))));
    match ws(&flow[2]) {
        WsStep::Send(s) => {
            let reply = s.reply.as_ref().expect("waits for a reply");
            assert_eq!(p.endpoints[reply.endpoint as usize].name, "echo id");
            assert_eq!(reply.captures.len(), 2);
            assert_eq!(reply.timeout, Duration::from_secs(3), "config.ws.timeout applies");
        }
        other => panic!("{other:?}"),
    }
    assert!(
        matches!(ws(&flow[3]), WsStep::Send(s) if matches!(&s.payload, WsPayload::Binary(b) if b == &[0, 1, 2]))
    );
    match ws(&flow[4]) {
        WsStep::Send(s) => {
            assert!(matches!(&s.payload, WsPayload::Binary(b) if b == &[0xff, 0]));
            let reply = s.reply.as_ref().expect("a match waits");
            assert_eq!(reply.timeout, Duration::from_secs(1));
            assert_eq!(p.endpoints[reply.endpoint as usize].name, "WS sendBytes ff00");
        }
        other => panic!("{other:?}"),
    }
    match ws(&flow[5]) {
        WsStep::Wait(w) => {
            assert_eq!(p.endpoints[w.endpoint as usize].name, "WS wait $.type=tick");
            assert_eq!(w.conditions.len(), 1);
            assert_eq!(w.captures.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    match ws(&flow[6]) {
        WsStep::Wait(w) => {
            assert!(matches!(w.conditions[0].source, CaptureSource::Regexp { .. }));
            assert_eq!(p.endpoints[w.endpoint as usize].name, "WS wait /^tick/");
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(&flow[7], Step::Loop { .. }));
    assert!(matches!(ws(&flow[9]), WsStep::Close(4000)));
    for e in &p.endpoints {
        assert_eq!(e.protocol, Protocol::Ws, "{}", e.name);
    }
}

#[test]
fn mixed_flow_connects_explicitly_with_a_captured_token() {
    let p = plan(
        r#"
config:
  target: "http://127.0.0.1:9"
scenarios:
  - flow:
      - post: { url: /login, json: { username: a }, capture: { json: "$.token", as: token } }
      - connect:
          target: "/ws/echo"
          headers: { authorization: "Bearer {{ token }}" }
          subprotocols: chat
      - send: { payload: ping, match: { regexp: ping, value: ping } }
      - close:
"#,
    );
    assert_eq!(p.ws.implicit_connect, None, "the flow connects before its first WebSocket step");
    assert_eq!(p.endpoint_names(), ["POST /login", "WS connect /ws/echo", "WS send ping"]);
    assert_eq!(
        p.endpoints.iter().map(|e| e.protocol).collect::<Vec<_>>(),
        [Protocol::Http, Protocol::Ws, Protocol::Ws]
    );
    match ws(&p.scenarios[0].flow[1]) {
        WsStep::Connect(c) => {
            assert_eq!(c.url.source(), "/ws/echo");
            assert_eq!(c.subprotocols.as_deref(), Some(&["chat".to_string()][..]));
            assert_eq!(c.headers.len(), 1);
        }
        other => panic!("{other:?}"),
    }
    assert!(matches!(ws(&p.scenarios[0].flow[3]), WsStep::Close(1000)));
}

#[test]
fn connect_takes_a_url_string() {
    let p = plan(
        "config: {}\nscenarios:\n  - engine: websocket\n    flow:\n      - connect: \"wss://example.com/feed\"\n      - wait:\n",
    );
    match ws(&p.scenarios[0].flow[0]) {
        WsStep::Connect(c) => assert_eq!(c.url.source(), "wss://example.com/feed"),
        other => panic!("{other:?}"),
    }
    assert_eq!(p.endpoint_names(), ["WS connect wss://example.com/feed", "WS wait"]);
}

#[test]
fn unknown_key_in_a_ws_step_points_at_it_with_a_suggestion() {
    let e = error(
        "config: {target: 'ws://h'}\nscenarios:\n  - flow:\n      - send: { payload: x, captur: { json: $.a, as: a } }\n",
    );
    assert!(e.contains("unknown key `captur` in `send`"), "{e}");
    assert!(e.contains("ws.yaml:4:29"), "{e}");
    assert!(e.contains("did you mean `capture`?"), "{e}");

    let e = error(
        "config: {target: 'ws://h'}\nscenarios:\n  - flow:\n      - connect: { target: /x, header: {a: b} }\n",
    );
    assert!(e.contains("unknown key `header` in `connect`"), "{e}");
    assert!(e.contains("did you mean `headers`?"), "{e}");

    let e =
        error("config:\n  target: 'ws://h'\n  ws: { timout: 3 }\nscenarios:\n  - flow: [ { send: x } ]\n");
    assert!(e.contains("unknown key `timout` in `config.ws`"), "{e}");
    assert!(e.contains("ws.yaml:3:9"), "{e}");
    assert!(e.contains("did you mean `timeout`?"), "{e}");

    let e = error("config: {target: 'ws://h'}\nscenarios:\n  - flow:\n      - wait: { regex: x }\n");
    assert!(e.contains("did you mean `regexp`?"), "{e}");
}

#[test]
fn function_steps_in_ws_scenarios_need_a_processor() {
    let e = error(
        "config: {target: 'ws://h'}\nscenarios:\n  - engine: ws\n    flow:\n      - send: hi\n      - function: sign\n",
    );
    assert!(
        e.contains(
            "`function` calls the processor function `sign`, but the script has no `config.processor`"
        ),
        "{e}"
    );
    assert!(e.contains("ws.yaml:6:9"), "{e}");
    let e = error(
        "config: {target: 'ws://h'}\nscenarios:\n  - engine: ws\n    flow:\n      - connect: { function: connectHandler }\n",
    );
    assert!(e.contains("`function`"), "{e}");
    assert!(e.contains("JavaScript"), "{e}");
}

#[test]
fn bad_values_are_errors() {
    let cases = [
        ("- sendBytes: \"not base64!\"", "invalid base64 in `sendBytes`"),
        ("- sendBytes: { hex: \"abc\" }", "invalid hex in `sendBytes`: an odd number of hex digits"),
        ("- close: 1006", "1006 is not a close code a client may send"),
        ("- send: { capture: { json: $.a, as: a } }", "missing required key `payload` in `send`"),
        ("- send: { payload: x, name: n }", "`name` is for a `send` that waits for a reply"),
        (
            "- send: { payload: x, capture: { header: a, as: a } }",
            "a WebSocket message has no headers or HTML",
        ),
        ("- connect: \"ftp://h/x\"", "is not a WebSocket URL"),
        ("- send:", "the message is empty"),
        ("- send: x\n        capture: { json: $.a, as: a }", "unknown key `capture` in a step"),
    ];
    for (step, expected) in cases {
        let src = format!("config: {{target: 'ws://h'}}\nscenarios:\n  - flow:\n      {step}\n");
        let e = error(&src);
        assert!(e.contains(expected), "{step}: {e}");
    }
}

#[test]
fn ws_steps_need_a_target_or_a_connect() {
    let e = error("config: {}\nscenarios:\n  - flow:\n      - send: hi\n");
    assert!(e.contains("no `config.target` to connect to"), "{e}");
    let e = error("config: {}\nscenarios:\n  - flow:\n      - connect: /ws\n");
    assert!(e.contains("is relative, but there is no `config.target`"), "{e}");
}

#[test]
fn one_name_cannot_be_http_and_ws() {
    let e = error(
        "config: {target: 'http://h'}\nscenarios:\n  - flow:\n      - get: { url: /, name: x }\n      - connect: { target: /ws, name: x }\n",
    );
    assert!(e.contains("the name `x` is used by an HTTP request and by a WebSocket step"), "{e}");
}

#[test]
fn http_only_scripts_have_only_http_endpoints() {
    let p = plan("config: {target: 'http://h'}\nscenarios:\n  - flow:\n      - get: { url: / }\n");
    assert_eq!(p.endpoints.iter().map(|e| e.protocol).collect::<Vec<_>>(), [Protocol::Http]);
    assert_eq!(p.ws.implicit_connect, None);
}
