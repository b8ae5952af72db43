//! Self-measurement of the load generator: its CPU use, and the warnings raised when the generator
//! rather than the target may be what limits or distorts the figures (`docs/metrics.md`,
//! "The generator's health").
//!
//! The runner measures CPU with [`process_cpu_seconds`] and hands the aggregator one percentage per
//! tick ([`crate::Aggregator::record_generator`]); the aggregator keeps it in the timeline and the
//! report, and raises each warning at most once ([`crate::Aggregator::take_new_warnings`],
//! [`crate::Report::warnings`]).

use std::collections::VecDeque;
use std::time::Duration;

use crate::format;
use crate::hist::Hist;

/// Schedule-lag p99 (ms) above which the generator is said to be falling behind its schedule:
/// strictly above, so exactly 5 ms does not warn. Applies to the last [`LAG_WINDOW`] while the
/// test runs and to the whole run at the end.
pub const LAG_WARNING_MS: f64 = 5.0;

/// The span of recent ticks whose schedule lag is checked against [`LAG_WARNING_MS`].
pub const LAG_WINDOW: Duration = Duration::from_secs(10);

/// Process CPU (percent of all cores) above which a tick counts as saturated: strictly above, so
/// exactly 90 % does not count.
pub const CPU_WARNING_PERCENT: f64 = 90.0;

/// Consecutive saturated ticks (10 s at the one-second tick) that raise the CPU warning.
pub const CPU_WARNING_TICKS: usize = 10;

/// CPU time (user + system, all threads) this process has used since it started, in seconds.
///
/// On Linux this reads `utime` and `stime` from `/proc/self/stat` and divides them by the clock
/// tick rate (`sysconf(_SC_CLK_TCK)`, usually 100 Hz, so the resolution is 10 ms). `None` on other
/// operating systems, or if the file cannot be read or parsed.
///
/// The runner turns two readings into a percentage: `(cpu₂ − cpu₁) / wall seconds / cores × 100`.
pub fn process_cpu_seconds() -> Option<f64> {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: sysconf only reads a configuration value; it has no preconditions.
        let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) };
        if hz <= 0 {
            return None;
        }
        let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
        parse_proc_stat(&stat, hz as f64)
    }
    #[cfg(not(target_os = "linux"))]
    {
        None
    }
}

/// `utime + stime` (fields 14 and 15 of `/proc/<pid>/stat`, in clock ticks) divided by `hz`.
/// The command name (field 2) is in parentheses and may itself contain spaces and parentheses, so
/// fields are counted from the last `)`.
#[cfg_attr(not(target_os = "linux"), allow(dead_code))]
fn parse_proc_stat(stat: &str, hz: f64) -> Option<f64> {
    let rest = &stat[stat.rfind(')')? + 1..];
    // `rest` starts at field 3 (state): field n is at index n - 3.
    let mut fields = rest.split_ascii_whitespace();
    let utime: u64 = fields.nth(14 - 3)?.parse().ok()?;
    let stime: u64 = fields.next()?.parse().ok()?;
    Some((utime + stime) as f64 / hz)
}

/// Start of the live lag warning.
const LAG_LIVE_PREFIX: &str = "the generator is falling behind its schedule";
/// Start of the whole-run lag warning.
const LAG_RUN_PREFIX: &str = "the generator fell behind its schedule";

/// The warning raised while the test runs when the schedule-lag p99 of the last [`LAG_WINDOW`]
/// is above [`LAG_WARNING_MS`].
pub fn lag_warning(p99_ms: f64) -> String {
    format!("{LAG_LIVE_PREFIX}: lag p99 {} ms; latency figures are unreliable", format::ms(p99_ms))
}

/// The warning for a whole run whose schedule-lag p99 is above [`LAG_WARNING_MS`] (added to the
/// report when the live check did not fire, and shown by the summary of older reports).
pub fn run_lag_warning(p99_ms: f64) -> String {
    format!(
        "{LAG_RUN_PREFIX}: lag p99 {} ms over the whole run; latency figures are unreliable",
        format::ms(p99_ms)
    )
}

