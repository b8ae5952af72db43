//! From the spanned YAML tree to a [`Plan`]: the script format itself.
//!
//! Owns which keys exist where, which Artillery keys are known but not supported yet, the type and
//! range of every value, the phase rules, endpoint naming, and the "did you mean" hints. Every
//! error points at the key or value it is about.

use std::collections::HashMap;
use std::time::Duration;

use http::{HeaderName, HeaderValue, Method};

use crate::LoadOptions;
use crate::duration::{parse_duration, secs_to_duration};
use crate::error::{ScriptError, Span};
use crate::plan::{Body, EndpointId, HttpSettings, Phase, PhaseKind, Plan, RequestStep, Scenario, Step};
use crate::template::{JsonTemplate, Template};
use crate::yaml::{Entry, Node, ScalarKind, Value};

type Result<T> = std::result::Result<T, ScriptError>;

/// The keys allowed in one kind of mapping.
struct Keys {
    /// For messages: "unknown key `x` {place}".
    place: &'static str,
    /// For hints about a key used in the wrong place: "`x` belongs {home}".
    home: &'static str,
    known: &'static [&'static str],
    /// Artillery keys that hornet recognises but does not implement yet.
    unsupported: &'static [&'static str],
}

const ROOT: Keys = Keys {
    place: "at the top level",
    home: "at the top level of the script",
    known: &["config", "scenarios"],
    unsupported: &["before", "after"],
};
const CONFIG: Keys = Keys {
    place: "in `config`",
    home: "under `config`",
    known: &["target", "phases", "http", "timeout", "tls", "defaults", "variables", "gracefulStop", "mode"],
    unsupported: &[
        "payload",
        "processor",
        "plugins",
        "ensure",
        "apdex",
        "environments",
        "ws",
        "engines",
        "includeFiles",
        "socketio",
        "statsInterval",
    ],
};
const PHASE: Keys = Keys {
    place: "in a phase",
    home: "in a phase (an item of `config.phases`)",
    known: &["name", "duration", "arrivalRate", "rampTo", "arrivalCount", "pause", "maxVusers", "mode"],
    unsupported: &[],
};
const HTTP: Keys = Keys {
    place: "in `config.http`",
    home: "under `config.http`",
    known: &["timeout", "pool"],
    unsupported: &["maxSockets", "extendedMetrics", "distributedTracing", "cookieJarOptions", "defaults"],
};
const TLS: Keys = Keys {
    place: "in `config.tls`",
    home: "under `config.tls`",
    known: &["rejectUnauthorized"],
    unsupported: &[],
};
const DEFAULTS: Keys = Keys {
    place: "in `config.defaults`",
    home: "under `config.defaults`",
    known: &["headers"],
    unsupported: &["cookie", "think", "strictCapture"],
};
const SCENARIO: Keys = Keys {
    place: "in a scenario",
    home: "in a scenario (an item of `scenarios`)",
    known: &["name", "weight", "flow", "engine"],
    unsupported: &["beforeScenario", "afterScenario", "beforeRequest", "afterResponse", "onError"],
};
const STEP: Keys = Keys {
    place: "in a step",
    home: "in a flow step",
    known: &["get", "post", "put", "patch", "delete", "head", "options", "think", "loop", "count"],
    unsupported: &["function", "log", "parallel", "over", "whileTrue"],
};
const REQUEST: Keys = Keys {
    place: "in a request",
    home: "in a request (under `get`, `post`, ...)",
    known: &["url", "name", "headers", "qs", "json", "body"],
    unsupported: &[
        "capture",
        "expect",
        "match",
        "cookie",
        "form",
        "formData",
        "auth",
        "followRedirect",
        "gzip",
        "ifTrue",
        "beforeRequest",
        "afterResponse",
        "probability",
        "setContentLengthHeader",
        "http2",
    ],
};
const ALL_KEYS: [&Keys; 9] = [&ROOT, &CONFIG, &PHASE, &HTTP, &TLS, &DEFAULTS, &SCENARIO, &STEP, &REQUEST];

/// The step keys that are actions; a step has exactly one.
const ACTIONS: [&str; 9] = ["get", "post", "put", "patch", "delete", "head", "options", "think", "loop"];

const DURATION_HELP: &str =
    "a duration is a number of seconds (`10`, `0.5`) or a string like `500ms`, `90s`, `5m`, `1h`";

/// Builds the plan from a parsed document.
pub(crate) fn build(root: &Node, file: &str, source: &str, opts: &LoadOptions) -> Result<Plan> {
    let mut cx = Cx {
        file,
        source,
        endpoints: Vec::new(),
        endpoint_ids: HashMap::new(),
        relative_url: None,
        variable_names: Vec::new(),
    };
    cx.plan(root, opts)
}

