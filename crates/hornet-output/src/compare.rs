//! Comparing two runs (`hornet compare baseline.json candidate.json [--threshold 10%]`): for every
//! endpoint present in both reports, plus a `Total` row from the run-wide aggregate, the request
//! rate, the error rate and the p50/p95/p99 response time (`http.response_time`, issued to last
//! byte) of the candidate against the baseline, each judged [`Verdict::Better`],
//! [`Verdict::Same`] or [`Verdict::Worse`].
//!
//! # Noise model
//!
//! A change is only called better or worse when it is **both** larger than the threshold **and**
//! unlikely to be noise. Every figure is estimated with a 99 % interval (z = [`Z`] = 2.576) from
//! the data behind it, not from the single number in the summary, and a change is *significant*
//! only when the two runs' intervals do not overlap (the candidate's lower bound above the
//! baseline's upper bound, or its upper bound below the baseline's lower bound). Requiring two
//! 99 % intervals to be disjoint is a conservative test: for similar spreads it corresponds to a
//! two-sided level well below 1 %, so comparing a few dozen figures rarely flags one by chance.
//!
//! * **Percentiles** (`p50`, `p95`, `p99`) use the distribution-free order-statistic interval,
//!   computed from the serialized HdrHistogram. For percentile `p` of `n` values the rank of the
//!   true percentile is, by the normal approximation of the binomial, within
//!   `n·p ± z·sqrt(n·p·(1−p))`; the ranks are rounded outwards, clamped to `1..=n`, and the values
//!   at those ranks are read from the histogram (the lower bound at the bottom of its bucket, the
//!   upper one at the top, then both clamped to the run's exact min and max). The point estimate is
//!   the histogram's percentile, as in the summary. The histogram's 0.1 % bucket resolution is well
//!   inside any useful threshold.
//! * **Request rate** (`rps`, requests / measured duration): the request count `N` is treated as
//!   Poisson, `N ± z·sqrt(N)`, divided by the duration. Under an open model (arrival rates) the
//!   count is set by the schedule and varies less than Poisson, so this errs on the side of "same".
//! * **Error rate** (errors on requests / requests): a binomial proportion with the Wilson score
//!   interval, which stays sensible at 0 % and 100 %. The Total's errors are the run's `errors`
//!   counter minus the errors not tied to a request (a VU cancelled at the end of the run), i.e.
//!   the sum of the endpoints' failures.
//!
//! The threshold is a fraction (0.10 = 10 %) of the baseline: a change is *material* when
//! `|candidate − baseline| > threshold × baseline`. For the error rate the reported
//! [`MetricChange::change`] is the absolute difference (0.2 = +20 percentage points), but
//! materiality is still relative to the baseline's error rate, so any significant rise from 0 %
//! counts (a fixed 10-point bar would let 0 % → 5 % pass unnoticed).
//!
//! Order of the tests, and the [`MetricChange::note`] each leaves when it decides:
//!
//! 1. fewer than [`MIN_SAMPLES`] (20) values in either run (latency values, or requests for the
//!    rate and the error rate), or no measured duration for the rate → `Same`, "too few samples";
//!    For a latency percentile p, also fewer than [`MIN_TAIL_SAMPLES`] (5) values beyond it in
//!    either run, i.e. n·(1−p) < 5 (p95 needs 100 values, p99 500): a tail percentile resting on
//!    one or two of the slowest requests says more about a scheduling hiccup than about the system;
//! 2. equal figures → `Same`, "no change";
//! 3. `|relative change| <= threshold` → `Same`, "within the N% threshold";
//! 4. intervals overlap → `Same`, "within noise";
//! 5. otherwise `Better` or `Worse` by direction: lower is better for latency and the error rate,
//!    higher for the request rate.
//!
//! An endpoint is `Worse` if any of its figures is worse, otherwise `Better` if any is better,
//! otherwise `Same`; [`Comparison::worse`] is true if any endpoint (or the Total) is worse.
//!
//! The rendered outputs follow the rest of the crate: [`render_text`] is a plain-ASCII comfy-table,
//! [`render_html_section`] an HTML fragment with every report-supplied string escaped.

use std::collections::HashSet;
use std::fmt;

use hornet_metrics::report::RESPONSE_TIME;
use hornet_metrics::{HistogramError, Report, Summary, decode_histogram};

use crate::format;

mod render;

