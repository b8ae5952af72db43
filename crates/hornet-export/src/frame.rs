//! The one model every exporter encodes: a [`Frame`] of metric families built from the merged
//! aggregate at one moment, with hornet's names and labels, and the [`Labeler`] that keeps the
//! label values of a run bounded (the first endpoints and status codes get their own series, the
//! rest are summed under `other`) and stable from one frame to the next.

use std::collections::BTreeMap;
use std::time::SystemTime;

use hornet_metrics::{Aggregator, ErrorKind, Latency, LatencySum, LiveEndpoint};
use hornet_script::Plan;

use crate::native::NativeHistogram;

/// The upper bounds of the classic latency buckets, µs: 100 µs to 60 s in 1-2.5-5 steps.
pub const LATENCY_BUCKETS_US: [u64; 18] = [
    100, 250, 500, 1_000, 2_500, 5_000, 10_000, 25_000, 50_000, 100_000, 250_000, 500_000, 1_000_000,
    2_500_000, 5_000_000, 10_000_000, 25_000_000, 60_000_000,
];

/// Reads one figure of a summary.
type SummaryField = fn(&hornet_metrics::Summary) -> f64;

/// The quantiles of the whole-run gauges, with the summary field each reads.
const QUANTILES: [(f64, SummaryField); 3] = [(0.5, |s| s.p50), (0.95, |s| s.p95), (0.99, |s| s.p99)];

/// The most distinct status codes a run exports; later codes count under `status="other"`.
pub const MAX_STATUS_CODES: usize = 20;

/// The label value that stands for the values past a cap.
pub const OTHER: &str = "other";

/// The `scenario` of an endpoint several scenarios use.
pub const SHARED_SCENARIO: &str = "*";

/// What a metric family is.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    /// A cumulative count; its samples are named `<name>_total`.
    Counter,
    /// A value that goes up and down.
    Gauge,
    /// Cumulative `le` buckets with `_bucket`, `_sum` and `_count` samples.
    Histogram,
    /// Quantiles (`quantile` label) over the whole run, with `_sum` and `_count` samples.
    Summary,
}

/// A value of one series.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// A counter's count.
    Counter(u64),
    /// A gauge's value.
    Gauge(f64),
    /// A classic histogram, in seconds.
    Histogram(HistogramValue),
    /// Whole-run quantiles, in seconds.
    Summary(SummaryValue),
}

/// A summary's samples: the report's whole-run quantiles.
#[derive(Debug, Clone, PartialEq)]
pub struct SummaryValue {
    /// `(quantile, value)`: 0.5, 0.95 and 0.99, seconds.
    pub quantiles: Vec<(f64, f64)>,
    /// Number of values.
    pub count: u64,
    /// Sum of the values, seconds.
    pub sum: f64,
}

impl SummaryValue {
    /// The report's p50, p95 and p99 of `latency`, from its merged HdrHistogram.
    fn of(latency: Latency<'_>) -> SummaryValue {
        let summary = latency.summary();
        SummaryValue {
            // The summary is in ms to the µs: back to whole µs first, so 9.46 ms is 0.00946 s.
            quantiles: QUANTILES
                .iter()
                .map(|(q, read)| (*q, (read(&summary) * 1000.0).round() / 1e6))
                .collect(),
            count: latency.count(),
            sum: seconds(latency.sum_us()),
        }
    }
}

/// A classic histogram's samples.
#[derive(Debug, Clone, PartialEq)]
pub struct HistogramValue {
    /// `(le, values at most le)` for each bound of [`LATENCY_BUCKETS_US`], in seconds; `+Inf` is
    /// `count`.
    pub buckets: Vec<(f64, u64)>,
    /// Number of values.
    pub count: u64,
    /// Sum of the values, seconds.
    pub sum: f64,
    /// One traced request per bucket at most (its index in `buckets`, `buckets.len()` for
    /// `+Inf`), the slowest kept in it: OpenMetrics exemplars.
    pub exemplars: Vec<(usize, Exemplar)>,
    /// The same values as a native histogram, when the frame was built with
    /// [`Histograms::Native`] (remote write sends it instead of the classic buckets).
    pub native: Option<NativeHistogram>,
}

