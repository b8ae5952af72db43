//! Read access to a merged latency histogram for exporters ([`Latency`]), and a sum of several
//! ([`LatencySum`]): the count, exact sum, the report's summary, and bucket counts, all read from
//! the same HdrHistogram the report summarizes, so an exported figure is the report's.

use crate::hist::Hist;
use crate::report::Summary;

/// One merged latency histogram (microseconds), read-only: an endpoint's response times, the
/// run's, the schedule lag. Cheap to copy.
#[derive(Debug, Clone, Copy)]
pub struct Latency<'a> {
    hist: &'a Hist,
}

impl<'a> Latency<'a> {
    pub(crate) fn new(hist: &'a Hist) -> Latency<'a> {
        Latency { hist }
    }

    /// Number of values.
    pub fn count(&self) -> u64 {
        self.hist.count()
    }

    /// The exact sum of the values, µs.
    pub fn sum_us(&self) -> u64 {
        self.hist.stats().2
    }

    /// The summary the report gives for these values (milliseconds): the same percentiles,
    /// clamped to the exact minimum and maximum.
    pub fn summary(&self) -> Summary {
        self.hist.summary()
    }

    /// How many values are at most each of `bounds_us` (ascending, µs): cumulative counts, as a
    /// Prometheus histogram's `le` buckets. A value counts as at most a bound when the start of
    /// its HdrHistogram bucket is, so a count is exact to the histogram's precision (0.1 %);
    /// every bound below 2,048 µs is exact.
    pub fn cumulative_counts(&self, bounds_us: &[u64]) -> Vec<u64> {
        match self.hist.histogram_ref() {
            Some(h) => cumulative_counts(h, bounds_us),
            None => vec![0; bounds_us.len()],
        }
    }

    /// Every HdrHistogram bucket holding values, ascending, as `(value µs, count)`: the value is the
    /// one the report gives for a percentile that falls in the bucket (its top, clamped to the exact
    /// minimum and maximum), so an exporter that re-buckets these counts puts the report's
    /// percentile in the same bucket as the values it stands for.
    pub fn recorded(&self) -> impl Iterator<Item = (u64, u64)> + 'a {
        let (min, max, _) = self.hist.stats();
        self.hist.histogram_ref().into_iter().flat_map(move |h| {
            h.iter_recorded()
                .map(move |v| (v.value_iterated_to().clamp(min.min(max), max), v.count_at_value()))
        })
    }
}

/// How many values of `h` (µs) are at most each of `bounds_us`, as [`Latency::cumulative_counts`]
/// reads them: for a histogram decoded from a report.
pub fn cumulative_counts(h: &hdrhistogram::Histogram<u64>, bounds_us: &[u64]) -> Vec<u64> {
    let mut counts = vec![0u64; bounds_us.len()];
    for v in h.iter_recorded() {
        let start = h.lowest_equivalent(v.value_iterated_to());
        let first = bounds_us.partition_point(|&b| b < start);
        if let Some(c) = counts.get_mut(first) {
            *c += v.count_at_value();
        }
    }
    let mut running = 0;
    for c in &mut counts {
        running += *c;
        *c = running;
    }
    counts
}

/// The sum of several latency histograms, merged exactly (an export's `other` endpoint, or the
/// run's corrected latency over every endpoint).
#[derive(Debug, Clone, Default)]
pub struct LatencySum {
    hist: Hist,
}

impl LatencySum {
    /// Adds every value of `latency`.
    pub fn add(&mut self, latency: Latency<'_>) {
        self.hist.merge(latency.hist);
    }

    /// The merged histogram.
    pub fn latency(&self) -> Latency<'_> {
        Latency::new(&self.hist)
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn hist(values_us: &[u64]) -> Hist {
        let mut h = Hist::default();
        for &v in values_us {
            h.record(Duration::from_micros(v));
        }
        h
    }

    #[test]
    fn cumulative_counts_follow_the_bounds() {
        let h = hist(&[50, 100, 101, 900, 1_000, 2_500, 7_000, 3_000_000]);
        let l = Latency::new(&h);
        assert_eq!(l.cumulative_counts(&[100, 1_000, 5_000, 1_000_000]), [2, 5, 6, 7]);
        assert_eq!(l.count(), 8);
        assert_eq!(l.sum_us(), 50 + 100 + 101 + 900 + 1_000 + 2_500 + 7_000 + 3_000_000);
        assert_eq!(Latency::new(&Hist::default()).cumulative_counts(&[1, 2]), [0, 0]);
    }

    /// A value just above a bound is outside it once the bound is at least the histogram's
    /// resolution there (2 µs between 2,048 and 4,095 µs).
    #[test]
    fn bounds_above_the_exact_range_are_exact_to_the_bucket() {
        let h = hist(&[2_500, 2_502, 10_000, 10_008]);
        assert_eq!(Latency::new(&h).cumulative_counts(&[2_500, 10_000]), [1, 3]);
    }

    #[test]
    fn recorded_buckets_carry_the_report_s_values_and_every_count() {
        let h = hist(&[7, 7, 2_500, 2_501, 123_456]);
        let recorded: Vec<(u64, u64)> = Latency::new(&h).recorded().collect();
        // 2,500 and 2,501 share a 2 µs bucket whose top is 2,501; the top bucket is clamped to
        // the exact maximum (its top is 123,519).
        assert_eq!(recorded, [(7, 2), (2_501, 2), (123_456, 1)]);
        assert_eq!(Latency::new(&Hist::default()).recorded().count(), 0);
    }

    #[test]
    fn a_sum_merges_exactly() {
        let (a, b) = (hist(&[100, 200]), hist(&[300, 5_000]));
        let mut sum = LatencySum::default();
        sum.add(Latency::new(&a));
        sum.add(Latency::new(&b));
        let all = hist(&[100, 200, 300, 5_000]);
        assert_eq!(sum.latency().summary(), Latency::new(&all).summary());
        assert_eq!(sum.latency().cumulative_counts(&[250, 1_000]), [2, 3]);
    }
}
