//! Locust-compatible CSV files: exact headers, golden rows of a constructed report, consistency
//! with the report's totals, and quoting.

mod support;

use std::collections::HashMap;

use hornet_output::csv::{LocustCsv, render_locust_csv, write_locust_csv};
use support::{HEALTH, LOGIN, SEARCH, assert_golden, empty_report, report};

const PERCENTILES: &str = "50%,66%,75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%";

fn render() -> LocustCsv {
    render_locust_csv(&report()).unwrap()
}

/// The records of a CSV text, header first, parsed back with a CSV reader.
fn records(text: &str) -> Vec<Vec<String>> {
    let mut reader = csv::ReaderBuilder::new().has_headers(false).from_reader(text.as_bytes());
    reader.records().map(|r| r.unwrap().iter().map(str::to_owned).collect()).collect()
}

/// The data rows as maps from column name to cell.
fn rows(text: &str) -> Vec<HashMap<String, String>> {
    let records = records(text);
    let header = &records[0];
    records[1..].iter().map(|r| header.iter().cloned().zip(r.iter().cloned()).collect()).collect()
}

fn header(text: &str) -> &str {
    text.lines().next().unwrap()
}

fn num(cell: &str) -> f64 {
    cell.parse().unwrap_or_else(|_| panic!("not a number: {cell:?}"))
}

#[test]
fn headers_are_locusts() {
    let csv = render();
    assert_eq!(
        header(&csv.stats),
        format!(
            "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,\
             Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,{PERCENTILES}"
        )
    );
    assert_eq!(
        header(&csv.stats_history),
        format!(
            "Timestamp,User Count,Type,Name,Requests/s,Failures/s,{PERCENTILES},Total Request Count,\
             Total Failure Count,Total Median Response Time,Total Average Response Time,\
             Total Min Response Time,Total Max Response Time,Total Average Content Size"
        )
    );
    assert_eq!(header(&csv.failures), "Method,Name,Error,Occurrences,First Seen,Last Seen");
    // The same headers when there is nothing to report.
    let empty = render_locust_csv(&empty_report()).unwrap();
    assert_eq!(header(&empty.stats), header(&csv.stats));
    assert_eq!(header(&empty.stats_history), header(&csv.stats_history));
    assert_eq!(empty.failures, "Method,Name,Error,Occurrences,First Seen,Last Seen\n");
}

#[test]
fn golden_files() {
    let csv = render();
    assert_golden("locust_stats.csv", &csv.stats);
    assert_golden("locust_stats_history.csv", &csv.stats_history);
    assert_golden("locust_failures.csv", &csv.failures);
}

#[test]
fn aggregated_row_matches_the_report() {
    let r = report();
    let stats = rows(&render().stats);
    assert_eq!(stats.len(), r.endpoints.len() + 1);
    let agg = stats.last().unwrap();
    assert_eq!(agg["Type"], "");
    assert_eq!(agg["Name"], "Aggregated");
    assert_eq!(num(&agg["Request Count"]) as u64, r.counter("http.requests"));
    assert_eq!(num(&agg["Failure Count"]) as u64, r.counter("errors"));
    let s = r.summary("http.response_time").unwrap();
    assert_eq!(num(&agg["Median Response Time"]), s.p50);
    assert_eq!(num(&agg["Average Response Time"]), s.mean);
    assert_eq!(num(&agg["Min Response Time"]), s.min);
    assert_eq!(num(&agg["Max Response Time"]), s.max);
    assert_eq!(num(&agg["50%"]), s.p50);
    assert_eq!(num(&agg["75%"]), s.p75);
    assert_eq!(num(&agg["90%"]), s.p90);
    assert_eq!(num(&agg["95%"]), s.p95);
    assert_eq!(num(&agg["99%"]), s.p99);
    assert_eq!(num(&agg["99.9%"]), s.p999);
    assert_eq!(num(&agg["100%"]), s.max, "100% is the exact max");
    assert_eq!(num(&agg["Requests/s"]), r.rate("http.request_rate"));
    // Computed from the merged histogram, not from the endpoint rows.
    let row_requests: f64 = stats[..stats.len() - 1].iter().map(|row| num(&row["Request Count"])).sum();
    assert_eq!(row_requests as u64, r.counter("http.requests"));

    // Per endpoint: the summary's figures, percentiles monotone and never above the max.
    for (row, e) in stats.iter().zip(&r.endpoints) {
        assert_eq!(num(&row["Request Count"]) as u64, e.requests, "{}", e.name);
        assert_eq!(num(&row["Failure Count"]) as u64, e.failures, "{}", e.name);
        if e.summary.count == 0 {
            assert!(PERCENTILES.split(',').all(|p| row[p] == "N/A"), "{row:?}");
            continue;
        }
        assert_eq!(num(&row["50%"]), e.summary.p50);
        assert_eq!(num(&row["95%"]), e.summary.p95);
        assert_eq!(num(&row["99%"]), e.summary.p99);
        let cells: Vec<f64> = PERCENTILES.split(',').map(|p| num(&row[p])).collect();
        assert!(cells.windows(2).all(|w| w[0] <= w[1]), "{cells:?}");
        assert_eq!(*cells.last().unwrap(), e.summary.max);
    }
}

