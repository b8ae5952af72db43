//! The end-of-run summary, rendered from constructed reports.

use std::time::{Duration, UNIX_EPOCH};

use hornet_metrics::{
    Aggregator, Apdex, CheckReport, ErrorKind, GeneratorReport, Recorder, Report, RunMeta, Timings,
};
use hornet_output::summary;

fn timings(total_ms: u64, cold: bool) -> Timings {
    Timings {
        dns: cold.then(|| Duration::from_micros(800)),
        connect: cold.then(|| Duration::from_micros(1_500)),
        tls: None,
        wait: Duration::from_micros(total_ms * 900),
        receive: Duration::from_micros(total_ms * 50),
        total: Duration::from_millis(total_ms),
        corrected: None,
    }
}

/// 90 fast requests on `GET /` (1 ms), 10 slow ones on `POST /login` (100 ms), a few errors, over
/// a measured 4 s, with every arrival `lag_us` late.
fn report(lag_us: u64) -> Report {
    report_with(lag_us, None)
}

/// [`report`], with the `POST /login` responses measured `corrected_ms` from their intended start.
fn report_with(lag_us: u64, corrected_ms: Option<u64>) -> Report {
    let mut r = Recorder::new(2, 2);
    for n in 0..90 {
        r.vu_created(0);
        r.lag(Duration::from_micros(lag_us));
        r.request_sent(0, 120);
        let status = if n < 3 { 404 } else { 200 };
        r.response(0, status, &timings(1, n < 2), 2_048);
        r.expectation(0, "statusCode", status == 200);
        r.expectation(0, "hasProperty", true);
        r.vu_completed(Duration::from_millis(40));
    }
    for n in 0..12 {
        r.vu_created(1);
        r.lag(Duration::from_micros(lag_us));
        r.request_sent(1, 300);
        if n < 2 {
            r.error(Some(1), ErrorKind::Timeout, &"request timed out after 100ms\n(no response)");
            r.vu_failed();
        } else {
            let t = Timings { corrected: corrected_ms.map(Duration::from_millis), ..timings(100, false) };
            r.response(1, 201, &t, 512);
            r.expectation(1, "contentType", n != 5);
            r.vu_completed(Duration::from_millis(250));
        }
    }
    r.vu_skipped();
    r.error(None, ErrorKind::Cancelled, &"run interrupted");
    let mut agg =
        Aggregator::new(vec!["GET /".into(), "POST /login".into()], vec!["browse".into(), "buy".into()]);
    agg.add_tick(Duration::from_secs(4), vec![r.take_interval()], 0);
    agg.report(RunMeta {
        script: Some("examples/shop.yml".into()),
        target: Some("http://127.0.0.1:8080".into()),
        started_at: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        seed: 7,
        phases: serde_json::json!([{"duration": 4, "arrivalRate": 25}]),
        command: "hornet run examples/shop.yml".into(),
        ..RunMeta::for_tests(Duration::from_secs(4))
    })
}

fn check(name: &str, ok: bool, strict: bool, detail: &str) -> CheckReport {
    CheckReport { name: name.into(), ok, strict, detail: detail.into() }
}

/// `report(300)` with checks (one of each outcome) and an apdex stored, as the CLI does.
fn judged() -> Report {
    let mut r = report(300);
    r.set_verdicts(
        vec![
            check("http.response_time.p95 < 200", true, true, "http.response_time.p95 was 100"),
            check("errors.timeout < 2", false, true, "errors.timeout was 2"),
            check("http.request_rate > 1000", false, false, "http.request_rate = 25.5"),
            check(
                "expectations",
                false,
                true,
                "4 of 190 failed; most on `GET /`: statusCode failed 3 time(s)",
            ),
        ],
        Some(Apdex::from_counts(50.0, 90, 10, 0)),
    );
    r
}

/// The cells of the table row whose first cell is `name`.
fn row(text: &str, name: &str) -> Vec<String> {
    text.lines()
        .map(|l| l.split('|').map(|c| c.trim().to_owned()).collect::<Vec<_>>())
        .find(|cells| cells.get(1).is_some_and(|c| c == name))
        .unwrap_or_else(|| panic!("no row {name:?} in\n{text}"))[1..]
        .to_vec()
}

#[test]
fn summary_snapshot() {
    insta::assert_snapshot!(summary(&judged()));
}

