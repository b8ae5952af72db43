//! Verdicts: evaluates a run's checks — `ensure` thresholds and conditions, `maxErrorRate`, and
//! (when they fail the run) `expect` results — and its apdex against the run's [`Report`].
//!
//! The runner or CLI builds [`Checks`] from the plan, calls [`evaluate`] on the final report,
//! stores the result in the report with [`Verdicts::apply_to`] before writing it, and exits with 1
//! when [`Verdicts::failed`]. During the run, [`LiveChecks`] evaluates the same checks on the live
//! aggregate, within a cost budget, for `--abort-on-fail` (the rule of [`should_abort`]) and the
//! web UI.
//!
//! Semantics (Artillery's, with its traps fixed; see `docs/metrics.md`):
//!
//! * a **threshold** `{metric: max}` holds when `metric < max` (strictly less), and is always strict;
//! * a **condition** is an expression over metric names ([`hornet_script::expr::Expr`]); it holds
//!   when it evaluates to true. `strict: false` makes a failure a warning;
//! * **`maxErrorRate: N`** holds when `vusers.failed / vusers.created × 100 ≤ N` (true when no VU
//!   was created);
//! * **expectations** (only with `config.plugins.expect` / `config.expect`): one strict check that
//!   holds when `plugins.expect.failed` is 0;
//! * a metric that does not exist (or has no value, such as the p95 of a histogram that recorded
//!   nothing) fails the check, with a detail naming it.
//!
//! Metric names are resolved by [`metric`].

mod live;
mod metric;

use std::time::Duration;

use hornet_metrics::Report;
use hornet_metrics::report::{EXPECT_FAILED, EXPECT_OK};
use hornet_script::Plan;
use hornet_script::plan::{Condition, Ensure, ExpectSettings, Threshold};
use serde::Serialize;

pub use hornet_metrics::report::{Apdex, ApdexRating, CheckReport as Check};
pub use live::LiveChecks;
pub use metric::AGGREGATIONS;

/// `--abort-on-fail` never aborts before this much of the run has elapsed (see [`should_abort`]).
pub const ABORT_MIN_ELAPSED: Duration = Duration::from_secs(10);

/// Name of the check on `expect` results (defined with the report, which the outputs read).
pub use hornet_metrics::report::EXPECTATIONS_CHECK;

/// What a run checks, taken from its plan.
#[derive(Debug, Clone, Default)]
pub struct Checks {
    /// `config.ensure`: thresholds, conditions and `maxErrorRate`.
    pub ensure: Ensure,
    /// `config.apdex.threshold` (ms): when set, the apdex is computed and `apdex` is a metric.
    pub apdex_threshold_ms: Option<f64>,
    /// Whether failed expectations fail the run.
    pub expect: ExpectSettings,
}

impl Checks {
    /// The checks of a plan.
    pub fn from_plan(plan: &Plan) -> Checks {
        Checks {
            ensure: plan.ensure.clone(),
            apdex_threshold_ms: plan.apdex_threshold_ms,
            expect: plan.expect,
        }
    }

    /// True when there is nothing to check and no apdex to compute.
    pub fn is_empty(&self) -> bool {
        self.ensure.thresholds.is_empty()
            && self.ensure.conditions.is_empty()
            && self.ensure.max_error_rate.is_none()
            && self.apdex_threshold_ms.is_none()
            && !self.expect.fail_run
    }
}

/// The outcome of a run's checks.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct Verdicts {
    /// Every check, in order: thresholds, conditions, `maxErrorRate`, expectations.
    pub checks: Vec<Check>,
    /// The apdex, when `config.apdex` was set (and the response-time histogram could be read).
    pub apdex: Option<Apdex>,
}

impl Verdicts {
    /// True if any strict check failed: the run failed (exit code 1). Non-strict failures only warn.
    pub fn failed(&self) -> bool {
        self.checks.iter().any(|c| c.strict && !c.ok)
    }

    /// The strict checks that failed.
    pub fn failures(&self) -> impl Iterator<Item = &Check> {
        self.checks.iter().filter(|c| c.strict && !c.ok)
    }

    /// Stores the checks and the apdex in `report` (`checks`, `apdex`), replacing earlier ones.
    pub fn apply_to(&self, report: &mut Report) {
        report.set_verdicts(self.checks.clone(), self.apdex);
    }
}

