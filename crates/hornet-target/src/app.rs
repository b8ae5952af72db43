//! `/app/`: a small web application for recording a browser session and importing it
//! (`hornet import har`). Every value a later request needs comes from an earlier response and
//! is checked, so a replay with stale values fails:
//!
//! - `GET /app/`: a login form with a fresh CSRF token in a hidden input, a style sheet, a script
//!   and an image;
//! - `POST /app/login` (form: `csrf`, `username`, `password`): the CSRF token must be one this
//!   server issued (each works once); sets the session cookie `sid` and redirects (303) to
//!   `/app/home`;
//! - `GET /app/home`: links to the session's orders, `/app/orders/{id}` with random ids;
//! - `GET /app/orders/{id}`: the order page, whose script logs in to the JSON API
//!   (`POST /app/api/login` → `{"token": ...}`), reads `GET /app/api/orders/{id}/items` and posts
//!   `POST /app/api/cart` with the bearer token and an item's `sku`; the API is served by the second
//!   host when there is one ([`App::set_api_origin`]), with CORS; and a checkout form with the
//!   session's own CSRF token;
//! - `POST /app/orders/{id}/checkout` → 303 to `/app/done/{confirmation}`.
//!
//! Pages need the `sid` cookie (401 without a live one), orders must belong to the session (404),
//! API calls a live bearer token (401), a cart an item the API listed (422). [`App::log`] lists the
//! requests the application answered, by route, with their status (static files and CORS
//! preflights left out), so a test can compare a recording with its replay.

use std::collections::{HashMap, HashSet};
use std::sync::{Mutex, PoisonError};

use bytes::Bytes;
use http::header::{CONTENT_TYPE, COOKIE, LOCATION, SET_COOKIE};
use http::{HeaderValue, Method, Response, StatusCode};
use rand::Rng;
use serde_json::{Value, json};

use crate::body::TargetBody;
use crate::routes::{form_decode, query_param};

/// The password the application accepts (any user name).
pub const PASSWORD: &str = "hornet-pass";
/// Orders each session gets.
const ORDERS_PER_SESSION: usize = 3;
/// Most requests [`App::log`] keeps.
const MAX_LOG: usize = 10_000;

/// A 1x1 transparent PNG.
const LOGO_PNG: &[u8] = &[
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00,
    0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x06, 0x00, 0x00, 0x00, 0x1f, 0x15, 0xc4, 0x89, 0x00,
    0x00, 0x00, 0x0d, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0x00, 0x01, 0x00, 0x00, 0x05, 0x00, 0x01,
    0x0d, 0x0a, 0x2d, 0xb4, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82,
];

const APP_CSS: &str = "body { font-family: sans-serif; margin: 2em; }\n.order { display: block; }\n";

/// The order page's script: the API calls a browser makes after the page loads.
const APP_JS: &str = r#"(async () => {
  const status = document.getElementById("status");
  if (!status) return;
  const api = document.body.dataset.api || "";
  const order = document.body.dataset.order;
  try {
    const login = await fetch(api + "/app/api/login", {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ username: "alice", password: "hornet-pass" }),
    });
    const { token } = await login.json();
    const auth = { authorization: "Bearer " + token };
    const items = await (await fetch(api + "/app/api/orders/" + order + "/items", { headers: auth })).json();
    const cart = await fetch(api + "/app/api/cart", {
      method: "POST",
      headers: { ...auth, "content-type": "application/json" },
      body: JSON.stringify({ order, sku: items.items[0].sku, quantity: 1 }),
    });
    status.textContent = cart.ok ? "added" : "failed " + cart.status;
  } catch (e) {
    status.textContent = "failed " + e;
  }
})();
"#;

/// One logged-in browser session.
#[derive(Debug)]
struct Session {
    user: String,
    orders: Vec<String>,
    checkout_csrf: String,
}

