//! The HTTP client engine: sends one request over HTTP/1.1 or HTTP/2 and measures each phase
//! (docs/design.md §3). Plain `http://` requests take the lean HTTP/1.1 path of [`h1`] (pre-rendered
//! request, `httparse`, reused buffers; docs/design.md §7); `https://` ones use hyper's low-level
//! `client::conn` API (HTTP/2 or HTTP/1.1 as ALPN decides), in both cases on connections the
//! engine opens itself.
//!
//! An [`HttpClient`] exists once per worker thread and is shared by that thread's virtual users;
//! each virtual user keeps its connections in its own [`Session`] (one keep-alive connection per
//! origin, like a browser) unless the client was built with a pool, in which case connections are
//! borrowed from the client. Everything here runs on a single-threaded runtime: connection tasks
//! are spawned with `tokio::task::spawn_local`, so [`HttpClient::send`] must be called inside a
//! tokio `LocalSet` (or `LocalRuntime`).
//!
//! On top of the exchange itself the engine does what Artillery's HTTP engine does for a VU:
//! a cookie jar per [`Session`], redirects ([`Request::follow_redirects`]) and response
//! decompression ([`Request::decompress`]).
//!
//! This module holds the client's API ([`ClientConfig`], [`HttpClient`], [`Session`], [`Request`],
//! [`Response`]) and the timeout around a request; `exchange` holds what happens below it (the
//! redirect chain, connection leases, the lean and hyper attempts, body reading).

mod connection;
mod cookies;
mod decode;
mod error;
mod exchange;
mod h1;
mod pool;
mod redirect;
mod resolve;
mod tls;
mod trace;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::Bytes;
use hornet_metrics::{ErrorKind, Timings};
use http::{HeaderMap, Method, Uri};
use tokio::time::Sleep;

use connection::{Conn, Connector, Target};
use cookies::Jar;
use exchange::Progress;
use pool::Pool;

pub(crate) use connection::backing_off_files;
pub use error::{EngineError, RequestError, files_hint, out_of_files};
pub(crate) use tls::{client_config as tls_client_config, server_name as tls_server_name};
pub use trace::{BAGGAGE, TRACEPARENT, TraceContext, traceparent};

/// The `accept-encoding` sent when [`Request::decompress`] is set and the request has none.
pub const ACCEPT_ENCODING_VALUE: &str = "gzip, deflate, br";

/// The largest decoded response body (100 MiB); a body that decodes to more is a
/// [`ErrorKind::Protocol`] error.
pub const MAX_DECODED_BODY: usize = decode::MAX_DECODED;

/// The default of [`ClientConfig::max_kept_body`]: 16 MiB.
pub const DEFAULT_MAX_KEPT_BODY: usize = 16 * 1024 * 1024;

/// Settings of an [`HttpClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Bound on a whole request: pool wait, connection set-up, request and full response body,
    /// across all redirects followed.
    pub timeout: Duration,
    /// Accept any TLS certificate (no chain or host name check).
    pub insecure: bool,
    /// When `Some(n)`, VUs share up to `n` connections per origin on this thread instead of
    /// each keeping its own.
    pub pool: Option<usize>,
    /// Local addresses new connections bind to, in turn (empty: the system chooses). Lets one
    /// process hold more connections to one target than a single address has ephemeral ports.
    pub source_addresses: Vec<std::net::IpAddr>,
    /// The longest response body kept for a request that asks to keep it
    /// ([`Request::keep_body`]); a longer one is read to its end and counted, but not kept
    /// ([`Response::body_over_limit`]), so memory stays bounded whatever the server sends.
    pub max_kept_body: usize,
}

/// The HTTP engine of one worker thread, shared by that thread's VUs (`Rc<HttpClient>`): the TLS
/// configuration (rustls with aws-lc-rs, webpki roots, ALPN `h2`, `http/1.1`) and, when
/// configured, the connection pool.
pub struct HttpClient {
    connector: Connector,
    timeout: Duration,
    pool: Option<Pool>,
    max_kept_body: usize,
}

impl std::fmt::Debug for HttpClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("HttpClient")
            .field("timeout", &self.timeout)
            .field("pool", &self.pool.as_ref().map(Pool::max))
            .finish_non_exhaustive()
    }
}

