//! The HTTP client engine: sends one request over HTTP/1.1 or HTTP/2 (hyper's low-level
//! `client::conn` API on connections it opens itself) and measures each phase (design.md §3).
//!
//! An [`HttpClient`] exists once per worker thread and is shared by that thread's virtual users;
//! each virtual user keeps its connections in its own [`Session`] (one keep-alive connection per
//! origin, like a browser) unless the client was built with a pool, in which case connections are
//! borrowed from the client. Everything here runs on a single-threaded runtime: connection tasks
//! are spawned with `tokio::task::spawn_local`, so [`HttpClient::send`] must be called inside a
//! tokio `LocalSet` (or `LocalRuntime`).

mod connection;
mod error;
mod pool;
mod tls;

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use hornet_metrics::{ErrorKind, Timings};
use http::header::{CONTENT_LENGTH, HOST};
use http::{HeaderMap, HeaderValue, Method, Uri};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Incoming};

use connection::{Conn, Connector, ReqBody, Target};
use error::Failure;
use pool::{Pool, PoolLease};

pub use error::{EngineError, RequestError};

/// Settings of an [`HttpClient`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ClientConfig {
    /// Bound on a whole request: pool wait, connection set-up, request and full response body.
    pub timeout: Duration,
    /// Accept any TLS certificate (no chain or host name check).
    pub insecure: bool,
    /// When `Some(n)`, VUs share up to `n` connections per origin on this thread instead of
    /// each keeping its own.
    pub pool: Option<usize>,
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

/// Per-VU connection state. Without a pool the VU owns one keep-alive connection per origin;
/// with a pool it holds nothing. Dropping a `Session` closes its connections.
#[derive(Debug, Default)]
pub struct Session {
    conns: Vec<Conn>,
}

impl Session {
    /// A session with no connections yet.
    pub fn new() -> Session {
        Session { conns: Vec::new() }
    }

    /// Number of connections this session holds open for reuse.
    pub fn connections(&self) -> usize {
        self.conns.len()
    }
}

/// One request to send.
#[derive(Debug, Clone)]
pub struct Request {
    /// The method.
    pub method: Method,
    /// Absolute `http` or `https` URI.
    pub uri: Uri,
    /// Headers; `Host` is added for HTTP/1.1 when absent.
    pub headers: HeaderMap,
    /// The body; shared, never copied.
    pub body: Bytes,
    /// Keep the response body in memory (`Response::body`), or only count its bytes.
    pub keep_body: bool,
}

impl Request {
    /// A request without headers or body that does not keep the response body.
    pub fn new(method: Method, uri: Uri) -> Request {
        Request { method, uri, headers: HeaderMap::new(), body: Bytes::new(), keep_body: false }
    }
}

/// A complete response (the body has been read to its end).
#[derive(Debug, Clone)]
pub struct Response {
    /// Status code.
    pub status: u16,
    /// Response headers.
    pub headers: HeaderMap,
    /// The body, only when the request asked to keep it.
    pub body: Option<Bytes>,
    /// Body bytes received (after transfer decoding, before any content decoding).
    pub body_len: u64,
    /// Approximate bytes sent: request line, headers and body (all attempts when retried).
    pub bytes_sent: u64,
    /// Phase timings.
    pub timings: Timings,
    /// HTTP version of the response.
    pub version: http::Version,
}

/// A connection in use by one request.
enum Lease {
    /// A connection owned by the VU's session.
    Own(Conn),
    /// A connection borrowed from the client's pool.
    Pool(PoolLease),
}

impl Lease {
    async fn send(&mut self, req: http::Request<ReqBody>) -> Result<http::Response<Incoming>, hyper::Error> {
        match self {
            Lease::Own(conn) => conn.sender.send(req).await,
            Lease::Pool(lease) => lease.send(req).await,
        }
    }

    /// The `Host` value to add for HTTP/1.1; `None` on HTTP/2 (`:authority` comes from the URI).
    fn host_header(&self) -> Option<&HeaderValue> {
        match self {
            Lease::Own(conn) => (!conn.is_h2()).then_some(&conn.host_header),
            Lease::Pool(lease) => lease.host_header(),
        }
    }
}

