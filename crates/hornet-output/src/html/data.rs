//! The chart data of the HTML report: the inline JSON blob the page's script draws from (the
//! timeline as columns of numbers, the latency percentile curves computed from the run-wide
//! HdrHistograms) and the chart placeholders each series feeds.

use std::collections::BTreeMap;

use hornet_metrics::report::{
    GENERATOR_CPU, GENERATOR_CPU_MAX, ITERATIONS_LATE, IntervalReport, REQUEST_RATE, REQUESTS_DROPPED,
    RESPONSE_TIME, RESPONSE_TIME_CORRECTED, WS_RTT,
};
use hornet_metrics::{Report, Summary, decode_histogram};
use serde_json::{Map, Value};

use super::int;
use crate::format::per_sec;

/// Percentiles listed under the latency distribution chart (100 = the maximum).
const TABLE_PERCENTILES: [f64; 9] = [50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 99.999, 100.0];

/// Largest `1 / (1 - p)` on the distribution charts (p = 99.9999 %).
const MAX_CURVE_X: f64 = 1e6;

/// Steps per decade of `1 / (1 - p)` on the percentile curves.
const CURVE_STEPS_PER_DECADE: u32 = 20;
/// One chart placeholder: the key the script draws by, its title and a one-line explanation.
pub(super) struct ChartSlot {
    pub(super) key: &'static str,
    pub(super) title: &'static str,
    pub(super) note: String,
}

/// A number for the data blob: rounded to 3 decimals, written without a fraction when it has
/// none, `null` when not finite.
pub(super) fn num(v: f64) -> Value {
    if !v.is_finite() {
        return Value::Null;
    }
    let r = (v * 1000.0).round() / 1000.0;
    if r.fract() == 0.0 && r.abs() < 1e15 { Value::from(r as i64) } else { Value::from(r) }
}

/// An optional number for the data blob (`null` when absent).
fn opt_num(v: Option<f64>) -> Value {
    v.map_or(Value::Null, num)
}

/// What the charts need, precomputed: the data blob and the chart placeholders it feeds.
pub(super) struct View {
    pub(super) data: Value,
    pub(super) timeline_charts: Vec<ChartSlot>,
    pub(super) distribution_charts: Vec<ChartSlot>,
    /// The percentile table under the latency distribution chart.
    pub(super) percentiles: Option<PercentileTable>,
    /// The run had WebSocket steps (the report has a WebSocket section).
    pub(super) websocket: bool,
    /// The report has traced requests (the page has a Slowest requests section).
    pub(super) traced: bool,
    /// A processor reported metrics with `events.emit` (the page has a Processor metrics section).
    pub(super) processor_metrics: bool,
}

/// Latency at [`TABLE_PERCENTILES`] (those the sample count supports), service and corrected.
pub(super) struct PercentileTable {
    pub(super) rows: Vec<(f64, f64, Option<f64>)>,
}

impl View {
    pub(super) fn new(r: &Report) -> View {
        let mut data = Map::new();
        let mut timeline_charts = Vec::new();
        let mut distribution_charts = Vec::new();

        if !r.intervals.is_empty() {
            let tl = timeline_data(r, &mut timeline_charts);
            data.insert("timeline".into(), Value::Object(tl));
        }

        let mut percentiles = None;
        if let Some(curve) = latency_curve(r) {
            percentiles = Some(curve.table);
            distribution_charts.push(ChartSlot {
                key: "dist",
                title: "Latency by percentile",
                note: format!(
                    "{} responses, issued to last byte{}. The x axis is 1/(1-p) on a log scale, as \
                     HdrHistogram plots are: every step to the right is ten times rarer.",
                    int(curve.count),
                    if curve.data.contains_key("corrected") {
                        "; corrected: from each request's intended start"
                    } else {
                        ""
                    }
                ),
            });
            data.insert("dist".into(), Value::Object(curve.data));
        }
        if let Some(s) = r.summary("schedule.lag").filter(|s| s.count > 0)
            && let Some(lag) = r.aggregate.histograms.get("schedule.lag").and_then(|b| curve_of(b, s))
        {
            distribution_charts.push(ChartSlot {
                key: "lagdist",
                title: "Schedule lag by percentile",
                note: format!(
                    "How late {} scheduled starts (arrivals, pacing slots, rate tokens) actually began; \
                     above {} ms at p99 the generator is falling behind.",
                    int(s.count),
                    hornet_metrics::LAG_WARNING_MS
                ),
            });
            let mut m = Map::new();
            m.insert("x".into(), Value::Array(lag.0.iter().copied().map(num).collect()));
            m.insert("lag".into(), Value::Array(lag.1.into_iter().map(num).collect()));
            m.insert("warnMs".into(), num(hornet_metrics::LAG_WARNING_MS));
            data.insert("lagdist".into(), Value::Object(m));
        }
        let websocket = r.summary(WS_RTT).is_some();
        let traced = !r.traced_requests.is_empty();
        let processor_metrics = !r.processor_metrics().is_empty();
        View {
            data: Value::Object(data),
            timeline_charts,
            distribution_charts,
            percentiles,
            websocket,
            traced,
            processor_metrics,
        }
    }
}

