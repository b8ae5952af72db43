//! Recorder → interval → aggregator → report, through the public API only.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hornet_metrics::report::{ReportError, SCHEMA};
use hornet_metrics::{
    Aggregator, Apdex, ApdexRating, CheckReport, ErrorKind, Interval, Recorder, Report, RunMeta, Summary,
    Tier, TimelinePolicy, Timings, decode_histogram,
};

fn meta(duration: Duration) -> RunMeta {
    RunMeta {
        script: Some("load.yml".into()),
        target: Some("http://127.0.0.1:8080".into()),
        started_at: UNIX_EPOCH + Duration::from_millis(1_700_000_000_123),
        seed: 42,
        phases: serde_json::json!([{"duration": 10, "arrivalRate": 5}]),
        command: "hornet run load.yml".into(),
        ..RunMeta::for_tests(duration)
    }
}

fn timings(total_us: u64) -> Timings {
    Timings {
        wait: Duration::from_micros(total_us * 3 / 4),
        receive: Duration::from_micros(total_us / 8),
        total: Duration::from_micros(total_us),
        ..Timings::default()
    }
}

fn names() -> (Vec<String>, Vec<String>) {
    (vec!["GET /".into(), "POST /login".into()], vec!["browse".into(), "buy".into()])
}

fn aggregator() -> Aggregator {
    let (e, s) = names();
    Aggregator::new(e, s)
}

/// A small, fully known workload spread over `threads` recorders.
fn known_workload(threads: usize) -> Vec<Interval> {
    let mut recs: Vec<Recorder> = (0..threads).map(|_| Recorder::new(2, 2)).collect();
    for n in 0..100_u64 {
        let r = &mut recs[n as usize % threads];
        let ep = u32::from(n % 4 >= 2);
        r.vu_created((n % 2) as usize);
        r.lag(Duration::from_micros(n * 10));
        r.request_sent(ep, 10);
        if n % 10 == 9 {
            r.error(Some(ep), ErrorKind::Timeout, &format_args!("timeout #{n}"));
            r.vu_failed();
        } else {
            let status = if n % 10 == 8 { 500 } else { 200 };
            let mut t = timings(1_000 + n * 100);
            if n < 4 {
                t.dns = Some(Duration::from_micros(50));
                t.connect = Some(Duration::from_micros(200));
            }
            r.response(ep, status, &t, 1_000);
            r.vu_completed(Duration::from_millis(20 + n));
        }
    }
    recs[0].vu_skipped();
    recs[0].error(None, ErrorKind::Cancelled, &"stopped");
    recs.iter_mut().map(Recorder::take_interval).collect()
}

#[test]
fn a_status_counts_as_a_failure_unless_it_is_expected() {
    let mut agg = aggregator();
    agg.set_expected_status(vec![200..=299, 500..=500]);
    agg.add_tick(Duration::from_secs(1), known_workload(1), 7);
    let live: Vec<u64> = agg.live_endpoints().iter().map(|e| e.failures).collect();
    let r = agg.report(meta(Duration::from_secs(1)));
    let get = &r.endpoints[0];
    assert_eq!((get.failures, get.failed_codes.len()), (5, 0), "only the 5 timeouts");
    assert_eq!(live[0], 5);
    assert_eq!(r.failures(), r.aggregate.counters["errors"]);
}

#[test]
fn counts_are_exact_from_recorder_to_report() {
    let mut agg = aggregator();
    agg.add_tick(Duration::from_secs(1), known_workload(1), 7);
    let r = agg.report(meta(Duration::from_secs(1)));
    let c = |k: &str| r.aggregate.counters.get(k).copied();
    assert_eq!(c("http.requests"), Some(100));
    assert_eq!(c("http.responses"), Some(90));
    assert_eq!(c("http.codes.200"), Some(80));
    assert_eq!(c("http.codes.500"), Some(10));
    assert_eq!(c("http.downloaded_bytes"), Some(90_000));
    assert_eq!(c("http.uploaded_bytes"), Some(1_000));
    assert_eq!(c("errors.timeout"), Some(10));
    assert_eq!(c("errors.cancelled"), Some(1));
    assert_eq!(c("errors"), Some(11));
    assert_eq!(c("errors.dns"), None, "kinds that never happened are absent");
    assert_eq!(c("vusers.created"), Some(100));
    assert_eq!(c("vusers.created_by_name.browse"), Some(50));
    assert_eq!(c("vusers.created_by_name.buy"), Some(50));
    assert_eq!(c("vusers.completed"), Some(90));
    assert_eq!(c("vusers.failed"), Some(10));
    assert_eq!(c("vusers.skipped"), Some(1));

    let s = |k: &str| r.aggregate.summaries.get(k).copied();
    assert_eq!(s("http.response_time").unwrap().count, 90);
    assert_eq!(s("http.response_time.2xx").unwrap().count, 80);
    assert_eq!(s("http.response_time.5xx").unwrap().count, 10);
    assert_eq!(s("http.response_time.4xx"), None, "classes without responses are absent");
    assert_eq!(s("http.dns").unwrap().count, 4);
    assert_eq!(s("http.connect").unwrap().max, 0.2);
    assert_eq!(s("http.tls"), None);
    assert_eq!(s("http.wait").unwrap().count, 90);
    assert_eq!(s("http.receive").unwrap().count, 90);
    assert_eq!(s("vusers.session_length").unwrap().count, 90);
    assert_eq!(s("schedule.lag").unwrap().count, 100);
    assert_eq!(s("schedule.lag").unwrap().max, 0.99);
    assert_eq!(s("http.response_time").unwrap().min, 1.0);
    assert_eq!(s("http.response_time").unwrap().max, 10.8);
    for key in r.aggregate.summaries.keys() {
        assert!(r.aggregate.histograms.contains_key(key), "{key} has a histogram");
    }

    assert_eq!(r.endpoints.len(), 2);
    let get = &r.endpoints[0];
    assert_eq!(get.name, "GET /");
    // 5 timeouts and 5 responses of status 500: a status of 400 and above is a failure.
    assert_eq!((get.requests, get.responses, get.failures), (50, 45, 10));
    assert_eq!(get.codes.get("200"), Some(&40));
    assert_eq!(get.codes.get("500"), Some(&5));
    assert_eq!(get.failed_codes, [("500".to_string(), 5)].into());
    assert_eq!(get.errors.get(&ErrorKind::Timeout), Some(&5));
    assert_eq!(get.bytes_received, 45_000);
    assert_eq!(get.summary.count, 45);
    assert_eq!(decode_histogram(&get.histogram).unwrap().len(), 45);

    assert_eq!(r.errors.len(), 3);
    assert_eq!(r.errors[0].endpoint.as_deref(), Some("GET /"));
    assert_eq!(r.errors[0].first_message, "timeout #9");
    assert_eq!(r.errors[0].count, 5);
    assert_eq!(r.errors[1].endpoint.as_deref(), Some("POST /login"));
    assert_eq!(r.errors[1].first_message, "timeout #19");
    assert_eq!(r.errors[2].endpoint, None);
    assert_eq!(r.errors[2].kind, ErrorKind::Cancelled);

    assert_eq!(r.schema, SCHEMA);
    assert_eq!(r.run.started_at, "2023-11-14T22:13:20.123Z");
    assert_eq!(r.run.duration_s, 1.0);
    assert_eq!(r.intervals.len(), 1);
    assert_eq!(r.intervals[0].active_vus, 7);
}

