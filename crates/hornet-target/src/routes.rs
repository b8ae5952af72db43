//! Request routing, the endpoint handlers and the server-wide stall state.

use std::cell::RefCell;
use std::convert::Infallible;
use std::ops::RangeInclusive;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use http::header::{ALLOW, CONTENT_TYPE, SET_COOKIE};
use http::{HeaderValue, Method, Request, Response, StatusCode};
use http_body_util::{BodyExt, LengthLimitError, Limited};
use hyper::body::Incoming;
use rand::rngs::SmallRng;
use rand::{Rng, SeedableRng};
use serde_json::{Map, Value, json};

use crate::body::TargetBody;
use crate::record::{LOG_PATH, RequestLog, generic_answer};

/// Longest accepted `/delay/{ms}` or `/stall/{ms}` (10 minutes).
pub(crate) const MAX_WAIT_MS: u64 = 600_000;
/// Largest `/bytes/{n}` body (100 MiB).
pub(crate) const MAX_BYTES: u64 = 100 * 1024 * 1024;
/// Largest request body `/echo` and `/login` read (10 MiB); above it they answer 413.
const MAX_REQUEST_BODY: usize = 10 * 1024 * 1024;
/// Ids `/items/{id}` knows.
const ITEM_IDS: RangeInclusive<u32> = 1..=1000;
/// Items listed by `/items`.
const LISTED_ITEMS: u32 = 10;
/// `/flaky` failure probability when `p` is absent or unparsable.
const DEFAULT_FLAKY_P: f64 = 0.1;

/// Content type of text responses.
const TEXT: &str = "text/plain; charset=utf-8";
/// Content type of JSON responses.
const JSON: &str = "application/json";
/// Content type of `/bytes/{n}`.
const BINARY: &str = "application/octet-stream";

/// Body of `GET /`.
const ROOT_BODY: &str = "hornet target\n";
/// Body of `GET /json`.
const JSON_BODY: &str = r#"{"name":"hornet","items":[1,2,3],"ok":true}"#;

/// The `/items` document, rendered once.
/// Most redirects `/redirect/{n}` will do.
const MAX_REDIRECTS: u32 = 100;
const HTML: &str = "text/html; charset=utf-8";
/// The `/html` page.
const HTML_BODY: &str = "<!doctype html>\n<html><head><title>hornet items</title></head><body>\n\
<ul><li><a class=\"item\" href=\"/items/1\" data-id=\"1\">item 1</a></li>\n\
<li><a class=\"item\" href=\"/items/2\" data-id=\"2\">item 2</a></li>\n\
<li><a class=\"item\" href=\"/items/3\" data-id=\"3\">item 3</a></li></ul>\n\
<form><input type=\"hidden\" name=\"csrf\" value=\"csrf-token-42\"></form>\n</body></html>\n";

/// The `/json` body, gzip-compressed once.
static GZIP_BODY: LazyLock<Bytes> = LazyLock::new(|| {
    use std::io::Write;
    let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    // Writing to a Vec cannot fail.
    let _ = enc.write_all(JSON_BODY.as_bytes());
    Bytes::from(enc.finish().unwrap_or_default())
});

static ITEMS: LazyLock<Bytes> = LazyLock::new(|| {
    let items: Vec<Value> = (1..=LISTED_ITEMS).map(item).collect();
    Bytes::from(json!({ "items": items }).to_string())
});

thread_local! {
    /// Per-thread fast RNG for `/flaky`, tokens and session ids (not cryptographic: this is a test server).
    static RNG: RefCell<SmallRng> = RefCell::new(
        SmallRng::try_from_os_rng().unwrap_or_else(|_| SmallRng::seed_from_u64(clock_seed())),
    );
}

/// Fallback RNG seed when the OS generator is unavailable.
fn clock_seed() -> u64 {
    // Truncating the nanosecond count is fine for a seed.
    SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)
}

/// State shared by all connections of one server.
#[derive(Debug)]
pub(crate) struct State {
    /// Reference point for `stalled_until`.
    epoch: Instant,
    /// Nanoseconds after `epoch` until which responses are held back; 0 when no stall is pending.
    stalled_until: AtomicU64,
    /// The `/ws/broadcast` clients' channel.
    hub: Arc<crate::ws::Hub>,
    /// What the server received, when it records (see [`crate::record`]).
    pub(crate) log: Option<RequestLog>,
    /// The worker pools of `/capacity` (see [`crate::capacity`]).
    capacity: crate::capacity::Pools,
    /// The `/app/` web application, shared with a second host that serves it too.
    pub(crate) app: Arc<crate::app::App>,
}

