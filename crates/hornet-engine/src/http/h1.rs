//! The lean HTTP/1.1 client connection used for plain `http://` origins instead of hyper's http1
//! client (docs/design.md §7): the request is rendered into a per-connection buffer and written with
//! one write when it fits, the response head is parsed with `httparse` out of a per-connection read
//! buffer, and the body is framed (RFC 9112 §6.3: none, `content-length`, `chunked` or until
//! EOF), counted and, when asked, kept as a `Bytes` split off the read buffer.
//!
//! Owns [`H1Conn`] (the socket, its buffers and whether it may carry another request) and
//! [`H1Error`] (how an exchange failed: before any response byte, which may be a stale
//! keep-alive, after it, or a protocol violation). Connection set-up, pooling, redirects,
//! cookies, timeouts and error messages stay with the rest of the engine.
//!
//! One module on purpose, at about 800 lines with its tests: rendering a request, parsing the
//! head and the three body framings are one state machine over the connection's buffers, on the
//! path every plain-HTTP request takes. Kept together, its small helpers (header classification,
//! number rendering, framing checks) stay in one codegen unit, where they inline; a split would
//! first need the benchmarks to show that it costs nothing.

use std::fmt;
use std::io;
use std::mem::MaybeUninit;
use std::time::Instant;

use bytes::{Buf, Bytes, BytesMut};
use http::header::{CONTENT_ENCODING, CONTENT_LENGTH, HOST, LOCATION, SET_COOKIE, TRANSFER_ENCODING};
use http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, Uri, Version};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

use super::error::{self, Failure, Phase};

/// Initial (and usual) size of the read buffer: it lives as long as the connection, so it is most
/// of an idle keep-alive VU's memory (4 KiB: a typical response head and small body fit).
const READ_BUF: usize = 4 * 1024;
/// A read is attempted only with at least this much free room in the buffer.
const MIN_READ_ROOM: usize = 2 * 1024;
/// Largest response head (status line and headers).
const MAX_HEAD: usize = 64 * 1024;
/// Largest chunk-size line, extensions included.
const MAX_CHUNK_LINE: usize = 4 * 1024;
/// Largest trailer section of a chunked body.
const MAX_TRAILERS: usize = 64 * 1024;
/// Bodies up to this size are copied behind the head and written with it; larger ones are
/// written from their own buffer.
const INLINE_BODY: usize = 16 * 1024;
/// Headers parsed without a heap allocation.
const STACK_HEADERS: usize = 64;
/// Header names remembered by position per connection.
const NAME_CACHE: usize = 32;
/// The most a kept body with a `content-length` reserves at once (a length is not trusted).
const MAX_RESERVE: usize = 1024 * 1024;
/// A kept body larger than this takes the read buffer with it; the connection starts a new one.
const KEEP_BUF_LIMIT: usize = 64 * 1024;
/// The longest response head remembered to be recognised when it comes again ([`LastHead`]).
const REMEMBERED_HEAD: usize = 1024;

/// How the body of the current response is delimited.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Framing {
    Empty,
    Length(u64),
    Chunked,
    Eof,
}

/// A response head read by [`H1Conn::read_head`].
pub(crate) struct ResponseHead {
    pub(crate) status: StatusCode,
    pub(crate) version: Version,
    pub(crate) headers: HeaderMap,
    /// When the first bytes of the response arrived.
    pub(crate) first_byte: Instant,
}

/// How an exchange on an [`H1Conn`] failed.
#[derive(Debug)]
pub(crate) enum H1Error {
    /// Writing failed before any byte of the request was written: the server saw nothing.
    Unwritten(io::Error),
    /// Writing failed part way, or the connection failed or was closed before any response byte
    /// arrived: the server may have read (and acted on) the request.
    BeforeResponse(io::Error),
    /// The connection failed or was closed after response bytes arrived.
    Io(io::Error),
    /// The response is not valid HTTP/1.1.
    Protocol(&'static str),
}

impl H1Error {
    /// True when, on a reused connection, the server most likely never saw the request (stale
    /// keep-alive): mirrors `error::is_stale_connection`.
    pub(crate) fn is_stale(&self) -> bool {
        match self {
            H1Error::Unwritten(e) | H1Error::BeforeResponse(e) => matches!(
                e.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::NotConnected
            ),
            _ => false,
        }
    }

