//! End-to-end tests of the target's endpoints over loopback, with a tiny blocking HTTP/1.1 client.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::thread;
use std::time::{Duration, Instant};

use hornet_target::{RunningTarget, TargetOptions, endpoints_help, serve};
use serde_json::Value;

/// Upper bound for any single read or write in these tests.
const IO_TIMEOUT: Duration = Duration::from_secs(5);

/// A parsed response.
#[derive(Debug)]
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Vec<u8>,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n.eq_ignore_ascii_case(name)).map(|(_, v)| v.as_str())
    }

    fn text(&self) -> &str {
        std::str::from_utf8(&self.body).unwrap()
    }

    fn json(&self) -> Value {
        assert_eq!(self.header("content-type"), Some("application/json"));
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// One keep-alive connection.
struct Client {
    reader: BufReader<TcpStream>,
}

impl Client {
    fn connect(addr: SocketAddr) -> Self {
        let stream = TcpStream::connect_timeout(&addr, IO_TIMEOUT).unwrap();
        stream.set_read_timeout(Some(IO_TIMEOUT)).unwrap();
        stream.set_write_timeout(Some(IO_TIMEOUT)).unwrap();
        Client { reader: BufReader::new(stream) }
    }

    fn send(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) {
        let mut req =
            format!("{method} {target} HTTP/1.1\r\nhost: localhost\r\ncontent-length: {}\r\n", body.len());
        for (name, value) in headers {
            req.push_str(&format!("{name}: {value}\r\n"));
        }
        req.push_str("\r\n");
        let stream = self.reader.get_mut();
        stream.write_all(req.as_bytes()).unwrap();
        stream.write_all(body).unwrap();
    }

    fn receive(&mut self) -> Reply {
        let mut line = String::new();
        self.reader.read_line(&mut line).unwrap();
        let status =
            line.split(' ').nth(1).and_then(|s| s.parse().ok()).unwrap_or_else(|| panic!("{line:?}"));
        let mut headers = Vec::new();
        loop {
            line.clear();
            self.reader.read_line(&mut line).unwrap();
            let line = line.trim_end();
            if line.is_empty() {
                break;
            }
            let (name, value) = line.split_once(':').unwrap();
            headers.push((name.to_ascii_lowercase(), value.trim().to_owned()));
        }
        let reply = Reply { status, headers, body: Vec::new() };
        assert!(reply.header("transfer-encoding").is_none(), "every body has a known length");
        let len: usize = reply.header("content-length").map_or(0, |v| v.parse().unwrap());
        let mut body = vec![0; len];
        self.reader.read_exact(&mut body).unwrap();
        Reply { body, ..reply }
    }

    fn request(&mut self, method: &str, target: &str, headers: &[(&str, &str)], body: &[u8]) -> Reply {
        self.send(method, target, headers, body);
        self.receive()
    }

    fn get(&mut self, target: &str) -> Reply {
        self.request("GET", target, &[], b"")
    }
}

fn target() -> RunningTarget {
    RunningTarget::start(TargetOptions::default()).unwrap()
}

fn get(target: &RunningTarget, path: &str) -> Reply {
    Client::connect(target.addr()).get(path)
}

#[test]
fn root_is_short_text() {
    let t = target();
    assert!(t.addr().ip().is_loopback());
    assert_eq!(t.url(), format!("http://127.0.0.1:{}", t.addr().port()));
    let reply = get(&t, "/");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "hornet target\n");
    assert_eq!(reply.header("content-type"), Some("text/plain; charset=utf-8"));
    assert_eq!(reply.header("content-length"), Some("14"));
}

#[test]
fn json_is_a_small_object() {
    let t = target();
    let reply = get(&t, "/json");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.json(), serde_json::json!({"name": "hornet", "items": [1, 2, 3], "ok": true}));
}

#[test]
fn unknown_path_is_404_text() {
    let t = target();
    for path in ["/nope", "/json/extra", "/delay", "/items/abc"] {
        let reply = get(&t, path);
        assert_eq!(reply.status, 404, "{path}");
        assert_eq!(reply.text(), "not found\n");
        assert_eq!(reply.header("content-type"), Some("text/plain; charset=utf-8"));
    }
}

