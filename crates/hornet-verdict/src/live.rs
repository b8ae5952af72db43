//! Live checks: a run's checks evaluated on the live aggregate while it runs, for `--abort-on-fail`
//! and the web UI's Checks tab, under one cost policy.
//!
//! An evaluation reads [`Aggregator::figures`] (counters, rates and summaries, no encoded
//! histograms, no timeline) and [`Aggregator::apdex`], never a whole report. Its cost is
//! bounded by a budget: after an evaluation that took `d`, the next is made no sooner than
//! `d ×` [`LiveChecks::BUDGET`] later, so checks never use more than about 1/[`LiveChecks::BUDGET`]
//! of the collector's time whatever the number of endpoints.

use std::time::{Duration, Instant};

use hornet_metrics::Aggregator;

use crate::{ABORT_MIN_ELAPSED, Checks, Outcome, Verdicts, outcomes};

/// A run's checks, evaluated on the live aggregate when due (see the module doc).
pub struct LiveChecks {
    checks: Checks,
    /// When the next evaluation may be made; `None` before the first.
    next_due: Option<Instant>,
    latest: Option<Evaluation>,
}

/// The latest evaluation of the live checks.
struct Evaluation {
    outcomes: Vec<Outcome>,
    verdicts: Verdicts,
    /// Time since the start of the run at the evaluation.
    at: Duration,
}

impl LiveChecks {
    /// Live checks never take more than about 1/this of the collector's time.
    pub const BUDGET: u32 = 50;

    /// Live checks of `checks`, not evaluated yet.
    pub fn new(checks: Checks) -> LiveChecks {
        LiveChecks { checks, next_due: None, latest: None }
    }

    /// The checks evaluated.
    pub fn checks(&self) -> &Checks {
        &self.checks
    }

    /// Evaluates the checks on `aggregate` after `elapsed` of the run, if there are checks and an
    /// evaluation is due under the budget; returns true when it evaluated.
    pub fn tick(&mut self, aggregate: &Aggregator, elapsed: Duration) -> bool {
        if self.checks.is_empty() {
            return false;
        }
        let begun = Instant::now();
        if self.next_due.is_some_and(|due| begun < due) {
            return false;
        }
        let figures = aggregate.figures(elapsed);
        let apdex = self.checks.apdex_threshold_ms.map(|t| aggregate.apdex(t));
        let outcomes = outcomes(&self.checks, &figures, apdex.as_ref());
        let verdicts = Verdicts { checks: outcomes.iter().map(|o| o.check.clone()).collect(), apdex };
        self.latest = Some(Evaluation { outcomes, verdicts, at: elapsed });
        self.next_due = Some(begun + begun.elapsed() * Self::BUDGET);
        true
    }

    /// The latest verdicts and when in the run they were evaluated; `None` before the first
    /// evaluation (or when there is nothing to check).
    pub fn latest(&self) -> Option<(&Verdicts, Duration)> {
        self.latest.as_ref().map(|e| (&e.verdicts, e.at))
    }

    /// The `--abort-on-fail` rule of [`crate::should_abort`] on the latest evaluation: `Some(the
    /// failing check's name and detail)` when the run should stop.
    pub fn abort_reason(&self) -> Option<String> {
        let e = self.latest.as_ref()?;
        abort_reason(&e.outcomes, e.at)
    }
}

/// The first strict check that failed on a metric that exists, once [`ABORT_MIN_ELAPSED`] of the
/// run has elapsed (see [`crate::should_abort`]).
pub(crate) fn abort_reason(outcomes: &[Outcome], elapsed: Duration) -> Option<String> {
    if elapsed < ABORT_MIN_ELAPSED {
        return None;
    }
    outcomes
        .iter()
        .find(|o| o.check.strict && !o.check.ok && !o.missing)
        .map(|o| format!("{} ({})", o.check.name, o.check.detail))
}
