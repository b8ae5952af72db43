//! Checks evaluated on reports built through the metrics pipeline.

use std::time::Duration;

use hornet_metrics::{Aggregator, ApdexRating, ErrorKind, Recorder, Report, RunMeta, Timings};
use hornet_script::expr::Expr;
use hornet_script::plan::{Condition, Ensure, ExpectSettings, Threshold};
use hornet_script::{LoadOptions, parse_str};
use hornet_verdict::{
    ABORT_MIN_ELAPSED, Check, Checks, EXPECTATIONS_CHECK, LiveChecks, Verdicts, evaluate, metric,
    should_abort,
};

const ITEMS: &str = "GET /api/v1.2/items";
const LOGIN: &str = "login form.submit";

fn ms(n: u64) -> Timings {
    Timings { total: Duration::from_millis(n), ..Timings::default() }
}

fn meta() -> RunMeta {
    RunMeta { seed: 1, command: "hornet run".into(), ..RunMeta::for_tests(Duration::from_secs(10)) }
}

/// 20 VUs, 2 of them failed (10 %). `ITEMS`: 100 responses, 95 at 1 ms and 5 at 200 ms, so its p95
/// is 1 ms and its max 200 ms (values below 2 ms are exact in the histogram). `LOGIN`: 10 responses at 200 ms, so every percentile is exactly 200.
/// The run-wide p95 is therefore 200 ms exactly. 2 timeouts on `LOGIN`. 1 of 110 responses is a 500.
/// Expectations: `ITEMS` 3 statusCode failures and 1 hasProperty failure; `LOGIN` 2 contentType.
fn report() -> Report {
    aggregator().report(meta())
}

/// The aggregate [`report`] is built from, after one 10-second tick.
fn aggregator() -> Aggregator {
    let mut r = Recorder::new(2, 1);
    for n in 0..20 {
        r.vu_created(0);
        if n < 2 {
            r.vu_failed();
        } else {
            r.vu_completed(Duration::from_millis(500));
        }
    }
    for n in 0..100 {
        r.request_sent(0, 10);
        r.response(0, if n == 0 { 500 } else { 200 }, &ms(if n < 95 { 1 } else { 200 }), 100);
        r.expectation(0, "statusCode", n >= 3);
        r.expectation(0, "hasProperty", n != 50);
    }
    for n in 0..12 {
        r.request_sent(1, 10);
        if n < 2 {
            r.error(Some(1), ErrorKind::Timeout, &"timed out");
        } else {
            r.response(1, 201, &ms(200), 10);
            r.expectation(1, "contentType", n >= 4);
        }
    }
    let mut agg = Aggregator::new(vec![ITEMS.into(), LOGIN.into()], vec!["s".into()]);
    agg.add_tick(Duration::from_secs(10), vec![r.take_interval()], 0);
    agg
}

fn threshold(metric: &str, max: f64) -> Threshold {
    Threshold { metric: metric.into(), max }
}

fn condition(src: &str, strict: bool) -> Condition {
    Condition { expression: Expr::compile(src).unwrap(), strict }
}

fn checks(thresholds: Vec<Threshold>, conditions: Vec<Condition>) -> Checks {
    Checks { ensure: Ensure { thresholds, conditions, max_error_rate: None }, ..Checks::default() }
}

fn only(v: &Verdicts) -> &Check {
    assert_eq!(v.checks.len(), 1, "{v:?}");
    &v.checks[0]
}

