//! The closed model: this thread's stripe of users (user i belongs to thread i mod threads), started
//! and stopped exactly when the target user count (as scaled by load changes) crosses them. Each
//! user loops over its scenario; with pacing, iterations start on a fixed grid (never on a slot
//! where the user is no longer wanted) and an iteration that overruns makes the next one start at
//! once, counted as late.

use std::cell::Cell;
use std::rc::Rc;
use std::sync::atomic::Ordering;

use tokio::time::{Duration, Instant, sleep_until};

use crate::vu::since;
use crate::worker::{TaskId, ThreadState, cancel_task, pick_for_user, spawn_task, wait_idle};

/// A running user's stop switch, and its task (cancelled when the graceful-stop bound runs out).
#[derive(Default)]
struct UserCtl {
    /// Stop at the end of the current iteration.
    retired: Cell<bool>,
    task: Cell<TaskId>,
}

/// Keeps a set of users in line with the plan's target user count (as scaled by the load factor)
/// until the schedule ends or the run stops. `user_at(k)` is the global index of the set's `k`-th user
/// (`u64::MAX` past its last): this thread's stripe of the run's users, or its share of a lost
/// segment's ([`crate::takeover`]). It must increase with `k`: users stop from the highest index down,
/// so the set's active users are always its first ones, started and retired as a stack.
pub(crate) async fn drive(local: &Rc<ThreadState>, user_at: impl Fn(u64) -> u64) {
    let shared = &local.shared;
    if shared.users.peak() == 0 {
        return;
    }
    let mut running: Vec<Rc<UserCtl>> = Vec::new();
    let mut load = shared.load.subscribe();
    let mut stopped = shared.control.subscribe();
    let end = shared.schedule.total_duration();
    loop {
        let factor = load.borrow_and_update().users;
        let now = local.elapsed();
        while shared.users.active(user_at(running.len() as u64), factor, now) {
            running.push(start_user(local, user_at(running.len() as u64)));
        }
        while let Some(ctl) = running.last() {
            if shared.users.active(user_at(running.len() as u64 - 1), factor, now) {
                break;
            }
            retire(local, ctl);
            running.pop();
        }
        // Sleep until the next user of this stripe starts or stops.
        let up = shared.users.next_change(user_at(running.len() as u64), factor, now);
        let down = (running.len() as u64)
            .checked_sub(1)
            .and_then(|k| shared.users.next_change(user_at(k), factor, now));
        let next = [up, down].into_iter().flatten().map(|(t, _)| t).min();
        let next = match next {
            Some(t) => t.max(now + Duration::from_micros(100)),
            None if now >= end => break,
            None => end,
        };
        tokio::select! {
            _ = sleep_until(shared.start + next) => {}
            _ = load.changed() => {}
            _ = stopped.wait_for(|s| *s) => break,
        }
    }
    for ctl in running.drain(..) {
        retire(local, &ctl);
    }
}

/// `hornet quick` without `-r`: `users` users loop until the request budget or duration is spent.
pub(crate) async fn drive_fixed(local: &Rc<ThreadState>, users: u64) {
    let items: Vec<u64> = local.shared.items_below(local.index, users).collect();
    for user in items {
        start_user(local, user);
    }
    // Users end by themselves when the budget runs out; wait for that, or for a stop.
    let mut stopped = local.shared.control.subscribe();
    tokio::select! {
        _ = wait_idle(local) => {}
        _ = stopped.wait_for(|s| *s) => {}
    }
}

/// Asks a user to stop after its iteration; cancels it if it is still running `gracefulStop` later.
fn retire(local: &Rc<ThreadState>, ctl: &Rc<UserCtl>) {
    ctl.retired.set(true);
    let (local, task) = (local.clone(), ctl.task.get());
    let grace = local.shared.graceful_stop;
    tokio::task::spawn_local(async move {
        tokio::time::sleep(grace).await;
        cancel_task(&local, task, "user stopped after gracefulStop");
    });
}

fn start_user(local: &Rc<ThreadState>, index: u64) -> Rc<UserCtl> {
    let ctl = Rc::new(UserCtl::default());
    local.shared.in_flight.fetch_add(1, Ordering::SeqCst);
    let (local2, ctl2) = (local.clone(), ctl.clone());
    let task = spawn_task(local, async move { user_loop(&local2, index, &ctl2).await });
    ctl.task.set(task);
    ctl
}

async fn user_loop(local: &Rc<ThreadState>, index: u64, ctl: &UserCtl) {
    let shared = &local.shared;
    let scenario = pick_for_user(local, index);
    let mut vu = local.new_vu(index, scenario);
    let ops = &shared.program.scenarios[scenario].flow;
    // The next iteration's slot on the pacing grid, which starts no earlier than the run (users
    // of the first phase are started a moment before it).
    let mut slot = Instant::now().max(shared.start);
    // Without a paced phase, no clock is read for pacing (two readings an iteration less).
    let paced = shared.plan.phases.iter().any(|p| p.pacing.is_some_and(|p| !p.interval().is_zero()));
    while !ctl.retired.get() && !local.retiring() && shared.take_iteration() {
        let pacing = if paced { shared.pacing_at(local.elapsed()) } else { None };
        if let Some(interval) = pacing {
            // No iteration starts on a slot where this user is no longer wanted (the phase's end,
            // a lower user count from there on): its controller retires it at that very instant,
            // and waking first must not win a last iteration (`duration: 3, pacing: 1s` runs 3).
            let factor = shared.load.borrow().users;
            if !shared.users.active(index, factor, slot.saturating_duration_since(shared.start)) {
                break;
            }
            let now = Instant::now();
            if now < slot {
                sleep_until(slot).await;
                if ctl.retired.get() || local.retiring() {
                    break;
                }
            } else if now > slot + Duration::from_millis(1) {
                local.recorder.borrow_mut().late_iteration();
            }
            vu.measure_next_from(slot);
            slot += interval;
        }
        let began = Instant::now();
        local.recorder.borrow_mut().vu_created(scenario);
        match vu.run_flow(ops).await {
            Ok(()) => local.recorder.borrow_mut().vu_completed(since(began)),
            Err(_) => local.recorder.borrow_mut().vu_failed(),
        }
        if pacing.is_none() {
            // Without pacing the next iteration starts at once. A flow without awaits must not
            // starve the thread: this yields once the task's cooperative budget is spent (every
            // 128 iterations at most), not at every iteration, which would cost a scheduler
            // round trip per request.
            tokio::task::consume_budget().await;
            if paced {
                slot = Instant::now();
            }
        }
    }
}
