//! The WebSocket client engine: opens a connection (TCP, TLS with rustls, HTTP/1.1 upgrade through
//! tokio-tungstenite), sends and receives messages, closes with a code, and classifies every failure
//! into an [`ErrorKind`] with a short message (a refused handshake names the HTTP status).
//!
//! A [`WsClient`] exists once per worker thread (it holds the TLS configuration); each virtual user
//! owns at most one [`Connection`]. Per-connection buffers are kept small (see [`READ_BUFFER`]) so
//! that tens of thousands of idle connections fit in memory.

mod error;

use std::sync::Arc;
use std::time::{Duration, Instant};

use bytes::Bytes;
use futures_util::{SinkExt, StreamExt};
use hornet_metrics::ErrorKind;
use http::{HeaderMap, HeaderValue, Uri};
use tokio::io::{AsyncRead, AsyncWrite};
use tokio::net::TcpStream;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, WebSocketConfig};
use tokio_tungstenite::tungstenite::{Message, Utf8Bytes};

pub use error::WsError;

use crate::http::EngineError;

/// Initial read buffer of a connection. tungstenite's default (128 KiB) would cost more than the
/// rest of a VU; the buffer grows as needed for larger messages.
pub const READ_BUFFER: usize = 4 * 1024;

/// The largest message accepted (16 MiB); a larger one is a protocol error.
pub const MAX_MESSAGE: usize = 16 * 1024 * 1024;

/// Close code recorded for a connection that ended without a close frame (RFC 6455 §7.1.5).
pub const ABNORMAL_CLOSE: u16 = 1006;

/// The byte stream under a WebSocket: plain TCP or TLS.
trait Io: AsyncRead + AsyncWrite + Unpin {}
impl<T: AsyncRead + AsyncWrite + Unpin> Io for T {}

/// The WebSocket engine of one worker thread, shared by its VUs (`Rc<WsClient>`).
pub struct WsClient {
    tls: tokio_rustls::TlsConnector,
}

impl std::fmt::Debug for WsClient {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("WsClient").finish_non_exhaustive()
    }
}

/// What a connection is opened with.
#[derive(Debug, Clone, Default)]
pub struct ConnectRequest {
    /// A `ws://` or `wss://` URL.
    pub uri: Uri,
    /// Extra headers of the upgrade request (cookies, authorization, ...).
    pub headers: HeaderMap,
    /// Subprotocols offered (`sec-websocket-protocol`), in order of preference.
    pub subprotocols: Vec<String>,
    /// Bound on TCP connect + TLS + upgrade.
    pub timeout: Duration,
}

/// One message received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    /// A text or binary message: its payload.
    Message(Bytes),
    /// The server closed the connection with this code (1005 when its close frame had none).
    Closed(u16),
}

/// What to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outgoing {
    /// A text message.
    Text(String),
    /// A binary message.
    Binary(Bytes),
}

impl Outgoing {
    /// The payload length in bytes.
    pub fn len(&self) -> usize {
        match self {
            Outgoing::Text(t) => t.len(),
            Outgoing::Binary(b) => b.len(),
        }
    }

    /// True for an empty payload.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// An open WebSocket connection.
pub struct Connection {
    stream: WebSocketStream<Box<dyn Io>>,
    /// TCP connect + TLS + upgrade.
    pub connect_time: Duration,
    /// The subprotocol the server chose, if any.
    pub subprotocol: Option<String>,
}

impl std::fmt::Debug for Connection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Connection")
            .field("connect_time", &self.connect_time)
            .field("subprotocol", &self.subprotocol)
            .finish_non_exhaustive()
    }
}

/// The tungstenite settings of every client connection: small buffers, bounded messages.
fn socket_config() -> WebSocketConfig {
    WebSocketConfig::default()
        .read_buffer_size(READ_BUFFER)
        .write_buffer_size(0)
        .max_message_size(Some(MAX_MESSAGE))
        .max_frame_size(Some(MAX_MESSAGE))
}

impl WsClient {
    /// A client; `insecure` accepts any TLS certificate (like the HTTP client's `--insecure`).
    pub fn new(insecure: bool) -> Result<WsClient, EngineError> {
        let shared = crate::http::tls_client_config(insecure)?;
        let mut config = (*shared).clone();
        // The upgrade is an HTTP/1.1 request: never negotiate h2.
        config.alpn_protocols = vec![b"http/1.1".to_vec()];
        Ok(WsClient { tls: tokio_rustls::TlsConnector::from(Arc::new(config)) })
    }

    /// Opens a connection: TCP, TLS for `wss://`, then the upgrade request with `req.headers` and
    /// `req.subprotocols`, all within `req.timeout`.
    pub async fn connect(&self, req: ConnectRequest) -> Result<Connection, WsError> {
        let started = Instant::now();
        let timeout = req.timeout;
        match tokio::time::timeout(timeout, self.open(req)).await {
            Ok(Ok((stream, subprotocol))) => {
                Ok(Connection { stream, connect_time: started.elapsed(), subprotocol })
            }
            Ok(Err(e)) => Err(e),
            Err(_) => Err(WsError::new(
                ErrorKind::Timeout,
                format!("connecting timed out after {}", error::secs(timeout)),
            )),
        }
    }

