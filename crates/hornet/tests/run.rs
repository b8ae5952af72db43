//! End-to-end tests of `hornet run`, `validate`, `quick` and `demo` against the embedded target
//! on loopback. Each test runs the real binary and reads its JSON report.

mod common;

use std::net::TcpListener;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};

use common::{
    Case, counter, endpoint, exit_within, hornet, run_script, run_yaml, run_yaml_ok, send_signal, spawn_run,
    target, text,
};
use serde_json::Value;

#[test]
fn exact_request_counts_per_endpoint() {
    let t = target();
    let (out, report) = run_yaml(
        &format!(
            r#"
config:
  target: "{}"
  variables:
    id: 7
  phases:
    - duration: 1
      arrivalCount: 20
scenarios:
  - name: only
    flow:
      - get: {{ url: "/", name: home }}
      - loop:
          - get: {{ url: "/items/{{{{ id }}}}", name: item }}
        count: 3
      - post: {{ url: "/echo", json: {{ a: 1 }} }}
"#,
            t.url()
        ),
        &["--seed", "1"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(counter(&report, "vusers.created"), 20);
    assert_eq!(counter(&report, "vusers.completed"), 20);
    assert_eq!(counter(&report, "http.requests"), 20 * 5);
    assert_eq!(counter(&report, "http.codes.200"), 20 * 5);
    assert_eq!(endpoint(&report, "home")["requests"], 20);
    assert_eq!(endpoint(&report, "item")["requests"], 60);
    assert_eq!(endpoint(&report, "item")["codes"]["200"], 60, "/items/7 rendered and found");
    assert_eq!(endpoint(&report, "POST /echo")["requests"], 20);
    // Summary printed with each endpoint.
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("home") && stdout.contains("POST /echo"), "{stdout}");
}

#[test]
fn weights_are_respected_and_seed_is_reproducible() {
    let t = target();
    let case = Case::new();
    let script = case.script(
        "weights.yaml",
        &format!(
            r#"
config:
  target: "{}"
  phases:
    - duration: 2
      arrivalRate: 200
scenarios:
  - name: heavy
    weight: 3
    flow: [ {{ get: {{ url: "/" }} }} ]
  - name: light
    weight: 1
    flow: [ {{ get: {{ url: "/json" }} }} ]
"#,
            t.url()
        ),
    );
    let mut counts = Vec::new();
    for _ in 0..2 {
        let (out, report) = run_script(&case, &script, &["--seed", "99", "-q"]);
        assert!(out.status.success(), "{}", text(&out));
        let report = report.expect("report");
        assert_eq!(report["run"]["seed"], 99);
        let heavy = counter(&report, "vusers.created_by_name.heavy");
        let light = counter(&report, "vusers.created_by_name.light");
        assert_eq!(heavy + light, 400);
        counts.push((heavy, light));
    }
    let (heavy, _) = counts[0];
    // Expected 300 of 400; a binomial standard deviation is about 8.7.
    assert!((265..=335).contains(&heavy), "heavy picked {heavy} of 400 times");
    assert_eq!(counts[0], counts[1], "same seed, same scenario choices");
}

#[test]
fn delay_endpoint_latency_is_measured_accurately() {
    let t = target();
    let report = run_yaml_ok(
        &format!(
            "config:\n  target: \"{}\"\n  phases:\n    - duration: 2\n      arrivalRate: 20\nscenarios:\n  - flow:\n      - get: {{ url: \"/delay/50\" }}\n",
            t.url()
        ),
        &["-q"],
    );
    let rt = &report["aggregate"]["summaries"]["http.response_time"];
    let p50 = rt["p50"].as_f64().expect("p50");
    assert!((50.0..60.0).contains(&p50), "p50 {p50} ms not in [50, 60)");
    assert!(rt["p99"].as_f64() <= rt["max"].as_f64(), "percentile above max: {rt}");
    assert_eq!(rt["count"], 40);
}

#[test]
fn connection_refused_is_counted() {
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let (out, report) = run_yaml(
        &format!(
            "config:\n  target: \"http://127.0.0.1:{port}\"\n  phases:\n    - duration: 1\n      arrivalCount: 5\nscenarios:\n  - flow:\n      - get: {{ url: \"/\" }}\n      - get: {{ url: \"/never\" }}\n"
        ),
        &["-q"],
    );
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(counter(&report, "errors.connect-refused"), 5);
    assert_eq!(counter(&report, "vusers.failed"), 5);
    assert_eq!(counter(&report, "http.responses"), 0);
    // The failed request stops the VU: the second request is never sent.
    assert_eq!(endpoint(&report, "GET /")["failures"], 5);
    assert_eq!(endpoint(&report, "GET /never")["requests"], 0);
    assert!(text(&out).contains("connect-refused"), "{}", text(&out));
}

#[test]
fn timeout_is_counted() {
    let t = target();
    let started = Instant::now();
    let report = run_yaml_ok(
        &format!(
            "config:\n  target: \"{}\"\n  http:\n    timeout: 0.2\n  phases:\n    - duration: 1\n      arrivalCount: 3\nscenarios:\n  - flow:\n      - get: {{ url: \"/delay/3000\" }}\n",
            t.url()
        ),
        &["-q"],
    );
    assert_eq!(counter(&report, "errors.timeout"), 3);
    assert!(started.elapsed() < Duration::from_secs(3), "timeouts did not cut the wait short");
}

#[test]
fn functional_mode_runs_one_vu_once() {
    let t = target();
    let report = run_yaml_ok(
        &format!(
            "config:\n  target: \"{}\"\nscenarios:\n  - flow:\n      - get: {{ url: \"/\" }}\n      - get: {{ url: \"/json\" }}\n",
            t.url()
        ),
        &["-q"],
    );
    assert_eq!(counter(&report, "vusers.created"), 1);
    assert_eq!(counter(&report, "vusers.completed"), 1);
    assert_eq!(counter(&report, "http.requests"), 2);
}

#[test]
fn max_vusers_skips_arrivals() {
    let t = target();
    let report = run_yaml_ok(
        &format!(
            "config:\n  target: \"{}\"\n  phases:\n    - duration: 1\n      arrivalRate: 50\n      maxVusers: 5\nscenarios:\n  - flow:\n      - get: {{ url: \"/delay/600\" }}\n",
            t.url()
        ),
        &["-q"],
    );
    let created = counter(&report, "vusers.created");
    let skipped = counter(&report, "vusers.skipped");
    assert_eq!(created + skipped, 50);
    // At most 5 in flight, each lasting 600 ms, over one second: 5 at first, 5 more after 600 ms.
    assert!((5..=10).contains(&created), "created {created}");
}

#[test]
fn sigint_still_writes_the_report_and_exits_130() {
    let t = target();
    let case = Case::new();
    let script = case.script(
        "long.yaml",
        &format!(
            "config:\n  target: \"{}\"\n  phases:\n    - duration: 60\n      arrivalRate: 20\nscenarios:\n  - flow:\n      - get: {{ url: \"/delay/200\" }}\n",
            t.url()
        ),
    );
    let report = case.report_path();
    let mut child = spawn_run(&script, &report, &[]);
    std::thread::sleep(Duration::from_millis(2500));
    send_signal(&child, libc::SIGINT);
    let status = exit_within(&mut child, Duration::from_secs(20));
    let out = child.wait_with_output().expect("output");
    assert_eq!(status.code(), Some(130), "{}", text(&out));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report written")).expect("json");
    assert_eq!(json["run"]["interrupted"], true);
    assert!(counter(&json, "http.requests") >= 20, "{json}");
    // The summary is printed too.
    assert!(String::from_utf8_lossy(&out.stdout).contains("GET /delay/200"), "{}", text(&out));
}

#[test]
fn script_error_exits_2_and_sends_nothing() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let accepted = Arc::new(AtomicUsize::new(0));
    let case = Case::new();
    let script = case.script(
        "bad.yaml",
        &format!(
            "config:\n  target: \"http://127.0.0.1:{port}\"\n  phases:\n    - duration: 1\n      arivalRate: 5\nscenarios:\n  - flow:\n      - get: {{ url: \"/\" }}\n"
        ),
    );
    let (out, report) = run_script(&case, &script, &[]);
    while listener.accept().is_ok() {
        accepted.fetch_add(1, Ordering::SeqCst);
    }
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert_eq!(accepted.load(Ordering::SeqCst), 0, "a request was sent");
    assert!(report.is_none(), "no report for a script that did not run");
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("bad.yaml:5:7"), "{err}");
    assert!(err.contains("arrivalRate"), "did-you-mean hint missing: {err}");
}

