//! The worker: connects to the controller, proves it knows the token and checks that the controller
//! does too (it never runs a plan from an unauthenticated controller), builds the plan it is sent
//! (its processor, payload and `formData` files from the bytes that came with it, never its own
//! disk),
//! runs its execution segment from the common start, streams one interval a second, and stops its
//! load as soon as the controller goes away (connection closed, or silent for [`ORPHAN_AFTER`]).

use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime};

use hornet_runner::{Control, LoadRequest, Run, RunOptions, SegmentRun, SegmentTick, StopReason, Workload};
use hornet_schedule::Segments;
use tokio::sync::mpsc::unbounded_channel;
use tokio_rustls::TlsConnector;

use crate::auth;
use crate::plan_source::{PlanSource, Unpacked};
use crate::protocol::{MAX_LINE, MAX_PRE_AUTH_LINE, Msg, PROTOCOL, PlanMsg};
use crate::transport::{self, MsgReader, MsgWriter};
use crate::{HEARTBEAT, ORPHAN_AFTER};

/// Exit codes of `hornet worker`.
pub mod exit {
    /// The part ran to its end.
    pub const OK: i32 = 0;
    /// Something failed (connection, plan).
    pub const FAILED: i32 = 1;
    /// Refused: wrong token, version mismatch, or a controller that does not know the token.
    pub const REFUSED: i32 = 2;
    /// The controller went away; the load was stopped.
    pub const ORPHANED: i32 = 3;
}

/// Settings of a worker.
#[derive(Clone)]
pub struct WorkerOptions {
    /// `host:port` of the controller.
    pub controller: String,
    /// Connect over TLS ([`transport::client_tls`]).
    pub tls: Option<TlsConnector>,
    /// The name the controller's certificate must carry (default: the host of `controller`).
    pub tls_server_name: Option<String>,
    /// The shared token (empty when none).
    pub token: Option<String>,
    /// Worker threads (0: the controller's setting, else one per core).
    pub threads: usize,
    /// This worker's share of the load relative to the others (1 by default).
    pub weight: u32,
    /// Where relative paths of the plan would resolve when the controller's directory does not
    /// exist here. Nothing is read from it: the processor, CSV payloads and `formData` files come
    /// with the plan.
    pub script_dir: Option<PathBuf>,
    /// How long to keep trying to connect.
    pub connect_timeout: Duration,
}

fn say(msg: &str) {
    // Messages carry the controller's text (a refusal's reason, its version): never raw
    // terminal control characters.
    eprintln!("hornet worker: {}", hornet_script::escape_controls(msg));
}

/// Runs one worker session; returns the exit code.
pub fn run_worker(opts: WorkerOptions) -> i32 {
    let runtime = match tokio::runtime::Builder::new_current_thread().enable_all().build() {
        Ok(r) => r,
        Err(e) => {
            say(&format!("could not start a runtime: {e}"));
            return exit::FAILED;
        }
    };
    runtime.block_on(session(opts))
}

async fn connect(opts: &WorkerOptions) -> Option<(MsgReader, MsgWriter)> {
    let deadline = Instant::now() + opts.connect_timeout;
    loop {
        match transport::connect(&opts.controller, opts.tls.as_ref(), opts.tls_server_name.as_deref()).await {
            Ok(s) => return Some(s),
            Err(e) if Instant::now() >= deadline || e.kind() == std::io::ErrorKind::InvalidData => {
                say(&format!("cannot connect to the controller at {}: {e}", opts.controller));
                return None;
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(200)).await,
        }
    }
}

