//! The Artillery compatibility corpus: every public script under `compat/artillery/scripts` runs with
//! hornet against a recording target, and what the target received is compared with what Artillery
//! 2.0.21 sent it for the same script (`compat/artillery/results`, recorded by
//! `compat/artillery/record`). Scripts hornet cannot run yet are listed with a reason in
//! `compat/artillery/known-failures.txt`; each of them must still fail, every other one must pass.
//!
//! `UPDATE_COMPAT_DOC=1` also rewrites the compatibility table of `docs/script-format.md`.

mod common;

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::Child;
use std::time::{Duration, Instant};

use hornet_target::{RunningTarget, TargetOptions};
use serde_json::Value;

/// Longest a single hornet run may take before it is killed and counted as failed.
const RUN_LIMIT: Duration = Duration::from_secs(120);
/// Artillery's exit code when an expectation (`expect`) failed.
const ARTILLERY_EXPECT_FAILED: i64 = 21;
/// Where the generated table goes in `docs/script-format.md`.
const TABLE_START: &str = "<!-- artillery-corpus:start -->";
const TABLE_END: &str = "<!-- artillery-corpus:end -->";

fn compat_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../compat/artillery")
}

fn read_json(path: &Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("parse {}: {e}", path.display()))
}

/// `known-failures.txt`: `id: reason` per line, `#` comments.
fn known_failures() -> BTreeMap<String, String> {
    let path = compat_dir().join("known-failures.txt");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    let mut known = BTreeMap::new();
    for (n, line) in text.lines().enumerate() {
        let line = line.trim();
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let (id, reason) = line
            .split_once(':')
            .unwrap_or_else(|| panic!("{}:{}: expected `id: reason`", path.display(), n + 1));
        known.insert(id.trim().to_owned(), reason.trim().to_owned());
    }
    known
}

/// Copies the script's folder into `dir` with the placeholder replaced by the target's URL.
fn stage(entry: &Value, placeholder: &str, url: &str, dir: &Path) -> PathBuf {
    let id = entry["id"].as_str().expect("id");
    copy_dir(&compat_dir().join("scripts").join(id), dir);
    let file = dir.join(entry["file"].as_str().expect("file"));
    let text = std::fs::read_to_string(&file).expect("read script");
    std::fs::write(&file, text.replace(placeholder, url)).expect("write script");
    file
}

fn copy_dir(from: &Path, to: &Path) {
    std::fs::create_dir_all(to).expect("create dir");
    for entry in std::fs::read_dir(from).expect("read dir") {
        let entry = entry.expect("dir entry");
        let dest = to.join(entry.file_name());
        if entry.file_type().expect("file type").is_dir() {
            copy_dir(&entry.path(), &dest);
        } else {
            std::fs::copy(entry.path(), &dest).expect("copy file");
        }
    }
}

/// Waits for `child` at most [`RUN_LIMIT`]; its exit code, or `None` when it had to be killed.
fn wait_bounded(mut child: Child) -> (Option<i32>, String) {
    let start = Instant::now();
    loop {
        match child.try_wait() {
            Ok(Some(_)) => break,
            Ok(None) if start.elapsed() < RUN_LIMIT => std::thread::sleep(Duration::from_millis(20)),
            _ => {
                let _ = child.kill();
                break;
            }
        }
    }
    let out = child.wait_with_output().expect("collect hornet output");
    let code = if start.elapsed() >= RUN_LIMIT { None } else { out.status.code() };
    (code, common::text(&out))
}

/// One scenario (or the whole script) run by hornet and judged against Artillery's recording.
struct UnitOutcome {
    problems: Vec<String>,
    hornet_said: String,
}

/// Whether `corpus.json` lists the deliberate difference `name` for the script of `entry`.
fn deliberate(entry: &Value, name: &str) -> bool {
    entry["deliberate"].as_array().is_some_and(|list| list.iter().any(|d| d.as_str() == Some(name)))
}

/// Whether hornet's exit code is the one Artillery's stands for, allowing for the deliberate
/// differences.
fn exit_problem(artillery: i64, hornet: Option<i32>, entry: &Value) -> Option<String> {
    let deliberate = |name: &str| deliberate(entry, name);
    let ok = match (artillery, hornet) {
        (_, None) => false,
        // The exit code follows a latency threshold, which depends on the machine.
        (0 | 1, Some(0 | 1)) if deliberate("latency-threshold") => true,
        (0, Some(0)) => true,
        // hornet checks `config.ensure` even when `plugins.ensure` does not load it.
        (0, Some(1)) => deliberate("ensure-without-plugin"),
        // hornet exits 1 on failed checks where Artillery exits 21 on failed expectations.
        (ARTILLERY_EXPECT_FAILED, Some(h)) => h == 1,
        (a, Some(h)) => a != 0 && h != 0,
    };
    (!ok).then(|| match hornet {
        None => format!("hornet ran over {}s and was stopped", RUN_LIMIT.as_secs()),
        Some(h) => format!("exit code {h}, Artillery's was {artillery}"),
    })
}

