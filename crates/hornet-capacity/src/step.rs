//! One step of a capacity search: what was measured over its window ([`StepFigures`], taken from
//! the window's report by [`StepFigures::from_report`]) and the breach rules that judge it
//! ([`judge`]): is the generator itself saturated (the step is then invalid), does the SLO hold,
//! does the system keep up with the offered load, and is latency steady through the step.

use std::collections::BTreeMap;

use hornet_metrics::Report;
use hornet_metrics::report::{RESPONSE_TIME, RESPONSE_TIME_CORRECTED};
use serde::Serialize;

use crate::slo::{FAILED_REQUESTS, Slo};

/// How the search offers load.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Model {
    /// Arrivals per second (open model): the search steers the arrival rate.
    Open,
    /// Concurrent users looping over their scenarios (closed model): the search steers the count.
    Closed,
}

impl Model {
    /// The unit of the offered load: `arrivals/s` or `users`.
    pub fn unit(self) -> &'static str {
        match self {
            Model::Open => "arrivals/s",
            Model::Closed => "users",
        }
    }

    /// The unit of the achieved throughput: completed arrivals (open) or responses (closed) a second.
    pub fn throughput_unit(self) -> &'static str {
        match self {
            Model::Open => "completed/s",
            Model::Closed => "responses/s",
        }
    }
}

/// Achieved throughput below this share of the offered arrival rate breaches (open model), one
/// arrival aside (see [`GENERATOR_MIN_STARTED_SHARE`]).
pub const MIN_ACHIEVED_SHARE: f64 = 0.95;
/// Throughput below this share of the best one at fewer users breaches (closed model: retrograde).
pub const MIN_RETROGRADE_SHARE: f64 = 0.95;
/// The generator is saturated when it started fewer than this share of the offered arrivals in
/// the window (open model), one arrival aside: a uniform schedule puts either the floor or the
/// ceiling of `rate × window` arrivals in a window whose edges fall between arrivals, so at a low
/// rate one arrival short is the window's edge, not a saturated generator ...
pub const GENERATOR_MIN_STARTED_SHARE: f64 = 0.95;
/// ... or when the window's median schedule lag is above this (ms): arrivals start late as a
/// rule, not in a passing stall of the machine ...
pub const GENERATOR_LAG_LIMIT_MS: f64 = 50.0;
/// ... or when its worker threads were busier than this on average (percent of the threads).
pub const GENERATOR_BUSY_LIMIT: f64 = 90.0;
/// Latency rises through a step when its median grows, over the window, by more than the system's
/// median at rest (the lowest of the search's steps so far), and by at least this many
/// milliseconds.
pub const RISE_FLOOR_MS: f64 = 5.0;

/// One second of a step's window, from the run's live figures.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Second {
    /// Time since the start of the search, s.
    pub at_s: f64,
    /// Requests per second.
    pub rps: f64,
    /// Median response time, ms.
    pub p50_ms: f64,
    /// 99th percentile of the corrected latency, ms.
    pub p99_corrected_ms: f64,
    /// The generator's busy share of its worker threads, percent (when measured).
    pub busy: Option<f64>,
}

/// Latency figures of a step, ms.
#[derive(Debug, Clone, Copy, Default, PartialEq, Serialize)]
pub struct Latency {
    /// Median.
    pub p50: f64,
    /// 95th percentile.
    pub p95: f64,
    /// 99th percentile.
    pub p99: f64,
    /// Mean.
    pub mean: f64,
    /// 99th percentile of the corrected latency (from the intended start).
    pub p99_corrected: f64,
}