impl State {
    /// Fresh state with no stall.
    pub(crate) fn new() -> Self {
        Self {
            epoch: Instant::now(),
            stalled_until: AtomicU64::new(0),
            hub: Arc::new(crate::ws::Hub::new()),
            log: None,
            capacity: crate::capacity::Pools::default(),
            app: Arc::default(),
        }
    }

    /// Fresh state that records every request and answers unknown paths with a generic document.
    pub(crate) fn recording() -> Self {
        Self { log: Some(RequestLog::default()), ..Self::new() }
    }

    /// Holds back every response until `wait` from now (a longer pending stall wins).
    fn stall(&self, wait: Duration) {
        let until = self.epoch.elapsed().saturating_add(wait).as_nanos();
        let until = u64::try_from(until).unwrap_or(u64::MAX).max(1);
        self.stalled_until.fetch_max(until, Ordering::Relaxed);
    }

    /// Waits until no stall is pending; clears a stall once it is over so later responses skip the clock.
    async fn wait_stall(&self) {
        loop {
            let until = self.stalled_until.load(Ordering::Relaxed);
            if until == 0 {
                return;
            }
            let Some(deadline) = self.epoch.checked_add(Duration::from_nanos(until)) else { return };
            if Instant::now() < deadline {
                tokio::time::sleep_until(deadline.into()).await;
            } else if self
                .stalled_until
                .compare_exchange(until, 0, Ordering::Relaxed, Ordering::Relaxed)
                .is_ok()
            {
                return;
            }
            // Otherwise a newer stall arrived meanwhile: honour it too.
        }
    }
}

/// What a request asks for; `None` arguments are invalid ones.
#[derive(Debug, PartialEq)]
enum Route {
    /// `/`
    Root,
    /// `/json`
    Json,
    /// `/delay/{ms}`
    Delay(Option<Duration>),
    /// `/status/{code}`
    Status(Option<StatusCode>),
    /// `/bytes/{n}`
    Bytes(Option<u64>),
    /// `/echo` and anything below it
    Echo,
    /// `/login`
    Login,
    /// `/items`
    Items,
    /// `/items/{id}`
    Item(Option<u32>),
    /// `/flaky?p=`, with the clamped probability
    Flaky(f64),
    /// `/stall/{ms}`
    Stall(Option<Duration>),
    /// `/redirect/{n}`: redirects n times, then answers 200
    Redirect(Option<u32>),
    /// `/gzip`: the `/json` body, gzip-compressed
    Gzip,
    /// `/html`: a small HTML page (for CSS-selector captures)
    Html,
    /// `/capacity?workers=N&ms=S`: known capacity (see [`crate::capacity`])
    Capacity,
    /// `/app` and below: the web application of [`crate::app`]
    App,
    /// Anything else
    NotFound,
}

impl Route {
    /// Routes a request by its path and query.
    fn parse(path: &str, query: Option<&str>) -> Self {
        let path = path.strip_prefix('/').unwrap_or(path);
        let (head, arg) = match path.split_once('/') {
            Some((head, arg)) => (head, Some(arg)),
            None => (path, None),
        };
        match (head, arg) {
            ("", None) => Self::Root,
            ("json", None) => Self::Json,
            ("delay", Some(ms)) => Self::Delay(parse_wait(ms)),
            ("status", Some(code)) => Self::Status(parse_status(code)),
            ("bytes", Some(n)) => Self::Bytes(n.parse().ok().filter(|&n| n <= MAX_BYTES)),
            ("echo", _) => Self::Echo,
            ("login", None) => Self::Login,
            ("items", None) => Self::Items,
            ("items", Some(id)) => Self::Item(id.parse().ok().filter(|id| ITEM_IDS.contains(id))),
            ("flaky", None) => Self::Flaky(flaky_p(query)),
            ("stall", Some(ms)) => Self::Stall(parse_wait(ms)),
            ("redirect", Some(n)) => Self::Redirect(n.parse().ok().filter(|&n| n <= MAX_REDIRECTS)),
            ("gzip", None) => Self::Gzip,
            ("html", None) => Self::Html,
            ("capacity", None) => Self::Capacity,
            ("app", _) => Self::App,
            _ => Self::NotFound,
        }
    }
}

