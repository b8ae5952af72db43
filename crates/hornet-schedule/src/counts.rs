//! Virtual arrival counts: the unit-rate Poisson process ([`PoissonCounts`]) and the per-arrival count
//! sequence of a schedule ([`ArrivalCounts`]), drawn from the portable seeded generator of
//! `hornet_script::rng` so that a seed gives the same arrivals on every platform and with every
//! version of the dependencies.

use std::sync::Arc;

use hornet_script::rng;

use crate::PhasePlan;

/// The seed of phase `phase`'s Poisson stream in a run seeded with `seed`.
pub(crate) fn phase_seed(seed: u64, phase: usize) -> u64 {
    rng::mix(seed ^ rng::draw(0, phase as u64))
}

/// Natural logarithm of a positive normal `x`, from basic IEEE operations only (`+ − × ÷` and bit
/// manipulation, which are correctly rounded everywhere), so that the draws do not depend on the
/// platform's `libm`. Accurate to a few units in the last place.
pub(crate) fn ln_portable(x: f64) -> f64 {
    const LN_2: f64 = std::f64::consts::LN_2;
    let bits = x.to_bits();
    let mut e = ((bits >> 52) & 0x7ff) as i64 - 1023;
    // The mantissa in [1, 2), then folded into [√½, √2] so that |s| <= 0.172.
    let mut m = f64::from_bits((bits & 0x000F_FFFF_FFFF_FFFF) | 0x3FF0_0000_0000_0000);
    if m > std::f64::consts::SQRT_2 {
        m /= 2.0;
        e += 1;
    }
    // ln m = 2·atanh(s) = 2·(s + s³/3 + s⁵/5 + …) with s = (m − 1)/(m + 1); s² <= 0.0295, so 14 terms
    // leave less than 1e-22.
    let s = (m - 1.0) / (m + 1.0);
    let s2 = s * s;
    let mut series = 0.0;
    for k in (0..14).rev() {
        series = series * s2 + 1.0 / f64::from(2 * k + 1);
    }
    e as f64 * LN_2 + 2.0 * s * series
}

/// The points of a unit-rate Poisson process on `[0, ∞)`, in increasing order: `c_k` is the sum of
/// `k + 1` independent Exp(1) draws (so `c_0` is itself an Exp(1) draw, not 0).
///
/// Mapped through a schedule's inverse cumulative count (`t_k = N⁻¹(c_k)`,
/// [`Schedule::time_at_count`](crate::Schedule::time_at_count)) they give an exact Poisson process of
/// rate `r(t)`, ramps included, without thinning.
///
/// Deterministic: the draws come from SplitMix64 seeded with `seed`, turned into uniforms in `(0, 1)`
/// (53 bits, never 0 or 1) and into Exp(1) gaps by `−ln u` computed with basic IEEE operations only,
/// so a seed gives bit-identical counts on every platform and with every dependency version. The
/// iterator never ends.
#[derive(Debug, Clone, PartialEq)]
pub struct PoissonCounts {
    /// SplitMix64 state.
    state: u64,
    /// The last point yielded (0 before the first).
    count: f64,
}

impl PoissonCounts {
    /// The process seeded with `seed`.
    pub fn new(seed: u64) -> PoissonCounts {
        PoissonCounts { state: seed, count: 0.0 }
    }

    /// One Exp(1) draw (always > 0 and at most about 37.4).
    fn exp1(&mut self) -> f64 {
        let bits = rng::next(&mut self.state) >> 11;
        // (bits + ½) / 2⁵³ lies strictly inside (0, 1).
        let u = (bits as f64 + 0.5) * (1.0 / 9_007_199_254_740_992.0);
        -ln_portable(u)
    }
}

impl Iterator for PoissonCounts {
    type Item = f64;

    fn next(&mut self) -> Option<f64> {
        self.count += self.exp1();
        Some(self.count)
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        (usize::MAX, None)
    }
}

impl std::iter::FusedIterator for PoissonCounts {}