/// A counter of a timeline point, 0 when absent.
fn counter(p: &IntervalReport, key: &str) -> u64 {
    p.counters.get(key).copied().unwrap_or(0)
}

/// The columns of the timeline charts, and their placeholders.
fn timeline_data(r: &Report, charts: &mut Vec<ChartSlot>) -> Map<String, Value> {
    let pts = &r.intervals;
    let col = |f: &dyn Fn(&IntervalReport) -> Value| Value::Array(pts.iter().map(f).collect());
    let mut m = Map::new();
    m.insert("t".into(), col(&|p| num(p.t_s)));
    m.insert(
        "rps".into(),
        col(&|p| {
            num(p
                .rates
                .get(REQUEST_RATE)
                .copied()
                .unwrap_or_else(|| per_sec(counter(p, "http.requests"), p.duration_s)))
        }),
    );
    m.insert("eps".into(), col(&|p| num(per_sec(counter(p, "errors"), p.duration_s))));
    let merged = pts.iter().any(|p| p.duration_s > 1.5);
    charts.push(ChartSlot {
        key: "rps",
        title: "Requests and errors per second",
        note: if merged {
            "Errors (all kinds) on the right axis. Older points are merged into 10 s / 60 s points.".into()
        } else {
            "Errors (all kinds) on the right axis.".into()
        },
    });

    // Responses per second by status class, for the classes that occurred.
    let mut classes: BTreeMap<u8, Vec<f64>> = BTreeMap::new();
    for (i, p) in pts.iter().enumerate() {
        for (code, n) in hornet_metrics::report::status_codes(&p.counters) {
            let class = u8::try_from((code / 100).min(9)).unwrap_or(9);
            let v = classes.entry(class).or_insert_with(|| vec![0.0; pts.len()]);
            v[i] += per_sec(n, p.duration_s);
        }
    }
    if !classes.is_empty() {
        let mut c = Map::new();
        for (class, v) in classes {
            c.insert(format!("{class}xx"), Value::Array(v.into_iter().map(num).collect()));
        }
        m.insert("codes".into(), Value::Object(c));
        charts.push(ChartSlot {
            key: "codes",
            title: "Responses per second by status",
            note: "Responses received, by status class.".into(),
        });
    }

    let lat = |key: &'static str, f: fn(&Summary) -> f64| {
        Value::Array(
            pts.iter()
                .map(|p| p.summaries.get(key).filter(|s| s.count > 0).map_or(Value::Null, |s| num(f(s))))
                .collect(),
        )
    };
    // Only when some point had responses: a run against a dead server has no latency to draw.
    if pts.iter().any(|p| p.summaries.get(RESPONSE_TIME).is_some_and(|s| s.count > 0)) {
        let mut l = Map::new();
        l.insert("p50".into(), lat(RESPONSE_TIME, |s| s.p50));
        l.insert("p90".into(), lat(RESPONSE_TIME, |s| s.p90));
        l.insert("p95".into(), lat(RESPONSE_TIME, |s| s.p95));
        l.insert("p99".into(), lat(RESPONSE_TIME, |s| s.p99));
        l.insert("max".into(), lat(RESPONSE_TIME, |s| s.max));
        if r.any_corrected {
            l.insert("p99c".into(), lat(RESPONSE_TIME_CORRECTED, |s| s.p99));
        }
        m.insert("lat".into(), Value::Object(l));
        charts.push(ChartSlot {
            key: "latency",
            title: "Response time over time (ms)",
            note: if r.any_corrected {
                "Percentiles of the responses completed in each point, issued to last byte; p99 corrected \
                 counts from each request's intended start. Click a legend entry to hide it."
                    .into()
            } else {
                "Percentiles of the responses completed in each point, issued to last byte. Click a legend \
                 entry to hide it."
                    .into()
            },
        });
    }

    // WebSocket messages per second and round-trip p99, when the run had WebSocket traffic.
    if pts.iter().any(|p| p.counters.keys().any(|k| k.starts_with("websocket."))) {
        let mut w = Map::new();
        w.insert("sent".into(), col(&|p| num(per_sec(counter(p, "websocket.messages_sent"), p.duration_s))));
        w.insert(
            "received".into(),
            col(&|p| num(per_sec(counter(p, "websocket.messages_received"), p.duration_s))),
        );
        w.insert("rtt99".into(), lat(WS_RTT, |s| s.p99));
        m.insert("ws".into(), Value::Object(w));
        charts.push(ChartSlot {
            key: "ws",
            title: "WebSocket messages per second",
            note: "Messages sent and received (all of them), and the p99 round-trip time of the sends that \
                   waited for a reply, on the right axis (ms)."
                .into(),
        });
    }

    m.insert("vus".into(), col(&|p| Value::from(p.active_vus)));
    m.insert("vusMax".into(), col(&|p| Value::from(p.active_vus_max.max(p.active_vus))));
    charts.push(ChartSlot {
        key: "vus",
        title: "Active virtual users",
        note: "In flight at the end of each point, and the highest reading within it.".into(),
    });

    let late = pts.iter().any(|p| counter(p, ITERATIONS_LATE) > 0 || counter(p, REQUESTS_DROPPED) > 0);
    if late {
        m.insert("late".into(), col(&|p| num(per_sec(counter(p, ITERATIONS_LATE), p.duration_s))));
        m.insert("dropped".into(), col(&|p| num(per_sec(counter(p, REQUESTS_DROPPED), p.duration_s))));
        charts.push(ChartSlot {
            key: "schedule",
            title: "Schedule misses per second",
            note: "Paced iterations that started after their slot, and request-rate tokens dropped \
                   because no VU was free."
                .into(),
        });
    }

    if pts.iter().any(|p| p.gauges.contains_key(GENERATOR_CPU)) {
        m.insert("cpu".into(), col(&|p| opt_num(p.gauges.get(GENERATOR_CPU).copied())));
        m.insert(
            "cpuMax".into(),
            col(&|p| opt_num(p.gauges.get(GENERATOR_CPU_MAX).or(p.gauges.get(GENERATOR_CPU)).copied())),
        );
        m.insert("cpuWarn".into(), num(hornet_metrics::CPU_WARNING_PERCENT));
        charts.push(ChartSlot {
            key: "cpu",
            title: "Generator CPU (% of all cores)",
            note: format!(
                "hornet's own process; above {}% for 10 s it may be the bottleneck.",
                hornet_metrics::CPU_WARNING_PERCENT
            ),
        });
    }
    m
}

