//! End-to-end tests of what the engine does on top of one exchange: the per-session cookie jar,
//! redirects and response decompression, against a hyper server on 127.0.0.1:0.

use std::convert::Infallible;
use std::io::Write;
use std::net::SocketAddr;
use std::rc::Rc;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use bytes::Bytes;
use hornet_engine::http::{ClientConfig, HttpClient, Request, Session};
use hornet_metrics::ErrorKind;
use http::header::{ACCEPT_ENCODING, AUTHORIZATION, CONTENT_ENCODING, CONTENT_TYPE, COOKIE, LOCATION};
use http::{HeaderValue, Method, StatusCode};
use http_body_util::{BodyExt, Full};
use hyper::body::Incoming;

mod support;
use support::{get, hyper_server, run, uri};

const TEXT: &[u8] = b"compressible text, compressible text, compressible text, compressible text";

fn client(pool: Option<usize>) -> HttpClient {
    support::client(5_000, false, pool)
}

fn text(body: &Option<Bytes>) -> String {
    String::from_utf8_lossy(body.as_deref().unwrap_or_default()).into_owned()
}

fn gzip(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("write");
    e.finish().expect("finish")
}

fn zlib(data: &[u8]) -> Vec<u8> {
    let mut e = flate2::write::ZlibEncoder::new(Vec::new(), flate2::Compression::default());
    e.write_all(data).expect("write");
    e.finish().expect("finish")
}

fn br(data: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    {
        let mut w = brotli::CompressorWriter::new(&mut out, 4096, 5, 22);
        w.write_all(data).expect("write");
    }
    out
}

type Resp = hyper::Response<Full<Bytes>>;

fn respond(status: u16, headers: &[(&str, String)], body: impl Into<Bytes>) -> Resp {
    let mut r = hyper::Response::new(Full::new(body.into()));
    *r.status_mut() = StatusCode::from_u16(status).expect("status");
    for (name, value) in headers {
        let name = http::HeaderName::from_bytes(name.as_bytes()).expect("name");
        r.headers_mut().append(name, HeaderValue::from_str(value).expect("value"));
    }
    r
}

fn redirect(status: u16, to: &str) -> Resp {
    respond(status, &[("location", to.to_owned())], "moved")
}

/// The test service. `/inspect` answers `METHOD|body|content-type|cookie|authorization`;
/// `/cookie` answers the request's Cookie header.
async fn service(req: hyper::Request<Incoming>) -> Result<Resp, Infallible> {
    let path = req.uri().path().to_owned();
    let query = req.uri().query().unwrap_or_default().to_owned();
    let method = req.method().clone();
    let header = |name: http::HeaderName| {
        req.headers()
            .get(name)
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .unwrap_or_default()
    };
    let (cookie, ctype, auth, accept) =
        (header(COOKIE), header(CONTENT_TYPE), header(AUTHORIZATION), header(ACCEPT_ENCODING));
    let host = header(http::header::HOST);
    let trace = format!(
        "{}|{}",
        header(http::HeaderName::from_static("traceparent")),
        header(http::HeaderName::from_static("baggage"))
    );
    let body = req.into_body().collect().await.map(|c| c.to_bytes()).unwrap_or_default();
    let body = String::from_utf8_lossy(&body).into_owned();
    let out = match path.as_str() {
        "/login" => respond(
            200,
            &[("set-cookie", "sid=abc; Path=/".into()), ("set-cookie", "scoped=1; Path=/a".into())],
            "welcome",
        ),
        "/logout" => respond(200, &[("set-cookie", "sid=gone; Max-Age=0; Path=/".into())], "bye"),
        "/cookie" | "/a/cookie" | "/b/cookie" => respond(200, &[], cookie),
        "/inspect" => respond(200, &[], format!("{method}|{body}|{ctype}|{cookie}|{auth}")),
        "/r1" => redirect(302, "r2"),
        "/r2" => redirect(302, &format!("http://{host}/final")),
        "/final" => respond(200, &[], "final body"),
        "/see-other" => redirect(303, "/inspect"),
        "/found" => redirect(302, "/inspect"),
        "/temporary" => redirect(307, "/inspect"),
        "/permanent" => redirect(308, "/inspect"),
        "/loop" => redirect(302, "/loop"),
        "/no-location" => respond(302, &[], "nowhere"),
        "/cookie-hop" => {
            respond(302, &[("set-cookie", "hop=1; Path=/".into()), ("location", "/cookie".into())], "")
        }
        // Redirects to `http://<query>/inspect`: another origin.
        "/cross" => redirect(302, &format!("http://{query}/inspect")),
        "/slow-redirect" => {
            tokio::time::sleep(Duration::from_millis(60)).await;
            redirect(302, "/slow")
        }
        "/slow" => {
            tokio::time::sleep(Duration::from_millis(60)).await;
            respond(200, &[], "slow")
        }
        "/gzip" => respond(200, &[("content-encoding", "gzip".into())], gzip(TEXT)),
        "/deflate" => respond(200, &[("content-encoding", "deflate".into())], zlib(TEXT)),
        "/br" => respond(200, &[("content-encoding", "br".into())], br(TEXT)),
        "/corrupt-gzip" => respond(200, &[("content-encoding", "gzip".into())], "this is not gzip data"),
        "/gzip-redirect" => redirect(302, "/gzip"),
        "/trace" => respond(200, &[], trace),
        // Redirects to `http://<query>/trace`: another origin.
        "/trace-hop" => redirect(302, &format!("http://{query}/trace")),
        "/accept-encoding" => respond(200, &[], if accept.is_empty() { "none".to_owned() } else { accept }),
        _ => respond(404, &[], "not found"),
    };
    Ok(out)
}

