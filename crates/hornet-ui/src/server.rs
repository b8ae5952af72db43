//! The HTTP server: the page, its assets, and the JSON API (docs/web-ui.md), on a tokio runtime of
//! its own on one dedicated thread.

use std::convert::Infallible;
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, Request, State};
use axum::http::{HeaderMap, HeaderValue, Method, StatusCode, header};
use axum::middleware::{self, Next};
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use hornet_export::background::Background;
use serde_json::{Value, json};

use crate::assets;
use crate::hub::{ApiError, Hub};
use crate::plan::StartRequest;

/// Name of the cookie that carries the token after `/?token=T`.
pub const TOKEN_COOKIE: &str = "hornet_ui_token";
/// How long a download waits for a report built from the current aggregate.
const REPORT_WAIT: Duration = Duration::from_secs(5);

#[derive(Clone)]
struct App {
    hub: Arc<Hub>,
    token: Option<Arc<str>>,
}

/// The router for `hub`. With a `token`, every request must carry it (see docs/web-ui.md); without
/// one the server is for loopback only, and requests naming another host are refused (a defence
/// against DNS rebinding).
pub fn router(hub: Arc<Hub>, token: Option<String>) -> Router {
    let app = App { hub, token: token.map(Arc::from) };
    Router::new()
        .route("/", get(index))
        .route("/assets/{name}", get(asset))
        .route("/api/state", get(state))
        .route("/api/stats", get(stats))
        .route("/api/history", get(history))
        .route("/api/stream", get(stream))
        .route("/api/start", post(start))
        .route("/api/load", post(load))
        .route("/api/stop", post(stop))
        .route("/api/reset", post(reset))
        .route("/api/download/{file}", get(download))
        .fallback(|| async { error(StatusCode::NOT_FOUND, "no such page or endpoint") })
        .layer(middleware::from_fn_with_state(app.clone(), guard))
        .with_state(app)
}

fn error(status: StatusCode, message: &str) -> Response {
    (status, [(header::CACHE_CONTROL, "no-store")], axum::Json(json!({ "error": message }))).into_response()
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        error(StatusCode::from_u16(self.status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR), &self.message)
    }
}

/// Compares in time independent of where the first difference is.
fn same_secret(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

fn cookie_token(headers: &HeaderMap) -> Option<&str> {
    headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|c| c.trim().split_once('='))
        .find(|(k, _)| *k == TOKEN_COOKIE)
        .map(|(_, v)| v)
}

fn query_token(req: &Request) -> Option<&str> {
    req.uri()
        .query()?
        .split('&')
        .filter_map(|kv| kv.split_once('='))
        .find(|(k, _)| *k == "token")
        .map(|(_, v)| v)
}

/// True when the `Host` header (if any) names a loopback or literal address, not a DNS name an
/// attacker's page could have pointed at us.
fn host_ok(headers: &HeaderMap) -> bool {
    let Some(host) = headers.get(header::HOST) else { return true };
    let Ok(host) = host.to_str() else { return false };
    let name = if let Some(rest) = host.strip_prefix('[') {
        rest.split(']').next().unwrap_or_default()
    } else {
        host.rsplit_once(':').map_or(host, |(h, _)| h)
    };
    name.eq_ignore_ascii_case("localhost") || name.parse::<IpAddr>().is_ok()
}

/// A browser's cross-site request carries an `Origin` of another site: refuse it for changes.
fn origin_ok(headers: &HeaderMap) -> bool {
    let Some(origin) = headers.get(header::ORIGIN).and_then(|o| o.to_str().ok()) else { return true };
    let host = headers.get(header::HOST).and_then(|h| h.to_str().ok()).unwrap_or_default();
    let stripped = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://"));
    stripped.is_some_and(|o| o.eq_ignore_ascii_case(host))
}

