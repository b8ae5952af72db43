//! The collector side: once per tick, merge the intervals of all worker threads into exact run-wide
//! totals and the timeline; serve live snapshots; build the final [`Report`].

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use crate::hist::Hist;
use crate::kinds::{EXPECT_SLOTS, ErrorKind, expect_slot_name};
use crate::recorder::{ErrorSlots, ExpectSlots, Interval, add_code};
use crate::report::{
    Aggregate, EXPECT_FAILED, EXPECT_OK, EndpointExpectations, EndpointReport, ErrorReport, IntervalReport,
    REQUEST_RATE, RESPONSE_TIME, Report, RunInfo, SCHEMA,
};
use crate::timeline::{Point, Timeline, TimelinePolicy};

/// Figures for a live display, taken after the latest tick.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
pub struct LiveSnapshot {
    /// Time since the start of the run at the latest tick.
    pub elapsed: Duration,
    /// VUs in flight at the latest tick.
    pub active_vus: u64,
    /// Requests per second during the latest tick (requests / measured tick length).
    pub rps: f64,
    /// Median response time during the latest tick, ms.
    pub p50_ms: f64,
    /// 95th percentile response time during the latest tick, ms.
    pub p95_ms: f64,
    /// 99th percentile response time during the latest tick, ms.
    pub p99_ms: f64,
    /// Requests sent since the start.
    pub requests: u64,
    /// Errors since the start (all kinds).
    pub errors: u64,
    /// VUs created since the start.
    pub vus_created: u64,
    /// VUs completed since the start.
    pub vus_completed: u64,
    /// VUs failed since the start.
    pub vus_failed: u64,
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
}

/// Per-tick figures kept for [`Aggregator::live`].
#[derive(Debug, Clone, Copy, Default)]
struct LastTick {
    rps: f64,
    p50: f64,
    p95: f64,
    p99: f64,
}

/// Merges the threads' intervals tick by tick. Cumulative counts and histograms are exact; the
/// timeline is downsampled as it ages (see [`TimelinePolicy`]).
#[derive(Debug, Clone)]
pub struct Aggregator {
    endpoints: Vec<String>,
    scenarios: Vec<String>,
    total: Interval,
    elapsed: Duration,
    active_vus: u64,
    last: LastTick,
    timeline: Timeline,
}

impl Aggregator {
    /// An aggregator for the plan's endpoint and scenario names (indices match the recorders').
    pub fn new(endpoints: Vec<String>, scenarios: Vec<String>) -> Aggregator {
        Aggregator::with_timeline_policy(endpoints, scenarios, TimelinePolicy::default())
    }

    /// Like [`Aggregator::new`] with a custom timeline downsampling policy.
    pub fn with_timeline_policy(
        endpoints: Vec<String>,
        scenarios: Vec<String>,
        policy: TimelinePolicy,
    ) -> Aggregator {
        let total = Interval::new(endpoints.len(), scenarios.len());
        Aggregator {
            endpoints,
            scenarios,
            total,
            elapsed: Duration::ZERO,
            active_vus: 0,
            last: LastTick::default(),
            timeline: Timeline::new(policy),
        }
    }

    /// Merges the intervals of all threads for the tick ending at `elapsed` (time since the start
    /// of the run) and records the active-VU gauge at that moment. The tick's length is measured
    /// from the previous tick's `elapsed`, so rates use real time even when ticks are irregular.
    pub fn add_tick(&mut self, elapsed: Duration, intervals: Vec<Interval>, active_vus: u64) {
        let start = self.elapsed;
        let end = elapsed.max(start);
        let mut parts = intervals.into_iter();
        let mut tick = parts.next().unwrap_or_default();
        for part in parts {
            tick.merge(&part);
        }
        let rt = tick.response_time();
        let summary = rt.summary();
        self.last = LastTick {
            rps: rate(tick.requests(), end - start),
            p50: summary.p50,
            p95: summary.p95,
            p99: summary.p99,
        };
        self.timeline.push(Point::from_tick(start, end, &tick, &rt, active_vus));
        self.total.merge(&tick);
        self.elapsed = end;
        self.active_vus = active_vus;
    }

    /// Figures for a live display after the latest tick.
    pub fn live(&self) -> LiveSnapshot {
        LiveSnapshot {
            elapsed: self.elapsed,
            active_vus: self.active_vus,
            rps: self.last.rps,
            p50_ms: self.last.p50,
            p95_ms: self.last.p95,
            p99_ms: self.last.p99,
            requests: self.total.requests(),
            errors: self.total.errors(),
            vus_created: self.total.vus_created(),
            vus_completed: self.total.vus_completed(),
            vus_failed: self.total.vus_failed(),
        }
    }

    /// Everything merged so far.
    pub fn total(&self) -> &Interval {
        &self.total
    }

    /// Number of points currently in the timeline.
    pub fn timeline_len(&self) -> usize {
        self.timeline.points.len()
    }

