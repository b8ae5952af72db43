//! Exact open-model arrival schedules: which arrival is due when, for a list of phases run back to back.
//!
//! A [`Schedule`] is built once from the plan's phases and then answers, lazily and in O(1) per arrival,
//! "arrival number k is due at offset t from the start of the run". Nothing is materialized: a one-hour
//! schedule at 50,000 arrivals per second is a handful of numbers, and every due time is computed
//! directly from its index (never by adding up gaps, so errors do not accumulate).
//!
//! # The math (docs/design.md §1)
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
//! # Workload models
//!
//! - **Channels.** [`Schedule::new`] counts arrivals (`Rate` and `Count` phases); [`Schedule::requests`]
//!   counts request-rate tokens (`RequestRate` phases, with the `Rate` math). Other phase kinds are
//!   empty in both, and phase `i` is always phase `i` of the plan.
//! - **Cumulative count.** [`Schedule::count_at`] is `N(t)` and [`Schedule::time_at_count`] its inverse;
//!   for whole counts the inverse is exactly the iterator's due time.
//! - **Load changes.** A [`Warp`] maps the virtual count of arrivals to `N(t)` so that a load factor can
//!   change while running with continuous numbering; [`Schedule::warped_time`] gives due times.
//! - **Poisson.** [`Schedule::arrival_counts`] gives each arrival's virtual count: whole numbers in
//!   uniform phases, the points of a seeded unit-rate Poisson process ([`PoissonCounts`]) in Poisson
//!   phases, mapped to times by the inverse cumulative count (exact for ramps, no thinning).
//! - **Closed model.** [`Users`] ([`Schedule::users`]) is the target user count over the run and when
//!   each user starts and stops.
//!
//! Inputs are sanitized instead of rejected: negative, NaN or infinite rates count as 0, and durations
//! beyond `u64::MAX` nanoseconds (584 years) are clamped to it.
//!
//! Modules: `curve` (one phase's curve and its rounding), `warp` (load changes), `counts` (virtual
//! counts, Poisson included), `users` (the closed model) and `segment` (execution segments of a
//! distributed run); this module lays the phases out into a [`Schedule`] and iterates it.

use std::sync::Arc;
use std::time::Duration;

use hornet_script::plan::{ArrivalMode, Phase};

