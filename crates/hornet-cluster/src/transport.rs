//! The transport: HTTP/2 (over TLS when the controller has a certificate). Each worker opens one
//! connection to the controller and one stream on it, `POST /hornet/v1/session` with content type
//! `application/x-ndjson`; the request body carries the worker's messages and the response body the
//! controller's, each a stream of [`Msg`] as one JSON object per line (see [`crate::protocol`] and
//! docs/distributed.md for the schema). Both bodies stay open for the whole session.
//!
//! - [`MsgReader`] reads messages from either body; it is cancel-safe (a partly received message is
//!   kept for the next call), so it can sit in a `select!` next to timers.
//! - [`MsgWriter`] queues messages onto the body this side sends.
//! - [`serve_connection`] (controller) and [`connect`] (worker) set up the two ends;
//!   [`server_tls`] and [`client_tls`] read the certificate, key and trusted CA files.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::path::Path;
use std::pin::Pin;
use std::sync::Arc;
use std::task::{Context, Poll};

use bytes::Bytes;
use http_body_util::BodyExt;
use hyper::body::{Body, Frame, Incoming};
use hyper::{Method, Request, Response, StatusCode};
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer, ServerName};
use tokio::net::TcpStream;
use tokio::sync::mpsc;
use tokio_rustls::{TlsAcceptor, TlsConnector};

use crate::protocol::{MAX_LINE, Msg, ReadError};

/// The path of the session stream.
pub const SESSION_PATH: &str = "/hornet/v1/session";
/// The content type of both bodies.
pub const CONTENT_TYPE: &str = "application/x-ndjson";

/// Messages queued ahead of the peer before [`MsgWriter::send`] waits.
const QUEUE: usize = 64;

/// A body fed from a channel: ends when every sender is dropped.
pub struct ChannelBody(mpsc::Receiver<Bytes>);

impl Body for ChannelBody {
    type Data = Bytes;
    type Error = Infallible;

    fn poll_frame(
        mut self: Pin<&mut Self>,
        cx: &mut Context<'_>,
    ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
        self.0.poll_recv(cx).map(|b| b.map(|b| Ok(Frame::data(b))))
    }
}

/// The sending half of a session.
#[derive(Clone)]
pub struct MsgWriter {
    tx: mpsc::Sender<Bytes>,
}

impl MsgWriter {
    /// A writer and the body it feeds.
    pub fn channel() -> (MsgWriter, ChannelBody) {
        let (tx, rx) = mpsc::channel(QUEUE);
        (MsgWriter { tx }, ChannelBody(rx))
    }

    /// Queues one message; fails once the stream is gone.
    pub async fn send(&self, msg: &Msg) -> std::io::Result<()> {
        self.send_line(encode(msg)?).await
    }

    /// Queues one message already encoded with [`encode`]; fails once the stream is gone.
    pub async fn send_line(&self, line: Bytes) -> std::io::Result<()> {
        self.tx.send(line).await.map_err(|_| std::io::ErrorKind::BrokenPipe.into())
    }
}

/// `msg` as one line of the stream: its JSON and a `\n`.
pub fn encode(msg: &Msg) -> std::io::Result<Bytes> {
    let mut line = serde_json::to_vec(msg).map_err(std::io::Error::other)?;
    line.push(b'\n');
    Ok(Bytes::from(line))
}

/// The receiving half of a session: messages parsed from a body, one per line.
pub struct MsgReader<B = Incoming> {
    body: B,
    buf: Vec<u8>,
    /// How much of `buf` is known to hold no newline.
    scanned: usize,
    ended: bool,
    /// The longest line accepted.
    limit: u64,
    /// When the last bytes arrived.
    last_bytes: Option<tokio::time::Instant>,
}

impl<B> MsgReader<B>
where
    B: Body<Data = Bytes> + Unpin,
    B::Error: std::fmt::Display,
{
    /// A reader of the messages in `body`, accepting lines up to [`MAX_LINE`] bytes.
    pub fn new(body: B) -> MsgReader<B> {
        MsgReader { body, buf: Vec::new(), scanned: 0, ended: false, limit: MAX_LINE, last_bytes: None }
    }

    /// Sets the longest line accepted from now on (a line over it fails with
    /// [`ReadError::TooLong`] once that many bytes arrived, without buffering the rest).
    pub fn set_limit(&mut self, limit: u64) {
        self.limit = limit;
    }

    /// When the last bytes of the stream arrived, whole messages or part of one (a large plan
    /// takes a while to arrive: the peer is not silent meanwhile).
    pub fn last_bytes(&self) -> Option<tokio::time::Instant> {
        self.last_bytes
    }

    /// The next message; `Ok(None)` when the stream ended. Cancel-safe.
    pub async fn recv(&mut self) -> Result<Option<Msg>, ReadError> {
        loop {
            if let Some(at) = self.buf[self.scanned..].iter().position(|&b| b == b'\n') {
                let end = self.scanned + at;
                let parsed = serde_json::from_slice(&self.buf[..end]);
                self.buf.drain(..=end);
                self.scanned = 0;
                return Ok(Some(parsed?));
            }
            self.scanned = self.buf.len();
            if self.buf.len() as u64 > self.limit {
                return Err(ReadError::TooLong(self.limit));
            }
            if self.ended {
                return Ok(None);
            }
            match self.body.frame().await {
                Some(Ok(frame)) => {
                    if let Ok(data) = frame.into_data() {
                        self.buf.extend_from_slice(&data);
                        self.last_bytes = Some(tokio::time::Instant::now());
                    }
                }
                Some(Err(e)) => return Err(ReadError::Io(std::io::Error::other(e.to_string()))),
                None => self.ended = true,
            }
        }
    }
}

