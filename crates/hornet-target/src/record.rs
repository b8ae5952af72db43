//! The request log of a recording target: what it received, summarised per route, and the generic
//! JSON answer it gives to paths it does not know.
//!
//! A route is the method and the path with every segment that holds a digit replaced by `{n}`, so
//! `GET /users/17` and `GET /users/42` count together. For each route the log keeps how many requests
//! came and, per field (a header, a query parameter, a cookie, a top-level key of a JSON or form
//! body), how many requests carried it and up to [`MAX_VALUES`] of the distinct values seen.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Mutex;

use http::request::Parts;
use serde_json::{Map, Value, json};

/// Distinct values kept per field; further ones only set `more`.
pub const MAX_VALUES: usize = 8;
/// Longest value kept, in characters; longer ones are cut.
const MAX_VALUE_CHARS: usize = 200;
/// The path of the admin endpoint that reads (GET) or clears (DELETE) the log.
pub const LOG_PATH: &str = "/_hornet/requests";

/// The path that reads (GET) or clears (DELETE) the trace contexts received.
pub const TRACES_PATH: &str = "/_hornet/traceparents";
/// Trace contexts kept; later ones are counted but not kept.
pub const MAX_TRACES: usize = 200_000;

/// Everything a recording target received since it started or was last cleared.
#[derive(Debug, Default)]
pub struct RequestLog {
    routes: Mutex<BTreeMap<String, RouteRecord>>,
    traces: Mutex<TraceLog>,
}

/// Every `traceparent` received, in order of arrival (up to [`MAX_TRACES`]).
#[derive(Debug, Default)]
struct TraceLog {
    received: Vec<TraceContext>,
    dropped: u64,
}

/// The trace context of one request: its `traceparent` and `baggage` headers, as received.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TraceContext {
    /// `METHOD /path` (the path as sent, without the query).
    pub request: String,
    /// The `traceparent` header.
    pub traceparent: String,
    /// The `baggage` header, when there was one.
    pub baggage: Option<String>,
}

/// The requests of one route.
#[derive(Debug, Default)]
struct RouteRecord {
    count: u64,
    fields: BTreeMap<String, FieldRecord>,
}

/// One field of the requests of a route.
#[derive(Debug, Default)]
struct FieldRecord {
    count: u64,
    values: BTreeSet<String>,
    more: bool,
}

impl RequestLog {
    /// Notes the trace context of a request (a WebSocket upgrade's too), if it has one.
    pub(crate) fn record_trace_context(&self, method: &http::Method, path: &str, headers: &http::HeaderMap) {
        let Some(traceparent) = headers.get("traceparent") else { return };
        let text = |v: &http::HeaderValue| String::from_utf8_lossy(v.as_bytes()).into_owned();
        let mut traces = self.traces.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        if traces.received.len() < MAX_TRACES {
            traces.received.push(TraceContext {
                request: format!("{method} {path}"),
                traceparent: text(traceparent),
                baggage: headers.get("baggage").map(text),
            });
        } else {
            traces.dropped += 1;
        }
    }

    /// Notes one request with its whole body.
    pub(crate) fn record(&self, parts: &Parts, body: &[u8]) {
        self.record_trace_context(&parts.method, parts.uri.path(), &parts.headers);
        let route = route_key(parts.method.as_str(), parts.uri.path());
        let fields = request_fields(parts, body);
        let mut routes = self.routes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let record = routes.entry(route).or_default();
        record.count += 1;
        for (name, value) in fields {
            let field = record.fields.entry(name).or_default();
            field.count += 1;
            if field.values.contains(&value) {
                continue;
            }
            if field.values.len() < MAX_VALUES {
                field.values.insert(value);
            } else {
                field.more = true;
            }
        }
    }

    /// The log as JSON: `{"total": n, "routes": {"GET /path": {"count": n, "fields": {...}}}}`.
    pub fn summary(&self) -> Value {
        let routes = self.routes.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut total = 0;
        let mut doc = Map::new();
        for (route, record) in routes.iter() {
            total += record.count;
            let fields: Map<String, Value> = record
                .fields
                .iter()
                .map(|(name, f)| {
                    (name.clone(), json!({ "count": f.count, "values": f.values, "more": f.more }))
                })
                .collect();
            doc.insert(route.clone(), json!({ "count": record.count, "fields": fields }));
        }
        json!({ "total": total, "routes": doc })
    }

    /// Every trace context received, in order of arrival (at most [`MAX_TRACES`]).
    pub fn trace_contexts(&self) -> Vec<TraceContext> {
        self.traces.lock().unwrap_or_else(std::sync::PoisonError::into_inner).received.clone()
    }

    /// The trace contexts as JSON: `{"received": [{request, traceparent, baggage}], "dropped": n}`.
    pub fn traces_json(&self) -> Value {
        let traces = self.traces.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
        let received: Vec<Value> = traces
            .received
            .iter()
            .map(|t| json!({ "request": t.request, "traceparent": t.traceparent, "baggage": t.baggage }))
            .collect();
        json!({ "received": received, "dropped": traces.dropped })
    }