/// Conversion state: the source (for errors) and what is collected across the tree.
struct Cx<'a> {
    file: &'a str,
    source: &'a str,
    endpoints: Vec<String>,
    endpoint_ids: HashMap<String, EndpointId>,
    /// The first request URL that is relative to the target, with its span.
    relative_url: Option<(String, Span)>,
    /// Names in `config.variables`: the only names a template can insert.
    variable_names: Vec<String>,
}

/// A mapping whose keys have been checked, with lookup by key.
struct Map<'n> {
    entries: &'n [Entry],
    /// Where to point for "missing key" errors.
    span: Span,
}

impl<'n> Map<'n> {
    fn get(&self, key: &str) -> Option<&'n Entry> {
        self.entries.iter().find(|e| e.key == key)
    }
}

/// Describes a value for "found ..." in type errors.
fn found(node: &Node) -> String {
    match &node.value {
        Value::Seq(_) => "a list".to_string(),
        Value::Map(_) => "a map".to_string(),
        Value::Scalar(s) => match s.kind {
            ScalarKind::Null => "an empty value".to_string(),
            ScalarKind::Bool(b) => format!("`{b}`"),
            ScalarKind::Int(_) | ScalarKind::Float(_) => format!("the number {}", s.text),
            ScalarKind::Str => {
                let mut shown: String = s.text.chars().take(40).collect();
                if shown.len() < s.text.len() {
                    shown.push_str("...");
                }
                format!("the string `{shown}`")
            }
        },
    }
}

/// Scalar text usable as a string: strings, numbers and booleans (as written).
fn scalar_text(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Scalar(s) if s.kind != ScalarKind::Null => Some(&s.text),
        _ => None,
    }
}

fn number_of(node: &Node) -> Option<f64> {
    match &node.value {
        Value::Scalar(s) => match s.kind {
            ScalarKind::Int(i) => Some(i as f64),
            ScalarKind::Float(f) => Some(f),
            _ => None,
        },
        _ => None,
    }
}

/// The best "did you mean" candidate for `key` among `candidates`.
fn suggest<'k>(key: &str, candidates: &[&'k str]) -> Option<&'k str> {
    let lower = key.to_lowercase();
    candidates
        .iter()
        .filter_map(|&c| {
            let cl = c.to_lowercase();
            let lev = strsim::osa_distance(&lower, &cl);
            let jw = strsim::jaro_winkler(&lower, &cl);
            let close = lev == 0 || jw >= 0.8 || lev <= (cl.chars().count() / 3).clamp(1, 2);
            close.then_some((lev, -jw, c))
        })
        .min_by(|a, b| a.0.cmp(&b.0).then(a.1.total_cmp(&b.1)))
        .map(|(_, _, c)| c)
}

