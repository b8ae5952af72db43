//! Exact open-model arrival schedules: which arrival is due when, for a list of phases run back to back.
//!
//! A [`Schedule`] is built once from the plan's phases and then answers, lazily and in O(1) per arrival,
//! "arrival number k is due at offset t from the start of the run". Nothing is materialized: a one-hour
//! schedule at 50,000 arrivals per second is a handful of numbers, and every due time is computed
//! directly from its index (never by adding up gaps, so errors do not accumulate).
//!
//! # The math (design.md §1)
//!
//! A phase of duration `T` has a rate curve `r(t)` on `[0, T)` and a cumulative count
//! `N(t) = ∫₀ᵗ r(s) ds`. Arrival `k` (`k = 0, 1, 2, …`, local to the phase) is due at the time `t_k`
//! where `N(t_k) = k`, so **the first arrival of every non-empty phase is at its start**, and the phase
//! holds every `k` with `t_k < T`:
//!
//! - **Constant rate** `r` (`arrivalRate` without `rampTo`, or with `rampTo` equal to the rate):
//!   `t_k = k / r`; count `⌈r·T⌉`. 0.5/s over 10 s gives 0, 2, 4, 6, 8 s (5 arrivals); 10/s over 1 s
//!   gives 0, 0.1, …, 0.9 s (10 arrivals).
//! - **Linear ramp** `r0 → r1` over `T`: `N(t) = r0·t + (r1 − r0)·t² / (2T)`. With `a = (r1 − r0) / (2T)`,
//!   `t_k` is the root in `[0, T]` of `a·t² + r0·t − k = 0`, computed in the cancellation-free form
//!   `t_k = 2k / (r0 + √(r0² + 4·a·k))` (valid for ramps up and down, and for `r0 = 0`).
//!   Count `⌈N(T)⌉` with `N(T) = (r0 + r1)·T / 2`: 0 → 10/s over 10 s gives 50, 2 → 10/s gives 60.
//! - **Count** `n` over `T` (`arrivalCount`): `t_k = k·T / n` for `k = 0 … n − 1`, in exact integer
//!   nanoseconds.
//! - **Pause**, a rate of 0 (with no ramp, or a ramp 0 → 0), and any phase of zero duration: no arrivals.
//!
//! Phases run back to back: phase `i` starts at the sum of the durations before it, and the global
//! arrival index ([`Arrival::index`]) continues across phases.
//!
//! ## Rounding (the float guard)
//!
//! Due times are rounded to the nearest nanosecond, and arrival `k` belongs to its phase exactly when
//! its rounded time is `< T` (in nanoseconds). The count ([`Schedule::expected_arrivals`]) is computed
//! from `⌈N(T)⌉` and then corrected against that very same rounded-time test, so the count and the
//! iterator always agree, and float noise cannot add an arrival at `t = T` (10/s over 1 s is exactly 10
//! arrivals; 0.07/s over 100 s is exactly 7, though `0.07 * 100.0` is 7.000000000000001 in f64). An
//! arrival whose exact time lies within half a nanosecond before the end of its phase is therefore dropped.
//!
//! Inputs are sanitized instead of rejected: negative, NaN or infinite rates count as 0, and durations
//! beyond `u64::MAX` nanoseconds (584 years) are clamped to it.

#![warn(missing_docs)]

use std::sync::Arc;
use std::time::Duration;

use hornet_script::plan::{Phase, PhaseKind};

/// Nanoseconds per second, as a float for the rate formulas.
const NANOS_PER_SEC: f64 = 1e9;

/// How many steps the count correction may take away from the `⌈N(T)⌉` estimate. The estimate is off by
/// float noise only (at most one or two), so this bound is never reached for sane inputs; it only keeps
/// absurd ones (rates near `f64::MAX`) from looping.
const MAX_COUNT_CORRECTION: u32 = 64;

/// One arrival: its global index (0-based across the whole run), its phase index, and its intended time as an
/// offset from the run's start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Arrival {
    /// Global index of the arrival, counting from 0 across all phases.
    pub index: u64,
    /// Index of the phase the arrival belongs to (into the phases the schedule was built from).
    pub phase: usize,
    /// Intended start, as an offset from the start of the run.
    pub at: Duration,
}