    /// Forgets everything recorded so far.
    pub fn clear(&self) {
        self.routes.lock().unwrap_or_else(std::sync::PoisonError::into_inner).clear();
        *self.traces.lock().unwrap_or_else(std::sync::PoisonError::into_inner) = TraceLog::default();
    }
}

/// `METHOD /path` with every path segment that holds a digit replaced by `{n}`.
pub fn route_key(method: &str, path: &str) -> String {
    let path: Vec<&str> = path
        .split('/')
        .map(|seg| if seg.bytes().any(|b| b.is_ascii_digit()) { "{n}" } else { seg })
        .collect();
    format!("{method} {}", path.join("/"))
}

/// The fields of one request: `header:NAME` (all but `host`), `cookie:NAME`, `query:KEY`, and for the
/// body `json:KEY` (top-level keys of an object; `json:$` for any other JSON), `form:KEY`, or
/// `body:text`.
fn request_fields(parts: &Parts, body: &[u8]) -> Vec<(String, String)> {
    let mut fields = Vec::new();
    let mut headers: BTreeMap<&str, String> = BTreeMap::new();
    for (name, value) in &parts.headers {
        if name == http::header::HOST {
            continue;
        }
        let value = String::from_utf8_lossy(value.as_bytes());
        headers
            .entry(name.as_str())
            .and_modify(|joined| {
                joined.push_str(", ");
                joined.push_str(&value);
            })
            .or_insert_with(|| value.into_owned());
    }
    if let Some(cookies) = headers.get("cookie") {
        for pair in cookies.split(';') {
            let (name, value) = pair.trim().split_once('=').unwrap_or((pair.trim(), ""));
            if !name.is_empty() {
                fields.push((format!("cookie:{name}"), cut(value)));
            }
        }
    }
    for (name, value) in headers {
        fields.push((format!("header:{name}"), cut(&value)));
    }
    if let Some(query) = parts.uri.query() {
        for (key, value) in form_pairs(query) {
            fields.push((format!("query:{key}"), cut(&value)));
        }
    }
    if body.is_empty() {
        return fields;
    }
    let content_type = parts
        .headers
        .get(http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .to_ascii_lowercase();
    if let Ok(doc) = serde_json::from_slice::<Value>(body) {
        match doc {
            Value::Object(map) => {
                for (key, value) in map {
                    fields.push((format!("json:{key}"), cut(&value.to_string())));
                }
            }
            other => fields.push(("json:$".to_owned(), cut(&other.to_string()))),
        }
    } else if content_type.contains("x-www-form-urlencoded") {
        for (key, value) in form_pairs(&String::from_utf8_lossy(body)) {
            fields.push((format!("form:{key}"), cut(&value)));
        }
    } else {
        fields.push(("body:text".to_owned(), cut(&String::from_utf8_lossy(body))));
    }
    fields
}

/// The decoded `key=value` pairs of a query string or form body.
fn form_pairs(text: &str) -> Vec<(String, String)> {
    text.split('&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
            (crate::routes::form_decode(key), crate::routes::form_decode(value))
        })
        .collect()
}

/// `value` cut to [`MAX_VALUE_CHARS`] characters.
fn cut(value: &str) -> String {
    match value.char_indices().nth(MAX_VALUE_CHARS) {
        Some((end, _)) => value[..end].to_owned(),
        None => value.to_owned(),
    }
}

/// The answer of a recording target to a path it does not know: an httpbin-like echo of the request
/// (`method`, `url`, `args`, `headers` with Title-Case names, `json`) merged with the fields scripts
/// commonly capture (`id`, `token`, `access_token`, `data`, `items`, `user`, ...), all fixed so that
/// two clients sending the same requests receive the same answers.
pub(crate) fn generic_answer(parts: &Parts, body: &[u8]) -> Value {
    let items: Vec<Value> = (1..=3).map(|id| json!({ "id": id, "name": format!("item {id}") })).collect();
    let args: Map<String, Value> = parts
        .uri
        .query()
        .map(form_pairs)
        .unwrap_or_default()
        .into_iter()
        .map(|(k, v)| (k, Value::String(v)))
        .collect();
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes()).into_owned();
        headers.insert(title_case(name.as_str()), Value::String(value));
    }
    let sent_json = serde_json::from_slice::<Value>(body).unwrap_or(Value::Null);
    json!({
        "method": parts.method.as_str(),
        "url": parts.uri.to_string(),
        "args": args,
        "headers": headers,
        "json": sent_json,
        "id": 1,
        "ok": true,
        "success": true,
        "status": "ok",
        "message": "ok",
        "error": "none",
        "title": "hornet target",
        "name": "hornet",
        "symbol": "HRNT",
        "currentState": "online",
        "token": "corpus-token",
        "access_token": "corpus-access-token",
        "accessToken": "corpus-access-token",
        "refresh_token": "corpus-refresh-token",
        "expires_in": 3600,
        "count": 3,
        "length": 3,
        "total": 3,
        "user": { "id": 1, "email": "user@example.com", "name": "user", "token": "corpus-token" },
        "data": {
            "id": 1,
            "token": "corpus-token",
            "status": "ok",
            "all": 3,
            "total_threats": 3,
            "balance": 100,
            "items": items,
        },
        "meta": { "total": 3, "page": 1 },
        "items": items,
        "results": items,
    })
}