fn backquoted(items: &[&str]) -> String {
    items.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

impl Cx<'_> {
    fn err(&self, span: Span, message: impl Into<String>) -> ScriptError {
        ScriptError::at(self.file, self.source, span, message)
    }

    fn type_err(&self, node: &Node, what: &str, expected: &str) -> ScriptError {
        self.err(node.span, format!("{what} must be {expected}, found {}", found(node)))
    }

    fn unsupported(&self, span: Span, feature: &str) -> ScriptError {
        self.err(span, format!("`{feature}` is an Artillery feature hornet does not support yet"))
    }

    /// Checks that `node` is a mapping whose keys all belong to `keys`. A null value is an empty
    /// mapping when `null_ok`.
    fn map<'n>(&self, node: &'n Node, what: &str, keys: &Keys, null_ok: bool) -> Result<Map<'n>> {
        let entries: &'n [Entry] = match &node.value {
            Value::Map(entries) => entries,
            Value::Scalar(s) if null_ok && s.kind == ScalarKind::Null => &[],
            _ => return Err(self.type_err(node, what, "a map")),
        };
        for e in entries {
            if keys.known.contains(&e.key.as_str()) {
                continue;
            }
            if keys.unsupported.contains(&e.key.as_str()) {
                let err = self.unsupported(e.key_span, &e.key);
                return Err(match unsupported_help(keys, &e.key) {
                    Some(h) => err.with_help(h),
                    None => err.with_help("docs/script-format.md lists what hornet supports"),
                });
            }
            let err = self.err(e.key_span, format!("unknown key `{}` {}", e.key, keys.place));
            let help = if let Some(s) = suggest(&e.key, keys.known) {
                format!("did you mean `{s}`?")
            } else if let Some(home) = ALL_KEYS.iter().find(|k| k.known.contains(&e.key.as_str())) {
                format!("`{}` belongs {}", e.key, home.home)
            } else {
                format!("expected one of {}", backquoted(keys.known))
            };
            return Err(err.with_help(help));
        }
        Ok(Map { entries, span: node.span })
    }

    fn missing(&self, map: &Map<'_>, key: &str, keys: &Keys) -> ScriptError {
        self.err(map.span, format!("missing required key `{key}` {}", keys.place))
    }

    fn list<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Ok(items),
            _ => Err(self.type_err(node, what, "a list")),
        }
    }

    fn text<'n>(&self, node: &'n Node, what: &str) -> Result<&'n str> {
        scalar_text(node).ok_or_else(|| self.type_err(node, what, "a string"))
    }

    fn boolean(&self, node: &Node, what: &str) -> Result<bool> {
        match &node.value {
            Value::Scalar(s) => match s.kind {
                ScalarKind::Bool(b) => Ok(b),
                _ => Err(self.type_err(node, what, "`true` or `false`")),
            },
            _ => Err(self.type_err(node, what, "`true` or `false`")),
        }
    }

    /// A finite number that is zero or more.
    fn non_negative(&self, node: &Node, what: &str) -> Result<f64> {
        let n = number_of(node).ok_or_else(|| self.type_err(node, what, "a number"))?;
        if !n.is_finite() {
            return Err(self.err(node.span, format!("{what} must be a finite number, found {}", found(node))));
        }
        if n < 0.0 {
            return Err(self.err(node.span, format!("{what} must not be negative, found {}", found(node))));
        }
        Ok(n)
    }

    /// A whole number that is zero or more.
    fn whole(&self, node: &Node, what: &str) -> Result<u64> {
        match &node.value {
            Value::Scalar(s) => match s.kind {
                ScalarKind::Int(i) if i >= 0 => Ok(i as u64),
                ScalarKind::Int(_) | ScalarKind::Float(_) if number_of(node).is_some_and(|n| n < 0.0) => {
                    Err(self.err(node.span, format!("{what} must not be negative, found {}", found(node))))
                }
                _ => Err(self.type_err(node, what, "a whole number")),
            },
            _ => Err(self.type_err(node, what, "a whole number")),
        }
    }

    fn positive(&self, node: &Node, what: &str) -> Result<u64> {
        let n = self.whole(node, what)?;
        if n == 0 {
            return Err(self.err(node.span, format!("{what} must be at least 1, found 0")));
        }
        Ok(n)
    }

    /// A number of seconds or a duration string.
    fn duration(&self, node: &Node, what: &str) -> Result<Duration> {
        let parsed = match &node.value {
            Value::Scalar(s) => match s.kind {
                ScalarKind::Int(_) | ScalarKind::Float(_) => {
                    let secs = number_of(node).unwrap_or_default();
                    if secs < 0.0 {
                        return Err(self
                            .err(node.span, format!("{what} must not be negative, found {}", found(node))));
                    }
                    secs_to_duration(secs)
                }
                ScalarKind::Str => parse_duration(&s.text),
                _ => return Err(self.type_err(node, what, "a duration").with_help(DURATION_HELP)),
            },
            _ => return Err(self.type_err(node, what, "a duration").with_help(DURATION_HELP)),
        };
        parsed.map_err(|m| {
            self.err(node.span, format!("invalid duration for {what}: {m}")).with_help(DURATION_HELP)
        })
    }

    /// Compiles a string-like scalar as a template; a template error points inside the string
    /// when the source allows it.
    fn template(&self, node: &Node, what: &str) -> Result<Template> {
        let text = self.text(node, what)?;
        // The span of `len` characters at byte `offset` of the text, or the whole value when the
        // text does not map one to one onto the source.
        let inner = |offset: usize, len: usize| match &node.value {
            Value::Scalar(s) if s.text_col.is_some() => {
                let before = text.get(..offset).map_or(0, |t| t.chars().count());
                Span::on_line(node.span.start.line, s.text_col.unwrap_or_default() + before, len)
            }
            _ => node.span,
        };
        let template = Template::compile(text).map_err(|e| {
            self.err(inner(e.offset, 2), format!("invalid template in {what}: {}", e.message))
                .with_help("a template inserts a variable with `{{ name }}`")
        })?;
        for (offset, len, name) in placeholders(text) {
            if self.variable_names.iter().any(|v| v == name) {
                continue;
            }
            let span = inner(offset, len);
            if name.starts_with('$') {
                return Err(self
                    .err(span, format!("`{name}` is an Artillery feature hornet does not support yet"))
                    .with_help("templates can insert the variables of `config.variables` only"));
            }
            let err = self.err(span, format!("unknown variable `{name}` in {what}"));
            let names: Vec<&str> = self.variable_names.iter().map(String::as_str).collect();
            let root = name.split(['.', '[']).next().unwrap_or(name);
            let help = if root != name && names.contains(&root) {
                format!("`{root}` is a variable, but paths into a value like `{name}` are not supported yet")
            } else if let Some(s) = suggest(name, &names) {
                format!("did you mean `{s}`?")
            } else if names.is_empty() {
                "templates insert variables defined in `config.variables`, and it defines none".to_string()
            } else {
                format!("`config.variables` defines {}", backquoted(&names))
            };
            return Err(err.with_help(help));
        }
        Ok(template)
    }

    fn mode(&self, node: &Node) -> Result<()> {
        match scalar_text(node) {
            Some("uniform") => Ok(()),
            Some("poisson") => Err(self
                .err(node.span, "`mode: poisson` is an Artillery feature hornet does not support yet")
                .with_help("remove `mode`; hornet spaces arrivals evenly (`uniform`)")),
            _ => Err(self.type_err(node, "`mode`", "`uniform` or `poisson`")),
        }
    }

    fn endpoint(&mut self, name: String) -> Result<EndpointId> {
        if let Some(&id) = self.endpoint_ids.get(&name) {
            return Ok(id);
        }
        let id = EndpointId::try_from(self.endpoints.len())
            .map_err(|_| ScriptError::general(self.file, "too many distinct request names"))?;
        self.endpoints.push(name.clone());
        self.endpoint_ids.insert(name, id);
        Ok(id)
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

        let target = match &opts.target {
            Some(t) => Some(check_target(t).map_err(|(m, h)| {
                let mut e = ScriptError::general(self.file, format!("invalid target `{t}` (from -t): {m}"));
                e.help = h;
                e
            })?),
            None => match config.get("target") {
                None => None,
                Some(e) => {
                    let text = self.text(&e.value, "`target`")?;
                    Some(check_target(text).map_err(|(m, h)| {
                        let err = self.err(e.value.span, format!("invalid `target`: {m}"));
                        ScriptError { help: h, ..err }
                    })?)
                }
            },
        };

        if let Some(e) = config.get("mode") {
            self.mode(&e.value)?;
        }
        let phases = match config.get("phases") {
            None => Vec::new(),
            Some(e) if matches!(&e.value.value, Value::Scalar(s) if s.kind == ScalarKind::Null) => Vec::new(),
            Some(e) => {
                let items = self.list(&e.value, "`phases`")?;
                items.iter().map(|p| self.phase(p)).collect::<Result<Vec<_>>>()?
            }
        };

        let mut http = HttpSettings::default();
        let mut timeout_at = None;
        if let Some(e) = config.get("http") {
            let map = self.map(&e.value, "`config.http`", &HTTP, true)?;
            if let Some(t) = map.get("timeout") {
                http.timeout = self.timeout(&t.value)?;
                timeout_at = Some(t.key_span);
            }
            if let Some(p) = map.get("pool") {
                let n = self.positive(&p.value, "`pool`")?;
                http.pool =
                    Some(usize::try_from(n).map_err(|_| self.err(p.value.span, "`pool` is too large"))?);
            }
        }
        if let Some(t) = config.get("timeout") {
            if let Some(first) = timeout_at {
                return Err(self.err(t.key_span, "`timeout` is set twice").with_help(format!(
                    "it is also set under `config.http` on line {}; keep one",
                    first.start.line
                )));
            }
            http.timeout = self.timeout(&t.value)?;
        }
        http.insecure = opts.insecure;
        if let Some(e) = config.get("tls") {
            let map = self.map(&e.value, "`config.tls`", &TLS, true)?;
            if let Some(r) = map.get("rejectUnauthorized")
                && !self.boolean(&r.value, "`rejectUnauthorized`")?
            {
                http.insecure = true;
            }
        }

        let mut variables = Vec::new();
        if let Some(e) = config.get("variables") {
            let entries: &[Entry] = match &e.value.value {
                Value::Map(entries) => entries,
                Value::Scalar(s) if s.kind == ScalarKind::Null => &[],
                _ => return Err(self.type_err(&e.value, "`variables`", "a map of names to values")),
            };
            for v in entries {
                if v.key.trim().is_empty() {
                    return Err(self.err(v.key_span, "a variable name cannot be empty"));
                }
                variables.push((v.key.clone(), self.json_value(&v.value)?));
                self.variable_names.push(v.key.clone());
            }
        }

        let mut default_headers = Vec::new();
        if let Some(e) = config.get("defaults") {
            let map = self.map(&e.value, "`config.defaults`", &DEFAULTS, true)?;
            if let Some(h) = map.get("headers") {
                default_headers = self.headers(&h.value)?;
            }
        }

        let graceful_stop = match config.get("gracefulStop") {
            Some(e) => self.duration(&e.value, "`gracefulStop`")?,
            None => Duration::from_secs(30),
        };

        let scenarios = self.scenarios(scenarios_entry)?;

        if target.is_none()
            && let Some((url, span)) = self.relative_url.take()
        {
            return Err(self
                    .err(span, format!("the URL `{url}` is relative, but there is no `config.target`"))
                    .with_help(
                        "set `config.target` (or pass -t), or write an absolute URL starting with http:// or https://",
                    ));
        }

        Ok(Plan {
            source: None,
            target,
            phases,
            http,
            default_headers,
            variables,
            graceful_stop,
            scenarios,
            endpoints: std::mem::take(&mut self.endpoints),
        })
    }

    fn timeout(&self, node: &Node) -> Result<Duration> {
        let d = self.duration(node, "`timeout`")?;
        if d.is_zero() {
            return Err(self.err(node.span, "`timeout` must be more than 0"));
        }
        Ok(d)
    }

    fn phase(&self, node: &Node) -> Result<Phase> {
        let map = self.map(node, "each phase", &PHASE, false)?;
        let name = map.get("name").map(|e| self.text(&e.value, "`name`").map(str::to_string)).transpose()?;
        if let Some(e) = map.get("mode") {
            self.mode(&e.value)?;
        }
        let max_vusers = map.get("maxVusers").map(|e| self.positive(&e.value, "`maxVusers`")).transpose()?;
        let [duration, rate, ramp, count] =
            ["duration", "arrivalRate", "rampTo", "arrivalCount"].map(|k| map.get(k));

        if let Some(pause) = map.get("pause") {
            if let Some(other) = [duration, rate, ramp, count].into_iter().flatten().next() {
                return Err(self
                    .err(other.key_span, format!("a `pause` phase takes no `{}`", other.key))
                    .with_help("a pause is just `- pause: 10`; put the load in a phase of its own"));
            }
            let d = self.duration(&pause.value, "`pause`")?;
            return Ok(Phase { name, duration: d, kind: PhaseKind::Pause, max_vusers });
        }

        let (load, kind) = match (rate, count) {
            (Some(_), Some(c)) => {
                return Err(self
                    .err(c.key_span, "a phase has `arrivalRate` or `arrivalCount`, not both")
                    .with_help("split it into two phases"));
            }
            (None, None) => {
                if let Some(r) = ramp {
                    return Err(self
                        .err(r.key_span, "`rampTo` needs an `arrivalRate` to ramp from")
                        .with_help("add `arrivalRate: <start rate>` to this phase"));
                }
                return Err(self
                    .err(map.span, "a phase needs `arrivalRate`, `arrivalCount` or `pause`")
                    .with_help("for example `- duration: 60` with `arrivalRate: 10`"));
            }
            (Some(r), None) => {
                let start = self.non_negative(&r.value, "`arrivalRate`")?;
                let end = ramp.map(|e| self.non_negative(&e.value, "`rampTo`")).transpose()?;
                let kind = if start == 0.0 && end.is_none_or(|e| e == 0.0) {
                    PhaseKind::Pause
                } else {
                    PhaseKind::Rate { rate: start, ramp_to: end }
                };
                (r, kind)
            }
            (None, Some(c)) => {
                if let Some(r) = ramp {
                    return Err(self
                        .err(r.key_span, "`rampTo` goes with `arrivalRate`, not `arrivalCount`")
                        .with_help("use `arrivalRate` and `rampTo` to ramp the rate up or down"));
                }
                let n = self.whole(&c.value, "`arrivalCount`")?;
                (c, if n == 0 { PhaseKind::Pause } else { PhaseKind::Count { count: n } })
            }
        };
        let Some(duration) = duration else {
            return Err(self
                .err(map.span, format!("a phase with `{}` needs a `duration`", load.key))
                .with_help("add `duration: <seconds>`, e.g. `duration: 60`"));
        };
        let d = self.duration(&duration.value, "`duration`")?;
        if d.is_zero() && kind != PhaseKind::Pause {
            return Err(self
                .err(
                    duration.value.span,
                    format!("`duration` must be more than 0 in a phase with `{}`", load.key),
                )
                .with_help(DURATION_HELP));
        }
        Ok(Phase { name, duration: d, kind, max_vusers })
    }

    fn headers(&self, node: &Node) -> Result<Vec<(HeaderName, Template)>> {
        let entries: &[Entry] = match &node.value {
            Value::Map(entries) => entries,
            Value::Scalar(s) if s.kind == ScalarKind::Null => &[],
            _ => return Err(self.type_err(node, "`headers`", "a map of header names to values")),
        };
        let mut out: Vec<(HeaderName, Template)> = Vec::with_capacity(entries.len());
        for e in entries {
            let name = HeaderName::from_bytes(e.key.as_bytes()).map_err(|_| {
                self.err(e.key_span, format!("`{}` is not a valid header name", e.key))
                    .with_help("header names are letters, digits and `-` (no spaces or `:`)")
            })?;
            if out.iter().any(|(n, _)| *n == name) {
                return Err(self.err(e.key_span, format!("header `{name}` is set twice (names ignore case)")));
            }
            let what = format!("header `{}`", e.key);
            let value = self.template(&e.value, &what)?;
            if value.is_static() && HeaderValue::from_str(value.source()).is_err() {
                return Err(self
                    .err(e.value.span, format!("the value of {what} is not a valid header value"))
                    .with_help("header values cannot contain line breaks or other control characters"));
            }
            out.push((name, value));
        }
        Ok(out)
    }

    /// Any YAML value as JSON (for `variables`).
    fn json_value(&self, node: &Node) -> Result<serde_json::Value> {
        use serde_json::Value as J;
        Ok(match &node.value {
            Value::Scalar(s) => match s.kind {
                ScalarKind::Null => J::Null,
                ScalarKind::Bool(b) => J::Bool(b),
                ScalarKind::Int(i) => J::from(i),
                ScalarKind::Float(f) => J::Number(serde_json::Number::from_f64(f).ok_or_else(|| {
                    self.err(
                        node.span,
                        format!("`{}` is not a finite number, which JSON cannot hold", s.text),
                    )
                })?),
                ScalarKind::Str => J::String(s.text.clone()),
            },
            Value::Seq(items) => J::Array(items.iter().map(|i| self.json_value(i)).collect::<Result<_>>()?),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| Ok((e.key.clone(), self.json_value(&e.value)?)))
                    .collect::<Result<_>>()?,
            ),
        })
    }

    /// A `json:` body: strings are templates, map order is kept.
    fn json_template(&self, node: &Node) -> Result<JsonTemplate> {
        Ok(match &node.value {
            Value::Scalar(s) if s.kind == ScalarKind::Str => {
                let t = self.template(node, "`json`")?;
                if t.is_static() {
                    JsonTemplate::Literal(serde_json::Value::String(s.text.clone()))
                } else {
                    JsonTemplate::String(t)
                }
            }
            Value::Scalar(_) => JsonTemplate::Literal(self.json_value(node)?),
            Value::Seq(items) => {
                JsonTemplate::Array(items.iter().map(|i| self.json_template(i)).collect::<Result<_>>()?)
            }
            Value::Map(entries) => JsonTemplate::Object(
                entries
                    .iter()
                    .map(|e| Ok((e.key.clone(), self.json_template(&e.value)?)))
                    .collect::<Result<_>>()?,
            ),
        })
    }

    fn scenarios(&mut self, entry: &Entry) -> Result<Vec<Scenario>> {
        let items = self.list(&entry.value, "`scenarios`")?;
        if items.is_empty() {
            return Err(self
                .err(entry.value.span, "`scenarios` is empty")
                .with_help("add at least one scenario with a `flow`"));
        }
        let mut scenarios = Vec::with_capacity(items.len());
        for (i, node) in items.iter().enumerate() {
            scenarios.push(self.scenario(node, i)?);
        }
        if scenarios.iter().all(|s| s.weight == 0) {
            return Err(self
                .err(entry.key_span, "every scenario has `weight: 0`, so none could ever run")
                .with_help("give at least one scenario a positive weight"));
        }
        Ok(scenarios)
    }

    fn scenario(&mut self, node: &Node, index: usize) -> Result<Scenario> {
        let map = self.map(node, "each scenario", &SCENARIO, false)?;
        let name = match map.get("name") {
            Some(e) => self.text(&e.value, "`name`")?.to_string(),
            None => format!("scenario {}", index + 1),
        };
        let weight = match map.get("weight") {
            Some(e) => {
                let w = self.whole(&e.value, "`weight`")?;
                u32::try_from(w).map_err(|_| self.err(e.value.span, "`weight` is too large"))?
            }
            None => 1,
        };
        if let Some(e) = map.get("engine") {
            let engine = self.text(&e.value, "`engine`")?;
            if engine != "http" {
                return Err(self
                    .err(
                        e.value.span,
                        format!("`engine: {engine}` is an Artillery feature hornet does not support yet"),
                    )
                    .with_help("hornet runs `http` scenarios only; remove `engine`"));
            }
        }
        let flow = map.get("flow").ok_or_else(|| {
            self.missing(&map, "flow", &SCENARIO)
                .with_help("add a `flow:` list of steps, e.g. `- get: { url: \"/\" }`")
        })?;
        let flow = self.steps(&flow.value, "`flow`")?;
        Ok(Scenario { name, weight, flow })
    }

    fn steps(&mut self, node: &Node, what: &str) -> Result<Vec<Step>> {
        let items = self.list(node, what)?;
        if items.is_empty() {
            return Err(self.err(node.span, format!("{what} is empty")).with_help("add at least one step"));
        }
        items.iter().map(|s| self.step(s)).collect()
    }

    fn step(&mut self, node: &Node) -> Result<Step> {
        let map = self.map(node, "each step", &STEP, false).map_err(|e| {
            if e.help.is_none() {
                e.with_help("a step is a map such as `- get: { url: \"/\" }` or `- think: 1`")
            } else {
                e
            }
        })?;
        let mut actions = map.entries.iter().filter(|e| ACTIONS.contains(&e.key.as_str()));
        let Some(action) = actions.next() else {
            return Err(self
                .err(map.span, "a step needs an action")
                .with_help(format!("expected one of {}", backquoted(&ACTIONS))));
        };
        if let Some(second) = actions.next() {
            return Err(self
                .err(
                    second.key_span,
                    format!("a step has one action, but this one has `{}` and `{}`", action.key, second.key),
                )
                .with_help("put each action in its own list item, starting with `-`"));
        }
        let count = map.get("count");
        if action.key != "loop"
            && let Some(c) = count
        {
            return Err(self.err(c.key_span, format!("`count` goes with `loop`, not with `{}`", action.key)));
        }
        match action.key.as_str() {
            "think" => Ok(Step::Think(self.duration(&action.value, "`think`")?)),
            "loop" => {
                let Some(count) = count else {
                    return Err(self
                        .err(action.key_span, "`loop` needs a `count`")
                        .with_help("add `count: <n>` next to `loop` (in the same step)"));
                };
                let n = self.positive(&count.value, "`count`")?;
                let steps = self.steps(&action.value, "`loop`")?;
                Ok(Step::Loop { count: n, steps })
            }
            method => Ok(Step::Request(Box::new(self.request(method, action)?))),
        }
    }

    fn request(&mut self, method: &str, action: &Entry) -> Result<RequestStep> {
        let what = format!("`{method}`");
        let map = self.map(&action.value, &what, &REQUEST, false).map_err(|e| {
            if e.help.is_none() && scalar_text(&action.value).is_some() {
                e.with_help(format!("write `{method}: {{ url: \"...\" }}`"))
            } else {
                e
            }
        })?;
        let map = Map { span: action.key_span, ..map };
        let url_entry = map.get("url").ok_or_else(|| {
            self.missing(&map, "url", &REQUEST).with_help(format!("add `url: \"/path\"` under `{method}`"))
        })?;
        let url = self.template(&url_entry.value, "`url`")?;
        let source = url.source();
        if source.trim().is_empty() {
            return Err(self.err(url_entry.value.span, "`url` is empty"));
        }
        if source.starts_with("http://") || source.starts_with("https://") {
            if url.is_static()
                && let Err(e) = url::Url::parse(source)
            {
                return Err(self.err(url_entry.value.span, format!("`{source}` is not a valid URL: {e}")));
            }
        } else if self.relative_url.is_none() {
            self.relative_url = Some((source.to_string(), url_entry.value.span));
        }
        let name = match map.get("name") {
            Some(e) => {
                let n = self.text(&e.value, "`name`")?;
                if n.trim().is_empty() {
                    return Err(self.err(e.value.span, "`name` is empty"));
                }
                n.to_string()
            }
            None => format!("{} {source}", method.to_ascii_uppercase()),
        };
        let endpoint = self.endpoint(name)?;
        let headers = match map.get("headers") {
            Some(e) => self.headers(&e.value)?,
            None => Vec::new(),
        };
        let mut qs = Vec::new();
        if let Some(e) = map.get("qs") {
            let entries: &[Entry] = match &e.value.value {
                Value::Map(entries) => entries,
                Value::Scalar(s) if s.kind == ScalarKind::Null => &[],
                _ => return Err(self.type_err(&e.value, "`qs`", "a map of parameter names to values")),
            };
            for p in entries {
                let what = format!("query parameter `{}`", p.key);
                qs.push((p.key.clone(), self.template(&p.value, &what)?));
            }
        }
        let body = match (map.get("json"), map.get("body")) {
            (Some(j), Some(b)) => {
                let second = if j.key_span.start.line > b.key_span.start.line
                    || (j.key_span.start.line == b.key_span.start.line
                        && j.key_span.start.col > b.key_span.start.col)
                {
                    j
                } else {
                    b
                };
                return Err(self
                    .err(second.key_span, "a request has `json` or `body`, not both")
                    .with_help("`json` sends a JSON document; `body` sends a string as is"));
            }
            (Some(j), None) => Some(Body::Json(self.json_template(&j.value)?)),
            (None, Some(b)) => {
                let t = self.template(&b.value, "`body`").map_err(|e| {
                    if matches!(b.value.value, Value::Map(_) | Value::Seq(_)) {
                        e.with_help("use `json:` to send a map or a list as JSON")
                    } else {
                        e
                    }
                })?;
                Some(Body::Raw(t))
            }
            (None, None) => None,
        };
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| self.err(action.key_span, format!("`{method}` is not an HTTP method")))?;
        Ok(RequestStep { method, url, endpoint, headers, qs, body })
    }
}

