//! The live view model's endpoint table, built from an aggregate after a few ticks: cumulative
//! figures agree with the report's, current rates are the latest tick's, folding keeps exact
//! counts, and WebSocket steps have rows of their own.

use std::time::Duration;

use hornet_metrics::report::RESPONSE_TIME;
use hornet_metrics::{Aggregator, EndpointId, ErrorKind, Protocol, Recorder, RunMeta, Timings};
use hornet_output::view::{EndpointRow, EndpointTable};

fn meta() -> RunMeta {
    RunMeta { hornet_version: "0".into(), ..RunMeta::for_tests(Duration::from_secs(1)) }
}

fn responses(r: &mut Recorder, ep: EndpointId, n: u64, ms: u64, bytes: u64) {
    let t = Timings { total: Duration::from_millis(ms), ..Default::default() };
    for _ in 0..n {
        r.request_sent(ep, 10);
        r.response(ep, 200, &t, bytes);
    }
}

/// Every endpoint's row, busiest first.
fn rows(agg: &Aggregator) -> Vec<EndpointRow> {
    EndpointTable::live(agg, usize::MAX, &[]).rows
}

/// Type and name together, as the endpoint is named in the plan.
fn full_name(r: &EndpointRow) -> String {
    if r.kind.is_empty() { r.name.clone() } else { format!("{} {}", r.kind, r.name) }
}

/// The live table's rows: cumulative figures agree with the report's, current rates are the
/// latest tick's.
#[test]
fn endpoint_rows_are_cumulative_with_current_rates() {
    let mut agg = Aggregator::new(vec!["GET /a".into(), "GET /b".into()], vec![]);
    assert_eq!(rows(&agg).len(), 2, "rows exist before the first tick");
    assert_eq!(rows(&agg)[0].requests, 0);

    let mut r = Recorder::new(2, 1);
    responses(&mut r, 0, 10, 4, 100);
    responses(&mut r, 1, 4, 20, 50);
    r.error(Some(1), ErrorKind::Timeout, &"timed out after 5s");
    agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 3);

    responses(&mut r, 0, 20, 8, 300);
    r.error(Some(1), ErrorKind::Timeout, &"again");
    r.error(None, ErrorKind::CaptureFailed, &"no match");
    agg.add_tick(Duration::from_secs(3), vec![r.take_interval()], 3);

    let rows = rows(&agg);
    let report = agg.report(meta());
    let a = &rows[0];
    assert_eq!((a.kind.as_str(), a.name.as_str()), ("GET", "/a"));
    assert_eq!(a.requests, 30);
    assert_eq!(a.failures, 0);
    assert_eq!(a.min_ms, 4.0);
    assert_eq!(a.max_ms, 8.0);
    assert_eq!(a.median_ms, report.endpoints[0].summary.p50);
    assert_eq!(a.p95_ms, report.endpoints[0].summary.p95);
    assert_eq!(a.p99_ms, report.endpoints[0].summary.p99);
    assert_eq!(a.mean_ms, report.endpoints[0].summary.mean);
    assert!((a.avg_size - (10.0 * 100.0 + 20.0 * 300.0) / 30.0).abs() < 1e-9);
    // The latest tick was 2 s long with 20 requests on /a.
    assert!((a.current_rps - 10.0).abs() < 1e-9);
    assert_eq!(a.current_failures_per_s, 0.0);
    let b = &rows[1];
    assert_eq!((b.requests, b.failures), (4, 2));
    assert_eq!(b.current_rps, 0.0);
    assert!((b.current_failures_per_s - 0.5).abs() < 1e-9);

    let errors = agg.errors();
    assert_eq!(errors, report.errors, "the same errors as the report");
    assert_eq!(errors.len(), 2);
    assert_eq!(errors[0].endpoint.as_deref(), Some("GET /b"));
    assert_eq!((errors[0].kind, errors[0].count), (ErrorKind::Timeout, 2));
    assert_eq!(errors[0].first_message, "timed out after 5s");
    assert_eq!(errors[1].endpoint, None);
}

