//! Load phases: what arrives during each (an arrival rate, a count, a pause, a closed model's
//! users, a request rate), how arrivals are spaced, and a phase's label.

use std::time::Duration;

/// One load phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// `name`, if given.
    pub name: Option<String>,
    /// How long the phase lasts (more than zero unless it is a pause).
    pub duration: Duration,
    /// What arrives during the phase.
    pub kind: PhaseKind,
    /// Cap on VUs in flight; arrivals beyond it are skipped and counted. For a request-rate phase,
    /// the number of VUs that issue the requests.
    pub max_vusers: Option<u64>,
    /// How arrivals (or request-rate tokens) are spaced: evenly (default) or as a Poisson process.
    /// Always [`ArrivalMode::Uniform`] for pauses and closed-model phases, which have no arrivals.
    pub mode: ArrivalMode,
    /// For closed-model phases: how often each user starts an iteration.
    pub pacing: Option<Pacing>,
}

/// The most arrivals a second one hornet process starts (an open phase's `arrivalRate`, `rampTo`,
/// `requestRate`, or `arrivalCount` over its duration, and `quick -r`): each arrival is a virtual
/// user with its own state, and faster than this they queue in memory until the process is killed.
pub const MAX_ARRIVAL_RATE: f64 = 1_000_000.0;

/// The number of VUs that issue a request-rate phase's requests when it sets no `maxVusers`
/// (the parser fills [`Phase::max_vusers`] with it).
pub const DEFAULT_REQUEST_RATE_VUSERS: u64 = 100;

/// How arrivals are spaced in time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ArrivalMode {
    /// Exactly as the rate says (docs/design.md §1).
    #[default]
    Uniform,
    /// A Poisson process with the same mean rate, seeded by `--seed`.
    Poisson,
}

/// Per-user pacing of iterations in a closed-model phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// `pacing: 2s`: an iteration starts every interval (Locust's constant_pacing); an iteration
    /// that overruns is followed at once and counted as late.
    Interval(Duration),
    /// `throughput: 5`: iterations per second per user (Locust's constant_throughput).
    Throughput(f64),
}

impl Pacing {
    /// The interval between iteration starts.
    pub fn interval(&self) -> Duration {
        match *self {
            Pacing::Interval(d) => d,
            Pacing::Throughput(t) if t > 0.0 && t.is_finite() => Duration::from_secs_f64(1.0 / t),
            Pacing::Throughput(_) => Duration::ZERO,
        }
    }
}

/// How a closed-model phase reaches its user count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UserRamp {
    /// `users: N`: all users (beyond those already running) start at the phase start.
    Immediate,
    /// `users: N` with `spawnRate: r`: user i of the change starts at i / r (Locust).
    SpawnRate(f64),
    /// `rampUsers: N`: linear from the previous phase's users to N over the duration (k6 ramping-vus).
    Linear,
}

/// The arrivals of a phase. Rates are finite and non-negative; a phase that would have no arrivals
/// at all (rate 0 without a ramp, count 0) is a [`PhaseKind::Pause`].
#[derive(Debug, Clone, PartialEq)]
pub enum PhaseKind {
    /// `arrivalRate` (per second), optionally ramping linearly to `ramp_to` over the duration.
    Rate {
        /// Arrivals per second at the start of the phase.
        rate: f64,
        /// Arrivals per second at the end of the phase (`rampTo`), if it ramps.
        ramp_to: Option<f64>,
    },
    /// `arrivalCount` arrivals spread evenly over the duration.
    Count {
        /// Number of arrivals (at least 1).
        count: u64,
    },
    /// No arrivals.
    Pause,
    /// Closed model: keep `users` virtual users alive, each looping over its scenario's flow.
    /// Users beyond the new count (after a ramp down) stop at the end of their iteration.
    Users {
        /// The user count at the end of the phase.
        users: u64,
        /// How the count is reached.
        ramp: UserRamp,
    },
    /// `requestRate`: requests per second across all VUs (ramping to `ramp_to`), whatever the
    /// flow; `max_vusers` VUs issue them. A request due while no VU is free is dropped and counted.
    RequestRate {
        /// Requests per second at the start.
        rate: f64,
        /// Requests per second at the end (`rampTo`), if it ramps.
        ramp_to: Option<f64>,
    },
}

impl Phase {
    /// The most arrivals (or request-rate tokens) a second the phase asks for: its rate or its
    /// `rampTo`, whichever is higher, or its `arrivalCount` over its duration; `None` for a
    /// closed-model phase or a pause.
    pub fn peak_arrival_rate(&self) -> Option<f64> {
        match self.kind {
            PhaseKind::Rate { rate, ramp_to } | PhaseKind::RequestRate { rate, ramp_to } => {
                Some(ramp_to.map_or(rate, |end| end.max(rate)))
            }
            PhaseKind::Count { count } => Some(count as f64 / self.duration.as_secs_f64().max(1e-9)),
            PhaseKind::Pause | PhaseKind::Users { .. } => None,
        }
    }

    /// A label for displays: the name, or a description of the phase.
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("phase {}", index + 1),
        }
    }
}