/// Which histograms a frame carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Histograms {
    /// Classic `le` buckets only.
    Classic,
    /// Classic buckets and native histograms (`--prometheus-rw-native`).
    Native,
}

/// A request a bucket's count includes, with the trace id it was sent with.
#[derive(Debug, Clone, PartialEq)]
pub struct Exemplar {
    /// 32 hex digits.
    pub trace_id: String,
    /// Its response time, seconds.
    pub value: f64,
}

impl HistogramValue {
    fn of(latency: Latency<'_>) -> HistogramValue {
        let counts = latency.cumulative_counts(&LATENCY_BUCKETS_US);
        HistogramValue {
            buckets: LATENCY_BUCKETS_US.iter().map(|&b| seconds(b)).zip(counts).collect(),
            count: latency.count(),
            sum: seconds(latency.sum_us()),
            exemplars: Vec::new(),
            native: None,
        }
    }

    /// With the native histogram of `latency` too, when `histograms` asks for it.
    fn with_native(mut self, latency: Latency<'_>, histograms: Histograms) -> HistogramValue {
        if histograms == Histograms::Native {
            self.native = Some(NativeHistogram::of(latency));
        }
        self
    }

    /// With `traced` (each request's latency in ms, trace id) as exemplars: the slowest in each
    /// bucket.
    pub(crate) fn with_exemplars<'t>(
        mut self,
        traced: impl Iterator<Item = (f64, &'t str)>,
    ) -> HistogramValue {
        for (ms, trace_id) in traced {
            let us = (ms * 1000.0).round() as u64;
            let bucket = LATENCY_BUCKETS_US.partition_point(|&b| b < us);
            let value = seconds(us);
            match self.exemplars.iter_mut().find(|(i, _)| *i == bucket) {
                Some((_, e)) if e.value >= value => {}
                Some((_, e)) => *e = Exemplar { trace_id: trace_id.to_owned(), value },
                None => self.exemplars.push((bucket, Exemplar { trace_id: trace_id.to_owned(), value })),
            }
        }
        self.exemplars.sort_by_key(|(i, _)| *i);
        self
    }
}

/// One series: its own labels (the run's labels, `testid` first, are added by the encoders) and
/// its value.
#[derive(Debug, Clone, PartialEq)]
pub struct Series {
    /// Label names and values, in order.
    pub labels: Vec<(&'static str, String)>,
    /// The value.
    pub value: Value,
}

/// A metric family: a name, its help and kind, and its series.
#[derive(Debug, Clone, PartialEq)]
pub struct Family {
    /// The name without `_total`, `_bucket`, ... (`hornet_requests`).
    pub name: &'static str,
    /// One line saying what it is.
    pub help: &'static str,
    /// Counter, gauge or histogram.
    pub kind: Kind,
    /// Its series; a family may have none yet.
    pub series: Vec<Series>,
}

/// Every family of a run at one moment.
#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    /// When it was taken, ms since the Unix epoch.
    pub timestamp_ms: i64,
    /// When its counts started, ms since the Unix epoch: the start of the run, or of the
    /// statistics' last reset (the start of OTLP's cumulative points).
    pub start_ms: i64,
    /// The families, in a fixed order.
    pub families: Vec<Family>,
}

impl Frame {
    /// The family named `name`, if the frame has it.
    pub fn family(&self, name: &str) -> Option<&Family> {
        self.families.iter().find(|f| f.name == name)
    }
}

