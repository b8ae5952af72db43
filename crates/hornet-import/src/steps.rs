//! The requests a script will send, built from the kept entries: a redirect and the request the
//! browser made to follow it are one step (hornet follows redirects itself), headers the engine or
//! the cookie jar set are dropped, and bodies become `json`, `form`, `formData` or `body`.

use base64::Engine as _;
use serde_json::Value;
use url::Url;

use crate::har::{Entry, PostData};

/// Request headers never written into a script: the engine sets them (host, length, content
/// coding, connection), the cookie jar sends cookies, and the rest describe the browser, its
/// cache or the page it came from rather than the request.
const DROPPED_HEADERS: &[&str] = &[
    "host",
    "content-length",
    "cookie",
    "connection",
    "keep-alive",
    "accept-encoding",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "proxy-connection",
    "upgrade-insecure-requests",
    "priority",
    "purpose",
    "sec-purpose",
    "dnt",
    "sec-gpc",
    "if-none-match",
    "if-modified-since",
    "cache-control",
    "pragma",
    "referer",
    "origin",
];

/// One request of the script and what the recording says it got.
#[derive(Debug, Clone)]
pub(crate) struct Step {
    /// 1-based position among the kept requests.
    pub number: usize,
    /// Index of its first entry in the recording (sorted by start).
    pub entry: usize,
    pub method: String,
    /// `scheme://host[:port]`.
    pub origin: String,
    /// The path's segments, as recorded (still percent-encoded); templates once correlated.
    pub segments: Vec<String>,
    /// The query's pairs: raw name, raw value (templates once correlated).
    pub query: Vec<(String, String)>,
    /// Headers to send, lowercase names, in recorded order.
    pub headers: Vec<(String, String)>,
    /// Cookies the browser sent.
    pub cookies: Vec<(String, String)>,
    /// Cookies to send explicitly (values correlated from a body, not set by the server).
    pub explicit_cookies: Vec<(String, String)>,
    pub body: Body,
    /// The page (group) the request belongs to.
    pub page: usize,
    pub start_ms: f64,
    /// When its last response (after redirects) ended.
    pub end_ms: f64,
    /// The final response, after any redirects.
    pub response: ResponseView,
    /// Comments written above the request.
    pub notes: Vec<String>,
}

