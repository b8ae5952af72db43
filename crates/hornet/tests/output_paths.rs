//! End-to-end tests of where reports go: output paths checked before any load is sent, devices,
//! FIFOs and symbolic links written in place, `-o -`, a closed or full stdout, a full disk. Each
//! test runs the real binary against loopback.

mod common;

use std::fs;
use std::io::Read;
use std::net::TcpListener;
use std::os::unix::fs::{FileTypeExt, PermissionsExt};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};
use std::sync::mpsc;
use std::time::Duration;

use common::{Case, counter, hornet, spawn_run, target, text};
use serde_json::Value;

const SCRIPT: &str = r#"
config:
  target: "TARGET"
  phases:
    - duration: 1
      arrivalCount: 5
scenarios:
  - flow:
      - get: { url: "/" }
"#;

/// A listener that counts the connections it was offered: the target of runs that must send
/// nothing.
struct Counting {
    listener: TcpListener,
}

impl Counting {
    fn new() -> Counting {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        Counting { listener }
    }

    fn url(&self) -> String {
        format!("http://{}", self.listener.local_addr().expect("addr"))
    }

    /// The connections waiting to be accepted: every one a run opened.
    fn connections(&self) -> usize {
        std::iter::from_fn(|| self.listener.accept().ok()).count()
    }
}

/// A folder every user can read, with the script pointed at `url`.
fn case_for(url: &str) -> (Case, PathBuf) {
    let case = Case::new();
    fs::set_permissions(case.dir.path(), fs::Permissions::from_mode(0o755)).expect("chmod");
    let script = case.script("s.yaml", &SCRIPT.replace("TARGET", url));
    (case, script)
}

fn is_root() -> bool {
    // SAFETY: geteuid has no preconditions.
    unsafe { libc::geteuid() == 0 }
}

/// Runs `cmd` as the unprivileged user `nobody` when the tests run as root, where file
/// permissions would not apply.
fn unprivileged(cmd: &mut Command) -> &mut Command {
    if is_root() {
        cmd.uid(65534).gid(65534);
    }
    cmd
}

fn stderr(out: &Output) -> String {
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn bad_output_paths_exit_2_before_anything_is_sent() {
    let server = Counting::new();
    let (case, script) = case_for(&server.url());
    let dir = case.dir.path();
    let missing = dir.join("nodir").join("sub").join("r.json");
    let read_only = dir.join("ro");
    fs::create_dir(&read_only).expect("mkdir");
    fs::set_permissions(&read_only, fs::Permissions::from_mode(0o555)).expect("chmod");
    let in_read_only = read_only.join("r.json");
    let prefix = dir.join("nodir").join("stats");
    let cases: Vec<(Vec<String>, &str, String)> = vec![
        (vec!["-o".into(), missing.display().to_string()], "-o", "does not exist".into()),
        (vec!["-o".into(), "/proc/x/r.json".into()], "-o /proc/x/r.json", "does not exist".into()),
        (vec!["--html".into(), dir.display().to_string()], "--html", "is a directory".into()),
        (vec!["--csv".into(), prefix.display().to_string()], "--csv", "does not exist".into()),
        (vec!["--junit".into(), missing.display().to_string()], "--junit", "does not exist".into()),
        (
            vec!["--summary-json".into(), in_read_only.display().to_string()],
            "--summary-json",
            "Permission denied".into(),
        ),
        (
            vec!["-o".into(), "-".into(), "--summary-json".into(), "/dev/stdout".into()],
            "-o, --summary-json",
            "only one output".into(),
        ),
    ];
    for (args, option, why) in cases {
        let out = unprivileged(hornet().arg("run").arg(&script).arg("-q").args(&args))
            .output()
            .expect("run hornet");
        let err = stderr(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {}", text(&out));
        assert!(err.contains(option) && err.contains(&why), "{args:?}: {err}");
        assert!(out.stdout.is_empty(), "{args:?}: no summary for a run that did not start");
    }
    // `quick` and the controller check theirs before sending or waiting for workers.
    let out = hornet()
        .args(["quick", &server.url(), "-n", "3", "-q", "-o"])
        .arg(&missing)
        .output()
        .expect("run hornet");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("does not exist"), "{}", text(&out));
    let out = hornet()
        .args(["controller", "--workers", "1", "--listen", "127.0.0.1:0", "--join-timeout", "30"])
        .arg(&script)
        .arg("--html")
        .arg(dir)
        .output()
        .expect("run hornet");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("is a directory"), "{}", text(&out));
    assert_eq!(server.connections(), 0, "a request was sent");
    let left: Vec<_> = fs::read_dir(dir).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(left.len(), 2, "only the script and ro/: no probe or report left: {left:?}");
}

