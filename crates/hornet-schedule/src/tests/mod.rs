//! Unit tests of the schedule math, the iterators and the phase bookkeeping.

use std::time::{Duration, Instant};

use hornet_script::plan::PhaseKind;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};

use super::*;
use crate::curve::Curve;
use support::{count, pause, phase, ramp, random_phases, rate};

mod models;
mod segment;
mod support;
mod users;

/// Collects with an explicit loop, so the count does not go through the `count` shortcut of `Arrivals`.
fn collect(it: Arrivals) -> Vec<Arrival> {
    let mut v = Vec::new();
    for a in it {
        v.push(a);
    }
    v
}

fn times(s: &Schedule) -> Vec<Duration> {
    collect(s.arrivals()).iter().map(|a| a.at).collect()
}

fn secs(v: &[u64]) -> Vec<Duration> {
    v.iter().map(|&s| Duration::from_secs(s)).collect()
}

/// Number of arrivals of `s` with `from <= at < to`.
fn in_window(s: &Schedule, from: Duration, to: Duration) -> u64 {
    collect(s.arrivals()).iter().filter(|a| a.at >= from && a.at < to).count() as u64
}

#[test]
fn constant_ten_per_second_over_one_second_is_exactly_ten() {
    let s = Schedule::new(&[rate(10.0, 1.0)]);
    let all = collect(s.arrivals());
    let want: Vec<Arrival> =
        (0..10).map(|k| Arrival { index: k, phase: 0, at: Duration::from_millis(100 * k) }).collect();
    assert_eq!(all, want);
    assert_eq!(s.expected_arrivals(), 10);
}

#[test]
fn half_per_second_over_ten_seconds() {
    let s = Schedule::new(&[rate(0.5, 10.0)]);
    assert_eq!(times(&s), secs(&[0, 2, 4, 6, 8]));
    assert_eq!(s.expected_arrivals(), 5);
}

#[test]
fn float_noise_does_not_add_an_arrival_at_the_end() {
    // 0.07 * 100 = 7.000000000000001 in f64; a naive ceil would give 8.
    assert!(std::hint::black_box(0.07f64) * 100.0 > 7.0, "the float noise this test is about");
    let s = Schedule::new(&[rate(0.07, 100.0)]);
    assert_eq!(s.expected_arrivals(), 7);
    let t = times(&s);
    assert_eq!(t.len(), 7);
    assert_eq!(t[6], Duration::from_nanos(85_714_285_714), "6 / 0.07 s");
    // 7/3 per second over 27 s: 63.00000000000001 in f64, exactly 63 arrivals.
    let s = Schedule::new(&[rate(7.0 / 3.0, 27.0)]);
    assert_eq!((s.expected_arrivals(), collect(s.arrivals()).len()), (63, 63));
    // Ramp 0.01 -> 0.13 over 100 s: N(T) = 7.000000000000001 in f64, exactly 7 arrivals.
    assert!((std::hint::black_box(0.01f64) + 0.13) * 100.0 / 2.0 > 7.0);
    let s = Schedule::new(&[ramp(0.01, 0.13, 100.0)]);
    assert_eq!((s.expected_arrivals(), collect(s.arrivals()).len()), (7, 7));
    assert!(times(&s)[6] < Duration::from_secs(100));
    // 1/3 per second over 3 s: arrival 1 is due exactly at the end, so only arrival 0 is in.
    let s = Schedule::new(&[rate(1.0 / 3.0, 3.0)]);
    assert_eq!(times(&s), secs(&[0]));
    // 0.7/s over 10 s: 7 arrivals, the last at 60/7 s.
    let s = Schedule::new(&[rate(0.7, 10.0)]);
    let t = times(&s);
    assert_eq!(t.len(), 7);
    assert_eq!(t[6], Duration::from_nanos(8_571_428_571));
}

#[test]
fn times_are_computed_not_accumulated() {
    // 3/s over 1000 s: arrival k is at round(k / 3 s); summing 1/3 s gaps would drift.
    let s = Schedule::new(&[rate(3.0, 1000.0)]);
    assert_eq!(s.expected_arrivals(), 3000);
    for a in collect(s.arrivals()) {
        let exact_ns = (u128::from(a.index) * 1_000_000_000 + 1) / 3; // round(k·1e9/3)
        assert_eq!(a.at.as_nanos(), exact_ns, "arrival {}", a.index);
    }
}

