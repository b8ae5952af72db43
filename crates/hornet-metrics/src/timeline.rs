//! The run's timeline: one point per collector tick, downsampled as it ages so memory stays bounded
//! on long runs while counts stay exact.
//!
//! Each point keeps its counters and its `http.response_time` histogram serialized (V2+DEFLATE,
//! typically a few hundred bytes to a few KB instead of tens of KB live), plus its
//! `http.response_time.corrected` histogram when that differs (otherwise the two are the same
//! histogram and only one is kept), and the generator's CPU use when it was measured.
//!
//! Downsampling ([`TimelinePolicy::default`]): points younger than 2 minutes keep the tick
//! resolution (~1 s); older points are merged into 10-second points; points older than one hour
//! into 60-second points. A point belongs to the bucket `floor(start / width)`; a bucket is merged
//! once it is complete (a later point exists in a later bucket) and its last point is older than
//! the tier's age. Merging adds counts and histograms exactly, so totals never change.
//! Bound: ~120 + 350 + 60 per further hour points, i.e. ~1 850 points for a 24-hour run. A point
//! takes about 2 KB (two serialized histograms and their summaries), so the short full-resolution
//! window keeps a long run's memory nearly flat: about 0.2 KB per second of test after the first
//! two minutes (measured in bench/ workload 6).

use std::time::Duration;

use crate::generator::CpuStats;
use crate::hist::{Hist, decode_histogram};
use crate::interval::{ErrorSlots, Interval, KINDS, WsStats, add_code};
use crate::report::Summary;

/// True when a tick (or point) of `length` after one of `previous` is a partial one, shown with
/// its predecessor: shorter than half a second (half the collector's 1 s tick) and than half of
/// `previous`.
pub(crate) fn is_partial(length: Duration, previous: Duration) -> bool {
    length < Duration::from_millis(500) && length * 2 < previous
}

/// One downsampling step: points older than `min_age` are merged into points `width` long.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Tier {
    /// Age (time before the latest tick) after which points are merged.
    pub min_age: Duration,
    /// Width of the merged points. Use multiples of the previous tier's width so buckets nest.
    pub width: Duration,
}

/// How the timeline is downsampled, finest tier first.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TimelinePolicy {
    /// The tiers, by increasing `min_age` and `width`.
    pub tiers: Vec<Tier>,
}

impl Default for TimelinePolicy {
    /// Tick resolution for the last 2 min, 10-s points up to 1 h, 60-s points beyond.
    fn default() -> Self {
        TimelinePolicy {
            tiers: vec![
                Tier { min_age: Duration::from_secs(120), width: Duration::from_secs(10) },
                Tier { min_age: Duration::from_secs(3600), width: Duration::from_secs(60) },
            ],
        }
    }
}

/// One timeline point (one tick, or several merged).
#[derive(Debug, Clone)]
pub(crate) struct Point {
    pub(crate) start: Duration,
    pub(crate) end: Duration,
    pub(crate) requests: u64,
    pub(crate) responses: u64,
    pub(crate) errors: [u64; KINDS],
    pub(crate) codes: Vec<(u16, u64)>,
    /// Responses whose status is not expected (`config.http.expectedStatus`): with the errors,
    /// the point's failed requests.
    pub(crate) failed_statuses: u64,
    pub(crate) downloaded_bytes: u64,
    pub(crate) vus_created: u64,
    pub(crate) vus_completed: u64,
    pub(crate) vus_failed: u64,
    pub(crate) vus_skipped: u64,
    pub(crate) dropped: u64,
    pub(crate) iterations_late: u64,
    pub(crate) active_vus: u64,
    pub(crate) active_vus_max: u64,
    /// `http.response_time` in the point.
    pub(crate) rt: PointHist,
    /// `http.response_time.corrected` in the point; `None` when it is the same as `rt` (no
    /// corrected latency in the point differed from its service time).
    pub(crate) corrected: Option<PointHist>,
    /// The generator's CPU use, when measured.
    pub(crate) cpu: Option<CpuStats>,
    /// WebSocket figures, when the point has any.
    pub(crate) ws: Option<WsPoint>,
}

/// The WebSocket figures of a timeline point.
#[derive(Debug, Clone)]
pub(crate) struct WsPoint {
    pub(crate) connections: u64,
    pub(crate) messages_sent: u64,
    pub(crate) messages_received: u64,
    pub(crate) bytes_sent: u64,
    pub(crate) bytes_received: u64,
    /// `websocket.rtt` in the point.
    pub(crate) rtt: PointHist,
}

