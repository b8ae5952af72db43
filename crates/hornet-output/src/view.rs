//! The live view model: the endpoint table that the terminal dashboard and the web UI show (and
//! the web UI's final table after a run), shaped once from the aggregate or the report.
//!
//! It owns Locust's presentation of endpoints: one row per endpoint with Locust's columns, the
//! split of a `GET /path` name into its Type (`GET`) and Name (`/path`), the order (most requests
//! first, ties in the plan's order), and folding: past a limit the other endpoints share one
//! `other (N endpoints)` row, so a run with thousands of names costs the same per tick. The
//! numbers are written by [`crate::format`].

use hornet_metrics::report::RESPONSE_TIME;
use hornet_metrics::{Aggregator, LiveEndpoint, Protocol, Report, Summary};
use serde::Serialize;

/// Name of the totals row, as in Locust.
pub const TOTAL_NAME: &str = "Aggregated";

/// HTTP methods recognized at the start of an endpoint's name.
const METHODS: [&str; 9] = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT"];

/// Locust's Type and Name columns of an endpoint named `name`.
///
/// With the endpoint's `method` known (from the plan), Type is that method and a leading
/// `METHOD ` is taken off the name. Without it, a WebSocket step's Type is `WS` with the whole name,
/// and an HTTP endpoint whose name starts with a method and a space is split there (`GET /items` →
/// `GET`, `/items`); any other name has an empty Type.
pub fn type_and_name<'a>(name: &'a str, method: Option<&'a str>, protocol: Protocol) -> (&'a str, &'a str) {
    if let Some(m) = method {
        let rest = name.strip_prefix(m).and_then(|r| r.strip_prefix(' '));
        return (m, rest.unwrap_or(name));
    }
    if protocol == Protocol::Ws {
        return ("WS", name);
    }
    match name.split_once(' ') {
        Some((m, rest)) if METHODS.contains(&m) => (m, rest.trim_start()),
        _ => ("", name),
    }
}

/// One row of an endpoint table (Locust's columns): cumulative since the start, with the rates of
/// the latest tick. Serialized as a row of the web UI's Statistics tab (`docs/web-ui.md`).
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct EndpointRow {
    /// The method when known or when the name starts with one, `WS` for a WebSocket step, else `""`.
    #[serde(rename = "type")]
    pub kind: String,
    /// The name, without the method in `kind`.
    pub name: String,
    /// HTTP request or WebSocket step (then the times are connect, round-trip or wait times).
    #[serde(skip)]
    pub protocol: Protocol,
    /// Requests sent since the start.
    pub requests: u64,
    /// Failed requests since the start (errors of every kind on this endpoint).
    pub failures: u64,
    /// Median response time since the start, ms.
    pub median_ms: f64,
    /// 90th percentile response time since the start, ms.
    pub p90_ms: f64,
    /// 95th percentile response time since the start, ms.
    #[serde(skip)]
    pub p95_ms: f64,
    /// 99th percentile response time since the start, ms.
    pub p99_ms: f64,
    /// Mean response time since the start, ms.
    #[serde(rename = "avg_ms")]
    pub mean_ms: f64,
    /// Fastest response since the start, ms (0 before the first).
    pub min_ms: f64,
    /// Slowest response since the start, ms.
    pub max_ms: f64,
    /// Mean bytes received per response (0 before the first).
    pub avg_size: f64,
    /// Requests per second during the latest tick.
    pub current_rps: f64,
    /// Failures per second during the latest tick.
    pub current_failures_per_s: f64,
}

impl EndpointRow {
    fn set_latency(&mut self, s: &Summary) {
        self.median_ms = s.p50;
        self.p90_ms = s.p90;
        self.p95_ms = s.p95;
        self.p99_ms = s.p99;
        self.mean_ms = s.mean;
        self.min_ms = s.min;
        self.max_ms = s.max;
    }

    fn named(name: &str, method: Option<&str>, protocol: Protocol) -> EndpointRow {
        let (kind, name) = type_and_name(name, method, protocol);
        EndpointRow { kind: kind.to_owned(), name: name.to_owned(), protocol, ..EndpointRow::default() }
    }
}

