//! End-to-end tests of distributed runs on 127.0.0.1: exact splits against the single-machine run,
//! merged percentiles, lost workers under each policy, a lost controller, and refused peers.

mod common;

use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use common::*;
use serde_json::Value;

const SCRIPT: &str = r#"
config:
  target: TARGET
  phases:
    - duration: 2
      arrivalCount: 41
    - duration: 2
      arrivalRate: 29
scenarios:
  - name: main
    flow:
      - get:
          url: "/"
      - get:
          url: "/json"
"#;

/// The cluster token of the tests' controllers and workers (through `HORNET_CLUSTER_TOKEN`).
const TOKEN: &str = "distributed-test-token";

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// Spawns a process with its stderr read line by line on a thread.
fn spawn(mut cmd: std::process::Command) -> (Child, Receiver<String>) {
    let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn hornet");
    let err = child.stderr.take().expect("stderr");
    let (tx, rx) = channel();
    std::thread::spawn(move || {
        for line in BufReader::new(err).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    (child, rx)
}

/// Waits for a line containing `needle`, for at most `limit`; returns it and when it came.
fn wait_line(
    rx: &Receiver<String>,
    needle: &str,
    limit: Duration,
    seen: &mut Vec<String>,
) -> Option<(String, Instant)> {
    let deadline = Instant::now() + limit;
    while let Ok(line) = rx.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
        seen.push(line.clone());
        if line.contains(needle) {
            return Some((line, Instant::now()));
        }
    }
    None
}

fn wait_exit(child: &mut Child, limit: Duration) -> Option<i32> {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline {
        if let Ok(Some(status)) = child.try_wait() {
            return Some(status.code().unwrap_or(-1));
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    None
}

fn kill(child: &mut Child) {
    let _ = child.kill();
    let _ = child.wait();
}

#[test]
fn three_local_workers_deliver_exactly_the_single_machine_run_with_exact_merged_percentiles() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let single = run_ok(&case, &script, &["-q", "--seed", "11"]);
    let dist = run_ok(&case, &script, &["-q", "--seed", "11", "--local-workers", "3"]);
    // 41 + 2·29 arrivals, two requests each.
    for name in ["vusers.created", "vusers.completed", "http.requests", "http.responses"] {
        assert_eq!(counter(&dist, name), counter(&single, name), "{name}");
    }
    assert_eq!(counter(&dist, "vusers.created"), 99);
    assert_eq!(counter(&dist, "http.requests"), 198);
    assert_eq!(dist["run"]["host"], "controller + 3 workers");
    // The report lists the workers: a third each, their requests adding up to the total.
    let workers = dist["workers"].as_array().expect("workers in the report");
    assert_eq!(workers.len(), 3);
    assert!(
        workers
            .iter()
            .all(|w| w["state"] == "done" && (w["share"].as_f64().unwrap() - 1.0 / 3.0).abs() < 1e-9)
    );
    assert_eq!(workers.iter().map(|w| w["requests"].as_u64().unwrap()).sum::<u64>(), 198);
    assert!(single.get("workers").is_none(), "a run on one machine has no workers list");
    // Percentiles come from the merged histogram: decode it and compare.
    let summary = &dist["aggregate"]["summaries"]["http.response_time"];
    let encoded = dist["aggregate"]["histograms"]["http.response_time"].as_str().expect("histogram");
    let h = hornet_metrics::decode_histogram(encoded).expect("decode");
    assert_eq!(h.len(), 198);
    let (min, max) = (summary["min"].as_f64().unwrap(), summary["max"].as_f64().unwrap());
    for (key, q) in [("p50", 0.5), ("p95", 0.95), ("p99", 0.99)] {
        let from_hist = (h.value_at_quantile(q) as f64 / 1000.0).clamp(min, max);
        let reported = summary[key].as_f64().unwrap();
        assert!((from_hist - reported).abs() <= 0.002 + reported * 0.001, "{key}: {from_hist} vs {reported}");
    }
}

/// A controller on a free port plus `n` worker processes; returns them and the controller's report path.
fn cluster(
    case: &Case,
    script: &Path,
    policy: &str,
    n: usize,
    extra: &[&str],
) -> ((Child, Receiver<String>), Vec<Child>) {
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut c = hornet();
    c.args(["controller"]).arg(script).args([
        "--workers",
        &n.to_string(),
        "--listen",
        &addr,
        "-q",
        "--seed",
        "3",
    ]);
    c.args(["--on-worker-loss", policy, "-o"]).arg(case.report_path()).args(extra);
    c.env("HORNET_CLUSTER_TOKEN", TOKEN);
    let controller = spawn(c);
    let workers = (0..n).map(|_| spawn_worker(&addr, None)).collect();
    (controller, workers)
}

/// A `hornet worker` with one thread for the controller at `addr`, in `dir` when given.
fn spawn_worker(addr: &str, dir: Option<&Path>) -> Child {
    let mut w = hornet();
    if let Some(dir) = dir {
        w.current_dir(dir);
    }
    w.args(["worker", "--controller", addr, "--threads", "1"]).env("HORNET_CLUSTER_TOKEN", TOKEN);
    w.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn worker")
}

const LONG: &str = r#"
config:
  target: TARGET
  phases:
    - duration: 8
      arrivalRate: 30
scenarios:
  - flow:
      - get:
          url: "/"
"#;

/// 30 closed-model users for 8 s, each iteration about 100 ms.
const USERS: &str = r#"
config:
  target: TARGET
  phases:
    - duration: 8
      users: 30
scenarios:
  - flow:
      - get:
          url: "/delay/50"
      - think: 0.05
"#;

/// 60 requests per second for 8 s (480 planned), with 30 VUs.
const RATE: &str = r#"
config:
  target: TARGET
  phases:
    - duration: 8
      requestRate: 60
      maxVusers: 30
scenarios:
  - flow:
      - get:
          url: "/"
"#;

/// Runs `script` on a controller and 3 workers and kills worker 1 three seconds into the run; returns
/// the controller's exit code, the seconds from the kill to the loss message, and the report.
fn kill_one(script: &str, policy: &str) -> (Option<i32>, f64, Value, Vec<String>) {
    let t = target();
    let case = Case::new();
    let script = case.script("script.yaml", &with_target(script, &t));
    let ((mut controller, rx), mut workers) = cluster(&case, &script, policy, 3, &[]);
    let mut seen = Vec::new();
    // The workers join within a few hundred ms and the run starts 1.5 s later; kill about 3 s into it.
    std::thread::sleep(Duration::from_millis(4500));
    let killed = Instant::now();
    kill(&mut workers[1]);
    let (_, when) = wait_line(&rx, "was lost at", Duration::from_secs(10), &mut seen)
        .unwrap_or_else(|| panic!("no loss reported: {seen:?}"));
    let detection = when.duration_since(killed).as_secs_f64();
    let code = wait_exit(&mut controller, Duration::from_secs(30));
    for w in &mut workers {
        if wait_exit(w, Duration::from_secs(5)).is_none() {
            kill(w);
        }
    }
    if code.is_none() {
        kill(&mut controller);
    }
    while let Ok(l) = rx.try_recv() {
        seen.push(l);
    }
    let report = std::fs::read_to_string(case.report_path()).ok().and_then(|s| serde_json::from_str(&s).ok());
    (code, detection, report.unwrap_or(Value::Null), seen)
}

#[test]
fn a_killed_worker_is_detected_and_the_run_goes_on_without_its_share() {
    let (code, detection, report, seen) = kill_one(LONG, "continue");
    assert_eq!(code, Some(0), "{seen:?}");
    assert!(detection < 5.0, "detected after {detection} s");
    let warnings = report["warnings"].to_string();
    assert!(warnings.contains("was lost at") && warnings.contains("not delivered"), "{warnings}");
    let created = counter(&report, "vusers.created");
    // 240 planned; worker 1's 80 minus what it ran in its first ~3 s are missing.
    assert!((160..240).contains(&created), "{created}");
}

#[test]
fn with_abort_a_lost_worker_stops_the_run_with_exit_code_1() {
    let (code, detection, report, seen) = kill_one(LONG, "abort");
    assert_eq!(code, Some(1), "{seen:?}");
    assert!(detection < 5.0, "detected after {detection} s");
    assert!(report["warnings"].to_string().contains("aborted"), "{}", report["warnings"]);
    assert!(counter(&report, "vusers.created") < 200);
}

#[test]
fn with_redistribute_the_survivors_deliver_close_to_the_plan() {
    let (code, detection, report, seen) = kill_one(LONG, "redistribute");
    assert_eq!(code, Some(0), "{seen:?}");
    assert!(detection < 5.0, "detected after {detection} s");
    assert!(report["warnings"].to_string().contains("redistributed"), "{}", report["warnings"]);
    let created = counter(&report, "vusers.created");
    assert!((228..=240).contains(&created), "{created} of 240 planned");
}

/// [`kill_one`] under `redistribute` and under `continue`, side by side; checks that both runs went
/// on after the loss and returns their reports.
fn kill_one_both_ways(script: &str) -> (Value, Value) {
    let (redistributed, continued) = std::thread::scope(|s| {
        let r = s.spawn(|| kill_one(script, "redistribute"));
        let c = s.spawn(|| kill_one(script, "continue"));
        (r.join().expect("redistribute run"), c.join().expect("continue run"))
    });
    for (code, detection, report, seen) in [&redistributed, &continued] {
        assert_eq!(*code, Some(0), "{seen:?}");
        assert!(*detection < 5.0, "detected after {detection} s");
        assert!(report["warnings"].to_string().contains("was lost at"), "{}", report["warnings"]);
    }
    (redistributed.2, continued.2)
}

/// The active VUs of the timeline points starting between 5 and 7 s (the loss is at about 3 s, the
/// schedule ends at 8 s).
fn late_active_vus(report: &Value) -> Vec<u64> {
    let points = report["intervals"].as_array().map(Vec::as_slice).unwrap_or_default();
    points
        .iter()
        .filter(|p| p["t_s"].as_f64().is_some_and(|t| (5.0..7.0).contains(&t)))
        .filter_map(|p| p["active_vus"].as_u64())
        .collect()
}

#[test]
fn with_redistribute_the_survivors_run_the_lost_workers_users() {
    let (redistributed, continued) = kill_one_both_ways(USERS);
    // The killed worker ran 10 of the 30 users: under `continue` 20 are left, under `redistribute`
    // the two survivors run its 10 as well, from the loss to the end.
    let (r, c) = (late_active_vus(&redistributed), late_active_vus(&continued));
    assert!(!r.is_empty() && r.iter().all(|&n| n == 30), "redistribute: {r:?} active, 30 planned");
    assert!(!c.is_empty() && c.iter().all(|&n| n == 20), "continue: {c:?} active");
    // The loss notes say what remained: its 10 running users.
    let notes = continued["warnings"].to_string();
    assert!(notes.contains("10 running users of its segment after the loss were not delivered"), "{notes}");
    let notes = redistributed["warnings"].to_string();
    assert!(notes.contains("its remaining share (10 running users) was redistributed"), "{notes}");
}

#[test]
fn with_redistribute_the_survivors_issue_the_lost_workers_request_tokens() {
    let (redistributed, continued) = kill_one_both_ways(RATE);
    let (r, c) = (counter(&redistributed, "http.requests"), counter(&continued, "http.requests"));
    let dropped = counter(&redistributed, "http.requests.dropped");
    // 480 planned. The killed worker's share is 20/s; what it sent in its last second before the kill
    // never reaches the report, and its tokens between the kill and its detection are not re-issued,
    // so some 20 to 50 are missing even when the survivors take over (464 alone, 434 with the other
    // tests of this file running on 2 cores). Had they also sent its tokens due before the loss,
    // there would be some 50 too many.
    assert!(r <= 480, "redistribute: {r} requests of 480 planned ({dropped} dropped)");
    // Under `continue` its ~5 s after the loss are missing as well: about 100 more (measured 360).
    assert!(c <= 400, "continue: {c} requests of 480 planned");
    assert!(r >= c + 50, "redistribute: {r} requests, continue: {c}; the survivors took over too little");
    // The survivors run the lost worker's 10 of the 30 VUs (`maxVusers`) besides their own.
    let (r, c) = (late_active_vus(&redistributed), late_active_vus(&continued));
    assert!(!r.is_empty() && r.iter().all(|&n| n == 30), "redistribute: {r:?} VUs, 30 planned");
    assert!(!c.is_empty() && c.iter().all(|&n| n == 20), "continue: {c:?} VUs");
    let notes = continued["warnings"].to_string();
    assert!(notes.contains("planned requests of request-rate phases"), "{notes}");
}

#[test]
fn workers_stop_within_5_s_when_the_controller_is_killed() {
    let t = target();
    let case = Case::new();
    let script = case.script("long.yaml", &with_target(LONG, &t));
    let ((mut controller, _rx), mut workers) = cluster(&case, &script, "continue", 2, &[]);
    std::thread::sleep(Duration::from_millis(3500));
    kill(&mut controller);
    let killed = Instant::now();
    for w in &mut workers {
        let code = wait_exit(w, Duration::from_secs(5));
        if code.is_none() {
            kill(w);
        }
        assert_eq!(code, Some(3), "worker still running {:?} after the controller died", killed.elapsed());
    }
}

#[test]
fn a_wrong_token_is_refused_with_a_clear_message() {
    let case = Case::new();
    let script = case.script("s.yaml", &SCRIPT.replace("TARGET", "http://127.0.0.1:9"));
    let good = case.script("good.token", "right-token\n");
    let bad = case.script("bad.token", "wrong-token\n");
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut c = hornet();
    c.args(["controller"]).arg(&script).args(["--workers", "1", "--listen", &addr, "--join-timeout", "4"]);
    c.arg("--token-file").arg(&good);
    let (mut controller, rx) = spawn(c);
    let out =
        hornet().args(["worker", "--controller", &addr, "--token-file"]).arg(&bad).output().expect("worker");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("refused by the controller: wrong token"), "{}", text(&out));
    let mut seen = Vec::new();
    assert!(wait_line(&rx, "wrong token", Duration::from_secs(5), &mut seen).is_some(), "{seen:?}");
    assert_eq!(wait_exit(&mut controller, Duration::from_secs(10)), Some(2), "no worker joined: usage error");
}

/// A runtime for the fake peers below, which speak the real transport.
fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(1).enable_all().build().expect("runtime")
}

