//! HTTP settings (`config.http`, `config.tls`, the top-level `timeout`), the target URL, and the
//! values requests carry: headers, cookies, form fields and JSON bodies.

use std::ops::RangeInclusive;
use std::time::Duration;

use http::{HeaderName, HeaderValue};

use super::keys::{HTTP, TLS};
use super::read::{Map, number_of};
use super::{Cx, Result};
use crate::LoadOptions;
use crate::error::Span;
use crate::plan::HttpSettings;
use crate::request_url;
use crate::template::{JsonTemplate, Template};
use crate::yaml::{Entry, Node, ScalarKind, Value};

impl Cx<'_> {
    /// `config.http`, `config.tls` and the top-level `config.timeout`; also returns
    /// `config.http.defaults` (read with `config.defaults`).
    pub(super) fn http_settings<'n>(
        &self,
        config: &Map<'n>,
        opts: &LoadOptions,
    ) -> Result<(HttpSettings, Option<&'n Entry>)> {
        let mut http = HttpSettings::default();
        let mut timeout_at = None;
        let mut http_defaults = None;
        if let Some(e) = config.get("http") {
            let map = self.map(&e.value, "`config.http`", &HTTP, true)?;
            if let Some(t) = map.get("timeout") {
                http.timeout = self.timeout(&t.value)?;
                timeout_at = Some(t.key_span);
            }
            if let Some(p) = map.get("pool") {
                let n = self.positive(&p.value, "`pool`")?;
                http.pool =
                    Some(usize::try_from(n).map_err(|_| self.err(p.value.span, "`pool` is too large"))?);
            }
            if let Some(s) = map.get("sourceAddresses") {
                http.source_addresses = self.source_addresses(&s.value)?;
            }
            if let Some(s) = map.get("expectedStatus") {
                http.expected_status = self.expected_status(&s.value)?;
            }
            if let Some(m) = map.get("maxCaptureBody") {
                http.max_capture_body =
                    self.byte_size(&m.value, "`maxCaptureBody`", MAX_CAPTURE_BODY_LIMIT)?;
            }
            http_defaults = map.get("defaults");
        }
        if let Some(t) = config.get("timeout") {
            if let Some(first) = timeout_at {
                return Err(self.err(t.key_span, "`timeout` is set twice").with_help(format!(
                    "it is also set under `config.http` on {}; keep one",
                    self.line_of(first, t.key_span)
                )));
            }
            http.timeout = self.timeout(&t.value)?;
        }
        http.insecure = opts.insecure;
        if let Some(e) = config.get("tls") {
            let map = self.map(&e.value, "`config.tls`", &TLS, true)?;
            if let Some(r) = map.get("rejectUnauthorized")
                && !self.boolean(&r.value, "`rejectUnauthorized`")?
            {
                http.insecure = true;
            }
        }
        Ok((http, http_defaults))
    }

    /// A size in bytes: a whole number, or a string of one with a unit (`512KB`, `16 MiB`, `1GB`:
    /// `KB`, `MB`, `GB` are powers of 1000, `KiB`, `MiB`, `GiB` of 1024), from 1 to `max`.
    pub(super) fn byte_size(&self, node: &Node, what: &str, max: u64) -> Result<usize> {
        let bytes = match number_of(node) {
            Some(_) => self.positive(node, what)?,
            None => {
                let text = self.text(node, what)?;
                parse_byte_size(text).ok_or_else(|| {
                    self.err(node.span, format!("{what} `{text}` is not a size"))
                        .with_help("write a number of bytes, or one with a unit: 512KB, 16MiB, 1GB")
                })?
            }
        };
        if bytes == 0 || bytes > max {
            return Err(
                self.err(node.span, format!("{what} must be from 1 byte to {max} bytes, found {bytes}"))
            );
        }
        usize::try_from(bytes).map_err(|_| self.err(node.span, format!("{what} is too large")))
    }

    /// `config.http.sourceAddresses`: a list of IP addresses (one address alone is allowed).
    pub(super) fn source_addresses(&self, node: &Node) -> Result<Vec<std::net::IpAddr>> {
        let items = match &node.value {
            Value::Seq(items) => items.as_slice(),
            _ => std::slice::from_ref(node),
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let text = self.text(item, "an entry of `sourceAddresses`")?;
            let ip = text.trim().parse().map_err(|_| {
                self.err(item.span, format!("`{text}` is not an IP address")).with_help(
                    "list local addresses such as 127.0.0.2 or ::1; connections bind to them in turn",
                )
            })?;
            out.push(ip);
        }
        if out.is_empty() {
            return Err(self.err(node.span, "`sourceAddresses` is empty"));
        }
        Ok(out)
    }

    /// `config.http.expectedStatus`: statuses (`404`) and inclusive ranges (`200-399`), one alone
    /// or a list.
    pub(super) fn expected_status(&self, node: &Node) -> Result<Vec<RangeInclusive<u16>>> {
        let items = match &node.value {
            Value::Seq(items) => items.as_slice(),
            _ => std::slice::from_ref(node),
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let text = self.text(item, "an entry of `expectedStatus`")?;
            let status = |s: &str| s.trim().parse::<u16>().ok().filter(|n| (100..=599).contains(n));
            let range = match text.split_once('-') {
                Some((low, high)) => status(low).zip(status(high)).filter(|(l, h)| l <= h),
                None => status(text).map(|n| (n, n)),
            };
            let (low, high) = range.ok_or_else(|| {
                self.err(item.span, format!("`{text}` is not an HTTP status or range of statuses"))
                    .with_help("write statuses from 100 to 599, alone (`404`) or as ranges (`200-399`)")
            })?;
            out.push(low..=high);
        }
        if out.is_empty() {
            return Err(self.err(node.span, "`expectedStatus` is empty"));
        }
        Ok(out)
    }

    pub(super) fn timeout(&self, node: &Node) -> Result<Duration> {
        let d = self.duration(node, "`timeout`")?;
        if d.is_zero() {
            return Err(self.err(node.span, "`timeout` must be more than 0"));
        }
        Ok(d)
    }

    pub(super) fn headers(&self, node: &Node) -> Result<Vec<(HeaderName, Template)>> {
        let entries = self.entries(node, "`headers`", "a map of header names to values")?;
        let mut out: Vec<(HeaderName, Template)> = Vec::with_capacity(entries.len());
        for e in entries {
            let name = self.header_name(&e.key, e.key_span)?;
            if out.iter().any(|(n, _)| *n == name) {
                return Err(self.err(e.key_span, format!("header `{name}` is set twice (names ignore case)")));
            }
            let what = format!("header `{}`", e.key);
            let value = self.template(&e.value, &what)?;
            if value.is_static() && HeaderValue::from_str(value.source()).is_err() {
                return Err(self
                    .err(e.value.span, format!("the value of {what} is not a valid header value"))
                    .with_help("header values cannot contain line breaks or other control characters"));
            }
            out.push((name, value));
        }
        Ok(out)
    }

    pub(super) fn header_name(&self, text: &str, span: Span) -> Result<HeaderName> {
        HeaderName::from_bytes(text.as_bytes()).map_err(|_| {
            self.err(span, format!("`{text}` is not a valid header name"))
                .with_help("header names are letters, digits and `-` (no spaces or `:`)")
        })
    }

    /// Any YAML value as JSON (for `variables`).
    pub(super) fn json_value(&self, node: &Node) -> Result<serde_json::Value> {
        use serde_json::Value as J;
        Ok(match &node.value {
            Value::Scalar(s) => match s.kind {
                ScalarKind::Null => J::Null,
                ScalarKind::Bool(b) => J::Bool(b),
                ScalarKind::Int(i) => J::from(i),
                ScalarKind::Float(f) => J::Number(serde_json::Number::from_f64(f).ok_or_else(|| {
                    self.err(
                        node.span,
                        format!("`{}` is not a finite number, which JSON cannot hold", s.text),
                    )
                })?),
                ScalarKind::Str => J::String(s.text.clone()),
            },
            Value::Seq(items) => J::Array(items.iter().map(|i| self.json_value(i)).collect::<Result<_>>()?),
            Value::Map(entries) => J::Object(
                entries
                    .iter()
                    .map(|e| Ok((e.key.clone(), self.json_value(&e.value)?)))
                    .collect::<Result<_>>()?,
            ),
        })
    }

    /// A `json:` body: strings are templates, map order is kept.
    pub(super) fn json_template(&self, node: &Node) -> Result<JsonTemplate> {
        Ok(match &node.value {
            Value::Scalar(s) if s.kind == ScalarKind::Str => {
                let t = self.template(node, "`json`")?;
                if t.is_static() {
                    JsonTemplate::Literal(serde_json::Value::String(s.text.clone()))
                } else {
                    JsonTemplate::String(t)
                }
            }
            Value::Scalar(_) => JsonTemplate::Literal(self.json_value(node)?),
            Value::Seq(items) => {
                JsonTemplate::Array(items.iter().map(|i| self.json_template(i)).collect::<Result<_>>()?)
            }
            Value::Map(entries) => JsonTemplate::Object(
                entries
                    .iter()
                    .map(|e| Ok((e.key.clone(), self.json_template(&e.value)?)))
                    .collect::<Result<_>>()?,
            ),
        })
    }

    /// A map of names to templates (`cookie`, `form`), in file order.
    pub(super) fn named_templates(
        &self,
        node: &Node,
        what: &str,
        item: &str,
    ) -> Result<Vec<(String, Template)>> {
        let entries = self.entries(node, what, &format!("a map of {item} names to values"))?;
        let mut out: Vec<(String, Template)> = Vec::with_capacity(entries.len());
        for e in entries {
            if e.key.trim().is_empty() {
                return Err(self.err(e.key_span, format!("a {item} name cannot be empty")));
            }
            if matches!(e.value.value, Value::Map(_) | Value::Seq(_)) {
                return Err(self.type_err(
                    &e.value,
                    &format!("{item} `{}`", e.key),
                    "a string, number or boolean",
                ));
            }
            out.push((e.key.clone(), self.template(&e.value, &format!("{item} `{}`", e.key))?));
        }
        Ok(out)
    }

    /// A cookie map: names must be cookie tokens.
    pub(super) fn cookies(&self, node: &Node, what: &str) -> Result<Vec<(String, Template)>> {
        let entries = self.entries(node, what, "a map of cookie names to values")?;
        for e in entries {
            if let Some(bad) =
                e.key.chars().find(|c| c.is_whitespace() || c.is_control() || "=;,\"".contains(*c))
            {
                return Err(self
                    .err(e.key_span, format!("`{}` is not a valid cookie name: it contains {bad:?}", e.key))
                    .with_help("cookie names cannot contain spaces, `=`, `;`, `,` or quotes"));
            }
        }
        self.named_templates(node, what, "cookie")
    }
}

