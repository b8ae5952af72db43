//! From the spanned YAML tree to a [`Plan`]: the script format itself.
//!
//! Owns the load pipeline (parse, merge, `-e`, `--overrides`) and the assembly of the plan from its
//! parts, with the variable scope built in definition order. Every error points at the key or
//! value it is about, in the file it came from. The parts live beside it: the key schema in
//! `parse/keys.rs`, typed readers and error helpers in `parse/read.rs`, HTTP settings and request
//! values in `parse/http.rs`, phases and stages in `parse/workload.rs`, payloads in
//! `parse/payload.rs`, `ensure`, `apdex` and the plugins in `parse/checks.rs` (`publish-metrics` in `parse/publish.rs`), other `config`
//! sections in `parse/config.rs`, scenarios, steps and requests in `parse/flow.rs`, WebSocket steps in
//! `parse/ws.rs`.

mod checks;
mod config;
mod flow;
mod http;
mod keys;
mod metric_names;
mod payload;
mod processor;
mod publish;
mod read;
mod tracing;
mod workload;
mod ws;

pub(crate) use processor::exported_names_help;
pub use ws::{http_scheme, ws_scheme};

use std::cell::RefCell;
use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use crate::LoadOptions;
use crate::error::{ScriptError, ScriptWarning, Span};
use crate::plan::{Endpoint, EndpointId, Jitter, Payload, Plan, ProcessorSpec};
use crate::yaml::{self, Entry, Node, Value};

use self::http::check_target;
use keys::*;
use read::*;

type Result<T> = std::result::Result<T, ScriptError>;

/// `config.variables` and `--var`, with their values, in order of definition.
type Variables = Vec<(String, serde_json::Value)>;
/// The top-level keys that mark an `--overrides` object as a whole script (Artillery's form).
const ROOT_OVERRIDE_KEYS: [&str; 4] = ["config", "scenarios", "before", "after"];

/// One script source: a file, an in-memory script, or the `--overrides` JSON.
pub(crate) struct Source {
    /// The name used in error messages (the path as given).
    pub name: String,
    /// The whole text.
    pub text: String,
    /// The directory relative paths in this source are resolved against (empty: the current
    /// directory).
    pub dir: PathBuf,
}

/// Parses the sources, merges them (files in order, then `-e`, then `--overrides`) and builds
/// the plan.
pub(crate) fn build(mut sources: Vec<Source>, opts: &LoadOptions) -> Result<Plan> {
    let mut roots = Vec::with_capacity(sources.len());
    for (i, s) in sources.iter().enumerate() {
        let mut node = yaml::parse_document(&s.text, &s.name)?;
        yaml::set_file(&mut node, i);
        roots.push(node);
    }
    let overrides = match &opts.overrides {
        None => None,
        Some(value) => {
            let name = "--overrides".to_string();
            if !value.is_object() {
                return Err(ScriptError::general(&name, "--overrides must be a JSON object").with_help(
                    r#"for example --overrides '{"phases": [{"duration": 10, "arrivalRate": 1}]}'"#,
                ));
            }
            let text = serde_json::to_string(value)
                .map_err(|e| ScriptError::general(&name, format!("--overrides cannot be read: {e}")))?;
            let mut node = yaml::parse_document(&text, &name)?;
            yaml::set_file(&mut node, sources.len());
            sources.push(Source { name, text, dir: PathBuf::new() });
            Some(node)
        }
    };
    let mut roots = roots.into_iter();
    let Some(mut root) = roots.next() else {
        return Err(ScriptError::general("hornet", "no script was given"));
    };
    for more in roots {
        yaml::deep_merge(&mut root, more, &["scenarios"]);
    }
    let mut cx = Cx {
        sources: &sources,
        endpoints: Vec::new(),
        endpoint_ids: HashMap::new(),
        relative_url: None,
        scope: Vec::new(),
        strict_capture: true,
        default_jitter: None,
        warnings: RefCell::new(Vec::new()),
        processor: None,
        target: None,
        known_kinds: HashMap::new(),
        split_over: opts.split_over.max(1),
        data_files: opts.data_files.clone(),
        form_files_met: std::cell::Cell::new(0),
        kept_form_files: RefCell::new(Vec::new()),
        env: opts.shipped_env.clone(),
    };
    if let Some(env) = &opts.environment {
        cx.apply_environment(&mut root, env)?;
    }
    if let Some(o) = overrides {
        apply_overrides(&mut root, o);
    }
    let built = cx.plan(&root, opts);
    let warnings = cx.warnings.take();
    // With --strict, the first warning is the first problem met, even when a later one is an error.
    if opts.strict
        && let Some(ScriptWarning(first)) = warnings.first().cloned()
    {
        let help = match &first.help {
            Some(h) => format!("{h}; this is a warning, an error because of --strict"),
            None => "this is a warning, an error because of --strict".to_string(),
        };
        return Err(first.with_help(help));
    }
    let mut plan = built?;
    plan.warnings = warnings;
    Ok(plan)
}