/// Spawns the HTTP/1.1 test server; returns its address and a counter of requests served.
async fn server() -> (SocketAddr, Arc<AtomicUsize>) {
    let (addr, served) = hyper_server(service).await;
    (addr, served.requests)
}

mod cookies {
    use super::*;

    #[tokio::test]
    async fn set_cookie_is_stored_and_sent_to_the_same_host() {
        run(async {
            let (addr, _) = server().await;
            let client = client(None);
            let mut session = Session::new();
            let before =
                client.send(&mut session, get(&format!("http://{addr}/cookie"))).await.expect("send");
            assert_eq!(text(&before.body), "", "no cookie before login");
            client.send(&mut session, get(&format!("http://{addr}/login"))).await.expect("login");
            let after = client.send(&mut session, get(&format!("http://{addr}/cookie"))).await.expect("send");
            assert_eq!(text(&after.body), "sid=abc");
            // Another session (VU) has its own jar.
            let other = client.send(&mut Session::new(), get(&format!("http://{addr}/cookie"))).await;
            assert_eq!(text(&other.expect("send").body), "");
        })
        .await;
    }

    #[tokio::test]
    async fn cookies_are_scoped_by_path() {
        run(async {
            let (addr, _) = server().await;
            let client = client(None);
            let mut session = Session::new();
            client.send(&mut session, get(&format!("http://{addr}/login"))).await.expect("login");
            let a = client.send(&mut session, get(&format!("http://{addr}/a/cookie"))).await.expect("a");
            assert_eq!(text(&a.body), "scoped=1; sid=abc", "longest path first");
            let b = client.send(&mut session, get(&format!("http://{addr}/b/cookie"))).await.expect("b");
            assert_eq!(text(&b.body), "sid=abc");
            let mut names: Vec<_> =
                session.cookies(&uri(&format!("http://{addr}/a/x"))).into_iter().map(|(n, _)| n).collect();
            names.sort();
            assert_eq!(names, ["scoped", "sid"]);
        })
        .await;
    }

    #[tokio::test]
    async fn max_age_zero_deletes_the_cookie() {
        run(async {
            let (addr, _) = server().await;
            let client = client(None);
            let mut session = Session::new();
            let root = uri(&format!("http://{addr}/"));
            client.send(&mut session, get(&format!("http://{addr}/login"))).await.expect("login");
            assert_eq!(session.cookies(&root), [("sid".to_owned(), "abc".to_owned())]);
            client.send(&mut session, get(&format!("http://{addr}/logout"))).await.expect("logout");
            assert!(session.cookies(&root).is_empty());
            let after = client.send(&mut session, get(&format!("http://{addr}/cookie"))).await.expect("send");
            assert_eq!(text(&after.body), "");
        })
        .await;
    }

