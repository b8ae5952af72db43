//! The controller: listens for workers, authenticates them, hands each its execution segment of the
//! plan, starts them on a common wall-clock instant, forwards the run's [`Control`] (load factor,
//! stop), feeds their per-second intervals to the runner's collector (which merges them exactly:
//! histograms merge, counters add), and handles lost workers by the [`LossPolicy`].
//!
//! [`Cluster`] is the runner's [`Workers`]: `hornet_runner::Run::start_on` runs `before`, starts
//! the load here, and collects it like a run on this machine, so the live view, the web UI,
//! `--abort-on-fail` and the reports work unchanged.
//!
//! This module sets the cluster up (listening, authenticating and serving each worker's session,
//! handing out the plan and starting it); `source` is the started run as the collector sees it,
//! lost workers included.

use std::collections::HashMap;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, channel};
use std::time::{Duration, Instant, SystemTime};

use hornet_metrics::EndpointNames;
use hornet_runner::{Control, PlannedLoad, RunError, RunOptions, Started, WorkerStatus, Workers};
use hornet_schedule::Segments;
use hornet_script::{Plan, escape_controls};
use tokio::net::TcpListener;
use tokio::sync::mpsc::{UnboundedSender, unbounded_channel};
use tokio_rustls::TlsAcceptor;

use crate::auth;
use crate::plan_source::PlanSource;
use crate::protocol::{MAX_LINE, MAX_PRE_AUTH_LINE, Msg, PROTOCOL, PlanMsg};
use crate::transport::{self, Session};
use crate::{HEARTBEAT, MAX_WEIGHT};

mod source;

use source::{ClusterSource, Planned};

/// What the controller does when a worker is lost mid-run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum LossPolicy {
    /// Go on without its share; the report says how much load was not delivered.
    #[default]
    Continue,
    /// The remaining workers take over its remaining arrivals.
    Redistribute,
    /// Stop the run; exit code 1.
    Abort,
}

impl std::str::FromStr for LossPolicy {
    type Err = String;
    fn from_str(s: &str) -> Result<LossPolicy, String> {
        match s {
            "continue" => Ok(LossPolicy::Continue),
            "redistribute" => Ok(LossPolicy::Redistribute),
            "abort" => Ok(LossPolicy::Abort),
            _ => Err(format!("`{s}`: expected continue, redistribute or abort")),
        }
    }
}

/// Settings of a controller.
#[derive(Clone)]
pub struct ClusterOptions {
    /// Where workers connect.
    pub listen: SocketAddr,
    /// Serve the workers over TLS ([`transport::server_tls`]).
    pub tls: Option<TlsAcceptor>,
    /// The shared token every worker must prove it knows; [`Cluster::listen`] refuses an empty one
    /// ([`crate::auth::new_token`] makes one).
    pub token: String,
    /// How many workers to wait for.
    pub workers: usize,
    /// What happens to the run when a worker is lost.
    pub on_loss: LossPolicy,
    /// Print joins and losses to stderr.
    pub verbose: bool,
}

/// What a session's writer sends: a message, or one already encoded (a plan).
pub(crate) enum Out {
    /// A message, encoded by the writer.
    Msg(Msg),
    /// A line from [`transport::encode`].
    Line(bytes::Bytes),
}

/// Something a connection task reports to the run loop.
enum Event {
    Joined { id: usize, addr: String, host: String, weight: u32, tx: UnboundedSender<Out> },
    Msg { id: usize, msg: Msg },
    Closed { id: usize, why: String },
}

struct Conn {
    id: usize,
    addr: String,
    host: String,
    weight: u32,
    tx: UnboundedSender<Out>,
    last_seen: Instant,
    done: bool,
    lost: bool,
}

/// A listening controller and the workers that joined it.
pub struct Cluster {
    runtime: tokio::runtime::Runtime,
    addr: SocketAddr,
    events: Receiver<Event>,
    conns: Vec<Conn>,
    opts: ClusterOptions,
    /// The plan as the workers are sent it.
    source: PlanSource,
}

