//! Tests of the lean HTTP/1.1 path (plain `http://` requests) against raw TCP servers on
//! 127.0.0.1:0 that write exactly the bytes under test: body framing (content-length, chunked,
//! close-delimited, none), interim responses, connection reuse and closing, malformed responses,
//! resets, stale keep-alive and what goes on the wire.

use std::net::SocketAddr;
use std::sync::atomic::Ordering;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use bytes::Bytes;
use hornet_engine::http::{HttpClient, Request, Session, SharedHeaders};
use hornet_metrics::ErrorKind;
use http::{HeaderValue, Method};

mod support;
use support::{answering, get, peer_server as server, request as req, run};

fn client(timeout_ms: u64, pool: Option<usize>) -> HttpClient {
    support::client(timeout_ms, false, pool)
}

fn pattern(n: usize) -> Vec<u8> {
    (0..n).map(|i| (i * 7 % 251) as u8).collect()
}

#[tokio::test]
async fn content_length_body_is_kept_whole_and_counted() {
    run(async {
        let body = pattern(300_000);
        let mut response = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len()).into_bytes();
        response.extend_from_slice(&body);
        let response: &'static [u8] = response.leak();
        let (addr, accepts) = answering(response).await;
        let client = client(5_000, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/big");
        let kept = client.send(&mut session, get(&url)).await.expect("kept");
        assert_eq!(kept.body.as_deref(), Some(&body[..]));
        assert_eq!(kept.body_len, body.len() as u64);
        assert_eq!(kept.version, http::Version::HTTP_11);
        let counted = client.send(&mut session, req(Method::GET, &url, false)).await.expect("counted");
        assert_eq!(counted.body, None);
        assert_eq!(counted.body_len, body.len() as u64);
        assert_eq!(accepts.load(Ordering::SeqCst), 1, "the connection is reused");
    })
    .await;
}

const CHUNKED: &[u8] = b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n\
    5;name=value\r\nhello\r\n\
    1 ; quoted=\"a;b\"\r\n \r\n\
    10\r\n0123456789abcdef\r\n\
    0\r\nx-trailer: yes\r\nx-other: 2\r\n\r\n";

