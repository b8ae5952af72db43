//! A run on this machine as a source of intervals: sets the run up (compiles the plan, runs
//! `before`, starts one worker thread per core) and, for the collector, receives the threads'
//! intervals, applies load changes, measures the process's CPU, and at the end joins the threads
//! and runs `after`.
//!
//! In a distributed run each worker process runs one [`SegmentRun`] of the plan: only the
//! arrivals, request tokens and users of its execution segment, from a common start time, with the
//! variables `before` produced on the controller, handing each second's merged interval to the
//! controller's side.

use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::thread::JoinHandle;
use std::time::SystemTime;

use hornet_engine::http::HttpClient;
use hornet_metrics::{EndpointNames, Interval};
use hornet_schedule::Schedule;
use hornet_script::Plan;
use tokio::sync::watch;
use tokio::time::{Duration, Instant};

use crate::collector::{Finish, IntervalSource, SourceTick, Waited};
use crate::control::Control;
use crate::handle::Started;
use crate::hooks;
use crate::run::{
    CpuMeter, LoadAdjustment, RunError, RunOptions, RunState, SegmentRun, SegmentTick, Workload, compile,
    draw, hostname, initial_globals, setup,
};
use crate::trace_context::RunTracing;
use crate::vu::{Scope, VuSettings};
use crate::worker::{self, Msg};

/// This machine's worker threads, feeding the collector.
struct LocalSource {
    shared: Arc<RunState>,
    intervals: Receiver<Msg>,
    threads: Vec<JoinHandle<()>>,
    /// Threads that sent their last interval.
    done: usize,
    cpu: CpuMeter,
    /// In a segment run: where each tick's merged interval goes.
    segment_ticks: Option<Sender<SegmentTick>>,
}

/// Sets up a run of `plan` on this machine (with `segment`, one worker's segment of a
/// distributed run) and starts its worker threads.
pub(crate) fn start(
    plan: Arc<Plan>,
    opts: &RunOptions,
    segment: Option<SegmentRun>,
    control: &Control,
    endpoint_names: Arc<EndpointNames>,
    spans: Option<Arc<dyn hornet_metrics::SpanSink>>,
) -> Result<Started<'static>, RunError> {
    let program = compile(&plan)?;
    let threads = opts.thread_count();
    let (client_config, settings) = setup(&plan, threads, opts.log, opts.latency_from_intended);
    HttpClient::new(&client_config).map_err(|e| RunError::Client(e.to_string()))?;

    let mut globals = initial_globals(&plan, opts.seed);
    let in_segment = segment.is_some();
    let (segments, segment_ticks, start_at) = match segment {
        Some(s) => {
            globals = s.globals;
            (Some((s.segments, s.index)), Some(s.intervals), s.start_at)
        }
        None => (None, None, None),
    };
    // `before` and `after` are not load: their latency is never measured from a schedule.
    if let (Some(before), false) = (&program.before, in_segment) {
        globals = hooks::run_before(before, &plan, &client_config, settings, globals, opts.seed, control)?;
    }
    let cookie_origin =
        plan.target.as_deref().and_then(|t| hornet_script::http_scheme(t).parse::<http::Uri>().ok());

    let functional = plan.phases.is_empty() && opts.workload == Workload::Open;
    let started_at = SystemTime::now();
    // Give the threads a moment to start so the first arrivals are not late; a segment starts at
    // the common start time.
    let start = match start_at {
        Some(at) => {
            let ahead = at.duration_since(SystemTime::now()).unwrap_or(Duration::ZERO);
            Instant::now() + ahead.min(Duration::from_secs(60))
        }
        None => Instant::now() + Duration::from_millis(20),
    };
    let shared = Arc::new(RunState {
        plan: plan.clone(),
        program,
        schedule: Schedule::new(&plan.phases),
        workload: opts.workload.clone(),
        start,
        seed: opts.seed,
        threads,
        client_config,
        graceful_stop: plan.graceful_stop,
        control: control.clone(),
        in_flight: AtomicU64::new(0),
        iterations: AtomicU64::new(0),
        functional,
        globals: Arc::new(globals),
        vu_settings: settings,
        cookie_origin,
        requests: Schedule::requests(&plan.phases),
        users: Schedule::users(&plan.phases),
        load: watch::channel(LoadAdjustment::PLAN).0,
        part: segments,
        endpoint_names,
        tracing: plan.tracing.as_ref().map(|t| {
            let test_id = plan.test_id(opts.seed);
            let expected = plan.http.expected_status.clone();
            Arc::new(RunTracing::new(t, &test_id, opts.seed, start, expected).exporting_spans(spans))
        }),
    });

    let (tx, rx) = channel();
    let mut handles = Vec::with_capacity(threads);
    for i in 0..threads {
        let shared = shared.clone();
        let tx = tx.clone();
        let h = std::thread::Builder::new()
            .name(format!("hornet-worker-{i}"))
            .spawn(move || worker::run(i, shared, tx))
            .map_err(RunError::Threads)?;
        handles.push(h);
    }
    drop(tx);

    let source = LocalSource {
        shared,
        intervals: rx,
        threads: handles,
        done: 0,
        cpu: CpuMeter::new(threads),
        segment_ticks,
    };
    // Collect a little after each second so the workers' intervals have arrived.
    Ok(Started { source: Box::new(source), start, started_at, first_tick: Duration::from_millis(1050) })
}