/// Nanoseconds per second, as a float for the rate formulas.
const NANOS_PER_SEC: f64 = 1e9;

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
    /// The count the phase's curve reaches at its end, `min(N(T), count)`: local counts below it (and
    /// every whole count below `count`) fall inside the phase.
    reach: f64,
    /// Whether the phase's arrivals are a Poisson process ([`ArrivalMode::Poisson`]).
    poisson: bool,
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

    /// Due time, in nanoseconds from the phase start, of the real local count `x` (`0 <= x`), or `None`
    /// when the curve does not reach `x` inside the phase (`x` lies between `N(T)` and the whole count
    /// `count`, the rounding gap, or beyond). Whole `x` gives exactly the time of that arrival; other
    /// `x` are clamped between the times of the whole counts around them, so the result never goes
    /// back as `x` grows.
    fn local_time(&self, x: f64) -> Option<u64> {
        let count = self.count as f64;
        if x.is_nan() || x >= count {
            return None;
        }
        let last = self.duration_ns.saturating_sub(1);
        let time = |k: u64| self.curve.time_ns(k, self.duration_ns).min(last);
        let whole = x.floor();
        // x < count <= u64::MAX, so the cast is exact for every x float arithmetic can tell apart.
        let k = whole as u64;
        if x == whole {
            return Some(time(k));
        }
        let t = self.curve.time_frac_ns(x, self.duration_ns).max(time(k));
        if k.saturating_add(1) < self.count {
            Some(t.min(time(k + 1)))
        } else if x < self.reach {
            Some(t.min(last))
        } else {
            None
        }
    }

    /// The expected local count `N(s)` at `s_ns` nanoseconds into the phase, clamped to `[0, count]`.
    fn local_count(&self, s_ns: u64) -> f64 {
        let n = self.curve.count_at_ns(s_ns, self.duration_ns);
        if n.is_nan() { 0.0 } else { n.clamp(0.0, self.count as f64) }
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
    /// Resolves `phases` (run back to back, in order) into the schedule of their arrivals: `Rate` and
    /// `Count` phases have arrivals, every other kind (pauses, closed-model `Users` phases and
    /// `RequestRate` phases) has none.
    pub fn new(phases: &[Phase]) -> Schedule {
        Schedule::build(phases, Channel::Arrivals)
    }

    /// Resolves `phases` into the schedule of their request-rate tokens: `RequestRate { rate, ramp_to }`
    /// phases count exactly like `Rate { rate, ramp_to }` phases do in [`Schedule::new`], and every other
    /// kind (including `Rate` and `Count`) has none. Phase `i` of the schedule is phase `i` of the plan,
    /// with the same offsets as in the arrival schedule.
    pub fn requests(phases: &[Phase]) -> Schedule {
        Schedule::build(phases, Channel::Requests)
    }

    /// The closed-model target user count of `phases` over the run; see [`Users`].
    pub fn users(phases: &[Phase]) -> Users {
        Users::new(phases)
    }

    /// Resolves `phases` for one channel.
    fn build(phases: &[Phase], channel: Channel) -> Schedule {
        let mut start = Duration::ZERO;
        let mut first = 0u64;
        let mut plans = Vec::with_capacity(phases.len());
        for phase in phases {
            let duration_ns = u64::try_from(phase.duration.as_nanos()).unwrap_or(u64::MAX);
            let (curve, estimate) = curve_of(&phase.kind, duration_ns, channel);
            let count = curve.count(duration_ns, estimate);
            let reach = if estimate.is_nan() { 0.0 } else { estimate.clamp(0.0, count as f64) };
            let poisson = phase.mode == ArrivalMode::Poisson;
            plans.push(PhasePlan { start, duration_ns, first, count, curve, reach, poisson });
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

    /// `N(t)`: the cumulative expected number of arrivals at offset `t` from the start of the run.
    ///
    /// Inside phase `i` with arrivals it is `first_i + N_i(t − start_i)`, where `first_i` is
    /// [`Schedule::phase_first_index`] and `N_i` the phase's own curve (`r·s` for a constant rate,
    /// `r0·s + (r1 − r0)·s²/(2T)` for a ramp, `count·s/T` for a count), so arrival `k` of the uniform
    /// schedule is due where `N` reaches `k`. In phases without arrivals, and at or after the end of the
    /// run, it is the number of arrivals of the phases before (so it is flat there).
    ///
    /// `N` is non-decreasing and continuous inside each phase. At the end of a phase with arrivals it may
    /// jump up by less than one: the phase holds `⌈N_i(T)⌉` arrivals (see the rounding rules in the
    /// [crate docs](crate)), and the next phase's arrivals are numbered from there.
    pub fn count_at(&self, t: Duration) -> f64 {
        let Some(p) = self.phase_at(t).and_then(|i| self.phases.get(i)) else {
            return self.arrivals as f64;
        };
        if p.count == 0 {
            return p.first as f64;
        }
        let s_ns = u64::try_from(t.saturating_sub(p.start).as_nanos()).unwrap_or(u64::MAX);
        p.first as f64 + p.local_count(s_ns)
    }

    /// The inverse of [`Schedule::count_at`]: the earliest offset `t`, inside a phase with arrivals, at
    /// which `N(t) >= x`; `None` when `N` never reaches `x` while arrivals flow (`x` beyond the last
    /// phase's `N`, or NaN).
    ///
    /// For whole `x = k` this is exactly the due time of arrival `k`:
    /// `time_at_count(k as f64) == arrival(k).at` (same formulas, same rounding to the nanosecond), so
    /// arrival 0 is at the start of the first phase with arrivals, and an arrival whose count is reached
    /// exactly at the end of a phase is due at the start of the next phase with arrivals. A fractional
    /// `x` gets the exact inverse of the phase's curve, rounded like the whole counts and clamped between
    /// the times of the whole counts around it, so the result never decreases as `x` grows. An `x` in
    /// the rounding gap at the end of a phase (above `N_i(T)` but below the phase's whole count) is due at
    /// the start of the next phase with arrivals. `x <= 0` gives the start of the first phase with
    /// arrivals.
    pub fn time_at_count(&self, x: f64) -> Option<Duration> {
        if x.is_nan() {
            return None;
        }
        // The first phase whose global index range ends after x, then the first of those with arrivals.
        let from = self.phases.partition_point(|p| (p.end() as f64) <= x);
        let (i, p) = self.phases.iter().enumerate().skip(from).find(|(_, p)| p.count > 0)?;
        let local = (x - p.first as f64).max(0.0);
        match p.local_time(local) {
            Some(ns) => Some(p.start.saturating_add(Duration::from_nanos(ns))),
            None => self.phases.iter().skip(i + 1).find(|q| q.count > 0).map(|q| q.start),
        }
    }

    /// The due time of virtual count `v` under the load warp `warp` (see [`Warp`]): the time at which
    /// `N(t) = warp.n0 + (v − warp.v0) / warp.factor`, through [`Schedule::time_at_count`].
    ///
    /// - `None` means *never*: the warped count is beyond the end of the schedule, or the factor is 0 (or
    ///   not a finite positive number) and `v >= warp.v0` (the virtual count is frozen at `v0`).
    /// - A time before `warp.t0` (the count was due before the warp began, e.g. an arrival the caller has
    ///   not dispatched yet when the factor rose) is returned as `warp.t0`: due now. Likewise any
    ///   `v < warp.v0` under a factor of 0.
    ///
    /// With [`Warp::IDENTITY`] (and any warp rebased only with factor 1 from it at `t0 = 0`) this is
    /// exactly `time_at_count(v)`.
    pub fn warped_time(&self, warp: &Warp, v: f64) -> Option<Duration> {
        if v.is_nan() {
            return None;
        }
        let f = sane_factor(warp.factor);
        let target = if f == 0.0 {
            if v < warp.v0 {
                return Some(warp.t0);
            }
            return None;
        } else if f == 1.0 && warp.n0 == warp.v0 {
            v
        } else {
            warp.n0 + (v - warp.v0) / f
        };
        self.time_at_count(target).map(|t| t.max(warp.t0))
    }

    /// The virtual counts of all arrivals, in order, as `(k, c, phase)`: `k` counts the arrivals from 0,
    /// `c` is the arrival's virtual count (its due time is [`Schedule::time_at_count`]`(c)`, or
    /// [`Schedule::warped_time`]`(warp, c)` under a load warp), and `phase` the phase whose count range
    /// holds `c`. `c` grows strictly with `k`.
    ///
    /// - In a uniform phase `i` ([`ArrivalMode::Uniform`]) the counts are the whole numbers
    ///   `first_i, first_i + 1, …` below `first_i + count_i`: the arrivals of [`Schedule::arrivals`],
    ///   at the same times.
    /// - In a Poisson phase ([`ArrivalMode::Poisson`]) they are `first_i + u` for the points `u` of a
    ///   unit-rate Poisson process ([`PoissonCounts`]) below `N_i(T)`, drawn from a stream seeded by
    ///   `seed` and the phase index (independent per phase). Mapped through the phase's curve they are an
    ///   exact (inhomogeneous, for ramps) Poisson process of rate `r(t)`; the first point is an Exp(1)
    ///   draw, so a Poisson phase does not always start with an arrival at its start. How many there are
    ///   is random: [`Schedule::expected_arrivals`] stays the uniform count, which is also the expected
    ///   one up to rounding.
    ///
    /// If there is no Poisson phase before it, arrival `k` has `c = k` and is arrival `k` of
    /// [`Schedule::arrivals`]; after a Poisson phase `k` and `c` differ.
    ///
    /// **The sequence does not end** after the plan (unless the schedule has no arrivals at all): past
    /// the last phase with arrivals it goes on in that phase's mode (whole numbers, or the same Poisson
    /// stream) with `phase == self.phase_count()`, because a load factor above 1 needs more counts than
    /// the plan has. Stop when [`Schedule::warped_time`] (or `time_at_count`) gives `None`, or take the
    /// items with `phase < phase_count()` for the plan alone.
    pub fn arrival_counts(&self, seed: u64) -> ArrivalCounts {
        self.arrival_counts_striped(seed, 0, 1)
    }

    /// The items of [`Schedule::arrival_counts`] whose `k` satisfies `k % n == i`, in the same order (with
    /// the same counts: the stripes `i = 0 … n − 1` together are exactly the full sequence). Empty when
    /// `n == 0` or `i >= n`. Uniform phases skip to the stripe's items directly; Poisson phases draw every
    /// point (each stripe draws the whole sequence, a few nanoseconds per point).
    pub fn arrival_counts_striped(&self, seed: u64, i: usize, n: usize) -> ArrivalCounts {
        let last = self.phases.iter().rposition(|p| p.count > 0);
        let first = self.phases.iter().position(|p| p.count > 0);
        let phase = match (first, n == 0 || i >= n) {
            (Some(f), false) => f,
            _ => self.phases.len(),
        };
        ArrivalCounts {
            phases: Arc::clone(&self.phases),
            seed,
            last: last.unwrap_or(usize::MAX),
            phase,
            local: 0,
            stream: None,
            ordinal: 0,
            stripe: i as u64,
            stripes: (n as u64).max(1),
        }
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

mod counts;
mod curve;
mod segment;
mod users;
mod warp;

pub use counts::{ArrivalCounts, PoissonCounts};
use curve::{Channel, Curve, curve_of};
pub use segment::{MAX_CYCLE, SegmentCounts, SegmentError, Segments};
pub use users::Users;
pub use warp::Warp;
use warp::sane_factor;

#[cfg(test)]
mod tests;
