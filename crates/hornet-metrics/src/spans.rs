//! The client span of a sampled request, handed out as the request completes: what a span
//! exporter (OTLP `/v1/traces`) needs, in a small `Copy` value, and the [`SpanSink`] that takes
//! it. A sink must never block the virtual user that offers a span: it queues or drops it.

use crate::kinds::ErrorKind;
use crate::recorder::EndpointId;
use crate::traces::{SpanId, TraceId};

/// A sampled request, finished: the ids it was sent with in `traceparent`, when it ran and how it
/// ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FinishedSpan {
    /// The trace id sent.
    pub trace_id: TraceId,
    /// The span id sent (the parent of the server's span).
    pub span_id: SpanId,
    /// The request's endpoint.
    pub endpoint: EndpointId,
    /// The scenario of the virtual user that sent it (its index in the plan).
    pub scenario: u32,
    /// When it was issued, ns since the Unix epoch.
    pub start_unix_ns: u64,
    /// How long it took (issued → last byte, or → the error), ns.
    pub duration_ns: u64,
    /// The status of its response; 0 when it failed without one.
    pub status: u16,
    /// Why it failed without a response, if it did.
    pub error: Option<ErrorKind>,
    /// Whether it counts as failed: an error, or a status `expectedStatus` does not allow.
    pub failed: bool,
}

/// Takes the spans of sampled requests (see the module doc).
pub trait SpanSink: Send + Sync + std::fmt::Debug {
    /// Takes `span` without blocking: queues it, or counts it as dropped.
    fn offer(&self, span: FinishedSpan);
}
