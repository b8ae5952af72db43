//! What a run is made of on this machine: its options ([`RunOptions`], [`Workload`]), the state
//! its worker threads share ([`RunState`]: the compiled plan, the schedules, the load adjustments),
//! the set-up helpers (compiling the plan, the HTTP client settings, the variables every VU starts
//! from, `before` and `after`), and the report's description of the phases.

use std::collections::HashMap;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::SystemTime;

use hornet_engine::http::ClientConfig;
use hornet_metrics::{EndpointNames, Interval};
use hornet_schedule::{Schedule, SegmentCounts, Segments, Users, Warp};
use hornet_script::plan::{ArrivalMode, PayloadOrder, Phase, PhaseKind, Plan, UserRamp};
use serde_json::json;
use tokio::sync::watch;
use tokio::time::{Duration, Instant};

use crate::control::{Control, StopReason};
use crate::hooks;
use crate::program::{BuildError, Program};
use crate::vu::{Scope, VuSettings};

/// How load is generated.
#[derive(Debug, Clone, PartialEq)]
pub enum Workload {
    /// Arrivals on the plan's phases (open model); no phases means one VU runs once.
    Open,
    /// `users` VUs each loop over their scenario until `iterations` in total have started or
    /// `duration` has passed (closed model; used by `hornet quick` without `-r`).
    Closed {
        /// How many VUs loop at once.
        users: u64,
        /// Iterations to start in all, if bounded.
        iterations: Option<u64>,
        /// How long the users loop, if bounded.
        duration: Option<Duration>,
    },
}

/// Settings of a run that do not come from the script.
#[derive(Debug, Clone)]
pub struct RunOptions {
    /// Seeds scenario choice and random picks; printed and saved in the report.
    pub seed: u64,
    /// Worker threads (one single-threaded runtime each). 0 means one per core.
    pub threads: usize,
    /// How the load is generated: the plan's phases, or a fixed number of looping users.
    pub workload: Workload,
    /// Measure each arrival's first request from its intended start (wrk2-style).
    pub latency_from_intended: bool,
    /// The command line, for the report.
    pub command: String,
    /// Print `log` steps.
    pub log: bool,
}

impl RunOptions {
    /// The worker threads this run uses: [`RunOptions::threads`], or one per core when that is 0.
    pub fn thread_count(&self) -> usize {
        if self.threads == 0 {
            std::thread::available_parallelism().map_or(1, |n| n.get())
        } else {
            self.threads
        }
    }
}

/// One worker's segment of a distributed run (see [`crate::Run::segment`]).
#[derive(Debug, Clone)]
pub struct SegmentRun {
    /// The run's execution segments.
    pub segments: Segments,
    /// This worker's segment (index into `segments`).
    pub index: usize,
    /// The common start, on the wall clock (converted to this machine's monotonic clock once, before
    /// the run). `None`: now. A start more than a minute away is taken as a minute away.
    pub start_at: Option<SystemTime>,
    /// What `before` produced on the controller (the run's global variables). `before` and `after`
    /// never run in a part: the controller runs them once.
    pub globals: HashMap<String, serde_json::Value>,
    /// Receives each tick's merged interval and, at the end, the last one.
    pub intervals: std::sync::mpsc::Sender<SegmentTick>,
}

/// One second of a segment run's metrics, for the controller.
#[derive(Debug)]
pub struct SegmentTick {
    /// Time since the common start.
    pub elapsed: Duration,
    /// Everything this worker recorded since the previous tick, merged.
    pub interval: Interval,
    /// The run's endpoints named at run time, whose names go with the interval's figures
    /// ([`Interval::to_wire`]).
    pub endpoint_names: Arc<EndpointNames>,
    /// VUs in flight in this worker.
    pub active_vus: u64,
    /// CPU use of this worker process (percent of the cores its threads use), when measured.
    pub cpu: Option<f64>,
    /// True for the last interval of the run.
    pub last: bool,
}