/// What the application remembers.
#[derive(Debug, Default)]
struct Memory {
    /// CSRF tokens of login forms handed out and not used yet.
    login_csrf: HashSet<String>,
    /// Sessions by `sid`.
    sessions: HashMap<String, Session>,
    /// Bearer tokens of the JSON API, with the user.
    tokens: HashMap<String, String>,
    /// Item SKUs the API listed, with their order.
    skus: HashMap<String, String>,
    /// Orders of every session, with their SKU.
    order_skus: HashMap<String, String>,
    /// Confirmation ids of checked-out orders.
    confirmations: HashSet<String>,
    /// Requests answered: `METHOD /route status`.
    log: Vec<String>,
}

/// The application's state: shared by the hosts that serve it.
#[derive(Debug, Default)]
pub struct App {
    memory: Mutex<Memory>,
    /// Where the order page sends its API calls (`http://host:port`); empty for its own host.
    api_origin: Mutex<String>,
}

impl App {
    /// Makes the order page call the JSON API at `origin` (a second host serving the same
    /// application) instead of its own host.
    pub fn set_api_origin(&self, origin: &str) {
        *self.api_origin.lock().unwrap_or_else(PoisonError::into_inner) =
            origin.trim_end_matches('/').to_string();
    }

    /// The requests answered so far, in order: `GET /app/orders/{id} 200`; static files and
    /// CORS preflights are left out.
    pub fn log(&self) -> Vec<String> {
        self.memory().log.clone()
    }

    fn memory(&self) -> std::sync::MutexGuard<'_, Memory> {
        self.memory.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// A random token: `bytes` random bytes in hex, then a decimal digit (so that it always holds one,
/// as generated ids do).
fn token(bytes: usize) -> String {
    let mut rng = rand::rng();
    let mut out: String = (0..bytes).map(|_| format!("{:02x}", rng.random::<u8>())).collect();
    out.push(char::from(b'0' + rng.random_range(0..10u8)));
    out
}

/// The request, as the application needs it.
pub(crate) struct AppRequest<'a> {
    pub method: &'a Method,
    pub path: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
}

/// Answers a request whose path starts with `/app`.
pub(crate) fn handle(app: &App, req: &AppRequest<'_>) -> Response<TargetBody> {
    let path = req.path.trim_end_matches('/');
    let segments: Vec<&str> = path.split('/').skip(2).collect();
    let api = segments.first() == Some(&"api");
    if api && req.method == Method::OPTIONS {
        return cors(empty(StatusCode::NO_CONTENT));
    }
    let (route, response) = match (req.method, segments.as_slice()) {
        (&Method::GET, ["static", "app.css"]) => return asset("text/css", APP_CSS.as_bytes()),
        (&Method::GET, ["static", "app.js"]) => return asset("text/javascript", APP_JS.as_bytes()),
        (&Method::GET, ["static", "logo.png"]) => return asset("image/png", LOGO_PNG),
        (&Method::GET, [] | [""]) => ("GET /app/", login_page(app)),
        (&Method::POST, ["login"]) => ("POST /app/login", login(app, req)),
        (&Method::GET, ["home"]) => ("GET /app/home", home(app, req)),
        (&Method::GET, ["orders", id]) => ("GET /app/orders/{id}", order_page(app, req, id)),
        (&Method::POST, ["orders", id, "checkout"]) => {
            ("POST /app/orders/{id}/checkout", checkout(app, req, id))
        }
        (&Method::GET, ["done", id]) => ("GET /app/done/{id}", done(app, req, id)),
        (&Method::POST, ["api", "login"]) => ("POST /app/api/login", cors(api_login(app, req))),
        (&Method::GET, ["api", "orders", id, "items"]) => {
            ("GET /app/api/orders/{id}/items", cors(api_items(app, req, id)))
        }
        (&Method::POST, ["api", "cart"]) => ("POST /app/api/cart", cors(api_cart(app, req))),
        _ => return text(StatusCode::NOT_FOUND, "no such page in the app\n"),
    };
    let mut memory = app.memory();
    if memory.log.len() < MAX_LOG {
        memory.log.push(format!("{route} {}", response.status().as_u16()));
    }
    response
}