/// What a step's window measured.
#[derive(Debug, Clone, Default, Serialize)]
pub struct StepFigures {
    /// The offered load: arrivals a second (open) or users (closed).
    pub offered: f64,
    /// Length of the measured window (after warm-up), s.
    pub window_s: f64,
    /// Achieved throughput: completed arrivals a second (open) or responses a second (closed).
    pub achieved: f64,
    /// Arrivals (open model) or iterations started a second: what the generator managed to start.
    pub started_per_s: f64,
    /// Requests sent a second.
    pub requests_per_s: f64,
    /// Responses received a second.
    pub responses_per_s: f64,
    /// Requests sent in the window.
    pub requests: u64,
    /// Failed requests in the window (errors of every kind, responses with an unexpected status).
    pub failed: u64,
    /// `failed / requests × 100` (0 without requests).
    pub failed_percent: f64,
    /// Response times (issued → last byte).
    pub latency: Latency,
    /// Mean concurrency: the users (closed model), or by Little's law the completed arrivals a
    /// second × their mean session length (open model).
    pub concurrency: f64,
    /// Schedule-lag median of the window, ms: how late the generator started arrivals.
    pub generator_lag_p50_ms: f64,
    /// Schedule-lag p99 of the window, ms.
    pub generator_lag_p99_ms: f64,
    /// Mean busy share of the generator's worker threads over the window, percent.
    pub generator_busy: Option<f64>,
    /// The window's seconds.
    pub seconds: Vec<Second>,
    /// The SLO's checks on the window.
    pub checks: Vec<hornet_verdict::Check>,
    /// The window's histograms (µs, base64 V2+DEFLATE, as in the report): response time,
    /// corrected latency, schedule lag, ...
    pub histograms: BTreeMap<String, String>,
}

impl StepFigures {
    /// The figures of a step at `offered` whose window's report is `report` (its statistics reset
    /// at the window's start), `window_s` long, with its `seconds`, under `slo`.
    pub fn from_report(
        model: Model,
        offered: f64,
        report: &Report,
        window_s: f64,
        seconds: Vec<Second>,
        slo: &Slo,
    ) -> StepFigures {
        let per_s = |n: u64| if window_s > 0.0 { n as f64 / window_s } else { 0.0 };
        let requests = report.counter("http.requests");
        let failed = report.failures();
        let rt = report.summary(RESPONSE_TIME).copied().unwrap_or_default();
        let corrected = report.summary(RESPONSE_TIME_CORRECTED).copied().unwrap_or(rt);
        let completed = per_s(report.counter("vusers.completed"));
        let achieved = match model {
            Model::Open => completed,
            Model::Closed => per_s(report.counter("http.responses")),
        };
        let concurrency = match model {
            Model::Closed => offered,
            Model::Open => {
                let session = report.summary("vusers.session_length").map_or(0.0, |s| s.mean);
                completed * session / 1000.0
            }
        };
        let mut figures = report.clone();
        figures.aggregate.counters.insert(FAILED_REQUESTS.to_owned(), failed);
        let checks = hornet_verdict::evaluate(&slo.checks, &figures).checks;
        let busy: Vec<f64> = seconds.iter().filter_map(|s| s.busy).collect();
        StepFigures {
            offered,
            window_s,
            achieved,
            started_per_s: per_s(report.counter("vusers.created")),
            requests_per_s: per_s(requests),
            responses_per_s: per_s(report.counter("http.responses")),
            requests,
            failed,
            failed_percent: if requests == 0 { 0.0 } else { failed as f64 * 100.0 / requests as f64 },
            latency: Latency {
                p50: rt.p50,
                p95: rt.p95,
                p99: rt.p99,
                mean: rt.mean,
                p99_corrected: corrected.p99,
            },
            concurrency,
            generator_lag_p50_ms: report.summary("schedule.lag").map_or(0.0, |s| s.p50),
            generator_lag_p99_ms: report.summary("schedule.lag").map_or(0.0, |s| s.p99),
            generator_busy: (!busy.is_empty()).then(|| busy.iter().sum::<f64>() / busy.len() as f64),
            seconds,
            checks,
            histograms: report.aggregate.histograms.clone(),
        }
    }
}

/// How a step ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Every rule held.
    Pass,
    /// The system is past its capacity at this load (the reasons say which rule).
    Breach,
    /// The generator was the bottleneck: the step says nothing about the system.
    Invalid,
}

