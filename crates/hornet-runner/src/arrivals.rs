//! The open model: this thread's stripe of the arrivals, each started at its intended time (on the
//! schedule as warped by load changes), running one weighted scenario once.

use std::rc::Rc;

use hornet_timer::Timer;
use tokio::time::Instant;

use crate::run::draw;
use crate::worker::{Local, spawn_arrival};

/// Dispatches arrivals until the schedule ends or the run stops.
pub(crate) async fn drive(local: &Rc<Local>) {
    let shared = &local.shared;
    let mut load = shared.load.subscribe();
    let mut stopped = shared.control.subscribe();
    let mut timer = Timer::new();
    for (index, count) in shared.arrival_counts(local.index) {
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