/// Token, host and origin checks for every request (see [`router`]).
async fn guard(State(app): State<App>, req: Request, next: Next) -> Response {
    let headers = req.headers();
    if req.method() != Method::GET && req.method() != Method::HEAD && !origin_ok(headers) {
        return error(StatusCode::FORBIDDEN, "cross-origin requests are refused");
    }
    let Some(token) = app.token.clone() else {
        if !host_ok(headers) {
            return error(StatusCode::FORBIDDEN, "the Host header must be an IP address or localhost");
        }
        return next.run(req).await;
    };
    let bearer = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    let by_header = bearer.is_some_and(|t| same_secret(t.as_bytes(), token.as_bytes()));
    let by_cookie = cookie_token(headers).is_some_and(|t| same_secret(t.as_bytes(), token.as_bytes()));
    let by_query = req.uri().path() == "/"
        && req.method() == Method::GET
        && query_token(&req).is_some_and(|t| same_secret(t.as_bytes(), token.as_bytes()));
    if !(by_header || by_cookie || by_query) {
        let mut r = error(
            StatusCode::UNAUTHORIZED,
            "a token is required: `Authorization: Bearer TOKEN`, or open /?token=TOKEN once",
        );
        r.headers_mut().insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer"));
        return r;
    }
    let mut response = next.run(req).await;
    if by_query && !by_cookie {
        let cookie = format!("{TOKEN_COOKIE}={token}; HttpOnly; SameSite=Strict; Path=/");
        if let Ok(v) = HeaderValue::from_str(&cookie) {
            response.headers_mut().append(header::SET_COOKIE, v);
        }
    }
    response
}

async fn index() -> Response {
    (
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        assets::INDEX_HTML,
    )
        .into_response()
}

