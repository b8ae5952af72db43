//! The collector side: once per tick, merge the intervals of all worker threads into exact run-wide
//! totals and the timeline; watch the generator's health; serve live snapshots and warnings; build
//! the final [`Report`] (built in [`report_build`]).

use std::ops::RangeInclusive;
use std::sync::Arc;
use std::time::Duration;

use crate::endpoint_names::EndpointNames;
use crate::generator::{CpuStats, Watch};
use crate::hist::Hist;
use crate::interval::{EndpointStats, ErrorSlots, Interval};
use crate::kinds::ErrorKind;
use crate::latency::{Latency, LatencySum};
use crate::report::{ErrorReport, Protocol, Summary};
use crate::timeline::{Point, Timeline, TimelinePolicy};
use crate::traces::TracedRequestReport;

mod report_build;

use report_build::push_errors;

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
    /// 99th percentile of the corrected latency (`http.response_time.corrected`, from the intended
    /// start) during the latest tick, ms. Equal to `p99_ms` when no request had an intended start
    /// earlier than its actual start.
    pub p99_corrected_ms: f64,
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
    /// Request-rate tokens dropped since the start (`http.requests.dropped`).
    pub dropped: u64,
    /// The generator's CPU use during the latest tick (percent of all cores), as given to
    /// [`Aggregator::record_generator`]; `None` when it was not recorded for that tick.
    pub cpu_percent: Option<f64>,
}

/// One endpoint's figures for a live table: cumulative since the start (or the latest reset) and
/// its counts during the latest tick. See [`Aggregator::live_endpoints`]; the rows a live view
/// shows are shaped from these by `hornet_output::view`.
#[derive(Debug, Clone, Copy)]
pub struct LiveEndpoint<'a> {
    /// Index of the endpoint in the plan's endpoint list.
    pub index: usize,
    /// HTTP request or WebSocket step (then the times are connect, round-trip or wait times).
    pub protocol: Protocol,
    /// Requests sent since the start.
    pub requests: u64,
    /// Failed requests since the start (errors of every kind on this endpoint).
    pub failures: u64,
    /// Responses received since the start.
    pub responses: u64,
    /// Response bytes received since the start.
    pub bytes_received: u64,
    /// Requests sent during the latest tick.
    pub tick_requests: u64,
    /// Failures during the latest tick.
    pub tick_failures: u64,
    name: &'a [String],
    /// The run's endpoints named at run time.
    named: &'a EndpointNames,
    stats: &'a EndpointStats,
    errors: &'a ErrorSlots,
}

/// Count and exact minimum, maximum and sum of some response times, in µs, without percentiles.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatencyTotals {
    /// Number of values.
    pub count: u64,
    /// Smallest value, µs (`u64::MAX` when there is none).
    pub min_us: u64,
    /// Largest value, µs.
    pub max_us: u64,
    /// Sum of the values, µs.
    pub sum_us: u64,
}

impl<'a> LiveEndpoint<'a> {
    /// The endpoint's name (`endpoint #i` for an index past the plan's list).
    pub fn name(&self) -> String {
        self.name
            .get(self.index)
            .cloned()
            .or_else(|| self.named.name_of(self.index))
            .unwrap_or_else(|| format!("endpoint #{}", self.index))
    }

    /// The summary of its response times since the start, ms: a few quantile look-ups in the
    /// exact merged histogram, no encoding.
    pub fn latency(&self) -> Summary {
        self.stats.response_time.summary()
    }

    /// Count, minimum, maximum and sum of its response times since the start, without percentiles.
    pub fn latency_totals(&self) -> LatencyTotals {
        let (min_us, max_us, sum_us) = self.stats.response_time.stats();
        LatencyTotals { count: self.stats.response_time.count(), min_us, max_us, sum_us }
    }

    /// Its response times since the start (connect, round-trip or wait times for a WebSocket
    /// step): the histogram the report's `endpoints[].histogram` encodes.
    pub fn response_time(&self) -> Latency<'a> {
        Latency::new(&self.stats.response_time)
    }

    /// Its corrected latencies since the start (from each request's intended start).
    pub fn corrected(&self) -> Latency<'a> {
        Latency::new(&self.stats.corrected)
    }

    /// Its responses by status code, in no particular order.
    pub fn codes(&self) -> &'a [(u16, u64)] {
        &self.stats.codes
    }

    /// Its errors by kind, the kinds that happened only.
    pub fn errors(&self) -> Vec<(ErrorKind, u64)> {
        kind_counts(self.errors)
    }

    /// Request bytes written since the start.
    pub fn bytes_sent(&self) -> u64 {
        self.stats.bytes_sent
    }
}