/// A fake controller's side: the first session opened on the first connection to `listener`.
async fn first_session(listener: tokio::net::TcpListener) -> hornet_cluster::transport::Session {
    use hornet_cluster::transport::{self, Session};
    let (stream, peer) = listener.accept().await.expect("accept");
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let on: std::sync::Arc<dyn Fn(Session) + Send + Sync> = std::sync::Arc::new(move |s| {
        let _ = tx.send(s);
    });
    tokio::spawn(transport::serve_connection(stream, peer, None, on));
    rx.recv().await.expect("session")
}

/// A fake worker of `version`, with the right token, at the real controller on `addr`: its hello,
/// and the controller's reply.
fn hello_as_version(
    rt: &tokio::runtime::Runtime,
    addr: &str,
    version: &str,
) -> Option<hornet_cluster::protocol::Msg> {
    use hornet_cluster::protocol::Msg;
    rt.block_on(async {
        let (mut r, w) = loop {
            match hornet_cluster::transport::connect(addr, None, None).await {
                Ok(s) => break s,
                Err(_) => tokio::time::sleep(Duration::from_millis(50)).await,
            }
        };
        let Some(Msg::Challenge { nonce, .. }) = r.recv().await.expect("challenge") else {
            panic!("no challenge")
        };
        let mac = hornet_cluster::auth::worker_mac(TOKEN, &nonce, "11");
        let hello = Msg::Hello {
            version: version.into(),
            protocol: 1,
            nonce: "11".into(),
            mac,
            host: "x".into(),
            threads: 1,
            weight: 1,
        };
        w.send(&hello).await.expect("hello");
        r.recv().await.expect("reply")
    })
}