impl WsPoint {
    fn from_stats(w: &WsStats) -> WsPoint {
        WsPoint {
            connections: w.connections,
            messages_sent: w.messages_sent,
            messages_received: w.messages_received,
            bytes_sent: w.bytes_sent,
            bytes_received: w.bytes_received,
            rtt: PointHist::from_hist(&w.rtt),
        }
    }

    /// Adds the counters of `o` (the histogram is merged by the caller).
    fn add_counts(&mut self, o: &WsPoint) {
        self.connections += o.connections;
        self.messages_sent += o.messages_sent;
        self.messages_received += o.messages_received;
        self.bytes_sent += o.bytes_sent;
        self.bytes_received += o.bytes_received;
    }
}

/// A histogram kept in a timeline point: serialized, with its exact statistics and summary.
#[derive(Debug, Clone)]
pub(crate) struct PointHist {
    /// Exact count, min, max and sum (µs).
    count: u64,
    min: u64,
    max: u64,
    sum: u64,
    /// The histogram, base64 V2+DEFLATE.
    pub(crate) histogram: String,
    /// Its summary, computed when the point is created or merged.
    pub(crate) summary: Summary,
}

impl PointHist {
    fn from_hist(h: &Hist) -> PointHist {
        let (min, max, sum) = h.stats();
        PointHist { count: h.count(), min, max, sum, histogram: h.encode(), summary: h.summary() }
    }

    /// The histogram with its exact statistics.
    fn hist(&self) -> Hist {
        match decode_histogram(&self.histogram) {
            Ok(h) if self.count > 0 => Hist::from_parts(h, self.min, self.max, self.sum),
            // Our own encoding always decodes; if it ever did not, the request counts still add up.
            _ => Hist::default(),
        }
    }
}

impl Point {
    /// A point for one tick from `start` to `end`. `corrected` is the tick's corrected histogram,
    /// or `None` when it equals `rt`; `failed_statuses` its responses whose status is not expected.
    pub(crate) fn from_tick(
        start: Duration,
        end: Duration,
        tick: &Interval,
        rt: &Hist,
        corrected: Option<&Hist>,
        active: u64,
        failed_statuses: u64,
    ) -> Point {
        let mut errors = [0; KINDS];
        let mut add_errors = |slots: &ErrorSlots| {
            for (a, b) in errors.iter_mut().zip(&slots.counts) {
                *a += b;
            }
        };
        let mut codes = Vec::new();
        for e in &tick.endpoints {
            add_errors(&e.errors);
            for &(c, n) in &e.codes {
                add_code(&mut codes, c, n);
            }
        }
        add_errors(&tick.unattributed);
        Point {
            start,
            end,
            requests: tick.requests(),
            responses: tick.responses(),
            errors,
            codes,
            failed_statuses,
            downloaded_bytes: tick.bytes_received(),
            vus_created: tick.vus_created(),
            vus_completed: tick.vus_completed,
            vus_failed: tick.vus_failed,
            vus_skipped: tick.vus_skipped,
            dropped: tick.dropped,
            iterations_late: tick.iterations_late,
            active_vus: active,
            active_vus_max: active,
            rt: PointHist::from_hist(rt),
            corrected: corrected.map(PointHist::from_hist),
            cpu: None,
            ws: tick.ws.as_deref().map(WsPoint::from_stats),
        }
    }

    /// The point's `http.response_time.corrected` (its `http.response_time` when none differed).
    pub(crate) fn corrected(&self) -> &PointHist {
        self.corrected.as_ref().unwrap_or(&self.rt)
    }

    /// Total errors in the point.
    pub(crate) fn error_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Failed requests in the point: its errors and its responses with an unexpected status, as
    /// every "failures" figure counts them.
    pub(crate) fn failures(&self) -> u64 {
        self.error_total() + self.failed_statuses
    }

