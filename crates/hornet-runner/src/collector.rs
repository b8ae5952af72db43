//! The once-a-second collector of a run, the same for every source of intervals (this machine's
//! worker threads, or the workers of a distributed run): it waits for the source's intervals,
//! merges each second's into the run's [`Aggregator`], applies a statistics reset, gathers the
//! warnings, tells the live views ([`Tick`]) and the snapshot subscribers, and at the end builds
//! the report. A run whose intervals another process collects (a distributed run's worker) is
//! only driven to its end ([`drain`]): nothing is merged and no report is built.

use std::sync::Arc;
use std::sync::mpsc::Sender;
use std::time::SystemTime;

use hornet_metrics::report::WorkerStatus;
use hornet_metrics::{Aggregator, EndpointNames, Interval, LiveSnapshot, Report, RunMeta};
use hornet_schedule::Schedule;
use hornet_script::Plan;
use tokio::time::{Duration, Instant};

use crate::control::Control;
use crate::run::{RunOptions, Workload, describe_phases};

/// What the live views are told once a second.
pub struct Tick<'a> {
    /// The live figures of this tick (also sent to the snapshot subscribers).
    pub live: LiveSnapshot,
    /// Everything merged so far (for live checks and the live tables).
    pub aggregate: &'a Aggregator,
    /// The running phase's label, if any.
    pub phase: Option<&'a str>,
    /// Warnings raised in this tick (each is given once): the generator falling behind its
    /// schedule or using too much CPU.
    pub warnings: Vec<String>,
    /// The worker processes of a distributed run (empty for a run on this machine).
    pub workers: &'a [WorkerStatus],
}

/// Where a run's intervals come from: this machine's worker threads, or the workers of a
/// distributed run. The collector calls [`IntervalSource::wait`] until each tick's deadline,
/// [`IntervalSource::tick`] at the tick, and [`IntervalSource::finish`] once, after the last
/// interval.
pub trait IntervalSource {
    /// Waits for intervals until `deadline`, adding those that arrive to `pending`; says whether
    /// the deadline came or the source sent its last interval.
    fn wait(&mut self, deadline: Instant, pending: &mut Vec<Interval>) -> Waited;

    /// At a tick, `elapsed` into the run: applies the load changes `control` holds, and returns
    /// the in-flight VUs, the generator's CPU use and the workers. `pending` holds the tick's
    /// intervals, which the source may replace (a worker merges and forwards them).
    fn tick(&mut self, elapsed: Duration, control: &Control, pending: &mut Vec<Interval>) -> SourceTick;

    /// After the last interval, `elapsed` into the run: winds the source down (the last intervals
    /// may still be added to `pending`) and says what the report needs from it.
    fn finish(&mut self, elapsed: Duration, control: &Control, pending: &mut Vec<Interval>) -> Finish;
}

/// How [`IntervalSource::wait`] ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Waited {
    /// The deadline came: a tick is due.
    Deadline,
    /// The source has sent its last interval.
    Finished,
}

/// A source's state at a tick.
#[derive(Debug, Clone, Default)]
pub struct SourceTick {
    /// VUs in flight.
    pub active_vus: u64,
    /// The generator's CPU use since the previous tick (percent), when measured.
    pub cpu: Option<f64>,
    /// The worker processes of a distributed run (empty for a run on this machine).
    pub workers: Vec<WorkerStatus>,
}

/// What the report takes from a source at the end.
#[derive(Debug, Clone, Default)]
pub struct Finish {
    /// What ran the load (`run.host`): this machine's name, or the controller and its workers.
    pub host: Option<String>,
    /// Warnings for the report besides the generator's (a lost worker, ...).
    pub warnings: Vec<String>,
    /// The worker processes of a distributed run (empty for a run on this machine).
    pub workers: Vec<WorkerStatus>,
    /// False when the source cut the run short on its own (a distributed run aborted after a
    /// worker was lost): the `after` flow is then skipped, as after a stop.
    pub completed: bool,
}

/// The collector of one run (see the module doc).
pub(crate) struct Collector {
    aggregate: Aggregator,
    /// Each phase's label, by index.
    labels: Vec<String>,
    /// The label of a run without phases that still has a model (`hornet quick`'s users).
    fixed_label: Option<String>,
    /// The plan's arrival schedule: which phase runs when.
    schedule: Schedule,
    /// Receivers of the live snapshot, once a tick.
    subscribers: Vec<Sender<LiveSnapshot>>,
}

impl Collector {
    /// The collector of a run of `plan`, whose endpoints named at run time are in
    /// `endpoint_names`.
    pub(crate) fn new(plan: &Plan, workload: &Workload, endpoint_names: Arc<EndpointNames>) -> Collector {
        Collector {
            aggregate: aggregator_for(plan, endpoint_names),
            labels: plan.phases.iter().enumerate().map(|(i, p)| p.label(i)).collect(),
            fixed_label: match workload {
                Workload::Closed { users, .. } => Some(format!("{users} users")),
                Workload::Open => None,
            },
            schedule: Schedule::new(&plan.phases),
            subscribers: Vec::new(),
        }
    }

    /// Adds a receiver of the live snapshot.
    pub(crate) fn subscribe(&mut self, to: Sender<LiveSnapshot>) {
        self.subscribers.push(to);
    }