/// The families hornet exports, with their help: the list docs/observability.md describes and the
/// dashboard's test checks queries against.
pub const FAMILIES: [(&str, Kind, &str); 21] = [
    ("hornet_requests", Kind::Counter, "Requests sent (WebSocket steps started), by endpoint."),
    ("hornet_responses", Kind::Counter, "Responses received, by endpoint and status code."),
    (
        "hornet_failures",
        Kind::Counter,
        "Failed requests by endpoint: errors of every kind and responses with an unexpected status.",
    ),
    ("hornet_errors", Kind::Counter, "Errors by kind, by endpoint (none for errors outside a request)."),
    ("hornet_sent_bytes", Kind::Counter, "Request bytes written, by endpoint."),
    ("hornet_received_bytes", Kind::Counter, "Response bytes received, by endpoint."),
    ("hornet_request_duration_seconds", Kind::Histogram, "Response time (issued to last byte), by endpoint."),
    (
        "hornet_request_duration_corrected_seconds",
        Kind::Histogram,
        "Corrected latency (intended start to last byte), by endpoint.",
    ),
    (
        "hornet_request_duration_run_seconds",
        Kind::Summary,
        "Whole-run response-time quantiles by endpoint, from the report's merged HdrHistogram.",
    ),
    (
        "hornet_request_duration_corrected_run_seconds",
        Kind::Summary,
        "Whole-run corrected-latency quantiles by endpoint, from the report's merged HdrHistogram.",
    ),
    (
        "hornet_http_request_duration_run_seconds",
        Kind::Summary,
        "Whole-run response-time quantiles over every HTTP endpoint (the report's http.response_time).",
    ),
    (
        "hornet_http_request_duration_corrected_run_seconds",
        Kind::Summary,
        "Whole-run corrected-latency quantiles over every HTTP endpoint (http.response_time.corrected).",
    ),
    ("hornet_active_vus", Kind::Gauge, "VUs in flight at the latest tick."),
    ("hornet_vusers_created", Kind::Counter, "VUs started, by scenario."),
    ("hornet_vusers_completed", Kind::Counter, "VUs that finished their flow."),
    ("hornet_vusers_failed", Kind::Counter, "VUs whose flow failed."),
    ("hornet_requests_dropped", Kind::Counter, "Request-rate tokens that found no free VU."),
    ("hornet_schedule_lag_seconds", Kind::Histogram, "How late the generator started each arrival."),
    ("hornet_schedule_lag_run_seconds", Kind::Summary, "Whole-run schedule-lag quantiles."),
    (
        "hornet_generator_cpu_ratio",
        Kind::Gauge,
        "The generator's CPU use during the latest tick, as a fraction of all cores.",
    ),
    ("hornet_run_info", Kind::Gauge, "Always 1: the run exists, with hornet's version."),
];

/// An endpoint's labels: `scenario`, `endpoint`, `method`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
struct EndpointKey {
    scenario: String,
    endpoint: String,
    method: String,
}

impl EndpointKey {
    fn labels(&self) -> Vec<(&'static str, String)> {
        vec![
            ("scenario", self.scenario.clone()),
            ("endpoint", self.endpoint.clone()),
            ("method", self.method.clone()),
        ]
    }

    fn other() -> EndpointKey {
        EndpointKey { scenario: String::new(), endpoint: OTHER.into(), method: String::new() }
    }
}

/// Keeps a run's label values bounded and stable: which endpoints and status codes have series of
/// their own (the first seen, up to the caps), and the warnings about the rest (each said once).
#[derive(Debug, Clone)]
pub struct Labeler {
    /// The plan's endpoints' labels, by index.
    planned: Vec<EndpointKey>,
    /// The labels each endpoint index exports under, once seen.
    assigned: Vec<Option<EndpointKey>>,
    /// Endpoint indices given series of their own so far.
    distinct_endpoints: usize,
    max_endpoints: usize,
    /// Status codes given series of their own.
    codes: Vec<u16>,
    warnings: Vec<String>,
}

impl Labeler {
    /// The labeler of a run of `plan` that exports at most `max_endpoints` endpoints.
    pub fn new(plan: &Plan, max_endpoints: usize) -> Labeler {
        let planned = plan
            .endpoints
            .iter()
            .map(|e| EndpointKey {
                scenario: e.scenario.clone().unwrap_or_else(|| SHARED_SCENARIO.to_owned()),
                endpoint: e.name.clone(),
                method: e.method.clone().unwrap_or_default(),
            })
            .collect();
        Labeler {
            planned,
            assigned: Vec::new(),
            distinct_endpoints: 0,
            max_endpoints,
            codes: Vec::new(),
            warnings: Vec::new(),
        }
    }

    /// The warnings raised since the last call (each once).
    pub fn take_warnings(&mut self) -> Vec<String> {
        std::mem::take(&mut self.warnings)
    }

