//! Steering one run through the search: the script's phases are replaced by one long phase at the
//! start load (an arrival rate, or users for a closed-model script), and each step changes that
//! run's load through its [`Control`] (`LoadRequest::Rate` / `LoadRequest::Users`), never starting
//! a new run. Each step warms up, resets the run's statistics ([`Control::reset_stats`]), measures
//! its window, and builds the window's report from the run's aggregate; after a breach the load is
//! paused until the requests in flight have drained, so the queue a breach built does not spill
//! into the next step.
//!
//! Everything happens in the run's once-a-second tick callback ([`hornet_runner::RunHandle::wait`]),
//! on the collector's thread: the timing of a step is counted in ticks of about a second.

use std::sync::Arc;
use std::time::Duration;

use hornet_metrics::RunMeta;
use hornet_runner::{Control, LoadRequest, Run, RunError, RunHandle, RunOptions, StopReason, Tick};
use hornet_script::Plan;
use hornet_script::plan::{ArrivalMode, Phase, PhaseKind, UserRamp};

use crate::result::{Capacity, Conclusion, SCHEMA, SettingsReport, Step};
use crate::search::{Search, Settings, Stage};
use crate::slo::Slo;
use crate::step::{Judgement, Model, Second, StepFigures, Verdict, judge};

/// The factor a run's control applies is bounded by this (see `hornet_runner::LoadRequest`): the
/// search offers at most this many times its start load.
pub const MAX_FACTOR: f64 = 1000.0;
/// After a breach, arrivals pause until no VU is in flight, for at most this long.
pub const MAX_DRAIN: Duration = Duration::from_secs(60);
/// The graceful stop of the capacity run once the search has ended.
const GRACEFUL_STOP: Duration = Duration::from_secs(5);

/// How to search.
#[derive(Debug, Clone)]
pub struct SearchOptions {
    /// The objective.
    pub slo: Slo,
    /// The first load (arrivals/s or users).
    pub start: f64,
    /// The most load.
    pub max: f64,
    /// Each step's measured window.
    pub step: Duration,
    /// Each step's warm-up before its window.
    pub warmup: Duration,
    /// Bisection precision (0.05 for 5%).
    pub precision: f64,
    /// The verification hold (zero: none).
    pub hold: Duration,
}

/// The model a plan's phases describe: closed when every phase with load is a closed-model one.
pub fn model_of(plan: &Plan) -> Model {
    let loaded: Vec<&Phase> = plan.phases.iter().filter(|p| p.kind != PhaseKind::Pause).collect();
    if !loaded.is_empty() && loaded.iter().all(|p| matches!(p.kind, PhaseKind::Users { .. })) {
        Model::Closed
    } else {
        Model::Open
    }
}

/// Replaces `plan`'s phases by one phase at `start` for `length`: an arrival rate (open model) or
/// users (closed model, keeping the pacing of the script's first closed-model phase).
pub fn search_plan(plan: &mut Plan, model: Model, start: f64, length: Duration) {
    let pacing =
        plan.phases.iter().find(|p| matches!(p.kind, PhaseKind::Users { .. })).and_then(|p| p.pacing);
    let kind = match model {
        Model::Open => PhaseKind::Rate { rate: start, ramp_to: None },
        Model::Closed => PhaseKind::Users { users: start.round().max(1.0) as u64, ramp: UserRamp::Immediate },
    };
    plan.phases = vec![Phase {
        name: Some("capacity search".to_owned()),
        duration: length,
        kind,
        max_vusers: None,
        mode: ArrivalMode::Uniform,
        pacing: if model == Model::Closed { pacing } else { None },
    }];
    plan.graceful_stop = plan.graceful_stop.min(GRACEFUL_STOP);
}

/// An upper bound of a search's length, for the run's single phase: every step that can happen,
/// each with its warm-up, window and a full drain, plus the holds.
pub fn length_bound(o: &SearchOptions) -> Duration {
    let growth = ((o.max / o.start.max(1e-9)).ln() / crate::search::GROWTH.ln()).ceil().max(0.0) as u32 + 2;
    let steps = growth + crate::search::MAX_BISECTIONS + crate::search::MAX_STEP_DOWNS + 1;
    let per_step = o.warmup + o.step + MAX_DRAIN + Duration::from_secs(3);
    per_step * steps + (o.hold + o.warmup + Duration::from_secs(3)) * (crate::search::MAX_STEP_DOWNS + 1)
}

