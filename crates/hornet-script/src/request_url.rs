//! Request URLs as they are sent: a step's URL joined to the target, its `qs` appended, and the
//! result parsed into an [`http::Uri`]. Script validation runs this on every URL it can know before
//! the run (no templates) and reports a failure at the URL in the script; the runner runs it on the
//! URLs it renders.
//!
//! HTTP: an absolute `http://`/`https://` URL is used as is, a relative one is joined to the
//! target. WebSocket: an absolute `ws://`/`wss://` URL is used as is, `http://` maps to `ws://`
//! and `https://` to `wss://`, a relative URL is joined to the target, whose scheme maps the same
//! way.
//!
//! [`HttpBase`] is the target split once into its scheme and authority (parsed then) and its path,
//! so that a relative URL rendered per request only has its path and query parsed.

use http::Uri;
use http::uri::{Authority, Parts, PathAndQuery, Scheme};

use crate::template::{Template, Vars};
use crate::{http_scheme, ws_scheme};

/// A URL that cannot be sent, and why. Displayed as `invalid URL `<url>`: <reason>`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InvalidUrl {
    /// The URL as assembled (joined to the target, with its query string).
    pub url: String,
    /// What is wrong with it.
    pub reason: String,
}

impl InvalidUrl {
    fn new(url: &str, reason: impl Into<String>) -> InvalidUrl {
        InvalidUrl { url: url.to_string(), reason: reason.into() }
    }
}

impl std::fmt::Display for InvalidUrl {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "invalid URL `{}`: {}", self.url, self.reason)
    }
}

impl std::error::Error for InvalidUrl {}

/// The target as the base of HTTP request URLs: with an http(s) scheme (a ws:// target means
/// http://) and no trailing `/`.
pub fn http_base(target: &str) -> String {
    http_scheme(target).trim_end_matches('/').to_string()
}

/// The target as the base of WebSocket URLs: with a ws(s) scheme and no trailing `/`.
pub fn ws_base(target: &str) -> String {
    ws_scheme(target).trim_end_matches('/').to_string()
}

/// Joins the target and the URL (unless the URL is absolute) and appends the query string.
pub fn assemble_http(
    base: Option<&str>,
    path: &Template,
    qs: &[(String, Template)],
    vars: &(impl Vars + ?Sized),
    out: &mut String,
) {
    let start = out.len();
    path.render_into(vars, out);
    if let (false, Some(b)) = (is_absolute_http(&out[start..]), base) {
        let rendered = out.split_off(start);
        out.push_str(b);
        if !rendered.starts_with('/') && !rendered.is_empty() {
            out.push('/');
        }
        out.push_str(&rendered);
    }
    append_query(qs, vars, start, out);
}

fn is_absolute_http(url: &str) -> bool {
    url.starts_with("http://") || url.starts_with("https://")
}

/// Appends the query string `qs` to the URL in `out[start..]`.
fn append_query(qs: &[(String, Template)], vars: &(impl Vars + ?Sized), start: usize, out: &mut String) {
    if qs.is_empty() {
        return;
    }
    let mut value = String::new();
    for (i, (k, v)) in qs.iter().enumerate() {
        let sep = if i == 0 && !out[start..].contains('?') { '?' } else { '&' };
        out.push(sep);
        out.extend(url::form_urlencoded::byte_serialize(k.as_bytes()));
        out.push('=');
        value.clear();
        v.render_into(vars, &mut value);
        out.extend(url::form_urlencoded::byte_serialize(value.as_bytes()));
    }
}

/// The longest URI `http::Uri` parses.
const MAX_URI_LEN: usize = (u16::MAX - 1) as usize;

/// The target as the base of HTTP request URLs ([`http_base`]'s form), with its scheme and
/// authority parsed once.
#[derive(Debug, Clone)]
pub struct HttpBase {
    text: String,
    /// `None` when the target's URI does not split that way (it does not parse, or its path has a
    /// query or fragment): then each URL is assembled and parsed whole.
    origin: Option<Origin>,
}

/// A target's scheme and authority, and the path after them (`/base` of `http://h/base`).
#[derive(Debug, Clone)]
struct Origin {
    scheme: Scheme,
    authority: Authority,
    path: String,
}

impl HttpBase {
    /// The base of request URLs to `target`.
    pub fn new(target: &str) -> HttpBase {
        let text = http_base(target);
        let origin = Origin::of(&text);
        HttpBase { text, origin }
    }

    /// The base as text (as [`http_base`] writes it).
    pub fn as_str(&self) -> &str {
        &self.text
    }
}

impl Origin {
    /// The origin of `base`, when joining a path to it and parsing the whole gives the `Uri` that
    /// the origin and the path parsed apart make.
    fn of(base: &str) -> Option<Origin> {
        let authority_start = base.find("://")? + 3;
        let path_start =
            base[authority_start..].find(['/', '?', '#']).map_or(base.len(), |i| authority_start + i);
        let path = &base[path_start..];
        if path.contains(['?', '#']) {
            return None;
        }
        let parts = parse_http(&base[..path_start]).ok()?.into_parts();
        let origin = Origin { scheme: parts.scheme?, authority: parts.authority?, path: path.to_string() };
        let probe = format!("{path}/a?b");
        (origin.uri(PathAndQuery::try_from(probe.as_str()).ok()?).ok()?
            == parse_http(&format!("{base}/a?b")).ok()?)
        .then_some(origin)
    }

