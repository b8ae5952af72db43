//! `config.processor` (and Artillery's tolerated top-level `processor:`), its limits, and the
//! keys that name processor functions: `function` steps, `whileTrue`, the request hooks
//! `beforeRequest`/`afterResponse` and the scenario hooks `beforeScenario`/`afterScenario`/
//! `beforeRequest`/`afterResponse`/`onError` (each a name or a list of names). Every name is
//! recorded with its place, so a name the module does not export is an error pointing at it.

use std::time::Duration;

use super::{Cx, Map, PROCESSOR_LIMITS, Result, names_help, scalar_text};
use crate::plan::{FunctionUse, ProcessorSpec, ScenarioHooks};
use crate::yaml::{Entry, Node, Value};

/// Longest one processor call may take unless `processorLimits.timeout` says otherwise.
const DEFAULT_BUDGET: Duration = Duration::from_secs(5);
/// Most memory a worker thread's JavaScript runtime may allocate, in MiB, unless
/// `processorLimits.memory` says otherwise.
const DEFAULT_MEMORY_MIB: u64 = 256;
/// The scenario keys that name processor functions.
pub(super) const SCENARIO_HOOKS: [&str; 5] =
    ["beforeScenario", "afterScenario", "beforeRequest", "afterResponse", "onError"];

/// The help for a function name the processor does not export: a did-you-mean, or its exports.
pub(crate) fn exported_names_help(name: &str, exported: &[&str]) -> String {
    names_help(
        name,
        exported,
        "it exports",
        "it exports no function: add `module.exports = { ... }` (or `export function ...`)",
    )
}

impl Cx<'_> {
    /// `config.processor`, else a top-level `processor:`, resolved against the directory of the
    /// script that names it; the file must exist. Also reads `config.processorLimits`.
    /// `shipped`, when given, replaces the resolved path (see `LoadOptions::shipped_processor`).
    pub(super) fn processor(
        &mut self,
        top: &Map<'_>,
        config: &Map<'_>,
        shipped: Option<&crate::ShippedProcessor>,
    ) -> Result<()> {
        let Some(entry) = config.get("processor").or_else(|| top.get("processor")) else {
            if let Some(limits) = config.get("processorLimits") {
                return Err(self
                    .err(limits.key_span, "`processorLimits` is set, but there is no `config.processor`")
                    .with_help("add `processor: ./functions.js`, or remove `processorLimits`"));
            }
            return Ok(());
        };
        let relative = self.name(&entry.value, "`processor`")?;
        let path = match shipped {
            Some(copy) => copy.main.clone(),
            None => super::resolve(&self.source_of(entry.value.span).dir, relative),
        };
        if !path.is_file() {
            return Err(self
                .err(entry.value.span, format!("the processor file `{}` does not exist", path.display()))
                .with_help("`processor` is relative to the directory of the script that names it"));
        }
        let (mut budget, mut memory_mib) = (DEFAULT_BUDGET, DEFAULT_MEMORY_MIB);
        if let Some(e) = config.get("processorLimits") {
            let limits = self.map(&e.value, "`processorLimits`", &PROCESSOR_LIMITS, false)?;
            if let Some(t) = limits.get("timeout") {
                budget = self.duration(&t.value, "`processorLimits.timeout`")?;
                if budget.is_zero() {
                    return Err(self.err(t.value.span, "`processorLimits.timeout` must be more than 0"));
                }
            }
            if let Some(m) = limits.get("memory") {
                memory_mib = self.positive(&m.value, "`processorLimits.memory` (MiB)")?;
            }
        }
        let memory_limit = usize::try_from(memory_mib.saturating_mul(1 << 20)).unwrap_or(usize::MAX);
        let shipped_folder = shipped.map(|copy| copy.folder.clone());
        self.processor = Some(ProcessorSpec {
            path,
            budget,
            memory_limit,
            shipped_folder,
            shipped_env: self.env.clone(),
            uses: Vec::new(),
        });
        Ok(())
    }

    /// The function names of a hook key: one name or a list of names, each recorded as used.
    pub(super) fn function_names(&mut self, entry: &Entry) -> Result<Vec<String>> {
        let items: Vec<&Node> = match &entry.value.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![&entry.value],
        };
        let mut names = Vec::with_capacity(items.len());
        for item in items {
            names.push(self.function_name(item, &entry.key, entry.key_span)?);
        }
        Ok(names)
    }

    /// One function name (the value of `function`, `whileTrue`, or an item of a hook list).
    pub(super) fn function_name(
        &mut self,
        node: &Node,
        key: &str,
        key_span: crate::error::Span,
    ) -> Result<String> {
        let what = format!("`{key}`");
        let name = match scalar_text(node) {
            Some(t) => t.trim(),
            None => {
                return Err(self
                    .type_err(node, &what, "the name of a processor function")
                    .with_help(format!("write `{key}: myFunction`, a function the processor exports")));
            }
        };
        let valid = !name.is_empty() && name.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$');
        if !valid {
            return Err(self
                .err(node.span, format!("{what} must name a processor function, found `{name}`"))
                .with_help("a function name is a JavaScript identifier, such as `signRequest`"));
        }
        if self.processor.is_none() {
            return Err(self
                .err(key_span, format!("{what} calls the processor function `{name}`, but the script has no `config.processor`"))
                .with_help("add `processor: ./functions.js` under `config`, the file that exports it"));
        }
        let offset = scalar_text(node).and_then(|t| t.find(name)).unwrap_or(0);
        let span = super::inner_span(node, offset, name.chars().count());
        let site = self.err(span, String::new());
        if let Some(p) = &mut self.processor
            && !p.uses.iter().any(|u| u.name == name)
        {
            p.uses.push(FunctionUse { name: name.to_string(), site });
        }
        Ok(name.to_string())
    }

    /// The hooks a scenario names.
    pub(super) fn scenario_hooks(&mut self, map: &Map<'_>) -> Result<ScenarioHooks> {
        let mut hooks = ScenarioHooks::default();
        for key in SCENARIO_HOOKS {
            let Some(entry) = map.get(key) else { continue };
            let names = self.function_names(entry)?;
            let slot = match key {
                "beforeScenario" => &mut hooks.before_scenario,
                "afterScenario" => &mut hooks.after_scenario,
                "beforeRequest" => &mut hooks.before_request,
                "afterResponse" => &mut hooks.after_response,
                _ => &mut hooks.on_error,
            };
            *slot = names;
        }
        Ok(hooks)
    }
}