#[test]
fn delay_waits_at_least_the_given_time() {
    let t = target();
    let mut client = Client::connect(t.addr());
    let start = Instant::now();
    let reply = client.get("/delay/50");
    assert!(start.elapsed() >= Duration::from_millis(50), "{:?}", start.elapsed());
    assert_eq!(reply.status, 200);
    assert_eq!(client.get("/delay/abc").status, 400);
    assert_eq!(client.get("/delay/600001").status, 400);
}

#[test]
fn status_echoes_valid_codes_only() {
    let t = target();
    let mut client = Client::connect(t.addr());
    let teapot = client.get("/status/418");
    assert_eq!(teapot.status, 418);
    assert_eq!(teapot.text(), "I'm a teapot");
    assert_eq!(client.get("/status/503").status, 503);
    assert_eq!(client.get("/status/599").status, 599);
    let no_content = client.get("/status/204");
    assert_eq!(no_content.status, 204);
    assert!(no_content.body.is_empty());
    for bad in ["/status/199", "/status/600", "/status/abc", "/status/100"] {
        assert_eq!(client.get(bad).status, 400, "{bad}");
    }
    // The connection survived all of that.
    assert_eq!(client.get("/").status, 200);
}

#[test]
fn bytes_returns_exactly_n_bytes() {
    let t = target();
    let mut client = Client::connect(t.addr());
    for n in [0usize, 1, 65_536, 1_000_003] {
        let reply = client.get(&format!("/bytes/{n}"));
        assert_eq!(reply.status, 200);
        assert_eq!(reply.header("content-length"), Some(n.to_string().as_str()));
        assert_eq!(reply.header("content-type"), Some("application/octet-stream"));
        assert_eq!(reply.body.len(), n);
    }
    assert_eq!(client.get("/bytes/104857601").status, 400);
    assert_eq!(client.get("/bytes/lots").status, 400);
}

#[test]
fn echo_reflects_the_request() {
    let t = target();
    let mut client = Client::connect(t.addr());
    let reply =
        client.request("PUT", "/echo/x?a=1&b=two", &[("x-test", "yes"), ("x-test", "again")], b"hi \xff");
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    assert_eq!(doc["method"], "PUT");
    assert_eq!(doc["path"], "/echo/x");
    assert_eq!(doc["query"], "a=1&b=two");
    assert_eq!(doc["headers"]["x-test"], "yes, again");
    assert_eq!(doc["headers"]["host"], "localhost");
    assert_eq!(doc["body"], "hi \u{fffd}");
    let plain = client.get("/echo").json();
    assert_eq!(
        (plain["method"].as_str(), plain["query"].as_str(), plain["body"].as_str()),
        (Some("GET"), Some(""), Some(""))
    );
}

#[test]
fn login_issues_token_and_session_cookie() {
    let t = target();
    let mut client = Client::connect(t.addr());
    let reply = client.request(
        "POST",
        "/login",
        &[("content-type", "application/json")],
        br#"{"username":"alice","password":"secret"}"#,
    );
    assert_eq!(reply.status, 200);
    let cookie = reply.header("set-cookie").unwrap().to_owned();
    let doc = reply.json();
    assert_eq!(doc["user"], "alice");
    let token = doc["token"].as_str().unwrap();
    let hex = token.strip_prefix("tok-").unwrap();
    assert!(!hex.is_empty() && hex.chars().all(|c| c.is_ascii_hexdigit()), "{token}");
    let session = cookie.strip_prefix("session=").unwrap();
    assert!(session.ends_with("; Path=/; HttpOnly"), "{cookie}");

    let form = client.request(
        "POST",
        "/login",
        &[("content-type", "application/x-www-form-urlencoded")],
        b"username=bob%40example.com&password=x",
    );
    let form_doc = form.json();
    assert_eq!(form_doc["user"], "bob@example.com");
    assert_ne!(form_doc["token"], doc["token"], "tokens are random");
    assert_ne!(form.header("set-cookie").unwrap(), cookie, "sessions are random");

    assert_eq!(client.request("POST", "/login", &[], b"").json()["user"], "anonymous");
    assert_eq!(client.request("POST", "/login", &[], b"{broken").json()["user"], "anonymous");

    let wrong = client.get("/login");
    assert_eq!(wrong.status, 405);
    assert_eq!(wrong.header("allow"), Some("POST"));
}

