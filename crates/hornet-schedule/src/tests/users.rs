//! Tests of the closed model: when each user starts and stops as phases ramp users up and down,
//! spawn rates, phase boundaries, load factors and degenerate phases.

use std::time::Duration;

use hornet_script::plan::{PhaseKind, UserRamp};
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::support::{ms, pause, phase, rate, s, secs_f, users};
use crate::*;

/// The first time at or after `from` at which user `i` is active (through `active` and `next_change`).
fn start_of(u: &Users, i: u64, factor: f64, from: Duration) -> Option<Duration> {
    let (t, active) =
        if u.active(i, factor, from) { return Some(from) } else { u.next_change(i, factor, from)? };
    assert!(active);
    Some(t)
}

#[test]
fn linear_ramp_up_starts_a_user_per_step() {
    let u = Schedule::users(&[users(10, UserRamp::Linear, 10.0)]);
    assert_eq!(u.peak(), 10);
    for i in 0..10 {
        assert_eq!(start_of(&u, i, 1.0, Duration::ZERO), Some(s(i)), "user {i}");
        assert_eq!(u.next_change(i, 1.0, s(i)), Some((s(10), false)), "user {i} stops at the end");
        if i > 0 {
            assert!(!u.active(i, 1.0, s(i) - Duration::from_nanos(1)));
        }
    }
    assert_eq!(start_of(&u, 10, 1.0, Duration::ZERO), None);
    assert!(u.active(0, 1.0, Duration::ZERO), "user 0 at once");
    assert_eq!(u.at(ms(2500)), 2.5);
    assert_eq!(
        (u.planned(Duration::ZERO), u.planned(ms(2500)), u.planned(s(3)), u.planned(ms(9999))),
        (1, 3, 4, 10)
    );
    assert_eq!(u.planned(s(10)), 0);
    assert_eq!(u.total_duration(), s(10));
}

#[test]
fn spawn_rate_starts_users_at_i_over_r() {
    let u = Schedule::users(&[users(4, UserRamp::SpawnRate(2.0), 10.0)]);
    let starts: Vec<Option<Duration>> = (0..5).map(|i| start_of(&u, i, 1.0, Duration::ZERO)).collect();
    assert_eq!(starts, vec![Some(ms(0)), Some(ms(500)), Some(ms(1000)), Some(ms(1500)), None]);
    assert_eq!(u.at(s(1)), 2.0);
    assert_eq!(u.at(s(5)), 4.0, "holds the target");
    assert_eq!(u.planned(s(2)), 4);
    assert_eq!(u.peak(), 4);
    // A rate that does not divide evenly: user 1 of SpawnRate(3) at the first nanosecond past 1/3 s.
    let u = Schedule::users(&[users(2, UserRamp::SpawnRate(3.0), 1.0)]);
    assert_eq!(start_of(&u, 1, 1.0, Duration::ZERO), Some(Duration::from_nanos(333_333_334)));
}

#[test]
fn immediate_starts_everyone_at_the_phase_start() {
    let u = Schedule::users(&[pause(2.0), users(5, UserRamp::Immediate, 3.0)]);
    for i in 0..5 {
        assert_eq!(start_of(&u, i, 1.0, Duration::ZERO), Some(s(2)), "user {i}");
        assert_eq!(u.next_change(i, 1.0, s(2)), Some((s(5), false)));
    }
    assert_eq!(start_of(&u, 5, 1.0, Duration::ZERO), None);
    assert_eq!((u.planned(s(1)), u.planned(s(2)), u.planned(s(5))), (0, 5, 0));
    assert_eq!(u.peak(), 5);
}

