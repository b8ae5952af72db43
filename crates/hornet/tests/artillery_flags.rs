//! End-to-end tests of Artillery's `run` flags on hornet's command line (`--dotenv`, `-v`, ...),
//! each judged by what the embedded target on loopback received or by the exit code and message.

mod common;

use common::{Case, text, with_target};
use hornet_target::{RunningTarget, TargetOptions};

fn recording_target() -> RunningTarget {
    RunningTarget::start_recording(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 }, false)
        .expect("start recording target")
}

/// The routes (`GET /path`) the recording target received, with their counts.
fn received(t: &RunningTarget) -> Vec<(String, u64)> {
    let log = t.requests().expect("recording");
    log["routes"]
        .as_object()
        .map(|routes| routes.iter().map(|(k, v)| (k.clone(), v["count"].as_u64().unwrap_or(0))).collect())
        .unwrap_or_default()
}

/// One VU sending one GET of `url` to `t`.
fn one_get(t: &RunningTarget, url: &str) -> String {
    with_target(
        &format!(
            "config:\n  target: \"TARGET\"\n  phases:\n    - duration: 1\n      arrivalCount: 1\nscenarios:\n  - flow:\n      - get: {{ url: \"{url}\" }}\n"
        ),
        t,
    )
}

#[test]
fn dotenv_values_reach_env_templates_and_a_variable_already_set_wins() {
    let t = recording_target();
    let case = Case::new();
    let script = case
        .script("test.yaml", &one_get(&t, "/{{ $env.H8_FROM_FILE }}/{{ $processEnvironment.H8_SET_BOTH }}"));
    let env =
        case.script(".env", "# CI secrets\nH8_FROM_FILE=file-value\nexport H8_SET_BOTH=\"file-loses\"\n");
    for flag in ["--dotenv", "--env-file"] {
        let out = common::hornet()
            .env("H8_SET_BOTH", "env-wins")
            .env_remove("H8_FROM_FILE")
            .arg("run")
            .arg(flag)
            .arg(&env)
            .arg("-q")
            .arg(&script)
            .output()
            .expect("run hornet");
        assert!(out.status.success(), "{flag}: {}", text(&out));
    }
    assert_eq!(received(&t), vec![("GET /file-value/env-wins".to_string(), 2)]);
}

#[test]
fn a_bad_or_missing_dotenv_file_is_exit_2_naming_its_line() {
    let t = recording_target();
    let case = Case::new();
    let script = case.script("test.yaml", &one_get(&t, "/"));
    let env = case.script("ci.env", "A=1\nNOT A LINE\n");
    let out = common::hornet().arg("run").arg("--dotenv").arg(&env).arg(&script).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(&format!("{}:2:", env.display())), "{}", text(&out));

    let missing = case.dir.path().join("missing.env");
    let out =
        common::hornet().arg("validate").arg("--env-file").arg(&missing).arg(&script).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("missing.env") && text(&out).contains("cannot be read"), "{}", text(&out));
    assert!(received(&t).is_empty(), "nothing is sent: {:?}", received(&t));

    // A worker reads its own file before it connects.
    let out = common::hornet()
        .args(["worker", "--controller", "127.0.0.1:9", "--dotenv"])
        .arg(&missing)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("missing.env"), "{}", text(&out));
}

#[test]
fn local_workers_inherit_the_dotenv_values() {
    let t = recording_target();
    let case = Case::new();
    let script = case.script(
        "test.yaml",
        &with_target(
            "config:\n  target: \"TARGET\"\n  phases:\n    - duration: 1\n      arrivalRate: 2\nscenarios:\n  - flow:\n      - get: { url: \"/{{ $env.H8_WORKER_VALUE }}\" }\n",
            &t,
        ),
    );
    let env = case.script("ci.env", "H8_WORKER_VALUE=from-dotenv\n");
    let out = common::hornet()
        .env_remove("H8_WORKER_VALUE")
        .args(["run", "-q", "--local-workers", "2", "--dotenv"])
        .arg(&env)
        .arg(&script)
        .output()
        .expect("run hornet");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(received(&t), vec![("GET /from-dotenv".to_string(), 2)]);
}