#[test]
fn metric_names_resolve_counters_rates_and_aggregations() {
    let r = report();
    assert_eq!(metric(&r, "http.requests"), Some(112.0));
    assert_eq!(metric(&r, "http.codes.500"), Some(1.0));
    assert_eq!(metric(&r, "vusers.failed"), Some(2.0));
    assert_eq!(metric(&r, "errors.timeout"), Some(2.0));
    assert_eq!(metric(&r, "plugins.expect.failed"), Some(6.0));
    assert_eq!(metric(&r, "plugins.expect.failed.contentType"), Some(2.0));
    assert_eq!(metric(&r, "http.request_rate"), Some(11.2));
    assert_eq!(metric(&r, "http.response_time.p95"), Some(200.0));
    assert_eq!(metric(&r, "http.response_time.median"), Some(1.0));
    assert_eq!(metric(&r, "http.response_time.p50"), Some(1.0));
    assert_eq!(metric(&r, "http.response_time.min"), Some(1.0));
    assert_eq!(metric(&r, "http.response_time.max"), Some(200.0));
    assert_eq!(metric(&r, "http.response_time.count"), Some(110.0));
    assert_eq!(metric(&r, "http.response_time.5xx.count"), Some(1.0));
    assert_eq!(metric(&r, "vusers.session_length.p95"), Some(500.0));

    // Zero counters the report leaves out are 0 when the name is a known one, missing otherwise.
    assert_eq!(metric(&r, "errors.dns"), Some(0.0));
    assert_eq!(metric(&r, "http.codes.503"), Some(0.0));
    assert_eq!(metric(&r, "plugins.expect.failed.equals"), Some(0.0));
    assert_eq!(metric(&r, "errors.timeot"), None);
    assert_eq!(metric(&r, "http.codes.999"), None);
    assert_eq!(metric(&r, "plugins.expect.failed.nope"), None);

    // An empty histogram has a count but no percentiles; a histogram needs an aggregation.
    assert_eq!(metric(&r, "http.response_time.4xx.count"), Some(0.0));
    assert_eq!(metric(&r, "http.response_time.4xx.p95"), None);
    assert_eq!(metric(&r, "http.tls.count"), Some(0.0));
    assert_eq!(metric(&r, "http.response_time"), None);
    assert_eq!(metric(&r, "http.response_time.p42"), None);
    assert_eq!(metric(&r, "apdex"), None, "no apdex stored in the report");
}

#[test]
fn per_endpoint_names_with_dots_and_spaces() {
    let r = report();
    assert_eq!(metric(&r, "http.response_time.GET /api/v1.2/items.p95"), Some(1.0));
    assert_eq!(metric(&r, "http.response_time.GET /api/v1.2/items.max"), Some(200.0));
    assert_eq!(metric(&r, "http.response_time.GET /api/v1.2/items.count"), Some(100.0));
    assert_eq!(metric(&r, "http.response_time.login form.submit.p50"), Some(200.0));
    assert_eq!(metric(&r, "plugins.metrics-by-endpoint.response_time.login form.submit.count"), Some(10.0));
    assert_eq!(metric(&r, "http.response_time.GET /api/v1.2.p95"), None, "a prefix of a name is not a name");
    assert_eq!(metric(&r, "http.response_time.GET /api/v1.2/items"), None, "needs an aggregation");

    let v = evaluate(&checks(vec![threshold("http.response_time.GET /api/v1.2/items.p95", 1.5)], vec![]), &r);
    let c = only(&v);
    assert!(c.ok, "{c:?}");
    assert_eq!(c.name, "http.response_time.GET /api/v1.2/items.p95 < 1.5");
    assert_eq!(c.detail, "http.response_time.GET /api/v1.2/items.p95 was 1");

    let v = evaluate(&checks(vec![threshold("http.response_time.GET /nope.p95", 11.0)], vec![]), &r);
    assert!(!only(&v).ok);
    assert!(only(&v).detail.contains("no endpoint is named `GET /nope`"), "{v:?}");
}

#[test]
fn thresholds_are_strictly_less_than() {
    let r = report();
    // p95 is exactly 200: `< 200` fails, `< 200.001` holds.
    let v = evaluate(&checks(vec![threshold("http.response_time.p95", 200.0)], vec![]), &r);
    let c = only(&v);
    assert_eq!(c.name, "http.response_time.p95 < 200");
    assert!(!c.ok && c.strict);
    assert_eq!(c.detail, "http.response_time.p95 was 200");
    assert!(v.failed());
    assert_eq!(v.failures().count(), 1);

    let v = evaluate(&checks(vec![threshold("http.response_time.p95", 200.001)], vec![]), &r);
    assert!(only(&v).ok);
    assert!(!v.failed());

    // Counters too: 2 timeouts.
    let v = evaluate(
        &checks(vec![threshold("errors.timeout", 2.0), threshold("errors.timeout", 3.0)], vec![]),
        &r,
    );
    assert_eq!(v.checks.iter().map(|c| c.ok).collect::<Vec<_>>(), [false, true]);
}

