//! Scenarios, `before`/`after`, steps and requests: bodies, captures, matches and expectations.

use http::Method;
use regex::Regex;

use super::{
    AUTH, BEFORE_AFTER, CAPTURE, Cx, EXPECT, FORM_PART, Map, REQUEST, Result, SCENARIO, STEP, backquoted,
    inner_span, is_null, scalar_text,
};
use crate::plan::{
    Body, Capture, CaptureIndex, CaptureSource, Expect, FormPart, LoopOver, RegexGroup, RequestHooks,
    RequestStep, Scenario, Step, Think,
};
use crate::template::Template;
use crate::yaml::{Entry, Node, ScalarKind, Value};

/// The step keys that are HTTP or flow actions.
pub(super) const FLOW_ACTIONS: [&str; 12] = [
    "get", "post", "put", "patch", "delete", "head", "options", "think", "loop", "log", "parallel",
    "function",
];

/// The step keys that are actions; a step has exactly one.
const ACTIONS: [&str; 17] = super::concat(FLOW_ACTIONS, super::ws::WS_ACTIONS);

/// The actions Artillery looks for first in a step with several, in its order: it runs the first
/// present and ignores the others.
const ARTILLERY_ACTION_ORDER: [&str; 4] = ["loop", "parallel", "think", "log"];

/// The keys that hold a request body; a request has at most one.
const BODIES: [&str; 4] = ["json", "body", "form", "formData"];

/// Where a capture reads from; a capture has exactly one.
const CAPTURE_SOURCES: [&str; 4] = ["json", "regexp", "header", "selector"];

/// Artillery's limit on the steps of one `parallel`.
const MAX_PARALLEL: usize = 100;

