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
//!   allowed), `$randomString(len)` (alphanumeric), `$timestamp` or `$timestamp()` (wall-clock
//!   milliseconds since the Unix epoch). Randomness comes from [`Vars::random`], so a VU with a
//!   seeded generator renders reproducibly.
//! - `$env.NAME` or `$processEnvironment.NAME`: an environment variable, read once when the
//!   template is compiled and kept as literal text (a missing variable is the empty string).
//!
//! Rendering appends to a caller-owned buffer and allocates nothing else; only values that must be
//! written as JSON are serialized (straight into the buffer, without a temporary string).
//!
//! Inside a larger string, strings render without quotes, `null` as nothing, and numbers, booleans,
//! objects and arrays as compact JSON. A template that is one placeholder and nothing else keeps
//! the value's JSON type with [`Template::render_value`] and [`Template::render_json_into`]
//! (and therefore in [`JsonTemplate`] bodies).

use std::cell::Cell;
use std::fmt::{self, Write as _};
use std::ops::Range;

use serde_json::Value;

/// Looks variables up by name while rendering, and supplies randomness.
pub trait Vars {
    /// A variable by root name, including VU-scoped built-ins ($uuid, $loopCount, $loopElement,
    /// $testId, $environment).
    fn get(&self, name: &str) -> Option<&Value>;
    /// A uniformly random u64 for $randomNumber/$randomString (the runner seeds it per VU).
    ///
    /// Takes `&self`: implementations keep their state in a [`Cell`] (see [`SplitMix64`]).
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

/// SplitMix64: a tiny, fast, seedable generator, good enough for test data. Its state is a
/// [`Cell`], so [`Vars::random`] implementations can draw through `&self`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SplitMix64 {
    state: Cell<u64>,
}

impl SplitMix64 {
    /// A generator whose sequence is fixed by `seed`.
    pub fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: Cell::new(seed) }
    }

    /// The next value of the sequence.
    pub fn next_u64(&self) -> u64 {
        let s = self.state.get().wrapping_add(0x9E37_79B9_7F4A_7C15);
        self.state.set(s);
        let mut z = s;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }
}

thread_local! {
    static THREAD_RNG: SplitMix64 = {
        use std::hash::BuildHasher;
        SplitMix64::new(std::collections::hash_map::RandomState::new().hash_one(0x686f_726e_6574_u64))
    };
}

/// A random u64 from a per-thread generator with a random seed (for the [`Vars`] impls of plain
/// collections, which have nowhere to keep a seeded one).
fn thread_random() -> u64 {
    THREAD_RNG.with(SplitMix64::next_u64)
}

/// The longest string `$randomString(len)` may produce.
pub const MAX_RANDOM_STRING: usize = 1 << 20;

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

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

fn error<T>(offset: usize, message: impl Into<String>) -> Result<T, TemplateError> {
    Err(TemplateError { offset, message: message.into() })
}

/// Characters a variable name or key may not contain (besides whitespace).
fn is_name_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '.' | '[' | ']' | '(' | ')' | '{' | '}' | '\'' | '"' | ',' | '`')
}

/// A cursor over the trimmed text of one placeholder; offsets it reports are in the template.
struct Cursor<'s> {
    text: &'s str,
    pos: usize,
    /// Offset of `text` in the template source.
    base: usize,
}

impl<'s> Cursor<'s> {
    fn peek(&self) -> Option<char> {
        self.text[self.pos..].chars().next()
    }

    fn at(&self) -> usize {
        self.base + self.pos
    }

    fn bump(&mut self) {
        if let Some(c) = self.peek() {
            self.pos += c.len_utf8();
        }
    }

    fn skip_ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.bump();
        }
    }

    /// Consumes a run of name characters; returns its range in `text`.
    fn name(&mut self) -> Range<usize> {
        let start = self.pos;
        while self.peek().is_some_and(is_name_char) {
            self.bump();
        }
        start..self.pos
    }

    fn slice(&self, r: Range<usize>) -> &'s str {
        &self.text[r]
    }

    /// Describes the character at the cursor for error messages.
    fn found(&self) -> String {
        match self.peek() {
            Some(c) => format!("`{c}`"),
            None => "the end".to_string(),
        }
    }
}

