//! The closed model: the target number of users over the run, and which user is active when.

use std::sync::Arc;
use std::time::Duration;

use hornet_script::plan::{Phase, PhaseKind, UserRamp};

use crate::{NANOS_PER_SEC, sane_factor};

/// How the target user count moves during one phase, in phase-local time.
#[derive(Debug, Clone, Copy, PartialEq)]
enum Shape {
    /// A constant count (0 for phases that are not closed-model phases).
    Flat(f64),
    /// Linear from `from` at the phase start to `to` at its end (`from != to`).
    Linear { from: f64, to: f64 },
    /// From `from` toward `to` at `rate` users per second (`from != to`, `rate` finite and positive),
    /// then holding `to`.
    Spawn { from: f64, to: f64, rate: f64 },
}

impl Shape {
    /// The count `s_ns` nanoseconds into a phase of `duration_ns`.
    fn value(self, s_ns: u64, duration_ns: u64) -> f64 {
        match self {
            Shape::Flat(v) => v,
            Shape::Linear { from, to } => {
                if duration_ns == 0 || s_ns >= duration_ns {
                    return to;
                }
                // The product first, so that whole results (0 → 10 over 10 s at 3 s) are exact.
                let v = from + (to - from) * s_ns as f64 / duration_ns as f64;
                v.clamp(from.min(to), from.max(to))
            }
            Shape::Spawn { from, to, rate } => {
                let moved = rate * s_ns as f64 / NANOS_PER_SEC;
                if to > from { (from + moved).min(to) } else { (from - moved).max(to) }
            }
        }
    }

    /// Whether the count is rising `s_ns` into the phase (so that it is above its current value just
    /// after).
    fn rising(self, s_ns: u64, duration_ns: u64) -> bool {
        match self {
            Shape::Flat(_) => false,
            Shape::Linear { from, to } => to > from,
            Shape::Spawn { from, to, .. } => to > from && self.value(s_ns, duration_ns) < to,
        }
    }

    /// The largest count of the phase (its limit at the end, for a rising count).
    fn max(self, duration_ns: u64) -> f64 {
        match self {
            Shape::Flat(v) => v,
            Shape::Linear { from, .. } | Shape::Spawn { from, .. } => {
                from.max(self.value(duration_ns, duration_ns))
            }
        }
    }
}

/// One phase of the closed model, resolved.
#[derive(Debug, Clone, Copy, PartialEq)]
struct UserPhase {
    /// Offset of the phase from the start of the run, in nanoseconds.
    start_ns: u64,
    /// Duration in nanoseconds.
    duration_ns: u64,
    /// The target count over the phase.
    shape: Shape,
}

impl UserPhase {
    /// One past the phase's last nanosecond.
    fn end_ns(&self) -> u64 {
        self.start_ns.saturating_add(self.duration_ns)
    }

    /// Whether user `i` is active at absolute `t_ns` (inside the phase), with `q = i / factor`: the count
    /// is above `q`, or at `q` and rising.
    fn active(&self, q: f64, t_ns: u64) -> bool {
        let s = t_ns.saturating_sub(self.start_ns);
        let v = self.shape.value(s, self.duration_ns);
        v > q || (v == q && self.shape.rising(s, self.duration_ns))
    }
}

