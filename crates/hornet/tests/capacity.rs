//! `hornet capacity` end to end against the target's `/capacity?workers=N&ms=S` route, whose true
//! limit is N·1000/S requests a second: the search finds it within ±10% for two settings, a
//! closed-model script is searched over users, a generator made the bottleneck ends "invalid"
//! (exit 3), an objective that fails at the start exits 1, and bad options exit 2 before anything
//! is sent. Steps are short (`--step 3s --warmup 1s --hold 6s`) so the file stays within a few
//! minutes on a loaded 2-core machine. The searches run one at a time ([`one_at_a_time`]): each
//! drives its own target near saturation, and the saturated-generator test keeps a core busy, so
//! side by side they would move each other's limits.

mod common;

use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use common::{Case, exit_within, hornet, target, text};
use serde_json::Value;

/// Short steps for tests.
const FAST: [&str; 6] = ["--step", "3s", "--warmup", "1s", "--hold", "6s"];
/// No search in this file may take longer (a hang fails instead of blocking the suite).
const LIMIT: Duration = Duration::from_secs(200);

/// Held by each search for as long as it runs, so that no two run at once (see the file's doc).
fn one_at_a_time() -> std::sync::MutexGuard<'static, ()> {
    static SEARCHES: std::sync::Mutex<()> = std::sync::Mutex::new(());
    SEARCHES.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
}

/// Runs `hornet capacity` on `yaml` (TARGET replaced) with `args` plus `-o` and `--html`; returns
/// the output, the JSON result (if written), the page (if written) and the time it took.
fn capacity(yaml: &str, args: &[&str]) -> (Output, Option<Value>, Option<String>, Duration) {
    let _alone = one_at_a_time();
    let t = target();
    let case = Case::new();
    let script = case.script("capacity.yaml", &yaml.replace("TARGET", &t.url()));
    let json = case.dir.path().join("capacity.json");
    let html = case.dir.path().join("capacity.html");
    let started = Instant::now();
    let mut child = hornet()
        .arg("capacity")
        .arg(&script)
        .args(args)
        .arg("-o")
        .arg(&json)
        .arg("--html")
        .arg(&html)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn hornet");
    // Drain the pipes on their own threads so a full pipe cannot stall the search.
    let mut stdout = child.stdout.take().expect("stdout");
    let mut stderr = child.stderr.take().expect("stderr");
    let out_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stdout, &mut s);
        s
    });
    let err_reader = std::thread::spawn(move || {
        let mut s = Vec::new();
        let _ = std::io::Read::read_to_end(&mut stderr, &mut s);
        s
    });
    let status = exit_within(&mut child, LIMIT);
    let took = started.elapsed();
    let output = Output {
        status,
        stdout: out_reader.join().unwrap_or_default(),
        stderr: err_reader.join().unwrap_or_default(),
    };
    let result = std::fs::read_to_string(&json).ok().and_then(|s| serde_json::from_str(&s).ok());
    (output, result, std::fs::read_to_string(&html).ok(), took)
}

fn open_script(path: &str) -> String {
    format!(
        "config:\n  target: TARGET\n  phases:\n    - duration: 60\n      arrivalRate: 5\nscenarios:\n  - flow:\n      - get:\n          url: \"{path}\"\n"
    )
}

/// Searches a `/capacity` setting of true limit `truth` (requests/s) from `start`: the result must
/// be within ±10%, verified, with every step in the JSON and the charts' data in the page.
fn finds_the_known_capacity(workers: u32, ms: u32, start: &str) {
    let truth = f64::from(workers) * 1000.0 / f64::from(ms);
    let path = format!("/capacity?workers={workers}&ms={ms}");
    let mut args = vec!["--slo", "p95<300ms,errors<1%", "--start", start];
    args.extend(FAST);
    let (out, result, page, took) = capacity(&open_script(&path), &args);
    let all = text(&out);
    eprintln!("capacity of {workers} workers × {ms} ms (true {truth}/s) in {took:?}:\n{all}");
    assert_eq!(out.status.code(), Some(0), "{all}");
    let r = result.expect("capacity.json written");
    assert_eq!(r["schema"], "hornet-capacity/1");
    assert_eq!(r["outcome"]["status"], "found", "{}", r["outcome"]);
    assert_eq!(r["outcome"]["verified"], true, "{}", r["outcome"]);
    let found = r["max_sustainable"].as_f64().unwrap();
    assert!((found - truth).abs() <= truth * 0.10, "found {found}/s, true capacity {truth}/s\n{all}");
    // The search breached above the capacity and passed below it.
    let steps = r["steps"].as_array().unwrap();
    assert!(steps.iter().any(|s| s["verdict"] == "breach" && s["offered"].as_f64().unwrap() > truth));
    let last = steps.last().unwrap();
    assert_eq!((last["stage"].as_str(), last["verdict"].as_str()), (Some("hold"), Some("pass")));
    for s in steps {
        assert!(s["histograms"]["http.response_time"].as_str().is_some_and(|h| !h.is_empty()), "{s}");
        assert!(s["seconds"].as_array().is_some_and(|v| !v.is_empty()));
    }
    let recommended = r["recommended"].as_f64().unwrap();
    assert!((recommended - found * 0.8).abs() < 0.1, "{recommended} vs {found}");
    let phases = r["phases"].as_str().unwrap();
    assert!(phases.contains(&format!("arrivalRate: {recommended:.0}\n")), "{phases}");
    assert!(all.contains("maximum sustainable load:") && all.contains("paste into config"), "{all}");
    let page = page.expect("capacity.html written");
    assert!(page.contains("data-chart=\"throughput\"") && page.contains("data-chart=\"latency\""));
    let blob = page.split("id=\"capacity-data\">").nth(1).and_then(|s| s.split("</script>").next()).unwrap();
    let data: Value = serde_json::from_str(blob).unwrap();
    assert_eq!(data["points"].as_array().unwrap().len(), steps.len());
}