#[test]
fn history_totals_end_at_the_report_totals() {
    let r = report();
    let csv = render();
    let history = rows(&csv.stats_history);
    assert_eq!(history.len(), r.intervals.len());
    assert!(history.iter().all(|h| h["Name"] == "Aggregated" && h["Type"].is_empty()));
    // Timestamps: the end of each point in Unix seconds (the run started at …000.250).
    let ts: Vec<&str> = history.iter().map(|h| h["Timestamp"].as_str()).collect();
    assert_eq!(ts, ["1700000001", "1700000002", "1700000003"]);
    let users: Vec<&str> = history.iter().map(|h| h["User Count"].as_str()).collect();
    assert_eq!(users, ["2", "3", "0"]);
    // Per point requests / point length, six decimals.
    assert_eq!(history[0]["Requests/s"], "8.000000");
    assert_eq!(history[1]["Requests/s"], "4.666667");
    assert_eq!(history[2]["Requests/s"], "0.000000");
    assert!(PERCENTILES.split(',').all(|p| history[2][p] == "N/A"));

    let last = history.last().unwrap();
    let agg = rows(&csv.stats).pop().unwrap();
    assert_eq!(num(&last["Total Request Count"]) as u64, r.counter("http.requests"));
    assert_eq!(num(&last["Total Failure Count"]) as u64, r.failures());
    for (total, column) in [
        ("Total Median Response Time", "Median Response Time"),
        ("Total Min Response Time", "Min Response Time"),
        ("Total Max Response Time", "Max Response Time"),
        ("Total Average Response Time", "Average Response Time"),
        ("Total Average Content Size", "Average Content Size"),
    ] {
        assert_eq!(last[total], agg[column], "{total}");
    }
    // Cumulative counts never decrease.
    let counts: Vec<f64> = history.iter().map(|h| num(&h["Total Request Count"])).collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]));
}

#[test]
fn failures_add_up_to_the_failure_count() {
    let r = report();
    let failures = rows(&render().failures);
    assert_eq!(failures.len(), r.errors.len());
    let total: u64 = failures.iter().map(|f| num(&f["Occurrences"]) as u64).sum();
    assert_eq!(total, r.counter("errors"));
    assert_eq!(failures[0]["Method"], "POST");
    assert_eq!(failures[0]["Name"], "/login \"admin\"");
    assert_eq!(failures[0]["Error"], "timeout: timed out after 5s, \"no response\"\nretry <later> & again");
    let unattributed = failures.last().unwrap();
    assert_eq!((unattributed["Method"].as_str(), unattributed["Name"].as_str()), ("", ""));
    assert_eq!(unattributed["Error"], "cancelled: run interrupted");
    assert!(failures.iter().all(|f| f["First Seen"].is_empty() && f["Last Seen"].is_empty()));
}

#[test]
fn names_with_commas_and_quotes_are_quoted_and_read_back() {
    let csv = render();
    // Minimal quoting, as Python's csv module: only fields that need it.
    assert!(csv.stats.contains("\nGET,\"/search?q=a,b\",10,0,"), "{}", csv.stats);
    assert!(csv.stats.contains("\nPOST,\"/login \"\"admin\"\"\",5,3,"), "{}", csv.stats);
    assert!(csv.stats.contains("\n,health <check> & 'more',0,0,0,0,0,0,0,0,0,N/A,"), "{}", csv.stats);
    let names: Vec<(String, String)> =
        rows(&csv.stats).into_iter().map(|r| (r["Type"].clone(), r["Name"].clone())).collect();
    let expected = [("GET", &SEARCH[4..]), ("POST", &LOGIN[5..]), ("", HEALTH), ("", "Aggregated")];
    assert_eq!(names, expected.map(|(t, n)| (t.to_owned(), n.to_owned())));
    // Every record has as many fields as its header.
    for text in [&csv.stats, &csv.stats_history, &csv.failures] {
        let records = records(text);
        assert!(records.iter().all(|r| r.len() == records[0].len()));
    }
}

#[test]
fn a_processors_metrics_get_a_file_of_their_own() {
    use hornet_metrics::RunMeta;
    let mut agg = hornet_metrics::Aggregator::new(vec!["GET /".into()], vec!["s".into()]);
    for tick in 0..2u64 {
        let mut r = hornet_metrics::Recorder::new(1, 1);
        r.custom_counter("orders.made", 3.0);
        r.custom_rate("logins");
        r.custom_histogram("cart.size", 2.0);
        r.custom_histogram("cart.size", 4.0);
        agg.add_tick(std::time::Duration::from_secs(tick + 1), vec![r.take_interval()], 1);
    }
    let report = agg.report(RunMeta {
        started_at: std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_700_000_000),
        ..RunMeta::for_tests(std::time::Duration::from_secs(2))
    });
    let csv = render_locust_csv(&report).unwrap();
    let text = csv.processor_metrics.expect("a processor metrics file");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Name,Kind,Count,Rate/s,Min,Median,90%,95%,99%,Max,Average");
    assert_eq!(lines[1], "orders.made,counter,6,3,,,,,,,");
    assert!(lines[2].starts_with("logins,rate,,"), "{text}");
    let cart = &report.aggregate.summaries["cart.size"];
    assert_eq!(
        lines[3],
        format!(
            "cart.size,histogram,4,,{},{},{},{},{},{},{}",
            cart.min, cart.median, cart.p90, cart.p95, cart.p99, cart.max, cart.mean
        )
    );
    assert_eq!(lines.len(), 4, "{text}");
    // Written beside the three Locust files; a run without a processor has none.
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("p").to_str().unwrap().to_owned();
    let paths = write_locust_csv(&report, &prefix).unwrap();
    assert_eq!(paths.len(), 4);
    assert_eq!(std::fs::read_to_string(&paths[3]).unwrap(), text);
    assert!(render().processor_metrics.is_none());
}

