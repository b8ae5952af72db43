//! End-to-end tests of the report files (`--html`, `--csv`, `--junit`, `--summary-json`),
//! `hornet report` and `hornet compare`, against the embedded target on loopback.

mod common;

use std::path::Path;

use common::{Case, hornet, run_ok, target, text, with_target};

const SCRIPT: &str = r#"
config:
  target: "TARGET"
  phases:
    - duration: 1
      arrivalCount: 30
  ensure:
    thresholds:
      - http.response_time.p99: 5000
scenarios:
  - flow:
      - get: { url: "/delay/DELAY", name: slow }
      - get: { url: "/delay/DELAY", name: other }
"#;

fn script(case: &Case, t: &hornet_target::RunningTarget, name: &str, delay: u32) -> std::path::PathBuf {
    case.script(name, &with_target(SCRIPT, t).replace("DELAY", &delay.to_string()))
}

fn read(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn run_writes_every_report_file_and_report_rewrites_them_from_json() {
    let t = target();
    let case = Case::new();
    let s = script(&case, &t, "out.yaml", 5);
    let dir = case.dir.path();
    let prefix = dir.join("locust").display().to_string();
    let (html, junit, summary) = (dir.join("r.html"), dir.join("r.xml"), dir.join("s.json"));
    let report = run_ok(
        &case,
        &s,
        &[
            "-q",
            "--html",
            &html.display().to_string(),
            "--csv",
            &prefix,
            "--junit",
            &junit.display().to_string(),
            "--summary-json",
            &summary.display().to_string(),
        ],
    );
    let requests = report["aggregate"]["counters"]["http.requests"].as_u64().expect("requests");
    assert_eq!(requests, 60);

    let page = read(&html);
    assert!(
        page.starts_with("<!doctype html") || page.starts_with("<!DOCTYPE html"),
        "{}",
        &page[..40.min(page.len())]
    );
    assert!(page.contains("slow") && page.contains("uPlot"), "the report names endpoints and inlines uPlot");
    assert!(!page.contains("<script src="), "self-contained: no external scripts");
    assert!(page.contains("Generator host"), "the report names the generating machine");

    let stats = read(Path::new(&format!("{prefix}_stats.csv")));
    assert!(stats.starts_with("Type,Name,Request Count,Failure Count,"), "{stats}");
    let aggregated = stats.lines().find(|l| l.contains("Aggregated")).expect("Aggregated row");
    assert!(aggregated.contains(",60,"), "{aggregated}");
    assert!(Path::new(&format!("{prefix}_stats_history.csv")).exists());
    assert!(Path::new(&format!("{prefix}_failures.csv")).exists());

    let xml = read(&junit);
    assert!(xml.contains("<testsuite") && xml.contains("http.response_time.p99"), "{xml}");
    let summary: serde_json::Value = serde_json::from_str(&read(&summary)).expect("summary json");
    assert_eq!(summary["requests"], 60);
    assert_eq!(summary["passed"], true);

    // The same files again, later, from the JSON report alone.
    let html2 = dir.join("again.html");
    let out = hornet().arg("report").arg(case.report_path()).arg("--html").arg(&html2).output().expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("slow"), "summary printed: {}", text(&out));
    assert!(read(&html2).contains("slow"));
}

#[test]
fn compare_is_quiet_on_the_same_target_and_fails_a_slower_one() {
    let t = target();
    let case = Case::new();
    // The server's delay dwarfs the scheduling noise of a loaded machine (a few ms), so two
    // runs of the same script land within the threshold, and the slower one is 6x beyond it.
    let fast = script(&case, &t, "fast.yaml", 50);
    let slow = script(&case, &t, "slower.yaml", 300);
    let dir = case.dir.path();
    let run_to = |s: &Path, out: &Path| {
        let o = hornet().arg("run").arg(s).arg("-q").arg("-o").arg(out).output().expect("run");
        assert!(o.status.success(), "{}", text(&o));
    };
    let (a, b, c) = (dir.join("a.json"), dir.join("b.json"), dir.join("c.json"));
    run_to(&fast, &a);
    run_to(&fast, &b);
    run_to(&slow, &c);
    let same = hornet().arg("compare").arg(&a).arg(&b).output().expect("compare");
    assert_eq!(same.status.code(), Some(0), "{}", text(&same));
    let worse =
        hornet().arg("compare").arg(&a).arg(&c).args(["--threshold", "10%"]).output().expect("compare");
    assert_eq!(worse.status.code(), Some(1), "{}", text(&worse));
    let table = String::from_utf8_lossy(&worse.stdout);
    assert!(table.contains("slow") && table.to_lowercase().contains("worse"), "{table}");
}

