//! Load changes while a run goes on: a [`Warp`] maps the virtual count of arrivals to the
//! schedule's cumulative count under a load factor, with continuous numbering across changes.

use std::time::Duration;

use crate::Schedule;

/// A load factor as used by [`Warp`] and [`Users`]: finite and positive, or else 0.
pub(crate) fn sane_factor(factor: f64) -> f64 {
    if factor.is_finite() && factor > 0.0 { factor } else { 0.0 }
}

/// A change of the load factor while running: from `t0` on, the schedule runs `factor` times as fast.
///
/// Arrivals are numbered by a *virtual* count `v` (the `c` of [`Schedule::arrival_counts`]; the arrival
/// index for uniform phases). Without any change, `v = N(t)`. A warp maps `v` to the real count
/// `N(t) = n0 + (v − v0) / factor`, so from `t0` on the virtual count grows as `factor` times the
/// schedule's: rates are multiplied by `factor`, ramps keep their shape, and the numbering stays
/// continuous. Each change of factor is a [`Warp::rebase`] at the time of the change;
/// [`Schedule::warped_time`] gives the due time of a virtual count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Warp {
    /// When the warp began (offset from the start of the run).
    pub t0: Duration,
    /// `N(t0)`, the schedule's count at `t0`.
    pub n0: f64,
    /// The virtual count at `t0`.
    pub v0: f64,
    /// The load factor in force from `t0` (1 is the plan as written; 0 stops arrivals).
    pub factor: f64,
}

impl Warp {
    /// No change: factor 1 from the start, `v = N(t)`.
    pub const IDENTITY: Warp = Warp { t0: Duration::ZERO, n0: 0.0, v0: 0.0, factor: 1.0 };

    /// The warp in force after the factor changes to `new_factor` at `now`: `t0' = now`,
    /// `n0' = N(now)`, `v0'` = the virtual count reached at `now` under `self`
    /// (`v0 + factor·(N(now) − n0)`), so the virtual count is continuous across the change.
    ///
    /// A `now` before `self.t0` is taken as `self.t0` (the warp cannot reach back). A factor that is not
    /// a finite positive number counts as 0 (and is stored as 0).
    pub fn rebase(&self, schedule: &Schedule, now: Duration, new_factor: f64) -> Warp {
        let now = now.max(self.t0);
        let n0 = schedule.count_at(now);
        Warp { t0: now, n0, v0: self.virtual_count(n0), factor: sane_factor(new_factor) }
    }

    /// The virtual count reached at offset `t` (not before `t0`) under this warp:
    /// `v0 + factor·(N(t) − n0)`.
    pub fn virtual_count_at(&self, schedule: &Schedule, t: Duration) -> f64 {
        self.virtual_count(schedule.count_at(t.max(self.t0)))
    }

    /// The virtual count at which the schedule's count is `n`.
    fn virtual_count(&self, n: f64) -> f64 {
        let f = sane_factor(self.factor);
        if f == 1.0 && self.n0 == self.v0 {
            n
        } else if f == 0.0 {
            self.v0
        } else {
            self.v0 + f * (n - self.n0)
        }
    }
}

impl Default for Warp {
    fn default() -> Warp {
        Warp::IDENTITY
    }
}