#[test]
fn ramp_up_from_zero() {
    let s = Schedule::new(&[ramp(0.0, 10.0, 10.0)]);
    let all = collect(s.arrivals());
    assert_eq!(all.len(), 50);
    assert_eq!(s.expected_arrivals(), 50);
    assert_eq!(all[0].at, Duration::ZERO);
    assert!(all.windows(2).all(|w| w[0].at < w[1].at), "strictly increasing");
    assert!(all[49].at < Duration::from_secs(10));
    // N(t) = t²/2, so t_k = sqrt(2k): exact at k = 2, 8, 32.
    assert_eq!(all[2].at, Duration::from_secs(2));
    assert_eq!(all[8].at, Duration::from_secs(4));
    assert_eq!(all[32].at, Duration::from_secs(8));
    // Arrivals in [i, i+1) = ceil(N(i+1)) − ceil(N(i)).
    let n = |t: f64| (t * t / 2.0).ceil() as u64;
    for i in 0..10u64 {
        let got = in_window(&s, Duration::from_secs(i), Duration::from_secs(i + 1));
        assert_eq!(got, n(i as f64 + 1.0) - n(i as f64), "window {i}");
    }
}

#[test]
fn ramp_two_to_ten_matches_artillery() {
    let s = Schedule::new(&[ramp(2.0, 10.0, 10.0)]);
    let all = collect(s.arrivals());
    assert_eq!(all.len(), 60);
    assert_eq!(s.expected_arrivals(), 60);
    assert_eq!(all[0].at, Duration::ZERO);
    // N(t) = 2t + 0.4t²: N(5) = 20, so arrival 20 is at exactly 5 s.
    assert_eq!(all[20].at, Duration::from_secs(5));
    // t_1 solves 0.4t² + 2t − 1 = 0.
    let t1 = (-2.0 + (4.0f64 + 1.6).sqrt()) / 0.8;
    assert_eq!(all[1].at, Duration::from_nanos((t1 * 1e9).round() as u64));
    let n = |t: f64| (2.0 * t + 0.4 * t * t).ceil() as u64;
    for i in 0..10u64 {
        let got = in_window(&s, Duration::from_secs(i), Duration::from_secs(i + 1));
        assert_eq!(got, n(i as f64 + 1.0) - n(i as f64), "window {i}");
    }
}

#[test]
fn ramp_down_to_zero() {
    let s = Schedule::new(&[ramp(10.0, 0.0, 10.0)]);
    let all = collect(s.arrivals());
    assert_eq!(all.len(), 50);
    assert_eq!(s.expected_arrivals(), 50);
    assert_eq!(all[0].at, Duration::ZERO);
    assert!(all[49].at < Duration::from_secs(10));
    // The rate falls, so the gaps grow.
    let gaps: Vec<Duration> = all.windows(2).map(|w| w[1].at - w[0].at).collect();
    assert!(gaps.windows(2).all(|g| g[0] < g[1]), "gaps grow: {gaps:?}");
    // N(t) = 10t − t²/2.
    let n = |t: f64| (10.0 * t - t * t / 2.0).ceil() as u64;
    for i in 0..10u64 {
        let got = in_window(&s, Duration::from_secs(i), Duration::from_secs(i + 1));
        assert_eq!(got, n(i as f64 + 1.0) - n(i as f64), "window {i}");
    }
    // N(2) = 18: arrival 18 is at exactly 2 s.
    assert_eq!(all[18].at, Duration::from_secs(2));
}

#[test]
fn ramp_equal_ends_is_constant() {
    let a = Schedule::new(&[ramp(4.0, 4.0, 3.0)]);
    let b = Schedule::new(&[rate(4.0, 3.0)]);
    assert_eq!(times(&a), times(&b));
    assert_eq!(a.expected_arrivals(), 12);
}

#[test]
fn count_spreads_evenly() {
    let s = Schedule::new(&[count(7, 7.0)]);
    assert_eq!(times(&s), secs(&[0, 1, 2, 3, 4, 5, 6]));
    assert_eq!(s.expected_arrivals(), 7);
    // 3 over 1 s: k·T/n in integer nanoseconds, floored.
    let s = Schedule::new(&[count(3, 1.0)]);
    let want: Vec<Duration> =
        [0, 333_333_333, 666_666_666].iter().map(|&n| Duration::from_nanos(n)).collect();
    assert_eq!(times(&s), want);
}