/// The value of metric `name` in `report`, as used by thresholds and conditions; `None` if there is
/// no such metric or it has no value.
///
/// Names, tried in this order:
///
/// * `apdex`: the apdex score stored in the report (`report.apdex`; no value when there were no
///   responses); `apdex.satisfied`, `apdex.tolerated`, `apdex.frustrated`: its counts;
/// * any counter (`http.requests`, `http.codes.200`, `vusers.failed`, `errors.timeout`,
///   `plugins.expect.failed`, ...). Counters the report leaves out when zero — `errors.<kind>` for a
///   known kind, `http.codes.<100..599>`, `plugins.expect.{ok,failed}.<kind>` for a known kind — are
///   0, not missing;
/// * any rate (`http.request_rate`);
/// * a histogram with an aggregation suffix (`http.response_time.p95`, `vusers.session_length.max`):
///   one of [`AGGREGATIONS`] (`min`, `max`, `mean`, `count`, `p50`, `median`, `p75`, `p90`, `p95`,
///   `p99`, `p999`). `count` is always a value (0 for a histogram that recorded nothing, including
///   the optional ones: status classes, `http.dns`, `http.connect`, `http.tls`); the other
///   aggregations of an empty histogram have no value;
/// * a per-endpoint response time, `http.response_time.<endpoint>.<aggregation>` (also Artillery's
///   `plugins.metrics-by-endpoint.response_time.<endpoint>.<aggregation>`). The aggregation is
///   everything after the last `.` and the endpoint is everything between the prefix and it,
///   matched exactly against the report's endpoint names, so names with dots and spaces work
///   (`http.response_time.GET /api/v1.2/items.p95`). A run-wide histogram of the same name wins: an
///   endpoint named `2xx` cannot be addressed this way.
pub fn metric(report: &Report, name: &str) -> Option<f64> {
    metric::resolve(report, report.apdex.as_ref(), name).ok()
}

/// A check's outcome, and whether it failed only because a metric was missing.
struct Outcome {
    check: Check,
    missing: bool,
}

/// A number for a check's detail: at most 3 decimals, no trailing zeros.
fn num(v: f64) -> String {
    if !v.is_finite() {
        return v.to_string();
    }
    let r = (v * 1000.0).round() / 1000.0 + 0.0;
    if r == 0.0 && v != 0.0 { v.to_string() } else { r.to_string() }
}

fn threshold(t: &Threshold, report: &Report, apdex: Option<&Apdex>) -> Outcome {
    let name = format!("{} < {}", t.metric, t.max);
    match metric::resolve(report, apdex, &t.metric) {
        Ok(v) => Outcome {
            check: Check {
                name,
                ok: v < t.max,
                strict: true,
                detail: format!("{} was {}", t.metric, num(v)),
            },
            missing: false,
        },
        Err(detail) => Outcome { check: Check { name, ok: false, strict: true, detail }, missing: true },
    }
}

/// The lookup conditions see: metric values as JSON numbers.
fn json_value(report: &Report, apdex: Option<&Apdex>, name: &str) -> Option<serde_json::Value> {
    let v = metric::resolve(report, apdex, name).ok()?;
    serde_json::Number::from_f64(v).map(serde_json::Value::Number)
}

fn condition(c: &Condition, report: &Report, apdex: Option<&Apdex>) -> Outcome {
    let name = c.expression.source().to_owned();
    // Every name the expression mentions must exist, including names in a branch that `and`/`or`
    // would skip: a misspelt metric fails the check whatever the other figures are.
    let mut values = Vec::new();
    let mut missing = Vec::new();
    for n in c.expression.variables() {
        match metric::resolve(report, apdex, n) {
            Ok(v) => values.push(format!("{n} = {}", num(v))),
            Err(why) => missing.push(why),
        }
    }
    if !missing.is_empty() {
        let detail = missing.join("; ");
        return Outcome { check: Check { name, ok: false, strict: c.strict, detail }, missing: true };
    }
    let ok = c.expression.eval_bool(&|n| json_value(report, apdex, n));
    Outcome { check: Check { name, ok, strict: c.strict, detail: values.join(", ") }, missing: false }
}

