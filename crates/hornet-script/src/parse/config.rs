//! The parts of `config` beyond phases and HTTP settings: payloads (CSV files read here, at load
//! time), defaults, `ensure`, `apdex`, the plugins, environments, and scenario selection.

use std::sync::Arc;

use http::HeaderName;

use super::{
    APDEX, CONDITION, DEFAULTS, ENSURE, EXPECT_PLUGIN, Map, PAYLOAD, Result, THINK_DEFAULTS, is_null,
    names_help, number_of, scalar_text, suggest,
};
use super::{CONFIG, Cx, backquoted};
use crate::error::{ScriptError, Span};
use crate::plan::{
    Condition, Ensure, ExpectSettings, Jitter, Payload, PayloadOrder, Plan, Scenario, Step, Threshold, WsStep,
};
use crate::template::Template;
use crate::yaml::{Entry, Node, ScalarKind, Value};

/// `config.defaults` (or `config.http.defaults`).
pub(super) struct Defaults {
    pub headers: Vec<(HeaderName, Template)>,
    pub cookies: Vec<(String, Template)>,
    pub strict_capture: bool,
    pub jitter: Option<Jitter>,
}

/// What decides the exit code: `ensure`, `apdex` and the `expect` plugin.
pub(super) struct Checks {
    pub ensure: Ensure,
    pub apdex_threshold_ms: Option<f64>,
    pub expect: ExpectSettings,
}

/// The plugins hornet accepts under `config.plugins`.
const PLUGINS: [&str; 4] = ["ensure", "apdex", "expect", "metrics-by-endpoint"];

/// `ensure` shorthands for `http.response_time.<key> < value`.
const LEGACY_THRESHOLDS: [&str; 9] = ["min", "max", "median", "p50", "p75", "p90", "p95", "p99", "p999"];

/// The apdex threshold when `apdex` is configured without one (Artillery's default).
const DEFAULT_APDEX_MS: f64 = 500.0;

/// Artillery expect plugin output formats (accepted; hornet has one way of reporting).
const OUTPUT_FORMATS: [&str; 4] = ["pretty", "json", "prettyError", "silent"];

