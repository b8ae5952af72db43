//! Apdex (Application Performance Index) from the `http.response_time` histogram.
//!
//! Given a target time T, each response is *satisfied* (≤ T), *tolerated* (T < t ≤ 4T) or
//! *frustrated* (> 4T), and the score is `(satisfied + tolerated / 2) / total`, between 0 and 1.
//! The ratings follow Artillery's apdex plugin: ≥ 0.94 excellent, ≥ 0.85 good, ≥ 0.70 fair,
//! ≥ 0.49 poor, below that unacceptable.
//!
//! hornet's `http.response_time` is issued → last byte, the same "total" time Artillery's apdex
//! plugin uses (Artillery's own `http.response_time` is only time to first byte). Errors without a
//! response (timeouts, refused connections) have no response time and are not counted.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Artillery's default apdex threshold, in milliseconds.
pub const DEFAULT_THRESHOLD_MS: f64 = 500.0;

/// How an apdex score rates.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ApdexRating {
    /// Score ≥ 0.94.
    Excellent,
    /// 0.85 ≤ score < 0.94.
    Good,
    /// 0.70 ≤ score < 0.85.
    Fair,
    /// 0.49 ≤ score < 0.70.
    Poor,
    /// Score < 0.49.
    Unacceptable,
    /// No response was received, so there is no score.
    NoSamples,
}

impl ApdexRating {
    /// The rating of a score (Artillery's bands). A NaN score is [`ApdexRating::NoSamples`].
    pub fn from_score(score: f64) -> ApdexRating {
        if score.is_nan() {
            ApdexRating::NoSamples
        } else if score >= 0.94 {
            ApdexRating::Excellent
        } else if score >= 0.85 {
            ApdexRating::Good
        } else if score >= 0.7 {
            ApdexRating::Fair
        } else if score >= 0.49 {
            ApdexRating::Poor
        } else {
            ApdexRating::Unacceptable
        }
    }

    /// The name used in reports and summaries (`excellent`, `no-samples`).
    pub fn as_str(self) -> &'static str {
        match self {
            ApdexRating::Excellent => "excellent",
            ApdexRating::Good => "good",
            ApdexRating::Fair => "fair",
            ApdexRating::Poor => "poor",
            ApdexRating::Unacceptable => "unacceptable",
            ApdexRating::NoSamples => "no-samples",
        }
    }
}

impl std::fmt::Display for ApdexRating {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The apdex of a run (`apdex` in the report).
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
pub struct Apdex {
    /// T, in milliseconds.
    pub threshold_ms: f64,
    /// Responses with a response time ≤ T.
    pub satisfied: u64,
    /// Responses with T < response time ≤ 4T.
    pub tolerated: u64,
    /// Responses slower than 4T.
    pub frustrated: u64,
    /// `(satisfied + tolerated / 2) / total`; 0 when there were no responses.
    pub score: f64,
    /// The score's rating; [`ApdexRating::NoSamples`] when there were no responses.
    pub rating: ApdexRating,
}

impl Apdex {
    /// The apdex of the given counts. With no responses at all the score is 0 and the rating
    /// [`ApdexRating::NoSamples`].
    pub fn from_counts(threshold_ms: f64, satisfied: u64, tolerated: u64, frustrated: u64) -> Apdex {
        let total = satisfied as f64 + tolerated as f64 + frustrated as f64;
        let (score, rating) = if total > 0.0 {
            let score = (satisfied as f64 + tolerated as f64 / 2.0) / total;
            (score, ApdexRating::from_score(score))
        } else {
            (0.0, ApdexRating::NoSamples)
        };
        Apdex { threshold_ms, satisfied, tolerated, frustrated, score, rating }
    }