/// Why a run could not start.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// A request of the plan cannot be compiled (its URL cannot be built).
    #[error("request `{name}`: {message}")]
    Build {
        /// The request's endpoint name.
        name: String,
        /// What is wrong with it.
        message: String,
    },
    /// The HTTP client settings are unusable (a bad source address, ...).
    #[error("could not set up the HTTP client: {0}")]
    Client(String),
    /// The operating system refused a worker thread.
    #[error("could not start worker threads: {0}")]
    Threads(std::io::Error),
    /// The `before` flow failed, so the load never started.
    #[error("the `before` flow failed: {0}")]
    Before(String),
    /// The run was stopped (Ctrl-C, SIGTERM, ...) during the `before` flow, so the load never
    /// started.
    #[error("stopped during the `before` flow; no load was sent")]
    StoppedBefore(StopReason),
    /// The processor could not be loaded, or lacks a function the script names.
    #[error("{0}")]
    Processor(String),
    /// A distributed run could not start or go on (workers refused the plan, all were lost, ...).
    #[error("{0}")]
    Cluster(String),
}

impl RunError {
    /// The error of a `before` flow that ended with `failure`: stopped by `control`'s reason, or
    /// failed.
    pub(crate) fn before(failure: crate::vu::VuFailure, control: &Control) -> RunError {
        match control.stop_reason() {
            Some(reason) if failure.stopped => RunError::StoppedBefore(reason),
            _ => RunError::Before(failure.message),
        }
    }
}

/// State shared by all worker threads (read-only but for the in-flight counter and budget).
pub(crate) struct RunState {
    pub plan: Arc<Plan>,
    pub program: Program,
    pub schedule: Schedule,
    pub workload: Workload,
    pub start: Instant,
    pub seed: u64,
    pub threads: usize,
    pub client_config: ClientConfig,
    pub graceful_stop: Duration,
    pub control: Control,
    /// VUs in flight across all threads (the active-VU gauge; checked against `maxVusers`).
    pub in_flight: AtomicU64,
    /// Iterations started by closed-model users.
    pub iterations: AtomicU64,
    /// Variables every VU starts with: `config.variables`, whole payloads, what `before` captured,
    /// and the run-wide built-ins.
    pub globals: Arc<HashMap<String, serde_json::Value>>,
    /// Settings every VU of the load shares (put in an `Rc` per thread).
    pub vu_settings: VuSettings,
    /// The target as a URI, for `config.defaults.cookie`.
    pub cookie_origin: Option<http::Uri>,
    /// The request-rate tokens (request-rate phases act as arrival rates here).
    pub requests: Schedule,
    /// The closed-model target user count over time.
    pub users: Users,
    /// The current load adjustments, published by the collector to the workers.
    pub load: watch::Sender<LoadAdjustment>,
    /// No phases: one VU runs once.
    pub functional: bool,
    /// In a segment run: the segments and this worker's index.
    pub part: Option<(Segments, usize)>,
    /// The run's endpoints named at run time (`context.http` requests), shared with the collector.
    pub endpoint_names: Arc<EndpointNames>,
    /// Trace context on every request, when the plan asks for it (`config.tracing`, `--trace`).
    pub tracing: Option<Arc<crate::trace_context::RunTracing>>,
}

/// Load adjustments in force: the schedules warped by the load factor, and the factor on users.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct LoadAdjustment {
    pub arrivals: Warp,
    pub requests: Warp,
    pub users: f64,
}

impl LoadAdjustment {
    pub(crate) const PLAN: LoadAdjustment =
        LoadAdjustment { arrivals: Warp::IDENTITY, requests: Warp::IDENTITY, users: 1.0 };
}

