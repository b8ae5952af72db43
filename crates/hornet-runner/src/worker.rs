//! One worker thread: a single-threaded tokio runtime that starts its share of the arrivals (or
//! closed-model users), runs their VUs as local tasks, and hands its metrics interval to the
//! collector once a second.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;

use hornet_engine::http::HttpClient;
use hornet_metrics::{ErrorKind, Interval, Recorder};
use tokio::sync::{Notify, watch};
use tokio::task::LocalSet;
use tokio::time::{Duration, Instant, sleep_until};

use crate::run::{Shared, Workload, draw};
use crate::vu::{Vu, VuSettings, since};

/// What a worker sends to the collector.
pub(crate) enum Msg {
    Interval(Interval),
    /// The worker has finished; this is its last interval.
    Done(Interval),
}

/// Per-thread state shared by the thread's tasks.
struct Local {
    shared: Arc<Shared>,
    client: Rc<HttpClient>,
    recorder: Rc<RefCell<Recorder>>,
    /// VUs running on this thread.
    running: Cell<usize>,
    /// Signalled when `running` drops to zero.
    idle: Notify,
    /// Becomes true when the remaining VUs must stop now.
    cancel: watch::Sender<bool>,
    settings: Rc<VuSettings>,
}

impl Local {
    /// A new VU for arrival (or user) `index`, with its variables and default cookies.
    fn new_vu(&self, index: u64) -> Vu {
        let shared = &self.shared;
        let mut vu = Vu::new(
            self.client.clone(),
            self.recorder.clone(),
            self.settings.clone(),
            shared.scope_for(index),
            index,
        );
        if let Some(origin) = &shared.cookie_origin {
            for (name, value) in &shared.plan.default_cookies {
                let v = value.render(&vu.scope);
                vu.set_cookie(origin, name, &v);
            }
        }
        vu
    }
}

/// Runs worker `index` to completion on the current thread.
pub(crate) fn run(index: usize, shared: Arc<Shared>, tx: Sender<Msg>) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hornet: worker {index} could not start its runtime: {e}");
            let _ = tx.send(Msg::Done(Recorder::new(0, 0).take_interval()));
            return;
        }
    };
    let local = LocalSet::new();
    local.block_on(&runtime, work(index, shared, tx));
}

async fn work(index: usize, shared: Arc<Shared>, tx: Sender<Msg>) {
    let recorder =
        Rc::new(RefCell::new(Recorder::new(shared.plan.endpoints.len(), shared.plan.scenarios.len())));
    let client = match HttpClient::new(&shared.client_config) {
        Ok(c) => Rc::new(c),
        Err(e) => {
            eprintln!("hornet: worker {index} could not set up its HTTP client: {e}");
            let _ = tx.send(Msg::Done(recorder.borrow_mut().take_interval()));
            return;
        }
    };
    let (cancel, _) = watch::channel(false);
    let local = Rc::new(Local {
        shared: shared.clone(),
        client,
        recorder: recorder.clone(),
        running: Cell::new(0),
        idle: Notify::new(),
        cancel,
        settings: Rc::new(VuSettings { expect_default_200: shared.vu_settings.0, log: shared.vu_settings.1 }),
    });

    // Hand the interval to the collector every second, on the run's one-second grid.
    let flusher = {
        let recorder = recorder.clone();
        let tx = tx.clone();
        let start = shared.start;
        tokio::task::spawn_local(async move {
            let mut k = 1u32;
            loop {
                sleep_until(start + Duration::from_secs(1) * k).await;
                let interval = recorder.borrow_mut().take_interval();
                if tx.send(Msg::Interval(interval)).is_err() {
                    break;
                }
                k += 1;
            }
        })
    };

    let mut stopped = shared.control.subscribe();
    let mut stopped_later = shared.control.subscribe();
    let dispatch = async {
        match &shared.workload {
            Workload::Open => dispatch_open(&local, index).await,
            Workload::Closed { users, .. } => dispatch_closed(&local, index, *users).await,
        }
    };
    tokio::select! {
        _ = dispatch => {
            // The schedule is over: let VUs finish, for at most `graceful_stop`.
            tokio::select! {
                _ = wait_idle(&local) => {}
                _ = sleep_until(Instant::now() + shared.graceful_stop) => {}
                _ = stopped_later.wait_for(|s| *s) => {}
            }
        }
        _ = stopped.wait_for(|s| *s) => {}
    }
    // Whatever still runs is cancelled (and counted as such by each VU).
    local.cancel.send_replace(true);
    let _ = tokio::time::timeout(Duration::from_secs(5), wait_idle(&local)).await;
    flusher.abort();
    let last = recorder.borrow_mut().take_interval();
    let _ = tx.send(Msg::Done(last));
}