#[test]
fn demo_in_a_read_only_directory_exits_2_at_once() {
    let case = Case::new();
    fs::set_permissions(case.dir.path(), fs::Permissions::from_mode(0o555)).expect("chmod");
    let out = unprivileged(hornet().arg("demo").arg("-q").current_dir(case.dir.path()))
        .output()
        .expect("run hornet");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(stderr(&out).contains("-o hornet-report.json"), "{}", text(&out));
    assert!(!stderr(&out).contains("embedded target on"), "the demo did not start: {}", text(&out));
}

/// A FIFO at `path`, read whole on a thread.
struct FifoReader {
    path: PathBuf,
    text: mpsc::Receiver<String>,
}

impl FifoReader {
    fn new(path: &Path) -> FifoReader {
        let c = std::ffi::CString::new(path.as_os_str().as_encoded_bytes()).expect("path");
        // SAFETY: mkfifo reads a NUL-terminated path that lives for the call.
        assert_eq!(unsafe { libc::mkfifo(c.as_ptr(), 0o644) }, 0, "mkfifo");
        let (tx, text) = mpsc::channel();
        let reading = path.to_owned();
        std::thread::spawn(move || {
            let mut text = String::new();
            let _ = fs::File::open(&reading).and_then(|mut f| f.read_to_string(&mut text));
            let _ = tx.send(text);
        });
        FifoReader { path: path.to_owned(), text }
    }

    /// What was written, within 30 s; else the reader is released (by opening the FIFO for
    /// writing) and the test fails.
    fn text(self) -> String {
        self.text.recv_timeout(Duration::from_secs(30)).unwrap_or_else(|_| {
            let _ = fs::OpenOptions::new().write(true).open(&self.path);
            panic!("nothing was written to the FIFO {}", self.path.display())
        })
    }
}

/// `cmd`'s output, killing it after 60 s.
fn output_within_a_minute(cmd: &mut Command) -> Output {
    let child = cmd.stdout(Stdio::piped()).stderr(Stdio::piped()).spawn().expect("spawn");
    let pid = child.id();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let _ = tx.send(child.wait_with_output());
    });
    match rx.recv_timeout(Duration::from_secs(60)) {
        Ok(out) => out.expect("wait"),
        Err(_) => {
            // SAFETY: sending a signal to our own child process.
            unsafe { libc::kill(pid as libc::pid_t, libc::SIGKILL) };
            panic!("hornet did not end within 60 s");
        }
    }
}

fn parse(json: &str) -> Value {
    serde_json::from_str(json).unwrap_or_else(|e| panic!("not JSON ({e}): {json:.200}"))
}

#[test]
fn fifos_and_links_to_them_are_written_in_place_and_stay_what_they_are() {
    let t = target();
    let (case, script) = case_for(&t.url());
    let fifo = case.dir.path().join("report.fifo");
    let reader = FifoReader::new(&fifo);
    let link = case.dir.path().join("summary.json");
    let linked_fifo = case.dir.path().join("summary.fifo");
    let linked_reader = FifoReader::new(&linked_fifo);
    std::os::unix::fs::symlink(&linked_fifo, &link).expect("symlink");
    let out = output_within_a_minute(
        hornet().arg("run").arg(&script).arg("-q").arg("-o").arg(&fifo).arg("--summary-json").arg(&link),
    );
    assert!(out.status.success(), "{}", text(&out));
    let report = parse(&reader.text());
    assert_eq!(counter(&report, "http.requests"), 5);
    assert_eq!(parse(&linked_reader.text())["requests"], 5);
    assert!(fs::symlink_metadata(&fifo).expect("stat").file_type().is_fifo(), "the FIFO stays a FIFO");
    assert!(fs::symlink_metadata(&link).expect("stat").file_type().is_symlink(), "the link stays a link");
    assert!(fs::symlink_metadata(&linked_fifo).expect("stat").file_type().is_fifo());
}