    /// Classifies every value of a response-time histogram (microseconds) against `threshold_ms`.
    ///
    /// Values are compared at the histogram's resolution (3 significant digits): a bucket counts as
    /// at or below a limit when its lowest value is, so a response of exactly T is satisfied, and
    /// one less than 0.1 % above T may be too. Below 2 ms every microsecond has its own bucket and
    /// the classification is exact. A threshold that is not a positive finite number is taken as 0.
    pub fn from_histogram(h: &Histogram<u64>, threshold_ms: f64) -> Apdex {
        let t_us = if threshold_ms.is_finite() && threshold_ms > 0.0 {
            // Saturating float → int conversion; thresholds are far below u64::MAX µs.
            (threshold_ms * 1000.0).round() as u64
        } else {
            0
        };
        let t4_us = t_us.saturating_mul(4);
        let (mut satisfied, mut tolerated, mut frustrated) = (0_u64, 0_u64, 0_u64);
        for v in h.iter_recorded() {
            let low = h.lowest_equivalent(v.value_iterated_to());
            let n = v.count_at_value();
            if low <= t_us {
                satisfied += n;
            } else if low <= t4_us {
                tolerated += n;
            } else {
                frustrated += n;
            }
        }
        Apdex::from_counts(threshold_ms, satisfied, tolerated, frustrated)
    }

    /// Number of responses classified.
    pub fn total(&self) -> u64 {
        self.satisfied.saturating_add(self.tolerated).saturating_add(self.frustrated)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::hist::new_histogram;

    fn hist(values_us: &[(u64, u64)]) -> Histogram<u64> {
        let mut h = new_histogram();
        for &(v, n) in values_us {
            h.record_n(v, n).unwrap();
        }
        h
    }

    #[test]
    fn counts_and_score_from_a_histogram() {
        // T = 1 ms: 60 at or below 1 ms (exactly 1 ms included), 30 in (1, 4] ms, 10 above 4 ms.
        // (Between 2 and 4 ms buckets are 2 µs wide: 4 002 µs is the first bucket above 4 ms.)
        let h = hist(&[(200, 40), (1_000, 20), (1_001, 10), (4_000, 20), (4_002, 5), (90_000, 5)]);
        let a = Apdex::from_histogram(&h, 1.0);
        assert_eq!((a.satisfied, a.tolerated, a.frustrated), (60, 30, 10));
        assert_eq!(a.total(), 100);
        assert!((a.score - 0.75).abs() < 1e-12, "{}", a.score);
        assert_eq!(a.rating, ApdexRating::Fair);
        assert_eq!(a.threshold_ms, 1.0);
    }

    #[test]
    fn large_values_are_classified_at_bucket_resolution() {
        // T = 500 ms: exactly 500 ms is satisfied, 2 000 ms is tolerated, 2 100 ms frustrated.
        let h = hist(&[(500_000, 3), (2_000_000, 2), (2_100_000, 1), (3_600_000_000, 1)]);
        let a = Apdex::from_histogram(&h, 500.0);
        assert_eq!((a.satisfied, a.tolerated, a.frustrated), (3, 2, 2));
    }

    #[test]
    fn ratings_follow_artillerys_bands() {
        let r = ApdexRating::from_score;
        assert_eq!(r(1.0), ApdexRating::Excellent);
        assert_eq!(r(0.94), ApdexRating::Excellent);
        assert_eq!(r(0.9399), ApdexRating::Good);
        assert_eq!(r(0.85), ApdexRating::Good);
        assert_eq!(r(0.8499), ApdexRating::Fair);
        assert_eq!(r(0.7), ApdexRating::Fair);
        assert_eq!(r(0.6999), ApdexRating::Poor);
        assert_eq!(r(0.49), ApdexRating::Poor);
        assert_eq!(r(0.4899), ApdexRating::Unacceptable);
        assert_eq!(r(0.0), ApdexRating::Unacceptable);
        assert_eq!(r(f64::NAN), ApdexRating::NoSamples);
    }

    #[test]
    fn no_responses_and_bad_thresholds_do_not_give_nan() {
        let a = Apdex::from_histogram(&new_histogram(), 500.0);
        assert_eq!((a.total(), a.score, a.rating), (0, 0.0, ApdexRating::NoSamples));
        let h = hist(&[(0, 1), (1, 1)]);
        for t in [f64::NAN, -1.0, 0.0] {
            let a = Apdex::from_histogram(&h, t);
            assert_eq!((a.satisfied, a.tolerated, a.frustrated), (1, 0, 1), "T = {t}");
            assert!(a.score.is_finite());
        }
        let json = serde_json::to_string(&Apdex::from_counts(500.0, 0, 0, 0)).unwrap();
        assert!(json.contains(r#""rating":"no-samples""#), "{json}");
    }
}