async fn session(opts: WorkerOptions) -> i32 {
    let Some((mut r, w)) = connect(&opts).await else { return exit::FAILED };
    let token = opts.token.clone().unwrap_or_default();
    let ours = env!("CARGO_PKG_VERSION");

    // Handshake: the controller's nonce, our proof, its proof. Until the controller has proved the
    // token its messages are small: a longer line is cut off, not buffered.
    r.set_limit(MAX_PRE_AUTH_LINE);
    let first = tokio::time::timeout(Duration::from_secs(10), r.recv()).await;
    let Ok(Ok(Some(Msg::Challenge { nonce: c_nonce, version, protocol }))) = first else {
        let why = match first {
            Ok(Err(e)) => format!(": {e}"),
            _ => String::new(),
        };
        say(&format!("{} did not greet like a hornet controller{why}", opts.controller));
        return exit::FAILED;
    };
    if version != ours || protocol != PROTOCOL {
        say(&format!(
            "version mismatch: the controller runs hornet {version} (protocol {protocol}), this worker hornet {ours} \
             (protocol {PROTOCOL})"
        ));
    }
    let w_nonce = auth::nonce();
    let host = std::fs::read_to_string("/proc/sys/kernel/hostname")
        .map(|h| h.trim().to_string())
        .unwrap_or_default();
    let hello = Msg::Hello {
        version: ours.into(),
        protocol: PROTOCOL,
        nonce: w_nonce.clone(),
        mac: auth::worker_mac(&token, &c_nonce, &w_nonce),
        host,
        threads: opts.threads,
        weight: opts.weight,
    };
    if w.send(&hello).await.is_err() {
        say("the controller closed the connection");
        return exit::FAILED;
    }
    match tokio::time::timeout(Duration::from_secs(10), r.recv()).await {
        Ok(Ok(Some(Msg::Welcome { mac, .. }))) => {
            if !auth::same(&mac, &auth::controller_mac(&token, &c_nonce, &w_nonce)) {
                say(&format!(
                    "the controller at {} does not know the token (its HMAC does not match); not running its plan",
                    opts.controller
                ));
                return exit::REFUSED;
            }
        }
        Ok(Ok(Some(Msg::Refused { reason }))) => {
            let hint = if opts.token.is_none() {
                " (this worker has no token: every controller requires one; give the worker \
                 --token-file FILE or HORNET_CLUSTER_TOKEN with the token the controller was given, or \
                 printed at its start)"
            } else {
                ""
            };
            say(&format!("refused by the controller: {reason}{hint}"));
            return exit::REFUSED;
        }
        _ => {
            say("the controller closed the connection during the handshake");
            return exit::FAILED;
        }
    }
    r.set_limit(MAX_LINE);
    say(&format!("connected to {}; waiting for the plan", opts.controller));
    serve(opts, r, w).await
}

/// A running part: its control, the metrics coming out of it, and its thread.
struct Running {
    control: Control,
    thread: std::thread::JoinHandle<()>,
}

