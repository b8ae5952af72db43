//! `{{ ... }}` templates, compiled once into literal, variable and function segments.
//!
//! A placeholder holds one of:
//!
//! - a variable path, lodash-`get` style: `{{ id }}`, `{{ user.name }}`, `{{ items[0].id }}`,
//!   `{{ a["key.with.dots"] }}`. The root name is looked up with [`Vars::get`], then object keys
//!   and array indices are followed (`a.0` also indexes an array). A path that does not resolve
//!   renders as the empty string and is reported by [`Template::render_into`]'s return value, so
//!   callers can warn once instead of per request.
//! - a VU-scoped built-in variable, which is just a name starting with `$` supplied by the caller's
//!   [`Vars`]: `$uuid`, `$loopCount`, `$loopElement` (with paths: `{{ $loopElement.id }}`),
//!   `$testId`, `$environment`.
//! - a function evaluated by the template: `$randomNumber(min, max)` (inclusive, integers, negative
//!   allowed), `$randomString(len)` (alphanumeric; 10 characters without `len`, as in Artillery), `$timestamp` or `$timestamp()` (wall-clock
//!   milliseconds since the Unix epoch). Randomness comes from [`Vars::random`], so a VU with a
//!   seeded generator renders reproducibly.
//! - `$env.NAME` or `$processEnvironment.NAME`: an environment variable, read once when the
//!   template is compiled and kept as literal text. `$env.NAME || "text"` gives a default, used
//!   when the variable is unset or empty; an unset one without a default is a compile error
//!   (Artillery sends `undefined`, which only shows up as wrong requests).
//!
//! A placeholder that is none of these and that Artillery would not read either (it holds
//! characters a variable path cannot, like `{{ $moment().format('L') }}`, and is not a function
//! call with plain arguments) is kept as written, as Artillery keeps it; see [`Template::verbatim`].
//!
//! Rendering appends to a caller-owned buffer and allocates nothing else; only values that must be
//! written as JSON are serialized (straight into the buffer, without a temporary string).
//!
//! Inside a larger string, strings render without quotes, `null` as nothing, and numbers, booleans,
//! objects and arrays as compact JSON. A template that is one placeholder and nothing else keeps
//! the value's JSON type with [`Template::render_value`] and [`Template::render_json_into`]
//! (and therefore in [`JsonTemplate`] bodies).

mod json;
mod parse;
mod render;

pub use json::JsonTemplate;

use std::fmt;
use std::ops::Range;

use serde_json::Value;

use crate::rng::thread_random;

/// Looks variables up by name while rendering, and supplies randomness.
pub trait Vars {
    /// A variable by root name, including VU-scoped built-ins ($uuid, $loopCount, $loopElement,
    /// $testId, $environment).
    fn get(&self, name: &str) -> Option<&Value>;
    /// A uniformly random u64 for $randomNumber/$randomString (the runner seeds it per VU).
    ///
    /// Takes `&self`: implementations keep their state in a [`Cell`](std::cell::Cell) (see
    /// [`SplitMix64`](crate::rng::SplitMix64)).
    fn random(&self) -> u64;
}

impl Vars for [(String, Value)] {
    fn get(&self, name: &str) -> Option<&Value> {
        self.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }

    /// Draws from a thread-local generator seeded randomly per thread.
    fn random(&self) -> u64 {
        thread_random()
    }
}

impl Vars for Vec<(String, Value)> {
    fn get(&self, name: &str) -> Option<&Value> {
        Vars::get(self.as_slice(), name)
    }

    /// Draws from a thread-local generator seeded randomly per thread.
    fn random(&self) -> u64 {
        thread_random()
    }
}

impl<S: std::hash::BuildHasher> Vars for std::collections::HashMap<String, Value, S> {
    fn get(&self, name: &str) -> Option<&Value> {
        std::collections::HashMap::get(self, name)
    }

    /// Draws from a thread-local generator seeded randomly per thread.
    fn random(&self) -> u64 {
        thread_random()
    }
}

/// The longest string `$randomString(len)` may produce.
pub const MAX_RANDOM_STRING: usize = 1 << 20;
/// The length of `$randomString()` without an argument, as in Artillery.
pub const DEFAULT_RANDOM_STRING: usize = 10;

/// One step of a path after the root name: `.key`, `[3]` or `["key"]`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Step {
    /// The object key this step reads (for `[3]`, `"3"`).
    key: String,
    /// The array index this step reads, when the key is a non-negative integer.
    index: Option<usize>,
}

impl Step {
    fn new(key: &str) -> Step {
        let index = if key.bytes().all(|b| b.is_ascii_digit()) { key.parse().ok() } else { None };
        Step { key: key.to_string(), index }
    }

