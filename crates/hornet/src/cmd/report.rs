//! Report files (`-o`, `--html`, `--csv`, `--junit`, `--summary-json`): checked before a run, written
//! after it; printing the summary; `hornet report` (re-render a JSON report) and `hornet compare`
//! (two runs side by side).

use std::io::{self, Write};
use std::path::{Path, PathBuf};

use hornet_metrics::Report;
use hornet_output::compare::{CompareOptions, compare as compare_runs, render_html_section, render_text};

use super::exit;
use crate::cli::{CompareArgs, OutputArgs, ReportArgs};

/// Every file output asked for, as (option, path): the JSON report of `-o` first.
fn destinations(json: Option<&Path>, outputs: &OutputArgs) -> Vec<(&'static str, PathBuf)> {
    let mut all = Vec::new();
    all.extend(json.map(|p| ("-o", p.to_owned())));
    all.extend(outputs.html.as_ref().map(|p| ("--html", p.clone())));
    if let Some(prefix) = &outputs.csv {
        all.extend(
            hornet_output::csv::FILES.iter().map(|f| ("--csv", PathBuf::from(format!("{prefix}_{f}.csv")))),
        );
    }
    all.extend(outputs.junit.as_ref().map(|p| ("--junit", p.clone())));
    all.extend(outputs.summary_json.as_ref().map(|p| ("--summary-json", p.clone())));
    all
}

/// `path` as printed in a message: the characters that would act on a terminal (an escape
/// sequence in a file name) are shown escaped, as in every message about a script.
fn shown(path: &Path) -> String {
    hornet_script::escape_controls(&path.display().to_string()).into_owned()
}

/// Checks, before anything is sent, that every report file asked for can be written at the end
/// ([`hornet_output::file::check`]) and that at most one goes to stdout (`-`); prints what is
/// wrong, naming the option and the path, and returns false if anything is.
pub fn check_outputs(json: Option<&Path>, outputs: &OutputArgs) -> bool {
    let mut ok = true;
    let mut on_stdout = Vec::new();
    for (option, path) in destinations(json, outputs) {
        if hornet_output::file::is_stdout(&path) {
            on_stdout.push(option);
        } else if let Err(why) = hornet_output::file::check(&path) {
            note!(
                "error: {option} {}: the file {}",
                shown(&path),
                hornet_script::escape_controls(&why.to_string())
            );
            ok = false;
        }
    }
    if on_stdout.len() > 1 {
        note!("error: {} all ask for stdout (`-`); only one output can go there", on_stdout.join(", "));
        ok = false;
    }
    ok
}

/// True when a report file goes to stdout (`-`): the summary then goes to stderr.
pub fn stdout_taken(json: Option<&Path>, outputs: &OutputArgs) -> bool {
    destinations(json, outputs).iter().any(|(_, p)| hornet_output::file::is_stdout(p))
}

/// Prints `text` (the summary, a comparison) on stdout, or on stderr when a report went to stdout.
/// A reader that went away (a closed pipe: `hornet run ... | head`) ends the text quietly and
/// returns true; any other failure (`> /dev/full`) is reported on stderr and returns false. Never
/// panics, unlike `println!`.
pub fn print_text(text: &str, to_stderr: bool) -> bool {
    let result = if to_stderr {
        writeln!(io::stderr().lock(), "{text}")
    } else {
        let mut out = io::stdout().lock();
        writeln!(out, "{text}").and_then(|()| out.flush())
    };
    match result {
        Ok(()) => true,
        Err(e) if e.kind() == io::ErrorKind::BrokenPipe => true,
        Err(e) => {
            note!("error: could not print the summary: {e}");
            false
        }
    }
}

/// Writes the JSON report of `-o`; if that fails, saves it in the temporary directory instead and
/// says where. Returns false when `path` could not be written.
pub fn write_json_report(report: &Report, path: &Path) -> bool {
    let Err(e) = hornet_output::write_json(report, path) else {
        if !hornet_output::file::is_stdout(path) {
            note!("report written to {}", shown(path));
        }
        return true;
    };
    note!("error: could not write the report to {}: {e}", shown(path));
    let fallback = std::env::temp_dir().join(format!("hornet-report-{}.json", std::process::id()));
    match hornet_output::write_json(report, &fallback) {
        Ok(()) => note!("the report was saved to {} instead", shown(&fallback)),
        Err(e) => note!("error: could not save the report to {} either: {e}", shown(&fallback)),
    }
    false
}