async fn asset(Path(name): Path<String>) -> Response {
    match assets::get(&name) {
        Some((mime, body)) => (
            [
                (header::CONTENT_TYPE, mime),
                (header::CACHE_CONTROL, "no-cache"),
                (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
            ],
            body,
        )
            .into_response(),
        None => error(StatusCode::NOT_FOUND, "no such asset"),
    }
}

fn json_text(text: impl Into<Body>) -> Response {
    ([(header::CONTENT_TYPE, "application/json"), (header::CACHE_CONTROL, "no-store")], text.into())
        .into_response()
}

fn json_value(v: &Value) -> Response {
    json_text(v.to_string())
}

async fn state(State(app): State<App>) -> Response {
    json_value(&app.hub.state_json())
}

async fn stats(State(app): State<App>) -> Response {
    json_text(app.hub.snapshot().to_string())
}

async fn history(State(app): State<App>) -> Response {
    json_value(&app.hub.history_json())
}

/// Server-Sent Events: the current snapshot at once, then each new one (`event: snapshot`).
async fn stream(State(app): State<App>) -> Response {
    let rx = app.hub.subscribe();
    let events = futures_util::stream::unfold((rx, true), |(mut rx, first)| async move {
        if !first && rx.changed().await.is_err() {
            return None;
        }
        let data = rx.borrow_and_update().clone();
        Some((Ok::<_, Infallible>(Event::default().event("snapshot").data(&*data)), (rx, false)))
    });
    let mut r = Sse::new(events).keep_alive(KeepAlive::default()).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    r
}

async fn start(State(app): State<App>, body: Bytes) -> Response {
    let request = match StartRequest::parse(&body) {
        Ok(r) => r,
        Err(m) => return error(StatusCode::BAD_REQUEST, &m),
    };
    match app.hub.start(request) {
        Ok(run) => {
            (StatusCode::ACCEPTED, axum::Json(json!({ "run": run, "state": "starting" }))).into_response()
        }
        Err(e) => e.into_response(),
    }
}

async fn load(State(app): State<App>, body: Bytes) -> Response {
    match app.hub.load(&body) {
        Ok(v) => (StatusCode::ACCEPTED, axum::Json(v)).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn stop(State(app): State<App>) -> Response {
    match app.hub.stop() {
        Ok(()) => (StatusCode::ACCEPTED, axum::Json(json!({ "state": "stopping" }))).into_response(),
        Err(e) => e.into_response(),
    }
}

async fn reset(State(app): State<App>) -> Response {
    match app.hub.reset() {
        Ok(()) => (StatusCode::ACCEPTED, axum::Json(json!({ "reset": "at the next tick" }))).into_response(),
        Err(e) => e.into_response(),
    }
}

/// The files of `GET /api/download/{file}`: name, content type.
pub const DOWNLOADS: [(&str, &str); 5] = [
    ("report.json", "application/json"),
    ("stats.csv", "text/csv; charset=utf-8"),
    ("failures.csv", "text/csv; charset=utf-8"),
    ("stats_history.csv", "text/csv; charset=utf-8"),
    ("report.html", "text/html; charset=utf-8"),
];

async fn download(State(app): State<App>, Path(file): Path<String>) -> Response {
    let Some(&(name, mime)) = DOWNLOADS.iter().find(|(n, _)| *n == file) else {
        let names: Vec<&str> = DOWNLOADS.iter().map(|(n, _)| *n).collect();
        return error(
            StatusCode::NOT_FOUND,
            &format!("no download `{file}`; there are {}", names.join(", ")),
        );
    };
    let report = match app.hub.report(REPORT_WAIT).await {
        Ok(r) => r,
        Err(e) => return e.into_response(),
    };
    // Rendering a big report takes a while: keep it off the server's thread.
    let rendered = tokio::task::spawn_blocking(move || -> Result<String, String> {
        match name {
            "report.json" => report.to_json().map_err(|e| e.to_string()),
            "report.html" => Ok(hornet_output::html::render_html(&report)),
            _ => {
                let csv = hornet_output::csv::render_locust_csv(&report).map_err(|e| e.to_string())?;
                Ok(match name {
                    "stats.csv" => csv.stats,
                    "failures.csv" => csv.failures,
                    _ => csv.stats_history,
                })
            }
        }
    })
    .await;
    let body = match rendered {
        Ok(Ok(b)) => b,
        Ok(Err(m)) => {
            return error(StatusCode::INTERNAL_SERVER_ERROR, &format!("could not render {name}: {m}"));
        }
        Err(_) => return error(StatusCode::INTERNAL_SERVER_ERROR, "rendering failed"),
    };
    let disposition = format!("attachment; filename=\"hornet_{name}\"");
    let mut r = ([(header::CONTENT_TYPE, mime), (header::CACHE_CONTROL, "no-store")], body).into_response();
    if let Ok(v) = HeaderValue::from_str(&disposition) {
        r.headers_mut().insert(header::CONTENT_DISPOSITION, v);
    }
    r
}

/// Why the server could not start.
#[derive(Debug, thiserror::Error)]
pub enum UiError {
    #[error(
        "the web UI would listen on {0}, which is not a loopback address: set a token with --ui-token or HORNET_UI_TOKEN"
    )]
    /// A non-loopback address without a token.
    TokenRequired(SocketAddr),
    /// An empty token.
    #[error("the web UI token must not be empty")]
    EmptyToken,
    /// The address could not be bound.
    #[error("could not listen on {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    /// The server's thread could not be spawned.
    #[error("could not start the web UI thread: {0}")]
    Thread(std::io::Error),
}

/// Where and how to serve.
#[derive(Debug, Clone)]
pub struct UiConfig {
    /// Default `127.0.0.1:8089`; port 0 picks a free port.
    pub addr: SocketAddr,
    /// Required for a non-loopback address.
    pub token: Option<String>,
}

/// The running server. Dropping it (or [`Ui::shutdown`]) stops it.
pub struct Ui {
    /// Serving until dropped (stopped before the hub is let go, as it serves the hub).
    server: Background,
    hub: Arc<Hub>,
    addr: SocketAddr,
}

impl Ui {
    /// Binds `config.addr` (before returning, so errors are reported and the port is known) and
    /// serves `hub` from a thread of its own.
    pub fn start(config: UiConfig, hub: Arc<Hub>) -> Result<Ui, UiError> {
        let token = match config.token {
            Some(t) if t.trim().is_empty() => return Err(UiError::EmptyToken),
            t => t,
        };
        if token.is_none() && !config.addr.ip().is_loopback() {
            return Err(UiError::TokenRequired(config.addr));
        }
        let listener = std::net::TcpListener::bind(config.addr).map_err(|e| UiError::Bind(config.addr, e))?;
        listener.set_nonblocking(true).map_err(|e| UiError::Bind(config.addr, e))?;
        let addr = listener.local_addr().map_err(|e| UiError::Bind(config.addr, e))?;
        let app = router(hub.clone(), token);
        let server = Background::serve(listener, app, "hornet-ui", "web UI").map_err(UiError::Thread)?;
        Ok(Ui { server, hub, addr })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// `http://ADDR/`.
    pub fn url(&self) -> String {
        format!("http://{}/", self.addr)
    }

    /// The state the server shares with the command that runs tests.
    pub fn hub(&self) -> &Arc<Hub> {
        &self.hub
    }

    /// Stops serving and waits (about a second at most) for the thread.
    pub fn shutdown(mut self) {
        self.server.stop();
    }
}