    fn phase_label(&self, elapsed: Duration) -> Option<&str> {
        if let Some(l) = &self.fixed_label {
            return Some(l);
        }
        self.schedule.phase_at(elapsed).and_then(|i| self.labels.get(i)).map(String::as_str)
    }

    /// Collects `source`'s intervals from `start` until it has sent its last one, ticking first
    /// at `start + first_tick` and then once a second; `on_tick` is called at each tick. Returns
    /// the run's length and what the source said at the end.
    pub(crate) fn collect(
        &mut self,
        source: &mut dyn IntervalSource,
        start: Instant,
        first_tick: Duration,
        control: &Control,
        on_tick: &mut dyn FnMut(Tick<'_>),
    ) -> (Duration, Finish) {
        let (elapsed, finish, last) =
            drive(source, start, first_tick, control, &mut |elapsed, at, intervals| {
                self.aggregate.add_tick(elapsed, intervals, at.active_vus);
                if let Some(cpu) = at.cpu {
                    self.aggregate.record_generator(cpu);
                }
                if control.take_reset() {
                    self.aggregate.reset_stats();
                }
                let live = self.aggregate.live();
                self.subscribers.retain(|s| s.send(live).is_ok());
                let warnings = self.aggregate.take_new_warnings();
                on_tick(Tick {
                    live,
                    aggregate: &self.aggregate,
                    phase: self.phase_label(elapsed),
                    warnings,
                    workers: &at.workers,
                });
            });
        self.aggregate.add_tick(elapsed, last, 0);
        (elapsed, finish)
    }

    /// Everything merged so far.
    pub(crate) fn aggregate(&self) -> &Aggregator {
        &self.aggregate
    }

    /// The report of the run: everything collected, described by `meta`, with what the source
    /// said at the end.
    pub(crate) fn report(&self, meta: RunMeta, finish: Finish) -> Report {
        let mut report = self.aggregate.report(meta);
        report.run.host = finish.host;
        report.warnings.extend(finish.warnings);
        report.workers = finish.workers;
        report
    }
}

/// Runs `source` from `start` until it has sent its last interval, ticking first at
/// `start + first_tick` and then once a second, and merges nothing: what a run whose intervals
/// another process collects needs (a distributed run's worker forwards each tick's at the tick).
/// Returns the run's length and what the source said at the end.
pub(crate) fn drain(
    source: &mut dyn IntervalSource,
    start: Instant,
    first_tick: Duration,
    control: &Control,
) -> (Duration, Finish) {
    let (elapsed, finish, _) = drive(source, start, first_tick, control, &mut |_, _, _| {});
    (elapsed, finish)
}

/// The tick loop of [`Collector::collect`] and [`drain`]: waits for `source`'s intervals, ticks
/// the source first at `start + first_tick` and then once a second, and hands `at_tick` each
/// tick's time since `start`, the source's state and the tick's intervals. Returns the run's
/// length, what the source said at the end, and the intervals that came after the last tick.
fn drive(
    source: &mut dyn IntervalSource,
    start: Instant,
    first_tick: Duration,
    control: &Control,
    at_tick: &mut dyn FnMut(Duration, SourceTick, Vec<Interval>),
) -> (Duration, Finish, Vec<Interval>) {
    let mut pending = Vec::new();
    let mut next_tick = start + first_tick;
    while source.wait(next_tick, &mut pending) == Waited::Deadline {
        let elapsed = Instant::now().saturating_duration_since(start);
        let at = source.tick(elapsed, control, &mut pending);
        at_tick(elapsed, at, std::mem::take(&mut pending));
        next_tick += Duration::from_secs(1);
    }
    let elapsed = Instant::now().saturating_duration_since(start);
    let finish = source.finish(elapsed, control, &mut pending);
    (elapsed, finish, pending)
}

/// The report's description of a run of `plan` with `options`, started at `started_at` and
/// `duration` long.
pub(crate) fn run_meta(
    plan: &Plan,
    options: &RunOptions,
    started_at: SystemTime,
    duration: Duration,
    interrupted: bool,
) -> RunMeta {
    RunMeta {
        script: plan.source.as_ref().map(|p| p.display().to_string()),
        target: plan.target.clone(),
        started_at,
        duration,
        seed: options.seed,
        phases: describe_phases(&plan.phases),
        interrupted,
        hornet_version: env!("CARGO_PKG_VERSION").to_string(),
        command: options.command.clone(),
        test_id: plan.test_id(options.seed),
    }
}

/// The aggregator of a plan's metrics: its endpoints (with their protocols and the names given at
/// run time) and scenarios.
fn aggregator_for(plan: &Plan, named: Arc<EndpointNames>) -> Aggregator {
    let scenario_names = plan.scenarios.iter().map(|s| s.name.clone()).collect();
    let endpoint_names = plan.endpoints.iter().map(|e| e.name.clone()).collect();
    let mut agg = Aggregator::new(endpoint_names, scenario_names);
    agg.set_protocols(plan.endpoints.iter().map(|e| e.protocol).collect());
    agg.set_endpoint_names(named);
    agg.set_expected_status(plan.http.expected_status.clone());
    agg
}