#[test]
fn validate_reports_ok_and_errors() {
    let case = Case::new();
    let good = case.script(
        "good.yaml",
        "config:\n  target: \"http://127.0.0.1:9\"\n  phases:\n    - duration: 10\n      arrivalRate: 2\nscenarios:\n  - flow:\n      - get: { url: \"/\" }\n",
    );
    let out = hornet().arg("validate").arg(&good).output().expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stdout).contains("20 arrivals"), "{}", text(&out));
    let bad = case.script("bad.yaml", "config:\n  target: 5\nscenarios: []\n");
    let out = hornet().arg("validate").arg(&bad).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(String::from_utf8_lossy(&out.stderr).contains("bad.yaml:"), "{}", text(&out));
}

/// A URL the runner could not send is a script error at its place in the file, found by
/// `validate` before anything runs.
#[test]
fn validate_reports_a_url_that_cannot_be_sent_at_its_line_and_column() {
    let case = Case::new();
    let script = case.script(
        "chat.yaml",
        "config:\n  target: \"http://127.0.0.1:9\"\nscenarios:\n  - flow:\n      - get: { url: \"/\" }\n      - connect: \"/chat room\"\n",
    );
    let out = hornet().arg("validate").arg(&script).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("chat.yaml:6:18"), "{err}");
    assert!(err.contains("`ws://127.0.0.1:9/chat room` is not a valid URL"), "{err}");
}

