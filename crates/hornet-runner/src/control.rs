//! The one handle through which a running test is steered from outside (terminal keys, signals,
//! later the web UI): change the load (a factor on rates and user counts, or an absolute rate or
//! user count), reset the statistics, stop gracefully, or stop now.

use std::sync::atomic::{AtomicBool, AtomicU8, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use std::time::Duration;

use hornet_schedule::{Schedule, Users};
use hornet_script::Plan;
use tokio::sync::watch;

/// Why a run was stopped before its schedule ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// SIGINT / Ctrl-C: exit code 130.
    Interrupted,
    /// SIGTERM: exit code 143.
    Terminated,
    /// SIGHUP (the terminal or SSH session went away): exit code 129.
    HungUp,
    /// A check failed while running and `--abort-on-fail` was given: exit code 1.
    ChecksFailed,
    /// The user asked for a graceful stop (`q`): no new arrivals or iterations, running VUs
    /// finish (bounded by `gracefulStop`). Exit code 0.
    Quit,
}

impl StopReason {
    /// The conventional exit code for this reason.
    pub fn exit_code(self) -> i32 {
        match self {
            StopReason::Interrupted => 130,
            StopReason::Terminated => 143,
            StopReason::HungUp => 129,
            StopReason::ChecksFailed => 1,
            StopReason::Quit => 0,
        }
    }

    fn code(self) -> u8 {
        match self {
            StopReason::Interrupted => 1,
            StopReason::Terminated => 2,
            StopReason::ChecksFailed => 3,
            StopReason::Quit => 4,
            StopReason::HungUp => 5,
        }
    }

    fn from_code(code: u8) -> Option<StopReason> {
        Some(match code {
            1 => StopReason::Interrupted,
            2 => StopReason::Terminated,
            3 => StopReason::ChecksFailed,
            4 => StopReason::Quit,
            5 => StopReason::HungUp,
            _ => return None,
        })
    }

    /// True when VUs in flight may finish (a graceful stop) rather than being cancelled at once.
    pub fn is_graceful(self) -> bool {
        matches!(self, StopReason::Quit)
    }
}

/// A requested change of load, as the user expressed it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum LoadRequest {
    /// Multiply the current factor (the terminal's `+` is 1.1, `-` is 1/1.1).
    Scale(f64),
    /// Set the factor on the plan's rates and user counts (1.0 is the plan as written).
    Factor(f64),
    /// Arrivals or requests per second from now on (converted to a factor on the plan's current rate).
    Rate(f64),
    /// Closed-model users from now on (converted to a factor on the plan's current user count).
    Users(u64),
}

/// A cloneable, thread-safe handle to a run.
#[derive(Clone)]
pub struct Control {
    inner: Arc<Inner>,
}

/// In a distributed run with the `redistribute` policy: this worker also runs the part of a lost
/// worker's segment from `from` on (its arrivals, closed-model users, request-rate tokens and VUs)
/// that falls to it when dealt round robin over `survivors` and their threads.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Takeover {
    /// The lost worker's segment index.
    pub lost: usize,
    /// From when (time since the start of the run).
    pub from: std::time::Duration,
    /// The segment indices of the workers sharing the lost segment, in order.
    pub survivors: Vec<usize>,
}

struct Inner {
    takeovers: watch::Sender<Vec<Takeover>>,
    reason: AtomicU8,
    stopped: watch::Sender<bool>,
    requests: Mutex<Vec<LoadRequest>>,
    factor: watch::Sender<f64>,
    reset: AtomicBool,
}

impl Default for Control {
    fn default() -> Self {
        Control::new()
    }
}

impl Control {
    /// The control of a run not yet started: not stopped, factor 1, nothing pending.
    pub fn new() -> Control {
        let (stopped, _) = watch::channel(false);
        let (factor, _) = watch::channel(1.0);
        Control {
            inner: Arc::new(Inner {
                takeovers: watch::channel(Vec::new()).0,
                reason: AtomicU8::new(0),
                stopped,
                requests: Mutex::new(Vec::new()),
                factor,
                reset: AtomicBool::new(false),
            }),
        }
    }

