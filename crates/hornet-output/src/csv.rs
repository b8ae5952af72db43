//! Locust-compatible CSV files (`--csv PREFIX`): `PREFIX_stats.csv`, `PREFIX_stats_history.csv` and
//! `PREFIX_failures.csv`, with Locust's column names in Locust's order, so scripts and notebooks
//! written for `locust --csv` read them unchanged.
//!
//! Unlike Locust, the files are written once, from the final [`Report`], so they are complete and
//! agree with the end-of-run summary: the `Aggregated` row of `_stats.csv` has the summary's Total
//! figures (`http.requests`, the failures, the run-wide histogram), and the failures' occurrences
//! add up to the same failure count. A failure is an error or a response whose status is not
//! expected (`config.http.expectedStatus`, 400 and above by default).
//!
//! # Columns and values
//!
//! * `_stats.csv`: `Type,Name,Request Count,Failure Count,Median Response Time,Average Response
//!   Time,Min Response Time,Max Response Time,Average Content Size,Requests/s,Failures/s,50%,66%,
//!   75%,80%,90%,95%,98%,99%,99.9%,99.99%,100%`. One row per endpoint in plan order (Locust sorts by
//!   name), then the `Aggregated` row, computed from the run-wide figures (the merged histogram, not
//!   an average of the rows). `Type` is the HTTP method when the endpoint name starts with one
//!   (`GET /items` → `GET`, `/items`), else empty with the whole name in `Name`.
//! * `_stats_history.csv`: `Timestamp,User Count,Type,Name,Requests/s,Failures/s,50%,…,100%,Total
//!   Request Count,Total Failure Count,Total Median Response Time,Total Average Response Time,Total
//!   Min Response Time,Total Max Response Time,Total Average Content Size`. One `Aggregated` row per
//!   timeline point (the report's timeline has no per-endpoint points, so there are never
//!   per-endpoint rows, as with Locust without `--csv-full-history`). `Timestamp` is the end of the
//!   point in whole Unix seconds, `User Count` the active VUs at its end, `Requests/s` and
//!   `Failures/s` the point's own rates (6 decimals, as Locust), the percentiles those of the
//!   responses completed within the point (like Locust's "current" percentiles), and the `Total …`
//!   columns cumulative from the start of the run to the end of the point. `Failures/s` and `Total
//!   Failure Count` count failures as `_stats.csv` does (the point's `failures` counter), so the
//!   last row's total is the `Aggregated` row's `Failure Count`.
//! * `_failures.csv`: `Method,Name,Error,Occurrences,First Seen,Last Seen` (the columns of Locust
//!   2.44 and later). One row per (endpoint, error kind) of the report's `errors`, endpoints in plan
//!   order, then errors not tied to a request (empty `Method` and `Name`), then one row per
//!   (endpoint, unexpected status) of the endpoints' `failed_codes`. `Error` is
//!   `<kind>: <first message>`, or `HTTP <status>: status not expected`. The report does not keep when each error was seen, so `First Seen`
//!   and `Last Seen` are empty.
//!
//! * `_processor_metrics.csv`, only when a processor reported metrics with `events.emit` (Locust has
//!   no such file, so its readers are not disturbed): `Name,Kind,Count,Rate/s,Min,Median,90%,95%,
//!   99%,Max,Average`. One row per counter (`Kind` `counter`, its count and count per second), rate
//!   (`rate`, events per second) and histogram (`histogram`, its count and statistics in the unit
//!   the processor gave), under the names the JSON report and `ensure` use; cells that do not apply
//!   are empty.
//!
//! Response times are in milliseconds with microsecond precision (`2.351`), **not** rounded to
//! Locust's buckets (1 ms below 100 ms, 10 ms to 1 s, ...): percentiles come from the report's
//! HdrHistograms (within 0.1 %), clamped to the exact `[min, max]`, so `100%` is always the exact
//! maximum and no percentile exceeds it. Percentiles are `N/A` and the other response times 0 when
//! there was no response, as Locust does for an entry without requests. A response time is only
//! measured for requests that got a response (a timeout has none), while `Request Count` counts
//! every request sent. `Average Content Size` is response bytes per response (as in the summary).
//! `Requests/s` and `Failures/s` of `_stats.csv` are averages over the measured duration. Fields are
//! quoted only when needed (commas, quotes, line breaks), and records end with `\n`.
//!
//! `_exceptions.csv` is not written: hornet has no exceptions separate from its errors.