/// Where a step is.
#[derive(Debug, Clone, Copy)]
enum StepState {
    /// The load asked for takes effect at the next tick; warm up until `until` (s).
    Warm { until: f64 },
    /// A statistics reset was asked for; it is applied at the next tick.
    Resetting { previous: Option<Duration> },
    /// Measuring since the reset at `from` (s).
    Measure { from: f64 },
    /// Arrivals paused until the VUs in flight drain, or `until` (s).
    Drain { until: f64 },
}

/// The search in progress, driven by the run's ticks.
struct Driver<'a> {
    model: Model,
    options: &'a SearchOptions,
    search: Search,
    state: Option<StepState>,
    seconds: Vec<Second>,
    steps: Vec<Step>,
    /// Busy share of the generator's threads per percent of the machine's CPU.
    busy_per_cpu: f64,
    meta: RunMeta,
    /// The closed model's best passing throughput by users.
    passed: Vec<(f64, f64)>,
    on_step: &'a mut dyn FnMut(&Step),
}

impl Driver<'_> {
    fn request(&self, control: &Control, load: f64) {
        control.request(match self.model {
            Model::Open => LoadRequest::Rate(load),
            Model::Closed => LoadRequest::Users(load.round().max(0.0) as u64),
        });
    }

    /// Starts the next step, or stops the run when the search has ended.
    fn begin(&mut self, control: &Control, now: f64) {
        match self.search.next() {
            Some((load, _)) => {
                self.request(control, load);
                // The new load applies at the next tick, a second from now.
                self.state = Some(StepState::Warm { until: now + 1.0 + self.options.warmup.as_secs_f64() });
            }
            None => {
                self.state = None;
                control.stop(StopReason::Quit);
            }
        }
    }

    fn window(&self) -> f64 {
        match self.search.next() {
            Some((_, Stage::Hold)) => self.options.hold.as_secs_f64(),
            _ => self.options.step.as_secs_f64(),
        }
    }

    fn on_tick(&mut self, t: &Tick<'_>, control: &Control) {
        if control.stop_reason().is_some() {
            return;
        }
        let now = t.live.elapsed.as_secs_f64();
        match self.state {
            None => self.begin(control, now),
            Some(StepState::Warm { until }) if now + 0.05 >= until => {
                self.state = Some(StepState::Resetting { previous: t.aggregate.reset_at() });
                control.reset_stats();
            }
            Some(StepState::Warm { .. }) => {}
            Some(StepState::Resetting { previous }) => {
                if let Some(at) = t.aggregate.reset_at().filter(|&at| Some(at) != previous) {
                    self.seconds.clear();
                    self.state = Some(StepState::Measure { from: at.as_secs_f64() });
                }
            }
            Some(StepState::Measure { from }) => {
                self.seconds.push(Second {
                    at_s: now,
                    rps: t.live.rps,
                    p50_ms: t.live.p50_ms,
                    p99_corrected_ms: t.live.p99_corrected_ms,
                    busy: t.live.cpu_percent.map(|c| (c * self.busy_per_cpu).min(100.0)),
                });
                if now - from + 0.05 >= self.window() {
                    self.end_step(t, control, from, now);
                }
            }
            Some(StepState::Drain { until }) => {
                if t.live.active_vus == 0 || now >= until {
                    self.begin(control, now);
                }
            }
        }
    }

    fn end_step(&mut self, t: &Tick<'_>, control: &Control, from: f64, now: f64) {
        let Some((load, stage)) = self.search.next() else { return };
        let window = now - from;
        let meta = RunMeta { duration: Duration::from_secs_f64(now.max(0.0)), ..self.meta.clone() };
        let report = t.aggregate.report(meta);
        let seconds = std::mem::take(&mut self.seconds);
        let figures = StepFigures::from_report(self.model, load, &report, window, seconds, &self.options.slo);
        let best_fewer = self
            .passed
            .iter()
            .filter(|(users, _)| *users < load)
            .map(|p| p.1)
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.max(x))));
        // The system at rest: the lowest median of the steps so far, this one's included.
        let rest = self
            .steps
            .iter()
            .filter(|s| s.judgement.verdict != Verdict::Invalid && s.figures.requests > 0)
            .map(|s| s.figures.latency.p50)
            .chain((figures.requests > 0).then_some(figures.latency.p50))
            .fold(None, |m: Option<f64>, x| Some(m.map_or(x, |m| m.min(x))));
        let judgement: Judgement = judge(self.model, &figures, best_fewer, rest);
        if judgement.verdict == Verdict::Pass {
            self.passed.push((load, figures.achieved));
        }
        let verdict = judgement.verdict;
        let step = Step { index: self.steps.len() + 1, stage, started_s: from, figures, judgement };
        (self.on_step)(&step);
        self.steps.push(step);
        self.search.record(verdict);
        let next_lower = self.search.next().is_some_and(|(next, _)| next < load);
        if self.search.next().is_some() && (verdict == Verdict::Breach || next_lower) {
            // Pause until what the step queued has drained.
            self.request(control, 0.0);
            self.state = Some(StepState::Drain { until: now + 1.0 + MAX_DRAIN.as_secs_f64() });
        } else {
            self.begin(control, now);
        }
    }
}