impl Cluster {
    /// Binds the listener and starts accepting workers in the background; a run sends them
    /// `source`.
    pub fn listen(opts: ClusterOptions, source: PlanSource) -> std::io::Result<Cluster> {
        if opts.token.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::InvalidInput,
                "a controller needs a token: workers prove they know it before they get the plan",
            ));
        }
        let runtime = tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build()?;
        let std_listener = std::net::TcpListener::bind(opts.listen)?;
        std_listener.set_nonblocking(true)?;
        let addr = std_listener.local_addr()?;
        let (tx, events) = channel();
        let token = opts.token.clone();
        let wanted = opts.workers;
        let verbose = opts.verbose;
        let tls = opts.tls.clone();
        runtime.spawn(async move {
            let Ok(listener) = TcpListener::from_std(std_listener) else { return };
            // Only sessions that proved the token get an id, so strangers cannot use up the cap.
            let joined = Arc::new(AtomicUsize::new(0));
            let on_session: Arc<dyn Fn(Session) + Send + Sync> = Arc::new(move |session| {
                tokio::spawn(serve(session, joined.clone(), wanted, token.clone(), tx.clone(), verbose));
            });
            loop {
                match listener.accept().await {
                    Ok((stream, peer)) => {
                        tokio::spawn(transport::serve_connection(
                            stream,
                            peer,
                            tls.clone(),
                            on_session.clone(),
                        ));
                    }
                    // Out of descriptors, say: try again shortly rather than spin.
                    Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
                }
            }
        });
        Ok(Cluster { runtime, addr, events, conns: Vec::new(), opts, source })
    }

    /// The address workers connect to.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Waits until the wanted number of workers have joined (and authenticated), for at most
    /// `timeout`.
    pub fn wait_for_workers(&mut self, timeout: Duration) -> Result<(), String> {
        let deadline = Instant::now() + timeout;
        while self.conns.len() < self.opts.workers {
            let left = deadline.saturating_duration_since(Instant::now());
            match self.events.recv_timeout(left) {
                Ok(Event::Joined { id, addr, host, weight, tx }) => {
                    if self.opts.verbose {
                        eprintln!(
                            "hornet: worker {}/{} joined from {addr} ({}, weight {weight})",
                            self.conns.len() + 1,
                            self.opts.workers,
                            escape_controls(&host)
                        );
                    }
                    self.conns.push(Conn {
                        id,
                        addr,
                        host,
                        weight,
                        tx,
                        last_seen: Instant::now(),
                        done: false,
                        lost: false,
                    });
                }
                Ok(Event::Closed { id, why }) => {
                    if let Some(i) = self.conns.iter().position(|c| c.id == id) {
                        let c = self.conns.remove(i);
                        eprintln!(
                            "hornet: worker {} left before the start: {}",
                            c.addr,
                            escape_controls(&why)
                        );
                    }
                }
                Ok(Event::Msg { .. }) => {}
                Err(RecvTimeoutError::Timeout) => {
                    return Err(format!(
                        "only {} of {} workers joined within {} s",
                        self.conns.len(),
                        self.opts.workers,
                        timeout.as_secs()
                    ));
                }
                Err(RecvTimeoutError::Disconnected) => return Err("the listener stopped".into()),
            }
        }
        Ok(())
    }

    /// The workers' list from the latest figures (`stats`, by worker), for the tick and the report.
    fn worker_list(&self, shares: &[f64], stats: &HashMap<usize, WorkerStatus>) -> Vec<WorkerStatus> {
        self.conns
            .iter()
            .enumerate()
            .map(|(i, c)| {
                let mut s = stats.get(&i).cloned().unwrap_or(WorkerStatus {
                    index: i,
                    address: c.addr.clone(),
                    host: c.host.clone(),
                    state: String::new(),
                    weight: c.weight,
                    share: shares.get(i).copied().unwrap_or(0.0),
                    active_vus: 0,
                    rps: 0.0,
                    requests: 0,
                    cpu: None,
                    lag_p99_ms: 0.0,
                });
                s.state = if c.lost {
                    "lost"
                } else if c.done {
                    "done"
                } else if stats.contains_key(&i) {
                    "running"
                } else {
                    "connected"
                }
                .into();
                if c.lost || c.done {
                    s.rps = 0.0;
                    s.active_vus = 0;
                }
                s
            })
            .collect()
    }

    fn broadcast(&self, msg: &Msg) {
        for c in self.conns.iter().filter(|c| !c.lost) {
            let _ = c.tx.send(Out::Msg(msg.clone()));
        }
    }
}

/// Refuses a plan whose heaviest worker's share of the peak arrival rate is more than one hornet
/// process can start: the check when the script loaded took equal shares, and a worker's
/// `--weight` may give it more.
fn heaviest_share_fits(plan: &Plan, shares: &[f64], weights: &[u32]) -> Result<(), RunError> {
    let peak =
        plan.phases.iter().filter_map(hornet_script::plan::Phase::peak_arrival_rate).fold(0.0, f64::max);
    let Some((i, share)) = shares.iter().copied().enumerate().max_by(|a, b| a.1.total_cmp(&b.1)) else {
        return Ok(());
    };
    let max = hornet_script::plan::MAX_ARRIVAL_RATE;
    if peak * share <= max {
        return Ok(());
    }
    Err(RunError::Cluster(format!(
        "worker {i} (weight {} of {}) would start {:.0} of the peak {peak:.0} arrivals a second: more \
         than the {max:.0} one hornet process can start; give the workers more equal weights, or add workers",
        weights.get(i).copied().unwrap_or(1),
        weights.iter().sum::<u32>(),
        peak * share
    )))
}

