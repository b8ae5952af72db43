//! Resolving a metric name, as written in `ensure` thresholds and conditions, to a number.

use hornet_metrics::report::{
    EXPECT_FAILED, EXPECT_OK, HISTOGRAM_AGGREGATIONS, OPTIONAL_HISTOGRAMS, RESPONSE_TIME, WS_RTT,
};
use hornet_metrics::{Apdex, EXPECT_KINDS, EXPECT_OTHER, ErrorKind, Report, Summary};

/// The aggregation suffixes a histogram name takes (`http.response_time.p95`).
pub const AGGREGATIONS: [&str; 11] = HISTOGRAM_AGGREGATIONS;

/// Prefix of Artillery's per-endpoint response-time names (metrics-by-endpoint plugin), accepted as
/// an alias of `http.response_time.<endpoint>`.
const ARTILLERY_BY_ENDPOINT: &str = "plugins.metrics-by-endpoint.response_time.";

/// One aggregation of a summary. `count` always has a value; the others only when the histogram
/// has values (a percentile of nothing is not 0).
fn aggregate(s: &Summary, agg: &str, name: &str) -> Result<f64, String> {
    if agg == "count" {
        return Ok(s.count as f64);
    }
    if s.count == 0 {
        return Err(format!("metric `{name}` has no value: nothing was recorded"));
    }
    Ok(match agg {
        "min" => s.min,
        "max" => s.max,
        "mean" => s.mean,
        "p50" | "median" => s.p50,
        "p75" => s.p75,
        "p90" => s.p90,
        "p95" => s.p95,
        "p99" => s.p99,
        "p999" => s.p999,
        _ => return Err(format!("metric `{name}` does not exist")),
    })
}

/// Counters that are left out of the report when zero, but whose name is known to be valid: an
/// absent one is 0 rather than missing.
fn zero_when_absent(name: &str) -> bool {
    if let Some(kind) = name.strip_prefix("errors.") {
        return ErrorKind::ALL.iter().any(|k| k.as_str() == kind);
    }
    if let Some(code) = name.strip_prefix("http.codes.") {
        return code.len() == 3 && code.parse::<u16>().is_ok_and(|c| (100..=599).contains(&c));
    }
    if let Some(code) = name.strip_prefix("websocket.close.") {
        return code.len() == 4 && code.parse::<u16>().is_ok_and(|c| (1000..=4999).contains(&c));
    }
    let kind = name
        .strip_prefix(EXPECT_OK)
        .or_else(|| name.strip_prefix(EXPECT_FAILED))
        .and_then(|rest| rest.strip_prefix('.'));
    kind.is_some_and(|k| k == EXPECT_OTHER || EXPECT_KINDS.contains(&k))
}

/// The value of metric `name`, or why it has none (a message naming it). `apdex` is the run's apdex
/// when one was computed. See [`crate::metric`] for the names understood.
pub(crate) fn resolve(report: &Report, apdex: Option<&Apdex>, name: &str) -> Result<f64, String> {
    if name == "apdex" || name.starts_with("apdex.") {
        return resolve_apdex(apdex, name);
    }
    if let Some(&n) = report.aggregate.counters.get(name) {
        return Ok(n as f64);
    }
    if let Some(&r) = report.aggregate.rates.get(name) {
        return Ok(r);
    }
    if zero_when_absent(name) {
        return Ok(0.0);
    }
    if let Some((base, agg)) = name.rsplit_once('.')
        && AGGREGATIONS.contains(&agg)
    {
        if let Some(s) = report.aggregate.summaries.get(base) {
            return aggregate(s, agg, name);
        }
        if OPTIONAL_HISTOGRAMS.contains(&base) {
            return aggregate(&Summary::default(), agg, name);
        }
        let endpoint = base
            .strip_prefix(RESPONSE_TIME)
            .or_else(|| base.strip_prefix(WS_RTT))
            .and_then(|rest| rest.strip_prefix('.'))
            .or_else(|| base.strip_prefix(ARTILLERY_BY_ENDPOINT));
        if let Some(endpoint) = endpoint {
            return match report.endpoints.iter().find(|e| e.name == endpoint) {
                Some(e) => aggregate(&e.summary, agg, name),
                None => Err(format!("metric `{name}` does not exist: no endpoint is named `{endpoint}`")),
            };
        }
    }
    if report.aggregate.summaries.contains_key(name) || OPTIONAL_HISTOGRAMS.contains(&name) {
        return Err(format!(
            "metric `{name}` is a histogram: add an aggregation such as `{name}.p95` ({})",
            AGGREGATIONS.join(", ")
        ));
    }
    Err(format!("metric `{name}` does not exist"))
}

fn resolve_apdex(apdex: Option<&Apdex>, name: &str) -> Result<f64, String> {
    let Some(a) = apdex else {
        return Err(format!(
            "metric `{name}` does not exist: apdex is not configured (`config.apdex.threshold`)"
        ));
    };
    match name {
        "apdex" if a.total() == 0 => Err(format!("metric `{name}` has no value: no responses were received")),
        "apdex" => Ok(a.score),
        "apdex.satisfied" => Ok(a.satisfied as f64),
        "apdex.tolerated" => Ok(a.tolerated as f64),
        "apdex.frustrated" => Ok(a.frustrated as f64),
        _ => Err(format!("metric `{name}` does not exist")),
    }
}
