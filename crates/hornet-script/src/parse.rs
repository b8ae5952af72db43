//! From the spanned YAML tree to a [`Plan`]: the script format itself.
//!
//! Owns which keys exist where, which Artillery keys are known but not supported (yet), the type
//! and range of every value, the phase rules, endpoint naming, the variable scope of templates, and
//! the "did you mean" hints. Every error points at the key or value it is about, in the file it
//! came from. Phases and stages (the workload models) live in `parse/workload.rs`; other `config`
//! sections, apart from HTTP settings, in `parse/config.rs`; scenarios, steps and requests in
//! `parse/flow.rs`.

mod config;
mod flow;
mod workload;
mod ws;

pub use ws::{http_scheme, ws_scheme};

use std::collections::HashMap;
use std::path::PathBuf;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use crate::LoadOptions;
use crate::duration::{parse_duration, secs_to_duration};
use crate::error::{ScriptError, Span};
use crate::expr::Expr;
use crate::plan::{EndpointId, Expect, HttpSettings, Jitter, Plan, Protocol};
use crate::template::{JsonTemplate, PlaceholderKind, Template};
use crate::yaml::{self, Entry, Node, ScalarKind, Value};

type Result<T> = std::result::Result<T, ScriptError>;

/// The keys allowed in one kind of mapping.
struct Keys {
    /// For messages: "unknown key `x` {place}".
    place: &'static str,
    /// For hints about a key used in the wrong place: "`x` belongs {home}".
    home: &'static str,
    known: &'static [&'static str],
    /// Artillery keys that hornet recognises but does not implement (yet).
    unsupported: &'static [&'static str],
    /// Artillery keys that call JavaScript processor functions.
    javascript: &'static [&'static str],
}

