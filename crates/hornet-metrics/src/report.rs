//! The versioned report model (`"hornet-report/1"`), written as JSON at the end of a run and read
//! back by later commands. Everything an output needs is in it: counters, rates, summaries and the
//! serialized histograms, so a summary can be re-rendered and runs merged from the JSON alone.
//! The format is documented in `docs/report-format.md`.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime};

use serde::{Deserialize, Serialize};

use crate::kinds::{EXPECT_KINDS, ErrorKind};

pub use crate::apdex::{Apdex, ApdexRating};
pub use crate::hist::{HistogramError, decode_histogram, encode_histogram};

/// The schema identifier this version writes and reads.
pub const SCHEMA: &str = "hornet-report/1";

/// Metric key of the response-time histogram (issued → last byte).
pub const RESPONSE_TIME: &str = "http.response_time";
/// Metric key of the corrected response-time histogram (intended start → last byte; the service
/// time for requests without an intended start).
pub const RESPONSE_TIME_CORRECTED: &str = "http.response_time.corrected";
/// Counter of request-rate tokens dropped because no VU was free.
pub const REQUESTS_DROPPED: &str = "http.requests.dropped";
/// Timeline counter: the point's failed requests, as every "failures" figure counts them (its
/// errors of every kind and its responses whose status is not expected).
pub const FAILURES: &str = "failures";
/// Counter of paced iterations that started after their slot.
pub const ITERATIONS_LATE: &str = "vusers.iterations_late";
/// Timeline gauge: the generator's CPU use over a point (time-weighted mean, percent of all cores).
pub const GENERATOR_CPU: &str = "generator.cpu";
/// Timeline gauge: the highest per-tick CPU use within a point.
pub const GENERATOR_CPU_MAX: &str = "generator.cpu_max";
/// Metric key of the request rate (requests / measured seconds).
pub const REQUEST_RATE: &str = "http.request_rate";
/// Counter of `expect` checks that held (also `plugins.expect.ok.<kind>`).
pub const EXPECT_OK: &str = "plugins.expect.ok";
/// Counter of `expect` checks that failed (also `plugins.expect.failed.<kind>`).
pub const EXPECT_FAILED: &str = "plugins.expect.failed";

/// Metric key of the WebSocket connect-time histogram (TCP + TLS + upgrade).
pub const WS_CONNECT_TIME: &str = "websocket.connect_time";
/// Metric key of the WebSocket round-trip histogram (a `send` to its reply).
pub const WS_RTT: &str = "websocket.rtt";

/// The aggregations a histogram's name takes in checks (`http.response_time.p95`).
pub const HISTOGRAM_AGGREGATIONS: [&str; 11] =
    ["min", "max", "mean", "count", "p50", "median", "p75", "p90", "p95", "p99", "p999"];

/// Histograms that are only in the report when something was recorded in them.
pub const OPTIONAL_HISTOGRAMS: [&str; 8] = [
    "http.response_time.1xx",
    "http.response_time.2xx",
    "http.response_time.3xx",
    "http.response_time.4xx",
    "http.response_time.5xx",
    "http.dns",
    "http.connect",
    "http.tls",
];

/// Which protocol an endpoint measures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Protocol {
    /// HTTP requests: `http.*` metrics.
    #[default]
    Http,
    /// WebSocket steps (`connect`, `send` with a reply, `wait`): `websocket.*` metrics.
    Ws,
}

impl Protocol {
    /// True for [`Protocol::Http`] (the field is left out of the JSON then).
    pub fn is_http(&self) -> bool {
        *self == Protocol::Http
    }

    /// The request type shown in tables (`HTTP`/`WS`; Locust shows non-HTTP types this way).
    pub fn label(&self) -> &'static str {
        match self {
            Protocol::Http => "HTTP",
            Protocol::Ws => "WS",
        }
    }
}