/// The kinds of `slots` that happened, with their counts, in [`ErrorKind::ALL`] order.
fn kind_counts(slots: &ErrorSlots) -> Vec<(ErrorKind, u64)> {
    ErrorKind::ALL.into_iter().map(|k| (k, slots.counts[k.index()])).filter(|&(_, n)| n > 0).collect()
}

/// Per-tick figures kept for [`Aggregator::live`].
#[derive(Debug, Clone, Default)]
struct LastTick {
    rps: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    p99_corrected: f64,
    cpu: Option<f64>,
    /// Requests and failures of each endpoint during the tick.
    endpoints: Vec<(u64, u64)>,
    /// Length of the tick, seconds.
    secs: f64,
}

/// Merges the threads' intervals tick by tick. Cumulative counts and histograms are exact; the
/// timeline is downsampled as it ages (see [`TimelinePolicy`]).
#[derive(Debug, Clone)]
pub struct Aggregator {
    endpoints: Vec<String>,
    /// The run's endpoints named at run time (ids past `endpoints`).
    named: Arc<EndpointNames>,
    /// The protocol of each endpoint (HTTP when not set).
    protocols: Vec<Protocol>,
    scenarios: Vec<String>,
    total: Interval,
    elapsed: Duration,
    active_vus: u64,
    last: LastTick,
    timeline: Timeline,
    watch: Watch,
    /// Every endpoint's response times merged since the start (or the latest reset): the totals
    /// row of a live table, without merging every endpoint's histogram on each call.
    all_rt: Hist,
    /// When the statistics were last reset (time since the start of the run), if they were.
    reset_at: Option<Duration>,
    /// The figures of an endpoint that recorded nothing yet.
    empty: EndpointStats,
    /// HTTP statuses that count as a success; any other response is a failed request.
    expected_status: Vec<RangeInclusive<u16>>,
}

