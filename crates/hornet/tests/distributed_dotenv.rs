//! `--dotenv` in distributed runs, judged by what a recording `hornet target` received: the
//! controller's dotenv variables travel with the plan to every worker, where they win over the
//! worker's own environment (as Artillery's Fargate and Lambda workers get them) while the worker's
//! environment still gives every other name, in `$env`, `$processEnvironment` and a processor's
//! `process.env` alike; and their values appear in no report or log.

mod common;

use std::net::TcpListener;
use std::process::{Child, Output, Stdio};
use std::time::{Duration, Instant};

use common::{Case, hornet, text, with_target};
use hornet_target::{RunningTarget, TargetOptions};
use serde_json::{Value, json};

/// The cluster token of this file's controllers and workers.
const TOKEN: &str = "dotenv-test-token";

/// A value that must reach the target and nothing else (its `$` stays as written).
const SECRET: &str = "s3cr3t-$NOT_EXPANDED-h6";

fn recording_target() -> RunningTarget {
    RunningTarget::start_recording(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 }, false)
        .expect("start recording target")
}

const ECHO_JS: &str = r#"
module.exports = {
  echoEnv(requestParams, context, events, next) {
    const env = process.env;
    requestParams.headers['x-process-env'] = [env.H6_SHARED, env.H6_OWN, env.H6_OVERRIDE].join('|');
    requestParams.headers['x-secret'] = context.vars.$env.H6_SECRET;
    next();
  },
};
"#;

/// Four arrivals in one second (two per worker), each one GET whose URL and headers say what the
/// VU read from its environment.
const SCRIPT: &str = r#"
config:
  target: "TARGET"
  processor: "./echo.js"
  phases:
    - duration: 1
      arrivalCount: 4
scenarios:
  - flow:
      - get:
          url: "/{{ $env.H6_ONLY_FILE }}/{{ $env.H6_SHARED }}/{{ $processEnvironment.H6_OWN }}/{{ $env.H6_OVERRIDE }}"
          beforeRequest: echoEnv
"#;

const DOTENV: &str = "H6_ONLY_FILE=only-in-file\nH6_SHARED=from-dotenv\nH6_OVERRIDE=file-loses\nH6_SECRET='s3cr3t-$NOT_EXPANDED-h6'\n";

/// The names this file's processes read: each process gets exactly the ones its case sets.
const NAMES: [&str; 5] = ["H6_ONLY_FILE", "H6_SHARED", "H6_OWN", "H6_OVERRIDE", "H6_SECRET"];

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// A `hornet` command with none of [`NAMES`] in its environment.
fn clean_hornet() -> std::process::Command {
    let mut cmd = hornet();
    for name in NAMES {
        cmd.env_remove(name);
    }
    cmd
}

/// A `hornet worker` for `addr` whose own environment sets `H6_SHARED` and `H6_OVERRIDE` (both
/// in the controller's dotenv file) and `H6_OWN` (not in it) to its own values.
fn spawn_worker(addr: &str, own: &str) -> Child {
    let mut w = clean_hornet();
    w.args(["worker", "--controller", addr, "--threads", "1", "--connect-timeout", "20"])
        .env("HORNET_CLUSTER_TOKEN", TOKEN)
        .env("H6_SHARED", format!("{own}-shared"))
        .env("H6_OVERRIDE", format!("{own}-override"))
        .env("H6_OWN", own)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    w.spawn().expect("spawn worker")
}

/// Waits for `child` for at most `limit`, killing it past that; its output.
fn finish(mut child: Child, limit: Duration) -> Output {
    let deadline = Instant::now() + limit;
    while Instant::now() < deadline && matches!(child.try_wait(), Ok(None)) {
        std::thread::sleep(Duration::from_millis(20));
    }
    if matches!(child.try_wait(), Ok(None)) {
        let _ = child.kill();
    }
    child.wait_with_output().expect("wait for hornet")
}

/// The routes (`GET /path`) the recording target received, with their counts, and the distinct
/// values of header `name` over all of them.
fn received(t: &RunningTarget, header: &str) -> (Vec<(String, u64)>, Vec<String>) {
    let log = t.requests().expect("recording");
    let routes = log["routes"].as_object().cloned().unwrap_or_default();
    let counts = routes.iter().map(|(k, v)| (k.clone(), v["count"].as_u64().unwrap_or(0))).collect();
    let mut values: Vec<String> = routes
        .values()
        .flat_map(|v| {
            v["fields"][format!("header:{header}")]["values"].as_array().cloned().unwrap_or_default()
        })
        .filter_map(|v| v.as_str().map(str::to_string))
        .collect();
    values.sort();
    values.dedup();
    (counts, values)
}