    /// The classified failure, described at `place`.
    pub(crate) fn failure(&self, place: &dyn fmt::Display) -> Failure {
        match self {
            H1Error::Unwritten(e) | H1Error::BeforeResponse(e) | H1Error::Io(e) => {
                error::from_io(e, Phase::Request, place)
            }
            H1Error::Protocol(detail) => error::protocol(place, detail),
        }
    }
}

fn closed(detail: &'static str) -> io::Error {
    io::Error::new(io::ErrorKind::UnexpectedEof, detail)
}

/// One plain-TCP HTTP/1.1 connection with its reused buffers. A request is [`render`]ed, then
/// [`write`]n; [`read_head`] and [`read_body`] read its response. It may carry another request
/// only when [`reusable`]: the last response was read to its end, allowed keep-alive and was not
/// followed by unexpected bytes. A connection dropped mid-exchange is simply closed.
///
/// [`render`]: H1Conn::render
/// [`write`]: H1Conn::write
/// [`read_head`]: H1Conn::read_head
/// [`read_body`]: H1Conn::read_body
/// [`reusable`]: H1Conn::reusable
pub(crate) struct H1Conn {
    io: TcpStream,
    /// The rendered request head (and a small body).
    wbuf: Vec<u8>,
    /// Whether the body goes out after `wbuf` from its own buffer.
    body_apart: bool,
    rbuf: BytesMut,
    /// Byte ranges (name start, name end, value start, value end) of the parsed headers.
    ranges: Vec<[usize; 4]>,
    /// The header names of the last responses by position, as received and parsed: a server
    /// sends the same names in the same order, and reusing them skips `HeaderName::from_bytes`.
    names: Vec<(Box<[u8]>, HeaderName)>,
    /// The response head parsed last, which `ranges` describe.
    last_head: LastHead,
    framing: Framing,
    keep_alive: bool,
    /// A request was written and its response not yet read to its end.
    busy: bool,
}

/// The response head a connection parsed last, byte for byte, and what was read from it. A server
/// answers the same request with the same head again and again (nginx's changes once a second, with
/// its `Date`), and a head equal to it byte for byte parses the same way: it is compared instead of
/// parsed, and its framing headers are not read again.
#[derive(Default)]
struct LastHead {
    /// The head's bytes; empty when it was longer than [`REMEMBERED_HEAD`] (nothing matches).
    bytes: Vec<u8>,
    code: u16,
    minor: u8,
    /// What its headers said about framing, and whether any header the engine keeps itself was
    /// among them; `None` until they were read without error.
    facts: Option<(FramingHeaders, bool)>,
}

impl fmt::Debug for H1Conn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("H1Conn")
            .field("peer", &self.io.peer_addr().ok())
            .field("keep_alive", &self.keep_alive)
            .field("busy", &self.busy)
            .finish_non_exhaustive()
    }
}

/// Parsed facts of a complete response head.
struct Parsed {
    len: usize,
    code: u16,
    minor: u8,
}

impl H1Conn {
    pub(crate) fn new(io: TcpStream) -> H1Conn {
        H1Conn {
            io,
            wbuf: Vec::with_capacity(512),
            body_apart: false,
            rbuf: BytesMut::with_capacity(READ_BUF),
            ranges: Vec::new(),
            names: Vec::new(),
            last_head: LastHead::default(),
            framing: Framing::Empty,
            keep_alive: true,
            busy: false,
        }
    }

    /// True when the connection may carry another request.
    pub(crate) fn reusable(&self) -> bool {
        self.keep_alive && !self.busy
    }

    /// True when an idle connection looks usable: reusable, and nothing (EOF, a reset, bytes
    /// nobody asked for) arrived since its last response. Costs no system call unless the socket
    /// was signalled readable since (tokio clears readiness after a short read).
    pub(crate) fn idle_and_open(&self) -> bool {
        if !self.reusable() {
            return false;
        }
        let mut probe = [0u8; 1];
        matches!(self.io.try_read(&mut probe), Err(e) if e.kind() == io::ErrorKind::WouldBlock)
    }