    /// The labels endpoint `e` exports under.
    fn endpoint(&mut self, e: &LiveEndpoint<'_>) -> EndpointKey {
        if let Some(Some(key)) = self.assigned.get(e.index) {
            return key.clone();
        }
        let key = if self.distinct_endpoints < self.max_endpoints {
            self.distinct_endpoints += 1;
            self.planned.get(e.index).cloned().unwrap_or_else(|| {
                // Named at run time (a processor's `context.http`): the name starts with the method.
                let name = e.name();
                let method = name.split_once(' ').map(|(m, _)| m).filter(|m| is_method(m)).unwrap_or("");
                EndpointKey { scenario: SHARED_SCENARIO.into(), method: method.to_owned(), endpoint: name }
            })
        } else {
            if self.distinct_endpoints == self.max_endpoints {
                self.distinct_endpoints += 1;
                self.warnings.push(format!(
                    "metrics export: more than {} endpoints; the rest are exported as endpoint=\"{OTHER}\" (--metrics-max-endpoints)",
                    self.max_endpoints
                ));
            }
            EndpointKey::other()
        };
        if self.assigned.len() <= e.index {
            self.assigned.resize(e.index + 1, None);
        }
        self.assigned[e.index] = Some(key.clone());
        key
    }

    /// The `status` label of status code `code`.
    fn status(&mut self, code: u16) -> String {
        if self.codes.contains(&code) {
            return code.to_string();
        }
        if self.codes.len() < MAX_STATUS_CODES {
            self.codes.push(code);
            return code.to_string();
        }
        if self.codes.len() == MAX_STATUS_CODES {
            // One past the cap marks that the warning was given.
            self.codes.push(0);
            self.warnings.push(format!(
                "metrics export: more than {MAX_STATUS_CODES} status codes; the rest are exported as status=\"{OTHER}\""
            ));
        }
        OTHER.to_owned()
    }
}

/// An HTTP method's name: upper-case letters.
fn is_method(word: &str) -> bool {
    !word.is_empty() && word.len() <= 10 && word.bytes().all(|b| b.is_ascii_uppercase())
}

/// The counters one set of endpoint labels adds up to, live or from a saved report; `K` names an
/// error kind.
pub(crate) struct Counts<K> {
    pub(crate) requests: u64,
    pub(crate) failures: u64,
    pub(crate) sent: u64,
    pub(crate) received: u64,
    /// Responses by status label.
    pub(crate) codes: BTreeMap<String, u64>,
    pub(crate) errors: BTreeMap<K, u64>,
}

impl<K> Default for Counts<K> {
    fn default() -> Self {
        Counts {
            requests: 0,
            failures: 0,
            sent: 0,
            received: 0,
            codes: BTreeMap::new(),
            errors: BTreeMap::new(),
        }
    }
}