use std::io;
use std::path::PathBuf;

use hdrhistogram::Histogram;
use hornet_metrics::report::{FAILURES, REQUEST_RATE, RESPONSE_TIME};
use hornet_metrics::{Protocol, Report, Summary, decode_histogram};

use crate::format::{per_sec, shortest};
use crate::view::{TOTAL_NAME, type_and_name};

/// The percentiles of Locust's `PERCENTILES_TO_REPORT`, as quantiles and as column names.
const PERCENTILES: [(f64, &str); 11] = [
    (0.5, "50%"),
    (0.66, "66%"),
    (0.75, "75%"),
    (0.8, "80%"),
    (0.9, "90%"),
    (0.95, "95%"),
    (0.98, "98%"),
    (0.99, "99%"),
    (0.999, "99.9%"),
    (0.9999, "99.99%"),
    (1.0, "100%"),
];

/// The columns of `_stats.csv` before the percentiles.
const STATS_COLUMNS: [&str; 11] = [
    "Type",
    "Name",
    "Request Count",
    "Failure Count",
    "Median Response Time",
    "Average Response Time",
    "Min Response Time",
    "Max Response Time",
    "Average Content Size",
    "Requests/s",
    "Failures/s",
];

/// The columns of `_stats_history.csv` before the percentiles.
const HISTORY_COLUMNS: [&str; 6] = ["Timestamp", "User Count", "Type", "Name", "Requests/s", "Failures/s"];

/// The columns of `_stats_history.csv` after the percentiles.
const HISTORY_TOTAL_COLUMNS: [&str; 7] = [
    "Total Request Count",
    "Total Failure Count",
    "Total Median Response Time",
    "Total Average Response Time",
    "Total Min Response Time",
    "Total Max Response Time",
    "Total Average Content Size",
];

/// The columns of `_failures.csv`.
const FAILURES_COLUMNS: [&str; 6] = ["Method", "Name", "Error", "Occurrences", "First Seen", "Last Seen"];

/// The suffixes of the three files: `PREFIX_stats.csv`, `PREFIX_stats_history.csv`,
/// `PREFIX_failures.csv`.
pub const FILES: [&str; 3] = ["stats", "stats_history", "failures"];

/// The files' contents, as written by [`write_locust_csv`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LocustCsv {
    /// `PREFIX_stats.csv`.
    pub stats: String,
    /// `PREFIX_stats_history.csv`.
    pub stats_history: String,
    /// `PREFIX_failures.csv`.
    pub failures: String,
    /// `PREFIX_processor_metrics.csv`, when a processor reported metrics.
    pub processor_metrics: Option<String>,
}

/// The columns of `_processor_metrics.csv`.
const PROCESSOR_COLUMNS: [&str; 11] =
    ["Name", "Kind", "Count", "Rate/s", "Min", "Median", "90%", "95%", "99%", "Max", "Average"];

/// Writes `{prefix}_stats.csv`, `{prefix}_stats_history.csv` and `{prefix}_failures.csv`, and
/// `{prefix}_processor_metrics.csv` when a processor reported metrics (see the
/// [module documentation](self) for their contents), and returns their paths in that order. The
/// directory part of `prefix` must exist. Everything is rendered before the first file is written,
/// so a report that cannot be rendered (a corrupt histogram, an unreadable `started_at`) leaves no
/// file behind.
pub fn write_locust_csv(report: &Report, prefix: &str) -> io::Result<Vec<PathBuf>> {
    let csv = render_locust_csv(report)?;
    let texts = [&csv.stats, &csv.stats_history, &csv.failures];
    let mut paths = Vec::with_capacity(FILES.len());
    for (suffix, text) in FILES.into_iter().zip(texts) {
        let path = PathBuf::from(format!("{prefix}_{suffix}.csv"));
        crate::file::write_file(&path, text.as_bytes())?;
        paths.push(path);
    }
    if let Some(text) = &csv.processor_metrics {
        let path = PathBuf::from(format!("{prefix}_processor_metrics.csv"));
        crate::file::write_file(&path, text.as_bytes())?;
        paths.push(path);
    }
    Ok(paths)
}

