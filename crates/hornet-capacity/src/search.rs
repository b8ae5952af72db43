//! The search itself, as a state machine fed with each step's verdict ([`Search::next`] says
//! what to offer next, [`Search::record`] takes the verdict):
//!
//! 1. **Grow**: from `start`, each step offers [`GROWTH`] times the last (in the closed model at
//!    least one user more), up to `max`, until a step breaches.
//! 2. **Bisect** between the highest load that passed and the lowest that breached, until they
//!    are within `precision` of each other (in the closed model, one user apart), at most
//!    [`MAX_BISECTIONS`] steps.
//! 3. **Hold** the highest passing load for the verification hold; if it breaches there, step
//!    down by the precision (at least [`MIN_STEP_DOWN`]) and hold again, at most
//!    [`MAX_STEP_DOWNS`] times.
//!
//! A breach at the very first step ends the search ([`Outcome::FailsAtStart`]), and so does an
//! invalid step ([`Outcome::GeneratorBottleneck`]). Reaching `max` without a breach holds `max`.

use serde::Serialize;

use crate::step::{Model, Verdict};

/// Each growth step offers this many times the previous load.
pub const GROWTH: f64 = 1.5;
/// Most bisection steps.
pub const MAX_BISECTIONS: u32 = 12;
/// Most times the hold steps down.
pub const MAX_STEP_DOWNS: u32 = 3;
/// A failed hold steps down by the precision, and at least by this share of the load.
pub const MIN_STEP_DOWN: f64 = 0.01;

/// What a step is for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Stage {
    /// Growing geometrically.
    Grow,
    /// Bisecting between the last pass and the first breach.
    Bisect,
    /// Holding the found load to verify it.
    Hold,
}

/// How a search ended.
#[derive(Debug, Clone, Copy, PartialEq, Serialize)]
#[serde(tag = "status", rename_all = "kebab-case")]
pub enum Outcome {
    /// The highest load that held, verified by the hold unless `verified` is false (no hold
    /// asked for, or every step down failed too).
    Found {
        /// The maximum sustainable load.
        load: f64,
        /// The hold passed at `load`.
        verified: bool,
        /// Times the hold stepped down before one passed.
        step_downs: u32,
        /// No step breached up to `max`: the capacity is at least `load`.
        reached_max: bool,
    },
    /// The very first step breached: the objective fails even at the start load.
    FailsAtStart,
    /// The generator saturated: no conclusion about the system.
    GeneratorBottleneck {
        /// The load at which it saturated.
        load: f64,
    },
}

/// Settings of a search.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Settings {
    /// Open (rates) or closed (users).
    pub model: Model,
    /// The first load offered.
    pub start: f64,
    /// The most load offered.
    pub max: f64,
    /// Bisection ends when the bounds are within this share of the lower one (0.05 for 5%).
    pub precision: f64,
    /// Verify the found load with a hold.
    pub hold: bool,
}

/// A capacity search (see the module doc).
#[derive(Debug, Clone)]
pub struct Search {
    settings: Settings,
    stage: Stage,
    next: Option<f64>,
    /// The highest load that passed (in grow and bisect).
    passed: Option<f64>,
    /// The lowest load that breached.
    breached: Option<f64>,
    bisections: u32,
    step_downs: u32,
    reached_max: bool,
    outcome: Option<Outcome>,
}

impl Search {
    /// A search starting at `settings.start` (clamped to `max`; whole users in the closed model).
    pub fn new(settings: Settings) -> Search {
        let start = settings.start.min(settings.max);
        let start = match settings.model {
            Model::Closed => start.round().max(1.0),
            Model::Open => start,
        };
        Search {
            settings,
            stage: Stage::Grow,
            next: Some(start),
            passed: None,
            breached: None,
            bisections: 0,
            step_downs: 0,
            reached_max: false,
            outcome: None,
        }
    }

    /// The next load to offer and what for; `None` once the search has ended.
    pub fn next(&self) -> Option<(f64, Stage)> {
        self.next.map(|load| (load, self.stage))
    }

    /// How the search ended, once it has.
    pub fn outcome(&self) -> Option<Outcome> {
        self.outcome
    }

    /// The highest load that passed in grow and bisect steps, and the lowest that breached.
    pub fn bounds(&self) -> (Option<f64>, Option<f64>) {
        (self.passed, self.breached)
    }

