//! The sections of the HTML report, in page order: navigation, header, warnings, verdicts (checks,
//! apdex, expectation totals), key figures, the chart sections, timing breakdown, endpoints,
//! processor metrics, WebSocket, status codes, errors, expectations, virtual users and the footer. Every string from
//! the report is HTML-escaped.
//!
//! Over 600 lines for one concern: each section is one function writing one part of the page,
//! all of the same shape, and splitting them would only scatter the page's order.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use hornet_metrics::generator::run_lag_warning;
use hornet_metrics::report::{
    EXPECT_FAILED, EXPECT_OK, ITERATIONS_LATE, REQUEST_RATE, REQUESTS_DROPPED, RESPONSE_TIME,
    RESPONSE_TIME_CORRECTED, TIMING_BREAKDOWN, WS_CONNECT_TIME, WS_RTT,
};
use hornet_metrics::{ApdexRating, Protocol, Report, Summary, is_lag_warning};
use serde_json::Value;

use super::data::{ChartSlot, View};
use super::{end_time, int, ms_cell, pct, percentile_label, share, sort_key, utc};
use crate::escape::html as html_escape;
use crate::format::{self, per_sec};

pub(super) fn nav(out: &mut String, v: &View) {
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
    if v.processor_metrics {
        link("processor-metrics", "Processor metrics");
    }
    if v.websocket {
        link("websocket", "WebSocket");
    }
    link("codes", "Status codes");
    link("errors", "Errors");
    if v.traced {
        link("traces", "Slowest requests");
    }
    link("vusers", "Users &amp; generator");
    out.push_str("</nav>\n");
}

pub(super) fn header(out: &mut String, r: &Report) {
    let run = &r.run;
    let title = run.script.as_deref().unwrap_or("(no script)");
    let _ = write!(out, "<header id=\"header\">\n<h1>{}</h1>\n", html_escape(title));
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
    item("Script", run.script.as_deref().map_or_else(|| "-".to_owned(), html_escape));
    item(
        "Target",
        run.target.as_deref().map_or_else(|| "-".to_owned(), |t| format!("<code>{}</code>", html_escape(t))),
    );
    item("Started", html_escape(&utc(&run.started_at)));
    item("Ended", end_time(r).map_or_else(|| "-".to_owned(), |e| html_escape(&e)));
    item("Duration", html_escape(&format::seconds(run.duration_s)));
    item("Seed", run.seed.to_string());
    item("hornet", html_escape(&r.hornet_version));
    if let Some(host) = &run.host {
        item("Generator host", html_escape(host));
    }
    item("Interrupted", if run.interrupted { "<b class=\"bad\">yes</b>".into() } else { "no".into() });
    item("Command", format!("<code>{}</code>", html_escape(&run.command)));
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
            html_escape(&phases)
        );
    }
    out.push_str("</header>\n");
}

/// The report's warnings, plus the run-wide schedule-lag warning for reports that predate
/// warnings (as the summary does).
pub(super) fn warnings(out: &mut String, r: &Report) {
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
        let _ = writeln!(out, "<li>{}</li>", html_escape(w));
    }
    out.push_str(
        "</ul>\n<p class=\"note\">The load generator itself limited or delayed the load: give hornet more \
         CPU or workers, or lower the load.</p>\n</section>\n",
    );
}

pub(super) fn verdicts(out: &mut String, r: &Report) {
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
                format!(" <span class=\"detail\">{}</span>", html_escape(&c.detail))
            };
            let _ = writeln!(
                out,
                "<li class=\"check {class}\"><span class=\"pill {class}\">{label}</span> <code>{}</code>{detail}</li>",
                html_escape(&c.name)
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
        let _ = writeln!(out, "<p class=\"big\">no responses</p><p>T = {} ms</p></div>", html_escape(&t));
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
        html_escape(&t),
        share(a.satisfied, total),
        share(a.tolerated, total),
        share(a.frustrated, total),
        int(a.satisfied),
        int(a.tolerated),
        int(a.frustrated),
    );
}

pub(super) fn key_figures(out: &mut String, r: &Report) {
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
    tile("received", html_escape(&format::bytes(r.counter("http.downloaded_bytes") as f64)), "");
    tile("sent", html_escape(&format::bytes(r.counter("http.uploaded_bytes") as f64)), "");
    out.push_str("</section>\n");
}

fn chart_slots(out: &mut String, slots: &[ChartSlot]) {
    out.push_str("<div class=\"charts\">\n");
    for s in slots {
        let _ = writeln!(
            out,
            "<figure class=\"chart-box\"><h3>{}</h3><div class=\"chart\" data-chart=\"{}\"></div>\
             <figcaption>{}</figcaption></figure>",
            html_escape(s.title),
            s.key,
            html_escape(&s.note)
        );
    }
    out.push_str("</div>\n");
}

pub(super) fn timeline(out: &mut String, v: &View) {
    out.push_str("<section id=\"timeline\">\n<h2>Over time</h2>\n");
    if v.timeline_charts.is_empty() {
        out.push_str("<p class=\"note\">The report has no timeline.</p>\n");
    } else {
        chart_slots(out, &v.timeline_charts);
    }
    out.push_str("</section>\n");
}

