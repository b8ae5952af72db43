//! The arrival curve of one phase in phase-local time (constant rate, linear ramp, even count,
//! empty), and the rounding of due times to nanoseconds with its count correction. The math is in
//! the crate doc.

use hornet_script::plan::PhaseKind;

use crate::NANOS_PER_SEC;

/// How many steps the count correction may take away from the `⌈N(T)⌉` estimate. The estimate is off by
/// float noise only (at most one or two), so this bound is never reached for sane inputs; it only keeps
/// absurd ones (rates near `f64::MAX`) from looping.
const MAX_COUNT_CORRECTION: u32 = 64;

/// The arrival curve of one phase, in phase-local time.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Curve {
    /// No arrivals.
    Empty,
    /// Constant rate (per second): `t_k = k / rate`.
    Constant { rate: f64 },
    /// Linear ramp starting at `r0` per second, with `a = (r1 − r0) / (2T)` per second².
    Ramp { r0: f64, a: f64 },
    /// `count` arrivals spread evenly over the phase: `t_k = k·T / count`.
    Even { count: u64 },
}

impl Curve {
    /// Due time of local arrival `k` in nanoseconds from the phase start, rounded to the nearest
    /// nanosecond (saturating at `u64::MAX` when it does not exist or lies beyond every duration).
    pub(crate) fn time_ns(self, k: u64, duration_ns: u64) -> u64 {
        match self {
            Curve::Empty => u64::MAX,
            Curve::Constant { rate } => round_ns(k as f64 * NANOS_PER_SEC / rate),
            Curve::Ramp { r0, a } => {
                if k == 0 {
                    return 0;
                }
                let k = k as f64;
                let disc = (r0 * r0 + 4.0 * a * k).max(0.0);
                let denom = r0 + disc.sqrt();
                if denom.is_nan() || denom <= 0.0 {
                    return u64::MAX;
                }
                round_ns(2.0 * k / denom * NANOS_PER_SEC)
            }
            Curve::Even { count } => {
                if count == 0 {
                    return u64::MAX;
                }
                // k < count <= u64::MAX and duration_ns <= u64::MAX, so the product fits in u128 and the
                // quotient (< duration_ns when k < count) fits in u64.
                let t = u128::from(k) * u128::from(duration_ns) / u128::from(count);
                u64::try_from(t).unwrap_or(u64::MAX)
            }
        }
    }

    /// Due time, in nanoseconds from the phase start, of the (possibly fractional) local count `x >= 0`:
    /// the same formulas as [`Curve::time_ns`] with a real `x`, unclamped (callers clamp it between the
    /// times of the neighbouring whole counts). `u64::MAX` when there is no such time.
    pub(crate) fn time_frac_ns(self, x: f64, duration_ns: u64) -> u64 {
        match self {
            Curve::Empty => u64::MAX,
            Curve::Constant { rate } => round_ns(x * NANOS_PER_SEC / rate),
            Curve::Ramp { r0, a } => {
                if x <= 0.0 {
                    return 0;
                }
                let disc = (r0 * r0 + 4.0 * a * x).max(0.0);
                let denom = r0 + disc.sqrt();
                if denom.is_nan() || denom <= 0.0 {
                    return u64::MAX;
                }
                round_ns(2.0 * x / denom * NANOS_PER_SEC)
            }
            Curve::Even { count } => {
                if count == 0 {
                    return u64::MAX;
                }
                // floor(x·T / count), split into the exact whole part and a float remainder.
                let whole = x.floor();
                let frac = x - whole;
                let k = u128::from(whole as u64);
                let product = k * u128::from(duration_ns);
                let (q, r) = (product / u128::from(count), product % u128::from(count));
                let rest = (r as f64 + frac * duration_ns as f64) / count as f64;
                u64::try_from(q).unwrap_or(u64::MAX).saturating_add(rest.floor() as u64)
            }
        }
    }