/// The closed-model target user count `U(t)` over a run, and when each user runs.
///
/// # The target count
///
/// Built from the plan's phases ([`Schedule::users`](crate::Schedule::users) or [`Users::new`]). In a
/// `Users { users: N, ramp }` phase the count starts from the previous count `P`: the count at the end
/// of the phase before if that was also a `Users` phase, otherwise 0 (users stop when any other kind of
/// phase begins, and a `Users` phase after one starts from 0):
///
/// - `Immediate`: `N` from the phase start.
/// - `SpawnRate(r)`: moves from `P` toward `N` at `r` users per second (up or down), then holds `N`. If
///   the phase ends first, the next phase starts from where it got to. A rate that is not a finite
///   positive number is taken as `Immediate`.
/// - `Linear`: `P + (N − P)·(t − start)/T`, reaching `N` at the end of the phase.
///
/// Every other phase kind has a count of 0, as has the time at and after the end of the run.
///
/// # Which users are active
///
/// Users are numbered from 0. Under a load factor `f` (target `f·U(t)`), **user `i` is active at `t`
/// exactly when the target stays above `i` just after `t`**: `f·U(t) > i`, or `f·U(t) = i` while the
/// count is rising. So a user's active times are half-open intervals `[start, stop)`:
///
/// - a linear ramp 0 → 10 over 10 s starts users 0, 1, …, 9 at 0, 1, …, 9 s (user 0 at once);
/// - `SpawnRate(2)` toward 4 starts users 0–3 at 0, 0.5, 1 and 1.5 s (user `i` at `i / r`);
/// - `Immediate` 5 starts users 0–4 at the phase start;
/// - a linear ramp 10 → 0 over 10 s stops user 9 at 1 s, user 8 at 2 s, …, user 0 at 10 s;
/// - a lower count in the next phase stops the users above it at that phase's start (`Immediate`) or as
///   its ramp passes them; a phase of another kind stops everyone at its start.
///
/// Times are whole nanoseconds: a user starts at the first nanosecond at which the rule holds (for
/// `SpawnRate(3)`, user 1 at 333,333,334 ns). [`Users::active`] and [`Users::next_change`] use the very
/// same test, so they always agree.
#[derive(Debug, Clone, PartialEq)]
pub struct Users {
    /// The phases, shared by clones.
    phases: Arc<[UserPhase]>,
    /// The length of the run, in nanoseconds.
    total_ns: u64,
    /// The largest number of users active at once with factor 1.
    peak: u64,
}

/// A `Duration` in whole nanoseconds, saturating at `u64::MAX`.
fn nanos(d: Duration) -> u64 {
    u64::try_from(d.as_nanos()).unwrap_or(u64::MAX)
}

/// `⌈x⌉` as a whole count, saturating (NaN and negatives give 0).
fn ceil_count(x: f64) -> u64 {
    x.ceil() as u64
}

impl Users {
    /// Resolves the closed-model target count of `phases` (run back to back, in order).
    pub fn new(phases: &[Phase]) -> Users {
        let mut start_ns = 0u64;
        let mut prev = 0.0f64;
        let mut peak = 0u64;
        let mut plans = Vec::with_capacity(phases.len());
        for phase in phases {
            let duration_ns = nanos(phase.duration);
            let shape = match phase.kind {
                PhaseKind::Users { users, ramp } => {
                    let n = users as f64;
                    match ramp {
                        UserRamp::Linear if prev != n => Shape::Linear { from: prev, to: n },
                        UserRamp::SpawnRate(rate) if prev != n && rate.is_finite() && rate > 0.0 => {
                            Shape::Spawn { from: prev, to: n, rate }
                        }
                        _ => Shape::Flat(n),
                    }
                }
                _ => Shape::Flat(0.0),
            };
            prev = shape.value(duration_ns, duration_ns);
            if duration_ns > 0 {
                peak = peak.max(ceil_count(shape.max(duration_ns)));
            }
            plans.push(UserPhase { start_ns, duration_ns, shape });
            start_ns = start_ns.saturating_add(duration_ns);
        }
        Users { phases: plans.into(), total_ns: start_ns, peak }
    }

    /// Length of the run: the sum of the phase durations (saturating at `u64::MAX` nanoseconds).
    pub fn total_duration(&self) -> Duration {
        Duration::from_nanos(self.total_ns)
    }

    /// The phase running at `t_ns` (zero-length phases never run).
    fn phase_at(&self, t_ns: u64) -> Option<&UserPhase> {
        let i = self.phases.partition_point(|p| p.end_ns() <= t_ns);
        self.phases.get(i)
    }

    /// The exact target count `U(t)` at offset `t` (before any load factor), fractional during ramps;
    /// 0 outside closed-model phases and at or after the end of the run.
    pub fn at(&self, t: Duration) -> f64 {
        let t = nanos(t);
        self.phase_at(t).map_or(0.0, |p| p.shape.value(t - p.start_ns, p.duration_ns))
    }

