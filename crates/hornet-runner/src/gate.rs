//! Request-rate phases: a fixed set of VUs loops over their flows, and each request waits for a
//! token from the phase's rate schedule. A token that finds no VU waiting is dropped and counted,
//! never delayed (k6's dropped_iterations).

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use hornet_script::plan::PhaseKind;
use hornet_timer::Timer;
use tokio::sync::oneshot;
use tokio::time::{Duration, Instant, sleep_until};

use crate::run::RunState;
use crate::takeover::Deal;
use crate::vu::since;
use crate::worker::{ThreadState, pick_for_user, spawn_task};

/// VUs of a request-rate phase when the script does not say (`maxVusers`).
pub const DEFAULT_RATE_VUS: u64 = 100;

/// Where VUs wait for permission to send their next request.
#[derive(Default)]
pub struct Gate {
    waiting: RefCell<VecDeque<oneshot::Sender<Instant>>>,
    closed: Cell<bool>,
}

impl Gate {
    /// Waits for a token; returns its intended time, or `None` once the gate is closed.
    pub async fn acquire(&self) -> Option<Instant> {
        if self.closed.get() {
            return None;
        }
        let (tx, rx) = oneshot::channel();
        self.waiting.borrow_mut().push_back(tx);
        rx.await.ok()
    }

    /// Hands a token due at `intended` to the longest-waiting VU; false when none is waiting.
    pub fn offer(&self, intended: Instant) -> bool {
        loop {
            let Some(tx) = self.waiting.borrow_mut().pop_front() else { return false };
            if tx.send(intended).is_ok() {
                return true;
            }
        }
    }

    /// Closes the gate: waiting and future `acquire` calls return `None`.
    pub fn close(&self) {
        self.closed.set(true);
        self.waiting.borrow_mut().clear();
    }
}

/// Whether the plan has a request-rate phase.
pub(crate) fn has_phases(shared: &RunState) -> bool {
    shared.plan.phases.iter().any(|p| matches!(p.kind, PhaseKind::RequestRate { .. }))
}

/// Runs every request-rate phase of the plan in turn, with this thread's VUs and tokens.
pub(crate) async fn drive(local: &Rc<ThreadState>) {
    let shared = &local.shared;
    let vus = |total| shared.items_below(local.index, total).collect();
    drive_phases(local, None, vus, || shared.request_counts(local.index)).await;
}

/// Runs this thread's share of a lost segment's request-rate phases ([`crate::takeover`]): the lost
/// segment's tokens due from the loss on (of a phase already running, only those), and to serve them
/// its share of each phase's VUs, both dealt over the survivors' threads, on a gate of their own.
///
/// The survivors' own VUs would not do: there are only as many as their own tokens need (their
/// segments' parts of `maxVusers`), and a token that finds no VU waiting is dropped. With the lost
/// segment's tokens on top, they would drop tokens whenever requests take longer than the gap between
/// tokens allows, where the planned run, with the lost worker's VUs, would not.
pub(crate) async fn drive_takeover(local: &Rc<ThreadState>, deal: &Deal) {
    let shared = &local.shared;
    let vus = |total| deal.items_below(total).collect();
    let tokens = || {
        let all = shared.requests.arrival_counts(shared.request_seed());
        deal.counts(&shared.requests, all).map(|(_, c)| c)
    };
    drive_phases(local, Some(deal.from()), vus, tokens).await;
}