    fn follow<'v>(&self, v: &'v Value) -> Option<&'v Value> {
        match v {
            Value::Object(m) => m.get(&self.key),
            Value::Array(a) => a.get(self.index?),
            _ => None,
        }
    }
}

/// A variable reference: root name and steps.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Path {
    /// The path as written (trimmed), reported when it does not resolve.
    text: String,
    root: String,
    steps: Vec<Step>,
}

impl Path {
    fn resolve<'v, V: Vars + ?Sized>(&self, vars: &'v V) -> Option<&'v Value> {
        let mut v = vars.get(&self.root)?;
        for step in &self.steps {
            v = step.follow(v)?;
        }
        Some(v)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Lit(String),
    Ref(Path),
    RandomNumber { min: i64, max: i64 },
    RandomString { len: usize },
    Timestamp,
}

impl Segment {
    /// True for segments whose output changes between renders.
    fn is_dynamic(&self) -> bool {
        !matches!(self, Segment::Lit(_))
    }
}

/// What a placeholder holds; see [`Placeholder`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PlaceholderKind<'a> {
    /// A variable path; `root` is the variable's name (`user` in `user.name`).
    Variable {
        /// The root name looked up with [`Vars::get`].
        root: &'a str,
    },
    /// A `$` built-in variable supplied by the caller's [`Vars`] (`$uuid`, `$loopElement`, ...),
    /// possibly with a path after it.
    Builtin {
        /// The built-in's name, with its `$`.
        root: &'a str,
    },
    /// A function the template evaluates: `$randomNumber`, `$randomString` or `$timestamp`.
    Function {
        /// The function's name, with its `$`.
        name: &'a str,
    },
    /// `$env.NAME` or `$processEnvironment.NAME`, resolved when the template was compiled.
    Env {
        /// The environment variable's name.
        name: &'a str,
    },
}

/// One `{{ ... }}` of a compiled template, with its position in the source (for diagnostics).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Placeholder<'a> {
    /// Byte range of the whole `{{ ... }}` in [`Template::source`].
    pub span: Range<usize>,
    /// The text between the braces, trimmed: `user.name`, `$randomNumber(1, 10)`.
    pub text: &'a str,
    /// What it refers to.
    pub kind: PlaceholderKind<'a>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum KindTag {
    Variable,
    Builtin,
    Function,
    Env,
}

/// A placeholder as stored: ranges into the source.
#[derive(Debug, Clone, PartialEq, Eq)]
struct PlaceholderRec {
    span: Range<usize>,
    text: Range<usize>,
    tag: KindTag,
    /// The root, function or environment variable name.
    name: Range<usize>,
}

/// A compiled string template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    /// Adjacent literals are merged; an empty template has no segments.
    segments: Vec<Segment>,
    placeholders: Vec<PlaceholderRec>,
    /// Byte ranges of the `{{ ... }}` kept as written, as Artillery keeps them (see
    /// [`Template::verbatim`]).
    verbatim: Vec<Range<usize>>,
}

/// Why a template did not compile; `offset` is the byte offset of the problem in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    /// Byte offset in the template source where the problem starts.
    pub offset: usize,
    /// What is wrong.
    pub message: String,
}

impl fmt::Display for TemplateError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for TemplateError {}

impl Template {
    /// A template that renders `text` as is, even if it contains `{{`.
    pub fn literal(text: &str) -> Template {
        let segments = if text.is_empty() { vec![] } else { vec![Segment::Lit(text.to_string())] };
        Template { source: text.to_string(), segments, placeholders: Vec::new(), verbatim: Vec::new() }
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True when the template has no `{{ }}`: it renders to its source every time.
    pub fn is_static(&self) -> bool {
        self.placeholders.is_empty()
    }

    /// The text the template always renders, when it does not depend on variables, randomness or
    /// time: static templates and those whose only placeholders are `$env.NAME` (resolved at
    /// compile time).
    pub fn as_constant(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [] => Some(""),
            [Segment::Lit(s)] => Some(s),
            _ => None,
        }
    }

