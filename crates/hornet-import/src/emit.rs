//! Writing the script: YAML by hand (comments are part of the output, and a script is meant to be
//! read and edited), strings quoted only when YAML would misread them.

use std::fmt::Write as _;

use serde_json::Value;

use crate::correlate::{CaptureKind, CaptureSpec, Secret};
use crate::steps::{Body, Step};

/// Everything the script holds.
pub(crate) struct Script<'a> {
    /// Comment lines at the top (without `# `).
    pub header: Vec<String>,
    pub target: String,
    /// The application's origin: its requests are written relative to the target.
    pub main_origin: String,
    pub secrets: &'a [Secret],
    pub default_headers: &'a [(String, String)],
    pub start_cookies: &'a [(String, String)],
    pub steps: &'a [Step],
    pub captures: &'a [Vec<CaptureSpec>],
    /// Title and URL of each page.
    pub pages: &'a [(String, String)],
    /// Seconds of `think` before each step.
    pub thinks: &'a [Option<f64>],
    pub scenario: String,
    /// Give each request a `name` (`#03 GET /x`), for `--check`.
    pub named: bool,
}

/// `s` as a YAML scalar: plain when it cannot be misread, else double-quoted (JSON's escapes are
/// YAML's).
pub(crate) fn scalar(s: &str) -> String {
    let plain = s.chars().next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '/')
        && s.chars().all(|c| c.is_ascii_alphanumeric() || "_./-".contains(c))
        && !matches!(
            s.to_ascii_lowercase().as_str(),
            "true" | "false" | "yes" | "no" | "on" | "off" | "null" | "y" | "n"
        );
    if plain { s.to_string() } else { serde_json::to_string(s).unwrap_or_else(|_| "\"\"".into()) }
}

/// The name `--check` gives request `step`.
pub(crate) fn check_name(step: &Step) -> String {
    format!("#{:02} {} {}", step.number, step.method, step.path_and_query())
}

impl Script<'_> {
    /// The YAML text.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for line in &self.header {
            if line.is_empty() {
                out.push_str("#\n");
            } else {
                let _ = writeln!(out, "# {line}");
            }
        }
        out.push_str("config:\n");
        let _ = writeln!(out, "  target: {}", scalar(&self.target));
        if !self.secrets.is_empty() {
            out.push_str("  variables:\n");
            for secret in self.secrets {
                let _ = writeln!(
                    out,
                    "    # Typed into the recording ({} of #{}): set it with --var {}=... or a payload file.",
                    secret.first.1, secret.first.0, secret.variable
                );
                let _ = writeln!(out, "    {}: {}", secret.variable, scalar(&secret.value));
            }
        }
        if !self.default_headers.is_empty() || !self.start_cookies.is_empty() {
            out.push_str("  defaults:\n");
        }
        if !self.default_headers.is_empty() {
            out.push_str("    headers:\n");
            for (name, value) in self.default_headers {
                let _ = writeln!(out, "      {}: {}", scalar(name), scalar(value));
            }
        }
        if !self.start_cookies.is_empty() {
            out.push_str("    # Sent in the recording but set by nothing in it (set before it began, or by a script).\n");
            out.push_str("    cookie:\n");
            for (name, value) in self.start_cookies {
                let _ = writeln!(out, "      {}: {}", scalar(name), scalar(value));
            }
        }
        out.push_str("scenarios:\n");
        let _ = writeln!(out, "  - name: {}", scalar(&self.scenario));
        out.push_str("    flow:\n");
        let mut page = None;
        for (i, step) in self.steps.iter().enumerate() {
            if let Some(seconds) = self.thinks.get(i).copied().flatten() {
                let _ = writeln!(out, "      - think: {seconds}");
            }
            if page != Some(step.page) {
                page = Some(step.page);
                if let Some((title, url)) = self.pages.get(step.page) {
                    let title =
                        if title.is_empty() { String::new() } else { format!("{} — ", one_line(title)) };
                    let _ = writeln!(out, "      # Page {}: {title}{}", step.page + 1, one_line(url));
                }
            }
            self.render_step(&mut out, step, &self.captures[i]);
        }
        out
    }

    fn render_step(&self, out: &mut String, step: &Step, captures: &[CaptureSpec]) {
        for note in &step.notes {
            let _ = writeln!(out, "      # #{}: {}", step.number, one_line(note));
        }
        let url = if step.origin == self.main_origin {
            step.path_and_query()
        } else {
            format!("{}{}", step.origin, step.path_and_query())
        };
        let _ = writeln!(out, "      - {}:", step.method.to_ascii_lowercase());
        let _ = writeln!(out, "          url: {}", scalar(&url));
        if self.named {
            let _ = writeln!(out, "          name: {}", scalar(&check_name(step)));
        }
        if !step.headers.is_empty() {
            out.push_str("          headers:\n");
            for (name, value) in &step.headers {
                let _ = writeln!(out, "            {}: {}", scalar(name), scalar(value));
            }
        }
        if !step.explicit_cookies.is_empty() {
            out.push_str("          cookie:\n");
            for (name, value) in &step.explicit_cookies {
                let _ = writeln!(out, "            {}: {}", scalar(name), scalar(value));
            }
        }
        match &step.body {
            Body::None => {}
            Body::Json(value) => {
                out.push_str("          json:");
                value_yaml(out, value, 12);
            }
            Body::Form(pairs) | Body::Multipart(pairs) => {
                let key = if matches!(step.body, Body::Form(_)) { "form" } else { "formData" };
                if pairs.is_empty() {
                    let _ = writeln!(out, "          {key}: {{}}");
                } else {
                    let _ = writeln!(out, "          {key}:");
                    for (name, value) in pairs {
                        let _ = writeln!(out, "            {}: {}", scalar(name), scalar(value));
                    }
                }
            }
            Body::Text(text) => {
                let _ = writeln!(out, "          body: {}", scalar(text));
            }
        }
        if !captures.is_empty() {
            out.push_str("          capture:\n");
            for capture in captures {
                match &capture.kind {
                    CaptureKind::Json(path) => {
                        let _ = writeln!(out, "            - json: {}", scalar(path));
                    }
                    CaptureKind::Header(name) => {
                        let _ = writeln!(out, "            - header: {}", scalar(name));
                    }
                    CaptureKind::Selector { selector, attr } => {
                        let _ = writeln!(out, "            - selector: {}", scalar(selector));
                        if let Some(attr) = attr {
                            let _ = writeln!(out, "              attr: {}", scalar(attr));
                        }
                    }
                    CaptureKind::Regexp(pattern) => {
                        let _ = writeln!(out, "            - regexp: {}", scalar(pattern));
                    }
                }
                if let Some(index) = capture.index {
                    let _ = writeln!(out, "              index: {index}");
                }
                let _ = writeln!(out, "              as: {}", capture.variable);
            }
        }
    }
}