/// True if `warning` is one of the schedule-lag warnings ([`lag_warning`], [`run_lag_warning`]),
/// so the whole-run check is not repeated after the live one fired.
pub fn is_lag_warning(warning: &str) -> bool {
    warning.starts_with(LAG_LIVE_PREFIX) || warning.starts_with(LAG_RUN_PREFIX)
}

/// The warning raised after [`CPU_WARNING_TICKS`] consecutive ticks above [`CPU_WARNING_PERCENT`];
/// `mean` is the average over those ticks.
pub fn cpu_warning(mean: f64) -> String {
    format!("the generator used {mean:.0}% CPU for 10 s: it may be the bottleneck")
}

/// Time-weighted CPU figures of one or more ticks.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) struct CpuStats {
    /// Σ value × weight.
    weighted_sum: f64,
    /// Σ weight (tick seconds, floored at a nanosecond so zero-length ticks still count).
    weight: f64,
    /// Highest value.
    pub(crate) max: f64,
}

impl CpuStats {
    /// The figures of one tick of `seconds` with `percent` CPU.
    pub(crate) fn single(percent: f64, seconds: f64) -> CpuStats {
        let weight = seconds.max(1e-9);
        CpuStats { weighted_sum: percent * weight, weight, max: percent }
    }

    /// Adds `other` (another span of time) to `self`.
    pub(crate) fn merge(&mut self, other: &CpuStats) {
        self.weighted_sum += other.weighted_sum;
        self.weight += other.weight;
        self.max = self.max.max(other.max);
    }

    /// `a` and `b` merged; `None` if both are.
    pub(crate) fn merged(a: Option<CpuStats>, b: Option<CpuStats>) -> Option<CpuStats> {
        match (a, b) {
            (Some(mut a), Some(b)) => {
                a.merge(&b);
                Some(a)
            }
            (a, b) => a.or(b),
        }
    }

    /// The time-weighted mean.
    pub(crate) fn mean(&self) -> f64 {
        self.weighted_sum / self.weight
    }
}

/// The generator's health checks, fed tick by tick by the aggregator.
#[derive(Debug, Clone, Default)]
pub(crate) struct Watch {
    /// (tick end, the tick's schedule lag) for the ticks of the last [`LAG_WINDOW`] that had lag
    /// values. Emptied once the lag warning has fired.
    lag_window: VecDeque<(Duration, Hist)>,
    lag_warned: bool,
    cpu_warned: bool,
    /// True once a tick was added: CPU readings before the first tick are ignored.
    has_tick: bool,
    /// Length of the latest tick, seconds.
    last_seconds: f64,
    /// CPU of the latest tick, if recorded (a later reading for the same tick replaces it).
    last_cpu: Option<f64>,
    /// CPU of the ticks before the latest.
    cpu_before: Option<CpuStats>,
    /// The run of saturated ticks ending at the tick before the latest: (length, Σ percent).
    streak_before: (usize, f64),
    /// Every warning raised, in order.
    warnings: Vec<String>,
    /// How many of `warnings` [`Watch::take_new`] has returned.
    taken: usize,
}

impl Watch {
    /// A new tick ending at `end` (`seconds` long) with the schedule lag `lag`.
    pub(crate) fn on_tick(&mut self, end: Duration, seconds: f64, lag: &Hist) {
        // Close the previous tick's CPU reading; a tick without one breaks the saturated run.
        if self.has_tick {
            self.streak_before = self.streak_with(self.last_cpu);
            if let Some(v) = self.last_cpu.take() {
                self.cpu_before =
                    CpuStats::merged(self.cpu_before, Some(CpuStats::single(v, self.last_seconds)));
            }
        }
        self.has_tick = true;
        self.last_seconds = seconds;

        if self.lag_warned {
            return;
        }
        if lag.count() > 0 {
            self.lag_window.push_back((end, lag.clone()));
        }
        while self.lag_window.front().is_some_and(|(t, _)| *t + LAG_WINDOW <= end) {
            self.lag_window.pop_front();
        }
        if self.lag_window.is_empty() {
            return;
        }
        let mut recent = Hist::default();
        for (_, h) in &self.lag_window {
            recent.merge(h);
        }
        let p99 = recent.summary().p99;
        if p99 > LAG_WARNING_MS {
            self.lag_warned = true;
            self.lag_window = VecDeque::new();
            self.warnings.push(lag_warning(p99));
        }
    }