impl<K: std::fmt::Display> Counts<K> {
    /// Puts the counter series under `labels`: requests, responses by status, failures, errors by
    /// kind, bytes sent and received.
    pub(crate) fn put(
        &self,
        labels: &[(&'static str, String)],
        put: &mut impl FnMut(&str, Vec<(&'static str, String)>, Value),
    ) {
        let with = |name: &'static str, value: String| {
            let mut l = labels.to_vec();
            l.push((name, value));
            l
        };
        put("hornet_requests", labels.to_vec(), Value::Counter(self.requests));
        for (status, &n) in &self.codes {
            put("hornet_responses", with("status", status.clone()), Value::Counter(n));
        }
        put("hornet_failures", labels.to_vec(), Value::Counter(self.failures));
        for (kind, &n) in &self.errors {
            put("hornet_errors", with("kind", kind.to_string()), Value::Counter(n));
        }
        put("hornet_sent_bytes", labels.to_vec(), Value::Counter(self.sent));
        put("hornet_received_bytes", labels.to_vec(), Value::Counter(self.received));
    }
}

/// Everything one set of endpoint labels adds up to (one endpoint, or several under `other`).
#[derive(Default)]
struct EndpointSum<'a> {
    counts: Counts<ErrorKind>,
    response_time: Merged<'a>,
    corrected: Merged<'a>,
}

/// One histogram read in place, or several merged.
#[derive(Default)]
enum Merged<'a> {
    #[default]
    Empty,
    One(Latency<'a>),
    Many(LatencySum),
}

impl<'a> Merged<'a> {
    fn add(&mut self, l: Latency<'a>) {
        *self = match std::mem::take(self) {
            Merged::Empty => Merged::One(l),
            Merged::One(first) => {
                let mut sum = LatencySum::default();
                sum.add(first);
                sum.add(l);
                Merged::Many(sum)
            }
            Merged::Many(mut sum) => {
                sum.add(l);
                Merged::Many(sum)
            }
        };
    }

    fn read<T>(&self, f: impl FnOnce(Latency<'_>) -> T) -> T {
        match self {
            Merged::Empty => f(LatencySum::default().latency()),
            Merged::One(l) => f(*l),
            Merged::Many(sum) => f(sum.latency()),
        }
    }
}

/// Builds the frame of `aggregate` now, naming endpoints and status codes through `labeler`, with
/// the latency histograms `histograms` asks for.
pub fn build(aggregate: &Aggregator, labeler: &mut Labeler, histograms: Histograms) -> Frame {
    let live = aggregate.live();
    let mut families: Vec<Family> =
        FAMILIES.iter().map(|&(name, kind, help)| Family { name, help, kind, series: Vec::new() }).collect();
    let mut put = |name: &str, labels: Vec<(&'static str, String)>, value: Value| {
        if let Some(f) = families.iter_mut().find(|f| f.name == name) {
            f.series.push(Series { labels, value });
        }
    };

    // Traced requests that got a response (so their time is in the histogram), by endpoint name.
    let traced = aggregate.traced_requests();
    let mut sums: BTreeMap<EndpointKey, EndpointSum<'_>> = BTreeMap::new();
    for e in aggregate.live_endpoints() {
        let errors = e.errors();
        if e.requests == 0 && e.failures == 0 && errors.is_empty() {
            continue;
        }
        let key = labeler.endpoint(&e);
        let sum = sums.entry(key).or_default();
        sum.counts.requests += e.requests;
        sum.counts.failures += e.failures;
        sum.counts.sent += e.bytes_sent();
        sum.counts.received += e.bytes_received;
        for &(code, n) in e.codes() {
            *sum.counts.codes.entry(labeler.status(code)).or_default() += n;
        }
        for (kind, n) in errors {
            *sum.counts.errors.entry(kind).or_default() += n;
        }
        sum.response_time.add(e.response_time());
        sum.corrected.add(e.corrected());
    }
    for (key, sum) in &sums {
        let labels = key.labels();
        sum.counts.put(&labels, &mut put);
        sum.response_time.read(|l| {
            let histogram = HistogramValue::of(l).with_native(l, histograms);
            let histogram = if key.endpoint == OTHER {
                histogram
            } else {
                histogram.with_exemplars(
                    traced
                        .iter()
                        .filter(|t| t.endpoint == key.endpoint && t.status.is_some())
                        .map(|t| (t.latency_ms, t.trace_id.as_str())),
                )
            };
            put("hornet_request_duration_seconds", labels.clone(), Value::Histogram(histogram));
            put("hornet_request_duration_run_seconds", labels.clone(), Value::Summary(SummaryValue::of(l)));
        });
        sum.corrected.read(|l| {
            put(
                "hornet_request_duration_corrected_seconds",
                labels.clone(),
                Value::Histogram(HistogramValue::of(l).with_native(l, histograms)),
            );
            put(
                "hornet_request_duration_corrected_run_seconds",
                labels.clone(),
                Value::Summary(SummaryValue::of(l)),
            );
        });
    }

    let all = SummaryValue::of(aggregate.all_response_times());
    put("hornet_http_request_duration_run_seconds", Vec::new(), Value::Summary(all));
    let corrected = SummaryValue::of(aggregate.all_corrected().latency());
    put("hornet_http_request_duration_corrected_run_seconds", Vec::new(), Value::Summary(corrected));
    for (kind, n) in aggregate.unattributed_errors() {
        put("hornet_errors", vec![("kind", kind.to_string())], Value::Counter(n));
    }
    put("hornet_active_vus", Vec::new(), Value::Gauge(live.active_vus as f64));
    for (scenario, n) in aggregate.vus_created_by_scenario() {
        put("hornet_vusers_created", vec![("scenario", scenario)], Value::Counter(n));
    }
    put("hornet_vusers_completed", Vec::new(), Value::Counter(live.vus_completed));
    put("hornet_vusers_failed", Vec::new(), Value::Counter(live.vus_failed));
    put("hornet_requests_dropped", Vec::new(), Value::Counter(live.dropped));
    let lag = aggregate.schedule_lag();
    put(
        "hornet_schedule_lag_seconds",
        Vec::new(),
        Value::Histogram(HistogramValue::of(lag).with_native(lag, histograms)),
    );
    put("hornet_schedule_lag_run_seconds", Vec::new(), Value::Summary(SummaryValue::of(lag)));
    if let Some(cpu) = live.cpu_percent {
        put("hornet_generator_cpu_ratio", Vec::new(), Value::Gauge(cpu / 100.0));
    }
    put("hornet_run_info", vec![("version", env!("CARGO_PKG_VERSION").to_owned())], Value::Gauge(1.0));
    let timestamp_ms = now_ms();
    let since = live.elapsed.saturating_sub(aggregate.reset_at().unwrap_or_default());
    let start_ms = timestamp_ms - millis(since);
    Frame { timestamp_ms, start_ms, families }
}

/// A duration in whole ms.
pub(crate) fn millis(d: std::time::Duration) -> i64 {
    i64::try_from(d.as_millis()).unwrap_or(i64::MAX)
}

/// Microseconds as seconds.
fn seconds(us: u64) -> f64 {
    us as f64 / 1e6
}

/// Now, ms since the Unix epoch.
fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(SystemTime::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hornet_metrics::{ErrorKind, Recorder, Timings};

    use super::*;

    /// A plan of three endpoints, `a` and `b` in scenario `s1`, `c` in `s2` (POST).
    fn plan() -> Plan {
        let yaml = "config:\n  target: http://h\nscenarios:\n  - name: s1\n    flow:\n      - get: { url: /a, name: a }\n      - get: { url: /b, name: b }\n  - name: s2\n    flow:\n      - post: { url: /c, name: c }\n";
        hornet_script::parse_str(yaml, "p.yaml", &Default::default()).expect("a plan")
    }

    /// `n` responses of endpoint `ep` with status `code`, taking `ms` milliseconds each.
    fn responses(r: &mut Recorder, ep: u32, n: u64, code: u16, ms: u64) {
        let t = Timings { total: Duration::from_millis(ms), ..Timings::default() };
        for _ in 0..n {
            r.request_sent(ep, 10);
            r.response(ep, code, &t, 100);
        }
    }

    fn aggregate(fill: impl FnOnce(&mut Recorder)) -> Aggregator {
        let plan = plan();
        let mut agg = Aggregator::new(
            plan.endpoint_names().iter().map(|n| n.to_string()).collect(),
            vec!["s1".into(), "s2".into()],
        );
        let mut r = Recorder::new(plan.endpoints.len(), 2);
        fill(&mut r);
        agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 4);
        agg
    }

    /// The value of the series of `family` whose labels include `labels`.
    fn value<'f>(frame: &'f Frame, family: &str, labels: &[(&str, &str)]) -> Option<&'f Value> {
        frame.family(family)?.series.iter().find_map(|s| {
            let all = labels.iter().all(|(n, v)| s.labels.iter().any(|(sn, sv)| sn == n && sv == v));
            all.then_some(&s.value)
        })
    }

