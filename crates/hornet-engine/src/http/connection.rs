//! Opening and holding one HTTP connection: DNS (names resolved a moment ago are reused, see
//! [`Resolved`]), TCP connect, TLS handshake and the hyper HTTP/1.1 or HTTP/2 handshake, each
//! phase timed; the connection task runs on the thread's `LocalSet` and is aborted when the
//! [`Conn`] holding it is dropped. Plain `http://` connections skip hyper: they are lean
//! [`H1Conn`]s driven by the request itself (no task).

use std::fmt;
use std::future::Future;
use std::net::{IpAddr, SocketAddr};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hornet_metrics::{ErrorKind, Timings};
use http::{HeaderValue, Uri};
use http_body_util::Full;
use hyper::client::conn::{http1, http2};
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::{TcpSocket, TcpStream};
use tokio::task::JoinHandle;
use tokio_rustls::TlsConnector;

use super::error::{self, Failure, Phase};
use super::h1::H1Conn;
use super::resolve::Resolved;
use super::tls;

/// The body type the engine sends: one in-memory buffer, never copied.
pub(crate) type ReqBody = Full<Bytes>;

/// A request's destination, borrowed from its absolute URI.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Target<'a> {
    pub(crate) https: bool,
    /// Host without IPv6 brackets.
    pub(crate) host: &'a str,
    pub(crate) port: u16,
    /// `host[:port]` as written in the URI, without user info: the `Host` header.
    pub(crate) authority: &'a str,
}

impl<'a> Target<'a> {
    /// Reads the scheme, host and port of an absolute `http` or `https` URI.
    pub(crate) fn parse(uri: &'a Uri) -> Result<Target<'a>, Failure> {
        let https = match uri.scheme_str() {
            Some(s) if s.eq_ignore_ascii_case("http") => false,
            Some(s) if s.eq_ignore_ascii_case("https") => true,
            Some(s) => {
                return Err(Failure::new(
                    ErrorKind::InvalidUrl,
                    format!("unsupported scheme {s:?} in {uri}"),
                ));
            }
            None => return Err(Failure::new(ErrorKind::InvalidUrl, format!("url without scheme: {uri}"))),
        };
        // Split by hand: `Uri::host` and `Uri::port_u16` each search the authority again, which
        // showed in profiles of the request path. Same results for the URIs `http` accepts.
        let Some(authority) = uri.authority().map(|a| a.as_str()) else {
            return Err(Failure::new(ErrorKind::InvalidUrl, format!("url without host: {uri}")));
        };
        let authority = match authority.bytes().rposition(|b| b == b'@') {
            Some(at) => &authority[at + 1..],
            None => authority,
        };
        let (host, port) = match authority.strip_prefix('[') {
            Some(rest) => match rest.find(']') {
                Some(end) => (&rest[..end], rest[end + 1..].strip_prefix(':')),
                None => (rest, None),
            },
            None => match authority.bytes().position(|b| b == b':') {
                Some(colon) => (&authority[..colon], Some(&authority[colon + 1..])),
                None => (authority, None),
            },
        };
        if host.is_empty() {
            return Err(Failure::new(ErrorKind::InvalidUrl, format!("url without host: {uri}")));
        }
        let port = port.and_then(parse_port).unwrap_or(if https { 443 } else { 80 });
        Ok(Target { https, host, port, authority })
    }
}

/// A port number written in a URI, as `str::parse::<u16>` reads it (an optional `+`, digits,
/// at most 65535) without its generic code, which showed in profiles of the request path.
fn parse_port(text: &str) -> Option<u16> {
    let digits = text.strip_prefix('+').unwrap_or(text);
    if digits.is_empty() {
        return None;
    }
    let mut port = 0u32;
    for b in digits.bytes() {
        if !b.is_ascii_digit() {
            return None;
        }
        port = port * 10 + u32::from(b - b'0');
        if port > u32::from(u16::MAX) {
            return None;
        }
    }
    u16::try_from(port).ok()
}

impl fmt::Display for Target<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.host.contains(':') {
            write!(f, "[{}]:{}", self.host, self.port)
        } else {
            write!(f, "{}:{}", self.host, self.port)
        }
    }
}

/// The owned identity of an origin: connections are reused only for the same scheme, host, port.
#[derive(Debug, Clone)]
pub(crate) struct Origin {
    https: bool,
    host: Box<str>,
    port: u16,
}