impl RunState {
    /// This worker's stripe of the arrivals (arrival k goes to thread k mod threads), as
    /// (global index, virtual count) pairs; [`Schedule::warped_time`] turns a count into a time.
    pub fn arrival_counts(&self, index: usize) -> Box<dyn Iterator<Item = (u64, f64)> + '_> {
        if self.functional {
            let first = self.part.as_ref().is_none_or(|(s, w)| s.owner(0) == *w);
            return Box::new(std::iter::once((0, 0.0)).filter(move |_| index == 0 && first));
        }
        if let Some((segments, w)) = &self.part {
            let all = self.schedule.arrival_counts(self.seed);
            return Box::new(
                SegmentCounts::new(all, segments.clone(), *w, index, self.threads).map(|(k, c, _)| (k, c)),
            );
        }
        Box::new(self.schedule.arrival_counts_striped(self.seed, index, self.threads).map(|(k, c, _)| (k, c)))
    }

    /// The global index of thread `thread`'s `k`-th item of a numbered set (closed-model users,
    /// request-rate VUs): `thread + k·threads` in a single-machine run; in a part, the worker's
    /// items (by its execution segment) striped over its threads. `u64::MAX` when there is none.
    pub fn item_at(&self, thread: usize, k: u64) -> u64 {
        let n = self.threads as u64;
        let m = k.saturating_mul(n).saturating_add(thread as u64);
        match &self.part {
            None => m,
            Some((segments, w)) => segments.nth(*w, m).unwrap_or(u64::MAX),
        }
    }

    /// Thread `thread`'s items among `0 … total − 1` (see [`RunState::item_at`]).
    pub fn items_below(&self, thread: usize, total: u64) -> impl Iterator<Item = u64> + '_ {
        (0..).map(move |k| self.item_at(thread, k)).take_while(move |&i| i < total)
    }

    /// This worker's stripe of the request tokens, as virtual counts (the caller keeps those whose
    /// warped time falls inside the phase it serves).
    pub fn request_counts(&self, index: usize) -> Box<dyn Iterator<Item = f64> + '_> {
        let seed = self.request_seed();
        if let Some((segments, w)) = &self.part {
            let all = self.requests.arrival_counts(seed);
            return Box::new(
                SegmentCounts::new(all, segments.clone(), *w, index, self.threads).map(|(_, c, _)| c),
            );
        }
        Box::new(self.requests.arrival_counts_striped(seed, index, self.threads).map(|(_, c, _)| c))
    }

    /// The seed of the request tokens' sequence (Poisson request-rate phases draw from it).
    pub fn request_seed(&self) -> u64 {
        self.seed ^ 0x7031_E57A_1A7E_0001
    }

    /// The pacing interval of the closed-model phase running at `t`, if it has one.
    pub fn pacing_at(&self, t: Duration) -> Option<Duration> {
        let phase = self.plan.phases.get(self.schedule.phase_at(t)?)?;
        phase.pacing.map(|p| p.interval()).filter(|d| !d.is_zero())
    }

    /// Applies pending load requests at `t` (time since start): rebases the warps and publishes them.
    pub(crate) fn apply_load_requests(&self, t: Duration) {
        let Some(factor) = self.control.apply_pending_to(&self.schedule, &self.requests, &self.users, t)
        else {
            return;
        };
        self.load.send_modify(|l| {
            l.arrivals = l.arrivals.rebase(&self.schedule, t, factor);
            l.requests = l.requests.rebase(&self.requests, t, factor);
            l.users = factor;
        });
    }

    /// Admits a new VU unless `max` are already in flight.
    pub fn admit(&self, max: Option<u64>) -> bool {
        // In a part, the bound is split like everything else: this worker's share of it.
        let max = match &self.part {
            Some((segments, w)) => max.map(|m| segments.count_below(*w, m)),
            None => max,
        };
        let before = self.in_flight.fetch_add(1, Ordering::SeqCst);
        if max.is_some_and(|m| before >= m) {
            self.in_flight.fetch_sub(1, Ordering::SeqCst);
            return false;
        }
        true
    }

    /// Claims one iteration of a looping user; false once the run is stopping or, for `quick`,
    /// once its request budget or duration is spent.
    pub fn take_iteration(&self) -> bool {
        if self.control.stop_reason().is_some() {
            return false;
        }
        let Workload::Closed { iterations, duration, .. } = &self.workload else { return true };
        if duration.is_some_and(|d| Instant::now() >= self.start + d) {
            return false;
        }
        match iterations {
            Some(n) => self.iterations.fetch_add(1, Ordering::SeqCst) < *n,
            None => true,
        }
    }

    /// The variables of VU `index`: `config.variables` (an array value gives each VU one of its
    /// elements), what `before` captured, one row of each payload, and the built-ins. The globals
    /// are shared with the scope, not copied (see [`Scope::over`]): only what is the VU's own is.
    pub fn scope_for(&self, index: u64) -> Scope {
        let mut vars = HashMap::new();
        for (i, (k, v)) in self.plan.variables.iter().enumerate() {
            if let serde_json::Value::Array(items) = v
                && !items.is_empty()
            {
                let d = draw(self.seed ^ (i as u64 + 1).wrapping_mul(0xA24B_AED4_963E_E407), index);
                vars.insert(k.clone(), items[(d % items.len() as u64) as usize].clone());
            }
        }
        for (p, payload) in self.plan.payloads.iter().enumerate() {
            if payload.load_all.is_some() || payload.rows.is_empty() {
                continue;
            }
            let n = payload.rows.len() as u64;
            let row = match payload.order {
                PayloadOrder::Sequence => index % n,
                PayloadOrder::Random => {
                    draw(self.seed ^ (p as u64 + 7).wrapping_mul(0xD6E8_FEB8_6659_FD93), index) % n
                }
            };
            for (field, value) in payload.fields.iter().zip(&payload.rows[row as usize]) {
                vars.insert(field.clone(), value.clone());
            }
        }
        Scope::over(Some(self.globals.clone()), vars, draw(self.seed ^ 0x5EED_0F0F_A11C_E5E5, index))
    }
}