async fn serve(opts: WorkerOptions, mut r: MsgReader, w: MsgWriter) -> i32 {
    let mut plan: Option<(Arc<hornet_script::Plan>, Box<PlanMsg>)> = None;
    // The processor files the plan came with, written out; removed when the session ends.
    let mut _unpacked: Option<Unpacked> = None;
    let mut running: Option<Running> = None;
    let (mtx, mut mrx) = unbounded_channel::<Option<SegmentTick>>();
    let mut beat = tokio::time::interval(HEARTBEAT);
    // The controller heartbeats every second: silence this long means it is gone. (A timeout around
    // each read would restart with every heartbeat this side sends, and never fire.)
    let mut last_heard = tokio::time::Instant::now();
    // Set once the part's last metrics went out: the controller may then hang up at any moment.
    let mut sent_last = false;
    loop {
        tokio::select! {
            () = tokio::time::sleep_until(last_heard + ORPHAN_AFTER) => {
                // Part of a message (a plan with large files) arriving counts as hearing from it.
                match r.last_bytes() {
                    Some(at) if at > last_heard => last_heard = at,
                    _ => return orphaned(running, &format!("no message for {} s", ORPHAN_AFTER.as_secs())),
                }
            }
            // `recv` is cancel-safe: a message cut short by another branch is finished next time.
            got = r.recv() => {
                let msg = match got {
                    Ok(Some(m)) => m,
                    // The controller ends the run once it has every worker's last metrics.
                    Ok(None) | Err(_) if sent_last => return part_finished(running),
                    Ok(None) => return orphaned(running, "connection closed"),
                    Err(e) => return orphaned(running, &e.to_string()),
                };
                last_heard = tokio::time::Instant::now();
                match msg {
                    Msg::Plan(mut p) => {
                        if p.version != env!("CARGO_PKG_VERSION") {
                            let message = format!("version mismatch: plan from hornet {}, this worker hornet {}", p.version, env!("CARGO_PKG_VERSION"));
                            say(&message);
                            return hang_up(r, w, Msg::Error { message }, exit::REFUSED).await;
                        }
                        // The part keeps only the plan's small fields: the files move to the source.
                        let mut source = PlanSource {
                            scripts: std::mem::take(&mut p.scripts),
                            options: p.options.clone(),
                            processor: p.processor.take(),
                            payloads: std::mem::take(&mut p.payloads),
                            form_files: std::mem::take(&mut p.form_files),
                            env: std::mem::take(&mut p.env),
                        };
                        // The controller's `--dotenv` variables, over this worker's environment.
                        source.options.shipped_env = source.env.clone();
                        // The payload and formData files are the bytes that came with the plan.
                        match source.shipped_data_files() {
                            Ok(files) => source.options.data_files = files,
                            Err(message) => {
                                say(&message);
                                return hang_up(r, w, Msg::Error { message }, exit::FAILED).await;
                            }
                        }
                        // The processor is loaded from the copy that came with the plan.
                        if let Some(bundle) = &source.processor {
                            match bundle.unpack() {
                                Ok(copy) => {
                                    source.options.shipped_processor = Some(copy.shipped());
                                    _unpacked = Some(copy);
                                }
                                Err(message) => {
                                    say(&message);
                                    return hang_up(r, w, Msg::Error { message }, exit::FAILED).await;
                                }
                            }
                        }
                        match source.build(opts.script_dir.as_deref()) {
                            Ok(built) => {
                                let hash = source.hash(&built);
                                if hash != p.hash {
                                    say(&format!("this worker's plan hash {hash} differs from the controller's {}", p.hash));
                                }
                                let _ = w.send(&Msg::Ready { hash }).await;
                                plan = Some((Arc::new(built), p));
                                // The time this side spent building is not the controller's silence.
                                last_heard = tokio::time::Instant::now();
                            }
                            Err(e) => {
                                let message = e.to_string();
                                say(&format!("cannot build the plan: {message}"));
                                return hang_up(r, w, Msg::Error { message }, exit::FAILED).await;
                            }
                        }
                    }
                    Msg::Start { start_at_unix_ms } => {
                        let Some((built, p)) = plan.take() else { continue };
                        match start(&opts, built, &p, start_at_unix_ms, mtx.clone()) {
                            Ok(run) => running = Some(run),
                            Err(message) => {
                                say(&message);
                                return hang_up(r, w, Msg::Error { message }, exit::FAILED).await;
                            }
                        }
                    }
                    Msg::Control { factor, stop } => {
                        if let Some(run) = &running {
                            if let Some(f) = factor {
                                run.control.request(LoadRequest::Factor(f));
                            }
                            match stop.as_deref() {
                                Some("graceful") => run.control.stop(StopReason::Quit),
                                Some(_) => run.control.stop(StopReason::Interrupted),
                                None => {}
                            }
                        } else if stop.is_some() {
                            say("the controller called the run off");
                            return exit::FAILED;
                        }
                    }
                    Msg::Takeover { lost, from_ms, survivors } => {
                        if let Some(run) = &running {
                            run.control.take_over(lost, Duration::from_millis(from_ms), survivors);
                        }
                    }
                    Msg::Refused { reason } => {
                        say(&format!("refused by the controller: {reason}"));
                        if let Some(run) = &running {
                            run.control.stop(StopReason::Interrupted);
                        }
                        return exit::REFUSED;
                    }
                    _ => {}
                }
            }
            tick = mrx.recv(), if running.is_some() => {
                match tick.flatten() {
                    Some(t) => {
                        let msg = Msg::Metrics {
                            elapsed_ms: t.elapsed.as_millis() as u64,
                            interval: Box::new(t.interval.to_wire(&t.endpoint_names)),
                            active_vus: t.active_vus,
                            cpu: t.cpu,
                            last: t.last,
                        };
                        if w.send(&msg).await.is_err() {
                            return orphaned(running, "connection closed");
                        }
                        sent_last |= t.last;
                    }
                    None => {
                        // The part is over: say so and wait for the controller to hang up.
                        if let Some(run) = running.take() {
                            let _ = run.thread.join();
                        }
                        let code = hang_up(r, w, Msg::Done, exit::OK).await;
                        say("part finished");
                        return code;
                    }
                }
            }
            _ = beat.tick() => {
                if w.send(&Msg::Heartbeat).await.is_err() {
                    return if sent_last { part_finished(running) } else { orphaned(running, "connection closed") };
                }
            }
        }
    }
}