/// A wait in milliseconds, up to [`MAX_WAIT_MS`].
fn parse_wait(ms: &str) -> Option<Duration> {
    ms.parse().ok().filter(|&ms| ms <= MAX_WAIT_MS).map(Duration::from_millis)
}

/// A status code in 200..=599.
fn parse_status(code: &str) -> Option<StatusCode> {
    code.parse::<u16>().ok().filter(|c| (200..=599).contains(c)).and_then(|c| StatusCode::from_u16(c).ok())
}

/// The `p` query parameter clamped to [0, 1], or the default when absent or not a number.
fn flaky_p(query: Option<&str>) -> f64 {
    query
        .and_then(|q| query_param(q, "p"))
        .and_then(|p| p.parse::<f64>().ok())
        .filter(|p| !p.is_nan())
        .map_or(DEFAULT_FLAKY_P, |p| p.clamp(0.0, 1.0))
}

/// The raw value of the first `name=value` pair called `name` (split on `&` and `=`, no decoding).
pub(crate) fn query_param<'a>(query: &'a str, name: &str) -> Option<&'a str> {
    query.split('&').find_map(|pair| {
        let (key, value) = pair.split_once('=').unwrap_or((pair, ""));
        (key == name).then_some(value)
    })
}

/// Decodes form-urlencoded text: `+` is a space, `%XX` a byte; malformed escapes are kept as they are.
pub(crate) fn form_decode(raw: &str) -> String {
    let bytes = raw.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'+' => out.push(b' '),
            b'%' => match bytes.get(i + 1..i + 3).and_then(hex_pair) {
                Some(byte) => {
                    out.push(byte);
                    i += 2;
                }
                None => out.push(b'%'),
            },
            byte => out.push(byte),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// The byte written as two hex digits.
fn hex_pair(pair: &[u8]) -> Option<u8> {
    let &[high, low] = pair else { return None };
    let digit = |d: u8| char::from(d).to_digit(16);
    // Each digit is < 16, so the result fits a byte.
    Some((digit(high)? * 16 + digit(low)?) as u8)
}

/// The JSON for item `id`.
fn item(id: u32) -> Value {
    json!({ "id": id, "name": format!("item {id}"), "price": f64::from(id * 1000 + 99) / 100.0 })
}

/// A response with a content type.
fn respond(status: StatusCode, content_type: &'static str, body: TargetBody) -> Response<TargetBody> {
    let mut response = Response::new(body);
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

/// A plain-text response with a static body.
fn text(status: StatusCode, body: &'static str) -> Response<TargetBody> {
    respond(status, TEXT, TargetBody::full(Bytes::from_static(body.as_bytes())))
}

/// Answers one request, holding the response back while a stall is pending.
pub(crate) async fn handle(
    req: Request<Incoming>,
    state: Arc<State>,
) -> Result<Response<TargetBody>, Infallible> {
    if let Some(endpoint) = crate::ws::route(req.uri().path(), req.uri().query()) {
        if let Some(log) = &state.log {
            log.record_trace_context(req.method(), req.uri().path(), req.headers());
        }
        return Ok(crate::ws::upgrade(req, endpoint, state.hub.clone()));
    }
    let (parts, body) = req.into_parts();
    let body = match &state.log {
        None => RequestBody::Streaming(body),
        Some(log) => {
            let bytes = match read_body(body).await {
                Ok(bytes) => bytes,
                Err(response) => return Ok(response),
            };
            if parts.uri.path() == LOG_PATH {
                return Ok(log_endpoint(&parts.method, log, RequestLog::summary));
            }
            if parts.uri.path() == crate::record::TRACES_PATH {
                return Ok(log_endpoint(&parts.method, log, RequestLog::traces_json));
            }
            log.record(&parts, &bytes);
            RequestBody::Buffered(bytes)
        }
    };
    let response = match Route::parse(parts.uri.path(), parts.uri.query()) {
        Route::Root => text(StatusCode::OK, ROOT_BODY),
        Route::Json => {
            respond(StatusCode::OK, JSON, TargetBody::full(Bytes::from_static(JSON_BODY.as_bytes())))
        }
        Route::Delay(Some(wait)) => {
            // From the request's arrival, to the microsecond: see crate::arrival.
            let received = parts
                .extensions
                .get::<crate::arrival::Received>()
                .map_or_else(tokio::time::Instant::now, |r| r.0);
            crate::arrival::wait_until(received + wait).await;
            text(StatusCode::OK, "ok\n")
        }
        Route::Status(Some(status)) => status_response(status),
        Route::Bytes(Some(len)) => respond(StatusCode::OK, BINARY, TargetBody::fill(len)),
        Route::Echo => echo(parts, body).await,
        Route::Login if parts.method == Method::POST => login(parts, body).await,
        Route::Login => {
            let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "method not allowed: use POST\n");
            response.headers_mut().insert(ALLOW, HeaderValue::from_static("POST"));
            response
        }
        Route::Items => respond(StatusCode::OK, JSON, TargetBody::full(ITEMS.clone())),
        Route::Item(Some(id)) => respond(StatusCode::OK, JSON, TargetBody::full(item(id).to_string())),
        Route::Flaky(p) if RNG.with_borrow_mut(|rng| rng.random::<f64>()) < p => {
            text(StatusCode::SERVICE_UNAVAILABLE, "unavailable\n")
        }
        Route::Flaky(_) => text(StatusCode::OK, "ok\n"),
        Route::Stall(Some(wait)) => {
            state.stall(wait);
            text(StatusCode::OK, "stalled\n")
        }
        Route::Redirect(Some(0)) => text(StatusCode::OK, "redirected\n"),
        Route::Redirect(Some(n)) => {
            let mut r = text(StatusCode::FOUND, "");
            if let Ok(location) = http::HeaderValue::from_str(&format!("/redirect/{}", n - 1)) {
                r.headers_mut().insert(http::header::LOCATION, location);
            }
            r
        }
        Route::Redirect(None) => text(StatusCode::BAD_REQUEST, "invalid count: expected 0..=100\n"),
        Route::Gzip => {
            let mut r = respond(StatusCode::OK, JSON, TargetBody::full(GZIP_BODY.clone()));
            r.headers_mut().insert(http::header::CONTENT_ENCODING, http::HeaderValue::from_static("gzip"));
            r
        }
        Route::Html => {
            respond(StatusCode::OK, HTML, TargetBody::full(Bytes::from_static(HTML_BODY.as_bytes())))
        }
        Route::App => match body.bytes().await {
            Ok(bytes) => {
                let request = crate::app::AppRequest {
                    method: &parts.method,
                    path: parts.uri.path(),
                    headers: &parts.headers,
                    body: &bytes,
                };
                crate::app::handle(&state.app, &request)
            }
            Err(response) => response,
        },
        Route::Capacity => {
            let (status, body) = crate::capacity::serve(parts.uri.query(), &state.capacity).await;
            respond(status, JSON, TargetBody::full(body))
        }
        Route::Delay(None) | Route::Stall(None) => {
            text(StatusCode::BAD_REQUEST, "invalid wait: expected 0..=600000 milliseconds\n")
        }
        Route::Status(None) => text(StatusCode::BAD_REQUEST, "invalid status: expected 200..=599\n"),
        Route::Bytes(None) => text(StatusCode::BAD_REQUEST, "invalid size: expected 0..=104857600 bytes\n"),
        Route::NotFound => match &body {
            RequestBody::Buffered(bytes) => {
                respond(StatusCode::OK, JSON, TargetBody::full(generic_answer(&parts, bytes).to_string()))
            }
            RequestBody::Streaming(_) => text(StatusCode::NOT_FOUND, "not found\n"),
        },
        Route::Item(None) => text(StatusCode::NOT_FOUND, "not found\n"),
    };
    state.wait_stall().await;
    Ok(response)
}

/// `/status/{code}`: that status, with the reason phrase as body where a body is allowed.
fn status_response(status: StatusCode) -> Response<TargetBody> {
    let body = match status {
        StatusCode::NO_CONTENT | StatusCode::RESET_CONTENT | StatusCode::NOT_MODIFIED => TargetBody::empty(),
        _ => TargetBody::full(Bytes::from_static(status.canonical_reason().unwrap_or("").as_bytes())),
    };
    respond(status, TEXT, body)
}

/// Reads a whole request body, or gives the error response to send instead.
async fn read_body(body: Incoming) -> Result<Bytes, Response<TargetBody>> {
    match Limited::new(body, MAX_REQUEST_BODY).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(err) if err.is::<LengthLimitError>() => {
            Err(text(StatusCode::PAYLOAD_TOO_LARGE, "request body over 10 MiB\n"))
        }
        Err(_) => Err(text(StatusCode::BAD_REQUEST, "could not read the request body\n")),
    }
}

