//! End-to-end tests of server faults at the edges of what hornet counts and keeps: requests sent
//! again on a stale keep-alive connection, response bodies too large to keep for captures, and
//! running out of file descriptors. The fault servers are written here; loopback only.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{Case, counter, endpoint, hornet, limit_open_files, run_yaml, target, text, with_target};

/// Reads one request head (and whatever of its body came with it); false at EOF.
fn read_request(stream: &mut TcpStream) -> bool {
    let mut seen = Vec::new();
    let mut chunk = [0u8; 4096];
    while !seen.windows(4).any(|w| w == b"\r\n\r\n") {
        match stream.read(&mut chunk) {
            Ok(0) | Err(_) => return false,
            Ok(n) => seen.extend_from_slice(&chunk[..n]),
        }
    }
    true
}

/// A server that answers the first request of each connection, then reads the next one and closes
/// without answering; returns its URL and the count of requests it read.
fn answers_once_per_connection() -> (String, Arc<AtomicUsize>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    let heads = Arc::new(AtomicUsize::new(0));
    let counted = heads.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { return };
            let heads = counted.clone();
            std::thread::spawn(move || {
                if read_request(&mut stream) {
                    heads.fetch_add(1, Ordering::SeqCst);
                    let _ = stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\n\r\nok");
                    if read_request(&mut stream) {
                        heads.fetch_add(1, Ordering::SeqCst);
                    }
                }
            });
        }
    });
    (url, heads)
}

#[test]
fn requests_counted_match_what_a_server_closing_kept_alive_connections_read() {
    let (url, heads) = answers_once_per_connection();
    // GET, GET (its connection is closed unanswered: sent again), POST (the same again: not sent
    // again, the virtual user fails), POST (never reached).
    let (out, report) = run_yaml(
        &format!(
            r#"
config:
  target: "{url}"
  phases:
    - duration: 1
      arrivalCount: 1
scenarios:
  - flow:
      - get: {{ url: "/g", name: g }}
      - get: {{ url: "/g", name: g }}
      - post: {{ url: "/p", name: p, json: {{ n: 1 }} }}
      - post: {{ url: "/p", name: p, json: {{ n: 2 }} }}
"#
        ),
        &[],
    );
    assert!(out.status.success(), "{}", text(&out));
    let read = heads.load(Ordering::SeqCst) as u64;
    assert_eq!(read, 4, "the server read GET, GET twice and one POST: {}", text(&out));
    assert_eq!(counter(&report, "http.requests"), read, "{report}");
    assert_eq!(endpoint(&report, "g")["requests"], 3, "{report}");
    assert_eq!(endpoint(&report, "g")["responses"], 2, "{report}");
    assert_eq!(endpoint(&report, "p")["requests"], 1, "{report}");
    assert_eq!(counter(&report, "errors.connect-reset"), 1, "{report}");
    let shown = report.to_string();
    assert!(shown.contains("not sent again: POST is not idempotent"), "{report}");
}

/// Serves `/small` (a JSON body) and, at any other path, 256 MiB of filler: chunked at `/chunked`,
/// delimited by the end of the connection elsewhere. Returns its URL.
fn streams_large_bodies() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://{}", listener.local_addr().expect("addr"));
    std::thread::spawn(move || {
        for stream in listener.incoming().take(16) {
            let Ok(mut stream) = stream else { return };
            std::thread::spawn(move || {
                let mut buf = [0u8; 2048];
                let mut read_path = |stream: &mut TcpStream| {
                    let n = stream.read(&mut buf).unwrap_or(0);
                    String::from_utf8_lossy(&buf[..n]).split(' ').nth(1).unwrap_or("").to_owned()
                };
                let mut path = read_path(&mut stream);
                if path == "/small" {
                    let body = br#"{"token":"abc"}"#;
                    let reply = format!("HTTP/1.1 200 OK\r\ncontent-length: {}\r\n\r\n", body.len());
                    let _ = stream.write_all(reply.as_bytes()).and_then(|()| stream.write_all(body));
                    // The next request on this connection is a large one.
                    path = read_path(&mut stream);
                }
                let block = vec![b'x'; 1 << 20];
                let chunked = path.starts_with("/chunked");
                let head: &[u8] = if chunked {
                    b"HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\n\r\n"
                } else {
                    b"HTTP/1.1 200 OK\r\nconnection: close\r\n\r\n"
                };
                if stream.write_all(head).is_err() {
                    return;
                }
                for _ in 0..256 {
                    let sent = if chunked {
                        stream
                            .write_all(format!("{:x}\r\n", block.len()).as_bytes())
                            .and_then(|()| stream.write_all(&block))
                            .and_then(|()| stream.write_all(b"\r\n"))
                    } else {
                        stream.write_all(&block)
                    };
                    if sent.is_err() {
                        return;
                    }
                }
                if chunked {
                    let _ = stream.write_all(b"0\r\n\r\n");
                }
            });
        }
    });
    url
}