    /// The expected local count `N(s)` at `s_ns` nanoseconds into a phase of `duration_ns` (unclamped).
    pub(crate) fn count_at_ns(self, s_ns: u64, duration_ns: u64) -> f64 {
        let s = s_ns as f64 / NANOS_PER_SEC;
        match self {
            Curve::Empty => 0.0,
            Curve::Constant { rate } => rate * s,
            Curve::Ramp { r0, a } => s * (r0 + a * s),
            Curve::Even { count } => {
                if duration_ns == 0 {
                    0.0
                } else {
                    count as f64 * s_ns as f64 / duration_ns as f64
                }
            }
        }
    }

    /// Number of arrivals of the curve in a phase of `duration_ns`: the number of `k` whose rounded due time
    /// is before the end. `estimate` is `N(T)`, the exact count up to rounding.
    pub(crate) fn count(self, duration_ns: u64, estimate: f64) -> u64 {
        if duration_ns == 0 {
            return 0;
        }
        match self {
            Curve::Empty => 0,
            Curve::Even { count } => count,
            Curve::Constant { .. } | Curve::Ramp { .. } => {
                // `as` saturates (and maps NaN to 0), so this is the estimate clamped to u64.
                let mut n = estimate.ceil() as u64;
                let before_end = |k: u64| self.time_ns(k, duration_ns) < duration_ns;
                for _ in 0..MAX_COUNT_CORRECTION {
                    if n > 0 && !before_end(n - 1) {
                        n -= 1;
                    } else {
                        break;
                    }
                }
                for _ in 0..MAX_COUNT_CORRECTION {
                    if n < u64::MAX && before_end(n) {
                        n += 1;
                    } else {
                        break;
                    }
                }
                n
            }
        }
    }
}

/// Rounds a time in nanoseconds to an integer, saturating (negative and NaN give 0, huge gives `u64::MAX`).
pub(crate) fn round_ns(t: f64) -> u64 {
    t.round() as u64
}

/// A rate as given by the script, made safe: negative, NaN and infinite rates are 0.
pub(crate) fn sane_rate(rate: f64) -> f64 {
    if rate.is_finite() && rate > 0.0 { rate } else { 0.0 }
}

/// Which phases of a plan a schedule counts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Channel {
    /// Arrivals: `Rate` and `Count` phases.
    Arrivals,
    /// Request-rate tokens: `RequestRate` phases, read as `Rate` phases.
    Requests,
}

/// The curve of a phase and its estimated count `N(T)`, for `channel`.
pub(crate) fn curve_of(kind: &PhaseKind, duration_ns: u64, channel: Channel) -> (Curve, f64) {
    match (channel, kind) {
        (Channel::Arrivals, PhaseKind::Count { count }) => (Curve::Even { count: *count }, *count as f64),
        (Channel::Arrivals, PhaseKind::Rate { rate, ramp_to })
        | (Channel::Requests, PhaseKind::RequestRate { rate, ramp_to }) => {
            rate_curve(*rate, *ramp_to, duration_ns)
        }
        // Everything else (pauses, closed-model phases, the other channel's phases) is empty.
        _ => (Curve::Empty, 0.0),
    }
}

/// The curve of a rate phase (`rate`, ramping to `ramp_to`) and its estimated count `N(T)`.
pub(crate) fn rate_curve(rate: f64, ramp_to: Option<f64>, duration_ns: u64) -> (Curve, f64) {
    let secs = duration_ns as f64 / NANOS_PER_SEC;
    let r0 = sane_rate(rate);
    let r1 = ramp_to.map_or(r0, sane_rate);
    if r0 == r1 {
        if r0 == 0.0 { (Curve::Empty, 0.0) } else { (Curve::Constant { rate: r0 }, r0 * secs) }
    } else if secs > 0.0 {
        (Curve::Ramp { r0, a: (r1 - r0) / (2.0 * secs) }, (r0 + r1) * secs / 2.0)
    } else {
        (Curve::Empty, 0.0)
    }
}
