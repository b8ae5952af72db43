//! Tests of the workload-model additions: the request channel, the cumulative count and its inverse,
//! load warps and Poisson arrivals (the closed-model users are tested in `users.rs`).

use std::time::Duration;

use hornet_script::plan::{PhaseKind, UserRamp};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::support::{count, ms, pause, phase, poisson, ramp, random_phases, rate, req, s, secs_f, users};
use crate::*;

/// The largest rate (per second) any phase of `phases` reaches, for tolerances.
fn max_rate(phases: &[Phase]) -> f64 {
    phases
        .iter()
        .map(|p| match p.kind {
            PhaseKind::Rate { rate, ramp_to } | PhaseKind::RequestRate { rate, ramp_to } => {
                rate.max(ramp_to.unwrap_or(0.0))
            }
            PhaseKind::Count { count } if !p.duration.is_zero() => count as f64 / p.duration.as_secs_f64(),
            _ => 0.0,
        })
        .fold(0.0, f64::max)
}

// ---------------------------------------------------------------------------------------------------
// The request channel

#[test]
fn requests_mirror_rate_math_for_request_rate_phases() {
    let plan = vec![
        rate(10.0, 2.0),
        req(5.0, Some(15.0), 4.0),
        count(3, 1.0),
        users(4, UserRamp::Immediate, 2.0),
        req(0.07, None, 100.0),
        pause(1.0),
        req(7.0, Some(0.0), 3.0),
    ];
    // The same plan with request-rate phases as rate phases, and everything else a pause.
    let mirrored: Vec<Phase> = plan
        .iter()
        .map(|p| match p.kind {
            PhaseKind::RequestRate { rate, ramp_to } => phase(p.duration, PhaseKind::Rate { rate, ramp_to }),
            _ => phase(p.duration, PhaseKind::Pause),
        })
        .collect();
    let requests = Schedule::requests(&plan);
    let want = Schedule::new(&mirrored);
    assert_eq!(requests.expected_arrivals(), 40 + 7 + 11, "N = 40, 7 and 10.5");
    assert_eq!(requests.expected_arrivals(), want.expected_arrivals());
    assert_eq!(requests.arrivals().collect::<Vec<_>>(), want.arrivals().collect::<Vec<_>>());
    for i in 0..=plan.len() {
        assert_eq!(requests.phase_start(i), want.phase_start(i));
        assert_eq!(requests.phase_arrivals(i), want.phase_arrivals(i));
    }
    assert_eq!(requests.arrival(0).map(|a| (a.phase, a.at)), Some((1, s(2))), "phase 1 of the plan");
    // The arrival schedule ignores the request-rate and users phases, and the request channel ignores
    // the rate and count phases.
    let arrivals = Schedule::new(&plan);
    assert_eq!(arrivals.expected_arrivals(), 20 + 3);
    assert!(arrivals.arrivals().all(|a| a.phase == 0 || a.phase == 2));
    assert!(requests.arrivals().all(|a| [1, 4, 6].contains(&a.phase)));
    assert_eq!(requests.total_duration(), arrivals.total_duration());
    // Modes follow the phase.
    let p = vec![poisson(req(50.0, None, 10.0))];
    let got: Vec<_> = Schedule::requests(&p).arrival_counts(7).take(20).collect();
    assert!(got.iter().any(|&(_, c, _)| c.fract() != 0.0), "Poisson counts are not whole: {got:?}");
}

// ---------------------------------------------------------------------------------------------------
// The cumulative count and its inverse