#[test]
fn expectations_section_by_endpoint_and_kind() {
    let text = summary(&report(300));
    assert!(text.contains("\nExpectations: 4 of 190 failed (2.1%)\n"), "{text}");
    assert_eq!(row(&text, "Endpoint")[..4], ["Endpoint", "Requests", "Failures", "RPS"]);
    let rows: Vec<Vec<String>> = text
        .lines()
        .skip_while(|l| !l.starts_with("Expectations"))
        .filter(|l| l.starts_with("| ") && !l.starts_with("| Endpoint"))
        .map(|l| l.split('|').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect())
        .take(3)
        .collect();
    assert_eq!(
        rows,
        [
            ["GET /", "statusCode", "87", "3"],
            ["GET /", "hasProperty", "90", "0"],
            ["POST /login", "contentType", "9", "1"],
        ]
    );
    // No expectation evaluated, no section.
    let mut none = report(300);
    none.aggregate.counters.insert("plugins.expect.ok".into(), 0);
    none.aggregate.counters.insert("plugins.expect.failed".into(), 0);
    assert!(!summary(&none).contains("Expectations"));
}

#[test]
fn apdex_line_and_checks_with_the_verdict_last() {
    let text = summary(&judged());
    assert!(
        text.contains("\nApdex (T = 50 ms): 0.95 excellent (90 satisfied, 10 tolerated, 0 frustrated)\n"),
        "{text}"
    );
    let tail: Vec<&str> = text.lines().rev().take(6).collect::<Vec<_>>().into_iter().rev().collect();
    assert_eq!(
        tail,
        [
            "Checks",
            "  ok:   http.response_time.p95 < 200 (http.response_time.p95 was 100)",
            "  FAIL: errors.timeout < 2 (errors.timeout was 2)",
            "  warn: http.request_rate > 1000 (http.request_rate = 25.5)",
            "  FAIL: expectations (4 of 190 failed; most on `GET /`: statusCode failed 3 time(s))",
            "2 check(s) failed (1 warning)",
        ]
    );
    assert!(text.ends_with("(1 warning)\n"));

    // Only warnings: the run passed.
    let mut r = judged();
    r.checks.retain(|c| c.ok || !c.strict);
    assert!(summary(&r).ends_with(
        "  warn: http.request_rate > 1000 (http.request_rate = 25.5)\nAll checks passed (1 warning)\n"
    ));
    r.checks.retain(|c| c.ok);
    r.checks[0].detail.clear();
    assert!(summary(&r).ends_with("Checks\n  ok:   http.response_time.p95 < 200\nAll checks passed\n"));

    // Names come from the script: one line, whatever they contain.
    r.checks[0].name = "a\nb < 1".into();
    assert!(summary(&r).contains("  ok:   a b < 1\n"));

    // No responses: no score.
    r.apdex = Some(Apdex::from_counts(500.0, 0, 0, 0));
    assert!(summary(&r).contains("\nApdex (T = 500 ms): no responses\n"));

    // Without checks or apdex, neither section.
    let plain = summary(&report(300));
    assert!(!plain.contains("Checks") && !plain.contains("Apdex") && !plain.contains("checks passed"));
}

#[test]
fn endpoint_rows_and_total_from_the_aggregate() {
    let text = summary(&report(300));
    let header = row(&text, "Endpoint");
    assert_eq!(
        header,
        [
            "Endpoint", "Requests", "Failures", "RPS", "Min", "Median", "p90", "p95", "p99", "Max", "Mean",
            "Avg size", ""
        ]
    );
    assert_eq!(
        row(&text, "GET /"),
        ["GET /", "90", "3", "22.5", "1.00", "1.00", "1.00", "1.00", "1.00", "1.00", "1.00", "2.0 KiB", ""]
    );
    assert_eq!(
        row(&text, "POST /login"),
        [
            "POST /login",
            "12",
            "2",
            "3.0",
            "100.0",
            "100.0",
            "100.0",
            "100.0",
            "100.0",
            "100.0",
            "100.0",
            "512 B",
            ""
        ]
    );
    // Total: 102 requests / 4 s; all 3 errors (one outside any endpoint) and the 3 responses of
    // status 400 and above on GET / (failures too, since status-based failures); the median and p90 of the
    // merged histogram (1 ms), not the average of the rows' medians (50.5 ms); mean over all 100
    // responses (10.9 ms); average size 189 440 B / 100.
    assert_eq!(
        row(&text, "Total"),
        [
            "Total", "102", "6", "25.5", "1.00", "1.00", "1.00", "100.0", "100.0", "100.0", "10.9",
            "1.9 KiB", ""
        ]
    );
}