/// A request body: still to read, or already read by a recording server.
enum RequestBody {
    /// Not read yet.
    Streaming(Incoming),
    /// Read whole.
    Buffered(Bytes),
}

impl RequestBody {
    /// The whole body, or the error response to send instead.
    async fn bytes(self) -> Result<Bytes, Response<TargetBody>> {
        match self {
            Self::Streaming(body) => read_body(body).await,
            Self::Buffered(bytes) => Ok(bytes),
        }
    }
}

/// The admin endpoints of a recording server, `/_hornet/requests` (the log's summary) and
/// `/_hornet/traceparents` (every trace context received): GET reads what `read` gives, DELETE
/// clears the whole log (and answers what it held).
fn log_endpoint(
    method: &Method,
    log: &RequestLog,
    read: fn(&RequestLog) -> serde_json::Value,
) -> Response<TargetBody> {
    let summary = read(log);
    if method == Method::DELETE {
        log.clear();
    } else if method != Method::GET {
        let mut response = text(StatusCode::METHOD_NOT_ALLOWED, "use GET or DELETE\n");
        response.headers_mut().insert(ALLOW, HeaderValue::from_static("GET, DELETE"));
        return response;
    }
    respond(StatusCode::OK, JSON, TargetBody::full(summary.to_string()))
}