#[test]
fn a_controller_without_the_token_is_not_obeyed_and_a_wrong_version_is_refused() {
    use hornet_cluster::protocol::Msg;

    // A fake controller that does not know the token: the worker refuses its welcome. Its version
    // carries terminal escapes, which the worker prints escaped.
    let rt = runtime();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let fake = rt.spawn(async move {
        let mut s = first_session(listener).await;
        let challenge = Msg::Challenge { nonce: "00".into(), version: HOSTILE.into(), protocol: 1 };
        s.writer.send(&challenge).await.expect("challenge");
        let hello = s.reader.recv().await.expect("hello").expect("hello");
        s.writer.send(&Msg::Welcome { mac: "ab".repeat(32), index: 0 }).await.expect("welcome");
        // Keep the stream open until the worker hangs up.
        while let Ok(Some(_)) = s.reader.recv().await {}
        serde_json::to_string(&hello).expect("json")
    });
    let token = Case::new();
    let tf = token.script("t", "secret");
    let out =
        hornet().args(["worker", "--controller", &addr, "--token-file"]).arg(&tf).output().expect("worker");
    let hello = rt.block_on(fake).expect("fake controller");
    assert!(
        hello.contains("\"type\":\"hello\"") && !hello.contains("secret"),
        "the token never travels: {hello}"
    );
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let msg = text(&out);
    assert!(msg.contains("version mismatch: the controller runs hornet 9.9.9"), "{msg}");
    assert!(msg.contains("does not know the token"), "{msg}");
    assert!(escaped_only(&msg), "the worker's terminal got raw escapes: {msg:?}");

    // A worker of another version, with the right token, is refused by a real controller, which
    // prints that version escaped.
    let case = Case::new();
    let script = case.script("s.yaml", &SCRIPT.replace("TARGET", "http://127.0.0.1:9"));
    let addr = format!("127.0.0.1:{}", free_port());
    let mut c = hornet();
    c.args(["controller"]).arg(&script).args(["--workers", "1", "--listen", &addr, "--join-timeout", "3"]);
    c.env("HORNET_CLUSTER_TOKEN", TOKEN);
    let (mut controller, rx) = spawn(c);
    let reply = hello_as_version(&rt, &addr, HOSTILE);
    let Some(Msg::Refused { reason }) = reply else { panic!("not refused: {reply:?}") };
    assert!(reason.contains("version mismatch"), "{reason}");
    let mut seen = Vec::new();
    assert!(wait_line(&rx, "version mismatch", Duration::from_secs(5), &mut seen).is_some(), "{seen:?}");
    let _ = wait_exit(&mut controller, Duration::from_secs(10)).or_else(|| {
        kill(&mut controller);
        None
    });
    seen.extend(rx.try_iter());
    let printed = seen.join("\n");
    assert!(escaped_only(&printed), "the controller's terminal got raw escapes: {printed:?}");
}

/// A version string with terminal escapes: a clear screen, a window title, a colour.
const HOSTILE: &str = "9.9.9\u{1b}[2J\u{1b}]0;pwned\u{7}\u{1b}[31m";

/// Whether `output` shows `HOSTILE` escaped (as `\u{1b}`) and holds no raw control character
/// but newlines.
fn escaped_only(output: &str) -> bool {
    output.contains("9.9.9\\u{1b}[2J\\u{1b}]0;pwned\\u{7}")
        && !output.chars().any(|c| c.is_control() && c != '\n')
}

#[test]
fn a_worker_stops_when_its_controller_falls_silent_without_closing() {
    use hornet_cluster::protocol::Msg;
    // A controller that knows the token, welcomes the worker, then says nothing (a network partition
    // keeps the connection open): the worker gives up within ORPHAN_AFTER (3 s).
    let rt = runtime();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let (done_tx, done_rx) = tokio::sync::oneshot::channel::<()>();
    rt.spawn(async move {
        let mut s = first_session(listener).await;
        let version = env!("CARGO_PKG_VERSION").to_string();
        let challenge =
            Msg::Challenge { nonce: "c0".into(), version, protocol: hornet_cluster::protocol::PROTOCOL };
        s.writer.send(&challenge).await.expect("challenge");
        let Some(Msg::Hello { nonce, .. }) = s.reader.recv().await.expect("hello") else {
            panic!("no hello")
        };
        let mac = hornet_cluster::auth::controller_mac("quiet", "c0", &nonce);
        s.writer.send(&Msg::Welcome { mac, index: 0 }).await.expect("welcome");
        // Read what the worker sends (its heartbeats), answer nothing, keep the stream open.
        tokio::select! {
            _ = async { while let Ok(Some(_)) = s.reader.recv().await {} } => {}
            _ = done_rx => {}
        }
    });
    let case = Case::new();
    let tf = case.script("t", "quiet");
    let started = Instant::now();
    let mut worker = hornet()
        .args(["worker", "--controller", &addr, "--token-file"])
        .arg(&tf)
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("worker");
    let code = wait_exit(&mut worker, Duration::from_secs(10));
    let took = started.elapsed();
    if code.is_none() {
        kill(&mut worker);
    }
    let _ = done_tx.send(());
    let mut err = String::new();
    if let Some(mut e) = worker.stderr.take() {
        let _ = std::io::Read::read_to_string(&mut e, &mut err);
    }
    assert_eq!(code, Some(3), "the worker kept waiting on a silent controller: {err}");
    assert!(err.contains("no message for 3 s"), "{err}");
    assert!(took < Duration::from_secs(6), "{took:?}");
}

/// A self-signed certificate for 127.0.0.1 and localhost: (certificate PEM, key PEM).
fn self_signed() -> (String, String) {
    let c = rcgen::generate_simple_self_signed(vec!["127.0.0.1".to_owned(), "localhost".to_owned()])
        .expect("certificate");
    (c.cert.pem(), c.signing_key.serialize_pem())
}