impl Origin {
    pub(crate) fn of(target: &Target<'_>) -> Origin {
        Origin { https: target.https, host: target.host.into(), port: target.port }
    }

    /// True when `target` is this origin (host compared case-insensitively).
    pub(crate) fn matches(&self, target: &Target<'_>) -> bool {
        // The exact comparison first: a VU's requests usually name the host as its connection did.
        self.port == target.port
            && self.https == target.https
            && (*self.host == *target.host || self.host.eq_ignore_ascii_case(target.host))
    }

    /// True when both name the same origin.
    pub(crate) fn same(&self, other: &Origin) -> bool {
        self.port == other.port && self.https == other.https && self.host.eq_ignore_ascii_case(&other.host)
    }
}

/// Aborts the spawned hyper connection task when dropped, which closes the socket (a lean
/// connection has no task).
#[derive(Debug)]
pub(crate) struct TaskGuard(Option<JoinHandle<()>>);

impl Drop for TaskGuard {
    fn drop(&mut self) {
        if let Some(task) = &self.0 {
            task.abort();
        }
    }
}

/// The request side of a connection.
#[derive(Debug)]
pub(crate) enum Sender {
    H1(http1::SendRequest<ReqBody>),
    H2(http2::SendRequest<ReqBody>),
    /// A plain-TCP HTTP/1.1 connection without hyper.
    Lean(Box<H1Conn>),
}

/// How a request goes out on a leased connection.
pub(crate) enum Route<'a> {
    /// The lean HTTP/1.1 path, with the connection's `Host` value.
    Lean(&'a mut H1Conn, &'a HeaderValue),
    /// hyper's HTTP/1.1 client, with the connection's `Host` value.
    H1(&'a mut http1::SendRequest<ReqBody>, &'a HeaderValue),
    /// hyper's HTTP/2 client.
    H2(&'a mut http2::SendRequest<ReqBody>),
}

/// An open connection to one origin.
#[derive(Debug)]
pub(crate) struct Conn {
    pub(crate) origin: Origin,
    pub(crate) sender: Sender,
    /// The `Host` header for HTTP/1.1 requests, rendered once per connection.
    pub(crate) host_header: HeaderValue,
    pub(crate) guard: TaskGuard,
}

impl Conn {
    /// True when the connection task has ended (the server closed it, or it failed), or a lean
    /// connection may not carry another request (see [`H1Conn::idle_and_open`]).
    pub(crate) fn is_closed(&self) -> bool {
        match &self.sender {
            Sender::H1(s) => s.is_closed(),
            Sender::H2(s) => s.is_closed(),
            Sender::Lean(c) => !c.idle_and_open(),
        }
    }

    /// False when the connection must not be kept after its last exchange (a lean connection
    /// whose response closed it, or that was left mid-exchange); hyper connections close
    /// themselves and are then seen as closed at checkout.
    pub(crate) fn reusable(&self) -> bool {
        match &self.sender {
            Sender::Lean(c) => c.reusable(),
            Sender::H1(_) | Sender::H2(_) => true,
        }
    }

    /// Waits until the connection can take a request; fails when it has been closed.
    pub(crate) async fn ready(&mut self) -> Result<(), hyper::Error> {
        match &mut self.sender {
            Sender::H1(s) => s.ready().await,
            Sender::H2(s) => s.ready().await,
            Sender::Lean(_) => Ok(()),
        }
    }

    pub(crate) fn is_h2(&self) -> bool {
        matches!(self.sender, Sender::H2(_))
    }

    /// How the next request goes out on this connection.
    pub(crate) fn route(&mut self) -> Route<'_> {
        match &mut self.sender {
            Sender::Lean(c) => Route::Lean(c, &self.host_header),
            Sender::H1(s) => Route::H1(s, &self.host_header),
            Sender::H2(s) => Route::H2(s),
        }
    }
}

/// The first wait for a file descriptor when a connection finds none; each next wait doubles.
const FILES_BACKOFF_FIRST: Duration = Duration::from_millis(10);
/// The last wait for a file descriptor before the connection fails as
/// [`ErrorKind::TooManyOpenFiles`] (10 + 20 + ... + 320 ms: 0.63 s in all).
const FILES_BACKOFF_LAST: Duration = Duration::from_millis(320);