/// Checks `count_at` and `time_at_count` on one configuration against the iterator and each other.
fn check_count_inverse(phases: &[Phase], rng: &mut SmallRng) {
    let sched = Schedule::new(phases);
    let total = sched.expected_arrivals();
    let tol = |x: f64| 1e-9 * x.abs().max(1.0) + max_rate(phases) * 3e-9;
    // Whole counts: exactly the iterator's times; and N at an arrival's time is its index.
    for a in sched.arrivals().take(20_000) {
        assert_eq!(sched.time_at_count(a.index as f64), Some(a.at), "arrival {} of {phases:?}", a.index);
        let n = sched.count_at(a.at);
        assert!(
            (n - a.index as f64).abs() <= tol(n),
            "N({:?}) = {n} for arrival {}: {phases:?}",
            a.at,
            a.index
        );
    }
    assert_eq!(sched.time_at_count(total as f64), None, "{phases:?}");
    assert_eq!(sched.count_at(sched.total_duration()), total as f64);
    if total == 0 {
        assert_eq!(sched.time_at_count(0.0), None);
        return;
    }
    // Fractional counts: the result never decreases, and N there is x (or jumps past x at a phase end).
    let mut xs: Vec<f64> = (0..300).map(|_| rng.random_range(0.0..total as f64)).collect();
    xs.sort_by(f64::total_cmp);
    let mut last = Duration::ZERO;
    for &x in &xs {
        let Some(t) = sched.time_at_count(x) else {
            // Only counts in the rounding gap of the last phase with arrivals are never reached.
            let p = sched.phases.iter().rposition(|p| p.count > 0).expect("a phase with arrivals");
            let plan = &sched.phases[p];
            assert!(x >= plan.first as f64 + plan.reach, "x = {x} never reached: {phases:?}");
            continue;
        };
        assert!(t >= last, "time_at_count goes back at x = {x}: {t:?} < {last:?} for {phases:?}");
        last = t;
        let n = sched.count_at(t);
        assert!(n >= x - tol(x), "N({t:?}) = {n} < {x}: {phases:?}");
        let at_phase_start = (0..sched.phase_count()).any(|i| sched.phase_start(i) == t);
        assert!(n <= x + tol(x) || at_phase_start, "N({t:?}) = {n} > {x}: {phases:?}");
        // The time is inside a phase with arrivals.
        let p = sched.phase_at(t).expect("inside the run");
        assert!(sched.phase_arrivals(p) > 0, "{phases:?}");
    }
    // N is non-decreasing in t, and time_at_count(N(t)) is not after t (up to rounding).
    let end = sched.total_duration().as_secs_f64();
    let mut ts: Vec<Duration> = (0..300).map(|_| secs_f(rng.random_range(0.0..end.max(1e-9)))).collect();
    ts.sort();
    let mut prev = -1.0;
    for &t in &ts {
        let n = sched.count_at(t);
        assert!(n >= prev, "N goes back at {t:?}: {phases:?}");
        prev = n;
    }
}

fn table() -> Vec<Vec<Phase>> {
    vec![
        vec![rate(10.0, 1.0)],
        vec![rate(0.5, 3.0), rate(1.0, 2.0)],
        vec![rate(1.0 / 3.0, 3.0)],
        vec![rate(7.3, 2.5)],
        vec![rate(0.07, 100.0), rate(7.0 / 3.0, 27.0), rate(9.0 / 7.0, 21.0), ramp(0.01, 0.13, 100.0)],
        vec![rate(0.1, 30.0), rate(0.3, 10.0), rate(0.7, 10.0)],
        vec![rate(1e-9, 5.0), rate(2.0, 1.0)],
        vec![rate(123_456.789, 0.01)],
        vec![ramp(0.5, 3.7, 13.3)],
        vec![ramp(9.0, 1.0, 7.0)],
        vec![ramp(0.0, 1.0, 1.0), ramp(1.0, 0.0, 1.0)],
        vec![ramp(3.0, 0.0, 2.0 / 3.0)],
        vec![ramp(0.0, 1e6, 0.5)],
        vec![count(1, 1.0), count(1000, 0.001), count(3, 1e-9), count(7, 3.0)],
        vec![pause(1.0), rate(5.0, 1.0), pause(0.5), ramp(1.0, 5.0, 3.0), count(10, 2.0), pause(1.0)],
        vec![users(3, UserRamp::Linear, 2.0), rate(1.0, 2.0), pause(3.0), rate(1.0, 2.0)],
    ]
}