/// Parses the steps after a root name: `.key`, `[3]`, `['key']`, `["key"]`. Each step comes with
/// the range of its key in the placeholder text.
fn parse_steps(cur: &mut Cursor<'_>) -> Result<Vec<(Step, Range<usize>)>, TemplateError> {
    let mut steps = Vec::new();
    loop {
        match cur.peek() {
            None => return Ok(steps),
            Some('.') => {
                cur.bump();
                let key = cur.name();
                if key.is_empty() {
                    return error(cur.at(), format!("expected a key after `.`, found {}", cur.found()));
                }
                steps.push((Step::new(cur.slice(key.clone())), key));
            }
            Some('[') => {
                let open = cur.at();
                cur.bump();
                cur.skip_ws();
                match cur.peek() {
                    Some(q @ ('\'' | '"')) => {
                        cur.bump();
                        let start = cur.pos;
                        while cur.peek().is_some_and(|c| c != q) {
                            cur.bump();
                        }
                        if cur.peek().is_none() {
                            return error(open + 1, format!("the key's `{q}` is not closed"));
                        }
                        let key = cur.slice(start..cur.pos);
                        steps.push((Step { key: key.to_string(), index: None }, start..cur.pos));
                        cur.bump();
                    }
                    Some(c) if c.is_ascii_digit() => {
                        let at = cur.at();
                        let start = cur.pos;
                        while cur.peek().is_some_and(|c| c.is_ascii_digit()) {
                            cur.bump();
                        }
                        let digits = cur.slice(start..cur.pos);
                        let Ok(index) = digits.parse::<usize>() else {
                            return error(at, format!("array index `{digits}` is too large"));
                        };
                        steps.push((Step { key: digits.to_string(), index: Some(index) }, start..cur.pos));
                    }
                    _ => {
                        return error(
                            cur.at(),
                            format!(
                                "expected an array index (a non-negative integer) or a quoted key after `[`, found {}",
                                cur.found()
                            ),
                        );
                    }
                }
                cur.skip_ws();
                if cur.peek() != Some(']') {
                    return error(cur.at(), format!("expected `]` to close the `[`, found {}", cur.found()));
                }
                cur.bump();
            }
            Some(_) => {
                return error(
                    cur.at(),
                    format!("expected `.`, `[` or `}}}}` in a variable path, found {}", cur.found()),
                );
            }
        }
    }
}

/// Parses `( int, ... )` after a function name; the cursor is at `(`. Returns each argument with
/// its offset, and the offset of `)`.
fn parse_args(cur: &mut Cursor<'_>, fname: &str) -> Result<(Vec<(i64, usize)>, usize), TemplateError> {
    let open = cur.at();
    cur.bump();
    let mut args = Vec::new();
    cur.skip_ws();
    if cur.peek() == Some(')') {
        let close = cur.at();
        cur.bump();
        return Ok((args, close));
    }
    loop {
        cur.skip_ws();
        let at = cur.at();
        let start = cur.pos;
        while cur.peek().is_some_and(|c| !c.is_whitespace() && c != ',' && c != ')') {
            cur.bump();
        }
        let token = cur.slice(start..cur.pos);
        if token.is_empty() {
            return error(at, format!("expected an integer argument of `{fname}`, found {}", cur.found()));
        }
        let Ok(n) = token.parse::<i64>() else {
            return error(at, format!("expected an integer argument of `{fname}`, found `{token}`"));
        };
        args.push((n, at));
        cur.skip_ws();
        match cur.peek() {
            Some(',') => cur.bump(),
            Some(')') => {
                let close = cur.at();
                cur.bump();
                return Ok((args, close));
            }
            None => return error(open, format!("the `(` of `{fname}` is not closed by `)`")),
            Some(_) => {
                return error(
                    cur.at(),
                    format!("expected `,` or `)` in `{fname}(...)`, found {}", cur.found()),
                );
            }
        }
    }
}

/// Checks the number of arguments; points at the first extra argument or at `)`.
fn check_arity(
    fname: &str,
    usage: &str,
    args: &[(i64, usize)],
    close: usize,
    n: usize,
) -> Result<(), TemplateError> {
    if args.len() == n {
        return Ok(());
    }
    let at = args.get(n).map_or(close, |a| a.1);
    let plural = if n == 1 { "" } else { "s" };
    error(at, format!("`{fname}` takes {n} argument{plural} ({usage}), found {}", args.len()))
}