impl Cx<'_> {
    /// Checks a request URL without templates as it will be sent (joined to the target, with its
    /// `qs`), so that one the runner could not send is reported at `span`. A relative URL without
    /// a target is left to the check that reports it.
    pub(super) fn check_static_http_url(
        &self,
        url: &Template,
        qs: &[(String, Template)],
        span: Span,
    ) -> Result<()> {
        if !url.is_static() || qs.iter().any(|(_, v)| !v.is_static()) {
            return Ok(());
        }
        let base = self.target.as_deref().map(request_url::http_base);
        let absolute = ["http://", "https://"].iter().any(|s| url.source().starts_with(s));
        if !absolute && base.is_none() {
            return Ok(());
        }
        let mut sent = String::new();
        request_url::assemble_http(base.as_deref(), url, qs, NO_VARIABLES, &mut sent);
        request_url::parse_http(&sent).map(drop).map_err(|e| self.url_error(span, e, absolute))
    }

    /// Checks a `connect` URL without templates as it will be opened, like
    /// [`Cx::check_static_http_url`].
    pub(super) fn check_static_ws_url(&self, url: &Template, span: Span) -> Result<()> {
        if !url.is_static() {
            return Ok(());
        }
        let base = self.target.as_deref().map(request_url::ws_base);
        let absolute = ["ws://", "wss://", "http://", "https://"].iter().any(|s| url.source().starts_with(s));
        if !absolute && base.is_none() {
            return Ok(());
        }
        let mut sent = String::new();
        request_url::assemble_ws(base.as_deref(), url, NO_VARIABLES, &mut sent);
        request_url::parse_ws(&sent).map(drop).map_err(|e| self.url_error(span, e, absolute))
    }

    fn url_error(&self, span: Span, e: request_url::InvalidUrl, absolute: bool) -> crate::ScriptError {
        let err = self.err(span, format!("`{}` is not a valid URL: {}", e.url, e.reason));
        match (&self.target, absolute) {
            (Some(t), false) => err.with_help(format!(
                "the URL is joined to the target `{t}`; percent-encode characters a URL cannot hold (`%20` for a space)"
            )),
            _ => err.with_help("percent-encode characters a URL cannot hold (`%20` for a space)"),
        }
    }
}

