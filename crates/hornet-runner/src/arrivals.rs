//! The open model: this thread's stripe of the arrivals, each started at its intended time (on the
//! schedule as warped by load changes), running one weighted scenario once.
//!
//! The driver hands each arrival to a *lane* ([`Lanes`]): a long-lived task of the thread that runs
//! arrivals one after another, each as a new VU, instead of a task spawned for every arrival. A lane
//! that finishes takes the next waiting arrival at once, or waits idle to be handed one; when none
//! is idle, a new lane is spawned, so lanes never hold an arrival back: there are as many as
//! arrivals run at once (at a fixed rate over a pool of `-c` connections, a few), and at most
//! [`IDLE_LANES_KEPT`] idle ones are kept. Each arrival keeps its intended time, so its latency is
//! measured from it whatever it waited for.

use std::cell::{Cell, RefCell};
use std::collections::VecDeque;
use std::rc::Rc;
use std::task::{Poll, Waker};

use hornet_timer::Timer;
use rustc_hash::FxHashMap;
use tokio::task::AbortHandle;
use tokio::time::Instant;

use crate::run::draw;
use crate::worker::{Running, ThreadState, count_cancelled, run_arrival};

/// The shortest time between two wake-ups of a schedule driver: arrivals (and request-rate tokens)
/// more than one per 500 µs start in batches, sparser ones exactly on time. Each wake-up costs an
/// idle-to-running switch of the generator's thread and, for the burst of sends it releases, one of
/// the server's. At 10,000/s a 250-µs gap (bursts of 2.5 sends) switched the generator 1.8–4× and
/// nginx 1.7–4× as often per request as 500 µs, for 1.2–1.4× the CPU per request (`perf stat`, see
/// docs/benchmarks.md); 1,000 µs saves little more and brings the lag p99 to the millisecond. Rates
/// up to 2,000/s are not batched at all. Each arrival keeps its exact intended time, so any wait
/// shows in `schedule.lag` and in the corrected latency.
pub(crate) const SCHEDULE_GAP: std::time::Duration = std::time::Duration::from_micros(500);

/// Dispatches arrivals until the schedule ends or the run stops.
pub(crate) async fn drive(local: &Rc<ThreadState>) {
    let items = local.shared.arrival_counts(local.index);
    drive_items(local, items).await;
}

/// Dispatches the given (global index, virtual count) items at their due times (this thread's own
/// stripe, or its share of a lost segment's: [`crate::takeover`]).
pub(crate) async fn drive_items(local: &Rc<ThreadState>, items: impl Iterator<Item = (u64, f64)>) {
    let shared = &local.shared;
    let mut load = shared.load.subscribe();
    let mut stopped = shared.control.subscribe();
    let mut timer = Timer::coalescing(SCHEDULE_GAP);
    for (index, count) in items {
        // Wait for the arrival's due time, recomputing it whenever the load factor changes.
        let intended = loop {
            let warp = load.borrow_and_update().arrivals;
            // Functional mode (no phases): the one arrival is due at once.
            let scheduled =
                if shared.functional { Some(warp.t0) } else { shared.schedule.warped_time(&warp, count) };
            let due = match scheduled {
                Some(t) => Some(t.max(warp.t0)),
                None if warp.factor > 0.0 => return, // past the end of the schedule
                None => None,                        // paused by a zero factor
            };
            // An arrival already due (the rest of a batch a wake-up releases) starts without the
            // `select!`: polling the timer, the load and the stop signal for each.
            if let Some(t) = due
                && shared.start + t <= Instant::now()
            {
                if *stopped.borrow() {
                    return;
                }
                break shared.start + t;
            }
            let sleep = async {
                match due {
                    Some(t) => timer.sleep_until(shared.start + t).await,
                    None => std::future::pending().await,
                }
            };
            tokio::select! {
                _ = sleep => break shared.start + due.unwrap_or_default(),
                _ = load.changed() => continue,
                _ = stopped.wait_for(|s| *s) => return,
            }
        };
        let lag = Instant::now().saturating_duration_since(intended);
        let phase = shared.schedule.phase_at(intended.saturating_duration_since(shared.start));
        let max = phase.and_then(|p| shared.plan.phases.get(p)).and_then(|p| p.max_vusers);
        if !shared.admit(max) {
            local.recorder.borrow_mut().vu_skipped();
            continue;
        }
        local.recorder.borrow_mut().lag(lag);
        let scenario = shared.program.pick(draw(shared.seed, index));
        local.lanes.hand(local, Arrival { index, scenario, intended, _running: Running::start(local) });
    }
}

