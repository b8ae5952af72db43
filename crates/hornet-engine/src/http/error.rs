//! Errors of the HTTP engine and their classification into [`ErrorKind`]s (docs/design.md §6).
//!
//! Owns [`EngineError`] (building a client failed), [`RequestError`] (one request failed, with the
//! timings measured until then) and the mapping from io / TLS / hyper / h2 errors to error kinds.

use std::error::Error as StdError;
use std::fmt;
use std::io;

use hornet_metrics::{ErrorKind, Timings};

/// Building an [`HttpClient`](super::HttpClient) failed.
#[derive(Debug, thiserror::Error)]
pub enum EngineError {
    /// The TLS client configuration could not be built.
    #[error("TLS configuration: {0}")]
    Tls(#[from] rustls::Error),
    /// `ClientConfig::pool` was `Some(0)`.
    #[error("connection pool size must be at least 1")]
    EmptyPool,
}

/// One request failed.
#[derive(Debug, Clone)]
pub struct RequestError {
    /// What kind of failure this was.
    pub kind: ErrorKind,
    /// Short, human message, e.g. `connection refused (127.0.0.1:9)`.
    pub message: String,
    /// What was measured before failing; `total` is the time from `send` until the failure.
    pub timings: Timings,
    /// Attempts that reached the wire before the one that failed (see
    /// [`Response::resent`](super::Response::resent)).
    pub resent: u8,
    /// Redirects followed before the failure, each one more request sent.
    pub redirects: u8,
    /// The status of each redirect response received before the failure (the followed ones and,
    /// for [`ErrorKind::TooManyRedirects`], the one past the limit): responses the server sent.
    pub redirect_statuses: Vec<u16>,
}

impl fmt::Display for RequestError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.kind, self.message)
    }
}

impl StdError for RequestError {}

/// A classified failure before its timings are attached.
#[derive(Debug)]
pub(crate) struct Failure {
    pub(crate) kind: ErrorKind,
    pub(crate) message: String,
}

impl Failure {
    pub(crate) fn new(kind: ErrorKind, message: String) -> Failure {
        Failure { kind, message }
    }

    pub(crate) fn into_request_error(self, timings: Timings, p: super::exchange::Progress) -> RequestError {
        RequestError {
            kind: self.kind,
            message: self.message,
            timings,
            resent: p.resent,
            redirects: p.redirects,
            redirect_statuses: p.redirect_statuses,
        }
    }
}

/// Where an error happened: the same io error means different things in different phases.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Phase {
    Connect,
    Tls,
    Request,
}

/// Classifies an io error by its kind (and a rustls error inside it).
pub(crate) fn io_kind(err: &io::Error, phase: Phase) -> ErrorKind {
    if out_of_files(err) {
        return ErrorKind::TooManyOpenFiles;
    }
    if err.get_ref().is_some_and(|inner| inner.is::<rustls::Error>()) {
        return ErrorKind::Tls;
    }
    match err.kind() {
        io::ErrorKind::ConnectionRefused => ErrorKind::ConnectRefused,
        io::ErrorKind::ConnectionReset
        | io::ErrorKind::ConnectionAborted
        | io::ErrorKind::BrokenPipe
        | io::ErrorKind::UnexpectedEof
        | io::ErrorKind::NotConnected => ErrorKind::ConnectReset,
        io::ErrorKind::TimedOut => ErrorKind::Timeout,
        _ => match phase {
            // e.g. network unreachable or no free local port: the connection never came up.
            Phase::Connect => ErrorKind::ConnectRefused,
            Phase::Tls => ErrorKind::Tls,
            Phase::Request => ErrorKind::ConnectReset,
        },
    }
}

/// Classifies an HTTP/2 error: transport errors by their io kind, protocol violations as
/// `Protocol`, and streams or connections the peer reset or shut as `ConnectReset`.
fn h2_kind(err: &h2::Error) -> ErrorKind {
    if let Some(io) = err.get_io() {
        return io_kind(io, Phase::Request);
    }
    if err.is_library() {
        return ErrorKind::Protocol;
    }
    match err.reason() {
        Some(h2::Reason::PROTOCOL_ERROR)
        | Some(h2::Reason::COMPRESSION_ERROR)
        | Some(h2::Reason::FRAME_SIZE_ERROR)
        | Some(h2::Reason::FLOW_CONTROL_ERROR)
        | Some(h2::Reason::HTTP_1_1_REQUIRED) => ErrorKind::Protocol,
        Some(_) => ErrorKind::ConnectReset,
        None => ErrorKind::Protocol,
    }
}