#[test]
fn workers_join_over_tls_and_a_worker_without_the_right_trust_is_turned_away() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let (cert, key) = self_signed();
    let (cert_file, key_file) = (case.script("cert.pem", &cert), case.script("key.pem", &key));
    let other_ca = case.script("other.pem", &self_signed().0);
    let token = case.script("t", "tls-token");
    let addr = format!("127.0.0.1:{}", free_port());
    let mut c = hornet();
    c.args(["controller"]).arg(&script).args([
        "--workers",
        "1",
        "--listen",
        &addr,
        "-q",
        "--join-timeout",
        "60",
    ]);
    c.arg("--tls-cert").arg(&cert_file).arg("--tls-key").arg(&key_file).arg("--token-file").arg(&token);
    c.arg("-o").arg(case.report_path());
    let (mut controller, _rx) = spawn(c);
    let worker = |extra: &[&std::ffi::OsStr]| {
        let started = Instant::now();
        let out = hornet()
            .args(["worker", "--controller", &addr, "--threads", "1", "--connect-timeout", "20"])
            .arg("--token-file")
            .arg(&token)
            .args(extra)
            .output()
            .expect("worker");
        (out, started.elapsed())
    };
    // Plain HTTP/2 against a TLS controller: a clear failure at once, not 20 s of retries.
    let (out, took) = worker(&[]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(text(&out).contains("--tls"), "{}", text(&out));
    assert!(took < Duration::from_secs(15), "{took:?}");
    // TLS trusting another certificate: the controller is not trusted.
    let (out, _) = worker(&["--tls-ca".as_ref(), other_ca.as_os_str()]);
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("TLS handshake failed") && text(&out).contains("certificate"),
        "{}",
        text(&out)
    );
    // Trusting the controller's certificate: the run goes through, encrypted.
    let (out, _) = worker(&["--tls-ca".as_ref(), cert_file.as_os_str()]);
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(wait_exit(&mut controller, Duration::from_secs(30)), Some(0));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(case.report_path()).expect("report")).expect("json");
    assert_eq!(counter(&report, "http.requests"), 198);
}

#[test]
fn listening_beyond_loopback_needs_a_token() {
    let case = Case::new();
    let script = case.script("s.yaml", &SCRIPT.replace("TARGET", "http://127.0.0.1:9"));
    let out = hornet()
        .args(["controller"])
        .arg(&script)
        .args(["--workers", "2", "--listen", "0.0.0.0:0"])
        .env_remove("HORNET_CLUSTER_TOKEN")
        .output()
        .expect("controller");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("a shared token is required"), "{}", text(&out));
}

#[test]
fn a_heavier_workers_share_of_the_rate_must_fit_one_process() {
    // 1,500,000 a second passes the load check over 2 workers (750,000 each), but with weights
    // 3 and 1 one of them would start 1,125,000 a second: refused before anything is sent.
    let silent = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    silent.set_nonblocking(true).expect("nonblocking");
    let case = Case::new();
    let target = format!("http://{}", silent.local_addr().expect("addr"));
    let script = case.script(
        "s.yaml",
        &SCRIPT.replace("TARGET", &target).replace("arrivalRate: 29", "arrivalRate: 1.5e6"),
    );
    let addr = format!("127.0.0.1:{}", free_port());
    let mut c = hornet();
    c.arg("controller").arg(&script).args(["--workers", "2", "--listen", &addr, "-q"]);
    c.env("HORNET_CLUSTER_TOKEN", TOKEN);
    let (mut controller, rx) = spawn(c);
    let mut workers: Vec<Child> = ["3", "1"]
        .iter()
        .map(|weight| {
            let mut w = hornet();
            w.args(["worker", "--controller", &addr, "--threads", "1", "--weight", weight]);
            w.env("HORNET_CLUSTER_TOKEN", TOKEN).stdout(Stdio::null()).stderr(Stdio::null());
            w.spawn().expect("spawn worker")
        })
        .collect();
    let code = wait_exit(&mut controller, Duration::from_secs(30));
    for w in &mut workers {
        kill(w);
    }
    if code.is_none() {
        kill(&mut controller);
    }
    let said: Vec<String> = rx.try_iter().collect();
    assert_eq!(code, Some(2), "{said:?}");
    assert!(
        said.iter()
            .any(|l| l.contains("(weight 3 of 4) would start 1125000 of the peak 1500000 arrivals a second")),
        "{said:?}"
    );
    assert!(silent.accept().is_err(), "nothing was sent");
}

/// A processor spread over several files: a relative module, a JSON file one folder up, a file
/// read with `fs` relative to the script, and a package from `node_modules`.
const SHIPPED_FILES: &[(&str, &str)] = &[
    (
        "js/proc.js",
        "const fs = require('fs');\nconst path = require('path');\nconst part = require('./lib/part');\n\
         const settings = require('../settings.json');\nconst shout = require('shout');\n\
         const key = fs.readFileSync(path.join(__dirname, 'key.txt'), 'utf8').trim();\n\
         function mark(requestParams, context, events, next) {\n\
           requestParams.headers['x-shipped'] = shout([settings.prefix, part, key].join('-'));\n\
           next();\n}\nmodule.exports = { mark };\n",
    ),
    ("js/lib/part.js", "module.exports = 'part';\n"),
    ("js/key.txt", "key\n"),
    ("settings.json", "{ \"prefix\": \"set\" }\n"),
    ("node_modules/shout/package.json", "{ \"name\": \"shout\", \"main\": \"lib/index.js\" }\n"),
    ("node_modules/shout/lib/index.js", "module.exports = (s) => s.toUpperCase();\n"),
];

const SHIPPED_SCRIPT: &str = r#"
config:
  target: TARGET
  processor: ./js/proc.js
  phases:
    - duration: 1
      arrivalCount: 10
scenarios:
  - flow:
      - get:
          url: "/shipped"
          beforeRequest: mark
"#;

/// The report at `path` counts `requests` requests, and every worker sent some of them.
fn every_worker_sent(path: &Path, requests: u64) {
    let report: Value = serde_json::from_str(&std::fs::read_to_string(path).expect("report")).expect("json");
    assert_eq!(counter(&report, "http.requests"), requests, "{report}");
    let workers = report["workers"].as_array().expect("workers");
    assert!(
        workers.iter().all(|w| w["requests"].as_u64().unwrap_or(0) > 0),
        "every worker sent: {workers:?}"
    );
}

fn recording_target() -> hornet_target::RunningTarget {
    hornet_target::RunningTarget::start_recording(
        hornet_target::TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 },
        false,
    )
    .expect("start target")
}