    fn uri(&self, path_and_query: PathAndQuery) -> Result<Uri, http::uri::InvalidUriParts> {
        let mut parts = Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query);
        Uri::from_parts(parts)
    }
}

/// Renders a request URL ([`assemble_http`] into `scratch`) and parses it ([`parse_http`]). A
/// relative URL to a target with an [`Origin`] only has its path and query parsed, which gives the
/// same `Uri`; should they not parse alone, the whole URL is parsed as [`parse_http`] does.
pub fn render_http(
    base: Option<&HttpBase>,
    path: &Template,
    qs: &[(String, Template)],
    vars: &(impl Vars + ?Sized),
    scratch: &mut String,
) -> Result<Uri, InvalidUrl> {
    scratch.clear();
    let Some(HttpBase { text, origin: Some(origin) }) = base else {
        assemble_http(base.map(HttpBase::as_str), path, qs, vars, scratch);
        return parse_http(scratch);
    };
    path.render_into(vars, scratch);
    if is_absolute_http(scratch) {
        append_query(qs, vars, 0, scratch);
        return parse_http(scratch);
    }
    if !scratch.starts_with('/') && !scratch.is_empty() {
        scratch.insert(0, '/');
    }
    scratch.insert_str(0, &origin.path);
    append_query(qs, vars, 0, scratch);
    if scratch.starts_with('/')
        && text.len() - origin.path.len() + scratch.len() <= MAX_URI_LEN
        && let Ok(path_and_query) = PathAndQuery::try_from(scratch.as_str())
        && let Ok(uri) = origin.uri(path_and_query)
    {
        return Ok(uri);
    }
    scratch.insert_str(0, &text[..text.len() - origin.path.len()]);
    parse_http(scratch)
}

/// Parses an absolute http(s) URL. One with characters a URI cannot hold (spaces, quotes, `{`...)
/// is percent-encoded first the way browsers and Artillery's HTTP client do (the WHATWG URL
/// rules), which only costs time for such URLs.
pub fn parse_http(s: &str) -> Result<Uri, InvalidUrl> {
    let uri: Uri = match s.parse() {
        Ok(uri) => uri,
        Err(e) => url::Url::parse(s)
            .ok()
            .and_then(|u| whatwg_encoded(u.as_str()).parse().ok())
            .ok_or_else(|| InvalidUrl::new(s, e.to_string()))?,
    };
    match uri.scheme_str() {
        Some("http") | Some("https") if uri.host().is_some() => Ok(uri),
        _ => Err(InvalidUrl::new(s, "expected an absolute http:// or https:// URL")),
    }
}

/// `url` after the WHATWG rules, with the ASCII characters they leave as they are but `http::Uri`
/// refuses (`{`, `}`, `|`, `^`, `` ` ``, `\\` in a query) percent-encoded too.
fn whatwg_encoded(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    for c in url.chars() {
        match c {
            '{' | '}' | '|' | '^' | '`' | '\\' => out.push_str(&format!("%{:02X}", c as u32)),
            _ => out.push(c),
        }
    }
    out
}

/// Renders `path`; an absolute URL gets a ws(s) scheme, a relative one is joined to `base`.
pub fn assemble_ws(base: Option<&str>, path: &Template, vars: &(impl Vars + ?Sized), out: &mut String) {
    let start = out.len();
    path.render_into(vars, out);
    let rendered = out.split_off(start);
    let absolute = ["ws://", "wss://", "http://", "https://"].iter().any(|s| rendered.starts_with(s));
    match (absolute, base) {
        (true, _) | (false, None) => out.push_str(&ws_scheme(&rendered)),
        (false, Some(b)) => {
            out.push_str(b);
            if !rendered.starts_with('/') && !rendered.is_empty() {
                out.push('/');
            }
            out.push_str(&rendered);
        }
    }
}

/// Parses an absolute ws(s) URL.
pub fn parse_ws(s: &str) -> Result<Uri, InvalidUrl> {
    let uri: Uri = s.parse().map_err(|e: http::uri::InvalidUri| InvalidUrl::new(s, e.to_string()))?;
    match uri.scheme_str() {
        Some("ws") | Some("wss") if uri.host().is_some() => Ok(uri),
        _ => Err(InvalidUrl::new(s, "expected an absolute ws:// or wss:// URL")),
    }
}