/// The report with its histogram strings replaced by their decoded contents, so reports built from
/// differently sized (but equal) histograms compare equal.
fn normalized(mut r: Report) -> Report {
    let fingerprint = |b64: &mut String| {
        let h = decode_histogram(b64).unwrap();
        *b64 = format!(
            "{:?}",
            h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect::<Vec<_>>()
        );
    };
    r.aggregate.histograms.values_mut().for_each(fingerprint);
    r.endpoints.iter_mut().for_each(|e| fingerprint(&mut e.histogram));
    r.intervals.iter_mut().flat_map(|i| i.histograms.values_mut()).for_each(fingerprint);
    r
}

#[test]
fn merging_threads_gives_the_same_report_as_one_thread() {
    let mut one = aggregator();
    one.add_tick(Duration::from_secs(1), known_workload(1), 3);
    let mut four = aggregator();
    four.add_tick(Duration::from_secs(1), known_workload(4), 3);
    let a = normalized(one.report(meta(Duration::from_secs(1))));
    let b = normalized(four.report(meta(Duration::from_secs(1))));
    // The first message per (endpoint, kind) depends on which thread saw it first; counts do not.
    let strip = |mut r: Report| {
        r.errors.iter_mut().for_each(|e| e.first_message.clear());
        r
    };
    assert_eq!(strip(a), strip(b));
}

fn requests(n: u64) -> Interval {
    let mut r = Recorder::new(2, 2);
    for _ in 0..n {
        r.request_sent(0, 0);
        r.response(0, 200, &timings(2_000), 0);
    }
    r.take_interval()
}

#[test]
fn request_rate_is_count_over_measured_duration_not_an_average_of_tick_rates() {
    let mut agg = aggregator();
    // 10 requests in a 0.5 s tick (20/s), then 10 in a 2 s tick (5/s), then an empty 0.5 s tick.
    agg.add_tick(Duration::from_millis(500), vec![requests(10)], 1);
    assert_eq!(agg.live().rps, 20.0);
    agg.add_tick(Duration::from_millis(2_500), vec![requests(6), requests(4)], 1);
    assert_eq!(agg.live().rps, 5.0);
    agg.add_tick(Duration::from_millis(3_000), vec![], 0);
    assert_eq!(agg.live().rps, 0.0);

    let r = agg.report(meta(Duration::from_secs(3)));
    let rate = r.rate("http.request_rate");
    assert!((rate - 20.0 / 3.0).abs() < 1e-9, "rate {rate}");
    let average_of_tick_rates = (20.0 + 5.0 + 0.0) / 3.0;
    assert!((rate - average_of_tick_rates).abs() > 1.0);

    let ticks: Vec<(f64, f64, f64)> =
        r.intervals.iter().map(|i| (i.t_s, i.duration_s, i.rates["http.request_rate"])).collect();
    assert_eq!(ticks, vec![(0.0, 0.5, 20.0), (0.5, 2.0, 5.0), (2.5, 0.5, 0.0)]);
}

#[test]
fn a_final_partial_tick_is_folded_into_the_one_before_and_never_reads_as_a_spike() {
    let mut agg = aggregator();
    // Whole seconds of 100 requests, then the run's last 33 ms with 8.
    agg.add_tick(Duration::from_secs(1), vec![requests(100)], 1);
    agg.add_tick(Duration::from_secs(2), vec![requests(100)], 1);
    agg.add_tick(Duration::from_millis(2_033), vec![requests(8)], 0);
    // Live: the short tick is shown with the one before it, not as 8 / 0.033 = 242/s.
    let live = agg.live();
    assert!((live.rps - 108.0 / 1.033).abs() < 1e-6, "{}", live.rps);
    assert_eq!(live.requests, 208);

    let r = agg.report(meta(Duration::from_millis(2_033)));
    let points: Vec<(f64, f64, u64)> =
        r.intervals.iter().map(|i| (i.t_s, i.duration_s, i.counters["http.requests"])).collect();
    assert_eq!(points, vec![(0.0, 1.0, 100), (1.0, 1.033, 108)]);
    let folded = &r.intervals[1];
    assert!((folded.rates["http.request_rate"] - 108.0 / 1.033).abs() < 1e-6);
    assert_eq!(folded.summaries["http.response_time"].count, 108, "the histograms are merged too");
    assert_eq!(r.counter("http.requests"), 208, "totals are unchanged");
}