/// A complete run report.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Report {
    /// Always [`SCHEMA`].
    pub schema: String,
    /// Version of hornet that wrote the report.
    pub hornet_version: String,
    /// What was run, when and for how long.
    pub run: RunInfo,
    /// Run-wide counters, rates, summaries and histograms.
    pub aggregate: Aggregate,
    /// One entry per endpoint (request name), in plan order.
    pub endpoints: Vec<EndpointReport>,
    /// Errors by kind and endpoint, with the first message seen.
    pub errors: Vec<ErrorReport>,
    /// The timeline: one point per tick, older ticks merged into coarser points.
    pub intervals: Vec<IntervalReport>,
    /// The run's checks (`ensure` thresholds and conditions, `maxErrorRate`, expectations), in
    /// evaluation order; empty when none were configured or evaluated. Filled by the caller after
    /// the run (see [`Report::set_verdicts`]); absent in older reports.
    #[serde(default)]
    pub checks: Vec<CheckReport>,
    /// The apdex score, when `config.apdex` was set. Absent in older reports.
    #[serde(default)]
    pub apdex: Option<Apdex>,
    /// True if some response's corrected latency (`http.response_time.corrected`) differed from
    /// its service time (`http.response_time`): the summary then shows the corrected table.
    /// Absent (false) in older reports.
    #[serde(default)]
    pub any_corrected: bool,
    /// The load generator's own CPU use, when the runner measured it. Absent in older reports.
    #[serde(default)]
    pub generator: Option<GeneratorReport>,
    /// Warnings about the run's trustworthiness (the generator falling behind its schedule or
    /// saturating its CPU), each once, in the order they were raised. Absent in older reports.
    #[serde(default)]
    pub warnings: Vec<String>,
    /// The worker processes of a distributed run, as they ended (empty, and absent from the JSON,
    /// for a run on one machine).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub workers: Vec<WorkerStatus>,
    /// With tracing (`config.tracing`, `--trace`): per endpoint, the slowest and the first failed
    /// requests with the trace ids they were sent with, slowest first (empty, and absent from the
    /// JSON, without tracing).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub traced_requests: Vec<crate::traces::TracedRequestReport>,
}

/// One worker process of a distributed run: the web UI's Workers tab, and the report's `workers`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WorkerStatus {
    /// Its position in the controller's list of workers, from 0.
    pub index: usize,
    /// Where it connected from.
    pub address: String,
    /// Its host name.
    pub host: String,
    /// `connected`, `running`, `done` or `lost`.
    pub state: String,
    /// Its weight.
    pub weight: u32,
    /// Its share of the load (its execution segment's length).
    pub share: f64,
    /// Its active VUs.
    pub active_vus: u64,
    /// Its requests in its latest second.
    pub rps: f64,
    /// All its requests so far.
    pub requests: u64,
    /// Its CPU use, percent of the cores its threads use.
    pub cpu: Option<f64>,
    /// The 99th percentile of its schedule lag in its latest second, ms.
    pub lag_p99_ms: f64,
}

/// The load generator's CPU use over the run: process CPU time / wall time / cores × 100, as
/// measured by the runner once per tick.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct GeneratorReport {
    /// Mean over the ticks that have a reading, weighted by tick length, percent.
    pub cpu_mean: f64,
    /// Highest single-tick reading, percent.
    pub cpu_max: f64,
}

/// Name of the check on `expect` results in [`Report::checks`] (strict: failed expectations fail
/// the run).
pub const EXPECTATIONS_CHECK: &str = "expectations";

/// The timing-breakdown summaries, in the order of a request's life, with their short labels.
pub const TIMING_BREAKDOWN: [(&str, &str); 5] = [
    ("http.dns", "dns"),
    ("http.connect", "connect"),
    ("http.tls", "tls"),
    ("http.wait", "wait (TTFB)"),
    ("http.receive", "receive"),
];

/// The outcome of one check of the run.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct CheckReport {
    /// What was checked, as the user wrote it: `http.response_time.p95 < 200`, a condition's
    /// expression, `maxErrorRate ...` or `expectations`.
    pub name: String,
    /// True if the check held.
    pub ok: bool,
    /// A strict check that fails fails the run (exit code 1); a non-strict one only warns.
    pub strict: bool,
    /// The figures behind the outcome (`http.response_time.p95 was 212.4`), or why the check could
    /// not be evaluated (``metric `x` does not exist``).
    pub detail: String,
}

