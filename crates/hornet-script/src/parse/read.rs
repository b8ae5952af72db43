//! Typed readers over the spanned YAML tree, and the error helpers they share: each reader checks
//! one value's type and range and, when it is wrong, says where and what was expected. Also the
//! variable scope of templates and expressions, and the endpoint registry.

use std::path::PathBuf;
use std::time::Duration;

use super::keys::{ALL_KEYS, Keys, ROOT, unsupported_help};
use super::{Cx, Result, Source};
use crate::duration::{parse_duration, secs_to_duration};
use crate::error::{ScriptError, ScriptWarning, Span};
use crate::expr::Expr;
use crate::plan::{Endpoint, EndpointId, Protocol};
use crate::template::{PlaceholderKind, Template};
use crate::yaml::{Entry, Node, ScalarKind, Value};

/// The `$` variables the runner provides to templates.
pub(super) const BUILTINS: [&str; 5] = ["$uuid", "$loopCount", "$loopElement", "$testId", "$environment"];

pub(super) const DURATION_HELP: &str =
    "a duration is a number of seconds (`10`, `0.5`) or a string like `500ms`, `90s`, `5m`, `1h`";

/// A mapping whose keys have been checked, with lookup by key; the keys ignored with a warning are
/// left out.
pub(super) struct Map<'n> {
    pub(super) entries: Vec<&'n Entry>,
    /// Where to point for "missing key" errors.
    pub(super) span: Span,
}

impl<'n> Map<'n> {
    pub(super) fn get(&self, key: &str) -> Option<&'n Entry> {
        self.entries.iter().copied().find(|e| e.key == key)
    }

    /// The entries whose key is one of `keys`, in file order.
    pub(super) fn any_of(&self, keys: &[&str]) -> Vec<&'n Entry> {
        self.entries.iter().copied().filter(|e| keys.contains(&e.key.as_str())).collect()
    }
}

/// Describes a value for "found ..." in type errors.
pub(super) fn found(node: &Node) -> String {
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
pub(super) fn scalar_text(node: &Node) -> Option<&str> {
    match &node.value {
        Value::Scalar(s) if s.kind != ScalarKind::Null => Some(&s.text),
        _ => None,
    }
}

pub(super) fn number_of(node: &Node) -> Option<f64> {
    match &node.value {
        Value::Scalar(s) => match s.kind {
            ScalarKind::Int(i) => Some(i as f64),
            ScalarKind::Float(f) => Some(f),
            _ => None,
        },
        _ => None,
    }
}

pub(super) fn is_null(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar(s) if s.kind == ScalarKind::Null)
}

/// The best "did you mean" candidate for `key` among `candidates`.
pub(super) fn suggest<'k>(key: &str, candidates: &[&'k str]) -> Option<&'k str> {
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

pub(super) fn backquoted(items: &[&str]) -> String {
    items.iter().map(|k| format!("`{k}`")).collect::<Vec<_>>().join(", ")
}

/// The key among `candidates` that `key` is probably a misspelling of: the same ignoring case, or
/// within an edit distance of 1 (keys of 3 to 5 characters) or 2 (longer keys). Shorter keys and
/// unrelated words (`description`, `owner`) have none.
pub(super) fn near_typo<'k>(key: &str, candidates: &[&'k str]) -> Option<&'k str> {
    let lower = key.to_lowercase();
    candidates
        .iter()
        .filter_map(|&c| {
            let candidate = c.to_lowercase();
            let limit = match candidate.chars().count() {
                0..=2 => 0,
                3..=5 => 1,
                _ => 2,
            };
            let distance = strsim::osa_distance(&lower, &candidate);
            (distance <= limit).then_some((distance, c))
        })
        .min_by_key(|(distance, _)| *distance)
        .map(|(_, c)| c)
}