/// `text` with the password of every URL in it (`scheme://user:password@host`) replaced by `***`:
/// for names and command lines that end up in reports, which get shared.
pub fn without_url_password(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(at) = rest.find("://") {
        let (before, after) = rest.split_at(at + 3);
        out.push_str(before);
        let authority_end = after.find(['/', '?', '#', ' ']).unwrap_or(after.len());
        let authority = &after[..authority_end];
        match authority.rfind('@').and_then(|at| authority[..at].split_once(':').map(|(user, _)| (user, at)))
        {
            Some((user, at)) => {
                out.push_str(user);
                out.push_str(":***");
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = &after[authority_end..];
    }
    out.push_str(rest);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn t(s: &str) -> Template {
        Template::compile(s).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn vars() -> Vec<(String, serde_json::Value)> {
        vec![("id".into(), json!(7)), ("q".into(), json!("a b&c")), ("room".into(), json!("a"))]
    }

    #[test]
    fn joins_target_and_query() {
        let mut out = String::new();
        assemble_http(
            Some("http://h:1/base"),
            &t("/items/{{ id }}"),
            &[("q".into(), t("{{ q }}"))],
            &vars(),
            &mut out,
        );
        assert_eq!(out, "http://h:1/base/items/7?q=a+b%26c");
        out.clear();
        assemble_http(Some("http://h:1"), &t("/x?y=1"), &[("z".into(), t("2"))], &vars(), &mut out);
        assert_eq!(out, "http://h:1/x?y=1&z=2");
        out.clear();
        assemble_http(Some("http://h:1"), &t("https://other/p"), &[], &vars(), &mut out);
        assert_eq!(out, "https://other/p");
    }

    #[test]
    fn a_url_rendered_against_a_split_target_is_the_url_assembled_and_parsed_whole() {
        let bases = [
            "http://127.0.0.1:8080",
            "http://127.0.0.1:8080/",
            "http://h:1/base",
            "https://user:pw@h/a/b/",
            "http://[::1]:9",
            "HTTP://H:80",
            "http://h/b?x=1",
            "http://h/b#f",
            "http://h/s p",
            "http://",
            "ftp://h",
            "ws://h:1/w",
        ];
        let paths = [
            "/items/{{ id }}",
            "items/{{ id }}",
            "",
            "/",
            "?q=1",
            "https://other:2/p?z",
            "http://o",
            "//double/{{ id }}",
            "/x?y=1",
            "/a#frag",
            "{{ q }}",
            "/s p/{{ q }}",
            "/%zz/%41",
            "/ü/{{ id }}",
            "/a{b}|c",
            "/../x/./y",
        ];
        let query: [&[(String, Template)]; 2] =
            [&[], &[("k y".into(), t("{{ q }}")), ("n".into(), t("{{ id }}"))]];
        let vars = vars();
        let mut split_at_least_once = false;
        for b in bases {
            let base = HttpBase::new(b);
            split_at_least_once |= base.origin.is_some();
            for p in paths {
                for qs in query {
                    let mut whole = String::new();
                    assemble_http(Some(base.as_str()), &t(p), qs, &vars, &mut whole);
                    let want = parse_http(&whole);
                    let mut scratch = String::from("left over");
                    let got = render_http(Some(&base), &t(p), qs, &vars, &mut scratch);
                    assert_eq!(got, want, "{b} + {p} {qs:?}");
                    if let (Ok(got), Ok(want)) = (&got, &want) {
                        assert_eq!(got.to_string(), want.to_string(), "{b} + {p}");
                    }
                    whole.clear();
                    assemble_http(None, &t(p), qs, &vars, &mut whole);
                    assert_eq!(render_http(None, &t(p), qs, &vars, &mut scratch), parse_http(&whole));
                }
            }
        }
        assert!(split_at_least_once);
        assert!(HttpBase::new("http://h/b?x=1").origin.is_none());
        assert!(HttpBase::new("http://127.0.0.1:8080").origin.is_some());
    }

    #[test]
    fn rejects_non_http_urls() {
        assert!(parse_http("ftp://x/").is_err());
        assert!(parse_http("/relative").is_err());
        assert!(parse_http("http://127.0.0.1:8080/a").is_ok());
    }

    #[test]
    fn characters_a_uri_cannot_hold_are_percent_encoded_as_browsers_do() {
        let uri = parse_http("http://h/s p?d={{ $m().f('Y-M') }}&q=a b|c").unwrap();
        assert_eq!(uri.path(), "/s%20p");
        assert_eq!(uri.query(), Some("d=%7B%7B%20$m().f(%27Y-M%27)%20%7D%7D&q=a%20b%7Cc"));
        assert!(parse_http("http://exa mple/").is_err());
    }

    #[test]
    fn urls_map_schemes_and_join_the_target() {
        let vars = vars();
        let cases = [
            (Some("ws://h:1"), "/ws/{{ room }}", "ws://h:1/ws/a"),
            (Some("wss://h/base"), "x", "wss://h/base/x"),
            (Some("ws://h:1"), "http://o:2/p", "ws://o:2/p"),
            (None, "https://o/p", "wss://o/p"),
            (Some("ws://h"), "wss://o/p", "wss://o/p"),
        ];
        for (base, path, want) in cases {
            let mut out = String::new();
            assemble_ws(base, &t(path), &vars, &mut out);
            assert_eq!(out, want);
        }
        assert!(parse_ws("http://h/").is_err());
        assert!(parse_ws("/x").is_err());
        assert!(parse_ws("ws://127.0.0.1:9/x").is_ok());
    }
}
