//! `config.tracing` and `--testid`.

use super::{Cx, Map, Result, TRACING, found};
use crate::LoadOptions;
use crate::plan::{Propagation, Tracing, check_test_id};
use crate::yaml::{ScalarKind, Value};

impl Cx<'_> {
    /// `--testid`, checked.
    pub(super) fn test_id(&self, opts: &LoadOptions) -> Result<Option<String>> {
        let Some(id) = &opts.test_id else { return Ok(None) };
        check_test_id(id).map_err(|m| self.general(format!("--testid `{}`: {m}", id.escape_debug())))?;
        Ok(Some(id.clone()))
    }

    /// `config.tracing` (a map, or `true` for the defaults), or its defaults with `--trace`; `None`
    /// when neither asks for tracing.
    pub(super) fn tracing(&self, config: &Map<'_>, opts: &LoadOptions) -> Result<Option<Tracing>> {
        let Some(entry) = config.get("tracing") else {
            return Ok(opts.trace.then(Tracing::default));
        };
        if let Value::Scalar(s) = &entry.value.value
            && let ScalarKind::Bool(on) = s.kind
        {
            return Ok((on || opts.trace).then(Tracing::default));
        }
        let map = self.map(&entry.value, "`config.tracing`", &TRACING, true)?;
        let mut tracing = Tracing::default();
        if let Some(e) = map.get("propagate") {
            let text = self.text(&e.value, "`propagate`")?;
            tracing.propagate = match text.trim().to_ascii_lowercase().as_str() {
                "w3c" | "tracecontext" => Propagation::W3c,
                _ => {
                    return Err(self
                        .err(e.value.span, format!("unknown trace propagation `{text}`"))
                        .with_help("hornet propagates W3C Trace Context: `propagate: w3c`"));
                }
            };
        }
        if let Some(e) = map.get("sampleRate") {
            let rate = self.non_negative(&e.value, "`sampleRate`")?;
            if rate > 1.0 {
                return Err(self
                    .err(
                        e.value.span,
                        format!("`sampleRate` must be between 0 and 1, found {}", found(&e.value)),
                    )
                    .with_help(
                        "the fraction of traces marked sampled, e.g. `sampleRate: 0.1` for one in ten",
                    ));
            }
            tracing.sample_rate = rate;
        }
        if let Some(e) = map.get("perIteration") {
            tracing.per_iteration = self.boolean(&e.value, "`perIteration`")?;
        }
        Ok(Some(tracing))
    }
}