/// A new session accepted by the controller: who opened it, and its two halves.
pub struct Session {
    /// The worker's address.
    pub peer: SocketAddr,
    /// Messages from the worker.
    pub reader: MsgReader,
    /// Messages to the worker.
    pub writer: MsgWriter,
}

/// Serves one accepted connection (HTTP/2, or HTTP/1.1 for a person pointing a browser or curl at
/// it); every session stream opened on it goes to `on_session`. A connection that has opened no
/// session [`FIRST_SESSION`] after it was accepted (TLS handshake included) is closed, so idle
/// connections cannot pile up and use up the controller's descriptors.
pub async fn serve_connection(
    stream: TcpStream,
    peer: SocketAddr,
    tls: Option<TlsAcceptor>,
    on_session: Arc<dyn Fn(Session) + Send + Sync>,
) {
    let _ = stream.set_nodelay(true);
    let opened = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let opened_here = opened.clone();
    let service = hyper::service::service_fn(move |req: Request<Incoming>| {
        let on_session = on_session.clone();
        let opened = opened_here.clone();
        async move {
            Ok::<_, Infallible>(route(req, peer, &|session| {
                opened.store(true, std::sync::atomic::Ordering::Relaxed);
                on_session(session);
            }))
        }
    });
    let idle_too_long = async {
        tokio::time::sleep(FIRST_SESSION).await;
        if opened.load(std::sync::atomic::Ordering::Relaxed) {
            std::future::pending::<()>().await;
        }
    };
    let serve = async {
        let builder = hyper_util::server::conn::auto::Builder::new(TokioExecutor::new());
        match tls {
            Some(acceptor) => {
                let Ok(Ok(io)) = tokio::time::timeout(HANDSHAKE, acceptor.accept(stream)).await else {
                    return;
                };
                let _ = builder.serve_connection(TokioIo::new(io), service).await;
            }
            None => {
                let _ = builder.serve_connection(TokioIo::new(stream), service).await;
            }
        }
    };
    // Dropping the connection's future closes it.
    tokio::select! {
        () = serve => {}
        () = idle_too_long => {}
    }
}

/// How long an accepted connection may go without opening a session.
pub const FIRST_SESSION: std::time::Duration = std::time::Duration::from_secs(5);

/// How long a TLS handshake may take.
const HANDSHAKE: std::time::Duration = std::time::Duration::from_secs(10);

type Reply = Response<http_body_util::Either<ChannelBody, http_body_util::Full<Bytes>>>;

fn route(req: Request<Incoming>, peer: SocketAddr, on_session: &dyn Fn(Session)) -> Reply {
    let text = |status: StatusCode, body: &'static str| {
        let mut r =
            Response::new(http_body_util::Either::Right(http_body_util::Full::new(Bytes::from(body))));
        *r.status_mut() = status;
        r.headers_mut()
            .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static("text/plain"));
        r
    };
    if req.uri().path() != SESSION_PATH {
        return text(
            StatusCode::NOT_FOUND,
            "This is a hornet controller. Workers join with `hornet worker --controller HOST:PORT`.\n",
        );
    }
    if req.method() != Method::POST {
        return text(StatusCode::METHOD_NOT_ALLOWED, "POST only\n");
    }
    let (writer, body) = MsgWriter::channel();
    on_session(Session { peer, reader: MsgReader::new(req.into_body()), writer });
    let mut r = Response::new(http_body_util::Either::Left(body));
    r.headers_mut()
        .insert(hyper::header::CONTENT_TYPE, hyper::header::HeaderValue::from_static(CONTENT_TYPE));
    r
}