#[test]
fn workers_load_the_processor_and_its_files_from_what_the_controller_shipped() {
    let t = recording_target();
    let case = Case::new();
    for (path, text) in SHIPPED_FILES {
        let full = case.dir.path().join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }
    let script = case.script("s.yaml", &with_target(SHIPPED_SCRIPT, &t));
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let mut c = hornet();
    c.current_dir(case.dir.path()).arg("controller").arg(&script);
    c.args(["--workers", "2", "--listen", &addr, "-q"]).env("HORNET_CLUSTER_TOKEN", TOKEN);
    c.arg("-o").arg(case.report_path());
    let (mut controller, rx) = spawn(c);
    let mut seen = Vec::new();
    let waiting = wait_line(&rx, "waiting for 2 workers", Duration::from_secs(30), &mut seen);
    assert!(waiting.is_some(), "the controller did not start: {seen:?}");
    // The controller has read the processor: what is on disk from now on is not what workers run.
    // (On this machine the controller's paths exist for the workers too; they must not use them.)
    for (path, _) in SHIPPED_FILES {
        let full = case.dir.path().join(path);
        if path.ends_with(".js") && !path.contains("node_modules") {
            std::fs::write(&full, "module.exports = { mark(r, c, e, next) { r.headers['x-shipped'] = 'from-disk'; next(); } };\n").unwrap();
        }
    }
    // The workers run in a folder that holds none of the script's files.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let mut workers: Vec<Child> = (0..2).map(|_| spawn_worker(&addr, Some(elsewhere.path()))).collect();
    let code = wait_exit(&mut controller, Duration::from_secs(60));
    for w in &mut workers {
        kill(w);
    }
    if code.is_none() {
        kill(&mut controller);
    }
    seen.extend(rx.try_iter());
    assert_eq!(code, Some(0), "controller: {seen:?}");
    every_worker_sent(&case.report_path(), 10);
    let log = t.requests().expect("recording");
    let route = &log["routes"]["GET /shipped"];
    assert_eq!(route["count"], 10, "{log}");
    let header = &route["fields"]["header:x-shipped"];
    assert_eq!(header["count"], 10, "every request carried the header: {log}");
    assert_eq!(header["values"], serde_json::json!(["SET-PART-KEY"]), "{log}");
}

#[test]
fn a_processor_whose_files_are_too_big_to_ship_is_refused_naming_the_limit_and_the_biggest_files() {
    let t = recording_target();
    let case = Case::new();
    case.script(
        "proc.js",
        "const fs = require('fs');\n\
         function upload(context, events, done) { context.vars.blob = fs.readFileSync('./blob.bin'); done(); }\n\
         module.exports = { upload };\n",
    );
    std::fs::write(case.dir.path().join("blob.bin"), vec![b'x'; 17 << 20]).unwrap();
    let script = case.script(
        "s.yaml",
        &with_target(
            "config:\n  target: TARGET\n  processor: ./proc.js\n  phases:\n    - duration: 1\n      arrivalCount: 2\n\
             scenarios:\n  - flow:\n      - function: upload\n      - get:\n          url: \"/\"\n",
            &t,
        ),
    );
    let (out, _) = run_script(&case, &script, &["--local-workers", "2"]);
    let err = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(err.contains("over the 16.0 MiB a distributed run ships to its workers"), "{err}");
    assert!(err.contains("the biggest: blob.bin (17.0 MiB), proc.js ("), "{err}");
    assert!(!err.contains("local worker 1 started"), "no worker is started: {err}");
    assert_eq!(t.requests().expect("recording")["total"], 0, "nothing was sent");
}

/// A processor that reads a data file by a literal path at hook time (found and shipped by the
/// controller), then a path it only learns at run time from a script variable (never shipped).
const CONFINED_PROCESSOR: &str = "const fs = require('fs');\n\
     function readShipped(context, events, done) {\n\
       context.vars.fromShipped = fs.readFileSync('./data/hook.txt', 'utf8').trim();\n  done();\n}\n\
     function peek(context, events, done) {\n\
       context.vars.peeked = fs.readFileSync(context.vars.secretPath, 'utf8');\n  done();\n}\n\
     function attach(requestParams, context, events, next) {\n\
       requestParams.formData = { f: { fromFile: context.vars.secretPath } };\n  next();\n}\n\
     module.exports = { readShipped, peek, attach };\n";

#[test]
fn a_worker_reads_the_shipped_files_and_refuses_any_other_path_without_leaking_it() {
    let t = recording_target();
    let case = Case::new();
    case.script("proc.js", CONFINED_PROCESSOR);
    std::fs::create_dir_all(case.dir.path().join("data")).unwrap();
    std::fs::write(case.dir.path().join("data/hook.txt"), "shipped-data\n").unwrap();
    // A file on the workers' machine that the controller never shipped (here: the same machine,
    // so a worker reading its own disk would find it).
    let elsewhere = tempfile::tempdir().expect("tempdir");
    let secret_path = elsewhere.path().join("secret.txt");
    std::fs::write(&secret_path, "worker-secret-4711").unwrap();
    let yaml = format!(
        "config:\n  target: TARGET\n  processor: ./proc.js\n  variables:\n    secretPath: \"{}\"\n\
         \x20 phases:\n    - duration: 1\n      arrivalCount: 6\n\
         scenarios:\n  - flow:\n      - function: readShipped\n\
         \x20     - get:\n          url: \"/shipped\"\n          headers:\n            x-shipped: \"{{{{ fromShipped }}}}\"\n\
         \x20     - function: peek\n\
         \x20     - get:\n          url: \"/after\"\n          headers:\n            x-peeked: \"{{{{ peeked }}}}\"\n",
        secret_path.display()
    );
    let script = case.script("s.yaml", &with_target(&yaml, &t));
    let (out, report) = run_script(&case, &script, &["-q", "--local-workers", "2"]);
    let output = text(&out);
    let report = report.unwrap_or_else(|| panic!("no report: {output}"));
    assert_eq!(report["workers"].as_array().map(Vec::len), Some(2), "{report}");
    let log = t.requests().expect("recording");
    // The shipped file was read on the workers.
    let shipped = &log["routes"]["GET /shipped"];
    assert_eq!(shipped["count"], 6, "{log}");
    assert_eq!(shipped["fields"]["header:x-shipped"]["values"], serde_json::json!(["shipped-data"]), "{log}");
    // The other path was refused: every VU failed at `peek`, naming the path, and nothing of the
    // file reached the target, the report or the terminal.
    assert_eq!(counter(&report, "errors.processor"), 6, "{report}");
    assert_eq!(counter(&report, "vusers.failed"), 6, "{report}");
    assert!(log["routes"].get("GET /after").is_none(), "{log}");
    let errors = report["errors"].to_string();
    assert!(
        errors.contains(&format!("'{}' was not shipped with the processor", secret_path.display())),
        "{errors}"
    );
    for seen in [report.to_string(), log.to_string(), output] {
        assert!(!seen.contains("worker-secret-4711"), "the file's content leaked: {seen}");
    }
    // A file a hook names for hornet to read (a `formData` `fromFile`) follows the same rule.
    let yaml = format!(
        "config:\n  target: TARGET\n  processor: ./proc.js\n  variables:\n    secretPath: \"{}\"\n\
         \x20 phases:\n    - duration: 1\n      arrivalCount: 4\n\
         scenarios:\n  - flow:\n      - post:\n          url: \"/upload\"\n          beforeRequest: attach\n",
        secret_path.display()
    );
    let script = case.script("upload.yaml", &with_target(&yaml, &t));
    let (out, report) = run_script(&case, &script, &["-q", "--local-workers", "2"]);
    let output = text(&out);
    let report = report.unwrap_or_else(|| panic!("no report: {output}"));
    assert_eq!(counter(&report, "errors.processor"), 4, "{report}");
    assert!(report["errors"].to_string().contains("was not shipped with the processor"), "{report}");
    let log = t.requests().expect("recording");
    assert!(log["routes"].get("POST /upload").is_none(), "{log}");
    for seen in [report.to_string(), log.to_string(), output] {
        assert!(!seen.contains("worker-secret-4711"), "the file's content leaked: {seen}");
    }
}