#[test]
fn live_snapshot_reports_last_tick_and_totals() {
    let mut agg = aggregator();
    assert_eq!(agg.live().requests, 0);
    agg.add_tick(Duration::from_secs(1), known_workload(2), 12);
    agg.add_tick(Duration::from_secs(2), vec![requests(4)], 9);
    let live = agg.live();
    assert_eq!(live.elapsed, Duration::from_secs(2));
    assert_eq!(live.active_vus, 9);
    assert_eq!(live.rps, 4.0);
    assert_eq!((live.p50_ms, live.p95_ms, live.p99_ms), (2.0, 2.0, 2.0));
    assert_eq!(live.requests, 104);
    assert_eq!(live.errors, 11);
    assert_eq!((live.vus_created, live.vus_completed, live.vus_failed), (100, 90, 10));
}

#[test]
fn percentiles_in_the_report_never_exceed_max() {
    let mut r = Recorder::new(1, 0);
    for _ in 0..1_000 {
        r.request_sent(0, 0);
        r.response(0, 200, &timings(123_456), 0);
    }
    let mut agg = Aggregator::new(vec!["x".into()], vec![]);
    agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 0);
    let report = agg.report(meta(Duration::from_secs(1)));
    let s = report.summary("http.response_time").unwrap();
    // HdrHistogram alone would answer the top of the bucket (123.519 ms) for every percentile.
    let raw = decode_histogram(&report.aggregate.histograms["http.response_time"]).unwrap();
    assert!(raw.value_at_quantile(0.999) > 123_456);
    assert_eq!((s.min, s.max, s.mean), (123.456, 123.456, 123.456));
    assert_eq!([s.p50, s.p75, s.p90, s.p95, s.p99, s.p999], [123.456; 6]);
    assert_eq!(report.intervals[0].summaries["http.response_time"].p99, 123.456);
}

#[test]
fn report_json_round_trips() {
    let mut agg = aggregator();
    agg.add_tick(Duration::from_millis(1_003), known_workload(3), 5);
    agg.add_tick(Duration::from_millis(2_017), vec![requests(3)], 4);
    let mut m = meta(Duration::from_micros(2_017_345));
    m.interrupted = true;
    let report = agg.report(m);
    let json = report.to_json().unwrap();
    assert!(!json.contains("NaN") && !json.contains("Infinity"));
    let back = Report::from_json(&json).unwrap();
    assert_eq!(back, report);
    assert!(back.run.interrupted);
    assert_eq!(back.run.duration_s, 2.017345);
    // Histograms re-render the same summary from the JSON alone (bucket-level min/max aside).
    let h = decode_histogram(&back.aggregate.histograms["http.response_time"]).unwrap();
    let again = Summary::from_histogram(&h);
    let orig = back.aggregate.summaries["http.response_time"];
    assert_eq!(again.count, orig.count);
    assert!((again.p99 - orig.p99).abs() <= orig.p99 * 0.001 + 0.001);
    // The JSON uses the documented names.
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["schema"], "hornet-report/1");
    assert_eq!(v["endpoints"][0]["errors"]["timeout"], 5);
    assert_eq!(v["errors"][2]["kind"], "cancelled");
    assert!(v["errors"][2]["endpoint"].is_null());
    assert!(v["aggregate"]["summaries"]["http.response_time"]["p999"].is_f64());
}

