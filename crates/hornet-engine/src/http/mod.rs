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

mod connection;
mod cookies;
mod decode;
mod error;
mod h1;
mod pool;
mod redirect;
mod tls;

use std::future::Future;
use std::pin::Pin;
use std::task::Poll;
use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use hornet_metrics::{ErrorKind, Timings};
use http::header::{ACCEPT_ENCODING, CONTENT_LENGTH, HOST, LOCATION};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Incoming};
use tokio::time::Sleep;

use connection::{Conn, Connector, ReqBody, Route, Target};
use cookies::Jar;
use error::Failure;
use pool::{Pool, PoolLease};

pub use error::{EngineError, RequestError};
pub(crate) use tls::{client_config as tls_client_config, server_name as tls_server_name};

/// The `accept-encoding` sent when [`Request::decompress`] is set and the request has none.
pub const ACCEPT_ENCODING_VALUE: &str = "gzip, deflate, br";

/// The largest decoded response body (100 MiB); a body that decodes to more is a
/// [`ErrorKind::Protocol`] error.
pub const MAX_DECODED_BODY: usize = decode::MAX_DECODED;

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
}

/// The HTTP engine of one worker thread, shared by that thread's VUs (`Rc<HttpClient>`): the TLS
/// configuration (rustls with aws-lc-rs, webpki roots, ALPN `h2`, `http/1.1`) and, when
/// configured, the connection pool.
pub struct HttpClient {
    connector: Connector,
    timeout: Duration,
    pool: Option<Pool>,
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
    /// The request timer, kept from one request to the next: moving it to a later deadline only
    /// extends its entry in tokio's timer wheel, where a timer per request is registered in the
    /// wheel and removed from it each time.
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
    /// Keep the response body in memory (`Response::body`), or only count its bytes.
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
}

/// A connection in use by one request.
enum Lease {
    /// A connection owned by the VU's session.
    Own(Conn),
    /// A connection borrowed from the client's pool.
    Pool(PoolLease),
}

impl Lease {
    /// How the request goes out on the leased connection.
    fn route(&mut self) -> Route<'_> {
        match self {
            Lease::Own(conn) => conn.route(),
            Lease::Pool(lease) => lease.route(),
        }
    }
}

/// What a request has reached, kept outside the timed future so a timeout can report it.
struct Progress {
    /// The URL of the current hop.
    uri: Uri,
    timings: Timings,
}

/// A response head on a leased connection, its body still to read.
struct Head {
    status: StatusCode,
    version: Version,
    headers: HeaderMap,
    body: HeadBody,
    lease: Lease,
    first_byte: Instant,
}

/// Where the body of a [`Head`] comes from.
enum HeadBody {
    Hyper(Incoming),
    /// The lean connection of the lease reads it.
    Lean,
}