#[test]
fn empty_phases_yield_nothing() {
    for p in [
        pause(10.0),
        rate(0.0, 10.0),
        ramp(0.0, 0.0, 10.0),
        count(0, 10.0),
        rate(5.0, 0.0),
        ramp(1.0, 5.0, 0.0),
        count(5, 0.0),
        rate(-3.0, 10.0),
        rate(f64::NAN, 10.0),
        rate(f64::INFINITY, 10.0),
    ] {
        let s = Schedule::new(std::slice::from_ref(&p));
        assert_eq!(s.expected_arrivals(), 0, "{p:?}");
        assert_eq!(collect(s.arrivals()), vec![], "{p:?}");
    }
}

#[test]
fn bad_rates_in_a_ramp_count_as_zero() {
    let a = Schedule::new(&[ramp(f64::NAN, 10.0, 10.0)]);
    let b = Schedule::new(&[ramp(-1.0, 10.0, 10.0)]);
    let want = times(&Schedule::new(&[ramp(0.0, 10.0, 10.0)]));
    assert_eq!(times(&a), want);
    assert_eq!(times(&b), want);
    // Ramp down to a negative rate is a ramp down to 0.
    let c = Schedule::new(&[ramp(10.0, -5.0, 10.0)]);
    assert_eq!(times(&c), times(&Schedule::new(&[ramp(10.0, 0.0, 10.0)])));
}

#[test]
fn pause_shifts_later_phases() {
    let s = Schedule::new(&[rate(1.0, 2.0), pause(3.0), rate(1.0, 2.0)]);
    let all = collect(s.arrivals());
    let got: Vec<(u64, usize, Duration)> = all.iter().map(|a| (a.index, a.phase, a.at)).collect();
    let d = Duration::from_secs;
    assert_eq!(got, vec![(0, 0, d(0)), (1, 0, d(1)), (2, 2, d(5)), (3, 2, d(6))]);
    assert_eq!(s.total_duration(), d(7));
    assert_eq!(s.phase_arrivals(1), 0);
}

#[test]
fn sequence_has_continuous_indices_and_offsets() {
    let s = Schedule::new(&[rate(2.0, 2.0), pause(1.0), count(3, 3.0)]);
    assert_eq!(s.phase_count(), 3);
    assert_eq!(s.phase_start(0), Duration::ZERO);
    assert_eq!(s.phase_start(1), Duration::from_secs(2));
    assert_eq!(s.phase_start(2), Duration::from_secs(3));
    assert_eq!(s.phase_start(3), Duration::from_secs(6), "past the end: the total");
    assert_eq!(s.total_duration(), Duration::from_secs(6));
    assert_eq!(s.expected_arrivals(), 7);
    assert_eq!((s.phase_first_index(0), s.phase_first_index(1), s.phase_first_index(2)), (0, 4, 4));
    assert_eq!(s.phase_first_index(3), 7);
    let all = collect(s.arrivals());
    let ms = Duration::from_millis;
    let want =
        [(0, ms(0)), (0, ms(500)), (0, ms(1000)), (0, ms(1500)), (2, ms(3000)), (2, ms(4000)), (2, ms(5000))];
    assert_eq!(all.len(), want.len());
    for (k, (a, (phase, at))) in all.iter().zip(want).enumerate() {
        assert_eq!(*a, Arrival { index: k as u64, phase, at });
        assert_eq!(s.arrival(k as u64), Some(*a), "random access");
    }
    assert_eq!(s.arrival(7), None);
}

#[test]
fn phase_at_boundaries() {
    let s = Schedule::new(&[rate(1.0, 1.0), pause(0.0), count(2, 2.0), pause(1.0)]);
    let ns = Duration::from_nanos;
    let d = Duration::from_secs;
    assert_eq!(s.phase_at(d(0)), Some(0));
    assert_eq!(s.phase_at(d(1) - ns(1)), Some(0));
    assert_eq!(s.phase_at(d(1)), Some(2), "a zero-length phase never runs");
    assert_eq!(s.phase_at(d(3) - ns(1)), Some(2));
    assert_eq!(s.phase_at(d(3)), Some(3));
    assert_eq!(s.phase_at(d(4) - ns(1)), Some(3));
    assert_eq!(s.phase_at(d(4)), None, "at the end");
    assert_eq!(s.phase_at(d(100)), None);
    assert_eq!(Schedule::new(&[]).phase_at(Duration::ZERO), None);
}

#[test]
fn empty_schedule() {
    let s = Schedule::new(&[]);
    assert_eq!(s.total_duration(), Duration::ZERO);
    assert_eq!(s.expected_arrivals(), 0);
    assert_eq!(s.phase_start(0), Duration::ZERO);
    assert_eq!(s.arrivals().next(), None);
    assert_eq!(s.arrival(0), None);
}

