//! Metrics: per-thread recorders (no locks, no allocation per request), the once-a-second merge into
//! a run-wide aggregate of HdrHistograms and counters, and the versioned report model every output
//! reads.
//!
//! Data flows one way: [`Recorder`] (one per worker thread) → [`Interval`] (sent to the collector
//! once a second) → [`Aggregator`] (exact totals plus a downsampled timeline) → [`Report`]
//! (`"hornet-report/1"` JSON). Metric definitions are in `docs/metrics.md`, the JSON schema in
//! `docs/report-format.md`.

pub mod aggregate;
pub mod apdex;
mod custom;
pub mod endpoint_names;
pub mod format;
pub mod generator;
pub mod hist;
pub mod interval;
pub mod kinds;
pub mod latency;
pub mod recorder;
pub mod report;
pub mod spans;
pub mod timeline;
pub mod traces;
pub mod wire;

pub use aggregate::{Aggregator, DEFAULT_EXPECTED_STATUS, LatencyTotals, LiveEndpoint, LiveSnapshot};
pub use apdex::{Apdex, ApdexRating};
pub use custom::is_processor_metric;
pub use endpoint_names::{EndpointNames, NameCache};
pub use generator::{
    CPU_WARNING_PERCENT, CPU_WARNING_TICKS, LAG_WARNING_MS, LAG_WINDOW, is_lag_warning, process_cpu_seconds,
};
pub use hist::{HistogramError, decode_histogram, encode_histogram};
pub use interval::Interval;
pub use kinds::{EXPECT_KINDS, EXPECT_OTHER, ErrorKind, Timings};
pub use latency::{Latency, LatencySum};
pub use recorder::{EndpointId, Recorder};
pub use report::{
    CheckReport, EndpointExpectations, GeneratorReport, ProcessorMetrics, Protocol, Report, ReportError,
    RunMeta, Summary,
};
pub use spans::{FinishedSpan, SpanSink};
pub use timeline::{Tier, TimelinePolicy};
pub use traces::{FAILED_KEPT, SLOWEST_KEPT, SpanId, TraceId, TracedRequest, TracedRequestReport};
pub use wire::{WireEndpoint, WireErrors, WireHist, WireInterval};