#[test]
fn quick_closed_and_fixed_rate() {
    let t = target();
    let case = Case::new();
    let report = case.report_path();
    let url = format!("{}/json", t.url());
    let out =
        hornet().args(["quick", &url, "-n", "57", "-c", "4", "-q", "-o"]).arg(&report).output().expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(counter(&json, "http.requests"), 57);
    assert_eq!(counter(&json, "http.codes.200"), 57);

    let out = hornet()
        .args(["quick", &url, "-r", "100", "-n", "150", "-c", "10", "-q", "-o"])
        .arg(&report)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(counter(&json, "http.requests"), 150);
    let d = json["run"]["duration_s"].as_f64().expect("duration");
    assert!((1.4..4.0).contains(&d), "150 requests at 100/s took {d} s");

    let out = hornet().args(["quick", "ftp://x", "-q"]).output().expect("run");
    assert_eq!(out.status.code(), Some(2));
}

#[test]
fn demo_script_is_valid() {
    let out = hornet()
        .args(["validate", concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/demo.yaml")])
        .output();
    let out = out.expect("run");
    assert!(out.status.success(), "{}", text(&out));
}

/// A loopback HTTP/1.1 server that answers every request `200 ok` on keep-alive connections and
/// counts the requests it answered: the target's own count, to hold a report's against.
struct CountingServer {
    url: String,
    answered: Arc<AtomicUsize>,
    stop: Arc<std::sync::atomic::AtomicBool>,
}

impl CountingServer {
    fn start() -> CountingServer {
        use std::io::{Read, Write};
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}/", listener.local_addr().expect("addr"));
        let answered = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let (count, stopped) = (answered.clone(), stop.clone());
        std::thread::spawn(move || {
            // Bounded: accepts until the test drops the server, or for a minute at most.
            let end = Instant::now() + Duration::from_secs(60);
            while !stopped.load(Ordering::SeqCst) && Instant::now() < end {
                let Ok((mut conn, _)) = listener.accept() else {
                    std::thread::sleep(Duration::from_millis(1));
                    continue;
                };
                let count = count.clone();
                std::thread::spawn(move || {
                    conn.set_nonblocking(false).expect("blocking");
                    conn.set_read_timeout(Some(Duration::from_secs(30))).expect("timeout");
                    let mut pending = Vec::new();
                    let mut buf = [0u8; 4096];
                    while let Ok(n) = conn.read(&mut buf) {
                        if n == 0 {
                            break;
                        }
                        pending.extend_from_slice(&buf[..n]);
                        // The requests are GETs without a body: each ends at its blank line.
                        while let Some(end) = pending.windows(4).position(|w| w == b"\r\n\r\n") {
                            pending.drain(..end + 4);
                            count.fetch_add(1, Ordering::SeqCst);
                            if conn.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok").is_err() {
                                return;
                            }
                        }
                    }
                });
            }
        });
        CountingServer { url, answered, stop }
    }

    fn answered(&self) -> usize {
        self.answered.load(Ordering::SeqCst)
    }
}