/// The three CSV files' contents, without writing anything. An error (`InvalidData`) if a histogram
/// of the report cannot be decoded or `run.started_at` is not RFC 3339.
pub fn render_locust_csv(report: &Report) -> io::Result<LocustCsv> {
    Ok(LocustCsv {
        stats: stats(report)?,
        stats_history: history(report)?,
        failures: failures(report)?,
        processor_metrics: processor_metrics(report)?,
    })
}

/// `_processor_metrics.csv`, when the report has metrics a processor reported.
fn processor_metrics(report: &Report) -> io::Result<Option<String>> {
    let metrics = report.processor_metrics();
    if metrics.is_empty() {
        return Ok(None);
    }
    let mut w = writer();
    w.write_record(PROCESSOR_COLUMNS).map_err(csv_err)?;
    let secs = report.run.duration_s;
    let blanks = |n: usize| vec![String::new(); n];
    for (name, n) in &metrics.counters {
        let mut row = vec![name.to_string(), "counter".into(), n.to_string(), shortest(per_sec(*n, secs))];
        row.extend(blanks(7));
        w.write_record(&row).map_err(csv_err)?;
    }
    for (name, rate) in &metrics.rates {
        let mut row = vec![name.to_string(), "rate".into(), String::new(), shortest(*rate)];
        row.extend(blanks(7));
        w.write_record(&row).map_err(csv_err)?;
    }
    for (name, s) in &metrics.histograms {
        let mut row = vec![name.to_string(), "histogram".into(), s.count.to_string(), String::new()];
        row.extend([s.min, s.median, s.p90, s.p95, s.p99, s.max, s.mean].map(shortest));
        w.write_record(&row).map_err(csv_err)?;
    }
    finish(w).map(Some)
}

fn invalid(what: impl std::fmt::Display) -> io::Error {
    io::Error::new(io::ErrorKind::InvalidData, what.to_string())
}

/// A CSV writer into memory with Locust's dialect (minimal quoting, `,`), records ending in `\n`.
fn writer() -> ::csv::Writer<Vec<u8>> {
    ::csv::WriterBuilder::new().terminator(::csv::Terminator::Any(b'\n')).from_writer(Vec::new())
}

fn finish(w: ::csv::Writer<Vec<u8>>) -> io::Result<String> {
    let bytes = w.into_inner().map_err(|e| io::Error::other(e.to_string()))?;
    String::from_utf8(bytes).map_err(invalid)
}

fn csv_err(e: ::csv::Error) -> io::Error {
    io::Error::other(e)
}

/// Milliseconds (µs precision) to whole microseconds.
fn to_us(ms: f64) -> u64 {
    if ms.is_finite() && ms > 0.0 { (ms * 1000.0).round() as u64 } else { 0 }
}

/// The quantile `q` of `h` in milliseconds, clamped to `[min_us, max_us]` as the report's summaries
/// are (so 50 %, 95 % and 99 % equal the summary's p50, p95 and p99, and 100 % is the exact max).
fn quantile_ms(h: &Histogram<u64>, q: f64, min_us: u64, max_us: u64) -> f64 {
    let (lo, hi) = if min_us <= max_us { (min_us, max_us) } else { (h.min(), h.max()) };
    h.value_at_quantile(q).clamp(lo, hi) as f64 / 1000.0
}

/// The eleven percentile cells of a histogram with summary `s`: `N/A` when it has no value.
fn percentile_cells(s: &Summary, histogram: Option<&str>, what: &str) -> io::Result<Vec<String>> {
    if s.count == 0 {
        return Ok(vec!["N/A".to_owned(); PERCENTILES.len()]);
    }
    let b64 =
        histogram.ok_or_else(|| invalid(format!("{what}: the report has no response-time histogram")))?;
    let h = decode_histogram(b64).map_err(|e| invalid(format!("{what}: {e}")))?;
    Ok(PERCENTILES.iter().map(|&(q, _)| shortest(quantile_ms(&h, q, to_us(s.min), to_us(s.max)))).collect())
}