/// Opens a session to the controller at `addr` (`host:port`), over TLS when `tls` is given
/// (`server_name` overrides the host the certificate must name). Failures after the TCP connection
/// was made (TLS, HTTP/2, a refusal) have the kind [`std::io::ErrorKind::InvalidData`]: trying again
/// will not help.
pub async fn connect(
    addr: &str,
    tls: Option<&TlsConnector>,
    server_name: Option<&str>,
) -> std::io::Result<(MsgReader, MsgWriter)> {
    let stream = TcpStream::connect(addr).await?;
    let _ = stream.set_nodelay(true);
    let fatal = |msg: String| std::io::Error::new(std::io::ErrorKind::InvalidData, msg);
    let builder = hyper::client::conn::http2::Builder::new(TokioExecutor::new());
    let plain_hint = "(if the controller uses TLS, give the worker --tls or --tls-ca)";
    let mut sender = match tls {
        Some(connector) => {
            let host = server_name.unwrap_or_else(|| host_of(addr));
            let name = ServerName::try_from(host.to_string())
                .map_err(|e| fatal(format!("`{host}` is not a valid TLS server name: {e}")))?;
            let io = tokio::time::timeout(HANDSHAKE, connector.connect(name, stream))
                .await
                .map_err(|_| fatal("the TLS handshake timed out".into()))?
                .map_err(|e| {
                    let untrusted = e
                        .get_ref()
                        .and_then(|inner| inner.downcast_ref::<rustls::Error>())
                        .is_some_and(|r| matches!(r, rustls::Error::InvalidCertificate(_)));
                    let hint = if untrusted {
                        "the controller's certificate is not trusted: give the worker its CA, or the \
                         certificate itself when self-signed, with --tls-ca (see docs/distributed.md)"
                    } else {
                        "does the controller run with --tls-cert?"
                    };
                    fatal(format!("TLS handshake failed: {e} ({hint})"))
                })?;
            let (sender, conn) =
                builder.handshake(TokioIo::new(io)).await.map_err(|e| fatal(e.to_string()))?;
            tokio::spawn(conn);
            sender
        }
        None => {
            let (sender, conn) =
                builder.handshake(TokioIo::new(stream)).await.map_err(|e| fatal(e.to_string()))?;
            tokio::spawn(conn);
            sender
        }
    };
    let (writer, body) = MsgWriter::channel();
    let scheme = if tls.is_some() { "https" } else { "http" };
    let req = Request::builder()
        .method(Method::POST)
        .uri(format!("{scheme}://{addr}{SESSION_PATH}"))
        .header(hyper::header::CONTENT_TYPE, CONTENT_TYPE)
        .body(body)
        .map_err(|e| fatal(e.to_string()))?;
    let resp = sender.send_request(req).await.map_err(|e| {
        let hint = if tls.is_none() { plain_hint } else { "" };
        fatal(format!("the controller did not answer the session request: {e} {hint}"))
    })?;
    if resp.status() != StatusCode::OK {
        return Err(fatal(format!(
            "the controller answered {} to {SESSION_PATH}: not a hornet controller of this version",
            resp.status()
        )));
    }
    Ok((MsgReader::new(resp.into_body()), writer))
}

/// The host part of `host:port` or `[v6]:port`.
fn host_of(addr: &str) -> &str {
    if let Some(rest) = addr.strip_prefix('[') {
        return rest.split(']').next().unwrap_or(rest);
    }
    addr.rsplit_once(':').map_or(addr, |(h, _)| h)
}

fn provider() -> Arc<rustls::crypto::CryptoProvider> {
    Arc::new(rustls::crypto::aws_lc_rs::default_provider())
}

/// The certificates in a PEM file (at least one).
fn read_certs(path: &Path) -> Result<Vec<CertificateDer<'static>>, String> {
    let certs = CertificateDer::pem_file_iter(path)
        .and_then(|it| it.collect::<Result<Vec<_>, _>>())
        .map_err(|e| format!("{}: cannot read PEM certificates: {e}", path.display()))?;
    if certs.is_empty() {
        return Err(format!("{}: no PEM certificate (-----BEGIN CERTIFICATE-----) found", path.display()));
    }
    Ok(certs)
}

/// The controller's TLS: its certificate chain and private key (PEM files).
pub fn server_tls(cert: &Path, key: &Path) -> Result<TlsAcceptor, String> {
    let certs = read_certs(cert)?;
    let key = PrivateKeyDer::from_pem_file(key)
        .map_err(|e| format!("{}: cannot read a PEM private key: {e}", key.display()))?;
    let mut config = rustls::ServerConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .map_err(|e| format!("the certificate and key do not make a TLS identity: {e}"))?;
    config.alpn_protocols = vec![b"h2".to_vec(), b"http/1.1".to_vec()];
    Ok(TlsAcceptor::from(Arc::new(config)))
}