/// Parses the trimmed text of one placeholder starting at template offset `base`.
fn parse_placeholder(
    text: &str,
    base: usize,
    env: &dyn Fn(&str) -> Option<String>,
) -> Result<(Segment, KindTag, Range<usize>), TemplateError> {
    let mut cur = Cursor { text, pos: 0, base };
    let root = cur.name();
    if root.is_empty() {
        return error(cur.at(), format!("expected a variable name, found {}", cur.found()));
    }
    let name = cur.slice(root.clone());
    let name_range = base + root.start..base + root.end;
    if !name.starts_with('$') {
        let steps = parse_steps(&mut cur)?.into_iter().map(|(s, _)| s).collect();
        let path = Path { text: text.to_string(), root: name.to_string(), steps };
        return Ok((Segment::Ref(path), KindTag::Variable, name_range));
    }
    let call_at = cur.pos;
    cur.skip_ws();
    let is_call = cur.peek() == Some('(');
    if !is_call {
        cur.pos = call_at;
    }
    let function = |seg: Segment| Ok((seg, KindTag::Function, name_range.clone()));
    match name {
        "$randomNumber" | "$randomString" | "$timestamp" if is_call => {
            let (args, close) = parse_args(&mut cur, name)?;
            cur.skip_ws();
            if cur.peek().is_some() {
                return error(cur.at(), format!("unexpected {} after `{name}(...)`", cur.found()));
            }
            match name {
                "$randomNumber" => {
                    check_arity(name, "min, max", &args, close, 2)?;
                    let (min, max) = (args[0].0, args[1].0);
                    if min > max {
                        return error(
                            args[0].1,
                            format!("`$randomNumber` min ({min}) is greater than max ({max})"),
                        );
                    }
                    function(Segment::RandomNumber { min, max })
                }
                "$randomString" => {
                    check_arity(name, "length", &args, close, 1)?;
                    let (len, at) = args[0];
                    match usize::try_from(len) {
                        Ok(len) if len <= MAX_RANDOM_STRING => function(Segment::RandomString { len }),
                        _ => error(
                            at,
                            format!(
                                "`$randomString` length must be between 0 and {MAX_RANDOM_STRING}, found {len}"
                            ),
                        ),
                    }
                }
                _ => {
                    check_arity(name, "no arguments", &args, close, 0)?;
                    function(Segment::Timestamp)
                }
            }
        }
        "$timestamp" => {
            if cur.peek().is_some() {
                return error(cur.at(), format!("unexpected {} after `$timestamp`", cur.found()));
            }
            function(Segment::Timestamp)
        }
        "$randomNumber" | "$randomString" => {
            let usage = if name == "$randomNumber" { "$randomNumber(1, 100)" } else { "$randomString(10)" };
            error(base, format!("`{name}` is a function: call it with arguments, as in `{usage}`"))
        }
        "$env" | "$processEnvironment" => {
            if is_call {
                return error(cur.at(), format!("`{name}` is not a function: write `{name}.NAME`"));
            }
            let steps_at = cur.at();
            let steps = parse_steps(&mut cur)?;
            match steps.as_slice() {
                [(step, key)] => {
                    let value = env(&step.key).unwrap_or_default();
                    Ok((Segment::Lit(value), KindTag::Env, base + key.start..base + key.end))
                }
                [] => error(
                    steps_at,
                    format!("expected `.NAME` after `{name}`: the name of an environment variable"),
                ),
                [_, ..] => {
                    error(base, format!("`{name}` takes one environment variable name, as in `{name}.HOME`"))
                }
            }
        }
        _ if is_call => error(
            base,
            format!(
                "unknown function `{name}`: the functions are `$randomNumber(min, max)`, `$randomString(len)` and `$timestamp()`"
            ),
        ),
        _ => {
            let steps = parse_steps(&mut cur)?.into_iter().map(|(s, _)| s).collect();
            let path = Path { text: text.to_string(), root: name.to_string(), steps };
            Ok((Segment::Ref(path), KindTag::Builtin, name_range))
        }
    }
}

