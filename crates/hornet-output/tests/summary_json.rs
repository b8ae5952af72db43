//! The end-of-run summary JSON: golden output of a constructed report, consistency with the report.

mod support;

use hornet_output::summary_json::{SUMMARY_SCHEMA, summary_json};
use serde_json::{Value, json};
use support::{assert_golden, empty_report, golden_path, report};

#[test]
fn golden_summary() {
    let value = summary_json(&report());
    let text = serde_json::to_string_pretty(&value).unwrap() + "\n";
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        assert_golden("summary.json", &text);
    }
    // Compared as JSON values, so the test does not depend on the map's key order.
    let golden: Value =
        serde_json::from_str(&std::fs::read_to_string(golden_path("summary.json")).unwrap()).unwrap();
    assert_eq!(value, golden, "{text}");
}

#[test]
fn figures_match_the_report() {
    let r = report();
    let v = summary_json(&r);
    assert_eq!(v["schema"], SUMMARY_SCHEMA);
    assert_eq!(v["schema"], "hornet-summary/1");
    assert_eq!(v["requests"], r.counter("http.requests"));
    assert_eq!(v["failures"], r.counter("errors"));
    assert_eq!(v["rps"], r.rate("http.request_rate"));
    assert_eq!(v["duration_s"], r.run.duration_s);
    let s = r.summary("http.response_time").unwrap();
    assert_eq!(v["latency_ms"], json!({"p50": s.p50, "p95": s.p95, "p99": s.p99, "max": s.max}));
    let c = r.summary("http.response_time.corrected").unwrap();
    assert_eq!(v["latency_corrected_ms"], json!({"p50": c.p50, "p95": c.p95, "p99": c.p99, "max": c.max}));
    let endpoints = v["endpoints"].as_array().unwrap();
    assert_eq!(endpoints.len(), r.endpoints.len());
    for (e, re) in endpoints.iter().zip(&r.endpoints) {
        assert_eq!(e["name"], re.name.as_str());
        assert_eq!(e["requests"], re.requests);
        assert_eq!(e["failures"], re.failures);
    }
    // The endpoint that got no response has null latencies, not zeros.
    assert_eq!(endpoints[2]["p50"], Value::Null);
    assert_eq!(endpoints[2]["rps"], 0.0);
    let checks: Vec<(&str, bool)> = v["checks"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| (c["name"].as_str().unwrap(), c["ok"].as_bool().unwrap()))
        .collect();
    assert_eq!(checks.len(), r.checks.len());
    assert!(checks.iter().zip(&r.checks).all(|(c, rc)| c.0 == rc.name && c.1 == rc.ok));
    assert_eq!(v["passed"], false);
}

#[test]
fn passed_follows_the_strict_checks() {
    let mut r = report();
    // Only the non-strict condition fails: a warning, the run passes.
    for c in r.checks.iter_mut().filter(|c| c.strict) {
        c.ok = true;
    }
    assert_eq!(r.failed_checks(), 0);
    assert!(r.checks.iter().any(|c| !c.ok));
    assert_eq!(summary_json(&r)["passed"], true);
}

#[test]
fn an_empty_run_has_null_latencies() {
    let v = summary_json(&empty_report());
    assert_eq!(v["requests"], 0);
    assert_eq!(v["latency_ms"], json!({"p50": null, "p95": null, "p99": null, "max": null}));
    assert_eq!(v["latency_corrected_ms"]["max"], Value::Null);
    assert_eq!(v["checks"], json!([]));
    assert_eq!(v["passed"], true);
}