const ROOT: Keys = Keys {
    place: "at the top level",
    home: "at the top level of the script",
    known: &["config", "scenarios", "before", "after"],
    unsupported: &[],
    javascript: &[],
};
const CONFIG: Keys = Keys {
    place: "in `config`",
    home: "under `config`",
    known: &[
        "target",
        "phases",
        "stages",
        "startRate",
        "http",
        "timeout",
        "tls",
        "defaults",
        "variables",
        "gracefulStop",
        "mode",
        "payload",
        "plugins",
        "ensure",
        "apdex",
        "expect",
        "environments",
        "ws",
    ],
    unsupported: &["engines", "includeFiles", "socketio", "statsInterval", "bundling"],
    javascript: &["processor"],
};
const PHASE: Keys = Keys {
    place: "in a phase",
    home: "in a phase (an item of `config.phases`)",
    known: &[
        "name",
        "duration",
        "arrivalRate",
        "rampTo",
        "arrivalCount",
        "pause",
        "maxVusers",
        "mode",
        "users",
        "spawnRate",
        "rampUsers",
        "pacing",
        "throughput",
        "requestRate",
    ],
    unsupported: &[],
    javascript: &[],
};
const STAGE: Keys = Keys {
    place: "in a stage",
    home: "in a stage (an item of `config.stages`)",
    known: &["name", "duration", "target", "rate", "pacing", "throughput"],
    unsupported: &[],
    javascript: &[],
};
const HTTP: Keys = Keys {
    place: "in `config.http`",
    home: "under `config.http`",
    known: &["timeout", "pool", "defaults", "sourceAddresses"],
    unsupported: &["maxSockets", "extendedMetrics", "distributedTracing", "cookieJarOptions"],
    javascript: &[],
};
const TLS: Keys = Keys {
    place: "in `config.tls`",
    home: "under `config.tls`",
    known: &["rejectUnauthorized"],
    unsupported: &[],
    javascript: &[],
};
const DEFAULTS: Keys = Keys {
    place: "in `config.defaults`",
    home: "under `config.defaults`",
    known: &["headers", "cookie", "think", "strictCapture"],
    unsupported: &[],
    javascript: &[],
};
const THINK_DEFAULTS: Keys = Keys {
    place: "in `config.defaults.think`",
    home: "under `config.defaults.think`",
    known: &["jitter"],
    unsupported: &[],
    javascript: &[],
};
const PAYLOAD: Keys = Keys {
    place: "in a payload",
    home: "in `config.payload`",
    known: &[
        "path",
        "fields",
        "order",
        "skipHeader",
        "delimiter",
        "cast",
        "skipEmptyLines",
        "loadAll",
        "name",
    ],
    unsupported: &["options"],
    javascript: &[],
};
const ENSURE: Keys = Keys {
    place: "in `ensure`",
    home: "under `config.ensure`",
    known: &[
        "thresholds",
        "conditions",
        "maxErrorRate",
        "min",
        "max",
        "median",
        "p50",
        "p75",
        "p90",
        "p95",
        "p99",
        "p999",
    ],
    unsupported: &[],
    javascript: &[],
};
const CONDITION: Keys = Keys {
    place: "in an ensure condition",
    home: "in an item of `ensure.conditions`",
    known: &["expression", "strict"],
    unsupported: &[],
    javascript: &[],
};
const APDEX: Keys = Keys {
    place: "in `apdex`",
    home: "under `config.apdex`",
    known: &["threshold"],
    unsupported: &[],
    javascript: &[],
};
const EXPECT_PLUGIN: Keys = Keys {
    place: "in the `expect` plugin settings",
    home: "under `config.plugins.expect`",
    known: &["outputFormat", "expectDefault200", "reportFailuresAsErrors", "useOnlyRequestNames"],
    unsupported: &[],
    javascript: &[],
};
const BEFORE_AFTER: Keys = Keys {
    place: "in `before` or `after`",
    home: "under `before` or `after`",
    known: &["flow"],
    unsupported: &[],
    javascript: &[],
};
const SCENARIO: Keys = Keys {
    place: "in a scenario",
    home: "in a scenario (an item of `scenarios`)",
    known: &["name", "weight", "flow", "engine"],
    unsupported: &[],
    javascript: &["beforeScenario", "afterScenario", "beforeRequest", "afterResponse", "onError"],
};
/// `a` then `b`, for building one constant key list from others (`C` must be `A + B`).
const fn concat<const A: usize, const B: usize, const C: usize>(
    a: [&'static str; A],
    b: [&'static str; B],
) -> [&'static str; C] {
    assert!(A + B == C, "concat: the lengths do not add up");
    let mut out = [""; C];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < C {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

/// Every key of a step: its action, and the options of `loop` and `think`.
const STEP_KEYS: [&str; 19] =
    concat(concat::<11, 3, 14>(flow::FLOW_ACTIONS, ["count", "over", "jitter"]), ws::WS_ACTIONS);
const STEP: Keys = Keys {
    place: "in a step",
    home: "in a flow step",
    known: &STEP_KEYS,
    unsupported: &[],
    javascript: &["function", "whileTrue"],
};
const REQUEST: Keys = Keys {
    place: "in a request",
    home: "in a request (under `get`, `post`, ...)",
    known: &[
        "url",
        "name",
        "headers",
        "qs",
        "json",
        "body",
        "form",
        "formData",
        "auth",
        "cookie",
        "followRedirect",
        "gzip",
        "probability",
        "ifTrue",
        "capture",
        "match",
        "expect",
    ],
    unsupported: &["setContentLengthHeader", "http2"],
    javascript: &["beforeRequest", "afterResponse"],
};
const AUTH: Keys = Keys {
    place: "in `auth`",
    home: "under a request's `auth`",
    known: &["user", "pass"],
    unsupported: &[],
    javascript: &[],
};
const FORM_PART: Keys = Keys {
    place: "in a `formData` field",
    home: "in a `formData` field",
    known: &["value", "fromFile", "contentType"],
    unsupported: &[],
    javascript: &[],
};
const CAPTURE: Keys = Keys {
    place: "in a capture",
    home: "in a `capture` or `match`",
    known: &[
        "json", "regexp", "header", "selector", "as", "strict", "index", "group", "flags", "attr", "value",
    ],
    unsupported: &["xpath"],
    javascript: &[],
};
const EXPECT: Keys = Keys {
    place: "in `expect`",
    home: "in a request's `expect` list",
    known: &Expect::KINDS,
    unsupported: &["cdnHit", "jmespath"],
    javascript: &[],
};
const WS_CONFIG: Keys = Keys {
    place: "in `config.ws`",
    home: "under `config.ws`",
    known: &["subprotocols", "headers", "timeout"],
    unsupported: &["proxy"],
    javascript: &[],
};
const WS_CONNECT: Keys = Keys {
    place: "in `connect`",
    home: "under a `connect` step",
    known: &["target", "url", "headers", "subprotocols", "name"],
    unsupported: &["proxy"],
    javascript: &["function"],
};
const WS_SEND: Keys = Keys {
    place: "in `send`",
    home: "under a `send` step",
    known: &["payload", "capture", "match", "name", "timeout"],
    unsupported: &[],
    javascript: &[],
};
const WS_SEND_BYTES: Keys = Keys {
    place: "in `sendBytes`",
    home: "under a `sendBytes` step",
    known: &["base64", "hex", "capture", "match", "name", "timeout"],
    unsupported: &[],
    javascript: &[],
};
const WS_WAIT: Keys = Keys {
    place: "in `wait`",
    home: "under a `wait` step",
    known: &["match", "regexp", "capture", "name", "timeout"],
    unsupported: &[],
    javascript: &[],
};
const WS_CLOSE: Keys = Keys {
    place: "in `close`",
    home: "under a `close` step",
    known: &["code"],
    unsupported: &[],
    javascript: &[],
};
const ALL_KEYS: [&Keys; 27] = [
    &ROOT,
    &CONFIG,
    &PHASE,
    &STAGE,
    &HTTP,
    &TLS,
    &DEFAULTS,
    &THINK_DEFAULTS,
    &PAYLOAD,
    &ENSURE,
    &CONDITION,
    &APDEX,
    &EXPECT_PLUGIN,
    &BEFORE_AFTER,
    &SCENARIO,
    &STEP,
    &REQUEST,
    &AUTH,
    &FORM_PART,
    &CAPTURE,
    &EXPECT,
    &WS_CONFIG,
    &WS_CONNECT,
    &WS_SEND,
    &WS_SEND_BYTES,
    &WS_WAIT,
    &WS_CLOSE,
];

/// The `$` variables the runner provides to templates.
const BUILTINS: [&str; 5] = ["$uuid", "$loopCount", "$loopElement", "$testId", "$environment"];

const DURATION_HELP: &str =
    "a duration is a number of seconds (`10`, `0.5`) or a string like `500ms`, `90s`, `5m`, `1h`";

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
        endpoint_protocols: Vec::new(),
        endpoint_ids: HashMap::new(),
        relative_url: None,
        scope: Vec::new(),
        strict_capture: true,
        default_jitter: None,
    };
    if let Some(env) = &opts.environment {
        cx.apply_environment(&mut root, env)?;
    }
    if let Some(o) = overrides {
        apply_overrides(&mut root, o);
    }
    cx.plan(&root, opts)
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
    endpoints: Vec<String>,
    /// The protocol of each endpoint, index for index with `endpoints`.
    endpoint_protocols: Vec<Protocol>,
    endpoint_ids: HashMap<String, EndpointId>,
    /// The first request URL that is relative to the target, with its span.
    relative_url: Option<(String, Span)>,
    /// The variable names a template may insert (besides `$` built-ins), in order of definition.
    scope: Vec<String>,
    /// `config.defaults.strictCapture`.
    strict_capture: bool,
    /// `config.defaults.think.jitter`.
    default_jitter: Option<Jitter>,
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

fn is_null(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar(s) if s.kind == ScalarKind::Null)
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

/// "did you mean `x`?" when one of `names` is close to `name`, else a list of the names (at most
/// 12) introduced by `intro`, or `none` when there are no names.
fn names_help(name: &str, names: &[&str], intro: &str, none: &str) -> String {
    if let Some(s) = suggest(name, names) {
        return format!("did you mean `{s}`?");
    }
    match names.len() {
        0 => none.to_string(),
        n if n <= 12 => format!("{intro} {}", backquoted(names)),
        n => format!("{intro} {}, and {} more", backquoted(&names[..12]), n - 12),
    }
}

/// `relative` joined to `dir`, without `.` components (`./users.csv` is `users.csv`).
fn resolve(dir: &std::path::Path, relative: &str) -> PathBuf {
    dir.join(relative).components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
}

/// The span of `len` characters at byte `offset` of the text of the scalar `node`, or the whole
/// value when its text does not map one to one onto the source (escapes, block scalars, aliases).
fn inner_span(node: &Node, offset: usize, len: usize) -> Span {
    match &node.value {
        Value::Scalar(s) => match s.text_col {
            Some(col) => {
                let before = s.text.get(..offset).map_or(0, |t| t.chars().count());
                node.span.moved_to(node.span.start.line, col + before, len.max(1))
            }
            None => node.span,
        },
        _ => node.span,
    }
}

impl Cx<'_> {
    fn source_of(&self, span: Span) -> &Source {
        self.sources.get(span.file).unwrap_or(&self.sources[0])
    }

    fn err(&self, span: Span, message: impl Into<String>) -> ScriptError {
        let s = self.source_of(span);
        ScriptError::at(&s.name, &s.text, span, message)
    }

    /// An error about the command line or the run as a whole, with no place in a file.
    fn general(&self, message: impl Into<String>) -> ScriptError {
        ScriptError::general(&self.sources[0].name, message)
    }

    fn type_err(&self, node: &Node, what: &str, expected: &str) -> ScriptError {
        self.err(node.span, format!("{what} must be {expected}, found {}", found(node)))
    }

    fn unsupported(&self, span: Span, feature: &str) -> ScriptError {
        self.err(span, format!("`{feature}` is an Artillery feature hornet does not support yet"))
    }

    fn javascript(&self, span: Span, key: &str) -> ScriptError {
        let (what, help) = match key {
            "processor" => (
                "loads them",
                "hornet has no JavaScript runtime: remove `processor` and the steps and hooks that call its functions",
            ),
            "function" => (
                "calls one",
                "remove the step; captures, `ifTrue`, `loop` and templates cover many of its uses",
            ),
            "whileTrue" => ("calls one", "bound the loop with `count`, or iterate a list with `over`"),
            _ => ("calls one", "remove the hook; `headers`, `capture` and `expect` cover many of its uses"),
        };
        self.err(span, format!("JavaScript processor functions are not supported by hornet (`{key}` {what})"))
            .with_help(help)
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
            if keys.javascript.contains(&e.key.as_str()) {
                return Err(self.javascript(e.key_span, &e.key));
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

    /// `config.http.sourceAddresses`: a list of IP addresses (one address alone is allowed).
    fn source_addresses(&self, node: &Node) -> Result<Vec<std::net::IpAddr>> {
        let items = match &node.value {
            Value::Seq(items) => items.as_slice(),
            _ => std::slice::from_ref(node),
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let text = self.text(item, "an entry of `sourceAddresses`")?;
            let ip = text.trim().parse().map_err(|_| {
                self.err(item.span, format!("`{text}` is not an IP address")).with_help(
                    "list local addresses such as 127.0.0.2 or ::1; connections bind to them in turn",
                )
            })?;
            out.push(ip);
        }
        if out.is_empty() {
            return Err(self.err(node.span, "`sourceAddresses` is empty"));
        }
        Ok(out)
    }

    fn list<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Ok(items),
            _ => Err(self.type_err(node, what, "a list")),
        }
    }

    /// The entries of a map from names to values (null is an empty map).
    fn entries<'n>(&self, node: &'n Node, what: &str, expected: &str) -> Result<&'n [Entry]> {
        match &node.value {
            Value::Map(entries) => Ok(entries),
            Value::Scalar(s) if s.kind == ScalarKind::Null => Ok(&[]),
            _ => Err(self.type_err(node, what, expected)),
        }
    }

    fn text<'n>(&self, node: &'n Node, what: &str) -> Result<&'n str> {
        scalar_text(node).ok_or_else(|| self.type_err(node, what, "a string"))
    }

    /// A string that is not empty or blank.
    fn name<'n>(&self, node: &'n Node, what: &str) -> Result<&'n str> {
        let t = self.text(node, what)?;
        if t.trim().is_empty() {
            return Err(self.err(node.span, format!("{what} is empty")));
        }
        Ok(t)
    }

    /// The name of a variable being defined: not empty, and not starting with `$` (the prefix of
    /// built-ins).
    fn variable_name(&self, text: &str, span: Span, what: &str) -> Result<()> {
        if text.trim().is_empty() {
            return Err(self.err(span, format!("{what} cannot be empty")));
        }
        if text.starts_with('$') {
            return Err(self
                .err(
                    span,
                    format!(
                        "cannot name a variable `{text}`: names starting with `$` are reserved for built-ins"
                    ),
                )
                .with_help(format!("rename it, e.g. `{}`", text.trim_start_matches('$'))));
        }
        Ok(())
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

    /// A finite number.
    fn finite(&self, node: &Node, what: &str) -> Result<f64> {
        let n = number_of(node).ok_or_else(|| self.type_err(node, what, "a number"))?;
        if !n.is_finite() {
            return Err(self.err(node.span, format!("{what} must be a finite number, found {}", found(node))));
        }
        Ok(n)
    }

    /// A finite number that is zero or more.
    fn non_negative(&self, node: &Node, what: &str) -> Result<f64> {
        let n = self.finite(node, what)?;
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

    /// Compiles a string-like scalar as a template and checks the variables it inserts; an error
    /// points inside the string when the source allows it.
    fn template(&self, node: &Node, what: &str) -> Result<Template> {
        let text = self.text(node, what)?;
        let template = Template::compile(text).map_err(|e| {
            self.err(inner_span(node, e.offset, 2), format!("invalid template in {what}: {}", e.message))
                .with_help("a placeholder holds a variable (`{{ id }}`, `{{ user.name }}`), a built-in (`{{ $uuid }}`) or a function (`{{ $randomNumber(1, 10) }}`)")
        })?;
        for p in template.placeholders() {
            // The root name starts the trimmed text of the placeholder.
            let at = p.span.start + text.get(p.span.clone()).and_then(|t| t.find(p.text)).unwrap_or(0);
            match p.kind {
                PlaceholderKind::Variable { root } => {
                    if !self.scope.iter().any(|v| v == root) {
                        let span = inner_span(node, at, root.chars().count());
                        return Err(self.unknown_variable(span, root, what));
                    }
                }
                PlaceholderKind::Builtin { root } => {
                    if !BUILTINS.contains(&root) {
                        let span = inner_span(node, at, root.chars().count());
                        let help = match suggest(root, &BUILTINS) {
                            Some(s) => format!("did you mean `{s}`?"),
                            None => format!(
                                "the built-in variables are {}; the functions are `$randomNumber(min, max)`, `$randomString(len)` and `$timestamp()`",
                                backquoted(&BUILTINS)
                            ),
                        };
                        return Err(self
                            .err(span, format!("unknown built-in variable `{root}` in {what}"))
                            .with_help(help));
                    }
                }
                PlaceholderKind::Function { .. } | PlaceholderKind::Env { .. } => {}
            }
        }
        Ok(template)
    }

    /// Checks that the names an expression reads are in scope (`$` built-ins aside). A name with a
    /// path (`user.name`) is checked by its root.
    fn check_expr_names(&self, node: &Node, expr: &Expr, what: &str) -> Result<()> {
        let text = scalar_text(node).unwrap_or_default();
        for name in expr.variables() {
            let root = name.split(['.', '[']).next().unwrap_or(name).trim();
            if root.is_empty() || root.starts_with('$') || self.scope.iter().any(|v| v == root) {
                continue;
            }
            let span = text.find(name).map_or(node.span, |at| inner_span(node, at, root.chars().count()));
            let err = self.unknown_variable(span, root, what);
            let names: Vec<&str> = self.scope.iter().map(String::as_str).collect();
            if text.trim() == name && suggest(root, &names).is_none() {
                // Artillery also takes the name of a processor function here.
                return Err(err.with_help(format!(
                    "{what} is an expression over variables; if `{name}` is a JavaScript processor function, note that JavaScript processor functions are not supported by hornet"
                )));
            }
            return Err(err);
        }
        Ok(())
    }

    fn unknown_variable(&self, span: Span, name: &str, what: &str) -> ScriptError {
        let all: Vec<&str> = self.scope.iter().map(String::as_str).collect();
        let help = match suggest(name, &all) {
            Some(s) => format!("did you mean `{s}`?"),
            None => {
                // `target` is always there; listing it alone would not help.
                let defined: Vec<&str> = all.iter().copied().filter(|n| *n != "target").collect();
                names_help(
                    name,
                    &defined,
                    "the variables are",
                    "the script defines no variables: they come from `config.variables`, `config.payload` fields, a capture's `as`, and --var",
                )
            }
        };
        self.err(span, format!("unknown variable `{name}` in {what}")).with_help(help)
    }

    /// Compiles an expression (`ifTrue`, ensure `conditions`); an error points inside the string.
    fn expr(&self, node: &Node, what: &str, example: &str) -> Result<Expr> {
        let text = self.text(node, what)?;
        Expr::compile(text).map_err(|e| {
            self.err(inner_span(node, e.offset, 1), format!("invalid expression in {what}: {}", e.message))
                .with_help(format!("for example `{example}`"))
        })
    }

    /// The endpoint named `name`, registered on first use. One name cannot be both an HTTP request
    /// and a WebSocket step (their metrics differ); `span` is where to point if it is.
    fn endpoint_of(&mut self, name: String, protocol: Protocol, span: Span) -> Result<EndpointId> {
        if let Some(&id) = self.endpoint_ids.get(&name) {
            if self.endpoint_protocols.get(id as usize).is_some_and(|p| *p != protocol) {
                return Err(self
                    .err(
                        span,
                        format!("the name `{name}` is used by an HTTP request and by a WebSocket step"),
                    )
                    .with_help("give one of them another `name`: their metrics are different"));
            }
            return Ok(id);
        }
        let id = EndpointId::try_from(self.endpoints.len())
            .map_err(|_| self.general("too many distinct request names"))?;
        self.endpoints.push(name.clone());
        self.endpoint_protocols.push(protocol);
        self.endpoint_ids.insert(name, id);
        Ok(id)
    }

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

        let target = match &opts.target {
            Some(t) => Some(check_target(t).map_err(|(m, h)| {
                let mut e = self.general(format!("invalid target `{t}` (from -t): {m}"));
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

        let phases = self.workload(&config)?;

        let mut http = HttpSettings::default();
        let mut timeout_at = None;
        let mut http_defaults = None;
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
            if let Some(s) = map.get("sourceAddresses") {
                http.source_addresses = self.source_addresses(&s.value)?;
            }
            http_defaults = map.get("defaults");
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

        // The variable scope: config.variables, --var, payload fields, captures, `target`.
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
            Some(e) => self.payloads(&e.value)?,
            None => Vec::new(),
        };
        for p in &payloads {
            for name in p.fields.iter().chain(&p.load_all) {
                self.add_to_scope(name);
            }
        }
        for name in capture_names(root) {
            self.add_to_scope(&name);
        }
        self.add_to_scope("target");

        let defaults = self.defaults(config.get("defaults"), http_defaults)?;
        self.strict_capture = defaults.strict_capture;
        self.default_jitter = defaults.jitter;

        let ensure = self.ensure_and_plugins(&config)?;

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

        if target.is_none()
            && let Some((url, span)) = self.relative_url.take()
        {
            return Err(self
                    .err(span, format!("the URL `{url}` is relative, but there is no `config.target`"))
                    .with_help(
                        "set `config.target` (or pass -t), or write an absolute URL starting with http:// or https:// (ws:// or wss:// for `connect`)",
                    ));
        }

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
            endpoint_protocols: std::mem::take(&mut self.endpoint_protocols),
            ws,
            before,
            after,
            payloads,
            default_cookies: defaults.cookies,
            strict_capture: defaults.strict_capture,
            ensure: ensure.ensure,
            apdex_threshold_ms: ensure.apdex_threshold_ms,
            expect: ensure.expect,
            environment: opts.environment.clone(),
        };
        if !opts.scenario_names.is_empty() {
            config::prune_endpoints(&mut plan);
        }
        Ok(plan)
    }

    fn add_to_scope(&mut self, name: &str) {
        if !self.scope.iter().any(|n| n == name) {
            self.scope.push(name.to_string());
        }
    }

    fn timeout(&self, node: &Node) -> Result<Duration> {
        let d = self.duration(node, "`timeout`")?;
        if d.is_zero() {
            return Err(self.err(node.span, "`timeout` must be more than 0"));
        }
        Ok(d)
    }

    fn headers(&self, node: &Node) -> Result<Vec<(HeaderName, Template)>> {
        let entries = self.entries(node, "`headers`", "a map of header names to values")?;
        let mut out: Vec<(HeaderName, Template)> = Vec::with_capacity(entries.len());
        for e in entries {
            let name = self.header_name(&e.key, e.key_span)?;
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

    fn header_name(&self, text: &str, span: Span) -> Result<HeaderName> {
        HeaderName::from_bytes(text.as_bytes()).map_err(|_| {
            self.err(span, format!("`{text}` is not a valid header name"))
                .with_help("header names are letters, digits and `-` (no spaces or `:`)")
        })
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

    /// A map of names to templates (`cookie`, `form`), in file order.
    fn named_templates(&self, node: &Node, what: &str, item: &str) -> Result<Vec<(String, Template)>> {
        let entries = self.entries(node, what, &format!("a map of {item} names to values"))?;
        let mut out: Vec<(String, Template)> = Vec::with_capacity(entries.len());
        for e in entries {
            if e.key.trim().is_empty() {
                return Err(self.err(e.key_span, format!("a {item} name cannot be empty")));
            }
            if matches!(e.value.value, Value::Map(_) | Value::Seq(_)) {
                return Err(self.type_err(
                    &e.value,
                    &format!("{item} `{}`", e.key),
                    "a string, number or boolean",
                ));
            }
            out.push((e.key.clone(), self.template(&e.value, &format!("{item} `{}`", e.key))?));
        }
        Ok(out)
    }

    /// A cookie map: names must be cookie tokens.
    fn cookies(&self, node: &Node, what: &str) -> Result<Vec<(String, Template)>> {
        let entries = self.entries(node, what, "a map of cookie names to values")?;
        for e in entries {
            if let Some(bad) =
                e.key.chars().find(|c| c.is_whitespace() || c.is_control() || "=;,\"".contains(*c))
            {
                return Err(self
                    .err(e.key_span, format!("`{}` is not a valid cookie name: it contains {bad:?}", e.key))
                    .with_help("cookie names cannot contain spaces, `=`, `;`, `,` or quotes"));
            }
        }
        self.named_templates(node, what, "cookie")
    }
}

/// Hints for unsupported keys that have a hornet equivalent or a common workaround.
fn unsupported_help(keys: &Keys, key: &str) -> Option<String> {
    let h = match (keys.place, key) {
        ("in `config.http`", "maxSockets") => "use `pool` to cap the number of connections",
        ("in `config.http`", "extendedMetrics") => {
            "remove it; hornet always reports DNS, connect and TLS times when it opens a connection"
        }
        ("in `config.ws`", "proxy") | ("in `connect`", "proxy") => "hornet connects directly; remove `proxy`",
        ("in a capture", "xpath") => "capture from HTML with `selector` (a CSS selector) instead",
        ("in `expect`", "cdnHit") => "check the CDN's header with `hasHeader` or `headerEquals` instead",
        ("in `expect`", "jmespath") => {
            "check a property with `hasProperty`, or capture it and compare with `equals`"
        }
        _ => return None,
    };
    Some(h.to_string())
}

/// Checks a target URL; on error, a message and an optional hint.
fn check_target(raw: &str) -> std::result::Result<String, (String, Option<String>)> {
    let t = raw.trim();
    if !["http://", "https://", "ws://", "wss://"].iter().any(|s| t.starts_with(s)) {
        return Err((
            format!("`{t}` does not start with http://, https://, ws:// or wss://"),
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
        assert!(check_target("ws://h:1/ws").is_ok());
        assert!(check_target("wss://h").is_ok());
        assert!(check_target("ftp://h").unwrap_err().0.contains("http://, https://, ws:// or wss://"));
        assert!(check_target("localhost:8080").unwrap_err().0.contains("http://, https://, ws:// or wss://"));
        assert!(check_target("http://h/?a=1").unwrap_err().0.contains("query"));
        assert!(check_target("http://").is_err());
    }

    #[test]
    fn every_keys_table_lists_distinct_keys() {
        for keys in ALL_KEYS {
            let all: Vec<&str> =
                keys.known.iter().chain(keys.unsupported).chain(keys.javascript).copied().collect();
            let mut sorted = all.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), all.len(), "duplicate key {}", keys.place);
        }
    }
}