#[test]
fn count_and_time_are_inverse_on_a_table() {
    let mut rng = SmallRng::seed_from_u64(11);
    for phases in table() {
        check_count_inverse(&phases, &mut rng);
    }
}

#[test]
fn count_and_time_are_inverse_on_random_configs() {
    let mut rng = SmallRng::seed_from_u64(0xC0FFEE);
    for _ in 0..200 {
        let phases = random_phases(&mut rng);
        check_count_inverse(&phases, &mut rng);
    }
}

#[test]
fn count_at_examples() {
    let sched = Schedule::new(&[pause(2.0), rate(10.0, 1.0), ramp(0.0, 10.0, 10.0), count(4, 2.0)]);
    assert_eq!(sched.count_at(Duration::ZERO), 0.0);
    assert_eq!(sched.count_at(s(2)), 0.0, "arrival 0 is at the start of the first phase with arrivals");
    assert_eq!(sched.time_at_count(0.0), Some(s(2)));
    assert_eq!(sched.time_at_count(-5.0), Some(s(2)));
    assert_eq!(sched.count_at(ms(2500)), 5.0);
    assert_eq!(sched.count_at(s(3)), 10.0);
    assert_eq!(sched.count_at(s(7)), 10.0 + 8.0, "t²/2 at 4 s into the ramp");
    assert_eq!(sched.count_at(s(13)), 60.0);
    assert_eq!(sched.count_at(s(14)), 62.0, "count 4 over 2 s, linear");
    assert_eq!(sched.count_at(s(100)), 64.0);
    assert_eq!(sched.time_at_count(18.0), Some(s(7)));
    assert_eq!(sched.time_at_count(62.0), Some(s(14)));
    assert_eq!(sched.time_at_count(62.5), Some(ms(14_250)));
    assert_eq!(sched.time_at_count(64.0), None);
    // Rounding gap: 0.5/s over 3 s reaches N = 1.5 but holds 2 arrivals (0 and 2 s); the next phase's
    // first arrival (index 2) is at its start, and so is any count between 1.5 and 2.
    let sched = Schedule::new(&[rate(0.5, 3.0), pause(1.0), rate(1.0, 2.0)]);
    assert_eq!(sched.count_at(ms(2999)), 1.4995);
    assert_eq!(sched.count_at(s(3)), 2.0, "jumps to the whole count at the phase end");
    assert_eq!(sched.time_at_count(1.25), Some(ms(2500)));
    assert_eq!(sched.time_at_count(1.75), Some(s(4)));
    assert_eq!(sched.time_at_count(2.0), Some(s(4)));
    assert_eq!(sched.time_at_count(3.5), Some(ms(5500)));
    assert_eq!(sched.time_at_count(3.99), Some(ms(5990)));
    assert_eq!(sched.time_at_count(4.0), None);
}

#[test]
fn degenerate_inputs_do_not_panic() {
    let sched = Schedule::new(&[
        rate(f64::MAX, 1.0),
        ramp(0.0, f64::MAX, 1.0),
        phase(Duration::MAX, PhaseKind::Count { count: u64::MAX }),
    ]);
    for x in [f64::NAN, f64::INFINITY, f64::NEG_INFINITY, 1e300, -1e300, 0.5, 1e19, u64::MAX as f64] {
        let _ = sched.time_at_count(x);
        let _ = sched.warped_time(&Warp::IDENTITY, x);
        let w = Warp { t0: s(1), n0: f64::NAN, v0: x, factor: x };
        let _ = sched.warped_time(&w, x);
        let _ = w.rebase(&sched, Duration::MAX, x);
    }
    for t in [Duration::ZERO, s(1), s(2), Duration::MAX] {
        let _ = sched.count_at(t);
    }
    let _: Vec<_> = sched.arrival_counts(1).take(100).collect();
    let empty = Schedule::new(&[]);
    assert_eq!(empty.count_at(s(1)), 0.0);
    assert_eq!(empty.time_at_count(0.0), None);
    assert_eq!(empty.arrival_counts(3).next(), None);
    assert_eq!(Schedule::new(&[pause(3.0)]).arrival_counts(3).next(), None);
}