/// Merges the `--overrides` document into the script: into `config`, or into the whole script when
/// it has top-level keys (Artillery's form).
fn apply_overrides(root: &mut Node, overrides: Node) {
    let whole = matches!(&overrides.value, Value::Map(entries)
        if entries.iter().any(|e| ROOT_OVERRIDE_KEYS.contains(&e.key.as_str())));
    if whole {
        yaml::deep_merge(root, overrides, &[]);
        return;
    }
    let Value::Map(entries) = &mut root.value else { return };
    match entries.iter_mut().find(|e| e.key == "config") {
        Some(config) => yaml::deep_merge(&mut config.value, overrides, &[]),
        None => entries.push(Entry { key: "config".to_string(), key_span: overrides.span, value: overrides }),
    }
}

/// The `as` names of every capture and match under `before`, `after` and `scenarios`: a template
/// anywhere may insert a variable captured anywhere.
/// What a variable of `config.variables` holds for each virtual user, as an error says it. A list
/// gives each virtual user one of its elements, so it holds a list only when its elements are.
fn value_kind(value: &serde_json::Value) -> &'static str {
    use serde_json::Value as J;
    match value {
        J::Null => "null",
        J::Bool(_) => "a boolean",
        J::Number(_) => "a number",
        J::String(_) => "a string",
        J::Object(_) => "a map",
        J::Array(items) if items.iter().any(J::is_array) => "a list",
        J::Array(_) => "a list of single values, of which each virtual user gets one",
    }
}

fn capture_names(root: &Node) -> Vec<String> {
    fn walk(node: &Node, out: &mut Vec<String>) {
        match &node.value {
            Value::Scalar(_) => {}
            Value::Seq(items) => items.iter().for_each(|i| walk(i, out)),
            Value::Map(entries) => {
                for e in entries {
                    if e.key == "capture" || e.key == "match" {
                        let specs: Vec<&Node> = match &e.value.value {
                            Value::Seq(items) => items.iter().collect(),
                            _ => vec![&e.value],
                        };
                        for spec in specs {
                            if let Value::Map(fields) = &spec.value
                                && let Some(name) = fields.iter().find(|f| f.key == "as")
                                && let Some(text) = scalar_text(&name.value)
                                && !out.iter().any(|o| o == text)
                            {
                                out.push(text.to_string());
                            }
                        }
                    }
                    walk(&e.value, out);
                }
            }
        }
    }
    let mut out = Vec::new();
    if let Value::Map(entries) = &root.value {
        for e in entries.iter().filter(|e| matches!(e.key.as_str(), "before" | "after" | "scenarios")) {
            walk(&e.value, &mut out);
        }
    }
    out
}

/// Conversion state: the sources (for errors) and what is collected across the tree.
struct Cx<'a> {
    sources: &'a [Source],
    endpoints: Vec<Endpoint>,
    endpoint_ids: HashMap<String, EndpointId>,
    /// The first request URL that is relative to the target, with its span.
    relative_url: Option<(String, Span)>,
    /// The variable names a template may insert (besides `$` built-ins), in order of definition.
    scope: Vec<String>,
    /// `config.defaults.strictCapture`.
    strict_capture: bool,
    /// `config.defaults.think.jitter`.
    default_jitter: Option<Jitter>,
    /// What the script does that is accepted with a warning, in the order it was read.
    warnings: RefCell<Vec<ScriptWarning>>,
    /// `config.processor`, collecting the function names the script uses as they are read.
    processor: Option<ProcessorSpec>,
    /// The target (from -t or `config.target`), once read: the base of relative URLs.
    target: Option<String>,
    /// What the variables whose value is known at load hold, as an error describes it ("a
    /// string"): those of `config.variables` and `--var` that no payload, capture or processor
    /// can set.
    known_kinds: HashMap<String, &'static str>,
    /// The processes the load is split over (see `LoadOptions::split_over`), at least 1.
    split_over: u32,
    /// Where `config.payload` and `formData` files come from (`LoadOptions::data_files`).
    data_files: crate::DataFiles,
    /// How many `formData` `fromFile` parts have been read so far (the index of the next one among
    /// the shipped files).
    form_files_met: std::cell::Cell<usize>,
    /// The `fromFile` files read so far, with [`crate::DataFiles::DiskKept`].
    kept_form_files: RefCell<Vec<crate::DataFile>>,
    /// What `$env.NAME` reads (`LoadOptions::shipped_env` over this process's environment).
    env: crate::ShippedEnv,
}

