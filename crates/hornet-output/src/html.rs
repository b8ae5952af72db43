//! The HTML report: one self-contained file (no network access needed) rendered from a [`Report`]
//! alone.
//!
//! Everything a reader needs is in the page itself:
//!
//! * the tables and figures, rendered here as plain HTML (every string from the report is
//!   HTML-escaped), so the page reads even with JavaScript off;
//! * one inline JSON blob (`<script type="application/json" id="hornet-data">`) holding a compact,
//!   precomputed view for the charts: the timeline as columns of numbers rounded to 3 decimals and
//!   the latency percentile curves computed here from the run-wide HdrHistograms (the base64
//!   histograms themselves are not embedded);
//! * uPlot 1.6.32 (MIT, vendored in `assets/`) and a small hand-written script (`assets/report.js`)
//!   that draws the charts into the `data-chart` placeholders and makes the tables sortable.
//!
//! Opened with `?selftest` in the URL, the page checks after drawing that every chart has a
//! canvas with some non-transparent pixel (and some pixel of one of its series' colours), that
//! the sortable tables sort, and that no JavaScript error was raised (`window.onerror` and a
//! `console.error` wrapper are installed first thing), then writes the verdict into the DOM as
//! `<pre id="selftest">ok N charts</pre>` or `<pre id="selftest">FAIL: ...</pre>`. Without
//! `?selftest` nothing of this shows. `tests/html.rs` runs it in headless Chromium.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::time::Duration;

use hornet_metrics::generator::run_lag_warning;
use hornet_metrics::report::{
    EXPECT_FAILED, EXPECT_OK, GENERATOR_CPU, GENERATOR_CPU_MAX, ITERATIONS_LATE, IntervalReport,
    REQUEST_RATE, REQUESTS_DROPPED, RESPONSE_TIME, RESPONSE_TIME_CORRECTED,
};
use hornet_metrics::report::{WS_CONNECT_TIME, WS_RTT};
use hornet_metrics::{
    ApdexRating, EXPECT_KINDS, Protocol, Report, Summary, decode_histogram, is_lag_warning,
};
use serde_json::{Map, Value};

use crate::format;

/// uPlot 1.6.32, minified (MIT, see `assets/uPlot.LICENSE`).
pub const UPLOT_JS: &str = include_str!("../assets/uPlot.iife.min.js");
/// uPlot's stylesheet.
pub const UPLOT_CSS: &str = include_str!("../assets/uPlot.min.css");
/// uPlot's license, repeated in the page next to the library.
pub const UPLOT_LICENSE: &str = include_str!("../assets/uPlot.LICENSE");
/// The report's own stylesheet.
const REPORT_CSS: &str = include_str!("../assets/report.css");
/// The report's own script: draws the charts, sorts the tables, runs the self-check.
const REPORT_JS: &str = include_str!("../assets/report.js");

/// Installed before anything else runs, so the self-check sees every error: `window.onerror`, a
/// `console.error` wrapper and unhandled promise rejections, all into `window.__hornetErrors`.
const ERROR_TRAP_JS: &str = "window.__hornetErrors=[];\
window.onerror=function(m,s,l,c){window.__hornetErrors.push(String(m)+' ('+s+':'+l+':'+c+')');};\
window.addEventListener('unhandledrejection',function(e){window.__hornetErrors.push('unhandled rejection: '+e.reason);});\
(function(){var ce=console.error;console.error=function(){\
window.__hornetErrors.push('console.error: '+Array.prototype.map.call(arguments,String).join(' '));\
return ce.apply(console,arguments);};})();";

/// The timing-breakdown metrics, in the order of a request's life.
const BREAKDOWN: [(&str, &str); 5] = [
    ("http.dns", "dns"),
    ("http.connect", "connect"),
    ("http.tls", "tls"),
    ("http.wait", "wait (TTFB)"),
    ("http.receive", "receive"),
];

/// Percentiles listed under the latency distribution chart (100 = the maximum).
const TABLE_PERCENTILES: [f64; 9] = [50.0, 75.0, 90.0, 95.0, 99.0, 99.9, 99.99, 99.999, 100.0];

/// Largest `1 / (1 - p)` on the distribution charts (p = 99.9999 %).
const MAX_CURVE_X: f64 = 1e6;

/// Steps per decade of `1 / (1 - p)` on the percentile curves.
const CURVE_STEPS_PER_DECADE: u32 = 20;

/// One chart placeholder: the key the script draws by, its title and a one-line explanation.
struct ChartSlot {
    key: &'static str,
    title: &'static str,
    note: String,
}