/// Sends the session's last message, then waits (at most [`HANG_UP`]) for the controller to close the
/// stream, which it does once it has read that message: messages are only queued by
/// [`MsgWriter::send`], so exiting at once could lose them (the last second of metrics, `done`).
async fn hang_up(mut r: MsgReader, w: MsgWriter, last: Msg, code: i32) -> i32 {
    let _ = w.send(&last).await;
    drop(w);
    let _ = tokio::time::timeout(HANG_UP, async { while let Ok(Some(_)) = r.recv().await {} }).await;
    code
}

/// How long a finishing worker waits for the controller to acknowledge its last message.
const HANG_UP: Duration = Duration::from_secs(5);

/// Starts the part on its own thread; its intervals go to `tx` (then `None` when it is over).
fn start(
    opts: &WorkerOptions,
    plan: Arc<hornet_script::Plan>,
    p: &PlanMsg,
    start_at_unix_ms: u64,
    tx: tokio::sync::mpsc::UnboundedSender<Option<SegmentTick>>,
) -> Result<Running, String> {
    let segments = Segments::new(&p.weights).map_err(|e| e.to_string())?;
    if p.index >= segments.len() {
        return Err(format!("segment {} of {} does not exist", p.index, segments.len()));
    }
    let control = Control::new();
    let (itx, irx) = std::sync::mpsc::channel::<SegmentTick>();
    let segment = SegmentRun {
        segments,
        index: p.index,
        start_at: Some(SystemTime::UNIX_EPOCH + Duration::from_millis(start_at_unix_ms)),
        globals: p.globals.clone().into_iter().collect(),
        intervals: itx,
    };
    let run_opts = RunOptions {
        seed: p.seed,
        threads: if opts.threads > 0 { opts.threads } else { p.threads },
        workload: Workload::Open,
        latency_from_intended: false,
        command: format!("hornet worker (segment {} of {})", p.index, p.weights.len()),
        log: p.log,
    };
    let ctl = control.clone();
    let bridge_tx = tx.clone();
    // Forward the part's ticks to the async side; `None` once the run is over.
    let bridge = std::thread::Builder::new()
        .name("hornet-part-bridge".into())
        .spawn(move || {
            while let Ok(t) = irx.recv() {
                if bridge_tx.send(Some(t)).is_err() {
                    return;
                }
            }
        })
        .map_err(|e| e.to_string())?;
    let thread = std::thread::Builder::new()
        .name("hornet-part".into())
        .spawn(move || {
            match Run::new(plan, run_opts).with_control(ctl).segment(segment).start() {
                // The controller collects the part's intervals and builds the report.
                Ok(run) => drop(run.wait_without_report()),
                Err(e) => say(&format!("the part failed: {e}")),
            }
            // The run dropped its sender: the bridge passes the last tick on and ends.
            let _ = bridge.join();
            let _ = tx.send(None);
        })
        .map_err(|e| e.to_string())?;
    Ok(Running { control, thread })
}

/// The controller hung up after this worker's last metrics: the part ran to its end.
fn part_finished(running: Option<Running>) -> i32 {
    if let Some(run) = running {
        let _ = run.thread.join();
    }
    say("part finished");
    exit::OK
}

/// The controller is gone: stop the load now and wait (briefly) for the part to wind down.
fn orphaned(running: Option<Running>, why: &str) -> i32 {
    let Some(run) = running else {
        say(&format!("lost the controller ({why})"));
        return exit::ORPHANED;
    };
    say(&format!("lost the controller ({why}); stopping the load"));
    run.control.stop(StopReason::Interrupted);
    let deadline = Instant::now() + Duration::from_secs(2);
    while !run.thread.is_finished() && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(20));
    }
    exit::ORPHANED
}