pub use render::{render_html_section, render_text};

/// The default threshold: 10 %.
pub const DEFAULT_THRESHOLD: f64 = 0.10;

/// Fewest values a run must have for a figure to be judged at all.
pub const MIN_SAMPLES: u64 = 20;

/// Fewest values beyond a latency percentile, in each run, for that percentile to be judged.
pub const MIN_TAIL_SAMPLES: f64 = 5.0;

/// The share of values beyond a latency percentile figure (`p99` → 0.01); `None` for other figures.
fn tail_share(name: &str) -> Option<f64> {
    match name {
        "p50" => Some(0.50),
        "p95" => Some(0.05),
        "p99" => Some(0.01),
        _ => None,
    }
}

/// The normal quantile of the 99 % two-sided intervals.
pub const Z: f64 = 2.576;

/// Name of the row computed from the run-wide aggregate.
pub const TOTAL: &str = "Total";

/// Longest endpoint name shown, in characters.
const MAX_NAME: usize = 60;

/// The metric names, in the order of [`EndpointComparison::changes`].
pub const METRICS: [&str; 5] = ["rps", "error rate", "p50", "p95", "p99"];

/// How two runs are compared.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct CompareOptions {
    /// Smallest relative change that counts, as a fraction (0.10 = 10 %). Finite and `>= 0`.
    pub threshold: f64,
}

impl Default for CompareOptions {
    fn default() -> Self {
        CompareOptions { threshold: DEFAULT_THRESHOLD }
    }
}

impl CompareOptions {
    /// Parses a threshold as given on the command line: `10%` (a percentage) or `0.1` (a
    /// fraction). It must be finite and not negative.
    pub fn parse_threshold(s: &str) -> Result<f64, CompareError> {
        let t = s.trim();
        let invalid = || CompareError::InvalidThreshold(s.to_owned());
        let v = match t.strip_suffix('%') {
            Some(pct) => pct.trim().parse::<f64>().map_err(|_| invalid())? / 100.0,
            None => t.parse::<f64>().map_err(|_| invalid())?,
        };
        if v.is_finite() && v >= 0.0 { Ok(v) } else { Err(invalid()) }
    }
}

/// The judgement of one figure or one endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Verdict {
    /// Improved beyond the threshold and beyond noise.
    Better,
    /// No change that is both larger than the threshold and beyond noise.
    Same,
    /// Regressed beyond the threshold and beyond noise.
    Worse,
}

impl Verdict {
    /// `better`, `same` or `worse`.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Same => "same",
            Verdict::Worse => "worse",
        }
    }

    /// How the text output shows it: `better`, `same`, `WORSE`.
    fn label(self) -> &'static str {
        match self {
            Verdict::Better => "better",
            Verdict::Same => "same",
            Verdict::Worse => "WORSE",
        }
    }

    /// `Worse` if any is worse, else `Better` if any is better, else `Same`.
    fn combine(verdicts: impl IntoIterator<Item = Verdict>) -> Verdict {
        let (mut better, mut worse) = (false, false);
        for v in verdicts {
            better |= v == Verdict::Better;
            worse |= v == Verdict::Worse;
        }
        if worse {
            Verdict::Worse
        } else if better {
            Verdict::Better
        } else {
            Verdict::Same
        }
    }
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// One figure of one endpoint in both runs.
#[derive(Debug, Clone, PartialEq)]
pub struct MetricChange {
    /// One of [`METRICS`]: `rps`, `error rate`, `p50`, `p95`, `p99`.
    pub name: &'static str,
    /// The baseline's figure: requests/s, a fraction (error rate) or milliseconds.
    pub baseline: f64,
    /// The candidate's figure, in the same unit.
    pub candidate: f64,
    /// `(candidate − baseline) / baseline` (`+inf` from a baseline of 0), except for the error
    /// rate: `candidate − baseline` (0.2 = +20 percentage points).
    pub change: f64,
    /// The judgement (see the module documentation).
    pub verdict: Verdict,
    /// Why: `too few samples (...)`, `no change`, `within the 10% threshold`, `within noise (...)`,
    /// or the two intervals for a significant change.
    pub note: String,
}