    /// The saturated run ending at a tick with CPU `cpu`, given the run before it.
    fn streak_with(&self, cpu: Option<f64>) -> (usize, f64) {
        match cpu {
            Some(v) if v > CPU_WARNING_PERCENT => (self.streak_before.0 + 1, self.streak_before.1 + v),
            _ => (0, 0.0),
        }
    }

    /// The CPU of the latest tick. Returns the value kept and the tick's length in seconds, or
    /// `None` when there is no tick yet or `percent` is not finite. Negative values count as 0.
    pub(crate) fn on_cpu(&mut self, percent: f64) -> Option<(f64, f64)> {
        if !self.has_tick || !percent.is_finite() {
            return None;
        }
        let v = percent.max(0.0);
        self.last_cpu = Some(v);
        let (n, sum) = self.streak_with(Some(v));
        if n >= CPU_WARNING_TICKS && !self.cpu_warned {
            self.cpu_warned = true;
            self.warnings.push(cpu_warning(sum / n as f64));
        }
        Some((v, self.last_seconds))
    }

    /// CPU over every tick with a reading, if any.
    pub(crate) fn cpu(&self) -> Option<CpuStats> {
        CpuStats::merged(self.cpu_before, self.last_cpu.map(|v| CpuStats::single(v, self.last_seconds)))
    }

    /// Every warning raised so far.
    pub(crate) fn warnings(&self) -> &[String] {
        &self.warnings
    }

    /// The warnings raised since the previous call.
    pub(crate) fn take_new(&mut self) -> Vec<String> {
        let new = self.warnings[self.taken..].to_vec();
        self.taken = self.warnings.len();
        new
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn proc_stat_fields_are_counted_from_the_last_parenthesis() {
        // pid (comm) state ppid pgrp session tty tpgid flags minflt cminflt majflt cmajflt utime stime ...
        let stat = "4242 (my (odd) prog) R 1 2 3 4 5 6 7 8 9 10 250 50 1 2 20 0 8 0 100";
        assert_eq!(parse_proc_stat(stat, 100.0), Some(3.0));
        assert_eq!(parse_proc_stat("1 (x) S 1 2", 100.0), None, "too few fields");
        assert_eq!(parse_proc_stat("no parenthesis", 100.0), None);
        assert_eq!(parse_proc_stat("1 (x) S 1 2 3 4 5 6 7 8 9 10 ab 50", 100.0), None);
    }

    #[test]
    fn lag_warnings_are_recognized_and_others_are_not() {
        assert!(is_lag_warning(&lag_warning(5.01)));
        assert!(is_lag_warning(&run_lag_warning(12.0)));
        assert!(!is_lag_warning(&cpu_warning(95.0)));
        assert_eq!(
            lag_warning(5.01),
            "the generator is falling behind its schedule: lag p99 5.01 ms; latency figures are unreliable"
        );
        assert_eq!(cpu_warning(91.0), "the generator used 91% CPU for 10 s: it may be the bottleneck");
    }

    #[test]
    fn cpu_mean_is_weighted_by_tick_length() {
        let mut a = CpuStats::single(10.0, 1.0);
        a.merge(&CpuStats::single(40.0, 2.0));
        assert!((a.mean() - 30.0).abs() < 1e-12);
        assert_eq!(a.max, 40.0);
        // Zero-length ticks still give a finite mean.
        let z =
            CpuStats::merged(Some(CpuStats::single(20.0, 0.0)), Some(CpuStats::single(40.0, 0.0))).unwrap();
        assert!((z.mean() - 30.0).abs() < 1e-9);
        assert_eq!(CpuStats::merged(None, None), None);
    }
}