#[test]
fn writes_the_three_files() {
    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("run 1").to_str().unwrap().to_owned();
    let paths = write_locust_csv(&report(), &prefix).unwrap();
    let names: Vec<String> =
        paths.iter().map(|p| p.file_name().unwrap().to_str().unwrap().to_owned()).collect();
    assert_eq!(names, ["run 1_stats.csv", "run 1_stats_history.csv", "run 1_failures.csv"]);
    let csv = render();
    for (path, text) in paths.iter().zip([&csv.stats, &csv.stats_history, &csv.failures]) {
        assert_eq!(&std::fs::read_to_string(path).unwrap(), text);
    }
    // A missing directory is an error, and nothing is written.
    let missing = dir.path().join("missing").join("run").to_str().unwrap().to_owned();
    assert!(write_locust_csv(&report(), &missing).is_err());
}

#[test]
fn corrupt_reports_are_errors_not_panics() {
    let mut r = report();
    r.endpoints[0].histogram = "not base64!".into();
    let err = render_locust_csv(&r).unwrap_err();
    assert_eq!(err.kind(), std::io::ErrorKind::InvalidData);
    assert!(err.to_string().contains(SEARCH), "{err}");

    let dir = tempfile::tempdir().unwrap();
    let prefix = dir.path().join("run").to_str().unwrap().to_owned();
    assert!(write_locust_csv(&r, &prefix).is_err());
    assert!(std::fs::read_dir(dir.path()).unwrap().next().is_none(), "no file is left behind");

    let mut r = report();
    r.run.started_at = "yesterday".into();
    assert!(render_locust_csv(&r).unwrap_err().to_string().contains("started_at"));
}

#[test]
fn an_empty_run_has_zeros_and_na() {
    let csv = render_locust_csv(&empty_report()).unwrap();
    let stats = rows(&csv.stats);
    assert_eq!(stats.len(), 2);
    for row in &stats {
        assert_eq!(row["Request Count"], "0");
        assert_eq!(row["Median Response Time"], "0");
        assert_eq!(row["Requests/s"], "0");
        assert_eq!(row["100%"], "N/A");
    }
    let history = rows(&csv.stats_history);
    assert_eq!(history.len(), 1);
    assert_eq!(history[0]["Timestamp"], "1700000001");
    assert_eq!(history[0]["Total Median Response Time"], "0");
    assert_eq!(history[0]["50%"], "N/A");
}

#[test]
fn history_failures_count_unexpected_statuses_as_every_failures_figure_does() {
    use hornet_metrics::{Aggregator, ErrorKind, Recorder, RunMeta, Timings};
    use std::time::{Duration, UNIX_EPOCH};
    let mut agg = Aggregator::new(vec!["GET /".into()], vec!["s".into()]);
    let mut r = Recorder::new(1, 1);
    let t = Timings { total: Duration::from_millis(5), ..Timings::default() };
    // Tick 1: 2 answered 200, 3 answered 404, 1 timed out. Tick 2: 2 answered 500.
    for status in [200, 200, 404, 404, 404] {
        r.request_sent(0, 10);
        r.response(0, status, &t, 10);
    }
    r.request_sent(0, 10);
    r.error(Some(0), ErrorKind::Timeout, &"timed out");
    agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 1);
    for _ in 0..2 {
        r.request_sent(0, 10);
        r.response(0, 500, &t, 10);
    }
    agg.add_tick(Duration::from_secs(2), vec![r.take_interval()], 1);
    let report = agg.report(RunMeta {
        started_at: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        ..RunMeta::for_tests(Duration::from_secs(2))
    });
    assert_eq!(report.failures(), 6);
    let csv = render_locust_csv(&report).unwrap();
    let history = rows(&csv.stats_history);
    assert_eq!(history[0]["Total Failure Count"], "4");
    assert_eq!(history[0]["Failures/s"], "4.000000");
    assert_eq!(history[1]["Total Failure Count"], "6");
    assert_eq!(history[1]["Failures/s"], "2.000000");
    let stats = rows(&csv.stats);
    assert_eq!(stats.last().unwrap()["Failure Count"], "6", "the same figure as _stats.csv");
}
