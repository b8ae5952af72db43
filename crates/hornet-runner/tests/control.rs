//! The control API changes a running test's load: a factor on the arrival rate, applied from
//! the moment it is requested, and a graceful stop.

mod support;

use std::time::Duration;

use hornet_runner::{LoadRequest, StopReason};
use support::{run_steered, start, target};

#[test]
fn doubling_the_factor_mid_run_doubles_the_arrival_rate_from_then_on() {
    let t = target();
    let (outcome, _) = run_steered(
        &t,
        "config:\n  phases:\n    - duration: 4\n      arrivalRate: 20\nscenarios:\n  - flow:\n      - get: { url: \"/\" }\n",
        |c| c.request(LoadRequest::Factor(2.0)),
    );
    assert_eq!(outcome.stopped, None);
    // Applied at the second tick (about 2.05 s): ~41 arrivals before, ~78 after (80 unchanged).
    let created = outcome.report.counter("vusers.created");
    assert!((105..=130).contains(&created), "{created} arrivals");
}

#[test]
fn graceful_quit_lets_running_vus_finish() {
    let t = target();
    let run = start(
        &t,
        "config:\n  phases:\n    - duration: 30\n      users: 4\nscenarios:\n  - flow:\n      - get: { url: \"/delay/300\" }\n",
    );
    let started = std::time::Instant::now();
    let steer = run.control().clone();
    let outcome = run.wait(&mut |_| steer.stop(StopReason::Quit));
    assert_eq!(outcome.stopped, Some(StopReason::Quit));
    assert!(started.elapsed() < Duration::from_secs(5), "quit did not end the run");
    assert_eq!(outcome.report.counter("vusers.failed"), 0, "users finished their iteration");
    assert!(outcome.report.counter("vusers.completed") >= 4);
}
