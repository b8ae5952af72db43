//! End-to-end tests of the HTTP engine against small servers spawned on 127.0.0.1:0: a hyper
//! server for well-behaved traffic, raw TCP servers for misbehaving peers, and a rustls server
//! with a self-signed certificate for TLS and HTTP/2.

use std::convert::Infallible;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hornet_engine::http::{ClientConfig, HttpClient, Session};
use hornet_metrics::ErrorKind;
use http::Method;
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;
use hyper::service::service_fn;
use hyper_util::rt::{TokioExecutor, TokioIo};
use tokio::io::{AsyncReadExt, AsyncWriteExt};

mod support;
use support::{client, get, hyper_server, listener, raw_server, read_head, run};

/// The hyper test service: `/hello`, `/echo` (returns the request body), `/big` (100 000 bytes
/// in 10 chunks), `/slow` (answers after 50 ms).
async fn service(req: hyper::Request<Incoming>) -> Result<hyper::Response<Full<Bytes>>, Infallible> {
    let path = req.uri().path().to_owned();
    let host = req.headers().get(http::header::HOST).cloned();
    let header = |name: &str| {
        req.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    };
    let trace = format!("{}|{}", header("traceparent"), header("baggage"));
    let body = req.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let out = match path.as_str() {
        "/hello" => Bytes::from_static(b"hello world"),
        "/echo" => body,
        "/big" => Bytes::from(vec![b'x'; 100_000]),
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(50)).await;
            Bytes::from_static(b"slow")
        }
        "/host" => host.map(|h| Bytes::copy_from_slice(h.as_bytes())).unwrap_or_default(),
        "/trace" => Bytes::from(trace),
        _ => Bytes::from_static(b"not found"),
    };
    Ok(hyper::Response::new(Full::new(out)))
}

/// Spawns an HTTP/1.1 hyper server with [`service`]; returns its address and a counter of accepted
/// connections.
async fn http_server() -> (SocketAddr, Arc<AtomicUsize>) {
    let (addr, served) = hyper_server(service).await;
    (addr, served.connections)
}

const OK: &[u8] = b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok";

