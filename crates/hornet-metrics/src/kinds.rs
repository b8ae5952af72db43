//! The vocabulary shared by engines, the runner and outputs: error kinds and request timings.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a request or a VU failed (design.md §6). Counted by endpoint, with the first message kept.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ErrorKind {
    Timeout,
    ConnectRefused,
    ConnectReset,
    Dns,
    Tls,
    Protocol,
    InvalidUrl,
    CaptureFailed,
    ExpectationFailed,
    Cancelled,
}

impl ErrorKind {
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
    pub dns: Option<Duration>,
    pub connect: Option<Duration>,
    pub tls: Option<Duration>,
    /// Request written → first byte of the response (time to first byte).
    pub wait: Duration,
    /// First byte → last byte.
    pub receive: Duration,
    /// Issued → last byte, connection set-up included when it happened: `http.response_time`.
    pub total: Duration,
}
