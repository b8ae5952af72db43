//! What a search found, as one serializable document ([`Capacity`], written by `-o` as
//! `"hornet-capacity/1"` JSON): every step with its figures, histograms and verdict, the outcome,
//! the maximum sustainable load, the knee, the recommended operating point, the Universal
//! Scalability Law fit, and a `phases:` block for a soak test at the operating point. Also the
//! text forms: the live table's header and rows ([`table_header`], [`table_row`]) and the final
//! summary ([`Capacity::summary`]).

use std::fmt::Write as _;

use serde::Serialize;

use crate::search::{Outcome, Stage};
use crate::step::{Judgement, Model, StepFigures, Verdict};
use crate::usl::{self, UslFit};

/// The schema identifier of the JSON document.
pub const SCHEMA: &str = "hornet-capacity/1";
/// The recommended operating point is this share of the maximum sustainable load.
pub const OPERATING_SHARE: f64 = 0.8;
/// The knee is the highest passing load whose p99 stays within this many times that of the
/// lightest step.
pub const KNEE_FACTOR: f64 = 2.0;
/// Length of the soak test in the suggested `phases:` block, s.
pub const SOAK_SECONDS: u64 = 3600;
/// Length of its ramp up, s.
pub const RAMP_SECONDS: u64 = 60;

/// One step of the search.
#[derive(Debug, Clone, Serialize)]
pub struct Step {
    /// 1, 2, ... in the order run.
    pub index: usize,
    /// What the step was for.
    pub stage: Stage,
    /// When its window started, s since the start of the search.
    pub started_s: f64,
    /// What its window measured.
    #[serde(flatten)]
    pub figures: StepFigures,
    /// Its verdict and the reasons.
    #[serde(flatten)]
    pub judgement: Judgement,
}

/// The search's settings, as used.
#[derive(Debug, Clone, Serialize)]
pub struct SettingsReport {
    /// The first load offered.
    pub start: f64,
    /// The most load offered.
    pub max: f64,
    /// Measured window of each step, s.
    pub step_s: f64,
    /// Warm-up before each window, s.
    pub warmup_s: f64,
    /// Bisection precision (0.05 for 5%).
    pub precision: f64,
    /// Verification hold, s (0: none).
    pub hold_s: f64,
    /// The generator's worker threads.
    pub threads: usize,
}

/// The whole result of a capacity search (see the module doc).
#[derive(Debug, Clone, Serialize)]
pub struct Capacity {
    /// Always [`SCHEMA`].
    pub schema: &'static str,
    /// hornet's version.
    pub hornet_version: String,
    /// The command line (secrets redacted).
    pub command: String,
    /// The script, when read from a file.
    pub script: Option<String>,
    /// The target.
    pub target: Option<String>,
    /// Start of the search, RFC 3339.
    pub started_at: String,
    /// Open (arrival rate) or closed (users).
    pub model: Model,
    /// Unit of the offered load.
    pub unit: &'static str,
    /// Unit of the achieved throughput.
    pub throughput_unit: &'static str,
    /// The objective, item by item.
    pub slo: Vec<String>,
    /// The settings.
    pub settings: SettingsReport,
    /// Every step, in order.
    pub steps: Vec<Step>,
    /// How the search ended; `None` when it was interrupted.
    pub outcome: Option<Outcome>,
    /// Stopped by a signal before it ended.
    pub interrupted: bool,
    /// What the steps and the outcome give (filled in by [`Capacity::conclude`]).
    #[serde(flatten)]
    pub conclusion: Conclusion,
}

/// The figures a search's steps and outcome give.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Conclusion {
    /// The maximum sustainable load (offered), when found.
    pub max_sustainable: Option<f64>,
    /// The throughput achieved at it.
    pub max_throughput: Option<f64>,
    /// The knee: the highest passing load with p99 within [`KNEE_FACTOR`] × the lightest step's.
    pub knee: Option<f64>,
    /// The recommended operating point: [`OPERATING_SHARE`] of the maximum.
    pub recommended: Option<f64>,
    /// The Universal Scalability Law fitted over the valid steps (concurrency, throughput).
    pub usl: Option<UslFit>,
    /// A `phases:` block for a soak test at the recommended operating point.
    pub phases: Option<String>,
}

impl std::ops::Deref for Capacity {
    type Target = Conclusion;

    fn deref(&self) -> &Conclusion {
        &self.conclusion
    }
}

