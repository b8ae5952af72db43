//! Correlation: a value a request sends (a path segment, a query value, a header, a cookie, a JSON
//! or form field) that first appeared in an earlier response (a JSON field, a header, an HTML
//! attribute, the body's text) becomes a `capture` on that response and a `{{ variable }}` in
//! every request that sends it. Cookies the server set are left to the cookie jar; secrets the
//! user typed (password fields) become `config.variables`.
//!
//! Only values that look generated are followed (see [`worth_correlating`]): short values, words,
//! booleans, dates, versions and numbers below five digits are common in unrelated places and
//! would make false captures. A value the recording sent before any response held it (typed by
//! the user, or fixed in the page) is left as it is.

use std::collections::{HashMap, HashSet};

use regex::Regex;
use scraper::{Html, Selector};
use serde_json::Value;

use crate::steps::{Body, Step, percent_decode};

/// How a capture reads its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CaptureKind {
    /// `json: <JSONPath>`.
    Json(String),
    /// `header: <name>`.
    Header(String),
    /// `selector: <CSS>` with `attr`, or the element's text without.
    Selector {
        /// The CSS selector.
        selector: String,
        /// The attribute read.
        attr: Option<String>,
    },
    /// `regexp: <pattern>`; group 1 holds the value.
    Regexp(String),
}

impl std::fmt::Display for CaptureKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            CaptureKind::Json(path) => write!(f, "json {path}"),
            CaptureKind::Header(name) => write!(f, "header {name}"),
            CaptureKind::Selector { selector, attr: Some(attr) } => write!(f, "selector {selector} ({attr})"),
            CaptureKind::Selector { selector, attr: None } => write!(f, "selector {selector} (text)"),
            CaptureKind::Regexp(pattern) => write!(f, "regexp {pattern}"),
        }
    }
}

/// A capture to write on a step.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct CaptureSpec {
    pub variable: String,
    pub kind: CaptureKind,
    /// `index` when the value is not the first match.
    pub index: Option<usize>,
}

/// One correlated value: where it is captured and where it is sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Correlation {
    /// The variable.
    pub variable: String,
    /// How it is captured.
    pub kind: CaptureKind,
    /// The request (1-based) whose response it is captured from.
    pub captured_at: usize,
    /// The requests (1-based) that send it, with where in the request.
    pub used_at: Vec<(usize, String)>,
}

/// A secret the user typed: a variable in `config.variables`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Secret {
    pub variable: String,
    pub value: String,
    /// Where it was first sent: request number and field.
    pub first: (usize, String),
}

/// Everything correlation decided.
#[derive(Debug, Default)]
pub(crate) struct Outcome {
    /// Per step (by index), the captures to write.
    pub captures: Vec<Vec<CaptureSpec>>,
    pub correlations: Vec<Correlation>,
    pub secrets: Vec<Secret>,
    /// Cookies the recording sent that nothing in it set, with static-looking values: every
    /// virtual user starts with them.
    pub start_cookies: Vec<(String, String)>,
    /// What could not be correlated, for the script's header comment.
    pub unresolved: Vec<String>,
}

/// Form, JSON and query field names whose values are secrets the user typed.
fn is_secret_field(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    ["password", "passwd", "passphrase", "passcode", "secret"].iter().any(|w| name.contains(w))
        || ["pass", "pwd", "pin", "otp"].contains(&name.as_str())
}

/// Where in a request a value sits.
#[derive(Debug, Clone, PartialEq)]
enum Spot {
    Segment(usize),
    Query(usize),
    /// A header; `Some(n)` when only the text after the first `n` bytes (an auth scheme) counts.
    Header(usize, Option<usize>),
    Cookie(usize),
    Json(Vec<JsonStep>),
    Form(usize),
}

/// One step of a path into a JSON document.
#[derive(Debug, Clone, PartialEq)]
enum JsonStep {
    Key(String),
    Index(usize),
}

/// A value of a request, with where it is and the name it suggests for a variable.
struct Found {
    spot: Spot,
    value: String,
    name_hint: String,
    /// Field name for a secret check (form, JSON and query names).
    field: Option<String>,
}

