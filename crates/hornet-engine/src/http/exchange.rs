//! One request's exchange below [`HttpClient::send`]: the redirect chain, leasing a connection
//! (the session's own or the pool's) and giving it back, each attempt on the lean HTTP/1.1 path
//! or through hyper, and reading the body.

use std::time::{Duration, Instant};

use bytes::{Bytes, BytesMut};
use hornet_metrics::{ErrorKind, Timings};
use http::header::{ACCEPT_ENCODING, CONTENT_LENGTH, HOST, LOCATION};
use http::{HeaderMap, HeaderValue, Method, StatusCode, Uri, Version};
use http_body_util::{BodyExt, Full};
use hyper::body::{Body as _, Incoming};

use super::connection::{Conn, ReqBody, Route, Target};
use super::error::{self, Failure};
use super::pool::PoolLease;
use super::{
    ACCEPT_ENCODING_VALUE, HttpClient, Request, Response, Session, SharedHeaders, TraceContext, decode, h1,
    redirect,
};

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
pub(super) struct Progress {
    /// The URL of the current hop.
    pub(super) uri: Uri,
    pub(super) timings: Timings,
    /// Attempts that reached the wire on a stale connection and were sent again (see
    /// [`Response::resent`]).
    pub(super) resent: u8,
    /// Redirects followed so far (see [`Response::redirects`]).
    pub(super) redirects: u8,
    /// The statuses of the redirect responses received so far (see
    /// [`Response::redirect_statuses`]).
    pub(super) redirect_statuses: Vec<u16>,
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
    /// Failed before any response byte on a reused connection that may have been stale
    /// (closed by the server while idle).
    Stale {
        failure: Failure,
        seen: Seen,
    },
    Failed(Failure),
}

/// What the server may have seen of a request whose attempt failed on a stale connection.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Seen {
    /// No byte of it was written.
    Nothing,
    /// It was written, and the server said it did not process it (HTTP/2 `REFUSED_STREAM`, or a
    /// `GOAWAY` below its stream).
    Refused,
    /// It was written; the server may have read and acted on it.
    Maybe,
}

/// RFC 9110 §9.2.2: methods whose effect is the same sent once or twice, which a client may send
/// again after a connection failed before the response (`TRACE` and `CONNECT` are not sent here).
fn idempotent(method: &Method) -> bool {
    matches!(
        *method,
        Method::GET | Method::HEAD | Method::PUT | Method::DELETE | Method::OPTIONS | Method::TRACE
    )
}