/// The variables of a URL without templates: none.
const NO_VARIABLES: &[(String, serde_json::Value)] = &[];

/// Checks a target URL; on error, a message and an optional hint.
pub(super) fn check_target(raw: &str) -> std::result::Result<String, (String, Option<String>)> {
    let t = raw.trim();
    if !["http://", "https://", "ws://", "wss://"].iter().any(|s| t.starts_with(s)) {
        return Err((
            format!("`{t}` does not start with http://, https://, ws:// or wss://"),
            Some("write the scheme, e.g. `http://localhost:8080`".to_string()),
        ));
    }
    let parsed = url::Url::parse(t).map_err(|e| (format!("`{t}` is not a valid URL: {e}"), None))?;
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err((format!("`{t}` has no host"), None));
    }
    if parsed.query().is_some() || parsed.fragment().is_some() {
        return Err((
            format!("`{t}` has a query string or fragment"),
            Some("put query parameters on the requests (`qs`), not on the target".to_string()),
        ));
    }
    Ok(t.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn target_checks() {
        assert_eq!(check_target(" http://h:1/base "), Ok("http://h:1/base".to_string()));
        assert!(check_target("https://example.com").is_ok());
        assert!(check_target("ws://h:1/ws").is_ok());
        assert!(check_target("wss://h").is_ok());
        assert!(check_target("ftp://h").unwrap_err().0.contains("http://, https://, ws:// or wss://"));
        assert!(check_target("localhost:8080").unwrap_err().0.contains("http://, https://, ws:// or wss://"));
        assert!(check_target("http://h/?a=1").unwrap_err().0.contains("query"));
        assert!(check_target("http://").is_err());
    }
}