    #[test]
    fn endpoints_carry_their_scenario_and_method_and_the_report_s_figures() {
        let agg = aggregate(|r| {
            responses(r, 0, 10, 200, 5);
            responses(r, 2, 4, 500, 50);
            r.error(Some(2), ErrorKind::Timeout, &"slow");
            r.error(None, ErrorKind::Processor, &"outside");
        });
        let frame = build(&agg, &mut Labeler::new(&plan(), 10), Histograms::Classic);
        let a = [("scenario", "s1"), ("endpoint", "a"), ("method", "GET")];
        assert_eq!(value(&frame, "hornet_requests", &a), Some(&Value::Counter(10)));
        let c = [("scenario", "s2"), ("endpoint", "c"), ("method", "POST")];
        assert_eq!(
            value(&frame, "hornet_failures", &c),
            Some(&Value::Counter(5)),
            "4 statuses 500 and a timeout"
        );
        assert_eq!(
            value(&frame, "hornet_errors", &[("endpoint", "c"), ("kind", "timeout")]),
            Some(&Value::Counter(1))
        );
        let outside = frame
            .family("hornet_errors")
            .and_then(|f| f.series.iter().find(|s| s.labels == [("kind", "processor".to_owned())]));
        assert_eq!(outside.map(|s| &s.value), Some(&Value::Counter(1)));
        assert_eq!(
            value(&frame, "hornet_responses", &[("endpoint", "c"), ("status", "500")]),
            Some(&Value::Counter(4))
        );
        assert!(value(&frame, "hornet_requests", &[("endpoint", "b")]).is_none(), "b sent nothing");
        let Some(Value::Summary(q)) = value(&frame, "hornet_request_duration_run_seconds", &a) else {
            panic!("no summary")
        };
        assert_eq!((q.count, q.quantiles[1]), (10, (0.95, 0.005)));
        let Some(Value::Histogram(h)) = value(&frame, "hornet_request_duration_seconds", &c) else {
            panic!("no histogram")
        };
        let at = |le: f64| h.buckets.iter().find(|b| b.0 == le).map(|b| b.1);
        assert_eq!((at(0.025), at(0.05), h.count), (Some(0), Some(4), 4));
        assert_eq!(value(&frame, "hornet_active_vus", &[]), Some(&Value::Gauge(4.0)));
        assert_eq!(value(&frame, "hornet_vusers_created", &[("scenario", "s2")]), Some(&Value::Counter(0)));
    }