/// The table keeps the busiest endpoints, folds the rest with exact counts, and totals all.
#[test]
fn endpoint_table_folds_beyond_the_limit() {
    let names: Vec<String> = (0..5).map(|i| format!("GET /{i}")).collect();
    let mut agg = Aggregator::new(names, vec![]);
    let mut r = Recorder::new(5, 1);
    for (ep, n) in [(0, 1), (1, 5), (2, 3), (3, 2), (4, 4)] {
        responses(&mut r, ep, n, 10 * (u64::from(ep) + 1), 100);
    }
    r.error(Some(0), ErrorKind::Timeout, &"slow");
    agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 1);
    let t = EndpointTable::live(&agg, 2, &[]);
    assert_eq!(t.rows.iter().map(full_name).collect::<Vec<_>>(), ["GET /1", "GET /4"]);
    assert_eq!(t.rows[0].p90_ms, 20.0);
    let (k, other) = t.other.clone().expect("three endpoints folded");
    assert_eq!(k, 3);
    assert_eq!(other.name, "other (3 endpoints)");
    assert_eq!((other.requests, other.failures), (6, 1));
    assert_eq!((other.min_ms, other.max_ms), (10.0, 40.0));
    assert!((other.current_rps - 6.0).abs() < 1e-9);
    assert_eq!(t.total.requests, 15);
    assert_eq!(t.total.min_ms, 10.0);
    assert_eq!(t.total.max_ms, 50.0);
    assert_eq!(t.total.median_ms, agg.report(meta()).aggregate.summaries[RESPONSE_TIME].p50);
    assert_eq!((t.total.name.as_str(), t.endpoints), ("Aggregated", 5));
    assert!(EndpointTable::live(&agg, 10, &[]).other.is_none());
}

/// A WebSocket endpoint's row shows the figures kept in the interval's WebSocket section.
#[test]
fn endpoint_table_shows_websocket_rows() {
    let mut agg = Aggregator::new(vec!["GET /a".into(), "WS send ping".into()], vec![]);
    agg.set_protocols(vec![Protocol::Http, Protocol::Ws]);
    let mut r = Recorder::new(2, 1);
    responses(&mut r, 0, 2, 5, 10);
    for _ in 0..3 {
        r.ws_step_started(1);
        r.ws_reply(1, Duration::from_millis(4), 4, 4);
    }
    agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 1);
    let t = EndpointTable::live(&agg, 10, &[]);
    let ws = t.rows.iter().find(|row| row.name == "WS send ping").expect("a WS row");
    assert_eq!((ws.protocol, ws.requests), (Protocol::Ws, 3));
    assert_eq!(ws.median_ms, 4.0);
    assert_eq!(t.rows[0].name, "WS send ping", "sorted by requests, WebSocket ones included");
    assert_eq!(agg.live_endpoints()[1].requests, 3);
}

/// The methods from the plan name the Type column; the final table comes from the report.
#[test]
fn methods_from_the_plan_and_the_final_table() {
    let mut agg = Aggregator::new(vec!["home".into(), "GET /items".into()], vec![]);
    let mut r = Recorder::new(2, 1);
    responses(&mut r, 0, 3, 5, 10);
    responses(&mut r, 1, 5, 7, 20);
    agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 1);
    let methods = [Some("GET".to_owned()), Some("GET".to_owned())];
    let live = EndpointTable::live(&agg, 10, &methods);
    let names: Vec<(&str, &str)> = live.rows.iter().map(|r| (r.kind.as_str(), r.name.as_str())).collect();
    assert_eq!(names, [("GET", "/items"), ("GET", "home")]);

    let report = agg.report(meta());
    let done = EndpointTable::from_report(&report, 1);
    assert_eq!((done.rows.len(), done.endpoints), (1, 2));
    assert_eq!((done.rows[0].name.as_str(), done.rows[0].current_rps), ("/items", 0.0));
    let (k, other) = done.other.expect("one folded");
    assert_eq!((k, other.name.as_str(), other.requests), (1, "other (1 endpoints)", 3));
    assert_eq!((done.total.requests, done.total.median_ms), (8, live.total.median_ms));
}