    #[tokio::test]
    async fn set_cookie_api_merges_with_the_request_header() {
        run(async {
            let (addr, _) = server().await;
            let client = client(None);
            let mut session = Session::new();
            assert!(session.set_cookie(&uri(&format!("http://{addr}/cookie")), "token", "t-1"));
            let mut req = get(&format!("http://{addr}/cookie"));
            req.headers.insert(COOKIE, HeaderValue::from_static("own=1"));
            let resp = client.send(&mut session, req).await.expect("send");
            assert_eq!(text(&resp.body), "own=1; token=t-1");
        })
        .await;
    }

    #[tokio::test]
    async fn a_pooled_session_keeps_its_own_jar() {
        run(async {
            let (addr, _) = server().await;
            let client = Rc::new(client(Some(1)));
            let mut vu1 = Session::new();
            let mut vu2 = Session::new();
            client.send(&mut vu1, get(&format!("http://{addr}/login"))).await.expect("login");
            let one = client.send(&mut vu1, get(&format!("http://{addr}/cookie"))).await.expect("vu1");
            let two = client.send(&mut vu2, get(&format!("http://{addr}/cookie"))).await.expect("vu2");
            assert_eq!(text(&one.body), "sid=abc");
            assert_eq!(text(&two.body), "");
            assert_eq!(vu1.connections(), 0, "pooled: the session holds no connection");
        })
        .await;
    }
}

mod redirects {
    use super::*;

    fn follow(url: &str, hops: u8) -> Request {
        Request { follow_redirects: hops, ..get(url) }
    }

    #[tokio::test]
    async fn a_chain_is_followed_to_the_final_response() {
        run(async {
            let (addr, requests) = server().await;
            let client = client(None);
            let mut session = Session::new();
            let resp =
                client.send(&mut session, follow(&format!("http://{addr}/r1"), 10)).await.expect("send");
            assert_eq!(resp.status, 200);
            assert_eq!(resp.redirects, 2);
            assert_eq!(text(&resp.body), "final body");
            assert_eq!(resp.body_len, ("moved".len() * 2 + "final body".len()) as u64);
            assert_eq!(requests.load(Ordering::SeqCst), 3);
            assert_eq!(session.connections(), 1, "all hops reused one connection");
        })
        .await;
    }

    #[tokio::test]
    async fn trace_context_goes_on_every_hop_to_any_origin() {
        run(async {
            let (addr, requests) = server().await;
            let (other, other_requests) = server().await;
            let client = client(None);
            let mut req = follow(&format!("http://{addr}/trace-hop?{other}"), 10);
            req.trace = Some(hornet_engine::http::TraceContext {
                trace_id: [0x11; 16],
                span_id: [0x22; 8],
                sampled: true,
                baggage: HeaderValue::from_static("hornet.testid=hop"),
            });
            let resp = client.send(&mut Session::new(), req).await.expect("send");
            assert_eq!(resp.redirects, 1);
            assert_eq!(
                text(&resp.body),
                "00-11111111111111111111111111111111-2222222222222222-01|hornet.testid=hop"
            );
            assert_eq!((requests.load(Ordering::SeqCst), other_requests.load(Ordering::SeqCst)), (1, 1));
        })
        .await;
    }

    #[tokio::test]
    async fn zero_hops_returns_the_redirect() {
        run(async {
            let (addr, requests) = server().await;
            let client = client(None);
            let resp = client.send(&mut Session::new(), follow(&format!("http://{addr}/r1"), 0)).await;
            let resp = resp.expect("send");
            assert_eq!(resp.status, 302);
            assert_eq!(resp.redirects, 0);
            assert_eq!(resp.headers.get(LOCATION).map(|v| v.as_bytes()), Some(&b"r2"[..]));
            assert_eq!(text(&resp.body), "moved");
            assert_eq!(requests.load(Ordering::SeqCst), 1);
        })
        .await;
    }

    #[tokio::test]
    async fn a_loop_is_a_too_many_redirects_error_at_the_limit() {
        run(async {
            let (addr, requests) = server().await;
            let client = client(None);
            let resp = client.send(&mut Session::new(), follow(&format!("http://{addr}/loop"), 3)).await;
            let err = resp.expect_err("a redirect loop is an error");
            assert_eq!(err.kind, ErrorKind::TooManyRedirects);
            assert!(err.message.contains("more than 3 redirects"), "{}", err.message);
            assert_eq!(requests.load(Ordering::SeqCst), 4, "the request and its 3 redirects");
            // Without following, the 3xx itself is the response.
            let resp = client.send(&mut Session::new(), follow(&format!("http://{addr}/loop"), 0)).await;
            assert_eq!(resp.expect("the 302").status, 302);
        })
        .await;
    }