/// Runs `connect` again while it fails for want of a file descriptor, waiting for one to be freed
/// from [`FILES_BACKOFF_FIRST`] to [`FILES_BACKOFF_LAST`] (0.63 s in all), then returns its last
/// result: virtual users that find no descriptor do not spin.
pub(crate) async fn backing_off_files<T, F>(mut connect: impl FnMut() -> F) -> std::io::Result<T>
where
    F: Future<Output = std::io::Result<T>>,
{
    let mut pause = FILES_BACKOFF_FIRST;
    loop {
        match connect().await {
            Err(e) if error::out_of_files(&e) && pause <= FILES_BACKOFF_LAST => {
                tokio::time::sleep(pause).await;
                pause *= 2;
            }
            done => return done,
        }
    }
}

/// Asks the kernel to pick the local port at `connect` rather than at `bind` (Linux
/// `IP_BIND_ADDRESS_NO_PORT`), so each source address can reuse ports across destinations.
fn bind_address_no_port(socket: &TcpSocket) {
    #[cfg(target_os = "linux")]
    {
        use std::os::fd::AsRawFd;
        let one: libc::c_int = 1;
        // SAFETY: sets an int socket option on a live socket; failure is harmless (ports are then
        // chosen at bind time).
        unsafe {
            libc::setsockopt(
                socket.as_raw_fd(),
                libc::IPPROTO_IP,
                libc::IP_BIND_ADDRESS_NO_PORT,
                (&raw const one).cast(),
                std::mem::size_of::<libc::c_int>() as libc::socklen_t,
            );
        }
    }
    #[cfg(not(target_os = "linux"))]
    let _ = socket;
}

/// Adds `d` to a phase that may not have happened yet.
fn add(phase: &mut Option<Duration>, d: Duration) {
    *phase = Some(phase.unwrap_or_default() + d);
}

/// Spawns hyper's connection futures on the current thread's `LocalSet`.
#[derive(Debug, Clone, Copy)]
pub(crate) struct LocalExec;

impl<F> hyper::rt::Executor<F> for LocalExec
where
    F: Future + 'static,
{
    fn execute(&self, fut: F) {
        // hyper's HTTP/2 client spawns a task per request, whose future is over a kilobyte;
        // tokio moves a task's future several times while spawning it, so a large one is boxed
        // first and the moves are of a pointer.
        if size_of::<F>() > 256 {
            tokio::task::spawn_local(Box::pin(fut));
        } else {
            tokio::task::spawn_local(fut);
        }
    }
}

/// What every connection of one client shares: TLS configuration, hyper builders and recently
/// resolved names.
#[derive(Clone)]
pub(crate) struct Connector {
    tls: TlsConnector,
    h1: http1::Builder,
    h2: http2::Builder<LocalExec>,
    /// Local addresses to bind new connections to, in turn, and the turn.
    sources: std::rc::Rc<[IpAddr]>,
    next_source: std::rc::Rc<std::cell::Cell<usize>>,
    /// Host names resolved a moment ago, and their addresses.
    resolved: std::rc::Rc<Resolved>,
}

impl Connector {
    pub(crate) fn new(insecure: bool, sources: Vec<IpAddr>) -> Result<Connector, rustls::Error> {
        let tls = TlsConnector::from(tls::client_config(insecure)?);
        Ok(Connector {
            tls,
            h1: http1::Builder::new(),
            h2: http2::Builder::new(LocalExec),
            sources: sources.into(),
            next_source: Default::default(),
            resolved: Default::default(),
        })
    }

    /// Connects to `addr` (see [`Connector::connect_once`]), waiting for a file descriptor when
    /// there is none (see [`backing_off_files`]).
    async fn connect(&self, addr: SocketAddr) -> std::io::Result<TcpStream> {
        backing_off_files(|| self.connect_once(addr)).await
    }

    /// Connects to `addr`, from the next source address of the same family when some are set.
    async fn connect_once(&self, addr: SocketAddr) -> std::io::Result<TcpStream> {
        let family = |ip: &&IpAddr| ip.is_ipv4() == addr.is_ipv4();
        let count = self.sources.iter().filter(family).count();
        if count == 0 {
            return TcpStream::connect(addr).await;
        }
        let turn = self.next_source.get();
        self.next_source.set(turn.wrapping_add(1));
        let Some(&source) = self.sources.iter().filter(family).nth(turn % count) else {
            return TcpStream::connect(addr).await;
        };
        let socket = if addr.is_ipv4() { TcpSocket::new_v4()? } else { TcpSocket::new_v6()? };
        bind_address_no_port(&socket);
        socket.bind(SocketAddr::new(source, 0))?;
        socket.connect(addr).await
    }