#[test]
fn dev_null_and_dev_stdout_work_for_a_user_without_privileges() {
    let t = target();
    let (_case, script) = case_for(&t.url());
    let out = unprivileged(hornet().arg("run").arg(&script).args(["-q", "-o", "/dev/null"]))
        .output()
        .expect("run hornet");
    assert!(out.status.success(), "{}", text(&out));
    assert!(fs::symlink_metadata("/dev/null").expect("stat").file_type().is_char_device());
    for stdout in ["/dev/stdout", "-"] {
        let out = unprivileged(hornet().arg("run").arg(&script).args(["-q", "-o", stdout]))
            .output()
            .expect("run hornet");
        assert!(out.status.success(), "{}", text(&out));
        let report = parse(&String::from_utf8_lossy(&out.stdout));
        assert_eq!(counter(&report, "http.requests"), 5, "-o {stdout}");
        assert!(stderr(&out).contains("Requests by endpoint"), "the summary goes to stderr: {}", text(&out));
    }
}

#[test]
fn a_closed_stdout_loses_neither_the_report_nor_the_exit_code() {
    let t = target();
    let (case, script) = case_for(&t.url());
    let report = case.report_path();
    // `hornet run ... | true`: the reader is gone before the summary is printed.
    let mut child = spawn_run(&script, &report, &["-q"]);
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    assert_eq!(out.status.code(), Some(0), "{}", text(&out));
    assert!(!stderr(&out).contains("panicked"), "{}", text(&out));
    assert_eq!(counter(&parse(&fs::read_to_string(&report).expect("report")), "http.requests"), 5);
}

#[test]
fn a_full_stdout_is_reported_and_the_report_is_still_written() {
    let t = target();
    let (case, script) = case_for(&t.url());
    let report = case.report_path();
    let full = fs::OpenOptions::new().write(true).open("/dev/full").expect("open /dev/full");
    let out = hornet()
        .arg("run")
        .arg(&script)
        .args(["-q", "-o"])
        .arg(&report)
        .stdout(full)
        .output()
        .expect("run hornet");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("could not print the summary") && !err.contains("panicked"), "{err}");
    assert_eq!(counter(&parse(&fs::read_to_string(&report).expect("report")), "http.requests"), 5);
}

/// Limits the files the child writes to `bytes` (RLIMIT_FSIZE, as `ulimit -f`), a file system
/// that fills up at that size: a write past it fails with EFBIG instead of killing the process.
fn file_size_limit(cmd: &mut Command, bytes: u64) -> &mut Command {
    // SAFETY: between fork and exec the closure only calls setrlimit and signal, which are
    // async-signal-safe, on values it owns.
    unsafe {
        cmd.pre_exec(move || {
            let limit = libc::rlimit { rlim_cur: bytes, rlim_max: bytes };
            if libc::setrlimit(libc::RLIMIT_FSIZE, &limit) != 0 {
                return Err(std::io::Error::last_os_error());
            }
            libc::signal(libc::SIGXFSZ, libc::SIG_IGN);
            Ok(())
        })
    }
}

#[test]
fn a_full_disk_is_found_at_start_by_a_probe_write() {
    let server = Counting::new();
    let (case, script) = case_for(&server.url());
    let out = file_size_limit(
        hornet().arg("run").arg(&script).arg("-q").arg("-o").arg(case.report_path()),
        16 * 1024,
    )
    .output()
    .expect("run hornet");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let err = stderr(&out);
    assert!(err.contains("-o") && err.contains("probe of 64 KiB") && err.contains("File too large"), "{err}");
    assert_eq!(server.connections(), 0, "a request was sent");
    assert_eq!(
        fs::read_dir(case.dir.path()).expect("ls").count(),
        1,
        "only the script: the probe is removed"
    );
}