/// The run-wide latency percentile curves.
struct LatencyCurve {
    data: Map<String, Value>,
    table: PercentileTable,
    count: u64,
}

/// The x positions (`1 / (1 - p)`) of a percentile curve over `count` values: 20 steps per decade
/// plus the usual percentiles, up to `count` (past `1 - 1/count` every percentile is the maximum)
/// capped at p = 99.9999 %; the last point is the maximum.
fn curve_xs(count: u64) -> Vec<f64> {
    let top = (count as f64).clamp(10.0, MAX_CURVE_X);
    let mut xs: Vec<f64> = (0..)
        .map(|i| 10_f64.powf(f64::from(i) / f64::from(CURVE_STEPS_PER_DECADE)))
        .take_while(|&x| x < top * (1.0 - 1e-9))
        .collect();
    xs.extend([2.0, 4.0, 20.0, 200.0].into_iter().filter(|&x| x < top));
    xs.push(top);
    xs.sort_by(f64::total_cmp);
    xs.dedup_by(|a, b| (*a - *b).abs() <= 1e-9 * b.abs());
    xs
}

/// The values of a base64 histogram (µs) at quantiles `qs`, in ms clamped to the summary's exact
/// `[min, max]` (quantile 1 is the exact maximum); `None` if it does not decode or is empty.
fn values_at(b64: &str, s: &Summary, qs: impl Iterator<Item = f64>) -> Option<Vec<f64>> {
    let h = decode_histogram(b64).ok().filter(|h| !h.is_empty())?;
    let hi = s.max.max(s.min);
    Some(
        qs.map(|q| if q >= 1.0 { hi } else { (h.value_at_quantile(q) as f64 / 1000.0).clamp(s.min, hi) })
            .collect(),
    )
}