/// The figures of one endpoint (or of the Total).
#[derive(Debug, Clone, PartialEq)]
pub struct EndpointComparison {
    /// The endpoint name, or [`TOTAL`].
    pub name: String,
    /// One change per metric, in the order of [`METRICS`].
    pub changes: Vec<MetricChange>,
    /// `Worse` if any change is worse, otherwise `Better` if any is better, otherwise `Same`.
    pub verdict: Verdict,
}

/// The result of [`compare`].
#[derive(Debug, Clone, PartialEq)]
pub struct Comparison {
    /// The endpoints present in both runs, in the baseline's order, then [`TOTAL`].
    pub endpoints: Vec<EndpointComparison>,
    /// Endpoints only the baseline has, in its order.
    pub only_in_baseline: Vec<String>,
    /// Endpoints only the candidate has, in its order.
    pub only_in_candidate: Vec<String>,
    /// The threshold the comparison used (a fraction).
    pub threshold: f64,
}

impl Comparison {
    /// True if some endpoint (or the Total) got worse: the candidate regressed.
    pub fn worse(&self) -> bool {
        self.endpoints.iter().any(|e| e.verdict == Verdict::Worse)
    }
}

/// Why two reports could not be compared.
#[derive(Debug)]
pub enum CompareError {
    /// The threshold is not a finite, non-negative number (as given).
    InvalidThreshold(String),
    /// A report has no run-wide `http.response_time` histogram.
    MissingHistogram {
        /// `baseline` or `candidate`.
        run: &'static str,
    },
    /// A histogram of a report does not decode.
    Histogram {
        /// `baseline` or `candidate`.
        run: &'static str,
        /// The endpoint, or [`TOTAL`] for the run-wide histogram.
        endpoint: String,
        /// What was wrong with it.
        source: HistogramError,
    },
}

impl fmt::Display for CompareError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CompareError::InvalidThreshold(t) => {
                write!(
                    f,
                    "invalid threshold {t:?}: expected a percentage (10%) or a fraction (0.1), not negative"
                )
            }
            CompareError::MissingHistogram { run } => {
                write!(f, "the {run} report has no {RESPONSE_TIME} histogram")
            }
            CompareError::Histogram { run, endpoint, source } => {
                write!(f, "the {run} report's histogram of {endpoint:?} is invalid: {source}")
            }
        }
    }
}

impl std::error::Error for CompareError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            CompareError::Histogram { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// Compares `candidate` against `baseline`: every endpoint present in both (matched by name, in
/// the baseline's order), then the Total from the aggregates. An error for an invalid threshold
/// or a histogram that is missing or does not decode.
pub fn compare(
    baseline: &Report,
    candidate: &Report,
    opts: &CompareOptions,
) -> Result<Comparison, CompareError> {
    let t = opts.threshold;
    if !(t.is_finite() && t >= 0.0) {
        return Err(CompareError::InvalidThreshold(t.to_string()));
    }
    let mut endpoints = Vec::new();
    let mut only_in_baseline = Vec::new();
    let mut seen = HashSet::new();
    for b in &baseline.endpoints {
        if !seen.insert(b.name.as_str()) {
            continue;
        }
        match candidate.endpoints.iter().find(|c| c.name == b.name) {
            Some(c) => {
                let base = Side::endpoint(baseline, b);
                let cand = Side::endpoint(candidate, c);
                endpoints.push(compare_sides(&b.name, &base, &cand, t)?);
            }
            None => only_in_baseline.push(b.name.clone()),
        }
    }
    let mut only_in_candidate = Vec::new();
    let mut seen_candidate = HashSet::new();
    for c in &candidate.endpoints {
        if seen_candidate.insert(c.name.as_str()) && !seen.contains(c.name.as_str()) {
            only_in_candidate.push(c.name.clone());
        }
    }
    let base = Side::total(baseline, "baseline")?;
    let cand = Side::total(candidate, "candidate")?;
    endpoints.push(compare_sides(TOTAL, &base, &cand, t)?);
    Ok(Comparison { endpoints, only_in_baseline, only_in_candidate, threshold: t })
}

/// What one run's figures for one endpoint (or the Total) are computed from.
struct Side<'a> {
    requests: u64,
    failures: u64,
    duration_s: f64,
    histogram: &'a str,
    summary: Summary,
}