#[test]
fn quick_credential_headers_never_land_in_a_report_file_and_url_passwords_not_in_the_command() {
    let t = target();
    let case = Case::new();
    let url = t.url().replacen("://", "://me:PA55W0RD@", 1);
    let (json, html) = (case.report_path(), case.dir.path().join("r.html"));
    let out = hornet()
        .args([
            "quick",
            &url,
            "-n",
            "3",
            "-q",
            "-H",
            "Authorization: Bearer S3CR3T",
            "-H",
            "Accept: text/plain",
        ])
        .arg("-o")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .output()
        .expect("run hornet");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    for path in [&json, &html] {
        let written = read(path);
        assert!(!written.contains("S3CR3T"), "{} holds the header's secret", path.display());
    }
    let report: serde_json::Value = serde_json::from_str(&read(&json)).expect("json");
    let command = report["run"]["command"].as_str().expect("run.command");
    // The URL's password is redacted in the command (the endpoint's name is the URL as given).
    assert!(command.contains("://me:***@") && !command.contains("PA55W0RD"), "{command}");
    assert!(command.contains("-H Authorization: ***"), "{command}");
    assert!(command.contains("-H Accept: text/plain"), "{command}");
}

const HALF_404: &str = r#"
config:
  target: "TARGET"
  phases:
    - duration: 1
      arrivalCount: 10
EXPECTED
scenarios:
  - flow:
      - get: { url: "/status/404", name: missing }
      - get: { url: "/status/200", name: after }
"#;

/// Runs [`HALF_404`] with `expected` as its `config.http` lines; returns the report, the summary
/// printed, `_stats.csv` and `_failures.csv`.
fn run_half_404(expected: &str) -> (serde_json::Value, String, String, String) {
    let t = target();
    let case = Case::new();
    let s = case.script("half.yaml", &with_target(HALF_404, &t).replace("EXPECTED", expected));
    let prefix = case.dir.path().join("locust").display().to_string();
    let (out, report) = common::run_script(&case, &s, &["--csv", &prefix]);
    assert!(out.status.success(), "a 404 alone does not fail the run: {}", text(&out));
    let report = report.expect("report written");
    let stats = read(Path::new(&format!("{prefix}_stats.csv")));
    let failures = read(Path::new(&format!("{prefix}_failures.csv")));
    (report, String::from_utf8_lossy(&out.stdout).into_owned(), stats, failures)
}

/// The `Failure Count` of the `_stats.csv` row named `name`.
fn csv_failure_count(stats: &str, name: &str) -> String {
    let row = stats
        .lines()
        .find(|l| l.split(',').nth(1) == Some(name))
        .unwrap_or_else(|| panic!("{name}: {stats}"));
    row.split(',').nth(3).expect("Failure Count").to_owned()
}

/// The `Failures` cell of the first summary table row named `name` (the endpoint table's).
fn summary_failures(summary: &str, name: &str) -> String {
    let cells = |l: &str| l.split('|').map(|c| c.trim().to_owned()).collect::<Vec<_>>();
    let row = summary
        .lines()
        .map(cells)
        .find(|c| c.get(1).map(String::as_str) == Some(name))
        .unwrap_or_else(|| panic!("{name}: {summary}"));
    row[3].clone()
}

#[test]
fn responses_of_400_and_above_are_failures_unless_expected() {
    let (report, summary, stats, failures) = run_half_404("");
    let missing = common::endpoint(&report, "missing");
    let after = common::endpoint(&report, "after");
    assert_eq!(
        (missing["requests"].as_u64(), missing["failures"].as_u64()),
        (Some(10), Some(10)),
        "{missing}"
    );
    assert_eq!(missing["failed_codes"]["404"], 10, "{missing}");
    // The VU goes on after a 404: the next step is sent, and no VU failed.
    assert_eq!((after["requests"].as_u64(), after["failures"].as_u64()), (Some(10), Some(0)), "{after}");
    assert_eq!(common::counter(&report, "vusers.failed"), 0);
    assert_eq!(common::counter(&report, "vusers.completed"), 10);
    assert_eq!(csv_failure_count(&stats, "missing"), "10", "{stats}");
    assert_eq!(csv_failure_count(&stats, "after"), "0", "{stats}");
    assert_eq!(csv_failure_count(&stats, "Aggregated"), "10", "{stats}");
    let rows: Vec<&str> = failures.lines().skip(1).collect();
    assert_eq!(rows, [",missing,HTTP 404: status not expected,10,,"], "{failures}");
    assert_eq!(summary_failures(&summary, "missing"), "10", "{summary}");
    assert_eq!(summary_failures(&summary, "after"), "0", "{summary}");
    assert_eq!(summary_failures(&summary, "Total"), "10", "{summary}");

    let (report, summary, stats, failures) = run_half_404("  http:\n    expectedStatus: [200-399, 404]");
    let missing = common::endpoint(&report, "missing");
    assert_eq!(
        (missing["requests"].as_u64(), missing["failures"].as_u64()),
        (Some(10), Some(0)),
        "{missing}"
    );
    assert!(missing.get("failed_codes").is_none(), "{missing}");
    assert_eq!(csv_failure_count(&stats, "missing"), "0", "{stats}");
    assert_eq!(failures.lines().count(), 1, "only the header: {failures}");
    assert_eq!(summary_failures(&summary, "Total"), "0", "{summary}");
}