/// `content-type` as `Content-Type`.
fn title_case(name: &str) -> String {
    name.split('-')
        .map(|word| {
            let mut chars = word.chars();
            match chars.next() {
                Some(first) => first.to_ascii_uppercase().to_string() + chars.as_str(),
                None => String::new(),
            }
        })
        .collect::<Vec<_>>()
        .join("-")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parts(method: &str, uri: &str, headers: &[(&str, &str)]) -> Parts {
        let mut builder = http::Request::builder().method(method).uri(uri);
        for (name, value) in headers {
            builder = builder.header(*name, *value);
        }
        builder.body(()).unwrap().into_parts().0
    }

    #[test]
    fn routes_fold_segments_with_digits() {
        assert_eq!(route_key("GET", "/users/17/posts"), "GET /users/{n}/posts");
        assert_eq!(route_key("GET", "/api/v1/items"), "GET /api/{n}/items");
        assert_eq!(route_key("POST", "/"), "POST /");
        assert_eq!(route_key("PUT", "/a/b/"), "PUT /a/b/");
    }

    #[test]
    fn log_counts_routes_and_keeps_distinct_values() {
        let log = RequestLog::default();
        let json_type = ("content-type", "application/json");
        log.record(&parts("POST", "/users/1?page=2", &[json_type]), br#"{"name":"a","n":1}"#);
        log.record(&parts("POST", "/users/2?page=2", &[json_type]), br#"{"name":"b","n":1}"#);
        log.record(&parts("GET", "/", &[("cookie", "state=online; x=1"), ("host", "h")]), b"");
        let doc = log.summary();
        assert_eq!(doc["total"], 3);
        let users = &doc["routes"]["POST /users/{n}"];
        assert_eq!(users["count"], 2);
        assert_eq!(users["fields"]["query:page"]["values"], json!(["2"]));
        assert_eq!(users["fields"]["json:name"]["values"], json!(["\"a\"", "\"b\""]));
        assert_eq!(users["fields"]["json:n"]["count"], 2);
        assert_eq!(users["fields"]["header:content-type"]["values"], json!(["application/json"]));
        let root = &doc["routes"]["GET /"]["fields"];
        assert_eq!(root["cookie:state"]["values"], json!(["online"]));
        assert!(root.get("header:host").is_none(), "{root}");
        log.clear();
        assert_eq!(log.summary(), json!({"total": 0, "routes": {}}));
    }

    #[test]
    fn values_beyond_the_cap_only_set_more() {
        let log = RequestLog::default();
        for i in 0..=MAX_VALUES {
            log.record(&parts("GET", &format!("/s?q={i}"), &[]), b"");
        }
        let field = &log.summary()["routes"]["GET /s"]["fields"]["query:q"];
        assert_eq!(field["count"], MAX_VALUES + 1);
        assert_eq!(field["values"].as_array().map(Vec::len), Some(MAX_VALUES));
        assert_eq!(field["more"], true);
    }

    #[test]
    fn form_and_text_bodies() {
        let log = RequestLog::default();
        let form = ("content-type", "application/x-www-form-urlencoded");
        log.record(&parts("POST", "/f", &[form]), b"user=a%40b&x=1+2");
        log.record(&parts("POST", "/t", &[]), b"plain words");
        log.record(&parts("POST", "/j", &[]), b"[1,2]");
        let doc = log.summary();
        assert_eq!(doc["routes"]["POST /f"]["fields"]["form:user"]["values"], json!(["a@b"]));
        assert_eq!(doc["routes"]["POST /f"]["fields"]["form:x"]["values"], json!(["1 2"]));
        assert_eq!(doc["routes"]["POST /t"]["fields"]["body:text"]["values"], json!(["plain words"]));
        assert_eq!(doc["routes"]["POST /j"]["fields"]["json:$"]["values"], json!(["[1,2]"]));
    }

    #[test]
    fn generic_answer_echoes_and_carries_common_fields() {
        let p = parts("POST", "/x?a=1", &[("content-type", "application/json")]);
        let doc = generic_answer(&p, br#"{"k":"v"}"#);
        assert_eq!(doc["args"], json!({"a": "1"}));
        assert_eq!(doc["headers"]["Content-Type"], "application/json");
        assert_eq!(doc["json"], json!({"k": "v"}));
        assert_eq!(doc["token"], "corpus-token");
        assert_eq!(doc["data"]["items"][0]["id"], 1);
    }
}