impl Step {
    /// The URL relative to the origin, as it will be written (templates included).
    pub fn path_and_query(&self) -> String {
        let mut out = String::new();
        for segment in &self.segments {
            out.push('/');
            out.push_str(segment);
        }
        if out.is_empty() {
            out.push('/');
        }
        if !self.query.is_empty() {
            out.push('?');
            let pairs: Vec<String> = self
                .query
                .iter()
                .map(|(name, value)| if value.is_empty() { name.clone() } else { format!("{name}={value}") })
                .collect();
            out.push_str(&pairs.join("&"));
        }
        out
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub(crate) enum Body {
    None,
    /// `json`.
    Json(Value),
    /// `form`: decoded names and values.
    Form(Vec<(String, String)>),
    /// `formData`: text fields only (files are noted, not imported).
    Multipart(Vec<(String, String)>),
    /// `body`, with its content type kept as a header.
    Text(String),
}

/// What a step's response holds, for correlation and `--check`.
#[derive(Debug, Clone, Default)]
pub(crate) struct ResponseView {
    /// The final status.
    pub status: u16,
    /// Headers of the final response, lowercase names.
    pub headers: Vec<(String, String)>,
    /// Cookies set by any response of the chain: name, value.
    pub set_cookies: Vec<(String, String)>,
    /// The final body as text, when it is text.
    pub body: Option<String>,
    /// Its content type, lowercase, without parameters.
    pub mime: String,
}

impl ResponseView {
    /// True when the body is HTML.
    pub fn is_html(&self) -> bool {
        self.mime.contains("html") || self.body.as_deref().is_some_and(|b| b.trim_start().starts_with('<'))
    }
}

/// The URL of an entry, when it parses.
pub(crate) fn entry_url(entry: &Entry) -> Option<Url> {
    Url::parse(&entry.request.url).ok()
}

/// Where a redirect entry sends the browser, resolved against its URL.
pub(crate) fn redirect_target(entry: &Entry, url: &Url) -> Option<Url> {
    let response = entry.response.as_ref()?;
    if !(300..400).contains(&response.status) {
        return None;
    }
    let location = response.redirect_url.as_deref().filter(|l| !l.is_empty()).or_else(|| {
        response.headers.iter().find(|h| h.name.eq_ignore_ascii_case("location")).map(|h| h.value())
    })?;
    url.join(location).ok()
}

/// Builds a step from its first entry and the entries that followed its redirects (in order).
pub(crate) fn build(number: usize, chain: &[(usize, &Entry, f64)], url: &Url, page: usize) -> Step {
    let (index, first, start_ms) = chain[0];
    let (_, last, last_start) = chain[chain.len() - 1];
    let mut notes = Vec::new();
    let origin = url.origin().ascii_serialization();
    let segments: Vec<String> = match url.path() {
        "/" | "" => Vec::new(),
        path => path.trim_start_matches('/').split('/').map(str::to_string).collect(),
    };
    let query: Vec<(String, String)> = url
        .query()
        .map(|q| {
            q.split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (name.to_string(), value.to_string())
                })
                .collect()
        })
        .unwrap_or_default();
    let mut headers = Vec::new();
    let mut cookies = Vec::new();
    let mut content_type = None;
    for header in &first.request.headers {
        let name = header.name.to_ascii_lowercase();
        if name == "cookie" {
            for pair in header.value().split(';') {
                let (cookie_name, value) = pair.trim().split_once('=').unwrap_or((pair.trim(), ""));
                if !cookie_name.is_empty() {
                    cookies.push((cookie_name.to_string(), value.to_string()));
                }
            }
            continue;
        }
        if name == "content-type" {
            content_type = Some(header.value().to_string());
            continue;
        }
        if name.starts_with(':')
            || name.starts_with("sec-ch-")
            || name.starts_with("sec-fetch-")
            || DROPPED_HEADERS.contains(&name.as_str())
        {
            continue;
        }
        headers.push((name, header.value().to_string()));
    }
    let body = match &first.request.post_data {
        None => Body::None,
        Some(post) => {
            let (body, note) = body_of(post, content_type.as_deref());
            notes.extend(note);
            if matches!(body, Body::Text(_))
                && let Some(content_type) = content_type.or_else(|| Some(post.mime_type.clone()))
                && !content_type.is_empty()
            {
                headers.push(("content-type".into(), content_type));
            }
            body
        }
    };
    let mut set_cookies = Vec::new();
    for (_, entry, _) in chain {
        if let Some(response) = &entry.response {
            for header in response.headers.iter().filter(|h| h.name.eq_ignore_ascii_case("set-cookie")) {
                // Some browsers join several Set-Cookie headers with newlines.
                for line in header.value().lines() {
                    let pair = line.split(';').next().unwrap_or("");
                    if let Some((name, value)) = pair.trim().split_once('=') {
                        set_cookies
                            .push((name.trim().to_string(), value.trim().trim_matches('"').to_string()));
                    }
                }
            }
        }
    }
    let response = last.response.as_ref();
    let content = response.and_then(|r| r.content.as_ref());
    let mime = content
        .and_then(|c| c.mime_type.as_deref())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    let body_text = content.and_then(|c| {
        let text = c.text.as_deref()?;
        if c.encoding.as_deref().is_some_and(|e| e.eq_ignore_ascii_case("base64")) {
            let bytes = base64::engine::general_purpose::STANDARD.decode(text.trim()).ok()?;
            String::from_utf8(bytes).ok()
        } else {
            Some(text.to_string())
        }
    });
    let last_time = last.time.filter(|t| *t >= 0.0).unwrap_or(0.0);
    let mut step = Step {
        number,
        entry: index,
        method: first.request.method.to_ascii_uppercase(),
        origin,
        segments,
        query,
        headers,
        cookies,
        explicit_cookies: Vec::new(),
        body,
        page,
        start_ms,
        end_ms: last_start + last_time,
        response: ResponseView {
            status: response.and_then(|r| u16::try_from(r.status).ok()).unwrap_or(0),
            headers: response
                .map(|r| {
                    r.headers
                        .iter()
                        .filter(|h| !h.name.eq_ignore_ascii_case("set-cookie"))
                        .map(|h| (h.name.to_ascii_lowercase(), h.value().to_string()))
                        .collect()
                })
                .unwrap_or_default(),
            set_cookies,
            body: body_text,
            mime,
        },
        notes,
    };
    if defuse_step(&mut step) {
        step.notes.push(
            "the recording sends `{{`, which hornet reads as the start of a template: it is written as `{ {` here; \
             put the right text back by hand (a processor can send it)"
                .into(),
        );
    }
    step
}

