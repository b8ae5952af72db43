//! `hornet import har`: the command's files, messages and exit codes, `--check` against the
//! embedded target, and the whole workflow on a HAR recorded by Chromium clicking through the
//! target's web application: the imported script, replayed on fresh servers that refuse stale
//! tokens, passes `--check`, and the application sees the same requests as during the recording.

mod common;

use std::net::SocketAddr;

use common::*;
use hornet_target::{RunningTarget, TargetOptions};
use serde_json::{Value, json};

/// A HAR of GET requests to `base` with the statuses the recording got.
fn har_of(base: &str, requests: &[(&str, u16)]) -> String {
    let entries: Vec<Value> = requests
        .iter()
        .enumerate()
        .map(|(i, (path, status))| {
            json!({
                "startedDateTime": format!("2026-12-07T10:00:0{i}.000Z"),
                "time": 5,
                "request": {"method": "GET", "url": format!("{base}{path}"), "headers": [{"name": "Accept", "value": "*/*"}]},
                "response": {"status": status, "headers": [], "content": {"mimeType": "application/json", "text": "{}"}},
            })
        })
        .collect();
    json!({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}})
        .to_string()
}

#[test]
fn import_writes_a_script_that_runs_and_check_reports_status_differences() {
    let t = target();
    let case = Case::new();
    let har =
        case.script("rec.har", &har_of(&t.url(), &[("/json", 200), ("/status/404", 200), ("/items", 200)]));
    let script = case.dir.path().join("script.yaml");
    let out = hornet()
        .args(["import", "har", har.to_str().unwrap(), "-o", script.to_str().unwrap(), "--think", "none"])
        .output()
        .expect("run hornet");
    let stderr = text(&out);
    assert!(out.status.success(), "{stderr}");
    assert!(stderr.contains("3 request(s), 0 value(s) correlated"), "{stderr}");
    let yaml = std::fs::read_to_string(&script).expect("the script is written");
    assert!(yaml.contains(&format!("target: \"{}\"", t.url())), "{yaml}");
    // An ordinary script: `hornet validate` and `hornet run` take it.
    let out = hornet().args(["validate", script.to_str().unwrap()]).output().expect("run hornet");
    assert!(out.status.success(), "{}", text(&out));
    let report = run_ok(&case, &script, &[]);
    assert_eq!(counter(&report, "http.requests"), 3);

    // Without -o the script goes to stdout.
    let out = hornet()
        .args(["import", "har", har.to_str().unwrap(), "--think", "none"])
        .output()
        .expect("run hornet");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(String::from_utf8_lossy(&out.stdout).trim_end(), yaml.trim_end());

    let out = hornet()
        .args(["import", "har", har.to_str().unwrap(), "-o", script.to_str().unwrap(), "--check"])
        .output()
        .expect("run hornet");
    let stderr = text(&out);
    assert_eq!(out.status.code(), Some(1), "{stderr}");
    assert!(stderr.contains("#02 GET /status/404: recorded 200, got 404"), "{stderr}");
    assert!(stderr.contains("check: 1 of 3 request(s) differ from the recording"), "{stderr}");
    assert!(!stderr.contains("#01"), "only differences are listed: {stderr}");
}

#[test]
fn bad_recordings_are_refused_with_where_and_why() {
    let case = Case::new();
    let cut = case.script("cut.har", "{\"log\": {\"entries\": [\n  {\"request\": {\"method\": \"GET\",");
    let out = hornet().args(["import", "har", cut.to_str().unwrap()]).output().expect("run hornet");
    assert_eq!(out.status.code(), Some(2));
    let stderr = text(&out);
    assert!(stderr.contains("cut.har:2:") && stderr.contains("cut off"), "{stderr}");
    let not_har = case.script("x.json", "{\"items\": [1, 2]}");
    let out = hornet().args(["import", "har", not_har.to_str().unwrap()]).output().expect("run hornet");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("x.json:1:1: not a HAR file"), "{}", text(&out));
    let binary = case.dir.path().join("b.har");
    std::fs::write(&binary, [0x1f, 0x8b, 0xff, 0x00]).unwrap();
    let out = hornet().args(["import", "har", binary.to_str().unwrap()]).output().expect("run hornet");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("not text"), "{}", text(&out));
    let out = hornet()
        .args(["import", "har", cut.to_str().unwrap(), "-o", cut.to_str().unwrap()])
        .output()
        .expect("run hornet");
    assert_eq!(out.status.code(), Some(2));
    assert!(text(&out).contains("would overwrite the recording"), "{}", text(&out));
}