#[test]
fn variables_json_sets_variables_and_var_wins_over_it() {
    let t = recording_target();
    let case = Case::new();
    let script = case.script("test.yaml", &one_get(&t, "/{{ item }}/{{ count }}/{{ kept }}"));
    let out = common::hornet()
        .arg("run")
        .args(["-q", "-v", r#"{"item": "seven", "count": "three", "kept": "json"}"#, "--var", "kept=var"])
        .arg(&script)
        .output()
        .expect("run hornet");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(received(&t), vec![("GET /seven/three/var".to_string(), 1)]);
}

#[test]
fn variables_that_are_not_a_json_object_are_exit_2_with_the_column() {
    let case = Case::new();
    let script = case.script("test.yaml", &one_get(&recording_target(), "/{{ item }}"));
    let out = common::hornet()
        .arg("validate")
        .args(["--variables", r#"{"item": nope}"#])
        .arg(&script)
        .output()
        .expect("run hornet");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("column 11"), "{}", text(&out));
    let out = common::hornet().arg("validate").args(["-v", "[1]"]).arg(&script).output().expect("run hornet");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("expected a JSON object"), "{}", text(&out));
}

#[test]
fn config_file_is_merged_after_the_script_and_wins() {
    let t = recording_target();
    let case = Case::new();
    let script = case.script(
        "scenarios.yaml",
        "config:\n  target: \"http://127.0.0.1:9\"\n  phases:\n    - duration: 1\n      arrivalCount: 5\n  variables:\n    where: script\nscenarios:\n  - flow:\n      - get: { url: \"/{{ where }}\" }\n",
    );
    let config = case.script(
        "config.yml",
        &with_target(
            "config:\n  target: \"TARGET\"\n  phases:\n    - duration: 1\n      arrivalCount: 2\n  variables:\n    where: config-file\n",
            &t,
        ),
    );
    let out =
        common::hornet().arg("run").arg("-q").arg("-c").arg(&config).arg(&script).output().expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(received(&t), vec![("GET /config-file".to_string(), 2)]);
}

#[test]
fn a_config_file_error_names_that_file_line_and_column() {
    let case = Case::new();
    let script = case.script("test.yaml", &one_get(&recording_target(), "/"));
    let config =
        case.script("config.yml", "config:\n  phases:\n    - duration: 1\n      arrivalRate: [oops]\n");
    let out =
        common::hornet().arg("validate").arg("--config").arg(&config).arg(&script).output().expect("run");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains(&format!("{}:4:", config.display())), "{}", text(&out));
}

#[test]
fn solo_runs_one_virtual_user_whatever_the_phases() {
    let t = recording_target();
    let case = Case::new();
    let script = case.script(
        "test.yaml",
        &with_target(
            "config:\n  target: \"TARGET\"\n  phases:\n    - duration: 2\n      arrivalRate: 5\nscenarios:\n  - flow:\n      - get: { url: \"/solo\" }\n      - get: { url: \"/solo\" }\n",
            &t,
        ),
    );
    let out = common::hornet()
        .arg("run")
        .args(["-q", "-s", "--overrides", r#"{"config": {"phases": [{"duration": 3, "arrivalRate": 9}]}}"#])
        .arg(&script)
        .output()
        .expect("run");
    assert!(out.status.success(), "{}", text(&out));
    assert_eq!(received(&t), vec![("GET /solo".to_string(), 2)], "one VU sent its two requests");
}

#[test]
fn an_artillery_ci_line_runs_with_hornet_in_place_of_artillery() {
    let t = recording_target();
    let case = Case::new();
    case.script(".env", "H8_CI_SECTION=orders\n");
    case.script(
        "config.yml",
        &with_target(
            "config:\n  target: \"TARGET\"\n  phases:\n    - duration: 1\n      arrivalCount: 3\n",
            &t,
        ),
    );
    case.script(
        "script.yml",
        "scenarios:\n  - flow:\n      - get: { url: \"/{{ $env.H8_CI_SECTION }}/{{ x }}\" }\n",
    );
    // artillery run --dotenv .env -v '{"x":"one"}' -c config.yml -q --platform local -p data.csv script.yml
    let out = common::hornet()
        .env_remove("H8_CI_SECTION")
        .current_dir(case.dir.path())
        .args(["run", "--dotenv", ".env", "-v", r#"{"x":"one"}"#, "-c", "config.yml", "-q"])
        .args(["--platform", "local", "-p", "data.csv", "script.yml"])
        .output()
        .expect("run hornet");
    assert!(out.status.success(), "{}", text(&out));
    assert!(text(&out).contains("-p/--payload data.csv: ignored"), "{}", text(&out));
    assert_eq!(received(&t), vec![("GET /orders/one".to_string(), 3)]);
}

#[test]
fn other_platforms_and_artillery_cloud_flags_are_refused_with_exit_2() {
    let t = recording_target();
    let case = Case::new();
    let script = case.script("test.yaml", &one_get(&t, "/"));
    for flags in [
        &["--platform", "aws:lambda"][..],
        &["--platform", "az:aci"],
        &["--platform-opt", "region=eu-west-1"],
        &["--count", "10"],
        &["--record", "--key", "a9_key"],
        &["--name", "nightly"],
        &["--tags", "team:core"],
        &["--note", "release 3"],
    ] {
        for command in ["run", "controller"] {
            let mut cmd = common::hornet();
            cmd.arg(command).args(flags).arg(&script);
            if command == "controller" {
                cmd.args(["--workers", "1"]);
            }
            let out = cmd.output().expect("run hornet");
            assert_eq!(out.status.code(), Some(2), "{command} {flags:?}: {}", text(&out));
            assert!(
                text(&out).contains(flags[0]) && text(&out).contains("docs/distributed.md"),
                "{command} {flags:?}: {}",
                text(&out)
            );
        }
    }
    assert!(received(&t).is_empty(), "nothing is sent: {:?}", received(&t));
    let out = common::hornet()
        .args(["validate", "--strict", "-p", "users.csv"])
        .arg(&script)
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2), "-p is an error under --strict: {}", text(&out));
}

#[test]
fn a_processor_reads_dotenv_values_in_process_env() {
    let t = recording_target();
    let case = Case::new();
    case.script(
        "env.js",
        "module.exports = { fromEnv(req, ctx, ee, next) { req.headers['x-from-env'] = process.env.H8_PROCESSOR_VALUE; next(); } };\n",
    );
    let script = case.script(
        "test.yaml",
        &with_target(
            "config:\n  target: \"TARGET\"\n  processor: \"./env.js\"\n  phases:\n    - duration: 1\n      arrivalCount: 1\nscenarios:\n  - flow:\n      - get: { url: \"/js\", beforeRequest: fromEnv }\n",
            &t,
        ),
    );
    let env = case.script("ci.env", "H8_PROCESSOR_VALUE=from-process-env\n");
    let out = common::hornet()
        .env_remove("H8_PROCESSOR_VALUE")
        .args(["run", "-q", "--dotenv"])
        .arg(&env)
        .arg(&script)
        .output()
        .expect("run hornet");
    assert!(out.status.success(), "{}", text(&out));
    let log = t.requests().expect("recording");
    assert_eq!(
        log["routes"]["GET /js"]["fields"]["header:x-from-env"]["values"],
        serde_json::json!(["from-process-env"]),
        "{log}"
    );
}