/// Per-VU state: the cookie jar and, without a pool, one keep-alive connection per origin (with
/// a pool it holds no connections, but still its own cookies). Dropping a `Session` closes its
/// connections.
#[derive(Debug, Default)]
pub struct Session {
    conns: Vec<Conn>,
    jar: Jar,
    /// The request timer, kept from one request to the next. It is not moved for each request:
    /// it may fire at an earlier request's deadline, which is earlier than the current one's, and
    /// is then moved to the current deadline (see [`HttpClient::send`]). A request that ends
    /// before it fires costs no timer work.
    timer: Option<Pin<Box<Sleep>>>,
}

impl Session {
    /// A session with no connections and no cookies yet.
    pub fn new() -> Session {
        Session::default()
    }

    /// Number of connections this session holds open for reuse.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }

    /// Stores the cookie `name=value` as if a response from `url` had set it without attributes
    /// (Artillery's `config.defaults.cookie` and per-request `cookie:`): a host-only session cookie
    /// whose path is the default path of `url` (RFC 6265 §5.1.4: its path up to the last `/`, so
    /// a cookie set for `/app/login` is sent to `/app/...`). Returns false, storing nothing, when
    /// `url` is not an absolute URL, `name` is empty or contains `=`, `;`, whitespace or control
    /// characters, or `value` contains `;` or control characters.
    pub fn set_cookie(&mut self, url: &Uri, name: &str, value: &str) -> bool {
        self.jar.set(url, name, value)
    }

    /// The `(name, value)` cookies a request to `url` would send now (unexpired, domain, path and
    /// `Secure` matched), longest path first.
    pub fn cookies(&self, url: &Uri) -> Vec<(String, String)> {
        self.jar.pairs(url)
    }
}

/// One request to send. `Request::new` or `Request::default()` (a GET of `/`) give every option
/// off; set the fields you need:
///
/// ```
/// use hornet_engine::http::Request;
/// let req = Request {
///     keep_body: true,
///     follow_redirects: 10,
///     decompress: true,
///     ..Request::new(http::Method::GET, http::Uri::from_static("http://127.0.0.1:8080/"))
/// };
/// # let _ = req;
/// ```
#[derive(Debug, Clone, Default)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// Absolute `http` or `https` URI.
    pub uri: Uri,
    /// Headers; `Host` is added for HTTP/1.1 when absent, and `Cookie` gets the session's
    /// matching cookies appended.
    pub headers: HeaderMap,
    /// The body; shared, never copied.
    pub body: Bytes,
    /// Keep the response body in memory (`Response::body`), or only count its bytes. A body
    /// longer than [`ClientConfig::max_kept_body`] is only counted (`Response::body_over_limit`).
    pub keep_body: bool,
    /// Most redirects to follow (Artillery's `followRedirect: true` is 10); 0 returns a 3xx as
    /// is. 301, 302, 303, 307 and 308 responses with a usable `Location` (relative ones are
    /// resolved against the current URL; `http`/`https` only) are followed; 303, and 301/302 after
    /// a POST, continue as a GET without body, 307/308 keep method and body. A request to another
    /// origin drops `Authorization`, `Proxy-Authorization`, an explicit `Host` and the request's
    /// own `Cookie` header. When the limit is reached the last 3xx response is returned as is,
    /// not as an error; so is a 3xx without a usable `Location`.
    pub follow_redirects: u8,
    /// Artillery's `gzip`: send `accept-encoding: gzip, deflate, br` unless the request has an
    /// `accept-encoding`, and decode a `gzip`/`x-gzip`, `deflate` or `br` response body (codings
    /// it does not know leave the body as received). Only kept bodies are decoded (`keep_body`);
    /// a corrupt one, or one that decodes to more than [`MAX_DECODED_BODY`], is an
    /// [`ErrorKind::Protocol`] error. Response headers are left as received.
    pub decompress: bool,
    /// Fill `Response::headers` only with the headers the engine acts on itself (`location`,
    /// `content-encoding`, `set-cookie`): for a caller that never reads the others, this saves
    /// building a header map per response. Only the lean HTTP/1.1 path skips; others keep all.
    pub skip_headers: bool,
    /// W3C trace context, sent as `traceparent` and `baggage` headers after `headers` (which must
    /// have neither), on every hop of a redirect chain. The lean HTTP/1.1 path writes the ids
    /// straight into the request it renders, without a header map or an allocation.
    pub trace: Option<TraceContext>,
    /// Headers sent before `headers`, shared by many requests (a script step's headers that do
    /// not change): cloning them for a request is a reference count, where cloning a header map
    /// allocates. A name should be in one of the two only. The request is sent as if `headers`
    /// were these followed by its own.
    pub shared_headers: Option<SharedHeaders>,
}

