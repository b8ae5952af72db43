//! The target's WebSocket endpoints: the upgrade handshake (with an optional bearer-token check)
//! and the three behaviours behind it, `/ws/echo`, `/ws/broadcast` and `/ws/ticker`.

use std::sync::Arc;
use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use http::header::{CONNECTION, SEC_WEBSOCKET_ACCEPT, SEC_WEBSOCKET_KEY, SEC_WEBSOCKET_PROTOCOL, UPGRADE};
use http::{HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::sync::broadcast;
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::handshake::derive_accept_key;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

use crate::body::TargetBody;

/// Longest `delay_ms` of `/ws/echo` (one minute).
const MAX_ECHO_DELAY_MS: u64 = 60_000;
/// Default and bounds of `/ws/ticker?ms=`.
const DEFAULT_TICK_MS: u64 = 100;
const TICK_MS: std::ops::RangeInclusive<u64> = 1..=600_000;
/// Messages `/ws/broadcast` keeps for a slow client before it skips ahead.
const BROADCAST_BACKLOG: usize = 1024;

/// A WebSocket endpoint.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Endpoint {
    /// Sends every message back, after `delay`.
    /// With `drop_after`, the connection is dropped (no close frame) after that many echoes.
    Echo { delay: Duration, drop_after: Option<u64> },
    /// Sends every message to every client connected to `/ws/broadcast` (the sender included).
    Broadcast,
    /// Sends `{"type":"tick","n":k}` every `every`, from k = 1.
    Ticker { every: Duration },
}

/// The broadcast channel shared by the server's `/ws/broadcast` clients.
#[derive(Debug)]
pub(crate) struct Hub {
    tx: broadcast::Sender<Message>,
}

impl Hub {
    pub(crate) fn new() -> Hub {
        Hub { tx: broadcast::channel(BROADCAST_BACKLOG).0 }
    }
}

/// The endpoint of a `/ws/...` path, with its query parameters; `None` for other paths.
pub(crate) fn route(path: &str, query: Option<&str>) -> Option<Endpoint> {
    let param = |name: &str| {
        query.and_then(|q| crate::routes::query_param(q, name)).and_then(|v| v.parse::<u64>().ok())
    };
    match path {
        "/ws/echo" => {
            let ms = param("delay_ms").unwrap_or(0).min(MAX_ECHO_DELAY_MS);
            Some(Endpoint::Echo { delay: Duration::from_millis(ms), drop_after: param("drop_after") })
        }
        "/ws/broadcast" => Some(Endpoint::Broadcast),
        "/ws/ticker" => {
            let ms = param("ms").filter(|ms| TICK_MS.contains(ms)).unwrap_or(DEFAULT_TICK_MS);
            Some(Endpoint::Ticker { every: Duration::from_millis(ms) })
        }
        _ => None,
    }
}

fn plain(status: StatusCode, body: &'static str) -> Response<TargetBody> {
    let mut r = Response::new(TargetBody::full(bytes::Bytes::from_static(body.as_bytes())));
    *r.status_mut() = status;
    r
}

/// True when `authorization` is `Bearer <something>`.
fn has_bearer_token(req: &Request<Incoming>) -> bool {
    req.headers()
        .get(http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .is_some_and(|t| !t.trim().is_empty())
}

/// True when a `cookie` header has a cookie called `name`.
fn has_cookie(req: &Request<Incoming>, name: &str) -> bool {
    req.headers()
        .get_all(http::header::COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .any(|line| line.split(';').any(|pair| pair.trim().split_once('=').is_some_and(|(n, _)| n == name)))
}

/// Answers an upgrade request for `endpoint`: 101 and a task serving the connection, or 400 (not
/// an upgrade) / 401 (`require_token=1` without a bearer token, `require_cookie=NAME` without that
/// cookie).
pub(crate) fn upgrade(mut req: Request<Incoming>, endpoint: Endpoint, hub: Arc<Hub>) -> Response<TargetBody> {
    let header = |name: http::HeaderName| {
        req.headers().get(name).and_then(|v| v.to_str().ok()).map(str::to_ascii_lowercase)
    };
    let is_upgrade = header(UPGRADE).is_some_and(|u| u == "websocket")
        && header(http::header::SEC_WEBSOCKET_VERSION).as_deref() == Some("13");
    let Some(key) = req.headers().get(SEC_WEBSOCKET_KEY).cloned().filter(|_| is_upgrade) else {
        return plain(StatusCode::BAD_REQUEST, "expected a WebSocket upgrade (version 13)\n");
    };
    let wants_token =
        req.uri().query().and_then(|q| crate::routes::query_param(q, "require_token")) == Some("1");
    if wants_token && !has_bearer_token(&req) {
        return plain(StatusCode::UNAUTHORIZED, "a bearer token is required\n");
    }
    if let Some(name) = req.uri().query().and_then(|q| crate::routes::query_param(q, "require_cookie"))
        && !has_cookie(&req, name)
    {
        return plain(StatusCode::UNAUTHORIZED, "a cookie is required\n");
    }
    let subprotocol = req
        .headers()
        .get(SEC_WEBSOCKET_PROTOCOL)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(',').map(str::trim).find(|p| !p.is_empty()))
        .and_then(|p| HeaderValue::from_str(p).ok());
    let on_upgrade = hyper::upgrade::on(&mut req);
    // Subscribed before the 101 goes out, so a client that sees it receives every later message.
    let subscription = (endpoint == Endpoint::Broadcast).then(|| hub.tx.subscribe());
    tokio::spawn(async move {
        let Ok(upgraded) = on_upgrade.await else { return };
        let config = WebSocketConfig::default().read_buffer_size(4096).write_buffer_size(0);
        let ws = WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, Some(config)).await;
        match endpoint {
            Endpoint::Echo { delay, drop_after } => echo(ws, delay, drop_after).await,
            Endpoint::Broadcast => {
                let rx = subscription.unwrap_or_else(|| hub.tx.subscribe());
                broadcast_to_all(ws, &hub, rx).await;
            }
            Endpoint::Ticker { every } => ticker(ws, every).await,
        }
    });
    let mut response = plain(StatusCode::SWITCHING_PROTOCOLS, "");
    let headers = response.headers_mut();
    headers.insert(UPGRADE, HeaderValue::from_static("websocket"));
    headers.insert(CONNECTION, HeaderValue::from_static("Upgrade"));
    if let Ok(accept) = HeaderValue::from_str(&derive_accept_key(key.as_bytes())) {
        headers.insert(SEC_WEBSOCKET_ACCEPT, accept);
    }
    if let Some(p) = subprotocol {
        headers.insert(SEC_WEBSOCKET_PROTOCOL, p);
    }
    response
}

