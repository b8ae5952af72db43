//! The snapshot the collector builds once per tick stays cheap with 1,000 endpoint names and does
//! not grow with the request rate: only the top endpoints get rows (and percentiles), the rest are
//! folded, and the work is per tick, not per request.

use std::time::{Duration, Instant};

use hornet_metrics::{Aggregator, Recorder, Timings};
use hornet_runner::Tick;
use hornet_script::LoadOptions;
use hornet_ui::hub::{FAILURES_LIMIT, TABLE_LIMIT};
use hornet_ui::{Hub, SessionInfo, StartRequest};
use serde_json::Value;

const ENDPOINTS: usize = 1_000;

fn plan() -> hornet_script::Plan {
    let yaml = "config:\n  target: http://127.0.0.1:1\n  phases:\n    - duration: 1\n      arrivalRate: 1\n  ensure:\n    thresholds:\n      - http.response_time.p95: 50\nscenarios:\n  - flow:\n      - get: { url: \"/\" }\n";
    hornet_script::parse_str(yaml, "t.yaml", &LoadOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Runs `ticks` ticks of `per_tick` requests spread over every endpoint (latencies 0.1..100 ms,
/// one error kind in 100), timing only the hub's work. Returns (mean cost per tick, snapshot).
/// With checks, the live checks are evaluated (within their budget) before each tick's snapshot.
fn measure(per_tick: usize, ticks: u32, with_checks: bool) -> (Duration, Value) {
    let names: Vec<String> = (0..ENDPOINTS).map(|i| format!("GET /items/{i}")).collect();
    let mut agg = Aggregator::new(names, vec!["s".into()]);
    let hub = Hub::new(SessionInfo { host: "test".into(), threads: 1, ..SessionInfo::default() });
    let start = hub.start(StartRequest::parse(b"{\"rate\": 10}").unwrap_or_else(|e| panic!("{e}")));
    assert_eq!(start, Ok(1));
    let started =
        hub.wait_start(Duration::from_secs(1)).map(|s| s.control).unwrap_or_else(|| panic!("a start"));
    let plan = plan();
    let checks = if with_checks {
        hornet_verdict::Checks::from_plan(&plan)
    } else {
        hornet_verdict::Checks::default()
    };
    hub.run_started(&started, &plan, meta(), &checks);
    let mut live_checks = hornet_verdict::LiveChecks::new(checks);
    let mut rec = Recorder::new(ENDPOINTS, 1);
    let mut spent = Duration::ZERO;
    for tick in 1..=ticks {
        for k in 0..per_tick {
            let ep = (k * 7919 + k / 3) % ENDPOINTS;
            let t = Timings {
                total: Duration::from_micros(100 + (k as u64 * 37) % 100_000),
                ..Timings::default()
            };
            rec.request_sent(ep as u32, 100);
            if k % 100 == 0 {
                rec.error(Some(ep as u32), hornet_metrics::ErrorKind::Timeout, &"timed out");
            } else {
                rec.response(ep as u32, 200, &t, 512);
            }
        }
        agg.add_tick(Duration::from_secs(u64::from(tick)), vec![rec.take_interval()], 10);
        let began = Instant::now();
        live_checks.tick(&agg, Duration::from_secs(u64::from(tick)));
        let t =
            Tick { live: agg.live(), aggregate: &agg, phase: Some("p"), warnings: Vec::new(), workers: &[] };
        hub.on_tick(&t, &live_checks);
        spent += began.elapsed();
    }
    let snapshot: Value = serde_json::from_str(&hub.snapshot()).unwrap_or_else(|e| panic!("{e}"));
    (spent / ticks, snapshot)
}

fn meta() -> hornet_metrics::RunMeta {
    hornet_metrics::RunMeta {
        started_at: std::time::SystemTime::now(),
        seed: 1,
        hornet_version: "test".into(),
        ..hornet_metrics::RunMeta::for_tests(Duration::ZERO)
    }
}

#[test]
fn a_thousand_endpoints_fold_and_the_cost_is_per_tick() {
    let (slow_rate, _) = measure(2_000, 3, false);
    let (cost, snap) = measure(20_000, 3, false);
    let size = snap.to_string().len();
    eprintln!(
        "snapshot with {ENDPOINTS} endpoints: {:.1} ms per tick at 20,000 requests/tick, {:.1} ms at 2,000; {} KB of JSON",
        cost.as_secs_f64() * 1e3,
        slow_rate.as_secs_f64() * 1e3,
        size / 1024
    );
    assert_eq!(snap["stats"].as_array().map(Vec::len), Some(TABLE_LIMIT));
    assert_eq!(snap["endpoints"], ENDPOINTS);
    assert_eq!(snap["other"]["endpoints"], ENDPOINTS - TABLE_LIMIT);
    assert_eq!(snap["other"]["row"]["name"], format!("other ({} endpoints)", ENDPOINTS - TABLE_LIMIT));
    let shown: u64 =
        snap["stats"].as_array().into_iter().flatten().map(|r| r["requests"].as_u64().unwrap_or(0)).sum();
    let folded = snap["other"]["row"]["requests"].as_u64().unwrap_or(0);
    assert_eq!(shown + folded, 60_000, "every request is in a row or in the folded row");
    assert_eq!(snap["total"]["requests"], 60_000);
    assert!(snap["failures"]["groups"].as_array().map_or(0, Vec::len) <= FAILURES_LIMIT);
    assert!(size < 256 * 1024, "the snapshot stays small: {size} bytes");
    // Debug build on a shared machine: generous bounds, still far below a second per tick.
    assert!(cost < Duration::from_millis(400), "{cost:?} per tick");
    assert!(
        cost < slow_rate * 4 + Duration::from_millis(50),
        "ten times the rate, not ten times the cost: {cost:?} vs {slow_rate:?}"
    );
}

/// Live checks are evaluated on the current aggregate, and a slow evaluation spaces out the next.
#[test]
fn live_checks_are_evaluated_within_a_budget() {
    let (_, snap) = measure(2_000, 2, true);
    let items = &snap["checks"]["items"];
    assert_eq!(items[0]["name"], "http.response_time.p95 < 50", "{}", snap["checks"]);
    assert_eq!(items[0]["ok"], false, "p95 is about 95 ms here");
    assert_eq!(snap["checks"]["final"], false);
}
