//! hornet-target: the embedded HTTP/1.1 test target used by `hornet target`, `hornet demo`, integration
//! tests and benchmarks.
//!
//! It owns the server loop ([`serve`], [`serve_tls`]), a self-contained server on its own thread and
//! runtime ([`RunningTarget`]), TLS with a self-signed certificate made at start ([`tls_acceptor`]),
//! and the endpoints listed by [`endpoints_help`], WebSocket ones included. It binds loopback by
//! default. A recording target ([`RunningTarget::start_recording`]) also keeps a log of what it
//! received and answers unknown paths with a generic JSON document (see [`record`]).

pub mod app;
mod arrival;
mod body;
mod capacity;
pub mod record;
mod routes;
mod ws;

use std::future::Future;
use std::io;
use std::net::{Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use hyper::server::conn::http1;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::net::{TcpListener, TcpSocket};
use tokio::sync::{oneshot, watch};
use tokio::task::JoinSet;

use crate::routes::State;

/// How long in-flight requests may finish after shutdown before their connections are dropped.
const SHUTDOWN_GRACE: Duration = Duration::from_millis(500);
/// How long the runtime of a [`RunningTarget`] may take to wind down after [`serve`] returns.
const RUNTIME_SHUTDOWN: Duration = Duration::from_millis(200);
/// Pause after a failed `accept` (such as running out of file descriptors) before trying again.
const ACCEPT_BACKOFF: Duration = Duration::from_millis(20);
/// Listen backlog of a [`RunningTarget`], large enough for many connections opened at once.
const BACKLOG: u32 = 1024;

/// Where and how a [`RunningTarget`] runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct TargetOptions {
    /// Address to bind; port 0 picks a free port. Default `127.0.0.1:0`.
    pub addr: SocketAddr,
    /// Runtime worker threads; 1 (the default, and what 0 means) runs a current-thread runtime.
    pub threads: usize,
}

impl Default for TargetOptions {
    fn default() -> Self {
        Self { addr: SocketAddr::from((Ipv4Addr::LOCALHOST, 0)), threads: 1 }
    }
}