pub(super) fn distribution(out: &mut String, r: &Report, v: &View) {
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

pub(super) fn breakdown(out: &mut String, r: &Report) {
    let rows: Vec<(&str, &Summary)> = TIMING_BREAKDOWN
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
            html_escape(label),
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
        html_escape(name),
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
            let _ = write!(out, "<td data-v=\"{}\">{}</td>", sort_key(b), html_escape(&format::bytes(b)));
        }
        None => out.push_str("<td data-v=\"-1\">-</td>"),
    }
    out.push_str("</tr>\n");
}

pub(super) fn endpoints(out: &mut String, r: &Report) {
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
        r.failures(),
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
            let _ = write!(out, "<tr><td class=\"name\">{}</td>", html_escape(name));
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

/// The metrics a processor reported with `events.emit` (every name outside hornet's own
/// families), when there are any: one table of counters and rates, one of histograms, under the
/// names the JSON report and `ensure` use.
pub(super) fn processor_metrics(out: &mut String, r: &Report) {
    let metrics = r.processor_metrics();
    let secs = r.run.duration_s;
    let mut totals = String::new();
    for (name, n) in &metrics.counters {
        let _ = writeln!(
            totals,
            "<tr><td class=\"name\">{}</td><td class=\"name\">counter</td><td data-v=\"{n}\">{}</td>\
             <td data-v=\"{}\">{}</td></tr>",
            html_escape(name),
            int(*n),
            per_sec(*n, secs),
            format::rate(per_sec(*n, secs)),
        );
    }
    for (name, v) in &metrics.rates {
        let _ = writeln!(
            totals,
            "<tr><td class=\"name\">{}</td><td class=\"name\">rate</td><td data-v=\"-1\">-</td>\
             <td data-v=\"{v}\">{}</td></tr>",
            html_escape(name),
            format::rate(*v),
        );
    }
    let mut histograms = String::new();
    for (name, s) in &metrics.histograms {
        let cell = |v: f64| format!("<td data-v=\"{v}\">{v:.2}</td>");
        let _ = writeln!(
            histograms,
            "<tr><td class=\"name\">{}</td><td data-v=\"{}\">{}</td>{}{}{}{}{}{}{}</tr>",
            html_escape(name),
            s.count,
            int(s.count),
            cell(s.min),
            cell(s.median),
            cell(s.p90),
            cell(s.p95),
            cell(s.p99),
            cell(s.max),
            cell(s.mean),
        );
    }
    if totals.is_empty() && histograms.is_empty() {
        return;
    }
    out.push_str(
        "<section id=\"processor-metrics\">\n<h2>Processor metrics</h2>\n<p class=\"note\">Reported by the \
         processor with <code>events.emit</code>; histograms in the unit the processor gave.</p>\n",
    );
    if !totals.is_empty() {
        let _ = write!(
            out,
            "<div class=\"scroll\"><table class=\"num sortable compact\" id=\"processor-counters\"><thead><tr>\
             <th data-type=\"text\">Name</th><th data-type=\"text\">Kind</th><th>Count</th><th>per s</th></tr>\
             </thead>\n<tbody>\n{totals}</tbody></table></div>\n"
        );
    }
    if !histograms.is_empty() {
        let _ = write!(
            out,
            "<div class=\"scroll\"><table class=\"num sortable\" id=\"processor-histograms\"><thead><tr>\
             <th data-type=\"text\">Histogram</th><th>Count</th><th>Min</th><th>Median</th><th>p90</th><th>p95</th>\
             <th>p99</th><th>Max</th><th>Mean</th></tr></thead>\n<tbody>\n{histograms}</tbody></table></div>\n"
        );
    }
    out.push_str("</section>\n");
}

/// The WebSocket section, when the run had WebSocket steps: connection and message figures, then
/// one row per step that waits and the run-wide connect-time and round-trip rows.
pub(super) fn websocket(out: &mut String, r: &Report) {
    let Some(rtt) = r.summary(WS_RTT).copied() else { return };
    let secs = r.run.duration_s;
    let closes: Vec<String> = r
        .aggregate
        .counters
        .iter()
        .filter_map(|(k, n)| {
            k.strip_prefix("websocket.close.").map(|code| format!("{} × {}", html_escape(code), int(*n)))
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
        html_escape(&format::bytes(r.counter("websocket.bytes_sent") as f64)),
        int(received),
        format::rate(per_sec(received, secs)),
        html_escape(&format::bytes(r.counter("websocket.bytes_received") as f64)),
    );
    protocol_rows(out, r, Protocol::Ws, secs);
    out.push_str("</tbody>\n<tfoot>\n");
    let connect = r.summary(WS_CONNECT_TIME).copied().unwrap_or_default();
    endpoint_row(out, WS_CONNECT_TIME, connect.count, 0, per_sec(connect.count, secs), &connect, None);
    endpoint_row(out, WS_RTT, rtt.count, 0, per_sec(rtt.count, secs), &rtt, None);
    out.push_str("</tfoot></table></div>\n</section>\n");
}

pub(super) fn status_codes(out: &mut String, r: &Report) {
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
        let by: Vec<String> =
            r.endpoints
                .iter()
                .filter_map(|e| {
                    e.codes.get(&key).filter(|&&c| c > 0).map(|c| {
                        format!("<span class=\"by\">{} <b>{}</b></span>", html_escape(&e.name), int(*c))
                    })
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

pub(super) fn errors(out: &mut String, r: &Report) {
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
        let _ = write!(out, " <span class=\"chip\">{} {}</span>", html_escape(k), int(n));
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
            html_escape(e.kind.as_str()),
            e.endpoint.as_deref().map_or_else(|| "<i>(none)</i>".to_owned(), html_escape),
            e.count,
            int(e.count),
            html_escape(&e.first_message),
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

/// With tracing: every traced request the report kept (the slowest and first failed per
/// endpoint), slowest first, with its trace id, a link with `--trace-link`.
pub(super) fn traced(out: &mut String, r: &Report) {
    if r.traced_requests.is_empty() {
        return;
    }
    let link = r.run.trace_link.as_deref();
    out.push_str(
        "<section id=\"traces\">\n<h2>Slowest requests</h2>\n<p class=\"note\">Per endpoint, the 5 slowest \
         requests and the first 5 failed ones, with the trace id each was sent with (its <code>traceparent</code>): \
         look it up in the tracing backend to see what the server did.</p>\n\
         <div class=\"scroll\"><table class=\"num sortable\" id=\"traces-table\"><thead><tr>\
         <th data-type=\"text\">Endpoint</th><th>Latency (ms)</th><th data-type=\"text\">Status</th><th>At (s)</th>\
         <th data-type=\"text\">Kept as</th><th data-type=\"text\">Sampled</th><th data-type=\"text\">Trace id</th>\
         </tr></thead>\n<tbody>\n",
    );
    let mut rows: Vec<_> = r.traced_requests.iter().collect();
    rows.sort_by(|a, b| b.latency_ms.total_cmp(&a.latency_ms));
    for t in rows {
        let status = t
            .status
            .map_or_else(|| t.error.map_or_else(|| "-".to_owned(), |e| e.to_string()), |s| s.to_string());
        let kept = match (t.slowest, t.failed) {
            (true, true) => "slowest, failed",
            (true, false) => "slowest",
            _ => "failed",
        };
        let id = match t.link(link) {
            Some(url) => format!(
                "<a href=\"{}\" rel=\"noopener\" target=\"_blank\"><code>{}</code></a>",
                html_escape(&url),
                html_escape(&t.trace_id)
            ),
            None => format!("<code>{}</code>", html_escape(&t.trace_id)),
        };
        let _ = writeln!(
            out,
            "<tr><td class=\"name\">{}</td><td data-v=\"{}\">{}</td><td class=\"{}\">{}</td><td data-v=\"{}\">{:.3}</td><td>{kept}</td><td>{}</td><td class=\"name\">{id}</td></tr>",
            html_escape(&t.endpoint),
            sort_key(t.latency_ms),
            format::ms(t.latency_ms),
            if t.failed { "bad" } else { "" },
            html_escape(&status),
            sort_key(t.t_s),
            t.t_s,
            if t.sampled { "yes" } else { "no" },
        );
    }
    out.push_str("</tbody></table></div>\n</section>\n");
}

pub(super) fn expectations(out: &mut String, r: &Report) {
    let mut rows = String::new();
    for e in &r.endpoints {
        for (kind, ok, failed) in e.expectations.by_kind() {
            let _ = writeln!(
                rows,
                "<tr><td class=\"name\">{}</td><td class=\"name\">{}</td><td data-v=\"{ok}\">{}</td>\
                 <td data-v=\"{failed}\" class=\"{}\">{}</td></tr>",
                html_escape(&e.name),
                html_escape(kind),
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

pub(super) fn vusers(out: &mut String, r: &Report) {
    out.push_str("<section id=\"vusers\">\n<h2>Virtual users and generator</h2>\n<dl class=\"meta\">\n");
    let mut item = |k: &str, v: String| {
        let _ = writeln!(out, "<div><dt>{k}</dt><dd>{v}</dd></div>");
    };
    let by_name: Vec<String> = r
        .aggregate
        .counters
        .iter()
        .filter_map(|(k, n)| {
            Some(format!("{} {}", html_escape(k.strip_prefix("vusers.created_by_name.")?), int(*n)))
        })
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

pub(super) fn footer(out: &mut String, r: &Report) {
    let _ = writeln!(
        out,
        "<footer>Generated by hornet {} from a <code>hornet-report/1</code> report. Charts drawn with uPlot 1.6.32 \
         (MIT License, Copyright (c) 2022 Leon Sorokin), embedded in this file.</footer>",
        html_escape(&r.hornet_version)
    );
}