/// How one attempt to send a request ended.
enum Attempt {
    Head {
        status: StatusCode,
        version: Version,
        headers: HeaderMap,
        body: HeadBody,
        first_byte: Instant,
    },
    /// Failed before any response byte on what may be a stale keep-alive connection.
    Stale,
    Failed(Failure),
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
        })
    }

    /// Sends `req` and reads the whole response, reusing the session's (or the pool's) connection
    /// to the origin when it is still open, with the session's cookies; follows redirects and
    /// decodes the body as the request asks (see [`Request`]). Cookies set by every response,
    /// redirects included, are stored in the session. A request that fails on a reused connection
    /// before any response arrives (stale keep-alive) is retried once on a new connection,
    /// whatever its method, as browsers do. The client's timeout bounds the whole chain. Must run
    /// inside a tokio `LocalSet` or `LocalRuntime` (connection tasks are spawned with
    /// `spawn_local`).
    pub async fn send(&self, session: &mut Session, req: Request) -> Result<Response, RequestError> {
        let start = Instant::now();
        let mut req = req;
        let mut progress = Progress { uri: std::mem::take(&mut req.uri), timings: Timings::default() };
        let deadline = tokio::time::Instant::from_std(start) + self.timeout;
        let mut timer = match session.timer.take() {
            Some(mut timer) => {
                timer.as_mut().reset(deadline);
                timer
            }
            None => Box::pin(tokio::time::sleep_until(deadline)),
        };
        let result = {
            let mut chain = std::pin::pin!(self.chain(session, req, start, &mut progress));
            std::future::poll_fn(|cx| match chain.as_mut().poll(cx) {
                Poll::Ready(result) => Poll::Ready(Ok(result)),
                Poll::Pending => timer.as_mut().poll(cx).map(Err),
            })
            .await
        };
        session.timer = Some(timer);
        let mut timings = progress.timings;
        match result {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(failure)) => {
                timings.total = start.elapsed();
                Err(failure.into_request_error(timings))
            }
            Err(_) => {
                timings.total = start.elapsed();
                let message = match Target::parse(&progress.uri) {
                    Ok(target) => format!("timed out after {:?} ({target})", self.timeout),
                    Err(_) => format!("timed out after {:?} ({})", self.timeout, progress.uri),
                };
                Err(RequestError { kind: ErrorKind::Timeout, message, timings })
            }
        }
    }

    /// Sends a request and the redirects it leads to; `p.uri` is the current hop's URL (the
    /// request's own `uri` field has been moved there).
    async fn chain(
        &self,
        session: &mut Session,
        req: Request,
        start: Instant,
        p: &mut Progress,
    ) -> Result<Response, Failure> {
        let Request {
            mut method,
            uri: _,
            mut headers,
            mut body,
            keep_body,
            follow_redirects,
            decompress,
            skip_headers,
        } = req;
        if decompress && !headers.contains_key(ACCEPT_ENCODING) {
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_static(ACCEPT_ENCODING_VALUE));
        }
        let mut bytes_sent = 0u64;
        let mut body_len = 0u64;
        let mut redirects = 0u8;
        loop {
            let target = Target::parse(&p.uri)?;
            let may_follow = redirects < follow_redirects;
            // Keep the request's headers only when a further hop may need them.
            let mut hop_headers = if may_follow { headers.clone() } else { std::mem::take(&mut headers) };
            session.jar.apply(&p.uri, &mut hop_headers);
            let x = Exchange { method: &method, uri: &p.uri, body: &body, skip_headers };
            let Head { status, version, headers: resp_headers, body: incoming, mut lease, first_byte } =
                self.head(session, &target, &x, hop_headers, &mut p.timings, &mut bytes_sent).await?;
            session.jar.store_response(&p.uri, &resp_headers);
            let status = status.as_u16();
            let next = if may_follow && redirect::is_redirect(status) {
                resp_headers.get(LOCATION).and_then(|l| redirect::resolve(&p.uri, l))
            } else {
                None
            };
            // A redirect's body is read (so the connection can be reused) but never kept.
            let keep = keep_body && next.is_none();
            let read = match (incoming, lease.route()) {
                // Boxed, like hyper's send: the lean path's future stays small.
                (HeadBody::Hyper(incoming), _) => {
                    Box::pin(read_body(incoming, keep)).await.map_err(|e| error::from_hyper(&e, &target))
                }
                (HeadBody::Lean, Route::Lean(conn, _)) => {
                    conn.read_body(keep).await.map_err(|e| e.failure(&target))
                }
                (HeadBody::Lean, _) => Err(error::protocol(&target, "response body lost its connection")),
            };
            let (kept, len) = match read {
                Ok(body) => body,
                Err(failure) => {
                    self.discard(lease);
                    p.timings.receive = first_byte.elapsed();
                    return Err(failure);
                }
            };
            let last_byte = Instant::now();
            p.timings.receive = last_byte - first_byte;
            p.timings.total = last_byte - start;
            self.checkin(session, lease);
            body_len += len;
            if let Some(next) = next {
                redirects += 1;
                if redirect::switches_to_get(status, &method) {
                    method = Method::GET;
                    body = Bytes::new();
                    redirect::drop_body_headers(&mut headers);
                }
                if !redirect::same_origin(&p.uri, &next) {
                    redirect::drop_origin_headers(&mut headers);
                }
                p.uri = next;
                continue;
            }
            let body = match kept {
                Some(raw) if decompress => Some(
                    decode::decode(&resp_headers, raw, decode::MAX_DECODED)
                        .map_err(|detail| error::protocol(&target, &detail))?,
                ),
                kept => kept,
            };
            return Ok(Response {
                status,
                headers: resp_headers,
                body,
                body_len,
                bytes_sent,
                timings: p.timings,
                version,
                redirects,
            });
        }
    }

    /// Takes a ready connection to `target`; the flag says whether it had been used before.
    async fn checkout(
        &self,
        session: &mut Session,
        target: &Target<'_>,
        t: &mut Timings,
    ) -> Result<(Lease, bool), Failure> {
        if let Some(pool) = &self.pool {
            let (lease, reused) = pool.checkout(&self.connector, target, t).await?;
            return Ok((Lease::Pool(lease), reused));
        }
        if let Some(i) = session.conns.iter().position(|c| c.origin.matches(target)) {
            let mut conn = session.conns.swap_remove(i);
            if !conn.is_closed() && conn.ready().await.is_ok() {
                return Ok((Lease::Own(conn), true));
            }
            // The server closed it while idle: open a new one below.
        }
        // Boxed: opening (DNS, TLS, hyper handshakes) is a large future that would otherwise make
        // every request's future, and each move of it, that much larger.
        let mut conn = Box::pin(self.connector.open(target, t)).await?;
        conn.ready().await.map_err(|e| error::from_hyper(&e, target))?;
        Ok((Lease::Own(conn), false))
    }

    /// Returns a connection after a complete response (dropping one the response closed).
    fn checkin(&self, session: &mut Session, lease: Lease) {
        match (lease, &self.pool) {
            (Lease::Own(conn), _) if !conn.reusable() => {}
            (Lease::Own(conn), _) => session.conns.push(conn),
            (Lease::Pool(lease), Some(pool)) => pool.checkin(lease),
            (Lease::Pool(_), None) => {}
        }
    }

    /// Drops a connection that failed.
    fn discard(&self, lease: Lease) {
        if let (Lease::Pool(lease), Some(pool)) = (lease, &self.pool) {
            pool.discard(lease);
        }
    }

    /// Sends one request and waits for the response head, retrying once on a new connection when
    /// a reused one turns out to be stale. Sets `t.wait`; adds to `bytes_sent`.
    async fn head(
        &self,
        session: &mut Session,
        target: &Target<'_>,
        x: &Exchange<'_>,
        mut headers: HeaderMap,
        t: &mut Timings,
        bytes_sent: &mut u64,
    ) -> Result<Head, Failure> {
        let mut may_retry = true;
        loop {
            let (mut lease, reused) = self.checkout(session, target, t).await?;
            let retry = may_retry && reused;
            let attempt = match lease.route() {
                Route::Lean(conn, host) => {
                    Self::attempt_lean(conn, host, target, x, &headers, retry, t, bytes_sent).await
                }
                Route::H1(sender, host) => {
                    // Keep a copy of the headers only when a retry may need them.
                    let hs = if retry { headers.clone() } else { std::mem::take(&mut headers) };
                    let req = build_request(x.method.clone(), x.uri, hs, x.body.clone(), Some(host));
                    *bytes_sent += request_size(&req, x.body.len());
                    Box::pin(Self::attempt_hyper(sender.send_request(req), target, retry, t)).await
                }
                Route::H2(sender) => {
                    let hs = if retry { headers.clone() } else { std::mem::take(&mut headers) };
                    let req = build_request(x.method.clone(), x.uri, hs, x.body.clone(), None);
                    *bytes_sent += request_size(&req, x.body.len());
                    Box::pin(Self::attempt_hyper(sender.send_request(req), target, retry, t)).await
                }
            };
            match attempt {
                Attempt::Head { status, version, headers, body, first_byte } => {
                    return Ok(Head { status, version, headers, body, lease, first_byte });
                }
                Attempt::Stale => {
                    self.discard(lease);
                    may_retry = false;
                }
                Attempt::Failed(failure) => {
                    self.discard(lease);
                    return Err(failure);
                }
            }
        }
    }

    /// One attempt on the lean HTTP/1.1 path: render and write the request, read the response
    /// head. Sets `t.wait` (first byte − written); adds to `bytes_sent`.
    #[allow(clippy::too_many_arguments)]
    async fn attempt_lean(
        conn: &mut h1::H1Conn,
        host: &HeaderValue,
        target: &Target<'_>,
        x: &Exchange<'_>,
        headers: &HeaderMap,
        retry: bool,
        t: &mut Timings,
        bytes_sent: &mut u64,
    ) -> Attempt {
        *bytes_sent += conn.render(x.method, x.uri, headers, host, x.body);
        let written = match conn.write(x.body).await {
            Ok(written) => written,
            Err(e) if retry && e.is_stale() => return Attempt::Stale,
            Err(e) => {
                t.wait = Duration::ZERO;
                return Attempt::Failed(e.failure(target));
            }
        };
        match conn.read_head(*x.method == Method::HEAD, x.skip_headers).await {
            Ok(head) => {
                t.wait = head.first_byte.saturating_duration_since(written);
                Attempt::Head {
                    status: head.status,
                    version: head.version,
                    headers: head.headers,
                    body: HeadBody::Lean,
                    first_byte: head.first_byte,
                }
            }
            Err(e) if retry && e.is_stale() => Attempt::Stale,
            Err(e) => {
                t.wait = written.elapsed();
                Attempt::Failed(e.failure(target))
            }
        }
    }

    /// One attempt through hyper: `send` is the request handed to hyper. Sets `t.wait`.
    async fn attempt_hyper(
        send: impl std::future::Future<Output = Result<http::Response<Incoming>, hyper::Error>>,
        target: &Target<'_>,
        retry: bool,
        t: &mut Timings,
    ) -> Attempt {
        let ready = Instant::now();
        match send.await {
            Ok(head) => {
                let first_byte = Instant::now();
                t.wait = first_byte - ready;
                let (parts, body) = head.into_parts();
                Attempt::Head {
                    status: parts.status,
                    version: parts.version,
                    headers: parts.headers,
                    body: HeadBody::Hyper(body),
                    first_byte,
                }
            }
            Err(e) if retry && error::is_stale_connection(&e) => Attempt::Stale,
            Err(e) => {
                t.wait = ready.elapsed();
                Attempt::Failed(error::from_hyper(&e, target))
            }
        }
    }
}