    /// Stops the run. The first reason given wins, except that an immediate stop (Ctrl-C, SIGTERM)
    /// replaces a graceful [`StopReason::Quit`] that is still waiting for VUs. Except for `Quit`,
    /// VUs in flight are cancelled at once and counted; the report is produced either way.
    pub fn stop(&self, reason: StopReason) {
        let quit = StopReason::Quit.code();
        let _ = self.inner.reason.fetch_update(Ordering::SeqCst, Ordering::SeqCst, |current| {
            (current == 0 || (current == quit && !reason.is_graceful())).then_some(reason.code())
        });
        self.inner.stopped.send_replace(true);
    }

    /// The reason the run was stopped, if it was.
    pub fn stop_reason(&self) -> Option<StopReason> {
        StopReason::from_code(self.inner.reason.load(Ordering::SeqCst))
    }

    /// Asks for a change of load; the run applies it within a second (at its next tick).
    pub fn request(&self, change: LoadRequest) {
        self.inner.requests.lock().unwrap_or_else(PoisonError::into_inner).push(change);
    }

    /// True when `self` and `other` are handles to the same run.
    pub fn same_run(&self, other: &Control) -> bool {
        Arc::ptr_eq(&self.inner, &other.inner)
    }

    /// Asks for the statistics to be reset (Locust's "Reset stats"); the run's collector applies it
    /// at its next tick with [`hornet_metrics::Aggregator::reset_stats`], which documents what is
    /// cleared and what is kept.
    pub fn reset_stats(&self) {
        self.inner.reset.store(true, Ordering::SeqCst);
    }

    /// Takes a pending reset request (the run's collector applies it).
    pub(crate) fn take_reset(&self) -> bool {
        self.inner.reset.swap(false, Ordering::SeqCst)
    }

    /// Adds a takeover (see [`Takeover`]); only a part of a distributed run acts on it.
    pub fn take_over(&self, lost: usize, from: std::time::Duration, survivors: Vec<usize>) {
        self.inner.takeovers.send_modify(|list| list.push(Takeover { lost, from, survivors }));
    }

    pub(crate) fn subscribe_takeovers(&self) -> watch::Receiver<Vec<Takeover>> {
        self.inner.takeovers.subscribe()
    }

    /// The factor currently applied to the plan's rates and user counts.
    pub fn factor(&self) -> f64 {
        *self.inner.factor.borrow()
    }

    /// A receiver that changes to `true` when the run is stopped.
    pub(crate) fn subscribe(&self) -> watch::Receiver<bool> {
        self.inner.stopped.subscribe()
    }

    /// Takes the pending load requests (the run's collector applies them).
    pub(crate) fn take_requests(&self) -> Vec<LoadRequest> {
        std::mem::take(&mut *self.inner.requests.lock().unwrap_or_else(PoisonError::into_inner))
    }

    /// Publishes a new factor to the workers.
    pub(crate) fn set_factor(&self, factor: f64) {
        self.inner.factor.send_replace(factor);
    }
}

/// The plan's load over time before any load factor: arrivals, request-rate tokens and
/// closed-model users. Absolute load requests (a rate, a user count) are related to it.
pub struct PlannedLoad {
    /// The arrival schedule.
    pub arrivals: Schedule,
    /// The request-rate tokens' schedule.
    pub requests: Schedule,
    /// The closed-model target user count over time.
    pub users: Users,
}

impl PlannedLoad {
    /// The load of `plan`'s phases.
    pub fn of(plan: &Plan) -> PlannedLoad {
        PlannedLoad {
            arrivals: Schedule::new(&plan.phases),
            requests: Schedule::requests(&plan.phases),
            users: Schedule::users(&plan.phases),
        }
    }
}

impl Control {
    /// Takes the pending load requests and applies them at `t` (time since the start) to the
    /// current factor, relating absolute ones to `planned` at `t`; publishes and returns the new
    /// factor, or `None` when nothing was asked for. (A run on this machine also rebases its
    /// workers' schedules on it; a distributed run's controller sends it to its workers.)
    pub fn apply_pending(&self, planned: &PlannedLoad, t: Duration) -> Option<f64> {
        self.apply_pending_to(&planned.arrivals, &planned.requests, &planned.users, t)
    }

