//! The metric names `ensure` may check, known at load: a misspelt one (`http.reponse_time.p95`) is
//! refused with a "did you mean" instead of failing the check after the run. Names a processor
//! can report (`events.emit`) cannot be known at load; see [`Cx::check_metric_name`] for the rule.

use hornet_metrics::report::{
    HISTOGRAM_AGGREGATIONS as AGGREGATIONS, OPTIONAL_HISTOGRAMS, RESPONSE_TIME, RESPONSE_TIME_CORRECTED,
    WS_CONNECT_TIME, WS_RTT,
};

use super::{Cx, Result};
use crate::error::Span;

/// hornet's histograms that are always in the report (besides [`OPTIONAL_HISTOGRAMS`]): checked
/// with an aggregation (`http.response_time.p95`).
const HISTOGRAMS: [&str; 8] = [
    RESPONSE_TIME,
    RESPONSE_TIME_CORRECTED,
    "http.wait",
    "http.receive",
    "schedule.lag",
    "vusers.session_length",
    WS_CONNECT_TIME,
    WS_RTT,
];

/// Whether `name` is one of hornet's histograms.
fn is_histogram(name: &str) -> bool {
    HISTOGRAMS.contains(&name) || OPTIONAL_HISTOGRAMS.contains(&name)
}

/// hornet's counters, rates and other single values.
const VALUES: [&str; 27] = [
    "errors",
    "http.requests",
    "http.responses",
    "http.downloaded_bytes",
    "http.uploaded_bytes",
    "http.requests.dropped",
    "http.request_rate",
    "vusers.created",
    "vusers.completed",
    "vusers.failed",
    "vusers.skipped",
    "vusers.iterations_late",
    "websocket.bytes_received",
    "websocket.bytes_sent",
    "websocket.connections",
    "websocket.messages_received",
    "websocket.messages_sent",
    "websocket.receive_rate",
    "websocket.send_rate",
    "generator.cpu",
    "generator.cpu_max",
    "plugins.expect.ok",
    "plugins.expect.failed",
    "apdex",
    "apdex.satisfied",
    "apdex.tolerated",
    "apdex.frustrated",
];

/// Families whose names depend on the run (a status code, an error kind, a scenario's name).
const OPEN_FAMILIES: [&str; 6] = [
    "http.codes.",
    "errors.",
    "vusers.created_by_name.",
    "websocket.close.",
    "plugins.expect.ok.",
    "plugins.expect.failed.",
];

/// Histograms by endpoint: `<prefix><endpoint name>.<aggregation>`.
const BY_ENDPOINT: [&str; 3] =
    ["http.response_time.", "websocket.rtt.", "plugins.metrics-by-endpoint.response_time."];

/// Every fixed name `ensure` understands.
fn known_names() -> Vec<String> {
    let mut names: Vec<String> = VALUES.iter().map(|n| n.to_string()).collect();
    for h in HISTOGRAMS.iter().chain(&OPTIONAL_HISTOGRAMS) {
        names.extend(AGGREGATIONS.iter().map(|a| format!("{h}.{a}")));
    }
    names
}

/// Whether `name` is one hornet reports (or may report, for names that depend on the run).
fn is_known(name: &str, known: &[&str]) -> bool {
    known.contains(&name)
        || OPEN_FAMILIES.iter().any(|f| name.strip_prefix(f).is_some_and(|rest| !rest.is_empty()))
        || name.rsplit_once('.').is_some_and(|(base, agg)| {
            AGGREGATIONS.contains(&agg)
                && BY_ENDPOINT.iter().any(|p| base.strip_prefix(p).is_some_and(|e| !e.is_empty()))
        })
}

impl Cx<'_> {
    /// Refuses a metric name `ensure` can never find: one within two edits of a name hornet reports
    /// (`http.reponse_time.p95`), and, when the script has no processor (nothing else can report a
    /// metric), a name in hornet's own families (`http.`, `vusers.`, ...) that it does not report.
    /// A name outside those families with a processor is allowed: the processor may report it.
    pub(super) fn check_metric_name(&self, name: &str, span: Span) -> Result<()> {
        let known = known_names();
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        if is_known(name, &known) {
            return Ok(());
        }
        if let Some(near) = super::near_typo(name, &known) {
            return Err(self
                .err(span, format!("`ensure` checks the metric `{name}`, which hornet does not report"))
                .with_help(format!("did you mean `{near}`?")));
        }
        let own_family = !hornet_metrics::is_processor_metric(name) || name.starts_with("apdex.");
        if own_family && self.processor.is_none() {
            let histogram_base = name.rsplit_once('.').is_some_and(|(base, _)| is_histogram(base));
            let help = if is_histogram(name) {
                format!("`{name}` is a histogram: add an aggregation, as in `{name}.p95`")
            } else if histogram_base {
                format!("a histogram takes one of the aggregations {}", super::backquoted(&AGGREGATIONS))
            } else {
                "see the metric names in docs/metrics.md".to_string()
            };
            return Err(self
                .err(span, format!("`ensure` checks the metric `{name}`, which hornet does not report"))
                .with_help(help));
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn run_dependent_names_are_known_and_typos_are_not() {
        let known = known_names();
        let known: Vec<&str> = known.iter().map(String::as_str).collect();
        for ok in [
            "http.response_time.p95",
            "http.codes.503",
            "errors.timeout",
            "http.response_time.GET /items.p99",
            "plugins.metrics-by-endpoint.response_time.login.max",
            "vusers.created_by_name.buy",
            "apdex",
        ] {
            assert!(is_known(ok, &known), "{ok}");
        }
        for bad in ["http.reponse_time.p95", "http.response_time.p59", "http.codes.", "vusers.faild"] {
            assert!(!is_known(bad, &known), "{bad}");
        }
    }
}