    fn closed(&self) -> bool {
        self.settings.model == Model::Closed
    }

    /// The load `GROWTH` times `load` (at least one user more in the closed model), at most `max`.
    fn grown(&self, load: f64) -> f64 {
        let next = if self.closed() { (load * GROWTH).round().max(load + 1.0) } else { load * GROWTH };
        next.min(self.settings.max)
    }

    /// True when the bounds are as close as the precision asks (one user apart at most).
    fn narrow(&self, low: f64, high: f64) -> bool {
        (high - low) <= low * self.settings.precision || (self.closed() && high - low <= 1.0)
    }

    /// The middle of the bounds (a whole number of users strictly between them in the closed model).
    fn middle(&self, low: f64, high: f64) -> f64 {
        let mid = (low + high) / 2.0;
        if self.closed() { mid.round().clamp(low + 1.0, high - 1.0) } else { mid }
    }

    fn hold_or_end(&mut self, load: f64) {
        if self.settings.hold {
            self.stage = Stage::Hold;
            self.next = Some(load);
        } else {
            self.finish(Outcome::Found {
                load,
                verified: false,
                step_downs: 0,
                reached_max: self.reached_max,
            });
        }
    }

    fn finish(&mut self, outcome: Outcome) {
        self.outcome = Some(outcome);
        self.next = None;
    }

    fn bisect_or_hold(&mut self, low: f64, high: f64) {
        if self.narrow(low, high) || self.bisections >= MAX_BISECTIONS {
            self.hold_or_end(low);
        } else {
            self.stage = Stage::Bisect;
            self.bisections += 1;
            self.next = Some(self.middle(low, high));
        }
    }