/// Writes every `{{` of the recorded request as `{ {`, so that no recorded text is read as a
/// template; true when there was one.
fn defuse_step(step: &mut Step) -> bool {
    fn defuse(text: &mut String) -> bool {
        if text.contains("{{") {
            *text = text.replace("{{", "{ {");
            true
        } else {
            false
        }
    }
    fn defuse_json(value: &mut Value) -> bool {
        match value {
            Value::String(s) => defuse(s),
            Value::Array(items) => items.iter_mut().fold(false, |found, v| defuse_json(v) | found),
            Value::Object(map) => {
                let keys: Vec<String> = map.keys().filter(|k| k.contains("{{")).cloned().collect();
                for key in &keys {
                    if let Some(v) = map.remove(key) {
                        map.insert(key.replace("{{", "{ {"), v);
                    }
                }
                map.values_mut().fold(!keys.is_empty(), |found, v| defuse_json(v) | found)
            }
            _ => false,
        }
    }
    let mut found = false;
    for segment in &mut step.segments {
        found |= defuse(segment);
    }
    for (name, value) in step.query.iter_mut().chain(step.headers.iter_mut()) {
        found |= defuse(name) | defuse(value);
    }
    match &mut step.body {
        Body::Json(doc) => found |= defuse_json(doc),
        Body::Form(pairs) | Body::Multipart(pairs) => {
            for (name, value) in pairs {
                found |= defuse(name) | defuse(value);
            }
        }
        Body::Text(text) => found |= defuse(text),
        Body::None => {}
    }
    found
}

/// The body of a request and, when part of it cannot be imported, a note saying so.
fn body_of(post: &PostData, content_type: Option<&str>) -> (Body, Option<String>) {
    let mime = content_type.unwrap_or(&post.mime_type).to_ascii_lowercase();
    let text = post.text.as_deref().unwrap_or("");
    if mime.contains("multipart/form-data") {
        let files: Vec<&str> =
            post.params.iter().filter(|p| p.file_name.is_some()).map(|p| p.name.as_str()).collect();
        let fields = post
            .params
            .iter()
            .filter(|p| p.file_name.is_none())
            .map(|p| (p.name.clone(), p.value.clone().unwrap_or_default()))
            .collect();
        let note = if files.is_empty() && post.params.is_empty() && !text.is_empty() {
            Some(
                "multipart body not imported: the recording holds no fields for it; add them under formData"
                    .into(),
            )
        } else if files.is_empty() {
            None
        } else {
            Some(format!(
                "file field(s) {} not imported: the recording holds no file; add `{{ fromFile: path }}` under formData",
                files.join(", ")
            ))
        };
        return (Body::Multipart(fields), note);
    }
    if mime.contains("x-www-form-urlencoded") {
        let pairs: Vec<(String, String)> = if !post.params.is_empty() {
            post.params
                .iter()
                .map(|p| (decode_form(&p.name), decode_form(p.value.as_deref().unwrap_or(""))))
                .collect()
        } else {
            text.split('&')
                .filter(|p| !p.is_empty())
                .map(|pair| {
                    let (name, value) = pair.split_once('=').unwrap_or((pair, ""));
                    (decode_form(name), decode_form(value))
                })
                .collect()
        };
        let mut names: Vec<&str> = pairs.iter().map(|(n, _)| n.as_str()).collect();
        names.sort_unstable();
        names.dedup();
        if names.len() == pairs.len() {
            return (Body::Form(pairs), None);
        }
        // A repeated field cannot be a YAML map: keep the encoded text.
        return (Body::Text(text.to_string()), None);
    }
    if mime.contains("json")
        && let Ok(value) = serde_json::from_str::<Value>(text)
    {
        if depth(&value) > MAX_JSON_DEPTH {
            let note = format!(
                "JSON body nested more than {MAX_JSON_DEPTH} levels: kept as text (scripts refuse YAML nested that deep)"
            );
            return (Body::Text(text.to_string()), Some(note));
        }
        return (Body::Json(value), None);
    }
    let textual = mime.is_empty()
        || mime.starts_with("text/")
        || mime.contains("json")
        || mime.contains("xml")
        || mime.contains("javascript")
        || mime.contains("graphql");
    if text.contains('\0') || !textual {
        let note = format!(
            "binary body ({}, {} bytes as recorded) not imported: send it from a file with formData or a processor",
            if mime.is_empty() { "no content type" } else { &mime },
            text.len()
        );
        return (Body::None, Some(note));
    }
    (Body::Text(text.to_string()), None)
}

/// The deepest JSON body written as YAML: the script around it adds 6 levels, and scripts refuse
/// lists and maps nested more than 64 deep.
const MAX_JSON_DEPTH: usize = 50;

/// How deep lists and maps nest in `value` (a scalar is 0).
fn depth(value: &Value) -> usize {
    match value {
        Value::Array(items) => 1 + items.iter().map(depth).max().unwrap_or(0),
        Value::Object(map) => 1 + map.values().map(depth).max().unwrap_or(0),
        _ => 0,
    }
}

/// Decodes form-urlencoded text: `+` is a space, `%XX` a byte; bad escapes stay as they are.
pub(crate) fn decode_form(raw: &str) -> String {
    percent_decode(&raw.replace('+', " "))
}

/// Decodes `%XX` escapes; bad escapes stay as they are.
pub(crate) fn percent_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(byte) = bytes
                .get(i + 1..i + 3)
                .and_then(|h| std::str::from_utf8(h).ok())
                .and_then(|h| u8::from_str_radix(h, 16).ok())
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}
