//! End-to-end tests of server faults at the edges of what hornet counts and keeps: requests sent
//! again on a stale keep-alive connection, response bodies too large to keep for captures, and
//! running out of file descriptors. The fault servers are written here; loopback only.

mod common;

use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};

use common::{counter, endpoint, run_yaml, text};

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