/// Checks one schedule against an independent reading of the math: per phase, iterated count equals the
/// computed one, times lie inside the phase and never go back, indices are consecutive, the count is
/// ceil(N(T)) whenever N(T) is not within float noise of an integer, and the (unclamped) due time of the
/// first arrival past the count is at or after the end.
fn check_consistent(phases: &[Phase]) {
    let s = Schedule::new(phases);
    let all = collect(s.arrivals());
    assert_eq!(all.len() as u64, s.expected_arrivals(), "{phases:?}");
    assert_eq!(s.arrivals().size_hint(), (all.len(), Some(all.len())));
    for (k, a) in all.iter().enumerate() {
        assert_eq!(a.index, k as u64);
    }
    assert!(all.windows(2).all(|w| w[0].at <= w[1].at), "time order: {phases:?}");
    for (i, p) in phases.iter().enumerate() {
        let mine: Vec<&Arrival> = all.iter().filter(|a| a.phase == i).collect();
        assert_eq!(mine.len() as u64, s.phase_arrivals(i), "phase {i} of {phases:?}");
        let start = s.phase_start(i);
        assert!(mine.iter().all(|a| a.at >= start && a.at < start + p.duration), "phase {i} of {phases:?}");
        if let Some(first) = mine.first() {
            assert_eq!(first.at, start, "first arrival at the phase start: {phases:?}");
            assert_eq!(first.index, s.phase_first_index(i));
        }
        let plan = &s.phases[i];
        if plan.count > 0 {
            assert!(plan.curve.time_ns(plan.count - 1, plan.duration_ns) < plan.duration_ns);
        }
        if !matches!(plan.curve, Curve::Empty | Curve::Even { .. }) {
            assert!(plan.curve.time_ns(plan.count, plan.duration_ns) >= plan.duration_ns, "{p:?}");
        }
        let t = p.duration.as_secs_f64();
        let n_t = match p.kind {
            PhaseKind::Rate { rate, ramp_to } => (rate + ramp_to.unwrap_or(rate)) * t / 2.0,
            PhaseKind::Count { count } if t > 0.0 => count as f64,
            _ => 0.0,
        };
        if (n_t - n_t.round()).abs() > 1e-6 {
            assert_eq!(s.phase_arrivals(i), n_t.ceil() as u64, "ceil(N(T)) for {p:?}");
        }
    }
}

#[test]
fn expected_arrivals_matches_iteration_on_a_table() {
    let table: Vec<Vec<Phase>> = vec![
        vec![rate(10.0, 1.0)],
        vec![rate(1.0 / 3.0, 3.0)],
        vec![rate(1.0 / 3.0, 10.0)],
        vec![rate(7.3, 2.5)],
        vec![rate(0.07, 100.0), rate(7.0 / 3.0, 27.0), rate(9.0 / 7.0, 21.0), ramp(0.01, 0.13, 100.0)],
        vec![rate(0.1, 30.0), rate(0.3, 10.0), rate(0.7, 10.0)],
        vec![rate(1e-9, 5.0)],
        vec![rate(123_456.789, 0.01)],
        vec![ramp(0.5, 3.7, 13.3)],
        vec![ramp(9.0, 1.0, 7.0)],
        vec![ramp(0.0, 1.0, 1.0)],
        vec![ramp(1.0, 0.0, 1.0)],
        vec![ramp(3.0, 0.0, 2.0 / 3.0)],
        vec![ramp(0.0, 1e6, 0.5)],
        vec![ramp(1e-6, 2e-6, 1e6)],
        vec![count(1, 1.0), count(1000, 0.001), count(3, 1e-9)],
        vec![pause(1.0), rate(5.0, 1.0), pause(0.5), ramp(1.0, 5.0, 3.0), count(10, 2.0), pause(1.0)],
    ];
    for phases in &table {
        check_consistent(phases);
    }
}

#[test]
fn expected_arrivals_matches_iteration_on_random_configs() {
    let mut rng = SmallRng::seed_from_u64(0x5eed_c0de);
    for _ in 0..300 {
        let phases = random_phases(&mut rng);
        check_consistent(&phases);
    }
    // Integer rates over integer seconds land exactly on the boundary: exactly r·T arrivals.
    for _ in 0..200 {
        let r = rng.random_range(1..1000u64);
        let t = rng.random_range(1..100u64);
        let s = Schedule::new(&[rate(r as f64, t as f64)]);
        assert_eq!(s.expected_arrivals(), r * t);
        assert_eq!(collect(s.arrivals()).len() as u64, r * t);
    }
}