/// Runs the request-rate phases in turn (only those still running at `after`, when given): at each
/// phase's start, spawns the VUs `vus(maxVusers)` (global indices among the phase's VUs) and offers
/// them the tokens of `tokens()` that fall inside the phase.
async fn drive_phases<T: Iterator<Item = f64>>(
    local: &Rc<ThreadState>,
    after: Option<Duration>,
    vus: impl Fn(u64) -> Vec<u64>,
    tokens: impl Fn() -> T,
) {
    let shared = &local.shared;
    for (p, phase) in shared.plan.phases.iter().enumerate() {
        if !matches!(phase.kind, PhaseKind::RequestRate { .. }) {
            continue;
        }
        let offset = shared.schedule.phase_start(p);
        if after.is_some_and(|t| offset + phase.duration <= t) {
            continue;
        }
        let start = shared.start + offset;
        let end = start + phase.duration;
        let mut stopped = shared.control.subscribe();
        tokio::select! {
            _ = sleep_until(start) => {}
            _ = stopped.wait_for(|s| *s) => return,
        }
        let gate = Rc::new(Gate::default());
        for user in vus(phase.max_vusers.unwrap_or(DEFAULT_RATE_VUS)) {
            spawn_rate_vu(local, &gate, p as u64 * 1_000_000_007 + user);
        }
        tokio::select! {
            _ = issue_tokens(local, &gate, start, end, tokens()) => {}
            _ = stopped.wait_for(|s| *s) => {}
        }
        gate.close();
    }
}

/// Offers the tokens of `counts` (virtual counts) that fall inside the phase at their due times.
async fn issue_tokens(
    local: &Rc<ThreadState>,
    gate: &Gate,
    start: Instant,
    end: Instant,
    counts: impl Iterator<Item = f64>,
) {
    let shared = &local.shared;
    let mut load = shared.load.subscribe();
    let mut timer = Timer::coalescing(crate::arrivals::SCHEDULE_GAP);
    // Let the VUs just spawned reach the gate before the first token is due.
    tokio::task::yield_now().await;
    for count in counts {
        // Tokens of earlier request-rate phases are not this phase's.
        let warp = load.borrow().requests;
        if shared.requests.warped_time(&warp, count).is_some_and(|t| shared.start + t < start) {
            continue;
        }
        let intended = loop {
            let warp = load.borrow_and_update().requests;
            let due = match shared.requests.warped_time(&warp, count) {
                Some(t) => Some(t.max(warp.t0)),
                None if warp.factor > 0.0 => return,
                None => None,
            };
            let sleep = async {
                match due {
                    Some(t) => timer.sleep_until(shared.start + t).await,
                    None => timer.sleep_until(end).await,
                }
            };
            tokio::select! {
                _ = sleep => match due {
                    Some(t) => break shared.start + t,
                    None => return,
                },
                _ = load.changed() => continue,
            }
        };
        if intended >= end {
            return;
        }
        if gate.offer(intended) {
            local.recorder.borrow_mut().lag(Instant::now().saturating_duration_since(intended));
        } else {
            local.recorder.borrow_mut().dropped();
        }
    }
}

fn spawn_rate_vu(local: &Rc<ThreadState>, gate: &Rc<Gate>, index: u64) {
    local.shared.in_flight.fetch_add(1, Ordering::SeqCst);
    let (local2, gate) = (local.clone(), gate.clone());
    spawn_task(local, async move {
        let scenario = pick_for_user(&local2, index);
        let mut vu = local2.new_vu(index, scenario);
        vu.set_gate(gate);
        let ops = &local2.shared.program.scenarios[scenario].flow;
        while !local2.retiring() {
            let began = Instant::now();
            local2.recorder.borrow_mut().vu_created(scenario);
            match vu.run_flow(ops).await {
                Ok(()) => local2.recorder.borrow_mut().vu_completed(since(began)),
                Err(f) if f.stopped => break,
                Err(_) => local2.recorder.borrow_mut().vu_failed(),
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn tokens_go_to_waiting_vus_in_order_and_closing_releases_them() {
        let gate = Rc::new(Gate::default());
        assert!(!gate.offer(Instant::now()), "no VU waiting: the token is dropped");
        let local = tokio::task::LocalSet::new();
        local
            .run_until(async {
                let g1 = gate.clone();
                let first = tokio::task::spawn_local(async move { g1.acquire().await });
                let g2 = gate.clone();
                let second = tokio::task::spawn_local(async move { g2.acquire().await });
                tokio::task::yield_now().await;
                let t = Instant::now();
                assert!(gate.offer(t));
                assert_eq!(first.await.unwrap(), Some(t));
                gate.close();
                assert_eq!(second.await.unwrap(), None);
                assert_eq!(gate.acquire().await, None);
            })
            .await;
    }
}