#[test]
fn missing_metrics_fail_and_are_named() {
    let r = report();
    let v = evaluate(
        &checks(
            vec![threshold("http.respnse_time.p95", 1e9), threshold("http.response_time", 1e9)],
            vec![condition("http.request_rate > 0 and vusers.nope < 1", false)],
        ),
        &r,
    );
    assert_eq!(v.checks.len(), 3);
    assert!(v.checks.iter().all(|c| !c.ok));
    assert_eq!(v.checks[0].detail, "metric `http.respnse_time.p95` does not exist");
    assert!(
        v.checks[1].detail.contains("is a histogram: add an aggregation such as `http.response_time.p95`")
    );
    assert!(v.checks[2].detail.contains("metric `vusers.nope` does not exist"), "{:?}", v.checks[2]);
    assert!(v.failed(), "the thresholds are strict");

    // A misspelt name fails the condition even in a branch `or` would not evaluate.
    let v = evaluate(&checks(vec![], vec![condition("http.request_rate > 0 or vusers.nope < 1", true)]), &r);
    assert!(!only(&v).ok);
    assert_eq!(only(&v).detail, "metric `vusers.nope` does not exist");

    // A percentile of nothing is missing, not 0 (it would make `p95 < 200` pass on a dead target).
    let v = evaluate(&checks(vec![threshold("http.response_time.4xx.p95", 200.0)], vec![]), &r);
    assert!(!only(&v).ok);
    assert!(only(&v).detail.contains("has no value"), "{v:?}");
}

#[test]
fn conditions_with_and_or_over_two_metrics() {
    let r = report();
    // p95 = 200, request rate = 11.2.
    let cases = [
        ("http.response_time.p95 <= 200 and http.request_rate > 10", true),
        ("http.response_time.p95 < 200 and http.request_rate > 10", false),
        ("http.response_time.p95 < 200 or http.request_rate > 10", true),
        ("http.response_time.p95 < 200 or http.request_rate > 100", false),
    ];
    for (src, expected) in cases {
        let v = evaluate(&checks(vec![], vec![condition(src, true)]), &r);
        let c = only(&v);
        assert_eq!(c.name, src);
        assert_eq!(c.ok, expected, "{src}: {c:?}");
        assert_eq!(v.failed(), !expected);
        assert!(c.detail.contains("http.response_time.p95 = 200"), "{c:?}");
    }
    let v = evaluate(
        &checks(vec![], vec![condition("http.response_time.p95 <= 200 and http.request_rate > 10", true)]),
        &r,
    );
    assert_eq!(only(&v).detail, "http.response_time.p95 = 200, http.request_rate = 11.2");
}

#[test]
fn non_strict_failures_warn_without_failing_the_run() {
    let r = report();
    let v = evaluate(
        &checks(vec![threshold("errors.timeout", 5.0)], vec![condition("http.request_rate > 1000", false)]),
        &r,
    );
    assert_eq!(v.checks.len(), 2);
    assert!(v.checks[0].ok);
    assert!(!v.checks[1].ok && !v.checks[1].strict);
    assert!(!v.failed());
    assert_eq!(v.failures().count(), 0);
}

#[test]
fn max_error_rate_is_failed_over_created_vus() {
    let r = report(); // 2 of 20 failed: 10 %.
    let rate = |max: f64, r: &Report| {
        let c =
            Checks { ensure: Ensure { max_error_rate: Some(max), ..Ensure::default() }, ..Checks::default() };
        only(&evaluate(&c, r)).clone()
    };
    let at = rate(10.0, &r);
    assert!(at.ok, "exactly the maximum is allowed: {at:?}");
    assert_eq!(at.name, "maxErrorRate: failed VUs <= 10%");
    assert_eq!(at.detail, "2 of 20 VUs failed (10%)");
    let below = rate(9.99, &r);
    assert!(!below.ok && below.strict);

    let empty = Aggregator::new(vec![], vec![]).report(meta());
    let none = rate(0.0, &empty);
    assert!(none.ok);
    assert_eq!(none.detail, "no VUs were created");
}