/// The values of a step's request.
fn values_of(step: &Step) -> Vec<Found> {
    let mut out = Vec::new();
    for (i, segment) in step.segments.iter().enumerate() {
        let hint = match i.checked_sub(1).and_then(|p| step.segments.get(p)) {
            Some(previous) => format!("{}Id", previous.trim_end_matches('s')),
            None => "pathId".to_string(),
        };
        out.push(Found {
            spot: Spot::Segment(i),
            value: percent_decode(segment),
            name_hint: hint,
            field: None,
        });
    }
    for (i, (name, value)) in step.query.iter().enumerate() {
        let name = crate::steps::decode_form(name);
        out.push(Found {
            spot: Spot::Query(i),
            value: crate::steps::decode_form(value),
            name_hint: name.clone(),
            field: Some(name),
        });
    }
    for (i, (name, value)) in step.headers.iter().enumerate() {
        let scheme = ["bearer ", "token ", "basic "]
            .iter()
            .find(|s| value.len() > s.len() && value[..s.len()].eq_ignore_ascii_case(s))
            .map(|s| s.len());
        let (spot, value) = match scheme {
            Some(n) => (Spot::Header(i, Some(n)), value[n..].trim().to_string()),
            None => (Spot::Header(i, None), value.clone()),
        };
        let hint = if name == "authorization" { "token".to_string() } else { name.clone() };
        out.push(Found { spot, value, name_hint: hint, field: None });
    }
    for (i, (name, value)) in step.cookies.iter().enumerate() {
        out.push(Found { spot: Spot::Cookie(i), value: value.clone(), name_hint: name.clone(), field: None });
    }
    match &step.body {
        Body::Json(doc) => {
            let mut path = Vec::new();
            json_leaves(doc, &mut path, &mut out);
        }
        Body::Form(pairs) | Body::Multipart(pairs) => {
            for (i, (name, value)) in pairs.iter().enumerate() {
                out.push(Found {
                    spot: Spot::Form(i),
                    value: value.clone(),
                    name_hint: name.clone(),
                    field: Some(name.clone()),
                });
            }
        }
        Body::None | Body::Text(_) => {}
    }
    out
}

/// The string and number leaves of a JSON document.
fn json_leaves(value: &Value, path: &mut Vec<JsonStep>, out: &mut Vec<Found>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                path.push(JsonStep::Key(key.clone()));
                json_leaves(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(JsonStep::Index(i));
                json_leaves(v, path, out);
                path.pop();
            }
        }
        Value::String(_) | Value::Number(_) => {
            let key = path.iter().rev().find_map(|s| match s {
                JsonStep::Key(k) => Some(k.clone()),
                JsonStep::Index(_) => None,
            });
            let text = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            out.push(Found {
                spot: Spot::Json(path.clone()),
                value: text,
                name_hint: key.clone().unwrap_or_else(|| "value".into()),
                field: key,
            });
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// Writes `template` into a step at `spot`.
fn replace(step: &mut Step, spot: &Spot, template: &str) {
    match spot {
        Spot::Segment(i) => step.segments[*i] = template.to_string(),
        Spot::Query(i) => step.query[*i].1 = template.to_string(),
        Spot::Header(i, scheme) => {
            let value = &mut step.headers[*i].1;
            *value = match scheme {
                Some(n) => format!("{}{template}", &value[..*n]),
                None => template.to_string(),
            };
        }
        Spot::Cookie(i) => {
            let name = step.cookies[*i].0.clone();
            step.explicit_cookies.push((name, template.to_string()));
        }
        Spot::Json(path) => {
            if let Body::Json(doc) = &mut step.body
                && let Some(leaf) = json_at(doc, path)
            {
                *leaf = Value::String(template.to_string());
            }
        }
        Spot::Form(i) => {
            if let Body::Form(pairs) | Body::Multipart(pairs) = &mut step.body {
                pairs[*i].1 = template.to_string();
            }
        }
    }
}

/// The value at `path` in `doc`.
fn json_at<'a>(doc: &'a mut Value, path: &[JsonStep]) -> Option<&'a mut Value> {
    let mut at = doc;
    for step in path {
        at = match step {
            JsonStep::Key(k) => at.get_mut(k.as_str())?,
            JsonStep::Index(i) => at.get_mut(*i)?,
        };
    }
    Some(at)
}