    /// Takes the verdict of the step at the load [`Search::next`] gave.
    pub fn record(&mut self, verdict: Verdict) {
        let Some(load) = self.next else { return };
        if verdict == Verdict::Invalid {
            return self.finish(Outcome::GeneratorBottleneck { load });
        }
        let pass = verdict == Verdict::Pass;
        match self.stage {
            Stage::Grow | Stage::Bisect => {
                if pass {
                    self.passed = Some(load);
                } else {
                    self.breached = Some(load);
                }
                match (self.passed, self.breached) {
                    (None, Some(_)) => self.finish(Outcome::FailsAtStart),
                    (Some(low), Some(high)) => self.bisect_or_hold(low, high),
                    (Some(low), None) if low >= self.settings.max => {
                        self.reached_max = true;
                        self.hold_or_end(low);
                    }
                    (Some(low), None) => self.next = Some(self.grown(low)),
                    (None, None) => unreachable!("a step either passed or breached"),
                }
            }
            Stage::Hold if pass => self.finish(Outcome::Found {
                load,
                verified: true,
                step_downs: self.step_downs,
                reached_max: self.reached_max && self.step_downs == 0,
            }),
            Stage::Hold => {
                let share = self.settings.precision.max(MIN_STEP_DOWN);
                let lower = if self.closed() {
                    (load * (1.0 - share)).round().min(load - 1.0)
                } else {
                    load * (1.0 - share)
                };
                if self.step_downs >= MAX_STEP_DOWNS || lower < self.settings.start.min(load) || lower <= 0.0
                {
                    self.finish(Outcome::Found {
                        load,
                        verified: false,
                        step_downs: self.step_downs,
                        reached_max: false,
                    });
                } else {
                    self.step_downs += 1;
                    self.next = Some(lower);
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(model: Model, start: f64, max: f64) -> Settings {
        Settings { model, start, max, precision: 0.05, hold: true }
    }

    /// Runs a search against a system that passes below `capacity` (and, in holds, below
    /// `hold_capacity`); returns the loads offered with their stages, and the outcome.
    fn run(s: Settings, capacity: f64, hold_capacity: f64) -> (Vec<(f64, Stage)>, Outcome) {
        let mut search = Search::new(s);
        let mut steps = Vec::new();
        while let Some((load, stage)) = search.next() {
            assert!(steps.len() < 100, "the search ends");
            steps.push((load, stage));
            let limit = if stage == Stage::Hold { hold_capacity } else { capacity };
            search.record(if load <= limit { Verdict::Pass } else { Verdict::Breach });
        }
        (steps, search.outcome().unwrap())
    }

    #[test]
    fn grows_by_half_then_bisects_to_the_precision_then_holds() {
        let (steps, outcome) = run(settings(Model::Open, 10.0, 1e5), 200.0, 200.0);
        let grow: Vec<f64> = steps.iter().filter(|s| s.1 == Stage::Grow).map(|s| s.0).collect();
        assert_eq!(grow.len(), 9);
        assert!((grow[8] - 10.0 * 1.5f64.powi(8)).abs() < 1e-9, "{grow:?}");
        let bisect = steps.iter().filter(|s| s.1 == Stage::Bisect).count();
        assert!((1..=4).contains(&bisect), "5% of a ×1.5 bracket takes at most 4 halvings: {steps:?}");
        let Outcome::Found { load, verified: true, step_downs: 0, reached_max: false } = outcome else {
            panic!("{outcome:?}")
        };
        assert!((200.0 / 1.05..=200.0).contains(&load), "{load}");
        assert_eq!(steps.last().unwrap(), &(load, Stage::Hold));
    }

    #[test]
    fn a_failed_hold_steps_down_and_says_so() {
        let (steps, outcome) = run(settings(Model::Open, 10.0, 1e5), 200.0, 180.0);
        let holds: Vec<f64> = steps.iter().filter(|s| s.1 == Stage::Hold).map(|s| s.0).collect();
        assert_eq!(holds.len(), 3, "{holds:?}");
        let Outcome::Found { load, verified: true, step_downs: 2, .. } = outcome else {
            panic!("{outcome:?}")
        };
        assert!((load - holds[0] * 0.95 * 0.95).abs() < 1e-9 && load <= 180.0, "{holds:?}");
        // A hold that never passes gives up after the last step down, unverified.
        let (_, outcome) = run(settings(Model::Open, 10.0, 1e5), 200.0, 1.0);
        assert!(
            matches!(outcome, Outcome::Found { verified: false, step_downs: MAX_STEP_DOWNS, .. }),
            "{outcome:?}"
        );
    }

    #[test]
    fn a_breach_at_the_start_ends_the_search() {
        let (steps, outcome) = run(settings(Model::Open, 50.0, 1e5), 20.0, 20.0);
        assert_eq!(steps, [(50.0, Stage::Grow)]);
        assert_eq!(outcome, Outcome::FailsAtStart);
    }

    #[test]
    fn an_invalid_step_ends_the_search_as_a_generator_bottleneck() {
        let mut search = Search::new(settings(Model::Open, 10.0, 1e5));
        search.record(Verdict::Pass);
        search.record(Verdict::Invalid);
        assert_eq!(search.outcome(), Some(Outcome::GeneratorBottleneck { load: 15.0 }));
        assert_eq!(search.next(), None);
    }

    #[test]
    fn reaching_the_maximum_without_a_breach_holds_it() {
        let (steps, outcome) = run(settings(Model::Open, 10.0, 30.0), 1e9, 1e9);
        assert_eq!(
            steps,
            [
                (10.0, Stage::Grow),
                (15.0, Stage::Grow),
                (22.5, Stage::Grow),
                (30.0, Stage::Grow),
                (30.0, Stage::Hold)
            ]
        );
        assert_eq!(outcome, Outcome::Found { load: 30.0, verified: true, step_downs: 0, reached_max: true });
    }

    #[test]
    fn without_a_hold_the_result_is_unverified() {
        let s = Settings { hold: false, ..settings(Model::Open, 10.0, 1e5) };
        let (steps, outcome) = run(s, 100.0, 0.0);
        assert!(steps.iter().all(|s| s.1 != Stage::Hold));
        assert!(matches!(outcome, Outcome::Found { verified: false, .. }), "{outcome:?}");
    }

    #[test]
    fn the_closed_model_searches_whole_users_to_one_apart() {
        let (steps, outcome) = run(settings(Model::Closed, 1.0, 10_000.0), 19.0, 19.0);
        assert!(steps.iter().all(|s| s.0.fract() == 0.0), "{steps:?}");
        let grow: Vec<f64> = steps.iter().filter(|s| s.1 == Stage::Grow).map(|s| s.0).collect();
        assert_eq!(grow, [1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 18.0, 27.0]);
        assert_eq!(outcome, Outcome::Found { load: 19.0, verified: true, step_downs: 0, reached_max: false });
    }
}