/// Iterator over the virtual counts of a schedule's arrivals (or of one stripe of them), as
/// `(k, c, phase)`; see [`Schedule::arrival_counts`](crate::Schedule::arrival_counts).
///
/// Owns a shared handle to the schedule, so it can be moved to another thread. Unbounded unless the
/// schedule has no arrivals: past the plan it yields items labelled `phase_count()`.
#[derive(Debug, Clone)]
pub struct ArrivalCounts {
    /// The resolved phases.
    pub(crate) phases: Arc<[PhasePlan]>,
    /// The run's seed, from which each Poisson phase's stream is derived.
    pub(crate) seed: u64,
    /// Index of the last phase with arrivals (`usize::MAX` if none): its counts go on past its end.
    pub(crate) last: usize,
    /// The phase being counted (a phase with arrivals), or `phases.len()` once done.
    pub(crate) phase: usize,
    /// Uniform phases: the next local whole count.
    pub(crate) local: u64,
    /// Poisson phases: the phase's stream, started on first use.
    pub(crate) stream: Option<PoissonCounts>,
    /// The `k` of the next item produced (yielded or skipped for the stripe).
    pub(crate) ordinal: u64,
    /// This stripe's residue.
    pub(crate) stripe: u64,
    /// The number of stripes (at least 1).
    pub(crate) stripes: u64,
}

impl ArrivalCounts {
    /// Moves on to the next phase with arrivals (or to the end).
    fn advance(&mut self) {
        self.phase += 1;
        while self.phases.get(self.phase).is_some_and(|p| p.count == 0) {
            self.phase += 1;
        }
        self.local = 0;
        self.stream = None;
    }

    /// Marks the iterator finished.
    fn finish(&mut self) {
        self.phase = self.phases.len();
    }

    /// Takes the next `k`, finishing the iterator when `k` would overflow. Returns whether `k` is in
    /// this stripe.
    fn take_ordinal(&mut self) -> (u64, bool) {
        let k = self.ordinal;
        match k.checked_add(1) {
            Some(next) => self.ordinal = next,
            None => self.finish(),
        }
        (k, k % self.stripes == self.stripe)
    }
}

impl Iterator for ArrivalCounts {
    type Item = (u64, f64, usize);

    fn next(&mut self) -> Option<(u64, f64, usize)> {
        loop {
            let index = self.phase;
            let p = self.phases.get(index)?;
            let (first, count, reach, poisson) = (p.first as f64, p.count, p.reach, p.poisson);
            let is_last = index == self.last;
            let len = self.phases.len();
            if poisson {
                let seed = self.seed;
                let u =
                    self.stream.get_or_insert_with(|| PoissonCounts::new(phase_seed(seed, index))).next()?;
                let inside = u < reach;
                if !inside && !is_last {
                    self.advance();
                    continue;
                }
                let (k, mine) = self.take_ordinal();
                if mine {
                    return Some((k, first + u, if inside { index } else { len }));
                }
            } else {
                let j = self.local;
                let room = if is_last { u64::MAX } else { count };
                if j >= room {
                    if is_last {
                        self.finish();
                    } else {
                        self.advance();
                    }
                    continue;
                }
                // Skip straight to this stripe's next item.
                let skip = (self.stripe + self.stripes - self.ordinal % self.stripes) % self.stripes;
                if skip > 0 {
                    if skip >= room - j {
                        if is_last {
                            self.finish();
                            continue;
                        }
                        self.ordinal = self.ordinal.saturating_add(room - j);
                        self.advance();
                        continue;
                    }
                    let Some(ordinal) = self.ordinal.checked_add(skip) else {
                        self.finish();
                        continue;
                    };
                    self.ordinal = ordinal;
                    self.local = j + skip;
                    continue;
                }
                self.local = j + 1;
                let (k, _) = self.take_ordinal();
                return Some((k, first + j as f64, if j < count { index } else { len }));
            }
        }
    }
}

impl std::iter::FusedIterator for ArrivalCounts {}