#[test]
fn codes_errors_vusers_and_breakdown_sections() {
    let text = summary(&report(300));
    assert_eq!(row(&text, "200")[..3], ["200", "87", "87.0%"]);
    assert_eq!(row(&text, "201")[..3], ["201", "10", "10.0%"]);
    assert_eq!(row(&text, "404")[..3], ["404", "3", "3.0%"]);
    assert!(text.contains("Errors: 3 (2.9% of requests)"), "{text}");
    assert_eq!(
        row(&text, "timeout"),
        ["timeout", "POST /login", "2", "request timed out after 100ms (no response)", ""]
    );
    assert_eq!(row(&text, "cancelled"), ["cancelled", "-", "1", "run interrupted", ""]);
    assert!(text.contains("  created:   102 (browse 90, buy 12)"), "{text}");
    assert!(text.contains("  completed: 100\n  failed:    2\n  skipped:   1"), "{text}");
    assert_eq!(row(&text, "dns")[..3], ["dns", "2", "0.80"]);
    assert_eq!(row(&text, "connect")[..4], ["connect", "2", "1.50", "1.50"]);
    assert!(!text.lines().any(|l| l.starts_with("| tls")), "no TLS happened: {text}");
    assert_eq!(row(&text, "wait (TTFB)")[..3], ["wait (TTFB)", "100", "0.90"]);
    assert!(!text.contains("INTERRUPTED"));
    assert!(text.is_ascii(), "{text}");
}

/// The line index of the first line containing `needle`.
fn line_of(text: &str, needle: &str) -> usize {
    text.lines().position(|l| l.contains(needle)).unwrap_or_else(|| panic!("no {needle:?} in\n{text}"))
}

#[test]
fn lag_warning_above_5ms_p99_once_near_the_top() {
    let low = summary(&report(300));
    assert!(low.contains("p99 0.30 ms"), "{low}");
    assert!(!low.contains("WARNING"), "{low}");

    // Raised live by the aggregator, stored in the report, printed once before the tables.
    let late = report(25_000);
    assert_eq!(late.warnings.len(), 1);
    let high = summary(&late);
    assert!(
        high.contains(
            "\nWARNING: the generator is falling behind its schedule: lag p99 25.0 ms; latency figures are \
             unreliable\n  The load generator itself limited or delayed the load: give hornet more CPU or \
             workers, or lower the load.\n"
        ),
        "{high}"
    );
    assert_eq!(high.matches("WARNING").count(), 1, "the run-wide check does not repeat it: {high}");
    assert!(line_of(&high, "WARNING") < line_of(&high, "Requests by endpoint"));
    assert!(high.contains("max 25.0 ms\n  (above 5 ms: see the warning at the top)\n"), "{high}");

    // A report written before warnings existed: the summary checks the run-wide p99 itself.
    let mut old = report(25_000);
    old.warnings.clear();
    let text = summary(&old);
    assert_eq!(text.matches("WARNING").count(), 1, "{text}");
    assert!(
        text.contains(
            "WARNING: the generator fell behind its schedule: lag p99 25.0 ms over the whole run; latency \
             figures are unreliable\n"
        ),
        "{text}"
    );

    // The boundary: exactly 5 ms is not a warning, anything above is.
    let mut r = report(300);
    r.aggregate.summaries.get_mut("schedule.lag").unwrap().p99 = 5.0;
    assert!(!summary(&r).contains("WARNING"));
    r.aggregate.summaries.get_mut("schedule.lag").unwrap().p99 = 5.001;
    assert_eq!(summary(&r).matches("WARNING").count(), 1);
}

#[test]
fn every_warning_of_the_report_is_shown_on_one_line() {
    let mut r = report(300);
    r.warnings = vec![
        "the generator used 97% CPU for 10 s: it may be the bottleneck".into(),
        "evil\nwarning\x1b[2J".into(),
    ];
    let text = summary(&r);
    assert!(
        text.contains(
            "\nWARNING: the generator used 97% CPU for 10 s: it may be the bottleneck\nWARNING: evil warning [2J\n"
        ),
        "{text}"
    );
    assert_eq!(text.matches("The load generator itself").count(), 1);
}