    /// Opens a connection to `target`, adding dns, connect and tls times to `t` (a request that
    /// follows redirects may open several connections; its phases are the sums).
    ///
    /// A plain `http://` connection is ready once connected; the TLS and hyper handshakes of an
    /// `https://` one run in a future of their own, boxed, so that this future (which every new
    /// connection boxes, see `HttpClient::checkout`) holds only the connect: a plain connection's
    /// box is then a few hundred bytes, not the size of a TLS handshake's state.
    pub(crate) async fn open(&self, target: &Target<'_>, t: &mut Timings) -> Result<Conn, Failure> {
        let host_header = HeaderValue::from_str(target.authority).map_err(|_| {
            Failure::new(ErrorKind::InvalidUrl, format!("invalid host {:?}", target.authority))
        })?;
        let tcp = self.connect_to(target, t).await?;
        // Requests are written whole; Nagle would only delay them.
        let _ = tcp.set_nodelay(true);
        let origin = Origin::of(target);
        if !target.https {
            let sender = Sender::Lean(Box::new(H1Conn::new(tcp)));
            return Ok(Conn { origin, sender, host_header, guard: TaskGuard(None) });
        }
        Box::pin(self.secure(tcp, target, t, origin, host_header)).await
    }

    /// Resolves `target`'s host unless it is an address (or was resolved a moment ago) and connects
    /// to it, adding the dns and connect times to `t`.
    async fn connect_to(&self, target: &Target<'_>, t: &mut Timings) -> Result<TcpStream, Failure> {
        let tcp = match target.host.parse::<IpAddr>() {
            Ok(ip) => {
                let addr = SocketAddr::new(ip, target.port);
                let t0 = Instant::now();
                let tcp = self.connect(addr).await.map_err(|e| error::from_io(&e, Phase::Connect, &addr))?;
                add(&mut t.connect, t0.elapsed());
                tcp
            }
            Err(_) => {
                let addrs = match self.resolved.recall(target.host, target.port, Instant::now()) {
                    Some(addrs) => addrs,
                    None => {
                        let t0 = Instant::now();
                        let addrs =
                            tokio::net::lookup_host((target.host, target.port)).await.map_err(|e| {
                                Failure::new(
                                    ErrorKind::Dns,
                                    format!("dns lookup failed ({}): {e}", target.host),
                                )
                            })?;
                        add(&mut t.dns, t0.elapsed());
                        self.resolved.remember(target.host, target.port, addrs.collect(), t0)
                    }
                };
                let t0 = Instant::now();
                let mut last = None;
                let mut stream = None;
                for addr in addrs {
                    match self.connect(addr).await {
                        Ok(s) => {
                            stream = Some(s);
                            break;
                        }
                        Err(e) => last = Some(error::from_io(&e, Phase::Connect, &addr)),
                    }
                }
                let tcp = match (stream, last) {
                    (Some(s), _) => s,
                    (None, Some(failure)) => {
                        self.resolved.forget(target.host, target.port);
                        return Err(failure);
                    }
                    (None, None) => {
                        return Err(Failure::new(
                            ErrorKind::Dns,
                            format!("dns lookup failed ({}): no addresses", target.host),
                        ));
                    }
                };
                add(&mut t.connect, t0.elapsed());
                tcp
            }
        };
        Ok(tcp)
    }

    /// The TLS handshake on `tcp` and hyper's HTTP/1.1 or HTTP/2 handshake after it (by ALPN),
    /// adding the tls time to `t`.
    async fn secure(
        &self,
        tcp: TcpStream,
        target: &Target<'_>,
        t: &mut Timings,
        origin: Origin,
        host_header: HeaderValue,
    ) -> Result<Conn, Failure> {
        let name = tls::server_name(target.host).ok_or_else(|| {
            Failure::new(ErrorKind::InvalidUrl, format!("invalid tls server name {:?}", target.host))
        })?;
        let t0 = Instant::now();
        let stream = self.tls.connect(name, tcp).await.map_err(|e| error::from_io(&e, Phase::Tls, target))?;
        add(&mut t.tls, t0.elapsed());
        let h2 = stream.get_ref().1.alpn_protocol() == Some(b"h2");
        let (sender, guard) = self.handshake(stream, h2, target).await?;
        Ok(Conn { origin, sender, host_header, guard })
    }

