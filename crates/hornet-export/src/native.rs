//! hornet's latency histograms as Prometheus native histograms (sparse, exponential buckets), for
//! remote write with `--prometheus-rw-native`: each HdrHistogram bucket's count goes to
//! the exponential bucket holding the value the report gives for it, so the run's counts carry
//! over exactly and a quantile read from the native histogram lies in the bucket of the report's.
//!
//! Schema 8, the finest Prometheus knows: 256 buckets per power of two, each bound 2^(1/256) =
//! 1.0027 times the one below, the closest to the 0.1 % the HdrHistograms keep. A quantile
//! estimated from it (`histogram_quantile`) is within 0.271 % of the report's.

use hornet_metrics::Latency;

/// The schema hornet sends: bucket `i` holds the values in (2^((i-1)/256), 2^(i/256)] seconds.
pub const SCHEMA: i32 = 8;

/// How far a quantile read from a bucket can be from a value in it, relative to the value:
/// 2^(2^-SCHEMA) - 1.
pub fn relative_bucket_width() -> f64 {
    2f64.powf(2f64.powi(-SCHEMA)) - 1.0
}

/// A native histogram of seconds, cumulative over the run, its buckets sparse.
#[derive(Debug, Clone, PartialEq)]
pub struct NativeHistogram {
    /// The bucket schema ([`SCHEMA`]).
    pub schema: i32,
    /// Values of exactly zero (below the HdrHistograms' 1 µs).
    pub zero_count: u64,
    /// Number of values, the zero bucket's included.
    pub count: u64,
    /// Sum of the values, seconds (exact: from the exact sum in µs).
    pub sum: f64,
    /// `(index, count)` of every bucket holding values, ascending by index.
    pub buckets: Vec<(i32, u64)>,
}

impl NativeHistogram {
    /// The native histogram of `latency` (µs), in seconds.
    pub fn of(latency: Latency<'_>) -> NativeHistogram {
        let mut zero_count = 0;
        let mut buckets: Vec<(i32, u64)> = Vec::new();
        for (us, n) in latency.recorded() {
            if us == 0 {
                zero_count += n;
                continue;
            }
            let index = bucket_index(us as f64 / 1e6, SCHEMA);
            match buckets.last_mut() {
                Some((last, count)) if *last == index => *count += n,
                _ => buckets.push((index, n)),
            }
        }
        NativeHistogram {
            schema: SCHEMA,
            zero_count,
            count: latency.count(),
            sum: latency.sum_us() as f64 / 1e6,
            buckets,
        }
    }
}

/// The upper bound of bucket `index` of `schema`: 2^(index / 2^schema).
pub fn bucket_upper(index: i32, schema: i32) -> f64 {
    2f64.powf(f64::from(index) * 2f64.powi(-schema))
}

/// The index of the bucket of `schema` holding `value` (> 0): the `i` with
/// `bucket_upper(i - 1) < value <= bucket_upper(i)`.
pub fn bucket_index(value: f64, schema: i32) -> i32 {
    let estimate = (value.log2() * 2f64.powi(schema)).ceil();
    // Bounded: a positive finite f64's log2 is within ±1075, times at most 256.
    let mut index = estimate.clamp(f64::from(i32::MIN), f64::from(i32::MAX)) as i32;
    // log2 may round across a bound: settle on the bucket whose bounds hold the value.
    if value > bucket_upper(index, schema) {
        index += 1;
    } else if value <= bucket_upper(index - 1, schema) {
        index -= 1;
    }
    index
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use hornet_metrics::{Aggregator, Recorder, Timings};

    use super::*;

    #[test]
    fn a_value_falls_in_the_bucket_whose_bounds_hold_it() {
        // Powers of two are upper bounds: 0.5 s closes bucket -256.
        assert_eq!(bucket_index(0.5, SCHEMA), -256);
        assert_eq!(bucket_index(1.0, SCHEMA), 0);
        assert_eq!(bucket_index(1.001, SCHEMA), 1);
        assert_eq!(bucket_index(2.0, 0), 1);
        assert_eq!(bucket_index(2.5, 0), 2);
        for us in [1u64, 7, 999, 1_000, 2_501, 60_959, 123_456, 3_600_000_000] {
            let v = us as f64 / 1e6;
            let i = bucket_index(v, SCHEMA);
            assert!(bucket_upper(i - 1, SCHEMA) < v && v <= bucket_upper(i, SCHEMA), "{us} µs in {i}");
        }
        assert!((relative_bucket_width() - 0.002711).abs() < 1e-6);
    }

    #[test]
    fn counts_carry_over_exactly_into_sparse_buckets() {
        let mut agg = Aggregator::new(vec!["a".into()], vec!["s".into()]);
        let mut r = Recorder::new(1, 1);
        for (ms, n) in [(5u64, 3u64), (20, 2), (1_000, 1)] {
            let t = Timings { total: Duration::from_millis(ms), ..Timings::default() };
            for _ in 0..n {
                r.request_sent(0, 10);
                r.response(0, 200, &t, 100);
            }
        }
        agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 1);
        let endpoints = agg.live_endpoints();
        let native = NativeHistogram::of(endpoints[0].response_time());
        assert_eq!((native.count, native.zero_count, native.schema), (6, 0, SCHEMA));
        assert!((native.sum - (3.0 * 0.005 + 2.0 * 0.02 + 1.0)).abs() < 1e-12);
        let expected: Vec<(i32, u64)> =
            [(0.005, 3), (0.02, 2), (1.0, 1)].iter().map(|&(s, n)| (bucket_index(s, SCHEMA), n)).collect();
        assert_eq!(native.buckets, expected);
        assert_eq!(native.buckets[2].0, 0, "1 s closes bucket 0");
    }
}
