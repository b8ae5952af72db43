//! One `capture` or `match`: its source (`json`, `regexp`, `header`, `selector`), regular
//! expressions with their flags and groups, and CSS selectors.

use regex::Regex;

use super::super::{CAPTURE, Cx, Result, backquoted, inner_span, scalar_text};
use crate::plan::{Capture, CaptureIndex, CaptureSource, RegexGroup};
use crate::yaml::{Node, ScalarKind, Value};

/// Where a capture reads from; a capture has exactly one.
const CAPTURE_SOURCES: [&str; 4] = ["json", "regexp", "header", "selector"];

impl Cx<'_> {
    /// One `capture` (or, with `is_match`, one `match`).
    pub(in crate::parse) fn capture(&self, node: &Node, is_match: bool) -> Result<Capture> {
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
    pub(in crate::parse) fn regex(&self, node: &Node, what: &str, flags: Flags) -> Result<Regex> {
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
            let help = super::super::names_help(
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
}

/// Regular-expression flags.
#[derive(Debug, Clone, Copy, Default)]
pub(in crate::parse) struct Flags {
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