/// Where a spot is, for the report: `path`, `query q`, `header h`, `cookie c`, `json $.a`,
/// `form f`.
fn describe(step: &Step, spot: &Spot) -> String {
    match spot {
        Spot::Segment(_) => "path".into(),
        Spot::Query(i) => format!("query {}", step.query[*i].0),
        Spot::Header(i, _) => format!("header {}", step.headers[*i].0),
        Spot::Cookie(i) => format!("cookie {}", step.cookies[*i].0),
        Spot::Json(path) => format!("json {}", json_path(path)),
        Spot::Form(i) => match &step.body {
            Body::Form(pairs) | Body::Multipart(pairs) => format!("form {}", pairs[*i].0),
            _ => "form".into(),
        },
    }
}

/// A JSONPath for a path of keys and indexes.
fn json_path(path: &[JsonStep]) -> String {
    let mut out = String::from("$");
    for step in path {
        match step {
            JsonStep::Key(k) if is_identifier(k) => {
                out.push('.');
                out.push_str(k);
            }
            JsonStep::Key(k) => {
                out.push_str("['");
                out.push_str(&k.replace('\\', "\\\\").replace('\'', "\\'"));
                out.push_str("']");
            }
            JsonStep::Index(i) => out.push_str(&format!("[{i}]")),
        }
    }
    out
}