/// `/echo`: the request as JSON.
async fn echo(parts: http::request::Parts, body: RequestBody) -> Response<TargetBody> {
    let body = match body.bytes().await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let mut headers = Map::new();
    for (name, value) in &parts.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        match headers.get_mut(name.as_str()) {
            Some(Value::String(joined)) => {
                joined.push_str(", ");
                joined.push_str(&value);
            }
            _ => {
                headers.insert(name.as_str().to_owned(), Value::String(value.into_owned()));
            }
        }
    }
    let doc = json!({
        "method": parts.method.as_str(),
        "path": parts.uri.path(),
        "query": parts.uri.query().unwrap_or(""),
        "headers": headers,
        "body": String::from_utf8_lossy(&body),
    });
    respond(StatusCode::OK, JSON, TargetBody::full(doc.to_string()))
}

/// `POST /login`: a random token for any credentials, and a session cookie.
async fn login(parts: http::request::Parts, body: RequestBody) -> Response<TargetBody> {
    let body = match body.bytes().await {
        Ok(body) => body,
        Err(response) => return response,
    };
    let json_type = parts
        .headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|content_type| content_type.contains("json"));
    let user = if json_type || body.trim_ascii_start().starts_with(b"{") {
        json_username(&body)
    } else {
        form_username(&body)
    };
    let user = user.filter(|u| !u.is_empty()).unwrap_or_else(|| "anonymous".to_owned());
    let (token, session) = RNG.with_borrow_mut(|rng| (rng.random::<u128>(), rng.random::<u128>()));
    let doc = json!({ "token": format!("tok-{token:032x}"), "user": user });
    let mut response = respond(StatusCode::OK, JSON, TargetBody::full(doc.to_string()));
    // Hex digits and ASCII punctuation always make a valid header value.
    if let Ok(cookie) = HeaderValue::try_from(format!("session={session:032x}; Path=/; HttpOnly")) {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}

/// `username` from a JSON object body.
fn json_username(body: &[u8]) -> Option<String> {
    let doc: Value = serde_json::from_slice(body).ok()?;
    doc.get("username")?.as_str().map(str::to_owned)
}