/// The statuses that count as a success unless the script says otherwise: below 400, as Locust
/// and k6 count them.
pub const DEFAULT_EXPECTED_STATUS: RangeInclusive<u16> = 100..=399;

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
            named: Arc::new(EndpointNames::new(endpoints.len())),
            endpoints,
            protocols: Vec::new(),
            scenarios,
            total,
            elapsed: Duration::ZERO,
            active_vus: 0,
            last: LastTick::default(),
            timeline: Timeline::new(policy),
            watch: Watch::default(),
            all_rt: Hist::default(),
            reset_at: None,
            empty: EndpointStats::default(),
            expected_status: vec![DEFAULT_EXPECTED_STATUS],
        }
    }

    /// Sets the protocol of each endpoint (index for index with the names given to
    /// [`Aggregator::new`]); endpoints without one are HTTP. WebSocket endpoints are kept out of
    /// the `http.*` totals and reported under `websocket.*`.
    pub fn set_protocols(&mut self, protocols: Vec<Protocol>) {
        self.protocols = protocols;
    }

    /// Names the endpoints past the plan's by the run's table (its workers' `context.http`
    /// requests); without it they are `endpoint #i`.
    pub fn set_endpoint_names(&mut self, names: Arc<EndpointNames>) {
        self.named = names;
    }

    /// Sets the HTTP statuses that count as a success (`config.http.expectedStatus`); a response
    /// with any other status counts as a failed request of its endpoint. Default: 100 to 399.
    pub fn set_expected_status(&mut self, expected: Vec<RangeInclusive<u16>>) {
        self.expected_status = expected;
    }

    /// The responses of HTTP endpoint `i` in `e` whose status is not expected, by status (none
    /// for a WebSocket endpoint).
    fn failed_statuses<'a>(
        &'a self,
        i: usize,
        e: &'a EndpointStats,
    ) -> impl Iterator<Item = (u16, u64)> + 'a {
        let http = self.protocol(i) == Protocol::Http;
        e.codes
            .iter()
            .copied()
            .filter(move |&(code, _)| http && !self.expected_status.iter().any(|r| r.contains(&code)))
    }

    /// Endpoint `i`'s failed requests in `e`: its errors of every kind and its responses with an
    /// unexpected status. Every "failures" figure (report, live table) is this one.
    fn failures_of(&self, i: usize, e: &EndpointStats, errors: &ErrorSlots) -> u64 {
        errors.total() + self.failed_statuses(i, e).map(|(_, n)| n).sum::<u64>()
    }

    fn protocol(&self, i: usize) -> Protocol {
        self.protocols.get(i).copied().unwrap_or_default()
    }

    /// True when the run has WebSocket endpoints or recorded WebSocket traffic.
    fn has_ws(&self) -> bool {
        self.total.ws.is_some() || self.protocols.contains(&Protocol::Ws)
    }

    /// Endpoint `i`'s figures in `t`: its WebSocket stats for a WebSocket endpoint, else its HTTP
    /// stats; the errors are always the endpoint's.
    fn stats_of<'a>(
        &self,
        t: &'a Interval,
        i: usize,
        empty: &'a EndpointStats,
    ) -> (&'a EndpointStats, &'a ErrorSlots) {
        let errors = t.endpoints.get(i).map_or(&empty.errors, |e| &e.errors);
        let data = match self.protocol(i) {
            Protocol::Http => t.endpoints.get(i),
            Protocol::Ws => t.ws.as_ref().and_then(|w| w.endpoints.get(i)),
        };
        (data.unwrap_or(empty), errors)
    }

    /// Merges the intervals of all threads for the tick ending at `elapsed` (time since the start
    /// of the run) and records the active-VU gauge at that moment. The tick's length is measured
    /// from the previous tick's `elapsed`, so rates use real time even when ticks are irregular.
    ///
    /// Also checks the schedule lag of the ticks of the last [`LAG_WINDOW`](crate::LAG_WINDOW):
    /// the first time its p99 is above [`LAG_WARNING_MS`] a warning is raised (see
    /// [`Aggregator::take_new_warnings`]).
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
        // Only merged separately when it differs: otherwise it is the same histogram as `rt`.
        let corrected = tick.any_corrected().then(|| tick.corrected());
        let secs = (end - start).as_secs_f64();
        let mut endpoints: Vec<(u64, u64)> = {
            let empty = EndpointStats::default();
            (0..tick.endpoints.len())
                .map(|i| {
                    let (e, errors) = self.stats_of(&tick, i, &empty);
                    (e.requests, self.failures_of(i, e, errors))
                })
                .collect()
        };
        let (mut requests, mut span) = (tick.requests() as f64, secs);
        // A partial tick (the run's final one: a few milliseconds after whole seconds) shows its
        // rates together with the one before, so a handful of requests over a few milliseconds
        // cannot read as a spike. Counts are unchanged.
        if crate::timeline::is_partial(end - start, Duration::from_secs_f64(self.last.secs)) {
            requests += self.last.rps * self.last.secs;
            span += self.last.secs;
            for (i, &(r, f)) in self.last.endpoints.iter().enumerate() {
                if let Some(e) = endpoints.get_mut(i) {
                    *e = (e.0 + r, e.1 + f);
                } else {
                    endpoints.push((r, f));
                }
            }
        }
        self.last = LastTick {
            rps: if span > 0.0 { requests / span } else { 0.0 },
            p50: summary.p50,
            p95: summary.p95,
            p99: summary.p99,
            p99_corrected: corrected.as_ref().map_or(summary.p99, |c| c.summary().p99),
            cpu: None,
            endpoints,
            secs: span,
        };
        self.watch.on_tick(end, (end - start).as_secs_f64(), &tick.lag);
        let failed_statuses = (0..tick.endpoints.len())
            .map(|i| self.failed_statuses(i, &tick.endpoints[i]).map(|(_, n)| n).sum::<u64>())
            .sum();
        self.timeline.push(Point::from_tick(
            start,
            end,
            &tick,
            &rt,
            corrected.as_ref(),
            active_vus,
            failed_statuses,
        ));
        self.all_rt.merge(&rt);
        self.total.merge(&tick);
        self.elapsed = end;
        self.active_vus = active_vus;
    }

    /// Records the load generator's CPU use during the latest tick: process CPU time over the tick
    /// / wall time / cores × 100 (see [`process_cpu_seconds`](crate::process_cpu_seconds)). Call it
    /// once per tick, right after [`Aggregator::add_tick`] (before [`Aggregator::live`]); a second
    /// call for the same tick replaces the value. Ignored before the first tick and for NaN or
    /// infinite values; negative values count as 0.
    ///
    /// The value goes to the timeline (`generator.cpu`), the report (`generator`) and the live
    /// snapshot. The first time [`CPU_WARNING_TICKS`](crate::CPU_WARNING_TICKS) consecutive ticks
    /// are above [`CPU_WARNING_PERCENT`](crate::CPU_WARNING_PERCENT) a warning is raised; a tick
    /// without a reading breaks the run.
    pub fn record_generator(&mut self, cpu_percent: f64) {
        let Some((v, seconds)) = self.watch.on_cpu(cpu_percent) else { return };
        self.last.cpu = Some(v);
        if let Some(p) = self.timeline.points.last_mut() {
            p.cpu = Some(CpuStats::single(v, seconds));
        }
    }

    /// The warnings raised since the previous call (each warning is returned once), for the live
    /// display. Every warning raised also ends up in [`Report::warnings`].
    pub fn take_new_warnings(&mut self) -> Vec<String> {
        self.watch.take_new()
    }

    /// Every warning raised so far, in order.
    pub fn warnings(&self) -> &[String] {
        self.watch.warnings()
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
            p99_corrected_ms: self.last.p99_corrected,
            requests: self.total.requests(),
            errors: self.total.errors(),
            vus_created: self.total.vus_created(),
            vus_completed: self.total.vus_completed(),
            vus_failed: self.total.vus_failed(),
            dropped: self.total.dropped,
            cpu_percent: self.last.cpu,
        }
    }

    /// Everything merged so far.
    pub fn total(&self) -> &Interval {
        &self.total
    }

    /// Every endpoint's figures for a live table, in the plan's order: cumulative counts and
    /// latency (read from the exact merged histograms on demand) and the counts of the latest tick.
    /// Cheap enough to call once per tick; percentiles cost only for the endpoints asked.
    pub fn live_endpoints(&self) -> Vec<LiveEndpoint<'_>> {
        let t = &self.total;
        let empty = &self.empty;
        (0..self.endpoints.len().max(t.endpoints.len()))
            .map(|i| {
                let (e, errors) = self.stats_of(t, i, empty);
                let (tick_requests, tick_failures) = self.last.endpoints.get(i).copied().unwrap_or_default();
                LiveEndpoint {
                    index: i,
                    protocol: self.protocol(i),
                    requests: e.requests,
                    failures: self.failures_of(i, e, errors),
                    responses: e.responses,
                    bytes_received: e.bytes_received,
                    tick_requests,
                    tick_failures,
                    name: &self.endpoints,
                    named: &self.named,
                    stats: e,
                    errors,
                }
            })
            .collect()
    }

    /// The traced requests kept since the start (or the latest reset): per endpoint in plan order,
    /// its slowest and its first failed requests, slowest first (see [`crate::traces`]). Empty
    /// for a run without tracing.
    pub fn traced_requests(&self) -> Vec<TracedRequestReport> {
        let mut out = Vec::new();
        for (i, e) in self.total.endpoints.iter().enumerate() {
            let Some(slots) = &e.traces else { continue };
            let name = self.endpoint_name(i);
            out.extend(
                slots.kept().iter().map(|(r, slowest)| TracedRequestReport::new(name.clone(), r, *slowest)),
            );
        }
        out
    }

    /// The length of the latest tick, seconds (0 before the first): the denominator of the
    /// current rates.
    pub fn latest_tick_seconds(&self) -> f64 {
        self.last.secs
    }

    /// The summary of every endpoint's response times since the start (or the latest reset), ms:
    /// the totals row of a live table, without merging every endpoint's histogram on each call.
    pub fn response_time(&self) -> Summary {
        self.all_rt.summary()
    }

    /// Clears the cumulative statistics (Locust's "Reset stats"): every count, histogram and error
    /// since the start of the run, so that tables, checks and the report cover the time since now.
    /// Kept: the timeline (charts and the per-interval history stay whole), the latest tick's
    /// current rates, the active-VU gauge, the elapsed time, the generator's health watch and its
    /// warnings. The report's run-wide rates then divide by the time since the reset, and it
    /// carries a warning saying when the reset happened.
    pub fn reset_stats(&mut self) {
        self.total = Interval::new(self.endpoints.len(), self.scenarios.len());
        self.all_rt = Hist::default();
        self.reset_at = Some(self.elapsed);
    }

    /// When the statistics were last reset (time since the start of the run), if they were.
    pub fn reset_at(&self) -> Option<Duration> {
        self.reset_at
    }

    /// Every HTTP endpoint's response times since the start (or the latest reset), merged: the
    /// report's `http.response_time`.
    pub fn all_response_times(&self) -> Latency<'_> {
        Latency::new(&self.all_rt)
    }

    /// Every HTTP endpoint's corrected latencies since the start (or the latest reset), merged
    /// now: the report's `http.response_time.corrected`.
    pub fn all_corrected(&self) -> LatencySum {
        let mut sum = LatencySum::default();
        for e in &self.total.endpoints {
            sum.add(Latency::new(&e.corrected));
        }
        sum
    }

    /// The schedule lag since the start (or the latest reset): the report's `schedule.lag`.
    pub fn schedule_lag(&self) -> Latency<'_> {
        Latency::new(&self.total.lag)
    }

    /// The errors outside any request, by kind (the kinds that happened only).
    pub fn unattributed_errors(&self) -> Vec<(ErrorKind, u64)> {
        kind_counts(&self.total.unattributed)
    }

    /// VUs created since the start (or the latest reset), by scenario name, in the plan's order.
    pub fn vus_created_by_scenario(&self) -> Vec<(String, u64)> {
        let t = &self.total;
        (0..self.scenarios.len().max(t.created.len()))
            .map(|i| (self.scenario_name(i), t.created.get(i).copied().unwrap_or(0)))
            .collect()
    }

    /// The 99th percentile of the schedule lag since the start (or the latest reset), ms.
    pub fn lag_p99_ms(&self) -> f64 {
        self.total.lag.summary().p99
    }

    /// The errors so far, as in the report: one entry per (endpoint, kind) that happened, with
    /// its count and first message; errors outside any request last.
    pub fn errors(&self) -> Vec<ErrorReport> {
        let t = &self.total;
        let mut errors = Vec::new();
        for (i, e) in t.endpoints.iter().enumerate() {
            if e.errors.total() > 0 {
                push_errors(&mut errors, &e.errors, Some(&self.endpoint_name(i)));
            }
        }
        push_errors(&mut errors, &t.unattributed, None);
        errors
    }

    /// Number of points currently in the timeline.
    pub fn timeline_len(&self) -> usize {
        self.timeline.points.len()
    }

    fn endpoint_name(&self, i: usize) -> String {
        self.endpoints
            .get(i)
            .cloned()
            .or_else(|| self.named.name_of(i))
            .unwrap_or_else(|| format!("endpoint #{i}"))
    }

    fn scenario_name(&self, i: usize) -> String {
        self.scenarios.get(i).cloned().unwrap_or_else(|| format!("scenario #{i}"))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::recorder::{EndpointId, Recorder};
    use crate::report::{REQUEST_RATE, RunMeta};

    fn meta() -> RunMeta {
        RunMeta { hornet_version: "0".into(), ..RunMeta::for_tests(Duration::from_secs(1)) }
    }

    fn lags(us: u64, n: usize) -> Interval {
        let mut r = Recorder::new(1, 1);
        for _ in 0..n {
            r.lag(Duration::from_micros(us));
        }
        r.take_interval()
    }

    /// What checks read is the same in the figures as in the full report, and so is the apdex.
    #[test]
    fn figures_hold_the_report_s_numbers_without_its_histograms() {
        let mut agg = Aggregator::new(vec!["GET /a".into(), "GET /b".into()], vec!["s".into()]);
        let mut r = Recorder::new(2, 1);
        for k in 0..200u64 {
            let t =
                crate::Timings { total: Duration::from_micros(500 + k * 997 % 40_000), ..Default::default() };
            r.request_sent((k % 2) as EndpointId, 10);
            r.response((k % 2) as EndpointId, if k % 10 == 0 { 500 } else { 200 }, &t, 100);
        }
        agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 3);
        let full = agg.report(meta());
        let figures = agg.figures(Duration::from_secs(1));
        assert_eq!(figures.aggregate.counters, full.aggregate.counters);
        assert_eq!(figures.aggregate.rates, full.aggregate.rates);
        assert_eq!(figures.aggregate.summaries, full.aggregate.summaries);
        assert_eq!(figures.endpoints.len(), 2);
        for (f, e) in figures.endpoints.iter().zip(&full.endpoints) {
            assert_eq!(
                (&f.name, f.requests, &f.codes, &f.summary),
                (&e.name, e.requests, &e.codes, &e.summary)
            );
            assert!(f.histogram.is_empty() && !e.histogram.is_empty());
        }
        assert!(figures.aggregate.histograms.is_empty() && figures.intervals.is_empty());
        assert!(!full.intervals.is_empty());
        for threshold in [1.0, 5.0, 20.0] {
            assert_eq!(Some(agg.apdex(threshold)), full.compute_apdex(threshold).ok(), "T = {threshold} ms");
        }
    }

    /// The live check sees every tick, so a run-wide p99 above the threshold normally raised the
    /// live warning already; lag merged without a tick (here, straight into the totals) still gets
    /// the run-wide warning, once.
    #[test]
    fn run_wide_lag_warning_only_when_the_live_one_did_not_fire() {
        let mut agg = Aggregator::new(vec!["x".into()], vec![]);
        agg.total.merge(&lags(6_000, 10));
        let r = agg.report(meta());
        assert_eq!(r.warnings, [crate::generator::run_lag_warning(6.0)]);
        assert!(agg.warnings().is_empty(), "the run-wide check does not raise a live warning");

        let mut live = Aggregator::new(vec!["x".into()], vec![]);
        live.add_tick(Duration::from_secs(1), vec![lags(6_000, 10)], 0);
        let r = live.report(meta());
        assert_eq!(r.warnings, [crate::generator::lag_warning(6.0)]);

        let mut exact = Aggregator::new(vec!["x".into()], vec![]);
        exact.total.merge(&lags(5_000, 10));
        assert!(exact.report(meta()).warnings.is_empty(), "exactly 5 ms does not warn");
    }

    fn responses(r: &mut Recorder, ep: EndpointId, n: u64, ms: u64, bytes: u64) {
        let t = crate::kinds::Timings { total: Duration::from_millis(ms), ..Default::default() };
        for _ in 0..n {
            r.request_sent(ep, 10);
            r.response(ep, 200, &t, bytes);
        }
    }

    /// A reset clears the totals but not the timeline; the report's rate divides by the time since.
    #[test]
    fn reset_clears_totals_and_keeps_the_timeline() {
        let mut agg = Aggregator::new(vec!["GET /a".into()], vec![]);
        let mut r = Recorder::new(1, 1);
        responses(&mut r, 0, 10, 5, 10);
        r.error(Some(0), ErrorKind::Timeout, &"slow");
        agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 2);
        agg.reset_stats();
        assert_eq!(agg.reset_at(), Some(Duration::from_secs(1)));
        assert_eq!(agg.live().requests, 0);
        assert!(agg.errors().is_empty());
        assert_eq!(agg.live_endpoints().iter().map(|e| e.requests).sum::<u64>(), 0);
        responses(&mut r, 0, 6, 5, 10);
        agg.add_tick(Duration::from_secs(3), vec![r.take_interval()], 2);
        assert_eq!(agg.timeline_len(), 2, "the timeline is kept");
        let mut m = meta();
        m.duration = Duration::from_secs(3);
        let report = agg.report(m);
        assert_eq!(report.aggregate.counters["http.requests"], 6);
        assert_eq!(report.aggregate.rates[REQUEST_RATE], 3.0, "6 requests over the 2 s since the reset");
        assert!(report.warnings.iter().any(|w| w.contains("reset at 1.0 s")));
    }
}