    #[tokio::test]
    async fn a_redirect_without_location_is_returned() {
        run(async {
            let (addr, _) = server().await;
            let resp = client(None)
                .send(&mut Session::new(), follow(&format!("http://{addr}/no-location"), 5))
                .await;
            let resp = resp.expect("send");
            assert_eq!((resp.status, resp.redirects), (302, 0));
        })
        .await;
    }

    fn post(url: &str) -> Request {
        let mut req = follow(url, 10);
        req.method = Method::POST;
        req.body = Bytes::from_static(b"payload");
        req.headers.insert(CONTENT_TYPE, HeaderValue::from_static("text/plain"));
        req
    }

    #[tokio::test]
    async fn see_other_after_post_becomes_a_get_without_body() {
        run(async {
            let (addr, _) = server().await;
            let client = client(None);
            let mut session = Session::new();
            for path in ["see-other", "found"] {
                let resp =
                    client.send(&mut session, post(&format!("http://{addr}/{path}"))).await.expect("send");
                assert_eq!(resp.redirects, 1);
                assert_eq!(text(&resp.body), "GET||||", "{path}");
            }
        })
        .await;
    }

    #[tokio::test]
    async fn temporary_and_permanent_redirects_keep_the_post_body() {
        run(async {
            let (addr, _) = server().await;
            let client = client(None);
            let mut session = Session::new();
            for path in ["temporary", "permanent"] {
                let resp =
                    client.send(&mut session, post(&format!("http://{addr}/{path}"))).await.expect("send");
                assert_eq!(resp.redirects, 1);
                assert_eq!(text(&resp.body), "POST|payload|text/plain||", "{path}");
            }
        })
        .await;
    }

    #[tokio::test]
    async fn cookies_set_on_a_hop_are_sent_on_the_next() {
        run(async {
            let (addr, _) = server().await;
            let client = client(None);
            let mut session = Session::new();
            let resp = client
                .send(&mut session, follow(&format!("http://{addr}/cookie-hop"), 10))
                .await
                .expect("send");
            assert_eq!(resp.redirects, 1);
            assert_eq!(text(&resp.body), "hop=1");
            assert_eq!(
                session.cookies(&uri(&format!("http://{addr}/"))),
                [("hop".to_owned(), "1".to_owned())]
            );
        })
        .await;
    }

    #[tokio::test]
    async fn cross_origin_hops_use_a_connection_per_origin_and_drop_credentials() {
        run(async {
            let (a, _) = server().await;
            let (b, b_requests) = server().await;
            let client = client(None);
            let mut session = Session::new();
            let mut req = follow(&format!("http://{a}/cross?{b}"), 10);
            req.headers.insert(AUTHORIZATION, HeaderValue::from_static("Bearer secret"));
            req.headers.insert(COOKIE, HeaderValue::from_static("own=1"));
            let resp = client.send(&mut session, req).await.expect("send");
            assert_eq!(resp.redirects, 1);
            assert_eq!(text(&resp.body), "GET||||", "no Authorization or own Cookie on the other origin");
            assert_eq!(b_requests.load(Ordering::SeqCst), 1);
            assert_eq!(session.connections(), 2);
            assert!(resp.timings.connect.is_some());
        })
        .await;
    }

    #[tokio::test]
    async fn total_covers_the_chain_and_wait_the_final_response() {
        run(async {
            let (addr, _) = server().await;
            let client = client(None);
            let resp =
                client.send(&mut Session::new(), follow(&format!("http://{addr}/slow-redirect"), 10)).await;
            let t = resp.expect("send").timings;
            assert!(t.total >= Duration::from_millis(120), "{t:?}");
            assert!(t.wait >= Duration::from_millis(55), "{t:?}");
            assert!(t.total >= t.wait + Duration::from_millis(55), "wait is the final hop's only: {t:?}");
        })
        .await;
    }

