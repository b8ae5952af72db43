//! The generator's self-measurement: CPU readings, and the warnings raised once each when the
//! generator falls behind its schedule or saturates its CPU.

use std::time::{Duration, Instant};

use hornet_metrics::{Aggregator, Interval, Recorder, Report, RunMeta, process_cpu_seconds};

const LAG_5_01: &str =
    "the generator is falling behind its schedule: lag p99 5.01 ms; latency figures are unreliable";
const CPU_91: &str = "the generator used 91% CPU for 10 s: it may be the bottleneck";

fn aggregator() -> Aggregator {
    Aggregator::new(vec!["GET /".into()], vec!["s".into()])
}

fn report(agg: &Aggregator) -> Report {
    agg.report(RunMeta::for_tests(Duration::from_secs(1)))
}

/// A tick's interval with `n` arrivals `us` late, then `high` arrivals `high_us` late.
fn lags(n: usize, us: u64, high: usize, high_us: u64) -> Interval {
    let mut r = Recorder::new(1, 1);
    for _ in 0..n {
        r.lag(Duration::from_micros(us));
    }
    for _ in 0..high {
        r.lag(Duration::from_micros(high_us));
    }
    r.take_interval()
}

fn secs(s: f64) -> Duration {
    Duration::from_secs_f64(s)
}

#[test]
fn lag_p99_of_exactly_5ms_does_not_warn() {
    let mut agg = aggregator();
    for t in 1..=15 {
        agg.add_tick(secs(t as f64), vec![lags(100, 5_000, 0, 0)], 1);
        assert!(agg.take_new_warnings().is_empty(), "tick {t}");
    }
    let r = report(&agg);
    assert_eq!(r.summary("schedule.lag").unwrap().p99, 5.0);
    assert!(r.warnings.is_empty(), "neither live nor run-wide: {:?}", r.warnings);
}

#[test]
fn lag_p99_of_5_01ms_warns_once() {
    let mut agg = aggregator();
    for t in 1..=3 {
        agg.add_tick(secs(t as f64), vec![lags(100, 5_000, 0, 0)], 1);
    }
    assert!(agg.take_new_warnings().is_empty());
    // A quarter of the last 10 s is now 5.01 ms late: p99 5.01 ms.
    agg.add_tick(secs(4.0), vec![lags(0, 0, 100, 5_010)], 1);
    assert_eq!(agg.take_new_warnings(), [LAG_5_01]);
    assert!(agg.take_new_warnings().is_empty(), "each warning is returned once");
    // Still late, later and worse: no new warning.
    for t in 5..=30 {
        agg.add_tick(secs(t as f64), vec![lags(0, 0, 100, 80_000)], 1);
    }
    assert!(agg.take_new_warnings().is_empty());
    assert_eq!(agg.warnings(), [LAG_5_01]);
    // The report has it once: the run-wide check (p99 80 ms) does not repeat it.
    let r = report(&agg);
    assert!(r.summary("schedule.lag").unwrap().p99 > 5.0);
    assert_eq!(r.warnings, [LAG_5_01]);
}

#[test]
fn lag_is_checked_over_the_last_10_seconds_only() {
    let mut agg = aggregator();
    // 10 000 punctual arrivals in the tick ending at 1 s.
    agg.add_tick(secs(1.0), vec![lags(10_000, 1_000, 0, 0)], 1);
    // 2 % late arrivals at 10.5 s: diluted by the tick ending at 1 s, still within 10 s.
    agg.add_tick(secs(10.5), vec![lags(98, 1_000, 2, 20_000)], 1);
    assert!(agg.take_new_warnings().is_empty());
    // At 11 s the tick ending at 1 s has left the window: 4 of 200 late, p99 20 ms.
    agg.add_tick(secs(11.0), vec![lags(98, 1_000, 2, 20_000)], 1);
    assert_eq!(
        agg.take_new_warnings(),
        ["the generator is falling behind its schedule: lag p99 20.0 ms; latency figures are unreliable"]
    );
    // Run-wide, the late arrivals are 0.04 %: no run-wide warning beside the live one.
    let r = report(&agg);
    assert!(r.summary("schedule.lag").unwrap().p99 <= 5.0);
    assert_eq!(r.warnings.len(), 1);
}

/// An aggregator fed one tick per second, each with the given CPU reading (`None`: not recorded).
fn cpu_run(readings: &[Option<f64>]) -> Aggregator {
    let mut agg = aggregator();
    for (i, cpu) in readings.iter().enumerate() {
        agg.add_tick(secs(i as f64 + 1.0), vec![], 1);
        if let Some(v) = cpu {
            agg.record_generator(*v);
        }
    }
    agg
}

fn repeat(v: Option<f64>, n: usize) -> Vec<Option<f64>> {
    vec![v; n]
}

