//! One worker thread: a single-threaded tokio runtime that runs its share of every workload
//! (open-model arrivals on the lanes of [`arrivals::Lanes`], closed-model users and request-rate
//! VUs as tasks of their own) as local tasks, and hands its metrics interval to the collector once
//! a second.

use std::cell::{Cell, RefCell};
use std::future::Future;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::sync::mpsc::Sender;

use hornet_engine::http::HttpClient;
use hornet_engine::ws::WsClient;
use hornet_metrics::{ErrorKind, Interval, NameCache, Recorder};
use rustc_hash::FxHashMap;
use tokio::sync::{Notify, watch};
use tokio::task::{AbortHandle, LocalSet};
use tokio::time::{Duration, Instant, sleep_until};

use crate::run::{RunState, Workload, draw};
use crate::trace_context::VuTracer;
use crate::vu::{Vu, VuSettings, since};
use crate::{arrivals, gate, takeover, users};

/// What a worker sends to the collector.
pub(crate) enum Msg {
    Interval(Interval),
    /// The worker has finished; this is its last interval.
    Done(Interval),
}

/// Per-thread state shared by the thread's tasks.
pub(crate) struct ThreadState {
    pub shared: Arc<RunState>,
    /// This worker's index among `shared.threads`.
    pub index: usize,
    pub client: Rc<HttpClient>,
    pub ws_client: Rc<WsClient>,
    pub recorder: Rc<RefCell<Recorder>>,
    /// VUs running (or handed to a lane to run) on this thread.
    running: Cell<usize>,
    /// Signalled when `running` drops to zero.
    idle: Notify,
    /// The running VU tasks, by [`TaskId`]: how they are cancelled. Aborting a task costs nothing
    /// while it runs, where a cancel signal raced against it would be polled at every wake-up.
    /// FxHash: every arrival inserts and removes its id, which SipHash made about 470 instructions.
    tasks: RefCell<FxHashMap<TaskId, AbortHandle>>,
    next_task: Cell<TaskId>,
    /// Becomes true when looping VUs must stop at the end of their iteration (graceful stop).
    pub retire: watch::Sender<bool>,
    settings: Rc<VuSettings>,
    /// The plan's processor, loaded once for this thread; `None` without one.
    processor: Option<Rc<hornet_js::Processor>>,
    /// This thread's view of the run's endpoints named at run time.
    names: Rc<NameCache>,
    /// The tasks that run this thread's open-model arrivals.
    pub lanes: arrivals::Lanes,
}

impl ThreadState {
    /// A new VU for arrival (or user) `index` running scenario `scenario`, with its variables and
    /// default cookies.
    pub fn new_vu(&self, index: u64, scenario: usize) -> Vu {
        let shared = &self.shared;
        let mut vu = Vu::new(
            self.client.clone(),
            self.ws_client.clone(),
            self.recorder.clone(),
            self.settings.clone(),
            shared.scope_for(index),
            index,
        );
        if let Some(tracing) = &shared.tracing {
            vu.set_tracer(VuTracer::new(tracing.clone(), index).in_scenario(scenario));
        }
        if let Some(processor) = &self.processor {
            vu.set_processor(processor.clone(), self.names.clone());
            vu.set_scenario(shared.plan.clone(), scenario);
        }
        if let Some(origin) = &shared.cookie_origin {
            for (name, value) in &shared.plan.default_cookies {
                let v = value.render(&vu.scope);
                vu.set_cookie(origin, name, &v);
            }
        }
        vu
    }

    /// Time since the run's start.
    pub fn elapsed(&self) -> Duration {
        Instant::now().saturating_duration_since(self.shared.start)
    }

    /// True once looping VUs should stop after their current iteration.
    pub fn retiring(&self) -> bool {
        *self.retire.borrow()
    }
}