/// An endpoint table that stays small with many endpoint names.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct EndpointTable {
    /// The endpoints with the most requests (ties in the plan's order), at most the limit asked
    /// for.
    pub rows: Vec<EndpointRow>,
    /// The other endpoints folded into one row, with how many they are. Its counts, rates, mean,
    /// min, max and size are exact; its percentiles are 0 (not computed: that would mean merging
    /// every folded endpoint's histogram each time).
    pub other: Option<(usize, EndpointRow)>,
    /// All endpoints together, named [`TOTAL_NAME`].
    pub total: EndpointRow,
    /// How many endpoints the table covers (shown or folded).
    pub endpoints: usize,
}

/// `total / count`, 0 when `count` is 0.
fn mean(total: f64, count: u64) -> f64 {
    if count > 0 { total / count as f64 } else { 0.0 }
}

impl EndpointTable {
    /// The live table after the latest tick: only the `limit` endpoints with the most requests get a
    /// row of their own (so only their percentiles are computed) and the others are folded; the
    /// totals' percentiles come from the run-wide response-time histogram. `methods` is the method
    /// of each endpoint by plan index, where known (see [`type_and_name`]). The cost is per call,
    /// whatever the request rate: the counts of every endpoint, plus percentiles for at most
    /// `limit` endpoints and the totals.
    pub fn live(agg: &Aggregator, limit: usize, methods: &[Option<String>]) -> EndpointTable {
        let secs = agg.latest_tick_seconds();
        let per_s = |n: u64| if secs > 0.0 { n as f64 / secs } else { 0.0 };
        let mut endpoints = agg.live_endpoints();
        // Stable: ties keep the plan's order.
        endpoints.sort_by_key(|e| std::cmp::Reverse(e.requests));
        let (mut total, mut other) = (Sum::default(), Sum::default());
        let (mut other_min, mut other_max, mut other_sum, mut other_count) = (u64::MAX, 0u64, 0u64, 0u64);
        let mut rows = Vec::with_capacity(limit.min(endpoints.len()));
        for (rank, e) in endpoints.iter().enumerate() {
            let counts = [e.requests, e.failures, e.responses, e.bytes_received];
            let rates = [per_s(e.tick_requests), per_s(e.tick_failures)];
            total.add(counts, rates);
            if rank < limit {
                let method = methods.get(e.index).and_then(Option::as_deref);
                rows.push(live_row(e, method, per_s));
                continue;
            }
            other.add(counts, rates);
            let l = e.latency_totals();
            if l.count > 0 {
                other_min = other_min.min(l.min_us);
                other_max = other_max.max(l.max_us);
                other_sum = other_sum.saturating_add(l.sum_us);
                other_count += l.count;
            }
        }
        let mut total = total.row(TOTAL_NAME.to_owned());
        total.set_latency(&agg.response_time());
        let other = other.folded().map(|(folded, mut row)| {
            if other_count > 0 {
                row.min_ms = other_min as f64 / 1000.0;
                row.max_ms = other_max as f64 / 1000.0;
                row.mean_ms = (other_sum as f64 / other_count as f64).round() / 1000.0;
            }
            (folded, row)
        });
        EndpointTable { rows, other, total, endpoints: endpoints.len() }
    }

    /// The table of a finished run, from its report: as [`EndpointTable::live`] (without current
    /// rates, which are 0), the folded row's mean weighted by each endpoint's count.
    pub fn from_report(report: &Report, limit: usize) -> EndpointTable {
        let mut order: Vec<usize> = (0..report.endpoints.len()).collect();
        order.sort_by_key(|&i| std::cmp::Reverse(report.endpoints[i].requests));
        let mut rows = Vec::new();
        let (mut total, mut other) = (Sum::default(), Sum::default());
        let (mut count, mut sum_ms) = (0u64, 0.0);
        let (mut min, mut max) = (f64::INFINITY, 0.0f64);
        for (rank, &idx) in order.iter().enumerate() {
            let e = &report.endpoints[idx];
            let s = &e.summary;
            let counts = [e.requests, e.failures, e.responses, e.bytes_received];
            total.add(counts, [0.0; 2]);
            if rank < limit {
                let mut row = EndpointRow::named(&e.name, None, e.protocol);
                row.requests = e.requests;
                row.failures = e.failures;
                row.set_latency(s);
                row.avg_size = mean(e.bytes_received as f64, e.responses);
                rows.push(row);
                continue;
            }
            other.add(counts, [0.0; 2]);
            if s.count > 0 {
                count += s.count;
                sum_ms += s.mean * s.count as f64;
                min = min.min(s.min);
                max = max.max(s.max);
            }
        }
        let other = other.folded().map(|(folded, mut row)| {
            if count > 0 {
                row.mean_ms = sum_ms / count as f64;
                row.min_ms = min;
                row.max_ms = max;
            }
            (folded, row)
        });
        let mut total = total.row(TOTAL_NAME.to_owned());
        total.set_latency(&report.aggregate.summaries.get(RESPONSE_TIME).copied().unwrap_or_default());
        EndpointTable { rows, other, total, endpoints: report.endpoints.len() }
    }
}