/// The rows (cells without the border) of the table that follows the line containing `heading`.
fn table_after(text: &str, heading: &str) -> Vec<Vec<String>> {
    text.lines()
        .skip(line_of(text, heading) + 1)
        .skip_while(|l| !l.starts_with('+'))
        .take_while(|l| l.starts_with('+') || l.starts_with('|'))
        .filter(|l| l.starts_with('|'))
        .map(|l| l.split('|').map(|c| c.trim().to_owned()).filter(|c| !c.is_empty()).collect())
        .collect()
}

#[test]
fn corrected_table_only_when_some_request_started_late() {
    const HEADING: &str = "Latency from intended start (coordinated-omission corrected; ms)";
    assert!(!summary(&report(300)).contains("Latency from intended start"));
    // An intended start equal to the actual start is no correction.
    let same = report_with(300, Some(100));
    assert!(!same.any_corrected);
    assert!(!summary(&same).contains("Latency from intended start"));

    let text = summary(&report_with(300, Some(250)));
    assert!(text.contains(HEADING), "{text}");
    assert!(line_of(&text, "Requests by endpoint") < line_of(&text, HEADING));
    assert!(line_of(&text, HEADING) < line_of(&text, "Status codes"));
    assert_eq!(
        table_after(&text, HEADING),
        [
            ["Endpoint", "p50", "p95", "p99", "Max"],
            ["GET /", "1.00", "1.00", "1.00", "1.00"],
            ["POST /login", "250.0", "250.0", "250.0", "250.0"],
            // 90 responses of 1 ms and 10 of 250 ms.
            ["Total", "1.00", "250.0", "250.0", "250.0"],
        ]
    );
    // The service-time table is unchanged.
    assert_eq!(row(&text, "POST /login")[8], "100.0");
}

#[test]
fn late_iterations_and_dropped_requests_only_when_non_zero() {
    let plain = summary(&report(300));
    assert!(!plain.contains("late:") && !plain.contains("dropped:"), "{plain}");
    let mut r = report(300);
    r.aggregate.counters.insert("vusers.iterations_late".into(), 3);
    r.aggregate.counters.insert("http.requests.dropped".into(), 12);
    let text = summary(&r);
    assert!(
        text.contains(
            "  skipped:   1 (maxVusers reached)\n  late:      3 paced iteration(s) started after their slot \
             (the previous iteration overran the pacing)\n  dropped:   12 request(s) never sent: a \
             request-rate token found no free VU (the rate was not reached)\n"
        ),
        "{text}"
    );
}

#[test]
fn generator_cpu_when_measured() {
    assert!(!summary(&report(300)).contains("Generator CPU"));
    let mut r = report(300);
    r.generator = Some(GeneratorReport { cpu_mean: 45.3, cpu_max: 97.0 });
    let text = summary(&r);
    assert!(
        text.contains("\nGenerator CPU (process CPU time / wall time / cores): mean 45.3%, max 97.0%\n"),
        "{text}"
    );
    assert!(line_of(&text, "Schedule lag") < line_of(&text, "Generator CPU"));
}

#[test]
fn the_workers_of_a_distributed_run_are_listed_with_their_shares_and_states() {
    assert!(!summary(&report(300)).contains("Workers"));
    let mut r = report(300);
    let worker =
        |index: usize, state: &str, share: f64, requests: u64| hornet_metrics::report::WorkerStatus {
            index,
            address: format!("127.0.0.1:{}", 5000 + index),
            host: "load1".into(),
            state: state.into(),
            weight: 1,
            share,
            active_vus: 0,
            rps: 0.0,
            requests,
            cpu: Some(12.5),
            lag_p99_ms: 0.1,
        };
    r.workers = vec![worker(0, "done", 0.75, 225), worker(1, "lost", 0.25, 40)];
    let text = summary(&r);
    assert!(text.contains("\nWorkers (each ran its share"), "{text}");
    assert!(text.contains("| 0 | load1 (127.0.0.1:5000) | done  | 75.0% |      225 | 12.5% |"), "{text}");
    assert!(text.contains("| 1 | load1 (127.0.0.1:5001) | lost  | 25.0% |       40 | 12.5% |"), "{text}");
}