    /// Renders a request as hyper's http1 client would write it: request line with the
    /// origin-form target, `host` unless the headers have one, the `shared` header lines (see
    /// [`super::SharedHeaders`]: none of them is `host`, `content-length` or
    /// `transfer-encoding`), the headers, the `trace` context's
    /// `traceparent` and `baggage`, `content-length` for a non-empty body unless given (a given
    /// `transfer-encoding` makes the body one chunk instead), blank line. Returns the request's
    /// size on the wire, body included.
    #[allow(clippy::too_many_arguments)]
    pub(crate) fn render(
        &mut self,
        method: &Method,
        uri: &Uri,
        shared: Option<&[u8]>,
        headers: &HeaderMap,
        trace: Option<&super::TraceContext>,
        host: &HeaderValue,
        body: &[u8],
    ) -> u64 {
        let w = &mut self.wbuf;
        w.clear();
        w.extend_from_slice(method.as_str().as_bytes());
        w.push(b' ');
        match uri.path_and_query() {
            Some(pq) => {
                w.extend_from_slice(pq.path().as_bytes());
                if let Some(q) = pq.query() {
                    w.push(b'?');
                    w.extend_from_slice(q.as_bytes());
                }
            }
            None => w.push(b'/'),
        }
        w.extend_from_slice(b" HTTP/1.1\r\n");
        if !has(headers, &HOST) {
            push_header(w, b"host", host.as_bytes());
        }
        if let Some(lines) = shared {
            w.extend_from_slice(lines);
        }
        let chunked = !body.is_empty() && has(headers, &TRANSFER_ENCODING);
        for (name, value) in headers {
            // hyper drops a transfer-encoding without body, and a content-length with one.
            if (body.is_empty() && name == TRANSFER_ENCODING) || (chunked && name == CONTENT_LENGTH) {
                continue;
            }
            push_header(w, name.as_str().as_bytes(), value.as_bytes());
        }
        if let Some(trace) = trace {
            trace.write_lines(w);
        }
        if chunked {
            let last = headers.get_all(TRANSFER_ENCODING).iter().next_back();
            if !last.is_some_and(|v| ends_in_chunked(v.as_bytes())) {
                push_header(w, b"transfer-encoding", b"chunked");
            }
            w.extend_from_slice(b"\r\n");
            push_hex(w, body.len() as u64);
            w.extend_from_slice(b"\r\n");
            w.extend_from_slice(body);
            w.extend_from_slice(b"\r\n0\r\n\r\n");
            self.body_apart = false;
            return w.len() as u64;
        }
        if !body.is_empty() && !has(headers, &CONTENT_LENGTH) {
            w.extend_from_slice(b"content-length: ");
            push_decimal(w, body.len() as u64);
            w.extend_from_slice(b"\r\n");
        }
        w.extend_from_slice(b"\r\n");
        self.body_apart = body.len() > INLINE_BODY;
        if !self.body_apart {
            w.extend_from_slice(body);
        }
        (w.len() + if self.body_apart { body.len() } else { 0 }) as u64
    }

    /// Writes the rendered request (`body` is the one given to `render`); returns when it was
    /// written. A failure before the first byte was accepted is [`H1Error::Unwritten`].
    pub(crate) async fn write(&mut self, body: &[u8]) -> Result<Instant, H1Error> {
        self.busy = true;
        let body: &[u8] = if self.body_apart { body } else { &[] };
        let mut written = 0usize;
        for part in [&self.wbuf[..], body] {
            let mut rest = part;
            while !rest.is_empty() {
                match self.io.write(rest).await {
                    Ok(0) => return Err(H1Error::BeforeResponse(io::ErrorKind::WriteZero.into())),
                    Ok(n) => {
                        written += n;
                        rest = rest.get(n..).unwrap_or_default();
                    }
                    Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                    Err(e) if written == 0 => return Err(H1Error::Unwritten(e)),
                    Err(e) => return Err(H1Error::BeforeResponse(e)),
                }
            }
        }
        Ok(Instant::now())
    }

    /// Reads more bytes into the read buffer, making room first; 0 at EOF.
    async fn fill(&mut self) -> io::Result<usize> {
        if self.rbuf.capacity() - self.rbuf.len() < MIN_READ_ROOM {
            self.rbuf.reserve(READ_BUF);
        }
        self.io.read_buf(&mut self.rbuf).await
    }

    /// Reads more bytes of a response whose first bytes arrived; EOF is an error.
    async fn more(&mut self) -> Result<(), H1Error> {
        match self.fill().await {
            Ok(0) => Err(H1Error::Io(closed("connection closed before the response was complete"))),
            Ok(_) => Ok(()),
            Err(e) => Err(H1Error::Io(e)),
        }
    }

    /// Reads the final response head (interim 1xx responses are skipped) of the request just
    /// written; `head_request` says the request's method was HEAD (the response has no body).
    /// With `skip_headers`, the head's header map holds only the headers the engine acts on itself
    /// (`location`, `content-encoding`, `set-cookie`).
    pub(crate) async fn read_head(
        &mut self,
        head_request: bool,
        skip_headers: bool,
    ) -> Result<ResponseHead, H1Error> {
        let mut first_byte = None;
        let mut need = self.rbuf.is_empty();
        loop {
            if need {
                match self.fill().await {
                    Ok(0) if first_byte.is_none() => {
                        return Err(H1Error::BeforeResponse(closed("connection closed before the response")));
                    }
                    Ok(0) => {
                        return Err(H1Error::Io(closed(
                            "connection closed before the response head was complete",
                        )));
                    }
                    Ok(_) => {}
                    Err(e) if first_byte.is_none() => return Err(H1Error::BeforeResponse(e)),
                    Err(e) => return Err(H1Error::Io(e)),
                }
            }
            let first = *first_byte.get_or_insert_with(Instant::now);
            let Some(parsed) = self.parse()? else {
                if self.rbuf.len() > MAX_HEAD {
                    return Err(H1Error::Protocol("response head larger than 64 KB"));
                }
                need = true;
                continue;
            };
            if parsed.len > MAX_HEAD {
                return Err(H1Error::Protocol("response head larger than 64 KB"));
            }
            if (100..200).contains(&parsed.code) && parsed.code != 101 {
                self.rbuf.advance(parsed.len);
                need = self.rbuf.is_empty();
                continue;
            }
            return self.finish_head(&parsed, head_request, skip_headers, first);
        }
    }

