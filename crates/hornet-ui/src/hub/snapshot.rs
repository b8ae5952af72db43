//! The JSON the page reads (`docs/web-ui.md`): the snapshot of a run, one typed shape for the live
//! snapshot of each tick and the final one, and the parts of the tabs (Statistics rows, failure
//! groups, checks, worker rows).
//!
//! A snapshot is turned into a [`Value`] before it is written: objects there keep their keys in
//! order, so the text does not depend on the order of the fields below.

use std::time::Duration;

use hornet_metrics::TracedRequestReport;
use hornet_metrics::report::{ErrorReport, Report};
use hornet_output::view::{EndpointRow, EndpointTable};
use hornet_runner::WorkerStatus;
use hornet_verdict::Verdicts;
use serde::Serialize;
use serde_json::{Value, json};

use super::{FAILURES_LIMIT, RunState};

/// A run's snapshot: live after each tick, or final once the run ended.
#[derive(Debug, Serialize)]
pub(super) struct RunSnapshot<'a> {
    /// Number of the run, from 1.
    pub(super) run: u64,
    pub(super) state: RunState,
    /// What the run does: "as scripted", "50/s", "10 users".
    pub(super) load: &'a str,
    /// The load factor set with `+`/`-` or the API (none once the run ended).
    pub(super) factor: Option<f64>,
    pub(super) elapsed_s: f64,
    pub(super) phase: Option<&'a str>,
    pub(super) user_count: u64,
    pub(super) current_rps: f64,
    pub(super) current_fail_per_s: f64,
    /// Requests per second since the start (or the latest reset).
    pub(super) total_rps: f64,
    pub(super) current_response_time_ms: Percentiles,
    /// The Statistics tab.
    #[serde(flatten)]
    pub(super) table: TableJson<'a>,
    pub(super) failures: Value,
    /// The Slowest tab: the traced requests kept (runs with tracing).
    pub(super) traces: Value,
    pub(super) checks: Value,
    /// The metrics the processor reported with `events.emit` so far (the Checks tab).
    pub(super) processor_metrics: Value,
    pub(super) workers: Value,
    /// What the previous snapshot cost to build (live snapshots only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub(super) snapshot_ms: Option<f64>,
    /// This tick's chart point (live snapshots only; `null` in the final one).
    pub(super) point: Option<[f64; 7]>,
    pub(super) warnings: &'a [String],
    pub(super) reset_at_s: Option<f64>,
    #[serde(rename = "final")]
    pub(super) is_final: bool,
}

impl RunSnapshot<'_> {
    /// The snapshot's JSON text.
    pub(super) fn to_json(&self) -> String {
        serde_json::to_value(self).map_or_else(|_| "{}".to_owned(), |v| v.to_string())
    }
}

/// The response-time percentiles shown as the current ones, ms.
#[derive(Debug, Clone, Copy, Serialize)]
pub(super) struct Percentiles {
    pub(super) p50: f64,
    pub(super) p95: f64,
    pub(super) p99: f64,
}

/// The Statistics tab's part of a snapshot: the rows, the folded row, the totals.
#[derive(Debug, Serialize)]
pub(super) struct TableJson<'a> {
    stats: &'a [EndpointRow],
    other: Option<Folded<'a>>,
    total: &'a EndpointRow,
    endpoints: usize,
    fail_ratio: f64,
}

/// The row that stands for the endpoints past the table's limit, with how many they are.
#[derive(Debug, Serialize)]
struct Folded<'a> {
    endpoints: usize,
    row: &'a EndpointRow,
}