impl Cx<'_> {
    pub(super) fn scenarios(&mut self, entry: &Entry) -> Result<Vec<Scenario>> {
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
            // A flow may mix HTTP and WebSocket steps whatever its engine: the steps say which.
            let engine = self.text(&e.value, "`engine`")?;
            if !matches!(engine, "http" | "ws" | "websocket") {
                return Err(self
                    .err(e.value.span, format!("the `{engine}` engine is not supported by hornet"))
                    .with_help(
                        "hornet runs `http` and `ws` scenarios; remove `engine` or set it to `http` or `ws`",
                    ));
            }
        }
        let flow = map.get("flow").ok_or_else(|| {
            self.missing(&map, "flow", &SCENARIO)
                .with_help("add a `flow:` list of steps, e.g. `- get: { url: \"/\" }`")
        })?;
        let hooks = self.scenario_hooks(&map)?;
        let flow = self.steps(&flow.value, "`flow`")?;
        Ok(Scenario { name, weight, flow, hooks })
    }

    /// `before:` or `after:`, a map with one `flow`.
    pub(super) fn before_after(&mut self, entry: &Entry) -> Result<Vec<Step>> {
        let what = format!("`{}`", entry.key);
        let map = self.map(&entry.value, &what, &BEFORE_AFTER, false).map_err(|e| {
            if e.help.is_none() {
                e.with_help(format!("write `{}:` with a `flow:` list of steps under it", entry.key))
            } else {
                e
            }
        })?;
        let flow = map.get("flow").ok_or_else(|| {
            self.missing(&map, "flow", &BEFORE_AFTER)
                .with_help(format!("write the steps under `{}: {{ flow: [...] }}`", entry.key))
        })?;
        self.steps(&flow.value, &format!("`{}.flow`", entry.key))
    }

    fn steps(&mut self, node: &Node, what: &str) -> Result<Vec<Step>> {
        let items = self.list(node, what)?;
        if items.is_empty() {
            return Err(self.err(node.span, format!("{what} is empty")).with_help("add at least one step"));
        }
        items.iter().map(|s| self.step(s)).collect()
    }

    /// Of several actions in one step, the one Artillery runs when one of them is a `loop`,
    /// `parallel`, `think` or `log` (it looks for them in that order and ignores the others), with
    /// a warning for each ignored one; `None` for other mixes (two requests, say), which are errors.
    fn first_action_artillery_runs<'e>(&self, actions: &[&'e Entry]) -> Option<&'e Entry> {
        let chosen = ARTILLERY_ACTION_ORDER.iter().find_map(|k| actions.iter().find(|e| e.key == *k))?;
        for ignored in actions.iter().filter(|e| e.key != chosen.key) {
            self.warn(
                self.err(
                    ignored.key_span,
                    format!(
                        "`{}` is ignored: this step also has `{}`, which is the one Artillery runs",
                        ignored.key, chosen.key
                    ),
                )
                .with_help("put each action in its own list item, starting with `-`"),
            );
        }
        Some(chosen)
    }

    fn step(&mut self, node: &Node) -> Result<Step> {
        let map = self.map(node, "each step", &STEP, false).map_err(|e| {
            if e.help.is_none() {
                e.with_help("a step is a map such as `- get: { url: \"/\" }` or `- think: 1`")
            } else {
                e
            }
        })?;
        let actions: Vec<&Entry> =
            map.entries.iter().copied().filter(|e| ACTIONS.contains(&e.key.as_str())).collect();
        let action = match actions.as_slice() {
            [] => {
                return Err(self
                    .err(map.span, "a step needs an action")
                    .with_help(format!("expected one of {}", backquoted(&ACTIONS))));
            }
            [one] => *one,
            [first, second, ..] => self.first_action_artillery_runs(&actions).ok_or_else(|| {
                self.err(
                    second.key_span,
                    format!("a step has one action, but this one has `{}` and `{}`", first.key, second.key),
                )
                .with_help("put each action in its own list item, starting with `-`")
            })?,
        };
        for (key, owner) in [("count", "loop"), ("over", "loop"), ("whileTrue", "loop"), ("jitter", "think")]
        {
            if action.key != owner
                && let Some(e) = map.get(key)
            {
                return Err(
                    self.err(e.key_span, format!("`{key}` goes with `{owner}`, not with `{}`", action.key))
                );
            }
        }
        match action.key.as_str() {
            "think" => {
                let (duration, rendered) = if is_template(&action.value) {
                    (std::time::Duration::ZERO, Some(self.template(&action.value, "`think`")?))
                } else {
                    (self.duration(&action.value, "`think`")?, None)
                };
                let jitter = match map.get("jitter") {
                    Some(j) => Some(self.jitter(&j.value)?),
                    None => self.default_jitter,
                };
                Ok(Step::Think(Think { duration, jitter, rendered }))
            }
            "loop" => self.loop_step(&map, action),
            "log" => Ok(Step::Log(self.template(&action.value, "`log`")?)),
            "function" => {
                Ok(Step::Function(self.function_name(&action.value, "function", action.key_span)?))
            }
            "parallel" => {
                let items = self.list(&action.value, "`parallel`")?;
                if items.len() > MAX_PARALLEL {
                    return Err(self
                        .err(
                            action.key_span,
                            format!("`parallel` has {} steps; the limit is {MAX_PARALLEL}", items.len()),
                        )
                        .with_help("split them into several `parallel` steps"));
                }
                let steps = self.steps(&action.value, "`parallel`")?;
                for (step, item) in steps.iter().zip(items) {
                    if !matches!(step, Step::Request(_)) {
                        return Err(self
                            .err(item.span, "only requests can run in `parallel`")
                            .with_help("move other steps before or after the `parallel` step"));
                    }
                }
                Ok(Step::Parallel(steps))
            }
            key if super::ws::WS_ACTIONS.contains(&key) => self.ws_step(&map, action),
            method => Ok(Step::Request(Box::new(self.request(method, action)?))),
        }
    }

    fn loop_step(&mut self, map: &Map<'_>, action: &Entry) -> Result<Step> {
        let names_a_function = |w: &Entry| {
            self.processor.is_some()
                && scalar_text(&w.value).is_some_and(|t| {
                    let t = t.trim();
                    !t.is_empty() && t.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$')
                })
        };
        if let Some(w) = map.get("whileTrue")
            && !names_a_function(w)
            && map.get("count").is_some()
        {
            // Artillery looks the value up among the processor's functions and, finding none,
            // runs the loop `count` times.
            self.warn(
                self.err(w.value.span, "`whileTrue` names no processor function, so it is ignored, as Artillery ignores it: the loop runs `count` times")
                    .with_help("`whileTrue` takes the name of a function of `config.processor`, called as `(context, next)`"),
            );
        } else if let Some(w) = map.get("whileTrue") {
            if let Some(o) = map.get("over") {
                return Err(self.err(o.key_span, "a `loop` has `whileTrue` or `over`, not both").with_help(
                    "`whileTrue` repeats the steps while a function says so; `count` may bound it",
                ));
            }
            let function = self.function_name(&w.value, "whileTrue", w.key_span)?;
            let max = map.get("count").map(|c| self.positive(&c.value, "`count`")).transpose()?;
            let steps = self.steps(&action.value, "`loop`")?;
            return Ok(Step::Loop { over: LoopOver::While { function, max }, steps });
        }
        let over = match (map.get("count"), map.get("over")) {
            (Some(_), Some(o)) => {
                return Err(self
                    .err(o.key_span, "a `loop` has `count` or `over`, not both")
                    .with_help("`count` repeats the steps; `over` runs them once per element of a list"));
            }
            (None, None) => {
                return Err(self.err(action.key_span, "`loop` needs a `count` or an `over`").with_help(
                    "add `count: <n>` or `over: <list or variable>` next to `loop` (in the same step)",
                ));
            }
            (Some(c), None) if is_template(&c.value) => {
                LoopOver::CountRendered(self.template(&c.value, "`count`")?)
            }
            (Some(c), None) => LoopOver::Count(self.positive(&c.value, "`count`")?),
            (None, Some(o)) => self.loop_over(&o.value)?,
        };
        let steps = self.steps(&action.value, "`loop`")?;
        Ok(Step::Loop { over, steps })
    }

    /// `over`: a list of values, or the name of a variable that holds one.
    fn loop_over(&self, node: &Node) -> Result<LoopOver> {
        let help =
            "`over` is a list (`over: [a, b]`) or the name of a variable that holds one (`over: items`)";
        match &node.value {
            Value::Seq(items) => {
                if items.is_empty() {
                    return Err(self.err(node.span, "`over` is empty, so the loop would never run"));
                }
                Ok(LoopOver::Values(items.iter().map(|i| self.json_value(i)).collect::<Result<_>>()?))
            }
            Value::Scalar(s) if s.kind == ScalarKind::Str => {
                let text = s.text.trim();
                let (name, offset) = match text.strip_prefix("{{").and_then(|t| t.strip_suffix("}}")) {
                    Some(inner) => {
                        let name = inner.trim();
                        (name, s.text.find(name).unwrap_or(0))
                    }
                    None => (text, s.text.find(text).unwrap_or(0)),
                };
                let valid = !name.is_empty()
                    && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '-' || c == '$');
                if !valid {
                    return Err(self
                        .err(
                            node.span,
                            format!("`over` must be a list or a variable name, found `{}`", s.text),
                        )
                        .with_help(help));
                }
                if !name.starts_with('$') && !self.in_scope(name) {
                    return Err(self.unknown_variable(
                        inner_span(node, offset, name.chars().count()),
                        name,
                        "`over`",
                    ));
                }
                Ok(LoopOver::Variable(name.to_string()))
            }
            _ => Err(self.type_err(node, "`over`", "a list or a variable name").with_help(help)),
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
            Some(e) => self.name(&e.value, "`name`")?.to_string(),
            None => format!("{} {source}", method.to_ascii_uppercase()),
        };
        let endpoint = self.endpoint_of(name, crate::plan::Protocol::Http, action.key_span)?;
        let headers = match map.get("headers") {
            Some(e) => self.headers(&e.value)?,
            None => Vec::new(),
        };
        let mut qs = Vec::new();
        if let Some(e) = map.get("qs") {
            for p in self.entries(&e.value, "`qs`", "a map of parameter names to values")? {
                let what = format!("query parameter `{}`", p.key);
                qs.push((p.key.clone(), self.template(&p.value, &what)?));
            }
        }
        self.check_static_http_url(&url, &qs, url_entry.value.span)?;
        let body = self.body(&map)?;
        let auth = match map.get("auth") {
            None => None,
            Some(e) => {
                let a = self.map(&e.value, "`auth`", &AUTH, false)?;
                let user = a.get("user").ok_or_else(|| {
                    self.missing(&a, "user", &AUTH).with_help("write `auth: { user: name, pass: secret }`")
                })?;
                let user = self.template(&user.value, "`user`")?;
                let pass = match a.get("pass") {
                    Some(p) if !is_null(&p.value) => self.template(&p.value, "`pass`")?,
                    _ => Template::literal(""),
                };
                Some((user, pass))
            }
        };
        let cookies = match map.get("cookie") {
            Some(e) => self.cookies(&e.value, "`cookie`")?,
            None => Vec::new(),
        };
        let flag = |key: &str| map.get(key).map_or(Ok(true), |e| self.boolean(&e.value, &format!("`{key}`")));
        let follow_redirect = flag("followRedirect")?;
        let decompress = flag("gzip")?;
        let probability = match map.get("probability") {
            None => None,
            Some(e) => {
                let p = self.non_negative(&e.value, "`probability`")?;
                if p > 100.0 {
                    return Err(self
                        .err(e.value.span, format!("`probability` is a percentage from 0 to 100, found {p}"))
                        .with_help("`probability: 25` sends the request one time in four"));
                }
                Some(p)
            }
        };
        let condition = match map.get("ifTrue") {
            None => None,
            Some(e) => {
                let expr = self.expr(&e.value, "`ifTrue`", "status == 200 and count > 1")?;
                self.check_expr_names(&e.value, &expr, "`ifTrue`")?;
                Some(expr)
            }
        };
        let mut captures = Vec::new();
        if let Some(e) = map.get("capture") {
            for spec in self.one_or_list(&e.value) {
                captures.push(self.capture(spec, false)?);
            }
        }
        if let Some(e) = map.get("match") {
            for spec in self.one_or_list(&e.value) {
                captures.push(self.capture(spec, true)?);
            }
        }
        let mut expects = Vec::new();
        if let Some(e) = map.get("expect") {
            for spec in self.one_or_list(&e.value) {
                self.expects(spec, &mut expects)?;
            }
        }
        let mut hooks = RequestHooks::default();
        if let Some(e) = map.get("beforeRequest") {
            hooks.before_request = self.function_names(e)?;
        }
        if let Some(e) = map.get("afterResponse") {
            hooks.after_response = self.function_names(e)?;
        }
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| self.err(action.key_span, format!("`{method}` is not an HTTP method")))?;
        Ok(RequestStep {
            method,
            url,
            endpoint,
            headers,
            qs,
            body,
            auth,
            cookies,
            follow_redirect,
            decompress,
            probability,
            condition,
            captures,
            expects,
            hooks,
        })
    }

    /// The items of a list, or the value itself when it is not a list (null: nothing).
    pub(super) fn one_or_list<'n>(&self, node: &'n Node) -> Vec<&'n Node> {
        match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ if is_null(node) => Vec::new(),
            _ => vec![node],
        }
    }

    fn body(&self, map: &Map<'_>) -> Result<Option<Body>> {
        let mut present = map.entries.iter().filter(|e| BODIES.contains(&e.key.as_str()));
        let Some(body) = present.next() else { return Ok(None) };
        if let Some(second) = present.next() {
            return Err(self
                .err(
                    second.key_span,
                    format!("a request has one body, but this one has `{}` and `{}`", body.key, second.key),
                )
                .with_help(
                    "`json` sends JSON, `body` a string as is, `form` a URL-encoded form, `formData` a multipart form",
                ));
        }
        Ok(Some(match body.key.as_str() {
            "json" => Body::Json(self.json_template(&body.value)?),
            "body" => Body::Raw(self.template(&body.value, "`body`").map_err(|e| {
                if matches!(body.value.value, Value::Map(_) | Value::Seq(_)) {
                    e.with_help("use `json:` to send a map or a list as JSON, or `form:` for a form")
                } else {
                    e
                }
            })?),
            "form" => Body::Form(self.named_templates(&body.value, "`form`", "form field")?),
            _ => Body::Multipart(self.form_data(&body.value)?),
        }))
    }

    /// `formData`: each field is a value, `{value}`, or `{fromFile, contentType}`.
    fn form_data(&self, node: &Node) -> Result<Vec<(String, FormPart)>> {
        let entries = self.entries(node, "`formData`", "a map of field names to values")?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let what = format!("form field `{}`", e.key);
            let part = match &e.value.value {
                Value::Map(_) => {
                    let m = self.map(&e.value, &what, &FORM_PART, false)?;
                    match (m.get("value"), m.get("fromFile")) {
                        (Some(_), Some(f)) => {
                            return Err(
                                self.err(f.key_span, format!("{what} has `value` or `fromFile`, not both"))
                            );
                        }
                        (None, None) => {
                            return Err(self.missing(&m, "value", &FORM_PART).with_help(
                                "a field is a value, `{ value: ... }`, or `{ fromFile: path, contentType: type }`",
                            ));
                        }
                        (Some(v), None) => {
                            if let Some(c) = m.get("contentType") {
                                return Err(self.err(c.key_span, "`contentType` goes with `fromFile`"));
                            }
                            FormPart::Value(self.scalar_template(&v.value, &what)?)
                        }
                        (None, Some(f)) => {
                            let relative = self.name(&f.value, "`fromFile`")?;
                            let path = super::resolve(&self.source_of(f.value.span).dir, relative);
                            if let Err(err) = std::fs::metadata(&path).and_then(|m| {
                                if m.is_file() {
                                    Ok(())
                                } else {
                                    Err(std::io::Error::other("it is not a file"))
                                }
                            }) {
                                return Err(self
                                    .err(f.value.span, format!("cannot read `{}`: {err}", path.display()))
                                    .with_help(
                                        "`fromFile` is relative to the directory of the script that names it",
                                    ));
                            }
                            let content_type = match m.get("contentType") {
                                None => None,
                                Some(c) => {
                                    let t = self.name(&c.value, "`contentType`")?;
                                    if http::HeaderValue::from_str(t).is_err() || !t.contains('/') {
                                        return Err(self
                                            .err(c.value.span, format!("`{t}` is not a content type"))
                                            .with_help("for example `image/png` or `application/pdf`"));
                                    }
                                    Some(t.to_string())
                                }
                            };
                            FormPart::File { path, content_type }
                        }
                    }
                }
                _ => FormPart::Value(self.scalar_template(&e.value, &what)?),
            };
            out.push((e.key.clone(), part));
        }
        Ok(out)
    }

    /// A template from a string, number or boolean (not a list or a map).
    fn scalar_template(&self, node: &Node, what: &str) -> Result<Template> {
        if matches!(node.value, Value::Map(_) | Value::Seq(_)) {
            return Err(self.type_err(node, what, "a string, number or boolean"));
        }
        self.template(node, what)
    }

    /// One `capture` (or, with `is_match`, one `match`).
    pub(super) fn capture(&self, node: &Node, is_match: bool) -> Result<Capture> {
        let what = if is_match { "each `match`" } else { "each capture" };
        let map = self.map(node, what, &CAPTURE, false).map_err(|e| {
            if e.help.is_none() {
                e.with_help("a capture is a map like `{ json: \"$.id\", as: id }`")
            } else {
                e
            }
        })?;
        let mut sources = map.entries.iter().filter(|e| CAPTURE_SOURCES.contains(&e.key.as_str()));
        let Some(source) = sources.next() else {
            return Err(self
                .err(map.span, format!("{} needs one of {}", if is_match { "a `match`" } else { "a capture" }, backquoted(&CAPTURE_SOURCES)))
                .with_help("for example `json: \"$.id\"`, `regexp: \"id=(\\\\d+)\"`, `header: location` or `selector: \"a.next\"`"));
        };
        if let Some(second) = sources.next() {
            return Err(self
                .err(
                    second.key_span,
                    format!(
                        "a capture reads from one place, but this one has `{}` and `{}`",
                        source.key, second.key
                    ),
                )
                .with_help("write a separate capture for each"));
        }
        for (key, owner) in [("group", "regexp"), ("flags", "regexp"), ("attr", "selector")] {
            if source.key != owner
                && let Some(e) = map.get(key)
            {
                return Err(
                    self.err(e.key_span, format!("`{key}` goes with `{owner}`, not with `{}`", source.key))
                );
            }
        }
        let source = match source.key.as_str() {
            "json" => {
                let text = self.name(&source.value, "`json`")?;
                let path = serde_json_path::JsonPath::parse(text).map_err(|e| {
                    let reason = match e.message() {
                        "parser error" => "unexpected text at this point",
                        other => other,
                    };
                    self.err(
                        inner_span(&source.value, e.position(), 1),
                        format!("invalid JSONPath `{text}`: {reason}"),
                    )
                    .with_help("a JSONPath (RFC 9535) starts with `$`, e.g. `$.items[0].id` or `$.token`")
                })?;
                CaptureSource::Json { path, source: text.to_string() }
            }
            "regexp" => {
                let flags = match map.get("flags") {
                    Some(f) => self.regex_flags(&f.value)?,
                    None => Flags::default(),
                };
                let regex = self.regex(&source.value, "`regexp`", flags)?;
                let group = match map.get("group") {
                    None => None,
                    Some(g) => Some(self.regex_group(&g.value, &regex)?),
                };
                CaptureSource::Regexp { regex, group }
            }
            "header" => {
                let text = self.name(&source.value, "`header`")?;
                CaptureSource::Header(self.header_name(text, source.value.span)?)
            }
            _ => {
                let text = self.name(&source.value, "`selector`")?;
                let selector = scraper::Selector::parse(text).map_err(|e| {
                    self.err(
                        inner_span(&source.value, 0, text.chars().count()),
                        format!("invalid CSS selector `{text}`: {}", selector_error(&e)),
                    )
                    .with_help("for example `a.next`, `#main > li:first-child` or `input[name=csrf]`")
                })?;
                let attr =
                    map.get("attr").map(|a| self.name(&a.value, "`attr`").map(str::to_string)).transpose()?;
                CaptureSource::Selector { selector, source: text.to_string(), attr }
            }
        };
        let name = match map.get("as") {
            Some(e) => {
                let name = self.text(&e.value, "`as`")?;
                self.variable_name(name, e.value.span, "`as`")?;
                Some(name.to_string())
            }
            None if is_match => None,
            None => {
                return Err(self
                    .missing(&map, "as", &CAPTURE)
                    .with_help("`as` names the variable the captured value goes into, e.g. `as: token`"));
            }
        };
        let equals = match (map.get("value"), is_match) {
            (Some(v), true) => Some(self.scalar_template(&v.value, "`value`")?),
            (None, true) => {
                return Err(self
                    .err(map.span, "a `match` needs a `value` to compare with")
                    .with_help("a `match` compares what it reads with `value`, e.g. `value: \"{{ id }}\"`"));
            }
            (Some(v), false) => {
                return Err(self
                    .err(v.key_span, "`value` goes with `match`, not with `capture`")
                    .with_help("to check a value, write the same map under `match:`"));
            }
            (None, false) => None,
        };
        let strict = match map.get("strict") {
            Some(e) => self.boolean(&e.value, "`strict`")?,
            None => self.strict_capture,
        };
        let index = match map.get("index") {
            None => CaptureIndex::First,
            Some(e) => match &e.value.value {
                Value::Scalar(s) if s.kind == ScalarKind::Str => match s.text.as_str() {
                    "first" => CaptureIndex::First,
                    "last" => CaptureIndex::Last,
                    "random" => CaptureIndex::Random,
                    _ => {
                        return Err(self.type_err(
                            &e.value,
                            "`index`",
                            "`first`, `last`, `random` or a number",
                        ));
                    }
                },
                _ => {
                    let n = self.whole(&e.value, "`index`")?;
                    CaptureIndex::Nth(usize::try_from(n).unwrap_or(usize::MAX))
                }
            },
        };
        Ok(Capture { source, name, strict, index, equals })
    }

    /// `flags` of a `regexp` capture: any of `i`, `m`, `s` and `g` (ignored).
    fn regex_flags(&self, node: &Node) -> Result<Flags> {
        let text = self.text(node, "`flags`")?;
        let mut flags = Flags::default();
        for (i, c) in text.char_indices() {
            match c {
                'i' => flags.case_insensitive = true,
                'm' => flags.multi_line = true,
                's' => flags.dot_all = true,
                'g' => {}
                _ => {
                    return Err(self
                        .err(inner_span(node, i, 1), format!("unknown regexp flag `{c}`"))
                        .with_help("the flags are `i` (ignore case), `m` (multi-line), `s` (`.` matches newlines) and `g` (accepted, no effect)"));
                }
            }
        }
        Ok(flags)
    }

    /// Compiles a regular expression; a syntax error points at the bad part of the string.
    pub(super) fn regex(&self, node: &Node, what: &str, flags: Flags) -> Result<Regex> {
        let text = self.text(node, what)?;
        let built = regex::RegexBuilder::new(text)
            .case_insensitive(flags.case_insensitive)
            .multi_line(flags.multi_line)
            .dot_matches_new_line(flags.dot_all)
            .build();
        built.map_err(|e| {
            let parsed = regex_syntax::ParserBuilder::new()
                .case_insensitive(flags.case_insensitive)
                .multi_line(flags.multi_line)
                .dot_matches_new_line(flags.dot_all)
                .build()
                .parse(text);
            let (span, message) = match parsed {
                Err(regex_syntax::Error::Parse(p)) => (Some(*p.span()), p.kind().to_string()),
                Err(regex_syntax::Error::Translate(t)) => (Some(*t.span()), t.kind().to_string()),
                _ => (
                    None,
                    e.to_string()
                        .lines()
                        .last()
                        .unwrap_or("invalid")
                        .trim_start_matches("error: ")
                        .to_string(),
                ),
            };
            let span = match span {
                Some(s) => {
                    let len = text.get(s.start.offset..s.end.offset).map_or(1, |t| t.chars().count());
                    inner_span(node, s.start.offset, len)
                }
                None => node.span,
            };
            self.err(span, format!("invalid regular expression in {what}: {message}"))
                .with_help("hornet uses Rust regex syntax: no look-around and no backreferences")
        })
    }

    /// `group`: a capture group number or name that the expression has.
    fn regex_group(&self, node: &Node, regex: &Regex) -> Result<RegexGroup> {
        let groups = regex.captures_len() - 1;
        let names: Vec<&str> = regex.capture_names().flatten().collect();
        if let Some(n) = scalar_text(node).and_then(|t| t.parse::<usize>().ok()) {
            if n > groups {
                return Err(self
                    .err(node.span, format!("`group: {n}`, but the expression has {groups} capture group(s)"))
                    .with_help("group 0 is the whole match; groups are numbered from 1 by their `(`"));
            }
            return Ok(RegexGroup::Index(n));
        }
        let name = self.name(node, "`group`")?;
        if !names.contains(&name) {
            let help = super::names_help(
                name,
                &names,
                "the named groups are",
                "the expression has no named groups `(?P<name>...)`",
            );
            return Err(self
                .err(node.span, format!("the expression has no group named `{name}`"))
                .with_help(help));
        }
        Ok(RegexGroup::Name(name.to_string()))
    }

    /// One `expect` map: every key is one expectation.
    fn expects(&self, node: &Node, out: &mut Vec<Expect>) -> Result<()> {
        let map = self.map(node, "each expectation", &EXPECT, false).map_err(|e| {
            if e.help.is_none() { e.with_help("an expectation is a map like `- statusCode: 200`") } else { e }
        })?;
        for e in map.entries {
            let what = format!("`{}`", e.key);
            out.push(match e.key.as_str() {
                "statusCode" => match self.status_codes(&e.value, &what)? {
                    StatusCodes::Fixed(codes) => Expect::StatusCode(codes),
                    StatusCodes::Rendered(templates) => Expect::StatusCodeRendered(templates),
                },
                "notStatusCode" => match self.status_codes(&e.value, &what)? {
                    StatusCodes::Fixed(codes) => Expect::NotStatusCode(codes),
                    StatusCodes::Rendered(templates) => Expect::NotStatusCodeRendered(templates),
                },
                "contentType" => Expect::ContentType(self.scalar_template(&e.value, &what)?),
                "hasProperty" if is_template(&e.value) => {
                    Expect::HasPropertyRendered(self.template(&e.value, &what)?)
                }
                "notHasProperty" if is_template(&e.value) => {
                    Expect::NotHasPropertyRendered(self.template(&e.value, &what)?)
                }
                "hasProperty" => Expect::HasProperty(self.name(&e.value, &what)?.to_string()),
                "notHasProperty" => Expect::NotHasProperty(self.name(&e.value, &what)?.to_string()),
                "equals" => {
                    let items = self.list(&e.value, &what)?;
                    if let [one] = items {
                        // Artillery compares the values with one another: one value always passes.
                        self.scalar_template(one, "a value of `equals`")?;
                        self.warn(
                            self.err(e.value.span, "`equals` with a single value checks nothing: Artillery passes it, and so does hornet")
                                .with_help("compare two values, for example `equals: [\"{{ status }}\", \"ok\"]`"),
                        );
                        continue;
                    }
                    if items.len() < 2 {
                        return Err(self
                            .err(e.value.span, "`equals` needs at least two values to compare")
                            .with_help("for example `equals: [\"{{ status }}\", \"ok\"]`"));
                    }
                    Expect::Equals(
                        items
                            .iter()
                            .map(|i| self.scalar_template(i, "a value of `equals`"))
                            .collect::<Result<_>>()?,
                    )
                }
                "hasHeader" => {
                    let text = self.name(&e.value, &what)?;
                    Expect::HasHeader(self.header_name(text, e.value.span)?)
                }
                "headerEquals" => {
                    let items = self.list(&e.value, &what)?;
                    let [name, value] = items else {
                        return Err(self
                            .err(
                                e.value.span,
                                format!(
                                    "`headerEquals` takes a header name and a value, found {} item(s)",
                                    items.len()
                                ),
                            )
                            .with_help("for example `headerEquals: [content-type, application/json]`"));
                    };
                    let text = self.name(name, "the header name")?;
                    Expect::HeaderEquals(
                        self.header_name(text, name.span)?,
                        self.scalar_template(value, "the header value")?,
                    )
                }
                _ => Expect::MatchesRegexp(self.regex(&e.value, &what, Flags::default())?),
            });
        }
        Ok(())
    }

    /// A status code or a non-empty list of them.
    /// The status codes of `statusCode` or `notStatusCode`: numbers (`200`, `"201"`), or, when one
    /// of them is a template, templates rendered at run time.
    fn status_codes(&self, node: &Node, what: &str) -> Result<StatusCodes> {
        let items: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        if items.is_empty() {
            return Err(self.err(node.span, format!("{what} is empty")));
        }
        if items.iter().any(|i| is_template(i)) {
            return Ok(StatusCodes::Rendered(
                items.into_iter().map(|i| self.scalar_template(i, what)).collect::<Result<_>>()?,
            ));
        }
        let codes = items
            .into_iter()
            .map(|i| {
                // Artillery compares with `Number(...)`, so `"200"` is 200.
                let n = match &i.value {
                    Value::Scalar(s) if s.kind == ScalarKind::Str => s.text.trim().parse::<u64>().ok(),
                    _ => None,
                };
                let n = match n {
                    Some(n) => n,
                    None => self
                        .whole(i, what)
                        .map_err(|e| e.with_help("status codes are numbers, e.g. `200` or `[200, 201]`"))?,
                };
                if !(100..=599).contains(&n) {
                    return Err(self.err(i.span, format!("{n} is not an HTTP status code (100 to 599)")));
                }
                Ok(n as u16)
            })
            .collect::<Result<_>>()?;
        Ok(StatusCodes::Fixed(codes))
    }
}

