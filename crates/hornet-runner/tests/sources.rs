//! A distributed run is another source of intervals for the same collector: `Run::start_on` runs
//! `before` here, hands its variables to the workers, and collects whatever their source sends,
//! tick by tick, into the live figures and the report (with the source's host, notes and workers).

mod support;

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::time::{Duration, SystemTime};

use hornet_metrics::{EndpointNames, Interval, Recorder, Timings};
use hornet_runner::{
    Control, Finish, IntervalSource, Run, RunError, RunOptions, SourceTick, Started, Waited, WorkerStatus,
    Workers,
};
use hornet_script::Plan;
use support::{options, plan, target};

/// The script: one endpoint, and a `before` flow that captures a token from the target.
const SCRIPT: &str = r#"
config:
  phases:
    - duration: 3
      arrivalRate: 5
  variables:
    greeting: hello
before:
  flow:
    - post:
        url: /login
        json: { username: setup }
        capture: { json: "$.token", as: token }
scenarios:
  - flow:
      - get: { url: "/" }
"#;

/// `n` responses of 200 on endpoint 0, as one worker thread would record them.
fn responses(n: u64) -> Interval {
    let mut recorder = Recorder::new(1, 1);
    for _ in 0..n {
        recorder.request_sent(0, 10);
        let t = Timings { total: Duration::from_millis(5), ..Default::default() };
        recorder.response(0, 200, &t, 100);
    }
    recorder.take_interval()
}

fn worker(index: usize) -> WorkerStatus {
    WorkerStatus {
        index,
        address: format!("127.0.0.1:{}", 4000 + index),
        host: format!("worker-{index}"),
        state: "running".into(),
        weight: 1,
        share: 0.5,
        active_vus: 2,
        rps: 5.0,
        requests: 5,
        cpu: Some(10.0),
        lag_p99_ms: 0.0,
    }
}

/// Sends its canned ticks at once (one per `wait`), then ends.
struct CannedSource {
    ticks: VecDeque<Vec<Interval>>,
}

impl IntervalSource for CannedSource {
    fn wait(&mut self, _deadline: tokio::time::Instant, pending: &mut Vec<Interval>) -> Waited {
        match self.ticks.pop_front() {
            Some(intervals) => {
                pending.extend(intervals);
                Waited::Deadline
            }
            None => Waited::Finished,
        }
    }

    fn tick(&mut self, _elapsed: Duration, _control: &Control, _pending: &mut Vec<Interval>) -> SourceTick {
        SourceTick { active_vus: 4, cpu: Some(20.0), workers: vec![worker(0), worker(1)] }
    }

    fn finish(&mut self, _elapsed: Duration, _control: &Control, pending: &mut Vec<Interval>) -> Finish {
        pending.push(responses(1));
        Finish {
            host: Some("controller + 2 workers".into()),
            warnings: vec!["worker 1 was lost".into()],
            workers: vec![worker(0), worker(1)],
            completed: false,
        }
    }
}

/// Workers that remember what they were handed and send three canned ticks.
#[derive(Default)]
struct FakeWorkers {
    globals: Option<HashMap<String, serde_json::Value>>,
}

impl Workers for FakeWorkers {
    fn start(
        &mut self,
        _plan: &Arc<Plan>,
        _options: &RunOptions,
        globals: &HashMap<String, serde_json::Value>,
        _control: &Control,
        _endpoint_names: &Arc<EndpointNames>,
    ) -> Result<Started<'_>, RunError> {
        self.globals = Some(globals.clone());
        // Two workers' intervals in each of three ticks.
        let ticks = (0..3).map(|_| vec![responses(5), responses(5)]).collect();
        Ok(Started {
            source: Box::new(CannedSource { ticks }),
            start: tokio::time::Instant::now(),
            started_at: SystemTime::now(),
            first_tick: Duration::ZERO,
        })
    }
}

#[test]
fn the_collector_merges_the_workers_ticks_and_reports_what_their_source_says() {
    let t = target();
    let mut workers = FakeWorkers::default();
    let run = Run::new(plan(&t, SCRIPT), options()).start_on(&mut workers).expect("the run starts");
    let mut seen = Vec::new();
    let outcome =
        run.wait(&mut |tick| seen.push((tick.live.requests, tick.live.active_vus, tick.workers.len())));
    assert_eq!(seen, vec![(10, 4, 2), (20, 4, 2), (30, 4, 2)], "each tick merges both workers' intervals");

    let report = &outcome.report;
    assert_eq!(report.counter("http.requests"), 31, "three ticks of 2 × 5, and the last interval");
    assert_eq!(report.counter("http.codes.200"), 31);
    assert_eq!(report.run.host.as_deref(), Some("controller + 2 workers"));
    assert!(report.warnings.iter().any(|w| w == "worker 1 was lost"), "{:?}", report.warnings);
    assert_eq!(report.workers, vec![worker(0), worker(1)]);
    assert_eq!(outcome.stopped, None);

    let globals = workers.globals.expect("the workers were started");
    assert_eq!(globals.get("greeting"), Some(&serde_json::json!("hello")), "config.variables");
    let token = globals.get("token").and_then(|v| v.as_str()).unwrap_or_default();
    assert!(token.starts_with("tok-"), "what `before` captured here goes to the workers: {token:?}");
}

#[test]
fn a_plan_whose_before_flow_fails_does_not_start_the_workers() {
    let t = target();
    let failing = SCRIPT.replace("url: /login", "url: /status/500").replace("$.token", "$.missing");
    let mut workers = FakeWorkers::default();
    let started = Run::new(plan(&t, &failing), options()).start_on(&mut workers);
    let failed_before = matches!(started, Err(RunError::Before(_)));
    drop(started);
    assert!(failed_before, "a failed `before` is the run's error");
    assert!(workers.globals.is_none(), "the workers were never started");
}
