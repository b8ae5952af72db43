//! `think` and loop `count` written as templates, as Artillery renders them: rendered when the step
//! runs, and a run-time failure of the virtual user when the rendered text is not a duration or a
//! whole number.

mod support;

use support::{run_yaml, target};

/// One virtual user (no phases) with `variables` and a `flow`, both indented YAML.
fn script(variables: &str, flow: &str) -> String {
    format!("config:\n  variables:\n{variables}scenarios:\n  - flow:\n{flow}")
}

#[test]
fn a_templated_count_and_think_are_rendered_when_the_step_runs() {
    let t = target();
    let report = run_yaml(
        &t,
        &script(
            "    n: 3\n    pause: 10ms\n",
            "      - loop:\n          - get: { url: \"/\" }\n          - think: \"{{ pause }}\"\n        count: \"{{ n }}\"\n",
        ),
    );
    assert_eq!(report.counter("http.requests"), 3);
    assert_eq!(report.counter("vusers.completed"), 1);
    assert_eq!(report.counter("vusers.failed"), 0);
}

#[test]
fn a_rendered_value_of_the_wrong_type_fails_the_virtual_user() {
    let t = target();
    let bad_count = run_yaml(
        &t,
        &script(
            "    n: many\n",
            "      - loop:\n          - get: { url: \"/\" }\n        count: \"{{ n }}\"\n",
        ),
    );
    assert_eq!(bad_count.counter("http.requests"), 0);
    assert_eq!(bad_count.counter("vusers.failed"), 1);
    let bad_think = run_yaml(
        &t,
        &script("    pause: soon\n", "      - think: \"{{ pause }}\"\n      - get: { url: \"/\" }\n"),
    );
    assert_eq!(bad_think.counter("http.requests"), 0);
    assert_eq!(bad_think.counter("vusers.failed"), 1);
}
