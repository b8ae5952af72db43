//! The end-of-run summary as a small, stable JSON object for scripts (`--summary-json FILE`),
//! schema `"hornet-summary/1"`, documented in `docs/report-format.md`. It carries the headline
//! figures only; everything else is in the full report (`"hornet-report/1"`).

use hornet_metrics::report::{REQUEST_RATE, RESPONSE_TIME, RESPONSE_TIME_CORRECTED};
use hornet_metrics::{Report, Summary};
use serde_json::{Value, json};

/// The schema identifier of the summary.
pub const SUMMARY_SCHEMA: &str = "hornet-summary/1";

/// A latency in milliseconds, `null` when the histogram has no value (no response).
fn lat(s: &Summary, v: f64) -> Value {
    if s.count == 0 { Value::Null } else { json!(v) }
}

fn latency(s: Option<&Summary>) -> Value {
    let s = s.copied().unwrap_or_default();
    json!({ "p50": lat(&s, s.p50), "p95": lat(&s, s.p95), "p99": lat(&s, s.p99), "max": lat(&s, s.max) })
}

/// The end-of-run summary of `report`:
///
/// ```json
/// { "schema": "hornet-summary/1", "duration_s": 4.0, "requests": 102, "failures": 3, "rps": 25.5,
///   "latency_ms": { "p50": 1.0, "p95": 100.0, "p99": 100.0, "max": 100.0 },
///   "latency_corrected_ms": { "p50": 1.0, "p95": 100.0, "p99": 100.0, "max": 100.0 },
///   "endpoints": [ { "name": "GET /", "requests": 90, "failures": 0, "rps": 22.5,
///                    "p50": 1.0, "p95": 1.0, "p99": 1.0 } ],
///   "checks": [ { "name": "http.response_time.p95 < 200", "ok": true, "strict": true } ],
///   "passed": true }
/// ```
///
/// `failures` is the run's `errors` counter (every error, including those not tied to a request),
/// `rps` the request rate over the measured duration; latencies are `null` when there was no
/// response. `passed` is false when a strict check failed (the exit code is then 1).
pub fn summary_json(report: &Report) -> Value {
    let secs = report.run.duration_s;
    let per_sec = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    let endpoints: Vec<Value> = report
        .endpoints
        .iter()
        .map(|e| {
            let s = &e.summary;
            json!({
                "name": e.name,
                "requests": e.requests,
                "failures": e.failures,
                "rps": per_sec(e.requests),
                "p50": lat(s, s.p50),
                "p95": lat(s, s.p95),
                "p99": lat(s, s.p99),
            })
        })
        .collect();
    let checks: Vec<Value> =
        report.checks.iter().map(|c| json!({ "name": c.name, "ok": c.ok, "strict": c.strict })).collect();
    json!({
        "schema": SUMMARY_SCHEMA,
        "duration_s": secs,
        "requests": report.counter("http.requests"),
        "failures": report.failures(),
        "rps": report.rate(REQUEST_RATE),
        "latency_ms": latency(report.summary(RESPONSE_TIME)),
        "latency_corrected_ms": latency(report.summary(RESPONSE_TIME_CORRECTED)),
        "endpoints": endpoints,
        "checks": checks,
        "passed": report.failed_checks() == 0,
    })
}