/// A step's verdict and why.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Judgement {
    /// Pass, breach or invalid.
    pub verdict: Verdict,
    /// One sentence per rule that did not hold.
    pub reasons: Vec<String>,
}

/// The median of `values` (0 for none).
fn median(values: &mut [f64]) -> f64 {
    if values.is_empty() {
        return 0.0;
    }
    values.sort_by(f64::total_cmp);
    let mid = values.len() / 2;
    if values.len() % 2 == 1 { values[mid] } else { (values[mid - 1] + values[mid]) / 2.0 }
}

/// The Theil–Sen slope of `(x, y)` points: the median of the slopes between every pair, which a
/// few outlying seconds do not move.
fn theil_sen(points: &[(f64, f64)]) -> f64 {
    let mut slopes = Vec::with_capacity(points.len() * points.len() / 2);
    for (i, a) in points.iter().enumerate() {
        for b in &points[i + 1..] {
            if b.0 != a.0 {
                slopes.push((b.1 - a.1) / (b.0 - a.0));
            }
        }
    }
    median(&mut slopes)
}

/// `Some(description)` when the window's median latency rises through it — its Theil–Sen slope
/// times the window's span — by more than the latency at rest (`rest_ms`, the lowest median of the
/// search's steps so far; the median of the window's first third when it is lower or unknown),
/// and by at least [`RISE_FLOOR_MS`]: requests are queueing faster than they are served, even if
/// the window's percentiles still meet the objective. Seconds without requests are left out; fewer
/// than 3 seconds cannot show a trend.
pub fn latency_rise(seconds: &[Second], rest_ms: Option<f64>) -> Option<String> {
    let points: Vec<(f64, f64)> =
        seconds.iter().filter(|s| s.rps > 0.0).map(|s| (s.at_s, s.p50_ms)).collect();
    if points.len() < 3 {
        return None;
    }
    let third = points.len().div_ceil(3);
    let first = median(&mut points[..third].iter().map(|p| p.1).collect::<Vec<_>>());
    let rest = rest_ms.map_or(first, |r| r.min(first));
    let span = points[points.len() - 1].0 - points[0].0;
    let rise = theil_sen(&points) * span;
    (rise >= rest.max(RISE_FLOOR_MS)).then(|| {
        format!(
            "latency rose through the step: its median grew by about {rise:.0} ms in {span:.0} s (from {first:.1} ms), more than the {rest:.1} ms of the system at rest"
        )
    })
}

/// Whether `per_s` (arrivals started or completed a second) fell below `share` of the offered
/// arrivals in the window, by more than the one arrival a window's edges account for.
fn short_of(f: &StepFigures, per_s: f64, share: f64) -> bool {
    per_s * f.window_s + 1.0 < f.offered * f.window_s * share
}

