//! The open model: this thread's stripe of the arrivals, each started at its intended time (on the
//! schedule as warped by load changes), running one weighted scenario once.

use std::rc::Rc;

use hornet_timer::Timer;
use tokio::time::Instant;

use crate::run::draw;
use crate::worker::{ThreadState, spawn_arrival};

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
        spawn_arrival(local, scenario, index, intended);
    }
}
