//! The end-of-run summary, rendered from a [`Report`] alone (so `hornet report` can re-render a
//! saved run exactly as it was shown).

use std::fmt::Write as _;

use comfy_table::presets::ASCII_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};
use hornet_metrics::generator::run_lag_warning;
use hornet_metrics::report::{
    EXPECT_FAILED, EXPECT_OK, ITERATIONS_LATE, REQUEST_RATE, REQUESTS_DROPPED, RESPONSE_TIME,
    RESPONSE_TIME_CORRECTED,
};
use hornet_metrics::report::{TIMING_BREAKDOWN, WS_CONNECT_TIME, WS_RTT};
use hornet_metrics::{ApdexRating, Protocol, Report, Summary, TracedRequestReport, is_lag_warning};

use crate::format;

/// Schedule-lag p99 (ms) above which the summary warns that the generator itself was saturated
/// (strictly above). The same threshold as the live check, [`hornet_metrics::LAG_WARNING_MS`].
pub const LAG_WARNING_MS: f64 = hornet_metrics::LAG_WARNING_MS;

/// Longest warning shown, in characters.
const MAX_WARNING: usize = 300;

/// Longest first error message shown, in characters.
const MAX_MESSAGE: usize = 100;

/// Longest endpoint or scenario name shown, in characters.
const MAX_NAME: usize = 60;

/// Longest check name (a threshold or an expression) and longest check detail shown, in characters.
const MAX_CHECK: usize = 200;