/// Two payloads with Artillery's options: a `;`-separated file with a header, taken in sequence
/// and not cast (so `0042` stays a string), and a file loaded whole into one variable; and a file
/// uploaded with `formData`.
const PAYLOAD_SCRIPT: &str = r#"
config:
  target: TARGET
  payload:
    - path: data/users.csv
      fields: [user, pin]
      skipHeader: true
      delimiter: ";"
      order: sequence
      cast: false
    - path: data/all.csv
      fields: [k]
      loadAll: true
      name: everything
  phases:
    - duration: 1
      arrivalCount: 8
scenarios:
  - flow:
      - get:
          url: "/csv"
          headers:
            x-user: "{{ user }}"
            x-pin: "{{ pin }}"
            x-first: "{{ everything[0].k }}"
      - post:
          url: "/upload"
          formData:
            photo:
              fromFile: data/photo.txt
              contentType: text/plain
"#;

/// Writes `files` (path, text) under `root`.
fn write_files(root: &Path, files: &[(&str, &str)]) {
    for (path, text) in files {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().expect("a folder")).expect("mkdir");
        std::fs::write(full, text).expect("write");
    }
}

/// A controller for `script` (a name in `dir`, its working folder) with `--workers n` on a free
/// port, once it waits for its workers; returns it with its address and what it said so far.
fn controller_in(
    dir: &Path,
    script: &str,
    n: usize,
    report: &Path,
    env: &[(&str, &str)],
) -> (Child, Receiver<String>, String, Vec<String>) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut c = hornet();
    c.current_dir(dir).args(["controller", script, "--workers", &n.to_string(), "--listen", &addr, "-q"]);
    c.env("HORNET_CLUSTER_TOKEN", TOKEN).arg("-o").arg(report).envs(env.iter().copied());
    let (controller, rx) = spawn(c);
    let mut seen = Vec::new();
    let waiting = wait_line(&rx, &format!("waiting for {n} workers"), Duration::from_secs(30), &mut seen);
    assert!(waiting.is_some(), "the controller did not start: {seen:?}");
    (controller, rx, addr, seen)
}

/// Waits for the controller to end the run; stops the workers; returns its exit code and what it said.
fn finish(
    mut controller: Child,
    rx: &Receiver<String>,
    workers: &mut [Child],
    mut seen: Vec<String>,
) -> (Option<i32>, Vec<String>) {
    let code = wait_exit(&mut controller, Duration::from_secs(60));
    for w in workers {
        kill(w);
    }
    if code.is_none() {
        kill(&mut controller);
    }
    seen.extend(rx.try_iter());
    (code, seen)
}

#[test]
fn payload_and_form_data_files_travel_with_the_plan_and_workers_never_read_them_from_their_own_disk() {
    let t = recording_target();
    let case = Case::new();
    write_files(
        case.dir.path(),
        &[
            ("data/users.csv", "user;pin\nalice;0042\nbob;0007\ncarol;1234\ndave;9999\n"),
            ("data/all.csv", "first-row\nsecond-row\n"),
            ("data/photo.txt", "shipped-photo"),
        ],
    );
    case.script("s.yaml", &with_target(PAYLOAD_SCRIPT, &t));
    let report = case.report_path();
    let (controller, rx, addr, seen) = controller_in(case.dir.path(), "s.yaml", 2, &report, &[]);
    // The controller has read the payload files: what its folder holds from now on is not what the
    // workers run. (On this machine its folder exists for the workers too: they must not use it.)
    write_files(
        case.dir.path(),
        &[
            ("data/users.csv", "user;pin\nmallory;6666\n"),
            ("data/all.csv", "changed\n"),
            ("data/photo.txt", "changed"),
        ],
    );
    // The workers run in a folder holding files of the same relative paths with other values, and
    // are told to resolve the plan's paths there.
    let elsewhere = tempfile::tempdir().expect("tempdir");
    write_files(
        elsewhere.path(),
        &[
            ("data/users.csv", "user;pin\neve;5555\n"),
            ("data/all.csv", "worker-disk\n"),
            ("data/photo.txt", "worker-disk"),
        ],
    );
    let mut workers: Vec<Child> = (0..2)
        .map(|_| {
            let mut w = hornet();
            w.current_dir(elsewhere.path()).args(["worker", "--controller", &addr, "--threads", "1"]);
            w.arg("--script-dir").arg(elsewhere.path()).env("HORNET_CLUSTER_TOKEN", TOKEN);
            w.stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn worker")
        })
        .collect();
    let (code, seen) = finish(controller, &rx, &mut workers, seen);
    assert_eq!(code, Some(0), "controller: {seen:?}");
    every_worker_sent(&report, 16);
    let log = t.requests().expect("recording");
    let route = &log["routes"]["GET /csv"];
    assert_eq!(route["count"], 8, "{log}");
    // In sequence, the 8 arrivals take the 4 rows twice each, split over the two workers.
    let fields = &route["fields"];
    assert_eq!(
        fields["header:x-user"]["values"],
        serde_json::json!(["alice", "bob", "carol", "dave"]),
        "{log}"
    );
    assert_eq!(
        fields["header:x-pin"]["values"],
        serde_json::json!(["0007", "0042", "1234", "9999"]),
        "{log}"
    );
    assert_eq!(fields["header:x-first"]["values"], serde_json::json!(["first-row"]), "{log}");
    for header in ["header:x-user", "header:x-pin", "header:x-first"] {
        assert_eq!(fields[header]["count"], 8, "{header}: {log}");
    }
    let upload = &log["routes"]["POST /upload"];
    assert_eq!(upload["count"], 8, "{log}");
    let bodies = upload["fields"]["body:text"]["values"].as_array().expect("multipart bodies");
    assert!(
        !bodies.is_empty() && bodies.iter().all(|b| b.as_str().is_some_and(|b| b.contains("shipped-photo"))),
        "every upload carried the controller's file: {log}"
    );
    let log = log.to_string();
    for other in ["mallory", "eve", "changed", "worker-disk"] {
        assert!(!log.contains(other), "a worker read `{other}` from its own disk: {log}");
    }
}

#[test]
fn payload_files_too_big_to_ship_are_refused_naming_the_file_and_the_limit() {
    let t = recording_target();
    let case = Case::new();
    // 272 rows of 64 KiB: 17 MiB in one file.
    let row = format!("{}\n", "x".repeat((64 << 10) - 1));
    std::fs::create_dir_all(case.dir.path().join("data")).unwrap();
    std::fs::write(case.dir.path().join("data/big.csv"), row.repeat(272)).unwrap();
    let yaml = "config:\n  target: TARGET\n  payload: { path: data/big.csv, fields: [blob] }\n  phases:\n    - duration: 1\n      arrivalCount: 2\n\
                scenarios:\n  - flow:\n      - get:\n          url: \"/\"\n";
    let script = case.script("s.yaml", &with_target(yaml, &t));
    // On one machine the file is fine.
    let out = hornet().arg("validate").arg(&script).output().expect("run hornet");
    assert!(out.status.success(), "{}", text(&out));
    let (out, _) = run_script(&case, &script, &["--local-workers", "2"]);
    let err = text(&out);
    assert_eq!(out.status.code(), Some(2), "{err}");
    let name = case.dir.path().join("data/big.csv");
    assert!(
        err.contains(&format!(
            "the payload file {} comes to 17.0 MiB, over the 16.0 MiB a distributed run ships to its workers",
            name.display()
        )),
        "{err}"
    );
    assert!(!err.contains("local worker 1 started"), "no worker is started: {err}");
    assert_eq!(t.requests().expect("recording")["total"], 0, "nothing was sent");
}

