//! Phase constructors and a random phase-list generator shared by the schedule's test modules.

use std::time::Duration;

use hornet_script::plan::{ArrivalMode, Phase, PhaseKind, UserRamp};
use rand::Rng;
use rand::rngs::SmallRng;

/// A phase of `duration` with default settings.
pub fn phase(duration: Duration, kind: PhaseKind) -> Phase {
    Phase::new(duration, kind)
}

/// `v` milliseconds.
pub fn ms(v: u64) -> Duration {
    Duration::from_millis(v)
}

/// `v` seconds.
pub fn s(v: u64) -> Duration {
    Duration::from_secs(v)
}

/// `s` seconds as a duration.
pub fn secs_f(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

/// A constant arrival rate `r` per second for `s` seconds.
pub fn rate(r: f64, s: f64) -> Phase {
    Phase::rate(r, secs_f(s))
}

/// An arrival rate ramping from `r0` to `r1` over `s` seconds.
pub fn ramp(r0: f64, r1: f64, s: f64) -> Phase {
    Phase::ramp(r0, r1, secs_f(s))
}

/// `n` arrivals spread evenly over `s` seconds.
pub fn count(n: u64, s: f64) -> Phase {
    Phase::count(n, secs_f(s))
}

/// No arrivals for `s` seconds.
pub fn pause(s: f64) -> Phase {
    Phase::pause(secs_f(s))
}

/// A request rate `r0` (ramping to `r1`) for `s` seconds.
pub fn req(r0: f64, r1: Option<f64>, s: f64) -> Phase {
    phase(secs_f(s), PhaseKind::RequestRate { rate: r0, ramp_to: r1 })
}

/// `n` closed-model users for `s` seconds.
pub fn users(n: u64, ramp: UserRamp, s: f64) -> Phase {
    Phase::users(n, ramp, secs_f(s))
}

/// `p` with Poisson arrivals.
pub fn poisson(mut p: Phase) -> Phase {
    p.mode = ArrivalMode::Poisson;
    p
}

/// One to four random phases (rate, ramp, count or pause), each up to 20 s long.
pub fn random_phases(rng: &mut SmallRng) -> Vec<Phase> {
    let n = rng.random_range(1..5);
    (0..n)
        .map(|_| {
            let t = rng.random_range(0.0..20.0);
            match rng.random_range(0..4) {
                0 => rate(rng.random_range(0.0..200.0), t),
                1 => ramp(rng.random_range(0.0..100.0), rng.random_range(0.0..100.0), t),
                2 => count(rng.random_range(0..500), t),
                _ => pause(t),
            }
        })
        .collect()
}