impl LocalSource {
    /// In a segment run, merges a tick's intervals into one and sends a copy to the controller's
    /// side; `pending` keeps the merged one.
    fn export(
        &self,
        pending: &mut Vec<Interval>,
        elapsed: Duration,
        active_vus: u64,
        cpu: Option<f64>,
        last: bool,
    ) {
        let Some(tx) = &self.segment_ticks else { return };
        let plan = &self.shared.plan;
        let mut merged = Interval::new(plan.endpoints.len(), plan.scenarios.len());
        for iv in pending.iter() {
            merged.merge(iv);
        }
        let endpoint_names = self.shared.endpoint_names.clone();
        let _ =
            tx.send(SegmentTick { elapsed, interval: merged.clone(), endpoint_names, active_vus, cpu, last });
        *pending = vec![merged];
    }
}

impl IntervalSource for LocalSource {
    fn wait(&mut self, deadline: Instant, pending: &mut Vec<Interval>) -> Waited {
        loop {
            let wait = deadline.saturating_duration_since(Instant::now());
            match self.intervals.recv_timeout(wait) {
                Ok(Msg::Interval(iv)) => pending.push(iv),
                Ok(Msg::Done(iv)) => {
                    pending.push(iv);
                    self.done += 1;
                    if self.done == self.threads.len() {
                        return Waited::Finished;
                    }
                }
                Err(RecvTimeoutError::Timeout) => {
                    if self.threads.iter().all(JoinHandle::is_finished) && self.done < self.threads.len() {
                        // A worker died without saying goodbye; don't wait for it forever.
                        while let Ok(msg) = self.intervals.try_recv() {
                            match msg {
                                Msg::Interval(iv) | Msg::Done(iv) => pending.push(iv),
                            }
                        }
                        return Waited::Finished;
                    }
                    return Waited::Deadline;
                }
                Err(RecvTimeoutError::Disconnected) => return Waited::Finished,
            }
        }
    }

    fn tick(&mut self, elapsed: Duration, _control: &Control, pending: &mut Vec<Interval>) -> SourceTick {
        self.shared.apply_load_requests(elapsed);
        let active_vus = self.shared.in_flight.load(Ordering::SeqCst);
        let cpu = self.cpu.sample(elapsed);
        self.export(pending, elapsed, active_vus, cpu, false);
        SourceTick { active_vus, cpu, workers: Vec::new() }
    }

    fn finish(&mut self, elapsed: Duration, control: &Control, pending: &mut Vec<Interval>) -> Finish {
        self.export(pending, elapsed, 0, None, true);
        for h in self.threads.drain(..) {
            if h.join().is_err() {
                eprintln!("hornet: a worker thread panicked; its last second of metrics may be missing");
            }
        }
        let shared = &self.shared;
        if let (Some(after), None, None) = (&shared.program.after, control.stop_reason(), &shared.part) {
            let scope = Scope::new((*shared.globals).clone(), draw(shared.seed, hooks::AFTER_VU));
            let vu = Rc::new(VuSettings { replace_total: false, ..shared.vu_settings });
            // Traced like `before` (not load, so no client spans are exported either), and its
            // processor loaded with its own `Math.random` seed.
            // Listening to the control: a Ctrl-C while `after` hangs ends it, and the run.
            let outcome = hooks::run_once(
                after,
                &shared.plan,
                &shared.client_config,
                vu,
                scope,
                Some(control),
                (shared.seed, hooks::AFTER_VU),
            );
            hooks::report_after(outcome);
        }
        Finish { host: hostname(), warnings: Vec::new(), workers: Vec::new(), completed: true }
    }
}
