//! The objective a capacity search holds the system to (`--slo 'p95<300ms,errors<1%'`): a
//! comma-separated list of `ensure` conditions, each either written in full in the `ensure`
//! expression grammar (`http.response_time.corrected.p99 < 500`, `http.codes.503 < 1`) or in a
//! short form `NAME OP NUMBER[UNIT]` that is rewritten into one:
//!
//! * `NAME` alone as an aggregation (`p50`, `p95`, `p99`, `p999`, `median`, `mean`, `max`...) is
//!   that aggregation of `http.response_time` (`p95` → `http.response_time.p95`); any other name is
//!   a metric name as `ensure` resolves it;
//! * `errors` with `%` is the share of failed requests: [`FAILED_REQUESTS`] (errors of every kind
//!   plus responses with an unexpected status, the report's "failures") over `http.requests`,
//!   × 100; `errors` without `%` is the `errors` counter;
//! * units: `ms` (as is: latencies are in milliseconds), `s` (× 1000), `us` or `µs` (÷ 1000), `%`.
//!
//! The result is a [`hornet_verdict::Checks`] evaluated by [`hornet_verdict::evaluate`] on each
//! step's figures, exactly as `ensure` is evaluated on a run's report.

use hornet_script::expr::Expr;
use hornet_script::plan::{Condition, Ensure};
use hornet_verdict::{AGGREGATIONS, Checks};

/// The counter a step's figures carry for the `errors<N%` short form: the step's failed requests
/// (every error kind, and responses whose status is not expected). It exists only in a capacity
/// step's figures.
pub const FAILED_REQUESTS: &str = "http.requests.failed";

/// A parsed objective: the checks, and each item as the user wrote it.
#[derive(Debug, Clone)]
pub struct Slo {
    /// What [`hornet_verdict::evaluate`] runs on each step.
    pub checks: Checks,
    /// The items as written, in order (for displays).
    pub items: Vec<String>,
}

impl Slo {
    /// The objective as text: the items joined by `, `.
    pub fn describe(&self) -> String {
        self.items.join(", ")
    }

    /// The objective of a script's `config.ensure` (used when `--slo` is not given).
    pub fn from_ensure(ensure: &Ensure) -> Option<Slo> {
        let mut items: Vec<String> =
            ensure.thresholds.iter().map(|t| format!("{} < {}", t.metric, t.max)).collect();
        items.extend(ensure.conditions.iter().map(|c| c.expression.source().to_owned()));
        if let Some(max) = ensure.max_error_rate {
            items.push(format!("maxErrorRate: {max}"));
        }
        if items.is_empty() {
            return None;
        }
        Some(Slo { checks: Checks { ensure: ensure.clone(), ..Checks::default() }, items })
    }
}

/// Why an `--slo` did not parse: the message names the item and the character where it went wrong.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("--slo: {message}")]
pub struct SloError {
    /// What is wrong and where.
    pub message: String,
}

/// Splits at commas outside parentheses and quotes, with each part's byte offset.
fn split_items(text: &str) -> Vec<(usize, &str)> {
    let mut items = Vec::new();
    let (mut depth, mut quote, mut start) = (0i32, None::<char>, 0);
    for (i, c) in text.char_indices() {
        match (quote, c) {
            (Some(q), c) if c == q => quote = None,
            (Some(_), _) => {}
            (None, '\'' | '"') => quote = Some(c),
            (None, '(') => depth += 1,
            (None, ')') => depth -= 1,
            (None, ',') if depth == 0 => {
                items.push((start, &text[start..i]));
                start = i + 1;
            }
            _ => {}
        }
    }
    items.push((start, &text[start..]));
    items
}

/// The comparison operators of the short form, longest first.
const OPERATORS: [&str; 4] = ["<=", ">=", "<", ">"];

/// `NAME OP NUMBER[UNIT]` rewritten as an `ensure` expression, or `None` when `item` is not of that
/// form (it is then taken as an expression as written). `Err` for a short form with a bad unit.
fn short_form(item: &str) -> Result<Option<String>, String> {
    let Some((at, op)) = OPERATORS
        .iter()
        .filter_map(|op| item.find(op).map(|i| (i, *op)))
        .min_by_key(|(i, op)| (*i, usize::MAX - op.len()))
    else {
        return Ok(None);
    };
    let name = item[..at].trim();
    let value = item[at + op.len()..].trim();
    let is_name = !name.is_empty()
        && name.chars().all(|c| c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '$'))
        && name.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$');
    let split = value.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(value.len());
    let (number, unit) = value.split_at(split);
    let Ok(number) = number.parse::<f64>() else { return Ok(None) };
    if !is_name || !number.is_finite() {
        return Ok(None);
    }
    let number = match unit.trim() {
        "" | "ms" | "%" => number,
        "s" => number * 1000.0,
        "us" | "µs" => number / 1000.0,
        other => return Err(format!("unknown unit `{other}`: expected ms, s, us or %")),
    };
    let percent = unit.trim() == "%";
    let metric = if AGGREGATIONS.contains(&name) {
        format!("http.response_time.{name}")
    } else if name == "errors" && percent {
        format!("{FAILED_REQUESTS} / http.requests * 100")
    } else {
        name.to_owned()
    };
    Ok(Some(format!("{metric} {op} {number}")))
}