/// What the report needs to know about the run besides its metrics.
#[derive(Debug, Clone, PartialEq)]
pub struct RunMeta {
    /// Path of the script, if any.
    pub script: Option<String>,
    /// Base URL targeted.
    pub target: Option<String>,
    /// Wall-clock start of the run.
    pub started_at: SystemTime,
    /// Measured duration of the run: the denominator of run-wide rates.
    pub duration: Duration,
    /// Seed of the run's random number generators.
    pub seed: u64,
    /// The planned phases, as JSON.
    pub phases: serde_json::Value,
    /// True if the run was stopped early.
    pub interrupted: bool,
    /// Version of hornet.
    pub hornet_version: String,
    /// The command line.
    pub command: String,
    /// The run's test id (`--testid`, else drawn from the seed): what its exports and its trace
    /// context (`baggage`) carry. Empty when unknown.
    pub test_id: String,
}

impl RunMeta {
    /// A run for tests to build reports from: no script nor target, started at the Unix epoch,
    /// seed 0, no phases, not interrupted, hornet `0.1.0`, an empty command, measured over
    /// `duration`. Tests change what they need with `RunMeta { seed: 7, ..RunMeta::for_tests(d) }`.
    #[cfg(any(test, feature = "test-support"))]
    pub fn for_tests(duration: Duration) -> RunMeta {
        RunMeta {
            script: None,
            target: None,
            started_at: std::time::UNIX_EPOCH,
            duration,
            seed: 0,
            phases: serde_json::Value::Null,
            interrupted: false,
            hornet_version: "0.1.0".to_owned(),
            command: String::new(),
            test_id: String::new(),
        }
    }
}

/// Description of the run.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunInfo {
    /// Path of the script, if the run came from one.
    pub script: Option<String>,
    /// Base URL the run targeted.
    pub target: Option<String>,
    /// The command line that started the run.
    pub command: String,
    /// Wall-clock start, RFC 3339 in UTC.
    pub started_at: String,
    /// Measured duration in seconds (the denominator of run-wide rates).
    pub duration_s: f64,
    /// Seed of the run's random number generators.
    pub seed: u64,
    /// The phases as planned (free-form JSON from the script layer).
    pub phases: serde_json::Value,
    /// True if the run was stopped early (SIGINT/SIGTERM); the figures cover the part that ran.
    pub interrupted: bool,
    /// Name of the machine that generated the load, when known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host: Option<String>,
    /// The run's test id (`--testid`, else `$testId`, drawn from the seed): the `testid` of its
    /// exported series and the `hornet.testid` of its `baggage` header. Absent in older reports.
    #[serde(default, skip_serializing_if = "String::is_empty")]
    pub test_id: String,
    /// `--trace-link`: the URL template (with `{trace_id}`, optionally `{span_id}`) that turns the
    /// trace ids of `traced_requests` into links in the summary, the HTML report and the web UI.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub trace_link: Option<String>,
}

/// Run-wide metrics, keyed by metric name (`docs/metrics.md`).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Aggregate {
    /// Exact counts (`http.requests`, `http.codes.200`, `errors.timeout`, `vusers.created`, ...).
    pub counters: BTreeMap<String, u64>,
    /// Per-second rates over the measured duration (`http.request_rate`).
    pub rates: BTreeMap<String, f64>,
    /// Summaries of the histograms, in milliseconds.
    pub summaries: BTreeMap<String, Summary>,
    /// The histograms themselves (µs), base64 V2+DEFLATE; same keys as `summaries`.
    pub histograms: BTreeMap<String, String>,
}

/// A report's processor metrics ([`Report::processor_metrics`]), each kind in name order.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProcessorMetrics<'a> {
    /// Counters and their counts.
    pub counters: Vec<(&'a str, u64)>,
    /// Rates, events per second.
    pub rates: Vec<(&'a str, f64)>,
    /// Histograms' summaries, in the unit the processor gave.
    pub histograms: Vec<(&'a str, &'a Summary)>,
}

impl ProcessorMetrics<'_> {
    /// Whether the processor reported no metric.
    pub fn is_empty(&self) -> bool {
        self.counters.is_empty() && self.rates.is_empty() && self.histograms.is_empty()
    }
}