#[test]
fn stripes_union_is_the_full_schedule_in_order() {
    let s = Schedule::new(&[ramp(1.0, 20.0, 5.0), pause(1.0), rate(7.0, 2.0), count(11, 3.0)]);
    let full = collect(s.arrivals());
    assert_eq!(full.len(), 53 + 14 + 11, "N = 52.5, 14 and 11");
    let n = 3;
    let stripes: Vec<Vec<Arrival>> = (0..n).map(|i| collect(s.arrivals_striped(i, n))).collect();
    for (i, stripe) in stripes.iter().enumerate() {
        assert!(stripe.iter().all(|a| a.index % n as u64 == i as u64));
        assert!(stripe.windows(2).all(|w| w[0].index < w[1].index && w[0].at <= w[1].at));
        assert_eq!(s.arrivals_striped(i, n).size_hint().0, stripe.len());
    }
    let mut merged: Vec<Arrival> = stripes.concat();
    merged.sort_by_key(|a| a.index);
    assert_eq!(merged, full);
    // Degenerate stripings.
    assert_eq!(collect(s.arrivals_striped(0, 1)), full);
    assert_eq!(s.arrivals_striped(0, 0).next(), None);
    assert_eq!(s.arrivals_striped(3, 3).next(), None);
    // More stripes than arrivals: one each, the rest empty.
    let few = Schedule::new(&[count(2, 1.0)]);
    assert_eq!(collect(few.arrivals_striped(1, 5)).len(), 1);
    assert_eq!(collect(few.arrivals_striped(4, 5)).len(), 0);
}

#[test]
fn nth_skips_consistently() {
    let s = Schedule::new(&[rate(3.0, 2.0), pause(1.0), ramp(2.0, 8.0, 2.0)]);
    let full = collect(s.arrivals());
    let mut it = s.arrivals();
    assert_eq!(it.nth(4), Some(full[4]));
    assert_eq!(it.next(), Some(full[5]));
    assert_eq!(it.nth(7), Some(full[13]));
    assert_eq!(it.nth(1000), None);
    assert_eq!(it.next(), None, "fused");
    let mut striped = s.arrivals_striped(1, 2);
    assert_eq!(striped.nth(2), Some(full[5]));
}

#[test]
fn one_hour_at_fifty_thousand_per_second_is_not_materialized() {
    let s = Schedule::new(&[rate(50_000.0, 3600.0)]);
    assert_eq!(s.expected_arrivals(), 180_000_000);
    let started = Instant::now();
    let first: Vec<Arrival> = s.arrivals().take(1000).collect();
    assert!(started.elapsed() < Duration::from_secs(1), "took {:?}", started.elapsed());
    assert_eq!(first.len(), 1000);
    for (k, a) in first.iter().enumerate() {
        assert_eq!(a.at, Duration::from_micros(20 * k as u64));
    }
    // The last arrival, reached by skipping rather than iterating.
    let last = s.arrivals().nth(179_999_999).expect("last arrival");
    assert_eq!(last.at, Duration::from_micros(3_599_999_980));
    assert_eq!(s.arrival(179_999_999), Some(last));
    assert_eq!(s.arrivals().nth(180_000_000), None);
    assert_eq!(s.arrivals().count(), 180_000_000);
}

#[test]
fn huge_durations_do_not_panic() {
    let s =
        Schedule::new(&[count(3, 0.0), phase(Duration::MAX, PhaseKind::Count { count: 3 }), rate(1.0, 1.0)]);
    assert_eq!(s.total_duration(), Duration::MAX);
    assert_eq!(s.expected_arrivals(), 3 + 1);
    let all = collect(s.arrivals());
    assert_eq!(all.len(), 4);
    assert!(all.windows(2).all(|w| w[0].at <= w[1].at));
    let s = Schedule::new(&[rate(f64::MAX, 1.0), ramp(0.0, f64::MAX, 1.0)]);
    let _ = s.expected_arrivals();
    assert!(s.arrivals().take(10).all(|a| a.at < Duration::from_secs(2)));
}

#[test]
fn arrivals_can_move_to_another_thread() {
    fn assert_send_static<T: Send + 'static>(_: &T) {}
    let s = Schedule::new(&[rate(5.0, 1.0)]);
    let it = s.arrivals_striped(1, 2);
    assert_send_static(&it);
    let got = std::thread::spawn(move || it.map(|a| a.index).collect::<Vec<_>>()).join().expect("thread");
    assert_eq!(got, vec![1, 3]);
}
