//! The web UI's HTTP API against the real binary and the embedded target (loopback only):
//! `hornet ui` start / change / reset / download / stop, `hornet run --ui`, the token and the
//! address rules. A tiny HTTP/1.1 client over `TcpStream` keeps the test free of new dependencies.

mod common;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::process::{Child, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

/// A reply: status, headers (lowercase names), body.
struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: String,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }

    fn json(&self) -> Value {
        serde_json::from_str(&self.body).unwrap_or_else(|e| panic!("not JSON ({e}): {}", self.body))
    }
}

fn dechunk(body: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    let mut rest = body;
    for _ in 0..100_000 {
        let Some(line_end) = rest.windows(2).position(|w| w == b"\r\n") else { break };
        let size = usize::from_str_radix(std::str::from_utf8(&rest[..line_end]).unwrap_or("0").trim(), 16)
            .unwrap_or(0);
        if size == 0 {
            break;
        }
        let start = line_end + 2;
        out.extend_from_slice(&rest[start..(start + size).min(rest.len())]);
        rest = &rest[(start + size + 2).min(rest.len())..];
    }
    out
}

/// One request with `Connection: close`; `extra` are raw header lines.
fn request(addr: SocketAddr, method: &str, path: &str, extra: &[&str], body: &str) -> Reply {
    let mut s = TcpStream::connect(addr).expect("connect to the UI");
    s.set_read_timeout(Some(Duration::from_secs(15))).expect("timeout");
    let mut head = format!(
        "{method} {path} HTTP/1.1\r\nHost: {addr}\r\nConnection: close\r\nContent-Length: {}\r\n",
        body.len()
    );
    for h in extra {
        head.push_str(h);
        head.push_str("\r\n");
    }
    head.push_str("\r\n");
    s.write_all(head.as_bytes()).and_then(|()| s.write_all(body.as_bytes())).expect("send");
    let mut raw = Vec::new();
    s.read_to_end(&mut raw).expect("read reply");
    let split = raw.windows(4).position(|w| w == b"\r\n\r\n").expect("a header block");
    let head = String::from_utf8_lossy(&raw[..split]).to_string();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split(' ').nth(1)).and_then(|c| c.parse().ok()).expect("status");
    let headers: Vec<(String, String)> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let mut body = raw[split + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v.contains("chunked")) {
        body = dechunk(&body);
    }
    Reply { status, headers, body: String::from_utf8_lossy(&body).to_string() }
}

fn get(addr: SocketAddr, path: &str) -> Reply {
    request(addr, "GET", path, &[], "")
}

fn post(addr: SocketAddr, path: &str, body: &str) -> Reply {
    request(addr, "POST", path, &["Content-Type: application/json"], body)
}

/// A `hornet` child whose stderr is read on a thread; the UI's address is parsed from it.
struct Served {
    child: Child,
    addr: SocketAddr,
    stderr: mpsc::Receiver<String>,
}