/// The largest `config.http.maxCaptureBody`: 1 GiB.
const MAX_CAPTURE_BODY_LIMIT: u64 = 1024 * 1024 * 1024;

/// `16MB`, `16 MiB`, `512kb`, `1024` as bytes; `None` when not a whole number with a known unit.
fn parse_byte_size(text: &str) -> Option<u64> {
    let text = text.trim();
    let digits = text.find(|c: char| !c.is_ascii_digit()).unwrap_or(text.len());
    let (number, unit) = text.split_at(digits);
    let n: u64 = number.parse().ok()?;
    let scale: u64 = match unit.trim().to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "kb" => 1000,
        "kib" => 1 << 10,
        "mb" => 1000 * 1000,
        "mib" => 1 << 20,
        "gb" => 1000 * 1000 * 1000,
        "gib" => 1 << 30,
        _ => return None,
    };
    n.checked_mul(scale)
}

#[cfg(test)]
mod byte_size_tests {
    use super::parse_byte_size;

    #[test]
    fn sizes_read_with_decimal_and_binary_units() {
        assert_eq!(parse_byte_size("1024"), Some(1024));
        assert_eq!(parse_byte_size("512KB"), Some(512_000));
        assert_eq!(parse_byte_size("16 MiB"), Some(16 << 20));
        assert_eq!(parse_byte_size("2mb"), Some(2_000_000));
        assert_eq!(parse_byte_size("1GiB"), Some(1 << 30));
        for bad in ["", "MB", "1.5MB", "-1", "10 parsecs", "99999999999999999999GB"] {
            assert_eq!(parse_byte_size(bad), None, "{bad}");
        }
    }
}