// ---------------------------------------------------------------------------------------------------
// Warps

#[test]
fn identity_warp_gives_the_unwarped_times() {
    for phases in table() {
        let sched = Schedule::new(&phases);
        for a in sched.arrivals().take(5000) {
            assert_eq!(sched.warped_time(&Warp::IDENTITY, a.index as f64), Some(a.at), "{phases:?}");
        }
        assert_eq!(sched.warped_time(&Warp::IDENTITY, sched.expected_arrivals() as f64), None);
        // Rebasing with factor 1 changes nothing either.
        let t = sched.total_duration() / 3;
        let w = Warp::IDENTITY.rebase(&sched, t, 1.0);
        assert_eq!((w.t0, w.n0, w.v0, w.factor), (t, sched.count_at(t), sched.count_at(t), 1.0));
        for a in sched.arrivals().take(5000) {
            assert_eq!(sched.warped_time(&w, a.index as f64), Some(a.at.max(t)), "{phases:?}");
        }
    }
    assert_eq!(Warp::default(), Warp::IDENTITY);
}

#[test]
fn factor_two_from_five_seconds_doubles_the_rate() {
    let sched = Schedule::new(&[rate(10.0, 10.0)]);
    let fast = Warp::IDENTITY.rebase(&sched, s(5), 2.0);
    assert_eq!(fast, Warp { t0: s(5), n0: 50.0, v0: 50.0, factor: 2.0 });
    // Arrivals 0..50 ran unwarped; from 5 s on they come at 20/s, numbered on from 50.
    let mut times = Vec::new();
    for k in 0u64.. {
        let w = if k < 50 { Warp::IDENTITY } else { fast };
        match sched.warped_time(&w, k as f64) {
            Some(t) => times.push(t),
            None => break,
        }
    }
    assert_eq!(times.len(), 50 + 100, "5 s at 10/s and 5 s at 20/s");
    for (k, &t) in times.iter().enumerate() {
        let want = if k < 50 { ms(100 * k as u64) } else { s(5) + ms(50 * (k as u64 - 50)) };
        assert_eq!(t, want, "arrival {k}");
    }
    assert_eq!(fast.virtual_count_at(&sched, s(7)), 90.0);
    // An arrival still waiting from before the change is due at once.
    assert_eq!(sched.warped_time(&fast, 49.0), Some(s(5)));
    // Back to factor 1 at 7.5 s: from virtual count 100, one every 100 ms again.
    let back = fast.rebase(&sched, ms(7500), 1.0);
    assert_eq!((back.n0, back.v0), (75.0, 100.0));
    assert_eq!(sched.warped_time(&back, 100.0), Some(ms(7500)));
    assert_eq!(sched.warped_time(&back, 101.0), Some(ms(7600)));
    assert_eq!(sched.warped_time(&back, 124.0), Some(ms(9900)));
    assert_eq!(sched.warped_time(&back, 125.0), None);
    // A ramp keeps its shape: factor 3 from the start triples N(t).
    let sched = Schedule::new(&[ramp(0.0, 10.0, 10.0)]);
    let w = Warp::IDENTITY.rebase(&sched, Duration::ZERO, 3.0);
    assert_eq!(sched.warped_time(&w, 3.0 * 32.0), Some(s(8)), "N(8 s) = 32");
    assert_eq!(sched.warped_time(&w, 150.0), None);
    assert!(sched.warped_time(&w, 149.0).is_some());
}