/// Parses `--slo`: see the module doc.
pub fn parse(text: &str) -> Result<Slo, SloError> {
    let mut conditions = Vec::new();
    let mut items = Vec::new();
    for (n, (offset, raw)) in split_items(text).into_iter().enumerate() {
        let item = raw.trim();
        let lead = raw.len() - raw.trim_start().len();
        let place = |at: usize| format!("item {} `{item}` (character {})", n + 1, offset + lead + at + 1);
        if item.is_empty() {
            return Err(SloError {
                message: format!(
                    "item {} is empty (character {}): expected a condition such as `p95<300ms`",
                    n + 1,
                    offset + 1
                ),
            });
        }
        let source = short_form(item).map_err(|why| SloError { message: format!("{}: {why}", place(0)) })?;
        let source = source.unwrap_or_else(|| item.to_owned());
        let expression = Expr::compile(&source).map_err(|e| SloError {
            // The offset is into the rewritten text only for a short form; point at the item then.
            message: format!("{}: {e}", place(if source == item { e.offset } else { 0 })),
        })?;
        if expression.variables().next().is_none() {
            return Err(SloError {
                message: format!("{}: names no metric: expected a condition such as `p95<300ms`", place(0)),
            });
        }
        conditions.push(Condition { expression, strict: true });
        items.push(item.to_owned());
    }
    let ensure = Ensure { conditions, ..Ensure::default() };
    Ok(Slo { checks: Checks { ensure, ..Checks::default() }, items })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sources(text: &str) -> Vec<String> {
        parse(text)
            .unwrap()
            .checks
            .ensure
            .conditions
            .iter()
            .map(|c| c.expression.source().to_owned())
            .collect()
    }

    #[test]
    fn short_forms_become_ensure_conditions() {
        assert_eq!(
            sources("p95<300ms, errors<1%"),
            ["http.response_time.p95 < 300", "http.requests.failed / http.requests * 100 < 1"]
        );
        assert_eq!(sources("p99<=1.5s"), ["http.response_time.p99 <= 1500"]);
        assert_eq!(sources("median<500us"), ["http.response_time.median < 0.5"]);
        assert_eq!(
            sources("http.response_time.corrected.p99<250"),
            ["http.response_time.corrected.p99 < 250"]
        );
        assert_eq!(sources("errors<5"), ["errors < 5"]);
        assert_eq!(sources("apdex>0.9"), ["apdex > 0.9"]);
    }

    #[test]
    fn anything_else_is_an_ensure_expression_as_written() {
        assert_eq!(
            sources("http.codes.503 / http.requests < 0.01, (errors < 1 or errors < 2)"),
            ["http.codes.503 / http.requests < 0.01", "(errors < 1 or errors < 2)"]
        );
    }

    #[test]
    fn errors_name_the_item_and_the_place() {
        let e = parse("p95<300ms,p99<2xs").unwrap_err().to_string();
        assert!(e.contains("item 2 `p99<2xs` (character 11)") && e.contains("unknown unit `xs`"), "{e}");
        let e = parse("p95<300ms,,p99<1s").unwrap_err().to_string();
        assert!(e.contains("item 2 is empty"), "{e}");
        let e = parse("p95 <").unwrap_err().to_string();
        assert!(e.starts_with("--slo: item 1 `p95 <`"), "{e}");
        let e = parse("1 < 2").unwrap_err().to_string();
        assert!(e.contains("names no metric"), "{e}");
    }

    #[test]
    fn the_script_s_ensure_is_an_objective_too() {
        let slo = parse("p95<300ms").unwrap();
        let again = Slo::from_ensure(&slo.checks.ensure).unwrap();
        assert_eq!(again.items, ["http.response_time.p95 < 300"]);
        assert!(Slo::from_ensure(&Ensure::default()).is_none());
    }
}