impl Workers for Cluster {
    /// Hands the plan to the joined workers, waits until each has built it (and its hash matches),
    /// and starts them together a moment later.
    fn start(
        &mut self,
        plan: &Arc<Plan>,
        opts: &RunOptions,
        globals: &HashMap<String, serde_json::Value>,
        control: &Control,
        endpoint_names: &Arc<EndpointNames>,
    ) -> Result<Started<'_>, RunError> {
        let _guard = self.runtime.enter();
        let n = self.conns.len();
        if n == 0 || self.conns.iter().any(|c| c.lost || c.done) {
            return Err(RunError::Cluster("no workers are connected (a cluster runs one test)".into()));
        }
        let weights: Vec<u32> = self.conns.iter().map(|c| c.weight).collect();
        let segments = Segments::new(&weights).map_err(|e| RunError::Cluster(e.to_string()))?;
        let shares: Vec<f64> = (0..n).map(|i| segments.share(i)).collect();
        heaviest_share_fits(plan, &shares, &weights)?;
        let hash = self.source.hash(plan);
        for (i, c) in self.conns.iter().enumerate() {
            let msg = PlanMsg {
                version: env!("CARGO_PKG_VERSION").into(),
                hash: hash.clone(),
                scripts: self.source.scripts.clone(),
                options: self.source.options.clone(),
                processor: self.source.processor.clone(),
                payloads: self.source.payloads.clone(),
                form_files: self.source.form_files.clone(),
                env: self.source.env.clone(),
                seed: opts.seed,
                threads: opts.threads,
                weights: weights.clone(),
                index: i,
                globals: globals.clone().into_iter().collect(),
                log: opts.log,
            };
            // Encoded here, not on the sessions' runtime: a plan with large files takes a while to
            // encode, and meanwhile the runtime goes on sending every worker its heartbeats.
            match transport::encode(&Msg::Plan(Box::new(msg))) {
                Ok(line) => {
                    let _ = c.tx.send(Out::Line(line));
                }
                Err(e) => return Err(RunError::Cluster(format!("cannot encode the plan: {e}"))),
            }
        }
        // Every worker builds the plan and reports its hash.
        let mut ready = vec![false; n];
        let deadline = Instant::now() + Duration::from_secs(30);
        while ready.iter().any(|r| !r) {
            let left = deadline.saturating_duration_since(Instant::now());
            let failure = match self.events.recv_timeout(left) {
                Ok(Event::Msg { id, msg }) => {
                    let Some(i) = self.conns.iter().position(|c| c.id == id) else { continue };
                    self.conns[i].last_seen = Instant::now();
                    match msg {
                        Msg::Ready { hash: h } if h == hash => {
                            ready[i] = true;
                            None
                        }
                        Msg::Ready { hash: h } => {
                            let reason = format!(
                                "plan hash mismatch: the worker built {}, the controller {hash} (its build of \
                                 hornet differs from the controller's)",
                                escape_controls(&h)
                            );
                            let _ = self.conns[i].tx.send(Out::Msg(Msg::Refused { reason: reason.clone() }));
                            Some(format!("worker {} refused: {reason}", self.conns[i].addr))
                        }
                        Msg::Error { message } => Some(format!(
                            "worker {} could not build the plan: {}",
                            self.conns[i].addr,
                            escape_controls(&message)
                        )),
                        _ => None,
                    }
                }
                Ok(Event::Closed { id, why }) => {
                    Some(format!("worker #{id} left before the start: {}", escape_controls(&why)))
                }
                Ok(Event::Joined { tx, .. }) => {
                    let _ = tx.send(Out::Msg(Msg::Refused { reason: "the run has all its workers".into() }));
                    None
                }
                Err(_) => Some("not every worker was ready within 30 s".into()),
            };
            if let Some(f) = failure {
                self.broadcast(&Msg::Control { factor: None, stop: Some("now".into()) });
                return Err(RunError::Cluster(f));
            }
        }

        // A common start a little in the future, on the wall clock.
        let lead = Duration::from_millis(1500);
        let start_wall = SystemTime::now() + lead;
        let start = Instant::now() + lead;
        let start_ms = start_wall.duration_since(SystemTime::UNIX_EPOCH).map_or(0, |d| d.as_millis() as u64);
        self.broadcast(&Msg::Start { start_at_unix_ms: start_ms });