/// Judges a step. `best_fewer_users` is, in the closed model, the highest throughput of a step
/// with fewer users that passed; `rest_ms` the lowest median latency of the search's steps so far
/// (see [`latency_rise`]). The generator's saturation is checked first: when it is saturated the
/// step is [`Verdict::Invalid`] whatever else held.
pub fn judge(
    model: Model,
    f: &StepFigures,
    best_fewer_users: Option<f64>,
    rest_ms: Option<f64>,
) -> Judgement {
    let mut invalid = Vec::new();
    if model == Model::Open && short_of(f, f.started_per_s, GENERATOR_MIN_STARTED_SHARE) {
        invalid.push(format!(
            "the generator started only {:.1} arrivals/s of the {:.1} offered (schedule lag p99 {:.1} ms)",
            f.started_per_s, f.offered, f.generator_lag_p99_ms
        ));
    }
    if f.generator_lag_p50_ms > GENERATOR_LAG_LIMIT_MS {
        invalid.push(format!(
            "the generator started arrivals late: schedule lag median {:.1} ms (limit {GENERATOR_LAG_LIMIT_MS} ms)",
            f.generator_lag_p50_ms
        ));
    }
    if let Some(busy) = f.generator_busy.filter(|&b| b > GENERATOR_BUSY_LIMIT) {
        invalid.push(format!("the generator's threads were {busy:.0}% busy (limit {GENERATOR_BUSY_LIMIT}%)"));
    }
    if !invalid.is_empty() {
        return Judgement { verdict: Verdict::Invalid, reasons: invalid };
    }
    let mut reasons: Vec<String> = f
        .checks
        .iter()
        .filter(|c| c.strict && !c.ok)
        .map(|c| format!("SLO failed: {} ({})", c.name, c.detail))
        .collect();
    match model {
        Model::Open if short_of(f, f.achieved, MIN_ACHIEVED_SHARE) => reasons.push(format!(
            "achieved {:.1}/s is below {:.0}% of the offered {:.1}/s",
            f.achieved,
            MIN_ACHIEVED_SHARE * 100.0,
            f.offered
        )),
        Model::Closed => {
            if let Some(best) = best_fewer_users.filter(|&b| f.achieved < b * MIN_RETROGRADE_SHARE) {
                reasons.push(format!(
                    "throughput fell with more users: {:.1}/s, below {:.0}% of the {best:.1}/s of fewer users",
                    f.achieved,
                    MIN_RETROGRADE_SHARE * 100.0
                ));
            }
        }
        Model::Open => {}
    }
    reasons.extend(latency_rise(&f.seconds, rest_ms));
    let verdict = if reasons.is_empty() { Verdict::Pass } else { Verdict::Breach };
    Judgement { verdict, reasons }
}

#[cfg(test)]
mod tests {
    use super::*;
    use hornet_verdict::Check;

    fn seconds(p50: &[f64]) -> Vec<Second> {
        p50.iter()
            .enumerate()
            .map(|(i, &p)| Second { at_s: i as f64, rps: 100.0, p50_ms: p, ..Second::default() })
            .collect()
    }

    fn passing(offered: f64) -> StepFigures {
        StepFigures {
            offered,
            window_s: 10.0,
            achieved: offered,
            started_per_s: offered,
            seconds: seconds(&[20.0; 10]),
            checks: vec![Check { name: "p95".into(), ok: true, strict: true, detail: String::new() }],
            ..StepFigures::default()
        }
    }

    #[test]
    fn a_step_within_every_rule_passes() {
        let j = judge(Model::Open, &passing(100.0), None, None);
        assert_eq!((j.verdict, j.reasons.len()), (Verdict::Pass, 0));
    }

    #[test]
    fn an_slo_failure_breaches_and_says_which() {
        let mut f = passing(100.0);
        f.checks[0] = Check {
            name: "http.response_time.p95 < 300".into(),
            ok: false,
            strict: true,
            detail: "http.response_time.p95 was 412".into(),
        };
        let j = judge(Model::Open, &f, None, None);
        assert_eq!(j.verdict, Verdict::Breach);
        assert_eq!(j.reasons, ["SLO failed: http.response_time.p95 < 300 (http.response_time.p95 was 412)"]);
    }

    #[test]
    fn falling_behind_the_offered_rate_breaches() {
        let mut f = passing(200.0);
        f.achieved = 189.0;
        assert_eq!(judge(Model::Open, &f, None, None).verdict, Verdict::Breach);
        f.achieved = 191.0;
        assert_eq!(judge(Model::Open, &f, None, None).verdict, Verdict::Pass, "95.5% keeps up");
        // The closed model has no offered rate; it breaches when throughput falls with more users.
        f.achieved = 150.0;
        assert_eq!(judge(Model::Closed, &f, None, None).verdict, Verdict::Pass);
        assert_eq!(judge(Model::Closed, &f, Some(170.0), None).verdict, Verdict::Breach);
        assert_eq!(judge(Model::Closed, &f, Some(155.0), None).verdict, Verdict::Pass);
    }