/// Appends `s` to `out` escaped for the inside of a JSON string.
fn push_json_escaped(out: &mut String, s: &str) {
    let mut start = 0;
    for (i, b) in s.bytes().enumerate() {
        let esc = match b {
            b'"' => "\\\"",
            b'\\' => "\\\\",
            b'\n' => "\\n",
            b'\r' => "\\r",
            b'\t' => "\\t",
            0x08 => "\\b",
            0x0c => "\\f",
            0..=0x1f => "",
            _ => continue,
        };
        // `i` is at an ASCII byte, hence a char boundary.
        out.push_str(&s[start..i]);
        if esc.is_empty() {
            let _ = write!(out, "\\u{b:04x}");
        } else {
            out.push_str(esc);
        }
        start = i + 1;
    }
    out.push_str(&s[start..]);
}

/// A `fmt::Write` that escapes everything written to it for the inside of a JSON string.
struct JsonEscaper<'o>(&'o mut String);

impl fmt::Write for JsonEscaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_json_escaped(self.0, s);
        Ok(())
    }
}

/// Appends `s` as a quoted JSON string.
fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    push_json_escaped(out, s);
    out.push('"');
}

/// Appends `v` as compact JSON (serde_json's `Display` writes straight into the buffer).
fn push_json(v: &Value, out: &mut String) {
    let _ = write!(out, "{v}");
}

/// Appends a value as text inside a string: strings without quotes, null as nothing, everything
/// else as compact JSON. With `json`, the text is escaped for the inside of a JSON string.
fn push_text_value(v: &Value, out: &mut String, json: bool) {
    match (v, json) {
        (Value::Null, _) => {}
        (Value::String(s), false) => out.push_str(s),
        (Value::String(s), true) => push_json_escaped(out, s),
        (other, false) => push_json(other, out),
        (other @ (Value::Array(_) | Value::Object(_)), true) => {
            let _ = write!(JsonEscaper(out), "{other}");
        }
        // Numbers and booleans need no escaping.
        (other, true) => push_json(other, out),
    }
}

fn random_number(r: u64, min: i64, max: i64) -> i64 {
    // `span` is 1..=2^64; the widening multiply maps `r` onto it without a division.
    let span = (i128::from(max) - i128::from(min)) as u128 + 1;
    if span > u128::from(u64::MAX) {
        return r as i64;
    }
    let offset = (u128::from(r) * span) >> 64;
    (i128::from(min) + offset as i128) as i64
}

fn random_char(r: u64) -> char {
    ALPHANUMERIC[((u128::from(r) * 62) >> 64) as usize] as char
}

