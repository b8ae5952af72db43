//! The capacity page (`--html`): one self-contained file drawn the way the run report draws its
//! charts: the figures and the step table as plain HTML (every string escaped), one inline JSON
//! blob (`<script type="application/json" id="capacity-data">`) with the steps' figures sorted by
//! offered load, and the vendored uPlot with a small script (`assets/capacity.js`) that draws
//! throughput against offered load (with the offered line in the open model, the fitted USL in
//! the closed one) and latency against offered load. With `?selftest` in the URL the script checks
//! that each chart drew something and writes `<pre id="selftest">ok N charts</pre>` (or
//! `FAIL: ...`).

use std::fmt::Write as _;

use hornet_output::assets::{UPLOT_JS, UPLOT_LICENSE};
use hornet_output::escape::html as esc;
use serde_json::json;

use crate::result::{Capacity, load, table_header, table_row};
use crate::step::Verdict;

/// The page's own script.
const CAPACITY_JS: &str = include_str!("../assets/capacity.js");

/// JSON for inside a `<script>` element: `<`, `>` and `&` escaped so it cannot close it.
fn script_json(v: &serde_json::Value) -> String {
    serde_json::to_string(v)
        .unwrap_or_else(|_| "{}".to_owned())
        .replace('<', "\\u003c")
        .replace('>', "\\u003e")
        .replace('&', "\\u0026")
}

/// The chart data: the steps sorted by offered load.
fn data(c: &Capacity) -> serde_json::Value {
    let mut points: Vec<_> = c
        .steps
        .iter()
        .filter(|s| s.judgement.verdict != Verdict::Invalid)
        .map(|s| {
            let f = &s.figures;
            json!({
                "offered": f.offered, "achieved": f.achieved, "p50": f.latency.p50, "p95": f.latency.p95,
                "p99": f.latency.p99, "pass": s.judgement.verdict == Verdict::Pass,
            })
        })
        .collect();
    points.sort_by(|a, b| {
        a["offered"].as_f64().unwrap_or(0.0).total_cmp(&b["offered"].as_f64().unwrap_or(0.0))
    });
    json!({
        "model": c.model, "unit": c.unit, "throughput_unit": c.throughput_unit, "points": points,
        "max": c.max_sustainable, "knee": c.knee, "recommended": c.recommended,
        "usl": c.usl.map(|u| json!({"lambda": u.lambda, "sigma": u.sigma, "kappa": u.kappa})),
    })
}

/// Renders the page.
pub fn render(c: &Capacity) -> String {
    let mut out = String::with_capacity(UPLOT_JS.len() + 64 * 1024);
    let title = match &c.script {
        Some(s) => format!("hornet capacity: {s}"),
        None => "hornet capacity".to_owned(),
    };
    hornet_output::html::head(&mut out, &c.hornet_version, &title);
    let _ = write!(out, "<main>\n<header id=\"header\">\n<h1>{}</h1>\n<dl class=\"meta\">\n", esc(&title));
    let mut item = |k: &str, v: String| {
        let _ = writeln!(out, "<div><dt>{k}</dt><dd>{v}</dd></div>");
    };
    item(
        "Target",
        c.target.as_deref().map_or_else(|| "-".to_owned(), |t| format!("<code>{}</code>", esc(t))),
    );
    item("Started", esc(&c.started_at));
    item("Objective", format!("<code>{}</code>", esc(&c.slo.join(", "))));
    item(
        "Model",
        format!("{} ({})", if c.model == crate::step::Model::Open { "open" } else { "closed" }, esc(c.unit)),
    );
    item(
        "Steps",
        format!(
            "{}, each {} s after {} s of warm-up; hold {} s",
            c.steps.len(),
            c.settings.step_s,
            c.settings.warmup_s,
            c.settings.hold_s
        ),
    );
    let _ = writeln!(
        out,
        "<div class=\"full\"><dt>Command</dt><dd><code>{}</code></dd></div>\n</dl>\n</header>",
        esc(&c.command)
    );
    let _ = writeln!(out, "<section id=\"result\">\n<h2>Result</h2>\n<pre>{}</pre>", esc(&c.summary()));
    if let Some(m) = c.max_sustainable {
        let _ = writeln!(
            out,
            "<p>Maximum sustainable load <b id=\"max\">{} {}</b>; knee {}; recommended operating point {}.</p>",
            load(c.model, m),
            esc(c.unit),
            c.knee.map_or_else(|| "-".to_owned(), |k| load(c.model, k)),
            c.recommended.map_or_else(|| "-".to_owned(), |r| load(c.model, r)),
        );
    }
    out.push_str(
        "</section>\n<section id=\"charts\">\n<h2>Against the offered load</h2>\n<div class=\"charts\">\n",
    );
    for (key, name, note) in [
        ("throughput", "Throughput", "achieved throughput of each valid step"),
        ("latency", "Latency", "response-time percentiles of each valid step's window"),
    ] {
        let _ = writeln!(
            out,
            "<figure class=\"chart-box\"><h3>{name}</h3><div class=\"chart\" data-chart=\"{key}\"></div><figcaption>{note}</figcaption></figure>"
        );
    }
    out.push_str("</div>\n</section>\n<section id=\"steps\">\n<h2>Steps</h2>\n<div class=\"scroll\"><pre>");
    out.push_str(&esc(&table_header(c.model)));
    out.push('\n');
    for s in &c.steps {
        out.push_str(&esc(&table_row(c.model, s)));
        out.push('\n');
    }
    out.push_str("</pre></div>\n</section>\n");
    let _ = write!(
        out,
        "</main>\n<script type=\"application/json\" id=\"capacity-data\">{}</script>\n\
         <script>/*! uPlot {}*/\n{UPLOT_JS}</script>\n<script>{CAPACITY_JS}</script>\n</body>\n</html>\n",
        script_json(&data(c)),
        UPLOT_LICENSE.trim().replace("*/", "* /"),
    );
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_script_cannot_close_its_element() {
        let lower = CAPACITY_JS.to_ascii_lowercase();
        assert!(!lower.contains("</script") && !lower.contains("<!--"));
        let s = script_json(&json!({"s": "</script><!--&"}));
        assert!(!s.contains('<') && !s.contains('>') && !s.contains('&'), "{s}");
    }
}