/// The arrival curve of one phase, in phase-local time.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Curve {
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
    fn time_ns(self, k: u64, duration_ns: u64) -> u64 {
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

    /// Number of arrivals of the curve in a phase of `duration_ns`: the number of `k` whose rounded due time
    /// is before the end. `estimate` is `N(T)`, the exact count up to rounding.
    fn count(self, duration_ns: u64, estimate: f64) -> u64 {
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
fn round_ns(t: f64) -> u64 {
    t.round() as u64
}

/// A rate as given by the script, made safe: negative, NaN and infinite rates are 0.
fn sane_rate(rate: f64) -> f64 {
    if rate.is_finite() && rate > 0.0 { rate } else { 0.0 }
}

/// The curve of a phase and its estimated count `N(T)`.
fn curve_of(kind: &PhaseKind, duration_ns: u64) -> (Curve, f64) {
    let secs = duration_ns as f64 / NANOS_PER_SEC;
    match *kind {
        PhaseKind::Pause => (Curve::Empty, 0.0),
        PhaseKind::Count { count } => (Curve::Even { count }, count as f64),
        PhaseKind::Rate { rate, ramp_to } => {
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
    }
}

/// One phase, resolved: where it sits in time and in the global index space.
#[derive(Debug, Clone, PartialEq)]
struct PhasePlan {
    /// Offset of the phase from the start of the run.
    start: Duration,
    /// Duration in nanoseconds (clamped to `u64::MAX`).
    duration_ns: u64,
    /// Global index of the phase's first arrival.
    first: u64,
    /// Number of arrivals in the phase.
    count: u64,
    /// Its arrival curve.
    curve: Curve,
}

impl PhasePlan {
    /// Global index one past the phase's last arrival.
    fn end(&self) -> u64 {
        self.first.saturating_add(self.count)
    }

    /// Offset from the run start of the phase's local arrival `k` (which must be `< count`).
    fn arrival_at(&self, k: u64) -> Duration {
        // For sane inputs the count guarantees `time_ns < duration_ns`; the clamp keeps absurd ones (rates
        // near f64::MAX) inside the phase.
        let local = self.curve.time_ns(k, self.duration_ns).min(self.duration_ns.saturating_sub(1));
        self.start.saturating_add(Duration::from_nanos(local))
    }
}

/// The schedule of a list of phases run back to back.
///
/// Cheap to clone and to iterate many times; see the [crate docs](crate) for the math.
#[derive(Debug, Clone, PartialEq)]
pub struct Schedule {
    /// The resolved phases, shared with the iterators.
    phases: Arc<[PhasePlan]>,
    /// Sum of the phase durations.
    total: Duration,
    /// Sum of the phase counts (saturating).
    arrivals: u64,
}

impl Schedule {
    /// Resolves `phases` (run back to back, in order) into a schedule.
    pub fn new(phases: &[Phase]) -> Schedule {
        let mut start = Duration::ZERO;
        let mut first = 0u64;
        let mut plans = Vec::with_capacity(phases.len());
        for phase in phases {
            let duration_ns = u64::try_from(phase.duration.as_nanos()).unwrap_or(u64::MAX);
            let (curve, estimate) = curve_of(&phase.kind, duration_ns);
            let count = curve.count(duration_ns, estimate);
            plans.push(PhasePlan { start, duration_ns, first, count, curve });
            start = start.saturating_add(phase.duration);
            first = first.saturating_add(count);
        }
        Schedule { phases: plans.into(), total: start, arrivals: first }
    }

    /// Length of the whole run: the sum of the phase durations.
    pub fn total_duration(&self) -> Duration {
        self.total
    }

    /// Number of phases.
    pub fn phase_count(&self) -> usize {
        self.phases.len()
    }

    /// Offset of phase `phase` from the start of the run (the sum of the durations before it). For an index
    /// past the last phase, the total duration (where a phase appended there would start).
    pub fn phase_start(&self, phase: usize) -> Duration {
        self.phases.get(phase).map_or(self.total, |p| p.start)
    }

    /// The phase running at offset `t` from the start: the one with `start <= t < start + duration`.
    /// Zero-length phases never run; `None` at or after the end of the run.
    pub fn phase_at(&self, t: Duration) -> Option<usize> {
        // Phase ends are non-decreasing; the first phase ending after `t` starts at or before `t`.
        let i =
            self.phases.partition_point(|p| p.start.saturating_add(Duration::from_nanos(p.duration_ns)) <= t);
        (i < self.phases.len()).then_some(i)
    }

    /// Exact total number of arrivals of the run (computed per phase, not by iterating); equal to
    /// `self.arrivals().count()`. Saturates at `u64::MAX`.
    pub fn expected_arrivals(&self) -> u64 {
        self.arrivals
    }

    /// Exact number of arrivals of phase `phase` (0 for an index past the last phase).
    pub fn phase_arrivals(&self, phase: usize) -> u64 {
        self.phases.get(phase).map_or(0, |p| p.count)
    }

    /// Global index of the first arrival of phase `phase` (for an index past the last phase, the total).
    pub fn phase_first_index(&self, phase: usize) -> u64 {
        self.phases.get(phase).map_or(self.arrivals, |p| p.first)
    }

    /// The arrival with global index `index`, computed directly (O(log phases)); `None` past the end.
    pub fn arrival(&self, index: u64) -> Option<Arrival> {
        if index >= self.arrivals {
            return None;
        }
        let phase = self.phases.partition_point(|p| p.end() <= index);
        let p = self.phases.get(phase)?;
        Some(Arrival { index, phase, at: p.arrival_at(index - p.first) })
    }

    /// All arrivals in time order, computed lazily one at a time.
    pub fn arrivals(&self) -> Arrivals {
        self.arrivals_striped(0, 1)
    }

    /// Only the arrivals whose global index `k` satisfies `k % n == i` (thread striping), in the same order.
    /// The stripes `i = 0 … n − 1` together are exactly [`Schedule::arrivals`]. Empty when `n == 0` or
    /// `i >= n`. Skipped arrivals are not computed, so each stripe costs O(its own length).
    pub fn arrivals_striped(&self, i: usize, n: usize) -> Arrivals {
        let (next, step) = if n == 0 || i >= n { (self.arrivals, 1) } else { (i as u64, n as u64) };
        Arrivals { phases: Arc::clone(&self.phases), next, step, phase: 0, end: self.arrivals }
    }
}

/// Iterator over the arrivals of a [`Schedule`] (or of one stripe of it), in time order.
///
/// Owns a shared handle to the schedule, so it can be moved to another thread. Each item is computed from
/// its index in O(1); [`Iterator::nth`] skips without computing the skipped arrivals.
#[derive(Debug, Clone)]
pub struct Arrivals {
    /// The resolved phases.
    phases: Arc<[PhasePlan]>,
    /// Global index of the next arrival to yield.
    next: u64,
    /// Distance between consecutive yielded indices (the stripe count).
    step: u64,
    /// Phase holding `next` (or an earlier one; advanced lazily).
    phase: usize,
    /// One past the last global index.
    end: u64,
}

impl Arrivals {
    /// Number of arrivals left to yield.
    fn remaining(&self) -> u64 {
        if self.next >= self.end { 0 } else { (self.end - self.next - 1) / self.step + 1 }
    }
}

impl Iterator for Arrivals {
    type Item = Arrival;

    fn next(&mut self) -> Option<Arrival> {
        if self.next >= self.end {
            return None;
        }
        let index = self.next;
        while self.phases.get(self.phase).is_some_and(|p| p.end() <= index) {
            self.phase += 1;
        }
        let p = self.phases.get(self.phase)?;
        let at = p.arrival_at(index - p.first);
        self.next = index.checked_add(self.step).unwrap_or(self.end);
        Some(Arrival { index, phase: self.phase, at })
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.remaining();
        (usize::try_from(n).unwrap_or(usize::MAX), usize::try_from(n).ok())
    }

    fn count(self) -> usize {
        usize::try_from(self.remaining()).unwrap_or(usize::MAX)
    }

    fn nth(&mut self, n: usize) -> Option<Arrival> {
        let skip = (n as u64).saturating_mul(self.step);
        self.next = self.next.saturating_add(skip);
        self.next()
    }
}

impl std::iter::FusedIterator for Arrivals {}

#[cfg(test)]
mod tests;