/// The worker's TLS: trusts the CA certificates in `ca` (PEM; the controller's own certificate
/// when it is self-signed), or the public web PKI roots without it.
pub fn client_tls(ca: Option<&Path>) -> Result<TlsConnector, String> {
    let mut roots = rustls::RootCertStore::empty();
    match ca {
        Some(path) => {
            for c in read_certs(path)? {
                roots.add(c).map_err(|e| format!("{}: not a usable CA certificate: {e}", path.display()))?;
            }
        }
        None => roots.extend(webpki_roots::TLS_SERVER_ROOTS.iter().cloned()),
    }
    let mut config = rustls::ClientConfig::builder_with_provider(provider())
        .with_safe_default_protocol_versions()
        .map_err(|e| e.to_string())?
        .with_root_certificates(roots)
        .with_no_client_auth();
    config.alpn_protocols = vec![b"h2".to_vec()];
    Ok(TlsConnector::from(Arc::new(config)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::protocol::PROTOCOL;

    /// A body that yields the given chunks.
    struct Chunks(std::collections::VecDeque<Bytes>);
    impl Body for Chunks {
        type Data = Bytes;
        type Error = Infallible;
        fn poll_frame(
            mut self: Pin<&mut Self>,
            _: &mut Context<'_>,
        ) -> Poll<Option<Result<Frame<Bytes>, Infallible>>> {
            Poll::Ready(self.0.pop_front().map(|b| Ok(Frame::data(b))))
        }
    }

    #[tokio::test]
    async fn messages_split_across_frames_are_reassembled_and_bad_ones_named() {
        let msgs = [
            Msg::Challenge { nonce: "ab".into(), version: "0.1.0".into(), protocol: PROTOCOL },
            Msg::Control { factor: Some(1.5), stop: None },
            Msg::Heartbeat,
        ];
        let mut all = Vec::new();
        for m in &msgs {
            all.extend(serde_json::to_vec(m).unwrap());
            all.push(b'\n');
        }
        all.extend(b"{\"type\":\"nope\"}\n");
        // Three-byte frames: every message spans several.
        let chunks = all.chunks(3).map(Bytes::copy_from_slice).collect();
        let mut r = MsgReader::new(Chunks(chunks));
        for m in &msgs {
            assert_eq!(r.recv().await.unwrap().as_ref(), Some(m));
        }
        assert!(matches!(r.recv().await, Err(ReadError::Json(_))));
        assert!(r.recv().await.unwrap().is_none());
    }

    #[tokio::test]
    async fn a_line_over_the_limit_is_refused_once_the_limit_is_passed_without_reading_the_rest() {
        // 4 MiB without a newline, in 16 KiB frames, read with a 16 KiB limit.
        let frame = Bytes::from(vec![b'x'; 16 << 10]);
        let chunks = std::iter::repeat_n(frame, 256).collect();
        let mut r = MsgReader::new(Chunks(chunks));
        r.set_limit(crate::protocol::MAX_PRE_AUTH_LINE);
        assert!(matches!(r.recv().await, Err(ReadError::TooLong(limit)) if limit == 16 << 10));
        assert!(r.body.0.len() >= 254, "only {} frames left unread", r.body.0.len());
        assert!(r.buf.len() <= 32 << 10, "{} bytes buffered", r.buf.len());
    }

    #[tokio::test]
    async fn a_session_carries_messages_both_ways_over_http2() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let server = tokio::spawn(async move {
            let (stream, peer) = listener.accept().await.unwrap();
            let (tx, mut rx) = mpsc::unbounded_channel();
            let on: Arc<dyn Fn(Session) + Send + Sync> = Arc::new(move |s| {
                let _ = tx.send(s);
            });
            tokio::spawn(serve_connection(stream, peer, None, on));
            let mut s = rx.recv().await.unwrap();
            // Echo: answer each message with a heartbeat, then the same message.
            while let Some(m) = s.reader.recv().await.unwrap() {
                s.writer.send(&Msg::Heartbeat).await.unwrap();
                s.writer.send(&m).await.unwrap();
            }
        });
        let (mut r, w) = connect(&addr.to_string(), None, None).await.unwrap();
        let big = Msg::Error { message: "x".repeat(300_000) };
        for m in [Msg::Done, big] {
            w.send(&m).await.unwrap();
            assert_eq!(r.recv().await.unwrap(), Some(Msg::Heartbeat));
            assert_eq!(r.recv().await.unwrap(), Some(m));
        }
        drop(w);
        assert!(r.recv().await.unwrap().is_none(), "the controller's end closes after ours");
        server.await.unwrap();
    }

    #[test]
    fn hosts_are_taken_from_addresses() {
        assert_eq!(host_of("ctl.example:7070"), "ctl.example");
        assert_eq!(host_of("[::1]:7070"), "::1");
        assert_eq!(host_of("127.0.0.1:7070"), "127.0.0.1");
    }
}