    /// Merges consecutive points (in time order) into one. Counts add; the histograms are the exact
    /// sums of the parts; CPU is the time-weighted mean and the max of the parts'.
    fn merge_run(run: Vec<Point>) -> Option<Point> {
        if run.len() < 2 {
            return run.into_iter().next();
        }
        let any_corrected = run.iter().any(|p| p.corrected.is_some());
        let mut rt = Hist::default();
        let mut corrected = Hist::default();
        for p in &run {
            if p.rt.count > 0 {
                rt.merge(&p.rt.hist());
            }
            if any_corrected && p.corrected().count > 0 {
                corrected.merge(&p.corrected().hist());
            }
        }
        let mut ws_rtt = Hist::default();
        for w in run.iter().filter_map(|p| p.ws.as_ref()) {
            if w.rtt.count > 0 {
                ws_rtt.merge(&w.rtt.hist());
            }
        }
        let mut it = run.into_iter();
        let mut acc = it.next()?;
        for p in it {
            match (&mut acc.ws, &p.ws) {
                (Some(a), Some(b)) => a.add_counts(b),
                (None, Some(b)) => acc.ws = Some(b.clone()),
                _ => {}
            }
            acc.end = acc.end.max(p.end);
            acc.requests += p.requests;
            acc.responses += p.responses;
            acc.failed_statuses += p.failed_statuses;
            for (a, b) in acc.errors.iter_mut().zip(&p.errors) {
                *a += b;
            }
            for &(c, n) in &p.codes {
                add_code(&mut acc.codes, c, n);
            }
            acc.downloaded_bytes += p.downloaded_bytes;
            acc.vus_created += p.vus_created;
            acc.vus_completed += p.vus_completed;
            acc.vus_failed += p.vus_failed;
            acc.vus_skipped += p.vus_skipped;
            acc.dropped += p.dropped;
            acc.iterations_late += p.iterations_late;
            acc.active_vus = p.active_vus;
            acc.active_vus_max = acc.active_vus_max.max(p.active_vus_max);
            acc.cpu = CpuStats::merged(acc.cpu, p.cpu);
        }
        acc.rt = PointHist::from_hist(&rt);
        acc.corrected = any_corrected.then(|| PointHist::from_hist(&corrected));
        if let Some(w) = &mut acc.ws {
            w.rtt = PointHist::from_hist(&ws_rtt);
        }
        Some(acc)
    }
}

/// The downsampled sequence of points.
#[derive(Debug, Clone, Default)]
pub(crate) struct Timeline {
    pub(crate) points: Vec<Point>,
    policy: TimelinePolicy,
}

impl Timeline {
    /// An empty timeline with the given downsampling policy.
    pub(crate) fn new(policy: TimelinePolicy) -> Timeline {
        Timeline { points: Vec::new(), policy }
    }

    /// Appends the point of a new tick ending at `now`, then downsamples.
    pub(crate) fn push(&mut self, point: Point) {
        let now = point.end;
        self.points.push(point);
        for i in 0..self.policy.tiers.len() {
            let tier = self.policy.tiers[i];
            self.compact(tier, now);
        }
    }

    /// The points as the report shows them: a last point that is [partial](is_partial) (the run's
    /// final tick: a few milliseconds after whole seconds) is folded into the one before it, so a
    /// handful of requests over a few milliseconds cannot read as a spike of requests per second.
    /// Returns the points kept as they are and the folded last point, if any; totals are the same.
    pub(crate) fn report_points(&self) -> (&[Point], Option<Point>) {
        let length = |p: &Point| p.end.saturating_sub(p.start);
        if let [.., previous, last] = self.points.as_slice()
            && is_partial(length(last), length(previous))
        {
            let kept = &self.points[..self.points.len() - 2];
            return (kept, Point::merge_run(vec![previous.clone(), last.clone()]));
        }
        (&self.points, None)
    }

    /// Merges complete buckets of `tier.width` whose points are all older than `tier.min_age`.
    fn compact(&mut self, tier: Tier, now: Duration) {
        let width = tier.width.as_nanos().max(1);
        let Some(horizon) = now.checked_sub(tier.min_age) else { return };
        let key = |p: &Point| p.start.as_nanos() / width;
        // Fast path: nothing to merge unless two old points share a bucket.
        let old = self.points.partition_point(|p| p.end <= horizon);
        if !self.points[..old].windows(2).any(|w| key(&w[0]) == key(&w[1])) {
            return;
        }
        let mut out = Vec::with_capacity(self.points.len());
        let mut points = std::mem::take(&mut self.points).into_iter().peekable();
        while let Some(first) = points.next() {
            let k = key(&first);
            let mut run = vec![first];
            while let Some(p) = points.next_if(|p| key(p) == k) {
                run.push(p);
            }
            // Complete: a later bucket has started. Old: its last point ended before the horizon.
            let complete = points.peek().is_some();
            let old = run.last().is_some_and(|p| p.end <= horizon);
            if run.len() > 1 && complete && old {
                out.extend(Point::merge_run(run));
            } else {
                out.extend(run);
            }
        }
        self.points = out;
    }
}