    /// Parses the buffered bytes as a response head, recording header ranges; `None` when
    /// incomplete.
    fn parse(&mut self) -> Result<Option<Parsed>, H1Error> {
        let last = &self.last_head;
        if !last.bytes.is_empty() && self.rbuf.starts_with(&last.bytes) {
            return Ok(Some(Parsed { len: last.bytes.len(), code: last.code, minor: last.minor }));
        }
        let parsed = self.parse_anew()?;
        if let Some(p) = &parsed {
            let last = &mut self.last_head;
            last.bytes.clear();
            if p.len <= REMEMBERED_HEAD {
                last.bytes.extend_from_slice(&self.rbuf[..p.len]);
            }
            (last.code, last.minor, last.facts) = (p.code, p.minor, None);
        }
        Ok(parsed)
    }

    /// [`H1Conn::parse`] with `httparse`.
    fn parse_anew(&mut self) -> Result<Option<Parsed>, H1Error> {
        let mut stack = [const { MaybeUninit::<httparse::Header<'_>>::uninit() }; STACK_HEADERS];
        match parse_into(&self.rbuf, &mut stack, &mut self.ranges) {
            Err(httparse::Error::TooManyHeaders) => {}
            other => return other.map_err(parse_error),
        }
        // Every header line takes at least 3 bytes, which bounds the count.
        for n in [1024, MAX_HEAD / 3 + 1] {
            let mut heap: Vec<MaybeUninit<httparse::Header<'_>>> = Vec::with_capacity(n);
            heap.resize_with(n, MaybeUninit::uninit);
            match parse_into(&self.rbuf, &mut heap, &mut self.ranges) {
                Err(httparse::Error::TooManyHeaders) => {}
                other => return other.map_err(parse_error),
            }
        }
        Err(H1Error::Protocol("response head larger than 64 KB"))
    }

    /// Builds the head of a parsed final response and decides its body's framing and whether
    /// the connection stays open after it.
    fn finish_head(
        &mut self,
        parsed: &Parsed,
        head_request: bool,
        skip_headers: bool,
        first_byte: Instant,
    ) -> Result<ResponseHead, H1Error> {
        let status =
            StatusCode::from_u16(parsed.code).map_err(|_| H1Error::Protocol("invalid status code"))?;
        let version = if parsed.minor == 0 { Version::HTTP_10 } else { Version::HTTP_11 };
        let (headers, framing) = match self.last_head.facts {
            // The same head as the last one, none of whose headers is kept: nothing to read.
            Some((framing, false)) if skip_headers => {
                self.rbuf.advance(parsed.len);
                (HeaderMap::new(), framing)
            }
            _ => {
                let mut framing = FramingHeaders::default();
                let (headers, engine) = if skip_headers {
                    self.skim_head(parsed.len, &mut framing)?
                } else {
                    self.head_map(parsed.len, &mut framing)?
                };
                self.last_head.facts = Some((framing, engine));
                (headers, framing)
            }
        };
        self.keep_alive = !framing.close && (parsed.minor != 0 || framing.keep_alive);
        let code = parsed.code;
        self.framing = if head_request || code < 200 || code == 204 || code == 304 {
            Framing::Empty
        } else if framing.encoded {
            if framing.chunked { Framing::Chunked } else { Framing::Eof }
        } else {
            match framing.length {
                Some(0) => Framing::Empty,
                Some(n) => Framing::Length(n),
                None => Framing::Eof,
            }
        };
        if code == 101 || self.framing == Framing::Eof {
            self.keep_alive = false;
        }
        Ok(ResponseHead { status, version, headers, first_byte })
    }

    /// The header (name, value) of parsed header range `r` in `head`.
    fn header_at<'h>(
        head: &'h [u8],
        &[n0, n1, v0, v1]: &[usize; 4],
    ) -> Result<(&'h [u8], &'h [u8]), H1Error> {
        let raw = head.get(n0..n1).ok_or(H1Error::Protocol("invalid response header name"))?;
        let value = head.get(v0..v1).ok_or(H1Error::Protocol("invalid response header value"))?;
        Ok((raw, value))
    }

    /// With [`crate::http::Request::skip_headers`]: reads the framing headers of the parsed head of
    /// `len` bytes and drops it from the read buffer; the map holds only the headers the engine
    /// acts on itself, and the head is kept (as `Bytes` the values point into) only when it has one.
    /// Also says whether the head had a header the engine keeps.
    fn skim_head(&mut self, len: usize, framing: &mut FramingHeaders) -> Result<(HeaderMap, bool), H1Error> {
        let mut engine = false;
        for r in &self.ranges {
            let (raw, value) = Self::header_at(&self.rbuf[..len], r)?;
            let kind = known(raw);
            framing.note(&kind, value)?;
            engine |= matches!(kind, Known::Engine(_));
        }
        let mut headers = HeaderMap::new();
        if !engine {
            self.rbuf.advance(len);
            return Ok((headers, false));
        }
        let head = self.rbuf.split_to(len).freeze();
        for r in &self.ranges {
            let (raw, _) = Self::header_at(&head, r)?;
            if let Known::Engine(name) = known(raw) {
                let value = HeaderValue::from_maybe_shared(head.slice(r[2]..r[3]))
                    .map_err(|_| H1Error::Protocol("invalid response header value"))?;
                headers.append(name, value);
            }
        }
        Ok((headers, true))
    }

    /// Reads the parsed head of `len` bytes (taken off the read buffer) into a header map, noting
    /// its framing headers; also says whether it had a header the engine keeps.
    fn head_map(&mut self, len: usize, framing: &mut FramingHeaders) -> Result<(HeaderMap, bool), H1Error> {
        let mut engine = false;
        let head = self.rbuf.split_to(len).freeze();
        let mut headers = HeaderMap::try_with_capacity(self.ranges.len())
            .map_err(|_| H1Error::Protocol("too many response headers"))?;
        for (i, &[n0, n1, v0, v1]) in self.ranges.iter().enumerate() {
            let raw = head.get(n0..n1).ok_or(H1Error::Protocol("invalid response header name"))?;
            if v0 > v1 || v1 > head.len() {
                return Err(H1Error::Protocol("invalid response header value"));
            }
            let name = match self.names.get(i) {
                Some((seen, name)) if **seen == *raw => name.clone(),
                _ => {
                    let name = HeaderName::from_bytes(raw)
                        .map_err(|_| H1Error::Protocol("invalid response header name"))?;
                    let entry = (Box::from(raw), name.clone());
                    if i < self.names.len() {
                        self.names[i] = entry;
                    } else if i < NAME_CACHE {
                        self.names.push(entry);
                    }
                    name
                }
            };
            let value = HeaderValue::from_maybe_shared(head.slice(v0..v1))
                .map_err(|_| H1Error::Protocol("invalid response header value"))?;
            let kind = known(raw);
            framing.note(&kind, value.as_bytes())?;
            engine |= matches!(kind, Known::Engine(_));
            headers.try_append(name, value).map_err(|_| H1Error::Protocol("too many response headers"))?;
        }
        Ok((headers, engine))
    }

    /// True when the whole body of the response whose head was just read is already in the read
    /// buffer (or it has none): [`H1Conn::read_body`] will not read from the socket.
    pub(crate) fn body_buffered(&self) -> bool {
        match self.framing {
            Framing::Empty => true,
            Framing::Length(n) => self.rbuf.len() as u64 >= n,
            Framing::Chunked | Framing::Eof => false,
        }
    }

    /// Reads the body of the response whose head was just read, and returns the number of body
    /// bytes after transfer decoding and, when `keep` is `Some(limit)`, the body if it is no
    /// longer than `limit` bytes (a longer one is read to its end and counted, not kept: `None`).
    pub(crate) async fn read_body(&mut self, keep: Option<usize>) -> Result<(Option<Bytes>, u64), H1Error> {
        let out = match self.framing {
            Framing::Empty => (keep.map(|_| Bytes::new()), 0),
            Framing::Length(n) => self.read_length(n, keep).await?,
            Framing::Chunked => self.read_chunked(keep).await?,
            Framing::Eof => self.read_to_eof(keep).await?,
        };
        self.busy = false;
        if !self.rbuf.is_empty() {
            // Bytes nobody asked for: the connection's state is unknown.
            self.keep_alive = false;
        }
        Ok(out)
    }

    async fn read_length(&mut self, n: u64, keep: Option<usize>) -> Result<(Option<Bytes>, u64), H1Error> {
        if let Some(want) = keep.filter(|&limit| n <= limit as u64).and_then(|_| usize::try_from(n).ok()) {
            while self.rbuf.len() < want {
                let missing = want - self.rbuf.len();
                let room = self.rbuf.capacity() - self.rbuf.len();
                if room < missing.min(MIN_READ_ROOM) {
                    self.rbuf.reserve(missing.min(MAX_RESERVE));
                }
                match self.io.read_buf(&mut self.rbuf).await {
                    Ok(0) => {
                        return Err(H1Error::Io(closed("connection closed before the body was complete")));
                    }
                    Ok(_) => {}
                    Err(e) => return Err(H1Error::Io(e)),
                }
            }
            let body = self.rbuf.split_to(want).freeze();
            if want > KEEP_BUF_LIMIT && self.rbuf.is_empty() {
                // Leave the large buffer to the body alone, so the connection does not keep it.
                self.rbuf = BytesMut::new();
            }
            return Ok((Some(body), n));
        }
        let mut left = n;
        loop {
            let take = left.min(self.rbuf.len() as u64);
            self.rbuf.advance(take as usize);
            left -= take;
            if left == 0 {
                return Ok((None, n));
            }
            self.more().await?;
        }
    }

    async fn read_chunked(&mut self, keep: Option<usize>) -> Result<(Option<Bytes>, u64), H1Error> {
        let limit = keep.unwrap_or(0);
        let mut kept = keep.map(|_| BytesMut::new());
        let mut len = 0u64;
        loop {
            let size = loop {
                if self.rbuf.first().is_some_and(|b| !b.is_ascii_hexdigit()) {
                    return Err(H1Error::Protocol("invalid chunk size"));
                }
                match httparse::parse_chunk_size(&self.rbuf) {
                    Ok(httparse::Status::Complete((used, size))) => {
                        self.rbuf.advance(used);
                        break size;
                    }
                    Ok(httparse::Status::Partial) if self.rbuf.len() > MAX_CHUNK_LINE => {
                        return Err(H1Error::Protocol("chunk size line too long"));
                    }
                    Ok(httparse::Status::Partial) => self.more().await?,
                    Err(_) => return Err(H1Error::Protocol("invalid chunk size")),
                }
            };
            if size == 0 {
                break;
            }
            let mut left = size;
            loop {
                let take = left.min(self.rbuf.len() as u64) as usize;
                if kept.as_ref().is_some_and(|k| k.len() + take > limit) {
                    kept = None;
                }
                if let Some(k) = kept.as_mut() {
                    k.extend_from_slice(&self.rbuf[..take]);
                }
                self.rbuf.advance(take);
                left -= take as u64;
                len += take as u64;
                if left == 0 {
                    break;
                }
                self.more().await?;
            }
            while self.rbuf.len() < 2 {
                self.more().await?;
            }
            if &self.rbuf[..2] != b"\r\n" {
                return Err(H1Error::Protocol("invalid chunk terminator"));
            }
            self.rbuf.advance(2);
        }
        // Trailer fields, then the blank line that ends the body.
        let mut trailers = 0usize;
        loop {
            match self.rbuf.iter().position(|&b| b == b'\n') {
                Some(i) => {
                    trailers += i + 1;
                    if trailers > MAX_TRAILERS {
                        return Err(H1Error::Protocol("chunked trailers larger than 64 KB"));
                    }
                    let blank = i == 0 || (i == 1 && self.rbuf[0] == b'\r');
                    self.rbuf.advance(i + 1);
                    if blank {
                        break;
                    }
                }
                None if trailers + self.rbuf.len() > MAX_TRAILERS => {
                    return Err(H1Error::Protocol("chunked trailers larger than 64 KB"));
                }
                None => self.more().await?,
            }
        }
        Ok((kept.map(BytesMut::freeze), len))
    }

    async fn read_to_eof(&mut self, keep: Option<usize>) -> Result<(Option<Bytes>, u64), H1Error> {
        let mut keep = keep;
        let mut len = 0u64;
        loop {
            if keep.is_some_and(|limit| self.rbuf.len() > limit) {
                keep = None;
            }
            if keep.is_none() {
                len += self.rbuf.len() as u64;
                self.rbuf.clear();
            }
            match self.fill().await {
                Ok(0) => break,
                Ok(_) => {}
                Err(e) => return Err(H1Error::Io(e)),
            }
        }
        if keep.is_some_and(|limit| self.rbuf.len() <= limit) {
            let body = self.rbuf.split().freeze();
            let len = body.len() as u64;
            return Ok((Some(body), len));
        }
        len += self.rbuf.len() as u64;
        self.rbuf.clear();
        Ok((None, len))
    }
}

/// Parses `buf` as a response head with room for `headers.len()` headers; on success records the
/// byte ranges of the headers' names and values in `ranges`.
fn parse_into<'b>(
    buf: &'b [u8],
    headers: &mut [MaybeUninit<httparse::Header<'b>>],
    ranges: &mut Vec<[usize; 4]>,
) -> Result<Option<Parsed>, httparse::Error> {
    let mut resp = httparse::Response::new(&mut []);
    let len = match httparse::ParserConfig::default()
        .parse_response_with_uninit_headers(&mut resp, buf, headers)?
    {
        httparse::Status::Partial => return Ok(None),
        httparse::Status::Complete(len) => len,
    };
    let base = buf.as_ptr() as usize;
    // A slice's position in `buf`, or an empty range when it is empty and lies elsewhere.
    let range = |s: &[u8]| {
        (s.as_ptr() as usize)
            .checked_sub(base)
            .filter(|start| start + s.len() <= len)
            .map_or([0, 0], |start| [start, start + s.len()])
    };
    ranges.clear();
    for h in resp.headers.iter() {
        let [n0, n1] = range(h.name.as_bytes());
        let [v0, v1] = range(h.value);
        ranges.push([n0, n1, v0, v1]);
    }
    Ok(Some(Parsed { len, code: resp.code.unwrap_or(0), minor: resp.version.unwrap_or(1) }))
}

fn parse_error(e: httparse::Error) -> H1Error {
    H1Error::Protocol(match e {
        httparse::Error::Status => "invalid response status",
        httparse::Error::Version => "invalid response status line (not HTTP/1.x)",
        httparse::Error::HeaderName => "invalid response header name",
        httparse::Error::HeaderValue => "invalid response header value",
        httparse::Error::TooManyHeaders => "too many response headers",
        _ => "invalid response head",
    })
}

/// A `content-length` value: digits, or a list of equal digit strings.
fn parse_content_length(v: &[u8]) -> Option<u64> {
    let mut out: Option<u64> = None;
    for part in v.split(|&b| b == b',') {
        let part = part.trim_ascii();
        if part.is_empty() || part.len() > 19 || !part.iter().all(u8::is_ascii_digit) {
            return None;
        }
        let n = part.iter().fold(0u64, |n, &d| n * 10 + u64::from(d - b'0'));
        if out.is_some_and(|o| o != n) {
            return None;
        }
        out = Some(n);
    }
    out
}

/// What [`H1Conn::finish_head`] makes of a response header's name.
#[derive(Debug, PartialEq)]
enum Known {
    ContentLength,
    TransferEncoding,
    Connection,
    /// One the engine acts on itself, kept even with [`crate::http::Request::skip_headers`]:
    /// redirects, content decoding and the cookie jar.
    Engine(HeaderName),
    Other,
}

/// What a response head's framing headers say, header by header.
#[derive(Debug, Default, Clone, Copy)]
struct FramingHeaders {
    length: Option<u64>,
    /// A `transfer-encoding` header was present.
    encoded: bool,
    /// Its last coding is `chunked`.
    chunked: bool,
    close: bool,
    keep_alive: bool,
}

impl FramingHeaders {
    /// Takes in header `kind` (see [`known`]) with `value`. Inlined (as is `known`): called for
    /// every header of every response, and out of line they cost 180 instructions per response.
    #[inline(always)]
    fn note(&mut self, kind: &Known, value: &[u8]) -> Result<(), H1Error> {
        match kind {
            Known::ContentLength => {
                let n = parse_content_length(value).ok_or(H1Error::Protocol("invalid content-length"))?;
                if self.length.is_some_and(|l| l != n) {
                    return Err(H1Error::Protocol("conflicting content-length headers"));
                }
                self.length = Some(n);
            }
            Known::TransferEncoding => {
                self.encoded = true;
                self.chunked = ends_in_chunked(value);
            }
            Known::Connection => connection_tokens(value, &mut self.close, &mut self.keep_alive),
            Known::Engine(_) | Known::Other => {}
        }
        Ok(())
    }
}

/// Classifies a raw header name, comparing only with the names of its length.
#[inline(always)]
fn known(raw: &[u8]) -> Known {
    let is = |name: &[u8]| raw.eq_ignore_ascii_case(name);
    match raw.len() {
        8 if is(b"location") => Known::Engine(LOCATION),
        10 if is(b"connection") => Known::Connection,
        10 if is(b"set-cookie") => Known::Engine(SET_COOKIE),
        14 if is(b"content-length") => Known::ContentLength,
        16 if is(b"content-encoding") => Known::Engine(CONTENT_ENCODING),
        17 if is(b"transfer-encoding") => Known::TransferEncoding,
        _ => Known::Other,
    }
}

/// Notes `close` and `keep-alive` tokens of a `connection` header value.
fn connection_tokens(v: &[u8], close: &mut bool, keep_alive: &mut bool) {
    for token in v.split(|&b| b == b',') {
        let token = token.trim_ascii();
        *close |= token.eq_ignore_ascii_case(b"close");
        *keep_alive |= token.eq_ignore_ascii_case(b"keep-alive");
    }
}

/// True when a `transfer-encoding` value's last coding is `chunked`.
fn ends_in_chunked(v: &[u8]) -> bool {
    v.rsplit(|&b| b == b',').next().is_some_and(|last| last.trim_ascii().eq_ignore_ascii_case(b"chunked"))
}

/// `headers.contains_key(name)`; a request's few headers are compared in turn (a standard name
/// is one integer comparison), which costs less than hashing `name`.
#[inline]
fn has(headers: &HeaderMap, name: &HeaderName) -> bool {
    if headers.keys_len() <= 8 { headers.keys().any(|k| k == name) } else { headers.contains_key(name) }
}

pub(crate) fn push_header(w: &mut Vec<u8>, name: &[u8], value: &[u8]) {
    w.extend_from_slice(name);
    w.extend_from_slice(b": ");
    w.extend_from_slice(value);
    w.extend_from_slice(b"\r\n");
}

fn push_decimal(w: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 20];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b'0' + (v % 10) as u8;
        v /= 10;
        if v == 0 {
            break;
        }
    }
    w.extend_from_slice(&digits[i..]);
}