/// Runs the search: starts `plan` (its phases replaced, see [`search_plan`]) with `start_run`,
/// steers it step by step, and returns the result (its figures concluded). `on_step` is called
/// after each step. A signal that stops the run (through `control`) ends the search early: the
/// result then has no outcome and is marked interrupted.
pub fn search<'a>(
    mut plan: Plan,
    run_options: RunOptions,
    options: &SearchOptions,
    control: Control,
    start_run: impl FnOnce(Run) -> Result<RunHandle<'a>, RunError>,
    on_step: &mut dyn FnMut(&Step),
) -> Result<Capacity, RunError> {
    let model = model_of(&plan);
    let start = match model {
        Model::Closed => options.start.round().max(1.0),
        Model::Open => options.start,
    };
    let max = options.max.min(start * MAX_FACTOR).max(start);
    let options = &SearchOptions { start, max, ..options.clone() };
    search_plan(&mut plan, model, start, length_bound(options));
    let threads = run_options.thread_count();
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get());
    let command = run_options.command.clone();
    let started_at = std::time::SystemTime::now();
    let plan = Arc::new(plan);
    let handle = start_run(Run::new(plan.clone(), run_options).with_control(control.clone()))?;
    let meta = handle.meta();
    let settings =
        Settings { model, start, max, precision: options.precision, hold: !options.hold.is_zero() };
    let mut driver = Driver {
        model,
        options,
        search: Search::new(settings),
        state: None,
        seconds: Vec::new(),
        steps: Vec::new(),
        busy_per_cpu: cores as f64 / threads.max(1) as f64,
        meta: meta.clone(),
        passed: Vec::new(),
        on_step,
    };
    let steering = control.clone();
    let outcome = handle.wait(&mut |t| driver.on_tick(&t, &steering));
    let finished = driver.search.outcome();
    let interrupted = finished.is_none() || outcome.stopped.is_some_and(|r| r != StopReason::Quit);
    let mut capacity = Capacity {
        schema: SCHEMA,
        hornet_version: env!("CARGO_PKG_VERSION").to_owned(),
        command,
        script: meta.script,
        target: meta.target,
        started_at: humantime::format_rfc3339_millis(started_at).to_string(),
        model,
        unit: model.unit(),
        throughput_unit: model.throughput_unit(),
        slo: options.slo.items.clone(),
        settings: SettingsReport {
            start,
            max,
            step_s: options.step.as_secs_f64(),
            warmup_s: options.warmup.as_secs_f64(),
            precision: options.precision,
            hold_s: options.hold.as_secs_f64(),
            threads,
        },
        steps: driver.steps,
        outcome: if interrupted { None } else { finished },
        interrupted,
        conclusion: Conclusion::default(),
    };
    capacity.conclude();
    Ok(capacity)
}