fn timestamp_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Template {
    /// Compiles `source`. Every `{{` must be closed by `}}` and hold a variable path, a `$`
    /// built-in variable or a built-in function (see the [module docs](self)). `$env.NAME` is read
    /// from the process environment now.
    pub fn compile(source: &str) -> Result<Template, TemplateError> {
        Template::compile_with_env(source, &|name| {
            std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
        })
    }

    /// Like [`Template::compile`], with `env` resolving `$env.NAME` and
    /// `$processEnvironment.NAME` (`None` renders as the empty string).
    pub fn compile_with_env(
        source: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Template, TemplateError> {
        let mut t = Template { source: source.to_string(), segments: Vec::new(), placeholders: Vec::new() };
        let mut pos = 0;
        while let Some(rel) = source[pos..].find("{{") {
            let open = pos + rel;
            t.push_lit(&source[pos..open]);
            let inner_start = open + 2;
            let Some(close) = source[inner_start..].find("}}").map(|c| inner_start + c) else {
                return error(open, "`{{` is not closed by `}}`");
            };
            let inner = &source[inner_start..close];
            let text = inner.trim();
            if text.is_empty() {
                return error(open, "empty `{{ }}`: expected a variable name");
            }
            let text_start = inner_start + (inner.len() - inner.trim_start().len());
            let (segment, tag, name) = parse_placeholder(text, text_start, env)?;
            match segment {
                Segment::Lit(s) => t.push_lit(&s),
                other => t.segments.push(other),
            }
            t.placeholders.push(PlaceholderRec {
                span: open..close + 2,
                text: text_start..text_start + text.len(),
                tag,
                name,
            });
            pos = close + 2;
        }
        t.push_lit(&source[pos..]);
        Ok(t)
    }

    fn push_lit(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(Segment::Lit(last)) = self.segments.last_mut() {
            last.push_str(s);
        } else {
            self.segments.push(Segment::Lit(s.to_string()));
        }
    }

    /// A template that renders `text` as is, even if it contains `{{`.
    pub fn literal(text: &str) -> Template {
        let segments = if text.is_empty() { vec![] } else { vec![Segment::Lit(text.to_string())] };
        Template { source: text.to_string(), segments, placeholders: Vec::new() }
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

    /// If the template is exactly one variable reference (a name or path, including `$`
    /// built-ins) and nothing else, that path as written (`item.id`).
    pub fn whole_variable(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [Segment::Ref(p)] => Some(&p.text),
            _ => None,
        }
    }

    /// Appends the rendered text to `out`. Returns the first variable path that did not resolve,
    /// as written, if any (it rendered as nothing).
    pub fn render_into<'a>(&'a self, vars: &(impl Vars + ?Sized), out: &mut String) -> Option<&'a str> {
        self.render_segments(vars, out, false)
    }

    fn render_segments<'a, V: Vars + ?Sized>(
        &'a self,
        vars: &V,
        out: &mut String,
        json: bool,
    ) -> Option<&'a str> {
        let mut missing = None;
        for seg in &self.segments {
            match seg {
                Segment::Lit(s) if json => push_json_escaped(out, s),
                Segment::Lit(s) => out.push_str(s),
                Segment::Ref(path) => match path.resolve(vars) {
                    Some(v) => push_text_value(v, out, json),
                    None => {
                        missing.get_or_insert(path.text.as_str());
                    }
                },
                Segment::RandomNumber { min, max } => {
                    let _ = write!(out, "{}", random_number(vars.random(), *min, *max));
                }
                Segment::RandomString { len } => {
                    out.reserve(*len);
                    for _ in 0..*len {
                        out.push(random_char(vars.random()));
                    }
                }
                Segment::Timestamp => {
                    let _ = write!(out, "{}", timestamp_ms());
                }
            }
        }
        missing
    }

    /// Renders to a new string (convenience for cold paths and tests).
    pub fn render(&self, vars: &(impl Vars + ?Sized)) -> String {
        let mut out = String::with_capacity(self.source.len());
        self.render_into(vars, &mut out);
        out
    }

    /// Renders to a typed value. A template that is exactly one placeholder keeps the JSON type of
    /// what it inserts: a variable's value as is (number, object, null, ...), a number for
    /// `$randomNumber` and `$timestamp`. Anything else, including a variable that does not resolve,
    /// is the rendered string.
    pub fn render_value(&self, vars: &(impl Vars + ?Sized)) -> Value {
        match self.segments.as_slice() {
            [Segment::Ref(p)] => match p.resolve(vars) {
                Some(v) => v.clone(),
                None => Value::String(String::new()),
            },
            [Segment::RandomNumber { min, max }] => Value::from(random_number(vars.random(), *min, *max)),
            [Segment::Timestamp] => Value::from(timestamp_ms()),
            _ => Value::String(self.render(vars)),
        }
    }

    /// Appends the JSON form of [`Template::render_value`] to `out` without building the value:
    /// a whole placeholder keeps its type, anything else is a JSON string. Returns the first
    /// variable path that did not resolve, as [`Template::render_into`] does.
    pub fn render_json_into<'a>(&'a self, vars: &(impl Vars + ?Sized), out: &mut String) -> Option<&'a str> {
        match self.segments.as_slice() {
            [Segment::Ref(p)] => match p.resolve(vars) {
                Some(v) => {
                    push_json(v, out);
                    None
                }
                None => {
                    out.push_str("\"\"");
                    Some(&p.text)
                }
            },
            [Segment::RandomNumber { .. } | Segment::Timestamp] => self.render_segments(vars, out, false),
            _ => {
                out.push('"');
                let missing = self.render_segments(vars, out, true);
                out.push('"');
                missing
            }
        }
    }

    /// True when some segment changes between renders.
    fn is_dynamic(&self) -> bool {
        self.segments.iter().any(Segment::is_dynamic)
    }
}