fn push_hex(w: &mut Vec<u8>, mut v: u64) {
    let mut digits = [0u8; 16];
    let mut i = digits.len();
    loop {
        i -= 1;
        digits[i] = b"0123456789abcdef"[(v & 15) as usize];
        v >>= 4;
        if v == 0 {
            break;
        }
    }
    w.extend_from_slice(&digits[i..]);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn header_names_the_skip_path_knows() {
        assert_eq!(known(b"Content-Length"), Known::ContentLength);
        assert_eq!(known(b"TRANSFER-ENCODING"), Known::TransferEncoding);
        assert_eq!(known(b"connection"), Known::Connection);
        assert_eq!(known(b"Set-Cookie"), Known::Engine(SET_COOKIE));
        assert_eq!(known(b"location"), Known::Engine(LOCATION));
        assert_eq!(known(b"Content-Encoding"), Known::Engine(CONTENT_ENCODING));
        // Same lengths as known names, different names.
        assert_eq!(known(b"x-powered"), Known::Other);
        assert_eq!(known(b"keep-alive"), Known::Other);
        assert_eq!(known(b"content-type"), Known::Other);
        assert_eq!(known(b"content-lengths"), Known::Other);
        assert_eq!(known(b""), Known::Other);
    }

    #[test]
    fn content_length_values() {
        assert_eq!(parse_content_length(b"42"), Some(42));
        assert_eq!(parse_content_length(b"7, 7"), Some(7));
        assert_eq!(parse_content_length(b"7, 8"), None);
        assert_eq!(parse_content_length(b"-1"), None);
        assert_eq!(parse_content_length(b""), None);
        assert_eq!(parse_content_length(b"99999999999999999999"), None);
        assert_eq!(parse_content_length(b"+5"), None);
    }

    #[test]
    fn chunked_is_the_last_coding() {
        assert!(ends_in_chunked(b"chunked"));
        assert!(ends_in_chunked(b"gzip, Chunked "));
        assert!(!ends_in_chunked(b"chunked, gzip"));
        assert!(!ends_in_chunked(b"gzip"));
    }

    #[test]
    fn numbers_render() {
        let mut w = Vec::new();
        push_decimal(&mut w, 0);
        w.push(b' ');
        push_decimal(&mut w, 1234567890);
        w.push(b' ');
        push_hex(&mut w, 0);
        w.push(b' ');
        push_hex(&mut w, 0x1f2e);
        assert_eq!(w, b"0 1234567890 0 1f2e");
    }

    #[test]
    fn parse_records_ranges_and_asks_for_more() {
        let mut ranges = Vec::new();
        let mut hs = [const { MaybeUninit::uninit() }; 4];
        assert!(matches!(parse_into(b"HTTP/1.1 200 OK\r\nA: b", &mut hs, &mut ranges), Ok(None)));
        let buf = b"HTTP/1.0 404 Nope\r\nServer: x\r\nEmpty:\r\n\r\nbody";
        let mut hs = [const { MaybeUninit::uninit() }; 4];
        let p = parse_into(buf, &mut hs, &mut ranges).expect("parse").expect("complete");
        assert_eq!((p.len, p.code, p.minor), (buf.len() - 4, 404, 0));
        assert_eq!(&buf[ranges[0][0]..ranges[0][1]], b"Server");
        assert_eq!(&buf[ranges[0][2]..ranges[0][3]], b"x");
        assert_eq!(ranges[1][2], ranges[1][3]);
        let mut hs = [const { MaybeUninit::uninit() }; 1];
        assert!(matches!(parse_into(buf, &mut hs, &mut ranges), Err(httparse::Error::TooManyHeaders)));
    }
}