impl HttpClient {
    /// Builds a client: TLS configuration and, when `cfg.pool` is set, an empty pool.
    pub fn new(cfg: &ClientConfig) -> Result<HttpClient, EngineError> {
        if cfg.pool == Some(0) {
            return Err(EngineError::EmptyPool);
        }
        Ok(HttpClient {
            connector: Connector::new(cfg.insecure)?,
            timeout: cfg.timeout,
            pool: cfg.pool.map(Pool::new),
        })
    }

    /// Sends `req` and reads the whole response, reusing the session's (or the pool's) connection
    /// to the origin when it is still open. A request that fails on a reused connection before any
    /// response arrives (stale keep-alive) is retried once on a new connection, whatever its method,
    /// as browsers do. Must run inside a tokio `LocalSet` or `LocalRuntime` (connection tasks are
    /// spawned with `spawn_local`).
    pub async fn send(&self, session: &mut Session, req: Request) -> Result<Response, RequestError> {
        let start = Instant::now();
        let mut timings = Timings::default();
        let Request { method, uri, headers, body, keep_body } = req;
        let target = match Target::parse(&uri) {
            Ok(target) => target,
            Err(failure) => {
                timings.total = start.elapsed();
                return Err(failure.into_request_error(timings));
            }
        };
        let deadline = tokio::time::Instant::from_std(start) + self.timeout;
        let exchange = Exchange { method, uri: &uri, headers, body, keep_body, start };
        let result =
            tokio::time::timeout_at(deadline, self.exchange(session, &target, exchange, &mut timings)).await;
        match result {
            Ok(Ok(response)) => Ok(response),
            Ok(Err(failure)) => {
                timings.total = start.elapsed();
                Err(failure.into_request_error(timings))
            }
            Err(_) => {
                timings.total = start.elapsed();
                let message = format!("timed out after {:?} ({target})", self.timeout);
                Err(RequestError { kind: ErrorKind::Timeout, message, timings })
            }
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
        let mut conn = self.connector.open(target, t).await?;
        conn.ready().await.map_err(|e| error::from_hyper(&e, target))?;
        Ok((Lease::Own(conn), false))
    }

    /// Returns a connection after a complete response.
    fn checkin(&self, session: &mut Session, lease: Lease) {
        match (lease, &self.pool) {
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

    async fn exchange(
        &self,
        session: &mut Session,
        target: &Target<'_>,
        mut x: Exchange<'_>,
        t: &mut Timings,
    ) -> Result<Response, Failure> {
        let mut bytes_sent = 0u64;
        let mut may_retry = true;
        loop {
            let (mut lease, reused) = self.checkout(session, target, t).await?;
            let retry = may_retry && reused;
            // Keep a copy of the headers only when a retry may need them.
            let headers = if retry { x.headers.clone() } else { std::mem::take(&mut x.headers) };
            let req = build_request(x.method.clone(), x.uri, headers, x.body.clone(), lease.host_header());
            bytes_sent += request_size(&req, x.body.len());
            let ready = Instant::now();
            let head = match lease.send(req).await {
                Ok(head) => head,
                Err(e) => {
                    self.discard(lease);
                    if retry && error::is_stale_connection(&e) {
                        may_retry = false;
                        continue;
                    }
                    t.wait = ready.elapsed();
                    return Err(error::from_hyper(&e, target));
                }
            };
            let first_byte = Instant::now();
            t.wait = first_byte - ready;
            let (parts, incoming) = head.into_parts();
            let body = match read_body(incoming, x.keep_body).await {
                Ok(body) => body,
                Err(e) => {
                    self.discard(lease);
                    t.receive = first_byte.elapsed();
                    return Err(error::from_hyper(&e, target));
                }
            };
            let last_byte = Instant::now();
            t.receive = last_byte - first_byte;
            t.total = last_byte - x.start;
            self.checkin(session, lease);
            return Ok(Response {
                status: parts.status.as_u16(),
                headers: parts.headers,
                body: body.0,
                body_len: body.1,
                bytes_sent,
                timings: *t,
                version: parts.version,
            });
        }
    }
}

/// The parts of a request an attempt needs.
struct Exchange<'a> {
    method: Method,
    uri: &'a Uri,
    headers: HeaderMap,
    body: Bytes,
    keep_body: bool,
    start: Instant,
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
