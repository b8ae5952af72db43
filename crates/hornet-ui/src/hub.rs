//! The state the web server shares with the command that runs tests: the run's [`Control`], the
//! latest snapshot (JSON, built once per tick on the collector thread), the chart history, the
//! queued Start, and reports built on request.
//!
//! The collector calls [`Hub::on_tick`] once a second; handlers only read what it left here, so
//! the cost of the UI is per tick (at most [`TABLE_LIMIT`] endpoints get percentiles), whatever the
//! request rate, and nothing in the UI ever touches the workers.
//!
//! The page's controls (Start, load, Stop, Reset) are in `controls`, the chart history in
//! `history`, and the JSON shape of a snapshot in `snapshot`.

use std::sync::{Arc, Condvar, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, Instant};

use hornet_metrics::RunMeta;
use hornet_metrics::report::{RESPONSE_TIME, Report};
use hornet_output::view::{EndpointRow, EndpointTable};
use hornet_runner::{Control, Tick};
use hornet_script::Plan;
use hornet_verdict::{Checks, LiveChecks};
use serde::Serialize;
use serde_json::{Value, json};
use tokio::sync::watch;

use crate::plan::{Model, StartRequest};

mod controls;
mod history;
mod snapshot;

use history::History;
use snapshot::{
    Percentiles, RunSnapshot, TableJson, checks_value, failures_value, processor_metrics_value, traces_value,
    verdicts_value, worker_row,
};

/// Endpoints shown with their own row; the others are folded into one "other" row.
pub const TABLE_LIMIT: usize = 100;
/// Failure groups listed; the rest are counted.
pub const FAILURES_LIMIT: usize = 100;
/// Chart points kept; when full, every other point is dropped (so the whole run stays, coarser).
pub const HISTORY_CAP: usize = 21_600;

/// Where the session is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum RunState {
    /// No run yet; waiting for Start.
    Ready,
    /// Start accepted; the run is being set up.
    Starting,
    /// The run is going.
    Running,
    /// Stop asked for; VUs in flight are finishing.
    Stopping,
    /// The run ended; its final figures and downloads stay until the next Start.
    Stopped,
}

/// What the page shows about the session besides the run.
#[derive(Debug, Clone, Default)]
pub struct SessionInfo {
    /// The script's path.
    pub script: Option<String>,
    /// The script's target.
    pub target: Option<String>,
    /// This machine's name (the Workers tab).
    pub host: String,
    /// Worker threads of the engine.
    pub threads: usize,
    /// The script's phases, as in the report (`run.phases`).
    pub phases: Value,
    /// What load changes the script's phases understand.
    pub scripted: Model,
    /// `--trace-link`: the URL template that makes the trace ids of the Slowest tab links.
    pub trace_link: Option<String>,
}

/// A Start taken from the queue by the command that runs tests.
pub struct Start {
    /// What the page asked for.
    pub request: StartRequest,
    /// The run's control: the UI already steers it (load, stop) while the run is set up.
    pub control: Control,
}

/// An error for an API caller: an HTTP status and a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiError {
    /// The HTTP status of the reply.
    pub status: u16,
    /// What went wrong, for the caller.
    pub message: String,
}

impl ApiError {
    pub(crate) fn new(status: u16, message: impl Into<String>) -> ApiError {
        ApiError { status, message: message.into() }
    }
}

struct Inner {
    state: RunState,
    /// Number of the current (or latest) run, from 1.
    run: u64,
    control: Option<Control>,
    model: Model,
    /// What the current run does: "as scripted", "50/s", "10 users".
    load: String,
    pending: Option<Start>,
    meta: Option<RunMeta>,
    history: History,
    /// Latest report (live or final) and its generation.
    report: Option<Arc<Report>>,
    generation: u64,
    report_wanted: bool,
    checks_json: Value,
    /// The current run's plan has a processor (whose `events.emit` metrics the page lists).
    has_processor: bool,
    message: Option<String>,
    /// The previous snapshot's cost, µs (shown on the Workers tab).
    snapshot_us: u64,
}

/// Shared between the server (handlers) and the command running the tests (see the module doc).
pub struct Hub {
    info: SessionInfo,
    inner: Mutex<Inner>,
    started: Condvar,
    snapshot: watch::Sender<Arc<str>>,
    reports: watch::Sender<u64>,
}