#[test]
fn items_list_and_lookup() {
    let t = target();
    let mut client = Client::connect(t.addr());
    let list = client.get("/items").json();
    let items = list["items"].as_array().unwrap();
    assert_eq!(items.len(), 10);
    for (i, item) in items.iter().enumerate() {
        assert_eq!(item["id"], i + 1);
        assert_eq!(item["name"], format!("item {}", i + 1));
        assert!(item["price"].as_f64().unwrap() > 0.0);
    }
    let one = client.get("/items/7").json();
    assert_eq!(one["id"], 7);
    assert_eq!(one["name"], "item 7");
    assert_eq!(client.get("/items/1000").json()["id"], 1000);
    assert_eq!(client.get("/items/0").status, 404);
    assert_eq!(client.get("/items/1001").status, 404);
}

#[test]
fn flaky_follows_probability_bounds() {
    let t = target();
    let mut client = Client::connect(t.addr());
    for _ in 0..30 {
        assert_eq!(client.get("/flaky?p=1").status, 503);
        assert_eq!(client.get("/flaky?p=0").status, 200);
        assert_eq!(client.get("/flaky?x=y&p=9").status, 503, "p clamps to 1");
    }
    // Default p = 0.1: out of 300 tries some fail and most succeed (failing by chance: < 1e-13).
    let failures = (0..300).filter(|_| client.get("/flaky").status == 503).count();
    assert!((1..150).contains(&failures), "{failures}");
}

/// Three requests at once to one worker of 40 ms: served one after the other, each answer saying
/// how long it waited; a bad setting is a 400 naming the parameter.
#[test]
fn capacity_serves_one_request_per_worker_at_a_time() {
    let t = target();
    let started = Instant::now();
    let waits: Vec<f64> = thread::scope(|s| {
        // Turns of 100 ms, so the three arrive within one turn even on a loaded machine.
        let calls: Vec<_> = (0..3).map(|_| s.spawn(|| get(&t, "/capacity?workers=1&ms=100"))).collect();
        calls.into_iter().map(|c| c.join().unwrap().json()["queued_ms"].as_f64().unwrap()).collect()
    });
    assert!(started.elapsed() >= Duration::from_millis(300), "{:?}", started.elapsed());
    let mut waits = waits;
    waits.sort_by(f64::total_cmp);
    assert!(waits[2] >= 100.0, "the last one waited more than a turn (two, arriving together): {waits:?}");
    let bad = get(&t, "/capacity?workers=4");
    assert_eq!(bad.status, 400);
    assert!(bad.json()["error"].as_str().unwrap().contains("missing ms"));
}

#[test]
fn stall_holds_concurrent_responses() {
    let t = target();
    let addr = t.addr();
    let start = Instant::now();
    let staller = thread::spawn(move || Client::connect(addr).get("/stall/200"));
    // Give the stall request time to arrive before the next one.
    thread::sleep(Duration::from_millis(50));
    let reply = get(&t, "/");
    let waited = start.elapsed();
    assert_eq!(reply.status, 200);
    assert!(waited >= Duration::from_millis(200), "{waited:?}");
    let stall = staller.join().unwrap();
    assert_eq!(stall.status, 200);
    assert!(start.elapsed() >= Duration::from_millis(200));
    // Once over, responses are immediate again.
    let after = Instant::now();
    assert_eq!(get(&t, "/").status, 200);
    assert!(after.elapsed() < Duration::from_millis(150), "{:?}", after.elapsed());
    assert_eq!(get(&t, "/stall/x").status, 400);
}

#[test]
fn keep_alive_serves_several_requests_on_one_connection() {
    let t = target();
    let mut client = Client::connect(t.addr());
    let first = client.get("/");
    assert_eq!(first.header("connection"), None, "not closing");
    assert_eq!(first.text(), "hornet target\n");
    assert_eq!(client.get("/json").status, 200);
    // Pipelined: both requests written before either response is read.
    client.send("GET", "/items/2", &[], b"");
    client.send("GET", "/", &[], b"");
    assert_eq!(client.receive().json()["id"], 2);
    assert_eq!(client.receive().text(), "hornet target\n");
}

