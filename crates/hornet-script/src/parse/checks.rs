//! What decides the exit code: `config.ensure`, `config.apdex`, the `expect` plugin's settings,
//! and the plugins hornet accepts under `config.plugins`.

use super::{
    APDEX, CONDITION, Cx, ENSURE, EXPECT_PLUGIN, Map, Result, backquoted, inner_span, is_null, names_help,
    suggest,
};
use crate::error::Span;
use crate::plan::{Condition, Ensure, ExpectSettings, Threshold};
use crate::yaml::{Node, Value};

/// What decides the exit code: `ensure`, `apdex` and the `expect` plugin.
pub(super) struct Checks {
    pub ensure: Ensure,
    pub apdex_threshold_ms: Option<f64>,
    pub expect: ExpectSettings,
}

/// The plugins hornet accepts under `config.plugins`.
const PLUGINS: [&str; 5] = ["ensure", "apdex", "expect", "metrics-by-endpoint", "publish-metrics"];

/// `ensure` shorthands for `http.response_time.<key> < value`.
const LEGACY_THRESHOLDS: [&str; 9] = ["min", "max", "median", "p50", "p75", "p90", "p95", "p99", "p999"];

/// The apdex threshold when `apdex` is configured without one (Artillery's default).
const DEFAULT_APDEX_MS: f64 = 500.0;

/// Artillery expect plugin output formats (accepted; hornet has one way of reporting).
const OUTPUT_FORMATS: [&str; 4] = ["pretty", "json", "prettyError", "silent"];