    #[test]
    fn endpoints_past_the_cap_are_summed_as_other_with_one_warning() {
        let agg = aggregate(|r| {
            responses(r, 0, 10, 200, 5);
            responses(r, 1, 3, 200, 20);
            responses(r, 2, 2, 200, 40);
        });
        let mut labeler = Labeler::new(&plan(), 1);
        let frame = build(&agg, &mut labeler, Histograms::Classic);
        assert_eq!(value(&frame, "hornet_requests", &[("endpoint", "a")]), Some(&Value::Counter(10)));
        assert_eq!(value(&frame, "hornet_requests", &[("endpoint", OTHER)]), Some(&Value::Counter(5)));
        let Some(Value::Summary(q)) =
            value(&frame, "hornet_request_duration_run_seconds", &[("endpoint", OTHER)])
        else {
            panic!("no summary for other")
        };
        assert_eq!((q.count, q.quantiles[2]), (5, (0.99, 0.04)), "the merged histogram's p99");
        assert_eq!(labeler.take_warnings().len(), 1);
        let again = build(&agg, &mut labeler, Histograms::Classic);
        assert_eq!(
            again.family("hornet_requests"),
            frame.family("hornet_requests"),
            "the same series every time"
        );
        assert!(labeler.take_warnings().is_empty(), "the warning is given once");
    }

    #[test]
    fn status_codes_past_the_cap_count_as_other() {
        let agg = aggregate(|r| {
            for code in 200..=(200 + MAX_STATUS_CODES as u16) {
                responses(r, 0, 1, code, 1);
            }
        });
        let mut labeler = Labeler::new(&plan(), 10);
        let frame = build(&agg, &mut labeler, Histograms::Classic);
        let statuses = frame.family("hornet_responses").map_or(0, |f| f.series.len());
        assert_eq!(statuses, MAX_STATUS_CODES + 1);
        assert_eq!(value(&frame, "hornet_responses", &[("status", OTHER)]), Some(&Value::Counter(1)));
        assert_eq!(labeler.take_warnings().len(), 1);
    }
}
