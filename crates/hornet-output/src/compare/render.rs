//! The comparison rendered: [`render_text`], a plain-ASCII comfy-table with the endpoints found
//! in only one run and the result line, and [`render_html_section`], an HTML fragment for the HTML
//! report with every report-supplied string escaped.

use std::fmt::Write as _;

use comfy_table::presets::ASCII_FULL_CONDENSED;
use comfy_table::{CellAlignment, Table};

use super::{Comparison, Kind, MAX_NAME, MetricChange, Verdict, threshold_text};
use crate::escape::html_line;
use crate::format;

/// The change column: an arrow (`^` up, `v` down, `=` none) and the signed change.
fn change_text(m: &MetricChange) -> String {
    let arrow = if m.candidate > m.baseline {
        "^"
    } else if m.candidate < m.baseline {
        "v"
    } else {
        "="
    };
    let amount = if !m.change.is_finite() {
        "+inf".to_owned()
    } else if Kind::of(m.name) == Kind::ErrorRate {
        format!("{:+.2} pt", m.change * 100.0)
    } else {
        format!("{:+.1}%", m.change * 100.0)
    };
    format!("{arrow} {amount}")
}

/// The one-line result: how many endpoints regressed or improved.
fn result_line(c: &Comparison) -> (Verdict, String) {
    let names = |v: Verdict| -> Vec<String> {
        c.endpoints.iter().filter(|e| e.verdict == v).map(|e| format::one_line(&e.name, MAX_NAME)).collect()
    };
    let (worse, better) = (names(Verdict::Worse), names(Verdict::Better));
    let total = c.endpoints.len();
    if !worse.is_empty() {
        (Verdict::Worse, format!("WORSE: {} of {total} regressed ({})", worse.len(), worse.join(", ")))
    } else if !better.is_empty() {
        (Verdict::Better, format!("better: {} of {total} improved, none regressed", better.len()))
    } else {
        (Verdict::Same, "same: no significant change".to_owned())
    }
}

/// The comparison as text: a table with one row per endpoint and figure (baseline, candidate,
/// change with an arrow, verdict and why), the verdict of each endpoint, the endpoints found in
/// only one run, and a result line. Plain ASCII; ends with a newline.
pub fn render_text(c: &Comparison) -> String {
    let mut out = String::new();
    let _ = writeln!(
        out,
        "Comparison: candidate vs baseline (response times issued to last byte; threshold {})",
        threshold_text(c.threshold)
    );
    let _ = writeln!(
        out,
        "  A change counts only if it exceeds the threshold and the runs' 99% intervals do not overlap."
    );
    let mut t = Table::new();
    t.load_style(ASCII_FULL_CONDENSED).set_header(vec![
        "Endpoint",
        "Metric",
        "Baseline",
        "Candidate",
        "Change",
        "Verdict",
        "Note",
    ]);
    for e in &c.endpoints {
        for (i, m) in e.changes.iter().enumerate() {
            let kind = Kind::of(m.name);
            t.add_row(vec![
                if i == 0 { format::one_line(&e.name, MAX_NAME) } else { String::new() },
                m.name.to_owned(),
                kind.value(m.baseline),
                kind.value(m.candidate),
                change_text(m),
                m.verdict.label().to_owned(),
                m.note.clone(),
            ]);
        }
    }
    for i in 2..5 {
        if let Some(col) = t.column_mut(i) {
            col.set_cell_alignment(CellAlignment::Right);
        }
    }
    let _ = writeln!(out, "{t}");
    let _ = writeln!(out, "\nVerdict by endpoint");
    for e in &c.endpoints {
        let _ = writeln!(out, "  {:<6}  {}", e.verdict.label(), format::one_line(&e.name, MAX_NAME));
    }
    let list =
        |names: &[String]| names.iter().map(|n| format::one_line(n, MAX_NAME)).collect::<Vec<_>>().join(", ");
    if !c.only_in_baseline.is_empty() || !c.only_in_candidate.is_empty() {
        let _ = writeln!(out);
    }
    if !c.only_in_baseline.is_empty() {
        let _ = writeln!(out, "Only in baseline (not compared): {}", list(&c.only_in_baseline));
    }
    if !c.only_in_candidate.is_empty() {
        let _ = writeln!(out, "Only in candidate (not compared): {}", list(&c.only_in_candidate));
    }
    let _ = writeln!(out, "\nResult: {}", result_line(c).1);
    out
}

/// The comparison as an HTML fragment (a `<section class="hornet-compare">` with a small scoped
/// stylesheet, the table, the endpoints found in only one run and the result) for the HTML report
/// to include. Every string from the reports is escaped. Verdict cells and endpoint rows carry the
/// classes `better`, `same` and `worse`.
pub fn render_html_section(c: &Comparison) -> String {
    let mut out = String::new();
    out.push_str("<section class=\"hornet-compare\">\n");
    out.push_str(
        "<style>.hornet-compare table{border-collapse:collapse}\
         .hornet-compare th,.hornet-compare td{padding:2px 8px;border-bottom:1px solid #ddd;text-align:left}\
         .hornet-compare td.num{text-align:right}\
         .hornet-compare .worse{color:#b00020;font-weight:bold}\
         .hornet-compare .better{color:#1b7f3b}\
         .hornet-compare .same{color:#555}</style>\n",
    );
    out.push_str("<h2>Comparison with the baseline</h2>\n");
    let _ = writeln!(
        out,
        "<p>Response times issued to last byte; threshold {}. A change counts only if it exceeds the \
         threshold and the runs&#39; 99% intervals do not overlap.</p>",
        html_line(&threshold_text(c.threshold))
    );
    out.push_str(
        "<table>\n<thead><tr><th>Endpoint</th><th>Metric</th><th>Baseline</th><th>Candidate</th>\
         <th>Change</th><th>Verdict</th><th>Note</th></tr></thead>\n<tbody>\n",
    );
    for e in &c.endpoints {
        let rows = e.changes.len().max(1);
        for (i, m) in e.changes.iter().enumerate() {
            let kind = Kind::of(m.name);
            let _ = write!(out, "<tr class=\"endpoint-{}\">", e.verdict.as_str());
            if i == 0 {
                let _ = write!(
                    out,
                    "<th rowspan=\"{rows}\" scope=\"rowgroup\">{}<br><span class=\"{}\">{}</span></th>",
                    html_line(&e.name),
                    e.verdict.as_str(),
                    e.verdict.as_str()
                );
            }
            let _ = writeln!(
                out,
                "<td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>\
                 <td class=\"{}\">{}</td><td>{}</td></tr>",
                html_line(m.name),
                html_line(&kind.value(m.baseline)),
                html_line(&kind.value(m.candidate)),
                html_line(&change_text(m)),
                m.verdict.as_str(),
                m.verdict.as_str(),
                html_line(&m.note)
            );
        }
    }
    out.push_str("</tbody>\n</table>\n");
    let list = |out: &mut String, title: &str, names: &[String]| {
        if names.is_empty() {
            return;
        }
        let _ = write!(out, "<p>{title}:</p>\n<ul>");
        for n in names {
            let _ = write!(out, "<li>{}</li>", html_line(n));
        }
        out.push_str("</ul>\n");
    };
    list(&mut out, "Only in the baseline (not compared)", &c.only_in_baseline);
    list(&mut out, "Only in the candidate (not compared)", &c.only_in_candidate);
    let (verdict, line) = result_line(c);
    let _ = writeln!(out, "<p class=\"result {}\">Result: {}</p>", verdict.as_str(), html_line(&line));
    out.push_str("</section>\n");
    out
}