#[test]
fn expectations_fail_the_run_only_when_configured() {
    let r = report();
    let mut c = Checks::default();
    assert!(evaluate(&c, &r).checks.is_empty());
    assert!(c.is_empty());

    c.expect = ExpectSettings { fail_run: true, default_200: false };
    assert!(!c.is_empty());
    let v = evaluate(&c, &r);
    let check = only(&v);
    assert_eq!(check.name, EXPECTATIONS_CHECK);
    assert!(!check.ok && check.strict);
    assert_eq!(check.detail, "6 of 210 failed; most on `GET /api/v1.2/items`: statusCode failed 3 time(s)");
    assert!(v.failed());

    let mut clean = r.clone();
    clean.aggregate.counters.insert("plugins.expect.failed".into(), 0);
    let v = evaluate(&c, &clean);
    assert!(only(&v).ok);
    assert_eq!(only(&v).detail, "all 204 held");

    let empty = Aggregator::new(vec![], vec![]).report(meta());
    assert_eq!(only(&evaluate(&c, &empty)).detail, "no expectations were evaluated");
}

#[test]
fn apdex_is_computed_and_usable_in_conditions() {
    let r = report();
    // T = 1 ms: 95 satisfied (1 ms), 15 frustrated (200 ms > 4 ms): (95 + 0) / 110.
    let mut c = checks(vec![threshold("apdex.frustrated", 16.0)], vec![condition("apdex >= 0.86", true)]);
    c.apdex_threshold_ms = Some(1.0);
    let v = evaluate(&c, &r);
    let a = v.apdex.expect("apdex configured");
    assert_eq!((a.satisfied, a.tolerated, a.frustrated), (95, 0, 15));
    assert!((a.score - 95.0 / 110.0).abs() < 1e-12);
    assert_eq!(a.rating, ApdexRating::Good);
    assert!(v.checks[0].ok, "{:?}", v.checks[0]);
    assert!(v.checks[1].ok, "{:?}", v.checks[1]);

    // T = 50 ms: 200 ms is within 4T, so the 15 are tolerated: (95 + 7.5) / 110.
    c.apdex_threshold_ms = Some(50.0);
    let a = evaluate(&c, &r).apdex.unwrap();
    assert_eq!((a.satisfied, a.tolerated, a.frustrated), (95, 15, 0));
    assert!((a.score - 102.5 / 110.0).abs() < 1e-12);

    // Without `config.apdex` there is no apdex and `apdex` is not a metric.
    let v = evaluate(&checks(vec![], vec![condition("apdex >= 0.5", true)]), &r);
    assert!(v.apdex.is_none());
    assert!(!only(&v).ok);
    assert!(only(&v).detail.contains("metric `apdex` does not exist"), "{v:?}");
}

#[test]
fn should_abort_waits_then_reports_a_strict_failure() {
    let r = report();
    let failing = checks(vec![threshold("errors.timeout", 2.0)], vec![]);
    assert_eq!(should_abort(&failing, &r, ABORT_MIN_ELAPSED - Duration::from_millis(1)), None);
    assert_eq!(
        should_abort(&failing, &r, ABORT_MIN_ELAPSED).as_deref(),
        Some("errors.timeout < 2 (errors.timeout was 2)")
    );
    // Passing, non-strict, and not-yet-existing metrics do not abort.
    let passing =
        checks(vec![threshold("errors.timeout", 3.0)], vec![condition("http.request_rate > 1000", false)]);
    assert_eq!(should_abort(&passing, &r, Duration::from_secs(60)), None);
    let not_yet = checks(vec![threshold("http.response_time.4xx.p95", 100.0)], vec![]);
    assert_eq!(should_abort(&not_yet, &r, Duration::from_secs(60)), None);
    assert!(evaluate(&not_yet, &r).failed(), "but the final verdict fails it");
    // maxErrorRate and expectations are strict checks too.
    let mut c = Checks::default();
    c.ensure.max_error_rate = Some(5.0);
    assert_eq!(
        should_abort(&c, &r, Duration::from_secs(11)).as_deref(),
        Some("maxErrorRate: failed VUs <= 5% (2 of 20 VUs failed (10%))")
    );
    let mut c = Checks::default();
    c.expect.fail_run = true;
    assert!(
        should_abort(&c, &r, Duration::from_secs(11)).unwrap().starts_with("expectations (6 of 210 failed")
    );
}