/// `text` on one line (for comments).
fn one_line(text: &str) -> String {
    text.replace(['\n', '\r'], " ")
}

/// Appends a JSON value as YAML after a key (`key:` is already written): scalars and empty
/// collections on the same line, the rest as block collections indented by `indent`.
fn value_yaml(out: &mut String, value: &Value, indent: usize) {
    let pad = " ".repeat(indent);
    match value {
        Value::Object(map) if !map.is_empty() => {
            out.push('\n');
            for (key, v) in map {
                let _ = write!(out, "{pad}{}:", scalar(key));
                value_yaml(out, v, indent + 2);
            }
        }
        Value::Array(items) if !items.is_empty() => {
            out.push('\n');
            for v in items {
                let _ = write!(out, "{pad}-");
                match v {
                    // A mapping in a list starts on the dash's line.
                    Value::Object(map) if !map.is_empty() => {
                        let mut first = true;
                        for (key, inner) in map {
                            if first {
                                let _ = write!(out, " {}:", scalar(key));
                                first = false;
                            } else {
                                let _ = write!(out, "{pad}  {}:", scalar(key));
                            }
                            value_yaml(out, inner, indent + 4);
                        }
                    }
                    _ => value_yaml(out, v, indent + 2),
                }
            }
        }
        Value::Object(_) => out.push_str(" {}\n"),
        Value::Array(_) => out.push_str(" []\n"),
        Value::String(s) => {
            let _ = writeln!(out, " {}", scalar(s));
        }
        other => {
            let _ = writeln!(out, " {other}");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scalars_are_quoted_when_yaml_would_misread_them() {
        assert_eq!(scalar("/app/login"), "/app/login");
        assert_eq!(scalar("value"), "value");
        assert_eq!(scalar("true"), "\"true\"");
        assert_eq!(scalar("123"), "\"123\"");
        assert_eq!(scalar("{{ token }}"), "\"{{ token }}\"");
        assert_eq!(scalar("a: b"), "\"a: b\"");
        assert_eq!(scalar(""), "\"\"");
        assert_eq!(scalar("line\nbreak"), "\"line\\nbreak\"");
    }

    #[test]
    fn json_bodies_become_block_yaml() {
        let mut out = String::from("json:");
        let doc: Value = serde_json::from_str(r#"{"a":[1,{"b":"x","c":[]}],"d":{},"e":"{{ v }}"}"#).unwrap();
        value_yaml(&mut out, &doc, 2);
        assert_eq!(out, "json:\n  a:\n    - 1\n    - b: x\n      c: []\n  d: {}\n  e: \"{{ v }}\"\n");
    }
}