impl Drop for CountingServer {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::SeqCst);
    }
}

/// A fixed rate dense enough for the schedule driver to start its arrivals in batches (8,000/s is
/// four within one wake-up gap) still sends every request of the schedule, each measured from its
/// own intended start: the server answers as many requests as the schedule holds, and the schedule
/// lag and the corrected latency hold one value per request.
#[test]
fn a_dense_fixed_rate_sends_every_scheduled_request_measured_from_its_intended_time() {
    let server = CountingServer::start();
    let case = Case::new();
    let report = case.report_path();
    let out = hornet()
        .args(["quick", &server.url, "-r", "8000", "-n", "4000", "-c", "10", "-q", "-o"])
        .arg(&report)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(server.answered(), 4000, "requests the server answered");
    assert_eq!(counter(&json, "http.requests"), 4000);
    assert_eq!(counter(&json, "vusers.created"), 4000);
    let summaries = &json["aggregate"]["summaries"];
    assert_eq!(summaries["schedule.lag"]["count"].as_u64(), Some(4000), "{summaries}");
    assert_eq!(summaries["http.response_time.corrected"]["count"].as_u64(), Some(4000), "{summaries}");
}

/// Arrivals due faster than their one connection can serve them wait for it in line, and each is
/// still measured from its own intended start: 40 requests at 100/s over `-c 1` (one thread, so
/// one connection) to a 25 ms endpoint take a second at least, so the last waits some 0.6 s,
/// which its latency shows; none is dropped.
#[test]
fn arrivals_waiting_for_a_pooled_connection_are_measured_from_their_intended_time() {
    let t = target();
    let case = Case::new();
    let report = case.report_path();
    let url = format!("{}/delay/25", t.url());
    let out = hornet()
        .args(["quick", &url, "-r", "100", "-n", "40", "-c", "1", "--threads", "1", "-q", "-o"])
        .arg(&report)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    let json: Value = serde_json::from_str(&std::fs::read_to_string(&report).expect("report")).expect("json");
    assert_eq!(counter(&json, "http.codes.200"), 40);
    assert_eq!(counter(&json, "vusers.created"), 40);
    assert_eq!(counter(&json, "vusers.completed"), 40);
    let summaries = &json["aggregate"]["summaries"];
    let latency = &summaries["http.response_time"];
    assert_eq!(latency["count"].as_u64(), Some(40), "{summaries}");
    // The 40th is due at 0.39 s and served after the 39 before it, 25 ms each: 1.0 s − 0.39 s.
    let max = latency["max"].as_f64().expect("max");
    assert!(max >= 550.0, "the last request waited in line, yet its latency is {max} ms");
    let min = latency["min"].as_f64().expect("min");
    assert!(min >= 25.0, "a latency below the server's 25 ms delay: {min} ms");
    assert_eq!(summaries["schedule.lag"]["count"].as_u64(), Some(40), "{summaries}");
}

/// More arrivals running at once than a thread keeps idle lanes for (300 within a second, each
/// 1.2 s long), then a steady rate that starts while they run and goes on after they end: every
/// arrival runs to completion, on a new lane or a reused one.
#[test]
fn a_burst_of_concurrent_arrivals_then_a_steady_rate_all_complete() {
    let t = target();
    let report = run_yaml_ok(
        &format!(
            "config:\n  target: \"{}\"\n  phases:\n    - duration: 1\n      arrivalCount: 300\n    - duration: 2\n      arrivalRate: 20\nscenarios:\n  - flow:\n      - get: {{ url: \"/delay/1200\" }}\n",
            t.url()
        ),
        &["-q", "--threads", "1"],
    );
    assert_eq!(counter(&report, "vusers.created"), 340);
    assert_eq!(counter(&report, "vusers.completed"), 340);
    assert_eq!(counter(&report, "vusers.failed"), 0);
    assert_eq!(counter(&report, "http.codes.200"), 340);
}