/// Runs worker `index` to completion on the current thread.
pub(crate) fn run(index: usize, shared: Arc<RunState>, tx: Sender<Msg>) {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            eprintln!("hornet: worker {index} could not start its runtime: {e}");
            let _ = tx.send(Msg::Done(Recorder::new(0, 0).take_interval()));
            return;
        }
    };
    let local = LocalSet::new();
    local.block_on(&runtime, async move {
        // Spawned rather than run as the `LocalSet`'s own future: that one is polled again every
        // time any task of the set wakes up (each response of each VU), and `work` polls all the
        // schedule drivers; as a task of its own it runs only when a driver's own wake-up comes.
        if let Err(e) = tokio::task::spawn_local(work(index, shared, tx)).await
            && e.is_panic()
        {
            std::panic::resume_unwind(e.into_panic());
        }
    });
}

async fn work(index: usize, shared: Arc<RunState>, tx: Sender<Msg>) {
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
    let ws_client = match WsClient::new(shared.client_config.insecure) {
        Ok(c) => Rc::new(c),
        Err(e) => {
            eprintln!("hornet: worker {index} could not set up its WebSocket client: {e}");
            let _ = tx.send(Msg::Done(recorder.borrow_mut().take_interval()));
            return;
        }
    };
    // Checked before the run started, so this fails only if the file changed since.
    let processor = match crate::js::load(&shared.plan, crate::js::load_seed(shared.seed, index as u64)) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("hornet: worker {index}: {e}");
            let _ = tx.send(Msg::Done(recorder.borrow_mut().take_interval()));
            return;
        }
    };
    let local = Rc::new(ThreadState {
        processor,
        shared: shared.clone(),
        index,
        client,
        ws_client,
        recorder: recorder.clone(),
        running: Cell::new(0),
        idle: Notify::new(),
        tasks: RefCell::new(FxHashMap::default()),
        next_task: Cell::new(0),
        retire: watch::channel(false).0,
        settings: Rc::new(shared.vu_settings),
        names: Rc::new(NameCache::new(shared.endpoint_names.clone())),
        lanes: arrivals::Lanes::default(),
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
    let drivers = async {
        match &shared.workload {
            Workload::Open => {
                tokio::join!(
                    arrivals::drive(&local),
                    takeover::drive(&local),
                    users::drive(&local, |k| shared.item_at(local.index, k)),
                    gate::drive(&local)
                );
            }
            Workload::Closed { users, .. } => users::drive_fixed(&local, *users).await,
        }
    };
    let graceful = tokio::select! {
        _ = drivers => true,
        _ = stopped.wait_for(|s| *s) => shared.control.stop_reason().is_some_and(|r| r.is_graceful()),
    };
    if graceful {
        // No more arrivals or iterations: let running VUs finish, for at most `gracefulStop`,
        // unless an immediate stop comes meanwhile.
        local.retire.send_replace(true);
        let mut stopped = shared.control.subscribe();
        tokio::select! {
            _ = wait_idle(&local) => {}
            _ = sleep_until(Instant::now() + shared.graceful_stop) => {}
            _ = stopped.wait_for(|_| shared.control.stop_reason().is_some_and(|r| !r.is_graceful())) => {}
        }
    }
    // Whatever still runs is cancelled (and counted as such).
    let running: Vec<TaskId> = local.tasks.borrow().keys().copied().collect();
    for id in running {
        cancel_task(&local, id, ENDED_WHILE_RUNNING);
    }
    local.lanes.cancel(&local, ENDED_WHILE_RUNNING);
    let _ = tokio::time::timeout(Duration::from_secs(5), wait_idle(&local)).await;
    flusher.abort();
    let last = recorder.borrow_mut().take_interval();
    let _ = tx.send(Msg::Done(last));
}

/// Why a VU still running when the run ends is cancelled.
const ENDED_WHILE_RUNNING: &str = "test ended while the VU was running";

/// Waits until no VU task of this thread is running.
pub(crate) async fn wait_idle(local: &ThreadState) {
    loop {
        let notified = local.idle.notified();
        if local.running.get() == 0 {
            return;
        }
        notified.await;
    }
}

/// Identifies a running VU task of a thread (see [`cancel_task`]).
pub(crate) type TaskId = u64;

/// Runs `task` as a VU task of this thread: counted in the active-VU gauge (the caller has already
/// added it to `in_flight`) and cancelled, with a `cancelled` error, when the run ends.
pub(crate) fn spawn_task<F>(local: &Rc<ThreadState>, task: F) -> TaskId
where
    F: Future<Output = ()> + 'static,
{
    // Boxed once here, so that tokio moves a pointer when it spawns, binds, completes and drops the
    // task, not the whole future (an open-model arrival's is about 1 KB, copied four to five times).
    let task = Box::pin(task);
    let id = local.next_task.get();
    local.next_task.set(id + 1);
    // Dropped when the task ends or is aborted: either way the task stops counting.
    let guard = TaskGuard { _running: Running::start(local), id };
    let handle = tokio::task::spawn_local(async move {
        let _guard = guard;
        task.await;
    });
    local.tasks.borrow_mut().insert(id, handle.abort_handle());
    id
}

/// Cancels VU task `id` if it is still running, counting a `cancelled` error with `why` and a
/// failed VU. The task's future is dropped (its connections closed) when the runtime next runs.
pub(crate) fn cancel_task(local: &ThreadState, id: TaskId, why: &'static str) {
    let Some(handle) = local.tasks.borrow_mut().remove(&id) else { return };
    count_cancelled(local, why);
    handle.abort();
}

/// A VU task's place in its thread's task list, given up when the task's future is dropped.
struct TaskGuard {
    /// Dropped after the task leaves the list.
    _running: Running,
    id: TaskId,
}

impl Drop for TaskGuard {
    fn drop(&mut self) {
        self._running.local.tasks.borrow_mut().remove(&self.id);
    }
}

/// A running VU's place in its thread's counts (the active-VU gauge, [`wait_idle`]): taken when
/// the VU is started (the caller has already added it to `in_flight`), given up when dropped.
pub(crate) struct Running {
    local: Rc<ThreadState>,
}

impl Running {
    pub(crate) fn start(local: &Rc<ThreadState>) -> Running {
        local.running.set(local.running.get() + 1);
        Running { local: local.clone() }
    }
}

impl Drop for Running {
    fn drop(&mut self) {
        let local = &self.local;
        local.shared.in_flight.fetch_sub(1, Ordering::SeqCst);
        let n = local.running.get().saturating_sub(1);
        local.running.set(n);
        if n == 0 {
            local.idle.notify_waiters();
        }
    }
}

/// Counts a VU that the end of the run cancels: a `cancelled` error with `why` and a failed VU.
pub(crate) fn count_cancelled(local: &ThreadState, why: &'static str) {
    let mut rec = local.recorder.borrow_mut();
    rec.error(None, ErrorKind::Cancelled, &why);
    rec.vu_failed();
}

/// Runs one open-model arrival: a new VU running scenario `scenario` once, its requests measured
/// from `intended`.
pub(crate) async fn run_arrival(local: &ThreadState, scenario: usize, index: u64, intended: Instant) {
    let shared = &local.shared;
    local.recorder.borrow_mut().vu_created(scenario);
    let began = Instant::now();
    let mut vu = local.new_vu(index, scenario);
    vu.measure_next_from(intended);
    match vu.run_flow(&shared.program.scenarios[scenario].flow).await {
        Ok(()) => local.recorder.borrow_mut().vu_completed(since(began)),
        Err(_) => local.recorder.borrow_mut().vu_failed(),
    }
}

/// Picks the scenario of looping VU `index` (closed-model users and request-rate VUs).
pub(crate) fn pick_for_user(local: &ThreadState, index: u64) -> usize {
    local.shared.program.pick(draw(local.shared.seed ^ 0x0005_E125_CAFE_F00D, index))
}