/// Whether `node` is a string with a `{{`: a value Artillery renders as a template before reading
/// it (a `think`, a loop `count`, a status code).
fn is_template(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar(s) if s.kind == ScalarKind::Str && s.text.contains("{{"))
}

/// The values of `statusCode` or `notStatusCode`.
enum StatusCodes {
    /// Known at load.
    Fixed(Vec<u16>),
    /// With a template among them, rendered for each response.
    Rendered(Vec<Template>),
}

/// Regular-expression flags.
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Flags {
    case_insensitive: bool,
    multi_line: bool,
    dot_all: bool,
}

/// A readable reason for a CSS selector error (scraper's own text is not meant for users).
fn selector_error(e: &scraper::error::SelectorErrorKind) -> String {
    use scraper::error::SelectorErrorKind as K;
    match e {
        K::UnexpectedToken => "unexpected character".to_string(),
        K::EndOfLine => "it ends too early".to_string(),
        K::ExpectedColonOnPseudoElement => "a pseudo-element needs `::`".to_string(),
        K::ExpectedIdentityOnPseudoElement => "a pseudo-element needs a name".to_string(),
        K::UnexpectedSelectorParseError(k) => {
            let s = format!("{k:?}");
            // `DanglingCombinator` -> "dangling combinator"
            let mut out = String::new();
            for (i, c) in s.chars().take_while(|c| c.is_alphanumeric()).enumerate() {
                if c.is_uppercase() && i > 0 {
                    out.push(' ');
                }
                out.push(c.to_ascii_lowercase());
            }
            out
        }
        other => other.to_string().to_lowercase(),
    }
}
