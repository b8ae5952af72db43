//! Report files (`--html`, `--csv`, `--junit`, `--summary-json`), `hornet report` (re-render a JSON
//! report) and `hornet compare` (two runs side by side).

use std::path::Path;

use hornet_metrics::Report;
use hornet_output::compare::{CompareOptions, compare as compare_runs, render_html_section, render_text};

use super::exit;
use crate::cli::{CompareArgs, OutputArgs, ReportArgs};

/// Writes every report file asked for; returns false (after printing why) if one failed.
pub fn write_outputs(report: &Report, outputs: &OutputArgs) -> bool {
    let mut ok = true;
    let mut done = |what: &str, result: std::io::Result<()>| match result {
        Ok(()) => eprintln!("{what} written"),
        Err(e) => {
            eprintln!("error: could not write {what}: {e}");
            ok = false;
        }
    };
    if let Some(path) = &outputs.html {
        done(&format!("HTML report {}", path.display()), hornet_output::html::write_html(report, path));
    }
    if let Some(prefix) = &outputs.csv {
        done(
            &format!("CSV files {prefix}_*.csv"),
            hornet_output::csv::write_locust_csv(report, prefix).map(|_| ()),
        );
    }
    if let Some(path) = &outputs.junit {
        done(
            &format!("JUnit file {}", path.display()),
            write_text(path, &hornet_output::junit::render_junit(report)),
        );
    }
    if let Some(path) = &outputs.summary_json {
        let json = hornet_output::summary_json::summary_json(report);
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        done(&format!("summary {}", path.display()), write_text(path, &text));
    }
    ok
}

fn write_text(path: &Path, text: &str) -> std::io::Result<()> {
    hornet_output::write_atomic(path, text.as_bytes())
}

fn read_report(path: &Path) -> Result<Report, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
    Report::from_json(&text).map_err(|e| format!("`{}` is not a hornet JSON report: {e}", path.display()))
}

/// `hornet report run.json [--html ...]`.
pub fn report(args: ReportArgs) -> i32 {
    let report = match read_report(&args.report) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    println!("{}", hornet_output::summary(&report));
    if !write_outputs(&report, &args.outputs) {
        return exit::FAILED;
    }
    if report.failed_checks() > 0 { exit::FAILED } else { exit::OK }
}

/// Parses `10%` or `0.1` into a fraction.
fn parse_threshold(s: &str) -> Result<f64, String> {
    let (number, scale) = match s.trim().strip_suffix('%') {
        Some(n) => (n, 100.0),
        None => (s.trim(), 1.0),
    };
    match number.trim().parse::<f64>() {
        Ok(v) if v.is_finite() && v >= 0.0 => Ok(v / scale),
        _ => Err(format!("--threshold `{s}`: expected a percentage like 10% or a fraction like 0.1")),
    }
}

/// `hornet compare baseline.json candidate.json`.
pub fn compare(args: CompareArgs) -> i32 {
    let loaded = (|| {
        let threshold = parse_threshold(&args.threshold)?;
        Ok::<_, String>((read_report(&args.baseline)?, read_report(&args.candidate)?, threshold))
    })();
    let (baseline, candidate, threshold) = match loaded {
        Ok(x) => x,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let comparison = match compare_runs(&baseline, &candidate, &CompareOptions { threshold }) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    println!("{}", render_text(&comparison));
    if let Some(path) = &args.html {
        let page = format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>hornet comparison</title>\
             <style>body{{font-family:system-ui,sans-serif;margin:2rem;}}table{{border-collapse:collapse}}\
             td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}}td:first-child,th:first-child{{text-align:left}}</style>\
             </head><body><h1>hornet comparison</h1>\n{}\n</body></html>\n",
            render_html_section(&comparison)
        );
        match std::fs::write(path, page) {
            Ok(()) => eprintln!("comparison written to {}", path.display()),
            Err(e) => {
                eprintln!("error: could not write {}: {e}", path.display());
                return exit::FAILED;
            }
        }
    }
    if comparison.worse() { exit::FAILED } else { exit::OK }
}

#[cfg(test)]
mod tests {
    use super::parse_threshold;

    #[test]
    fn thresholds_parse_as_percent_or_fraction() {
        assert_eq!(parse_threshold("10%"), Ok(0.1));
        assert_eq!(parse_threshold("0.25"), Ok(0.25));
        assert_eq!(parse_threshold(" 5 % "), Ok(0.05));
        assert!(parse_threshold("-1%").is_err());
        assert!(parse_threshold("ten").is_err());
    }
}