impl HttpClient {
    /// Sends a request and the redirects it leads to; `p.uri` is the current hop's URL (the
    /// request's own `uri` field has been moved there). `req` is borrowed, not moved, so that its
    /// 320 bytes are not stored again in this future (a redirect changes its method, headers and
    /// body in place).
    pub(super) async fn chain(
        &self,
        session: &mut Session,
        req: &mut Request,
        start: Instant,
        p: &mut Progress,
    ) -> Result<Response, Failure> {
        let Request {
            method,
            uri: _,
            headers,
            body,
            keep_body,
            follow_redirects,
            decompress,
            skip_headers,
            trace,
            shared_headers,
        } = req;
        let (keep_body, follow_redirects, decompress, skip_headers) =
            (*keep_body, *follow_redirects, *decompress, *skip_headers);
        // Shared headers are written as rendered on the plain path; a request whose headers are
        // read or changed on the way (compression, cookies, redirects, hyper) has them merged in.
        if let Some(shared) = shared_headers.as_ref()
            && (shared.lines().is_none()
                || decompress
                || follow_redirects > 0
                || session.jar.used()
                || p.uri.scheme() != Some(&http::uri::Scheme::HTTP))
        {
            shared.merge_into(headers);
            *shared_headers = None;
        }
        if decompress && !headers.contains_key(ACCEPT_ENCODING) {
            headers.insert(ACCEPT_ENCODING, HeaderValue::from_static(ACCEPT_ENCODING_VALUE));
        }
        let mut bytes_sent = 0u64;
        let mut body_len = 0u64;
        loop {
            let redirects = p.redirects;
            let target = Target::parse(&p.uri)?;
            let may_follow = redirects < follow_redirects;
            // Keep the request's headers only when a further hop may need them.
            let mut hop_headers = if may_follow { headers.clone() } else { std::mem::take(headers) };
            session.jar.apply(&p.uri, &mut hop_headers);
            let x = Exchange {
                method,
                uri: &p.uri,
                body,
                skip_headers,
                trace: trace.as_ref(),
                shared: shared_headers.as_ref(),
            };
            let Head { status, version, headers: resp_headers, body: incoming, mut lease, first_byte } = self
                .head(session, &target, &x, &mut hop_headers, &mut p.timings, &mut bytes_sent, &mut p.resent)
                .await?;
            session.jar.store_response(&p.uri, &resp_headers);
            let status = status.as_u16();
            let location = if redirect::is_redirect(status) {
                resp_headers.get(LOCATION).and_then(|l| redirect::resolve(&p.uri, l))
            } else {
                None
            };
            // Following redirects, one more past the limit is an error (a loop), not the response.
            let too_many = follow_redirects > 0 && !may_follow && location.is_some();
            let next = if may_follow { location } else { None };
            // A redirect's body is read (so the connection can be reused) but never kept.
            let keep = (keep_body && next.is_none() && !too_many).then_some(self.max_kept_body);
            // A body that came in the read that brought the head ends when the head arrived: its
            // last byte is the first byte's read, and no clock reading is needed.
            let mut arrived = None;
            let read = match (incoming, lease.route()) {
                // Boxed, like hyper's send: the lean path's future stays small.
                (HeadBody::Hyper(incoming), _) => {
                    Box::pin(read_body(incoming, keep)).await.map_err(|e| error::from_hyper(&e, &target))
                }
                (HeadBody::Lean, Route::Lean(conn, _)) => {
                    if conn.body_buffered() {
                        arrived = Some(first_byte);
                    }
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
            let last_byte = arrived.unwrap_or_else(Instant::now);
            p.timings.receive = last_byte - first_byte;
            p.timings.total = last_byte - start;
            self.checkin(session, lease);
            body_len += len;
            if too_many {
                p.redirect_statuses.push(status);
                return Err(Failure::new(
                    ErrorKind::TooManyRedirects,
                    format!("more than {follow_redirects} redirects (the limit), the last from {}", p.uri),
                ));
            }
            if let Some(next) = next {
                p.redirects += 1;
                p.redirect_statuses.push(status);
                if redirect::switches_to_get(status, method) {
                    *method = Method::GET;
                    *body = Bytes::new();
                    redirect::drop_body_headers(headers);
                }
                if !redirect::same_origin(&p.uri, &next) {
                    redirect::drop_origin_headers(headers);
                }
                p.uri = next;
                continue;
            }
            let body_over_limit = keep.is_some() && kept.is_none();
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
                redirect_statuses: std::mem::take(&mut p.redirect_statuses),
                resent: p.resent,
                body_over_limit,
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
    /// a reused one turns out to be stale and sending it again cannot do what the server did not
    /// ask for: when nothing of it was written, the server refused it unprocessed, or its method
    /// is idempotent. A POST the server may have read is never sent twice: its failure is the
    /// request's. Sets `t.wait`; adds to `bytes_sent`, and to `resent` for an attempt that
    /// reached the wire and was sent again.
    #[allow(clippy::too_many_arguments)]
    async fn head(
        &self,
        session: &mut Session,
        target: &Target<'_>,
        x: &Exchange<'_>,
        headers: &mut HeaderMap,
        t: &mut Timings,
        bytes_sent: &mut u64,
        resent: &mut u8,
    ) -> Result<Head, Failure> {
        let mut may_retry = true;
        loop {
            let (mut lease, reused) = self.checkout(session, target, t).await?;
            let retry = may_retry && reused;
            let attempt = match lease.route() {
                Route::Lean(conn, host) => {
                    Self::attempt_lean(conn, host, target, x, headers, retry, t, bytes_sent).await
                }
                Route::H1(sender, host) => {
                    // Keep a copy of the headers only when a retry may need them.
                    let mut hs = if retry { headers.clone() } else { std::mem::take(headers) };
                    if let Some(shared) = x.shared {
                        shared.merge_into(&mut hs);
                    }
                    if let Some(trace) = x.trace {
                        trace.insert_into(&mut hs);
                    }
                    let req = build_request(x.method.clone(), x.uri, hs, x.body.clone(), Some(host));
                    *bytes_sent += request_size(&req, x.body.len());
                    Box::pin(Self::attempt_hyper(sender.try_send_request(req), target, retry, t)).await
                }
                Route::H2(sender) => {
                    let mut hs = if retry { headers.clone() } else { std::mem::take(headers) };
                    if let Some(shared) = x.shared {
                        shared.merge_into(&mut hs);
                    }
                    if let Some(trace) = x.trace {
                        trace.insert_into(&mut hs);
                    }
                    let req = build_request(x.method.clone(), x.uri, hs, x.body.clone(), None);
                    *bytes_sent += request_size(&req, x.body.len());
                    Box::pin(Self::attempt_hyper(sender.try_send_request(req), target, retry, t)).await
                }
            };
            match attempt {
                Attempt::Head { status, version, headers, body, first_byte } => {
                    return Ok(Head { status, version, headers, body, lease, first_byte });
                }
                Attempt::Stale { mut failure, seen } => {
                    self.discard(lease);
                    if seen == Seen::Maybe && !idempotent(x.method) {
                        failure.message.push_str(&format!(
                            " (on a kept-alive connection; not sent again: {} is not idempotent)",
                            x.method
                        ));
                        return Err(failure);
                    }
                    if seen != Seen::Nothing {
                        *resent = resent.saturating_add(1);
                    }
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
        *bytes_sent += conn.render(
            x.method,
            x.uri,
            x.shared.and_then(SharedHeaders::lines),
            headers,
            x.trace,
            host,
            x.body,
        );
        let written = match conn.write(x.body).await {
            Ok(written) => written,
            Err(e) if retry && e.is_stale() => {
                let seen = if matches!(e, h1::H1Error::Unwritten(_)) { Seen::Nothing } else { Seen::Maybe };
                return Attempt::Stale { failure: e.failure(target), seen };
            }
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
            Err(e) if retry && e.is_stale() => {
                Attempt::Stale { failure: e.failure(target), seen: Seen::Maybe }
            }
            Err(e) => {
                t.wait = written.elapsed();
                Attempt::Failed(e.failure(target))
            }
        }
    }

    /// One attempt through hyper: `send` is the request handed to hyper, which gives it back when
    /// it wrote none of it. Sets `t.wait`.
    async fn attempt_hyper(
        send: impl std::future::Future<
            Output = Result<
                http::Response<Incoming>,
                hyper::client::conn::TrySendError<http::Request<ReqBody>>,
            >,
        >,
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
            Err(mut e) => {
                let unwritten = e.take_message().is_some();
                let e = e.into_error();
                if retry && (unwritten || error::is_stale_connection(&e)) {
                    let seen = if unwritten {
                        Seen::Nothing
                    } else if error::is_refused_unprocessed(&e) {
                        Seen::Refused
                    } else {
                        Seen::Maybe
                    };
                    return Attempt::Stale { failure: error::from_hyper(&e, target), seen };
                }
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
    /// See [`Request::trace`].
    trace: Option<&'a TraceContext>,
    /// See [`Request::shared_headers`]; only on the plain path, where the lean connection writes
    /// their rendered lines.
    shared: Option<&'a SharedHeaders>,
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

/// Reads a body to its end, counting data bytes; keeps them when `keep` is `Some(limit)` and they
/// are no more than `limit` bytes (a single frame is kept without copying; a longer body is
/// counted, not kept: `None`).
async fn read_body(mut body: Incoming, keep: Option<usize>) -> Result<(Option<Bytes>, u64), hyper::Error> {
    let hint = body.size_hint().exact().unwrap_or(0);
    let limit = keep.unwrap_or(0);
    let mut keep = keep.is_some() && hint <= limit as u64;
    let mut len = 0u64;
    let mut first: Option<Bytes> = None;
    let mut joined: Option<BytesMut> = None;
    while let Some(frame) = body.frame().await {
        let Ok(data) = frame?.into_data() else { continue };
        len += data.len() as u64;
        if keep && len > limit as u64 {
            keep = false;
            first = None;
            joined = None;
        }
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
