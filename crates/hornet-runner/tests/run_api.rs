//! The run API in this process: a started run's report, its snapshot stream, and the control's
//! rate, user-count, reset and immediate-stop requests.

mod support;

use std::sync::mpsc::RecvTimeoutError;
use std::time::Duration;

use hornet_runner::{Control, LoadRequest, StopReason};
use support::{run_steered, run_yaml, start, target};

/// A constant arrival rate of `rate` per second for `seconds`, each VU sending one GET `/`.
fn arrivals(rate: u32, seconds: u32) -> String {
    format!(
        "config:\n  phases:\n    - duration: {seconds}\n      arrivalRate: {rate}\nscenarios:\n  - flow:\n      - get: {{ url: \"/\" }}\n"
    )
}

/// `users` closed-model users for `seconds`, each iteration one GET of `path`.
fn users(users: u32, seconds: u32, path: &str) -> String {
    format!(
        "config:\n  phases:\n    - duration: {seconds}\n      users: {users}\nscenarios:\n  - flow:\n      - get: {{ url: \"{path}\" }}\n"
    )
}

#[test]
fn the_report_counts_every_arrival_and_describes_the_run() {
    let t = target();
    let report = run_yaml(&t, &arrivals(10, 2));
    assert_eq!(report.counter("vusers.created"), 20);
    assert_eq!(report.counter("vusers.completed"), 20);
    assert_eq!(report.counter("http.requests"), 20);
    assert_eq!(report.counter("http.codes.200"), 20);
    assert_eq!(report.run.seed, 1);
    assert_eq!(report.run.command, "test");
    assert_eq!(report.run.target.as_deref(), Some(t.url().as_str()));
    assert_eq!(report.run.host, hornet_runner::hostname());
    assert!(!report.run.interrupted);
    assert_eq!(
        report.run.phases,
        hornet_runner::describe_phases(&support::plan(&t, &arrivals(10, 2)).phases)
    );
}

#[test]
fn subscribers_get_each_ticks_snapshot_and_the_stream_ends_with_the_run() {
    let t = target();
    let mut run = start(&t, &arrivals(20, 3));
    let snapshots = run.subscribe();
    // Read on another thread, as a front end would; the stream must end when the run does.
    let reader = std::thread::spawn(move || {
        let mut got = Vec::new();
        loop {
            match snapshots.recv_timeout(Duration::from_secs(30)) {
                Ok(s) => got.push(s),
                Err(RecvTimeoutError::Disconnected) => return got,
                Err(RecvTimeoutError::Timeout) => {
                    panic!("the snapshot stream neither sent nor ended in 30 s")
                }
            }
        }
    });
    let mut ticks = Vec::new();
    let outcome = run.wait(&mut |tick| ticks.push(tick.live));
    let snapshots = reader.join().expect("the reader thread");
    assert!(ticks.len() >= 2, "{} ticks in a 3 s run", ticks.len());
    assert_eq!(snapshots.len(), ticks.len(), "one snapshot per tick");
    for (s, t) in snapshots.iter().zip(&ticks) {
        assert_eq!((s.elapsed, s.requests, s.vus_created), (t.elapsed, t.requests, t.vus_created));
    }
    assert!(snapshots.windows(2).all(|w| w[0].elapsed < w[1].elapsed && w[0].requests <= w[1].requests));
    let last = snapshots.last().expect("a snapshot");
    assert!(last.requests > 0 && last.requests <= outcome.report.counter("http.requests"));
}

/// What `wait_to_end` hands over at the end is what the report is built from, after the last
/// interval: the totals of the last tick can be short of it, the end's cannot.
#[test]
fn the_end_sees_every_figure_of_the_report() {
    let t = target();
    let run = start(&t, &arrivals(20, 2));
    let mut at_end = None;
    let outcome = run.wait_to_end(&mut |_| {}, &mut |aggregate| {
        let endpoint = aggregate.live_endpoints()[0];
        at_end = Some((aggregate.live().requests, endpoint.requests, endpoint.response_time().summary()));
    });
    let (requests, endpoint_requests, summary) = at_end.expect("the end was called");
    assert_eq!(requests, 40);
    assert_eq!(requests, outcome.report.counter("http.requests"));
    assert_eq!(endpoint_requests, outcome.report.endpoints[0].requests);
    assert_eq!(summary, outcome.report.endpoints[0].summary);
}

#[test]
fn a_rate_request_becomes_a_factor_on_the_planned_rate() {
    let t = target();
    let (outcome, control) = run_steered(&t, &arrivals(10, 4), |c| c.request(LoadRequest::Rate(30.0)));
    assert_eq!(outcome.stopped, None);
    assert!((control.factor() - 3.0).abs() < 1e-9, "factor {}", control.factor());
    // 40 as planned; about 20 before the second tick (~2.05 s) and 30/s after it.
    let created = outcome.report.counter("vusers.created");
    assert!((60..=100).contains(&created), "{created} arrivals");
}

#[test]
fn a_user_count_request_changes_the_closed_model_users() {
    let t = target();
    let (outcome, control) =
        run_steered(&t, &users(2, 6, "/delay/100"), |c| c.request(LoadRequest::Users(6)));
    assert!((control.factor() - 3.0).abs() < 1e-9, "factor {}", control.factor());
    let intervals = &outcome.report.intervals;
    assert_eq!(intervals.first().map(|i| i.active_vus), Some(2), "2 users before the request");
    let most = intervals.iter().map(|i| i.active_vus_max).max();
    assert_eq!(most, Some(6), "6 users after it");
}

#[test]
fn a_reset_clears_the_counts_but_keeps_the_timeline() {
    let t = target();
    let (outcome, _) = run_steered(&t, &arrivals(20, 3), Control::reset_stats);
    let report = &outcome.report;
    let timeline: u64 =
        report.intervals.iter().map(|i| i.counters.get("http.requests").copied().unwrap_or(0)).sum();
    assert_eq!(timeline, 60, "the timeline keeps every request");
    let counted = report.counter("http.requests");
    assert!(counted < 60, "{counted} requests counted after the reset");
    assert!(!report.warnings.is_empty(), "the report says when the statistics were reset");
}

#[test]
fn an_immediate_stop_cancels_the_running_users_and_marks_the_report_interrupted() {
    let t = target();
    // Each iteration takes 10 s: no user can complete one before the stop.
    let run = start(&t, &users(4, 30, "/delay/10000"));
    let control = run.control().clone();
    let outcome = run.wait(&mut |_| control.stop(StopReason::Interrupted));
    assert_eq!(outcome.stopped, Some(StopReason::Interrupted));
    assert!(outcome.report.run.interrupted);
    assert_eq!(outcome.report.counter("vusers.completed"), 0);
    assert_eq!(outcome.report.counter("vusers.failed"), 4, "the 4 running users are cancelled and counted");
    assert_eq!(outcome.report.counter("errors.cancelled"), 4);
}