/// `username` from a form-urlencoded body.
fn form_username(body: &[u8]) -> Option<String> {
    query_param(std::str::from_utf8(body).ok()?, "username").map(form_decode)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_paths_and_arguments() {
        let ms = Duration::from_millis;
        assert_eq!(Route::parse("/", None), Route::Root);
        assert_eq!(Route::parse("/json", None), Route::Json);
        assert_eq!(Route::parse("/delay/25", None), Route::Delay(Some(ms(25))));
        assert_eq!(Route::parse("/delay/x", None), Route::Delay(None));
        assert_eq!(Route::parse("/delay/600001", None), Route::Delay(None));
        assert_eq!(Route::parse("/status/418", None), Route::Status(Some(StatusCode::IM_A_TEAPOT)));
        assert_eq!(Route::parse("/status/199", None), Route::Status(None));
        assert_eq!(Route::parse("/status/600", None), Route::Status(None));
        assert_eq!(Route::parse("/bytes/104857600", None), Route::Bytes(Some(MAX_BYTES)));
        assert_eq!(Route::parse("/bytes/104857601", None), Route::Bytes(None));
        assert_eq!(Route::parse("/bytes/-1", None), Route::Bytes(None));
        assert_eq!(Route::parse("/echo", None), Route::Echo);
        assert_eq!(Route::parse("/echo/a/b", None), Route::Echo);
        assert_eq!(Route::parse("/login", None), Route::Login);
        assert_eq!(Route::parse("/items", None), Route::Items);
        assert_eq!(Route::parse("/items/1000", None), Route::Item(Some(1000)));
        assert_eq!(Route::parse("/items/0", None), Route::Item(None));
        assert_eq!(Route::parse("/items/1001", None), Route::Item(None));
        assert_eq!(Route::parse("/stall/10", None), Route::Stall(Some(ms(10))));
        assert_eq!(Route::parse("/json/", None), Route::NotFound);
        assert_eq!(Route::parse("/nope", None), Route::NotFound);
        assert_eq!(Route::parse("/delay", None), Route::NotFound);
    }

    #[test]
    fn flaky_probability_defaults_and_clamps() {
        assert_eq!(Route::parse("/flaky", None), Route::Flaky(0.1));
        assert_eq!(Route::parse("/flaky", Some("x=1&p=0.25")), Route::Flaky(0.25));
        assert_eq!(Route::parse("/flaky", Some("p=7")), Route::Flaky(1.0));
        assert_eq!(Route::parse("/flaky", Some("p=-1")), Route::Flaky(0.0));
        assert_eq!(Route::parse("/flaky", Some("p=NaN")), Route::Flaky(0.1));
        assert_eq!(Route::parse("/flaky", Some("p=abc")), Route::Flaky(0.1));
    }

    #[test]
    fn query_params_split_on_ampersand_and_equals() {
        assert_eq!(query_param("a=1&b=2&a=3", "a"), Some("1"));
        assert_eq!(query_param("a=1&flag&b=", "flag"), Some(""));
        assert_eq!(query_param("a=1&b=", "b"), Some(""));
        assert_eq!(query_param("a=1", "c"), None);
    }

    #[test]
    fn form_decoding() {
        assert_eq!(form_decode("bob%40example.com"), "bob@example.com");
        assert_eq!(form_decode("a+b%20c"), "a b c");
        assert_eq!(form_decode("100%"), "100%");
        assert_eq!(form_decode("%zz%4"), "%zz%4");
        assert_eq!(form_decode("%C3%A9"), "é");
        assert_eq!(form_username(b"password=x&username=al%2Bice"), Some("al+ice".to_owned()));
        assert_eq!(json_username(br#"{"username":"carol","password":"x"}"#), Some("carol".to_owned()));
        assert_eq!(json_username(b"{not json"), None);
    }

    #[test]
    fn items_list_has_ten_priced_items() {
        let doc: Value = serde_json::from_slice(&ITEMS).unwrap();
        let items = doc["items"].as_array().unwrap();
        assert_eq!(items.len(), 10);
        assert_eq!(items[0], json!({"id": 1, "name": "item 1", "price": 10.99}));
        assert_eq!(items[9]["id"], 10);
    }

    #[tokio::test]
    async fn stall_holds_responses_until_over_then_clears() {
        let state = State::new();
        state.wait_stall().await;
        let start = Instant::now();
        state.stall(Duration::from_millis(100));
        state.stall(Duration::from_millis(20)); // a shorter stall does not cut the longer one
        state.wait_stall().await;
        assert!(start.elapsed() >= Duration::from_millis(100));
        assert_eq!(state.stalled_until.load(Ordering::Relaxed), 0);
    }
}