#[test]
fn each_worker_gets_the_controllers_dotenv_values_over_its_own_environment() {
    let t = recording_target();
    let case = Case::new();
    case.script("echo.js", ECHO_JS);
    let script = case.script("test.yaml", &with_target(SCRIPT, &t));
    let dotenv = case.script("ci.env", DOTENV);
    let addr = format!("127.0.0.1:{}", free_port());
    // The controller's own environment sets one of the file's names: as in `hornet run
    // --dotenv`, its value wins over the file's, and it is the one the workers get.
    let mut c = clean_hornet();
    c.args(["controller", "--workers", "2", "--listen", &addr, "--join-timeout", "30", "--seed", "5"])
        .arg("--dotenv")
        .arg(&dotenv)
        .arg("-o")
        .arg(case.report_path())
        .arg(&script)
        .env("HORNET_CLUSTER_TOKEN", TOKEN)
        .env("H6_OVERRIDE", "controller-shell")
        // The controller builds the plan too (its templates need every name), but the scenarios
        // run on the workers, which read their own H6_OWN.
        .env("H6_OWN", "controller-own")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    let controller = c.spawn().expect("spawn controller");
    let workers = [spawn_worker(&addr, "worker-a"), spawn_worker(&addr, "worker-b")];
    let out = finish(controller, Duration::from_secs(60));
    let worker_outs: Vec<Output> = workers.into_iter().map(|w| finish(w, Duration::from_secs(10))).collect();
    let logs = std::iter::once(&out).chain(&worker_outs).map(text).collect::<Vec<_>>().join("\n");
    assert!(out.status.success(), "{logs}");

    // Each worker's two VUs: the file's values for the names it sets, the worker's own for H6_OWN.
    let (routes, process_env) = received(&t, "x-process-env");
    assert_eq!(
        routes,
        vec![
            ("GET /only-in-file/from-dotenv/worker-a/controller-shell".to_string(), 2),
            ("GET /only-in-file/from-dotenv/worker-b/controller-shell".to_string(), 2),
        ],
        "{logs}"
    );
    assert_eq!(
        process_env,
        vec!["from-dotenv|worker-a|controller-shell", "from-dotenv|worker-b|controller-shell"]
    );
    assert_eq!(received(&t, "x-secret").1, vec![SECRET]);

    // The values travel in the plan only: not in the report, nor in anything printed.
    let report = std::fs::read_to_string(case.report_path()).expect("report");
    let parsed: Value = serde_json::from_str(&report).expect("report JSON");
    assert_eq!(parsed["aggregate"]["counters"]["http.requests"], json!(4));
    for secret in ["s3cr3t", "only-in-file", "from-dotenv"] {
        assert!(!report.contains(secret), "{secret} is in the report");
        assert!(!logs.contains(secret), "{secret} is in a log: {logs}");
    }
}

#[test]
fn local_workers_read_the_dotenv_values_as_the_single_machine_run_does() {
    let t = recording_target();
    let case = Case::new();
    case.script("echo.js", ECHO_JS);
    let script = case.script("test.yaml", &with_target(SCRIPT, &t));
    let dotenv = case.script("ci.env", DOTENV);
    for workers in [None, Some("2")] {
        let mut cmd = clean_hornet();
        cmd.args(["run", "-q", "--dotenv"]).arg(&dotenv).env("H6_OVERRIDE", "shell").env("H6_OWN", "own");
        if let Some(n) = workers {
            cmd.args(["--local-workers", n]);
        }
        let out = cmd.arg(&script).output().expect("run hornet");
        assert!(out.status.success(), "{workers:?}: {}", text(&out));
        assert!(!text(&out).contains("s3cr3t"), "{}", text(&out));
    }
    // Both runs alike: the shell's value over the file's, the file's for the other names.
    let (routes, process_env) = received(&t, "x-process-env");
    assert_eq!(routes, vec![("GET /only-in-file/from-dotenv/own/shell".to_string(), 8)]);
    assert_eq!(process_env, vec!["from-dotenv|own|shell"]);
    assert_eq!(received(&t, "x-secret").1, vec![SECRET]);
}
