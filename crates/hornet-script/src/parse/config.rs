//! The parts of `config` beyond phases, HTTP settings, payloads (`payload.rs`) and checks
//! (`checks.rs`): defaults, environments, and scenario selection.

use http::HeaderName;

use super::{CONFIG, Cx, DEFAULTS, Map, Result, THINK_DEFAULTS, names_help, number_of, scalar_text};
use crate::error::ScriptError;
use crate::plan::{Jitter, Plan, Scenario, Step, WsStep};
use crate::template::Template;
use crate::yaml::{Entry, Node};

/// `config.defaults` (or `config.http.defaults`).
pub(super) struct Defaults {
    pub headers: Vec<(HeaderName, Template)>,
    pub cookies: Vec<(String, Template)>,
    pub strict_capture: bool,
    pub jitter: Option<Jitter>,
}

impl Cx<'_> {
    /// A boolean key of `map`, or `default`.
    pub(super) fn flag(&self, map: &Map<'_>, key: &str, default: bool) -> Result<bool> {
        map.get(key).map_or(Ok(default), |e| self.boolean(&e.value, &format!("`{key}`")))
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
                return Err(self.err(second.key_span, format!("`defaults.{key}` is set twice")).with_help(
                    format!(
                        "it is set under both `config.defaults` and `config.http.defaults` ({}); keep one",
                        self.line_of(first.key_span, second.key_span)
                    ),
                ));
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