    /// Runs hyper's handshake on `io` and spawns the connection task.
    async fn handshake<T>(&self, io: T, h2: bool, target: &Target<'_>) -> Result<(Sender, TaskGuard), Failure>
    where
        T: AsyncRead + AsyncWrite + Unpin + 'static,
    {
        let io = TokioIo::new(io);
        if h2 {
            let (sender, conn) = self.h2.handshake(io).await.map_err(|e| error::from_hyper(&e, target))?;
            let task = tokio::task::spawn_local(async move {
                let _ = conn.await;
            });
            Ok((Sender::H2(sender), TaskGuard(Some(task))))
        } else {
            let (sender, conn) = self.h1.handshake(io).await.map_err(|e| error::from_hyper(&e, target))?;
            let task = tokio::task::spawn_local(async move {
                let _ = conn.await;
            });
            Ok((Sender::H1(sender), TaskGuard(Some(task))))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(s: &'static str) -> Result<(bool, String, u16, String), ErrorKind> {
        let uri = Uri::from_static(s);
        Target::parse(&uri)
            .map(|t| (t.https, t.host.to_owned(), t.port, t.authority.to_owned()))
            .map_err(|f| f.kind)
    }

    #[test]
    fn targets_parse_scheme_host_port() {
        assert_eq!(parse("http://a.example/x"), Ok((false, "a.example".into(), 80, "a.example".into())));
        assert_eq!(parse("https://a.example/"), Ok((true, "a.example".into(), 443, "a.example".into())));
        assert_eq!(parse("HTTP://h:8080/"), Ok((false, "h".into(), 8080, "h:8080".into())));
        assert_eq!(parse("http://[::1]:9/"), Ok((false, "::1".into(), 9, "[::1]:9".into())));
        assert_eq!(parse("http://user:pw@h:1/"), Ok((false, "h".into(), 1, "h:1".into())));
        assert_eq!(parse("http://u@[::1]/"), Ok((false, "::1".into(), 80, "[::1]".into())));
        assert_eq!(parse("http://h:/"), Ok((false, "h".into(), 80, "h:".into())));
    }

    #[test]
    fn ports_read_as_str_parse_reads_them() {
        for text in
            ["80", "0080", "000000080", "+8080", "65535", "65536", "99999999999", "", "+", "8a", "-1", " 1"]
        {
            assert_eq!(parse_port(text), text.parse::<u16>().ok(), "{text:?}");
        }
    }

    #[test]
    fn bad_targets_are_invalid_url() {
        assert_eq!(parse("ftp://h/"), Err(ErrorKind::InvalidUrl));
        assert_eq!(parse("/relative"), Err(ErrorKind::InvalidUrl));
    }

    #[test]
    fn opening_a_plain_connection_holds_no_tls_state() {
        // Every new connection's `open` future is boxed whole; the TLS and hyper handshakes are
        // boxed apart, so a plain connection's box is smaller than a TLS stream alone.
        let connector = Connector::new(false, Vec::new()).expect("connector");
        let uri = Uri::from_static("http://127.0.0.1:1/");
        let target = Target::parse(&uri).expect("parse");
        let mut timings = Timings::default();
        let open = size_of_val(&connector.open(&target, &mut timings));
        let tls_stream = size_of::<tokio_rustls::client::TlsStream<TcpStream>>();
        assert!(open < tls_stream, "open's future is {open} bytes, a TLS stream {tls_stream}");
    }

    #[test]
    fn origins_match_case_insensitively() {
        let uri = Uri::from_static("http://Example.com:81/");
        let t = Target::parse(&uri).expect("parse");
        let o = Origin::of(&t);
        let other = Uri::from_static("http://example.COM:81/x");
        assert!(o.matches(&Target::parse(&other).expect("parse")));
        let https = Uri::from_static("https://example.com:81/");
        assert!(!o.matches(&Target::parse(&https).expect("parse")));
        assert_eq!(t.to_string(), "Example.com:81");
    }
}