/// The first host of the application on 127.0.0.1 and its second host on 127.0.0.2 (or, where
/// that address is missing, another port of 127.0.0.1), at `second` when given.
fn app_hosts(second: Option<SocketAddr>) -> (RunningTarget, RunningTarget) {
    let first = RunningTarget::start(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 })
        .expect("start target");
    let wanted = second.unwrap_or_else(|| ([127, 0, 0, 2], 0).into());
    let second = RunningTarget::start_second_host(TargetOptions { addr: wanted, threads: 1 }, &first)
        .or_else(|_| {
            RunningTarget::start_second_host(
                TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 },
                &first,
            )
        })
        .expect("start the second host");
    (first, second)
}

/// Chromium records a HAR of a session on the target's web application (sign in with a CSRF
/// token, follow a link carrying an order id, the page's bearer-token API calls to a second host,
/// check out with the session's CSRF token); `hornet import har --check` replays the script on
/// fresh servers, which refuse every value of the recording: every request gets its recorded
/// status, and the application answers the same requests in the same order.
#[test]
fn a_browser_recording_replays_with_every_token_correlated() {
    let Some((node, chromium, e2e)) =
        hornet_testkit::require("a_browser_recording_replays_with_every_token_correlated", browser_tools())
    else {
        return;
    };
    let case = Case::new();
    let har = case.dir.path().join("session.har");
    let (first, second) = app_hosts(None);
    let second_addr = second.addr();
    let (status, stdout, stderr) = run_browser_script(
        &node,
        &e2e,
        "record_har.mjs",
        &[
            ("APP_URL", first.url().as_str()),
            ("HAR_PATH", har.to_str().expect("utf-8 path")),
            ("CHROMIUM", chromium.to_str().expect("utf-8 path")),
        ],
    );
    let result: Value =
        stdout.lines().last().and_then(|l| serde_json::from_str(l).ok()).unwrap_or(Value::Null);
    assert!(status.success() && result["ok"] == true, "recording failed: {result}\n{stderr}");
    let recorded = first.app().log();
    drop((first, second));

    // Fresh servers: nothing of the recording is valid there. The second host is where the
    // recording found it (its URL is in the script); the first is given with --target.
    let (first, second) = app_hosts(Some(second_addr));
    assert_eq!(second.addr(), second_addr, "the second host could not take its recorded address again");
    let script = case.dir.path().join("session.yaml");
    let second_host = second_addr.ip().to_string();
    let out = hornet()
        .args(["import", "har", har.to_str().unwrap(), "-o", script.to_str().unwrap()])
        .args(["--include-host", &second_host, "--target", &first.url(), "--check"])
        .output()
        .expect("run hornet");
    let stderr = text(&out);
    eprintln!("{stderr}");
    let yaml = std::fs::read_to_string(&script).expect("the script is written");
    assert!(out.status.success(), "--check failed:\n{stderr}\n{yaml}");
    let header: Vec<&str> = yaml.lines().take_while(|l| l.starts_with('#')).collect();
    eprintln!("{}", header.join("\n"));
    assert!(stderr.contains("every request got the status it got in the recording"), "{stderr}");

    // Every generated value is captured, each with the kind of capture that finds it.
    let correlated: usize = stderr
        .split(" value(s) correlated")
        .next()
        .and_then(|head| head.rsplit(' ').next())
        .and_then(|n| n.parse().ok())
        .unwrap_or(0);
    eprintln!("measured: {} requests recorded by the app, {correlated} values correlated", recorded.len());
    assert_eq!(correlated, 5, "login CSRF, order id, checkout CSRF, bearer token, SKU:\n{yaml}");
    for (capture, name) in [
        (
            "- selector: \"input[name=\\\"csrf\\\"]\"\n              attr: value\n              as: csrf\n",
            "csrf",
        ),
        ("              index: 1\n              as: orderId\n", "orderId"),
        ("- json: \"$.token\"\n              as: token\n", "token"),
        ("- json: \"$.items[0].sku\"\n              as: sku\n", "sku"),
        ("attr: value\n              as: csrf2\n", "csrf2"),
    ] {
        assert!(yaml.contains(capture), "capture of {name} missing:\n{yaml}");
    }
    assert!(yaml.contains("authorization: \"Bearer {{ token }}\""), "{yaml}");
    // The typed password is a variable; cookies are the jar's; assets are not requested.
    assert!(yaml.contains("password: \"{{ password }}\""), "{yaml}");
    assert_eq!(yaml.matches("hornet-pass").count(), 1, "{yaml}");
    assert!(!yaml.contains("sid="), "{yaml}");
    assert!(!yaml.contains("url: /app/static"), "{yaml}");
    assert!(yaml.contains("static asset"), "{yaml}");

    let replayed = first.app().log();
    assert_eq!(replayed, recorded, "the application saw other requests in the replay");
    assert_eq!(recorded.len(), 9, "{recorded:?}");
}