/// The routes of a log keyed with repeated slashes collapsed: Artillery joins a target ending in `/`
/// and a URL starting with `/` into `//`, hornet sends one.
fn routes_by_path(log: &Value) -> serde_json::Map<String, Value> {
    let mut routes = serde_json::Map::new();
    for (route, record) in log["routes"].as_object().into_iter().flatten() {
        let mut key = route.clone();
        while key.contains("//") {
            key = key.replace("//", "/");
        }
        routes.insert(key, record.clone());
    }
    routes
}

/// The differences between what hornet sent (`seen`, the target's log) and Artillery's expectation.
fn request_problems(expected: &Value, seen: &Value, entry: &Value) -> Vec<String> {
    // Artillery renders the templates under `config` once at load, with the environment only, so
    // a variable there is `undefined`; hornet renders it per virtual user.
    let config_templates = deliberate(entry, "config-templates-at-load");
    let mut problems = Vec::new();
    let empty = serde_json::Map::new();
    let expected_routes = &routes_by_path(expected);
    let seen_routes = &routes_by_path(seen);
    let deterministic = expected["deterministic"].as_bool().unwrap_or(false);
    for route in seen_routes.keys() {
        if !expected_routes.contains_key(route) {
            problems
                .push(format!("{route}: sent {} requests, Artillery sent none", seen_routes[route]["count"]));
        }
    }
    for (route, want) in expected_routes {
        let Some(got) = seen_routes.get(route) else {
            problems.push(format!("{route}: sent no request, Artillery sent {}", want["count"]));
            continue;
        };
        let want_count = want["count"].as_u64().unwrap_or(0);
        let got_count = got["count"].as_u64().unwrap_or(0);
        if deterministic && want_count != got_count {
            problems.push(format!("{route}: {got_count} requests, Artillery sent {want_count}"));
            continue;
        }
        let fields = want["fields"].as_object().unwrap_or(&empty);
        for (name, field) in fields {
            let got_field = &got["fields"][name];
            let got_n = got_field["count"].as_u64().unwrap_or(0);
            let want_n = field["count"].as_u64().unwrap_or(0);
            if got_n == 0 {
                problems.push(format!("{route}: no `{name}`, Artillery sent it {want_n} times"));
                continue;
            }
            if deterministic && field.get("counts").is_none() && got_n != want_n {
                problems.push(format!("{route}: `{name}` in {got_n} requests, Artillery's in {want_n}"));
            }
            if let Some(value) = field["value"].as_str()
                && !(config_templates && value.contains("undefined"))
            {
                let values = got_field["values"].as_array().cloned().unwrap_or_default();
                if values.len() != 1 || values[0].as_str() != Some(value) || got_field["more"] == true {
                    problems.push(format!("{route}: `{name}` was {values:?}, Artillery's {value:?}"));
                }
            }
        }
    }
    problems
}

fn run_unit(target: &RunningTarget, entry: &Value, placeholder: &str, unit: &Value) -> UnitOutcome {
    let dir = tempfile::tempdir().expect("tempdir");
    let script = stage(entry, placeholder, &target.url(), dir.path());
    target.clear_requests();
    let mut cmd = common::hornet();
    cmd.current_dir(dir.path()).arg("run").arg(&script).arg("-q");
    if let Some(env) = entry["environment"].as_str() {
        cmd.args(["-e", env]);
    }
    if let Some(name) = unit["scenario"].as_str() {
        cmd.args(["--scenario-name", name]);
    }
    cmd.stdout(std::process::Stdio::piped()).stderr(std::process::Stdio::piped());
    let (code, output) = wait_bounded(cmd.spawn().expect("start hornet"));
    let seen = target.requests().expect("a recording target");
    let hornet_said =
        output.lines().find(|l| l.starts_with("error") || l.contains("error:")).unwrap_or("").to_owned();
    // hornet refuses at load what Artillery silently turns into another test (a near-typo of a
    // valid key, an unknown template function): it must exit 2 having sent nothing.
    if deliberate(entry, "refused-at-load") && code == Some(2) && seen["total"] == 0 {
        return UnitOutcome { problems: Vec::new(), hornet_said };
    }
    let mut problems = Vec::new();
    if let Some(p) = exit_problem(unit["exit_code"].as_i64().unwrap_or(-1), code, entry) {
        problems.push(p);
    }
    problems.extend(request_problems(unit, &seen, entry));
    UnitOutcome { problems, hornet_said }
}

/// A script's outcome: `None` when it passes, else the first lines explaining why not.
struct ScriptOutcome {
    id: String,
    artillery_ran: bool,
    failure: Option<String>,
}