#[test]
fn verdicts_round_trip_through_the_report() {
    let mut r = report();
    let mut c = checks(
        vec![threshold("http.response_time.p95", 200.0)],
        vec![condition("errors.timeout < 1", false)],
    );
    c.apdex_threshold_ms = Some(50.0);
    c.ensure.max_error_rate = Some(50.0);
    let v = evaluate(&c, &r);
    v.apply_to(&mut r);
    assert_eq!(r.checks, v.checks);
    assert_eq!(r.apdex, v.apdex);
    assert_eq!(r.failed_checks(), 1);
    // Once stored, `apdex` is a metric of the report.
    assert_eq!(metric(&r, "apdex"), v.apdex.map(|a| a.score));
    let back = Report::from_json(&r.to_json().unwrap()).unwrap();
    assert_eq!(back, r);
    assert_eq!(back.checks.len(), 3);
    assert_eq!(back.checks[1].name, "errors.timeout < 1");
    // Evaluating again gives the same verdicts (the stored ones play no part).
    assert_eq!(evaluate(&c, &back), v);
}

#[test]
fn checks_from_a_plan() {
    let mut plan = parse_str(
        "config:\n  target: http://localhost\nscenarios:\n  - flow:\n      - get:\n          url: /\n",
        "t.yaml",
        &LoadOptions::default(),
    )
    .unwrap();
    assert!(Checks::from_plan(&plan).is_empty());
    plan.ensure.thresholds.push(threshold("http.response_time.p99", 300.0));
    plan.ensure.max_error_rate = Some(1.0);
    plan.apdex_threshold_ms = Some(250.0);
    plan.expect.fail_run = true;
    let c = Checks::from_plan(&plan);
    assert_eq!(c.ensure.thresholds, plan.ensure.thresholds);
    assert_eq!(c.ensure.max_error_rate, Some(1.0));
    assert_eq!(c.apdex_threshold_ms, Some(250.0));
    assert!(c.expect.fail_run);
}

#[test]
fn checks_from_a_parsed_script() {
    let src = r#"
config:
  target: http://localhost
  apdex:
    threshold: 100
  ensure:
    p99: 300
    thresholds:
      - "http.response_time.api.v1.items.p95": 150
    conditions:
      - expression: "http.codes.500 < 1 and http.response_time.api.v1.items.count > 0"
        strict: false
    maxErrorRate: 1
  plugins:
    expect: {}
scenarios:
  - flow:
      - get:
          url: /items
          name: api.v1.items
"#;
    let plan = parse_str(src, "t.yaml", &LoadOptions::default()).unwrap();
    let c = Checks::from_plan(&plan);
    assert_eq!(
        c.ensure.thresholds,
        [threshold("http.response_time.p99", 300.0), threshold("http.response_time.api.v1.items.p95", 150.0)]
    );
    assert_eq!(c.ensure.conditions.len(), 1);
    assert_eq!(c.ensure.max_error_rate, Some(1.0));
    assert_eq!(c.apdex_threshold_ms, Some(100.0));
    assert!(c.expect.fail_run);

    // 10 responses at 120 ms on the plan's only endpoint, one of them a 500.
    let mut rec = Recorder::new(plan.endpoints.len(), 1);
    for n in 0..10 {
        rec.vu_created(0);
        rec.request_sent(0, 1);
        rec.response(0, if n == 0 { 500 } else { 200 }, &ms(120), 1);
        rec.expectation(0, "statusCode", n != 0);
        rec.vu_completed(Duration::from_millis(130));
    }
    let mut agg = Aggregator::new(plan.endpoints.iter().map(|e| e.name.clone()).collect(), vec!["s".into()]);
    agg.add_tick(Duration::from_secs(10), vec![rec.take_interval()], 0);
    let v = evaluate(&c, &agg.report(meta()));
    let outcome: Vec<(&str, bool, bool)> =
        v.checks.iter().map(|c| (c.name.as_str(), c.ok, c.strict)).collect();
    assert_eq!(
        outcome,
        [
            ("http.response_time.p99 < 300", true, true),
            ("http.response_time.api.v1.items.p95 < 150", true, true),
            ("http.codes.500 < 1 and http.response_time.api.v1.items.count > 0", false, false),
            ("maxErrorRate: failed VUs <= 1%", true, true),
            (EXPECTATIONS_CHECK, false, true),
        ]
    );
    assert_eq!(v.checks[2].detail, "http.codes.500 = 1, http.response_time.api.v1.items.count = 10");
    let a = v.apdex.unwrap();
    assert_eq!((a.satisfied, a.tolerated, a.frustrated, a.score), (0, 10, 0, 0.5));
    assert_eq!(a.rating, ApdexRating::Poor);
    assert!(v.failed());
}