#[tokio::test]
async fn chunked_body_split_across_many_writes_is_decoded() {
    run(async {
        let (addr, accepts) = server(|mut p| async move {
            while p.request().await.is_some() {
                p.dribble(CHUNKED, 3).await;
            }
        })
        .await;
        let client = client(10_000, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/");
        let kept = client.send(&mut session, get(&url)).await.expect("chunked");
        assert_eq!(kept.body.as_deref(), Some(&b"hello 0123456789abcdef"[..]));
        assert_eq!(kept.body_len, 22, "framing, extensions and trailers are not counted");
        let counted = client.send(&mut session, req(Method::GET, &url, false)).await.expect("counted");
        assert_eq!(counted.body_len, 22);
        assert_eq!(accepts.load(Ordering::SeqCst), 1, "a complete chunked body leaves it reusable");
    })
    .await;
}

#[tokio::test]
async fn malformed_chunks_are_protocol_errors() {
    run(async {
        for bad in [
            &b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\nzz\r\nhello\r\n0\r\n\r\n"[..],
            &b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n5\r\nhelloXX0\r\n\r\n"[..],
        ] {
            let (addr, _) = server(move |mut p| async move {
                if p.request().await.is_some() {
                    p.send(bad).await;
                    let _ = p.request().await;
                }
            })
            .await;
            let err = client(5_000, None).send(&mut Session::new(), get(&format!("http://{addr}/"))).await;
            let err = err.expect_err("malformed chunk");
            assert_eq!(err.kind, ErrorKind::Protocol, "{err}");
            assert!(err.message.contains(&addr.to_string()), "{}", err.message);
        }
    })
    .await;
}

#[tokio::test]
async fn close_delimited_body_ends_at_eof_and_the_connection_is_not_reused() {
    run(async {
        let (addr, accepts) = server(|mut p| async move {
            if p.request().await.is_some() {
                p.send(b"HTTP/1.1 200 OK\r\ncontent-type: text/plain\r\n\r\nuntil ").await;
                tokio::time::sleep(Duration::from_millis(10)).await;
                p.send(b"the end").await;
            }
        })
        .await;
        let client = client(5_000, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/");
        for _ in 0..2 {
            let resp = client.send(&mut session, get(&url)).await.expect("close-delimited");
            assert_eq!(resp.body.as_deref(), Some(&b"until the end"[..]));
            assert_eq!(resp.body_len, 13);
            assert_eq!(session.connections(), 0);
        }
        assert_eq!(accepts.load(Ordering::SeqCst), 2);
    })
    .await;
}

#[tokio::test]
async fn head_204_and_304_have_no_body_and_keep_the_connection() {
    run(async {
        let (addr, accepts) = server(|mut p| async move {
            while let Some(r) = p.request().await {
                let response: &[u8] = if r.starts_with(b"HEAD") {
                    b"HTTP/1.1 200 OK\r\ncontent-length: 1000\r\n\r\n"
                } else if r.starts_with(b"GET /204") {
                    b"HTTP/1.1 204 No Content\r\ncontent-length: 5\r\n\r\n"
                } else if r.starts_with(b"GET /304") {
                    b"HTTP/1.1 304 Not Modified\r\ntransfer-encoding: chunked\r\n\r\n"
                } else {
                    b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok"
                };
                p.send(response).await;
            }
        })
        .await;
        let client = client(5_000, None);
        let mut session = Session::new();
        let url = format!("http://{addr}");
        let head =
            client.send(&mut session, req(Method::HEAD, &format!("{url}/"), true)).await.expect("head");
        assert_eq!((head.status, head.body_len, head.body.as_deref()), (200, 0, Some(&b""[..])));
        assert_eq!(head.headers.get("content-length").map(|v| v.as_bytes()), Some(&b"1000"[..]));
        let r204 = client.send(&mut session, get(&format!("{url}/204"))).await.expect("204");
        assert_eq!((r204.status, r204.body_len), (204, 0));
        let r304 = client.send(&mut session, get(&format!("{url}/304"))).await.expect("304");
        assert_eq!((r304.status, r304.body_len), (304, 0));
        let ok = client.send(&mut session, get(&format!("{url}/"))).await.expect("ok");
        assert_eq!(ok.body.as_deref(), Some(&b"ok"[..]));
        assert_eq!(accepts.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn interim_responses_are_skipped() {
    run(async {
        let (addr, accepts) = server(|mut p| async move {
            while p.request().await.is_some() {
                p.send(b"HTTP/1.1 100 Continue\r\n\r\n").await;
                tokio::time::sleep(Duration::from_millis(5)).await;
                p.send(b"HTTP/1.1 103 Early Hints\r\nlink: </a.css>\r\n\r\nHTTP/1.1 201 Created\r\n").await;
                p.send(b"content-length: 4\r\n\r\ndone").await;
            }
        })
        .await;
        let client = client(5_000, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/");
        let post = Request { body: Bytes::from_static(b"data"), ..req(Method::POST, &url, true) };
        let resp = client.send(&mut session, post).await.expect("after 100");
        assert_eq!(resp.status, 201);
        assert_eq!(resp.body.as_deref(), Some(&b"done"[..]));
        assert!(resp.headers.get("link").is_none(), "interim headers are not merged");
        client.send(&mut session, get(&url)).await.expect("again");
        assert_eq!(accepts.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn connection_close_and_http10_open_a_new_connection_next_time() {
    run(async {
        for response in [
            &b"HTTP/1.1 200 OK\r\nconnection: close\r\ncontent-length: 2\r\n\r\nok"[..],
            &b"HTTP/1.0 200 OK\r\ncontent-length: 2\r\n\r\nok"[..],
        ] {
            let (addr, accepts) = answering(response).await;
            let client = client(5_000, None);
            let mut session = Session::new();
            let url = format!("http://{addr}/");
            for _ in 0..3 {
                let resp = client.send(&mut session, get(&url)).await.expect("send");
                assert_eq!(resp.body.as_deref(), Some(&b"ok"[..]));
                assert_eq!(session.connections(), 0);
            }
            assert_eq!(accepts.load(Ordering::SeqCst), 3);
        }
        // HTTP/1.0 with keep-alive is kept.
        let (addr, accepts) =
            answering(b"HTTP/1.0 200 OK\r\nConnection: Keep-Alive\r\ncontent-length: 2\r\n\r\nok").await;
        let client = client(5_000, Some(1));
        let url = format!("http://{addr}/");
        for _ in 0..3 {
            client.send(&mut Session::new(), get(&url)).await.expect("send");
        }
        assert_eq!(accepts.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn bytes_after_a_response_make_the_connection_unusable() {
    run(async {
        let (addr, accepts) =
            answering(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nokHTTP/1.1 garbage").await;
        let client = client(5_000, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/");
        for _ in 0..2 {
            let resp = client.send(&mut session, get(&url)).await.expect("send");
            assert_eq!(resp.body.as_deref(), Some(&b"ok"[..]));
        }
        assert_eq!(accepts.load(Ordering::SeqCst), 2);
    })
    .await;
}

#[tokio::test]
async fn malformed_heads_are_protocol_errors() {
    run(async {
        let cases: [(&'static [u8], &str); 5] = [
            (b"HTTP/1.1 2x0 OK\r\n\r\n", "invalid response status"),
            (b"ICY 200 OK\r\n\r\n", "not HTTP/1.x"),
            (b"HTTP/1.1 200 OK\r\ncontent-length: 5\r\ncontent-length: 6\r\n\r\nhello", "content-length"),
            (b"HTTP/1.1 200 OK\r\ncontent-length: -1\r\n\r\n", "invalid content-length"),
            (b"HTTP/1.1 200 OK\r\nbad header\r\n\r\n", "header name"),
        ];
        for (response, detail) in cases {
            let (addr, _) = server(move |mut p| async move {
                if p.request().await.is_some() {
                    p.send(response).await;
                    let _ = p.request().await;
                }
            })
            .await;
            let err = client(5_000, None).send(&mut Session::new(), get(&format!("http://{addr}/"))).await;
            let err = err.expect_err("malformed head");
            assert_eq!(err.kind, ErrorKind::Protocol, "{err}");
            assert!(err.message.contains(detail), "{}", err.message);
            assert!(err.message.contains(&addr.to_string()), "{}", err.message);
        }
    })
    .await;
}

#[tokio::test]
async fn oversize_head_is_a_protocol_error() {
    run(async {
        let (addr, _) = server(|mut p| async move {
            if p.request().await.is_some() {
                p.send(b"HTTP/1.1 200 OK\r\n").await;
                let line = format!("x-filler: {}\r\n", "a".repeat(1000));
                for _ in 0..70 {
                    p.send(line.as_bytes()).await;
                }
                p.send(b"\r\n").await;
                let _ = p.request().await;
            }
        })
        .await;
        let err = client(5_000, None).send(&mut Session::new(), get(&format!("http://{addr}/"))).await;
        let err = err.expect_err("oversize head");
        assert_eq!(err.kind, ErrorKind::Protocol, "{err}");
        assert!(err.message.contains("response head larger than 64 KB"), "{}", err.message);
    })
    .await;
}

#[tokio::test]
async fn many_headers_are_all_kept() {
    run(async {
        let mut response = String::from("HTTP/1.1 200 OK\r\n");
        for i in 0..300 {
            response.push_str(&format!("x-h{i}: v{i}\r\nset-thing: {i}\r\n"));
        }
        response.push_str("content-length: 2\r\n\r\nok");
        let response: &'static [u8] = response.into_bytes().leak();
        let (addr, _) = answering(response).await;
        let resp = client(5_000, None).send(&mut Session::new(), get(&format!("http://{addr}/"))).await;
        let resp = resp.expect("many headers");
        assert_eq!(resp.headers.len(), 601);
        assert_eq!(resp.headers.get("x-h299"), Some(&HeaderValue::from_static("v299")));
        assert_eq!(resp.headers.get_all("set-thing").iter().count(), 300);
        assert_eq!(resp.body.as_deref(), Some(&b"ok"[..]));
    })
    .await;
}

/// A server that answers the requests of its first connection with `responses` in turn, then
/// closes it.
async fn in_turn(responses: &'static [&'static [u8]]) -> (SocketAddr, Arc<std::sync::atomic::AtomicUsize>) {
    server(move |mut p| async move {
        for response in responses {
            if p.request().await.is_none() {
                return;
            }
            p.send(response).await;
        }
    })
    .await
}

#[tokio::test]
async fn header_names_are_right_when_they_change_between_responses() {
    run(async {
        let (addr, accepts) = in_turn(&[
            b"HTTP/1.1 200 OK\r\nX-A: 1\r\nServer: s\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nServer: s\r\nX-B: 2\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nx-a: 3\r\nServer: t\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nX-A: 4\r\ncontent-length: 0\r\nX-C: 5\r\n\r\n",
        ])
        .await;
        let client = client(5_000, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/");
        let mut seen = Vec::new();
        for _ in 0..4 {
            let resp = client.send(&mut session, get(&url)).await.expect("send");
            let mut pairs: Vec<String> = resp
                .headers
                .iter()
                .map(|(n, v)| format!("{}={}", n.as_str(), v.to_str().unwrap_or("?")))
                .collect();
            pairs.sort();
            seen.push(pairs.join(","));
        }
        assert_eq!(
            seen,
            [
                "content-length=0,server=s,x-a=1",
                "content-length=0,server=s,x-b=2",
                "content-length=0,server=t,x-a=3",
                "content-length=0,x-a=4,x-c=5",
            ]
        );
        assert_eq!(accepts.load(Ordering::SeqCst), 1);
    })
    .await;
}

#[tokio::test]
async fn reset_mid_chunked_body_is_connect_reset() {
    run(async {
        let (addr, _) = server(|mut p| async move {
            if p.request().await.is_some() {
                p.send(b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n400\r\n0123").await;
                tokio::time::sleep(Duration::from_millis(20)).await;
                let _ = socket2::SockRef::from(&p.s).set_linger(Some(Duration::ZERO));
            }
        })
        .await;
        let err = client(5_000, None).send(&mut Session::new(), get(&format!("http://{addr}/"))).await;
        let err = err.expect_err("reset");
        assert_eq!(err.kind, ErrorKind::ConnectReset, "{err}");
        // A clean close mid-body is a reset too (the body is incomplete).
        let (addr, _) = server(|mut p| async move {
            if p.request().await.is_some() {
                p.send(b"HTTP/1.1 200 OK\r\ncontent-length: 10\r\n\r\n0123").await;
            }
        })
        .await;
        let err = client(5_000, None).send(&mut Session::new(), get(&format!("http://{addr}/"))).await;
        assert_eq!(err.expect_err("eof").kind, ErrorKind::ConnectReset);
    })
    .await;
}

#[tokio::test]
async fn pooled_stale_keep_alive_is_retried_transparently() {
    run(async {
        // Each connection answers one request, then closes as the next arrives.
        let (addr, accepts) = server(|mut p| async move {
            if p.request().await.is_some() {
                p.send(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
                let _ = p.request().await;
            }
        })
        .await;
        let client = client(5_000, Some(1));
        let url = format!("http://{addr}/");
        for i in 0..3 {
            let resp = client.send(&mut Session::new(), get(&url)).await.expect("retried");
            assert_eq!(resp.body.as_deref(), Some(&b"ok"[..]));
            assert!(resp.timings.connect.is_some(), "request {i} ran on a new connection");
        }
        assert_eq!(accepts.load(Ordering::SeqCst), 3);
    })
    .await;
}

#[tokio::test]
async fn pooled_connections_closed_while_idle_are_all_replaced() {
    run(async {
        // Answers one request per connection and closes it.
        let (addr, accepts) = server(|mut p| async move {
            if p.request().await.is_some() {
                p.send(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
            }
        })
        .await;
        let client = std::rc::Rc::new(client(5_000, Some(3)));
        let url = format!("http://{addr}/");
        let mut tasks = Vec::new();
        for _ in 0..3 {
            let (client, req) = (client.clone(), get(&url));
            tasks.push(tokio::task::spawn_local(async move { client.send(&mut Session::new(), req).await }));
        }
        for task in tasks {
            task.await.expect("task").expect("first round");
        }
        assert_eq!(accepts.load(Ordering::SeqCst), 3);
        tokio::time::sleep(Duration::from_millis(50)).await;
        // Three idle connections, all closed by the server: none is used, none is retried on.
        let resp = client.send(&mut Session::new(), get(&url)).await.expect("after idle close");
        assert_eq!(resp.body.as_deref(), Some(&b"ok"[..]));
        assert!(resp.timings.connect.is_some());
        assert_eq!(resp.bytes_sent, client_bytes(&addr), "sent once, not retried");
        assert_eq!(accepts.load(Ordering::SeqCst), 4);
    })
    .await;
}

/// Size of the engine's GET / to `addr` with no headers.
fn client_bytes(addr: &SocketAddr) -> u64 {
    format!("GET / HTTP/1.1\r\nhost: {addr}\r\n\r\n").len() as u64
}

#[tokio::test]
async fn a_request_cancelled_mid_response_does_not_leave_its_connection_in_the_pool() {
    run(async {
        let (addr, accepts) = server(|mut p| async move {
            while let Some(r) = p.request().await {
                if r.starts_with(b"GET /slow") {
                    p.send(b"HTTP/1.1 200 OK\r\ncontent-length: 4\r\n\r\nsl").await;
                    tokio::time::sleep(Duration::from_millis(300)).await;
                    p.send(b"ow").await;
                } else {
                    p.send(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
                }
            }
        })
        .await;
        let client = client(100, Some(1));
        let err = client.send(&mut Session::new(), get(&format!("http://{addr}/slow"))).await;
        assert_eq!(err.expect_err("timeout").kind, ErrorKind::Timeout);
        let resp = client.send(&mut Session::new(), get(&format!("http://{addr}/"))).await.expect("next");
        assert_eq!(resp.body.as_deref(), Some(&b"ok"[..]));
        assert_eq!(accepts.load(Ordering::SeqCst), 2);
    })
    .await;
}

#[tokio::test]
async fn a_head_that_differs_from_the_last_in_any_byte_is_read_anew() {
    run(async {
        // Heads of one length that differ in a byte of their status, framing or any value, each
        // followed by one the same as it (which is recognised, not parsed).
        let (addr, accepts) = in_turn(&[
            b"HTTP/1.1 200 OK\r\nDate: A\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nDate: A\r\ncontent-length: 2\r\n\r\nok",
            b"HTTP/1.1 200 OK\r\nDate: A\r\ncontent-length: 3\r\n\r\nabc",
            b"HTTP/1.1 200 OK\r\nDate: A\r\ncontent-length: 3\r\n\r\nabc",
            b"HTTP/1.1 201 OK\r\nDate: B\r\ncontent-length: 3\r\n\r\nxyz",
            b"HTTP/1.1 201 OK\r\nDate: B\r\ncontent-length: 3\r\n\r\nxyz",
            b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\ncontent-length: 0\r\n\r\n",
            b"HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nconnection: close\r\n\r\n",
        ])
        .await;
        let client = client(5_000, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/");
        let mut seen = Vec::new();
        for i in 0..9 {
            // Every other request reads the engine's headers only.
            let request = Request { skip_headers: i % 2 == 1, ..get(&url) };
            let resp = client.send(&mut session, request).await.expect("send");
            let mut names: Vec<&str> = resp.headers.keys().map(|k| k.as_str()).collect();
            names.sort_unstable();
            let body = String::from_utf8_lossy(resp.body.as_deref().unwrap_or_default()).into_owned();
            seen.push(format!("{} {body} {}", resp.status, names.join(",")));
        }
        assert_eq!(
            seen,
            [
                "200 ok content-length,date",
                "200 ok ",
                "200 abc content-length,date",
                "200 abc ",
                "201 xyz content-length,date",
                "201 xyz ",
                "200  content-length,set-cookie",
                "200  set-cookie",
                "200  connection,set-cookie",
            ]
        );
        assert_eq!(accepts.load(Ordering::SeqCst), 1, "one connection until the last response closed it");
        assert_eq!(session.connections(), 0);
    })
    .await;
}

#[tokio::test]
async fn shared_headers_go_out_before_the_requests_own_whichever_way_it_is_sent() {
    run(async {
        let seen = Arc::new(Mutex::new(Vec::<String>::new()));
        let log = seen.clone();
        let (addr, _) = server(move |mut p| {
            let log = log.clone();
            async move {
                while let Some(r) = p.request().await {
                    log.lock().expect("log").push(String::from_utf8_lossy(&r).into_owned());
                    p.send(b"HTTP/1.1 200 OK\r\nset-cookie: sid=7\r\ncontent-length: 0\r\n\r\n").await;
                }
            }
        })
        .await;
        let client = client(5_000, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/s");
        let shared = |pairs: &[(&'static str, &'static str)]| {
            let mut map = http::HeaderMap::new();
            for &(name, value) in pairs {
                map.append(name, HeaderValue::from_static(value));
            }
            Some(SharedHeaders::new(map))
        };
        let with = |shared_headers: Option<SharedHeaders>| {
            let mut request = get(&url);
            request.headers.insert("x-own", HeaderValue::from_static("2"));
            Request { shared_headers, ..request }
        };
        let common = shared(&[("x-shared", "1"), ("user-agent", "u")]);
        // Written as rendered (the jar is still empty), then merged for a request that may be
        // redirected, then for one that carries the jar's cookie, which joins a shared one.
        client.send(&mut Session::new(), with(common.clone())).await.expect("plain");
        client.send(&mut Session::new(), Request { follow_redirects: 3, ..with(common.clone()) }).await.expect("merged");
        client.send(&mut session, with(None)).await.expect("cookie set");
        client.send(&mut session, with(common.clone())).await.expect("jar");
        client.send(&mut session, with(shared(&[("cookie", "a=1"), ("x-shared", "1")]))).await.expect("cookie");
        // A shared host replaces the connection's.
        client.send(&mut Session::new(), with(shared(&[("host", "named.example")]))).await.expect("host");
        let seen = seen.lock().expect("log").clone();
        let own = "x-own: 2\r\n\r\n";
        assert_eq!(seen[0], format!("GET /s HTTP/1.1\r\nhost: {addr}\r\nx-shared: 1\r\nuser-agent: u\r\n{own}"));
        assert_eq!(seen[1], seen[0]);
        assert_eq!(seen[2], format!("GET /s HTTP/1.1\r\nhost: {addr}\r\n{own}"));
        assert_eq!(
            seen[3],
            format!("GET /s HTTP/1.1\r\nhost: {addr}\r\nx-shared: 1\r\nuser-agent: u\r\nx-own: 2\r\ncookie: sid=7\r\n\r\n")
        );
        assert_eq!(seen[4], format!("GET /s HTTP/1.1\r\nhost: {addr}\r\ncookie: a=1; sid=7\r\nx-shared: 1\r\n{own}"));
        assert_eq!(seen[5], format!("GET /s HTTP/1.1\r\nhost: named.example\r\n{own}"));
    })
    .await;
}

#[tokio::test]
async fn requests_go_out_in_http11_wire_form() {
    run(async {
        let seen = Arc::new(Mutex::new(Vec::<Vec<u8>>::new()));
        let log = seen.clone();
        let (addr, _) = server(move |mut p| {
            let log = log.clone();
            async move {
                while let Some(r) = p.request().await {
                    let n = r.len();
                    log.lock().expect("log").push(r);
                    p.send(
                        format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", n.to_string().len())
                            .as_bytes(),
                    )
                    .await;
                    p.send(n.to_string().as_bytes()).await;
                }
            }
        })
        .await;
        let client = client(5_000, None);
        let mut session = Session::new();
        let mut post = req(Method::POST, &format!("http://{addr}/p/a?q=1&r"), true);
        post.body = Bytes::from_static(b"hello");
        post.headers.insert("x-test", HeaderValue::from_static("yes"));
        let resp = client.send(&mut session, post).await.expect("post");
        let expected = format!(
            "POST /p/a?q=1&r HTTP/1.1\r\nhost: {addr}\r\nx-test: yes\r\ncontent-length: 5\r\n\r\nhello"
        );
        assert_eq!(String::from_utf8_lossy(&seen.lock().expect("log")[0]), expected);
        assert_eq!(resp.bytes_sent, expected.len() as u64);
        assert_eq!(resp.body.as_deref(), Some(expected.len().to_string().as_bytes()));
        // A large body is written apart from the head and arrives whole.
        let big = pattern(100_000);
        let mut put = req(Method::PUT, &format!("http://{addr}/up"), true);
        put.body = Bytes::from(big.clone());
        put.headers.insert("host", HeaderValue::from_static("named.example"));
        let resp = client.send(&mut session, put).await.expect("put");
        let last = seen.lock().expect("log")[1].clone();
        let head = b"PUT /up HTTP/1.1\r\nhost: named.example\r\ncontent-length: 100000\r\n\r\n";
        assert_eq!(&last[..head.len()], &head[..]);
        assert_eq!(&last[head.len()..], &big[..]);
        assert_eq!(resp.bytes_sent, last.len() as u64);
        // A GET has no body and no content-length.
        client.send(&mut session, get(&format!("http://{addr}"))).await.expect("get");
        let last = seen.lock().expect("log")[2].clone();
        assert_eq!(String::from_utf8_lossy(&last), format!("GET / HTTP/1.1\r\nhost: {addr}\r\n\r\n"));
        // Trace context follows the request's own headers, written from its ids.
        let mut traced = get(&format!("http://{addr}/t"));
        traced.headers.insert("x-test", HeaderValue::from_static("1"));
        traced.trace = Some(hornet_engine::http::TraceContext {
            trace_id: [0xab; 16],
            span_id: [0x01, 0x23, 0x45, 0x67, 0x89, 0xab, 0xcd, 0xef],
            sampled: false,
            baggage: HeaderValue::from_static("hornet.testid=w"),
        });
        let resp = client.send(&mut session, traced).await.expect("traced get");
        let last = seen.lock().expect("log")[3].clone();
        let expected = format!(
            "GET /t HTTP/1.1\r\nhost: {addr}\r\nx-test: 1\r\n\
             traceparent: 00-abababababababababababababababab-0123456789abcdef-00\r\n\
             baggage: hornet.testid=w\r\n\r\n"
        );
        assert_eq!(String::from_utf8_lossy(&last), expected);
        assert_eq!(resp.bytes_sent, expected.len() as u64);
    })
    .await;
}

#[tokio::test]
async fn skip_headers_keeps_framing_and_the_engines_headers_only() {
    run(async {
        const RESPONSE: &[u8] = b"HTTP/1.1 200 OK\r\nX-Custom: 1\r\nSet-Cookie: sid=abc; Path=/\r\n\
            Content-Encoding: identity\r\nContent-Length: 2\r\nServer: test\r\nConnection: close\r\n\r\nok";
        let seen = Arc::new(Mutex::new(Vec::new()));
        let log = seen.clone();
        let (addr, accepts) = server(move |mut p| {
            let log = log.clone();
            async move {
                if let Some(r) = p.request().await {
                    log.lock().unwrap().push(String::from_utf8_lossy(&r).to_ascii_lowercase());
                    p.send(RESPONSE).await;
                }
            }
        })
        .await;
        let client = client(5_000, None);
        let mut session = Session::new();
        let url = format!("http://{addr}/");
        let skipping = |url: &str| Request { skip_headers: true, ..get(url) };
        let resp = client.send(&mut session, skipping(&url)).await.expect("send");
        assert_eq!(resp.body.as_deref(), Some(&b"ok"[..]), "content-length still frames the body");
        let mut names: Vec<&str> = resp.headers.keys().map(|k| k.as_str()).collect();
        names.sort_unstable();
        assert_eq!(names, ["content-encoding", "set-cookie"]);
        assert_eq!(session.connections(), 0, "connection: close is still honoured");
        // The cookie went to the jar: the next request carries it.
        client.send(&mut session, skipping(&url)).await.expect("second");
        assert_eq!(accepts.load(Ordering::SeqCst), 2);
        let second = seen.lock().unwrap()[1].clone();
        assert!(second.contains("cookie: sid=abc"), "{second}");
        // Without the flag every header is there.
        let all = client.send(&mut session, get(&url)).await.expect("third");
        assert_eq!(all.headers.len(), 6);

        // Chunked framing is read without the map too.
        let (addr, _) = answering(CHUNKED).await;
        let resp =
            client.send(&mut Session::new(), skipping(&format!("http://{addr}/"))).await.expect("chunked");
        assert_eq!(resp.body.as_deref(), Some(&b"hello 0123456789abcdef"[..]));
        assert!(resp.headers.is_empty());
    })
    .await;
}

#[tokio::test]
async fn each_request_of_a_session_gets_the_whole_timeout_from_its_own_start() {
    // A session keeps its timer between requests, and a timer set for an earlier request that
    // fires during a later one is moved to the later one's deadline: a request that starts late
    // in the previous deadline still gets its whole timeout, and one after a timeout is timed
    // again.
    run(async {
        let (addr, _) = server(|mut p| async move {
            while let Some(r) = p.request().await {
                let delay = if r.starts_with(b"GET /slow") { 150 } else { 0 };
                tokio::time::sleep(Duration::from_millis(delay)).await;
                p.send(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").await;
            }
        })
        .await;
        let client = client(250, None);
        let mut session = Session::new();
        let slow = format!("http://{addr}/slow");
        // Three 150-ms requests in a row: 450 ms in all, each within its own 250 ms.
        for i in 0..3 {
            let resp = client.send(&mut session, get(&slow)).await;
            assert_eq!(resp.expect("within its timeout").status, 200, "request {i}");
        }
        let (addr2, _) = server(|mut p| async move {
            // Reads requests and never answers.
            while p.request().await.is_some() {}
        })
        .await;
        let never = format!("http://{addr2}/");
        // Twice: after a timeout the timer is set again for the next request.
        for attempt in ["times out", "times out again"] {
            let t0 = Instant::now();
            let err = client.send(&mut session, get(&never)).await.expect_err(attempt);
            assert_eq!(err.kind, ErrorKind::Timeout);
            let waited = t0.elapsed();
            assert!(
                waited >= Duration::from_millis(250) && waited < Duration::from_millis(1000),
                "{waited:?}"
            );
        }
        let resp = client.send(&mut session, get(&slow)).await.expect("and a normal request after it");
        assert_eq!(resp.status, 200);
    })
    .await;
}