impl<'a> TableJson<'a> {
    pub(super) fn of(table: &'a EndpointTable) -> TableJson<'a> {
        TableJson {
            stats: &table.rows,
            other: table.other.as_ref().map(|(endpoints, row)| Folded { endpoints: *endpoints, row }),
            total: &table.total,
            endpoints: table.endpoints,
            fail_ratio: ratio(table.total.failures, table.total.requests),
        }
    }
}

/// A row of the Workers tab for a worker process of a distributed run.
pub(super) fn worker_row(w: &WorkerStatus) -> Value {
    json!({
        "name": if w.host.is_empty() { &w.address } else { &w.host },
        "address": w.address,
        "state": w.state,
        "weight": w.weight,
        "share": w.share,
        "threads": Value::Null,
        "users": w.active_vus,
        "rps": w.rps,
        "requests": w.requests,
        "cpu_percent": w.cpu,
        "lag_p99_ms": w.lag_p99_ms,
    })
}

fn ratio(a: u64, b: u64) -> f64 {
    if b > 0 { a as f64 / b as f64 } else { 0.0 }
}

/// The Failures tab: groups by (endpoint, kind) with the first message, most frequent first.
pub(super) fn failures_value(errors: &[ErrorReport]) -> Value {
    let mut sorted: Vec<&ErrorReport> = errors.iter().collect();
    sorted.sort_by_key(|e| std::cmp::Reverse(e.count));
    let groups: Vec<Value> = sorted
        .iter()
        .take(FAILURES_LIMIT)
        .map(|e| json!({ "endpoint": e.endpoint, "kind": e.kind, "message": e.first_message, "count": e.count }))
        .collect();
    json!({ "groups": groups, "folded": sorted.len().saturating_sub(FAILURES_LIMIT) })
}

/// The Slowest tab: the traced requests kept, slowest first, each with its link when `link` (the
/// `--trace-link` template) is given.
pub(super) fn traces_value(traced: &[TracedRequestReport], link: Option<&str>) -> Value {
    let mut rows: Vec<&TracedRequestReport> = traced.iter().collect();
    rows.sort_by(|a, b| b.latency_ms.total_cmp(&a.latency_ms));
    let items: Vec<Value> = rows
        .into_iter()
        .map(|t| {
            json!({
                "endpoint": t.endpoint,
                "trace_id": t.trace_id,
                "span_id": t.span_id,
                "sampled": t.sampled,
                "latency_ms": t.latency_ms,
                "status": t.status,
                "error": t.error,
                "t_s": t.t_s,
                "slowest": t.slowest,
                "failed": t.failed,
                "link": t.link(link),
            })
        })
        .collect();
    json!({ "items": items })
}

/// The Checks tab: the verdicts stored in the final `report`.
pub(super) fn checks_value(report: &Report) -> Value {
    json!({
        "items": report.checks,
        "apdex": report.apdex,
        "evaluated_at_s": report.run.duration_s,
        "final": true,
    })
}

/// The metrics a processor reported with `events.emit` in `report` (every name outside hornet's
/// own families), one row each: counters with their count and rate, rates with theirs, histograms
/// with their count and percentiles, in the unit the processor gave.
pub(super) fn processor_metrics_value(report: &Report) -> Value {
    let metrics = report.processor_metrics();
    let secs = report.run.duration_s;
    let mut rows = Vec::new();
    for (name, n) in metrics.counters {
        let rate = hornet_output::format::per_sec(n, secs);
        rows.push(json!({ "name": name, "kind": "counter", "count": n, "rate": rate }));
    }
    for (name, rate) in metrics.rates {
        rows.push(json!({ "name": name, "kind": "rate", "count": null, "rate": rate }));
    }
    for (name, s) in metrics.histograms {
        rows.push(json!({ "name": name, "kind": "histogram", "count": s.count, "rate": null,
            "p50": s.median, "p95": s.p95, "p99": s.p99, "max": s.max }));
    }
    Value::Array(rows)
}

/// The Checks tab during the run: the live checks' latest verdicts, evaluated `at` into the run.
pub(super) fn verdicts_value(verdicts: &Verdicts, at: Duration) -> Value {
    json!({
        "items": verdicts.checks,
        "apdex": verdicts.apdex,
        "evaluated_at_s": at.as_secs_f64(),
        "final": false,
    })
}