impl<'a> Side<'a> {
    fn endpoint(r: &'a Report, e: &'a hornet_metrics::report::EndpointReport) -> Side<'a> {
        Side {
            requests: e.requests,
            failures: e.failures,
            duration_s: r.run.duration_s,
            histogram: &e.histogram,
            summary: e.summary,
        }
    }

    fn total(r: &'a Report, run: &'static str) -> Result<Side<'a>, CompareError> {
        let histogram =
            r.aggregate.histograms.get(RESPONSE_TIME).ok_or(CompareError::MissingHistogram { run })?;
        let unattributed: u64 = r.errors.iter().filter(|e| e.endpoint.is_none()).map(|e| e.count).sum();
        Ok(Side {
            requests: r.counter("http.requests"),
            failures: r.counter("errors").saturating_sub(unattributed),
            duration_s: r.run.duration_s,
            histogram,
            summary: r.summary(RESPONSE_TIME).copied().unwrap_or_default(),
        })
    }
}

/// A figure with its 99 % interval and the number of values behind it.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Estimate {
    value: f64,
    lo: f64,
    hi: f64,
    n: u64,
}

/// How a figure is judged and shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    Rate,
    ErrorRate,
    Latency,
}

impl Kind {
    fn of(name: &str) -> Kind {
        match name {
            "rps" => Kind::Rate,
            "error rate" => Kind::ErrorRate,
            _ => Kind::Latency,
        }
    }

    fn higher_is_better(self) -> bool {
        self == Kind::Rate
    }

    /// A figure with its unit.
    fn value(self, v: f64) -> String {
        match self {
            Kind::Rate => format!("{}/s", format::rate(v)),
            Kind::ErrorRate => pct(v),
            Kind::Latency => format!("{} ms", format::ms(v)),
        }
    }

    /// An interval with its unit.
    fn interval(self, e: &Estimate) -> String {
        match self {
            Kind::Rate => format!("{}-{}/s", format::rate(e.lo), format::rate(e.hi)),
            Kind::ErrorRate => format!("{}-{}", pct(e.lo), pct(e.hi)),
            Kind::Latency => format!("{}-{} ms", format::ms(e.lo), format::ms(e.hi)),
        }
    }
}

/// A fraction as a percentage with two decimals.
fn pct(v: f64) -> String {
    if v.is_finite() { format!("{:.2}%", v * 100.0) } else { "-".to_owned() }
}

fn compare_sides(name: &str, b: &Side<'_>, c: &Side<'_>, t: f64) -> Result<EndpointComparison, CompareError> {
    let mut changes = Vec::with_capacity(METRICS.len());
    changes.push(judge("rps", rate(b), rate(c), t));
    changes.push(judge("error rate", Some(error_rate(b)), Some(error_rate(c)), t));
    let lb = latencies(b, name, "baseline")?;
    let lc = latencies(c, name, "candidate")?;
    for ((metric, eb), ec) in METRICS[2..].iter().zip(lb).zip(lc) {
        changes.push(judge(metric, Some(eb), Some(ec), t));
    }
    let verdict = Verdict::combine(changes.iter().map(|c| c.verdict));
    Ok(EndpointComparison { name: name.to_owned(), changes, verdict })
}

/// Requests per second with a Poisson interval on the count; `None` without a measured duration.
fn rate(s: &Side<'_>) -> Option<Estimate> {
    let d = s.duration_s;
    if !(d.is_finite() && d > 0.0) {
        return None;
    }
    let n = s.requests as f64;
    let half = Z * n.sqrt();
    Some(Estimate { value: n / d, lo: (n - half).max(0.0) / d, hi: (n + half) / d, n: s.requests })
}

/// The failed fraction of requests with its Wilson score interval.
fn error_rate(s: &Side<'_>) -> Estimate {
    let n = s.requests;
    if n == 0 {
        return Estimate { value: 0.0, lo: 0.0, hi: 0.0, n: 0 };
    }
    let nf = n as f64;
    let p = s.failures.min(n) as f64 / nf;
    let z2 = Z * Z;
    let denom = 1.0 + z2 / nf;
    let center = (p + z2 / (2.0 * nf)) / denom;
    let half = Z / denom * (p * (1.0 - p) / nf + z2 / (4.0 * nf * nf)).sqrt();
    // Exactly 0 and 1 at the edges, which rounding would miss by a hair.
    let lo = if p == 0.0 { 0.0 } else { (center - half).max(0.0) };
    let hi = if p == 1.0 { 1.0 } else { (center + half).min(1.0) };
    Estimate { value: p, lo, hi, n }
}