impl Cx<'_> {
    /// Merges `config.environments.<name>` over `config` (`-e name`).
    fn apply_environment(&self, root: &mut Node, name: &str) -> Result<()> {
        let no_envs = || {
            self.general(format!("-e {name}: the script defines no environments"))
                .with_help(format!("add `config.environments.{name}` with the settings of that environment"))
        };
        let Value::Map(entries) = &mut root.value else { return Err(no_envs()) };
        let Some(config) = entries.iter_mut().find(|e| e.key == "config") else { return Err(no_envs()) };
        let Value::Map(config_entries) = &config.value.value else { return Err(no_envs()) };
        let Some(envs) = config_entries.iter().find(|e| e.key == "environments") else {
            return Err(no_envs());
        };
        let list = self.entries(&envs.value, "`environments`", "a map of environment names to settings")?;
        let Some(env) = list.iter().find(|e| e.key == name) else {
            let names: Vec<&str> = list.iter().map(|e| e.key.as_str()).collect();
            return Err(self
                .err(
                    envs.key_span,
                    format!("there is no environment `{name}` (from -e) in `config.environments`"),
                )
                .with_help(names_help(
                    name,
                    &names,
                    "the environments are",
                    "`config.environments` is empty",
                )));
        };
        self.map(&env.value, &format!("environment `{name}`"), &CONFIG, true)?;
        let env = env.value.clone();
        yaml::deep_merge(&mut config.value, env, &[]);
        Ok(())
    }

    fn plan(&mut self, root: &Node, opts: &LoadOptions) -> Result<Plan> {
        let top = self.map(root, "the script", &ROOT, false)?;
        let config_entry = top.get("config").ok_or_else(|| {
            self.missing(&top, "config", &ROOT).with_help("add a `config:` map, with at least a `target`")
        })?;
        let scenarios_entry = top.get("scenarios").ok_or_else(|| {
            self.missing(&top, "scenarios", &ROOT)
                .with_help("add a `scenarios:` list with at least one scenario")
        })?;
        let config = self.map(&config_entry.value, "`config`", &CONFIG, false)?;
        self.processor(&top, &config, opts.shipped_processor.as_ref())?;

        let target = self.target(&config, opts)?;
        self.target = target.clone();
        let phases = self.workload(&config)?;
        let (http, http_defaults) = self.http_settings(&config, opts)?;
        let (variables, payloads) = self.scope(&config, root, opts)?;

        let defaults = self.defaults(config.get("defaults"), http_defaults)?;
        self.strict_capture = defaults.strict_capture;
        self.default_jitter = defaults.jitter;

        let ensure = self.ensure_and_plugins(&config)?;
        let publish_metrics = self.publish_metrics(&config)?;

        if let Some(e) = config.get("environments") {
            self.check_environments(&e.value)?;
        }

        let graceful_stop = match config.get("gracefulStop") {
            Some(e) => self.duration(&e.value, "`gracefulStop`")?,
            None => Duration::from_secs(30),
        };

        let mut ws = self.ws_settings(config.get("ws"))?;
        let mut before = top.get("before").map(|e| self.before_after(e)).transpose()?;
        let mut after = top.get("after").map(|e| self.before_after(e)).transpose()?;
        let mut scenarios = self.scenarios(scenarios_entry)?;
        let flows =
            before.iter_mut().chain(after.iter_mut()).chain(scenarios.iter_mut().map(|s| &mut s.flow));
        let mut needs_connection = false;
        for flow in flows {
            ws::fill_timeouts(flow, ws.timeout);
            needs_connection |= ws::first_ws_step_needs_connection(flow) == Some(true);
        }
        if needs_connection {
            let Some(t) = &target else {
                return Err(self
                    .err(scenarios_entry.key_span, "a WebSocket step runs before any `connect`, but there is no `config.target` to connect to")
                    .with_help("add a `connect: \"ws://host/path\"` step first, or set `config.target` (or pass -t)"));
            };
            ws.implicit_connect = Some(self.implicit_connect(t, scenarios_entry.key_span)?);
        }
        self.check_relative_urls(target.as_deref())?;

        self.select_scenarios(&mut scenarios, scenarios_entry, &opts.scenario_names)?;

        let mut plan = Plan {
            source: None,
            target,
            phases,
            http,
            default_headers: defaults.headers,
            variables,
            graceful_stop,
            scenarios,
            endpoints: std::mem::take(&mut self.endpoints),
            ws,
            before,
            after,
            payloads,
            default_cookies: defaults.cookies,
            strict_capture: defaults.strict_capture,
            ensure: ensure.ensure,
            apdex_threshold_ms: ensure.apdex_threshold_ms,
            expect: ensure.expect,
            publish_metrics,
            environment: opts.environment.clone(),
            warnings: Vec::new(),
            processor: self.processor.take(),
            kept_form_files: self.kept_form_files.take(),
            test_id: self.test_id(opts)?,
            tracing: self.tracing(&config, opts)?,
        };
        // An `open-telemetry` publish-metrics entry with `traces` turns tracing on, unless
        // `config.tracing` (or --trace) already set it.
        if plan.tracing.is_none()
            && let Some(rate) = plan.publish_metrics.iter().find_map(|p| match p {
                crate::plan::PublishMetrics::OpenTelemetry(o) => o.traces_sample_rate,
                _ => None,
            })
        {
            plan.tracing = Some(crate::plan::Tracing { sample_rate: rate, ..Default::default() });
        }
        if !opts.scenario_names.is_empty() {
            config::prune_endpoints(&mut plan);
        }
        crate::plan::derive_methods(&mut plan);
        Ok(plan)
    }

    /// The target: `-t` when given, else `config.target`, checked either way.
    fn target(&self, config: &Map<'_>, opts: &LoadOptions) -> Result<Option<String>> {
        if let Some(t) = &opts.target {
            return Ok(Some(check_target(t).map_err(|(m, h)| {
                let mut e = self.general(format!("invalid target `{t}` (from -t): {m}"));
                e.help = h;
                e
            })?));
        }
        let Some(e) = config.get("target") else { return Ok(None) };
        let written = self.text(&e.value, "`target`")?;
        // `{{ $processEnvironment.NAME }}` (or `$env`) is read now, as Artillery does.
        let template = self.compile_template(written).map_err(|err| {
            self.err(read::inner_span(&e.value, err.offset, 2), format!("invalid `target`: {}", err.message))
        })?;
        let text = template.as_constant().unwrap_or(written);
        Ok(Some(check_target(text).map_err(|(m, h)| {
            let err = self.err(e.value.span, format!("invalid `target`: {m}"));
            ScriptError { help: h, ..err }
        })?))
    }

    /// The variable scope, in order of definition: `config.variables`, then `--var`, payload
    /// fields, capture names and `target`. Returns the variables with their values, and the
    /// payloads.
    fn scope(
        &mut self,
        config: &Map<'_>,
        root: &Node,
        opts: &LoadOptions,
    ) -> Result<(Variables, Vec<Payload>)> {
        let mut variables = Vec::new();
        if let Some(e) = config.get("variables") {
            for v in self.entries(&e.value, "`variables`", "a map of names to values")? {
                self.variable_name(&v.key, v.key_span, "a variable name")?;
                variables.push((v.key.clone(), self.json_value(&v.value)?));
            }
        }
        for (name, value) in &opts.variables {
            if name.trim().is_empty() || name.starts_with('$') {
                return Err(self
                    .general(format!("--var {name}=...: `{name}` is not a variable name"))
                    .with_help(
                        "a variable name is not empty and does not start with `$` (reserved for built-ins)",
                    ));
            }
            match variables.iter_mut().find(|(n, _)| n == name) {
                Some(slot) => slot.1 = value.clone(),
                None => variables.push((name.clone(), value.clone())),
            }
        }
        self.scope.extend(variables.iter().map(|(n, _)| n.clone()));
        let payloads = match config.get("payload") {
            Some(e) => self.payloads(&e.value, &opts.data_files)?,
            None => Vec::new(),
        };
        for p in &payloads {
            for name in p.fields.iter().chain(&p.load_all) {
                self.add_to_scope(name);
            }
        }
        let captured = capture_names(root);
        for name in &captured {
            self.add_to_scope(name);
        }
        self.add_to_scope("target");
        if self.processor.is_none() {
            let set_later = |name: &str| {
                captured.iter().any(|c| c == name)
                    || payloads.iter().any(|p| p.fields.iter().chain(&p.load_all).any(|f| f == name))
            };
            for (name, value) in &variables {
                if !set_later(name) {
                    self.known_kinds.insert(name.clone(), value_kind(value));
                }
            }
        }
        Ok((variables, payloads))
    }

    /// A request URL relative to the target needs a target.
    fn check_relative_urls(&mut self, target: Option<&str>) -> Result<()> {
        if target.is_none()
            && let Some((url, span)) = self.relative_url.take()
        {
            return Err(self
                    .err(span, format!("the URL `{url}` is relative, but there is no `config.target`"))
                    .with_help(
                        "set `config.target` (or pass -t), or write an absolute URL starting with http:// or https:// (ws:// or wss:// for `connect`)",
                    ));
        }
        Ok(())
    }
}