impl Hub {
    /// A hub for the session `info` describes, with an idle snapshot published.
    pub fn new(info: SessionInfo) -> Arc<Hub> {
        let hub = Arc::new(Hub {
            info,
            inner: Mutex::new(Inner {
                state: RunState::Ready,
                run: 0,
                control: None,
                model: Model::default(),
                load: String::new(),
                pending: None,
                meta: None,
                history: History::default(),
                report: None,
                generation: 0,
                report_wanted: false,
                checks_json: Value::Null,
                has_processor: false,
                message: None,
                snapshot_us: 0,
            }),
            started: Condvar::new(),
            snapshot: watch::channel(Arc::from("{}")).0,
            reports: watch::channel(0).0,
        });
        hub.publish_idle();
        hub
    }

    fn lock(&self) -> MutexGuard<'_, Inner> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The latest snapshot (JSON).
    pub fn snapshot(&self) -> Arc<str> {
        self.snapshot.borrow().clone()
    }

    /// A receiver of snapshots (one per tick, plus one on each change of state).
    pub fn subscribe(&self) -> watch::Receiver<Arc<str>> {
        self.snapshot.subscribe()
    }

    /// The session's state.
    pub fn state(&self) -> RunState {
        self.lock().state
    }

    /// `GET /api/state`.
    pub fn state_json(&self) -> Value {
        let i = self.lock();
        json!({
            "state": i.state,
            "run": i.run,
            "load": i.load,
            "factor": i.control.as_ref().map(Control::factor),
            "can_start": matches!(i.state, RunState::Ready | RunState::Stopped),
            "can_set": { "rate": i.model.rate, "users": i.model.users },
            "scripted": { "rate": self.info.scripted.rate, "users": self.info.scripted.users, "phases": self.info.phases },
            "script": self.info.script,
            "target": self.info.target,
            "host": self.info.host,
            "threads": self.info.threads,
            "message": i.message,
            "table_limit": TABLE_LIMIT,
            "version": env!("CARGO_PKG_VERSION"),
        })
    }

    /// `GET /api/history`: the chart points of the current run.
    pub fn history_json(&self) -> Value {
        let i = self.lock();
        let mut v = serde_json::to_value(&i.history).unwrap_or(Value::Null);
        v["run"] = json!(i.run);
        v
    }

    /// A report of the current run for a download: the final one once the run ended, else one built
    /// from the current aggregate at the next tick (waits at most `timeout`).
    pub async fn report(&self, timeout: Duration) -> Result<Arc<Report>, ApiError> {
        let mut rx = self.reports.subscribe();
        let generation = {
            let mut i = self.lock();
            match i.state {
                RunState::Ready => return Err(ApiError::new(409, "no run yet: start one first")),
                RunState::Stopped => {
                    return i.report.clone().ok_or_else(|| ApiError::new(409, "the run produced no report"));
                }
                RunState::Starting | RunState::Running | RunState::Stopping => {}
            }
            i.report_wanted = true;
            i.generation
        };
        let waited = tokio::time::timeout(timeout, rx.wait_for(|g| *g > generation)).await;
        if !matches!(waited, Ok(Ok(_))) {
            return Err(ApiError::new(503, "the report was not ready in time; try again"));
        }
        self.lock().report.clone().ok_or_else(|| ApiError::new(503, "no report yet; try again"))
    }

    /// The run started (by a Start from the UI, or `hornet run --ui`): `control` steers it.
    pub fn run_started(&self, control: &Control, plan: &Plan, meta: RunMeta, checks: &Checks) {
        let mut i = self.lock();
        let ours = i.control.as_ref().is_some_and(|c| same(c, control)) && i.state == RunState::Starting;
        if !ours {
            i.run += 1;
            i.load = "as scripted".into();
            i.history = History::default();
            i.model = Model::of(plan);
            i.control = Some(control.clone());
        }
        if i.state != RunState::Stopping {
            i.state = RunState::Running;
        }
        i.meta = Some(meta);
        i.has_processor = plan.processor.is_some();
        i.report = None;
        i.report_wanted = false;
        // Without checks there is nothing to evaluate: say so at once.
        i.checks_json = if checks.is_empty() {
            json!({ "items": [], "apdex": Value::Null, "evaluated_at_s": 0.0, "final": false })
        } else {
            Value::Null
        };
        i.message = None;
        drop(i);
        self.publish_idle();
    }