#[test]
fn finds_four_workers_of_20_ms_at_200_per_second() {
    finds_the_known_capacity(4, 20, "80");
}

#[test]
fn finds_three_workers_of_30_ms_at_100_per_second() {
    finds_the_known_capacity(3, 30, "40");
}

/// Closed model: past the 4 workers, latency is users ÷ (at most) 200/s, so `p95<100ms` cannot
/// hold above 20 users; at 12 users the median is about 60 ms, with room for the jitter of a
/// loaded machine.
#[test]
fn a_closed_model_script_is_searched_over_users() {
    let yaml = "config:\n  target: TARGET\n  phases:\n    - duration: 60\n      users: 2\nscenarios:\n  - flow:\n      - get:\n          url: \"/capacity?workers=4&ms=20\"\n";
    let mut args = vec!["--slo", "p95<100ms", "--start", "4"];
    args.extend(FAST);
    let (out, result, _, took) = capacity(yaml, &args);
    let all = text(&out);
    eprintln!("closed model in {took:?}:\n{all}");
    assert_eq!(out.status.code(), Some(0), "{all}");
    let r = result.unwrap();
    assert_eq!(r["model"], "closed");
    assert_eq!(r["unit"], "users");
    let users = r["max_sustainable"].as_f64().unwrap();
    assert!(users.fract() == 0.0 && (12.0..=20.0).contains(&users), "{users} users\n{all}");
    assert!(r["phases"].as_str().unwrap().contains("users: "), "{}", r["phases"]);
    // Throughput levels off at the 200/s the workers allow.
    let best =
        r["steps"].as_array().unwrap().iter().filter_map(|s| s["achieved"].as_f64()).fold(0.0, f64::max);
    assert!((170.0..=210.0).contains(&best), "{best}");
}

/// A processor that keeps the generator's one thread busy 4 ms per arrival caps it at about 250
/// arrivals a second, far below the fast `/` route: the search must end invalid, not report a
/// capacity.
#[test]
fn a_saturated_generator_ends_invalid_with_exit_3() {
    let _alone = one_at_a_time();
    let t = target();
    let case = Case::new();
    case.script("spin.js", "function spin(context, events, done) {\n  const t = Date.now();\n  while (Date.now() - t < 4) {}\n  done();\n}\nmodule.exports = { spin };\n");
    let yaml = format!(
        "config:\n  target: {}\n  processor: ./spin.js\n  phases:\n    - duration: 60\n      arrivalRate: 5\nscenarios:\n  - flow:\n      - function: spin\n      - get:\n          url: \"/\"\n",
        t.url()
    );
    let script = case.script("spin.yaml", &yaml);
    let json = case.dir.path().join("c.json");
    let mut args = vec!["capacity", "--slo", "p95<500ms", "--start", "100", "--threads", "1"];
    args.extend(FAST);
    let mut child = hornet()
        .args(&args)
        .arg(&script)
        .arg("-o")
        .arg(&json)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let status = exit_within(&mut child, LIMIT);
    let out = child.wait_with_output().unwrap();
    let all = text(&Output { status, ..out });
    assert_eq!(status.code(), Some(3), "{all}");
    let r: Value = serde_json::from_str(&std::fs::read_to_string(&json).unwrap()).unwrap();
    assert_eq!(r["outcome"]["status"], "generator-bottleneck", "{}", r["outcome"]);
    assert!(r["max_sustainable"].is_null(), "no capacity is claimed");
    let last = r["steps"].as_array().unwrap().last().unwrap();
    assert_eq!(last["verdict"], "invalid");
    assert!(all.contains("INVALID: the load generator was the bottleneck"), "{all}");
}

#[test]
fn an_objective_failing_at_the_start_exits_1() {
    let mut args = vec!["--slo", "p95<10ms", "--start", "5"];
    args.extend(FAST);
    let (out, result, _, _) = capacity(&open_script("/capacity?workers=1&ms=20"), &args);
    let all = text(&out);
    assert_eq!(out.status.code(), Some(1), "{all}");
    let r = result.unwrap();
    assert_eq!(r["outcome"]["status"], "fails-at-start");
    assert_eq!(r["steps"].as_array().unwrap().len(), 1);
    assert!(all.contains("the objective fails already at the start load"), "{all}");
}

#[test]
fn bad_options_exit_2_before_anything_is_sent() {
    let t = target();
    let case = Case::new();
    let script = case.script("s.yaml", &open_script("/").replace("TARGET", &t.url()));
    for (args, says) in [
        (vec!["--slo", "p95<3xs"], "--slo: item 1 `p95<3xs` (character 1): unknown unit `xs`"),
        (vec!["--slo", "p95<300", "--precision", "0"], "--precision `0`"),
        (vec!["--slo", "p95<300", "--start", "10", "--max", "5"], "--max 5 is below --start 10"),
        (vec!["--slo", "p95<300", "--step", "soon"], "--step `soon`"),
        (vec![], "no objective: give --slo"),
    ] {
        let out = hornet().arg("capacity").arg(&script).args(&args).output().unwrap();
        let all = text(&out);
        assert_eq!(out.status.code(), Some(2), "{args:?}: {all}");
        assert!(all.contains(says), "{args:?}: {all}");
        assert!(!all.contains("step  stage"), "nothing ran: {all}");
    }
}
