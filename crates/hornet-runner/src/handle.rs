//! The run API every front end uses: [`Run`] says what to run and how, [`Run::start`] (this
//! machine) or [`Run::start_on`] (the workers of a distributed run) sets it up and starts the
//! load, and the [`RunHandle`] steers it ([`RunHandle::control`]), hands out the once-a-second
//! snapshot ([`RunHandle::subscribe`]), and collects it to the end ([`RunHandle::wait`]), which
//! returns the report. A distributed run's worker runs its segment to the end without a report
//! ([`RunHandle::wait_without_report`]): its controller collects the intervals.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::{Receiver, channel};
use std::time::SystemTime;

use hornet_metrics::{Aggregator, EndpointNames, LiveSnapshot, Report, RunMeta};
use hornet_script::Plan;
use tokio::time::{Duration, Instant};

use crate::collector::{Collector, Finish, IntervalSource, Tick, drain, run_meta};
use crate::control::{Control, StopReason};
use crate::local;
use crate::run::{RunError, RunOptions, SegmentRun, run_after, run_before};

/// A run to start: the plan, the options that do not come from the script, and optionally the
/// [`Control`] to steer it with or the segment of a distributed run it is.
pub struct Run {
    plan: Arc<Plan>,
    options: RunOptions,
    control: Control,
    segment: Option<SegmentRun>,
    /// The run's endpoints named at run time: its worker threads give the ids, its collector
    /// names the report rows, and the wire form carries them between processes.
    endpoint_names: Arc<EndpointNames>,
    /// Where the client spans of sampled requests go (a traced run with a span exporter).
    spans: Option<Arc<dyn hornet_metrics::SpanSink>>,
}

/// The result of a run.
pub struct RunOutcome {
    /// The run's report, without the checks' verdicts (the caller evaluates them).
    pub report: Report,
    /// Set when the run was stopped before its schedule ended.
    pub stopped: Option<StopReason>,
}

/// A source of intervals that has started its load: what [`Workers::start`] returns.
pub struct Started<'a> {
    /// Where the intervals come from.
    pub source: Box<dyn IntervalSource + 'a>,
    /// The start of the load (time zero of the run) on this machine's clock.
    pub start: Instant,
    /// The start on the wall clock, for the report.
    pub started_at: SystemTime,
    /// When the first tick is collected, after `start` (a little after the first second, so the
    /// first intervals have arrived).
    pub first_tick: Duration,
}

/// The workers of a distributed run, as the controller sees them: they take the plan and start
/// its load together (implemented by `hornet_cluster::Cluster`).
pub trait Workers {
    /// Hands `plan` to the workers with `globals` (what `before` produced on this machine) and
    /// starts them on a common instant; returns the source of their merged intervals, whose
    /// endpoints named at run time get the ids of `endpoint_names`, the run's table
    /// ([`hornet_metrics::Interval::from_wire`]).
    fn start(
        &mut self,
        plan: &Arc<Plan>,
        options: &RunOptions,
        globals: &HashMap<String, serde_json::Value>,
        control: &Control,
        endpoint_names: &Arc<EndpointNames>,
    ) -> Result<Started<'_>, RunError>;
}

/// A started run (see the module doc).
pub struct RunHandle<'a> {
    plan: Arc<Plan>,
    options: RunOptions,
    control: Control,
    started: Started<'a>,
    collector: Collector,
    /// In a distributed run, what `before` produced: `after` runs here with it at the end.
    globals: Option<HashMap<String, serde_json::Value>>,
}

impl Run {
    /// A run of `plan` with `options`, steered by a new [`Control`].
    pub fn new(plan: Arc<Plan>, options: RunOptions) -> Run {
        let endpoint_names = Arc::new(EndpointNames::new(plan.endpoints.len()));
        Run { plan, options, control: Control::new(), segment: None, endpoint_names, spans: None }
    }

    /// Hands the client span of every sampled request to `spans` (a traced run on this machine;
    /// a distributed run's controller runs no requests, so it has none to hand out).
    pub fn with_spans(mut self, spans: Arc<dyn hornet_metrics::SpanSink>) -> Run {
        self.spans = Some(spans);
        self
    }

    /// Steers the run with `control` (one the caller made before the start, such as the web UI's
    /// or the signal handler's).
    pub fn with_control(mut self, control: Control) -> Run {
        self.control = control;
        self
    }