impl Capacity {
    /// Fills in the figures derived from the steps and the outcome: maximum, knee, operating
    /// point, USL fit, `phases:` block.
    pub fn conclude(&mut self) {
        let found = match self.outcome {
            Some(Outcome::Found { load, .. }) => Some(load),
            _ => None,
        };
        let c = &mut self.conclusion;
        c.max_sustainable = found;
        c.max_throughput = found.and_then(|load| {
            self.steps
                .iter()
                .filter(|s| s.figures.offered == load && s.judgement.verdict == Verdict::Pass)
                .map(|s| s.figures.achieved)
                .next_back()
        });
        c.knee = found.and_then(|max| knee(&self.steps, max));
        c.recommended = found.map(|max| operating_point(self.model, max));
        let points: Vec<(f64, f64)> = self
            .steps
            .iter()
            .filter(|s| s.judgement.verdict != Verdict::Invalid)
            .map(|s| (s.figures.concurrency, s.figures.achieved))
            .collect();
        c.usl = usl::fit(&points);
        c.phases = c.recommended.map(|r| phases_block(self.model, r));
    }

    /// The exit code: 0 found, 1 the SLO fails at the start (or no hold passed), 3 the generator
    /// was the bottleneck; an interrupted search gives `None` (the signal's code applies).
    pub fn exit_code(&self) -> Option<i32> {
        match self.outcome? {
            Outcome::Found { verified: false, step_downs, .. } if step_downs > 0 => Some(1),
            Outcome::Found { .. } => Some(0),
            Outcome::FailsAtStart => Some(1),
            Outcome::GeneratorBottleneck { .. } => Some(crate::EXIT_GENERATOR_BOTTLENECK),
        }
    }

    /// The final summary, as printed after the table.
    pub fn summary(&self) -> String {
        let mut out = String::new();
        let unit = self.unit;
        let _ = writeln!(out, "objective: {}", self.slo.join(", "));
        match self.outcome {
            None => {
                let _ = writeln!(out, "interrupted: the search did not finish");
            }
            Some(Outcome::FailsAtStart) => {
                let start = self.steps.first().map_or(self.settings.start, |s| s.figures.offered);
                let _ = writeln!(
                    out,
                    "the objective fails already at the start load, {} {unit}: lower --start",
                    load(self.model, start)
                );
                if let Some(s) = self.steps.first() {
                    for r in &s.judgement.reasons {
                        let _ = writeln!(out, "  {r}");
                    }
                }
            }
            Some(Outcome::GeneratorBottleneck { load: at }) => {
                let _ = writeln!(
                    out,
                    "INVALID: the load generator was the bottleneck at {} {unit}, not the system under test",
                    load(self.model, at)
                );
                if let Some(s) = self.steps.last() {
                    for r in &s.judgement.reasons {
                        let _ = writeln!(out, "  {r}");
                    }
                }
                let below = self
                    .steps
                    .iter()
                    .filter(|s| s.judgement.verdict == Verdict::Pass)
                    .map(|s| s.figures.offered)
                    .fold(None, |m: Option<f64>, v| Some(m.map_or(v, |m| m.max(v))));
                if let Some(b) = below {
                    let _ = writeln!(
                        out,
                        "the system held every load up to {} {unit} that was measured",
                        load(self.model, b)
                    );
                }
                let _ = writeln!(
                    out,
                    "give the generator more CPU (--threads, a quieter machine, or a distributed run) and search again"
                );
            }
            Some(Outcome::Found { load: max, verified, step_downs, reached_max }) => {
                let at_least = if reached_max { "at least " } else { "" };
                let through = self
                    .max_throughput
                    .map(|x| format!(" ({x:.1} {})", self.throughput_unit))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "maximum sustainable load: {at_least}{} {unit}{through}",
                    load(self.model, max)
                );
                if reached_max {
                    let _ = writeln!(out, "  no step breached up to --max; raise it to find the limit");
                }
                match (verified, step_downs) {
                    (true, 0) => {
                        let _ = writeln!(out, "  verified: held for {:.0} s", self.settings.hold_s);
                    }
                    (true, n) => {
                        let _ = writeln!(
                            out,
                            "  verified after stepping down {n} time(s): the hold breached at the higher load"
                        );
                    }
                    (false, 0) => {
                        let _ = writeln!(out, "  not verified (no hold)");
                    }
                    (false, _) => {
                        let _ =
                            writeln!(out, "  NOT verified: every hold breached, even after stepping down");
                    }
                }
                if let Some(k) = self.knee {
                    let _ = writeln!(
                        out,
                        "knee: {} {unit} (p99 within {KNEE_FACTOR}× that of the lightest step)",
                        load(self.model, k)
                    );
                }
                if let Some(r) = self.recommended {
                    let _ = writeln!(
                        out,
                        "recommended operating point: {} {unit} ({:.0}% of the maximum)",
                        load(self.model, r),
                        OPERATING_SHARE * 100.0
                    );
                }
            }
        }
        match &self.usl {
            Some(f) => {
                let _ = write!(
                    out,
                    "USL fit over {} steps: σ = {:.4}, κ = {:.6}, λ = {:.2}/s, R² = {:.3}",
                    f.points, f.sigma, f.kappa, f.lambda, f.r_squared
                );
                match (f.peak_concurrency, f.peak_throughput) {
                    (Some(n), Some(x)) => {
                        let _ = writeln!(out, "; peak {x:.1} {} at concurrency {n:.1}", self.throughput_unit);
                    }
                    (None, Some(x)) => {
                        let _ = writeln!(
                            out,
                            "; no retrograde region in the tested range, ceiling {x:.1} {}",
                            self.throughput_unit
                        );
                    }
                    _ => {
                        let _ = writeln!(out, "; throughput grows linearly in the tested range");
                    }
                }
            }
            None => {
                let _ = writeln!(out, "USL fit: not enough distinct steps (needs {})", usl::MIN_POINTS);
            }
        }
        if let Some(p) = &self.phases {
            let _ = writeln!(out, "\nfor a soak test at the operating point, paste into config:\n{p}");
        }
        out
    }
}