fn respond(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Response<TargetBody> {
    let mut response = Response::new(TargetBody::full(body));
    *response.status_mut() = status;
    response.headers_mut().insert(CONTENT_TYPE, HeaderValue::from_static(content_type));
    response
}

fn text(status: StatusCode, body: &'static str) -> Response<TargetBody> {
    respond(status, "text/plain; charset=utf-8", body)
}

fn html(body: String) -> Response<TargetBody> {
    respond(StatusCode::OK, "text/html; charset=utf-8", body)
}

fn json_response(status: StatusCode, doc: &Value) -> Response<TargetBody> {
    respond(status, "application/json", doc.to_string())
}

fn empty(status: StatusCode) -> Response<TargetBody> {
    let mut response = Response::new(TargetBody::empty());
    *response.status_mut() = status;
    response
}

fn asset(content_type: &'static str, body: &'static [u8]) -> Response<TargetBody> {
    let mut response = respond(StatusCode::OK, content_type, Bytes::from_static(body));
    response.headers_mut().insert(http::header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response
}

fn redirect(to: &str) -> Response<TargetBody> {
    let mut response = empty(StatusCode::SEE_OTHER);
    if let Ok(location) = HeaderValue::from_str(to) {
        response.headers_mut().insert(LOCATION, location);
    }
    response
}

/// Lets pages of another origin call the API with a bearer token.
fn cors(mut response: Response<TargetBody>) -> Response<TargetBody> {
    let headers = response.headers_mut();
    headers.insert("access-control-allow-origin", HeaderValue::from_static("*"));
    headers.insert("access-control-allow-headers", HeaderValue::from_static("authorization, content-type"));
    headers.insert("access-control-allow-methods", HeaderValue::from_static("GET, POST, OPTIONS"));
    response
}

/// The page head with the app's style sheet, script and logo.
fn page(title: &str, body_attrs: &str, content: &str) -> String {
    format!(
        "<!doctype html>\n<html><head><title>{title}</title><link rel=\"stylesheet\" href=\"/app/static/app.css\">\
         <script src=\"/app/static/app.js\" defer></script></head>\n<body{body_attrs}>\n\
         <img src=\"/app/static/logo.png\" alt=\"\" width=\"1\" height=\"1\">\n<h1>{title}</h1>\n{content}\n</body></html>\n"
    )
}

fn login_page(app: &App) -> Response<TargetBody> {
    let csrf = token(16);
    app.memory().login_csrf.insert(csrf.clone());
    html(page(
        "Sign in",
        "",
        &format!(
            "<form method=\"post\" action=\"/app/login\">\n<input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\n\
             <input name=\"username\" id=\"username\"> <input name=\"password\" id=\"password\" type=\"password\">\n\
             <button id=\"sign-in\" type=\"submit\">Sign in</button>\n</form>"
        ),
    ))
}

/// The fields of a form-urlencoded body.
fn form_field(body: &[u8], name: &str) -> Option<String> {
    query_param(std::str::from_utf8(body).ok()?, name).map(form_decode)
}

fn login(app: &App, req: &AppRequest<'_>) -> Response<TargetBody> {
    let csrf = form_field(req.body, "csrf").unwrap_or_default();
    let user = form_field(req.body, "username").unwrap_or_default();
    let password = form_field(req.body, "password").unwrap_or_default();
    let mut memory = app.memory();
    if !memory.login_csrf.remove(&csrf) {
        return text(StatusCode::FORBIDDEN, "stale or missing CSRF token\n");
    }
    if user.is_empty() || password != PASSWORD {
        return text(StatusCode::UNAUTHORIZED, "wrong user name or password\n");
    }
    let sid = token(16);
    let orders: Vec<String> = (0..ORDERS_PER_SESSION).map(|_| format!("o{}", token(5))).collect();
    for order in &orders {
        memory.order_skus.insert(order.clone(), format!("sku-{}", token(4)));
    }
    memory.sessions.insert(sid.clone(), Session { user, orders, checkout_csrf: token(16) });
    drop(memory);
    let mut response = redirect("/app/home");
    if let Ok(cookie) = HeaderValue::from_str(&format!("sid={sid}; Path=/app; HttpOnly")) {
        response.headers_mut().insert(SET_COOKIE, cookie);
    }
    response
}

/// The `sid` cookie of a request.
fn sid(req: &AppRequest<'_>) -> Option<String> {
    req.headers.get_all(COOKIE).iter().filter_map(|v| v.to_str().ok()).flat_map(|v| v.split(';')).find_map(
        |pair| {
            let (name, value) = pair.trim().split_once('=')?;
            (name == "sid").then(|| value.to_string())
        },
    )
}

/// Runs `f` with the request's live session, or answers 401.
fn with_session(
    app: &App,
    req: &AppRequest<'_>,
    f: impl FnOnce(&Session, &mut Memory) -> Response<TargetBody>,
) -> Response<TargetBody> {
    let mut memory = app.memory();
    let Some(sid) = sid(req) else { return text(StatusCode::UNAUTHORIZED, "no session: sign in first\n") };
    let Some(session) = memory.sessions.remove(&sid) else {
        return text(StatusCode::UNAUTHORIZED, "stale session cookie\n");
    };
    let response = f(&session, &mut memory);
    memory.sessions.insert(sid, session);
    response
}

fn home(app: &App, req: &AppRequest<'_>) -> Response<TargetBody> {
    with_session(app, req, |session, _| {
        let links: String = session
            .orders
            .iter()
            .map(|id| format!("<a class=\"order\" href=\"/app/orders/{id}\">Order {id}</a>\n"))
            .collect();
        html(page("Your orders", "", &format!("<p>Signed in as {}.</p>\n{links}", escape(&session.user))))
    })
}

fn order_page(app: &App, req: &AppRequest<'_>, id: &str) -> Response<TargetBody> {
    let api = app.api_origin.lock().unwrap_or_else(PoisonError::into_inner).clone();
    with_session(app, req, |session, _| {
        if !session.orders.iter().any(|o| o == id) {
            return text(StatusCode::NOT_FOUND, "no such order in this session\n");
        }
        html(page(
            &format!("Order {id}"),
            &format!(" data-api=\"{}\" data-order=\"{id}\"", escape(&api)),
            &format!(
                "<p id=\"status\">loading</p>\n<form method=\"post\" action=\"/app/orders/{id}/checkout\">\n\
                 <input type=\"hidden\" name=\"csrf\" value=\"{}\">\n<button id=\"checkout\" type=\"submit\">Check out</button>\n</form>",
                session.checkout_csrf
            ),
        ))
    })
}

fn checkout(app: &App, req: &AppRequest<'_>, id: &str) -> Response<TargetBody> {
    let csrf = form_field(req.body, "csrf").unwrap_or_default();
    with_session(app, req, |session, memory| {
        if !session.orders.iter().any(|o| o == id) {
            return text(StatusCode::NOT_FOUND, "no such order in this session\n");
        }
        if csrf != session.checkout_csrf {
            return text(StatusCode::FORBIDDEN, "stale or missing CSRF token\n");
        }
        let confirmation = format!("c{}", token(6));
        memory.confirmations.insert(confirmation.clone());
        redirect(&format!("/app/done/{confirmation}"))
    })
}

fn done(app: &App, req: &AppRequest<'_>, id: &str) -> Response<TargetBody> {
    with_session(app, req, |_, memory| {
        if !memory.confirmations.contains(id) {
            return text(StatusCode::NOT_FOUND, "no such confirmation\n");
        }
        html(page("Thank you", "", &format!("<p>Confirmation {id}.</p>")))
    })
}

/// The user of a live bearer token.
fn bearer(memory: &Memory, req: &AppRequest<'_>) -> Option<String> {
    let value = req.headers.get(http::header::AUTHORIZATION)?.to_str().ok()?;
    let token = value.strip_prefix("Bearer ")?;
    memory.tokens.get(token).cloned()
}

fn api_login(app: &App, req: &AppRequest<'_>) -> Response<TargetBody> {
    let doc: Value = serde_json::from_slice(req.body).unwrap_or(Value::Null);
    let user = doc.get("username").and_then(Value::as_str).unwrap_or("");
    if user.is_empty() || doc.get("password").and_then(Value::as_str) != Some(PASSWORD) {
        return json_response(StatusCode::UNAUTHORIZED, &json!({"error": "wrong user name or password"}));
    }
    let token = format!("t{}", token(16));
    app.memory().tokens.insert(token.clone(), user.to_string());
    json_response(StatusCode::OK, &json!({"token": token, "user": {"name": user}, "expires_in": 3600}))
}

fn api_items(app: &App, req: &AppRequest<'_>, order: &str) -> Response<TargetBody> {
    let mut memory = app.memory();
    if bearer(&memory, req).is_none() {
        return json_response(StatusCode::UNAUTHORIZED, &json!({"error": "stale or missing bearer token"}));
    }
    let Some(sku) = memory.order_skus.get(order).cloned() else {
        return json_response(StatusCode::NOT_FOUND, &json!({"error": "no such order"}));
    };
    memory.skus.insert(sku.clone(), order.to_string());
    json_response(
        StatusCode::OK,
        &json!({"order": order, "items": [{"sku": sku, "name": "widget", "price": 12.5}]}),
    )
}

fn api_cart(app: &App, req: &AppRequest<'_>) -> Response<TargetBody> {
    let memory = app.memory();
    if bearer(&memory, req).is_none() {
        return json_response(StatusCode::UNAUTHORIZED, &json!({"error": "stale or missing bearer token"}));
    }
    let doc: Value = serde_json::from_slice(req.body).unwrap_or(Value::Null);
    let sku = doc.get("sku").and_then(Value::as_str).unwrap_or("");
    let order = doc.get("order").and_then(Value::as_str).unwrap_or("");
    if memory.skus.get(sku).map(String::as_str) != Some(order) {
        return json_response(
            StatusCode::UNPROCESSABLE_ENTITY,
            &json!({"error": "unknown item for this order"}),
        );
    }
    json_response(StatusCode::CREATED, &json!({"order": order, "sku": sku, "quantity": doc.get("quantity")}))
}

/// `s` safe inside HTML text and attribute values.
fn escape(s: &str) -> String {
    s.replace('&', "&amp;").replace('<', "&lt;").replace('>', "&gt;").replace('"', "&quot;")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn call(
        app: &App,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u16, String, http::HeaderMap) {
        let mut map = http::HeaderMap::new();
        for (name, value) in headers {
            map.append(
                http::HeaderName::from_bytes(name.as_bytes()).unwrap(),
                HeaderValue::from_str(value).unwrap(),
            );
        }
        let response =
            handle(app, &AppRequest { method: &method, path, headers: &map, body: body.as_bytes() });
        let status = response.status().as_u16();
        let headers = response.headers().clone();
        let body = futures_body(response);
        (status, body, headers)
    }

    fn futures_body(response: Response<TargetBody>) -> String {
        use http_body_util::BodyExt;
        let rt = tokio::runtime::Builder::new_current_thread().build().unwrap();
        let bytes = rt.block_on(response.into_body().collect()).unwrap().to_bytes();
        String::from_utf8_lossy(&bytes).into_owned()
    }

    fn between<'a>(text: &'a str, before: &str, after: &str) -> &'a str {
        let start = text.find(before).unwrap() + before.len();
        &text[start..start + text[start..].find(after).unwrap()]
    }

    #[test]
    fn the_whole_flow_works_with_fresh_values_and_fails_with_stale_ones() {
        let app = App::default();
        let (_, page, _) = call(&app, Method::GET, "/app/", &[], "");
        let csrf = between(&page, "name=\"csrf\" value=\"", "\"").to_string();
        let form = format!("csrf={csrf}&username=alice&password={PASSWORD}");
        let (status, _, headers) = call(&app, Method::POST, "/app/login", &[], &form);
        assert_eq!(status, 303);
        // A CSRF token works once.
        assert_eq!(call(&app, Method::POST, "/app/login", &[], &form).0, 403);
        let cookie = headers[SET_COOKIE].to_str().unwrap().split(';').next().unwrap().to_string();
        assert_eq!(call(&app, Method::GET, "/app/home", &[], "").0, 401);
        assert_eq!(call(&app, Method::GET, "/app/home", &[("cookie", "sid=stale")], "").0, 401);
        let (status, home, _) = call(&app, Method::GET, "/app/home", &[("cookie", &cookie)], "");
        assert_eq!(status, 200);
        let order = between(&home, "href=\"/app/orders/", "\"").to_string();
        assert_eq!(call(&app, Method::GET, "/app/orders/o0000000000", &[("cookie", &cookie)], "").0, 404);
        let (status, order_page, _) =
            call(&app, Method::GET, &format!("/app/orders/{order}"), &[("cookie", &cookie)], "");
        assert_eq!(status, 200);
        let (status, login, _) = call(
            &app,
            Method::POST,
            "/app/api/login",
            &[],
            &format!(r#"{{"username":"alice","password":"{PASSWORD}"}}"#),
        );
        assert_eq!(status, 200);
        let token: Value = serde_json::from_str(&login).unwrap();
        let auth = format!("Bearer {}", token["token"].as_str().unwrap());
        let items_path = format!("/app/api/orders/{order}/items");
        assert_eq!(call(&app, Method::GET, &items_path, &[("authorization", "Bearer tstale")], "").0, 401);
        let (status, items, headers) = call(&app, Method::GET, &items_path, &[("authorization", &auth)], "");
        assert_eq!(status, 200);
        assert_eq!(headers["access-control-allow-origin"], "*");
        let sku =
            serde_json::from_str::<Value>(&items).unwrap()["items"][0]["sku"].as_str().unwrap().to_string();
        let cart = format!(r#"{{"order":"{order}","sku":"{sku}"}}"#);
        assert_eq!(call(&app, Method::POST, "/app/api/cart", &[("authorization", &auth)], &cart).0, 201);
        let wrong = format!(r#"{{"order":"{order}","sku":"sku-00000000"}}"#);
        assert_eq!(call(&app, Method::POST, "/app/api/cart", &[("authorization", &auth)], &wrong).0, 422);
        let checkout_csrf = between(&order_page, "name=\"csrf\" value=\"", "\"");
        let checkout = format!("/app/orders/{order}/checkout");
        assert_eq!(call(&app, Method::POST, &checkout, &[("cookie", &cookie)], "csrf=stale").0, 403);
        let (status, _, headers) =
            call(&app, Method::POST, &checkout, &[("cookie", &cookie)], &format!("csrf={checkout_csrf}"));
        assert_eq!(status, 303);
        let done = headers[LOCATION].to_str().unwrap().to_string();
        assert_eq!(call(&app, Method::GET, &done, &[("cookie", &cookie)], "").0, 200);
        assert_eq!(call(&app, Method::OPTIONS, "/app/api/cart", &[], "").0, 204);
        assert_eq!(call(&app, Method::GET, "/app/static/logo.png", &[], "").0, 200);
        let log = app.log();
        assert_eq!(log.first().map(String::as_str), Some("GET /app/ 200"));
        assert_eq!(log.last().map(String::as_str), Some("GET /app/done/{id} 200"));
        assert!(!log.iter().any(|l| l.contains("static") || l.starts_with("OPTIONS")), "{log:?}");
    }
}