/// Classifies an error returned by hyper while sending a request or reading its response.
pub(crate) fn hyper_kind(err: &hyper::Error) -> ErrorKind {
    if err.is_parse() || err.is_parse_status() || err.is_parse_too_large() {
        return ErrorKind::Protocol;
    }
    if err.is_incomplete_message() || err.is_canceled() || err.is_closed() {
        return ErrorKind::ConnectReset;
    }
    if err.is_timeout() {
        return ErrorKind::Timeout;
    }
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return io_kind(io, Phase::Request);
        }
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            return h2_kind(h2);
        }
        source = e.source();
    }
    ErrorKind::Protocol
}

/// True when a request that failed this way on a *reused* connection, before any response, was
/// most likely never seen by the server: the connection had been closed under us (stale
/// keep-alive), so it is safe and useful to retry it once on a fresh connection.
pub(crate) fn is_stale_connection(err: &hyper::Error) -> bool {
    if err.is_incomplete_message() || err.is_canceled() || err.is_closed() {
        return true;
    }
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(io) = e.downcast_ref::<io::Error>() {
            return matches!(
                io.kind(),
                io::ErrorKind::ConnectionReset
                    | io::ErrorKind::ConnectionAborted
                    | io::ErrorKind::BrokenPipe
                    | io::ErrorKind::UnexpectedEof
                    | io::ErrorKind::NotConnected
            );
        }
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            if let Some(io) = h2.get_io() {
                return matches!(
                    io.kind(),
                    io::ErrorKind::ConnectionReset | io::ErrorKind::BrokenPipe | io::ErrorKind::UnexpectedEof
                );
            }
            // The server refused the stream or is going away: the request was not processed.
            return refused_unprocessed(h2);
        }
        source = e.source();
    }
    false
}

/// True when an HTTP/2 server said it did not process the request (RFC 9113 §8.7: a
/// `REFUSED_STREAM`, or a graceful `GOAWAY`): sending it again is safe whatever its method.
pub(crate) fn is_refused_unprocessed(err: &hyper::Error) -> bool {
    let mut source = err.source();
    while let Some(e) = source {
        if let Some(h2) = e.downcast_ref::<h2::Error>() {
            return h2.get_io().is_none() && refused_unprocessed(h2);
        }
        source = e.source();
    }
    false
}

fn refused_unprocessed(h2: &h2::Error) -> bool {
    h2.reason() == Some(h2::Reason::REFUSED_STREAM)
        || (h2.is_go_away() && h2.reason() == Some(h2::Reason::NO_ERROR))
}

/// True when `err` says this process (`EMFILE`) or the system (`ENFILE`) has no file descriptor
/// left: the load generator's limit, not the server's doing.
pub fn out_of_files(err: &io::Error) -> bool {
    matches!(err.raw_os_error(), Some(libc::EMFILE | libc::ENFILE))
}

/// What to do when out of file descriptors, with this process's limit.
pub fn files_hint() -> String {
    let mut limit = libc::rlimit { rlim_cur: 0, rlim_max: 0 };
    // SAFETY: getrlimit writes one rlimit struct that lives for the call.
    let known = unsafe { libc::getrlimit(libc::RLIMIT_NOFILE, &mut limit) } == 0;
    let shown = if known { format!(" is {}", limit.rlim_cur) } else { String::new() };
    format!(
        "hornet's open-file limit{shown} (`ulimit -n`): every connection takes one; the generator's \
         limit, not the server's"
    )
}

/// Short label of a kind for messages.
fn label(kind: ErrorKind) -> &'static str {
    match kind {
        ErrorKind::Timeout => "timed out",
        ErrorKind::ConnectRefused => "connection refused",
        ErrorKind::ConnectReset => "connection reset",
        ErrorKind::Dns => "dns lookup failed",
        ErrorKind::Tls => "tls error",
        ErrorKind::Protocol => "protocol error",
        ErrorKind::InvalidUrl => "invalid url",
        ErrorKind::CaptureFailed => "capture failed",
        ErrorKind::ExpectationFailed => "expectation failed",
        ErrorKind::Cancelled => "cancelled",
        ErrorKind::HandshakeRefused => "handshake refused",
        ErrorKind::AbnormalClose => "abnormal close",
        ErrorKind::Processor => "processor function failed",
        ErrorKind::TooManyRedirects => "too many redirects",
        ErrorKind::TooManyOpenFiles => "hornet is out of file descriptors",
    }
}