    #[tokio::test]
    async fn the_timeout_bounds_the_whole_chain() {
        run(async {
            let (addr, _) = server().await;
            let client = HttpClient::new(&ClientConfig {
                timeout: Duration::from_millis(90),
                insecure: false,
                pool: None,
                source_addresses: Vec::new(),
                max_kept_body: hornet_engine::http::DEFAULT_MAX_KEPT_BODY,
            })
            .expect("client");
            // Each hop takes 60 ms: the chain cannot finish in 90 ms.
            let err = client
                .send(&mut Session::new(), follow(&format!("http://{addr}/slow-redirect"), 10))
                .await
                .expect_err("timeout");
            assert_eq!(err.kind, ErrorKind::Timeout, "{err}");
        })
        .await;
    }
}

mod decompression {
    use super::*;

    fn gz(url: &str, keep_body: bool) -> Request {
        Request { keep_body, decompress: true, ..Request::new(Method::GET, uri(url)) }
    }

    #[tokio::test]
    async fn gzip_deflate_and_br_are_decoded_when_kept() {
        run(async {
            let (addr, _) = server().await;
            let client = client(None);
            let mut session = Session::new();
            for (path, wire) in [("gzip", gzip(TEXT)), ("deflate", zlib(TEXT)), ("br", br(TEXT))] {
                let resp = client.send(&mut session, gz(&format!("http://{addr}/{path}"), true)).await;
                let resp = resp.expect(path);
                assert_eq!(resp.body.as_deref(), Some(TEXT), "{path}");
                assert_eq!(resp.body_len, wire.len() as u64, "{path}: body_len counts wire bytes");
                assert_ne!(resp.body_len, TEXT.len() as u64);
                assert_eq!(resp.headers.get(CONTENT_ENCODING).map(|v| v.as_bytes()), Some(path.as_bytes()));
            }
        })
        .await;
    }

    #[tokio::test]
    async fn bodies_are_not_decoded_unless_asked_and_kept() {
        run(async {
            let (addr, _) = server().await;
            let client = client(None);
            let mut session = Session::new();
            // decompress off: the body is kept as received.
            let raw = client.send(&mut session, get(&format!("http://{addr}/gzip"))).await.expect("raw");
            assert_eq!(raw.body.as_deref(), Some(&gzip(TEXT)[..]));
            // Not kept: nothing is decoded, so even a corrupt body is fine.
            let resp = client.send(&mut session, gz(&format!("http://{addr}/corrupt-gzip"), false)).await;
            let resp = resp.expect("not decoded");
            assert_eq!(resp.body, None);
            assert_eq!(resp.body_len, "this is not gzip data".len() as u64);
        })
        .await;
    }

    #[tokio::test]
    async fn corrupt_gzip_is_a_protocol_error() {
        run(async {
            let (addr, _) = server().await;
            let err = client(None)
                .send(&mut Session::new(), gz(&format!("http://{addr}/corrupt-gzip"), true))
                .await
                .expect_err("corrupt");
            assert_eq!(err.kind, ErrorKind::Protocol);
            assert!(err.message.contains("invalid gzip response body"), "{}", err.message);
            assert!(err.timings.total > Duration::ZERO);
        })
        .await;
    }

    #[tokio::test]
    async fn accept_encoding_is_sent_only_when_decompressing() {
        run(async {
            let (addr, _) = server().await;
            let client = client(None);
            let mut session = Session::new();
            let url = format!("http://{addr}/accept-encoding");
            let off = client.send(&mut session, get(&url)).await.expect("off");
            assert_eq!(text(&off.body), "none");
            let on = client.send(&mut session, gz(&url, true)).await.expect("on");
            assert_eq!(text(&on.body), hornet_engine::http::ACCEPT_ENCODING_VALUE);
            let mut own = gz(&url, true);
            own.headers.insert(ACCEPT_ENCODING, HeaderValue::from_static("identity"));
            let own = client.send(&mut session, own).await.expect("own");
            assert_eq!(text(&own.body), "identity");
        })
        .await;
    }

    #[tokio::test]
    async fn the_final_response_of_a_redirect_is_decoded() {
        run(async {
            let (addr, _) = server().await;
            let req = Request { follow_redirects: 10, ..gz(&format!("http://{addr}/gzip-redirect"), true) };
            let resp = client(None).send(&mut Session::new(), req).await.expect("send");
            assert_eq!(resp.redirects, 1);
            assert_eq!(resp.body.as_deref(), Some(TEXT));
        })
        .await;
    }
}