/// The parts of a request each attempt needs.
struct Exchange<'a> {
    method: &'a Method,
    uri: &'a Uri,
    body: &'a Bytes,
    /// See [`Request::skip_headers`].
    skip_headers: bool,
}

/// Builds the hyper request. `host` is `Some` for HTTP/1.1: the target is then written in origin
/// form (`/path?query`) and `Host` added when absent; HTTP/2 takes the absolute URI as is.
fn build_request(
    method: Method,
    uri: &Uri,
    headers: HeaderMap,
    body: Bytes,
    host: Option<&HeaderValue>,
) -> http::Request<ReqBody> {
    let mut req = http::Request::new(Full::new(body));
    *req.method_mut() = method;
    *req.headers_mut() = headers;
    match host {
        Some(host) => {
            *req.uri_mut() = match uri.path_and_query() {
                Some(pq) => Uri::from(pq.clone()),
                None => Uri::from_static("/"),
            };
            if !req.headers().contains_key(HOST) {
                req.headers_mut().insert(HOST, host.clone());
            }
        }
        None => *req.uri_mut() = uri.clone(),
    }
    req
}

/// Approximate size of the request on the wire as HTTP/1.1: request line, headers (plus the
/// `content-length` hyper adds), blank line and body.
fn request_size(req: &http::Request<ReqBody>, body_len: usize) -> u64 {
    let target = req.uri().path_and_query().map_or(1, |pq| pq.as_str().len());
    let mut n = req.method().as_str().len() + 1 + target + " HTTP/1.1\r\n".len();
    for (name, value) in req.headers() {
        n += name.as_str().len() + value.len() + 4;
    }
    if body_len > 0 && !req.headers().contains_key(CONTENT_LENGTH) {
        n += "content-length: \r\n".len() + decimal_digits(body_len);
    }
    (n + 2 + body_len) as u64
}