/// p50, p95 and p99 (ms) with their order-statistic intervals, from the side's histogram.
fn latencies(s: &Side<'_>, endpoint: &str, run: &'static str) -> Result<[Estimate; 3], CompareError> {
    let h = decode_histogram(s.histogram).map_err(|source| CompareError::Histogram {
        run,
        endpoint: endpoint.to_owned(),
        source,
    })?;
    let n = h.len();
    if n == 0 {
        return Ok([Estimate { value: 0.0, lo: 0.0, hi: 0.0, n: 0 }; 3]);
    }
    // The exact bounds kept beside the histogram, when the summary describes the same values.
    let us = |ms: f64| (ms * 1000.0).round() as u64;
    let (min, max) = if s.summary.count == n && s.summary.min <= s.summary.max {
        (us(s.summary.min), us(s.summary.max))
    } else {
        (h.min(), h.max())
    };
    let ms = |v: u64| v.clamp(min, max) as f64 / 1000.0;
    let nf = n as f64;
    // The value at 1-based rank `r`: a quantile half a rank below it, so that hdrhistogram's
    // `ceil(q·n)` lands on `r` despite rounding.
    let at_rank = |r: f64| h.value_at_quantile((r.clamp(1.0, nf) - 0.5) / nf);
    Ok([0.50, 0.95, 0.99].map(|p| {
        let center = nf * p;
        let half = Z * (nf * p * (1.0 - p)).sqrt();
        Estimate {
            value: ms(h.value_at_quantile(p)),
            lo: ms(h.lowest_equivalent(at_rank((center - half).floor()))),
            hi: ms(at_rank((center + half).ceil())),
            n,
        }
    }))
}

/// `(c − b) / b`; `+inf` from 0 to something, 0 from 0 to 0.
fn relative(b: f64, c: f64) -> f64 {
    if b > 0.0 {
        (c - b) / b
    } else if c > b {
        f64::INFINITY
    } else {
        0.0
    }
}

/// Judges one figure; `None` for a figure that could not be estimated (a rate without duration).
fn judge(name: &'static str, b: Option<Estimate>, c: Option<Estimate>, t: f64) -> MetricChange {
    let kind = Kind::of(name);
    let zero = Estimate { value: 0.0, lo: 0.0, hi: 0.0, n: 0 };
    let (eb, ec) = (b.unwrap_or(zero), c.unwrap_or(zero));
    let rel = relative(eb.value, ec.value);
    let change = if kind == Kind::ErrorRate { ec.value - eb.value } else { rel };
    let done = |verdict: Verdict, note: String| MetricChange {
        name,
        baseline: eb.value,
        candidate: ec.value,
        change,
        verdict,
        note,
    };
    if b.is_none() || c.is_none() {
        return done(Verdict::Same, "too few samples (no measured duration)".to_owned());
    }
    if eb.n < MIN_SAMPLES || ec.n < MIN_SAMPLES {
        return done(Verdict::Same, format!("too few samples ({} and {}, need {MIN_SAMPLES})", eb.n, ec.n));
    }
    if let Some(share) = tail_share(name) {
        let need = (MIN_TAIL_SAMPLES / share).ceil() as u64;
        if eb.n < need || ec.n < need {
            return done(
                Verdict::Same,
                format!("too few samples for {name} ({} and {}, need {need})", eb.n, ec.n),
            );
        }
    }
    if eb.value == ec.value {
        return done(Verdict::Same, "no change".to_owned());
    }
    if rel.abs() <= t {
        return done(Verdict::Same, format!("within the {} threshold", threshold_text(t)));
    }
    let up = ec.value > eb.value;
    let significant = if up { ec.lo > eb.hi } else { ec.hi < eb.lo };
    let intervals = format!("99% intervals {} and {}", kind.interval(&eb), kind.interval(&ec));
    if !significant {
        return done(Verdict::Same, format!("within noise: {intervals} overlap"));
    }
    let verdict = if up == kind.higher_is_better() { Verdict::Better } else { Verdict::Worse };
    done(verdict, format!("beyond noise: {intervals}"))
}

/// The threshold as a percentage: `10%`, `2.5%`.
fn threshold_text(t: f64) -> String {
    let p = t * 100.0;
    if (p - p.round()).abs() < 1e-9 { format!("{p:.0}%") } else { format!("{p}%") }
}

#[cfg(test)]
mod tests;