#[test]
fn ramp_down_stops_the_top_user_first() {
    let u = Schedule::users(&[users(10, UserRamp::Immediate, 5.0), users(0, UserRamp::Linear, 10.0)]);
    for i in 0..10u64 {
        assert!(u.active(i, 1.0, s(5)));
        assert_eq!(u.next_change(i, 1.0, s(5)), Some((s(5 + 10 - i), false)), "user {i}");
        assert!(u.active(i, 1.0, s(15 - i) - Duration::from_nanos(1)));
        assert!(!u.active(i, 1.0, s(15 - i)));
    }
    assert_eq!(u.at(s(6)), 9.0);
    assert_eq!(u.planned(s(6)), 9);
    assert_eq!(u.planned(ms(5500)), 10);
    assert_eq!(u.peak(), 10);
    // Down with a spawn rate: 10 → 4 at 2/s from 5 s.
    let u = Schedule::users(&[users(10, UserRamp::Immediate, 5.0), users(4, UserRamp::SpawnRate(2.0), 10.0)]);
    for i in 4..10u64 {
        assert_eq!(u.next_change(i, 1.0, s(5)), Some((s(5) + ms(500 * (10 - i)), false)), "user {i}");
    }
    for i in 0..4 {
        assert_eq!(u.next_change(i, 1.0, s(5)), Some((s(15), false)), "user {i} to the end");
    }
}

#[test]
fn phase_boundaries_drop_users() {
    // A lower immediate count stops the users above it at the phase start.
    let u = Schedule::users(&[users(10, UserRamp::Immediate, 5.0), users(4, UserRamp::Immediate, 5.0)]);
    for i in 4..10 {
        assert_eq!(u.next_change(i, 1.0, s(1)), Some((s(5), false)), "user {i}");
    }
    for i in 0..4 {
        assert_eq!(u.next_change(i, 1.0, s(1)), Some((s(10), false)), "user {i}");
    }
    // Any other phase stops everyone; a ramp after it starts from 0 again.
    let u = Schedule::users(&[
        users(10, UserRamp::Immediate, 5.0),
        pause(5.0),
        users(10, UserRamp::Linear, 10.0),
        rate(5.0, 2.0),
    ]);
    for i in 0..10 {
        assert_eq!(u.next_change(i, 1.0, s(1)), Some((s(5), false)), "user {i}");
        assert_eq!(u.next_change(i, 1.0, s(5)), Some((s(10 + i), true)), "user {i}");
        assert_eq!(u.next_change(i, 1.0, s(10 + i)), Some((s(20), false)), "user {i}");
        assert_eq!(u.next_change(i, 1.0, s(20)), None);
    }
    assert_eq!(u.at(s(7)), 0.0);
    assert_eq!(u.at(s(21)), 0.0);
    // A spawn rate too slow to reach the target leaves the next phase to start from where it got to.
    let u = Schedule::users(&[users(10, UserRamp::SpawnRate(1.0), 3.0), users(10, UserRamp::Linear, 7.0)]);
    assert_eq!(u.at(ms(2999)), 2.999);
    assert_eq!(u.at(s(3)), 3.0);
    assert_eq!(u.at(ms(6500)), 6.5);
    assert_eq!(start_of(&u, 3, 1.0, Duration::ZERO), Some(s(3)));
    assert_eq!(start_of(&u, 4, 1.0, Duration::ZERO), Some(ms(4000)));
}

#[test]
fn a_factor_scales_the_users() {
    let u = Schedule::users(&[users(10, UserRamp::Immediate, 10.0)]);
    assert_eq!(u.active_count(0.5, s(1)), 5);
    assert!(u.active(4, 0.5, s(1)) && !u.active(5, 0.5, s(1)));
    assert_eq!(u.active_count(1.5, s(1)), 15);
    assert_eq!(u.active_count(0.25, s(1)), 3, "2.5 users: 3 run");
    assert_eq!(u.active_count(0.0, s(1)), 0);
    assert_eq!(u.next_change(0, 0.0, s(1)), None);
    for f in [f64::NAN, -1.0, f64::INFINITY] {
        assert!(!u.active(0, f, s(1)));
        assert_eq!(u.active_count(f, s(1)), 0);
    }
    // A ramp at factor 0.5 starts user i at 2i s.
    let u = Schedule::users(&[users(10, UserRamp::Linear, 10.0)]);
    for i in 0..5 {
        assert_eq!(start_of(&u, i, 0.5, Duration::ZERO), Some(s(2 * i)), "user {i}");
    }
    assert_eq!(start_of(&u, 5, 0.5, Duration::ZERO), None);
}