/// A JSON body whose strings are templates. A string that is one whole placeholder keeps the
/// JSON type of what it inserts (see [`Template::render_value`]).
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    /// A value without templates, written as is.
    Literal(Value),
    /// A string with `{{ }}`; see the type's doc for whole-placeholder strings.
    String(Template),
    /// An array whose items may hold templates.
    Array(Vec<JsonTemplate>),
    /// An object whose values may hold templates; keys in source order.
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// True when the body renders the same every time (no string depends on variables, randomness
    /// or time).
    pub fn is_static(&self) -> bool {
        match self {
            JsonTemplate::Literal(_) => true,
            JsonTemplate::String(t) => !t.is_dynamic(),
            JsonTemplate::Array(items) => items.iter().all(JsonTemplate::is_static),
            JsonTemplate::Object(fields) => fields.iter().all(|(_, v)| v.is_static()),
        }
    }

    /// Compiles every string in `value`. Strings whose output never changes (no placeholders, or
    /// only `$env`) become literals.
    pub fn compile(value: &Value) -> Result<JsonTemplate, TemplateError> {
        Ok(match value {
            Value::String(s) => {
                let t = Template::compile(s)?;
                match t.as_constant() {
                    Some(text) => JsonTemplate::Literal(Value::String(text.to_string())),
                    None => JsonTemplate::String(t),
                }
            }
            Value::Array(items) => {
                JsonTemplate::Array(items.iter().map(JsonTemplate::compile).collect::<Result<_, _>>()?)
            }
            Value::Object(map) => JsonTemplate::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), JsonTemplate::compile(v)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => JsonTemplate::Literal(other.clone()),
        })
    }

    /// Serializes the rendered JSON into `out`. Returns the first variable path that did not
    /// resolve, if any.
    pub fn render_into<'a>(&'a self, vars: &(impl Vars + ?Sized), out: &mut String) -> Option<&'a str> {
        match self {
            JsonTemplate::Literal(v) => {
                push_json(v, out);
                None
            }
            JsonTemplate::String(t) => t.render_json_into(vars, out),
            JsonTemplate::Array(items) => {
                let mut missing = None;
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    let m = item.render_into(vars, out);
                    missing = missing.or(m);
                }
                out.push(']');
                missing
            }
            JsonTemplate::Object(fields) => {
                let mut missing = None;
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_json_str(out, k);
                    out.push(':');
                    let m = v.render_into(vars, out);
                    missing = missing.or(m);
                }
                out.push('}');
                missing
            }
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

    #[test]
    fn json_escaping_of_text_and_embedded_values() {
        let mut out = String::new();
        push_json_escaped(&mut out, "a\"b\\c\nd\u{1}é");
        assert_eq!(out, r#"a\"b\\c\nd\u0001é"#);
        let v: Vec<(String, Value)> = vec![("o".into(), json!({"k": "q\""}))];
        let t = Template::compile("x {{ o }}").unwrap();
        let mut out = String::new();
        t.render_json_into(&v, &mut out);
        let back: Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, json!(r#"x {"k":"q\""}"#));
    }

    #[test]
    fn random_number_stays_in_range_at_the_extremes() {
        for r in [0, 1, u64::MAX / 2, u64::MAX - 1, u64::MAX] {
            assert!((-3..=3).contains(&random_number(r, -3, 3)));
            assert_eq!(random_number(r, 7, 7), 7);
            let _ = random_number(r, i64::MIN, i64::MAX);
            assert!(random_number(r, i64::MAX - 1, i64::MAX) >= i64::MAX - 1);
        }
        assert_eq!(random_number(0, -3, 3), -3);
        assert_eq!(random_number(u64::MAX, -3, 3), 3);
        assert_eq!(random_char(0), 'A');
        assert_eq!(random_char(u64::MAX), '9');
    }

    #[test]
    fn splitmix_is_deterministic_per_seed() {
        let a = SplitMix64::new(7);
        let b = SplitMix64::new(7);
        let xs: Vec<u64> = (0..4).map(|_| a.next_u64()).collect();
        let ys: Vec<u64> = (0..4).map(|_| b.next_u64()).collect();
        assert_eq!(xs, ys);
        assert_ne!(xs[0], xs[1]);
        assert_ne!(SplitMix64::new(8).next_u64(), xs[0]);
    }
}