type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// Sends back every text and binary message; ends when the client closes or the connection fails,
/// or, after `drop_after` echoes, by dropping the connection without a close frame.
async fn echo(mut ws: Ws, delay: Duration, drop_after: Option<u64>) {
    let mut echoed = 0;
    // Bounded by the client: each iteration consumes one message.
    while let Some(Ok(msg)) = ws.next().await {
        if drop_after.is_some_and(|n| echoed >= n) {
            return;
        }
        match msg {
            Message::Text(_) | Message::Binary(_) => {
                if !delay.is_zero() {
                    tokio::time::sleep(delay).await;
                }
                if ws.send(msg).await.is_err() {
                    return;
                }
                echoed += 1;
            }
            Message::Close(_) => return,
            _ => {}
        }
    }
}

/// Relays every message of every client to all clients.
async fn broadcast_to_all(mut ws: Ws, hub: &Hub, mut rx: broadcast::Receiver<Message>) {
    // Bounded by the client and the hub: each iteration consumes one message from either.
    loop {
        tokio::select! {
            incoming = ws.next() => match incoming {
                Some(Ok(msg @ (Message::Text(_) | Message::Binary(_)))) => {
                    let _ = hub.tx.send(msg);
                }
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
            relayed = rx.recv() => match relayed {
                Ok(msg) => {
                    if ws.send(msg).await.is_err() {
                        return;
                    }
                }
                Err(broadcast::error::RecvError::Lagged(_)) => {}
                Err(broadcast::error::RecvError::Closed) => return,
            },
        }
    }
}

/// Sends a tick every `every` until the client closes.
async fn ticker(mut ws: Ws, every: Duration) {
    let mut interval = tokio::time::interval_at(tokio::time::Instant::now() + every, every);
    let mut n: u64 = 0;
    // Bounded by the client: the loop ends when it closes or the connection fails.
    loop {
        tokio::select! {
            _ = interval.tick() => {
                n += 1;
                let tick = format!(r#"{{"type":"tick","n":{n}}}"#);
                if ws.send(Message::text(tick)).await.is_err() {
                    return;
                }
            }
            incoming = ws.next() => match incoming {
                Some(Ok(Message::Close(_))) | Some(Err(_)) | None => return,
                Some(Ok(_)) => {}
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn routes_and_parameters() {
        assert_eq!(route("/ws/echo", None), Some(Endpoint::Echo { delay: Duration::ZERO, drop_after: None }));
        assert_eq!(
            route("/ws/echo", Some("delay_ms=50&drop_after=2")),
            Some(Endpoint::Echo { delay: Duration::from_millis(50), drop_after: Some(2) })
        );
        assert_eq!(
            route("/ws/ticker", Some("ms=0")),
            Some(Endpoint::Ticker { every: Duration::from_millis(100) })
        );
        assert_eq!(
            route("/ws/ticker", Some("ms=20")),
            Some(Endpoint::Ticker { every: Duration::from_millis(20) })
        );
        assert_eq!(route("/ws/broadcast", None), Some(Endpoint::Broadcast));
        assert_eq!(route("/ws/nope", None), None);
    }
}