    fn endpoint_name(&self, i: usize) -> String {
        self.endpoints.get(i).cloned().unwrap_or_else(|| format!("endpoint #{i}"))
    }

    fn scenario_name(&self, i: usize) -> String {
        self.scenarios.get(i).cloned().unwrap_or_else(|| format!("scenario #{i}"))
    }

    /// The report of everything merged so far. Rates divide by `meta.duration`.
    pub fn report(&self, meta: RunMeta) -> Report {
        let t = &self.total;
        let duration = meta.duration;

        let mut counters = BTreeMap::new();
        counters.insert("http.requests".to_owned(), t.requests());
        counters.insert("http.responses".to_owned(), t.responses());
        counters.insert("http.downloaded_bytes".to_owned(), t.bytes_received());
        counters.insert("http.uploaded_bytes".to_owned(), t.bytes_sent());
        let mut codes = Vec::new();
        for e in &t.endpoints {
            for &(c, n) in &e.codes {
                add_code(&mut codes, c, n);
            }
        }
        for (c, n) in codes {
            counters.insert(format!("http.codes.{c}"), n);
        }
        counters.insert("errors".to_owned(), t.errors());
        for kind in ErrorKind::ALL {
            let n = t.errors_of(kind);
            if n > 0 {
                counters.insert(format!("errors.{kind}"), n);
            }
        }
        counters.insert("vusers.created".to_owned(), t.vus_created());
        for i in 0..self.scenarios.len().max(t.created.len()) {
            let n = t.created.get(i).copied().unwrap_or(0);
            counters.insert(format!("vusers.created_by_name.{}", self.scenario_name(i)), n);
        }
        counters.insert("vusers.completed".to_owned(), t.vus_completed);
        counters.insert("vusers.failed".to_owned(), t.vus_failed);
        counters.insert("vusers.skipped".to_owned(), t.vus_skipped);
        let mut expects = ExpectSlots::default();
        for e in &t.endpoints {
            expects.merge(&e.expects);
        }
        counters.insert(EXPECT_OK.to_owned(), expects.ok_total());
        counters.insert(EXPECT_FAILED.to_owned(), expects.failed_total());
        for k in 0..EXPECT_SLOTS {
            let kind = expect_slot_name(k);
            if expects.ok[k] > 0 {
                counters.insert(format!("{EXPECT_OK}.{kind}"), expects.ok[k]);
            }
            if expects.failed[k] > 0 {
                counters.insert(format!("{EXPECT_FAILED}.{kind}"), expects.failed[k]);
            }
        }

        let mut rates = BTreeMap::new();
        rates.insert(REQUEST_RATE.to_owned(), rate(t.requests(), duration));

        // Run-wide histograms: the exact sum of the endpoints'.
        let mut rt = Hist::default();
        let mut classes: [Hist; 5] = Default::default();
        let (mut dns, mut connect, mut tls, mut wait, mut receive) =
            (Hist::default(), Hist::default(), Hist::default(), Hist::default(), Hist::default());
        for e in &t.endpoints {
            rt.merge(&e.response_time);
            for (a, b) in classes.iter_mut().zip(&e.by_class) {
                a.merge(b);
            }
            dns.merge(&e.dns);
            connect.merge(&e.connect);
            tls.merge(&e.tls);
            wait.merge(&e.wait);
            receive.merge(&e.receive);
        }
        let mut summaries = BTreeMap::new();
        let mut histograms = BTreeMap::new();
        let mut put = |key: String, h: &Hist, always: bool| {
            if always || h.count() > 0 {
                summaries.insert(key.clone(), h.summary());
                histograms.insert(key, h.encode());
            }
        };
        put(RESPONSE_TIME.to_owned(), &rt, true);
        for (i, h) in classes.iter().enumerate() {
            put(format!("{RESPONSE_TIME}.{}xx", i + 1), h, false);
        }
        put("http.dns".to_owned(), &dns, false);
        put("http.connect".to_owned(), &connect, false);
        put("http.tls".to_owned(), &tls, false);
        put("http.wait".to_owned(), &wait, true);
        put("http.receive".to_owned(), &receive, true);
        put("vusers.session_length".to_owned(), &t.session_length, true);
        put("schedule.lag".to_owned(), &t.lag, true);

        let endpoint_count = self.endpoints.len().max(t.endpoints.len());
        let mut endpoints = Vec::with_capacity(endpoint_count);
        let mut errors = Vec::new();
        let empty = crate::recorder::EndpointStats::default();
        for i in 0..endpoint_count {
            let e = t.endpoints.get(i).unwrap_or(&empty);
            let name = self.endpoint_name(i);
            let mut codes: Vec<_> = e.codes.clone();
            codes.sort_unstable();
            endpoints.push(EndpointReport {
                name: name.clone(),
                requests: e.requests,
                responses: e.responses,
                failures: e.errors.total(),
                codes: codes.into_iter().map(|(c, n)| (c.to_string(), n)).collect(),
                errors: kind_counts(&e.errors),
                expectations: endpoint_expectations(&e.expects),
                bytes_sent: e.bytes_sent,
                bytes_received: e.bytes_received,
                summary: e.response_time.summary(),
                histogram: e.response_time.encode(),
            });
            push_errors(&mut errors, &e.errors, Some(&name));
        }
        push_errors(&mut errors, &t.unattributed, None);

        let intervals = self.timeline.points.iter().map(interval_report).collect();

        Report {
            schema: SCHEMA.to_owned(),
            hornet_version: meta.hornet_version,
            run: RunInfo {
                script: meta.script,
                target: meta.target,
                command: meta.command,
                started_at: rfc3339(meta.started_at),
                duration_s: seconds(duration),
                seed: meta.seed,
                phases: meta.phases,
                interrupted: meta.interrupted,
            },
            aggregate: Aggregate { counters, rates, summaries, histograms },
            endpoints,
            errors,
            intervals,
            checks: Vec::new(),
            apdex: None,
        }
    }
}