/// Writes every report file asked for; returns false (after printing why) if one failed.
pub fn write_outputs(report: &Report, outputs: &OutputArgs) -> bool {
    let mut ok = true;
    let mut done = |what: &str, result: std::io::Result<()>| match result {
        Ok(()) => note!("{what} written"),
        Err(e) => {
            note!("error: could not write {what}: {e}");
            ok = false;
        }
    };
    if let Some(path) = &outputs.html {
        done(&format!("HTML report {}", shown(path)), hornet_output::html::write_html(report, path));
    }
    if let Some(prefix) = &outputs.csv {
        done(
            &format!("CSV files {prefix}_*.csv"),
            hornet_output::csv::write_locust_csv(report, prefix).map(|_| ()),
        );
    }
    if let Some(path) = &outputs.junit {
        done(
            &format!("JUnit file {}", shown(path)),
            write_text(path, &hornet_output::junit::render_junit(report)),
        );
    }
    if let Some(path) = &outputs.summary_json {
        let json = hornet_output::summary_json::summary_json(report);
        let text = serde_json::to_string_pretty(&json).unwrap_or_default();
        done(&format!("summary {}", shown(path)), write_text(path, &text));
    }
    ok
}

/// Sends the report's metrics over OTLP to `url`. An export, not a file: a receiver that is down is
/// reported, and the exit code stays.
pub fn push_otlp(report: &Report, url: &str) {
    match hornet_export::otlp::push_report(report, url) {
        Ok(()) => note!("OTLP metrics sent to {url}"),
        Err(e) => note!("hornet: could not send the OTLP metrics: {e}"),
    }
}

fn write_text(path: &Path, text: &str) -> std::io::Result<()> {
    hornet_output::write_file(path, text.as_bytes())
}

fn read_report(path: &Path) -> Result<Report, String> {
    let text = std::fs::read_to_string(path).map_err(|e| format!("cannot read `{}`: {e}", shown(path)))?;
    Report::from_json(&text).map_err(|e| format!("`{}` is not a hornet JSON report: {e}", shown(path)))
}

/// `hornet report run.json [--html ...]`.
pub fn report(args: ReportArgs) -> i32 {
    let mut report = match read_report(&args.report) {
        Ok(r) => r,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    if let Some(link) = &args.outputs.trace_link {
        report.run.trace_link = Some(link.clone());
    }
    // The files first: a closed or full stdout cannot lose them.
    let written = write_outputs(&report, &args.outputs);
    if let Some(url) = &args.outputs.otlp {
        push_otlp(&report, url);
    }
    let printed = print_text(&hornet_output::summary(&report), stdout_taken(None, &args.outputs));
    if !written || !printed || report.failed_checks() > 0 { exit::FAILED } else { exit::OK }
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
    let mut code = if comparison.worse() { exit::FAILED } else { exit::OK };
    if let Some(path) = &args.html {
        let page = format!(
            "<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>hornet comparison</title>\
             <style>body{{font-family:system-ui,sans-serif;margin:2rem;}}table{{border-collapse:collapse}}\
             td,th{{border:1px solid #ccc;padding:.3rem .6rem;text-align:right}}td:first-child,th:first-child{{text-align:left}}</style>\
             </head><body><h1>hornet comparison</h1>\n{}\n</body></html>\n",
            render_html_section(&comparison)
        );
        match hornet_output::write_file(path, page.as_bytes()) {
            Ok(()) => note!("comparison written to {}", shown(path)),
            Err(e) => {
                note!("error: could not write {}: {e}", shown(path));
                code = exit::FAILED;
            }
        }
    }
    let to_stderr = args.html.as_deref().is_some_and(hornet_output::file::is_stdout);
    if !print_text(&render_text(&comparison), to_stderr) {
        code = exit::FAILED;
    }
    code
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