    /// [`Control::apply_pending`] with the plan's load given by its parts.
    pub(crate) fn apply_pending_to(
        &self,
        arrivals: &Schedule,
        requests: &Schedule,
        users: &Users,
        t: Duration,
    ) -> Option<f64> {
        let pending = self.take_requests();
        if pending.is_empty() {
            return None;
        }
        let (rate, planned_users) = planned_load(arrivals, requests, users, t);
        let factor = apply_requests(self.factor(), &pending, rate, planned_users);
        self.set_factor(factor);
        Some(factor)
    }
}

/// The plan's arrival-plus-request rate around `t` (per second) and its target users, before any
/// load factor: what absolute load requests are related to.
fn planned_load(arrivals: &Schedule, requests: &Schedule, users: &Users, t: Duration) -> (f64, f64) {
    let rate = |s: &Schedule| {
        s.count_at(t + Duration::from_millis(500)) - s.count_at(t.saturating_sub(Duration::from_millis(500)))
    };
    (rate(arrivals) + rate(requests), users.at(t))
}

/// Applies `requests` to `factor`. `planned_rate` and `planned_users` are the plan's figures at
/// this moment (before any factor), used to turn absolute requests into a factor. The result
/// stays within [0, 1000].
pub(crate) fn apply_requests(
    factor: f64,
    requests: &[LoadRequest],
    planned_rate: f64,
    planned_users: f64,
) -> f64 {
    let mut f = factor;
    for r in requests {
        f = match *r {
            LoadRequest::Scale(s) if s.is_finite() && s > 0.0 => f * s,
            LoadRequest::Factor(x) if x.is_finite() && x >= 0.0 => x,
            LoadRequest::Rate(rate) if rate.is_finite() && rate >= 0.0 && planned_rate > 0.0 => {
                rate / planned_rate
            }
            LoadRequest::Users(u) if planned_users > 0.0 => u as f64 / planned_users,
            _ => f,
        };
    }
    f.clamp(0.0, 1000.0)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_reason_wins_and_subscribers_see_it() {
        let c = Control::new();
        let rx = c.subscribe();
        assert_eq!(c.stop_reason(), None);
        assert!(!*rx.borrow());
        c.stop(StopReason::Terminated);
        c.stop(StopReason::Interrupted);
        assert_eq!(c.stop_reason(), Some(StopReason::Terminated));
        assert!(*rx.borrow());
        assert_eq!(StopReason::Interrupted.exit_code(), 130);
        assert_eq!(StopReason::Quit.exit_code(), 0);
        assert!(StopReason::Quit.is_graceful() && !StopReason::Interrupted.is_graceful());
        let c = Control::new();
        c.stop(StopReason::Quit);
        c.stop(StopReason::Quit);
        assert_eq!(c.stop_reason(), Some(StopReason::Quit));
        c.stop(StopReason::Interrupted);
        assert_eq!(c.stop_reason(), Some(StopReason::Interrupted), "Ctrl-C after q cancels the VUs");
    }

    #[test]
    fn load_requests_become_a_factor() {
        let c = Control::new();
        c.request(LoadRequest::Scale(1.1));
        c.request(LoadRequest::Scale(1.1));
        let reqs = c.take_requests();
        assert!(c.take_requests().is_empty());
        let f = apply_requests(1.0, &reqs, 100.0, 0.0);
        assert!((f - 1.21).abs() < 1e-12);
        assert_eq!(apply_requests(f, &[LoadRequest::Rate(50.0)], 100.0, 0.0), 0.5);
        assert_eq!(apply_requests(1.0, &[LoadRequest::Users(30)], 0.0, 10.0), 3.0);
        // Absolute requests without a planned figure to relate to, and nonsense, change nothing.
        assert_eq!(apply_requests(2.0, &[LoadRequest::Rate(50.0), LoadRequest::Scale(-1.0)], 0.0, 0.0), 2.0);
        assert_eq!(apply_requests(1.0, &[LoadRequest::Factor(1e9)], 1.0, 1.0), 1000.0);
        c.set_factor(1.5);
        assert_eq!(c.factor(), 1.5);
    }

    #[test]
    fn a_reset_request_is_taken_once() {
        let c = Control::new();
        assert!(!c.take_reset());
        c.clone().reset_stats();
        assert!(c.take_reset());
        assert!(!c.take_reset());
    }
}