#[test]
fn a_disk_that_fills_during_the_run_says_what_was_lost_and_the_summary_still_prints() {
    let t = target();
    let (case, script) = case_for(&t.url());
    let html = case.dir.path().join("r.html");
    // Room for the 64 KiB probe and the JSON report, not for the HTML report (about 85 KB).
    let out = file_size_limit(
        hornet().arg("run").arg(&script).arg("-q").arg("-o").arg(case.report_path()).arg("--html").arg(&html),
        72 * 1024,
    )
    .output()
    .expect("run hornet");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("could not write HTML report") && err.contains("bytes could not be written"),
        "{err}"
    );
    assert!(String::from_utf8_lossy(&out.stdout).contains("Requests by endpoint"), "{}", text(&out));
    assert_eq!(counter(&parse(&fs::read_to_string(case.report_path()).expect("report")), "http.requests"), 5);
    let left: Vec<_> =
        fs::read_dir(case.dir.path()).expect("ls").map(|e| e.expect("entry").file_name()).collect();
    assert_eq!(left.len(), 2, "the script and the JSON report, no partial HTML: {left:?}");
}

#[test]
fn a_report_that_cannot_be_written_is_saved_in_the_temporary_directory() {
    let t = target();
    let (case, script) = case_for(&t.url());
    let tmp = case.dir.path().join("tmp");
    fs::create_dir(&tmp).expect("mkdir");
    let out = hornet()
        .arg("run")
        .arg(&script)
        .args(["-q", "-o", "/dev/full"])
        .env("TMPDIR", &tmp)
        .output()
        .expect("run hornet");
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let err = stderr(&out);
    assert!(
        err.contains("could not write the report to /dev/full") && err.contains("bytes could not be written"),
        "{err}"
    );
    assert!(fs::symlink_metadata("/dev/full").expect("stat").file_type().is_char_device());
    let saved: Vec<_> = fs::read_dir(&tmp).expect("ls").map(|e| e.expect("entry").path()).collect();
    assert_eq!(saved.len(), 1, "{saved:?}");
    assert!(err.contains(&format!("saved to {}", saved[0].display())), "{err}");
    assert_eq!(counter(&parse(&fs::read_to_string(&saved[0]).expect("saved")), "http.requests"), 5);
    assert!(String::from_utf8_lossy(&out.stdout).contains("Requests by endpoint"));
}

#[test]
fn closed_stdout_and_stderr_lose_no_request_of_a_script_that_logs() {
    let t = target();
    let case = Case::new();
    let script = case.script(
        "log.yaml",
        &SCRIPT
            .replace("TARGET", &t.url())
            .replace("  - flow:\n", "  - flow:\n      - log: \"vu {{ $uuid }}\"\n"),
    );
    // `hornet run ... 2>&1 | head -0`: both streams lead to a pipe nobody reads.
    let mut child = spawn_run(&script, &case.report_path(), &[]);
    drop(child.stdout.take());
    drop(child.stderr.take());
    let status = child.wait().expect("wait");
    assert_eq!(status.code(), Some(0));
    let report = parse(&fs::read_to_string(case.report_path()).expect("report"));
    assert_eq!(counter(&report, "http.requests"), 5, "every VU's request despite its log step");
    assert_eq!(counter(&report, "vusers.completed"), 5);

    let mut child = hornet().arg("validate").arg(&script).stdout(Stdio::piped()).spawn().expect("spawn");
    drop(child.stdout.take());
    assert_eq!(child.wait().expect("wait").code(), Some(0), "validate | true");
}

#[test]
fn control_characters_in_an_output_path_are_escaped_in_the_error() {
    let server = Counting::new();
    let (case, script) = case_for(&server.url());
    // A directory name that retitles the terminal and turns it red, if printed raw.
    let path = case.dir.path().join("no\u{1b}]0;pwned\u{7}\u{1b}[31mdir").join("r.json");
    let out = hornet().arg("run").arg(&script).arg("-q").arg("-o").arg(&path).output().expect("run hornet");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("no\\u{1b}]0;pwned\\u{7}\\u{1b}[31mdir"), "{stderr}");
    assert!(!stderr.contains('\u{1b}') && !stderr.contains('\u{7}'), "raw control characters: {stderr:?}");
}