/// Renders the whole report as one self-contained HTML page.
pub fn render_html(report: &Report) -> String {
    let view = View::new(report);
    let mut out = String::with_capacity(UPLOT_JS.len() + 256 * 1024);
    let title = match &report.run.script {
        Some(s) => format!("hornet report: {s}"),
        None => "hornet report".to_owned(),
    };
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"hornet {}\">\n<title>{}</title>\n\
         <script>{ERROR_TRAP_JS}</script>\n<style>{UPLOT_CSS}\n{REPORT_CSS}</style>\n</head>\n<body>\n",
        esc(&report.hornet_version),
        esc(&title),
    );
    nav(&mut out, &view);
    out.push_str("<main>\n");
    header(&mut out, report);
    warnings(&mut out, report);
    verdicts(&mut out, report);
    key_figures(&mut out, report);
    timeline(&mut out, &view);
    distribution(&mut out, report, &view);
    breakdown(&mut out, report);
    endpoints(&mut out, report);
    websocket(&mut out, report);
    status_codes(&mut out, report);
    errors(&mut out, report);
    expectations(&mut out, report);
    vusers(&mut out, report);
    footer(&mut out, report);
    out.push_str("</main>\n");
    let _ = write!(
        out,
        "<script type=\"application/json\" id=\"hornet-data\">{}</script>\n\
         <script>/*! uPlot {}*/\n{UPLOT_JS}</script>\n<script>{REPORT_JS}</script>\n</body>\n</html>\n",
        script_json(&view.data),
        // uPlot's MIT license travels with it, in a comment (which must not end early).
        UPLOT_LICENSE.trim().replace("*/", "* /"),
    );
    out
}

/// Writes [`render_html`]'s page to `path` atomically: to a temporary file next to it
/// (`.<name>.<pid>.tmp`), flushed to disk, then renamed over `path`. On error the temporary file
/// is removed and an existing file at `path` is left as it was.
pub fn write_html(report: &Report, path: &Path) -> io::Result<()> {
    crate::json::write_atomic(path, render_html(report).as_bytes())
}

// ---------------------------------------------------------------------------------------------
// Escaping and number formatting

/// HTML-escapes text for element content and quoted attribute values. Control characters other
/// than newline and tab (escape sequences from a server's message) become spaces.
fn esc(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 16);
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            '\n' | '\t' => out.push(c),
            c if c.is_control() => out.push(' '),
            c => out.push(c),
        }
    }
    out
}

/// JSON for a `<script type="application/json">` element. `<`, `>` and `&` can only occur inside
/// JSON strings, where they are written as `\u003c`, `\u003e` and `\u0026`: the text then never
/// contains `</` (which could close the element) nor `<!--` (which changes how the HTML parser
/// looks for the end of a script), and `JSON.parse` reads the same strings back.
fn script_json(v: &Value) -> String {
    let json = serde_json::to_string(v).unwrap_or_else(|_| "{}".to_owned());
    let mut out = String::with_capacity(json.len());
    for c in json.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            c => out.push(c),
        }
    }
    out
}

/// A number for the data blob: rounded to 3 decimals, written without a fraction when it has
/// none, `null` when not finite.
fn num(v: f64) -> Value {
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

/// A value in milliseconds for a table cell (`-` for an empty summary).
fn ms_cell(s: &Summary, v: f64) -> String {
    if s.count == 0 { "-".to_owned() } else { format::ms(v) }
}

/// A sort key for a numeric table cell.
fn sort_key(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { "-1".to_owned() }
}

/// `n / seconds`, 0 for a non-positive duration.
fn per_sec(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 && seconds.is_finite() { n as f64 / seconds } else { 0.0 }
}

/// `part / whole` in percent, 0 when `whole` is 0.
fn share(part: u64, whole: u64) -> f64 {
    if whole == 0 { 0.0 } else { part as f64 * 100.0 / whole as f64 }
}

/// A whole number with thin separators: `1 234 567`.
fn int(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push('\u{202f}');
        }
        out.push(c);
    }
    out
}

/// A percentage for display: `0.35%`, `12.3%`, `100%`.
fn pct(v: f64) -> String {
    if !v.is_finite() {
        "-".to_owned()
    } else if v == 0.0 || v == 100.0 {
        format!("{v:.0}%")
    } else if v < 1.0 {
        format!("{v:.2}%")
    } else {
        format!("{v:.1}%")
    }
}

/// A percentile's label: `50`, `99.9`, `99.999`.
fn percentile_label(p: f64) -> String {
    let s = format!("{p:.3}");
    s.trim_end_matches('0').trim_end_matches('.').to_owned()
}

/// An RFC 3339 time as `2026-01-01 00:00:00.000 UTC`; the text as given when it does not parse.
fn utc(t: &str) -> String {
    match humantime::parse_rfc3339(t) {
        Ok(st) => {
            let s = humantime::format_rfc3339_millis(st).to_string();
            format!("{} UTC", s.trim_end_matches('Z').replacen('T', " ", 1))
        }
        Err(_) => t.to_owned(),
    }
}

/// The end of the run: `started_at` + `duration_s`, if both are usable.
fn end_time(report: &Report) -> Option<String> {
    let start = humantime::parse_rfc3339(&report.run.started_at).ok()?;
    let d = report.run.duration_s;
    if !d.is_finite() || !(0.0..1e10).contains(&d) {
        return None;
    }
    let end = start.checked_add(Duration::from_secs_f64(d))?;
    Some(utc(&humantime::format_rfc3339_millis(end).to_string()))
}

// ---------------------------------------------------------------------------------------------
// The chart data

/// What the charts need, precomputed: the data blob and the chart placeholders it feeds.
struct View {
    data: Value,
    timeline_charts: Vec<ChartSlot>,
    distribution_charts: Vec<ChartSlot>,
    /// The percentile table under the latency distribution chart.
    percentiles: Option<PercentileTable>,
    /// The run had WebSocket steps (the report has a WebSocket section).
    websocket: bool,
}