/// The name of this machine (Linux: the kernel's hostname; elsewhere the `HOSTNAME` variable).
pub fn hostname() -> Option<String> {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
}

/// Measures this process's CPU use between ticks, as a share of the cores the workers use.
pub(crate) struct CpuMeter {
    cores: f64,
    last: Option<(Duration, f64)>,
}

impl CpuMeter {
    pub(crate) fn new(threads: usize) -> CpuMeter {
        let cores = std::thread::available_parallelism().map_or(1, |n| n.get()).min(threads.max(1));
        CpuMeter {
            cores: cores as f64,
            last: hornet_metrics::process_cpu_seconds().map(|c| (Duration::ZERO, c)),
        }
    }

    /// CPU percent since the previous sample, or `None` when it cannot be measured.
    pub(crate) fn sample(&mut self, elapsed: Duration) -> Option<f64> {
        let now = hornet_metrics::process_cpu_seconds()?;
        let previous = self.last.replace((elapsed, now));
        let (t0, c0) = previous?;
        let wall = (elapsed - t0.min(elapsed)).as_secs_f64();
        (wall > 0.0).then(|| (now - c0) / wall / self.cores * 100.0)
    }
}

/// The variables every VU starts from: `config.variables` (arrays are narrowed per VU later),
/// whole-file payloads (`loadAll`), `target`, `$testId` ([`Plan::test_id`]) and `$environment`.
pub(crate) fn initial_globals(plan: &Plan, seed: u64) -> HashMap<String, serde_json::Value> {
    let mut vars: HashMap<String, serde_json::Value> = plan.variables.iter().cloned().collect();
    for payload in &plan.payloads {
        if let Some(name) = &payload.load_all {
            let rows = payload.rows.iter().map(|row| {
                if payload.fields.is_empty() {
                    serde_json::Value::Array(row.clone())
                } else {
                    payload
                        .fields
                        .iter()
                        .cloned()
                        .zip(row.iter().cloned())
                        .collect::<serde_json::Map<_, _>>()
                        .into()
                }
            });
            vars.insert(name.clone(), serde_json::Value::Array(rows.collect()));
        }
    }
    if let Some(t) = &plan.target {
        vars.insert("target".into(), t.clone().into());
    }
    vars.insert("$testId".into(), plan.test_id(seed).into());
    if let Some(e) = &plan.environment {
        vars.insert("$environment".into(), e.clone().into());
    }
    vars
}

/// A reproducible random draw for item `k` of a run seeded with `seed`, independent of how
/// arrivals are spread over threads.
pub use hornet_script::rng::draw;