    /// Every `{{ ... }}` in source order, with its byte span and what it refers to.
    pub fn placeholders(&self) -> impl Iterator<Item = Placeholder<'_>> {
        self.placeholders.iter().map(|p| {
            let name = &self.source[p.name.clone()];
            Placeholder {
                span: p.span.clone(),
                text: &self.source[p.text.clone()],
                kind: match p.tag {
                    KindTag::Variable => PlaceholderKind::Variable { root: name },
                    KindTag::Builtin => PlaceholderKind::Builtin { root: name },
                    KindTag::Function => PlaceholderKind::Function { name },
                    KindTag::Env => PlaceholderKind::Env { name },
                },
            }
        })
    }

    /// The `{{ ... }}` that are neither a variable path nor a function call with plain arguments
    /// (`{{ $moment().format('L') }}`): Artillery's template engine leaves them alone, so they
    /// render as written. Byte ranges in [`Template::source`].
    pub fn verbatim(&self) -> impl Iterator<Item = Range<usize>> + '_ {
        self.verbatim.iter().cloned()
    }

    /// Root names of the variables the template reads (`user` for `{{ user.name }}`), in order of
    /// appearance; `$` built-ins and functions are not included.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.placeholders().filter_map(|p| match p.kind {
            PlaceholderKind::Variable { root } => Some(root),
            _ => None,
        })
    }

    /// Names of the `$` built-in variables the template reads (`$loopElement` for
    /// `{{ $loopElement.id }}`), in order of appearance. Functions and `$env` are not included.
    pub fn builtins(&self) -> impl Iterator<Item = &str> {
        self.placeholders().filter_map(|p| match p.kind {
            PlaceholderKind::Builtin { root } => Some(root),
            _ => None,
        })
    }

    /// Renders every reference to the variable `root` (with any path after it) as the text
    /// `undefined`, as Artillery renders a variable that nothing defines.
    pub(crate) fn undefine(&mut self, root: &str) {
        let segments = std::mem::take(&mut self.segments);
        for segment in segments {
            match segment {
                Segment::Ref(path) if path.root == root => self.push_lit("undefined"),
                Segment::Lit(text) => self.push_lit(&text),
                other => self.segments.push(other),
            }
        }
    }

    /// If the template is exactly one variable reference (a name or path, including `$`
    /// built-ins) and nothing else, that path as written (`item.id`).
    pub fn whole_variable(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [Segment::Ref(p)] => Some(&p.text),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vec<(String, Value)> {
        vec![("id".into(), json!(42)), ("name".into(), json!("ann")), ("obj".into(), json!({"a": 1}))]
    }

    #[test]
    fn renders_literals_and_variables() {
        let t = Template::compile("/items/{{ id }}?who={{name}}").unwrap();
        assert!(!t.is_static());
        assert_eq!(t.render(&vars()), "/items/42?who=ann");
        assert_eq!(t.variables().collect::<Vec<_>>(), ["id", "name"]);
    }

    #[test]
    fn static_template_renders_source() {
        let t = Template::compile("/plain").unwrap();
        assert!(t.is_static());
        assert_eq!(t.as_constant(), Some("/plain"));
        assert_eq!(t.render(&vars()), "/plain");
    }

    #[test]
    fn missing_variable_is_reported_and_renders_empty() {
        let t = Template::compile("a{{ nope }}b").unwrap();
        let mut out = String::new();
        assert_eq!(t.render_into(&vars(), &mut out), Some("nope"));
        assert_eq!(out, "ab");
    }

    #[test]
    fn an_undefined_variable_renders_as_artillery_renders_it() {
        let mut t = Template::compile("a {{ nope.x }}-{{ id }}{{ nope }}").unwrap();
        t.undefine("nope");
        assert_eq!(t.render(&vars()), "a undefined-42undefined");
        let mut whole = Template::compile("{{ nope }}").unwrap();
        whole.undefine("nope");
        assert_eq!(whole.as_constant(), Some("undefined"));
    }

    #[test]
    fn unclosed_and_empty_templates_are_errors() {
        let e = Template::compile("x {{ id").unwrap_err();
        assert_eq!(e.offset, 2);
        assert!(e.message.contains("not closed"));
        assert!(Template::compile("{{  }}").unwrap_err().message.contains("empty"));
    }

    #[test]
    fn json_is_static_only_without_templates() {
        assert!(JsonTemplate::compile(&json!({"a": [1, "x"], "b": {"c": true}})).unwrap().is_static());
        assert!(!JsonTemplate::compile(&json!({"a": [1, "{{ id }}"]})).unwrap().is_static());
    }

    #[test]
    fn json_whole_variable_keeps_type() {
        let body = json!({"id": "{{ id }}", "label": "n-{{ id }}", "o": "{{ obj }}", "k": [1, "{{ name }}"]});
        let t = JsonTemplate::compile(&body).unwrap();
        let mut out = String::new();
        t.render_into(&vars(), &mut out);
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, json!({"id": 42, "label": "n-42", "o": {"a": 1}, "k": [1, "ann"]}));
    }
}
