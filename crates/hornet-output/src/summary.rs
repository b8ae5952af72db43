//! The end-of-run summary, rendered from a [`Report`] alone (so `hornet report` can re-render a
//! saved run exactly as it was shown).

use std::fmt::Write as _;

use comfy_table::presets::ASCII_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use hornet_metrics::report::{REQUEST_RATE, RESPONSE_TIME};
use hornet_metrics::{Report, Summary};

use crate::format;

/// Schedule-lag p99 (ms) above which the summary warns that the generator itself was saturated.
pub const LAG_WARNING_MS: f64 = 10.0;

/// Longest first error message shown, in characters.
const MAX_MESSAGE: usize = 100;

/// Longest endpoint or scenario name shown, in characters.
const MAX_NAME: usize = 60;

/// The timing-breakdown metrics, in the order of a request's life.
const BREAKDOWN: [(&str, &str); 5] = [
    ("http.dns", "dns"),
    ("http.connect", "connect"),
    ("http.tls", "tls"),
    ("http.wait", "wait (TTFB)"),
    ("http.receive", "receive"),
];

/// The end-of-run summary: header, per-endpoint table with a Total row from the aggregate, status
/// codes, errors, virtual users, timing breakdown and schedule lag (with a warning when the
/// generator was saturated). Ends with a newline.
pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    header(&mut out, report);
    endpoints(&mut out, report);
    status_codes(&mut out, report);
    errors(&mut out, report);
    vusers(&mut out, report);
    breakdown(&mut out, report);
    lag(&mut out, report);
    out
}

/// A table in the ASCII preset with the given header; columns from `numeric_from` on are
/// right-aligned.
fn table(header: &[&str], rows: Vec<Vec<String>>, numeric_from: usize) -> Table {
    let mut t = Table::new();
    t.load_style(ASCII_FULL_CONDENSED).set_header(header.to_vec());
    for row in rows {
        t.add_row(row);
    }
    for i in numeric_from..header.len() {
        if let Some(c) = t.column_mut(i) {
            c.set_cell_alignment(CellAlignment::Right);
        }
    }
    t
}

fn header(out: &mut String, r: &Report) {
    let run = &r.run;
    let _ = writeln!(out, "hornet {} summary", r.hornet_version);
    let opt = |v: &Option<String>| v.as_deref().map_or_else(|| "-".to_owned(), |s| format::one_line(s, 200));
    let _ = writeln!(out, "  script:    {}", opt(&run.script));
    let _ = writeln!(out, "  target:    {}", opt(&run.target));
    let _ = writeln!(out, "  started:   {}", format::one_line(&run.started_at, 64));
    let _ = writeln!(out, "  duration:  {}", format::seconds(run.duration_s));
    let _ = writeln!(out, "  seed:      {}", run.seed);
    let _ = writeln!(
        out,
        "  data:      {} received, {} sent",
        format::bytes(r.counter("http.downloaded_bytes") as f64),
        format::bytes(r.counter("http.uploaded_bytes") as f64)
    );
    if run.interrupted {
        let _ =
            writeln!(out, "  INTERRUPTED: the run was stopped early; figures cover only the part that ran.");
    }
}

/// One row of the endpoint table.
fn endpoint_row(
    name: &str,
    requests: u64,
    failures: u64,
    rps: f64,
    s: &Summary,
    avg_size: String,
) -> Vec<String> {
    let lat = |v: f64| if s.count == 0 { "-".to_owned() } else { format::ms(v) };
    vec![
        format::one_line(name, MAX_NAME),
        requests.to_string(),
        failures.to_string(),
        format::rate(rps),
        lat(s.min),
        lat(s.median),
        lat(s.p90),
        lat(s.p95),
        lat(s.p99),
        lat(s.max),
        lat(s.mean),
        avg_size,
    ]
}

fn avg_size(bytes: u64, responses: u64) -> String {
    if responses == 0 { "-".to_owned() } else { format::bytes(bytes as f64 / responses as f64) }
}

fn endpoints(out: &mut String, r: &Report) {
    let secs = r.run.duration_s;
    let per_sec = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    let mut rows: Vec<Vec<String>> = r
        .endpoints
        .iter()
        .map(|e| {
            endpoint_row(
                &e.name,
                e.requests,
                e.failures,
                per_sec(e.requests),
                &e.summary,
                avg_size(e.bytes_received, e.responses),
            )
        })
        .collect();
    // The Total row comes from the aggregate (merged histograms, all errors), not from the rows.
    let total = r.summary(RESPONSE_TIME).copied().unwrap_or_default();
    rows.push(endpoint_row(
        "Total",
        r.counter("http.requests"),
        r.counter("errors"),
        r.rate(REQUEST_RATE),
        &total,
        avg_size(r.counter("http.downloaded_bytes"), r.counter("http.responses")),
    ));
    let header = [
        "Endpoint", "Requests", "Failures", "RPS", "Min", "Median", "p90", "p95", "p99", "Max", "Mean",
        "Avg size",
    ];
    let _ = writeln!(out, "\nRequests by endpoint (times in ms, issued to last byte)");
    let _ = writeln!(out, "{}", table(&header, rows, 1));
}

