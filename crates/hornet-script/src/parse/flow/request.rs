//! One HTTP request step: its keys, hooks, body (`json`, `body`, `form`, `formData`, whose
//! `fromFile` files a distributed worker takes from its plan) and the scalar templates they hold.

use std::path::PathBuf;
use std::sync::Arc;

use http::Method;

use super::super::{AUTH, Cx, FORM_PART, Map, REQUEST, Result, is_null, scalar_text};
use crate::error::Span;
use crate::plan::{Body, FormPart, RequestHooks, RequestStep};
use crate::template::Template;
use crate::yaml::{Entry, Node, Value};
use crate::{DataFile, DataFiles};

/// The keys that hold a request body; a request has at most one.
const BODIES: [&str; 4] = ["json", "body", "form", "formData"];

impl Cx<'_> {
    pub(super) fn request(&mut self, method: &str, action: &Entry) -> Result<RequestStep> {
        let what = format!("`{method}`");
        let map = self.map(&action.value, &what, &REQUEST, false).map_err(|e| {
            if e.help.is_none() && scalar_text(&action.value).is_some() {
                e.with_help(format!("write `{method}: {{ url: \"...\" }}`"))
            } else {
                e
            }
        })?;
        let map = Map { span: action.key_span, ..map };
        let url_entry = map.get("url").ok_or_else(|| {
            self.missing(&map, "url", &REQUEST).with_help(format!("add `url: \"/path\"` under `{method}`"))
        })?;
        let url = self.template(&url_entry.value, "`url`")?;
        let source = url.source();
        if source.trim().is_empty() {
            return Err(self.err(url_entry.value.span, "`url` is empty"));
        }
        if source.starts_with("http://") || source.starts_with("https://") {
            if url.is_static()
                && let Err(e) = url::Url::parse(source)
            {
                return Err(self.err(url_entry.value.span, format!("`{source}` is not a valid URL: {e}")));
            }
        } else if self.relative_url.is_none() {
            self.relative_url = Some((source.to_string(), url_entry.value.span));
        }
        let name = match map.get("name") {
            Some(e) => self.name(&e.value, "`name`")?.to_string(),
            None => format!("{} {source}", method.to_ascii_uppercase()),
        };
        let endpoint = self.endpoint_of(name, crate::plan::Protocol::Http, action.key_span)?;
        let headers = match map.get("headers") {
            Some(e) => self.headers(&e.value)?,
            None => Vec::new(),
        };
        let mut qs = Vec::new();
        if let Some(e) = map.get("qs") {
            for p in self.entries(&e.value, "`qs`", "a map of parameter names to values")? {
                let what = format!("query parameter `{}`", p.key);
                qs.push((p.key.clone(), self.template(&p.value, &what)?));
            }
        }
        self.check_static_http_url(&url, &qs, url_entry.value.span)?;
        let body = self.body(&map)?;
        let auth = match map.get("auth") {
            None => None,
            Some(e) => {
                let a = self.map(&e.value, "`auth`", &AUTH, false)?;
                let user = a.get("user").ok_or_else(|| {
                    self.missing(&a, "user", &AUTH).with_help("write `auth: { user: name, pass: secret }`")
                })?;
                let user = self.template(&user.value, "`user`")?;
                let pass = match a.get("pass") {
                    Some(p) if !is_null(&p.value) => self.template(&p.value, "`pass`")?,
                    _ => Template::literal(""),
                };
                Some((user, pass))
            }
        };
        let cookies = match map.get("cookie") {
            Some(e) => self.cookies(&e.value, "`cookie`")?,
            None => Vec::new(),
        };
        let flag = |key: &str| map.get(key).map_or(Ok(true), |e| self.boolean(&e.value, &format!("`{key}`")));
        let follow_redirect = flag("followRedirect")?;
        let decompress = flag("gzip")?;
        let probability = match map.get("probability") {
            None => None,
            Some(e) => {
                let p = self.non_negative(&e.value, "`probability`")?;
                if p > 100.0 {
                    return Err(self
                        .err(e.value.span, format!("`probability` is a percentage from 0 to 100, found {p}"))
                        .with_help("`probability: 25` sends the request one time in four"));
                }
                Some(p)
            }
        };
        let condition = match map.get("ifTrue") {
            None => None,
            Some(e) => {
                let expr = self.expr(&e.value, "`ifTrue`", "status == 200 and count > 1")?;
                self.check_expr_names(&e.value, &expr, "`ifTrue`")?;
                Some(expr)
            }
        };
        let mut captures = Vec::new();
        if let Some(e) = map.get("capture") {
            for spec in self.one_or_list(&e.value) {
                captures.push(self.capture(spec, false)?);
            }
        }
        if let Some(e) = map.get("match") {
            for spec in self.one_or_list(&e.value) {
                captures.push(self.capture(spec, true)?);
            }
        }
        let mut expects = Vec::new();
        if let Some(e) = map.get("expect") {
            for spec in self.one_or_list(&e.value) {
                self.expects(spec, &mut expects)?;
            }
        }
        let mut hooks = RequestHooks::default();
        if self.processor.is_some()
            && let Some(e) = map.get("ifTrue")
            && let Some(name) = scalar_text(&e.value).map(str::trim)
            && is_identifier(name)
        {
            hooks.if_true = Some(name.to_string());
        }
        if let Some(e) = map.get("beforeRequest") {
            hooks.before_request = self.function_names(e)?;
        }
        if let Some(e) = map.get("afterResponse") {
            hooks.after_response = self.function_names(e)?;
        }
        let method = Method::from_bytes(method.to_ascii_uppercase().as_bytes())
            .map_err(|_| self.err(action.key_span, format!("`{method}` is not an HTTP method")))?;
        Ok(RequestStep {
            method,
            url,
            endpoint,
            headers,
            qs,
            body,
            auth,
            cookies,
            follow_redirect,
            decompress,
            probability,
            condition,
            captures,
            expects,
            hooks,
        })
    }

    /// The items of a list, or the value itself when it is not a list (null: nothing).
    pub(in crate::parse) fn one_or_list<'n>(&self, node: &'n Node) -> Vec<&'n Node> {
        match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ if is_null(node) => Vec::new(),
            _ => vec![node],
        }
    }

    fn body(&self, map: &Map<'_>) -> Result<Option<Body>> {
        let mut present = map.entries.iter().filter(|e| BODIES.contains(&e.key.as_str()));
        let Some(body) = present.next() else { return Ok(None) };
        if let Some(second) = present.next() {
            return Err(self
                .err(
                    second.key_span,
                    format!("a request has one body, but this one has `{}` and `{}`", body.key, second.key),
                )
                .with_help(
                    "`json` sends JSON, `body` a string as is, `form` a URL-encoded form, `formData` a multipart form",
                ));
        }
        Ok(Some(match body.key.as_str() {
            "json" => Body::Json(self.json_template(&body.value)?),
            "body" => Body::Raw(self.template(&body.value, "`body`").map_err(|e| {
                if matches!(body.value.value, Value::Map(_) | Value::Seq(_)) {
                    e.with_help("use `json:` to send a map or a list as JSON, or `form:` for a form")
                } else {
                    e
                }
            })?),
            "form" => Body::Form(self.named_templates(&body.value, "`form`", "form field")?),
            _ => Body::Multipart(self.form_data(&body.value)?),
        }))
    }

    /// The file of a `fromFile: relative` at `span`: its path, checked to be a file (and, with
    /// [`DataFiles::DiskKept`], read and kept); on a distributed worker the next shipped file, named
    /// as the controller named it, with its bytes.
    fn form_file(&self, relative: &str, span: Span) -> Result<(PathBuf, Option<Arc<[u8]>>)> {
        let index = self.form_files_met.get();
        self.form_files_met.set(index + 1);
        let path = super::super::resolve(&self.source_of(span).dir, relative);
        let help = "`fromFile` is relative to the directory of the script that names it";
        let cannot_read = |err: std::io::Error| {
            self.err(span, format!("cannot read `{}`: {err}", path.display())).with_help(help)
        };
        match &self.data_files {
            DataFiles::Shipped(shipped) => match shipped.form_files.get(index) {
                Some(file) => Ok((PathBuf::from(&file.name), Some(file.data.clone()))),
                None => Err(self
                    .err(span, format!("the `fromFile` file `{relative}` was not shipped with the plan"))
                    .with_help(format!(
                        "a distributed worker reads only the `fromFile` files the controller sent ({} of \
                         them), never its own disk",
                        shipped.form_files.len()
                    ))),
            },
            DataFiles::Disk | DataFiles::DiskKept => {
                let is_file = std::fs::metadata(&path).and_then(|m| {
                    if m.is_file() { Ok(()) } else { Err(std::io::Error::other("it is not a file")) }
                });
                is_file.map_err(cannot_read)?;
                if matches!(self.data_files, DataFiles::DiskKept) {
                    let data = std::fs::read(&path).map_err(cannot_read)?;
                    let name = path.display().to_string();
                    self.kept_form_files.borrow_mut().push(DataFile { name, data: data.into() });
                }
                Ok((path, None))
            }
        }
    }

    /// `formData`: each field is a value, `{value}`, or `{fromFile, contentType}`.
    fn form_data(&self, node: &Node) -> Result<Vec<(String, FormPart)>> {
        let entries = self.entries(node, "`formData`", "a map of field names to values")?;
        let mut out = Vec::with_capacity(entries.len());
        for e in entries {
            let what = format!("form field `{}`", e.key);
            let part = match &e.value.value {
                Value::Map(_) => {
                    let m = self.map(&e.value, &what, &FORM_PART, false)?;
                    match (m.get("value"), m.get("fromFile")) {
                        (Some(_), Some(f)) => {
                            return Err(
                                self.err(f.key_span, format!("{what} has `value` or `fromFile`, not both"))
                            );
                        }
                        (None, None) => {
                            return Err(self.missing(&m, "value", &FORM_PART).with_help(
                                "a field is a value, `{ value: ... }`, or `{ fromFile: path, contentType: type }`",
                            ));
                        }
                        (Some(v), None) => {
                            if let Some(c) = m.get("contentType") {
                                return Err(self.err(c.key_span, "`contentType` goes with `fromFile`"));
                            }
                            FormPart::Value(self.scalar_template(&v.value, &what)?)
                        }
                        (None, Some(f)) => {
                            let relative = self.name(&f.value, "`fromFile`")?;
                            let (path, shipped) = self.form_file(relative, f.value.span)?;
                            let content_type = match m.get("contentType") {
                                None => None,
                                Some(c) => {
                                    let t = self.name(&c.value, "`contentType`")?;
                                    if http::HeaderValue::from_str(t).is_err() || !t.contains('/') {
                                        return Err(self
                                            .err(c.value.span, format!("`{t}` is not a content type"))
                                            .with_help("for example `image/png` or `application/pdf`"));
                                    }
                                    Some(t.to_string())
                                }
                            };
                            FormPart::File { path, content_type, shipped }
                        }
                    }
                }
                _ => FormPart::Value(self.scalar_template(&e.value, &what)?),
            };
            out.push((e.key.clone(), part));
        }
        Ok(out)
    }

    /// A template from a string, number or boolean (not a list or a map).
    pub(super) fn scalar_template(&self, node: &Node, what: &str) -> Result<Template> {
        if matches!(node.value, Value::Map(_) | Value::Seq(_)) {
            return Err(self.type_err(node, what, "a string, number or boolean"));
        }
        self.template(node, what)
    }
}

/// A JavaScript identifier (ASCII): what a bare `ifTrue: name` may call.
fn is_identifier(text: &str) -> bool {
    let mut chars = text.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_' || c == '$')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '$')
        && !matches!(text, "true" | "false" | "null" | "not" | "and" | "or")
}