fn endpoint_expectations(slots: &ExpectSlots) -> EndpointExpectations {
    let by_kind = |counts: &[u64; EXPECT_SLOTS]| {
        counts
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(k, &n)| (expect_slot_name(k).to_owned(), n))
            .collect()
    };
    EndpointExpectations {
        ok: slots.ok_total(),
        failed: slots.failed_total(),
        ok_by_kind: by_kind(&slots.ok),
        failed_by_kind: by_kind(&slots.failed),
    }
}

/// `count / duration` in events per second; 0 for a zero duration.
fn rate(count: u64, duration: Duration) -> f64 {
    let secs = duration.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

/// Seconds with microsecond precision.
fn seconds(d: Duration) -> f64 {
    d.as_micros() as f64 / 1e6
}

/// RFC 3339 in UTC with milliseconds; the epoch for times humantime cannot format.
fn rfc3339(t: SystemTime) -> String {
    use std::fmt::Write as _;
    // humantime panics before the epoch and fails from the year 10000 on.
    let formattable = t.duration_since(UNIX_EPOCH).is_ok_and(|d| d.as_secs() < 253_402_300_800);
    let mut s = String::new();
    if write!(s, "{}", humantime::format_rfc3339_millis(if formattable { t } else { UNIX_EPOCH })).is_err() {
        s = "1970-01-01T00:00:00.000Z".to_owned();
    }
    s
}

fn kind_counts(slots: &ErrorSlots) -> BTreeMap<ErrorKind, u64> {
    ErrorKind::ALL.into_iter().map(|k| (k, slots.counts[k.index()])).filter(|&(_, n)| n > 0).collect()
}

fn push_errors(out: &mut Vec<ErrorReport>, slots: &ErrorSlots, endpoint: Option<&str>) {
    for kind in ErrorKind::ALL {
        let count = slots.counts[kind.index()];
        if count > 0 {
            out.push(ErrorReport {
                kind,
                endpoint: endpoint.map(str::to_owned),
                count,
                first_message: slots.first[kind.index()].as_deref().unwrap_or_default().to_owned(),
            });
        }
    }
}

fn interval_report(p: &Point) -> IntervalReport {
    let duration = p.end.saturating_sub(p.start);
    let mut counters = BTreeMap::new();
    counters.insert("http.requests".to_owned(), p.requests);
    counters.insert("http.responses".to_owned(), p.responses);
    counters.insert("http.downloaded_bytes".to_owned(), p.downloaded_bytes);
    for &(c, n) in &p.codes {
        counters.insert(format!("http.codes.{c}"), n);
    }
    counters.insert("errors".to_owned(), p.error_total());
    for kind in ErrorKind::ALL {
        let n = p.errors[kind.index()];
        if n > 0 {
            counters.insert(format!("errors.{kind}"), n);
        }
    }
    counters.insert("vusers.created".to_owned(), p.vus_created);
    counters.insert("vusers.completed".to_owned(), p.vus_completed);
    counters.insert("vusers.failed".to_owned(), p.vus_failed);
    counters.insert("vusers.skipped".to_owned(), p.vus_skipped);
    let mut rates = BTreeMap::new();
    rates.insert(REQUEST_RATE.to_owned(), rate(p.requests, duration));
    let mut summaries = BTreeMap::new();
    summaries.insert(RESPONSE_TIME.to_owned(), p.rt_summary);
    let mut histograms = BTreeMap::new();
    histograms.insert(RESPONSE_TIME.to_owned(), p.rt_histogram.clone());
    IntervalReport {
        t_s: seconds(p.start),
        duration_s: seconds(duration),
        counters,
        rates,
        summaries,
        active_vus: p.active_vus,
        active_vus_max: p.active_vus_max,
        histograms,
    }
}