#[test]
fn a_plan_with_files_near_the_limit_reaches_every_worker_however_long_it_takes_to_arrive() {
    // 240 rows of 64 KiB: 15 MiB, 20 MiB in base64 to each of 2 workers. Its arrival (and in a
    // debug build its parsing) takes longer than the 3 s a worker waits for a message: the bytes
    // arriving meanwhile count.
    let t = recording_target();
    let case = Case::new();
    let row = format!("{}\n", "x".repeat((64 << 10) - 1));
    std::fs::write(case.dir.path().join("big.csv"), row.repeat(240)).unwrap();
    let yaml = "config:\n  target: TARGET\n  payload: { path: big.csv, fields: [blob] }\n  phases:\n    - duration: 1\n      arrivalCount: 4\n\
                scenarios:\n  - flow:\n      - get:\n          url: \"/\"\n";
    let script = case.script("s.yaml", &with_target(yaml, &t));
    let (out, report) = run_script(&case, &script, &["-q", "--local-workers", "2"]);
    let output = text(&out);
    assert_eq!(out.status.code(), Some(0), "{output}");
    let report = report.unwrap_or_else(|| panic!("no report: {output}"));
    assert_eq!(counter(&report, "http.requests"), 4, "{report}");
    assert_eq!(t.requests().expect("recording")["total"], 4);
}

#[test]
fn env_is_each_workers_own_as_in_artillerys_distributed_modes_and_the_controllers_for_before() {
    let t = recording_target();
    let case = Case::new();
    case.script(
        "env.js",
        "module.exports = { fromJs(req, ctx, ee, next) { req.headers['x-js-env'] = process.env.HORNET_DIST_ENV; next(); } };\n",
    );
    let yaml = "config:\n  target: TARGET\n  processor: ./env.js\n  phases:\n    - duration: 1\n      arrivalCount: 6\n\
                before:\n  flow:\n    - get:\n        url: \"/before\"\n        headers:\n          x-env: \"{{ $env.HORNET_DIST_ENV }}\"\n\
                scenarios:\n  - flow:\n      - get:\n          url: \"/main\"\n          beforeRequest: fromJs\n\
                \x20         headers:\n            x-env: \"{{ $env.HORNET_DIST_ENV }}\"\n\
                \x20           x-process-env: \"{{ $processEnvironment.HORNET_DIST_ENV }}\"\n";
    case.script("s.yaml", &with_target(yaml, &t));
    let report = case.report_path();
    let (controller, rx, addr, seen) =
        controller_in(case.dir.path(), "s.yaml", 2, &report, &[("HORNET_DIST_ENV", "controller-side")]);
    let mut workers: Vec<Child> = ["worker-one", "worker-two"]
        .iter()
        .map(|value| {
            let mut w = hornet();
            w.args(["worker", "--controller", &addr, "--threads", "1"]).env("HORNET_CLUSTER_TOKEN", TOKEN);
            w.env("HORNET_DIST_ENV", value).stdout(Stdio::null()).stderr(Stdio::null());
            w.spawn().expect("spawn worker")
        })
        .collect();
    let (code, seen) = finish(controller, &rx, &mut workers, seen);
    assert_eq!(code, Some(0), "controller: {seen:?}");
    let log = t.requests().expect("recording");
    // `before` runs on the controller, with its environment.
    assert_eq!(
        log["routes"]["GET /before"]["fields"]["header:x-env"]["values"],
        serde_json::json!(["controller-side"]),
        "{log}"
    );
    // The scenarios run on the workers, each with its own.
    let main = &log["routes"]["GET /main"];
    assert_eq!(main["count"], 6, "{log}");
    for header in ["header:x-env", "header:x-process-env", "header:x-js-env"] {
        assert_eq!(
            main["fields"][header]["values"],
            serde_json::json!(["worker-one", "worker-two"]),
            "{header}: {log}"
        );
        assert_eq!(main["fields"][header]["count"], 6, "{header}: {log}");
    }

    // Workers without the variable cannot build the plan: the run does not start.
    let (controller, rx, addr, seen) =
        controller_in(case.dir.path(), "s.yaml", 2, &report, &[("HORNET_DIST_ENV", "controller-side")]);
    let mut workers: Vec<Child> = (0..2)
        .map(|_| {
            let mut w = hornet();
            w.args(["worker", "--controller", &addr, "--threads", "1"]).env("HORNET_CLUSTER_TOKEN", TOKEN);
            w.env_remove("HORNET_DIST_ENV").stdout(Stdio::null()).stderr(Stdio::null());
            w.spawn().expect("spawn worker")
        })
        .collect();
    let (code, seen) = finish(controller, &rx, &mut workers, seen);
    assert_eq!(code, Some(2), "{seen:?}");
    assert!(
        seen.iter().any(|l| l.contains("could not build the plan")
            && l.contains("the environment variable `HORNET_DIST_ENV` is not set")),
        "{seen:?}"
    );
    assert_eq!(t.requests().expect("recording")["routes"]["GET /main"]["count"], 6, "no more requests");
}

/// A controller for `script` waiting for one worker on a free port with the token in `token_file`;
/// returns it once it listens, with its address.
fn listening_controller(
    case: &Case,
    script: &Path,
    token_file: &Path,
) -> ((Child, Receiver<String>), String) {
    let addr = format!("127.0.0.1:{}", free_port());
    let mut c = hornet();
    c.args(["controller"]).arg(script).args(["--workers", "1", "--listen", &addr, "--join-timeout", "60"]);
    c.arg("--token-file").arg(token_file).arg("-o").arg(case.report_path());
    let (child, rx) = spawn(c);
    let mut seen = Vec::new();
    assert!(
        wait_line(&rx, "waiting for 1 workers", Duration::from_secs(20), &mut seen).is_some(),
        "{seen:?}"
    );
    ((child, rx), addr)
}

/// A worker with `token_file` joins the controller at `addr`; the run completes with every request.
fn a_worker_joins_and_the_run_completes(case: &Case, controller: &mut Child, addr: &str, token_file: &Path) {
    let out = hornet()
        .args(["worker", "--controller", addr, "--threads", "1", "--token-file"])
        .arg(token_file)
        .output()
        .expect("worker");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert_eq!(wait_exit(controller, Duration::from_secs(30)), Some(0));
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(case.report_path()).expect("report")).expect("json");
    assert_eq!(counter(&report, "http.requests"), 198);
}

#[test]
fn a_flood_of_unauthenticated_sessions_does_not_lock_the_worker_out() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let token = case.script("t", "flood-token\n");
    let ((mut controller, _rx), addr) = listening_controller(&case, &script, &token);
    // 100 sessions that never say hello (more than the cap of 64 sessions), held open while the
    // real worker joins.
    let rt = runtime();
    let idle = rt.block_on(async {
        let mut sessions = Vec::new();
        for _ in 0..100 {
            sessions.push(hornet_cluster::transport::connect(&addr, None, None).await.expect("session"));
        }
        sessions
    });
    a_worker_joins_and_the_run_completes(&case, &mut controller, &addr, &token);
    drop(idle);
}

/// The resident memory of process `pid` now and at its peak, in KiB (`VmRSS`, `VmHWM`).
fn memory_kib(pid: u32) -> (u64, u64) {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("/proc status");
    let field = |name: &str| -> u64 {
        let line = status.lines().find_map(|l| l.strip_prefix(name)).expect(name);
        line.trim().trim_end_matches("kB").trim().parse().expect(name)
    };
    (field("VmRSS:"), field("VmHWM:"))
}

