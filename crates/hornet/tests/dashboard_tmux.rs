//! Smoke test of the full-screen dashboard on a real terminal: `hornet quick` runs in a tmux pane
//! (a pty) against the embedded target; the dashboard must show the endpoint table, `q` must stop
//! the run gracefully (exit code 0), and the terminal must be back on the normal screen with the
//! summary printed. A second test checks that a redirected stdout falls back to the status line.
//!
//! Skipped, with a message, when tmux is not installed; with `CI` set a missing tmux fails. Each test is bounded to about 20 s.

use std::path::{Path, PathBuf};
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use hornet_target::{RunningTarget, TargetOptions};

/// A private tmux server (its own socket), killed on drop.
struct Tmux {
    socket: String,
}

impl Tmux {
    /// `None` when tmux is not installed: `test` is then skipped with a message, or fails when
    /// `CI` is set (`hornet_testkit::require`).
    fn start(test: &str, name: &str, command: &str) -> Option<Tmux> {
        hornet_testkit::require_tool(test, &[], &["tmux"], "apt-get install -y tmux")?;
        let tmux = Tmux { socket: format!("hornet-test-{name}-{}", std::process::id()) };
        let out = tmux.run(&["new-session", "-d", "-x", "130", "-y", "40", command]);
        assert!(out.status.success(), "tmux new-session: {}", String::from_utf8_lossy(&out.stderr));
        Some(tmux)
    }

    fn run(&self, args: &[&str]) -> Output {
        Command::new("tmux")
            .arg("-L")
            .arg(&self.socket)
            .args(args)
            // The dashboard is off under CI; the pane's command unsets it, the server needs no more.
            .env_remove("CI")
            .output()
            .expect("run tmux")
    }

    fn screen(&self) -> String {
        String::from_utf8_lossy(&self.run(&["capture-pane", "-p"]).stdout).into_owned()
    }

    /// Whether the pane is on the alternate screen.
    fn alternate(&self) -> bool {
        String::from_utf8_lossy(&self.run(&["display-message", "-p", "#{alternate_on}"]).stdout).trim() == "1"
    }

    /// Waits until `done(screen)` holds; panics with the screen after `limit`.
    fn wait_for(&self, what: &str, limit: Duration, done: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if done(&screen) {
                return screen;
            }
            assert!(start.elapsed() < limit, "timed out waiting for {what}; screen:\n{screen}");
            std::thread::sleep(Duration::from_millis(200));
        }
    }
}

impl Drop for Tmux {
    fn drop(&mut self) {
        let _ = self.run(&["kill-server"]);
    }
}

fn target() -> RunningTarget {
    RunningTarget::start(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 })
        .expect("start target")
}

/// The shell command for the pane: `hornet quick` at a gentle fixed rate, its exit code written
/// to `exit_file`, then the pane stays open for capture.
fn pane_command(url: &str, redirect: &str, exit_file: &Path) -> String {
    format!(
        "env -u CI TERM=xterm-256color {bin} quick {url}/ -d 15s -r 200 -c 4 {redirect}; echo $? > {exit}; sleep 30",
        bin = env!("CARGO_BIN_EXE_hornet"),
        exit = exit_file.display(),
    )
}

fn exit_code(path: &PathBuf, limit: Duration) -> Option<i32> {
    let start = Instant::now();
    while start.elapsed() < limit {
        if let Ok(s) = std::fs::read_to_string(path)
            && let Ok(code) = s.trim().parse()
        {
            return Some(code);
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    None
}

#[test]
fn dashboard_shows_the_table_and_q_stops_gracefully() {
    let t = target();
    let dir = tempfile::tempdir().expect("tempdir");
    let exit_file = dir.path().join("exit");
    let Some(tmux) = Tmux::start(
        "dashboard_shows_the_table_and_q_stops_gracefully",
        "dash",
        &pane_command(&t.url(), "", &exit_file),
    ) else {
        return;
    };

    let screen = tmux.wait_for("the endpoint table", Duration::from_secs(10), |s| {
        s.contains("# reqs")
            && s.contains("Cur RPS")
            && s.lines().any(|l| l.contains("GET") && l.contains("127.0.0.1"))
    });
    assert!(tmux.alternate(), "the dashboard uses the alternate screen:\n{screen}");
    assert!(screen.contains("requests/s") && screen.contains("latency ms"), "{screen}");

    let _ = tmux.run(&["send-keys", "q"]);
    let code = exit_code(&exit_file, Duration::from_secs(10));
    let screen = tmux.screen();
    assert_eq!(code, Some(0), "q stops gracefully with exit code 0; screen:\n{screen}");
    assert!(!tmux.alternate(), "back on the normal screen:\n{screen}");
    assert!(screen.contains("Requests by endpoint"), "the summary is printed:\n{screen}");
    assert!(!screen.contains("Cur RPS"), "the dashboard is gone:\n{screen}");
    t.stop();
}

#[test]
fn redirected_stdout_falls_back_to_the_status_line() {
    let t = target();
    let dir = tempfile::tempdir().expect("tempdir");
    let exit_file = dir.path().join("exit");
    let out = dir.path().join("summary.txt");
    let redirect = format!("> {}", out.display());
    let Some(tmux) = Tmux::start(
        "redirected_stdout_falls_back_to_the_status_line",
        "line",
        &pane_command(&t.url(), &redirect, &exit_file),
    ) else {
        return;
    };

    let screen = tmux.wait_for("the status line", Duration::from_secs(10), |s| s.contains("req/s |"));
    assert!(!tmux.alternate(), "no alternate screen:\n{screen}");
    let _ = tmux.run(&["send-keys", "q"]);
    assert_eq!(exit_code(&exit_file, Duration::from_secs(10)), Some(0), "{}", tmux.screen());
    let summary = std::fs::read_to_string(&out).unwrap_or_default();
    assert!(summary.contains("summary"), "{summary}");
    t.stop();
}