/// Describes the phases for the report.
pub fn describe_phases(phases: &[Phase]) -> serde_json::Value {
    phases
        .iter()
        .map(|p| {
            let mut o = json!({ "name": p.name, "duration_s": p.duration.as_secs_f64() });
            match &p.kind {
                PhaseKind::Rate { rate, ramp_to } => {
                    o["arrivalRate"] = json!(rate);
                    if let Some(r) = ramp_to {
                        o["rampTo"] = json!(r);
                    }
                }
                PhaseKind::Count { count } => o["arrivalCount"] = json!(count),
                PhaseKind::Pause => o["pause"] = json!(true),
                PhaseKind::Users { users, ramp } => {
                    match ramp {
                        UserRamp::Linear => o["rampUsers"] = json!(users),
                        UserRamp::Immediate => o["users"] = json!(users),
                        UserRamp::SpawnRate(r) => {
                            o["users"] = json!(users);
                            o["spawnRate"] = json!(r);
                        }
                    }
                    if let Some(p) = p.pacing {
                        o["pacing_s"] = json!(p.interval().as_secs_f64());
                    }
                }
                PhaseKind::RequestRate { rate, ramp_to } => {
                    o["requestRate"] = json!(rate);
                    if let Some(r) = ramp_to {
                        o["rampTo"] = json!(r);
                    }
                }
            }
            if p.mode == ArrivalMode::Poisson {
                o["mode"] = json!("poisson");
            }
            if let Some(m) = p.max_vusers {
                o["maxVusers"] = json!(m);
            }
            o
        })
        .collect()
}

/// Runs `before` once (outside the load) and returns the variables every VU starts from: what a
/// controller sends its workers. Returns the initial variables when the plan has no `before`.
pub(crate) fn run_before(
    plan: &Plan,
    seed: u64,
    log: bool,
    control: &Control,
) -> Result<HashMap<String, serde_json::Value>, RunError> {
    let program = compile(plan)?;
    let (client_config, settings) = setup(plan, 1, log, false);
    let globals = initial_globals(plan, seed);
    match &program.before {
        Some(before) => hooks::run_before(before, plan, &client_config, settings, globals, seed, control),
        None => Ok(globals),
    }
}

/// Runs `after` once with `globals` (a controller does this when its workers are done), until it
/// ends or `control` stops the run; a failure is printed.
pub(crate) fn run_after(
    plan: &Plan,
    globals: &HashMap<String, serde_json::Value>,
    seed: u64,
    log: bool,
    control: &Control,
) {
    let Ok(program) = compile(plan) else { return };
    let Some(after) = &program.after else { return };
    let (client_config, settings) = setup(plan, 1, log, false);
    let scope = Scope::new(globals.clone(), draw(seed, hooks::AFTER_VU));
    let vu = Rc::new(VuSettings { replace_total: false, ..settings });
    hooks::report_after(hooks::run_once(
        after,
        plan,
        &client_config,
        vu,
        scope,
        Some(control),
        (seed, hooks::AFTER_VU),
    ));
}

/// Checks that `plan` compiles to what its VUs run (every request's URL can be built), as a run
/// would before it starts; the error names the request (`hornet validate`, the web UI).
pub fn check(plan: &Plan) -> Result<(), RunError> {
    compile(plan).map(drop)
}

pub(crate) fn compile(plan: &Plan) -> Result<Program, RunError> {
    let program = Program::compile(plan).map_err(|BuildError { endpoint, message }| RunError::Build {
        name: plan.endpoints.get(endpoint as usize).map(|e| e.name.clone()).unwrap_or_default(),
        message,
    })?;
    crate::js::check(plan).map_err(RunError::Processor)?;
    Ok(program)
}

pub(crate) fn setup(
    plan: &Plan,
    threads: usize,
    log: bool,
    from_intended: bool,
) -> (ClientConfig, VuSettings) {
    let client_config = ClientConfig {
        timeout: plan.http.timeout,
        insecure: plan.http.insecure,
        pool: plan.http.pool.map(|p| p.div_ceil(threads).max(1)),
        source_addresses: plan.http.source_addresses.clone(),
        max_kept_body: plan.http.max_capture_body,
    };
    let settings =
        VuSettings { expect_default_200: plan.expect.default_200, log, replace_total: from_intended };
    (client_config, settings)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn draw_is_deterministic_and_spread() {
        assert_eq!(draw(1, 5), draw(1, 5));
        assert_ne!(draw(1, 5), draw(2, 5));
        // Roughly uniform over two buckets.
        let odd = (0..10_000).filter(|k| draw(42, *k) % 2 == 1).count();
        assert!((4_700..5_300).contains(&odd), "{odd}");
    }
}