/// One `_stats.csv` row.
#[allow(clippy::too_many_arguments)]
fn stats_row(
    method: &str,
    name: &str,
    requests: u64,
    failures: u64,
    s: &Summary,
    bytes: u64,
    responses: u64,
    rps: f64,
    fps: f64,
    percentiles: Vec<String>,
) -> Vec<String> {
    let lat = |v: f64| if s.count == 0 { "0".to_owned() } else { shortest(v) };
    let avg_size = if responses == 0 { 0.0 } else { bytes as f64 / responses as f64 };
    let mut row = vec![
        method.to_owned(),
        name.to_owned(),
        requests.to_string(),
        failures.to_string(),
        lat(s.median),
        lat(s.mean),
        lat(s.min),
        lat(s.max),
        shortest(avg_size),
        shortest(rps),
        shortest(fps),
    ];
    row.extend(percentiles);
    row
}

fn stats(report: &Report) -> io::Result<String> {
    let secs = report.run.duration_s;
    let mut w = writer();
    let header = STATS_COLUMNS.iter().copied().chain(PERCENTILES.iter().map(|&(_, c)| c));
    w.write_record(header).map_err(csv_err)?;
    for e in &report.endpoints {
        let (method, name) = type_and_name(&e.name, None, e.protocol);
        let pct = percentile_cells(&e.summary, Some(&e.histogram), &format!("endpoint `{}`", e.name))?;
        let row = stats_row(
            method,
            name,
            e.requests,
            e.failures,
            &e.summary,
            e.bytes_received,
            e.responses,
            per_sec(e.requests, secs),
            per_sec(e.failures, secs),
            pct,
        );
        w.write_record(&row).map_err(csv_err)?;
    }
    let total = report.summary(RESPONSE_TIME).copied().unwrap_or_default();
    let pct = percentile_cells(
        &total,
        report.aggregate.histograms.get(RESPONSE_TIME).map(String::as_str),
        "aggregate",
    )?;
    let requests = report.counter("http.requests");
    let failures = report.failures();
    let rps = report.aggregate.rates.get(REQUEST_RATE).copied().unwrap_or_else(|| per_sec(requests, secs));
    let row = stats_row(
        "",
        TOTAL_NAME,
        requests,
        failures,
        &total,
        report.counter("http.downloaded_bytes"),
        report.counter("http.responses"),
        rps,
        per_sec(failures, secs),
        pct,
    );
    w.write_record(&row).map_err(csv_err)?;
    finish(w)
}

/// The cumulative response times of the timeline up to some point.
#[derive(Default)]
struct Cumulative {
    histogram: Option<Histogram<u64>>,
    count: u64,
    /// Sum of the points' `mean × count`, in µs.
    sum_us: f64,
    min_us: u64,
    max_us: u64,
}

impl Cumulative {
    fn add(&mut self, s: &Summary, h: Histogram<u64>) {
        if s.count == 0 {
            return;
        }
        let (min, max) = (to_us(s.min), to_us(s.max));
        if self.count == 0 {
            self.min_us = min;
            self.max_us = max;
        } else {
            self.min_us = self.min_us.min(min);
            self.max_us = self.max_us.max(max);
        }
        self.count += s.count;
        self.sum_us += s.mean * 1000.0 * s.count as f64;
        match &mut self.histogram {
            Some(acc) => {
                // Decoded histograms have fixed bounds; let the accumulator grow.
                acc.auto(true);
                if acc.add(&h).is_err() {
                    for v in h.iter_recorded() {
                        acc.saturating_record_n(v.value_iterated_to(), v.count_at_value());
                    }
                }
            }
            None => {
                let mut h = h;
                h.auto(true);
                self.histogram = Some(h);
            }
        }
    }

    /// (median, average, min, max) in milliseconds; zeros before the first response.
    fn cells(&self) -> [String; 4] {
        match &self.histogram {
            Some(h) if self.count > 0 => {
                let mean_us =
                    (self.sum_us / self.count as f64).round().clamp(self.min_us as f64, self.max_us as f64);
                [
                    shortest(quantile_ms(h, 0.5, self.min_us, self.max_us)),
                    shortest(mean_us / 1000.0),
                    shortest(self.min_us as f64 / 1000.0),
                    shortest(self.max_us as f64 / 1000.0),
                ]
            }
            _ => ["0".to_owned(), "0".to_owned(), "0".to_owned(), "0".to_owned()],
        }
    }
}

