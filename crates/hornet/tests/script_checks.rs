//! Scripts that say what they mean: mistakes that used to run quietly (an unset environment
//! variable, a loop over a string, a misspelt metric in `ensure`, conflicting merged files, control
//! characters in a script, rates one process cannot start) stop `hornet run` before anything is
//! sent, with exit 2 and the file, line and column.

mod common;

use std::net::TcpListener;
use std::process::Output;

use common::{Case, hornet, text};

/// Runs `hornet run` on the script `yaml` (where `{port}` is replaced by a listener's port) with
/// `extra` options and `env` removed from the environment; asserts exit 2, no connection and no
/// report; returns stderr.
fn refused(name: &str, yaml: &str, extra: &[&str], unset: &[&str]) -> String {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let case = Case::new();
    let script = case.script(name, &yaml.replace("{port}", &port.to_string()));
    let report = case.report_path();
    let mut cmd = hornet();
    cmd.arg("run").arg(&script).arg("-o").arg(&report).args(extra);
    for var in unset {
        cmd.env_remove(var);
    }
    let out: Output = cmd.output().expect("run hornet");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(listener.accept().is_err(), "a connection was made: {}", text(&out));
    assert!(!report.exists(), "no report for a script that did not run");
    String::from_utf8_lossy(&out.stderr).into_owned()
}

#[test]
fn an_unset_environment_variable_stops_the_run_at_its_place() {
    let yaml = "config:\n  target: \"http://127.0.0.1:{port}\"\n  phases:\n    - duration: 1\n      arrivalRate: 5\nscenarios:\n  - flow:\n      - get: { url: \"/k/{{ $env.HORNET_CHECKS_UNSET_1 }}\" }\n";
    let err = refused("env.yaml", yaml, &[], &["HORNET_CHECKS_UNSET_1"]);
    assert!(err.contains("env.yaml:8:33"), "{err}");
    assert!(err.contains("`HORNET_CHECKS_UNSET_1` is not set"), "{err}");
    assert!(err.contains("|| \"value\""), "the default syntax is offered: {err}");

    let yaml = "config:\n  target: \"{{ $processEnvironment.HORNET_CHECKS_UNSET_2 }}\"\nscenarios:\n  - flow:\n      - get: { url: \"/\" }\n";
    let err = refused("target.yaml", yaml, &[], &["HORNET_CHECKS_UNSET_2"]);
    assert!(err.contains("target.yaml:2:35"), "{err}");
    assert!(err.contains("`HORNET_CHECKS_UNSET_2` is not set"), "{err}");
}

#[test]
fn an_environment_variable_that_is_set_or_has_a_default_validates() {
    let case = Case::new();
    let script = case.script(
        "ok.yaml",
        "config:\n  target: \"http://127.0.0.1:{{ $env.HORNET_CHECKS_PORT }}\"\nscenarios:\n  - flow:\n      - get: { url: \"/{{ $env.HORNET_CHECKS_UNSET_3 || 'fallback' }}\" }\n",
    );
    let out = hornet()
        .arg("validate")
        .arg(&script)
        .env("HORNET_CHECKS_PORT", "9")
        .env_remove("HORNET_CHECKS_UNSET_3")
        .output()
        .expect("run hornet");
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_loop_over_a_variable_that_is_not_a_list_stops_the_run_at_load() {
    for (variable, kind) in
        [("\"abc\"", "a string"), ("[1, 2]", "a list of single values"), ("{ a: 1 }", "a map")]
    {
        let yaml = format!(
            "config:\n  target: \"http://127.0.0.1:{{port}}\"\n  variables:\n    items: {variable}\nscenarios:\n  - flow:\n      - loop:\n          - get: {{ url: \"/{{{{ $loopElement }}}}\" }}\n        over: items\n"
        );
        let err = refused("loop.yaml", &yaml, &[], &[]);
        assert!(err.contains("loop.yaml:9:15"), "{err}");
        assert!(err.contains(&format!("`over: items` needs a list, but `items` is {kind}")), "{err}");
    }
}

#[test]
fn a_loop_over_a_captured_value_that_is_not_a_list_fails_its_virtual_users_with_one_message() {
    let t = common::target();
    let yaml = common::with_target(
        r#"
config:
  target: "TARGET"
  phases:
    - duration: 1
      arrivalCount: 3
scenarios:
  - flow:
      - get:
          url: /items
          capture: { json: "$.items[0]", as: first }
      - loop:
          - get: { url: "/items/{{ $loopElement }}", name: inside }
        over: first
"#,
        &t,
    );
    let case = Case::new();
    let script = case.script("captured.yaml", &yaml);
    let (out, report) = common::run_script(&case, &script, &["-q"]);
    let report = report.unwrap_or_else(|| panic!("no report: {}", text(&out)));
    assert_eq!(common::counter(&report, "vusers.failed"), 3, "{}", text(&out));
    let inside = report["endpoints"].as_array().and_then(|e| e.iter().find(|e| e["name"] == "inside"));
    assert!(inside.is_none_or(|e| e["requests"] == 0), "nothing inside the loop was sent: {report}");
    assert_eq!(common::endpoint(&report, "GET /items")["requests"], 3, "{report}");
    let err = String::from_utf8_lossy(&out.stderr);
    let message = "loop `over: first` needs a list, but `first` is a map";
    assert_eq!(err.matches(message).count(), 1, "printed once: {err}");
}