/// The most idle lanes a thread keeps: one that finishes while this many wait idle ends instead
/// (a burst of arrivals running at once leaves no more tasks behind than this).
pub(crate) const IDLE_LANES_KEPT: usize = 256;

/// An arrival handed to a lane.
struct Arrival {
    /// Its global index.
    index: u64,
    scenario: usize,
    intended: Instant,
    /// Counts it as a running VU until it ends, is dropped from the queue or its lane is aborted.
    _running: Running,
}

/// The lanes of one thread: the arrivals handed over and not yet taken, the idle lanes waiting for
/// one, and every lane's handle (how they are cancelled at the end of the run).
#[derive(Default)]
pub(crate) struct Lanes {
    waiting: RefCell<VecDeque<Arrival>>,
    /// The idle lanes' wakers, the one idle last on top.
    idle: RefCell<Vec<Waker>>,
    lanes: RefCell<FxHashMap<u64, Lane>>,
    next_lane: Cell<u64>,
}

/// A lane's handle.
struct Lane {
    abort: AbortHandle,
    /// True while it runs an arrival.
    busy: Rc<Cell<bool>>,
}

impl Lanes {
    /// Hands `arrival` to the lane idle last (its caches the warmest), or to a new lane when none
    /// is idle.
    fn hand(&self, local: &Rc<ThreadState>, arrival: Arrival) {
        self.waiting.borrow_mut().push_back(arrival);
        let idle = self.idle.borrow_mut().pop();
        match idle {
            Some(lane) => lane.wake(),
            None => self.spawn(local),
        }
    }

    fn spawn(&self, local: &Rc<ThreadState>) {
        let id = self.next_lane.get();
        self.next_lane.set(id + 1);
        let busy = Rc::new(Cell::new(false));
        let (local2, busy2) = (local.clone(), busy.clone());
        let task = tokio::task::spawn_local(async move {
            while let Some(arrival) = std::future::poll_fn(|cx| local2.lanes.next(cx)).await {
                busy2.set(true);
                let Arrival { index, scenario, intended, _running } = arrival;
                run_arrival(&local2, scenario, index, intended).await;
                busy2.set(false);
            }
            local2.lanes.lanes.borrow_mut().remove(&id);
        });
        self.lanes.borrow_mut().insert(id, Lane { abort: task.abort_handle(), busy });
    }

    /// The next waiting arrival; pending (the lane idle) when none waits, or `None` when the lane
    /// should end because [`IDLE_LANES_KEPT`] lanes are idle already.
    fn next(&self, cx: &mut std::task::Context<'_>) -> Poll<Option<Arrival>> {
        if let Some(arrival) = self.waiting.borrow_mut().pop_front() {
            return Poll::Ready(Some(arrival));
        }
        let mut idle = self.idle.borrow_mut();
        if idle.len() >= IDLE_LANES_KEPT {
            return Poll::Ready(None);
        }
        idle.push(cx.waker().clone());
        Poll::Pending
    }

    /// Cancels every lane at the end of the run, counting each arrival still running or waiting
    /// for a lane as a VU cancelled for `why`.
    pub(crate) fn cancel(&self, local: &ThreadState, why: &'static str) {
        for (_, lane) in self.lanes.borrow_mut().drain() {
            if lane.busy.get() {
                count_cancelled(local, why);
            }
            lane.abort.abort();
        }
        self.idle.borrow_mut().clear();
        let waiting = std::mem::take(&mut *self.waiting.borrow_mut());
        for _ in &waiting {
            count_cancelled(local, why);
        }
    }
}
