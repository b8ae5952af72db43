//! JUnit XML (`--junit FILE`): the run's checks as test cases, for CI systems that show test
//! results (Jenkins, GitLab, GitHub Actions reporters, Azure Pipelines, ...).
//!
//! The document is a `<testsuites>` root holding one `<testsuite name="hornet">`:
//!
//! * `<properties>`: the run metadata (`hornet.version`, `run.script`, `run.target`,
//!   `run.command`, `run.started_at`, `run.duration_s`, `run.seed`, `run.interrupted`; `run.script`
//!   and `run.target` only when known), the headline figures (`http.requests`, `http.responses`,
//!   `errors`, `http.request_rate`), `apdex` when computed, and one `warning` per report warning;
//! * one `<testcase classname="hornet.checks">` per check of the report (thresholds, conditions,
//!   `maxErrorRate`, `expectations`), in the report's order, named as the check;
//! * one `<testcase classname="hornet.expectations">` per endpoint and `expect` kind evaluated on
//!   it, named `<endpoint>: <kind>`, in plan order and then kind order.
//!
//! A test case that **fails the run** has a `<failure message="…" type="…">` whose message is the
//! measured value (the check's `detail`, or `statusCode failed 3 of 90 time(s)`): a strict check
//! that did not hold, and an endpoint's failed expectation kind when a strict `expectations` check
//! is in the report (expectations fail the run). A check that did not hold but only warns (a
//! non-strict condition), and failed expectations that do not fail the run, are `<skipped
//! message="warning: …">` instead, so the XML fails a CI job exactly when hornet's exit code does.
//! Every test case also has its detail in `<system-out>`.
//!
//! The suite's `tests`, `failures`, `skipped` and `errors` (always 0) attributes count those test
//! cases; `time` is the measured duration in seconds and `timestamp` the run's start. A run without
//! checks or expectations gives a suite without test cases. Text and attribute values are escaped
//! (`& < > " '`, line breaks in attributes as character references); characters XML 1.0 cannot
//! carry (most control characters) are replaced by U+FFFD.

use std::fmt::Write as _;

use hornet_metrics::Report;
use hornet_metrics::report::{EXPECTATIONS_CHECK, REQUEST_RATE};

use crate::escape::{xml_attr, xml_text};

/// How a test case ended.
enum Outcome {
    Passed,
    /// Fails the run: `<failure>`.
    Failed {
        kind: &'static str,
    },
    /// Did not hold but only warns: `<skipped>`.
    Warned,
}

struct Case {
    classname: &'static str,
    name: String,
    outcome: Outcome,
    /// The measured value.
    detail: String,
}

fn cases(report: &Report) -> Vec<Case> {
    let mut cases: Vec<Case> = report
        .checks
        .iter()
        .map(|c| Case {
            classname: "hornet.checks",
            name: c.name.clone(),
            outcome: match (c.ok, c.strict) {
                (true, _) => Outcome::Passed,
                (false, true) => Outcome::Failed { kind: "check" },
                (false, false) => Outcome::Warned,
            },
            detail: c.detail.clone(),
        })
        .collect();
    let expectations_fail_run = report.checks.iter().any(|c| c.name == EXPECTATIONS_CHECK && c.strict);
    for e in &report.endpoints {
        let x = &e.expectations;
        let mut kinds: Vec<&String> = x.ok_by_kind.keys().chain(x.failed_by_kind.keys()).collect();
        kinds.sort();
        kinds.dedup();
        for kind in kinds {
            let ok = x.ok_by_kind.get(kind).copied().unwrap_or(0);
            let failed = x.failed_by_kind.get(kind).copied().unwrap_or(0);
            let total = ok.saturating_add(failed);
            let (outcome, detail) = if failed == 0 {
                (Outcome::Passed, format!("{kind} held {total} of {total} time(s)"))
            } else if expectations_fail_run {
                (
                    Outcome::Failed { kind: "expectation" },
                    format!("{kind} failed {failed} of {total} time(s)"),
                )
            } else {
                (Outcome::Warned, format!("{kind} failed {failed} of {total} time(s)"))
            };
            cases.push(Case {
                classname: "hornet.expectations",
                name: format!("{}: {kind}", e.name),
                outcome,
                detail,
            });
        }
    }
    cases
}