/// The largest resident set of this process's waited-for children so far, in bytes.
fn children_peak_rss() -> u64 {
    // SAFETY: getrusage only writes the struct it is given.
    let mut usage: libc::rusage = unsafe { std::mem::zeroed() };
    assert_eq!(unsafe { libc::getrusage(libc::RUSAGE_CHILDREN, &mut usage) }, 0);
    usage.ru_maxrss as u64 * 1024
}

#[test]
fn a_capture_on_a_body_past_the_limit_fails_clearly_with_memory_bounded() {
    let url = streams_large_bodies();
    for (path, limit) in [("/chunked", ""), ("/eof", "\n    maxCaptureBody: 4MiB")] {
        let (out, report) = run_yaml(
            &format!(
                r#"
config:
  target: "{url}"
  http:
    timeout: 60{limit}
  phases:
    - duration: 1
      arrivalCount: 1
scenarios:
  - flow:
      - get:
          url: "/small"
          name: small
          capture: {{ json: "$.token", as: token }}
      - get:
          url: "{path}?t={{{{ token }}}}"
          name: large
          capture: {{ json: "$.id", as: id }}
"#
            ),
            &[],
        );
        assert!(out.status.success(), "{}", text(&out));
        let large = endpoint(&report, "large");
        assert_eq!(large["responses"], 1, "{report}");
        assert!(counter(&report, "http.downloaded_bytes") >= 256 << 20, "every byte is counted: {report}");
        assert_eq!(counter(&report, "errors.capture-failed"), 1, "{report}");
        let kept = if limit.is_empty() { "16777216 bytes" } else { "4194304 bytes" };
        let message = report.to_string();
        assert!(message.contains(kept) && message.contains("config.http.maxCaptureBody"), "{path}: {report}");
        assert_eq!(endpoint(&report, "small")["failures"], 0, "the short body was captured: {report}");
    }
    let peak = children_peak_rss();
    assert!(peak < 160 << 20, "a 256 MiB body was kept: peak {} MB", peak >> 20);
}

#[test]
fn out_of_file_descriptors_is_the_generators_error_with_a_warning_and_no_spinning() {
    let t = target();
    let case = Case::new();
    // 200 users holding a connection each for 300 ms, in a process that may open 64 files.
    let script = case.script(
        "users.yaml",
        &with_target(
            "config:\n  target: \"TARGET\"\n  phases:\n    - duration: 2\n      users: 200\nscenarios:\n  - flow:\n      - get: { url: \"/delay/300\" }\n",
            &t,
        ),
    );
    let report_path = case.report_path();
    let mut command = hornet();
    command.arg("run").arg(&script).arg("-o").arg(&report_path).arg("--threads").arg("1");
    limit_open_files(&mut command, 64);
    let out = command.output().expect("run hornet");
    let all = text(&out);
    assert!(out.status.success(), "{all}");
    assert!(
        all.contains("warning: this run plans up to 200 connections at once")
            && all.contains("only 64 files (RLIMIT_NOFILE; hard limit 64)"),
        "{all}"
    );
    let report: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(&report_path).expect("report")).expect("json");
    let out_of_files = counter(&report, "errors.too-many-open-files");
    assert!(out_of_files > 0, "{report}");
    assert_eq!(counter(&report, "errors.connect-refused"), 0, "never blamed on the server: {report}");
    assert!(counter(&report, "http.responses") > 0, "the connections that fit still work: {report}");
    // Each connection that finds no descriptor waits 0.63 s for one before it fails: 200 users
    // over 2 s fail at most a few times each, not in a hot loop (1.45 million failures in 4 s).
    assert!(out_of_files < 2_000, "{out_of_files} failures: spinning");
    assert!(report.to_string().contains("open-file limit is 64"), "{report}");
}
