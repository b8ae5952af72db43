//! A saved run's report as a [`Frame`] (`hornet report run.json --otlp URL`): the per-endpoint
//! families of a live run's last frame, read from the report instead of the aggregate, under the
//! same names, labels and endpoint cap, so a saved run is exported as the live run was. A report
//! keeps no scenario per endpoint (`scenario` is `*`) nor the time series of the run's gauges.

use std::collections::BTreeMap;
use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::Histogram;
use hornet_metrics::{Report, Summary, decode_histogram};

use crate::frame::{
    Counts, FAMILIES, Family, Frame, HistogramValue, LATENCY_BUCKETS_US, OTHER, SHARED_SCENARIO, Series,
    SummaryValue, Value, millis,
};

/// What one set of endpoint labels adds up to.
#[derive(Default)]
struct Sum {
    counts: Counts<String>,
    response_time: Option<Histogram<u64>>,
    corrected: Option<Histogram<u64>>,
    /// The report's summaries, when the labels stand for one endpoint.
    summaries: Option<(Summary, Summary)>,
    /// Exact sums, ms (the summary's mean times its count).
    sum_ms: f64,
    corrected_sum_ms: f64,
}

fn merge(into: &mut Option<Histogram<u64>>, encoded: &str) {
    let Ok(h) = decode_histogram(encoded) else { return };
    match into {
        Some(existing) => {
            let _ = existing.add(&h);
        }
        None => *into = Some(h),
    }
}

/// `(le, values at most le)` for each bound, read as a live frame's buckets are.
fn histogram_value(h: Option<&Histogram<u64>>, count: u64, sum_ms: f64) -> HistogramValue {
    let counts = match h {
        Some(h) => hornet_metrics::latency::cumulative_counts(h, &LATENCY_BUCKETS_US),
        None => vec![0; LATENCY_BUCKETS_US.len()],
    };
    let buckets = LATENCY_BUCKETS_US.iter().map(|&b| b as f64 / 1e6).zip(counts).collect();
    HistogramValue { buckets, count, sum: sum_ms / 1000.0, exemplars: Vec::new(), native: None }
}

/// The count and p50, p95, p99 of `h` as the report computes them (ms), or of nothing.
fn summary_of(h: Option<&Histogram<u64>>) -> Summary {
    let Some(h) = h.filter(|h| !h.is_empty()) else { return Summary::default() };
    let at = |q: f64| h.value_at_quantile(q).clamp(h.min(), h.max()) as f64 / 1000.0;
    Summary { count: h.len(), p50: at(0.5), p95: at(0.95), p99: at(0.99), ..Summary::default() }
}

/// The whole-run quantiles of `s` in seconds, in whole µs as a live frame has them.
fn quantiles_of(s: &Summary) -> Vec<(f64, f64)> {
    [(0.5, s.p50), (0.95, s.p95), (0.99, s.p99)]
        .iter()
        .map(|&(q, ms)| (q, (ms * 1000.0).round() / 1e6))
        .collect()
}

/// The frame of `report`, at most `max_endpoints` endpoints under labels of their own.
pub fn from_report(report: &Report, max_endpoints: usize) -> Frame {
    let mut sums: BTreeMap<(String, String), Sum> = BTreeMap::new();
    for (i, e) in report.endpoints.iter().enumerate() {
        let key = if i < max_endpoints {
            let method = e.name.split_once(' ').map_or("", |(m, _)| m);
            let method = if !method.is_empty() && method.bytes().all(|b| b.is_ascii_uppercase()) {
                method
            } else {
                ""
            };
            (e.name.clone(), method.to_owned())
        } else {
            (OTHER.to_owned(), String::new())
        };
        let sum = sums.entry(key.clone()).or_default();
        sum.counts.requests += e.requests;
        sum.counts.failures += e.failures;
        sum.counts.sent += e.bytes_sent;
        sum.counts.received += e.bytes_received;
        for (code, n) in &e.codes {
            *sum.counts.codes.entry(code.clone()).or_default() += n;
        }
        for (kind, n) in &e.errors {
            *sum.counts.errors.entry(kind.to_string()).or_default() += n;
        }
        merge(&mut sum.response_time, &e.histogram);
        merge(&mut sum.corrected, &e.histogram_corrected);
        sum.sum_ms += e.summary.mean * e.summary.count as f64;
        sum.corrected_sum_ms += e.summary_corrected.mean * e.summary_corrected.count as f64;
        sum.summaries = (key.0 != OTHER).then_some((e.summary, e.summary_corrected));
    }
    let mut families: Vec<Family> =
        FAMILIES.iter().map(|&(name, kind, help)| Family { name, help, kind, series: Vec::new() }).collect();
    let mut put = |name: &str, labels: Vec<(&'static str, String)>, value: Value| {
        if let Some(f) = families.iter_mut().find(|f| f.name == name) {
            f.series.push(Series { labels, value });
        }
    };
    for ((endpoint, method), sum) in &sums {
        let scenario = if endpoint == OTHER { String::new() } else { SHARED_SCENARIO.to_owned() };
        let labels = vec![("scenario", scenario), ("endpoint", endpoint.clone()), ("method", method.clone())];
        sum.counts.put(&labels, &mut put);
        let (summary, corrected) = sum
            .summaries
            .unwrap_or_else(|| (summary_of(sum.response_time.as_ref()), summary_of(sum.corrected.as_ref())));
        let mut histogram = histogram_value(sum.response_time.as_ref(), summary.count, sum.sum_ms);
        if endpoint != OTHER {
            histogram = histogram.with_exemplars(
                report
                    .traced_requests
                    .iter()
                    .filter(|t| &t.endpoint == endpoint && t.status.is_some())
                    .map(|t| (t.latency_ms, t.trace_id.as_str())),
            );
        }
        put("hornet_request_duration_seconds", labels.clone(), Value::Histogram(histogram));
        let run = |s: &Summary, sum_ms: f64| {
            Value::Summary(SummaryValue { quantiles: quantiles_of(s), count: s.count, sum: sum_ms / 1000.0 })
        };
        put("hornet_request_duration_run_seconds", labels.clone(), run(&summary, sum.sum_ms));
        let corrected_histogram =
            histogram_value(sum.corrected.as_ref(), corrected.count, sum.corrected_sum_ms);
        put(
            "hornet_request_duration_corrected_seconds",
            labels.clone(),
            Value::Histogram(corrected_histogram),
        );
        put(
            "hornet_request_duration_corrected_run_seconds",
            labels.clone(),
            run(&corrected, sum.corrected_sum_ms),
        );
    }
    for e in report.errors.iter().filter(|e| e.endpoint.is_none()) {
        put("hornet_errors", vec![("kind", e.kind.to_string())], Value::Counter(e.count));
    }
    put("hornet_run_info", vec![("version", report.hornet_version.clone())], Value::Gauge(1.0));
    let start = humantime::parse_rfc3339(&report.run.started_at).unwrap_or(UNIX_EPOCH);
    let start_ms = start.duration_since(UNIX_EPOCH).map_or(0, millis);
    let timestamp_ms = start_ms + millis(Duration::from_secs_f64(report.run.duration_s.max(0.0)));
    Frame { timestamp_ms, start_ms, families }
}
