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

#[test]
fn a_misspelt_metric_in_ensure_is_refused_at_load_with_did_you_mean() {
    let head = "config:\n  target: \"http://127.0.0.1:{port}\"\n  phases:\n    - duration: 1\n      arrivalRate: 5\n  ensure:\n";
    let flow = "scenarios:\n  - flow:\n      - get: { url: \"/\" }\n";
    let cases = [
        (
            "    thresholds:\n      - http.reponse_time.p95: 500\n",
            "ensure.yaml:8:9",
            "`http.reponse_time.p95`",
            "did you mean `http.response_time.p95`?",
        ),
        (
            "    conditions:\n      - expression: \"vusers.faild < 1\"\n",
            "ensure.yaml:8:22",
            "`vusers.faild`",
            "did you mean `vusers.failed`?",
        ),
        (
            "    thresholds:\n      - http.latency.p95: 500\n",
            "ensure.yaml:8:9",
            "`http.latency.p95`",
            "docs/metrics.md",
        ),
        (
            "    thresholds:\n      - http.response_time: 500\n",
            "ensure.yaml:8:9",
            "`http.response_time`",
            "add an aggregation",
        ),
    ];
    for (ensure, at, name, help) in cases {
        let err = refused("ensure.yaml", &format!("{head}{ensure}{flow}"), &[], &[]);
        assert!(err.contains(at), "{err}");
        assert!(err.contains(&format!("the metric {name}, which hornet does not report")), "{err}");
        assert!(err.contains(help), "{err}");
    }
}

#[test]
fn metrics_a_processor_may_report_and_run_dependent_names_are_allowed_in_ensure() {
    let case = Case::new();
    case.script("p.js", "module.exports = { f(context, events, done) { events.emit('counter', 'cart.added', 1); done(); } };\n");
    let script = case.script(
        "custom.yaml",
        "config:\n  target: \"http://127.0.0.1:9\"\n  processor: ./p.js\n  ensure:\n    thresholds:\n      - cart.added: 5\n      - http.codes.503: 1\n      - \"http.response_time.GET /a.p99\": 100\n      - errors.timeout: 1\n    conditions:\n      - expression: \"vusers.created_by_name.buy > 0 and checkout.p95 < 100\"\nscenarios:\n  - name: buy\n    flow:\n      - function: f\n      - get: { url: \"/a\" }\n",
    );
    let out = hornet().arg("validate").arg(&script).output().expect("run hornet");
    assert!(out.status.success(), "{}", text(&out));
}

#[test]
fn a_conflict_between_merged_scripts_names_both_files() {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let port = listener.local_addr().expect("addr").port();
    let case = Case::new();
    let base = case.script(
        "base.yaml",
        &format!("config:\n  target: \"http://127.0.0.1:{port}\"\n  phases:\n    - duration: 1\n      arrivalRate: 1\n  ensure:\n    maxErrorRate: 1\nscenarios:\n  - flow:\n      - get: {{ url: \"/\" }}\n"),
    );
    for (name, yaml, at, other) in [
        (
            "stages.yaml",
            "config:\n  stages:\n    - duration: 1\n      target: 2\n",
            "stages.yaml:2:3",
            "line 3 of ",
        ),
        (
            "ensure.yaml",
            "config:\n  plugins:\n    ensure:\n      maxErrorRate: 2\n",
            "ensure.yaml:4:7",
            "line 7 of ",
        ),
    ] {
        let more = case.script(name, yaml);
        let out = hornet().arg("run").arg(&base).arg(&more).output().expect("run hornet");
        assert_eq!(out.status.code(), Some(2), "{}", text(&out));
        let err = String::from_utf8_lossy(&out.stderr);
        assert!(err.contains(at), "the error is at its place in the second file: {err}");
        assert!(
            err.contains(&format!("{other}{}", base.display())),
            "the other place names the first file: {err}"
        );
    }
    assert!(listener.accept().is_err(), "a connection was made");
}

#[test]
fn control_characters_from_a_script_are_escaped_in_errors_and_warnings() {
    // An unknown key and a bad value, each holding a terminal escape sequence (retitle, recolour)
    // written with YAML's escapes, and a raw ESC, which the YAML reader refuses.
    let key = "config:\n  target: \"http://127.0.0.1:{port}\"\n  \"\\e]0;owned\\aphasse\": 1\nscenarios:\n  - flow:\n      - get: { url: \"/\" }\n";
    let value = "config:\n  target: \"http://127.0.0.1:{port}\"\n  phases:\n    - duration: \"\\e[31m1\\x9b2J\\u202e\"\n      arrivalRate: 1\nscenarios:\n  - flow:\n      - get: { url: \"/\" }\n";
    let raw = "config:\n  target: \"http://127.0.0.1:{port}\"\n  \"\u{1b}]0;owned\u{7}\": 1\n";
    for (yaml, at) in [(key, "esc.yaml:3:3"), (value, "esc.yaml:4:17"), (raw, "esc.yaml:3:4")] {
        let err = refused("esc.yaml", yaml, &["--strict"], &[]);
        assert!(err.contains(at), "{err:?}");
        assert!(
            !err.chars().any(|c| c.is_control() && c != '\n'),
            "a control character was printed: {err:?}"
        );
        assert!(!err.contains('\u{202e}'), "a bidirectional override was printed: {err:?}");
        assert!(err.contains("\\u{1b}"), "the escape is shown as written: {err:?}");
    }
}

