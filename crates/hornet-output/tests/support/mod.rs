//! A small deterministic report shared by the CSV, JUnit and summary-JSON tests, and the golden-file
//! helper. Built through `Recorder` and `Aggregator` with fixed timings, so nothing depends on the
//! clock: the start time, durations and version are fixed.

#![allow(dead_code)]

use std::path::PathBuf;
use std::time::{Duration, UNIX_EPOCH};

use hornet_metrics::{Aggregator, Apdex, CheckReport, ErrorKind, Recorder, Report, RunMeta, Timings};

/// Endpoint names with a comma, quotes and XML markup in them.
pub const SEARCH: &str = "GET /search?q=a,b";
pub const LOGIN: &str = "POST /login \"admin\"";
pub const HEALTH: &str = "health <check> & 'more'";

fn ms(total_ms: u64) -> Timings {
    Timings { total: Duration::from_millis(total_ms), ..Timings::default() }
}

/// Three ticks over 3.5 s, started at 2023-11-14T22:13:20.250Z:
///
/// * tick 1 (0–1 s, 2 VUs): `GET /search?q=a,b` answers 6 times in 1..=6 ms;
///   `POST /login "admin"` answers once (100 ms) and times out once;
/// * tick 2 (1–2.5 s, 3 VUs): search answers 4 times (10, 20, 30, 40 ms); login answers twice
///   (100, 120 ms) and times out once; a VU is cancelled outside any request;
/// * tick 3 (2.5–3.5 s, 0 VUs): nothing.
///
/// `health <check> & 'more'` is never requested. `expect` ran on search (`statusCode`, all held)
/// and login (`contentType`, 1 of 3 failed).
pub fn report() -> Report {
    let mut agg = Aggregator::new(vec![SEARCH.into(), LOGIN.into(), HEALTH.into()], vec!["browse".into()]);
    let mut r = Recorder::new(3, 1);

    for t in 1..=6 {
        r.vu_created(0);
        r.request_sent(0, 100);
        r.response(0, 200, &ms(t), 1_000);
        r.expectation(0, "statusCode", true);
        r.vu_completed(Duration::from_millis(10));
    }
    r.request_sent(1, 250);
    r.response(1, 201, &ms(100), 64);
    r.expectation(1, "contentType", true);
    r.request_sent(1, 250);
    r.error(Some(1), ErrorKind::Timeout, &"timed out after 5s, \"no response\"\nretry <later> & again");
    agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 2);

    for t in [10, 20, 30, 40] {
        r.vu_created(0);
        r.request_sent(0, 100);
        r.response(0, 200, &ms(t), 2_000);
        r.expectation(0, "statusCode", true);
        r.vu_completed(Duration::from_millis(50));
    }
    r.request_sent(1, 250);
    r.response(1, 201, &ms(100), 64);
    r.expectation(1, "contentType", false);
    r.error(Some(1), ErrorKind::ExpectationFailed, &"contentType: expected json, got 'text/html'");
    r.request_sent(1, 250);
    r.response(1, 201, &ms(120), 64);
    r.expectation(1, "contentType", true);
    r.request_sent(1, 250);
    r.error(Some(1), ErrorKind::Timeout, &"timed out after 5s");
    r.error(None, ErrorKind::Cancelled, &"run interrupted");
    agg.add_tick(Duration::from_millis(2_500), vec![r.take_interval()], 3);

    agg.add_tick(Duration::from_millis(3_500), vec![r.take_interval()], 0);

    let mut report = agg.report(RunMeta {
        script: Some("examples/shop & co.yml".into()),
        target: Some("http://127.0.0.1:8080".into()),
        started_at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_250),
        seed: 7,
        phases: serde_json::json!([{"duration": 3, "arrivalRate": 4}]),
        command: "hornet run \"examples/shop & co.yml\" --csv out".into(),
        ..RunMeta::for_tests(Duration::from_millis(3_500))
    });
    let check = |name: &str, ok: bool, strict: bool, detail: &str| CheckReport {
        name: name.into(),
        ok,
        strict,
        detail: detail.into(),
    };
    report.set_verdicts(
        vec![
            check("http.response_time.p95 < 200", true, true, "http.response_time.p95 was 100"),
            check("errors.timeout < 2", false, true, "errors.timeout was 2"),
            check("name == \"a<b\" && x & y", false, false, "x = \"<&>\", y = 'q'"),
            check(
                "expectations",
                false,
                true,
                "1 of 16 failed; most on `POST /login \"admin\"`: contentType failed 1 time(s)",
            ),
        ],
        Some(Apdex::from_counts(50.0, 10, 3, 0)),
    );
    report.warnings.push("the generator used 95% CPU for 10 s: it may be the bottleneck".into());
    report
}

/// A report of a run that sent nothing (one endpoint, one empty tick, no checks).
pub fn empty_report() -> Report {
    let mut agg = Aggregator::new(vec!["GET /".into()], vec!["s".into()]);
    agg.add_tick(Duration::from_secs(1), vec![Recorder::new(1, 1).take_interval()], 0);
    agg.report(RunMeta {
        started_at: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        seed: 1,
        command: "hornet".into(),
        ..RunMeta::for_tests(Duration::from_secs(1))
    })
}

/// Path of a golden file.
pub fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

/// Compares `actual` with the golden file `name`; with `UPDATE_GOLDEN=1` (re)writes it instead.
pub fn assert_golden(name: &str, actual: &str) {
    let path = golden_path(name);
    if std::env::var_os("UPDATE_GOLDEN").is_some_and(|v| v == "1") {
        std::fs::write(&path, actual).unwrap();
        return;
    }
    let expected = std::fs::read_to_string(&path).unwrap_or_else(|e| {
        panic!("cannot read {}: {e} (run with UPDATE_GOLDEN=1 to create it)", path.display())
    });
    assert!(
        expected == actual,
        "{name} differs from {} (run with UPDATE_GOLDEN=1 to update):\n--- expected\n{expected}\n--- actual\n{actual}",
        path.display()
    );
}