    /// Runs only `segment` of the plan, as one worker of a distributed run.
    pub fn segment(mut self, segment: SegmentRun) -> Run {
        self.segment = Some(segment);
        self
    }

    /// Sets the run up on this machine (compiles the plan, runs `before`, starts one worker
    /// thread per core) and starts its load.
    pub fn start(self) -> Result<RunHandle<'static>, RunError> {
        let names = self.endpoint_names.clone();
        let started =
            local::start(self.plan.clone(), &self.options, self.segment, &self.control, names, self.spans)?;
        Ok(RunHandle::new(self.plan, self.options, self.control, started, None, &self.endpoint_names))
    }

    /// Runs `before` on this machine, then starts the load on `workers` (a distributed run).
    pub fn start_on(self, workers: &mut dyn Workers) -> Result<RunHandle<'_>, RunError> {
        let globals = run_before(&self.plan, self.options.seed, self.options.log, &self.control)?;
        let started =
            workers.start(&self.plan, &self.options, &globals, &self.control, &self.endpoint_names)?;
        Ok(RunHandle::new(
            self.plan,
            self.options,
            self.control,
            started,
            Some(globals),
            &self.endpoint_names,
        ))
    }
}

impl<'a> RunHandle<'a> {
    fn new(
        plan: Arc<Plan>,
        options: RunOptions,
        control: Control,
        started: Started<'a>,
        globals: Option<HashMap<String, serde_json::Value>>,
        endpoint_names: &Arc<EndpointNames>,
    ) -> RunHandle<'a> {
        let collector = Collector::new(&plan, &options.workload, endpoint_names.clone());
        RunHandle { plan, options, control, started, collector, globals }
    }

    /// The run's control: change the load, reset the statistics, stop. Clone it to steer the run
    /// from another thread.
    pub fn control(&self) -> &Control {
        &self.control
    }

    /// A receiver of the live snapshot, sent once a second from the next tick on.
    pub fn subscribe(&mut self) -> Receiver<LiveSnapshot> {
        let (tx, rx) = channel();
        self.collector.subscribe(tx);
        rx
    }

    /// The report's description of the run as it starts (no duration yet).
    pub fn meta(&self) -> RunMeta {
        run_meta(&self.plan, &self.options, self.started.started_at, Duration::ZERO, false)
    }

    /// Collects the run to its end (or until its control stops it) on the calling thread,
    /// calling `on_tick` once a second with the live figures, and returns the report.
    pub fn wait(self, on_tick: &mut dyn FnMut(Tick<'_>)) -> RunOutcome {
        self.wait_to_end(on_tick, &mut |_| {})
    }

    /// [`RunHandle::wait`], also calling `at_end` once, after the last interval is merged and
    /// before the report is built, with everything merged: what the report is built from. An
    /// exporter's last figures are then exactly the report's.
    pub fn wait_to_end(
        mut self,
        on_tick: &mut dyn FnMut(Tick<'_>),
        at_end: &mut dyn FnMut(&Aggregator),
    ) -> RunOutcome {
        let (elapsed, finish) = self.collector.collect(
            self.started.source.as_mut(),
            self.started.start,
            self.started.first_tick,
            &self.control,
            on_tick,
        );
        at_end(self.collector.aggregate());
        self.after(&finish);
        let stopped = self.control.stop_reason();
        let meta = run_meta(&self.plan, &self.options, self.started.started_at, elapsed, stopped.is_some());
        RunOutcome { report: self.collector.report(meta, finish), stopped }
    }

    /// Runs to the end (or until its control stops it) on the calling thread, like
    /// [`RunHandle::wait`], but merges no metrics and builds no report: for a run whose intervals
    /// another process collects (a distributed run's worker, whose [`SegmentRun`] forwards each
    /// second's). Returns why the run was stopped, if it was.
    pub fn wait_without_report(mut self) -> Option<StopReason> {
        let (_, finish) =
            drain(self.started.source.as_mut(), self.started.start, self.started.first_tick, &self.control);
        self.after(&finish);
        self.control.stop_reason()
    }

    /// In a distributed run that completed, runs `after` here with what `before` produced.
    fn after(&self, finish: &Finish) {
        if let Some(globals) = &self.globals
            && finish.completed
            && self.control.stop_reason().is_none()
        {
            run_after(&self.plan, globals, self.options.seed, self.options.log, &self.control);
        }
    }
}