#[test]
fn multi_threaded_target_serves_concurrent_clients() {
    let t = RunningTarget::start(TargetOptions { threads: 2, ..TargetOptions::default() }).unwrap();
    let addr = t.addr();
    let clients: Vec<_> = (0..4)
        .map(|_| {
            thread::spawn(move || (0..20).map(|_| Client::connect(addr).get("/").status).collect::<Vec<_>>())
        })
        .collect();
    for client in clients {
        assert!(client.join().unwrap().iter().all(|&s| s == 200));
    }
}

#[test]
fn stop_is_bounded_and_closes_the_port() {
    let t = target();
    let addr = t.addr();
    // An in-flight request that would take far longer than the shutdown grace.
    let mut slow = Client::connect(addr);
    slow.send("GET", "/delay/10000", &[], b"");
    thread::sleep(Duration::from_millis(50));
    let start = Instant::now();
    t.stop();
    assert!(start.elapsed() < Duration::from_millis(1500), "{:?}", start.elapsed());
    assert!(TcpStream::connect_timeout(&addr, IO_TIMEOUT).is_err(), "no longer accepting");
    let mut rest = Vec::new();
    // The dropped connection reads as closed (0 bytes) or reset, not as a response.
    let read = slow.reader.read_to_end(&mut rest);
    assert!(read.is_err() || rest.is_empty(), "{read:?}");
}

#[test]
fn drop_stops_the_target() {
    let addr = {
        let t = target();
        assert_eq!(get(&t, "/").status, 200);
        t.addr()
    };
    assert!(TcpStream::connect_timeout(&addr, IO_TIMEOUT).is_err());
}

#[test]
fn serve_runs_on_the_callers_runtime_until_shutdown() {
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let server = tokio::spawn(serve(listener, async {
            let _ = stop_rx.await;
        }));
        let reply = tokio::task::spawn_blocking(move || {
            let mut client = Client::connect(addr);
            (client.get("/json").status, client.get("/").text().to_owned())
        })
        .await
        .unwrap();
        assert_eq!(reply, (200, "hornet target\n".to_owned()));
        stop_tx.send(()).unwrap();
        let result = tokio::time::timeout(Duration::from_secs(2), server).await.unwrap().unwrap();
        assert!(result.is_ok());
    });
}

#[test]
fn endpoints_help_lists_every_endpoint() {
    let help = endpoints_help();
    for path in [
        "/ ",
        "/json",
        "/delay/",
        "/status/",
        "/bytes/",
        "/echo",
        "/login",
        "/items",
        "/items/",
        "/flaky",
        "/stall/",
        "/redirect/",
        "/gzip",
        "/html",
        "/capacity",
        "/app/",
        "/ws/echo",
        "/ws/broadcast",
        "/ws/ticker",
    ] {
        assert!(help.contains(path), "{path}");
    }
    assert_eq!(help.lines().count(), 19);
}

#[test]
fn redirect_counts_down_to_200() {
    let t = target();
    let reply = get(&t, "/redirect/2");
    assert_eq!(reply.status, 302);
    assert_eq!(reply.header("location"), Some("/redirect/1"));
    let reply = get(&t, "/redirect/0");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.text(), "redirected\n");
    assert_eq!(get(&t, "/redirect/101").status, 400);
}

#[test]
fn gzip_body_decodes_to_the_json_body() {
    use std::io::Read;
    let t = target();
    let reply = get(&t, "/gzip");
    assert_eq!(reply.status, 200);
    assert_eq!(reply.header("content-encoding"), Some("gzip"));
    let mut decoded = String::new();
    flate2::read::GzDecoder::new(reply.body.as_slice()).read_to_string(&mut decoded).unwrap();
    assert_eq!(decoded, get(&t, "/json").text());
    assert!(reply.body.len() as u64 > 10 && reply.body != decoded.as_bytes());
}

#[test]
fn html_page_has_items_and_a_csrf_field() {
    let t = target();
    let reply = get(&t, "/html");
    assert_eq!(reply.header("content-type"), Some("text/html; charset=utf-8"));
    let page = reply.text();
    assert_eq!(page.matches("class=\"item\"").count(), 3);
    assert!(page.contains("value=\"csrf-token-42\""));
}

