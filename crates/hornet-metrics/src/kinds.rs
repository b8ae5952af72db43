//! The vocabulary shared by engines, the runner and outputs: error kinds and request timings.

use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Why a request or a VU failed (docs/design.md §6). Counted by endpoint, with the first message kept.
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
    /// A WebSocket server answered the upgrade request with something other than 101.
    HandshakeRefused,
    /// A WebSocket connection dropped without a close frame (close code 1006).
    AbnormalClose,
    /// A processor function threw, rejected, failed its callback or ran over its budget, or
    /// reported an error with `events.emit('error', ...)`.
    Processor,
    /// A redirect chain went past the limit of redirects followed (a redirect loop).
    TooManyRedirects,
    /// hornet itself ran out of file descriptors (`EMFILE`, `ENFILE`) opening a connection: the
    /// load generator's limit (`ulimit -n`), never the server's fault.
    TooManyOpenFiles,
}

impl ErrorKind {
    /// Every kind, in report order.
    pub const ALL: [ErrorKind; 15] = [
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
        ErrorKind::HandshakeRefused,
        ErrorKind::AbnormalClose,
        ErrorKind::Processor,
        ErrorKind::TooManyRedirects,
        ErrorKind::TooManyOpenFiles,
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
            ErrorKind::HandshakeRefused => "handshake-refused",
            ErrorKind::AbnormalClose => "abnormal-close",
            ErrorKind::Processor => "processor",
            ErrorKind::TooManyRedirects => "too-many-redirects",
            ErrorKind::TooManyOpenFiles => "too-many-open-files",
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

/// Timings of one request (docs/design.md §3). Phases that did not happen (a reused connection has no
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
    /// Service time: issued (the moment the request was actually started) → last byte, connection
    /// set-up included when it happened: `http.response_time`.
    pub total: Duration,
    /// Corrected latency: the request's *intended* start → last byte, when the runner knows an
    /// intended start (an open-model arrival's scheduled time, a paced iteration's slot on the
    /// pacing grid, a request-rate token's time). Includes the time the request waited behind a
    /// slow generator or a stalled server, which `total` leaves out (coordinated omission, see
    /// `docs/metrics.md`). `None` when there is no intended start: the corrected latency is then
    /// the service time. Recorded as `http.response_time.corrected`; a value below `total` is
    /// raised to `total`.
    pub corrected: Option<Duration>,
}

/// The `expect` check kinds hornet counts separately, in report order (Artillery's names, as
/// written in scripts). A kind outside this list is counted under [`EXPECT_OTHER`].
pub const EXPECT_KINDS: [&str; 9] = [
    "statusCode",
    "notStatusCode",
    "contentType",
    "hasProperty",
    "notHasProperty",
    "equals",
    "hasHeader",
    "headerEquals",
    "matchesRegexp",
];

/// The name expectations of a kind not in [`EXPECT_KINDS`] are counted under.
pub const EXPECT_OTHER: &str = "other";

/// Number of expectation slots: the known kinds plus [`EXPECT_OTHER`].
pub(crate) const EXPECT_SLOTS: usize = EXPECT_KINDS.len() + 1;

/// The slot of an expectation kind: its position in [`EXPECT_KINDS`], or the last slot
/// ([`EXPECT_OTHER`]) for any other name. A `match` on the string: no allocation, no hashing.
#[inline]
pub(crate) fn expect_slot(kind: &str) -> usize {
    match kind {
        "statusCode" => 0,
        "notStatusCode" => 1,
        "contentType" => 2,
        "hasProperty" => 3,
        "notHasProperty" => 4,
        "equals" => 5,
        "hasHeader" => 6,
        "headerEquals" => 7,
        "matchesRegexp" => 8,
        _ => EXPECT_KINDS.len(),
    }
}

/// The name of expectation slot `i` (inverse of [`expect_slot`]).
pub(crate) fn expect_slot_name(i: usize) -> &'static str {
    EXPECT_KINDS.get(i).copied().unwrap_or(EXPECT_OTHER)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn expect_slots_round_trip_and_unknown_kinds_share_the_last_slot() {
        for (i, kind) in EXPECT_KINDS.iter().enumerate() {
            assert_eq!(expect_slot(kind), i);
            assert_eq!(expect_slot_name(i), *kind);
        }
        assert_eq!(expect_slot("cdnHit"), EXPECT_SLOTS - 1);
        assert_eq!(expect_slot("statuscode"), EXPECT_SLOTS - 1, "names are case-sensitive");
        assert_eq!(expect_slot_name(EXPECT_SLOTS - 1), EXPECT_OTHER);
    }
}
