//! End-to-end tests of the signals that end a run: SIGHUP behaves like SIGTERM (summary, report,
//! its own exit code) unless `nohup` ignored it, and Ctrl-C during a `before` flow stuck on a server
//! that never answers ends the process at once. Loopback only.

mod common;

use std::io::Read;
use std::net::{TcpListener, TcpStream};
use std::os::unix::process::CommandExt;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::{Case, counter, exit_within, hornet, send_signal, spawn_run, target, text};
use serde_json::Value;

/// A one-minute run of 20 arrivals a second against `url`.
fn long_script(case: &Case, url: &str) -> std::path::PathBuf {
    case.script(
        "long.yaml",
        &format!(
            "config:\n  target: \"{url}\"\n  phases:\n    - duration: 60\n      arrivalRate: 20\nscenarios:\n  - flow:\n      - get: {{ url: \"/delay/100\" }}\n"
        ),
    )
}

#[test]
fn sighup_writes_the_summary_and_the_report_and_exits_129() {
    let t = target();
    let case = Case::new();
    let script = long_script(&case, &t.url());
    let report = case.report_path();
    let mut child = spawn_run(&script, &report, &[]);
    std::thread::sleep(Duration::from_millis(2500));
    send_signal(&child, libc::SIGHUP);
    let status = exit_within(&mut child, Duration::from_secs(20));
    let out = child.wait_with_output().expect("output");
    assert_eq!(status.code(), Some(129), "{}", text(&out));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report written")).expect("json");
    assert_eq!(json["run"]["interrupted"], true);
    assert!(counter(&json, "http.requests") >= 20, "{json}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("GET /delay/100"), "{}", text(&out));
}

#[test]
fn sighup_ignored_by_nohup_leaves_the_run_going() {
    let t = target();
    let case = Case::new();
    let script = long_script(&case, &t.url());
    let mut command = hornet();
    command
        .arg("run")
        .arg(&script)
        .arg("-o")
        .arg(case.report_path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped());
    // SAFETY: between fork and exec the closure only calls signal, which is async-signal-safe.
    unsafe {
        command.pre_exec(|| {
            libc::signal(libc::SIGHUP, libc::SIG_IGN);
            Ok(())
        });
    }
    let mut child = command.spawn().expect("spawn");
    std::thread::sleep(Duration::from_millis(2000));
    send_signal(&child, libc::SIGHUP);
    std::thread::sleep(Duration::from_millis(1000));
    assert!(child.try_wait().expect("wait").is_none(), "SIGHUP under nohup stopped the run");
    send_signal(&child, libc::SIGINT);
    let status = exit_within(&mut child, Duration::from_secs(20));
    assert_eq!(status.code(), Some(130));
}

#[test]
fn ctrl_c_during_a_before_flow_on_a_server_that_never_answers_exits_130_at_once() {
    let silent = SilentServer::start();
    let url = silent.url();
    let case = Case::new();
    let script = case.script(
        "before.yaml",
        &format!(
            "config:\n  target: \"{url}\"\n  http:\n    timeout: 120\n  phases:\n    - duration: 5\n      arrivalRate: 5\nbefore:\n  flow:\n    - get: {{ url: \"/token\" }}\nscenarios:\n  - flow:\n      - get: {{ url: \"/\" }}\n"
        ),
    );
    let mut child = spawn_run(&script, &case.report_path(), &[]);
    silent.wait_for_a_connection("the before flow");
    send_signal(&child, libc::SIGINT);
    // Far below the 120 s request timeout the flow would otherwise wait for.
    let status = exit_within(&mut child, Duration::from_secs(20));
    let out = child.wait_with_output().expect("output");
    assert_eq!(status.code(), Some(130), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("stopped during the `before` flow"),
        "{}",
        text(&out)
    );
    assert_eq!(silent.connections(), 1, "only the before flow's connection: no load was sent");
    assert!(!case.report_path().exists(), "no report for a run whose load never started");
}

#[test]
fn the_first_ctrl_c_ends_an_after_flow_that_hangs_with_the_summary_and_the_report() {
    let t = target();
    // The `after` flow's server.
    let silent = SilentServer::start();
    let hang = silent.url();
    let case = Case::new();
    let script = case.script(
        "after.yaml",
        &format!(
            "config:\n  target: \"{}\"\n  http:\n    timeout: 120\n  phases:\n    - duration: 1\n      arrivalCount: 3\nafter:\n  flow:\n    - get: {{ url: \"{hang}/cleanup\" }}\nscenarios:\n  - flow:\n      - get: {{ url: \"/\" }}\n",
            t.url()
        ),
    );
    let report = case.report_path();
    let mut child = spawn_run(&script, &report, &[]);
    silent.wait_for_a_connection("the after flow");
    send_signal(&child, libc::SIGINT);
    // One Ctrl-C, far below the 120 s request timeout the flow would otherwise wait for.
    let status = exit_within(&mut child, Duration::from_secs(20));
    let out = child.wait_with_output().expect("output");
    assert_eq!(status.code(), Some(130), "{}", text(&out));
    assert!(text(&out).contains("the `after` flow was stopped"), "{}", text(&out));
    assert!(!text(&out).contains("interrupted twice"), "{}", text(&out));
    let json: Value =
        serde_json::from_str(&std::fs::read_to_string(&report).expect("report written")).expect("json");
    assert_eq!(counter(&json, "http.requests"), 3, "{json}");
    assert!(String::from_utf8_lossy(&out.stdout).contains("GET /"), "the summary: {}", text(&out));
}

/// A server on loopback that accepts connections and reads what comes, never answering; it keeps
/// the connections open.
struct SilentServer {
    addr: std::net::SocketAddr,
    held: Arc<Mutex<Vec<TcpStream>>>,
}

impl SilentServer {
    fn start() -> SilentServer {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let addr = listener.local_addr().expect("addr");
        let held: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let holding = held.clone();
        std::thread::spawn(move || {
            for mut stream in listener.incoming().flatten() {
                let mut buf = [0u8; 1024];
                let _ = stream.set_read_timeout(Some(Duration::from_millis(200)));
                let _ = stream.read(&mut buf);
                holding.lock().expect("lock").push(stream);
            }
        });
        SilentServer { addr, held }
    }

    fn url(&self) -> String {
        format!("http://{}", self.addr)
    }

    fn connections(&self) -> usize {
        self.held.lock().expect("lock").len()
    }

    /// Waits (up to 20 s) until `who` has connected.
    fn wait_for_a_connection(&self, who: &str) {
        let deadline = Instant::now() + Duration::from_secs(20);
        while self.connections() == 0 {
            assert!(Instant::now() < deadline, "{who} never connected");
            std::thread::sleep(Duration::from_millis(50));
        }
    }
}