/// A load for display: whole users, or a rate with one decimal.
pub fn load(model: Model, v: f64) -> String {
    match model {
        Model::Closed => format!("{v:.0}"),
        Model::Open => format!("{v:.1}"),
    }
}

/// [`OPERATING_SHARE`] of `max` (whole users, at least one, in the closed model).
pub fn operating_point(model: Model, max: f64) -> f64 {
    let r = max * OPERATING_SHARE;
    match model {
        Model::Closed => r.floor().max(1.0),
        Model::Open => (r * 10.0).round() / 10.0,
    }
}

/// The knee at or below `max` (see [`KNEE_FACTOR`]).
pub fn knee(steps: &[Step], max: f64) -> Option<f64> {
    let mut passed: Vec<&Step> = steps
        .iter()
        .filter(|s| {
            s.judgement.verdict == Verdict::Pass && s.figures.offered <= max && s.figures.latency.p99 > 0.0
        })
        .collect();
    passed.sort_by(|a, b| a.figures.offered.total_cmp(&b.figures.offered));
    let base = passed.first()?.figures.latency.p99;
    passed
        .iter()
        .take_while(|s| s.figures.latency.p99 <= base * KNEE_FACTOR)
        .map(|s| s.figures.offered)
        .last()
}

/// A `phases:` block for a soak test at `load` (the recommended operating point).
pub fn phases_block(model: Model, load: f64) -> String {
    let minutes = SOAK_SECONDS / 60;
    match model {
        Model::Open => {
            let rate = if load >= 10.0 { format!("{load:.0}") } else { format!("{load:.1}") };
            format!(
                "  phases:\n    - name: ramp up to the operating point\n      duration: {RAMP_SECONDS}\n      arrivalRate: 1\n      rampTo: {rate}\n    - name: soak at {:.0}% of capacity ({minutes} min)\n      duration: {SOAK_SECONDS}\n      arrivalRate: {rate}\n",
                OPERATING_SHARE * 100.0
            )
        }
        Model::Closed => format!(
            "  phases:\n    - name: ramp up to the operating point\n      duration: {RAMP_SECONDS}\n      rampUsers: {load:.0}\n    - name: soak at {:.0}% of capacity ({minutes} min)\n      duration: {SOAK_SECONDS}\n      users: {load:.0}\n",
            OPERATING_SHARE * 100.0
        ),
    }
}

/// The live table's header.
pub fn table_header(model: Model) -> String {
    format!(
        "{:>4}  {:<7} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7}  verdict\n{:>4}  {:<7} {:>10} {:>10} {:>9} {:>9} {:>9} {:>7}",
        "step",
        "stage",
        "offered",
        "achieved",
        "p50",
        "p95",
        "p99",
        "errors",
        "",
        "",
        model.unit(),
        model.throughput_unit(),
        "ms",
        "ms",
        "ms",
        "%"
    )
}