#[tokio::test]
async fn get_reports_status_body_and_timings_and_reuses_the_connection() {
    run(async {
        let (addr, accepts) = http_server().await;
        let client = client(5_000, false, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/hello");

        let first = client.send(&mut session, get(&url)).await.expect("first request");
        assert_eq!(first.status, 200);
        assert_eq!(first.body.as_deref(), Some(&b"hello world"[..]));
        assert_eq!(first.body_len, 11);
        assert_eq!(first.version, http::Version::HTTP_11);
        assert!(first.bytes_sent > 20, "bytes_sent {}", first.bytes_sent);
        let t = first.timings;
        assert_eq!(t.dns, None, "an IP literal needs no lookup");
        assert!(t.connect.is_some());
        assert_eq!(t.tls, None);
        assert!(t.total >= t.wait + t.receive + t.connect.unwrap_or_default());
        assert_eq!(session.connections(), 1);

        let second = client.send(&mut session, get(&url)).await.expect("second request");
        assert_eq!(second.status, 200);
        assert_eq!(second.timings.connect, None, "the second request reuses the connection");
        assert!(second.timings.total >= second.timings.wait);
        assert_eq!(accepts.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn a_name_resolved_a_moment_ago_is_not_looked_up_again_until_a_connect_fails() {
    run(async {
        let (addr, accepts) = http_server().await;
        let client = client(5_000, false, None);
        let url = format!("http://localhost:{}/hello", addr.port());
        // Each session is a new VU: a new connection, and the name resolved once for both.
        let first = client.send(&mut Session::new(), get(&url)).await.expect("first request");
        assert_eq!(first.status, 200);
        assert!(first.timings.dns.is_some(), "the first connection looks the name up");
        let second = client.send(&mut Session::new(), get(&url)).await.expect("second request");
        assert_eq!(second.status, 200);
        assert!(second.timings.connect.is_some(), "a new session opens a new connection");
        assert_eq!(second.timings.dns, None, "the name was resolved a moment ago");
        assert_eq!(accepts.load(Ordering::SeqCst), 2);

        // A name whose addresses all refused the connection is looked up again next time.
        let port = {
            let (closed, a) = listener().await;
            drop(closed);
            a.port()
        };
        let url = format!("http://localhost:{port}/");
        for attempt in 0..2 {
            let err = client.send(&mut Session::new(), get(&url)).await.expect_err("nothing listens");
            assert_eq!(err.kind, ErrorKind::ConnectRefused, "attempt {attempt}: {err}");
            assert!(err.timings.dns.is_some(), "attempt {attempt} looks the name up");
        }
    })
    .await;
}

#[tokio::test]
async fn host_header_is_added_for_http1() {
    run(async {
        let (addr, _) = http_server().await;
        let client = client(5_000, false, None);
        let resp = client.send(&mut Session::new(), get(&format!("http://{addr}/host"))).await.expect("send");
        assert_eq!(resp.body.as_deref(), Some(addr.to_string().as_bytes()));
    })
    .await;
}

#[tokio::test]
async fn post_body_arrives() {
    run(async {
        let (addr, _) = http_server().await;
        let client = client(5_000, false, None);
        let mut req = get(&format!("http://{addr}/echo"));
        req.method = Method::POST;
        req.body = Bytes::from_static(b"ping-pong payload");
        let resp = client.send(&mut Session::new(), req).await.expect("send");
        assert_eq!(resp.status, 200);
        assert_eq!(resp.body.as_deref(), Some(&b"ping-pong payload"[..]));
        assert!(resp.bytes_sent >= 17 + 20);
    })
    .await;
}

#[tokio::test]
async fn body_is_counted_but_not_kept_without_keep_body() {
    run(async {
        let (addr, _) = http_server().await;
        let client = client(5_000, false, None);
        let mut session = Session::new();
        let mut req = get(&format!("http://{addr}/big"));
        req.keep_body = false;
        let resp = client.send(&mut session, req.clone()).await.expect("send");
        assert_eq!(resp.body, None);
        assert_eq!(resp.body_len, 100_000);
        req.keep_body = true;
        let resp = client.send(&mut session, req).await.expect("send");
        assert_eq!(resp.body.map(|b| b.len()), Some(100_000));
    })
    .await;
}

#[tokio::test]
async fn connection_refused() {
    run(async {
        let (l, addr) = listener().await;
        drop(l);
        let client = client(5_000, false, None);
        let err =
            client.send(&mut Session::new(), get(&format!("http://{addr}/"))).await.expect_err("refused");
        assert_eq!(err.kind, ErrorKind::ConnectRefused);
        assert_eq!(err.message, format!("connection refused ({addr})"));
        assert_eq!(err.timings.connect, None);
    })
    .await;
}

#[tokio::test]
async fn invalid_urls() {
    run(async {
        let client = client(5_000, false, None);
        for url in ["ftp://127.0.0.1/", "/relative/path"] {
            let err = client.send(&mut Session::new(), get(url)).await.expect_err("invalid");
            assert_eq!(err.kind, ErrorKind::InvalidUrl, "{url}");
        }
    })
    .await;
}

#[tokio::test]
async fn silent_server_times_out_and_the_connection_is_closed() {
    run(async {
        let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<Duration>();
        let closed_tx = Arc::new(std::sync::Mutex::new(Some(closed_tx)));
        let (addr, _) = raw_server(move |mut s| {
            let closed_tx = closed_tx.clone();
            async move {
                read_head(&mut s).await;
                // Never answer; report when the client closes the connection.
                let t0 = Instant::now();
                let mut b = [0u8; 64];
                while let Ok(n) = s.read(&mut b).await {
                    if n == 0 {
                        break;
                    }
                }
                if let Some(tx) = closed_tx.lock().ok().and_then(|mut g| g.take()) {
                    let _ = tx.send(t0.elapsed());
                }
            }
        })
        .await;
        let client = client(200, false, None);
        let mut session = Session::new();
        let t0 = Instant::now();
        let err = client.send(&mut session, get(&format!("http://{addr}/"))).await.expect_err("timeout");
        let elapsed = t0.elapsed();
        assert_eq!(err.kind, ErrorKind::Timeout);
        assert!(elapsed >= Duration::from_millis(200) && elapsed < Duration::from_millis(600), "{elapsed:?}");
        assert!(err.timings.total >= Duration::from_millis(200), "{:?}", err.timings.total);
        assert!(err.timings.connect.is_some(), "connect was measured before the timeout");
        assert_eq!(session.connections(), 0, "the timed-out connection is not kept");
        // The connection is discarded: the server sees it closed while the session still lives.
        let closed = tokio::time::timeout(Duration::from_secs(2), closed_rx).await;
        assert!(matches!(closed, Ok(Ok(_))), "server did not see the connection close");
        drop(session);
    })
    .await;
}

/// A server that answers the first request of each connection, then reads the next one and
/// closes without answering (the race a server with a short keep-alive timeout produces, or one
/// that fails mid-request); returns its address, its accepted connections and the request heads
/// it read.
async fn answers_once_per_connection() -> (SocketAddr, Arc<AtomicUsize>, Arc<AtomicUsize>) {
    let heads = Arc::new(AtomicUsize::new(0));
    let counted = heads.clone();
    let (addr, accepts) = raw_server(move |mut s| {
        let heads = counted.clone();
        async move {
            if read_head(&mut s).await {
                heads.fetch_add(1, Ordering::SeqCst);
                let _ = s.write_all(OK).await;
                if read_head(&mut s).await {
                    heads.fetch_add(1, Ordering::SeqCst);
                }
            }
        }
    })
    .await;
    (addr, accepts, heads)
}

#[tokio::test]
async fn stale_keep_alive_is_retried_on_a_new_connection() {
    run(async {
        let (addr, accepts, heads) = answers_once_per_connection().await;
        let client = client(5_000, false, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/");
        let first = client.send(&mut session, get(&url)).await.expect("first");
        assert_eq!(first.body.as_deref(), Some(&b"ok"[..]));
        assert_eq!(first.resent, 0);
        let second = client.send(&mut session, get(&url)).await.expect("second is retried");
        assert_eq!(second.status, 200);
        assert!(second.timings.connect.is_some(), "the retry opened a new connection");
        assert_eq!(accepts.load(Ordering::SeqCst), 2);
        assert!(second.bytes_sent > first.bytes_sent, "both attempts are counted");
        // The server read three requests: two answered, and the one sent again, counted.
        assert_eq!(second.resent, 1);
        assert_eq!(heads.load(Ordering::SeqCst), 1 + 1 + usize::from(second.resent));
    })
    .await;
}

#[tokio::test]
async fn a_post_the_server_may_have_read_is_never_sent_again() {
    run(async {
        let (addr, accepts, heads) = answers_once_per_connection().await;
        let client = client(5_000, false, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/");
        let post = || hornet_engine::http::Request {
            body: Bytes::from_static(b"{\"n\":1}"),
            ..support::request(Method::POST, &url, false)
        };
        let first = client.send(&mut session, post()).await.expect("first");
        assert_eq!(first.status, 200);
        let err = client.send(&mut session, post()).await.expect_err("the second is not retried");
        assert_eq!(err.kind, ErrorKind::ConnectReset);
        assert!(err.message.contains("not sent again: POST is not idempotent"), "{}", err.message);
        assert_eq!(err.resent, 0);
        assert_eq!(accepts.load(Ordering::SeqCst), 1, "no second connection");
        // One answered, one failed: the two requests the server read.
        assert_eq!(heads.load(Ordering::SeqCst), 2);
        // PATCH is not idempotent either; PUT and DELETE are, and are sent again.
        let patch = hornet_engine::http::Request { method: Method::PATCH, ..post() };
        client.send(&mut session, patch.clone()).await.expect("a new connection");
        assert!(client.send(&mut session, patch).await.is_err());
        let put = hornet_engine::http::Request { method: Method::PUT, ..post() };
        client.send(&mut session, put.clone()).await.expect("a new connection");
        let again = client.send(&mut session, put).await.expect("PUT is sent again");
        assert_eq!(again.resent, 1);
        assert_eq!(heads.load(Ordering::SeqCst), 2 + 2 + 3);
    })
    .await;
}

#[tokio::test]
async fn connection_closed_while_idle_is_replaced() {
    run(async {
        let (addr, accepts) = raw_server(|mut s| async move {
            if read_head(&mut s).await {
                let _ = s.write_all(OK).await;
            }
            // Dropping closes the connection right after the response.
        })
        .await;
        let client = client(5_000, false, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/");
        client.send(&mut session, get(&url)).await.expect("first");
        tokio::time::sleep(Duration::from_millis(50)).await;
        let second = client.send(&mut session, get(&url)).await.expect("second");
        assert_eq!(second.status, 200);
        assert!(second.timings.connect.is_some());
        assert_eq!(accepts.load(Ordering::SeqCst), 2);
    })
    .await;
}

#[tokio::test]
async fn reset_mid_response_is_connect_reset() {
    run(async {
        let (addr, _) = raw_server(|mut s| async move {
            if read_head(&mut s).await {
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n0123456789").await;
                tokio::time::sleep(Duration::from_millis(50)).await;
                // SO_LINGER 0: closing sends RST instead of FIN.
                let _ = socket2::SockRef::from(&s).set_linger(Some(Duration::ZERO));
            }
        })
        .await;
        let client = client(5_000, false, None);
        let err = client.send(&mut Session::new(), get(&format!("http://{addr}/"))).await.expect_err("reset");
        assert_eq!(err.kind, ErrorKind::ConnectReset, "{err}");
        assert!(err.timings.total >= Duration::from_millis(40));
    })
    .await;
}

#[tokio::test]
async fn garbage_response_is_protocol_error() {
    run(async {
        let (addr, _) = raw_server(|mut s| async move {
            if read_head(&mut s).await {
                let _ = s.write_all(b"garbage garbage garbage\r\n\r\n").await;
                let mut b = [0u8; 64];
                let _ = s.read(&mut b).await;
            }
        })
        .await;
        let client = client(5_000, false, None);
        let err =
            client.send(&mut Session::new(), get(&format!("http://{addr}/"))).await.expect_err("garbage");
        assert_eq!(err.kind, ErrorKind::Protocol, "{err}");
    })
    .await;
}

#[tokio::test]
async fn dropping_the_session_closes_its_connections() {
    run(async {
        let (closed_tx, closed_rx) = tokio::sync::oneshot::channel::<()>();
        let closed_tx = Arc::new(std::sync::Mutex::new(Some(closed_tx)));
        let (addr, _) = raw_server(move |mut s| {
            let closed_tx = closed_tx.clone();
            async move {
                if read_head(&mut s).await {
                    let _ = s.write_all(OK).await;
                    // EOF here means the client closed the idle connection.
                    if !read_head(&mut s).await
                        && let Some(tx) = closed_tx.lock().ok().and_then(|mut g| g.take())
                    {
                        let _ = tx.send(());
                    }
                }
            }
        })
        .await;
        let client = client(5_000, false, None);
        let mut session = Session::new();
        client.send(&mut session, get(&format!("http://{addr}/"))).await.expect("send");
        assert_eq!(session.connections(), 1);
        drop(session);
        let closed = tokio::time::timeout(Duration::from_secs(2), closed_rx).await;
        assert!(matches!(closed, Ok(Ok(()))), "connection still open after the session was dropped");
    })
    .await;
}

#[tokio::test]
async fn pool_of_two_never_opens_more_than_two_connections() {
    run(async {
        let (addr, accepts) = http_server().await;
        let client = Rc::new(client(5_000, false, Some(2)));
        let url = format!("http://{addr}/slow");
        let mut tasks = Vec::new();
        for _ in 0..5 {
            let client = client.clone();
            let req = get(&url);
            tasks.push(tokio::task::spawn_local(async move {
                let mut session = Session::new();
                let resp = client.send(&mut session, req).await;
                (resp, session.connections())
            }));
        }
        let mut max_total = Duration::ZERO;
        for task in tasks {
            let (resp, held) = task.await.expect("task");
            let resp = resp.expect("pooled request");
            assert_eq!(resp.body.as_deref(), Some(&b"slow"[..]));
            assert_eq!(held, 0, "with a pool the session holds nothing");
            max_total = max_total.max(resp.timings.total);
        }
        assert_eq!(accepts.load(Ordering::SeqCst), 2);
        // Five 50 ms requests over two connections take three rounds; the wait counts in total.
        assert!(max_total >= Duration::from_millis(140), "{max_total:?}");
    })
    .await;
}

/// A client keeping response bodies of at most `limit` bytes.
fn client_keeping(limit: usize, insecure: bool) -> HttpClient {
    HttpClient::new(&ClientConfig {
        timeout: Duration::from_secs(10),
        insecure,
        pool: None,
        source_addresses: Vec::new(),
        max_kept_body: limit,
    })
    .expect("client")
}

#[tokio::test]
async fn bodies_longer_than_the_kept_limit_are_read_and_counted_not_kept() {
    run(async {
        const LONG: usize = 8 << 20;
        // `/length`, `/chunked` and `/eof` send 8 MiB framed each way; `/short` sends 1000 bytes.
        let (addr, _) = raw_server(|mut s| async move {
            let mut head = [0u8; 1024];
            let Ok(n) = s.read(&mut head).await else { return };
            let path = String::from_utf8_lossy(&head[..n]).split(' ').nth(1).unwrap_or("").to_owned();
            let block = vec![b'x'; 64 * 1024];
            match path.as_str() {
                "/length" => {
                    let _ = s
                        .write_all(format!("HTTP/1.1 200 OK\r\ncontent-length: {LONG}\r\n\r\n").as_bytes())
                        .await;
                    for _ in 0..LONG / block.len() {
                        let _ = s.write_all(&block).await;
                    }
                }
                "/chunked" => {
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n").await;
                    for _ in 0..LONG / block.len() {
                        let _ = s.write_all(format!("{:x}\r\n", block.len()).as_bytes()).await;
                        let _ = s.write_all(&block).await;
                        let _ = s.write_all(b"\r\n").await;
                    }
                    let _ = s.write_all(b"0\r\n\r\n").await;
                }
                "/eof" => {
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n").await;
                    for _ in 0..LONG / block.len() {
                        let _ = s.write_all(&block).await;
                    }
                }
                _ => {
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n").await;
                    let _ = s.write_all(&block[..1000]).await;
                }
            }
        })
        .await;
        let client = client_keeping(1 << 20, false);
        for path in ["/length", "/chunked", "/eof"] {
            let resp =
                client.send(&mut Session::new(), get(&format!("http://{addr}{path}"))).await.expect(path);
            assert!(resp.body_over_limit, "{path}");
            assert_eq!(resp.body, None, "{path}");
            assert_eq!(resp.body_len, LONG as u64, "{path}: every byte is counted");
        }
        let resp =
            client.send(&mut Session::new(), get(&format!("http://{addr}/short"))).await.expect("short");
        assert!(!resp.body_over_limit);
        assert_eq!(resp.body.map(|b| b.len()), Some(1000));
        // A body not asked for is never over the limit.
        let mut not_kept = get(&format!("http://{addr}/length"));
        not_kept.keep_body = false;
        let resp = client.send(&mut Session::new(), not_kept).await.expect("not kept");
        assert!(!resp.body_over_limit);
        assert_eq!(resp.body_len, LONG as u64);
    })
    .await;
}

mod tls {
    use super::*;
    use rustls::pki_types::{CertificateDer, PrivateKeyDer, PrivatePkcs8KeyDer};
    use tokio_rustls::TlsAcceptor;

    /// Spawns a TLS server with a self-signed certificate for 127.0.0.1, offering `alpn`, and
    /// serving HTTP/2 or HTTP/1.1 as negotiated.
    pub(super) async fn tls_server(alpn: &[&[u8]]) -> (SocketAddr, Arc<AtomicUsize>) {
        let cert = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned()]).expect("cert");
        let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(cert.signing_key.serialize_der()));
        let chain: Vec<CertificateDer<'static>> = vec![cert.cert.der().clone()];
        let provider = Arc::new(rustls::crypto::aws_lc_rs::default_provider());
        let mut config = rustls::ServerConfig::builder_with_provider(provider)
            .with_safe_default_protocol_versions()
            .expect("versions")
            .with_no_client_auth()
            .with_single_cert(chain, key)
            .expect("server config");
        config.alpn_protocols = alpn.iter().map(|p| p.to_vec()).collect();
        let acceptor = TlsAcceptor::from(Arc::new(config));
        raw_server(move |stream| {
            let acceptor = acceptor.clone();
            async move {
                let Ok(tls) = acceptor.accept(stream).await else { return };
                let h2 = tls.get_ref().1.alpn_protocol() == Some(b"h2");
                let io = TokioIo::new(tls);
                if h2 {
                    let _ = hyper::server::conn::http2::Builder::new(TokioExecutor::new())
                        .serve_connection(io, service_fn(service))
                        .await;
                } else {
                    let _ = hyper::server::conn::http1::Builder::new()
                        .serve_connection(io, service_fn(service))
                        .await;
                }
            }
        })
        .await
    }

    #[tokio::test]
    async fn self_signed_certificate_is_rejected_unless_insecure() {
        run(async {
            let (addr, _) = tls_server(&[b"h2", b"http/1.1"]).await;
            let url = format!("https://{addr}/hello");
            let err = client(5_000, false, None).send(&mut Session::new(), get(&url)).await.expect_err("tls");
            assert_eq!(err.kind, ErrorKind::Tls, "{err}");
            assert!(err.timings.connect.is_some());
        })
        .await;
    }

    #[tokio::test]
    async fn insecure_https_negotiates_h2_and_reuses_the_connection() {
        run(async {
            let (addr, accepts) = tls_server(&[b"h2", b"http/1.1"]).await;
            let client = client(5_000, true, None);
            let mut session = Session::new();
            let url = format!("https://{addr}/hello");
            let first = client.send(&mut session, get(&url)).await.expect("h2 request");
            assert_eq!(first.status, 200);
            assert_eq!(first.version, http::Version::HTTP_2);
            assert_eq!(first.body.as_deref(), Some(&b"hello world"[..]));
            assert!(first.timings.tls.is_some());
            let second = client.send(&mut session, get(&url)).await.expect("second h2 request");
            assert_eq!(second.version, http::Version::HTTP_2);
            assert_eq!(second.timings.tls, None);
            assert_eq!(accepts.load(Ordering::SeqCst), 1);
            let mut post = get(&format!("https://{addr}/echo"));
            post.method = Method::POST;
            post.body = Bytes::from_static(b"over h2");
            let echoed = client.send(&mut session, post).await.expect("h2 post");
            assert_eq!(echoed.body.as_deref(), Some(&b"over h2"[..]));
        })
        .await;
    }

    #[tokio::test]
    async fn bodies_longer_than_the_kept_limit_are_not_kept_over_h2_and_tls_http11() {
        run(async {
            for alpn in [&b"h2"[..], &b"http/1.1"[..]] {
                let (addr, _) = tls_server(&[alpn]).await;
                let client = client_keeping(50_000, true);
                let big =
                    client.send(&mut Session::new(), get(&format!("https://{addr}/big"))).await.expect("big");
                assert!(big.body_over_limit);
                assert_eq!((big.body, big.body_len), (None, 100_000));
                let hello = client
                    .send(&mut Session::new(), get(&format!("https://{addr}/hello")))
                    .await
                    .expect("hello");
                assert!(!hello.body_over_limit);
                assert_eq!(hello.body.as_deref(), Some(&b"hello world"[..]));
            }
        })
        .await;
    }

    #[tokio::test]
    async fn trace_context_goes_out_over_h2_and_tls_http11() {
        run(async {
            for (alpn, version) in
                [(&b"h2"[..], http::Version::HTTP_2), (&b"http/1.1"[..], http::Version::HTTP_11)]
            {
                let (addr, _) = tls_server(&[alpn]).await;
                let client = client(5_000, true, None);
                let mut traced = support::request(Method::GET, &format!("https://{addr}/trace"), true);
                traced.trace = Some(hornet_engine::http::TraceContext {
                    trace_id: [0x4b; 16],
                    span_id: [0x07; 8],
                    sampled: true,
                    baggage: http::HeaderValue::from_static("hornet.testid=h2"),
                });
                let resp = client.send(&mut Session::new(), traced).await.expect("traced");
                assert_eq!(resp.version, version);
                assert_eq!(
                    resp.body.as_deref(),
                    Some(&b"00-4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b4b-0707070707070707-01|hornet.testid=h2"[..])
                );
            }
        })
        .await;
    }

    #[tokio::test]
    async fn https_falls_back_to_http11_without_h2_alpn() {
        run(async {
            let (addr, _) = tls_server(&[b"http/1.1"]).await;
            let client = client(5_000, true, None);
            let resp =
                client.send(&mut Session::new(), get(&format!("https://{addr}/host"))).await.expect("h1 tls");
            assert_eq!(resp.version, http::Version::HTTP_11);
            assert_eq!(resp.body.as_deref(), Some(addr.to_string().as_bytes()));
            assert!(resp.timings.tls.is_some());
        })
        .await;
    }

    #[tokio::test]
    async fn pooled_h2_opens_the_pool_size_and_shares_them() {
        run(async {
            let (addr, accepts) = tls_server(&[b"h2"]).await;
            let client = Rc::new(client(5_000, true, Some(2)));
            let url = format!("https://{addr}/slow");
            let mut tasks = Vec::new();
            for _ in 0..6 {
                let client = client.clone();
                let req = get(&url);
                tasks.push(tokio::task::spawn_local(
                    async move { client.send(&mut Session::new(), req).await },
                ));
            }
            for task in tasks {
                let resp = task.await.expect("task").expect("pooled h2 request");
                assert_eq!(resp.version, http::Version::HTTP_2);
            }
            // Like h2load -c 2: two connections, each carrying several streams, never more.
            let opened = accepts.load(Ordering::SeqCst);
            assert_eq!(opened, 2, "{opened} connections");
            for _ in 0..4 {
                let later = client.send(&mut Session::new(), get(&url)).await.expect("later");
                assert_eq!(later.timings.connect, None);
            }
            assert_eq!(accepts.load(Ordering::SeqCst), 2);
        })
        .await;
    }
}

/// Connections bind to the configured source addresses in turn: four sessions (one connection
/// each) arrive from 127.0.0.2, 127.0.0.3, 127.0.0.2, 127.0.0.3.
#[tokio::test]
async fn connections_bind_to_the_source_addresses_in_turn() {
    run(async {
        let (l, addr) = listener().await;
        let peers = Rc::new(std::cell::RefCell::new(Vec::new()));
        let seen = peers.clone();
        tokio::task::spawn_local(async move {
            while let Ok((mut s, peer)) = l.accept().await {
                seen.borrow_mut().push(peer.ip());
                tokio::task::spawn_local(async move {
                    let mut buf = [0u8; 1024];
                    let _ = s.read(&mut buf).await;
                    let _ = s.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
                });
            }
        });
        let sources: Vec<std::net::IpAddr> = vec![
            "127.0.0.2".parse().expect("ip"),
            "127.0.0.3".parse().expect("ip"),
            "::1".parse().expect("ip"),
        ];
        let client = HttpClient::new(&ClientConfig {
            timeout: Duration::from_secs(5),
            insecure: false,
            pool: None,
            source_addresses: sources,
            max_kept_body: hornet_engine::http::DEFAULT_MAX_KEPT_BODY,
        })
        .expect("client");
        for _ in 0..4 {
            let res =
                client.send(&mut Session::new(), get(&format!("http://{addr}/"))).await.expect("response");
            assert_eq!(res.status, 200);
        }
        let want: Vec<std::net::IpAddr> = ["127.0.0.2", "127.0.0.3", "127.0.0.2", "127.0.0.3"]
            .iter()
            .map(|s| s.parse().expect("ip"))
            .collect();
        // The IPv6 source is skipped for an IPv4 destination.
        assert_eq!(*peers.borrow(), want);
    })
    .await;
}