#[test]
fn interrupted_and_empty_runs() {
    let mut r = report(300);
    r.run.interrupted = true;
    assert!(summary(&r).contains("INTERRUPTED: the run was stopped early"));

    let empty = Aggregator::new(vec!["GET /".into()], vec![]).report(RunMeta::for_tests(Duration::ZERO));
    let text = summary(&empty);
    assert_eq!(row(&text, "GET /")[..6], ["GET /", "0", "0", "0.0", "-", "-"]);
    assert_eq!(row(&text, "Total")[..6], ["Total", "0", "0", "0.0", "-", "-"]);
    assert!(!text.contains("Status codes") && !text.contains("Errors") && !text.contains("Schedule lag"));
    assert!(!text.contains("NaN") && !text.contains("inf"));
}

#[test]
fn summary_renders_the_same_from_json() {
    let r = judged();
    let back = Report::from_json(&r.to_json().unwrap()).unwrap();
    assert_eq!(summary(&back), summary(&r));
    // With every optional section.
    let mut r = report_with(25_000, Some(250));
    r.generator = Some(GeneratorReport { cpu_mean: 12.5, cpu_max: 50.0 });
    r.aggregate.counters.insert("http.requests.dropped".into(), 2);
    let back = Report::from_json(&r.to_json().unwrap()).unwrap();
    let text = summary(&back);
    assert_eq!(text, summary(&r));
    for part in ["WARNING", "Latency from intended start", "dropped:", "Generator CPU"] {
        assert!(text.contains(part), "{part} in {text}");
    }
}

#[test]
fn summary_snapshot_with_generator_sections() {
    let mut r = report_with(25_000, Some(250));
    r.generator = Some(GeneratorReport { cpu_mean: 93.4, cpu_max: 99.0 });
    r.warnings.push("the generator used 93% CPU for 10 s: it may be the bottleneck".into());
    r.aggregate.counters.insert("vusers.iterations_late".into(), 4);
    r.aggregate.counters.insert("http.requests.dropped".into(), 7);
    insta::assert_snapshot!(summary(&r));
}

#[test]
fn traced_runs_list_their_slowest_and_first_failed_requests_with_trace_ids() {
    use hornet_metrics::TracedRequest;
    let mut r = Recorder::new(2, 1);
    for n in 0..30u64 {
        let (ep, status) = (u32::from(n % 3 == 0), if n % 10 == 7 { 503 } else { 200 });
        r.request_sent(ep, 10);
        r.response(ep, status, &timings(n + 1, false), 10);
        let request = TracedRequest {
            trace_id: [n as u8 + 0x10; 16],
            span_id: [n as u8 + 0x20; 8],
            sampled: n % 2 == 0,
            latency_us: (n + 1) * 1_000,
            status,
            error: None,
            at_us: n * 100_000,
            failed: status == 503,
        };
        r.traced(ep, &request);
    }
    let mut agg = Aggregator::new(vec!["GET /".into(), "POST /login".into()], vec!["s".into()]);
    agg.add_tick(Duration::from_secs(3), vec![r.take_interval()], 0);
    let mut traced = agg.report(RunMeta::for_tests(Duration::from_secs(3)));
    let text = summary(&traced);
    let slowest = text.split("Slowest requests").nth(1).expect("a Slowest requests section");
    // The slowest is request 29 (30 ms, on GET /), its trace id in full.
    let first_row = slowest.lines().find(|l| l.contains("30.0")).expect("the 30 ms request");
    assert!(first_row.contains("GET /") && first_row.contains(&"2d".repeat(16)), "{first_row}");
    let failed = text.split("First failed requests").nth(1).expect("a failed section");
    assert!(failed.contains("503"), "{failed}");
    assert!(failed.contains(&"17".repeat(16)), "request 7 failed first: {failed}");
    // With --trace-link the trace column holds the links.
    traced.run.trace_link = Some("https://tempo.example/trace/{trace_id}?span={span_id}".into());
    let text = summary(&traced);
    assert!(
        text.contains(&format!("https://tempo.example/trace/{}?span={}", "2d".repeat(16), "3d".repeat(8))),
        "{text}"
    );
    // Without tracing there is no such section.
    assert!(!summary(&report(0)).contains("Slowest requests"));
}