/// `websocket.rtt.p99` and a step's own `websocket.rtt.<name>.<aggregation>` are usable in checks;
/// an unseen close code counts as 0.
#[test]
fn websocket_metrics_resolve() {
    let mut r = Recorder::new(1, 1);
    r.ws_step_started(0);
    r.ws_message_sent(4);
    r.ws_message_received(4);
    r.ws_reply(0, Duration::from_millis(1), 4, 4);
    r.ws_closed(1000);
    let mut agg = Aggregator::new(vec!["echo id".into()], vec!["s".into()]);
    agg.set_protocols(vec![hornet_metrics::Protocol::Ws]);
    agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 0);
    let report = agg.report(meta());
    assert_eq!(metric(&report, "websocket.rtt.p99"), Some(1.0));
    assert_eq!(metric(&report, "websocket.rtt.echo id.max"), Some(1.0));
    assert_eq!(metric(&report, "websocket.messages_received"), Some(1.0));
    assert_eq!(metric(&report, "websocket.close.1000"), Some(1.0));
    assert_eq!(metric(&report, "websocket.close.1006"), Some(0.0));
    let v = evaluate(&checks(vec![threshold("websocket.rtt.p99", 0.5)], vec![]), &report);
    assert!(!only(&v).ok);
    assert_eq!(only(&v).detail, "websocket.rtt.p99 was 1");
}

/// Live checks reach the verdicts the final evaluation would reach on the same figures, apdex
/// included, and apply the `--abort-on-fail` rule to them.
#[test]
fn live_checks_agree_with_the_report_and_apply_the_abort_rule() {
    let agg = aggregator();
    let mut c = checks(
        vec![threshold("errors.timeout", 2.0), threshold("http.response_time.p95", 500.0)],
        vec![condition("apdex > 0.5", true)],
    );
    c.ensure.max_error_rate = Some(5.0);
    c.apdex_threshold_ms = Some(50.0);
    c.expect = ExpectSettings { fail_run: true, ..ExpectSettings::default() };
    let mut live = LiveChecks::new(c.clone());
    assert!(live.latest().is_none() && live.abort_reason().is_none(), "nothing before the first tick");
    assert!(live.tick(&agg, Duration::from_secs(10)), "the first tick evaluates");
    let (verdicts, at) = live.latest().expect("evaluated");
    assert_eq!(at, Duration::from_secs(10));
    assert_eq!(verdicts, &evaluate(&c, &report()));
    assert_eq!(live.abort_reason().as_deref(), Some("errors.timeout < 2 (errors.timeout was 2)"));

    // Before `ABORT_MIN_ELAPSED` the same failures do not abort.
    let mut early = LiveChecks::new(c);
    assert!(early.tick(&agg, ABORT_MIN_ELAPSED - Duration::from_millis(1)));
    assert!(early.latest().is_some_and(|(v, _)| v.failed()));
    assert_eq!(early.abort_reason(), None);

    // Nothing to check: never evaluated.
    let mut none = LiveChecks::new(Checks::default());
    assert!(!none.tick(&agg, Duration::from_secs(60)));
    assert!(none.latest().is_none());
}
