//! `{{ name }}` templates, compiled once into literal and variable segments.
//!
//! Rendering appends to a caller-owned buffer and allocates nothing else. A name that no variable
//! holds renders as the empty string and is reported by [`Template::render`]'s return value, so
//! callers can warn once instead of per request.

use std::fmt;

/// Looks variables up by name while rendering.
pub trait Vars {
    /// The value of variable `name`, if there is one.
    fn get(&self, name: &str) -> Option<&serde_json::Value>;
}

impl Vars for [(String, serde_json::Value)] {
    fn get(&self, name: &str) -> Option<&serde_json::Value> {
        self.iter().find(|(k, _)| k == name).map(|(_, v)| v)
    }
}

impl Vars for Vec<(String, serde_json::Value)> {
    fn get(&self, name: &str) -> Option<&serde_json::Value> {
        Vars::get(self.as_slice(), name)
    }
}

impl Vars for std::collections::HashMap<String, serde_json::Value> {
    fn get(&self, name: &str) -> Option<&serde_json::Value> {
        std::collections::HashMap::get(self, name)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Segment {
    Lit(String),
    Var(String),
}

/// A compiled string template.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    source: String,
    segments: Vec<Segment>,
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

impl Template {
    /// Compiles `source`. `{{` must be closed by `}}` and hold a variable name.
    pub fn compile(source: &str) -> Result<Template, TemplateError> {
        let mut segments = Vec::new();
        let mut rest = source;
        let mut offset = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                segments.push(Segment::Lit(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(TemplateError {
                    offset: offset + open,
                    message: "`{{` is not closed by `}}`".to_string(),
                });
            };
            let name = after[..close].trim();
            if name.is_empty() {
                return Err(TemplateError {
                    offset: offset + open,
                    message: "empty `{{ }}`: expected a variable name".to_string(),
                });
            }
            segments.push(Segment::Var(name.to_string()));
            let consumed = open + 2 + close + 2;
            offset += consumed;
            rest = &rest[consumed..];
        }
        if !rest.is_empty() {
            segments.push(Segment::Lit(rest.to_string()));
        }
        Ok(Template { source: source.to_string(), segments })
    }

    /// A template that renders `text` as is, even if it contains `{{`.
    pub fn literal(text: &str) -> Template {
        let segments = if text.is_empty() { vec![] } else { vec![Segment::Lit(text.to_string())] };
        Template { source: text.to_string(), segments }
    }

    /// The template as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// True when the template has no `{{ }}`: it renders to its source every time.
    pub fn is_static(&self) -> bool {
        self.segments.iter().all(|s| matches!(s, Segment::Lit(_)))
    }

    /// Names of the variables the template reads, in order of appearance.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.segments.iter().filter_map(|s| match s {
            Segment::Var(v) => Some(v.as_str()),
            Segment::Lit(_) => None,
        })
    }

    /// If the template is exactly one `{{ name }}` and nothing else, that name.
    pub fn whole_variable(&self) -> Option<&str> {
        match self.segments.as_slice() {
            [Segment::Var(v)] => Some(v),
            _ => None,
        }
    }

    /// Appends the rendered text to `out`. Returns the first variable that was not found, if any
    /// (it rendered as nothing).
    pub fn render_into<'a>(&'a self, vars: &(impl Vars + ?Sized), out: &mut String) -> Option<&'a str> {
        let mut missing = None;
        for seg in &self.segments {
            match seg {
                Segment::Lit(s) => out.push_str(s),
                Segment::Var(name) => match vars.get(name) {
                    Some(v) => push_value(v, out),
                    None => {
                        missing.get_or_insert(name.as_str());
                    }
                },
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
}

/// Writes a value as text: strings without quotes, everything else as JSON.
fn push_value(v: &serde_json::Value, out: &mut String) {
    use std::fmt::Write;
    match v {
        serde_json::Value::String(s) => out.push_str(s),
        serde_json::Value::Null => {}
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

/// A JSON body whose strings are templates. A string that is one whole `{{ name }}` keeps the
/// variable's JSON type (a number stays a number).
#[derive(Debug, Clone, PartialEq)]
pub enum JsonTemplate {
    /// A value without templates, written as is.
    Literal(serde_json::Value),
    /// A string with `{{ }}`; see the type's doc for whole-variable strings.
    String(Template),
    /// An array whose items may hold templates.
    Array(Vec<JsonTemplate>),
    /// An object whose values may hold templates; keys in source order.
    Object(Vec<(String, JsonTemplate)>),
}

impl JsonTemplate {
    /// True when no string in the body has a `{{ }}`: it renders the same every time.
    pub fn is_static(&self) -> bool {
        match self {
            JsonTemplate::Literal(_) => true,
            JsonTemplate::String(_) => false,
            JsonTemplate::Array(items) => items.iter().all(JsonTemplate::is_static),
            JsonTemplate::Object(fields) => fields.iter().all(|(_, v)| v.is_static()),
        }
    }

    /// Compiles every string in `value`.
    pub fn compile(value: &serde_json::Value) -> Result<JsonTemplate, TemplateError> {
        Ok(match value {
            serde_json::Value::String(s) => {
                let t = Template::compile(s)?;
                if t.is_static() { JsonTemplate::Literal(value.clone()) } else { JsonTemplate::String(t) }
            }
            serde_json::Value::Array(items) => {
                JsonTemplate::Array(items.iter().map(JsonTemplate::compile).collect::<Result<_, _>>()?)
            }
            serde_json::Value::Object(map) => JsonTemplate::Object(
                map.iter()
                    .map(|(k, v)| Ok((k.clone(), JsonTemplate::compile(v)?)))
                    .collect::<Result<_, TemplateError>>()?,
            ),
            other => JsonTemplate::Literal(other.clone()),
        })
    }

    /// Serializes the rendered JSON into `out`.
    pub fn render_into(&self, vars: &(impl Vars + ?Sized), out: &mut String) {
        match self {
            JsonTemplate::Literal(v) => push_json(v, out),
            JsonTemplate::String(t) => match t.whole_variable().and_then(|n| vars.get(n)) {
                Some(v) => push_json(v, out),
                None => {
                    let mut s = String::new();
                    t.render_into(vars, &mut s);
                    push_json(&serde_json::Value::String(s), out);
                }
            },
            JsonTemplate::Array(items) => {
                out.push('[');
                for (i, item) in items.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    item.render_into(vars, out);
                }
                out.push(']');
            }
            JsonTemplate::Object(fields) => {
                out.push('{');
                for (i, (k, v)) in fields.iter().enumerate() {
                    if i > 0 {
                        out.push(',');
                    }
                    push_json(&serde_json::Value::String(k.clone()), out);
                    out.push(':');
                    v.render_into(vars, out);
                }
                out.push('}');
            }
        }
    }
}

fn push_json(v: &serde_json::Value, out: &mut String) {
    // serde_json writes to io::Write; a String's bytes stay valid UTF-8 because JSON output is UTF-8.
    let mut buf = std::mem::take(out).into_bytes();
    if serde_json::to_writer(&mut buf, v).is_err() {
        buf.extend_from_slice(b"null");
    }
    *out = String::from_utf8(buf).unwrap_or_default();
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn vars() -> Vec<(String, serde_json::Value)> {
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
        let back: serde_json::Value = serde_json::from_str(&out).unwrap();
        assert_eq!(back, json!({"id": 42, "label": "n-42", "o": {"a": 1}, "k": [1, "ann"]}));
    }
}