#[test]
fn degenerate_user_phases() {
    let u = Schedule::users(&[
        users(3, UserRamp::SpawnRate(f64::NAN), 1.0),
        users(4, UserRamp::SpawnRate(0.0), 1.0),
        users(5, UserRamp::SpawnRate(-1.0), 1.0),
        users(6, UserRamp::SpawnRate(f64::INFINITY), 1.0),
        users(100, UserRamp::Linear, 0.0),
        users(7, UserRamp::Linear, 1.0),
    ]);
    let at: Vec<f64> = (0..5).map(|k| u.at(s(k))).collect();
    assert_eq!(at, vec![3.0, 4.0, 5.0, 6.0, 100.0], "bad rates are immediate; a zero-length phase counts");
    assert_eq!(u.at(ms(4500)), 53.5);
    assert_eq!(u.peak(), 100, "the ramp 100 → 7 starts at 100");
    let u = Schedule::users(&[phase(
        Duration::MAX,
        PhaseKind::Users { users: u64::MAX, ramp: UserRamp::Linear },
    )]);
    let _ = (u.at(s(1)), u.peak(), u.planned(Duration::MAX), u.active(u64::MAX, 1.0, Duration::MAX));
    let _ = u.next_change(u64::MAX, f64::MAX, Duration::MAX);
    let _ = u.next_change(5, 1.0, s(1));
    let empty = Schedule::users(&[]);
    assert_eq!((empty.peak(), empty.planned(s(0)), empty.next_change(0, 1.0, s(0))), (0, 0, None));
}

#[test]
fn next_change_agrees_with_active() {
    let mut rng = SmallRng::seed_from_u64(0xAC7);
    let ramps = [UserRamp::Immediate, UserRamp::Linear, UserRamp::SpawnRate(0.7), UserRamp::SpawnRate(5.0)];
    for _ in 0..150 {
        let n = rng.random_range(1..6);
        let phases: Vec<Phase> = (0..n)
            .map(|_| {
                let t = rng.random_range(0.0..10.0);
                if rng.random_bool(0.2) {
                    pause(t)
                } else {
                    users(rng.random_range(0..12), ramps[rng.random_range(0..ramps.len())], t)
                }
            })
            .collect();
        let u = Schedule::users(&phases);
        let end = u.total_duration();
        for _ in 0..20 {
            let i = rng.random_range(0..15);
            let f = [0.5, 1.0, 1.5, 2.7, rng.random_range(0.1..3.0)][rng.random_range(0..5)];
            let after = secs_f(rng.random_range(0.0..end.as_secs_f64() + 1.0));
            let was = u.active(i, f, after);
            let next = u.next_change(i, f, after);
            let until = match next {
                Some((t, now)) => {
                    assert!(t > after, "{t:?} after {after:?}");
                    assert_eq!(now, !was);
                    assert_eq!(u.active(i, f, t), now, "user {i} f {f} at {t:?}: {phases:?}");
                    assert_eq!(
                        u.active(i, f, t - Duration::from_nanos(1)),
                        was,
                        "just before {t:?}: {phases:?}"
                    );
                    t
                }
                None => {
                    assert!(!was || after >= end, "an active user always stops: {phases:?}");
                    end + s(1)
                }
            };
            // No other change in between.
            for _ in 0..20 {
                let span = (until - after).as_nanos() as u64;
                let t = after + Duration::from_nanos(rng.random_range(0..span.max(1)));
                assert_eq!(u.active(i, f, t), was, "user {i} f {f} at {t:?} before {next:?}: {phases:?}");
            }
        }
        // planned() counts exactly the active users, who are 0 … n − 1.
        for _ in 0..20 {
            let t = secs_f(rng.random_range(0.0..end.as_secs_f64() + 0.5));
            let f = rng.random_range(0.1..3.0);
            let n = u.active_count(f, t);
            assert!((0..n).all(|i| u.active(i, f, t)) && !u.active(n, f, t), "{n} at {t:?}: {phases:?}");
            assert!(u.planned(t) <= u.peak());
        }
    }
}
