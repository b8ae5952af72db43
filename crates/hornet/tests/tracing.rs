//! The run's test id and trace context end to end: `--testid`, `config.tracing` / `--trace` (the
//! `traceparent` and `baggage` headers the target receives), and the slowest requests the report
//! keeps with their trace ids.

mod common;

use common::*;
use hornet_target::{RunningTarget, TargetOptions};

fn recording_target() -> RunningTarget {
    RunningTarget::start_recording(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 }, false)
        .expect("start target")
}

#[test]
fn testid_is_the_runs_test_id_in_templates_and_the_report() {
    let t = recording_target();
    let yaml = with_target(
        "config:\n  target: TARGET\n  phases: [{ duration: 1, arrivalCount: 2 }]\nscenarios:\n  - flow:\n      - get: { url: /json, headers: { x-run: \"{{ $testId }}\" } }\n",
        &t,
    );
    let report = run_yaml_ok(&yaml, &["-q", "--testid", "nightly-42"]);
    assert_eq!(report["run"]["test_id"], "nightly-42");
    let log = t.requests().expect("recording");
    assert_eq!(
        log["routes"]["GET /json"]["fields"]["header:x-run"]["values"],
        serde_json::json!(["nightly-42"])
    );

    // Without --testid: 16 hex digits drawn from the seed, the same for the same seed.
    let report = run_yaml_ok(&yaml, &["-q", "--seed", "5"]);
    let id = report["run"]["test_id"].as_str().expect("a test id").to_string();
    assert_eq!(id.len(), 16, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(run_yaml_ok(&yaml, &["-q", "--seed", "5"])["run"]["test_id"], id.as_str());

    let case = Case::new();
    let script = case.script("test.yaml", &yaml);
    let (out, report) = run_script(&case, &script, &["-q", "--testid", "a/b"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(report.is_none(), "nothing ran");
    assert!(text(&out).contains("the test id contains `/`"), "{}", text(&out));
}

/// The (trace id, span id, sampled) of a W3C `traceparent`, which must be valid: version `00`, a
/// 32- and a 16-digit lowercase hex id, neither all zeros, flags `00` or `01`.
fn parse_traceparent(value: &str) -> (String, String, bool) {
    let parts: Vec<&str> = value.split('-').collect();
    assert_eq!(parts.len(), 4, "{value}");
    let lower_hex = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
    assert_eq!(parts[0], "00", "{value}");
    assert!(parts[1].len() == 32 && lower_hex(parts[1]) && parts[1].bytes().any(|b| b != b'0'), "{value}");
    assert!(parts[2].len() == 16 && lower_hex(parts[2]) && parts[2].bytes().any(|b| b != b'0'), "{value}");
    assert!(parts[3] == "00" || parts[3] == "01", "{value}");
    (parts[1].to_string(), parts[2].to_string(), parts[3] == "01")
}

#[test]
fn every_request_carries_a_valid_traceparent_sampled_at_the_rate() {
    let t = recording_target();
    // 200 VUs of 10 requests each.
    let yaml = with_target(
        "config:\n  target: TARGET\n  phases: [{ duration: 1, arrivalCount: 200 }]\n  tracing:\n    sampleRate: 0.25\nscenarios:\n  - flow:\n      - loop:\n          - get: { url: /json }\n        count: 10\n",
        &t,
    );
    let report = run_yaml_ok(&yaml, &["-q", "--seed", "7", "--testid", "rate-check"]);
    let received = t.trace_contexts().expect("recording");
    assert_eq!(received.len(), 2_000, "every request is traced");
    assert_eq!(counter(&report, "http.requests"), 2_000);
    let mut traces = std::collections::HashSet::new();
    let mut sampled = 0;
    for r in &received {
        let (trace, _, is_sampled) = parse_traceparent(&r.traceparent);
        assert!(traces.insert(trace), "a new trace id for every request");
        sampled += usize::from(is_sampled);
        assert_eq!(r.baggage.as_deref(), Some("hornet.testid=rate-check"));
    }
    // Binomial(2000, 0.25): mean 500, standard deviation 19.4; 5 of them either side.
    assert!((403..=597).contains(&sampled), "{sampled} of 2000 sampled");
    // The same seed and test id send the same ids.
    let first: Vec<String> = received.iter().map(|r| r.traceparent.clone()).collect();
    t.clear_requests();
    run_yaml_ok(&yaml, &["-q", "--seed", "7", "--testid", "rate-check", "--threads", "1"]);
    let mut again: Vec<String> =
        t.trace_contexts().expect("recording").into_iter().map(|r| r.traceparent).collect();
    let mut first_sorted = first;
    first_sorted.sort();
    again.sort();
    assert_eq!(again, first_sorted);
}

#[test]
fn without_tracing_no_trace_context_is_sent_and_none_is_reported() {
    let t = recording_target();
    let yaml = with_target(
        "config:\n  target: TARGET\n  phases: [{ duration: 1, arrivalCount: 5 }]\nscenarios:\n  - flow:\n      - get: { url: /json }\n",
        &t,
    );
    let report = run_yaml_ok(&yaml, &["-q"]);
    assert!(t.trace_contexts().expect("recording").is_empty());
    assert!(report.get("traced_requests").is_none(), "{report}");
    let log = t.requests().expect("recording");
    assert!(log["routes"]["GET /json"]["fields"].get("header:baggage").is_none(), "{log}");
}

#[test]
fn per_iteration_the_requests_of_an_iteration_share_one_trace() {
    let t = recording_target();
    let yaml = with_target(
        "config:\n  target: TARGET\n  phases: [{ duration: 1, arrivalCount: 20 }]\n  tracing: { perIteration: true }\nscenarios:\n  - flow:\n      - get: { url: /json }\n      - get: { url: /items }\n      - get: { url: /json }\n",
        &t,
    );
    run_yaml_ok(&yaml, &["-q"]);
    let received = t.trace_contexts().expect("recording");
    assert_eq!(received.len(), 60);
    let mut by_trace: std::collections::HashMap<String, Vec<String>> = std::collections::HashMap::new();
    for r in &received {
        let (trace, span, _) = parse_traceparent(&r.traceparent);
        by_trace.entry(trace).or_default().push(span);
    }
    assert_eq!(by_trace.len(), 20, "one trace per VU iteration");
    for spans in by_trace.values_mut() {
        spans.sort();
        spans.dedup();
        assert_eq!(spans.len(), 3, "each request its own span");
    }
}

#[test]
fn the_slowest_and_failed_requests_listed_are_the_ones_sent_with_those_ids() {
    let t = recording_target();
    // One endpoint whose requests wait 1 ms, except five that wait 60, 80, 120, 200 and 300 ms; and
    // an endpoint that always fails with 500.
    let slow = with_target(
        r#"config:
  target: TARGET
  phases: [{ duration: 1, arrivalCount: 1 }]
  tracing: { sampleRate: 0.5 }
scenarios:
  - flow:
      - loop:
          - get: { url: "/delay/{{ $loopElement }}", name: delayed }
        over: [1, 60, 1, 80, 1, 1, 120, 1, 300, 1, 200, 1, 1, 1]
      - loop:
          - get: { url: /status/500, name: failing }
        count: 7
"#,
        &t,
    );
    let report = run_yaml_ok(&slow, &["-q"]);
    let received = t.trace_contexts().expect("recording");
    assert_eq!(received.len(), 14 + 7);
    // What each (trace id, span id) was sent on.
    let sent: std::collections::HashMap<(String, String), String> = received
        .iter()
        .map(|r| {
            let (trace, span, _) = parse_traceparent(&r.traceparent);
            ((trace, span), r.request.clone())
        })
        .collect();
    let traced = report["traced_requests"].as_array().expect("traced_requests in the report");
    let delayed: Vec<&serde_json::Value> = traced.iter().filter(|r| r["endpoint"] == "delayed").collect();
    // The five slowest, slowest first, each a request that was sent with those ids and took at least
    // as long as the target waited on its path. (Which five is a matter of timing on a busy machine,
    // but the 300 ms one, 100 ms above any other wait, is the slowest.)
    assert_eq!(delayed.len(), 5, "{traced:?}");
    let mut previous = f64::INFINITY;
    for r in &delayed {
        let key = (r["trace_id"].as_str().unwrap().to_string(), r["span_id"].as_str().unwrap().to_string());
        let path = sent.get(&key).unwrap_or_else(|| panic!("{r} was never sent"));
        let wait: f64 =
            path.strip_prefix("GET /delay/").and_then(|ms| ms.parse().ok()).expect("a /delay path");
        let latency = r["latency_ms"].as_f64().unwrap();
        assert!(latency >= wait, "{r} was sent to {path}");
        assert!(latency <= previous, "slowest first");
        previous = latency;
        assert_eq!(r["status"], 200);
        assert_eq!((r["slowest"].as_bool(), r["failed"].as_bool()), (Some(true), Some(false)));
        assert!(r["t_s"].as_f64().unwrap() < report["run"]["duration_s"].as_f64().unwrap());
    }
    let top = (
        delayed[0]["trace_id"].as_str().unwrap().to_string(),
        delayed[0]["span_id"].as_str().unwrap().to_string(),
    );
    assert_eq!(sent[&top], "GET /delay/300");
    // Every failing request listed was sent as a /status/500 request and answered 500; the first
    // five sent are among them (the slowest five of the endpoint may add others).
    let failing: Vec<&serde_json::Value> = traced.iter().filter(|r| r["endpoint"] == "failing").collect();
    assert!((5..=10).contains(&failing.len()), "{traced:?}");
    let listed: std::collections::HashSet<(String, String)> = failing
        .iter()
        .map(|r| {
            assert_eq!((r["status"].as_u64(), r["failed"].as_bool()), (Some(500), Some(true)), "{r}");
            (r["trace_id"].as_str().unwrap().to_string(), r["span_id"].as_str().unwrap().to_string())
        })
        .collect();
    for key in &listed {
        assert_eq!(sent.get(key).map(String::as_str), Some("GET /status/500"), "{key:?}");
    }
    let first_five = received.iter().filter(|r| r.request == "GET /status/500").take(5).map(|r| {
        let (trace, span, _) = parse_traceparent(&r.traceparent);
        (trace, span)
    });
    for key in first_five {
        assert!(listed.contains(&key), "the failure {key:?} is one of the first five");
    }
}

#[test]
fn trace_link_makes_the_summarys_trace_ids_links_and_is_kept_in_the_report() {
    let t = recording_target();
    let yaml = with_target(
        "config:\n  target: TARGET\n  phases: [{ duration: 1, arrivalCount: 3 }]\nscenarios:\n  - flow:\n      - get: { url: /delay/5, name: slow }\n      - get: { url: /status/404, name: missing }\n",
        &t,
    );
    let link = "https://grafana.example/explore?trace={trace_id}";
    let (out, report) = run_yaml(&yaml, &["-q", "--trace", "--trace-link", link]);
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(report["run"]["trace_link"], link);
    let summary = String::from_utf8_lossy(&out.stdout).to_string();
    assert!(summary.contains("Slowest requests"), "{summary}");
    assert!(summary.contains("First failed requests"), "{summary}");
    for r in report["traced_requests"].as_array().expect("traced requests") {
        let url = format!("https://grafana.example/explore?trace={}", r["trace_id"].as_str().unwrap());
        assert!(summary.contains(&url), "{url} not in\n{summary}");
    }
    // A template without {trace_id} is refused before anything runs.
    let case = Case::new();
    let script = case.script("test.yaml", &yaml);
    let (out, report) = run_script(&case, &script, &["-q", "--trace", "--trace-link", "https://x/"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("{trace_id}"), "{}", text(&out));
    assert!(report.is_none());
}

#[test]
fn context_http_websocket_handshakes_and_the_before_and_after_flows_carry_trace_context() {
    let t = recording_target();
    let case = Case::new();
    case.script(
        "calls.js",
        "module.exports = { async call(context) {\n  await context.http.get('/items', { name: 'js items' });\n  await context.http.get('/status/500', { name: 'js failing' });\n} };\n",
    );
    let yaml = r#"config:
  target: "WSTARGET"
  processor: ./calls.js
  phases: [{ duration: 1, arrivalCount: 4 }]
  tracing: { perIteration: true }
before:
  flow:
    - get: { url: /echo/before }
after:
  flow:
    - get: { url: /echo/after }
scenarios:
  - flow:
      - get: { url: /json, name: yaml }
      - function: call
      - connect: /ws/echo
      - send: { payload: ping, match: { regexp: ping, value: ping } }
"#;
    let script = case.script("traced.yaml", &yaml.replace("WSTARGET", &t.ws_url()));
    let report = run_ok(&case, &script, &["-q", "--testid", "every-request"]);
    assert_eq!(counter(&report, "vusers.completed"), 4, "{report}");
    let received = t.trace_contexts().expect("recording");
    let mut per_request: std::collections::BTreeMap<&str, usize> = std::collections::BTreeMap::new();
    // Trace id → the (request, span id) sent with it.
    let mut by_trace: std::collections::HashMap<String, Vec<(String, String)>> =
        std::collections::HashMap::new();
    for r in &received {
        *per_request.entry(r.request.as_str()).or_default() += 1;
        let (trace, span, sampled) = parse_traceparent(&r.traceparent);
        assert!(sampled, "sampleRate 1: {r:?}");
        assert_eq!(r.baggage.as_deref(), Some("hornet.testid=every-request"), "{r:?}");
        by_trace.entry(trace).or_default().push((r.request.clone(), span));
    }
    let expected: std::collections::BTreeMap<&str, usize> = [
        ("GET /echo/before", 1),
        ("GET /echo/after", 1),
        ("GET /json", 4),
        ("GET /items", 4),
        ("GET /status/500", 4),
        ("GET /ws/echo", 4),
    ]
    .into();
    assert_eq!(per_request, expected, "every request hornet sent carries a traceparent");
    // perIteration: each iteration's YAML request, `context.http` requests and handshake share one
    // trace, each its own span; `before` and `after` are iterations of their own.
    let mut shapes: Vec<Vec<String>> = by_trace
        .values()
        .map(|sent| {
            let mut spans: Vec<&String> = sent.iter().map(|(_, span)| span).collect();
            spans.sort();
            spans.dedup();
            assert_eq!(spans.len(), sent.len(), "a span per request: {sent:?}");
            let mut requests: Vec<String> = sent.iter().map(|(request, _)| request.clone()).collect();
            requests.sort();
            requests
        })
        .collect();
    shapes.sort();
    let iteration: Vec<String> =
        ["GET /items", "GET /json", "GET /status/500", "GET /ws/echo"].map(String::from).into();
    let mut expected_shapes = vec![iteration; 4];
    expected_shapes.push(vec!["GET /echo/after".into()]);
    expected_shapes.push(vec!["GET /echo/before".into()]);
    expected_shapes.sort();
    assert_eq!(shapes, expected_shapes);

    // The `context.http` requests and the handshakes are kept among the slowest and failed
    // requests, with the ids they were sent with.
    let sent: std::collections::HashMap<(String, String), String> = by_trace
        .iter()
        .flat_map(|(trace, sent)| {
            sent.iter().map(move |(request, span)| ((trace.clone(), span.clone()), request.clone()))
        })
        .collect();
    let traced = report["traced_requests"].as_array().expect("traced_requests in the report");
    for (endpoint, path, status, failed) in [
        ("js items", "GET /items", 200, false),
        ("js failing", "GET /status/500", 500, true),
        ("WS connect /ws/echo", "GET /ws/echo", 101, false),
    ] {
        let kept: Vec<&serde_json::Value> = traced.iter().filter(|r| r["endpoint"] == endpoint).collect();
        assert_eq!(kept.len(), 4, "{endpoint}: {traced:?}");
        for r in kept {
            let key =
                (r["trace_id"].as_str().unwrap().to_string(), r["span_id"].as_str().unwrap().to_string());
            assert_eq!(sent.get(&key).map(String::as_str), Some(path), "{r}");
            assert_eq!((r["status"].as_u64(), r["failed"].as_bool()), (Some(status), Some(failed)), "{r}");
        }
    }
    // The `before` and `after` flows are not load: none of theirs is reported.
    assert!(
        traced.iter().all(|r| r["endpoint"].as_str().is_some_and(|e| !e.contains("/echo/"))),
        "{traced:?}"
    );
}

#[test]
fn a_requests_own_traceparent_is_kept_and_its_own_baggage_extended() {
    let t = recording_target();
    let yaml = with_target(
        r#"config:
  target: TARGET
  phases: [{ duration: 1, arrivalCount: 2 }]
scenarios:
  - flow:
      - get: { url: /echo/own, headers: { traceparent: "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01" } }
      - get: { url: /echo/static, headers: { baggage: "tenant=a" } }
      - get: { url: /echo/template, headers: { baggage: "run={{ $testId }}" } }
      - get: { url: /echo/plain, headers: { x-other: "1" } }
"#,
        &t,
    );
    run_yaml_ok(&yaml, &["-q", "--trace", "--testid", "own"]);
    let received = t.trace_contexts().expect("recording");
    assert_eq!(received.len(), 8, "two VUs, four requests each: {received:?}");
    let mut got: Vec<(&str, Option<&str>)> = Vec::new();
    for r in &received {
        parse_traceparent(&r.traceparent);
        if r.request == "GET /echo/own" {
            assert_eq!(
                r.traceparent, "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01",
                "kept as set"
            );
        }
        got.push((r.request.as_str(), r.baggage.as_deref()));
    }
    got.sort();
    got.dedup();
    assert_eq!(
        got,
        [
            ("GET /echo/own", None),
            ("GET /echo/plain", Some("hornet.testid=own")),
            ("GET /echo/static", Some("tenant=a,hornet.testid=own")),
            ("GET /echo/template", Some("run=own,hornet.testid=own")),
        ]
    );
}