/// The percentile curve of a base64 histogram at `curve_xs(s.count)`: x positions and values in
/// ms; the last point is the maximum.
fn curve_of(b64: &str, s: &Summary) -> Option<(Vec<f64>, Vec<f64>)> {
    let xs = curve_xs(s.count);
    let last = xs.len() - 1;
    let ys =
        values_at(b64, s, xs.iter().enumerate().map(|(i, &x)| if i == last { 1.0 } else { 1.0 - 1.0 / x }))?;
    Some((xs, ys))
}

/// The run-wide `http.response_time` curve (and the corrected one when it differs), with the
/// percentile table; `None` without responses or a readable histogram.
fn latency_curve(r: &Report) -> Option<LatencyCurve> {
    let s = r.summary(RESPONSE_TIME).filter(|s| s.count > 0)?;
    let b64 = r.aggregate.histograms.get(RESPONSE_TIME)?;
    let (xs, ys) = curve_of(b64, s)?;
    // The corrected histogram has the same count, so the same x positions.
    let corrected = if r.any_corrected {
        r.summary(RESPONSE_TIME_CORRECTED).filter(|c| c.count == s.count).and_then(|cs| {
            let b64 = r.aggregate.histograms.get(RESPONSE_TIME_CORRECTED)?;
            Some((b64, cs, curve_of(b64, cs)?.1))
        })
    } else {
        None
    };

    let ps: Vec<f64> = TABLE_PERCENTILES
        .iter()
        .copied()
        .filter(|&p| p >= 100.0 || 1.0 / (1.0 - p / 100.0) <= s.count as f64 * (1.0 + 1e-9))
        .collect();
    let values = values_at(b64, s, ps.iter().map(|p| p / 100.0))?;
    let corrected_values =
        corrected.as_ref().and_then(|(b64, cs, _)| values_at(b64, cs, ps.iter().map(|p| p / 100.0)));
    let rows = ps
        .iter()
        .enumerate()
        .map(|(i, &p)| (p, values[i], corrected_values.as_ref().map(|c| c[i])))
        .collect();

    let mut data = Map::new();
    data.insert("x".into(), Value::Array(xs.iter().copied().map(num).collect()));
    data.insert("rt".into(), Value::Array(ys.into_iter().map(num).collect()));
    if let Some((_, _, cy)) = corrected {
        data.insert("corrected".into(), Value::Array(cy.into_iter().map(num).collect()));
    }
    Some(LatencyCurve { data, table: PercentileTable { rows }, count: s.count })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn curve_positions() {
        let xs = curve_xs(1);
        assert_eq!(xs.first(), Some(&1.0));
        assert_eq!(xs.last(), Some(&10.0));
        assert!(xs.contains(&2.0) && xs.contains(&4.0));
        let xs = curve_xs(50_000);
        assert_eq!(xs.last(), Some(&50_000.0));
        assert!(xs.windows(2).all(|w| w[0] < w[1]));
        for x in [10.0, 100.0, 1000.0, 10_000.0] {
            assert!(xs.iter().any(|&v| (v - x).abs() < 1e-9 * x), "{x}");
        }
        assert_eq!(curve_xs(u64::MAX).last(), Some(&MAX_CURVE_X));
    }
}
