//! JSON output for templates: escaping text for the inside of a JSON string, writing values as
//! compact JSON straight into the buffer, and [`JsonTemplate`], a JSON body whose strings are
//! templates.

use std::fmt::{self, Write as _};

use serde_json::Value;

use super::{Template, TemplateError, Vars};

/// Appends `s` to `out` escaped for the inside of a JSON string.
pub(super) fn push_json_escaped(out: &mut String, s: &str) {
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
pub(super) struct JsonEscaper<'o>(&'o mut String);

impl fmt::Write for JsonEscaper<'_> {
    fn write_str(&mut self, s: &str) -> fmt::Result {
        push_json_escaped(self.0, s);
        Ok(())
    }
}

/// Appends `s` as a quoted JSON string.
pub(super) fn push_json_str(out: &mut String, s: &str) {
    out.push('"');
    push_json_escaped(out, s);
    out.push('"');
}

/// Appends `v` as compact JSON (serde_json's `Display` writes straight into the buffer).
pub(super) fn push_json(v: &Value, out: &mut String) {
    let _ = write!(out, "{v}");
}

/// Appends a value as text inside a string: strings without quotes, null as nothing, everything
/// else as compact JSON. With `json`, the text is escaped for the inside of a JSON string.
pub(super) fn push_text_value(v: &Value, out: &mut String, json: bool) {
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
}