fn is_identifier(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// True when `value` looks generated (a token, an id) rather than a word, a flag, a date or a
/// small number that shows up everywhere.
pub(crate) fn worth_correlating(value: &str) -> bool {
    static NOT_TOKENS: std::sync::LazyLock<Vec<Regex>> = std::sync::LazyLock::new(|| {
        [
            r"^\d{4}-\d{2}-\d{2}",                     // ISO dates and times
            r"^\d{1,2}[/.]\d{1,2}[/.]\d{2,4}$",        // 12/07/2026
            r"^\d{1,2}:\d{2}(:\d{2})?$",               // clock times
            r"^(?i)(mon|tue|wed|thu|fri|sat|sun), \d", // HTTP dates
            r"^v?\d+(\.\d+)+$",                        // versions, prices
            r"^-?\d+\.\d+$",                           // decimals
            r"^#[0-9a-fA-F]{3,8}$",                    // colours
            r"^(?i)[a-z]+/[a-z0-9.+-]+$",              // MIME types
            r"^(?i)(https?:)?//",                      // URLs
            r"^(?i)[a-z]{2,3}([-_][a-z]{2,4})?$",      // language tags
        ]
        .iter()
        .filter_map(|p| Regex::new(p).ok())
        .collect()
    });
    let chars = value.chars().count();
    if !(4..=4096).contains(&chars) || value.chars().any(char::is_whitespace) {
        return false;
    }
    let lower = value.to_ascii_lowercase();
    if ["true", "false", "null", "undefined", "none", "nan"].contains(&lower.as_str()) {
        return false;
    }
    if NOT_TOKENS.iter().any(|r| r.is_match(value)) {
        return false;
    }
    let digits = value.chars().filter(char::is_ascii_digit).count();
    if digits == chars {
        // Small numbers are counts, years, page sizes; 10 and 13 digits starting with 1 are
        // Unix timestamps (cache busters), not ids.
        let timestamp = (chars == 10 || chars == 13) && value.starts_with('1');
        return chars >= 5 && !timestamp;
    }
    if digits == 0 {
        // A word, a name or a constant; only long mixed-case text (base64) counts.
        let upper = value.chars().any(|c| c.is_ascii_uppercase());
        let lower = value.chars().any(|c| c.is_ascii_lowercase());
        return chars >= 16 && upper && lower && !value.contains(['-', '_', '.']);
    }
    true
}

/// A regular expression that finds `value` at byte `at` of `text` as a whole token (the text around
/// it is not part of the same run of characters), with the match index when it is not the first.
fn regexp_for(text: &str, value: &str) -> Option<(String, Option<usize>)> {
    let class = if value.chars().all(|c| c.is_ascii_digit()) {
        "[0-9]+"
    } else if value.chars().all(|c| c.is_ascii_alphanumeric()) {
        "[A-Za-z0-9]+"
    } else if value.chars().all(|c| c.is_ascii_alphanumeric() || c == '-' || c == '_') {
        "[A-Za-z0-9_-]+"
    } else if value.chars().all(|c| c.is_ascii_alphanumeric() || "-_.~+/=%:".contains(c)) {
        r"[A-Za-z0-9_.~+/=%:-]+"
    } else {
        return None;
    };
    let class_re = Regex::new(&format!("^{class}$")).ok()?;
    let in_class = |c: char| class_re.is_match(c.encode_utf8(&mut [0; 4]));
    // The first occurrence that is a whole token.
    let at = text.match_indices(value).map(|(i, _)| i).find(|&i| {
        let before = text[..i].chars().next_back();
        let after = text[i + value.len()..].chars().next();
        !before.is_some_and(in_class) && !after.is_some_and(in_class)
    })?;
    // The literal text before the value, back to the start of its line or a space, at most 40
    // characters; grown until the first match is the value, else the longest with an index.
    let context = &text[..at];
    let starts: Vec<usize> = context
        .char_indices()
        .rev()
        .take_while(|(_, c)| !c.is_whitespace())
        .take(40)
        .map(|(i, _)| i)
        .collect();
    let mut best = None;
    for &start in &starts {
        let pattern = format!("{}({class})", regex::escape(&context[start..]));
        let Ok(regex) = Regex::new(&pattern) else { continue };
        let position = regex.captures_iter(text).filter_map(|c| c.get(1)).position(|m| m.as_str() == value);
        match position {
            Some(0) => return Some((pattern, None)),
            Some(n) => best = Some((pattern, Some(n))),
            None => {}
        }
    }
    best
}

/// A CSS selector (and attribute) that reads `value` from an HTML document, with its index among
/// the selector's matches when it is not the first.
fn selector_for(doc: &Html, value: &str) -> Option<(String, String, Option<usize>)> {
    let all = Selector::parse("*").ok()?;
    for element in doc.select(&all) {
        let el = element.value();
        let Some((attr, _)) = el.attrs().find(|(name, v)| *v == value && !matches!(*name, "id" | "class"))
        else {
            continue;
        };
        let tag = el.name();
        let selector = if let Some(id) = el.id().filter(|id| is_css_ident(id)) {
            format!("{tag}#{id}")
        } else if let Some(name) = el.attr("name").filter(|_| attr != "name") {
            format!("{tag}[name=\"{}\"]", name.replace('\\', "\\\\").replace('"', "\\\""))
        } else {
            tag.to_string()
        };
        let parsed = Selector::parse(&selector).ok()?;
        let position = doc.select(&parsed).position(|e| e.value().attr(attr) == Some(value))?;
        return Some((selector, attr.to_string(), (position > 0).then_some(position)));
    }
    None
}

fn is_css_ident(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

/// The characters of a token, narrowest first: a value is looked for as a whole run of the
/// narrowest class that holds it.
const TOKEN_CLASSES: [fn(char) -> bool; 4] = [
    |c| c.is_ascii_digit(),
    |c| c.is_ascii_alphanumeric(),
    |c| c.is_ascii_alphanumeric() || c == '-' || c == '_',
    |c| c.is_ascii_alphanumeric() || "-_.~+/=%:".contains(c),
];

/// A response, indexed once so that looking a value up costs a hash lookup, not a scan: a long
/// recording has thousands of values to look for in thousands of responses.
struct ParsedResponse {
    json: Option<Value>,
    /// Every string and number leaf of the JSON body, with the path of its first occurrence.
    leaves: HashMap<String, String>,
    /// The body's maximal runs of each of [`TOKEN_CLASSES`].
    runs: HashSet<String>,
    /// The values of the response's headers.
    header_values: Vec<String>,
    /// The body as HTML, parsed when first needed.
    html: std::cell::OnceCell<Option<Html>>,
}

impl ParsedResponse {
    fn new(step: &Step) -> ParsedResponse {
        let body = step.response.body.as_deref().unwrap_or("");
        let json = serde_json::from_str::<Value>(body).ok().filter(|v| v.is_object() || v.is_array());
        let mut leaves = HashMap::new();
        if let Some(doc) = &json {
            index_leaves(doc, &mut Vec::new(), &mut leaves);
        }
        let mut runs = HashSet::new();
        for class in TOKEN_CLASSES {
            runs.extend(body.split(|c: char| !class(c)).filter(|r| r.len() >= 4).map(str::to_string));
        }
        let header_values = step.response.headers.iter().map(|(_, v)| v.clone()).collect();
        ParsedResponse { json, leaves, runs, header_values, html: std::cell::OnceCell::new() }
    }

    /// True when the body may hold `value` as a whole token (or, for a value with characters no
    /// token class has, holds it at all).
    fn may_hold(&self, body: &str, value: &str) -> bool {
        if is_token(value) { self.runs.contains(value) } else { body.contains(value) }
    }

    /// Every text a value may be found as: leaves, header values and runs.
    fn texts(&self) -> impl Iterator<Item = &str> {
        self.leaves.keys().chain(&self.header_values).chain(&self.runs).map(String::as_str)
    }

    fn html(&self, step: &Step) -> Option<&Html> {
        self.html
            .get_or_init(|| {
                (self.json.is_none() && step.response.is_html())
                    .then(|| Html::parse_document(step.response.body.as_deref().unwrap_or("")))
            })
            .as_ref()
    }
}

/// True when every character of `value` is a token character (of the widest class).
fn is_token(value: &str) -> bool {
    value.chars().all(TOKEN_CLASSES[3])
}

/// Notes the path of the first occurrence of every leaf of `doc`.
fn index_leaves(doc: &Value, path: &mut Vec<JsonStep>, out: &mut HashMap<String, String>) {
    match doc {
        Value::String(s) => {
            out.entry(s.clone()).or_insert_with(|| json_path(path));
        }
        Value::Number(n) => {
            out.entry(n.to_string()).or_insert_with(|| json_path(path));
        }
        Value::Object(map) => {
            for (k, v) in map {
                path.push(JsonStep::Key(k.clone()));
                index_leaves(v, path, out);
                path.pop();
            }
        }
        Value::Array(items) => {
            for (i, v) in items.iter().enumerate() {
                path.push(JsonStep::Index(i));
                index_leaves(v, path, out);
                path.pop();
            }
        }
        Value::Bool(_) | Value::Null => {}
    }
}

/// How `value` can be read from `step`'s response, if it is there.
fn find_in_response(
    step: &Step,
    parsed: &ParsedResponse,
    value: &str,
) -> Option<(CaptureKind, Option<usize>)> {
    if let Some(path) = parsed.leaves.get(value) {
        return Some((CaptureKind::Json(path.clone()), None));
    }
    if let Some((name, _)) = step.response.headers.iter().find(|(_, v)| v == value) {
        return Some((CaptureKind::Header(name.clone()), None));
    }
    let body = step.response.body.as_deref()?;
    if !parsed.may_hold(body, value) {
        return None;
    }
    if let Some(doc) = parsed.html(step)
        && let Some((selector, attr, index)) = selector_for(doc, value)
    {
        return Some((CaptureKind::Selector { selector, attr: Some(attr) }, index));
    }
    regexp_for(body, value).map(|(pattern, index)| (CaptureKind::Regexp(pattern), index))
}

/// The name a capture suggests for its variable: the JSON key, the header, the element's `name`
/// or id; `None` for a regexp (the request's side names it then).
fn source_name(kind: &CaptureKind) -> Option<String> {
    match kind {
        CaptureKind::Json(path) => {
            let key = path
                .rsplit(['.', '['])
                .find(|part| !part.is_empty() && !part.ends_with(']') || part.starts_with('\''))?;
            Some(key.trim_matches(|c| c == '\'' || c == ']').to_string())
                .filter(|k| !k.is_empty() && k != "$")
        }
        CaptureKind::Header(name) => Some(name.clone()),
        CaptureKind::Selector { selector, attr } => {
            let named =
                selector.split_once("[name=\"").map(|(_, rest)| rest.trim_end_matches("\"]").to_string());
            let id = selector.split_once('#').map(|(_, id)| id.to_string());
            named.or(id).or_else(|| attr.clone())
        }
        CaptureKind::Regexp(_) => None,
    }
}

/// A variable name from a hint: letters, digits and `_`, camel-cased, not starting with a digit.
fn variable_name(hint: &str) -> String {
    let mut out = String::new();
    let mut upper = false;
    for c in hint.chars() {
        if c.is_ascii_alphanumeric() {
            if out.is_empty() && c.is_ascii_digit() {
                out.push('v');
            }
            if upper && !out.is_empty() {
                out.push(c.to_ascii_uppercase());
            } else if out.is_empty() {
                out.push(c.to_ascii_lowercase());
            } else {
                out.push(c);
            }
            upper = false;
        } else {
            upper = true;
        }
    }
    if out.is_empty() { "value".into() } else { out }
}

/// A name not taken yet, from `hint`.
fn fresh_name(hint: &str, taken: &mut HashSet<String>) -> String {
    let base = variable_name(hint);
    let mut name = base.clone();
    let mut n = 2;
    while taken.contains(&name) {
        name = format!("{base}{n}");
        n += 1;
    }
    taken.insert(name.clone());
    name
}

/// Correlates the steps in place and says what it did.
pub(crate) fn correlate(steps: &mut [Step]) -> Outcome {
    let parsed: Vec<ParsedResponse> = steps.iter().map(ParsedResponse::new).collect();
    // For each text any response holds, the first response holding it: a long recording has
    // thousands of values to look for in thousands of responses.
    let mut first_holder: HashMap<&str, usize> = HashMap::new();
    for (k, response) in parsed.iter().enumerate() {
        for text in response.texts() {
            first_holder.entry(text).or_insert(k);
        }
    }
    let mut outcome = Outcome { captures: vec![Vec::new(); steps.len()], ..Outcome::default() };
    let mut taken = HashSet::new();
    let mut by_value: HashMap<String, usize> = HashMap::new(); // value → index in correlations
    let mut secret_by_value: HashMap<String, usize> = HashMap::new();
    let mut first_sent: HashMap<String, usize> = HashMap::new();
    let mut noted_cookies = HashSet::new();
    for i in 0..steps.len() {
        let found = values_of(&steps[i]);
        for f in &found {
            let number = steps[i].number;
            // A secret the user typed.
            if let Some(field) =
                f.field.as_deref().filter(|n| is_secret_field(n)).filter(|_| !f.value.is_empty())
            {
                let index = *secret_by_value.entry(f.value.clone()).or_insert_with(|| {
                    outcome.secrets.push(Secret {
                        variable: fresh_name(field, &mut taken),
                        value: f.value.clone(),
                        first: (number, describe(&steps[i], &f.spot)),
                    });
                    outcome.secrets.len() - 1
                });
                let template = format!("{{{{ {} }}}}", outcome.secrets[index].variable);
                replace(&mut steps[i], &f.spot, &template);
                continue;
            }
            if let Spot::Cookie(c) = f.spot {
                let name = &steps[i].cookies[c].0;
                let set_earlier = steps[..i]
                    .iter()
                    .any(|s| s.response.set_cookies.iter().any(|(n, v)| n == name && *v == f.value));
                let set_by_name =
                    steps[..i].iter().any(|s| s.response.set_cookies.iter().any(|(n, _)| n == name));
                if set_earlier || set_by_name {
                    continue; // the cookie jar has it
                }
            }
            if let Some(&index) = by_value.get(&f.value) {
                let correlation = &mut outcome.correlations[index];
                let template = format!("{{{{ {} }}}}", correlation.variable);
                correlation.used_at.push((steps[i].number, describe(&steps[i], &f.spot)));
                replace(&mut steps[i], &f.spot, &template);
                continue;
            }
            let cookie_name = match f.spot {
                Spot::Cookie(c) => Some(steps[i].cookies[c].0.clone()),
                _ => None,
            };
            if !worth_correlating(&f.value) {
                if let Some(name) = cookie_name
                    && noted_cookies.insert(name.clone())
                {
                    outcome.start_cookies.push((name, f.value.clone()));
                }
                continue;
            }
            // The first response that may hold the value, from the index; a value with characters
            // no token has is looked for in every earlier response.
            let from = match first_holder.get(f.value.as_str()) {
                Some(&k) => k,
                None if is_token(&f.value) => i,
                None => 0,
            };
            let source = (from..i)
                .find_map(|k| find_in_response(&steps[k], &parsed[k], &f.value).map(|found| (k, found)));
            let sent_first = first_sent.get(&f.value).copied();
            match source {
                Some((k, (kind, index))) if sent_first.is_none_or(|s| s > k) => {
                    let hint = source_name(&kind).unwrap_or_else(|| f.name_hint.clone());
                    let variable = fresh_name(&hint, &mut taken);
                    outcome.captures[k].push(CaptureSpec {
                        variable: variable.clone(),
                        kind: kind.clone(),
                        index,
                    });
                    let template = format!("{{{{ {variable} }}}}");
                    outcome.correlations.push(Correlation {
                        variable,
                        kind,
                        captured_at: steps[k].number,
                        used_at: vec![(number, describe(&steps[i], &f.spot))],
                    });
                    by_value.insert(f.value.clone(), outcome.correlations.len() - 1);
                    replace(&mut steps[i], &f.spot, &template);
                }
                Some(_) => {}
                None => {
                    let cookie_source = steps[..i].iter().find_map(|s| {
                        s.response
                            .set_cookies
                            .iter()
                            .find(|(_, v)| *v == f.value)
                            .map(|(n, _)| (s.number, n.clone()))
                    });
                    if let Some((at, cookie)) = cookie_source {
                        outcome.unresolved.push(format!(
                            "#{number} {} is the value of cookie `{cookie}` set by #{at}: hornet cannot capture a cookie's value; \
                             have the server send it in the body or a header, or set it with a processor",
                            describe(&steps[i], &f.spot)
                        ));
                    } else if let Some(name) = cookie_name
                        && noted_cookies.insert(name.clone())
                    {
                        outcome.unresolved.push(format!(
                            "#{number} sends cookie `{name}`, which nothing in the recording set (it was there before the \
                             recording began); not sent: add it under config.defaults.cookie if the application needs it"
                        ));
                    }
                }
            }
        }
        for f in found {
            first_sent.entry(f.value).or_insert(i);
        }
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_and_ids_are_worth_correlating() {
        for v in [
            "a1b2c3d4",
            "tok-9f86d081884c7d65",
            "184467",
            "3f9a1c2b7d",
            "eyJhbGciOiJIUzI1NiJ9.eyJzdWIi.abc",
            "AbCdEfGhIjKlMnOpQr",
        ] {
            assert!(worth_correlating(v), "{v}");
        }
    }

    #[test]
    fn common_values_are_not_worth_correlating() {
        for v in [
            "1",
            "12",
            "true",
            "false",
            "null",
            "2026",
            "1000",
            "2026-12-07",
            "2026-12-07T16:51:03Z",
            "12/07/2026",
            "10:30",
            "1.2.3",
            "19.99",
            "application/json",
            "en-US",
            "items",
            "ascending",
            "hello world",
            "#ff0000",
            "1765126263",
            "1765126263123",
            "https://example.com/x",
            "Mon, 07 Dec 2026 16:51:03 GMT",
        ] {
            assert!(!worth_correlating(v), "{v}");
        }
    }

    #[test]
    fn regexps_take_a_whole_token_and_the_right_match() {
        let html = r#"<a href="/orders/aaa111">one</a><a href="/orders/bbb222">two</a>"#;
        let (pattern, index) = regexp_for(html, "bbb222").unwrap();
        let regex = Regex::new(&pattern).unwrap();
        let all: Vec<&str> = regex.captures_iter(html).map(|c| c.get(1).unwrap().as_str()).collect();
        assert_eq!(all[index.unwrap_or(0)], "bbb222", "{pattern}");
        // A value inside a longer token is not a match.
        assert_eq!(regexp_for("id=abc12345", "abc1234"), None);
    }

    #[test]
    fn selectors_prefer_ids_and_names() {
        let doc = Html::parse_document(
            r#"<form><input type="hidden" name="csrf" value="c0ffee42"><input name="q" value="x"></form>
               <meta name="csrf-token" content="beef1234"><div id="box" data-key="k3y99"></div>"#,
        );
        assert_eq!(
            selector_for(&doc, "c0ffee42"),
            Some(("input[name=\"csrf\"]".into(), "value".into(), None))
        );
        assert_eq!(
            selector_for(&doc, "beef1234"),
            Some(("meta[name=\"csrf-token\"]".into(), "content".into(), None))
        );
        assert_eq!(selector_for(&doc, "k3y99"), Some(("div#box".into(), "data-key".into(), None)));
    }

    #[test]
    fn json_paths_quote_odd_keys() {
        let doc: Value = serde_json::from_str(r#"{"a":{"b-c":[1,{"id":"x9y8z7"}]}}"#).unwrap();
        let mut leaves = HashMap::new();
        index_leaves(&doc, &mut Vec::new(), &mut leaves);
        assert_eq!(leaves.get("x9y8z7").map(String::as_str), Some("$.a['b-c'][1].id"));
        assert_eq!(leaves.get("1").map(String::as_str), Some("$.a['b-c'][0]"));
    }

    #[test]
    fn variable_names_are_identifiers() {
        assert_eq!(variable_name("x-csrf-token"), "xCsrfToken");
        assert_eq!(variable_name("ordersId"), "ordersId");
        assert_eq!(variable_name("2fa"), "v2fa");
        let mut taken = HashSet::new();
        assert_eq!(fresh_name("id", &mut taken), "id");
        assert_eq!(fresh_name("id", &mut taken), "id2");
    }
}