/// `run.started_at` as seconds since the Unix epoch.
fn started_unix(report: &Report) -> io::Result<f64> {
    let t = humantime::parse_rfc3339(&report.run.started_at)
        .map_err(|e| invalid(format!("run.started_at `{}`: {e}", report.run.started_at)))?;
    Ok(match t.duration_since(std::time::UNIX_EPOCH) {
        Ok(d) => d.as_secs_f64(),
        Err(e) => -e.duration().as_secs_f64(),
    })
}

fn history(report: &Report) -> io::Result<String> {
    let mut w = writer();
    let header = HISTORY_COLUMNS
        .iter()
        .copied()
        .chain(PERCENTILES.iter().map(|&(_, c)| c))
        .chain(HISTORY_TOTAL_COLUMNS.iter().copied());
    w.write_record(header).map_err(csv_err)?;
    if report.intervals.is_empty() {
        return finish(w);
    }
    let start = started_unix(report)?;
    let mut cumulative = Cumulative::default();
    let (mut requests, mut failures, mut bytes, mut responses) = (0u64, 0u64, 0u64, 0u64);
    for (i, p) in report.intervals.iter().enumerate() {
        let counter = |k: &str| p.counters.get(k).copied().unwrap_or(0);
        let what = format!("timeline point {i}");
        let s = p.summaries.get(RESPONSE_TIME).copied().unwrap_or_default();
        let b64 = p.histograms.get(RESPONSE_TIME).map(String::as_str);
        let pct = percentile_cells(&s, b64, &what)?;
        if s.count > 0
            && let Some(b64) = b64
        {
            let h = decode_histogram(b64).map_err(|e| invalid(format!("{what}: {e}")))?;
            cumulative.add(&s, h);
        }
        requests += counter("http.requests");
        // The point's failed requests as every failures figure counts them (errors and responses
        // with an unexpected status); a report from before they were counted has only errors.
        let point_failures = p.counters.get(FAILURES).copied().unwrap_or_else(|| counter("errors"));
        failures += point_failures;
        bytes += counter("http.downloaded_bytes");
        responses += counter("http.responses");

        let timestamp = (start + p.t_s + p.duration_s).floor() as i64;
        let rps = p
            .rates
            .get(REQUEST_RATE)
            .copied()
            .unwrap_or_else(|| per_sec(counter("http.requests"), p.duration_s));
        let fps = per_sec(point_failures, p.duration_s);
        let [median, mean, min, max] = cumulative.cells();
        let avg_size = if responses == 0 { 0.0 } else { bytes as f64 / responses as f64 };
        let mut row = vec![
            timestamp.to_string(),
            p.active_vus.to_string(),
            String::new(),
            TOTAL_NAME.to_owned(),
            format!("{:.6}", if rps.is_finite() { rps } else { 0.0 }),
            format!("{fps:.6}"),
        ];
        row.extend(pct);
        row.extend([requests.to_string(), failures.to_string(), median, mean, min, max, shortest(avg_size)]);
        w.write_record(&row).map_err(csv_err)?;
    }
    finish(w)
}

fn failures(report: &Report) -> io::Result<String> {
    let mut w = writer();
    w.write_record(FAILURES_COLUMNS).map_err(csv_err)?;
    for e in &report.errors {
        let is_ws =
            |name: &str| report.endpoints.iter().any(|x| x.name == name && x.protocol == Protocol::Ws);
        let (method, name) = match e.endpoint.as_deref() {
            Some(name) => type_and_name(name, None, if is_ws(name) { Protocol::Ws } else { Protocol::Http }),
            None => ("", ""),
        };
        let error = format!("{}: {}", e.kind, e.first_message);
        w.write_record([method, name, &error, &e.count.to_string(), "", ""]).map_err(csv_err)?;
    }
    for e in &report.endpoints {
        let (method, name) = type_and_name(&e.name, None, e.protocol);
        for (code, n) in &e.failed_codes {
            let error = format!("HTTP {code}: status not expected");
            w.write_record([method, name, &error, &n.to_string(), "", ""]).map_err(csv_err)?;
        }
    }
    finish(w)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_written_in_their_shortest_form() {
        assert_eq!(shortest(2.351), "2.351");
        assert_eq!(shortest(100.0), "100");
        assert_eq!(shortest(0.0), "0");
        assert_eq!(shortest(1.0 / 3.0), "0.3333333333333333");
        assert_eq!(shortest(f64::NAN), "0");
        assert_eq!(to_us(2.351), 2351);
    }
}
