//! The run's timeline: one point per collector tick, downsampled as it ages so memory stays bounded
//! on long runs while counts stay exact.
//!
//! Each point keeps its counters and its `http.response_time` histogram serialized (V2+DEFLATE,
//! typically a few hundred bytes to a few KB instead of tens of KB live).
//!
//! Downsampling ([`TimelinePolicy::default`]): points younger than 10 minutes keep the tick
//! resolution (~1 s); older points are merged into 10-second points; points older than one hour
//! into 60-second points. A point belongs to the bucket `floor(start / width)`; a bucket is merged
//! once it is complete (a later point exists in a later bucket) and its last point is older than
//! the tier's age. Merging adds counts and histograms exactly, so totals never change.
//! Bound: ~600 + 300 + 60 per further hour points, i.e. ~2 300 points for a 24-hour run.

use std::time::Duration;

use crate::hist::{Hist, decode_histogram};
use crate::recorder::{ErrorSlots, Interval, KINDS, add_code};
use crate::report::Summary;

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
    /// Tick resolution for the last 10 min, 10-s points up to 1 h, 60-s points beyond.
    fn default() -> Self {
        TimelinePolicy {
            tiers: vec![
                Tier { min_age: Duration::from_secs(600), width: Duration::from_secs(10) },
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
    pub(crate) downloaded_bytes: u64,
    pub(crate) vus_created: u64,
    pub(crate) vus_completed: u64,
    pub(crate) vus_failed: u64,
    pub(crate) vus_skipped: u64,
    pub(crate) active_vus: u64,
    pub(crate) active_vus_max: u64,
    /// Exact count, min, max and sum (µs) of the response times in the point.
    pub(crate) rt_count: u64,
    pub(crate) rt_min: u64,
    pub(crate) rt_max: u64,
    pub(crate) rt_sum: u64,
    /// The response-time histogram, base64 V2+DEFLATE.
    pub(crate) rt_histogram: String,
    /// Summary of the response times, computed when the point is created or merged.
    pub(crate) rt_summary: Summary,
}

impl Point {
    /// A point for one tick from `start` to `end`.
    pub(crate) fn from_tick(
        start: Duration,
        end: Duration,
        tick: &Interval,
        rt: &Hist,
        active: u64,
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
        let (rt_min, rt_max, rt_sum) = rt.stats();
        Point {
            start,
            end,
            requests: tick.requests(),
            responses: tick.responses(),
            errors,
            codes,
            downloaded_bytes: tick.bytes_received(),
            vus_created: tick.vus_created(),
            vus_completed: tick.vus_completed,
            vus_failed: tick.vus_failed,
            vus_skipped: tick.vus_skipped,
            active_vus: active,
            active_vus_max: active,
            rt_count: rt.count(),
            rt_min,
            rt_max,
            rt_sum,
            rt_histogram: rt.encode(),
            rt_summary: rt.summary(),
        }
    }

    /// Total errors in the point.
    pub(crate) fn error_total(&self) -> u64 {
        self.errors.iter().sum()
    }

    /// Merges consecutive points (in time order) into one. Counts add; the histogram is the exact
    /// sum of the parts.
    fn merge_run(run: Vec<Point>) -> Option<Point> {
        let mut it = run.into_iter();
        let mut acc = it.next()?;
        let mut hist: Option<Hist> = None;
        for p in it {
            acc.end = acc.end.max(p.end);
            acc.requests += p.requests;
            acc.responses += p.responses;
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
            acc.active_vus = p.active_vus;
            acc.active_vus_max = acc.active_vus_max.max(p.active_vus_max);
            if p.rt_count > 0 {
                let h = hist.get_or_insert_with(|| acc.rt_hist());
                h.merge(&p.rt_hist());
            }
        }
        if let Some(h) = hist {
            (acc.rt_min, acc.rt_max, acc.rt_sum) = h.stats();
            acc.rt_count = h.count();
            acc.rt_histogram = h.encode();
            acc.rt_summary = h.summary();
        }
        Some(acc)
    }

    /// The point's response-time histogram with its exact statistics.
    fn rt_hist(&self) -> Hist {
        match decode_histogram(&self.rt_histogram) {
            Ok(h) if self.rt_count > 0 => Hist::from_parts(h, self.rt_min, self.rt_max, self.rt_sum),
            // Our own encoding always decodes; if it ever did not, the request counts still add up.
            _ => Hist::default(),
        }
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
