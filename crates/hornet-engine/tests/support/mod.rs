//! The harness shared by the engine's integration tests: a bounded `LocalSet` runner, client and
//! request builders, and servers on 127.0.0.1:0 (raw TCP, with a request-reading [`Peer`], and
//! hyper HTTP/1.1 around a test's own service).

// Each test file uses the part of the harness it needs.
#![allow(dead_code)]

use std::convert::Infallible;
use std::future::Future;
use std::net::SocketAddr;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hornet_engine::http::{ClientConfig, HttpClient, Request};
use http::{Method, Uri};
use http_body_util::Full;
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};
use tokio::task::LocalSet;

/// Bound on every test.
pub const TEST_LIMIT: Duration = Duration::from_secs(20);

/// Runs a test body inside a `LocalSet` (the engine spawns connection tasks locally), bounded by
/// [`TEST_LIMIT`].
pub async fn run<F: Future<Output = ()>>(f: F) {
    LocalSet::new()
        .run_until(async { tokio::time::timeout(TEST_LIMIT, f).await.expect("test timed out") })
        .await;
}

/// A client with the given request timeout, certificate checking off when `insecure`, and a shared
/// pool of at most `pool` connections per origin (or one connection per session without).
pub fn client(timeout_ms: u64, insecure: bool, pool: Option<usize>) -> HttpClient {
    HttpClient::new(&ClientConfig {
        timeout: Duration::from_millis(timeout_ms),
        insecure,
        pool,
        source_addresses: Vec::new(),
        max_kept_body: hornet_engine::http::DEFAULT_MAX_KEPT_BODY,
    })
    .expect("client")
}

/// Parses a test URL.
pub fn uri(s: &str) -> Uri {
    s.parse::<Uri>().expect("uri")
}

/// A request that keeps its response body when `keep_body`.
pub fn request(method: Method, url: &str, keep_body: bool) -> Request {
    Request { keep_body, ..Request::new(method, uri(url)) }
}

/// A GET that keeps its response body.
pub fn get(url: &str) -> Request {
    request(Method::GET, url, true)
}

/// A listener on a free loopback port, and its address.
pub async fn listener() -> (TcpListener, SocketAddr) {
    let l = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = l.local_addr().expect("addr");
    (l, addr)
}

/// Spawns a raw TCP server running `handler` on each accepted connection; returns its address and a
/// counter of accepted connections.
pub async fn raw_server<H, F>(handler: H) -> (SocketAddr, Arc<AtomicUsize>)
where
    H: Fn(TcpStream) -> F + Send + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let (l, addr) = listener().await;
    let accepts = Arc::new(AtomicUsize::new(0));
    let count = accepts.clone();
    tokio::spawn(async move {
        while let Ok((stream, _)) = l.accept().await {
            count.fetch_add(1, Ordering::SeqCst);
            tokio::spawn(handler(stream));
        }
    });
    (addr, accepts)
}

/// Spawns a raw server that hands each accepted connection (with `TCP_NODELAY`, so the bytes a test
/// writes go out as written) to `handler` as a [`Peer`]; returns its address and a counter of
/// accepted connections.
pub async fn peer_server<H, F>(handler: H) -> (SocketAddr, Arc<AtomicUsize>)
where
    H: Fn(Peer) -> F + Send + Sync + 'static,
    F: Future<Output = ()> + Send + 'static,
{
    let handler = Arc::new(handler);
    raw_server(move |s| {
        let _ = s.set_nodelay(true);
        handler(Peer { s, buf: Vec::new() })
    })
    .await
}

/// A server answering every request on a connection with `response`.
pub async fn answering(response: &'static [u8]) -> (SocketAddr, Arc<AtomicUsize>) {
    peer_server(move |mut p| async move {
        while p.request().await.is_some() {
            p.send(response).await;
        }
    })
    .await
}

/// What a [`hyper_server`] has served so far.
pub struct Served {
    /// Connections accepted.
    pub connections: Arc<AtomicUsize>,
    /// Requests answered.
    pub requests: Arc<AtomicUsize>,
}

/// Spawns an HTTP/1.1 hyper server around `service`; returns its address and its counters.
pub async fn hyper_server<S, F>(service: S) -> (SocketAddr, Served)
where
    S: Fn(hyper::Request<Incoming>) -> F + Send + Sync + Copy + 'static,
    F: Future<Output = Result<hyper::Response<Full<Bytes>>, Infallible>> + Send + 'static,
{
    let (l, addr) = listener().await;
    let served = Served { connections: Arc::default(), requests: Arc::default() };
    let (connections, requests) = (served.connections.clone(), served.requests.clone());
    tokio::spawn(async move {
        while let Ok((stream, _)) = l.accept().await {
            connections.fetch_add(1, Ordering::SeqCst);
            let requests = requests.clone();
            tokio::spawn(async move {
                let svc = service_fn(move |req| {
                    requests.fetch_add(1, Ordering::SeqCst);
                    service(req)
                });
                let _ = hyper::server::conn::http1::Builder::new()
                    .serve_connection(TokioIo::new(stream), svc)
                    .await;
            });
        }
    });
    (addr, served)
}

/// The server side of one connection: reads whole requests (head and content-length body).
pub struct Peer {
    /// The accepted connection.
    pub s: TcpStream,
    buf: Vec<u8>,
}

impl Peer {
    /// The next request's bytes, or `None` at EOF or error.
    pub async fn request(&mut self) -> Option<Vec<u8>> {
        loop {
            if let Some(end) = self.buf.windows(4).position(|w| w == b"\r\n\r\n") {
                let head = String::from_utf8_lossy(&self.buf[..end]).to_ascii_lowercase();
                let body = head
                    .lines()
                    .find_map(|l| l.strip_prefix("content-length:"))
                    .and_then(|v| v.trim().parse::<usize>().ok())
                    .unwrap_or(0);
                let total = end + 4 + body;
                if self.buf.len() >= total {
                    return Some(self.buf.drain(..total).collect());
                }
            }
            let mut chunk = [0u8; 16 * 1024];
            match self.s.read(&mut chunk).await {
                Ok(0) | Err(_) => return None,
                Ok(n) => self.buf.extend_from_slice(&chunk[..n]),
            }
        }
    }

    /// Writes `bytes`, ignoring a peer that has gone.
    pub async fn send(&mut self, bytes: &[u8]) {
        let _ = self.s.write_all(bytes).await;
    }

    /// Writes `bytes` in pieces of `piece` bytes, pausing between them so they arrive apart.
    pub async fn dribble(&mut self, bytes: &[u8], piece: usize) {
        for part in bytes.chunks(piece) {
            if self.s.write_all(part).await.is_err() {
                return;
            }
            tokio::time::sleep(Duration::from_millis(1)).await;
        }
    }
}

/// Reads until the end of a request head (for requests without a body). False on EOF.
pub async fn read_head(stream: &mut TcpStream) -> bool {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 1024];
    loop {
        match stream.read(&mut chunk).await {
            Ok(0) | Err(_) => return false,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
        if buf.windows(4).any(|w| w == b"\r\n\r\n") {
            return true;
        }
    }
}