/// Writes an error and its sources as `a: b: c`, skipping a source whose text repeats its parent.
fn chain(err: &(dyn StdError + 'static)) -> String {
    let mut out = err.to_string();
    let mut prev = out.clone();
    let mut source = err.source();
    while let Some(e) = source {
        let text = e.to_string();
        if !text.is_empty() && !prev.contains(&text) {
            out.push_str(": ");
            out.push_str(&text);
        }
        prev = text;
        source = e.source();
    }
    out
}

/// A failure message: `<label> (<where>)`, then `: <detail>` unless the label says it all.
pub(crate) fn message(kind: ErrorKind, place: &dyn fmt::Display, err: &(dyn StdError + 'static)) -> String {
    if kind == ErrorKind::TooManyOpenFiles {
        return format!("{} ({place}): {}; {}", label(kind), chain(err), files_hint());
    }
    if kind == ErrorKind::ConnectRefused
        && err.downcast_ref::<io::Error>().is_some_and(|e| e.kind() == io::ErrorKind::ConnectionRefused)
    {
        return format!("{} ({place})", label(kind));
    }
    format!("{} ({place}): {}", label(kind), chain(err))
}

/// A failure from hyper, classified and described.
pub(crate) fn from_hyper(err: &hyper::Error, place: &dyn fmt::Display) -> Failure {
    let kind = hyper_kind(err);
    Failure::new(kind, message(kind, place, err))
}

/// A protocol failure at `place` that no library error describes, e.g. a corrupt compressed body.
pub(crate) fn protocol(place: &dyn fmt::Display, detail: &str) -> Failure {
    Failure::new(ErrorKind::Protocol, format!("{} ({place}): {detail}", label(ErrorKind::Protocol)))
}

/// A failure from an io operation in `phase`, classified and described.
pub(crate) fn from_io(err: &io::Error, phase: Phase, place: &dyn fmt::Display) -> Failure {
    let kind = io_kind(err, phase);
    Failure::new(kind, message(kind, place, err))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn io_errors_map_by_kind_and_phase() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        assert_eq!(io_kind(&refused, Phase::Connect), ErrorKind::ConnectRefused);
        for k in [io::ErrorKind::ConnectionReset, io::ErrorKind::BrokenPipe, io::ErrorKind::UnexpectedEof] {
            assert_eq!(io_kind(&io::Error::from(k), Phase::Request), ErrorKind::ConnectReset);
        }
        let other = io::Error::other("boom");
        assert_eq!(io_kind(&other, Phase::Connect), ErrorKind::ConnectRefused);
        assert_eq!(io_kind(&other, Phase::Tls), ErrorKind::Tls);
        assert_eq!(io_kind(&other, Phase::Request), ErrorKind::ConnectReset);
        // tokio-rustls reports handshake failures as InvalidData wrapping a rustls::Error.
        let tls = io::Error::new(io::ErrorKind::InvalidData, rustls::Error::DecryptError);
        assert_eq!(io_kind(&tls, Phase::Tls), ErrorKind::Tls);
    }

    #[test]
    fn refused_message_is_short() {
        let refused = io::Error::from(io::ErrorKind::ConnectionRefused);
        let f = from_io(&refused, Phase::Connect, &"127.0.0.1:9");
        assert_eq!(f.kind, ErrorKind::ConnectRefused);
        assert_eq!(f.message, "connection refused (127.0.0.1:9)");
        let reset = io::Error::new(io::ErrorKind::ConnectionReset, "reset by peer");
        let f = from_io(&reset, Phase::Request, &"h:1");
        assert_eq!(f.message, "connection reset (h:1): reset by peer");
    }

    #[test]
    fn h2_reasons_classify() {
        assert_eq!(h2_kind(&h2::Error::from(h2::Reason::PROTOCOL_ERROR)), ErrorKind::Protocol);
        assert_eq!(h2_kind(&h2::Error::from(h2::Reason::CANCEL)), ErrorKind::ConnectReset);
    }
}
