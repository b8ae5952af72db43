//! The target's WebSocket endpoints over loopback: echo, broadcast to every client, ticks, the
//! token check, and wss:// with the self-signed certificate.

use std::time::Duration;

use futures_util::{SinkExt, StreamExt};
use hornet_target::{RunningTarget, TargetOptions};
use tokio::net::TcpStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::{WebSocketStream, client_async};

const STEP: Duration = Duration::from_secs(5);

fn start() -> RunningTarget {
    RunningTarget::start(TargetOptions::default()).expect("target")
}

async fn open(t: &RunningTarget, path: &str) -> WebSocketStream<TcpStream> {
    let tcp = TcpStream::connect(t.addr()).await.expect("tcp");
    let (ws, _) = client_async(format!("{}{path}", t.ws_url()), tcp).await.expect("handshake");
    ws
}

async fn next_text(ws: &mut WebSocketStream<TcpStream>) -> String {
    match tokio::time::timeout(STEP, ws.next()).await {
        Ok(Some(Ok(Message::Text(t)))) => t.to_string(),
        other => panic!("expected a text message, got {other:?}"),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime")
}

#[test]
fn echo_sends_every_message_back() {
    let t = start();
    rt().block_on(async {
        let mut ws = open(&t, "/ws/echo").await;
        for text in ["a", "bb", "{\"x\":1}"] {
            ws.send(Message::text(text)).await.expect("send");
            assert_eq!(next_text(&mut ws).await, text);
        }
        ws.send(Message::binary(vec![0u8, 1, 2])).await.expect("send");
        let got = tokio::time::timeout(STEP, ws.next()).await;
        assert!(matches!(got, Ok(Some(Ok(Message::Binary(b)))) if b.as_ref() == [0, 1, 2]));
    });
}

#[test]
fn broadcast_reaches_every_client() {
    let t = start();
    rt().block_on(async {
        let mut a = open(&t, "/ws/broadcast").await;
        let mut b = open(&t, "/ws/broadcast").await;
        // Both are subscribed once the server has answered one message on each.
        a.send(Message::text("from a")).await.expect("send");
        assert_eq!(next_text(&mut a).await, "from a");
        assert_eq!(next_text(&mut b).await, "from a");
        b.send(Message::text("from b")).await.expect("send");
        assert_eq!(next_text(&mut a).await, "from b");
        assert_eq!(next_text(&mut b).await, "from b");
    });
}

#[test]
fn ticker_counts_ticks() {
    let t = start();
    rt().block_on(async {
        let mut ws = open(&t, "/ws/ticker?ms=10").await;
        for n in 1..=3 {
            assert_eq!(next_text(&mut ws).await, format!(r#"{{"type":"tick","n":{n}}}"#));
        }
    });
}

#[test]
fn missing_paths_and_tokens_refuse_the_upgrade() {
    let t = start();
    rt().block_on(async {
        for (path, status) in [("/ws/nope", 404), ("/ws/echo?require_token=1", 401)] {
            let tcp = TcpStream::connect(t.addr()).await.expect("tcp");
            match client_async(format!("{}{path}", t.ws_url()), tcp).await {
                Err(tokio_tungstenite::tungstenite::Error::Http(r)) => {
                    assert_eq!(r.status().as_u16(), status)
                }
                other => panic!("{path}: expected a refused handshake, got {other:?}"),
            }
        }
        let mut req =
            format!("{}/ws/echo?require_token=1", t.ws_url()).into_client_request().expect("request");
        req.headers_mut().insert("authorization", "Bearer abc".parse().expect("header"));
        let tcp = TcpStream::connect(t.addr()).await.expect("tcp");
        assert!(client_async(req, tcp).await.is_ok(), "a bearer token is accepted");
    });
}

#[test]
fn tls_target_serves_https_urls() {
    let t = RunningTarget::start_tls(TargetOptions::default()).expect("tls target");
    assert!(t.url().starts_with("https://"));
    assert!(t.ws_url().starts_with("wss://"));
}