fn recording_target() -> RunningTarget {
    RunningTarget::start_recording(TargetOptions::default(), false).unwrap()
}

#[test]
fn recording_target_answers_unknown_paths_with_a_generic_document() {
    let t = recording_target();
    let mut client = Client::connect(t.addr());
    let reply = client.request(
        "POST",
        "/api/v1/users?page=2",
        &[("content-type", "application/json")],
        br#"{"name":"ann"}"#,
    );
    assert_eq!(reply.status, 200);
    let doc = reply.json();
    assert_eq!(doc["token"], "corpus-token");
    assert_eq!(doc["json"], serde_json::json!({"name": "ann"}));
    assert_eq!(doc["args"], serde_json::json!({"page": "2"}));
    assert_eq!(doc["headers"]["Content-Type"], "application/json");
    // Known routes keep their behaviour.
    assert_eq!(client.get("/").text(), "hornet target\n");
    assert_eq!(client.get("/items/abc").status, 404);
}

#[test]
fn recording_target_logs_requests_per_route_and_clears_on_delete() {
    let t = recording_target();
    let mut client = Client::connect(t.addr());
    client.request(
        "POST",
        "/users/7",
        &[("content-type", "application/json"), ("x-key", "k1")],
        br#"{"n":1}"#,
    );
    client.request(
        "POST",
        "/users/8",
        &[("content-type", "application/json"), ("x-key", "k1")],
        br#"{"n":2}"#,
    );
    client.get("/json?q=a");
    let log = client.get("/_hornet/requests").json();
    assert_eq!(log, t.requests().unwrap(), "the endpoint and the in-process API agree");
    assert_eq!(log["total"], 3, "{log}");
    let users = &log["routes"]["POST /users/{n}"];
    assert_eq!(users["count"], 2);
    assert_eq!(users["fields"]["header:x-key"]["values"], serde_json::json!(["k1"]));
    assert_eq!(users["fields"]["json:n"]["values"], serde_json::json!(["1", "2"]));
    assert_eq!(log["routes"]["GET /json"]["fields"]["query:q"]["values"], serde_json::json!(["a"]));
    let cleared = client.request("DELETE", "/_hornet/requests", &[], b"").json();
    assert_eq!(cleared["total"], 3, "DELETE answers what the log held");
    assert_eq!(t.requests().unwrap()["total"], 0);
    t.clear_requests();
    assert_eq!(client.request("PUT", "/_hornet/requests", &[], b"").status, 405);
}

#[test]
fn recording_target_keeps_every_traceparent_in_order() {
    let t = recording_target();
    let mut client = Client::connect(t.addr());
    // More than the per-field value cap of the summary: every one is kept here.
    for n in 0..20u32 {
        let traceparent = format!("00-{:032x}-{:016x}-01", n + 1, n + 100);
        client.request(
            "GET",
            &format!("/delay/{n}"),
            &[("traceparent", &traceparent), ("baggage", "hornet.testid=x")],
            b"",
        );
    }
    client.get("/json");
    let received = t.trace_contexts().unwrap();
    assert_eq!(received.len(), 20, "requests without one are not listed");
    assert_eq!(received[3].request, "GET /delay/3");
    assert_eq!(received[3].traceparent, format!("00-{:032x}-{:016x}-01", 4, 103));
    assert_eq!(received[3].baggage.as_deref(), Some("hornet.testid=x"));
    let doc = client.get("/_hornet/traceparents").json();
    assert_eq!(doc["received"].as_array().map(Vec::len), Some(20));
    assert_eq!(doc["received"][19]["request"], "GET /delay/19");
    assert_eq!(doc["dropped"], 0);
    client.request("DELETE", "/_hornet/traceparents", &[], b"");
    assert!(t.trace_contexts().unwrap().is_empty());
}

#[test]
fn plain_target_neither_records_nor_answers_unknown_paths() {
    let t = target();
    assert!(t.requests().is_none());
    assert_eq!(get(&t, "/_hornet/requests").status, 404);
    assert_eq!(get(&t, "/api/users").status, 404);
}