impl Cx<'_> {
    /// `config.ensure`, `config.apdex`, `config.expect` and `config.plugins`.
    pub(super) fn ensure_and_plugins(&self, config: &Map<'_>) -> Result<Checks> {
        let (mut plugin_ensure, mut plugin_apdex, mut plugin_expect) = (None, None, None);
        if let Some(p) = config.get("plugins") {
            for e in self.entries(&p.value, "`plugins`", "a map of plugin names to their settings")? {
                match e.key.as_str() {
                    "ensure" => plugin_ensure = Some(e),
                    "apdex" => plugin_apdex = Some(e),
                    "expect" => plugin_expect = Some(e),
                    // hornet always reports metrics by endpoint, so the plugin has nothing to do.
                    "metrics-by-endpoint" => {}
                    // Read by `Cx::publish_metrics` (parse/publish.rs).
                    "publish-metrics" => {}
                    other => {
                        let help = match suggest(other, &PLUGINS) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!("hornet accepts the plugins {}", backquoted(&PLUGINS)),
                        };
                        return Err(self
                            .err(
                                e.key_span,
                                format!("the Artillery plugin `{other}` is not supported by hornet"),
                            )
                            .with_help(help));
                    }
                }
            }
        }

        let mut ensure = Ensure::default();
        let mut max_error_rate_at = None;
        for e in [config.get("ensure"), plugin_ensure].into_iter().flatten() {
            self.ensure(&e.value, &mut ensure, &mut max_error_rate_at)?;
        }

        let root_apdex = config.get("apdex").map(|e| self.apdex(&e.value)).transpose()?;
        let plugin = plugin_apdex.map(|e| self.apdex(&e.value)).transpose()?;
        let apdex_threshold_ms = match (root_apdex, plugin) {
            (None, None) => None,
            (Some((Some(a), first)), Some((Some(b), at))) if a != b => {
                return Err(self
                    .err(at, "the apdex `threshold` is set twice, with different values")
                    .with_help(format!(
                        "`config.apdex.threshold` is {a} ({}); keep one of the two",
                        self.line_of(first, at)
                    )));
            }
            (a, b) => Some(a.and_then(|a| a.0).or(b.and_then(|b| b.0)).unwrap_or(DEFAULT_APDEX_MS)),
        };

        let mut expect = ExpectSettings::default();
        for e in [config.get("expect"), plugin_expect].into_iter().flatten() {
            let map = self.map(&e.value, "the `expect` settings", &EXPECT_PLUGIN, true)?;
            expect.fail_run = true;
            if let Some(f) = map.get("outputFormat") {
                let text = self.text(&f.value, "`outputFormat`")?;
                if !OUTPUT_FORMATS.contains(&text) {
                    return Err(self
                        .err(f.value.span, format!("unknown `outputFormat` `{text}`"))
                        .with_help(names_help(text, &OUTPUT_FORMATS, "expected one of", "")));
                }
            }
            expect.default_200 |= self.flag(&map, "expectDefault200", false)?;
            self.flag(&map, "reportFailuresAsErrors", false)?;
            self.flag(&map, "useOnlyRequestNames", false)?;
        }
        Ok(Checks { ensure, apdex_threshold_ms, expect })
    }

    fn ensure(&self, node: &Node, out: &mut Ensure, max_error_rate_at: &mut Option<Span>) -> Result<()> {
        if let Value::Seq(_) = node.value {
            self.warn(self.err(node.span, "`ensure` given as a list checks nothing: Artillery ignores it, and so does hornet").with_help(
                "write `ensure` as a map: `thresholds:` (a list like `- http.response_time.p95: 500`), `conditions:` or `maxErrorRate:`",
            ));
            return Ok(());
        }
        let map = self.map(node, "`ensure`", &ENSURE, true)?;
        for e in map.entries {
            match e.key.as_str() {
                "thresholds" => {
                    if is_null(&e.value) {
                        continue;
                    }
                    for item in self.list(&e.value, "`thresholds`")? {
                        out.thresholds.push(self.threshold(item)?);
                    }
                }
                "conditions" => {
                    if is_null(&e.value) {
                        continue;
                    }
                    for item in self.list(&e.value, "`conditions`")? {
                        let c = self.map(item, "each condition", &CONDITION, false)?;
                        let expression = c.get("expression").ok_or_else(|| {
                            self.missing(&c, "expression", &CONDITION)
                                .with_help("for example `- expression: http.response_time.p99 < 200`")
                        })?;
                        let node = &expression.value;
                        let expression = self.expr(
                            node,
                            "`expression`",
                            "http.response_time.p99 < 200 and http.request_rate > 10",
                        )?;
                        let text = self.text(node, "`expression`")?;
                        for name in expression.variables() {
                            let at = text.find(name).unwrap_or(0);
                            self.check_metric_name(name, inner_span(node, at, name.chars().count()))?;
                        }
                        let strict = self.flag(&c, "strict", true)?;
                        out.conditions.push(Condition { expression, strict });
                    }
                }
                "maxErrorRate" => {
                    if let Some(first) = max_error_rate_at {
                        return Err(self.err(e.key_span, "`maxErrorRate` is set twice").with_help(format!(
                            "it is also set on {}, under `config.ensure` or `config.plugins.ensure`; keep one",
                            self.line_of(*first, e.key_span)
                        )));
                    }
                    *max_error_rate_at = Some(e.key_span);
                    out.max_error_rate = Some(self.non_negative(&e.value, "`maxErrorRate`")?);
                }
                legacy => {
                    debug_assert!(LEGACY_THRESHOLDS.contains(&legacy));
                    let max = self.finite(&e.value, &format!("`{legacy}`"))?;
                    out.thresholds.push(Threshold { metric: format!("http.response_time.{legacy}"), max });
                }
            }
        }
        Ok(())
    }

    /// One item of `thresholds`: a one-key map `metric: maximum`.
    fn threshold(&self, item: &Node) -> Result<Threshold> {
        let help = "a threshold is `- <metric>: <maximum>`, e.g. `- http.response_time.p95: 250`, and means metric < maximum";
        match &item.value {
            Value::Map(entries) => match entries.as_slice() {
                [only] => {
                    // Endpoint names contain spaces (`GET /items`), so only blank names and
                    // leading or trailing spaces are rejected.
                    if only.key.trim().is_empty() || only.key.trim() != only.key {
                        return Err(self
                            .err(only.key_span, format!("`{}` is not a metric name", only.key))
                            .with_help(help));
                    }
                    self.check_metric_name(&only.key, only.key_span)?;
                    let max = self.finite(&only.value, &format!("the threshold for `{}`", only.key))?;
                    Ok(Threshold { metric: only.key.clone(), max })
                }
                [] => Err(self.err(item.span, "a threshold needs a metric and a maximum").with_help(help)),
                [first, second, ..] => Err(self
                    .err(
                        second.key_span,
                        format!(
                            "a threshold names one metric, but this one has `{}` and `{}`",
                            first.key, second.key
                        ),
                    )
                    .with_help("put each metric in its own list item, starting with `-`")),
            },
            _ => Err(self.type_err(item, "each threshold", "a one-key map").with_help(help)),
        }
    }

    /// `apdex` settings: the threshold in milliseconds (if given) and where it is.
    fn apdex(&self, node: &Node) -> Result<(Option<f64>, Span)> {
        let map = self.map(node, "`apdex`", &APDEX, true)?;
        match map.get("threshold") {
            None => Ok((None, node.span)),
            Some(t) => {
                let ms = self.non_negative(&t.value, "`threshold`")?;
                if ms == 0.0 {
                    return Err(self
                        .err(t.value.span, "`threshold` must be more than 0")
                        .with_help("the apdex threshold is in milliseconds, e.g. `threshold: 500`"));
                }
                Ok((Some(ms), t.value.span))
            }
        }
    }
}