/// The end-of-run summary: header, warnings (when any), per-endpoint table with a Total row from the
/// aggregate, the WebSocket section and the processor metrics (when any), the latency from intended
/// start (when it differs from the service time anywhere), status codes, errors, the slowest and
/// first failed requests with their trace ids (with tracing), expectations (when any were evaluated), virtual users (with late
/// iterations and dropped requests when any), timing breakdown, schedule lag and generator CPU,
/// apdex (when computed) and finally the checks (when any), ending with the verdict line. Ends
/// with a newline.
pub fn summary(report: &Report) -> String {
    let mut out = String::new();
    header(&mut out, report);
    warnings(&mut out, report);
    endpoints(&mut out, report);
    websocket(&mut out, report);
    processor_metrics(&mut out, report);
    corrected(&mut out, report);
    status_codes(&mut out, report);
    errors(&mut out, report);
    traced(&mut out, report);
    expectations(&mut out, report);
    vusers(&mut out, report);
    breakdown(&mut out, report);
    lag(&mut out, report);
    generator(&mut out, report);
    workers(&mut out, report);
    apdex(&mut out, report);
    checks(&mut out, report);
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

/// The report's warnings, plus the run-wide schedule-lag warning when the report has no lag warning
/// of its own (reports written before warnings existed).
fn warnings(out: &mut String, r: &Report) {
    let mut lines: Vec<String> = r.warnings.iter().map(|w| format::one_line(w, MAX_WARNING)).collect();
    let lag = r.summary("schedule.lag").filter(|s| s.count > 0 && s.p99 > LAG_WARNING_MS);
    if let Some(s) = lag
        && !r.warnings.iter().any(|w| is_lag_warning(w))
    {
        lines.push(run_lag_warning(s.p99));
    }
    if lines.is_empty() {
        return;
    }
    let _ = writeln!(out);
    for line in lines {
        let _ = writeln!(out, "WARNING: {line}");
    }
    let _ = writeln!(
        out,
        "  The load generator itself limited or delayed the load: give hornet more CPU or workers, \
         or lower the load."
    );
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

/// One table row per endpoint of `protocol`, in script order.
fn protocol_rows(r: &Report, protocol: Protocol, per_sec: impl Fn(u64) -> f64) -> Vec<Vec<String>> {
    r.endpoints
        .iter()
        .filter(|e| e.protocol == protocol)
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
        .collect()
}

fn endpoints(out: &mut String, r: &Report) {
    let http = |e: &&hornet_metrics::report::EndpointReport| e.protocol == Protocol::Http;
    if !r.endpoints.iter().any(|e| http(&e)) && r.endpoints.iter().any(|e| e.protocol == Protocol::Ws) {
        // A WebSocket-only run: its steps are shown in the WebSocket section.
        return;
    }
    let secs = r.run.duration_s;
    let per_sec = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    let mut rows = protocol_rows(r, Protocol::Http, per_sec);
    // The Total row comes from the aggregate (merged histograms, all errors), not from the rows.
    let total = r.summary(RESPONSE_TIME).copied().unwrap_or_default();
    rows.push(endpoint_row(
        "Total",
        r.counter("http.requests"),
        r.failures(),
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

/// The metrics a processor reported with `events.emit`, when there are any: counters and rates on
/// one line each, then one row per histogram.
fn processor_metrics(out: &mut String, r: &Report) {
    let metrics = r.processor_metrics();
    if metrics.is_empty() {
        return;
    }
    let counters: Vec<String> =
        metrics.counters.iter().map(|(k, n)| format!("{} {n}", format::one_line(k, MAX_NAME))).collect();
    let rates: Vec<String> = metrics
        .rates
        .iter()
        .map(|(k, v)| format!("{} {}/s", format::one_line(k, MAX_NAME), format::rate(*v)))
        .collect();
    let _ = writeln!(out, "\nProcessor metrics (events.emit)");
    if !counters.is_empty() {
        let _ = writeln!(out, "  counters: {}", counters.join(", "));
    }
    if !rates.is_empty() {
        let _ = writeln!(out, "  rates:    {}", rates.join(", "));
    }
    if metrics.histograms.is_empty() {
        return;
    }
    let number = |v: f64| format!("{v:.2}");
    let rows = metrics
        .histograms
        .into_iter()
        .map(|(name, s)| {
            vec![
                format::one_line(name, MAX_NAME),
                s.count.to_string(),
                number(s.min),
                number(s.median),
                number(s.p90),
                number(s.p95),
                number(s.p99),
                number(s.max),
                number(s.mean),
            ]
        })
        .collect();
    let header = ["Histogram", "Count", "Min", "Median", "p90", "p95", "p99", "Max", "Mean"];
    let _ = writeln!(out, "{}", table(&header, rows, 1));
}

/// The WebSocket section, when the run had WebSocket steps: connections and close codes, messages
/// and bytes both ways, then one row per step that waits (connect, send with a reply, wait) and
/// the run-wide connect-time and round-trip rows.
fn websocket(out: &mut String, r: &Report) {
    let Some(rtt) = r.summary(WS_RTT).copied() else { return };
    let secs = r.run.duration_s;
    let per_sec = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
    let closes: Vec<String> = r
        .aggregate
        .counters
        .iter()
        .filter_map(|(k, n)| k.strip_prefix("websocket.close.").map(|code| format!("{code} x{n}")))
        .collect();
    let closes = if closes.is_empty() { "-".to_owned() } else { closes.join(", ") };
    let (sent, received) = (r.counter("websocket.messages_sent"), r.counter("websocket.messages_received"));
    let _ = writeln!(out, "\nWebSocket (times in ms: connect, send to reply, or wait)");
    let _ = writeln!(
        out,
        "  connections: {} opened; closed by code: {closes}",
        r.counter("websocket.connections")
    );
    let _ = writeln!(
        out,
        "  messages:    {sent} sent ({}/s), {received} received ({}/s); {} sent, {} received",
        format::rate(per_sec(sent)),
        format::rate(per_sec(received)),
        format::bytes(r.counter("websocket.bytes_sent") as f64),
        format::bytes(r.counter("websocket.bytes_received") as f64),
    );
    let mut rows = protocol_rows(r, Protocol::Ws, per_sec);
    let connect = r.summary(WS_CONNECT_TIME).copied().unwrap_or_default();
    rows.push(endpoint_row(
        WS_CONNECT_TIME,
        connect.count,
        0,
        per_sec(connect.count),
        &connect,
        "-".to_owned(),
    ));
    rows.push(endpoint_row(WS_RTT, rtt.count, 0, per_sec(rtt.count), &rtt, "-".to_owned()));
    let header = [
        "Step", "Count", "Failures", "per s", "Min", "Median", "p90", "p95", "p99", "Max", "Mean", "Avg size",
    ];
    let _ = writeln!(out, "{}", table(&header, rows, 1));
}

/// The latency from intended start, when some request started later than intended.
fn corrected(out: &mut String, r: &Report) {
    if !r.any_corrected {
        return;
    }
    let row = |name: &str, s: &Summary| {
        let lat = |v: f64| if s.count == 0 { "-".to_owned() } else { format::ms(v) };
        vec![format::one_line(name, MAX_NAME), lat(s.p50), lat(s.p95), lat(s.p99), lat(s.max)]
    };
    let mut rows: Vec<Vec<String>> = r
        .endpoints
        .iter()
        .filter(|e| e.protocol == Protocol::Http)
        .map(|e| row(&e.name, &e.summary_corrected))
        .collect();
    rows.push(row("Total", &r.summary(RESPONSE_TIME_CORRECTED).copied().unwrap_or_default()));
    let _ = writeln!(out, "\nLatency from intended start (coordinated-omission corrected; ms)");
    let _ = writeln!(
        out,
        "  From each request's intended start (its arrival time, pacing slot or rate token) to its last \
         byte:\n  time spent waiting behind a slow server or a busy generator counts."
    );
    let _ = writeln!(out, "{}", table(&["Endpoint", "p50", "p95", "p99", "Max"], rows, 1));
}

fn status_codes(out: &mut String, r: &Report) {
    let responses = r.counter("http.responses");
    let codes = r.status_codes();
    if codes.is_empty() {
        return;
    }
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

/// Slowest and failed requests shown in the summary (the report keeps 5 of each per endpoint).
const TRACED_SHOWN: usize = 10;

/// With tracing: the slowest requests of the run and its first failed ones, with their trace ids
/// (links with `--trace-link`).
fn traced(out: &mut String, r: &Report) {
    if r.traced_requests.is_empty() {
        return;
    }
    let link = r.run.trace_link.as_deref();
    let row = |t: &TracedRequestReport| {
        vec![
            format::one_line(&t.endpoint, MAX_NAME),
            format!("{:.1}", t.latency_ms),
            t.status
                .map_or_else(|| t.error.map_or_else(|| "-".to_owned(), |e| e.to_string()), |s| s.to_string()),
            format!("{:.1}", t.t_s),
            if t.sampled { "yes" } else { "no" }.to_owned(),
            t.link(link).unwrap_or_else(|| t.trace_id.clone()),
        ]
    };
    let header = [
        "Endpoint",
        "Latency (ms)",
        "Status",
        "At (s)",
        "Sampled",
        if link.is_some() { "Trace" } else { "Trace id" },
    ];
    let mut slowest: Vec<&TracedRequestReport> = r.traced_requests.iter().filter(|t| t.slowest).collect();
    slowest.sort_by(|a, b| b.latency_ms.total_cmp(&a.latency_ms));
    if !slowest.is_empty() {
        let _ =
            writeln!(out, "\nSlowest requests (their trace ids; all in the JSON report's traced_requests)");
        let rows = slowest.into_iter().take(TRACED_SHOWN).map(row).collect();
        let _ = writeln!(out, "{}", table(&header, rows, 1));
    }
    let mut failed: Vec<&TracedRequestReport> = r.traced_requests.iter().filter(|t| t.failed).collect();
    failed.sort_by(|a, b| a.t_s.total_cmp(&b.t_s));
    if !failed.is_empty() {
        let _ = writeln!(out, "\nFirst failed requests");
        let rows = failed.into_iter().take(TRACED_SHOWN).map(row).collect();
        let _ = writeln!(out, "{}", table(&header, rows, 1));
    }
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
    let late = r.counter(ITERATIONS_LATE);
    if late > 0 {
        let _ = writeln!(
            out,
            "  late:      {late} paced iteration(s) started after their slot (the previous iteration overran \
             the pacing)"
        );
    }
    let dropped = r.counter(REQUESTS_DROPPED);
    if dropped > 0 {
        let _ = writeln!(
            out,
            "  dropped:   {dropped} request(s) never sent: a request-rate token found no free VU (the rate \
             was not reached)"
        );
    }
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
    let rows: Vec<Vec<String>> = TIMING_BREAKDOWN
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
        let _ = writeln!(out, "  (above {LAG_WARNING_MS} ms: see the warning at the top)");
    }
}

/// The workers of a distributed run: who ran which share, and how it ended.
fn workers(out: &mut String, r: &Report) {
    if r.workers.is_empty() {
        return;
    }
    let rows = r
        .workers
        .iter()
        .map(|w| {
            let name =
                if w.host.is_empty() { w.address.clone() } else { format!("{} ({})", w.host, w.address) };
            vec![
                w.index.to_string(),
                format::one_line(&name, 80),
                w.state.clone(),
                format!("{:.1}%", w.share * 100.0),
                w.requests.to_string(),
                w.cpu.map_or_else(|| "-".to_owned(), |c| format!("{c:.1}%")),
            ]
        })
        .collect();
    let _ = writeln!(out, "\nWorkers (each ran its share of the load; CPU of its latest second)");
    let _ = writeln!(out, "{}", table(&["#", "Worker", "State", "Share", "Requests", "CPU"], rows, 3));
}

fn generator(out: &mut String, r: &Report) {
    let Some(g) = &r.generator else { return };
    let pct = |v: f64| if v.is_finite() { format!("{v:.1}%") } else { "-".to_owned() };
    let _ = writeln!(
        out,
        "\nGenerator CPU (process CPU time / wall time / cores): mean {}, max {}",
        pct(g.cpu_mean),
        pct(g.cpu_max)
    );
}

fn expectations(out: &mut String, r: &Report) {
    let ok = r.counter(EXPECT_OK);
    let failed = r.counter(EXPECT_FAILED);
    let total = ok.saturating_add(failed);
    if total == 0 {
        return;
    }
    let mut rows = Vec::new();
    for e in &r.endpoints {
        for (kind, ok, failed) in e.expectations.by_kind() {
            rows.push(vec![
                format::one_line(&e.name, MAX_NAME),
                format::one_line(kind, MAX_NAME),
                ok.to_string(),
                failed.to_string(),
            ]);
        }
    }
    let _ = writeln!(out, "\nExpectations: {failed} of {total} failed ({})", format::percent(failed, total));
    if !rows.is_empty() {
        let _ = writeln!(out, "{}", table(&["Endpoint", "Kind", "OK", "Failed"], rows, 2));
    }
}

fn apdex(out: &mut String, r: &Report) {
    let Some(a) = &r.apdex else { return };
    // As configured: `500`, `250.5`.
    let t = if a.threshold_ms.is_finite() { a.threshold_ms.to_string() } else { "-".to_owned() };
    if a.rating == ApdexRating::NoSamples || a.total() == 0 {
        let _ = writeln!(out, "\nApdex (T = {t} ms): no responses");
        return;
    }
    let score = if a.score.is_finite() { format!("{:.2}", a.score) } else { "-".to_owned() };
    let _ = writeln!(
        out,
        "\nApdex (T = {t} ms): {score} {} ({} satisfied, {} tolerated, {} frustrated)",
        a.rating, a.satisfied, a.tolerated, a.frustrated
    );
}

fn checks(out: &mut String, r: &Report) {
    if r.checks.is_empty() {
        return;
    }
    let _ = writeln!(out, "\nChecks");
    let mut warnings = 0;
    for c in &r.checks {
        let label = match (c.ok, c.strict) {
            (true, _) => "ok:  ",
            (false, true) => "FAIL:",
            (false, false) => {
                warnings += 1;
                "warn:"
            }
        };
        let name = format::one_line(&c.name, MAX_CHECK);
        let detail = format::one_line(&c.detail, MAX_CHECK);
        if detail.is_empty() {
            let _ = writeln!(out, "  {label} {name}");
        } else {
            let _ = writeln!(out, "  {label} {name} ({detail})");
        }
    }
    let failed = r.failed_checks();
    let warned = match warnings {
        0 => String::new(),
        1 => " (1 warning)".to_owned(),
        n => format!(" ({n} warnings)"),
    };
    if failed == 0 {
        let _ = writeln!(out, "All checks passed{warned}");
    } else {
        let _ = writeln!(out, "{failed} check(s) failed{warned}");
    }
}