#[test]
fn cpu_above_90_percent_for_10_ticks_warns_once() {
    let mut agg = cpu_run(&repeat(Some(91.0), 9));
    assert!(agg.take_new_warnings().is_empty(), "9 ticks are not enough");
    agg.add_tick(secs(10.0), vec![], 1);
    agg.record_generator(91.0);
    assert_eq!(agg.take_new_warnings(), [CPU_91]);
    for t in 11..=40 {
        agg.add_tick(secs(t as f64), vec![], 1);
        agg.record_generator(99.0);
    }
    assert!(agg.take_new_warnings().is_empty());
    assert_eq!(report(&agg).warnings, [CPU_91]);

    // Exactly 90 % is not above 90 %.
    let mut at_90 = cpu_run(&repeat(Some(90.0), 30));
    assert!(at_90.take_new_warnings().is_empty());
    // The mean over the 10 ticks is reported.
    let mut mixed = cpu_run(&[95.0, 91.0, 99.0, 91.0, 91.0, 91.0, 91.0, 91.0, 91.0, 95.0].map(Some));
    assert_eq!(mixed.take_new_warnings(), ["the generator used 93% CPU for 10 s: it may be the bottleneck"]);
}

#[test]
fn the_cpu_run_must_be_consecutive() {
    // A quiet tick resets the count.
    let mut readings = repeat(Some(95.0), 9);
    readings.push(Some(50.0));
    readings.extend(repeat(Some(95.0), 9));
    let mut agg = cpu_run(&readings);
    assert!(agg.take_new_warnings().is_empty());
    agg.add_tick(secs(20.0), vec![], 1);
    agg.record_generator(95.0);
    assert_eq!(agg.take_new_warnings().len(), 1, "10 consecutive after the quiet tick");

    // So does a tick without a reading.
    let mut readings = repeat(Some(95.0), 9);
    readings.push(None);
    readings.extend(repeat(Some(95.0), 9));
    assert!(cpu_run(&readings).take_new_warnings().is_empty());
}

#[test]
fn both_warnings_are_returned_once_each_in_order() {
    let mut agg = aggregator();
    for t in 1..=12 {
        let lag = if t == 3 { lags(0, 0, 10, 5_010) } else { lags(0, 0, 0, 0) };
        agg.add_tick(secs(t as f64), vec![lag], 1);
        agg.record_generator(91.0);
    }
    assert_eq!(agg.take_new_warnings(), [LAG_5_01, CPU_91]);
    assert!(agg.take_new_warnings().is_empty());
    assert_eq!(report(&agg).warnings, [LAG_5_01, CPU_91]);
}

#[test]
fn cpu_readings_go_to_the_report_and_odd_values_are_handled() {
    // Before the first tick there is nothing to attach a reading to.
    let mut agg = aggregator();
    agg.record_generator(50.0);
    assert_eq!(report(&agg).generator, None);

    // Ticks of 1 s, 3 s and 1 s: the mean is weighted by tick length.
    agg.add_tick(secs(1.0), vec![], 1);
    agg.record_generator(10.0);
    agg.add_tick(secs(4.0), vec![], 1);
    agg.record_generator(99.0);
    agg.record_generator(30.0); // replaces the reading of the same tick
    agg.add_tick(secs(5.0), vec![], 1);
    agg.record_generator(f64::NAN); // ignored
    agg.record_generator(f64::INFINITY); // ignored
    agg.record_generator(-3.0); // counts as 0
    let r = report(&agg);
    let g = r.generator.unwrap();
    assert!((g.cpu_mean - (10.0 + 3.0 * 30.0) / 5.0).abs() < 1e-9, "{}", g.cpu_mean);
    assert_eq!(g.cpu_max, 30.0, "a replaced reading does not count");
    let cpu: Vec<f64> = r.intervals.iter().map(|i| i.gauges["generator.cpu"]).collect();
    assert_eq!(cpu, [10.0, 30.0, 0.0]);
    assert_eq!(agg.live().cpu_percent, Some(0.0));
    assert!(r.to_json().is_ok_and(|j| !j.contains("NaN") && !j.contains("inf")));

    // A run without readings has no generator figures.
    assert_eq!(report(&cpu_run(&repeat(None, 3))).generator, None);
}

#[test]
fn a_replaced_reading_can_complete_the_cpu_run() {
    let mut agg = cpu_run(&repeat(Some(95.0), 9));
    agg.add_tick(secs(10.0), vec![], 1);
    agg.record_generator(50.0);
    assert!(agg.take_new_warnings().is_empty());
    agg.record_generator(95.0);
    assert_eq!(agg.take_new_warnings().len(), 1);
}

#[cfg(target_os = "linux")]
#[test]
fn process_cpu_seconds_grows_when_burning_cpu() {
    let before = process_cpu_seconds().expect("readable on Linux");
    assert!(before.is_finite() && before >= 0.0);
    let start = Instant::now();
    let mut after = before;
    let mut x = 1_u64;
    // At least 0.1 s of CPU (10 clock ticks), within a generous wall-clock limit.
    while after - before < 0.1 && start.elapsed() < Duration::from_secs(30) {
        for i in 0..200_000 {
            x = std::hint::black_box(x.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(i));
        }
        after = process_cpu_seconds().unwrap();
    }
    assert!(after - before >= 0.1, "CPU time went from {before} to {after}");
    // Never more than every core busy for the whole time (plus a clock tick of rounding).
    let cores = std::thread::available_parallelism().map_or(1, |n| n.get()) as f64;
    assert!(after - before <= start.elapsed().as_secs_f64() * cores + 0.02);
}

#[cfg(not(target_os = "linux"))]
#[test]
fn process_cpu_seconds_is_not_measured_elsewhere() {
    assert_eq!(process_cpu_seconds(), None);
}