impl Cx<'_> {
    /// `config.payload`: one map or a list of maps.
    pub(super) fn payloads(&self, node: &Node) -> Result<Vec<Payload>> {
        match &node.value {
            Value::Seq(items) => items.iter().map(|n| self.payload(n, "each payload")).collect(),
            Value::Scalar(s) if s.kind == ScalarKind::Null => Ok(Vec::new()),
            _ => Ok(vec![self.payload(node, "`payload`")?]),
        }
    }

    fn payload(&self, node: &Node, what: &str) -> Result<Payload> {
        let map = self.map(node, what, &PAYLOAD, false).map_err(|e| {
            if e.help.is_none() {
                e.with_help("a payload is a map like `{ path: users.csv, fields: [name, password] }`")
            } else {
                e
            }
        })?;
        let path_entry = map.get("path").ok_or_else(|| {
            self.missing(&map, "path", &PAYLOAD)
                .with_help("add `path: data.csv` (relative to the directory of the script)")
        })?;
        let relative = self.name(&path_entry.value, "`path`")?;
        let path = super::resolve(&self.source_of(path_entry.value.span).dir, relative);

        let mut fields: Vec<String> = Vec::new();
        let fields_entry = map.get("fields");
        if let Some(f) = fields_entry {
            for item in self.list(&f.value, "`fields`")? {
                let name = self.text(item, "a field name")?;
                self.variable_name(name, item.span, "a field name")?;
                if fields.iter().any(|n| n == name) {
                    return Err(self.err(item.span, format!("field `{name}` is named twice")));
                }
                fields.push(name.to_string());
            }
        }
        let load_all = self.flag(&map, "loadAll", false)?;
        let load_all = match (load_all, map.get("name")) {
            (true, Some(n)) => {
                let name = self.text(&n.value, "`name`")?;
                self.variable_name(name, n.value.span, "`name`")?;
                Some(name.to_string())
            }
            (true, None) => {
                return Err(self
                    .missing(&map, "name", &PAYLOAD)
                    .with_help("`loadAll: true` needs a `name`: the variable that holds the whole file"));
            }
            (false, Some(n)) => {
                return Err(self.err(n.key_span, "`name` goes with `loadAll: true`").with_help(
                    "add `loadAll: true` to load the whole file into the variable `name`, or remove `name`",
                ));
            }
            (false, None) => None,
        };
        if load_all.is_none() && fields.is_empty() {
            return Err(match fields_entry {
                Some(f) => self.err(f.value.span, "`fields` is empty"),
                None => self.missing(&map, "fields", &PAYLOAD),
            }
            .with_help("`fields` names the columns, e.g. `fields: [username, password]`"));
        }
        let order = match map.get("order") {
            None => PayloadOrder::Random,
            Some(e) => match scalar_text(&e.value) {
                Some("random") => PayloadOrder::Random,
                Some("sequence") => PayloadOrder::Sequence,
                Some(other) => {
                    let err = self.type_err(&e.value, "`order`", "`random` or `sequence`");
                    match suggest(other, &["random", "sequence"]) {
                        Some(s) => return Err(err.with_help(format!("did you mean `{s}`?"))),
                        None => return Err(err),
                    }
                }
                None => return Err(self.type_err(&e.value, "`order`", "`random` or `sequence`")),
            },
        };
        let delimiter = match map.get("delimiter") {
            None => b',',
            Some(e) => {
                let text = self.text(&e.value, "`delimiter`")?;
                match text.as_bytes() {
                    [b] if b.is_ascii() && *b != b'"' && *b != b'\n' && *b != b'\r' => *b,
                    _ => {
                        return Err(self
                            .err(e.value.span, format!("`delimiter` must be one character, found `{text}`"))
                            .with_help(r#"for example `delimiter: ";"`, or `delimiter: "\t"` for tabs"#));
                    }
                }
            }
        };
        let csv = CsvOptions {
            delimiter,
            skip_header: self.flag(&map, "skipHeader", false)?,
            cast: self.flag(&map, "cast", true)?,
            skip_empty_lines: self.flag(&map, "skipEmptyLines", true)?,
            fields: fields.len(),
        };

        let shown = path.display().to_string();
        let bytes = std::fs::read(&path).map_err(|e| {
            self.err(path_entry.value.span, format!("cannot read the payload file `{shown}`: {e}"))
                .with_help("`path` is relative to the directory of the script that names it")
        })?;
        let text = String::from_utf8(bytes).map_err(|e| {
            self.err(path_entry.value.span, format!("the payload file `{shown}` is not UTF-8 text: {e}"))
        })?;
        let rows = self.read_csv(&text, &shown, &csv, path_entry.value.span)?;
        if rows.is_empty() && load_all.is_none() {
            return Err(self
                .err(path_entry.value.span, format!("the payload file `{shown}` has no rows"))
                .with_help("each virtual user takes one row, so the file needs at least one"));
        }
        Ok(Payload { path, fields, rows: Arc::new(rows), order, load_all })
    }

    /// A boolean key of `map`, or `default`.
    fn flag(&self, map: &Map<'_>, key: &str, default: bool) -> Result<bool> {
        map.get(key).map_or(Ok(default), |e| self.boolean(&e.value, &format!("`{key}`")))
    }

    /// Reads the rows of a CSV file; an error points at the row in the CSV file.
    fn read_csv(
        &self,
        text: &str,
        name: &str,
        o: &CsvOptions,
        loaded_at: Span,
    ) -> Result<Vec<Vec<serde_json::Value>>> {
        let at = |offset: usize, message: String| {
            let line = text[..offset.min(text.len())].matches('\n').count() + 1;
            let len = text.lines().nth(line - 1).map_or(1, |l| l.trim_end_matches('\r').chars().count());
            ScriptError::at(name, text, Span::on_line(line, 0, len), message)
        };
        let origin = {
            let s = self.source_of(loaded_at);
            format!("{}:{}:{}", s.name, loaded_at.start.line, loaded_at.start.col + 1)
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(o.delimiter)
            .from_reader(text.as_bytes());
        let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
        // Where each record is: from its first character to just after its end.
        let mut extents: Vec<(usize, usize)> = Vec::new();
        let mut record = csv::StringRecord::new();
        let byte = |p: &csv::Position| usize::try_from(p.byte()).unwrap_or(usize::MAX).min(text.len());
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    // The reader's position is where it started looking, before any empty lines
                    // it skipped.
                    let from = record.position().map_or(0, byte);
                    let start =
                        from + (text[from..].len() - text[from..].trim_start_matches(['\r', '\n']).len());
                    extents.push((start, byte(reader.position()).max(start)));
                    rows.push((start, record.iter().map(str::to_string).collect()));
                }
                Err(e) => {
                    let offset = e.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
                    return Err(at(offset, format!("cannot read the payload file: {e}"))
                        .with_help(format!("the file is loaded by `config.payload` at {origin}")));
                }
            }
        }
        if !o.skip_empty_lines {
            rows.extend(empty_lines(text, &extents).into_iter().map(|s| (s, vec![String::new()])));
            rows.sort_by_key(|(s, _)| *s);
        }
        if o.skip_header && !rows.is_empty() {
            rows.remove(0);
        }
        let mut out = Vec::with_capacity(rows.len());
        for (start, row) in rows {
            if row.len() < o.fields {
                let blank = row.len() == 1 && row[0].is_empty();
                let help = if blank {
                    "the line is empty: remove it, or leave `skipEmptyLines` at its default (`true`)"
                        .to_string()
                } else {
                    format!(
                        "add the missing values, or name fewer `fields` (the file is loaded by `config.payload` at {origin})"
                    )
                };
                return Err(at(
                    start,
                    format!(
                        "this row of the payload file has {} {}, but `fields` names {}",
                        row.len(),
                        if row.len() == 1 { "value" } else { "values" },
                        o.fields
                    ),
                )
                .with_help(help));
            }
            out.push(
                row.into_iter()
                    .map(|v| if o.cast { cast(v) } else { serde_json::Value::String(v) })
                    .collect(),
            );
        }
        Ok(out)
    }

    /// `config.defaults` and `config.http.defaults`; a key may be set in one of them only.
    pub(super) fn defaults(&self, config: Option<&Entry>, http: Option<&Entry>) -> Result<Defaults> {
        let mut maps = Vec::new();
        if let Some(e) = config {
            maps.push(self.map(&e.value, "`config.defaults`", &DEFAULTS, true)?);
        }
        if let Some(e) = http {
            maps.push(self.map(&e.value, "`config.http.defaults`", &DEFAULTS, true)?);
        }
        let get = |key: &str| -> Result<Option<&Entry>> {
            let found: Vec<&Entry> = maps.iter().filter_map(|m| m.get(key)).collect();
            if let [first, second, ..] = found.as_slice() {
                return Err(self.err(second.key_span, format!("`defaults.{key}` is set twice")).with_help(format!(
                    "it is set under both `config.defaults` and `config.http.defaults` (line {}); keep one",
                    first.key_span.start.line
                )));
            }
            Ok(found.first().copied())
        };
        let headers = get("headers")?.map(|e| self.headers(&e.value)).transpose()?.unwrap_or_default();
        let cookies =
            get("cookie")?.map(|e| self.cookies(&e.value, "`cookie`")).transpose()?.unwrap_or_default();
        let strict_capture = get("strictCapture")?
            .map(|e| self.boolean(&e.value, "`strictCapture`"))
            .transpose()?
            .unwrap_or(true);
        let jitter = match get("think")? {
            None => None,
            Some(e) => {
                let map = self.map(&e.value, "`defaults.think`", &THINK_DEFAULTS, true)?;
                map.get("jitter").map(|j| self.jitter(&j.value)).transpose()?
            }
        };
        Ok(Defaults { headers, cookies, strict_capture, jitter })
    }

    /// Think-time jitter: a number of seconds, a percentage of the pause (`"20%"`), or a duration.
    pub(super) fn jitter(&self, node: &Node) -> Result<Jitter> {
        if let Some(text) = scalar_text(node).filter(|_| number_of(node).is_none())
            && let Some(number) = text.trim().strip_suffix('%')
        {
            let help = "a percentage of the pause from 0% to 100%, e.g. `jitter: \"20%\"`";
            let pct: f64 = number.trim().parse().map_err(|_| {
                self.err(node.span, format!("`jitter` must be a percentage, found `{text}`")).with_help(help)
            })?;
            if !(0.0..=100.0).contains(&pct) {
                return Err(self
                    .err(node.span, format!("`jitter` must be between 0% and 100%, found `{text}`"))
                    .with_help(help));
            }
            return Ok(Jitter::Fraction(pct / 100.0));
        }
        let d = self.duration(node, "`jitter`").map_err(|e| {
            let help =
                "jitter is a number of seconds, a duration like `200ms`, or a percentage like `\"20%\"`";
            ScriptError { help: Some(help.to_string()), ..e }
        })?;
        Ok(Jitter::Absolute(d))
    }

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
            (Some((Some(a), _)), Some((Some(b), at))) if a != b => {
                return Err(self
                    .err(at, "the apdex `threshold` is set twice, with different values")
                    .with_help(format!("`config.apdex.threshold` is {a}; keep one of the two")));
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
                        let expression = self.expr(
                            &expression.value,
                            "`expression`",
                            "http.response_time.p99 < 200 and http.request_rate > 10",
                        )?;
                        let strict = self.flag(&c, "strict", true)?;
                        out.conditions.push(Condition { expression, strict });
                    }
                }
                "maxErrorRate" => {
                    if let Some(first) = max_error_rate_at {
                        return Err(self.err(e.key_span, "`maxErrorRate` is set twice").with_help(format!(
                            "it is also set on line {}, under `config.ensure` or `config.plugins.ensure`; keep one",
                            first.start.line
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

    /// Checks the keys of every environment (an environment is fully checked when `-e` selects it).
    pub(super) fn check_environments(&self, node: &Node) -> Result<()> {
        for env in self.entries(node, "`environments`", "a map of environment names to settings")? {
            let map = self.map(&env.value, &format!("environment `{}`", env.key), &CONFIG, true)?;
            if let Some(nested) = map.get("environments") {
                return Err(self
                    .err(nested.key_span, "an environment cannot have `environments` of its own")
                    .with_help("define every environment directly under `config.environments`"));
            }
        }
        Ok(())
    }

    /// Applies `--scenario-name` and checks that some scenario can run.
    pub(super) fn select_scenarios(
        &self,
        scenarios: &mut Vec<Scenario>,
        entry: &Entry,
        names: &[String],
    ) -> Result<()> {
        if names.is_empty() {
            if scenarios.iter().all(|s| s.weight == 0) {
                return Err(self
                    .err(entry.key_span, "every scenario has `weight: 0`, so none could ever run")
                    .with_help("give at least one scenario a positive weight"));
            }
            return Ok(());
        }
        for name in names {
            if !scenarios.iter().any(|s| s.name == *name) {
                let all: Vec<&str> = scenarios.iter().map(|s| s.name.as_str()).collect();
                return Err(self
                    .err(entry.key_span, format!("no scenario is named `{name}` (from --scenario-name)"))
                    .with_help(names_help(name, &all, "the scenarios are", "")));
            }
        }
        scenarios.retain(|s| names.contains(&s.name));
        // Scenarios picked by name run even if their weight is 0.
        if scenarios.iter().all(|s| s.weight == 0) {
            scenarios.iter_mut().for_each(|s| s.weight = 1);
        }
        Ok(())
    }
}

/// How to read a payload file.
struct CsvOptions {
    delimiter: u8,
    skip_header: bool,
    cast: bool,
    skip_empty_lines: bool,
    /// Number of `fields`: the fewest values a row may have.
    fields: usize,
}

/// Byte offsets of the empty lines of a CSV text whose records cover `extents` (the csv crate
/// skips empty lines silently). An empty line inside a record (in a quoted value) does not count.
fn empty_lines(text: &str, extents: &[(usize, usize)]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches('\n').trim_end_matches('\r');
        if content.is_empty() && !extents.iter().any(|&(start, end)| (start..end).contains(&offset)) {
            out.push(offset);
        }
        offset += line.len();
    }
    out
}

/// Artillery's `cast`: `true`/`false` become booleans and numbers become numbers; everything else,
/// including numbers with leading zeros (`007`, often an identifier), stays a string.
fn cast(value: String) -> serde_json::Value {
    match value.as_str() {
        "true" => return serde_json::Value::Bool(true),
        "false" => return serde_json::Value::Bool(false),
        _ => {}
    }
    if crate::number::is_json_number(&value) {
        if let Ok(i) = value.parse::<i64>() {
            return serde_json::Value::from(i);
        }
        if let Some(n) = value.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            return serde_json::Value::Number(n);
        }
    }
    serde_json::Value::String(value)
}

/// Drops the endpoints no remaining step uses (after `--scenario-name`) and renumbers the rest.
pub(super) fn prune_endpoints(plan: &mut Plan) {
    fn visit(steps: &mut [Step], f: &mut dyn FnMut(&mut u32)) {
        for step in steps {
            match step {
                Step::Request(r) => f(&mut r.endpoint),
                Step::Loop { steps, .. } | Step::Parallel(steps) => visit(steps, f),
                Step::Ws(ws) => match &mut **ws {
                    WsStep::Connect(c) => f(&mut c.endpoint),
                    WsStep::Send(s) => {
                        if let Some(r) = &mut s.reply {
                            f(&mut r.endpoint);
                        }
                    }
                    WsStep::Wait(w) => f(&mut w.endpoint),
                    WsStep::Close(_) => {}
                },
                Step::Think(_) | Step::Log(_) | Step::Function(_) => {}
            }
        }
    }
    fn visit_all(plan: &mut Plan, f: &mut dyn FnMut(&mut u32)) {
        if let Some(id) = &mut plan.ws.implicit_connect {
            f(id);
        }
        for flow in plan.before.iter_mut().chain(plan.after.iter_mut()) {
            visit(flow, f);
        }
        for s in &mut plan.scenarios {
            visit(&mut s.flow, f);
        }
    }
    let mut used = vec![false; plan.endpoints.len()];
    visit_all(plan, &mut |id| {
        if let Some(u) = used.get_mut(*id as usize) {
            *u = true;
        }
    });
    let mut renumber = vec![0u32; plan.endpoints.len()];
    let mut kept = Vec::new();
    for (i, endpoint) in std::mem::take(&mut plan.endpoints).into_iter().enumerate() {
        if used[i] {
            renumber[i] = u32::try_from(kept.len()).unwrap_or(u32::MAX);
            kept.push(endpoint);
        }
    }
    plan.endpoints = kept;
    visit_all(plan, &mut |id| *id = renumber.get(*id as usize).copied().unwrap_or(*id));
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_follows_artillery_except_leading_zeros() {
        use serde_json::json;
        let c = |s: &str| cast(s.to_string());
        assert_eq!(c("42"), json!(42));
        assert_eq!(c("-1.5"), json!(-1.5));
        assert_eq!(c("0"), json!(0));
        assert_eq!(c("0.25"), json!(0.25));
        assert_eq!(c("1e3"), json!(1000.0));
        assert_eq!(c("true"), json!(true));
        assert_eq!(c("false"), json!(false));
        assert_eq!(c("007"), json!("007"));
        assert_eq!(c("True"), json!("True"));
        assert_eq!(c(""), json!(""));
        assert_eq!(c(" 1"), json!(" 1"));
        assert_eq!(c("1."), json!("1."));
        assert_eq!(c("99999999999999999999"), json!(1e20));
    }

    #[test]
    fn empty_lines_are_found_between_records_and_at_the_edges() {
        let text = "\na,b\n\n\nc,d\r\n\r\ne,\"x\n\ny\"\n";
        // Records: a,b at 1..5, c,d at 7..11, and e,"x..y" (with an empty line inside) at 14..23.
        assert_eq!(&text[1..4], "a,b");
        assert_eq!(&text[7..10], "c,d");
        assert_eq!(&text[14..15], "e");
        assert_eq!(empty_lines(text, &[(1, 5), (7, 11), (14, 23)]), [0, 5, 6, 12]);
        assert_eq!(empty_lines("a\n", &[(0, 2)]), Vec::<usize>::new());
        assert_eq!(empty_lines("a", &[(0, 1)]), Vec::<usize>::new());
        assert_eq!(empty_lines("a\n\n", &[(0, 2)]), [2]);
    }

    fn load(csv: &str, skip_empty_lines: bool) -> std::result::Result<Vec<Vec<serde_json::Value>>, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("d.csv"), csv).unwrap();
        let script = format!(
            "config:\n  target: http://h\n  payload: {{ path: '{}', fields: [a, b], skipEmptyLines: {skip_empty_lines}, cast: false }}\nscenarios:\n  - flow: [ {{think: 1}} ]\n",
            dir.path().join("d.csv").display()
        );
        match crate::parse_str(&script, "t.yaml", &crate::LoadOptions::default()) {
            Ok(plan) => Ok((*plan.payloads[0].rows).clone()),
            Err(e) => {
                Err(format!("{}:{}: {}", e.file.rsplit('/').next().unwrap_or_default(), e.line, e.message))
            }
        }
    }

    #[test]
    fn csv_rows_and_empty_lines_with_real_reader_positions() {
        use serde_json::json;
        let text = "\n\na,b\r\n\r\nc,\"x\n\n\"\n\n";
        assert_eq!(
            load(text, true),
            Ok(vec![vec![json!("a"), json!("b")], vec![json!("c"), json!("x\n\n")]])
        );
        let e = load(text, false).unwrap_err();
        assert_eq!(e, "d.csv:1: this row of the payload file has 1 value, but `fields` names 2");
        let e = load("a,b\n\nc,d\n", false).unwrap_err();
        assert!(e.starts_with("d.csv:2: "), "{e}");
        let e = load("a,b\nc,d\nlast\n", true).unwrap_err();
        assert!(e.starts_with("d.csv:3: "), "{e}");
        let e = load("a,b\n\n\nc\n", true).unwrap_err();
        assert!(e.starts_with("d.csv:4: "), "line numbers count skipped empty lines: {e}");
    }
}