        let source = ClusterSource {
            cluster: self,
            control: control.clone(),
            start,
            planned: Planned { segments, load: PlannedLoad::of(plan) },
            shares,
            stats: HashMap::new(),
            active: vec![0; n],
            cpus: vec![None; n],
            notes: Vec::new(),
            forwarded_stop: false,
            aborted: false,
            endpoint_names: endpoint_names.clone(),
        };
        Ok(Started {
            source: Box::new(source),
            start: start.into(),
            started_at: start_wall,
            first_tick: Duration::from_millis(1250),
        })
    }
}

/// How long a new session has to send its `hello`.
const HELLO_DEADLINE: Duration = Duration::from_secs(5);

/// One worker session: the handshake, then a writer (messages and heartbeats) and a reader feeding
/// the run loop. Until the worker has proved the token its `hello` is read with a small limit
/// ([`MAX_PRE_AUTH_LINE`]) and a short deadline ([`HELLO_DEADLINE`]), and the session holds no id:
/// only authenticated sessions count toward the cap, numbered from `joined`.
async fn serve(
    session: Session,
    joined: Arc<AtomicUsize>,
    wanted: usize,
    token: String,
    events: Sender<Event>,
    verbose: bool,
) {
    let Session { peer, reader: mut r, writer: w } = session;
    let ours = env!("CARGO_PKG_VERSION");
    let c_nonce = auth::nonce();
    if w.send(&Msg::Challenge { nonce: c_nonce.clone(), version: ours.into(), protocol: PROTOCOL })
        .await
        .is_err()
    {
        return;
    }
    r.set_limit(MAX_PRE_AUTH_LINE);
    let hello = tokio::time::timeout(HELLO_DEADLINE, r.recv()).await;
    let Ok(Ok(Some(Msg::Hello { version, protocol, nonce, mac, host, weight, .. }))) = hello else {
        if verbose {
            let why = match hello {
                Err(_) => format!("no hello within {} s", HELLO_DEADLINE.as_secs()),
                Ok(Err(e)) => e.to_string(),
                Ok(Ok(_)) => "no valid hello".to_string(),
            };
            eprintln!("hornet: refused a connection from {peer}: {}", escape_controls(&why));
        }
        return;
    };
    let refuse = if version != ours || protocol != PROTOCOL {
        Some(format!(
            "version mismatch: the worker runs hornet {version} (protocol {protocol}), the controller hornet {ours} \
             (protocol {PROTOCOL}); run the same version on every machine"
        ))
    } else if !auth::same(&mac, &auth::worker_mac(&token, &c_nonce, &nonce)) {
        Some("wrong token: the worker's HMAC does not match the controller's token".to_string())
    } else if !(1..=MAX_WEIGHT).contains(&weight) {
        Some(format!("weight {weight} is out of range: give 1 to {MAX_WEIGHT}"))
    } else {
        None
    };
    if let Some(reason) = refuse {
        eprintln!("hornet: refused worker {peer}: {}", escape_controls(&reason));
        let _ = w.send(&Msg::Refused { reason }).await;
        return;
    }
    let id = joined.fetch_add(1, Ordering::Relaxed);
    if id >= wanted.saturating_mul(4).max(64) {
        let reason = "too many connections".to_string();
        eprintln!("hornet: refused worker {peer}: {reason}");
        let _ = w.send(&Msg::Refused { reason }).await;
        return;
    }
    r.set_limit(MAX_LINE);
    let welcome = Msg::Welcome { mac: auth::controller_mac(&token, &c_nonce, &nonce), index: id };
    if w.send(&welcome).await.is_err() {
        return;
    }
    let (tx, mut rx) = unbounded_channel::<Out>();
    if events.send(Event::Joined { id, addr: peer.to_string(), host, weight, tx }).is_err() {
        return;
    }
    let writer = tokio::spawn(async move {
        let mut beat = tokio::time::interval(HEARTBEAT);
        loop {
            let msg = tokio::select! {
                m = rx.recv() => match m { Some(m) => m, None => break },
                _ = beat.tick() => Out::Msg(Msg::Heartbeat),
            };
            let (refused, sent) = match msg {
                Out::Msg(msg) => (matches!(msg, Msg::Refused { .. }), w.send(&msg).await),
                Out::Line(line) => (false, w.send_line(line).await),
            };
            if sent.is_err() || refused {
                break;
            }
        }
    });
    let why = loop {
        match r.recv().await {
            Ok(Some(msg)) => {
                // The worker's last message: closing the stream tells it everything it sent arrived.
                let last = matches!(msg, Msg::Done | Msg::Error { .. });
                if events.send(Event::Msg { id, msg }).is_err() {
                    break "controller finished".to_string();
                }
                if last {
                    break "finished".to_string();
                }
            }
            Ok(None) => break "connection closed".to_string(),
            Err(e) => break e.to_string(),
        }
    };
    writer.abort();
    let _ = events.send(Event::Closed { id, why });
}