    async fn open(
        &self,
        req: ConnectRequest,
    ) -> Result<(WebSocketStream<Box<dyn Io>>, Option<String>), WsError> {
        let tls = match req.uri.scheme_str() {
            Some("ws") => false,
            Some("wss") => true,
            _ => {
                return Err(WsError::new(
                    ErrorKind::InvalidUrl,
                    format!("`{}` is not a ws:// or wss:// URL", req.uri),
                ));
            }
        };
        let Some(host) = req.uri.host() else {
            return Err(WsError::new(ErrorKind::InvalidUrl, format!("`{}` has no host", req.uri)));
        };
        let host = host.trim_start_matches('[').trim_end_matches(']').to_string();
        let port = req.uri.port_u16().unwrap_or(if tls { 443 } else { 80 });
        let tcp = crate::http::backing_off_files(|| TcpStream::connect((host.as_str(), port)))
            .await
            .map_err(|e| error::connect_error(&e, &host, port))?;
        let _ = tcp.set_nodelay(true);
        let io: Box<dyn Io> = if tls {
            let name = crate::http::tls_server_name(&host).ok_or_else(|| {
                WsError::new(ErrorKind::InvalidUrl, format!("`{host}` is not a valid TLS server name"))
            })?;
            let stream = self.tls.connect(name, tcp).await.map_err(|e| {
                WsError::new(ErrorKind::Tls, format!("TLS handshake with {host}:{port} failed: {e}"))
            })?;
            Box::new(stream)
        } else {
            Box::new(tcp)
        };
        let mut request = (&req.uri).into_client_request().map_err(error::classify)?;
        let headers = request.headers_mut();
        for (name, value) in &req.headers {
            headers.append(name.clone(), value.clone());
        }
        if !req.subprotocols.is_empty() {
            let joined = req.subprotocols.join(", ");
            let value = HeaderValue::from_str(&joined).map_err(|_| {
                WsError::new(ErrorKind::InvalidUrl, format!("invalid subprotocols `{joined}`"))
            })?;
            headers.insert(http::header::SEC_WEBSOCKET_PROTOCOL, value);
        }
        let (stream, response) =
            tokio_tungstenite::client_async_with_config(request, io, Some(socket_config()))
                .await
                .map_err(error::classify)?;
        let subprotocol = response
            .headers()
            .get(http::header::SEC_WEBSOCKET_PROTOCOL)
            .and_then(|v| v.to_str().ok())
            .map(str::to_string);
        Ok((stream, subprotocol))
    }
}

impl Connection {
    /// Sends one message; returns its payload length.
    pub async fn send(&mut self, message: Outgoing) -> Result<u64, WsError> {
        let len = message.len() as u64;
        let message = match message {
            Outgoing::Text(t) => Message::Text(Utf8Bytes::from(t)),
            Outgoing::Binary(b) => Message::Binary(b),
        };
        self.stream.send(message).await.map_err(error::classify)?;
        Ok(len)
    }

    /// The next text or binary message, or the server's close. Pings are answered (by
    /// tungstenite, on the next write or read) and skipped, like pongs. Cancel-safe: dropping the
    /// future loses no message.
    pub async fn recv(&mut self) -> Result<Incoming, WsError> {
        // Bounded: each iteration consumes one control frame from the peer.
        loop {
            let Some(next) = self.stream.next().await else {
                return Err(WsError::abnormal("the connection closed without a close frame"));
            };
            match next.map_err(error::classify)? {
                Message::Text(t) => return Ok(Incoming::Message(Bytes::from(t))),
                Message::Binary(b) => return Ok(Incoming::Message(b)),
                Message::Close(frame) => {
                    return Ok(Incoming::Closed(frame.map_or(1005, |f| u16::from(f.code))));
                }
                Message::Ping(_) | Message::Pong(_) | Message::Frame(_) => {}
            }
        }
    }

    /// Closes with `code`: sends the close frame, then reads until the server's close (messages
    /// still arriving are counted in `received`) or until `wait` has passed. Returns the code the
    /// server closed with (`code` when it answered without one or did not answer in time).
    pub async fn close(
        &mut self,
        code: u16,
        wait: Duration,
        received: &mut dyn FnMut(u64),
    ) -> Result<u16, WsError> {
        let frame = CloseFrame { code: CloseCode::from(code), reason: Utf8Bytes::default() };
        self.stream.close(Some(frame)).await.map_err(error::classify)?;
        let drain = async {
            // Bounded by `wait` (the timeout around it).
            loop {
                match self.stream.next().await {
                    Some(Ok(Message::Close(f))) => return Ok(f.map_or(code, |f| u16::from(f.code))),
                    Some(Ok(Message::Text(t))) => received(t.len() as u64),
                    Some(Ok(Message::Binary(b))) => received(b.len() as u64),
                    Some(Ok(_)) => {}
                    // The server closed the TCP connection right after its close frame.
                    None => return Ok(code),
                    Some(Err(e)) => {
                        let e = error::classify(e);
                        return if e.kind == ErrorKind::AbnormalClose { Ok(code) } else { Err(e) };
                    }
                }
            }
        };
        tokio::time::timeout(wait, drain).await.unwrap_or(Ok(code))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn outgoing_lengths() {
        assert_eq!(Outgoing::Text("héllo".into()).len(), 6);
        assert!(Outgoing::Binary(Bytes::new()).is_empty());
    }

    #[test]
    fn small_buffers() {
        let c = socket_config();
        assert_eq!(c.read_buffer_size, READ_BUFFER);
        assert_eq!(c.write_buffer_size, 0);
    }
}