#[test]
fn rates_one_process_cannot_start_are_refused_before_anything_is_sent() {
    let phase = |load: &str| {
        format!(
            "config:\n  target: \"http://127.0.0.1:{{port}}\"\n  phases:\n    - duration: 10\n      {load}\nscenarios:\n  - flow:\n      - get: {{ url: \"/\" }}\n"
        )
    };
    for (load, at, said) in [
        ("arrivalRate: 1e12", "rate.yaml:5:20", "1000000000000 arrivals a second"),
        ("arrivalRate: 1\n      rampTo: 2000000", "rate.yaml:6:15", "2000000 arrivals a second"),
        ("requestRate: 1e7", "rate.yaml:5:20", "10000000 arrivals a second"),
        ("arrivalCount: 1000000000000000", "rate.yaml:5:21", "1000000000000000 arrivals in 10 s"),
    ] {
        let err = refused("rate.yaml", &phase(load), &[], &[]);
        assert!(err.contains(at), "{err}");
        assert!(err.contains(said) && err.contains("more than the 1000000 arrivals a second"), "{err}");
    }
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    listener.set_nonblocking(true).expect("nonblocking");
    let url = format!("http://127.0.0.1:{}/", listener.local_addr().expect("addr").port());
    let out = hornet().args(["quick", "-r", "1e12", &url]).output().expect("run hornet");
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(
        String::from_utf8_lossy(&out.stderr).contains("more than the 1000000 requests a second"),
        "{}",
        text(&out)
    );
    assert!(listener.accept().is_err(), "a connection was made");
    let ok = Case::new();
    let script = ok.script("ok.yaml", &phase("arrivalRate: 1000000").replace("{port}", "9"));
    let out = hornet().arg("validate").arg(&script).output().expect("run hornet");
    assert!(out.status.success(), "the limit itself is allowed: {}", text(&out));
}

#[test]
fn a_distributed_run_divides_the_rate_among_its_workers_before_the_per_process_cap() {
    let phase = |rate: &str| {
        format!(
            "config:\n  target: \"http://127.0.0.1:{{port}}\"\n  phases:\n    - duration: 1\n      arrivalRate: {rate}\n\
             scenarios:\n  - flow:\n      - get: {{ url: \"/\" }}\n"
        )
    };
    // 3,000,000 a second over 2 workers is 1,500,000 each: still more than one process starts.
    let err = refused("rate.yaml", &phase("3e6"), &["--local-workers", "2"], &[]);
    assert!(err.contains("rate.yaml:5:20"), "{err}");
    assert!(
        err.contains("3000000 arrivals a second, 1500000 for each of the 2 workers: more than the 1000000"),
        "{err}"
    );
    assert!(!err.contains("local worker 1 started"), "no worker is started: {err}");
    // 1,500,000 a second is refused on one process, and passes over 2 workers (750,000 each): the
    // controller loads the plan and waits for them.
    let err = refused("rate.yaml", &phase("1.5e6"), &[], &[]);
    assert!(err.contains("1500000 arrivals a second: more than the 1000000"), "{err}");
    let case = Case::new();
    let script = case.script("rate.yaml", &phase("1.5e6").replace("{port}", "9"));
    let mut controller = hornet();
    controller.arg("controller").arg(&script).args(["--workers", "2", "--listen", "127.0.0.1:0"]);
    let out =
        controller.args(["--join-timeout", "1"]).env("HORNET_CLUSTER_TOKEN", "t").output().expect("run");
    let said = text(&out);
    assert!(said.contains("waiting for 2 workers"), "{said}");
    assert!(!said.contains("more than the 1000000"), "{said}");
}

#[test]
fn too_many_threads_are_refused_before_anything_is_sent() {
    let yaml = "config:\n  target: \"http://127.0.0.1:{port}\"\n  phases:\n    - duration: 1\n      arrivalRate: 1\nscenarios:\n  - flow:\n      - get: { url: \"/\" }\n";
    let err = refused("threads.yaml", yaml, &["--threads", "100000"], &[]);
    assert!(err.contains("--threads") && err.contains("100000 is more than 1024 threads"), "{err}");
}