/// Request headers made once and sent with many requests ([`Request::shared_headers`]). A plain
/// `http://` request without redirects, compression or cookies writes their lines as they were
/// rendered here; any other request merges them into its own headers first.
#[derive(Debug, Clone)]
pub struct SharedHeaders(std::sync::Arc<SharedInner>);

#[derive(Debug)]
struct SharedInner {
    map: HeaderMap,
    /// The headers as HTTP/1.1 lines (`name: value\r\n`), when no header among them changes how
    /// the lean path renders a request (`host`, `content-length`, `transfer-encoding`, `cookie`,
    /// `accept-encoding`); `None` otherwise.
    lines: Option<Box<[u8]>>,
}

impl SharedHeaders {
    /// Shares `map`.
    pub fn new(map: HeaderMap) -> SharedHeaders {
        use http::header::{ACCEPT_ENCODING, CONTENT_LENGTH, COOKIE, HOST, TRANSFER_ENCODING};
        let special = [HOST, CONTENT_LENGTH, TRANSFER_ENCODING, COOKIE, ACCEPT_ENCODING];
        let lines = (!special.iter().any(|name| map.contains_key(name))).then(|| {
            let mut lines = Vec::new();
            for (name, value) in &map {
                h1::push_header(&mut lines, name.as_str().as_bytes(), value.as_bytes());
            }
            lines.into_boxed_slice()
        });
        SharedHeaders(std::sync::Arc::new(SharedInner { map, lines }))
    }

    /// The headers.
    pub fn map(&self) -> &HeaderMap {
        &self.0.map
    }

    /// The rendered lines, when the lean path may write them as they are.
    pub(crate) fn lines(&self) -> Option<&[u8]> {
        self.0.lines.as_deref()
    }

    /// Adds the headers in front of `headers`.
    pub(crate) fn merge_into(&self, headers: &mut HeaderMap) {
        let own = std::mem::replace(headers, self.0.map.clone());
        for (name, value) in &own {
            headers.append(name.clone(), value.clone());
        }
    }
}

impl Request {
    /// A request without headers or body that does not keep the response body, follow redirects
    /// or ask for compression.
    pub fn new(method: Method, uri: Uri) -> Request {
        Request { method, uri, ..Request::default() }
    }
}

/// A complete response (the body has been read to its end). After redirects it is the final
/// response, with the chain's totals in `body_len`, `bytes_sent` and `timings`.
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, only when the request asked to keep it; decoded when the request asked to
    /// decompress.
    pub body: Option<Bytes>,
    /// Body bytes received on the wire, after transfer decoding and before content decoding,
    /// summed over every response of a redirect chain (what `http.downloaded_bytes` counts).
    pub body_len: u64,
    /// Approximate bytes sent: request lines, headers and bodies of every attempt and redirect.
    pub bytes_sent: u64,
    /// Phase timings. `total` runs from `send` to the final response's last byte, redirects
    /// included; `wait` and `receive` are the final response's; `dns`, `connect` and `tls` sum
    /// the connections opened along the way.
    pub timings: Timings,
    /// HTTP version of the response.
    pub version: http::Version,
    /// Redirects followed to reach this response.
    pub redirects: u8,
    /// The status of each redirect response followed, in order: responses the server sent
    /// (counted in `http.responses` and `http.codes`), each followed by one more request.
    pub redirect_statuses: Vec<u16>,
    /// Attempts written on a reused connection that the server closed before answering, then
    /// sent again on a new one (at most one per hop; only when sending again is safe, see
    /// [`HttpClient::send`]). The server may have read each: `http.requests` counts them.
    pub resent: u8,
    /// The request asked to keep the body, but it was longer than
    /// [`ClientConfig::max_kept_body`]: it was read to its end and counted (`body_len`), and
    /// `body` is `None`.
    pub body_over_limit: bool,
}