/// Latency at [`TABLE_PERCENTILES`] (those the sample count supports), service and corrected.
struct PercentileTable {
    rows: Vec<(f64, f64, Option<f64>)>,
}

impl View {
    fn new(r: &Report) -> View {
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
        View { data: Value::Object(data), timeline_charts, distribution_charts, percentiles, websocket }
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

// ---------------------------------------------------------------------------------------------
// Sections

fn nav(out: &mut String, v: &View) {
    out.push_str("<nav><span class=\"brand\">hornet</span>");
    let mut link = |id: &str, label: &str| {
        let _ = write!(out, "<a href=\"#{id}\">{label}</a>");
    };
    link("verdicts", "Verdict");
    if !v.timeline_charts.is_empty() {
        link("timeline", "Over time");
    }
    if !v.distribution_charts.is_empty() {
        link("distribution", "Distribution");
    }
    link("endpoints", "Endpoints");
    if v.websocket {
        link("websocket", "WebSocket");
    }
    link("codes", "Status codes");
    link("errors", "Errors");
    link("vusers", "Users &amp; generator");
    out.push_str("</nav>\n");
}

fn header(out: &mut String, r: &Report) {
    let run = &r.run;
    let title = run.script.as_deref().unwrap_or("(no script)");
    let _ = write!(out, "<header id=\"header\">\n<h1>{}</h1>\n", esc(title));
    if run.interrupted {
        out.push_str(
            "<p class=\"banner warn\" id=\"interrupted\"><b>Interrupted:</b> the run was stopped early; \
             the figures cover only the part that ran.</p>\n",
        );
    }
    out.push_str("<dl class=\"meta\">\n");
    let mut item = |k: &str, v: String| {
        let class = if k == "Command" { " class=\"full\"" } else { "" };
        let _ = writeln!(out, "<div{class}><dt>{k}</dt><dd>{v}</dd></div>");
    };
    item("Script", run.script.as_deref().map_or_else(|| "-".to_owned(), esc));
    item(
        "Target",
        run.target.as_deref().map_or_else(|| "-".to_owned(), |t| format!("<code>{}</code>", esc(t))),
    );
    item("Started", esc(&utc(&run.started_at)));
    item("Ended", end_time(r).map_or_else(|| "-".to_owned(), |e| esc(&e)));
    item("Duration", esc(&format::seconds(run.duration_s)));
    item("Seed", run.seed.to_string());
    item("hornet", esc(&r.hornet_version));
    if let Some(host) = &run.host {
        item("Generator host", esc(host));
    }
    item("Interrupted", if run.interrupted { "<b class=\"bad\">yes</b>".into() } else { "no".into() });
    item("Command", format!("<code>{}</code>", esc(&run.command)));
    out.push_str("</dl>\n");
    let empty = match &run.phases {
        Value::Null => true,
        Value::Array(a) => a.is_empty(),
        Value::Object(o) => o.is_empty(),
        _ => false,
    };
    if !empty && let Ok(phases) = serde_json::to_string_pretty(&run.phases) {
        let _ = writeln!(
            out,
            "<details id=\"phases\"><summary>Phases as planned</summary><pre>{}</pre></details>",
            esc(&phases)
        );
    }
    out.push_str("</header>\n");
}

/// The report's warnings, plus the run-wide schedule-lag warning for reports that predate
/// warnings (as the summary does).
fn warnings(out: &mut String, r: &Report) {
    let mut lines: Vec<String> = r.warnings.clone();
    if let Some(s) =
        r.summary("schedule.lag").filter(|s| s.count > 0 && s.p99 > hornet_metrics::LAG_WARNING_MS)
        && !r.warnings.iter().any(|w| is_lag_warning(w))
    {
        lines.push(run_lag_warning(s.p99));
    }
    if lines.is_empty() {
        return;
    }
    out.push_str("<section id=\"warnings\" class=\"banner warn\">\n<h2>Warnings</h2>\n<ul>\n");
    for w in &lines {
        let _ = writeln!(out, "<li>{}</li>", esc(w));
    }
    out.push_str(
        "</ul>\n<p class=\"note\">The load generator itself limited or delayed the load: give hornet more \
         CPU or workers, or lower the load.</p>\n</section>\n",
    );
}

fn verdicts(out: &mut String, r: &Report) {
    out.push_str("<section id=\"verdicts\">\n<h2>Verdict</h2>\n");
    let failed = r.failed_checks();
    let warned = r.checks.iter().filter(|c| !c.ok && !c.strict).count();
    let warn_note = match warned {
        0 => String::new(),
        1 => " (1 warning)".to_owned(),
        n => format!(" ({n} warnings)"),
    };
    if r.checks.is_empty() {
        out.push_str("<p class=\"verdict none\">No checks were configured.</p>\n");
    } else if failed == 0 {
        let _ = writeln!(out, "<p class=\"verdict pass\">PASSED: all checks held{warn_note}</p>");
    } else {
        let _ = writeln!(
            out,
            "<p class=\"verdict fail\">FAILED: {failed} of {} check(s) failed{warn_note}</p>",
            r.checks.len()
        );
    }
    out.push_str("<div class=\"cards\">\n");
    if !r.checks.is_empty() {
        out.push_str("<div class=\"card wide\"><h3>Checks</h3>\n<ul class=\"checks\">\n");
        for c in &r.checks {
            let (class, label) = match (c.ok, c.strict) {
                (true, _) => ("ok", "ok"),
                (false, true) => ("fail", "FAIL"),
                (false, false) => ("warn", "warn"),
            };
            let detail = if c.detail.is_empty() {
                String::new()
            } else {
                format!(" <span class=\"detail\">{}</span>", esc(&c.detail))
            };
            let _ = writeln!(
                out,
                "<li class=\"check {class}\"><span class=\"pill {class}\">{label}</span> <code>{}</code>{detail}</li>",
                esc(&c.name)
            );
        }
        out.push_str("</ul></div>\n");
    }
    apdex(out, r);
    let ok = r.counter(EXPECT_OK);
    let failed_x = r.counter(EXPECT_FAILED);
    let total = ok.saturating_add(failed_x);
    if total > 0 {
        let _ = writeln!(
            out,
            "<div class=\"card\" id=\"expectation-totals\"><h3>Expectations</h3>\
             <p class=\"big {}\">{} failed</p><p>{} of {} checks on responses held ({}).</p>{}</div>",
            if failed_x > 0 { "bad" } else { "good" },
            int(failed_x),
            int(ok),
            int(total),
            pct(share(ok, total)),
            if failed_x > 0 { "<p><a href=\"#expectations\">By endpoint and kind</a></p>" } else { "" },
        );
    }
    out.push_str("</div>\n</section>\n");
}

fn apdex(out: &mut String, r: &Report) {
    let Some(a) = &r.apdex else { return };
    let t = if a.threshold_ms.is_finite() { a.threshold_ms.to_string() } else { "-".to_owned() };
    out.push_str("<div class=\"card\" id=\"apdex\"><h3>Apdex</h3>");
    if a.rating == ApdexRating::NoSamples || a.total() == 0 {
        let _ = writeln!(out, "<p class=\"big\">no responses</p><p>T = {} ms</p></div>", esc(&t));
        return;
    }
    let total = a.total();
    let class = match a.rating {
        ApdexRating::Excellent | ApdexRating::Good => "good",
        ApdexRating::Fair => "",
        _ => "bad",
    };
    let score = if a.score.is_finite() { format!("{:.2}", a.score) } else { "-".to_owned() };
    let _ = writeln!(
        out,
        "<p class=\"big {class}\">{score} <small>{}</small></p><p>T = {} ms</p>\
         <div class=\"stack\" title=\"satisfied / tolerated / frustrated\">\
         <span class=\"s\" style=\"width:{:.3}%\"></span><span class=\"t\" style=\"width:{:.3}%\"></span>\
         <span class=\"f\" style=\"width:{:.3}%\"></span></div>\
         <p class=\"legend\"><span class=\"sw s\"></span>{} satisfied <span class=\"sw t\"></span>{} tolerated \
         <span class=\"sw f\"></span>{} frustrated</p></div>",
        a.rating,
        esc(&t),
        share(a.satisfied, total),
        share(a.tolerated, total),
        share(a.frustrated, total),
        int(a.satisfied),
        int(a.tolerated),
        int(a.frustrated),
    );
}

fn key_figures(out: &mut String, r: &Report) {
    let rt = r.summary(RESPONSE_TIME).copied().unwrap_or_default();
    let requests = r.counter("http.requests");
    let errors = r.counter("errors");
    out.push_str("<section id=\"figures\" class=\"tiles\">\n");
    let mut tile = |label: &str, value: String, class: &str| {
        let _ = writeln!(
            out,
            "<div class=\"tile {class}\"><div class=\"v\">{value}</div><div class=\"k\">{label}</div></div>"
        );
    };
    tile("requests", int(requests), "");
    tile("requests/s", format::rate(r.rate(REQUEST_RATE)), "");
    tile(
        "errors",
        format!("{} <small>{}</small>", int(errors), pct(share(errors, requests))),
        if errors > 0 { "bad" } else { "" },
    );
    tile("median (ms)", ms_cell(&rt, rt.median), "");
    tile("p95 (ms)", ms_cell(&rt, rt.p95), "");
    tile("p99 (ms)", ms_cell(&rt, rt.p99), "");
    if r.any_corrected
        && let Some(c) = r.summary(RESPONSE_TIME_CORRECTED)
    {
        tile("p99 corrected (ms)", ms_cell(c, c.p99), "");
    }
    tile("max (ms)", ms_cell(&rt, rt.max), "");
    tile("received", esc(&format::bytes(r.counter("http.downloaded_bytes") as f64)), "");
    tile("sent", esc(&format::bytes(r.counter("http.uploaded_bytes") as f64)), "");
    out.push_str("</section>\n");
}

fn chart_slots(out: &mut String, slots: &[ChartSlot]) {
    out.push_str("<div class=\"charts\">\n");
    for s in slots {
        let _ = writeln!(
            out,
            "<figure class=\"chart-box\"><h3>{}</h3><div class=\"chart\" data-chart=\"{}\"></div>\
             <figcaption>{}</figcaption></figure>",
            esc(s.title),
            s.key,
            esc(&s.note)
        );
    }
    out.push_str("</div>\n");
}

fn timeline(out: &mut String, v: &View) {
    out.push_str("<section id=\"timeline\">\n<h2>Over time</h2>\n");
    if v.timeline_charts.is_empty() {
        out.push_str("<p class=\"note\">The report has no timeline.</p>\n");
    } else {
        chart_slots(out, &v.timeline_charts);
    }
    out.push_str("</section>\n");
}

fn distribution(out: &mut String, r: &Report, v: &View) {
    out.push_str("<section id=\"distribution\">\n<h2>Latency distribution</h2>\n");
    if v.distribution_charts.is_empty() {
        out.push_str("<p class=\"note\">No response time was recorded.</p>\n");
    } else {
        chart_slots(out, &v.distribution_charts);
    }
    if let Some(t) = &v.percentiles {
        let corrected = t.rows.iter().any(|(_, _, c)| c.is_some());
        out.push_str("<div class=\"scroll\"><table class=\"num\" id=\"percentiles\"><thead><tr><th>Percentile</th><th>Response time (ms)</th>");
        if corrected {
            out.push_str("<th>Corrected (ms)</th>");
        }
        out.push_str("</tr></thead><tbody>\n");
        for &(p, val, c) in &t.rows {
            let label = if p >= 100.0 { "max".to_owned() } else { format!("p{}", percentile_label(p)) };
            let _ = write!(out, "<tr><td>{label}</td><td>{}</td>", format::ms(val));
            if corrected {
                let _ = write!(out, "<td>{}</td>", c.map_or_else(|| "-".to_owned(), format::ms));
            }
            out.push_str("</tr>\n");
        }
        out.push_str("</tbody></table></div>\n");
    }
    if let Some(s) = r.summary("schedule.lag").filter(|s| s.count > 0) {
        let _ = writeln!(
            out,
            "<p class=\"note\" id=\"lag\">Schedule lag (actual minus intended start) of {} scheduled starts: \
             median {} ms, p99 {} ms, max {} ms{}.</p>",
            int(s.count),
            format::ms(s.median),
            format::ms(s.p99),
            format::ms(s.max),
            if s.p99 > hornet_metrics::LAG_WARNING_MS {
                format!(
                    " <b class=\"bad\">(above {} ms: see the warnings)</b>",
                    hornet_metrics::LAG_WARNING_MS
                )
            } else {
                String::new()
            }
        );
    }
    out.push_str("</section>\n");
}

fn breakdown(out: &mut String, r: &Report) {
    let rows: Vec<(&str, &Summary)> = BREAKDOWN
        .iter()
        .filter_map(|&(key, label)| Some((label, r.summary(key).filter(|s| s.count > 0)?)))
        .collect();
    if rows.is_empty() {
        return;
    }
    let top = rows.iter().map(|(_, s)| s.p99).fold(0.0_f64, f64::max);
    let width = |v: f64| if top > 0.0 && v.is_finite() { (v / top * 100.0).clamp(0.0, 100.0) } else { 0.0 };
    out.push_str(
        "<section id=\"breakdown\">\n<h2>Timing breakdown</h2>\n<p class=\"note\">Run-wide p50 and p99 of each \
         phase of a request, in ms; dns, connect and tls happen only on new connections.</p>\n\
         <div class=\"bars\">\n",
    );
    for (label, s) in rows {
        let _ = writeln!(
            out,
            "<div class=\"bar-row\"><div class=\"bar-label\">{}<small>{} samples</small></div><div class=\"bar-track\">\
             <div class=\"bar p50\" style=\"width:{:.2}%\"></div><span class=\"bar-v\">p50 {}</span>\
             <div class=\"bar p99\" style=\"width:{:.2}%\"></div><span class=\"bar-v\">p99 {} · max {}</span></div></div>",
            esc(label),
            int(s.count),
            width(s.p50),
            format::ms(s.p50),
            width(s.p99),
            format::ms(s.p99),
            format::ms(s.max),
        );
    }
    out.push_str("</div>\n</section>\n");
}

/// Mean body size per response, when there were responses.
fn size(bytes: u64, responses: u64) -> Option<f64> {
    (responses > 0).then(|| bytes as f64 / responses as f64)
}

/// One table row per endpoint of `protocol`, in script order.
fn protocol_rows(out: &mut String, r: &Report, protocol: Protocol, secs: f64) {
    for e in r.endpoints.iter().filter(|e| e.protocol == protocol) {
        endpoint_row(
            out,
            &e.name,
            e.requests,
            e.failures,
            per_sec(e.requests, secs),
            &e.summary,
            size(e.bytes_received, e.responses),
        );
    }
}

/// One row of the endpoint table.
fn endpoint_row(
    out: &mut String,
    name: &str,
    requests: u64,
    failures: u64,
    rps: f64,
    s: &Summary,
    size: Option<f64>,
) {
    let lat = |v: f64| {
        if s.count == 0 {
            "<td data-v=\"-1\">-</td>".to_owned()
        } else {
            format!("<td data-v=\"{}\">{}</td>", sort_key(v), format::ms(v))
        }
    };
    let _ = write!(
        out,
        "<tr><td class=\"name\">{}</td><td data-v=\"{requests}\">{}</td><td data-v=\"{failures}\" class=\"{}\">{}</td>\
         <td data-v=\"{}\">{}</td><td data-v=\"{}\">{}</td>",
        esc(name),
        int(requests),
        if failures > 0 { "bad" } else { "" },
        int(failures),
        sort_key(share(failures, requests)),
        pct(share(failures, requests)),
        sort_key(rps),
        format::rate(rps),
    );
    for v in [s.min, s.median, s.p90, s.p95, s.p99, s.max, s.mean] {
        out.push_str(&lat(v));
    }
    match size {
        Some(b) => {
            let _ = write!(out, "<td data-v=\"{}\">{}</td>", sort_key(b), esc(&format::bytes(b)));
        }
        None => out.push_str("<td data-v=\"-1\">-</td>"),
    }
    out.push_str("</tr>\n");
}

fn endpoints(out: &mut String, r: &Report) {
    let secs = r.run.duration_s;
    out.push_str(
        "<section id=\"endpoints\">\n<h2>Endpoints</h2>\n<p class=\"note\">Times in ms, issued to last byte. \
         Click a column header to sort.</p>\n<div class=\"scroll\"><table class=\"num sortable\" id=\"endpoint-table\">\
         <thead><tr><th data-type=\"text\">Endpoint</th><th>Requests</th><th>Failures</th><th>Fail %</th><th>RPS</th>\
         <th>Min</th><th>Median</th><th>p90</th><th>p95</th><th>p99</th><th>Max</th><th>Mean</th><th>Avg size</th>\
         </tr></thead>\n<tbody>\n",
    );
    protocol_rows(out, r, Protocol::Http, secs);
    out.push_str("</tbody>\n<tfoot>\n");
    let total = r.summary(RESPONSE_TIME).copied().unwrap_or_default();
    endpoint_row(
        out,
        "Total",
        r.counter("http.requests"),
        r.counter("errors"),
        r.rate(REQUEST_RATE),
        &total,
        size(r.counter("http.downloaded_bytes"), r.counter("http.responses")),
    );
    out.push_str("</tfoot></table></div>\n");

    if r.any_corrected {
        out.push_str(
            "<h3>Latency from intended start (ms)</h3>\n<p class=\"note\">Coordinated-omission corrected: from each \
             request's intended start (its arrival time, pacing slot or rate token) to its last byte, so time spent \
             waiting behind a slow server or a busy generator counts.</p>\n<div class=\"scroll\">\
             <table class=\"num sortable compact\" id=\"corrected-table\"><thead><tr><th data-type=\"text\">Endpoint</th>\
             <th>p50</th><th>p95</th><th>p99</th><th>Max</th></tr></thead>\n<tbody>\n",
        );
        let row = |out: &mut String, name: &str, s: &Summary| {
            let _ = write!(out, "<tr><td class=\"name\">{}</td>", esc(name));
            for v in [s.p50, s.p95, s.p99, s.max] {
                let _ = write!(
                    out,
                    "<td data-v=\"{}\">{}</td>",
                    if s.count == 0 { "-1".to_owned() } else { sort_key(v) },
                    ms_cell(s, v)
                );
            }
            out.push_str("</tr>\n");
        };
        for e in r.endpoints.iter().filter(|e| e.protocol == Protocol::Http) {
            row(out, &e.name, &e.summary_corrected);
        }
        out.push_str("</tbody>\n<tfoot>\n");
        row(out, "Total", &r.summary(RESPONSE_TIME_CORRECTED).copied().unwrap_or_default());
        out.push_str("</tfoot></table></div>\n");
    }
    out.push_str("</section>\n");
}

/// The WebSocket section, when the run had WebSocket steps: connection and message figures, then
/// one row per step that waits and the run-wide connect-time and round-trip rows.
fn websocket(out: &mut String, r: &Report) {
    let Some(rtt) = r.summary(WS_RTT).copied() else { return };
    let secs = r.run.duration_s;
    let closes: Vec<String> = r
        .aggregate
        .counters
        .iter()
        .filter_map(|(k, n)| {
            k.strip_prefix("websocket.close.").map(|code| format!("{} × {}", esc(code), int(*n)))
        })
        .collect();
    let (sent, received) = (r.counter("websocket.messages_sent"), r.counter("websocket.messages_received"));
    let _ = write!(
        out,
        "<section id=\"websocket\">\n<h2>WebSocket</h2>\n<p class=\"note\">Times in ms: connect (TCP + TLS + \
         upgrade), send to reply, or time waited. Every message received is counted, whether a step waited for it or \
         not.</p>\n<p>{} connections opened; closed by code: {}.<br>{} messages sent ({}/s, {}), {} received ({}/s, {}).</p>\n\
         <div class=\"scroll\"><table class=\"num sortable\" id=\"websocket-table\"><thead><tr><th data-type=\"text\">Step</th>\
         <th>Count</th><th>Failures</th><th>Fail %</th><th>per s</th><th>Min</th><th>Median</th><th>p90</th><th>p95</th>\
         <th>p99</th><th>Max</th><th>Mean</th><th>Avg size</th></tr></thead>\n<tbody>\n",
        int(r.counter("websocket.connections")),
        if closes.is_empty() { "-".to_owned() } else { closes.join(", ") },
        int(sent),
        format::rate(per_sec(sent, secs)),
        esc(&format::bytes(r.counter("websocket.bytes_sent") as f64)),
        int(received),
        format::rate(per_sec(received, secs)),
        esc(&format::bytes(r.counter("websocket.bytes_received") as f64)),
    );
    protocol_rows(out, r, Protocol::Ws, secs);
    out.push_str("</tbody>\n<tfoot>\n");
    let connect = r.summary(WS_CONNECT_TIME).copied().unwrap_or_default();
    endpoint_row(out, WS_CONNECT_TIME, connect.count, 0, per_sec(connect.count, secs), &connect, None);
    endpoint_row(out, WS_RTT, rtt.count, 0, per_sec(rtt.count, secs), &rtt, None);
    out.push_str("</tfoot></table></div>\n</section>\n");
}

fn status_codes(out: &mut String, r: &Report) {
    out.push_str("<section id=\"codes\">\n<h2>Status codes</h2>\n");
    let responses = r.counter("http.responses");
    let codes = r.status_codes();
    if codes.is_empty() {
        out.push_str("<p class=\"note\">No response was received.</p>\n</section>\n");
        return;
    }
    out.push_str(
        "<div class=\"scroll\"><table class=\"num sortable\" id=\"codes-table\"><thead><tr><th>Code</th><th>Count</th>\
         <th>Share</th><th data-type=\"text\">By endpoint</th></tr></thead>\n<tbody>\n",
    );
    for (code, n) in codes {
        let key = code.to_string();
        let by: Vec<String> = r
            .endpoints
            .iter()
            .filter_map(|e| {
                e.codes
                    .get(&key)
                    .filter(|&&c| c > 0)
                    .map(|c| format!("<span class=\"by\">{} <b>{}</b></span>", esc(&e.name), int(*c)))
            })
            .collect();
        let class = match code {
            200..=399 => "",
            400..=499 => "warn-text",
            _ => "bad",
        };
        let _ = writeln!(
            out,
            "<tr><td data-v=\"{code}\" class=\"{class}\">{code}</td><td data-v=\"{n}\">{}</td><td data-v=\"{}\">{}</td>\
             <td class=\"name\">{}</td></tr>",
            int(n),
            sort_key(share(n, responses)),
            pct(share(n, responses)),
            by.join(" "),
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

fn errors(out: &mut String, r: &Report) {
    out.push_str("<section id=\"errors\">\n<h2>Errors</h2>\n");
    if r.errors.is_empty() {
        out.push_str("<p class=\"note good\">No errors.</p>\n</section>\n");
        return;
    }
    let total = r.counter("errors");
    let requests = r.counter("http.requests");
    let mut kinds: BTreeMap<&str, u64> = BTreeMap::new();
    for e in &r.errors {
        *kinds.entry(e.kind.as_str()).or_default() += e.count;
    }
    let _ = write!(out, "<p><b>{}</b> errors ({} of requests):", int(total), pct(share(total, requests)));
    for (k, n) in kinds {
        let _ = write!(out, " <span class=\"chip\">{} {}</span>", esc(k), int(n));
    }
    out.push_str("</p>\n");
    let mut errs: Vec<_> = r.errors.iter().collect();
    errs.sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));
    out.push_str(
        "<div class=\"scroll\"><table class=\"num sortable\" id=\"errors-table\"><thead><tr><th data-type=\"text\">Kind</th>\
         <th data-type=\"text\">Endpoint</th><th>Count</th><th data-type=\"text\">First message</th></tr></thead>\n<tbody>\n",
    );
    for e in errs {
        let _ = writeln!(
            out,
            "<tr><td class=\"name\">{}</td><td class=\"name\">{}</td><td data-v=\"{}\">{}</td><td class=\"msg\"><code>{}</code></td></tr>",
            esc(e.kind.as_str()),
            e.endpoint.as_deref().map_or_else(|| "<i>(none)</i>".to_owned(), esc),
            e.count,
            int(e.count),
            esc(&e.first_message),
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

/// Position of an expectation kind in report order: the known kinds first, then others by name.
fn kind_order(kind: &str) -> (usize, &str) {
    (EXPECT_KINDS.iter().position(|k| *k == kind).unwrap_or(EXPECT_KINDS.len()), kind)
}

fn expectations(out: &mut String, r: &Report) {
    let mut rows = String::new();
    for e in &r.endpoints {
        let x = &e.expectations;
        let mut kinds: Vec<&str> =
            x.ok_by_kind.keys().chain(x.failed_by_kind.keys()).map(String::as_str).collect();
        kinds.sort_unstable_by_key(|k| kind_order(k));
        kinds.dedup();
        for kind in kinds {
            let n = |m: &BTreeMap<String, u64>| m.get(kind).copied().unwrap_or(0);
            let (ok, failed) = (n(&x.ok_by_kind), n(&x.failed_by_kind));
            let _ = writeln!(
                rows,
                "<tr><td class=\"name\">{}</td><td class=\"name\">{}</td><td data-v=\"{ok}\">{}</td>\
                 <td data-v=\"{failed}\" class=\"{}\">{}</td></tr>",
                esc(&e.name),
                esc(kind),
                int(ok),
                if failed > 0 { "bad" } else { "" },
                int(failed),
            );
        }
    }
    if rows.is_empty() {
        return;
    }
    let _ = write!(
        out,
        "<section id=\"expectations\">\n<h2>Expectations</h2>\n<div class=\"scroll\"><table class=\"num sortable compact\">\
         <thead><tr><th data-type=\"text\">Endpoint</th><th data-type=\"text\">Kind</th><th>OK</th><th>Failed</th></tr>\
         </thead>\n<tbody>\n{rows}</tbody></table></div>\n</section>\n"
    );
}

fn vusers(out: &mut String, r: &Report) {
    out.push_str("<section id=\"vusers\">\n<h2>Virtual users and generator</h2>\n<dl class=\"meta\">\n");
    let mut item = |k: &str, v: String| {
        let _ = writeln!(out, "<div><dt>{k}</dt><dd>{v}</dd></div>");
    };
    let by_name: Vec<String> = r
        .aggregate
        .counters
        .iter()
        .filter_map(|(k, n)| Some(format!("{} {}", esc(k.strip_prefix("vusers.created_by_name.")?), int(*n))))
        .collect();
    let created = int(r.counter("vusers.created"));
    item(
        "Created",
        if by_name.is_empty() {
            created
        } else {
            format!("{created} <small>({})</small>", by_name.join(", "))
        },
    );
    item("Completed", int(r.counter("vusers.completed")));
    let failed = r.counter("vusers.failed");
    item("Failed", if failed > 0 { format!("<b class=\"bad\">{}</b>", int(failed)) } else { "0".into() });
    item("Skipped (maxVusers)", int(r.counter("vusers.skipped")));
    item("Late iterations", int(r.counter(ITERATIONS_LATE)));
    item("Dropped requests", int(r.counter(REQUESTS_DROPPED)));
    if let Some(s) = r.summary("vusers.session_length").filter(|s| s.count > 0) {
        item(
            "Session length",
            format!(
                "median {} ms, p95 {} ms, max {} ms",
                format::ms(s.median),
                format::ms(s.p95),
                format::ms(s.max)
            ),
        );
    }
    if let Some(s) = r.summary("schedule.lag").filter(|s| s.count > 0) {
        item("Schedule lag", format!("p99 {} ms, max {} ms", format::ms(s.p99), format::ms(s.max)));
    }
    if let Some(g) = &r.generator {
        let p = |v: f64| if v.is_finite() { format!("{v:.1}%") } else { "-".to_owned() };
        item(
            "Generator CPU",
            format!("mean {}, max {} <small>(of all cores)</small>", p(g.cpu_mean), p(g.cpu_max)),
        );
    }
    out.push_str("</dl>\n</section>\n");
}

fn footer(out: &mut String, r: &Report) {
    let _ = writeln!(
        out,
        "<footer>Generated by hornet {} from a <code>hornet-report/1</code> report. Charts drawn with uPlot 1.6.32 \
         (MIT License, Copyright (c) 2022 Leon Sorokin), embedded in this file.</footer>",
        esc(&r.hornet_version)
    );
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn escaping() {
        assert_eq!(esc("<a href=\"x\">'&'</a>"), "&lt;a href=&quot;x&quot;&gt;&#39;&amp;&#39;&lt;/a&gt;");
        assert_eq!(esc("a\x1b[31mb\nc"), "a [31mb\nc");
        let v = json!({"s": "</script><!--<script>&"});
        let s = script_json(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'), "{s}");
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
    }

    #[test]
    fn vendored_and_own_assets_cannot_close_their_elements() {
        for (name, text) in [
            ("uPlot js", UPLOT_JS),
            ("uPlot css", UPLOT_CSS),
            ("report js", REPORT_JS),
            ("report css", REPORT_CSS),
        ] {
            let lower = text.to_ascii_lowercase();
            assert!(
                !lower.contains("</script") && !lower.contains("</style") && !lower.contains("<!--"),
                "{name}"
            );
        }
        assert!(UPLOT_JS.starts_with("/*! https://github.com/leeoniya/uPlot (v1.6.32) */"));
        assert!(UPLOT_LICENSE.contains("MIT"));
    }

    #[test]
    fn numbers_are_compact() {
        assert_eq!(num(1.23456), json!(1.235));
        assert_eq!(num(5.0), json!(5));
        assert_eq!(num(f64::NAN), Value::Null);
        assert_eq!(num(-0.0004), json!(0));
        assert_eq!(int(1_234_567), "1\u{202f}234\u{202f}567");
        assert_eq!(int(999), "999");
        assert_eq!(percentile_label(99.9), "99.9");
        assert_eq!(percentile_label(50.0), "50");
        assert_eq!(pct(0.5), "0.50%");
        assert_eq!(utc("2026-01-01T00:00:00.000Z"), "2026-01-01 00:00:00.000 UTC");
        assert_eq!(utc("garbage"), "garbage");
    }

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