impl Served {
    fn start(args: &[&str]) -> Served {
        let mut child = hornet()
            .args(args)
            .env_remove("HORNET_UI_TOKEN")
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn hornet");
        let err = child.stderr.take().expect("stderr");
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        let deadline = Instant::now() + Duration::from_secs(20);
        let mut seen = String::new();
        while Instant::now() < deadline {
            let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) else { continue };
            seen.push_str(&line);
            seen.push('\n');
            if let Some(url) = line.strip_prefix("hornet: web UI at http://") {
                let addr: SocketAddr = url.trim_end_matches('/').parse().expect("an address in the URL");
                // 0.0.0.0 binds every interface: connect over loopback only.
                let addr = SocketAddr::from(([127, 0, 0, 1], addr.port()));
                return Served { child, addr, stderr: rx };
            }
        }
        let _ = child.kill();
        let _ = child.wait();
        panic!("no UI address printed:\n{seen}");
    }

    fn interrupt(&mut self) {
        // SAFETY: sending a signal to our own child process by its id.
        unsafe { libc::kill(self.child.id() as libc::pid_t, libc::SIGINT) };
    }

    /// Waits (bounded) for the process to exit; returns its code and the rest of stderr.
    fn wait(mut self, within: Duration) -> (Option<i32>, String) {
        let deadline = Instant::now() + within;
        loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                let rest: Vec<String> = self.stderr.try_iter().collect();
                return (status.code(), rest.join("\n"));
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                panic!("hornet did not exit within {within:?}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}

impl Drop for Served {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Polls `GET /api/stats` until `pred` holds (at most `within`); returns that snapshot.
fn stats_until(addr: SocketAddr, within: Duration, what: &str, pred: impl Fn(&Value) -> bool) -> Value {
    let deadline = Instant::now() + within;
    let mut last = Value::Null;
    while Instant::now() < deadline {
        last = get(addr, "/api/stats").json();
        if pred(&last) {
            return last;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    panic!("{what} did not happen within {within:?}; last snapshot: {last}");
}

const SCRIPT: &str = r#"
config:
  target: TARGET
  phases:
    - duration: 3
      arrivalRate: 5
  ensure:
    thresholds:
      - http.response_time.p95: 5000
scenarios:
  - flow:
      - get: { url: "/" }
"#;

#[test]
fn ui_start_change_reset_download_stop() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let report = case.report_path();
    let s = Served::start(&[
        "ui",
        script.to_str().expect("utf-8 path"),
        "--ui-addr",
        "127.0.0.1:0",
        "-o",
        report.to_str().expect("utf-8 path"),
    ]);
    let a = s.addr;

    let state = get(a, "/api/state").json();
    assert_eq!(state["state"], "ready");
    assert_eq!(state["can_start"], true);
    assert_eq!(get(a, "/api/download/stats.csv").status, 409, "nothing to download before a run");
    assert_eq!(post(a, "/api/stop", "").status, 409);

    // Bad input is a 400 with a JSON message.
    for bad in [r#"{"rate": -1}"#, r#"{"rate": 5, "users": 2}"#, "nope", r#"{"ramp_s": 3}"#] {
        let r = post(a, "/api/start", bad);
        assert_eq!(r.status, 400, "{bad}: {}", r.body);
        assert!(r.json()["error"].as_str().is_some_and(|m| !m.is_empty()));
    }

    let r = post(a, "/api/start", r#"{"rate": 20, "ramp_s": 1}"#);
    assert_eq!(r.status, 202, "{}", r.body);
    assert_eq!(post(a, "/api/start", "{}").status, 409, "one run at a time");
    let snap = stats_until(a, Duration::from_secs(10), "the table filling", |v| {
        v["state"] == "running" && v["total"]["requests"].as_u64().unwrap_or(0) > 10
    });
    assert_eq!(snap["stats"][0]["type"], "GET");
    assert_eq!(snap["stats"][0]["name"], "/");
    assert!(snap["checks"]["items"][0]["ok"].as_bool().unwrap_or(false), "live checks: {}", snap["checks"]);
    assert_eq!(snap["workers"][0]["threads"].as_u64().map(|n| n > 0), Some(true));

    // The rate follows a change within a few seconds.
    assert_eq!(post(a, "/api/load", r#"{"users": 3}"#).status, 400, "an open-model run has no user count");
    let r = post(a, "/api/load", r#"{"rate": 60}"#);
    assert_eq!(r.status, 202, "{}", r.body);
    stats_until(a, Duration::from_secs(6), "the rate following 60/s", |v| {
        v["current_rps"].as_f64().is_some_and(|r| (50.0..=70.0).contains(&r))
    });

    // The history has one point per tick so far; the stream sends snapshots.
    let h = get(a, "/api/history").json();
    let points = h["t"].as_array().map_or(0, Vec::len);
    assert!(points >= 3, "{h}");
    assert_eq!(h["rps"].as_array().map(Vec::len), Some(points));
    let mut sse = TcpStream::connect(a).expect("connect");
    sse.set_read_timeout(Some(Duration::from_secs(5))).expect("timeout");
    write!(sse, "GET /api/stream HTTP/1.1\r\nHost: {a}\r\n\r\n").expect("send");
    let mut buf = vec![0u8; 64 * 1024];
    let mut got = String::new();
    let deadline = Instant::now() + Duration::from_secs(5);
    while got.matches("event: snapshot").count() < 2 && Instant::now() < deadline {
        let n = sse.read(&mut buf).unwrap_or(0);
        if n == 0 {
            break;
        }
        got.push_str(&String::from_utf8_lossy(&buf[..n]));
    }
    assert!(got.contains("text/event-stream"), "{got}");
    assert!(got.matches("event: snapshot").count() >= 2, "two snapshots within 5 s: {got}");

    // Reset clears the totals but keeps the run going.
    let before = get(a, "/api/stats").json()["total"]["requests"].as_u64().unwrap_or(0);
    assert_eq!(post(a, "/api/reset", "").status, 202);
    let after = stats_until(a, Duration::from_secs(5), "the reset", |v| v["reset_at_s"].is_number());
    assert!(
        after["total"]["requests"].as_u64().unwrap_or(u64::MAX) < before,
        "{before} -> {}",
        after["total"]
    );

    // Downloads of the current aggregate, with the right headers.
    let csv = get(a, "/api/download/stats.csv");
    assert_eq!(csv.status, 200, "{}", csv.body);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(csv.header("content-disposition"), Some("attachment; filename=\"hornet_stats.csv\""));
    assert!(csv.body.starts_with("Type,Name,Request Count,Failure Count,"), "{}", csv.body);
    let json = get(a, "/api/download/report.json");
    assert_eq!(json.header("content-type"), Some("application/json"));
    assert_eq!(json.json()["schema"], "hornet-report/1");
    let html = get(a, "/api/download/report.html");
    assert_eq!(html.header("content-type"), Some("text/html; charset=utf-8"));
    assert!(html.body.contains("<html"));
    assert!(get(a, "/api/download/stats_history.csv").body.starts_with("Timestamp,"));
    assert!(get(a, "/api/download/failures.csv").body.starts_with("Method,Name,Error,Occurrences"));
    assert_eq!(get(a, "/api/download/secrets.txt").status, 404);

    // Stop: the final figures stay, and a new Start is possible.
    assert_eq!(post(a, "/api/stop", "").status, 202);
    let done = stats_until(a, Duration::from_secs(10), "the run stopping", |v| v["state"] == "stopped");
    assert_eq!(done["final"], true);
    assert!(done["total"]["requests"].as_u64().unwrap_or(0) > 0);
    assert_eq!(get(a, "/api/state").json()["can_start"], true);
    assert!(report.exists(), "the run's report is written as after hornet run");
    assert_eq!(get(a, "/api/download/stats.csv").status, 200, "downloads of the final report");

    // A second run, as scripted, ends by itself.
    assert_eq!(post(a, "/api/start", "{}").status, 202);
    stats_until(a, Duration::from_secs(15), "the scripted run ending", |v| {
        v["state"] == "stopped" && v["run"] == 2
    });

    let mut s = s;
    s.interrupt();
    let (code, _) = s.wait(Duration::from_secs(10));
    assert_eq!(code, Some(0), "Ctrl-C between runs exits with the latest run's code");
}

#[test]
fn run_with_ui_serves_while_running_then_exits() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let s = Served::start(&["run", script.to_str().expect("utf-8 path"), "--ui", "--ui-addr", "127.0.0.1:0"]);
    let snap = stats_until(s.addr, Duration::from_secs(10), "stats during the run", |v| {
        v["state"] == "running" && v["total"]["requests"].as_u64().unwrap_or(0) > 0
    });
    assert_eq!(snap["load"], "as scripted");
    let page = get(s.addr, "/");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("hornet"));
    let (code, _) = s.wait(Duration::from_secs(20));
    assert_eq!(code, Some(0));
}

#[test]
fn non_loopback_needs_a_token_and_the_token_is_enforced() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let path = script.to_str().expect("utf-8 path");
    let out = hornet()
        .args(["ui", path, "--ui-addr", "0.0.0.0:0"])
        .env_remove("HORNET_UI_TOKEN")
        .output()
        .expect("run hornet");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("--ui-token"), "{}", text(&out));

    let s = Served::start(&["ui", path, "--ui-addr", "0.0.0.0:0", "--ui-token", "s3cret"]);
    let a = s.addr;
    let r = get(a, "/api/state");
    assert_eq!(r.status, 401);
    assert_eq!(r.header("www-authenticate"), Some("Bearer"));
    assert_eq!(get(a, "/").status, 401);
    assert_eq!(request(a, "GET", "/api/state", &["Authorization: Bearer wrong"], "").status, 401);
    assert_eq!(request(a, "POST", "/api/start", &["Authorization: Bearer wrong"], "{}").status, 401);
    assert_eq!(request(a, "GET", "/api/state", &["Authorization: Bearer s3cret"], "").status, 200);
    assert_eq!(get(a, "/api/state?token=s3cret").status, 401, "the query token is for the page only");
    let page = get(a, "/?token=s3cret");
    assert_eq!(page.status, 200);
    let cookie = page.header("set-cookie").expect("a cookie").to_string();
    assert!(cookie.contains("HttpOnly"), "{cookie}");
    let pair = cookie.split(';').next().unwrap_or_default();
    assert_eq!(request(a, "GET", "/api/state", &[&format!("Cookie: {pair}")], "").status, 200);
}

#[test]
fn loopback_ui_refuses_foreign_hosts_and_origins() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let s = Served::start(&["ui", script.to_str().expect("utf-8 path"), "--ui-addr", "127.0.0.1:0"]);
    let a = s.addr;
    let mut r = TcpStream::connect(a).expect("connect");
    write!(r, "GET /api/state HTTP/1.1\r\nHost: attacker.example\r\nConnection: close\r\n\r\n")
        .expect("send");
    let mut text = String::new();
    r.read_to_string(&mut text).expect("read");
    assert!(text.starts_with("HTTP/1.1 403"), "{text}");
    let r = request(a, "POST", "/api/start", &["Origin: http://attacker.example"], "{}");
    assert_eq!(r.status, 403);
    assert_eq!(get(a, "/api/state").json()["state"], "ready", "nothing started");
    let js = get(a, "/assets/uPlot.iife.min.js");
    assert_eq!(js.status, 200);
    assert_eq!(js.header("content-type"), Some("text/javascript; charset=utf-8"));
}

/// Screenshots and downloads of the browser test: `target/test-output/ui/`.
fn ui_output_dir() -> std::path::PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(std::path::PathBuf::from)
        .unwrap_or_else(|| std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("test-output").join("ui");
    std::fs::create_dir_all(&dir).expect("create the output folder");
    dir
}

/// The page in headless Chromium (Playwright, `crates/hornet-ui/e2e/ui.mjs`): start at 20/s, the
/// table fills and the RPS chart draws, a change to 60/s shows in the achieved RPS within 5 s,
/// Stop, the Slowest tab lists traced requests with their trace ids linked (`--trace`,
/// `--trace-link`), and the statistics CSV downloads with Locust's header. Skipped (with the reason) when the
/// tools are missing, unless `CI` is set (`hornet_testkit::require`).
#[test]
fn ui_in_a_real_browser() {
    let Some((node, chromium, e2e)) = hornet_testkit::require("ui_in_a_real_browser", browser_tools()) else {
        return;
    };
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let s = Served::start(&[
        "ui",
        script.to_str().expect("utf-8 path"),
        "--ui-addr",
        "127.0.0.1:0",
        "--trace",
        "--trace-link",
        "https://tempo.example/trace/{trace_id}?span={span_id}",
    ]);
    let out_dir = ui_output_dir();
    let (status, stdout, stderr) = run_browser_script(
        &node,
        &e2e,
        "ui.mjs",
        &[
            ("HORNET_UI_URL", format!("http://{}/", s.addr).as_str()),
            ("CHROMIUM", chromium.to_str().expect("utf-8 path")),
            ("OUT_DIR", out_dir.to_str().expect("utf-8 path")),
        ],
    );
    let result: Value =
        stdout.lines().last().and_then(|l| serde_json::from_str(l).ok()).unwrap_or(Value::Null);
    assert!(status.success() && result["ok"] == true, "browser test failed: {result}\n{stderr}");
    let follow = result["rps_follow_ms"].as_u64().unwrap_or(u64::MAX);
    assert!(follow <= 5_000, "the RPS followed the change in {follow} ms");
    assert!(out_dir.join("charts.png").exists());
    assert!(result["traced_rows"].as_u64() >= Some(1), "{result}");
}

/// A closed-model Start takes user counts (not rates), and Ctrl-C during a UI run still writes the
/// report and exits with 130.
#[test]
fn ui_users_start_and_ctrl_c_during_a_run() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let report = case.report_path();
    let mut s = Served::start(&[
        "ui",
        script.to_str().expect("utf-8 path"),
        "--ui-addr",
        "127.0.0.1:0",
        "-o",
        report.to_str().expect("utf-8 path"),
    ]);
    let a = s.addr;
    assert_eq!(post(a, "/api/start", r#"{"users": 2, "ramp_s": 1}"#).status, 202);
    let snap = stats_until(a, Duration::from_secs(10), "users running", |v| {
        v["state"] == "running" && v["total"]["requests"].as_u64().unwrap_or(0) > 0
    });
    assert_eq!(snap["load"], "2 users, ramp 1 s");
    let state = get(a, "/api/state").json();
    assert_eq!(state["can_set"], serde_json::json!({ "rate": false, "users": true }));
    assert_eq!(post(a, "/api/load", r#"{"rate": 10}"#).status, 400);
    assert_eq!(post(a, "/api/load", r#"{"users": 4}"#).status, 202);
    assert_eq!(post(a, "/api/load", r#"{"factor": "x"}"#).status, 400);
    s.interrupt();
    let (code, _) = s.wait(Duration::from_secs(15));
    assert_eq!(code, Some(130));
    let written: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report written")).expect("JSON");
    assert_eq!(written["run"]["interrupted"], true);
}

/// `--ui-linger` keeps serving after the scripted run: final figures, then a new Start.
#[test]
fn run_with_ui_linger_keeps_serving() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let mut s = Served::start(&[
        "run",
        script.to_str().expect("utf-8 path"),
        "--ui",
        "--ui-linger",
        "--ui-addr",
        "127.0.0.1:0",
    ]);
    let done =
        stats_until(s.addr, Duration::from_secs(20), "the scripted run ending", |v| v["state"] == "stopped");
    assert_eq!(done["final"], true);
    assert_eq!(post(s.addr, "/api/start", r#"{"rate": 5, "duration_s": 1}"#).status, 202);
    stats_until(s.addr, Duration::from_secs(20), "the second run ending", |v| {
        v["state"] == "stopped" && v["run"] == 2
    });
    s.interrupt();
    let (code, _) = s.wait(Duration::from_secs(10));
    assert_eq!(code, Some(0));
}

/// A processor's `events.emit` metrics are in the snapshots (live, then final) under their names.
#[test]
fn processor_metrics_are_listed_live_and_in_the_final_snapshot() {
    let t = target();
    let case = Case::new();
    case.script(
        "emit.js",
        "module.exports = { measure(req, res, context, events, next) {\n  events.emit('counter', 'orders.made', 1);\n  \
         events.emit('histogram', 'cart.size', 3);\n  events.emit('rate', 'orders.rate');\n  next();\n} };\n",
    );
    let script = case.script(
        "s.yaml",
        &with_target(
            "config:\n  target: TARGET\n  processor: ./emit.js\n  phases:\n    - duration: 3\n      arrivalRate: 4\nscenarios:\n  - flow:\n      - get: { url: \"/\", afterResponse: measure }\n",
            &t,
        ),
    );
    let row = |v: &Value, name: &str| {
        v["processor_metrics"].as_array().and_then(|rows| rows.iter().find(|r| r["name"] == name).cloned())
    };
    let s = Served::start(&[
        "run",
        script.to_str().expect("utf-8 path"),
        "--ui",
        "--ui-linger",
        "--ui-addr",
        "127.0.0.1:0",
    ]);
    let live = stats_until(s.addr, Duration::from_secs(20), "a live count of orders.made", |v| {
        v["final"] == false && row(v, "orders.made").is_some_and(|r| r["count"].as_u64() > Some(0))
    });
    assert_eq!(row(&live, "orders.made").map(|r| r["kind"].clone()), Some(Value::from("counter")), "{live}");
    let done = stats_until(s.addr, Duration::from_secs(20), "the run ending", |v| v["final"] == true);
    assert_eq!(row(&done, "orders.made").map(|r| r["count"].clone()), Some(Value::from(12)), "{done}");
    let cart = row(&done, "cart.size").unwrap_or_else(|| panic!("{done}"));
    assert_eq!(
        (cart["kind"].as_str(), cart["count"].as_u64(), cart["p99"].as_f64()),
        (Some("histogram"), Some(12), Some(3.0))
    );
    assert_eq!(row(&done, "orders.rate").map(|r| r["kind"].clone()), Some(Value::from("rate")), "{done}");
    assert!(row(&done, "http.requests").is_none(), "hornet's own metrics stay out: {done}");
}

/// With 1,000 endpoint names the API shows the busiest 100 and folds the rest, and stays quick.
#[test]
fn a_thousand_endpoints_are_folded_in_the_api() {
    let t = target();
    let case = Case::new();
    let mut yaml = with_target(
        "config:\n  target: TARGET\n  phases:\n    - duration: 2\n      arrivalRate: 1\nscenarios:\n  - flow:\n",
        &t,
    );
    for i in 0..1000 {
        yaml.push_str(&format!("      - get: {{ url: \"/\", name: \"ep {i:04}\" }}\n"));
    }
    let script = case.script("many.yaml", &yaml);
    let s = Served::start(&["ui", script.to_str().expect("utf-8 path"), "--ui-addr", "127.0.0.1:0"]);
    assert_eq!(post(s.addr, "/api/start", "{}").status, 202);
    let snap = stats_until(s.addr, Duration::from_secs(30), "requests on many endpoints", |v| {
        v["total"]["requests"].as_u64().unwrap_or(0) >= 200
    });
    assert_eq!(snap["endpoints"], 1000);
    assert_eq!(snap["stats"].as_array().map(Vec::len), Some(100));
    assert_eq!(snap["other"]["endpoints"], 900);
    let begun = Instant::now();
    let r = get(s.addr, "/api/stats");
    assert_eq!(r.status, 200);
    assert!(begun.elapsed() < Duration::from_millis(500), "GET /api/stats took {:?}", begun.elapsed());
    assert!(r.body.len() < 128 * 1024, "{} bytes", r.body.len());
}

/// A controller with the UI lists its workers on the Workers tab: their shares by weight, states and
/// exact request counts.
#[test]
fn the_workers_tab_lists_the_workers_of_a_distributed_run() {
    let t = target();
    let case = Case::new();
    let script = case.script(
        "s.yaml",
        &with_target(
            "config:\n  target: TARGET\n  phases:\n    - duration: 3\n      arrivalCount: 400\nscenarios:\n  - flow:\n      - get: { url: \"/\" }\n",
            &t,
        ),
    );
    let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
    let addr = format!("127.0.0.1:{port}");
    let token = case.script("token", "ui-cluster-token\n");
    let token = token.to_str().expect("utf-8 path");
    // Workers first: they keep trying until the controller listens.
    let workers: Vec<Child> = [3, 1]
        .iter()
        .map(|w: &u32| {
            hornet()
                .args(["worker", "--controller", &addr, "--threads", "1", "--weight", &w.to_string()])
                .args(["--token-file", token])
                .stdout(Stdio::null())
                .stderr(Stdio::null())
                .spawn()
                .expect("spawn worker")
        })
        .collect();
    let s = Served::start(&[
        "controller",
        script.to_str().expect("utf-8 path"),
        "--workers",
        "2",
        "--listen",
        &addr,
        "--token-file",
        token,
        "-q",
        "--ui",
        "--ui-linger",
        "--ui-addr",
        "127.0.0.1:0",
    ]);
    let running = stats_until(s.addr, Duration::from_secs(15), "both workers running", |v| {
        v["workers"].as_array().is_some_and(|w| w.len() == 2 && w.iter().all(|w| w["state"] == "running"))
    });
    for w in running["workers"].as_array().expect("workers") {
        assert!(w["address"].as_str().is_some_and(|a| a.starts_with("127.0.0.1:")), "{w}");
    }
    let done = stats_until(s.addr, Duration::from_secs(20), "the run ending", |v| v["state"] == "stopped");
    let rows = done["workers"].as_array().expect("workers");
    let by_weight =
        |weight: u64| rows.iter().find(|w| w["weight"] == weight).expect("a worker of that weight");
    let (big, small) = (by_weight(3), by_weight(1));
    assert_eq!(big["share"], 0.75, "{big}");
    assert_eq!(small["share"], 0.25, "{small}");
    // 400 arrivals split 3:1, exactly.
    assert_eq!(big["requests"], 300, "{big}");
    assert_eq!(small["requests"], 100, "{small}");
    assert!(rows.iter().all(|w| w["state"] == "done"), "{rows:?}");
    assert_eq!(done["total"]["requests"], 400);
    drop(s);
    for mut w in workers {
        let _ = w.kill();
        let _ = w.wait();
    }
}

/// Reports are files that get shared: the web UI token and `--var` values never land in one, nor in
/// the report the UI hands out.
#[test]
fn the_ui_token_and_var_values_never_land_in_a_report_file() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let dir = case.dir.path().to_path_buf();
    let file = |name: &str| dir.join(name).to_str().expect("utf-8 path").to_string();
    let (json, html, csv, junit, summary) =
        (file("r.json"), file("r.html"), file("r"), file("r.xml"), file("summary.json"));
    let mut s = Served::start(&[
        "run",
        script.to_str().expect("utf-8 path"),
        "--var",
        "secret=S3CR3T",
        "--var=other=0TH3R",
        "--ui",
        "--ui-linger",
        "--ui-addr",
        "127.0.0.1:0",
        "--ui-token",
        "T0K3N",
        "-o",
        &json,
        "--html",
        &html,
        "--csv",
        &csv,
        "--junit",
        &junit,
        "--summary-json",
        &summary,
    ]);
    let bearer = "Authorization: Bearer T0K3N";
    let deadline = Instant::now() + Duration::from_secs(20);
    while request(s.addr, "GET", "/api/stats", &[bearer], "").json()["state"] != "stopped" {
        assert!(Instant::now() < deadline, "the run did not end within 20 s");
        std::thread::sleep(Duration::from_millis(200));
    }
    let downloaded = request(s.addr, "GET", "/api/download/report.json", &[bearer], "");
    assert_eq!(downloaded.status, 200);
    s.interrupt();
    let (code, _) = s.wait(Duration::from_secs(10));
    assert_eq!(code, Some(0));
    let mut texts = vec![("/api/download/report.json".to_string(), downloaded.body)];
    for entry in std::fs::read_dir(&dir).expect("ls") {
        let path = entry.expect("entry").path();
        if path != script {
            texts.push((path.display().to_string(), std::fs::read_to_string(&path).expect("a report file")));
        }
    }
    assert!(
        texts.len() >= 8,
        "every report file was written: {:?}",
        texts.iter().map(|t| &t.0).collect::<Vec<_>>()
    );
    for (name, text) in &texts {
        for secret in ["S3CR3T", "0TH3R", "T0K3N"] {
            assert!(!text.contains(secret), "{name} holds {secret}");
        }
    }
    // The command is still recorded, with its secrets redacted.
    let report: Value = serde_json::from_str(&texts[0].1).expect("json");
    let command = report["run"]["command"].as_str().expect("run.command");
    assert!(command.contains("--var secret=*** --var=other=***"), "{command}");
    assert!(command.contains("--ui-token ***"), "{command}");
}