    #[test]
    fn latency_rising_through_the_step_breaches_even_when_the_slo_holds() {
        let mut f = passing(100.0);
        f.seconds = seconds(&[20.0, 22.0, 25.0, 31.0, 38.0, 45.0, 52.0, 60.0, 66.0]);
        let j = judge(Model::Open, &f, None, None);
        assert_eq!(j.verdict, Verdict::Breach);
        assert!(
            j.reasons[0].starts_with("latency rose through the step: its median grew by about"),
            "{:?}",
            j.reasons
        );
        // A queue already long when the window starts, still growing 27 ms a second (measured 2.8%
        // over the capacity): small against where it started, large against the latency at rest.
        let queued = seconds(&[148.0, 174.8, 202.2, 229.8]);
        assert!(latency_rise(&queued, Some(20.6)).is_some());
        assert_eq!(latency_rise(&queued, None), None, "without a rest figure, 81 ms on 161 ms is not enough");
        // Noise around a level, one slow second at the end, a rise under the floor, too few seconds.
        assert_eq!(latency_rise(&seconds(&[20.0, 35.0, 19.0, 21.0, 34.0, 20.0]), Some(20.0)), None);
        assert_eq!(latency_rise(&seconds(&[20.7, 24.0, 21.2, 36.4]), Some(20.6)), None);
        assert_eq!(
            latency_rise(&seconds(&[1.0, 1.0, 1.0, 2.5, 2.5, 2.5]), Some(1.0)),
            None,
            "under the 5 ms floor"
        );
        assert_eq!(latency_rise(&seconds(&[10.0, 80.0]), None), None);
        // A queue draining is no breach.
        assert_eq!(
            latency_rise(&seconds(&[31.3, 268.5, 187.3, 112.7, 40.3, 41.1, 22.7, 21.1]), Some(20.6)),
            None
        );
        // Seconds without requests are no evidence either way.
        let mut quiet = seconds(&[10.0, 0.0, 0.0, 11.0, 10.0]);
        quiet[1].rps = 0.0;
        quiet[2].rps = 0.0;
        assert_eq!(latency_rise(&quiet, None), None);
    }

    #[test]
    fn a_saturated_generator_makes_the_step_invalid_whatever_else_held() {
        // Arrivals not started on time: fewer started than offered.
        let mut f = passing(100.0);
        f.started_per_s = 90.0;
        f.generator_lag_p99_ms = 900.0;
        f.achieved = 10.0;
        let j = judge(Model::Open, &f, None, None);
        assert_eq!(j.verdict, Verdict::Invalid);
        assert_eq!(
            j.reasons,
            ["the generator started only 90.0 arrivals/s of the 100.0 offered (schedule lag p99 900.0 ms)"]
        );
        // Late as a rule.
        let mut f = passing(100.0);
        f.generator_lag_p50_ms = 60.0;
        assert!(judge(Model::Open, &f, None, None).reasons[0].contains("schedule lag median 60.0 ms"));
        // Busy threads.
        let mut f = passing(100.0);
        f.generator_busy = Some(97.0);
        assert_eq!(judge(Model::Open, &f, None, None).verdict, Verdict::Invalid);
        // A passing stall of the machine (a high p99, the rate kept) and a moderately busy generator
        // are not saturation; the closed model has no arrival rate to fall short of.
        f.generator_busy = Some(60.0);
        f.generator_lag_p99_ms = 120.0;
        f.started_per_s = 97.0;
        assert_eq!(judge(Model::Open, &f, None, None).verdict, Verdict::Pass);
        f.started_per_s = 3.0;
        assert_eq!(judge(Model::Closed, &f, None, None).verdict, Verdict::Pass);
        // At 5 arrivals/s a 2.13 s window holds 10 or 11 arrivals of a uniform schedule: 10 is
        // the window's edge, 9 is one arrival missing beyond it.
        let mut low = passing(5.0);
        low.window_s = 2.13;
        for (started, verdict) in [(11.0, Verdict::Pass), (10.0, Verdict::Pass), (9.0, Verdict::Invalid)] {
            low.started_per_s = started / low.window_s;
            low.achieved = low.started_per_s;
            assert_eq!(judge(Model::Open, &low, None, None).verdict, verdict, "{started} started");
        }
    }
}
