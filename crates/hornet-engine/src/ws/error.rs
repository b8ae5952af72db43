//! Errors of the WebSocket engine and their classification into [`ErrorKind`]s: a refused upgrade
//! (with the HTTP status), TCP and TLS failures, protocol violations, and connections dropped
//! without a close frame.

use std::fmt;
use std::io;
use std::time::Duration;

use hornet_metrics::ErrorKind;
use tokio_tungstenite::tungstenite::Error as TError;
use tokio_tungstenite::tungstenite::error::ProtocolError;

/// A WebSocket operation failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WsError {
    /// What kind of failure this was.
    pub kind: ErrorKind,
    /// Short, human message, e.g. `handshake refused: 404 Not Found`.
    pub message: String,
}

impl WsError {
    /// An error of `kind` with `message`.
    pub fn new(kind: ErrorKind, message: impl Into<String>) -> WsError {
        WsError { kind, message: message.into() }
    }

    /// The connection dropped without a close frame.
    pub fn abnormal(message: impl Into<String>) -> WsError {
        WsError::new(ErrorKind::AbnormalClose, message)
    }
}

impl fmt::Display for WsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl std::error::Error for WsError {}

/// `1.5s`-style text for messages.
pub(crate) fn secs(d: Duration) -> String {
    format!("{}s", d.as_secs_f64())
}

/// A failed TCP connect to `host:port`.
pub(crate) fn connect_error(e: &io::Error, host: &str, port: u16) -> WsError {
    if crate::http::out_of_files(e) {
        return WsError::new(
            ErrorKind::TooManyOpenFiles,
            format!("connect ({host}:{port}): {e}; {}", crate::http::files_hint()),
        );
    }
    let kind = match e.kind() {
        io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
        io::ErrorKind::TimedOut => ErrorKind::Timeout,
        io::ErrorKind::ConnectionReset | io::ErrorKind::ConnectionAborted => ErrorKind::ConnectReset,
        // tokio reports resolver failures as `Other`/`Uncategorized` with the resolver's text.
        _ if e.to_string().contains("failed to lookup address") => ErrorKind::Dns,
        _ => ErrorKind::ConnectReset,
    };
    let what = match kind {
        ErrorKind::ConnectRefused => "connection refused",
        ErrorKind::Dns => "dns lookup failed",
        _ => "connect failed",
    };
    WsError::new(kind, format!("{what} ({host}:{port}): {e}"))
}

/// Classifies a tungstenite error.
pub(crate) fn classify(e: TError) -> WsError {
    match e {
        TError::Http(response) => {
            let status = response.status();
            let reason = status.canonical_reason().unwrap_or("");
            WsError::new(
                ErrorKind::HandshakeRefused,
                format!("handshake refused: {} {reason}", status.as_u16()).trim_end().to_string(),
            )
        }
        TError::Io(io) if crate::http::out_of_files(&io) => {
            WsError::new(ErrorKind::TooManyOpenFiles, format!("{io}; {}", crate::http::files_hint()))
        }
        TError::Io(io) => match io.kind() {
            io::ErrorKind::UnexpectedEof
            | io::ErrorKind::ConnectionReset
            | io::ErrorKind::ConnectionAborted
            | io::ErrorKind::BrokenPipe
            | io::ErrorKind::NotConnected => WsError::abnormal(format!("the connection dropped: {io}")),
            io::ErrorKind::TimedOut => WsError::new(ErrorKind::Timeout, io.to_string()),
            _ if io.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) => {
                WsError::new(ErrorKind::Tls, io.to_string())
            }
            _ => WsError::new(ErrorKind::ConnectReset, io.to_string()),
        },
        TError::Protocol(ProtocolError::ResetWithoutClosingHandshake) => {
            WsError::abnormal("the connection closed without a close frame")
        }
        TError::ConnectionClosed | TError::AlreadyClosed => WsError::abnormal("the connection is closed"),
        TError::Tls(t) => WsError::new(ErrorKind::Tls, t.to_string()),
        TError::Url(u) => WsError::new(ErrorKind::InvalidUrl, u.to_string()),
        other => WsError::new(ErrorKind::Protocol, other.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn refused_handshakes_name_the_status() {
        let response = http::Response::builder().status(404).body(None).unwrap_or_default();
        let e = classify(TError::Http(Box::new(response)));
        assert_eq!(e.kind, ErrorKind::HandshakeRefused);
        assert_eq!(e.message, "handshake refused: 404 Not Found");
    }

    #[test]
    fn out_of_file_descriptors_is_the_generators_error_wherever_it_comes() {
        let emfile = || io::Error::from_raw_os_error(libc::EMFILE);
        assert_eq!(connect_error(&emfile(), "h", 1).kind, ErrorKind::TooManyOpenFiles);
        let e = classify(TError::Io(emfile()));
        assert_eq!(e.kind, ErrorKind::TooManyOpenFiles);
        assert!(e.message.contains("open-file limit"), "{}", e.message);
    }

    #[test]
    fn dropped_connections_are_abnormal_closes() {
        let e = classify(TError::Io(io::Error::from(io::ErrorKind::UnexpectedEof)));
        assert_eq!(e.kind, ErrorKind::AbnormalClose);
        let e = classify(TError::Protocol(ProtocolError::ResetWithoutClosingHandshake));
        assert_eq!(e.kind, ErrorKind::AbnormalClose);
        let e = classify(TError::Protocol(ProtocolError::InvalidOpcode(13)));
        assert_eq!(e.kind, ErrorKind::Protocol);
    }
}
