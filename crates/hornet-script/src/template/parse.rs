//! The template parser: finds each `{{ ... }}` and parses what it holds (a variable path, a `$`
//! built-in, a function with its arguments, `$env.NAME`) into segments, with the byte offset of
//! every error.

use std::ops::Range;

use super::{
    DEFAULT_RANDOM_STRING, KindTag, MAX_RANDOM_STRING, Path, PlaceholderRec, Segment, Step, Template,
    TemplateError,
};

pub(super) fn error<T>(offset: usize, message: impl Into<String>) -> Result<T, TemplateError> {
    Err(TemplateError { offset, message: message.into() })
}

/// Characters a variable name or key may not contain (besides whitespace).
pub(super) fn is_name_char(c: char) -> bool {
    !c.is_whitespace() && !matches!(c, '.' | '[' | ']' | '(' | ')' | '{' | '}' | '\'' | '"' | ',' | '`')
}

/// A cursor over the trimmed text of one placeholder; offsets it reports are in the template.
pub(super) struct Cursor<'s> {
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
pub(super) fn parse_steps(cur: &mut Cursor<'_>) -> Result<Vec<(Step, Range<usize>)>, TemplateError> {
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
pub(super) fn parse_args(
    cur: &mut Cursor<'_>,
    fname: &str,
) -> Result<(Vec<(i64, usize)>, usize), TemplateError> {
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
pub(super) fn check_arity(
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
pub(super) fn parse_placeholder(
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
                    // Without a length, Artillery's default.
                    if args.is_empty() {
                        return function(Segment::RandomString { len: DEFAULT_RANDOM_STRING });
                    }
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
            // `$env.NAME || "default"`: the path ends where `||` starts.
            let rest = &text[cur.pos..];
            let (path_len, default) = match rest.find("||") {
                Some(bars) => {
                    let at = base + cur.pos + bars + 2;
                    (rest[..bars].trim_end().len(), Some(parse_env_default(&rest[bars + 2..], at, name)?))
                }
                None => (rest.len(), None),
            };
            let mut path = Cursor { text: &text[..cur.pos + path_len], pos: cur.pos, base };
            let steps_at = path.at();
            let steps = parse_steps(&mut path)?;
            match steps.as_slice() {
                [(step, key)] => {
                    // Unset (or empty, as JavaScript's `||` reads it) takes the default; unset
                    // without one is an error rather than Artillery's `undefined` in a URL.
                    let value = match (env(&step.key), default) {
                        (Some(v), Some(d)) if v.is_empty() => d,
                        (Some(v), _) => v,
                        (None, Some(d)) => d,
                        (None, None) => {
                            let var = &step.key;
                            return error(
                                base + key.start,
                                format!(
                                    "the environment variable `{var}` is not set: set it, or give a default, as in `{{{{ {name}.{var} || \"value\" }}}}`"
                                ),
                            );
                        }
                    };
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

/// Parses the default after `||` in `$env.NAME || "default"`: one quoted string (`"..."` or
/// `'...'`, without escapes) and nothing after it. `at` is the template offset of `text`.
fn parse_env_default(text: &str, at: usize, name: &str) -> Result<String, TemplateError> {
    let lead = text.len() - text.trim_start().len();
    let trimmed = text.trim();
    let usage = format!("expected a quoted default after `||`, as in `{name}.NAME || \"value\"`");
    let Some(quote) = trimmed.chars().next().filter(|c| matches!(c, '"' | '\'')) else {
        let found = trimmed.chars().next().map_or("the end".to_string(), |c| format!("`{c}`"));
        return error(at + lead, format!("{usage}, found {found}"));
    };
    let body = &trimmed[1..];
    let Some(close) = body.find(quote) else {
        return error(at + lead, format!("the default's `{quote}` is not closed"));
    };
    let after = &body[close + 1..];
    if let Some(extra) = after.trim_start().chars().next() {
        let extra_at = at + lead + 2 + close + (after.len() - after.trim_start().len());
        return error(extra_at, format!("unexpected `{extra}` after the default: {usage}"));
    }
    Ok(body[..close].to_string())
}

/// Whether Artillery sends the placeholder holding `text` as written: when it is neither a variable
/// path (word characters, `$`, `.`, `[`, `]`, quotes and `-`) nor a function call with plain
/// arguments (`$name(a, 1)`), its template engine leaves it alone (`{{ $moment().format('L') }}`).
fn artillery_sends_as_written(text: &str) -> bool {
    let path_char = |c: char| {
        c.is_whitespace()
            || c.is_alphanumeric()
            || matches!(c, '_' | '$' | '.' | '[' | ']' | '\'' | '"' | '-')
    };
    // A hornet function written wrongly is a mistake to point out, not something to send.
    let name_end = text
        .char_indices()
        .skip(1)
        .find(|&(_, c)| !(c.is_ascii_alphanumeric() || c == '_'))
        .map_or(text.len(), |(i, _)| i);
    let own = matches!(
        &text[..name_end],
        "$randomNumber" | "$randomString" | "$timestamp" | "$env" | "$processEnvironment"
    );
    !own && !text.chars().all(path_char) && !is_plain_call(text)
}

/// `$name(args)` where the arguments are word characters, commas and spaces: what Artillery calls.
fn is_plain_call(text: &str) -> bool {
    let word = |c: char| c.is_ascii_alphanumeric() || c == '_';
    let Some(rest) = text.strip_prefix('$') else { return false };
    let name_len = rest.find(|c: char| !word(c)).unwrap_or(rest.len());
    let Some(args) = rest[name_len..].trim_start().strip_prefix('(').and_then(|a| a.strip_suffix(')')) else {
        return false;
    };
    name_len > 0 && args.chars().all(|c| word(c) || c == ',' || c.is_whitespace())
}

impl Template {
    /// Compiles `source`. Every `{{` must be closed by `}}` and hold a variable path, a `$`
    /// built-in variable or a built-in function (see the [module docs](self)). `$env.NAME` is read
    /// from the process environment now; an unset one without a default is an error.
    pub fn compile(source: &str) -> Result<Template, TemplateError> {
        Template::compile_with_env(source, &|name| {
            std::env::var_os(name).map(|v| v.to_string_lossy().into_owned())
        })
    }

    /// Like [`Template::compile`], with `env` resolving `$env.NAME` and
    /// `$processEnvironment.NAME` (`None` is an error unless the placeholder gives a default).
    pub fn compile_with_env(
        source: &str,
        env: &dyn Fn(&str) -> Option<String>,
    ) -> Result<Template, TemplateError> {
        let mut t = Template {
            source: source.to_string(),
            segments: Vec::new(),
            placeholders: Vec::new(),
            verbatim: Vec::new(),
        };
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
            let (segment, tag, name) = match parse_placeholder(text, text_start, env) {
                Ok(parsed) => parsed,
                Err(_) if artillery_sends_as_written(text) => {
                    t.push_lit(&source[open..close + 2]);
                    t.verbatim.push(open..close + 2);
                    pos = close + 2;
                    continue;
                }
                Err(e) => return Err(e),
            };
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

    pub(super) fn push_lit(&mut self, s: &str) {
        if s.is_empty() {
            return;
        }
        if let Some(Segment::Lit(last)) = self.segments.last_mut() {
            last.push_str(s);
        } else {
            self.segments.push(Segment::Lit(s.to_string()));
        }
    }
}