#[test]
fn factor_zero_stops_arrivals_until_it_changes() {
    let sched = Schedule::new(&[rate(10.0, 10.0)]);
    let stopped = Warp::IDENTITY.rebase(&sched, s(3), 0.0);
    assert_eq!(stopped.factor, 0.0);
    for k in 30..200 {
        assert_eq!(sched.warped_time(&stopped, k as f64), None, "arrival {k}");
    }
    assert_eq!(sched.warped_time(&stopped, 29.0), Some(s(3)), "due before the stop: at once");
    assert_eq!(stopped.virtual_count_at(&sched, s(6)), 30.0, "frozen");
    let resumed = stopped.rebase(&sched, s(6), 1.0);
    assert_eq!((resumed.n0, resumed.v0), (60.0, 30.0));
    assert_eq!(sched.warped_time(&resumed, 30.0), Some(s(6)));
    assert_eq!(sched.warped_time(&resumed, 31.0), Some(ms(6100)));
    assert_eq!(sched.warped_time(&resumed, 69.0), Some(ms(9900)));
    assert_eq!(sched.warped_time(&resumed, 70.0), None);
    // Nonsense factors count as 0.
    for f in [f64::NAN, -1.0, f64::INFINITY] {
        let w = Warp::IDENTITY.rebase(&sched, s(3), f);
        assert_eq!(w.factor, 0.0);
        assert_eq!(sched.warped_time(&w, 40.0), None);
    }
}

#[test]
fn warps_across_phases_and_pauses() {
    let sched = Schedule::new(&[rate(2.0, 5.0), pause(5.0), rate(4.0, 5.0)]);
    // Factor 0.5 from 2 s: 1/s for the rest of phase 0 (3 arrivals), none in the pause, 2/s after.
    let w = Warp::IDENTITY.rebase(&sched, s(2), 0.5);
    let times: Vec<Duration> = (4..).map_while(|k| sched.warped_time(&w, f64::from(k))).collect();
    let mut want = vec![s(2), s(3), s(4)];
    want.extend((0..10).map(|j| s(10) + ms(500 * j)));
    assert_eq!(times, want);
    // Rebasing inside the pause: the count there is the whole count of phase 0.
    let w2 = w.rebase(&sched, s(7), 2.0);
    assert_eq!((w2.n0, w2.v0), (10.0, 7.0));
    assert_eq!(sched.warped_time(&w2, 7.0), Some(s(10)), "the next phase's first arrival");
    assert_eq!(sched.warped_time(&w2, 8.0), Some(ms(10_125)), "8/s");
    // A rebase cannot reach back before its own t0.
    assert_eq!(w2.rebase(&sched, s(1), 1.0).t0, s(7));
}

// ---------------------------------------------------------------------------------------------------
// Poisson

#[test]
fn portable_ln_matches_the_platform_ln() {
    let mut rng = SmallRng::seed_from_u64(5);
    for _ in 0..100_000 {
        let x: f64 = rng.random_range(1e-17..1.0);
        let (mine, std) = (counts::ln_portable(x), x.ln());
        assert!((mine - std).abs() <= 4.0 * f64::EPSILON * std.abs().max(1.0), "ln {x}: {mine} vs {std}");
    }
    for x in [1.0, 0.5, 2.0f64.powi(-54), std::f64::consts::FRAC_1_SQRT_2, 0.999_999_999_999] {
        assert!((counts::ln_portable(x) - x.ln()).abs() <= 4.0 * f64::EPSILON * x.ln().abs().max(1.0));
    }
    assert_eq!(counts::ln_portable(1.0), 0.0);
}

#[test]
fn poisson_counts_are_pinned_for_a_seed() {
    // Golden values: the generator must give these on every platform and version.
    let got: Vec<u64> = PoissonCounts::new(42).take(4).map(f64::to_bits).collect();
    let first: Vec<f64> = got.iter().map(|&b| f64::from_bits(b)).collect();
    assert_eq!(got, GOLDEN_42, "{first:?}");
    let c: Vec<f64> = PoissonCounts::new(1).take(10_000).collect();
    assert!(c[0] > 0.0, "the first point is a draw, not 0");
    assert!(c.windows(2).all(|w| w[0] < w[1]));
    assert!((c[9_999] / 10_000.0 - 1.0).abs() < 0.03, "mean gap 1: {}", c[9_999] / 10_000.0);
}

const GOLDEN_42: [u64; 4] =
    [4599057792208375591, 4611983558396371957, 4614861300373408725, 4616726298305735335];