/// The `{{ name }}` placeholders of a template that compiled: byte offset, length in
/// characters, and the trimmed name.
fn placeholders(text: &str) -> Vec<(usize, usize, &str)> {
    let mut out = Vec::new();
    let mut from = 0;
    while let Some(open) = text[from..].find("{{").map(|o| from + o) {
        let Some(close) = text[open + 2..].find("}}").map(|c| open + 2 + c) else { break };
        let whole = &text[open..close + 2];
        out.push((open, whole.chars().count(), text[open + 2..close].trim()));
        from = close + 2;
    }
    out
}

/// Hints for unsupported keys that have a hornet equivalent or a common workaround.
fn unsupported_help(keys: &Keys, key: &str) -> Option<String> {
    let h = match (keys.place, key) {
        ("in `config.http`", "maxSockets") => "use `pool` to cap the number of connections",
        ("in `config.http`", "defaults") => "put default headers under `config.defaults.headers`",
        ("in a step", "over") | ("in a step", "whileTrue") => {
            "hornet loops a fixed number of times, with `count`"
        }
        ("in a request", "expect") | ("in a request", "match") => {
            "remove it; hornet counts status codes per request"
        }
        _ => return None,
    };
    Some(h.to_string())
}

/// Checks a target URL; on error, a message and an optional hint.
fn check_target(raw: &str) -> std::result::Result<String, (String, Option<String>)> {
    let t = raw.trim();
    if !(t.starts_with("http://") || t.starts_with("https://")) {
        return Err((
            format!("`{t}` does not start with http:// or https://"),
            Some("write the scheme, e.g. `http://localhost:8080`".to_string()),
        ));
    }
    let parsed = url::Url::parse(t).map_err(|e| (format!("`{t}` is not a valid URL: {e}"), None))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err((format!("`{t}` has no host"), None));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err((
            format!("`{t}` has a query string or fragment"),
            Some("put query parameters on the requests (`qs`), not on the target".to_string()),
        ));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn suggestions_catch_typos_but_not_unrelated_keys() {
        assert_eq!(suggest("arivalRate", PHASE.known), Some("arrivalRate"));
        assert_eq!(suggest("arrivalrate", PHASE.known), Some("arrivalRate"));
        assert_eq!(suggest("durration", PHASE.known), Some("duration"));
        assert_eq!(suggest("gte", STEP.known), Some("get"));
        assert_eq!(suggest("header", REQUEST.known), Some("headers"));
        assert_eq!(suggest("zzz", REQUEST.known), None);
        assert_eq!(suggest("id", REQUEST.known), None);
    }

    #[test]
    fn target_checks() {
        assert_eq!(check_target(" http://h:1/base "), Ok("http://h:1/base".to_string()));
        assert!(check_target("https://example.com").is_ok());
        assert!(check_target("ftp://h").unwrap_err().0.contains("http:// or https://"));
        assert!(check_target("localhost:8080").unwrap_err().0.contains("http:// or https://"));
        assert!(check_target("http://h/?a=1").unwrap_err().0.contains("query"));
        assert!(check_target("http://").is_err());
    }
}