fn decimal_digits(mut v: usize) -> usize {
    let mut d = 1;
    while v >= 10 {
        v /= 10;
        d += 1;
    }
    d
}

/// Reads a body to its end, counting data bytes; keeps them when `keep` (a single frame is kept
/// without copying).
async fn read_body(mut body: Incoming, keep: bool) -> Result<(Option<Bytes>, u64), hyper::Error> {
    let hint = body.size_hint().exact().unwrap_or(0);
    let mut len = 0u64;
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else { continue };
        len += data.len() as u64;
        if !keep || data.is_empty() {
            continue;
        }
        if let Some(buf) = joined.as_mut() {
            buf.extend_from_slice(&data);
        } else if let Some(f) = first.take() {
            let cap = usize::try_from(hint).unwrap_or(0).max(f.len() + data.len());
            let mut buf = BytesMut::with_capacity(cap);
            buf.extend_from_slice(&f);
            buf.extend_from_slice(&data);
            joined = Some(buf);
        } else {
            first = Some(data);
        }
    }
    let kept = keep.then(|| joined.map(BytesMut::freeze).or(first).unwrap_or_default());
    Ok((kept, len))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn http1_requests_use_origin_form_and_get_a_host() {
        let uri = Uri::from_static("http://h.example:8080/a/b?c=1");
        let host = HeaderValue::from_static("h.example:8080");
        let req = build_request(Method::GET, &uri, HeaderMap::new(), Bytes::new(), Some(&host));
        assert_eq!(req.uri().to_string(), "/a/b?c=1");
        assert_eq!(req.headers().get(HOST), Some(&host));
        // An explicit Host wins.
        let mut headers = HeaderMap::new();
        headers.insert(HOST, HeaderValue::from_static("other"));
        let req = build_request(Method::GET, &uri, headers, Bytes::new(), Some(&host));
        assert_eq!(req.headers().get(HOST).map(|v| v.as_bytes()), Some(&b"other"[..]));
        // HTTP/2 keeps the absolute URI and adds no Host.
        let req = build_request(Method::GET, &uri, HeaderMap::new(), Bytes::new(), None);
        assert_eq!(req.uri(), &uri);
        assert!(req.headers().get(HOST).is_none());
    }

    #[test]
    fn request_size_counts_line_headers_and_body() {
        let uri = Uri::from_static("http://h/x");
        let host = HeaderValue::from_static("h");
        let req =
            build_request(Method::POST, &uri, HeaderMap::new(), Bytes::from_static(b"hello"), Some(&host));
        // "POST /x HTTP/1.1\r\n" + "host: h\r\n" + "content-length: 5\r\n" + "\r\n" + "hello"
        let expected = "POST /x HTTP/1.1\r\nhost: h\r\ncontent-length: 5\r\n\r\nhello".len() as u64;
        assert_eq!(request_size(&req, 5), expected);
    }

    #[test]
    fn digits() {
        assert_eq!(decimal_digits(0), 1);
        assert_eq!(decimal_digits(9), 1);
        assert_eq!(decimal_digits(10), 2);
        assert_eq!(decimal_digits(12345), 5);
    }
}