/// One row of the live table.
pub fn table_row(model: Model, s: &Step) -> String {
    let f = &s.figures;
    let stage = match s.stage {
        Stage::Grow => "grow",
        Stage::Bisect => "bisect",
        Stage::Hold => "hold",
    };
    let verdict = match s.judgement.verdict {
        Verdict::Pass => "pass".to_owned(),
        Verdict::Breach => format!("BREACH: {}", s.judgement.reasons.join("; ")),
        Verdict::Invalid => format!("INVALID: {}", s.judgement.reasons.join("; ")),
    };
    format!(
        "{:>4}  {:<7} {:>10} {:>10.1} {:>9.1} {:>9.1} {:>9.1} {:>7.2}  {verdict}",
        s.index,
        stage,
        load(model, f.offered),
        f.achieved,
        f.latency.p50,
        f.latency.p95,
        f.latency.p99,
        f.failed_percent
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::step::Latency;

    fn step(index: usize, offered: f64, p99: f64, verdict: Verdict) -> Step {
        Step {
            index,
            stage: Stage::Grow,
            started_s: 0.0,
            figures: StepFigures {
                offered,
                achieved: offered,
                concurrency: offered / 50.0,
                latency: Latency { p50: p99 / 2.0, p95: p99, p99, ..Latency::default() },
                ..StepFigures::default()
            },
            judgement: Judgement { verdict, reasons: vec![] },
        }
    }

    #[test]
    fn the_knee_is_where_p99_doubles() {
        let steps = [
            step(1, 10.0, 20.0, Verdict::Pass),
            step(2, 15.0, 21.0, Verdict::Pass),
            step(3, 22.5, 35.0, Verdict::Pass),
            step(4, 33.75, 55.0, Verdict::Pass),
            step(5, 50.0, 900.0, Verdict::Breach),
        ];
        assert_eq!(knee(&steps, 33.75), Some(22.5));
        assert_eq!(knee(&steps, 15.0), Some(15.0));
        assert_eq!(knee(&[step(1, 10.0, 20.0, Verdict::Breach)], 10.0), None);
    }

    #[test]
    fn operating_point_and_phases_block() {
        assert_eq!(operating_point(Model::Open, 197.3), 157.8);
        assert_eq!(operating_point(Model::Closed, 19.0), 15.0);
        assert_eq!(operating_point(Model::Closed, 1.0), 1.0);
        let open = phases_block(Model::Open, 157.8);
        assert!(open.contains("rampTo: 158\n") && open.contains("      arrivalRate: 158\n"), "{open}");
        let closed = phases_block(Model::Closed, 15.0);
        assert!(closed.contains("      users: 15\n") && closed.contains("rampUsers: 15"), "{closed}");
    }

    #[test]
    fn exit_codes_follow_the_outcome() {
        let mut c = Capacity {
            schema: SCHEMA,
            hornet_version: String::new(),
            command: String::new(),
            script: None,
            target: None,
            started_at: String::new(),
            model: Model::Open,
            unit: "arrivals/s",
            throughput_unit: "completed/s",
            slo: vec![],
            settings: SettingsReport {
                start: 10.0,
                max: 100.0,
                step_s: 1.0,
                warmup_s: 1.0,
                precision: 0.05,
                hold_s: 0.0,
                threads: 1,
            },
            steps: vec![],
            outcome: None,
            interrupted: true,
            conclusion: Conclusion::default(),
        };
        assert_eq!(c.exit_code(), None);
        c.outcome = Some(Outcome::Found { load: 5.0, verified: true, step_downs: 1, reached_max: false });
        assert_eq!(c.exit_code(), Some(0));
        c.outcome = Some(Outcome::Found { load: 5.0, verified: false, step_downs: 3, reached_max: false });
        assert_eq!(c.exit_code(), Some(1));
        c.outcome = Some(Outcome::FailsAtStart);
        assert_eq!(c.exit_code(), Some(1));
        c.outcome = Some(Outcome::GeneratorBottleneck { load: 5.0 });
        assert_eq!(c.exit_code(), Some(3));
        c.conclude();
        let summary = c.summary();
        assert!(
            summary.contains("INVALID: the load generator was the bottleneck at 5.0 arrivals/s"),
            "{summary}"
        );
        assert!(c.max_sustainable.is_none() && c.phases.is_none());
    }
}