    /// The largest number of users ever active at once with factor 1: `⌈max U⌉` (a ramp to 10 runs 10
    /// users, the last from 9 s, though `U` only reaches 10 at the end). Users `0 … peak − 1` are all that
    /// ever run at factor 1; 0 when the plan has no closed-model phase.
    pub fn peak(&self) -> u64 {
        self.peak
    }

    /// The number of users active at `t` with factor 1: the users `i` with [`Users::active`]`(i, 1.0, t)`,
    /// which are always `0 … planned(t) − 1`. `⌈U(t)⌉`, or `⌊U(t)⌋ + 1` while the count is rising.
    pub fn planned(&self, t: Duration) -> u64 {
        self.active_count(1.0, t)
    }

    /// The number of users active at `t` under load factor `factor` (users `0 … n − 1`): as
    /// [`Users::planned`] with the target `factor·U(t)`. A factor that is not a finite positive number
    /// counts as 0.
    pub fn active_count(&self, factor: f64, t: Duration) -> u64 {
        let f = sane_factor(factor);
        let t_ns = nanos(t);
        let Some(p) = self.phase_at(t_ns) else { return 0 };
        if f == 0.0 {
            return 0;
        }
        let s = t_ns - p.start_ns;
        let g = p.shape.value(s, p.duration_ns) * f;
        let mut n = if p.shape.rising(s, p.duration_ns) {
            (g.floor() as u64).saturating_add(1)
        } else {
            ceil_count(g)
        };
        // The estimate is off by float noise at most; settle it with the exact test.
        let active = |i: u64| p.active(i as f64 / f, t_ns);
        while n > 0 && !active(n - 1) {
            n -= 1;
        }
        while n < u64::MAX && active(n) {
            n += 1;
        }
        n
    }

    /// Whether user `i` is active at `t` under load factor `factor` (target `factor·U(t)`): see the rule
    /// in the [type docs](Users). A factor that is not a finite positive number counts as 0 (no user is
    /// active).
    pub fn active(&self, i: u64, factor: f64, t: Duration) -> bool {
        let f = sane_factor(factor);
        if f == 0.0 {
            return false;
        }
        let t_ns = nanos(t);
        self.phase_at(t_ns).is_some_and(|p| p.active(i as f64 / f, t_ns))
    }

    /// When user `i` next starts or stops under load factor `factor`: the first `t > after` at which
    /// [`Users::active`]`(i, factor, t)` differs from `active(i, factor, after)`, with the state from then
    /// on (`true`: starts). `None` if the state never changes again (for a running user that cannot
    /// happen: everyone stops at the end of the run).
    ///
    /// Because active times are half-open intervals, the state at the returned time is already the new
    /// one, and every time in `(after, t)` has the old one. So a worker learns a user's state with
    /// [`Users::active`] and sleeps until `next_change`; after a change of factor it asks again.
    pub fn next_change(&self, i: u64, factor: f64, after: Duration) -> Option<(Duration, bool)> {
        let f = sane_factor(factor);
        if f == 0.0 {
            return None;
        }
        let q = i as f64 / f;
        let a = nanos(after);
        let was = self.phase_at(a).is_some_and(|p| p.active(q, a));
        let from = self.phases.partition_point(|p| p.end_ns() <= a);
        let lo_bound = a.checked_add(1)?;
        for p in self.phases.iter().skip(from) {
            let (lo, hi) = (p.start_ns.max(lo_bound), p.end_ns());
            if lo >= hi {
                continue;
            }
            // The activity is monotone within a phase, so `changed` is false…false true…true or
            // true…true false…false over [lo, hi); in the second case it is true at lo.
            let changed = |t: u64| p.active(q, t) != was;
            if changed(lo) {
                return Some((Duration::from_nanos(lo), !was));
            }
            if !changed(hi - 1) {
                continue;
            }
            let (mut no, mut yes) = (lo, hi - 1);
            while yes - no > 1 {
                let mid = no + (yes - no) / 2;
                if changed(mid) {
                    yes = mid;
                } else {
                    no = mid;
                }
            }
            return Some((Duration::from_nanos(yes), !was));
        }
        // At the end of the run everyone stops.
        (was && self.total_ns > a).then(|| (Duration::from_nanos(self.total_ns), false))
    }
}