/// Summary of one histogram. All values in milliseconds with microsecond precision.
/// Percentiles come from the HdrHistogram and are clamped to `[min, max]`; `min`, `max` and
/// `mean` are exact. An empty histogram has `count` 0 and every other field 0.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize, Deserialize)]
pub struct Summary {
    /// Number of values.
    pub count: u64,
    /// Smallest value.
    pub min: f64,
    /// Largest value.
    pub max: f64,
    /// Arithmetic mean.
    pub mean: f64,
    /// 50th percentile.
    pub p50: f64,
    /// Same as `p50` (kept for Artillery users).
    pub median: f64,
    /// 75th percentile.
    pub p75: f64,
    /// 90th percentile.
    pub p90: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// 99.9th percentile.
    pub p999: f64,
}

impl Summary {
    /// Summarizes a histogram of microseconds on its own (for example one read back with
    /// [`decode_histogram`]). Without the exact statistics kept during the run, `min`, `max` and
    /// `mean` are HdrHistogram's bucket-level values.
    pub fn from_histogram(h: &hdrhistogram::Histogram<u64>) -> Summary {
        crate::hist::summarize(h, h.min(), h.max(), None)
    }
}

/// Per-endpoint results.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointReport {
    /// The request name (explicit `name`, or method + URL template).
    pub name: String,
    /// `ws` for a WebSocket step: then `requests` counts steps started (connection attempts,
    /// sends that wait for a reply, waits), `responses` those that got what they waited for, and
    /// `summary`/`histogram` hold the connect time, round-trip time or time waited. Absent for HTTP.
    #[serde(default, skip_serializing_if = "Protocol::is_http")]
    pub protocol: Protocol,
    /// Requests sent.
    pub requests: u64,
    /// Responses received (any status).
    pub responses: u64,
    /// Failed requests on this endpoint: errors of every kind, and responses whose status is not
    /// expected (400 and above unless `config.http.expectedStatus` says otherwise).
    pub failures: u64,
    /// Responses by status code (`"200": n`).
    pub codes: BTreeMap<String, u64>,
    /// The responses counted in `failures` for their status, by status code (`"404": n`): the
    /// part of `codes` outside the expected statuses. Absent when there are none.
    #[serde(default, skip_serializing_if = "BTreeMap::is_empty")]
    pub failed_codes: BTreeMap<String, u64>,
    /// Errors by kind (`"timeout": n`).
    pub errors: BTreeMap<ErrorKind, u64>,
    /// Bytes of request data written.
    #[serde(default)]
    pub bytes_sent: u64,
    /// Bytes of response data received.
    pub bytes_received: u64,
    /// `expect` results on this endpoint. Absent (all zero) in older reports.
    #[serde(default)]
    pub expectations: EndpointExpectations,
    /// Summary of this endpoint's `http.response_time`.
    pub summary: Summary,
    /// This endpoint's `http.response_time` histogram, base64 V2+DEFLATE.
    pub histogram: String,
    /// Summary of this endpoint's `http.response_time.corrected`. Absent (zeros) in older reports.
    #[serde(default)]
    pub summary_corrected: Summary,
    /// This endpoint's `http.response_time.corrected` histogram, base64 V2+DEFLATE. Absent (an
    /// empty string, which does not decode) in older reports.
    #[serde(default)]
    pub histogram_corrected: String,
}

/// `expect` results of one endpoint. Kind names are Artillery's (`statusCode`, `hasProperty`,
/// ...; `other` for kinds hornet does not know); only kinds with a non-zero count are listed.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct EndpointExpectations {
    /// Checks that held.
    pub ok: u64,
    /// Checks that failed.
    pub failed: u64,
    /// Checks that held, by kind.
    #[serde(default)]
    pub ok_by_kind: BTreeMap<String, u64>,
    /// Checks that failed, by kind.
    #[serde(default)]
    pub failed_by_kind: BTreeMap<String, u64>,
}

