//! Helpers shared by the end-to-end tests: the embedded target, scripts in a temporary folder,
//! running the real binary and reading its JSON report.

#![allow(dead_code)]

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::time::{Duration, Instant};

use hornet_target::{RunningTarget, TargetOptions};
use serde_json::Value;

pub fn hornet() -> Command {
    let mut c = Command::new(env!("CARGO_BIN_EXE_hornet"));
    c.env("CI", "true").stdin(Stdio::null());
    c
}

/// `command` will run with at most `files` open file descriptors (`ulimit -n files`, soft and hard).
pub fn limit_open_files(command: &mut Command, files: libc::rlim_t) {
    use std::os::unix::process::CommandExt;
    // SAFETY: between fork and exec the closure only calls setrlimit, which is async-signal-safe.
    unsafe {
        command.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: files, rlim_max: files };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            Ok(())
        });
    }
}

pub fn target() -> RunningTarget {
    RunningTarget::start(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 })
        .expect("start target")
}

pub struct Case {
    pub dir: tempfile::TempDir,
}

impl Case {
    pub fn new() -> Case {
        Case { dir: tempfile::tempdir().expect("tempdir") }
    }

    pub fn script(&self, name: &str, text: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::File::create(&p).and_then(|mut f| f.write_all(text.as_bytes())).expect("write script");
        p
    }

    pub fn report_path(&self) -> PathBuf {
        self.dir.path().join("report.json")
    }
}

/// Starts `hornet run script -o report extra...` with its stdout and stderr piped, for a test that
/// acts on the running process (a signal, a closed pipe).
pub fn spawn_run(script: &Path, report: &Path, extra: &[&str]) -> Child {
    hornet()
        .arg("run")
        .arg(script)
        .arg("-o")
        .arg(report)
        .args(extra)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hornet")
}

/// Sends `signal` to `child`.
pub fn send_signal(child: &Child, signal: libc::c_int) {
    // SAFETY: sending a signal to our own child process.
    assert_eq!(unsafe { libc::kill(child.id() as libc::pid_t, signal) }, 0);
}

/// Waits at most `limit` for `child` to exit; kills it and fails past that.
pub fn exit_within(child: &mut Child, limit: Duration) -> ExitStatus {
    let deadline = Instant::now() + limit;
    loop {
        if let Some(status) = child.try_wait().expect("wait") {
            return status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            panic!("hornet did not exit within {limit:?}");
        }
        std::thread::sleep(Duration::from_millis(50));
    }
}

/// Runs `hornet run script -o report` with a time bound, returns the output and the report.
pub fn run_script(case: &Case, script: &Path, extra: &[&str]) -> (Output, Option<Value>) {
    let report = case.report_path();
    let out =
        hornet().arg("run").arg(script).arg("-o").arg(&report).args(extra).output().expect("run hornet");
    let json = std::fs::read_to_string(&report).ok().and_then(|s| serde_json::from_str(&s).ok());
    (out, json)
}

/// Runs the script `yaml` (already pointed at its target, see [`with_target`]) with `hornet run`
/// plus `extra`, in a fresh folder; returns the output and the report, which must have been
/// written (whatever the exit code).
pub fn run_yaml(yaml: &str, extra: &[&str]) -> (Output, Value) {
    let case = Case::new();
    let script = case.script("test.yaml", yaml);
    let (out, report) = run_script(&case, &script, extra);
    let report = report.unwrap_or_else(|| panic!("no report written:\n{}", text(&out)));
    (out, report)
}

/// [`run_yaml`] for a run that must succeed; returns the report.
pub fn run_yaml_ok(yaml: &str, extra: &[&str]) -> Value {
    let (out, report) = run_yaml(yaml, extra);
    assert!(out.status.success(), "{}", text(&out));
    report
}

/// Runs a script that must succeed; returns the report.
pub fn run_ok(case: &Case, script: &Path, extra: &[&str]) -> Value {
    let (out, report) = run_script(case, script, extra);
    assert!(out.status.success(), "{}", text(&out));
    report.expect("report written")
}

pub fn counter(report: &Value, name: &str) -> u64 {
    report["aggregate"]["counters"][name].as_u64().unwrap_or(0)
}

pub fn endpoint<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["endpoints"]
        .as_array()
        .and_then(|eps| eps.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("endpoint {name} missing in {report}"))
}

pub fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// `yaml` with every `TARGET` replaced by the target's URL (saves escaping braces in format!).
pub fn with_target(yaml: &str, t: &RunningTarget) -> String {
    yaml.replace("TARGET", &t.url())
}

/// The value of check `name` in the report's checks, if present.
pub fn check<'a>(report: &'a Value, name_part: &str) -> Option<&'a Value> {
    report["checks"].as_array()?.iter().find(|c| c["name"].as_str().is_some_and(|n| n.contains(name_part)))
}

/// What a browser test needs, or why it cannot run: node, Chromium, and the e2e folder's
/// node_modules (`npm ci` there).
pub fn browser_tools() -> Result<(std::path::PathBuf, std::path::PathBuf, std::path::PathBuf), String> {
    let e2e = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../hornet-ui/e2e");
    let node = hornet_testkit::find_program(&[], &["node"])
        .ok_or("`node` is not on PATH (apt-get install nodejs npm)")?;
    let chromium = hornet_testkit::find_program(&["/usr/bin/chromium"], &["chromium"])
        .ok_or("Chromium is not installed (apt-get install chromium)")?;
    if !e2e.join("node_modules/playwright-core/package.json").exists() {
        return Err(format!(
            "{}/node_modules is missing (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --ignore-scripts there)",
            e2e.display()
        ));
    }
    Ok((node, chromium, e2e))
}

/// Runs `script` of the e2e folder with node and `env`, for at most 120 s; prints its output and
/// returns its exit status, standard output and standard error.
pub fn run_browser_script(
    node: &Path,
    e2e: &Path,
    script: &str,
    env: &[(&str, &str)],
) -> (ExitStatus, String, String) {
    use std::io::Read;
    let mut command = Command::new(node);
    command.arg(e2e.join(script)).current_dir(e2e).stdout(Stdio::piped()).stderr(Stdio::piped());
    for (name, value) in env {
        command.env(name, value);
    }
    let mut child = command.spawn().expect("start node");
    let deadline = Instant::now() + Duration::from_secs(120);
    let status = loop {
        if let Ok(Some(status)) = child.try_wait() {
            break status;
        }
        if Instant::now() > deadline {
            let _ = child.kill();
            let _ = child.wait();
            panic!("{script} did not finish within 120 s");
        }
        std::thread::sleep(Duration::from_millis(100));
    };
    let mut stdout = String::new();
    let mut stderr = String::new();
    if let Some(mut o) = child.stdout.take() {
        let _ = o.read_to_string(&mut stdout);
    }
    if let Some(mut e) = child.stderr.take() {
        let _ = e.read_to_string(&mut stderr);
    }
    eprintln!("{stderr}{stdout}");
    (status, stdout, stderr)
}
