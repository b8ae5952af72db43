//! Scenarios, `before`/`after` and steps, with `loop` and `parallel`. Requests and their bodies,
//! captures and matches, and expectations are read in the submodules.

mod capture;
mod expect;
mod request;

use super::{BEFORE_AFTER, Cx, Map, Result, SCENARIO, STEP, backquoted, inner_span, scalar_text};
use crate::plan::{LoopOver, Scenario, Step, Think};
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
        // Only processor functions read it; a value JSON cannot hold (`.nan`) becomes `null`.
        let spec = match &self.processor {
            Some(_) => artillery_scenario_object(self.json_value(node).unwrap_or_default()),
            None => serde_json::Value::Null,
        };
        Ok(Scenario { name, weight, flow, hooks, spec: std::sync::Arc::new(spec) })
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
                if let Some(&kind) = self.known_kinds.get(name)
                    && kind != "a list"
                {
                    return Err(self
                        .err(
                            inner_span(node, offset, name.chars().count()),
                            format!("`over: {name}` needs a list, but `{name}` is {kind}"),
                        )
                        .with_help(format!(
                            "write the list in `over` (`over: [a, b]`), or make `{name}` a list of lists in `config.variables` (each virtual user gets one of them)"
                        )));
                }
                Ok(LoopOver::Variable(name.to_string()))
            }
            _ => Err(self.type_err(node, "`over`", "a list or a variable name").with_help(help)),
        }
    }
}

/// Whether `node` is a string with a `{{`: a value Artillery renders as a template before reading
/// it (a `think`, a loop `count`, a status code).
fn is_template(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar(s) if s.kind == ScalarKind::Str && s.text.contains("{{"))
}

/// A scenario as Artillery hands it to processor functions (`context.scenario`): as written, with
/// `weight` defaulting to 1, each hook key a list (empty when absent), and the `beforeScenario`
/// and `afterScenario` functions as `function` steps at the ends of `flow`.
fn artillery_scenario_object(written: serde_json::Value) -> serde_json::Value {
    use serde_json::{Value as J, json};
    let J::Object(mut map) = written else { return written };
    map.entry("weight").or_insert(J::from(1));
    for key in super::processor::SCENARIO_HOOKS {
        let list = match map.remove(key) {
            None | Some(J::Null) => Vec::new(),
            Some(J::Array(items)) => items,
            Some(one) => vec![one],
        };
        map.insert(key.to_string(), J::Array(list));
    }
    let steps = |key: &str, map: &serde_json::Map<String, J>| -> Vec<J> {
        map.get(key)
            .and_then(J::as_array)
            .map_or_else(Vec::new, |names| names.iter().map(|name| json!({ "function": name })).collect())
    };
    let (before, after) = (steps("beforeScenario", &map), steps("afterScenario", &map));
    if let Some(J::Array(flow)) = map.get_mut("flow") {
        flow.splice(0..0, before);
        flow.extend(after);
    }
    J::Object(map)
}
