//! Unit tests of the execution segments: exact unions, even spread, and splits that sum to the total.

use std::time::Duration;

use hornet_script::plan::{ArrivalMode, Phase, PhaseKind};

use crate::*;

fn phase(secs: f64, kind: PhaseKind) -> Phase {
    super::support::phase(Duration::from_secs_f64(secs), kind)
}

/// A plan with a constant phase, a ramp, a count, a pause and a Poisson phase.
fn plan() -> Vec<Phase> {
    let mut poisson = phase(3.0, PhaseKind::Rate { rate: 40.0, ramp_to: None });
    poisson.mode = ArrivalMode::Poisson;
    vec![
        phase(4.0, PhaseKind::Rate { rate: 87.0, ramp_to: None }),
        phase(5.0, PhaseKind::Rate { rate: 3.0, ramp_to: Some(61.0) }),
        phase(2.0, PhaseKind::Count { count: 33 }),
        phase(1.0, PhaseKind::Pause),
        poisson,
    ]
}

const WEIGHTS: &[&[u32]] =
    &[&[1], &[1, 1], &[1, 1, 1], &[1, 1, 1, 1], &[3, 7], &[1, 2, 3], &[5, 1, 1, 2, 4], &[2, 0, 1]];

/// The (index, count) items of the plan for every worker and thread, with the plan's own items.
#[test]
fn union_over_workers_and_threads_is_exactly_the_single_machine_schedule() {
    let schedule = Schedule::new(&plan());
    let whole: Vec<(u64, f64, usize)> =
        schedule.arrival_counts(9).take_while(|&(_, _, p)| p < schedule.phase_count()).collect();
    assert!(whole.len() > 300, "{}", whole.len());
    for weights in WEIGHTS {
        let seg = Segments::new(weights).unwrap();
        for threads in [1usize, 2, 3] {
            let mut got = Vec::new();
            for w in 0..seg.len() {
                let mut mine = 0u64;
                for t in 0..threads {
                    let items = SegmentCounts::new(schedule.arrival_counts(9), seg.clone(), w, t, threads)
                        .take_while(|&(_, _, p)| p < schedule.phase_count());
                    for item in items {
                        assert_eq!(seg.owner(item.0), w);
                        got.push(item);
                        mine += 1;
                    }
                }
                assert!(mine > 0 || weights[w] == 0, "worker {w} of {weights:?} got nothing");
            }
            got.sort_by_key(|x| x.0);
            assert_eq!(got, whole, "weights {weights:?}, {threads} threads");
            // The same times: due times come from the counts, identical item for item.
            for (a, b) in got.iter().zip(&whole) {
                assert_eq!(schedule.time_at_count(a.1), schedule.time_at_count(b.1));
            }
        }
    }
}

/// In every one-second window of the schedule, each worker's arrivals are within ±1 of its share
/// (equal weights) and within less than 2 of it (any weights).
#[test]
fn each_worker_gets_its_share_of_every_second() {
    let phases = vec![
        phase(6.0, PhaseKind::Rate { rate: 87.0, ramp_to: None }),
        phase(6.0, PhaseKind::Rate { rate: 10.0, ramp_to: Some(250.0) }),
        phase(3.0, PhaseKind::Count { count: 100 }),
    ];
    let schedule = Schedule::new(&phases);
    let arrivals: Vec<Arrival> = schedule.arrivals().collect();
    for weights in WEIGHTS {
        let seg = Segments::new(weights).unwrap();
        let equal = weights.iter().all(|&w| w == weights[0]);
        // Every window [s, s + 1 s) with s on a 100 ms grid.
        for start_ms in (0..15_000u64).step_by(100) {
            let (from, to) = (Duration::from_millis(start_ms), Duration::from_millis(start_ms + 1000));
            let window: Vec<&Arrival> = arrivals.iter().filter(|a| a.at >= from && a.at < to).collect();
            for w in 0..seg.len() {
                let count = window.iter().filter(|a| seg.owner(a.index) == w).count() as f64;
                let share = seg.share(w) * window.len() as f64;
                let off = (count - share).abs();
                if equal {
                    assert!(off <= 1.0 + 1e-9, "{weights:?} worker {w} at {start_ms} ms: {count} vs {share}");
                } else {
                    assert!(off < 2.0, "{weights:?} worker {w} at {start_ms} ms: {count} vs {share}");
                }
            }
        }
        // Over the whole run, the closed form agrees with counting.
        let n = arrivals.len() as u64;
        let parts = seg.split(n);
        assert_eq!(parts.iter().sum::<u64>(), n);
        for (w, part) in parts.iter().enumerate() {
            assert_eq!(*part, arrivals.iter().filter(|a| seg.owner(a.index) == w).count() as u64);
        }
    }
}

#[test]
fn rate_87_per_second_over_4_workers_delivers_87_per_second() {
    let schedule = Schedule::new(&[phase(10.0, PhaseKind::Rate { rate: 87.0, ramp_to: None })]);
    let seg = Segments::equal(4).unwrap();
    let parts = seg.split(schedule.expected_arrivals());
    assert_eq!(schedule.expected_arrivals(), 870);
    assert_eq!(parts, vec![218, 218, 217, 217]);
    assert_eq!(parts.iter().sum::<u64>(), 870);
}

#[test]
fn users_and_rows_split_with_integer_parts_summing_to_the_total() {
    for weights in WEIGHTS {
        let seg = Segments::new(weights).unwrap();
        for total in [0u64, 1, 2, 3, 7, 10, 99, 100, 1001, 65_537] {
            let parts = seg.split(total);
            assert_eq!(parts.iter().sum::<u64>(), total, "{weights:?} {total}");
            for (w, &part) in parts.iter().enumerate() {
                // Close to the exact share, and the nth items are exactly the owned ones.
                let share = seg.share(w) * total as f64;
                assert!((part as f64 - share).abs() < 2.0, "{weights:?} {total} {w}: {part} vs {share}");
                let owned: Vec<u64> = (0..total).filter(|&u| seg.owner(u) == w).collect();
                let nth: Vec<u64> = (0..part).map(|m| seg.nth(w, m).unwrap()).collect();
                assert_eq!(owned, nth, "{weights:?} {total} worker {w}");
            }
        }
    }
    // Rows of a 10-row CSV file (sequence order: VU k takes row k mod 10) over 3 workers: every row the
    // single machine uses is used by exactly one worker for each VU.
    let seg = Segments::equal(3).unwrap();
    let mut rows = [0u32; 10];
    for w in 0..3 {
        for m in 0..seg.count_below(w, 100) {
            rows[(seg.nth(w, m).unwrap() % 10) as usize] += 1;
        }
    }
    assert_eq!(rows, [10; 10]);
}

#[test]
fn bad_weights_are_refused() {
    assert_eq!(Segments::new(&[]), Err(SegmentError::Empty));
    assert_eq!(Segments::new(&[0, 0]), Err(SegmentError::Empty));
    assert!(matches!(Segments::new(&[u32::MAX, 2]), Err(SegmentError::TooLarge(_))));
    let seg = Segments::new(&[2, 0, 1]).unwrap();
    assert_eq!(seg.nth(1, 0), None);
    assert_eq!(
        SegmentCounts::new(Schedule::new(&plan()).arrival_counts(1), seg.clone(), 1, 0, 1).next(),
        None
    );
    assert_eq!(seg.bounds(0), (0.0, 2.0 / 3.0));
    assert_eq!(seg.bounds(2), (2.0 / 3.0, 1.0));
    assert_eq!(seg.bounds(7), (0.0, 0.0));
}