impl EndpointExpectations {
    /// Checks evaluated (held or failed).
    pub fn evaluated(&self) -> u64 {
        self.ok.saturating_add(self.failed)
    }

    /// `(kind, held, failed)` for every kind evaluated, in report order: the known kinds in the
    /// order of [`EXPECT_KINDS`], then the others by name.
    pub fn by_kind(&self) -> Vec<(&str, u64, u64)> {
        let order = |kind: &str| EXPECT_KINDS.iter().position(|k| *k == kind).unwrap_or(EXPECT_KINDS.len());
        let mut kinds: Vec<&str> =
            self.ok_by_kind.keys().chain(self.failed_by_kind.keys()).map(String::as_str).collect();
        kinds.sort_unstable_by_key(|k| (order(k), *k));
        kinds.dedup();
        let count = |m: &BTreeMap<String, u64>, kind: &str| m.get(kind).copied().unwrap_or(0);
        kinds.into_iter().map(|k| (k, count(&self.ok_by_kind, k), count(&self.failed_by_kind, k))).collect()
    }
}

/// One error kind on one endpoint (or on none: errors outside any request).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ErrorReport {
    /// The error kind.
    pub kind: ErrorKind,
    /// The endpoint name, or `null` for errors not tied to a request.
    pub endpoint: Option<String>,
    /// How many times it happened.
    pub count: u64,
    /// The first message recorded for this (kind, endpoint).
    pub first_message: String,
}

/// One point of the timeline.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct IntervalReport {
    /// Start of the point, seconds since the start of the run.
    pub t_s: f64,
    /// Measured length of the point in seconds (1 s ticks, or 10 s / 60 s once downsampled).
    pub duration_s: f64,
    /// Exact counts within the point (`http.requests`, `http.responses`, `errors`, ...).
    pub counters: BTreeMap<String, u64>,
    /// Rates over `duration_s` (`http.request_rate`).
    pub rates: BTreeMap<String, f64>,
    /// Summaries within the point (`http.response_time`, `http.response_time.corrected`).
    pub summaries: BTreeMap<String, Summary>,
    /// Active VUs at the end of the point.
    pub active_vus: u64,
    /// Highest active-VU reading within the point.
    #[serde(default)]
    pub active_vus_max: u64,
    /// Histograms within the point (`http.response_time`, `http.response_time.corrected`), base64
    /// V2+DEFLATE.
    pub histograms: BTreeMap<String, String>,
    /// Gauges over the point: `generator.cpu` (time-weighted mean CPU use, percent of all cores)
    /// and `generator.cpu_max` (highest tick), when the runner measured CPU. Absent in older
    /// reports.
    #[serde(default)]
    pub gauges: BTreeMap<String, f64>,
}

/// Why a report could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReportError {
    /// Not valid JSON, or not the shape of a report.
    #[error("invalid report JSON: {0}")]
    Json(#[from] serde_json::Error),
    /// A report of another schema (or not a hornet report at all).
    #[error("unsupported report schema {found:?} (expected {SCHEMA:?})")]
    Schema {
        /// The `schema` field found, if any.
        found: Option<String>,
    },
}

impl Report {
    /// Parses a report, checking the schema first so an unrelated JSON file gets a clear error.
    pub fn from_json(json: &str) -> Result<Report, ReportError> {
        #[derive(Deserialize)]
        struct Probe {
            schema: Option<serde_json::Value>,
        }
        let probe: Probe = serde_json::from_str(json)?;
        match probe.schema {
            Some(serde_json::Value::String(s)) if s == SCHEMA => Ok(serde_json::from_str(json)?),
            Some(serde_json::Value::String(s)) => Err(ReportError::Schema { found: Some(s) }),
            _ => Err(ReportError::Schema { found: None }),
        }
    }

    /// Serializes the report as pretty-printed JSON.
    pub fn to_json(&self) -> Result<String, serde_json::Error> {
        serde_json::to_string_pretty(self)
    }