/// "did you mean `x`?" when one of `names` is close to `name`, else a list of the names (at most
/// 12) introduced by `intro`, or `none` when there are no names.
pub(super) fn names_help(name: &str, names: &[&str], intro: &str, none: &str) -> String {
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
pub(super) fn resolve(dir: &std::path::Path, relative: &str) -> PathBuf {
    dir.join(relative).components().filter(|c| !matches!(c, std::path::Component::CurDir)).collect()
}

/// The span of `len` characters at byte `offset` of the text of the scalar `node`, or the whole
/// value when its text does not map one to one onto the source (escapes, block scalars, aliases).
pub(super) fn inner_span(node: &Node, offset: usize, len: usize) -> Span {
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
    pub(super) fn source_of(&self, span: Span) -> &Source {
        self.sources.get(span.file).unwrap_or(&self.sources[0])
    }

    /// Where `other` is, said from an error at `here`: `line 4`, or `line 4 of b.yaml` when the
    /// two are in different files (merged scripts, `--overrides`).
    pub(super) fn line_of(&self, other: Span, here: Span) -> String {
        if other.file == here.file {
            format!("line {}", other.start.line)
        } else {
            format!("line {} of {}", other.start.line, self.source_of(other).name)
        }
    }

    pub(super) fn err(&self, span: Span, message: impl Into<String>) -> ScriptError {
        let s = self.source_of(span);
        ScriptError::at(&s.name, &s.text, span, message)
    }

    /// An error about the command line or the run as a whole, with no place in a file.
    pub(super) fn general(&self, message: impl Into<String>) -> ScriptError {
        ScriptError::general(&self.sources[0].name, message)
    }

    pub(super) fn type_err(&self, node: &Node, what: &str, expected: &str) -> ScriptError {
        self.err(node.span, format!("{what} must be {expected}, found {}", found(node)))
    }

    pub(super) fn unsupported(&self, span: Span, feature: &str) -> ScriptError {
        self.err(span, format!("`{feature}` is an Artillery feature hornet does not support yet"))
    }

    pub(super) fn javascript(&self, span: Span, key: &str) -> ScriptError {
        self.err(span, format!("`{key}` here is a JavaScript processor hook hornet does not support"))
            .with_help("call the function in a `function` step before this one instead")
    }

    /// Checks that `node` is a mapping of `keys`; a null value is an empty mapping when `null_ok`.
    ///
    /// An unknown key that is a near-typo of a valid one here ([`near_typo`]) is an error with a
    /// "did you mean": Artillery would silently ignore it and run another test than the one
    /// written. So is a key that belongs somewhere else, except at the top level. Any other unknown
    /// key is a warning and is left out of the returned map, as Artillery ignores it. Keys Artillery has and hornet does not implement, and those that call
    /// JavaScript, are errors.
    pub(super) fn map<'n>(&self, node: &'n Node, what: &str, keys: &Keys, null_ok: bool) -> Result<Map<'n>> {
        let all: &'n [Entry] = match &node.value {
            Value::Map(entries) => entries,
            Value::Scalar(s) if null_ok && s.kind == ScalarKind::Null => &[],
            _ => return Err(self.type_err(node, what, "a map")),
        };
        let mut entries = Vec::with_capacity(all.len());
        for e in all {
            let key = e.key.as_str();
            if keys.known.contains(&key) {
                entries.push(e);
                continue;
            }
            if keys.javascript.contains(&key) {
                return Err(self.javascript(e.key_span, &e.key));
            }
            if keys.unsupported.contains(&key) {
                let err = self.unsupported(e.key_span, &e.key);
                return Err(match unsupported_help(keys, &e.key) {
                    Some(h) => err.with_help(h),
                    None => err.with_help("docs/script-format.md lists what hornet supports"),
                });
            }
            if let Some(s) = near_typo(key, keys.known) {
                return Err(self
                    .err(e.key_span, format!("unknown key `{key}` {}", keys.place))
                    .with_help(format!("did you mean `{s}`?")));
            }
            let help = match ALL_KEYS.iter().find(|k| k.known.contains(&key)) {
                // A key of a scenario, a step or `config` one level off is an indentation
                // mistake that would silently change the test, as a near-typo would.
                Some(home) if keys.place != ROOT.place => {
                    return Err(self
                        .err(e.key_span, format!("unknown key `{key}` {}", keys.place))
                        .with_help(format!("`{key}` belongs {}", home.home)));
                }
                Some(home) => {
                    format!("`{key}` belongs {}; here Artillery ignores it, and so does hornet", home.home)
                }
                None => format!(
                    "Artillery ignores keys it does not know, and so does hornet; the keys {} are {}",
                    keys.place,
                    backquoted(keys.known)
                ),
            };
            self.warn(
                self.err(e.key_span, format!("unknown key `{key}` {} is ignored", keys.place))
                    .with_help(help),
            );
        }
        Ok(Map { entries, span: node.span })
    }

    /// Notes a warning (once per place and message).
    pub(super) fn warn(&self, warning: ScriptError) {
        let mut warnings = self.warnings.borrow_mut();
        let same = |w: &ScriptWarning| {
            w.0.file == warning.file
                && w.0.line == warning.line
                && w.0.column == warning.column
                && w.0.message == warning.message
        };
        if !warnings.iter().any(same) {
            warnings.push(ScriptWarning(warning));
        }
    }

    pub(super) fn missing(&self, map: &Map<'_>, key: &str, keys: &Keys) -> ScriptError {
        self.err(map.span, format!("missing required key `{key}` {}", keys.place))
    }

    pub(super) fn list<'n>(&self, node: &'n Node, what: &str) -> Result<&'n [Node]> {
        match &node.value {
            Value::Seq(items) => Ok(items),
            _ => Err(self.type_err(node, what, "a list")),
        }
    }

    /// The entries of a map from names to values (null is an empty map).
    pub(super) fn entries<'n>(&self, node: &'n Node, what: &str, expected: &str) -> Result<&'n [Entry]> {
        match &node.value {
            Value::Map(entries) => Ok(entries),
            Value::Scalar(s) if s.kind == ScalarKind::Null => Ok(&[]),
            _ => Err(self.type_err(node, what, expected)),
        }
    }

    pub(super) fn text<'n>(&self, node: &'n Node, what: &str) -> Result<&'n str> {
        scalar_text(node).ok_or_else(|| self.type_err(node, what, "a string"))
    }

    /// A string that is not empty or blank.
    pub(super) fn name<'n>(&self, node: &'n Node, what: &str) -> Result<&'n str> {
        let t = self.text(node, what)?;
        if t.trim().is_empty() {
            return Err(self.err(node.span, format!("{what} is empty")));
        }
        Ok(t)
    }

    /// The name of a variable being defined: not empty, and not starting with `$` (the prefix of
    /// built-ins).
    pub(super) fn variable_name(&self, text: &str, span: Span, what: &str) -> Result<()> {
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

    pub(super) fn boolean(&self, node: &Node, what: &str) -> Result<bool> {
        match &node.value {
            Value::Scalar(s) => match s.kind {
                ScalarKind::Bool(b) => Ok(b),
                _ => Err(self.type_err(node, what, "`true` or `false`")),
            },
            _ => Err(self.type_err(node, what, "`true` or `false`")),
        }
    }

    /// A finite number.
    pub(super) fn finite(&self, node: &Node, what: &str) -> Result<f64> {
        let n = number_of(node).ok_or_else(|| self.type_err(node, what, "a number"))?;
        if !n.is_finite() {
            return Err(self.err(node.span, format!("{what} must be a finite number, found {}", found(node))));
        }
        Ok(n)
    }

    /// A finite number that is zero or more.
    pub(super) fn non_negative(&self, node: &Node, what: &str) -> Result<f64> {
        let n = self.finite(node, what)?;
        if n < 0.0 {
            return Err(self.err(node.span, format!("{what} must not be negative, found {}", found(node))));
        }
        Ok(n)
    }

    /// A whole number that is zero or more.
    pub(super) fn whole(&self, node: &Node, what: &str) -> Result<u64> {
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

    pub(super) fn positive(&self, node: &Node, what: &str) -> Result<u64> {
        let n = self.whole(node, what)?;
        if n == 0 {
            return Err(self.err(node.span, format!("{what} must be at least 1, found 0")));
        }
        Ok(n)
    }

    /// A number of seconds or a duration string.
    pub(super) fn duration(&self, node: &Node, what: &str) -> Result<Duration> {
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

    /// Compiles `text`, `$env.NAME` read from [`Cx::env`].
    pub(super) fn compile_template(
        &self,
        text: &str,
    ) -> std::result::Result<Template, crate::template::TemplateError> {
        Template::compile_with_env(text, &|name| self.env.var(name))
    }

    /// Compiles a string-like scalar as a template and checks the variables it inserts; an error
    /// points inside the string when the source allows it.
    pub(super) fn template(&self, node: &Node, what: &str) -> Result<Template> {
        let text = self.text(node, what)?;
        let template = self.compile_template(text).map_err(|e| {
            self.err(inner_span(node, e.offset, 2), format!("invalid template in {what}: {}", e.message))
                .with_help("a placeholder holds a variable (`{{ id }}`, `{{ user.name }}`), a built-in (`{{ $uuid }}`) or a function (`{{ $randomNumber(1, 10) }}`)")
        })?;
        for range in template.verbatim() {
            let shown = text.get(range.clone()).unwrap_or_default();
            self.warn(
                self.err(inner_span(node, range.start, shown.chars().count()), format!("`{shown}` in {what} is sent as written, as Artillery sends it: it is neither a variable nor a function call"))
                    .with_help("a placeholder holds a variable (`{{ id }}`, `{{ user.name }}`), a built-in (`{{ $uuid }}`) or a function (`{{ $randomNumber(1, 10) }}`)"),
            );
        }
        let mut undefined: Vec<String> = Vec::new();
        for p in template.placeholders() {
            // The root name starts the trimmed text of the placeholder.
            let at = p.span.start + text.get(p.span.clone()).and_then(|t| t.find(p.text)).unwrap_or(0);
            match p.kind {
                PlaceholderKind::Variable { root } => {
                    if !self.in_scope(root) {
                        let span = inner_span(node, at, root.chars().count());
                        let defined: Vec<&str> = self.scope.iter().map(String::as_str).collect();
                        if near_typo(root, &defined).is_some() {
                            return Err(self.unknown_variable(span, root, what));
                        }
                        self.warn(self.undefined_variable(span, root, what));
                        undefined.push(root.to_string());
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
        let mut template = template;
        for root in &undefined {
            template.undefine(root);
        }
        Ok(template)
    }

    /// Checks that the names an expression reads are in scope (`$` built-ins aside). A name with a
    /// path (`user.name`) is checked by its root.
    pub(super) fn check_expr_names(&self, node: &Node, expr: &Expr, what: &str) -> Result<()> {
        let text = scalar_text(node).unwrap_or_default();
        for name in expr.variables() {
            let root = name.split(['.', '[']).next().unwrap_or(name).trim();
            if root.is_empty() || root.starts_with('$') || self.in_scope(root) {
                continue;
            }
            let span = text.find(name).map_or(node.span, |at| inner_span(node, at, root.chars().count()));
            let err = self.unknown_variable(span, root, what);
            let names: Vec<&str> = self.scope.iter().map(String::as_str).collect();
            if text.trim() == name && suggest(root, &names).is_none() {
                // Artillery also takes the name of a processor function here.
                return Err(err.with_help(format!(
                    "{what} is an expression over variables; to decide with a processor function, set a variable in a `function` step before it and test that"
                )));
            }
            return Err(err);
        }
        Ok(())
    }

    /// The warning for a variable that nothing defines and that resembles no defined one: it
    /// renders as `undefined`, as in Artillery.
    pub(super) fn undefined_variable(&self, span: Span, name: &str, what: &str) -> ScriptError {
        self.err(span, format!("variable `{name}` in {what} is not defined anywhere: it renders as `undefined`, as in Artillery"))
            .with_help("variables come from `config.variables`, `config.payload` fields, a capture's `as`, and --var")
    }

    pub(super) fn unknown_variable(&self, span: Span, name: &str, what: &str) -> ScriptError {
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
    pub(super) fn expr(&self, node: &Node, what: &str, example: &str) -> Result<Expr> {
        let text = self.text(node, what)?;
        Expr::compile(text).map_err(|e| {
            self.err(inner_span(node, e.offset, 1), format!("invalid expression in {what}: {}", e.message))
                .with_help(format!("for example `{example}`"))
        })
    }

    /// The endpoint named `name`, registered on first use. One name cannot be both an HTTP request
    /// and a WebSocket step (their metrics differ); `span` is where to point if it is.
    pub(super) fn endpoint_of(&mut self, name: String, protocol: Protocol, span: Span) -> Result<EndpointId> {
        if let Some(&id) = self.endpoint_ids.get(&name) {
            if self.endpoints.get(id as usize).is_some_and(|e| e.protocol != protocol) {
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
        self.endpoints.push(Endpoint::new(name.clone(), protocol));
        self.endpoint_ids.insert(name, id);
        Ok(id)
    }

    /// Whether a template or expression may read `name`. With a processor, any name may be: its
    /// functions set variables the script cannot see.
    pub(super) fn in_scope(&self, name: &str) -> bool {
        self.processor.is_some() || self.scope.iter().any(|v| v == name)
    }

    pub(super) fn add_to_scope(&mut self, name: &str) {
        if !self.scope.iter().any(|n| n == name) {
            self.scope.push(name.to_string());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::parse::keys::{PHASE, REQUEST, STEP};

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
}