    /// Once per tick, on the collector thread: builds the snapshot (with the latest verdicts of
    /// the run's live `checks`, which the caller evaluates), and a report when a download waits
    /// for one.
    pub fn on_tick(&self, t: &Tick<'_>, checks: &LiveChecks) {
        let begun = Instant::now();
        let agg = t.aggregate;
        let (want_report, meta, run, has_processor) = {
            let i = self.lock();
            (i.report_wanted, i.meta.clone(), i.run, i.has_processor)
        };
        let mut built = None;
        if want_report && let Some(mut meta) = meta {
            meta.duration = t.live.elapsed;
            let mut report = agg.report(meta);
            report.run.host = Some(self.info.host.clone()).filter(|h| !h.is_empty());
            let verdicts = hornet_verdict::evaluate(checks.checks(), &report);
            verdicts.apply_to(&mut report);
            built = Some(Arc::new(report));
        }
        let checks_json = checks.latest().map(|(v, at)| verdicts_value(v, at));
        // A processor's metrics so far, from the report built for a download or the cheaper
        // figures (only for a plan with a processor: a run without one pays nothing).
        let processor_metrics = match (&built, has_processor) {
            (Some(report), _) => processor_metrics_value(report),
            (None, true) => processor_metrics_value(&agg.figures(t.live.elapsed)),
            (None, false) => json!([]),
        };

        let table = EndpointTable::live(agg, TABLE_LIMIT, &[]);
        let failures = failures_value(&agg.errors());
        let traces = traces_value(&agg.traced_requests(), self.info.trace_link.as_deref());
        let live = &t.live;
        let fails = table.total.current_failures_per_s;
        let point = [
            live.elapsed.as_secs_f64(),
            live.rps,
            fails,
            live.p50_ms,
            live.p95_ms,
            live.p99_ms,
            live.active_vus as f64,
        ];

        let counted = live.elapsed.saturating_sub(agg.reset_at().unwrap_or_default()).as_secs_f64();
        let total_rps = if counted > 0.0 { table.total.requests as f64 / counted } else { 0.0 };

        let mut i = self.lock();
        if i.run != run {
            return;
        }
        if let Some(c) = checks_json {
            i.checks_json = c;
        }
        if let Some(r) = built {
            i.report = Some(r);
            i.report_wanted = false;
            i.generation += 1;
        }
        if i.state == RunState::Running && i.control.as_ref().is_some_and(|c| c.stop_reason().is_some()) {
            i.state = RunState::Stopping;
        }
        i.history.push(point);
        let state = i.state;
        let snapshot = RunSnapshot {
            run: i.run,
            state,
            load: &i.load,
            factor: i.control.as_ref().map(Control::factor),
            elapsed_s: live.elapsed.as_secs_f64(),
            phase: t.phase,
            user_count: live.active_vus,
            current_rps: live.rps,
            current_fail_per_s: fails,
            total_rps,
            current_response_time_ms: Percentiles { p50: live.p50_ms, p95: live.p95_ms, p99: live.p99_ms },
            table: TableJson::of(&table),
            failures,
            traces,
            checks: i.checks_json.clone(),
            processor_metrics,
            workers: if t.workers.is_empty() {
                json!([self.local_row(
                    state,
                    live.active_vus,
                    live.rps,
                    table.total.requests,
                    live.cpu_percent,
                    Some(agg.lag_p99_ms())
                )])
            } else {
                Value::Array(t.workers.iter().map(worker_row).collect())
            },
            snapshot_ms: Some(i.snapshot_us as f64 / 1000.0),
            point: Some(point),
            warnings: agg.warnings(),
            reset_at_s: agg.reset_at().map(|d| d.as_secs_f64()),
            is_final: false,
        }
        .to_json();
        let generation = i.generation;
        i.snapshot_us = u64::try_from(begun.elapsed().as_micros()).unwrap_or(u64::MAX);
        drop(i);
        self.snapshot.send_replace(Arc::from(snapshot));
        self.reports.send_replace(generation);
    }

    /// The run ended with `report` (verdicts applied): its final figures replace the live ones.
    pub fn run_finished(&self, report: &Report) {
        let report = Arc::new(report.clone());
        let mut i = self.lock();
        i.state = RunState::Stopped;
        i.control = None;
        i.pending = None;
        i.report = Some(report.clone());
        i.generation += 1;
        let generation = i.generation;
        let table = EndpointTable::from_report(&report, TABLE_LIMIT);
        let total_rt = report.aggregate.summaries.get(RESPONSE_TIME).copied().unwrap_or_default();
        let secs = report.run.duration_s;
        let snapshot = RunSnapshot {
            run: i.run,
            state: RunState::Stopped,
            load: &i.load,
            factor: None,
            elapsed_s: secs,
            phase: None,
            user_count: 0,
            current_rps: 0.0,
            current_fail_per_s: 0.0,
            total_rps: if secs > 0.0 { table.total.requests as f64 / secs } else { 0.0 },
            current_response_time_ms: Percentiles { p50: total_rt.p50, p95: total_rt.p95, p99: total_rt.p99 },
            table: TableJson::of(&table),
            failures: failures_value(&report.errors),
            traces: traces_value(
                &report.traced_requests,
                report.run.trace_link.as_deref().or(self.info.trace_link.as_deref()),
            ),
            checks: checks_value(&report),
            processor_metrics: processor_metrics_value(&report),
            workers: if report.workers.is_empty() {
                json!([self.local_row(
                    RunState::Stopped,
                    0,
                    0.0,
                    table.total.requests,
                    report.generator.map(|g| g.cpu_mean),
                    report.aggregate.summaries.get("schedule.lag").map(|s| s.p99),
                )])
            } else {
                Value::Array(report.workers.iter().map(worker_row).collect())
            },
            snapshot_ms: None,
            point: None,
            warnings: &report.warnings,
            reset_at_s: None,
            is_final: true,
        }
        .to_json();
        drop(i);
        self.snapshot.send_replace(Arc::from(snapshot));
        self.reports.send_replace(generation);
    }