/// The times of the arrivals of `sched` inside the plan, from `arrival_counts(seed)`.
fn poisson_times(sched: &Schedule, seed: u64) -> Vec<(u64, Duration, usize)> {
    let n = sched.phase_count();
    sched
        .arrival_counts(seed)
        .take_while(|&(_, _, p)| p < n)
        .map(|(k, c, p)| (k, sched.time_at_count(c).expect("inside the plan"), p))
        .collect()
}

#[test]
fn poisson_same_seed_same_sequence_different_seed_different() {
    let sched = Schedule::new(&[poisson(rate(100.0, 10.0)), poisson(ramp(10.0, 50.0, 10.0))]);
    let a = poisson_times(&sched, 1);
    let b = poisson_times(&sched, 1);
    let c = poisson_times(&sched, 2);
    assert_eq!(a, b);
    assert_ne!(a, c);
    assert!(a.len() > 1000 && c.len() > 1000);
    let counts: Vec<(u64, f64, usize)> = sched.arrival_counts(1).take(a.len()).collect();
    assert!(counts.windows(2).all(|w| w[0].0 + 1 == w[1].0 && w[0].1 < w[1].1), "k consecutive, c rising");
    assert!(a.windows(2).all(|w| w[0].1 <= w[1].1), "time order");
    // Each arrival is inside its phase.
    for &(_, t, p) in &a {
        assert!(t >= sched.phase_start(p) && t < sched.phase_start(p + 1), "{t:?} in phase {p}");
    }
}

#[test]
fn poisson_gaps_at_a_constant_rate() {
    let sched = Schedule::new(&[poisson(rate(100.0, 60.0))]);
    let times: Vec<Duration> =
        poisson_times(&sched, 0xDEC0DE).into_iter().map(|(_, t, _)| t).take(5001).collect();
    assert_eq!(times.len(), 5001);
    let gaps: Vec<f64> = times.windows(2).map(|w| (w[1] - w[0]).as_secs_f64()).collect();
    let mean = gaps.iter().sum::<f64>() / gaps.len() as f64;
    assert!((mean / 0.010 - 1.0).abs() < 0.03, "mean gap {mean}");
    // Exponential gaps: P(gap < mean) = 1 − 1/e.
    let short = gaps.iter().filter(|&&g| g < 0.010).count() as f64 / gaps.len() as f64;
    assert!((short - (1.0 - (-1.0f64).exp())).abs() < 0.03, "share of short gaps {short}");
    assert!(times[0] > Duration::ZERO, "the first arrival is a draw too");
    // The total over the phase is about r·T.
    let n = poisson_times(&sched, 0xDEC0DE).len() as f64;
    assert!((n / 6000.0 - 1.0).abs() < 0.05, "{n} arrivals");
}

#[test]
fn poisson_on_a_ramp_tracks_the_ramp() {
    // 10 → 100/s over 100 s: N(50) = 10·50 + 90·50²/200 = 1625, N(100) = 5500.
    let sched = Schedule::new(&[poisson(ramp(10.0, 100.0, 100.0))]);
    for seed in [1, 2, 3] {
        let times = poisson_times(&sched, seed);
        let first = times.iter().filter(|(_, t, _)| *t < s(50)).count() as f64;
        let second = times.len() as f64 - first;
        let ratio = second / first;
        let want = (5500.0 - 1625.0) / 1625.0;
        assert!((ratio / want - 1.0).abs() < 0.1, "seed {seed}: {second} / {first} = {ratio}, want {want}");
        assert!((times.len() as f64 / 5500.0 - 1.0).abs() < 0.05, "seed {seed}: {} arrivals", times.len());
        // Per 10 s window, within 5 standard deviations of the expected count.
        for w in 0..10u64 {
            let (a, b) = (w as f64 * 10.0, w as f64 * 10.0 + 10.0);
            let expected = 10.0 * (b - a) + 90.0 * (b * b - a * a) / 200.0;
            let got = times.iter().filter(|(_, t, _)| *t >= s(10 * w) && *t < s(10 * w + 10)).count() as f64;
            assert!(
                (got - expected).abs() < 5.0 * expected.sqrt(),
                "seed {seed} window {w}: {got} vs {expected}"
            );
        }
    }
}