    /// Responses by status code (the `http.codes.<code>` counters), sorted by code.
    pub fn status_codes(&self) -> Vec<(u16, u64)> {
        status_codes(&self.aggregate.counters)
    }

    /// A run-wide counter, 0 when absent.
    pub fn counter(&self, key: &str) -> u64 {
        self.aggregate.counters.get(key).copied().unwrap_or(0)
    }

    /// The run's failed requests: every error (the `errors` counter) and every response with an
    /// unexpected status (the endpoints' `failed_codes`). The total of the "failures" figures.
    pub fn failures(&self) -> u64 {
        let failed_codes: u64 = self.endpoints.iter().flat_map(|e| e.failed_codes.values()).sum();
        self.counter("errors") + failed_codes
    }

    /// A run-wide rate, 0 when absent.
    pub fn rate(&self, key: &str) -> f64 {
        self.aggregate.rates.get(key).copied().unwrap_or(0.0)
    }

    /// A run-wide summary, if that metric was recorded.
    pub fn summary(&self, key: &str) -> Option<&Summary> {
        self.aggregate.summaries.get(key)
    }

    /// The metrics a processor reported with `events.emit` (every name outside hornet's own
    /// families, see [`crate::is_processor_metric`]), by kind and in name order.
    pub fn processor_metrics(&self) -> ProcessorMetrics<'_> {
        let a = &self.aggregate;
        let mine = |k: &&String| crate::is_processor_metric(k);
        ProcessorMetrics {
            counters: a.counters.iter().filter(|(k, _)| mine(k)).map(|(k, n)| (k.as_str(), *n)).collect(),
            rates: a.rates.iter().filter(|(k, _)| mine(k)).map(|(k, v)| (k.as_str(), *v)).collect(),
            histograms: a.summaries.iter().filter(|(k, _)| mine(k)).map(|(k, s)| (k.as_str(), s)).collect(),
        }
    }

    /// Stores the outcome of the run's checks and its apdex (replacing any stored before).
    /// The checks are evaluated elsewhere (the `hornet-verdict` crate) from this report's figures.
    pub fn set_verdicts(&mut self, checks: Vec<CheckReport>, apdex: Option<Apdex>) {
        self.checks = checks;
        self.apdex = apdex;
    }

    /// Number of strict checks that failed: the run failed if this is not 0.
    pub fn failed_checks(&self) -> usize {
        self.checks.iter().filter(|c| c.strict && !c.ok).count()
    }

    /// The apdex for threshold `threshold_ms`, computed from the run-wide `http.response_time`
    /// histogram (see [`Apdex::from_histogram`]). An error if that histogram is missing or cannot
    /// be decoded.
    pub fn compute_apdex(&self, threshold_ms: f64) -> Result<Apdex, HistogramError> {
        let b64 = self
            .aggregate
            .histograms
            .get(RESPONSE_TIME)
            .ok_or(HistogramError::Format("the report has no http.response_time histogram"))?;
        Ok(Apdex::from_histogram(&decode_histogram(b64)?, threshold_ms))
    }
}

/// The `http.codes.<code>` entries of a counter map (run-wide or one interval's), sorted by code.
pub fn status_codes(counters: &BTreeMap<String, u64>) -> Vec<(u16, u64)> {
    let mut codes: Vec<(u16, u64)> = counters
        .iter()
        .filter_map(|(k, &n)| Some((k.strip_prefix("http.codes.")?.parse().ok()?, n)))
        .collect();
    codes.sort_unstable();
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn status_codes_are_the_code_counters_in_numeric_order() {
        let counters: BTreeMap<String, u64> = [
            ("http.codes.503", 2),
            ("http.codes.1000", 1),
            ("http.codes.200", 7),
            ("http.codes.x", 9),
            ("http.requests", 10),
        ]
        .into_iter()
        .map(|(k, v)| (k.to_string(), v))
        .collect();
        assert_eq!(status_codes(&counters), [(200, 7), (503, 2), (1000, 1)]);
    }
}
