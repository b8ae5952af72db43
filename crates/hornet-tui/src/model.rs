//! The dashboard's view model: what the run is ([`RunInfo`], known before it starts) and
//! everything shown about it ([`View`]), updated once a tick from the collector's [`Tick`];
//! rendering reads only this. The endpoint rows are the shared live view model's
//! ([`hornet_output::view`]).

use std::collections::{HashMap, VecDeque};
use std::time::Duration;

use hornet_metrics::{ErrorKind, LiveSnapshot};
use hornet_output::format::clip;
use hornet_output::view::{EndpointRow, EndpointTable};
use hornet_runner::{RunOptions, Tick, Workload};
use hornet_script::Plan;

use crate::terminal::{MAX_TEXT, PANEL_LINES};

/// Ticks kept for the charts: five minutes at one tick a second.
pub(crate) const HISTORY: usize = 300;

/// What the run is, for the header: known before it starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunInfo {
    /// The script (or, without one, the target).
    pub script: Option<String>,
    /// The run's seed.
    pub seed: Option<u64>,
    /// The planned phases, back to back.
    pub phases: Vec<PhaseSpan>,
    /// The planned length of the run, when it has one.
    pub duration: Option<Duration>,
    /// The planned number of iterations (closed model with `-n`).
    pub iterations: Option<u64>,
    /// The method of each endpoint, when one method is used for it (see
    /// [`Endpoint::method`](hornet_script::plan::Endpoint::method)).
    pub methods: Vec<Option<String>>,
}

/// One planned phase.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSpan {
    /// The phase's name, or its description.
    pub label: String,
    /// When it starts, from the start of the run.
    pub start: Duration,
    /// How long it lasts.
    pub duration: Duration,
}

impl RunInfo {
    /// What `plan` run with `opts` will be.
    pub fn new(plan: &Plan, opts: &RunOptions) -> RunInfo {
        let mut start = Duration::ZERO;
        let mut phases = Vec::new();
        let (duration, iterations) = match &opts.workload {
            Workload::Open => {
                for (i, p) in plan.phases.iter().enumerate() {
                    phases.push(PhaseSpan { label: clip(&p.label(i), 60), start, duration: p.duration });
                    start = start.saturating_add(p.duration);
                }
                ((!phases.is_empty()).then_some(start), None)
            }
            Workload::Closed { iterations, duration, .. } => (*duration, *iterations),
        };
        let script = plan
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .or_else(|| plan.target.clone())
            .or_else(|| plan.endpoints.first().map(|e| e.name.clone()));
        RunInfo {
            script: script.map(|s| clip(&s, 120)),
            seed: Some(opts.seed),
            phases,
            duration,
            iterations,
            methods: plan.endpoints.iter().map(|e| e.method.clone()).collect(),
        }
    }
}

/// One tick's figures for the charts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub(crate) struct Sample {
    /// Seconds since the start.
    pub(crate) t: f64,
    pub(crate) rps: f64,
    /// Errors per second.
    pub(crate) eps: f64,
    pub(crate) p50: f64,
    pub(crate) p95: f64,
    pub(crate) p99: f64,
    pub(crate) p99c: f64,
}

/// An error kind on an endpoint, with when its count last grew.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ErrorLine {
    pub(crate) kind: ErrorKind,
    pub(crate) endpoint: Option<String>,
    pub(crate) count: u64,
    pub(crate) message: String,
    /// Elapsed time of the tick its count last grew in.
    pub(crate) last: Duration,
}

/// Everything the dashboard shows, updated once a tick; rendering reads only this.
#[derive(Debug, Default)]
pub struct View {
    pub(crate) info: RunInfo,
    pub(crate) last: LiveSnapshot,
    pub(crate) history: VecDeque<Sample>,
    pub(crate) phase: Option<String>,
    /// Every endpoint's row, most requests first.
    pub(crate) endpoints: Vec<EndpointRow>,
    pub(crate) errors: Vec<ErrorLine>,
    /// Warnings (`true`) and captured output lines, oldest first.
    pub(crate) panel: VecDeque<(bool, String)>,
    pub(crate) help: bool,
    pub(crate) notice: Option<String>,
}

impl View {
    /// An empty view of the run `info` describes.
    pub fn new(info: RunInfo) -> View {
        View { info, ..View::default() }
    }

    /// Takes in one tick of the run.
    pub fn update(&mut self, tick: &Tick<'_>) {
        let s = tick.live;
        let dt = s.elapsed.saturating_sub(self.last.elapsed).as_secs_f64();
        let new_errors = s.errors.saturating_sub(self.last.errors);
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(Sample {
            t: s.elapsed.as_secs_f64(),
            rps: s.rps,
            eps: if dt > 0.0 { new_errors as f64 / dt } else { 0.0 },
            p50: s.p50_ms,
            p95: s.p95_ms,
            p99: s.p99_ms,
            p99c: s.p99_corrected_ms.max(s.p99_ms),
        });
        self.last = s;
        self.phase = tick.phase.map(|p| clip(p, 60));

        self.endpoints = EndpointTable::live(tick.aggregate, usize::MAX, &self.info.methods).rows;

        let before: HashMap<(ErrorKind, Option<String>), (u64, Duration)> =
            self.errors.drain(..).map(|e| ((e.kind, e.endpoint), (e.count, e.last))).collect();
        self.errors = tick
            .aggregate
            .errors()
            .into_iter()
            .map(|e| {
                let last = match before.get(&(e.kind, e.endpoint.clone())) {
                    Some(&(count, last)) if count >= e.count => last,
                    _ => s.elapsed,
                };
                ErrorLine {
                    kind: e.kind,
                    endpoint: e.endpoint,
                    count: e.count,
                    message: clip(&e.first_message, MAX_TEXT),
                    last,
                }
            })
            .collect();
        self.errors.sort_by(|a, b| b.last.cmp(&a.last).then(b.count.cmp(&a.count)));

        for w in &tick.warnings {
            self.push_panel(true, clip(w, MAX_TEXT));
        }
    }

    /// Adds a warning or an output line to the panel.
    pub(crate) fn push_panel(&mut self, warning: bool, line: String) {
        if self.panel.len() == PANEL_LINES {
            self.panel.pop_front();
        }
        self.panel.push_back((warning, line));
    }

    /// Replaces what the run is (the header).
    pub fn set_info(&mut self, info: RunInfo) {
        self.info = info;
    }
}
