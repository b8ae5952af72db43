//! The vocabulary shared by engines, the runner and outputs: error kinds and request timings.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a request or a VU failed (design.md §6). Counted by endpoint, with the first message kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    /// The request did not complete within `config.http.timeout`.
    Timeout,
    /// The server refused the TCP connection (nothing listening).
    ConnectRefused,
    /// The connection was reset or closed before the response was complete.
    ConnectReset,
    /// The host name could not be resolved.
    Dns,
    /// The TLS handshake failed (certificate, protocol version, ...).
    Tls,
    /// The server's reply was not valid HTTP.
    Protocol,
    /// The rendered URL was not a valid absolute http(s) URL.
    InvalidUrl,
    /// A strict capture found nothing.
    CaptureFailed,
    /// A response did not meet an `expect` check.
    ExpectationFailed,
    /// The VU was still running when the test ended or was interrupted.
    Cancelled,
}

impl ErrorKind {
    /// Every kind, in report order.
    pub const ALL: [ErrorKind; 10] = [
        ErrorKind::Timeout,
        ErrorKind::ConnectRefused,
        ErrorKind::ConnectReset,
        ErrorKind::Dns,
        ErrorKind::Tls,
        ErrorKind::Protocol,
        ErrorKind::InvalidUrl,
        ErrorKind::CaptureFailed,
        ErrorKind::ExpectationFailed,
        ErrorKind::Cancelled,
    ];

    /// The kebab-case name used in reports and summaries (`connect-refused`).
    pub fn as_str(self) -> &'static str {
        match self {
            ErrorKind::Timeout => "timeout",
            ErrorKind::ConnectRefused => "connect-refused",
            ErrorKind::ConnectReset => "connect-reset",
            ErrorKind::Dns => "dns",
            ErrorKind::Tls => "tls",
            ErrorKind::Protocol => "protocol",
            ErrorKind::InvalidUrl => "invalid-url",
            ErrorKind::CaptureFailed => "capture-failed",
            ErrorKind::ExpectationFailed => "expectation-failed",
            ErrorKind::Cancelled => "cancelled",
        }
    }

    /// Position in [`ErrorKind::ALL`].
    pub fn index(self) -> usize {
        self as usize
    }
}

impl std::fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Timings of one request (design.md §3). Phases that did not happen (a reused connection has no
/// dns, connect or tls) are `None`.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct Timings {
    /// Name resolution.
    pub dns: Option<Duration>,
    /// TCP connect.
    pub connect: Option<Duration>,
    /// TLS handshake.
    pub tls: Option<Duration>,
    /// Request written → first byte of the response (time to first byte).
    pub wait: Duration,
    /// First byte → last byte.
    pub receive: Duration,
    /// Issued → last byte, connection set-up included when it happened: `http.response_time`.
    pub total: Duration,
}