    /// The run could not start (a bad request in the script, the `before` flow failed, ...).
    pub fn run_failed(&self, message: &str) {
        let mut i = self.lock();
        i.state = if i.report.is_some() { RunState::Stopped } else { RunState::Ready };
        i.control = None;
        i.pending = None;
        i.message = Some(message.to_owned());
        drop(i);
        self.publish_idle();
        self.reports.send_modify(|g| *g += 1);
    }

    /// The Workers tab's one row for a run on this machine (its own engine).
    fn local_row(
        &self,
        state: RunState,
        users: u64,
        rps: f64,
        requests: u64,
        cpu: Option<f64>,
        lag_p99_ms: Option<f64>,
    ) -> Value {
        json!({
            "name": self.info.host,
            "address": Value::Null,
            "state": state,
            "weight": 1,
            "share": 1.0,
            "threads": self.info.threads,
            "users": users,
            "rps": rps,
            "requests": requests,
            "cpu_percent": cpu,
            "lag_p99_ms": lag_p99_ms,
        })
    }

    /// Publishes a snapshot with the new state and otherwise empty figures (no run yet), or
    /// updates the state of the latest snapshot.
    fn publish_idle(&self) {
        let i = self.lock();
        let snapshot = json!({
            "run": i.run,
            "state": i.state,
            "load": i.load,
            "message": i.message,
            "stats": [],
            "other": Value::Null,
            "total": EndpointRow::default(),
            "endpoints": 0,
            "failures": { "groups": [], "folded": 0 },
            "checks": Value::Null,
            "workers": [self.local_row(i.state, 0, 0.0, 0, None, None)],
            "point": Value::Null,
            "warnings": [],
            "final": false,
        });
        drop(i);
        self.snapshot.send_replace(Arc::from(snapshot.to_string()));
    }

    /// Rewrites the state in the latest snapshot (after Stop), so the page sees it at once.
    fn restate(&self) {
        let state = self.lock().state;
        let current = self.snapshot();
        if let Ok(mut v) = serde_json::from_str::<Value>(&current) {
            v["state"] = json!(state);
            // Only the local engine's row follows the run state; workers report their own.
            if let Some(w) = v["workers"].get_mut(0).filter(|w| w["address"].is_null()) {
                w["state"] = json!(state);
            }
            self.snapshot.send_replace(Arc::from(v.to_string()));
        }
    }
}

/// True when `a` and `b` steer the same run.
fn same(a: &Control, b: &Control) -> bool {
    a.same_run(b)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_session_states_gate_the_controls() {
        let hub = Hub::new(SessionInfo::default());
        assert_eq!(hub.state(), RunState::Ready);
        assert_eq!(hub.stop().map_err(|e| e.status), Err(409));
        assert_eq!(hub.reset().map_err(|e| e.status), Err(409));
        assert_eq!(hub.load(br#"{"factor": 2}"#).map_err(|e| e.status), Err(409));
        let start = StartRequest::parse(br#"{"rate": 5}"#).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(hub.start(start), Ok(1));
        assert_eq!(hub.start(start).map_err(|e| e.status), Err(409));
        let taken = hub.wait_start(Duration::from_millis(10)).unwrap_or_else(|| panic!("queued"));
        assert!(hub.wait_start(Duration::from_millis(10)).is_none(), "taken once");
        // The UI steers the control it made, even before the run has started.
        assert!(hub.load(br#"{"rate": 9}"#).is_ok());
        assert_eq!(hub.load(br#"{"users": 9}"#).map_err(|e| e.status), Err(400));
        hub.run_failed("the before flow failed");
        assert_eq!(hub.state(), RunState::Ready);
        assert_eq!(hub.state_json()["message"], "the before flow failed");
        assert_eq!(hub.start(start), Ok(2));
        assert!(hub.stop().is_ok());
        assert_eq!(hub.state(), RunState::Stopping);
        assert!(taken.control.stop_reason().is_none(), "the first run's control is not touched");
    }
}