impl HttpClient {
    /// Builds a client: TLS configuration and, when `cfg.pool` is set, an empty pool.
    pub fn new(cfg: &ClientConfig) -> Result<HttpClient, EngineError> {
        if cfg.pool == Some(0) {
            return Err(EngineError::EmptyPool);
        }
        Ok(HttpClient {
            connector: Connector::new(cfg.insecure, cfg.source_addresses.clone())?,
            timeout: cfg.timeout,
            pool: cfg.pool.map(Pool::new),
            max_kept_body: cfg.max_kept_body,
        })
    }

    /// The longest response body this client keeps ([`ClientConfig::max_kept_body`]).
    pub fn max_kept_body(&self) -> usize {
        self.max_kept_body
    }

    /// Sends `req` and reads the whole response, reusing the session's (or the pool's) connection
    /// to the origin when it is still open, with the session's cookies; follows redirects and
    /// decodes the body as the request asks (see [`Request`]). Cookies set by every response,
    /// redirects included, are stored in the session. A request that fails on a reused connection
    /// before any response arrives (stale keep-alive) is sent once more on a new connection when
    /// that is safe, as browsers and hyper do: when none of it was written, when an HTTP/2 server
    /// refused it unprocessed, or when its method is idempotent (`GET`, `HEAD`, `PUT`, `DELETE`,
    /// `OPTIONS`, `TRACE`). A `POST` or `PATCH` the server may have read is not sent again: the
    /// failure is the request's. A written attempt sent again is counted in
    /// [`Response::resent`] (or [`RequestError::resent`]). The client's timeout bounds the whole chain. Must run
    /// inside a tokio `LocalSet` or `LocalRuntime` (connection tasks are spawned with
    /// `spawn_local`).
    // Not an `async fn`: one stores its by-value arguments twice in its future, and `req` is 320
    // bytes. The future is what a VU boxes for each request, so its size is copied each time.
    #[allow(clippy::manual_async_fn)]
    pub fn send<'a>(
        &'a self,
        session: &'a mut Session,
        mut req: Request,
    ) -> impl Future<Output = Result<Response, RequestError>> + 'a {
        async move {
            let start = Instant::now();
            let mut progress = Progress {
                uri: std::mem::take(&mut req.uri),
                timings: Timings::default(),
                resent: 0,
                redirects: 0,
                redirect_statuses: Vec::new(),
            };
            let deadline = tokio::time::Instant::from_std(start) + self.timeout;
            // The kept timer's deadline is an earlier request's, never later than this one's (each
            // request's deadline is its start plus the same timeout): it is moved only when it fires
            // before this deadline, so a request that ends first does not touch the timer wheel.
            let mut timer = match session.timer.take() {
                Some(mut timer) => {
                    // Only a session shared between clients with different timeouts gets here.
                    if timer.deadline() > deadline {
                        timer.as_mut().reset(deadline);
                    }
                    timer
                }
                None => Box::pin(tokio::time::sleep_until(deadline)),
            };
            let result = {
                let mut chain = std::pin::pin!(self.chain(session, &mut req, start, &mut progress));
                std::future::poll_fn(|cx| match chain.as_mut().poll(cx) {
                    Poll::Ready(result) => Poll::Ready(Ok(result)),
                    Poll::Pending => loop {
                        match timer.as_mut().poll(cx) {
                            Poll::Pending => return Poll::Pending,
                            Poll::Ready(()) if timer.deadline() >= deadline => return Poll::Ready(Err(())),
                            Poll::Ready(()) => timer.as_mut().reset(deadline),
                        }
                    },
                })
                .await
            };
            session.timer = Some(timer);
            let mut timings = progress.timings;
            match result {
                Ok(Ok(response)) => Ok(response),
                Ok(Err(failure)) => {
                    timings.total = start.elapsed();
                    Err(failure.into_request_error(timings, progress))
                }
                Err(_) => {
                    timings.total = start.elapsed();
                    let message = match Target::parse(&progress.uri) {
                        Ok(target) => format!("timed out after {:?} ({target})", self.timeout),
                        Err(_) => format!("timed out after {:?} ({})", self.timeout, progress.uri),
                    };
                    Err(RequestError {
                        kind: ErrorKind::Timeout,
                        message,
                        timings,
                        resent: progress.resent,
                        redirects: progress.redirects,
                        redirect_statuses: progress.redirect_statuses,
                    })
                }
            }
        }
    }
}