#[test]
fn from_json_rejects_other_schemas_and_bad_input() {
    assert!(matches!(
        Report::from_json(r#"{"schema": "hornet-report/2"}"#),
        Err(ReportError::Schema { found: Some(s) }) if s == "hornet-report/2"
    ));
    assert!(matches!(Report::from_json(r#"{"aggregate": {}}"#), Err(ReportError::Schema { found: None })));
    assert!(matches!(Report::from_json("[1, 2"), Err(ReportError::Json(_))));
    assert!(matches!(
        Report::from_json(r#"{"schema": "hornet-report/1", "run": 3}"#),
        Err(ReportError::Json(_))
    ));
}

#[test]
fn empty_run_reports_zeros_not_nan() {
    let agg = aggregator();
    let r = agg.report(meta(Duration::ZERO));
    assert_eq!(r.rate("http.request_rate"), 0.0);
    let s = r.summary("http.response_time").unwrap();
    assert_eq!(*s, Summary::default());
    assert_eq!(r.endpoints.len(), 2);
    assert_eq!(r.endpoints[1].summary.count, 0);
    assert!(decode_histogram(&r.endpoints[1].histogram).unwrap().is_empty());
    let json = r.to_json().unwrap();
    assert!(!json.contains("NaN") && !json.contains("Infinity"));
    assert_eq!(Report::from_json(&json).unwrap(), r);
}

#[test]
fn started_at_before_the_epoch_does_not_panic() {
    let mut m = meta(Duration::from_secs(1));
    m.started_at = UNIX_EPOCH - Duration::from_secs(10);
    assert_eq!(aggregator().report(m).run.started_at, "1970-01-01T00:00:00.000Z");
    let mut m = meta(Duration::from_secs(1));
    m.started_at = SystemTime::now();
    assert!(aggregator().report(m).run.started_at.ends_with('Z'));
}

/// Runs `ticks` ticks of irregular length (0.75 s .. 1.25 s) with `(tick % 7) + 1` requests each.
/// Returns the aggregator, the elapsed time and the number of requests.
fn long_run(policy: TimelinePolicy, ticks: u64) -> (Aggregator, Duration, u64) {
    let (e, s) = names();
    let mut agg = Aggregator::with_timeline_policy(e, s, policy);
    let mut elapsed = Duration::ZERO;
    let mut sent = 0;
    let mut max_points = 0;
    for tick in 0..ticks {
        elapsed += Duration::from_millis(750 + (tick * 37) % 500);
        let n = tick % 7 + 1;
        sent += n;
        let mut r = Recorder::new(2, 2);
        for k in 0..n {
            r.request_sent(0, 0);
            r.response(0, 200, &timings(1_000 + tick % 1_000 + k), 1);
        }
        if tick % 11 == 0 {
            r.error(Some(1), ErrorKind::Timeout, &"slow");
        }
        agg.add_tick(elapsed, vec![r.take_interval()], tick % 50);
        max_points = max_points.max(agg.timeline_len());
    }
    assert!(max_points <= agg.timeline_len() + 30, "the timeline never balloons between compactions");
    (agg, elapsed, sent)
}

fn check_timeline(r: &Report, elapsed: Duration, sent: u64) {
    let sum = |k: &str| r.intervals.iter().map(|i| i.counters[k]).sum::<u64>();
    assert_eq!(sum("http.requests"), sent);
    assert_eq!(sum("http.requests"), r.counter("http.requests"));
    assert_eq!(sum("http.responses"), r.counter("http.responses"));
    assert_eq!(sum("http.codes.200"), r.counter("http.codes.200"));
    assert_eq!(sum("errors"), r.counter("errors"));
    assert_eq!(sum("http.downloaded_bytes"), r.counter("http.downloaded_bytes"));
    let hist_total: u64 = r
        .intervals
        .iter()
        .map(|i| decode_histogram(&i.histograms["http.response_time"]).unwrap().len())
        .sum();
    assert_eq!(hist_total, sent);
    let summary_total: u64 = r.intervals.iter().map(|i| i.summaries["http.response_time"].count).sum();
    assert_eq!(summary_total, sent);
    // Points are contiguous and cover the whole run.
    let mut t = 0.0;
    for i in &r.intervals {
        assert!((i.t_s - t).abs() < 1e-6, "gap at {t}");
        t = i.t_s + i.duration_s;
        let expect = i.counters["http.requests"] as f64 / i.duration_s;
        assert!((i.rates["http.request_rate"] - expect).abs() < 1e-6);
        assert!(i.active_vus <= i.active_vus_max);
    }
    assert!((t - elapsed.as_secs_f64()).abs() < 1e-6);
}

#[test]
fn default_downsampling_keeps_counts_exact_and_bounds_points() {
    // Two hours of ticks.
    let (agg, elapsed, sent) = long_run(TimelinePolicy::default(), 7_200);
    let r = agg.report(meta(elapsed));
    check_timeline(&r, elapsed, sent);
    // ~120 one-second points, ~348 ten-second points, ~60 one-minute points.
    let n = r.intervals.len();
    assert!((510..=560).contains(&n), "{n} points");
    let widths =
        |lo: f64, hi: f64| r.intervals.iter().filter(|i| i.duration_s >= lo && i.duration_s < hi).count();
    assert!(widths(50.0, 70.0) >= 55, "one-minute points in the first hour");
    assert!(widths(8.0, 12.5) >= 330, "ten-second points between 2 min and 1 h ago");
    let recent = r.intervals.iter().filter(|i| i.t_s >= elapsed.as_secs_f64() - 120.0).count();
    assert!(recent >= 115 && r.intervals.iter().rev().take(115).all(|i| i.duration_s <= 1.25));
}

#[test]
fn small_policy_bounds_points_for_a_long_run() {
    // Scaled-down tiers so the test stays fast: 1 s for the last 20 s, 5 s up to 60 s, then 30 s.
    let policy = TimelinePolicy {
        tiers: vec![
            Tier { min_age: Duration::from_secs(20), width: Duration::from_secs(5) },
            Tier { min_age: Duration::from_secs(60), width: Duration::from_secs(30) },
        ],
    };
    let (agg, elapsed, sent) = long_run(policy, 3_000);
    let r = agg.report(meta(elapsed));
    check_timeline(&r, elapsed, sent);
    // 20 s of ticks as short as 0.75 s, 8 five-second points, 125 thirty-second points, plus the
    // partial bucket at each tier boundary.
    let bound = 28 + 8 + 8 + 126 + 8;
    assert!(r.intervals.len() <= bound, "{} points > {bound}", r.intervals.len());
    assert!(r.intervals.len() >= 100);
}

#[test]
fn expectations_become_artillery_counters_and_endpoint_figures() {
    let mut rec = Recorder::new(2, 1);
    for n in 0..10 {
        rec.expectation(0, "statusCode", n != 0);
        rec.expectation(0, "hasProperty", true);
    }
    rec.expectation(1, "contentType", false);
    rec.expectation(1, "contentType", false);
    rec.expectation(1, "jmespath", false);
    let mut agg = aggregator();
    agg.add_tick(Duration::from_secs(1), vec![rec.take_interval()], 0);
    let r = agg.report(meta(Duration::from_secs(1)));
    let c = |k: &str| r.aggregate.counters.get(k).copied();
    assert_eq!(c("plugins.expect.ok"), Some(19));
    assert_eq!(c("plugins.expect.failed"), Some(4));
    assert_eq!(c("plugins.expect.ok.statusCode"), Some(9));
    assert_eq!(c("plugins.expect.failed.statusCode"), Some(1));
    assert_eq!(c("plugins.expect.ok.hasProperty"), Some(10));
    assert_eq!(c("plugins.expect.failed.hasProperty"), None, "zero per-kind counters are absent");
    assert_eq!(c("plugins.expect.failed.contentType"), Some(2));
    assert_eq!(c("plugins.expect.failed.other"), Some(1));

    let e0 = &r.endpoints[0].expectations;
    assert_eq!((e0.ok, e0.failed, e0.evaluated()), (19, 1, 20));
    assert_eq!(e0.ok_by_kind.get("hasProperty"), Some(&10));
    assert_eq!(e0.failed_by_kind.len(), 1);
    assert_eq!(e0.failed_by_kind.get("statusCode"), Some(&1));
    let e1 = &r.endpoints[1].expectations;
    assert_eq!((e1.ok, e1.failed), (0, 3));
    assert!(e1.ok_by_kind.is_empty());

    let v: serde_json::Value = serde_json::from_str(&r.to_json().unwrap()).unwrap();
    assert_eq!(v["endpoints"][1]["expectations"]["failed_by_kind"]["contentType"], 2);
    assert_eq!(v["endpoints"][1]["expectations"]["failed"], 3);

    // Without any expectation the totals are still there, as zeros.
    let empty = aggregator().report(meta(Duration::from_secs(1)));
    assert_eq!(empty.aggregate.counters.get("plugins.expect.ok"), Some(&0));
    assert_eq!(empty.aggregate.counters.get("plugins.expect.failed"), Some(&0));
    assert_eq!(empty.endpoints[0].expectations.evaluated(), 0);
}

#[test]
fn apdex_is_computed_from_the_report_histogram() {
    let mut rec = Recorder::new(1, 0);
    // T = 100 ms: 8 satisfied (50 ms, 100 ms), 1 tolerated (400 ms), 1 frustrated (401 ms).
    for ms in [50, 50, 50, 50, 50, 50, 50, 100, 400, 401] {
        rec.request_sent(0, 0);
        rec.response(0, 200, &timings(ms * 1_000), 0);
    }
    let mut agg = Aggregator::new(vec!["GET /".into()], vec![]);
    agg.add_tick(Duration::from_secs(1), vec![rec.take_interval()], 0);
    let r = agg.report(meta(Duration::from_secs(1)));
    let a = r.compute_apdex(100.0).unwrap();
    assert_eq!((a.satisfied, a.tolerated, a.frustrated), (8, 1, 1));
    assert!((a.score - 0.85).abs() < 1e-12);
    assert_eq!(a.rating, ApdexRating::Good);

    let mut broken = r.clone();
    broken.aggregate.histograms.insert("http.response_time".into(), "not base64!".into());
    assert!(broken.compute_apdex(100.0).is_err());
    broken.aggregate.histograms.clear();
    assert!(broken.compute_apdex(100.0).is_err());
}

#[test]
fn checks_and_apdex_round_trip_and_older_reports_still_load() {
    let mut agg = aggregator();
    agg.add_tick(Duration::from_secs(1), known_workload(2), 1);
    let mut r = agg.report(meta(Duration::from_secs(1)));
    assert!(r.checks.is_empty() && r.apdex.is_none());
    assert_eq!(r.failed_checks(), 0);
    let checks = vec![
        CheckReport {
            name: "http.response_time.p95 < 200".into(),
            ok: true,
            strict: true,
            detail: "http.response_time.p95 was 10.7".into(),
        },
        CheckReport { name: "errors.timeout < 5".into(), ok: false, strict: true, detail: "was 10".into() },
        CheckReport { name: "http.request_rate > 1e6".into(), ok: false, strict: false, detail: "".into() },
    ];
    r.set_verdicts(checks.clone(), Some(Apdex::from_counts(500.0, 90, 6, 4)));
    assert_eq!(r.failed_checks(), 1, "only strict failures count");
    let json = r.to_json().unwrap();
    let back = Report::from_json(&json).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.checks, checks);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["checks"][1]["ok"], false);
    assert_eq!(v["apdex"]["rating"], "good");
    assert_eq!(v["apdex"]["tolerated"], 6);

    // A report written before checks, apdex and expectations existed.
    let mut old: serde_json::Value = serde_json::from_str(&json).unwrap();
    let top = old.as_object_mut().unwrap();
    top.remove("checks");
    top.remove("apdex");
    for e in top["endpoints"].as_array_mut().unwrap() {
        e.as_object_mut().unwrap().remove("expectations");
    }
    let old = Report::from_json(&old.to_string()).unwrap();
    assert!(old.checks.is_empty() && old.apdex.is_none());
    assert_eq!(old.endpoints[0].expectations.evaluated(), 0);
}

/// `GET /` (endpoint 0): 10 responses of 2 ms, no intended start. `POST /login` (endpoint 1):
/// 10 responses of 3 ms whose intended start was 50 ms earlier than their actual start.
fn corrected_workload() -> Interval {
    let mut r = Recorder::new(2, 2);
    for _ in 0..10 {
        r.request_sent(0, 0);
        r.response(0, 200, &timings(2_000), 0);
        r.request_sent(1, 0);
        let t = Timings { corrected: Some(Duration::from_micros(53_000)), ..timings(3_000) };
        r.response(1, 200, &t, 0);
    }
    r.take_interval()
}

#[test]
fn corrected_latency_reaches_the_report_per_endpoint_and_per_interval() {
    let mut agg = aggregator();
    agg.add_tick(Duration::from_secs(1), vec![corrected_workload()], 2);
    agg.add_tick(Duration::from_secs(2), vec![requests(4)], 2);
    let r = agg.report(meta(Duration::from_secs(2)));
    assert!(r.any_corrected);

    // Service time is unchanged; the corrected histogram holds 2 ms (no intended start) and 53 ms.
    let service = r.summary("http.response_time").unwrap();
    assert_eq!((service.count, service.max), (24, 3.0));
    let corr = r.summary("http.response_time.corrected").unwrap();
    assert_eq!((corr.count, corr.min, corr.max, corr.p50), (24, 2.0, 53.0, 2.0));
    assert_eq!(decode_histogram(&r.aggregate.histograms["http.response_time.corrected"]).unwrap().len(), 24);

    let get = &r.endpoints[0];
    assert_eq!(get.summary_corrected, get.summary, "without an intended start, corrected = service time");
    assert_eq!(
        decode_histogram(&get.histogram_corrected).unwrap(),
        decode_histogram(&get.histogram).unwrap()
    );
    let login = &r.endpoints[1];
    assert_eq!((login.summary.max, login.summary.p99), (3.0, 3.0));
    assert_eq!((login.summary_corrected.count, login.summary_corrected.min), (10, 53.0));
    assert_eq!(login.summary_corrected.p99, 53.0);
    assert_eq!(decode_histogram(&login.histogram_corrected).unwrap().max(), 53_023, "top of 53 ms's bucket");

    // Per interval: the tick with corrections, and one without (corrected = service time).
    let first = &r.intervals[0];
    assert_eq!(first.summaries["http.response_time.corrected"].max, 53.0);
    assert_eq!(first.summaries["http.response_time"].max, 3.0);
    assert_eq!(decode_histogram(&first.histograms["http.response_time.corrected"]).unwrap().len(), 20);
    let second = &r.intervals[1];
    assert_eq!(second.summaries["http.response_time.corrected"], second.summaries["http.response_time"]);
    assert_eq!(second.summaries["http.response_time.corrected"].count, 4);

    // A run without any correction says so.
    let mut plain = aggregator();
    plain.add_tick(Duration::from_secs(1), vec![requests(5)], 1);
    let p = plain.report(meta(Duration::from_secs(1)));
    assert!(!p.any_corrected);
    assert_eq!(p.summary("http.response_time.corrected"), p.summary("http.response_time"));
}

#[test]
fn live_snapshot_has_corrected_p99_drops_and_cpu() {
    let mut agg = aggregator();
    let mut tick = corrected_workload();
    let mut r = Recorder::new(2, 2);
    r.dropped();
    r.dropped();
    tick.merge(&r.take_interval());
    agg.add_tick(Duration::from_secs(1), vec![tick], 3);
    let live = agg.live();
    assert_eq!((live.p99_ms, live.p99_corrected_ms), (3.0, 53.0));
    assert_eq!(live.dropped, 2);
    assert_eq!(live.cpu_percent, None, "not recorded yet");
    agg.record_generator(37.5);
    assert_eq!(agg.live().cpu_percent, Some(37.5));

    // The next tick: no correction, one more drop; CPU is per tick.
    let mut r = Recorder::new(2, 2);
    r.dropped();
    let mut tick = requests(3);
    tick.merge(&r.take_interval());
    agg.add_tick(Duration::from_secs(2), vec![tick], 3);
    let live = agg.live();
    assert_eq!((live.p99_ms, live.p99_corrected_ms), (2.0, 2.0));
    assert_eq!(live.dropped, 3, "dropped is a run total");
    assert_eq!(live.cpu_percent, None, "CPU belongs to the tick it was recorded for");
}

#[test]
fn drops_and_late_iterations_reach_the_report_and_the_timeline() {
    let mut agg = aggregator();
    let mut r = Recorder::new(2, 2);
    for _ in 0..5 {
        r.dropped();
    }
    r.late_iteration();
    agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 1);
    let mut a = Recorder::new(2, 2);
    let mut b = Recorder::new(2, 2);
    a.dropped();
    b.late_iteration();
    b.late_iteration();
    agg.add_tick(Duration::from_secs(2), vec![a.take_interval(), b.take_interval()], 1);
    let rep = agg.report(meta(Duration::from_secs(2)));
    assert_eq!(rep.counter("http.requests.dropped"), 6);
    assert_eq!(rep.counter("vusers.iterations_late"), 3);
    assert_eq!(rep.counter("http.requests"), 0, "dropped tokens are not requests");
    let per_tick = |k: &str| rep.intervals.iter().map(|i| i.counters[k]).collect::<Vec<_>>();
    assert_eq!(per_tick("http.requests.dropped"), [5, 1]);
    assert_eq!(per_tick("vusers.iterations_late"), [1, 2]);

    // Always present, as zeros.
    let empty = aggregator().report(meta(Duration::from_secs(1)));
    assert_eq!(empty.aggregate.counters.get("http.requests.dropped"), Some(&0));
    assert_eq!(empty.aggregate.counters.get("vusers.iterations_late"), Some(&0));
}

#[test]
fn downsampling_keeps_dropped_corrected_and_cpu_exact() {
    let policy = TimelinePolicy {
        tiers: vec![Tier { min_age: Duration::from_secs(5), width: Duration::from_secs(5) }],
    };
    let (e, s) = names();
    let mut agg = Aggregator::with_timeline_policy(e, s, policy);
    for tick in 1..=30_u64 {
        let mut r = Recorder::new(2, 2);
        r.dropped();
        r.request_sent(0, 0);
        let corrected = (tick % 3 == 0).then(|| Duration::from_millis(10 + tick));
        r.response(0, 200, &Timings { corrected, ..timings(1_000) }, 0);
        agg.add_tick(Duration::from_secs(tick), vec![r.take_interval()], 1);
        if tick % 2 == 0 {
            agg.record_generator(tick as f64);
        }
    }
    let rep = agg.report(meta(Duration::from_secs(30)));
    assert!(rep.intervals.len() < 30, "some points were merged");
    let dropped: u64 = rep.intervals.iter().map(|i| i.counters["http.requests.dropped"]).sum();
    assert_eq!(dropped, 30);
    let corrected: Vec<_> =
        rep.intervals.iter().map(|i| i.summaries["http.response_time.corrected"]).collect();
    assert_eq!(corrected.iter().map(|s| s.count).sum::<u64>(), 30);
    assert_eq!(corrected.iter().map(|s| s.max).fold(0.0, f64::max), 40.0);
    for (i, c) in rep.intervals.iter().zip(&corrected) {
        let h = decode_histogram(&i.histograms["http.response_time.corrected"]).unwrap();
        assert_eq!(h.len(), c.count);
        assert!(c.max >= i.summaries["http.response_time"].max);
    }
    // The merged point of the ticks starting in [5 s, 10 s) has the readings of the ticks ending at
    // 6, 8 and 10 s (equal lengths): mean 8, max 10; the ticks without a reading do not count.
    let merged = rep.intervals.iter().find(|i| i.t_s == 5.0).unwrap();
    assert_eq!(merged.duration_s, 5.0);
    assert_eq!(merged.gauges["generator.cpu"], 8.0);
    assert_eq!(merged.gauges["generator.cpu_max"], 10.0);
    // A single tick without a reading has no gauge.
    let last = rep.intervals.last().unwrap();
    assert_eq!(last.duration_s, 1.0);
    assert_eq!(last.gauges["generator.cpu"], 30.0);
    assert!(rep.intervals.iter().any(|i| i.duration_s == 1.0 && i.gauges.is_empty()));
    let g = rep.generator.unwrap();
    assert_eq!((g.cpu_mean, g.cpu_max), (16.0, 30.0));
}

#[test]
fn new_fields_round_trip_and_reports_without_them_still_load() {
    let mut agg = aggregator();
    let mut tick = corrected_workload();
    let mut r = Recorder::new(2, 2);
    r.dropped();
    r.late_iteration();
    tick.merge(&r.take_interval());
    agg.add_tick(Duration::from_secs(1), vec![tick], 1);
    agg.record_generator(42.25);
    let report = agg.report(meta(Duration::from_secs(1)));
    assert!(report.any_corrected);
    assert_eq!(report.generator.map(|g| (g.cpu_mean, g.cpu_max)), Some((42.25, 42.25)));
    let mut report = report;
    report.warnings.push("a warning".into());
    let json = report.to_json().unwrap();
    let back = Report::from_json(&json).unwrap();
    assert_eq!(back, report);
    let v: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(v["any_corrected"], true);
    assert_eq!(v["generator"]["cpu_mean"], 42.25);
    assert_eq!(v["warnings"][0], "a warning");
    assert_eq!(v["endpoints"][1]["summary_corrected"]["min"], 53.0);
    assert!(v["endpoints"][1]["histogram_corrected"].is_string());
    assert_eq!(v["intervals"][0]["gauges"]["generator.cpu"], 42.25);
    assert_eq!(v["aggregate"]["counters"]["http.requests.dropped"], 1);
    assert_eq!(v["aggregate"]["counters"]["vusers.iterations_late"], 1);

    // A report written before these fields existed.
    let mut old = v.clone();
    let top = old.as_object_mut().unwrap();
    for k in ["any_corrected", "generator", "warnings"] {
        top.remove(k).unwrap();
    }
    for e in top["endpoints"].as_array_mut().unwrap() {
        let e = e.as_object_mut().unwrap();
        e.remove("summary_corrected").unwrap();
        e.remove("histogram_corrected").unwrap();
    }
    for i in top["intervals"].as_array_mut().unwrap() {
        i.as_object_mut().unwrap().remove("gauges").unwrap();
    }
    let old = Report::from_json(&old.to_string()).unwrap();
    assert!(!old.any_corrected && old.generator.is_none() && old.warnings.is_empty());
    assert_eq!(old.endpoints[1].summary_corrected, Summary::default());
    assert!(old.endpoints[1].histogram_corrected.is_empty());
    assert!(old.intervals[0].gauges.is_empty());
    assert_eq!(old.endpoints[1].summary, report.endpoints[1].summary);
}

/// WebSocket figures merge exactly across threads and ticks, stay out of the `http.*` totals, and
/// an HTTP-only run has no `websocket.*` key at all.
#[test]
fn websocket_metrics_merge_exactly_and_stay_apart_from_http() {
    use hornet_metrics::Protocol;
    let names = vec!["GET /".to_string(), "WS connect /ws".to_string(), "echo".to_string()];
    let mut agg = Aggregator::new(names.clone(), vec!["s".into()]);
    agg.set_protocols(vec![Protocol::Http, Protocol::Ws, Protocol::Ws]);
    let thread = |rtt_ms: u64| {
        let mut r = Recorder::new(3, 1);
        r.request_sent(0, 50);
        r.response(0, 200, &timings(2_000), 100);
        r.ws_step_started(1);
        r.ws_connected(1, Duration::from_millis(3));
        for _ in 0..10 {
            r.ws_step_started(2);
            r.ws_message_sent(5);
            r.ws_message_received(7);
            r.ws_reply(2, Duration::from_millis(rtt_ms), 5, 7);
        }
        r.ws_message_received(1);
        r.ws_closed(1000);
        r.error(Some(2), ErrorKind::Timeout, &"no reply within 1s");
        r.take_interval()
    };
    agg.add_tick(Duration::from_secs(1), vec![thread(10), thread(20)], 2);
    agg.add_tick(Duration::from_secs(2), vec![thread(30)], 1);
    let r = agg.report(meta(Duration::from_secs(2)));
    let c = &r.aggregate.counters;
    assert_eq!(c["http.requests"], 3);
    assert_eq!(c["http.responses"], 3);
    assert_eq!(c["websocket.messages_sent"], 30);
    assert_eq!(c["websocket.messages_received"], 33);
    assert_eq!(c["websocket.bytes_sent"], 150);
    assert_eq!(c["websocket.bytes_received"], 213);
    assert_eq!(c["websocket.connections"], 3);
    assert_eq!(c["websocket.close.1000"], 3);
    assert_eq!(c["errors.timeout"], 3);
    assert_eq!(r.aggregate.rates["websocket.send_rate"], 15.0);
    let rtt = r.aggregate.summaries["websocket.rtt"];
    assert_eq!((rtt.count, rtt.min, rtt.max), (30, 10.0, 30.0));
    assert_eq!(r.aggregate.summaries["http.response_time"].count, 3, "only HTTP responses");
    assert_eq!(r.aggregate.summaries["websocket.connect_time"].count, 3);
    let echo = &r.endpoints[2];
    assert_eq!((echo.protocol, echo.requests, echo.responses, echo.failures), (Protocol::Ws, 30, 30, 3));
    assert_eq!(echo.summary.count, 30);
    assert_eq!(r.endpoints[1].summary.count, 3, "connect times");
    assert_eq!((r.endpoints[0].protocol, r.endpoints[0].requests), (Protocol::Http, 3));
    let rows = agg.live_endpoints();
    assert_eq!((rows[2].protocol, rows[2].requests, rows[2].failures), (Protocol::Ws, 30, 3));
    // The timeline has the WebSocket counters of each point.
    assert_eq!(r.intervals[0].counters["websocket.messages_sent"], 20);
    assert_eq!(r.intervals[1].summaries["websocket.rtt"].count, 10);
    let json = serde_json::to_value(&r).unwrap_or_default();
    assert_eq!(json["endpoints"][1]["protocol"], "ws");
    assert!(json["endpoints"][0].get("protocol").is_none());

    let mut http_only = aggregator();
    let mut rec = Recorder::new(2, 2);
    rec.request_sent(0, 10);
    rec.response(0, 200, &timings(1_000), 10);
    http_only.add_tick(Duration::from_secs(1), vec![rec.take_interval()], 1);
    let r = http_only.report(meta(Duration::from_secs(1)));
    let json = serde_json::to_string(&r).unwrap_or_default();
    assert!(!json.contains("websocket"), "{json}");
    assert!(!json.contains("\"protocol\""));
}

#[test]
fn the_report_keeps_the_slowest_and_first_failed_traced_requests_per_endpoint() {
    use hornet_metrics::{FAILED_KEPT, SLOWEST_KEPT, TracedRequest};
    let mut agg = aggregator();
    // Two threads over two ticks; endpoint 0 gets requests of 1..=40 ms, every seventh one a 500.
    for tick in 0..2u64 {
        let mut threads = [Recorder::new(2, 2), Recorder::new(2, 2)];
        for n in 0..20u64 {
            let k = tick * 20 + n;
            let status = if k % 7 == 3 { 500 } else { 200 };
            let r = &mut threads[(k % 2) as usize];
            r.request_sent(0, 10);
            r.response(0, status, &timings((k * 17 % 40 + 1) * 1_000), 10);
            let traced = TracedRequest {
                trace_id: [k as u8 + 1; 16],
                span_id: [k as u8 + 1; 8],
                sampled: k % 2 == 0,
                latency_us: (k * 17 % 40 + 1) * 1_000,
                status,
                at_us: k * 100_000,
                failed: status == 500,
                error: None,
            };
            r.traced(0, &traced);
        }
        agg.add_tick(
            Duration::from_secs(tick + 1),
            threads.iter_mut().map(Recorder::take_interval).collect(),
            0,
        );
    }
    let report = agg.report(meta(Duration::from_secs(2)));
    let traced = &report.traced_requests;
    assert!(traced.iter().all(|t| t.endpoint == "GET /"));
    let slowest: Vec<f64> = traced.iter().filter(|t| t.slowest).map(|t| t.latency_ms).collect();
    assert_eq!(slowest, [40.0, 39.0, 38.0, 37.0, 36.0][..SLOWEST_KEPT]);
    // The first failures of the run: requests 3, 10, 17, 24, 31 (at 0.1 s apart).
    let mut failed: Vec<f64> = traced.iter().filter(|t| t.failed).map(|t| t.t_s).collect();
    failed.sort_by(f64::total_cmp);
    let expected: Vec<f64> = [3u64, 10, 17, 24, 31, 38].iter().map(|k| *k as f64 / 10.0).collect();
    assert!(failed.starts_with(&expected[..FAILED_KEPT]), "{failed:?}");
    // Each carries the ids it was sent with, in hex, and its status.
    let first = traced.iter().find(|t| t.t_s == 0.3).expect("request 3 kept");
    assert_eq!(first.trace_id, "04".repeat(16));
    assert_eq!(first.span_id, "04".repeat(8));
    assert_eq!((first.status, first.error, first.sampled), (Some(500), None, false));
    // Through JSON and back.
    let back = Report::from_json(&report.to_json().unwrap()).unwrap();
    assert_eq!(back.traced_requests, report.traced_requests);
    // A report without tracing has none and leaves the field out.
    let plain = aggregator().report(meta(Duration::from_secs(1)));
    assert!(!plain.to_json().unwrap().contains("traced_requests"));
}