fn max_error_rate(max: f64, report: &Report) -> Outcome {
    let created = report.counter("vusers.created");
    let failed = report.counter("vusers.failed");
    let name = format!("maxErrorRate: failed VUs <= {max}%");
    let (ok, detail) = if created == 0 {
        (true, "no VUs were created".to_owned())
    } else {
        let rate = failed as f64 / created as f64 * 100.0;
        (rate <= max, format!("{failed} of {created} VUs failed ({}%)", num(rate)))
    };
    Outcome { check: Check { name, ok, strict: true, detail }, missing: false }
}

fn expectations(report: &Report) -> Outcome {
    let failed = report.counter(EXPECT_FAILED);
    let total = failed.saturating_add(report.counter(EXPECT_OK));
    let detail = if total == 0 {
        "no expectations were evaluated".to_owned()
    } else if failed == 0 {
        format!("all {total} held")
    } else {
        // The (endpoint, kind) with the most failures; the first in plan and kind order on a tie.
        let mut worst: Option<(&str, &str, u64)> = None;
        for e in &report.endpoints {
            for (kind, &n) in &e.expectations.failed_by_kind {
                if worst.is_none_or(|(_, _, w)| n > w) {
                    worst = Some((&e.name, kind, n));
                }
            }
        }
        let mut d = format!("{failed} of {total} failed");
        if let Some((endpoint, kind, n)) = worst {
            d.push_str(&format!("; most on `{endpoint}`: {kind} failed {n} time(s)"));
        }
        d
    };
    Outcome {
        check: Check { name: EXPECTATIONS_CHECK.to_owned(), ok: failed == 0, strict: true, detail },
        missing: false,
    }
}

/// Every check of `checks` on `report`, in order.
fn outcomes(checks: &Checks, report: &Report, apdex: Option<&Apdex>) -> Vec<Outcome> {
    let e = &checks.ensure;
    let mut out = Vec::with_capacity(e.thresholds.len() + e.conditions.len() + 2);
    out.extend(e.thresholds.iter().map(|t| threshold(t, report, apdex)));
    out.extend(e.conditions.iter().map(|c| condition(c, report, apdex)));
    if let Some(max) = e.max_error_rate {
        out.push(max_error_rate(max, report));
    }
    if checks.expect.fail_run {
        out.push(expectations(report));
    }
    out
}

/// The apdex for `checks` on `report`, if configured and the histogram can be read.
fn apdex_of(checks: &Checks, report: &Report) -> Option<Apdex> {
    checks.apdex_threshold_ms.and_then(|t| report.compute_apdex(t).ok())
}

/// Evaluates every check on the run's (final) report, and computes the apdex when configured.
/// Conditions and thresholds see the apdex computed here as the `apdex` metric.
pub fn evaluate(checks: &Checks, report: &Report) -> Verdicts {
    let apdex = apdex_of(checks, report);
    let checks = outcomes(checks, report, apdex.as_ref()).into_iter().map(|o| o.check).collect();
    Verdicts { checks, apdex }
}

/// Live check for `--abort-on-fail`: `Some(description of the check)` when the run should stop.
///
/// The rule is deliberately simple: once at least [`ABORT_MIN_ELAPSED`] (10 s) of the run has
/// elapsed, abort as soon as a **strict** check fails on the **cumulative** report so far
/// (everything since the start of the run, as [`evaluate`] would judge it if the run ended now).
/// Knowing whether a check *can no longer pass* is not possible in general (a rate still ramping up,
/// a percentile that later requests may lower), so the 10 s grace period keeps start-up noise from
/// aborting a run, and the rest is the user's choice of checks. Two exceptions:
///
/// * non-strict conditions never abort;
/// * a check that fails only because a metric does not exist **yet** (no 5xx response so far, no
///   response at all) does not abort; it still fails the final verdict if the metric never appears.
///
/// The description is the check's name and detail: `http.response_time.p95 < 200
/// (http.response_time.p95 was 212.4)`.
pub fn should_abort(checks: &Checks, report: &Report, elapsed: Duration) -> Option<String> {
    let apdex = apdex_of(checks, report);
    live::abort_reason(&outcomes(checks, report, apdex.as_ref()), elapsed)
}

#[cfg(test)]
mod tests {
    use super::num;

    #[test]
    fn numbers_in_details() {
        assert_eq!(num(212.4), "212.4");
        assert_eq!(num(200.0), "200");
        assert_eq!(num(100.0 / 3.0), "33.333");
        assert_eq!(num(0.000_01), "0.00001");
        assert_eq!(num(-0.0), "0");
        assert_eq!(num(f64::INFINITY), "inf");
    }
}