async fn wait_idle(local: &Local) {
    loop {
        let notified = local.idle.notified();
        if local.running.get() == 0 {
            return;
        }
        notified.await;
    }
}

/// Starts this thread's stripe of the open-model schedule, each arrival at its intended time.
async fn dispatch_open(local: &Rc<Local>, index: usize) {
    let shared = &local.shared;
    for arrival in shared.arrivals(index) {
        let intended = shared.start + arrival.at;
        sleep_until(intended).await;
        let lag = Instant::now().saturating_duration_since(intended);
        let max = shared.plan.phases.get(arrival.phase).and_then(|p| p.max_vusers);
        if !shared.admit(max) {
            local.recorder.borrow_mut().vu_skipped();
            continue;
        }
        local.recorder.borrow_mut().lag(lag);
        let scenario = shared.program.pick(draw(shared.seed, arrival.index));
        spawn_vu(local, scenario, arrival.index, shared.latency_from_intended.then_some(intended));
    }
}

/// Starts this thread's share of `users` closed-model users; each loops until the budget or
/// the duration is used up.
async fn dispatch_closed(local: &Rc<Local>, index: usize, users: u64) {
    let shared = &local.shared;
    let threads = shared.threads as u64;
    let mine = (0..users).filter(|u| u % threads == index as u64);
    for user in mine {
        shared.in_flight.fetch_add(1, Ordering::SeqCst);
        let local2 = local.clone();
        local.running.set(local.running.get() + 1);
        tokio::task::spawn_local(async move {
            let shared = &local2.shared;
            let mut cancel = local2.cancel.subscribe();
            let scenario = shared.program.pick(draw(shared.seed, user));
            let mut vu = local2.new_vu(user);
            let ops = &shared.program.scenarios[scenario].flow;
            let body = async {
                while shared.take_iteration() {
                    let began = Instant::now();
                    local2.recorder.borrow_mut().vu_created(scenario);
                    match vu.run(ops).await {
                        Ok(()) => local2.recorder.borrow_mut().vu_completed(since(began)),
                        Err(_) => local2.recorder.borrow_mut().vu_failed(),
                    }
                }
            };
            tokio::select! {
                _ = body => {}
                _ = cancel.wait_for(|c| *c) => {
                    let mut rec = local2.recorder.borrow_mut();
                    rec.error(None, ErrorKind::Cancelled, &"test ended while the VU was running");
                    rec.vu_failed();
                }
            }
            finish(&local2);
        });
    }
    // Closed users end by themselves; the dispatcher just waits for them.
    wait_idle(local).await;
}

fn spawn_vu(local: &Rc<Local>, scenario: usize, index: u64, intended: Option<Instant>) {
    let local2 = local.clone();
    local.running.set(local.running.get() + 1);
    tokio::task::spawn_local(async move {
        let shared = &local2.shared;
        let mut cancel = local2.cancel.subscribe();
        local2.recorder.borrow_mut().vu_created(scenario);
        let began = Instant::now();
        let mut vu = local2.new_vu(index);
        if let Some(at) = intended {
            vu.measure_next_from(at);
        }
        let ops = &shared.program.scenarios[scenario].flow;
        tokio::select! {
            r = vu.run(ops) => match r {
                Ok(()) => local2.recorder.borrow_mut().vu_completed(since(began)),
                Err(_) => local2.recorder.borrow_mut().vu_failed(),
            },
            _ = cancel.wait_for(|c| *c) => {
                let mut rec = local2.recorder.borrow_mut();
                rec.error(None, ErrorKind::Cancelled, &"test ended while the VU was running");
                rec.vu_failed();
            }
        }
        finish(&local2);
    });
}

fn finish(local: &Local) {
    local.shared.in_flight.fetch_sub(1, Ordering::SeqCst);
    let n = local.running.get().saturating_sub(1);
    local.running.set(n);
    if n == 0 {
        local.idle.notify_waiters();
    }
}
