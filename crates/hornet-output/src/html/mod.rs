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

mod data;
mod sections;

use std::fmt::Write as _;
use std::io;
use std::path::Path;
use std::time::Duration;

use hornet_metrics::{Report, Summary};
use serde_json::Value;

use crate::assets::{REPORT_CSS, REPORT_JS, UPLOT_CSS, UPLOT_JS, UPLOT_LICENSE};
use crate::escape::html as html_escape;
use crate::format;
use data::View;
use sections::*;

/// Installed before anything else runs, so the self-check sees every error: `window.onerror`, a
/// `console.error` wrapper and unhandled promise rejections, all into `window.__hornetErrors`.
/// (Every page [`head`] starts has it.)
const ERROR_TRAP_JS: &str = "window.__hornetErrors=[];\
window.onerror=function(m,s,l,c){window.__hornetErrors.push(String(m)+' ('+s+':'+l+':'+c+')');};\
window.addEventListener('unhandledrejection',function(e){window.__hornetErrors.push('unhandled rejection: '+e.reason);});\
(function(){var ce=console.error;console.error=function(){\
window.__hornetErrors.push('console.error: '+Array.prototype.map.call(arguments,String).join(' '));\
return ce.apply(console,arguments);};})();";

/// Writes the start of a hornet HTML page, up to and including `<body>`: the title, the
/// generator's version, the error trap, uPlot's and the report's stylesheets. The report and the
/// capacity page share it.
pub fn head(out: &mut String, hornet_version: &str, title: &str) {
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"generator\" content=\"hornet {}\">\n<title>{}</title>\n\
         <script>{ERROR_TRAP_JS}</script>\n<style>{UPLOT_CSS}\n{REPORT_CSS}</style>\n</head>\n<body>\n",
        html_escape(hornet_version),
        html_escape(title),
    );
}

/// Renders the whole report as one self-contained HTML page.
pub fn render_html(report: &Report) -> String {
    let view = View::new(report);
    let mut out = String::with_capacity(UPLOT_JS.len() + 256 * 1024);
    let title = match &report.run.script {
        Some(s) => format!("hornet report: {s}"),
        None => "hornet report".to_owned(),
    };
    head(&mut out, &report.hornet_version, &title);
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
    processor_metrics(&mut out, report);
    websocket(&mut out, report);
    status_codes(&mut out, report);
    errors(&mut out, report);
    traced(&mut out, report);
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

/// Writes [`render_html`]'s page to `path` with [`crate::file::write_file`]: atomically for a new
/// path or a regular file (an existing file is left as it was on error), in place for a device,
/// FIFO or symbolic link, to standard output for `-`.
pub fn write_html(report: &Report, path: &Path) -> io::Result<()> {
    crate::file::write_file(path, render_html(report).as_bytes())
}

// Number formatting for the tables and figures.

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

/// A value in milliseconds for a table cell (`-` for an empty summary).
fn ms_cell(s: &Summary, v: f64) -> String {
    if s.count == 0 { "-".to_owned() } else { format::ms(v) }
}

/// A sort key for a numeric table cell.
fn sort_key(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { "-1".to_owned() }
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

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::data::num;
    use super::*;

    #[test]
    fn script_json_cannot_close_its_element() {
        let v = json!({"s": "</script><!--<script>&"});
        let s = script_json(&v);
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'), "{s}");
        assert_eq!(serde_json::from_str::<Value>(&s).unwrap(), v);
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
}