fn status_codes(out: &mut String, r: &Report) {
    let responses = r.counter("http.responses");
    let mut codes: Vec<(u16, u64)> = r
        .aggregate
        .counters
        .iter()
        .filter_map(|(k, &n)| Some((k.strip_prefix("http.codes.")?.parse().ok()?, n)))
        .collect();
    if codes.is_empty() {
        return;
    }
    codes.sort_unstable();
    let rows =
        codes.into_iter().map(|(c, n)| vec![c.to_string(), n.to_string(), format::percent(n, responses)]);
    let _ = writeln!(out, "\nStatus codes");
    let _ = writeln!(out, "{}", table(&["Code", "Count", "Share"], rows.collect(), 1));
}

fn errors(out: &mut String, r: &Report) {
    if r.errors.is_empty() {
        return;
    }
    let mut errs: Vec<_> = r.errors.iter().collect();
    errs.sort_by(|a, b| b.count.cmp(&a.count).then(a.kind.cmp(&b.kind)));
    let rows = errs
        .into_iter()
        .map(|e| {
            vec![
                e.kind.to_string(),
                e.endpoint.as_deref().map_or_else(|| "-".to_owned(), |n| format::one_line(n, MAX_NAME)),
                e.count.to_string(),
                format::one_line(&e.first_message, MAX_MESSAGE),
            ]
        })
        .collect();
    let total = r.counter("errors");
    let requests = r.counter("http.requests");
    let _ = writeln!(out, "\nErrors: {total} ({} of requests)", format::percent(total, requests));
    let mut t = table(&["Kind", "Endpoint", "Count", "First message"], rows, 2);
    if let Some(c) = t.column_mut(3) {
        c.set_cell_alignment(CellAlignment::Left);
    }
    let _ = writeln!(out, "{t}");
}

fn vusers(out: &mut String, r: &Report) {
    let by_name: Vec<String> = r
        .aggregate
        .counters
        .iter()
        .filter_map(|(k, n)| {
            Some(format!("{} {n}", format::one_line(k.strip_prefix("vusers.created_by_name.")?, MAX_NAME)))
        })
        .collect();
    let by_name = if by_name.is_empty() { String::new() } else { format!(" ({})", by_name.join(", ")) };
    let _ = writeln!(out, "\nVirtual users");
    let _ = writeln!(out, "  created:   {}{by_name}", r.counter("vusers.created"));
    let _ = writeln!(out, "  completed: {}", r.counter("vusers.completed"));
    let _ = writeln!(out, "  failed:    {}", r.counter("vusers.failed"));
    let _ = writeln!(out, "  skipped:   {} (maxVusers reached)", r.counter("vusers.skipped"));
    if let Some(s) = r.summary("vusers.session_length").filter(|s| s.count > 0) {
        let _ = writeln!(
            out,
            "  session:   median {} ms, p95 {} ms, max {} ms",
            format::ms(s.median),
            format::ms(s.p95),
            format::ms(s.max)
        );
    }
}

fn breakdown(out: &mut String, r: &Report) {
    let rows: Vec<Vec<String>> = BREAKDOWN
        .iter()
        .filter_map(|&(key, label)| {
            let s = r.summary(key).filter(|s| s.count > 0)?;
            Some(vec![
                label.to_owned(),
                s.count.to_string(),
                format::ms(s.p50),
                format::ms(s.p99),
                format::ms(s.max),
            ])
        })
        .collect();
    if rows.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nTiming breakdown (ms; dns/connect/tls only on new connections)");
    let _ = writeln!(out, "{}", table(&["Phase", "Count", "p50", "p99", "Max"], rows, 1));
}

fn lag(out: &mut String, r: &Report) {
    let Some(s) = r.summary("schedule.lag").filter(|s| s.count > 0) else { return };
    let _ = writeln!(
        out,
        "\nSchedule lag (actual - intended start of {} arrivals): p99 {} ms, max {} ms",
        s.count,
        format::ms(s.p99),
        format::ms(s.max)
    );
    if s.p99 > LAG_WARNING_MS {
        let _ = writeln!(
            out,
            "WARNING: schedule lag p99 is {} ms (> {LAG_WARNING_MS} ms): the load generator itself was \
             saturated, so arrivals started late and the latency figures above are unreliable. \
             Use more CPU or workers, or lower the load.",
            format::ms(s.p99)
        );
    }
}