/// One line per endpoint, for `hornet target` to print when it starts.
pub fn endpoints_help() -> &'static str {
    "\
GET  /              short text body
GET  /json          small JSON object
ANY  /delay/{ms}    200 after waiting ms milliseconds (at most 600000)
ANY  /status/{code} responds with status code (200..=599)
ANY  /bytes/{n}     n bytes of body (at most 100 MiB)
ANY  /echo          the request (method, path, query, headers, body) as JSON
POST /login         JSON token for any username/password (JSON or form body) and a session cookie
GET  /items         list of 10 items as JSON
GET  /items/{id}    item id (1..=1000) as JSON
ANY  /flaky?p=0.1   503 with probability p, else 200
ANY  /stall/{ms}    holds back every response of the server for ms milliseconds
ANY  /redirect/{n}  302 to /redirect/{n-1}; /redirect/0 answers 200
GET  /gzip          the /json body, gzip-compressed (content-encoding: gzip)
GET  /app/          a small web application to record in a browser and import (login with CSRF, session cookie, ids in links, a bearer-token JSON API)
GET  /html          a small HTML page (links with class \"item\", a hidden csrf input)
ANY  /capacity?workers=N&ms=S  N workers each busy S ms per request, the rest queue: N*1000/S req/s at most
WS   /ws/echo       echoes each message (?delay_ms=N, ?drop_after=N, ?require_token=1, ?require_cookie=NAME)
WS   /ws/broadcast  every message goes to every connected client
WS   /ws/ticker     sends {\"type\":\"tick\",\"n\":k} every ?ms=100 milliseconds
"
}

/// Serves the target endpoints on an already-bound listener until `shutdown` resolves.
///
/// Runs on the caller's tokio runtime (any flavour); each connection is served by its own task, with
/// keep-alive. On shutdown it stops accepting, lets in-flight requests finish for up to 500 ms, then drops
/// the remaining connections and returns. Failed accepts are retried after a short pause, so this only
/// returns once `shutdown` has resolved.
pub async fn serve(listener: TcpListener, shutdown: impl Future<Output = ()>) -> io::Result<()> {
    serve_tls(listener, shutdown, None).await
}

/// A TLS acceptor with a self-signed certificate for `localhost` and `127.0.0.1`, made now
/// (rustls with aws-lc-rs; ALPN `http/1.1`). Clients must skip verification (`--insecure`).
pub fn tls_acceptor() -> io::Result<tokio_rustls::TlsAcceptor> {
    use rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
    let other = |e: &dyn std::fmt::Display| io::Error::other(e.to_string());
    let cert = rcgen::generate_simple_self_signed(vec!["localhost".to_owned(), "127.0.0.1".to_owned()])
        .map_err(|e| other(&e))?;
    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
    let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
    let mut config = rustls::ServerConfig::builder_with_provider(provider)
        .with_safe_default_protocol_versions()
        .map_err(|e| other(&e))?
        .with_no_client_auth()
        .with_single_cert(vec![cert.cert.der().clone()], key)
        .map_err(|e| other(&e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];
    Ok(tokio_rustls::TlsAcceptor::from(Arc::new(config)))
}

/// Like [`serve`], over TLS when `tls` is given (https:// and wss://).
pub async fn serve_tls(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    tls: Option<tokio_rustls::TlsAcceptor>,
) -> io::Result<()> {
    serve_state(listener, shutdown, tls, Arc::new(State::new())).await
}

/// Like [`serve_tls`], with the given server state (a recording one, say).
async fn serve_state(
    listener: TcpListener,
    shutdown: impl Future<Output = ()>,
    tls: Option<tokio_rustls::TlsAcceptor>,
    state: Arc<State>,
) -> io::Result<()> {
    let (stop_tx, stop_rx) = watch::channel(());
    let mut http = http1::Builder::new();
    // No header read timeout: it would also close keep-alive connections idle for 30 s (long think times).
    http.keep_alive(true).header_read_timeout(None);
    let mut connections = JoinSet::new();
    let mut shutdown = std::pin::pin!(shutdown);
    loop {
        tokio::select! {
            () = &mut shutdown => break,
            accepted = listener.accept() => {
                let stream = match accepted {
                    Ok((stream, _peer)) => stream,
                    Err(_) => {
                        tokio::time::sleep(ACCEPT_BACKOFF).await;
                        continue;
                    }
                };
                // Best effort: responses are small, so don't let Nagle delay them.
                let _ = stream.set_nodelay(true);
                let state = Arc::clone(&state);
                let (http, stop, tls) = (http.clone(), stop_rx.clone(), tls.clone());
                let stream = arrival::StampedStream::new(stream);
                let clock = stream.clock();
                connections.spawn(async move {
                    match tls {
                        None => serve_connection(&http, TokioIo::new(stream), clock, state, stop).await,
                        Some(acceptor) => {
                            if let Ok(stream) = acceptor.accept(stream).await {
                                serve_connection(&http, TokioIo::new(stream), clock, state, stop).await;
                            }
                        }
                    }
                });
            }
            Some(_) = connections.join_next(), if !connections.is_empty() => {}
        }
    }
    drop(listener);
    // Ask every connection to finish its current request and close; receivers all exist already.
    let _ = stop_tx.send(());
    let _ = tokio::time::timeout(SHUTDOWN_GRACE, async { while connections.join_next().await.is_some() {} })
        .await;
    connections.shutdown().await;
    Ok(())
}

/// Serves one connection (with upgrades, for the WebSocket endpoints) until it ends or `stop`
/// changes, then lets it finish its current request. Each request carries the arrival time of the
/// last read before it (`clock`) in its extensions.
async fn serve_connection<I>(
    http: &http1::Builder,
    io: I,
    clock: Arc<arrival::ArrivalClock>,
    state: Arc<State>,
    mut stop: watch::Receiver<()>,
) where
    I: hyper::rt::Read + hyper::rt::Write + Unpin + Send + 'static,
{
    let service = service_fn(move |mut req: hyper::Request<hyper::body::Incoming>| {
        if let Some(at) = clock.last_read() {
            req.extensions_mut().insert(arrival::Received(at));
        }
        routes::handle(req, Arc::clone(&state))
    });
    let connection = http.serve_connection(io, service).with_upgrades();
    let mut connection = std::pin::pin!(connection);
    tokio::select! {
        _ = connection.as_mut() => {}
        _ = stop.changed() => {
            connection.as_mut().graceful_shutdown();
            let _ = connection.await;
        }
    }
}

/// A target running on its own thread with its own runtime; used by `demo` and tests.
///
/// Dropping it stops it like [`RunningTarget::stop`].
#[derive(Debug)]
pub struct RunningTarget {
    /// The bound address.
    addr: SocketAddr,
    /// Tells the server to stop; taken when stopping.
    stop_tx: Option<oneshot::Sender<()>>,
    /// The server thread; taken when joined.
    thread: Option<JoinHandle<()>>,
    /// Serving https:// and wss:// (a self-signed certificate).
    tls: bool,
    /// The server's state, kept when it records requests so the log can be read.
    recording: Option<Arc<State>>,
    /// The state of the `/app/` web application (shared with a second host).
    app: Arc<app::App>,
}

impl RunningTarget {
    /// Binds `opts.addr` and starts serving on a new thread.
    ///
    /// Binding happens before this returns, so [`addr`](Self::addr) is known and accepts connections.
    pub fn start(opts: TargetOptions) -> io::Result<RunningTarget> {
        RunningTarget::start_with(opts, None, false, None)
    }

    /// Starts a second host of `first`'s web application ([`app`]): another address serving the
    /// same sessions and tokens, which `first`'s order pages call for their JSON API (cross-origin,
    /// as a browser sees an API on its own host).
    pub fn start_second_host(opts: TargetOptions, first: &RunningTarget) -> io::Result<RunningTarget> {
        let second = RunningTarget::start_with(opts, None, false, Some(Arc::clone(&first.app)))?;
        first.app.set_api_origin(&second.url());
        Ok(second)
    }

    /// The web application's state: its log of the requests it answered ([`app::App::log`]).
    pub fn app(&self) -> &app::App {
        &self.app
    }

    /// Like [`RunningTarget::start`], recording every request it receives (read with
    /// [`requests`](Self::requests) or `GET /_hornet/requests`) and answering paths it does not know
    /// with a generic JSON document instead of 404, so scripts written for other servers run against
    /// it. With `tls`, it serves https:// like [`RunningTarget::start_tls`].
    pub fn start_recording(opts: TargetOptions, tls: bool) -> io::Result<RunningTarget> {
        let acceptor = if tls { Some(tls_acceptor()?) } else { None };
        RunningTarget::start_with(opts, acceptor, true, None)
    }

    /// Like [`RunningTarget::start`], serving TLS with a self-signed certificate made now (see
    /// [`tls_acceptor`]); [`url`](Self::url) is then `https://...`.
    pub fn start_tls(opts: TargetOptions) -> io::Result<RunningTarget> {
        RunningTarget::start_with(opts, Some(tls_acceptor()?), false, None)
    }

    fn start_with(
        opts: TargetOptions,
        tls: Option<tokio_rustls::TlsAcceptor>,
        record: bool,
        app: Option<Arc<app::App>>,
    ) -> io::Result<RunningTarget> {
        let is_tls = tls.is_some();
        let mut state = if record { State::recording() } else { State::new() };
        if let Some(app) = app {
            state.app = app;
        }
        let app = Arc::clone(&state.app);
        let state = Arc::new(state);
        let recording = record.then(|| Arc::clone(&state));
        let runtime = if opts.threads <= 1 {
            tokio::runtime::Builder::new_current_thread()
        } else {
            let mut builder = tokio::runtime::Builder::new_multi_thread();
            builder.worker_threads(opts.threads);
            builder
        }
        .enable_all()
        .thread_name("hornet-target")
        .build()?;
        let listener = {
            // Registering the socket needs the runtime's reactor.
            let _guard = runtime.enter();
            bind(opts.addr)?
        };
        let addr = listener.local_addr()?;
        let (stop_tx, stop_rx) = oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name("hornet-target".to_owned()).spawn(move || {
            // serve only fails on errors it retries; nothing to report here.
            let stop = async {
                // A dropped sender also means stop.
                let _ = stop_rx.await;
            };
            let _ = runtime.block_on(serve_state(listener, stop, tls, state));
            runtime.shutdown_timeout(RUNTIME_SHUTDOWN);
        })?;
        Ok(RunningTarget { addr, stop_tx: Some(stop_tx), thread: Some(thread), tls: is_tls, recording, app })
    }

    /// The bound address (with the actual port when port 0 was asked for).
    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// Base URL of the target, such as `http://127.0.0.1:8080` (`https://` with TLS).
    pub fn url(&self) -> String {
        let scheme = if self.tls { "https" } else { "http" };
        format!("{scheme}://{}", self.addr)
    }

    /// Base WebSocket URL of the target, such as `ws://127.0.0.1:8080` (`wss://` with TLS).
    pub fn ws_url(&self) -> String {
        let scheme = if self.tls { "wss" } else { "ws" };
        format!("{scheme}://{}", self.addr)
    }

    /// What a recording target received so far (see [`record`] for the format); `None` when it does
    /// not record.
    pub fn requests(&self) -> Option<serde_json::Value> {
        self.recording.as_ref().and_then(|state| state.log.as_ref()).map(record::RequestLog::summary)
    }

    /// Every `traceparent` (with its `baggage`) a recording target received so far, WebSocket
    /// upgrade requests' too, in order of arrival; `None` when it does not record.
    pub fn trace_contexts(&self) -> Option<Vec<record::TraceContext>> {
        self.recording.as_ref().and_then(|state| state.log.as_ref()).map(record::RequestLog::trace_contexts)
    }

    /// Forgets the requests a recording target received so far.
    pub fn clear_requests(&self) {
        if let Some(log) = self.recording.as_ref().and_then(|state| state.log.as_ref()) {
            log.clear();
        }
    }

    /// Stops accepting, lets in-flight requests finish briefly, and returns once the server thread has
    /// ended (within about a second).
    pub fn stop(self) {
        drop(self);
    }

    /// Signals the server thread and waits for it.
    fn shut_down(&mut self) {
        if let Some(stop_tx) = self.stop_tx.take() {
            let _ = stop_tx.send(());
        }
        if let Some(thread) = self.thread.take() {
            // A panic on the server thread has already been reported by the panic hook.
            let _ = thread.join();
        }
    }
}

impl Drop for RunningTarget {
    fn drop(&mut self) {
        self.shut_down();
    }
}

/// A listening socket on `addr` with address reuse and a large backlog.
fn bind(addr: SocketAddr) -> io::Result<TcpListener> {
    let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
    socket.set_reuseaddr(true)?;
    socket.bind(addr)?;
    socket.listen(BACKLOG)
}