fn run_script(target: &RunningTarget, entry: &Value, placeholder: &str) -> ScriptOutcome {
    let id = entry["id"].as_str().expect("id").to_owned();
    let results = read_json(&compat_dir().join("results").join(format!("{id}.json")));
    let units = results["units"].as_array().cloned().unwrap_or_default();
    assert!(!units.is_empty(), "{id}: no recorded result; run compat/artillery/record {id}");
    let artillery_ran = units.iter().all(|u| u["requests"].as_u64().unwrap_or(0) > 0);
    let mut failure = None;
    for unit in &units {
        let outcome = run_unit(target, entry, placeholder, unit);
        if outcome.problems.is_empty() {
            continue;
        }
        let label = unit["scenario"].as_str().map(|s| format!(" [{s}]")).unwrap_or_default();
        let mut why = format!("{}{label}", outcome.problems[..outcome.problems.len().min(3)].join("; "));
        if !outcome.hornet_said.is_empty() {
            let _ = write!(why, " — hornet: {}", outcome.hornet_said.trim());
        }
        failure = Some(why);
        break;
    }
    ScriptOutcome { id, artillery_ran, failure }
}

/// The markdown table of the compatibility section.
fn table(outcomes: &[ScriptOutcome], corpus: &[Value], known: &BTreeMap<String, String>) -> String {
    let passing = outcomes.iter().filter(|o| o.failure.is_none()).count();
    let artillery = outcomes.iter().filter(|o| o.artillery_ran).count();
    let total = outcomes.len();
    let mut out = format!(
        "Score: hornet runs **{passing} of {total}** scripts as Artillery does; Artillery 2.0.21 ran {artillery} of {total}.\n\n\
         | script | source | hornet | note |\n|---|---|---|---|\n"
    );
    for (outcome, entry) in outcomes.iter().zip(corpus) {
        let source = format!(
            "`{}` `{}`",
            entry["repository"].as_str().unwrap_or(""),
            entry["path"].as_str().unwrap_or("")
        );
        let differences: Vec<String> = entry["deliberate"]
            .as_array()
            .into_iter()
            .flatten()
            .filter_map(|d| d.as_str().map(|d| format!("`{d}`")))
            .collect();
        let (mark, why) = match &outcome.failure {
            None if differences.is_empty() => ("passes", String::new()),
            None => ("passes", format!("deliberate difference: {}", differences.join(", "))),
            Some(_) => ("fails", known.get(&outcome.id).cloned().unwrap_or_default()),
        };
        let _ = writeln!(out, "| {} | {source} | {mark} | {} |", outcome.id, why.replace('|', "\\|"));
    }
    out
}

fn update_doc(table: &str) {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../docs/script-format.md");
    let doc = std::fs::read_to_string(&path).expect("read docs/script-format.md");
    let (Some(start), Some(end)) = (doc.find(TABLE_START), doc.find(TABLE_END)) else {
        panic!("docs/script-format.md has no {TABLE_START} ... {TABLE_END} markers");
    };
    let updated = format!("{}{TABLE_START}\n{table}{}", &doc[..start], &doc[end..]);
    std::fs::write(&path, updated).expect("write docs/script-format.md");
}

#[test]
fn artillery_corpus_runs_as_artillery_ran_it() {
    let corpus = read_json(&compat_dir().join("corpus.json"));
    let placeholder = corpus["placeholder"].as_str().expect("placeholder").to_owned();
    let entries = corpus["scripts"].as_array().cloned().expect("scripts");
    let known = known_failures();
    for id in known.keys() {
        assert!(
            entries.iter().any(|e| e["id"] == id.as_str()),
            "known-failures.txt names {id}, not in corpus.json"
        );
    }
    let only = std::env::var("CORPUS_ONLY").ok();
    let target =
        RunningTarget::start_recording(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 }, false)
            .expect("start recording target");
    let mut outcomes = Vec::new();
    let mut selected = Vec::new();
    for entry in &entries {
        if only.as_deref().is_some_and(|o| !o.split(',').any(|id| entry["id"] == id)) {
            continue;
        }
        let outcome = run_script(&target, entry, &placeholder);
        let status = match (&outcome.failure, known.contains_key(&outcome.id)) {
            (None, false) => "pass".to_owned(),
            (None, true) => "PASSES NOW (remove it from known-failures.txt)".to_owned(),
            (Some(why), true) => format!("known failure: {why}"),
            (Some(why), false) => format!("FAIL: {why}"),
        };
        println!("{:<48} {status}", outcome.id);
        outcomes.push(outcome);
        selected.push(entry.clone());
    }
    let table = table(&outcomes, &selected, &known);
    println!("\n{table}");
    if only.is_none() && std::env::var_os("UPDATE_COMPAT_DOC").is_some() {
        update_doc(&table);
    }
    let unexpected: Vec<String> = outcomes
        .iter()
        .filter(|o| o.failure.is_some() != known.contains_key(&o.id))
        .map(|o| match &o.failure {
            Some(why) => format!("{}: {why}", o.id),
            None => format!("{}: passes now; remove it from compat/artillery/known-failures.txt", o.id),
        })
        .collect();
    assert!(unexpected.is_empty(), "scripts whose outcome changed:\n{}", unexpected.join("\n"));
}