#[test]
fn mixed_modes_and_striping() {
    let plan = vec![rate(10.0, 2.0), poisson(rate(50.0, 2.0)), pause(1.0), count(5, 1.0)];
    let sched = Schedule::new(&plan);
    let all: Vec<(u64, f64, usize)> = sched.arrival_counts(9).take_while(|&(_, _, p)| p < 4).collect();
    // The uniform phase before the Poisson one: the iterator's arrivals exactly.
    for &(k, c, p) in &all[..20] {
        assert_eq!((c, p), (k as f64, 0));
        assert_eq!(sched.time_at_count(c), Some(sched.arrival(k).expect("arrival").at));
    }
    let poissons: Vec<f64> = all.iter().filter(|a| a.2 == 1).map(|a| a.1).collect();
    assert!(poissons.iter().all(|&c| (20.0..120.0).contains(&c)));
    assert!(poissons.len() > 60 && poissons.len() < 140, "{}", poissons.len());
    // The count phase after: whole counts 120..125 at its arrivals' times, whatever k is.
    let tail: Vec<(f64, usize)> = all.iter().filter(|a| a.2 == 3).map(|a| (a.1, a.2)).collect();
    assert_eq!(tail, (120..125).map(|c| (f64::from(c), 3)).collect::<Vec<_>>());
    assert_eq!(all.len(), 20 + poissons.len() + 5);
    // Stripes: their union is the whole sequence.
    for n in [1usize, 2, 3, 7] {
        let mut merged: Vec<(u64, f64, usize)> = (0..n)
            .flat_map(|i| {
                let stripe: Vec<_> =
                    sched.arrival_counts_striped(9, i, n).take_while(|&(_, _, p)| p < 4).collect();
                assert!(stripe.iter().all(|&(k, _, _)| k % n as u64 == i as u64));
                stripe
            })
            .collect();
        merged.sort_by_key(|a| a.0);
        assert_eq!(merged, all, "{n} stripes");
    }
    assert_eq!(sched.arrival_counts_striped(9, 0, 0).next(), None);
    assert_eq!(sched.arrival_counts_striped(9, 3, 3).next(), None);
}

#[test]
fn arrival_counts_go_on_past_the_plan() {
    // Uniform: whole counts past the total, labelled phase_count(); no time without a warp.
    let sched = Schedule::new(&[rate(10.0, 1.0), pause(1.0)]);
    let items: Vec<(u64, f64, usize)> = sched.arrival_counts(0).take(15).collect();
    let want: Vec<(u64, f64, usize)> = (0..15).map(|k| (k, k as f64, if k < 10 { 0 } else { 2 })).collect();
    assert_eq!(items, want);
    assert_eq!(sched.time_at_count(10.0), None);
    // With factor 1.5 from the start, 15 arrivals fit: the tail is what makes them.
    let w = Warp::IDENTITY.rebase(&sched, Duration::ZERO, 1.5);
    let due: Vec<Duration> =
        sched.arrival_counts(0).map_while(|(_, c, _)| sched.warped_time(&w, c)).collect();
    assert_eq!(due.len(), 15);
    assert!(due.iter().all(|&t| t < s(1)));
    // Poisson: the last phase's stream goes on too.
    let sched = Schedule::new(&[poisson(rate(100.0, 1.0))]);
    let w = Warp::IDENTITY.rebase(&sched, Duration::ZERO, 2.0);
    let n = sched.arrival_counts(4).map_while(|(_, c, _)| sched.warped_time(&w, c)).count() as f64;
    assert!((n / 200.0 - 1.0).abs() < 0.25, "{n} arrivals at factor 2");
    // Striped uniform tails skip correctly too.
    let sched = Schedule::new(&[count(3, 1.0)]);
    let got: Vec<u64> = sched.arrival_counts_striped(0, 1, 2).take(4).map(|a| a.0).collect();
    assert_eq!(got, vec![1, 3, 5, 7]);
}