/// Counts and current rates summed over several endpoints: the totals row, or the row the
/// endpoints past the limit are folded into.
#[derive(Debug, Default)]
struct Sum {
    endpoints: usize,
    requests: u64,
    failures: u64,
    responses: u64,
    bytes: u64,
    current_rps: f64,
    current_failures_per_s: f64,
}

impl Sum {
    /// Adds one endpoint's `[requests, failures, responses, bytes received]` and its current
    /// `[requests, failures]` per second.
    fn add(&mut self, [requests, failures, responses, bytes]: [u64; 4], [rps, fps]: [f64; 2]) {
        self.endpoints += 1;
        self.requests += requests;
        self.failures += failures;
        self.responses += responses;
        self.bytes += bytes;
        self.current_rps += rps;
        self.current_failures_per_s += fps;
    }

    /// The row named `name` with these counts, rates and mean size (and no latency yet).
    fn row(&self, name: String) -> EndpointRow {
        EndpointRow {
            name,
            requests: self.requests,
            failures: self.failures,
            avg_size: mean(self.bytes as f64, self.responses),
            current_rps: self.current_rps,
            current_failures_per_s: self.current_failures_per_s,
            ..EndpointRow::default()
        }
    }

    /// The `other (N endpoints)` row, with how many endpoints it folds; none when it folds none.
    fn folded(&self) -> Option<(usize, EndpointRow)> {
        (self.endpoints > 0)
            .then(|| (self.endpoints, self.row(format!("other ({} endpoints)", self.endpoints))))
    }
}

/// An endpoint's own row: its cumulative figures and the latest tick's rates.
fn live_row(e: &LiveEndpoint<'_>, method: Option<&str>, per_s: impl Fn(u64) -> f64) -> EndpointRow {
    let mut row = EndpointRow::named(&e.name(), method, e.protocol);
    row.requests = e.requests;
    row.failures = e.failures;
    row.set_latency(&e.latency());
    row.avg_size = mean(e.bytes_received as f64, e.responses);
    row.current_rps = per_s(e.tick_requests);
    row.current_failures_per_s = per_s(e.tick_failures);
    row
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn type_and_name_from_the_method_or_the_name() {
        let http = Protocol::Http;
        // The Locust CSV's split.
        assert_eq!(type_and_name("GET /items", None, http), ("GET", "/items"));
        assert_eq!(type_and_name("DELETE /a b", None, http), ("DELETE", "/a b"));
        assert_eq!(type_and_name("login", None, http), ("", "login"));
        assert_eq!(type_and_name("GET", None, http), ("", "GET"));
        assert_eq!(type_and_name("get /x", None, http), ("", "get /x"));
        assert_eq!(type_and_name("GETX /x", None, http), ("", "GETX /x"));
        assert_eq!(type_and_name("", None, http), ("", ""));
        // The web UI's: a WebSocket step is WS.
        assert_eq!(type_and_name("list items", None, http), ("", "list items"));
        assert_eq!(type_and_name("WS send hello", None, Protocol::Ws), ("WS", "WS send hello"));
        // The dashboard's: the method from the plan.
        assert_eq!(type_and_name("GET /a", Some("GET"), http), ("GET", "/a"));
        assert_eq!(type_and_name("home", Some("GET"), http), ("GET", "home"));
        assert_eq!(type_and_name("DELETE /x", None, http), ("DELETE", "/x"));
        assert_eq!(type_and_name("GET /odd", Some("POST"), http), ("POST", "GET /odd"));
    }
}