/// Opens a session over HTTP/1.1 and streams up to `total` bytes of one line without a newline in
/// 64 KiB chunks; returns how many bytes were written before the controller cut the connection.
fn stream_one_endless_line(addr: &str, total: u64) -> u64 {
    use std::io::Write;
    let mut stream = std::net::TcpStream::connect(addr).expect("connect");
    stream.set_write_timeout(Some(Duration::from_secs(15))).expect("timeout");
    let head = format!(
        "POST {} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/x-ndjson\r\nTransfer-Encoding: chunked\r\n\r\n",
        hornet_cluster::transport::SESSION_PATH
    );
    stream.write_all(head.as_bytes()).expect("request head");
    let mut chunk = b"10000\r\n".to_vec();
    chunk.extend(std::iter::repeat_n(b'x', 0x10000));
    chunk.extend(b"\r\n");
    let mut sent = 0;
    while sent < total && stream.write_all(&chunk).is_ok() {
        sent += 0x10000;
    }
    sent
}

#[test]
fn an_oversized_message_before_authentication_is_cut_off_with_memory_bounded() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let token = case.script("t", "big-token\n");
    let ((mut controller, _rx), addr) = listening_controller(&case, &script, &token);
    let pid = controller.id();
    let (before, _) = memory_kib(pid);
    // 12 peers each try to send a 60 MiB line before any hello.
    let total = 60u64 << 20;
    let started = Instant::now();
    let peers: Vec<_> = (0..12)
        .map(|_| {
            let addr = addr.clone();
            std::thread::spawn(move || stream_one_endless_line(&addr, total))
        })
        .collect();
    let sent: Vec<u64> = peers.into_iter().map(|p| p.join().expect("peer")).collect();
    let took = started.elapsed();
    let (_, peak) = memory_kib(pid);
    eprintln!(
        "sent before the cut: {sent:?} bytes in {took:?}; controller RSS {before} KiB, peak {peak} KiB"
    );
    // Kernel buffers take a few MiB after the controller stopped reading; then the connection is cut.
    assert!(sent.iter().all(|&s| s < total / 2), "{sent:?}");
    assert!(peak < before + (64 << 10), "the controller grew from {before} KiB to {peak} KiB");
    a_worker_joins_and_the_run_completes(&case, &mut controller, &addr, &token);
}

#[test]
fn a_controller_without_a_token_prints_a_generated_one_and_refuses_workers_without_it() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let addr = format!("127.0.0.1:{}", free_port());
    let mut c = hornet();
    c.args(["controller"]).arg(&script).args(["--workers", "1", "--listen", &addr, "--join-timeout", "60"]);
    c.arg("-o").arg(case.report_path()).env_remove("HORNET_CLUSTER_TOKEN");
    let (mut controller, rx) = spawn(c);
    let mut seen = Vec::new();
    let printed = wait_line(&rx, "HORNET_CLUSTER_TOKEN=", Duration::from_secs(20), &mut seen);
    let (line, _) = printed.unwrap_or_else(|| panic!("no token printed: {seen:?}"));
    assert!(line.contains(&format!("hornet worker --controller {addr}")), "{line}");
    let token =
        line.split("HORNET_CLUSTER_TOKEN=").nth(1).and_then(|rest| rest.split(' ').next()).expect("token");
    assert_eq!(token.len(), 64, "256 bits, hex: {token}");
    assert!(seen.iter().any(|l| l.contains("no cluster token given")), "{seen:?}");
    assert!(
        wait_line(&rx, "waiting for 1 workers", Duration::from_secs(20), &mut seen).is_some(),
        "{seen:?}"
    );
    // A worker without the token is refused and told why.
    let out = hornet()
        .args(["worker", "--controller", &addr, "--threads", "1"])
        .env_remove("HORNET_CLUSTER_TOKEN")
        .output()
        .expect("worker");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("wrong token"), "{}", text(&out));
    assert!(text(&out).contains("this worker has no token"), "{}", text(&out));
    // With the printed token a worker joins and the run completes.
    let token_file = case.script("printed.token", token);
    a_worker_joins_and_the_run_completes(&case, &mut controller, &addr, &token_file);
}

#[test]
fn a_worker_cuts_off_an_oversized_greeting_before_the_controller_proved_the_token() {
    use hornet_cluster::protocol::Msg;

    // A fake controller whose challenge is a 1 MiB line.
    let rt = runtime();
    let listener = rt.block_on(tokio::net::TcpListener::bind("127.0.0.1:0")).expect("bind");
    let addr = listener.local_addr().expect("addr").to_string();
    let fake = rt.spawn(async move {
        let mut s = first_session(listener).await;
        let challenge = Msg::Challenge { nonce: "0".repeat(1 << 20), version: "9.9.9".into(), protocol: 1 };
        s.writer.send(&challenge).await.expect("challenge");
        // Whatever the worker says next: a hello would mean it read the whole line.
        s.reader.recv().await.ok().flatten()
    });
    let out = hornet()
        .args(["worker", "--controller", &addr, "--connect-timeout", "10"])
        .env("HORNET_CLUSTER_TOKEN", TOKEN)
        .output()
        .expect("worker");
    let answer = rt.block_on(fake).expect("fake controller");
    assert!(answer.is_none(), "the worker answered: {answer:?}");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    assert!(
        text(&out).contains("did not greet like a hornet controller: message longer than 16384 bytes"),
        "{}",
        text(&out)
    );
}

/// How many descriptors process `pid` holds open.
fn open_descriptors(pid: u32) -> usize {
    std::fs::read_dir(format!("/proc/{pid}/fd")).expect("/proc fd").count()
}

#[test]
fn connections_that_open_no_session_are_closed_and_the_worker_still_joins() {
    use std::io::Read;
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &with_target(SCRIPT, &t));
    let token = case.script("t", "idle-token\n");
    let ((mut controller, _rx), addr) = listening_controller(&case, &script, &token);
    let pid = controller.id();
    let before = open_descriptors(pid);
    // 200 connections that never send a byte.
    let opened = Instant::now();
    let mut idle: Vec<std::net::TcpStream> =
        (0..200).map(|_| std::net::TcpStream::connect(&addr).expect("connect")).collect();
    let deadline = Instant::now() + Duration::from_secs(3);
    while open_descriptors(pid) < before + 200 && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    let accepted = open_descriptors(pid);
    assert!(accepted >= before + 200, "the controller accepted them: {before} -> {accepted} descriptors");
    for conn in &mut idle {
        conn.set_read_timeout(Some(Duration::from_secs(20))).expect("timeout");
        let mut byte = [0u8; 1];
        let read = conn.read(&mut byte);
        assert!(
            matches!(read, Ok(0))
                || read.as_ref().is_err_and(|e| e.kind() == std::io::ErrorKind::ConnectionReset),
            "the controller closes an idle connection: {read:?}"
        );
    }
    let closed_after = opened.elapsed();
    let after = open_descriptors(pid);
    eprintln!(
        "descriptors {before} -> {accepted} -> {after}; idle connections closed after {closed_after:?}"
    );
    assert!(after < before + 10, "descriptors {before} -> {accepted} -> {after}");
    a_worker_joins_and_the_run_completes(&case, &mut controller, &addr, &token);
}