/// The run's checks and expectations as a JUnit XML document (see the
/// [module documentation](self)). Ends with a newline.
pub fn render_junit(report: &Report) -> String {
    let cases = cases(report);
    let failures = cases.iter().filter(|c| matches!(c.outcome, Outcome::Failed { .. })).count();
    let skipped = cases.iter().filter(|c| matches!(c.outcome, Outcome::Warned)).count();
    let time = seconds(report.run.duration_s);
    let counts = format!(
        "tests=\"{}\" failures=\"{failures}\" errors=\"0\" skipped=\"{skipped}\" time=\"{time}\"",
        cases.len()
    );

    let mut out = String::new();
    out.push_str("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
    let _ = writeln!(out, "<testsuites name=\"hornet\" {counts}>");
    let _ = writeln!(
        out,
        "  <testsuite name=\"hornet\" {counts} timestamp=\"{}\">",
        xml_attr(&report.run.started_at)
    );
    properties(&mut out, report);
    for c in &cases {
        let _ = writeln!(
            out,
            "    <testcase classname=\"{}\" name=\"{}\" time=\"0\">",
            xml_attr(c.classname),
            xml_attr(&c.name)
        );
        match c.outcome {
            Outcome::Passed => {}
            Outcome::Failed { kind } => {
                let _ = writeln!(
                    out,
                    "      <failure message=\"{}\" type=\"{kind}\">{}</failure>",
                    xml_attr(&c.detail),
                    xml_text(&c.detail)
                );
            }
            Outcome::Warned => {
                let _ = writeln!(
                    out,
                    "      <skipped message=\"{}\"/>",
                    xml_attr(&format!("warning: {}", c.detail))
                );
            }
        }
        let _ = writeln!(out, "      <system-out>{}</system-out>", xml_text(&c.detail));
        out.push_str("    </testcase>\n");
    }
    out.push_str("  </testsuite>\n</testsuites>\n");
    out
}

fn properties(out: &mut String, report: &Report) {
    let run = &report.run;
    let mut props: Vec<(&str, String)> = vec![("hornet.version", report.hornet_version.clone())];
    if let Some(s) = &run.script {
        props.push(("run.script", s.clone()));
    }
    if let Some(t) = &run.target {
        props.push(("run.target", t.clone()));
    }
    props.extend([
        ("run.command", run.command.clone()),
        ("run.started_at", run.started_at.clone()),
        ("run.duration_s", run.duration_s.to_string()),
        ("run.seed", run.seed.to_string()),
        ("run.interrupted", run.interrupted.to_string()),
        ("http.requests", report.counter("http.requests").to_string()),
        ("http.responses", report.counter("http.responses").to_string()),
        ("errors", report.counter("errors").to_string()),
        ("http.request_rate", report.rate(REQUEST_RATE).to_string()),
    ]);
    if let Some(a) = &report.apdex {
        props.push(("apdex", a.score.to_string()));
    }
    props.extend(report.warnings.iter().map(|w| ("warning", w.clone())));
    out.push_str("    <properties>\n");
    for (name, value) in props {
        let _ = writeln!(out, "      <property name=\"{}\" value=\"{}\"/>", xml_attr(name), xml_attr(&value));
    }
    out.push_str("    </properties>\n");
}

/// Seconds with millisecond precision, `0.000` for a value that is not a finite non-negative number.
fn seconds(s: f64) -> String {
    if s.is_finite() && s >= 0.0 { format!("{s:.3}") } else { "0.000".to_owned() }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seconds_have_three_decimals() {
        assert_eq!(seconds(4.0), "4.000");
        assert_eq!(seconds(1.25), "1.250");
        assert_eq!(seconds(f64::NAN), "0.000");
        assert_eq!(seconds(-1.0), "0.000");
    }
}
