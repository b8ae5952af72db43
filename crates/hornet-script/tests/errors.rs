//! Invalid scripts: the full rendered error, as snapshots (tests/snapshots/).

use hornet_script::{LoadOptions, parse_str};
use insta::assert_snapshot;

/// Renders the error a script produces; panics if it loads.
fn error_with(src: &str, opts: &LoadOptions) -> String {
    match parse_str(src, "load.yaml", opts) {
        Ok(plan) => panic!("expected an error, got a plan: {plan:?}"),
        Err(e) => e.to_string(),
    }
}

fn error(src: &str) -> String {
    error_with(src, &LoadOptions::default())
}

/// A script whose one scenario runs `flow` (indented by six spaces).
fn with_flow(flow: &str) -> String {
    format!("config:\n  target: http://localhost:8080\nscenarios:\n  - flow:\n{flow}")
}

/// A script with `phases` (indented by four spaces) and a trivial scenario.
fn with_phases(phases: &str) -> String {
    format!(
        "config:\n  target: http://localhost:8080\n  phases:\n{phases}scenarios:\n  - flow:\n      - get: {{ url: / }}\n"
    )
}

#[test]
fn unknown_key_with_did_you_mean() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      arivalRate: 10\n")));
}

#[test]
fn unknown_key_that_belongs_elsewhere() {
    assert_snapshot!(error("target: http://localhost\nconfig: {}\nscenarios: []\n"));
}

#[test]
fn unknown_key_without_a_close_match() {
    assert_snapshot!(error(&with_flow("      - get:\n          url: /\n          timeoutMs: 5\n")));
}

#[test]
fn unknown_step_action_with_did_you_mean() {
    assert_snapshot!(error(&with_flow("      - gte: { url: / }\n")));
}

#[test]
fn wrong_type_for_a_number() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      arrivalRate: ten\n")));
}

#[test]
fn wrong_type_request_as_string() {
    assert_snapshot!(error(&with_flow("      - get: /items\n")));
}

#[test]
fn wrong_type_scenarios_not_a_list() {
    assert_snapshot!(error("config: {}\nscenarios:\n  name: x\n"));
}

#[test]
fn bad_duration_string() {
    assert_snapshot!(error(&with_phases("    - duration: 5x\n      arrivalRate: 1\n")));
}

#[test]
fn bad_think_duration() {
    assert_snapshot!(error(&with_flow("      - think: \"-2s\"\n")));
}

#[test]
fn bad_template_points_inside_the_string() {
    assert_snapshot!(error(&with_flow("      - get:\n          url: \"/items/{{ id\"\n")));
}

#[test]
fn bad_template_in_block_scalar_points_at_the_value() {
    assert_snapshot!(error(&with_flow(
        "      - post:\n          url: /x\n          body: |\n            a {{ }} b\n"
    )));
}

#[test]
fn missing_url() {
    assert_snapshot!(error(&with_flow("      - get:\n          name: home\n")));
}

#[test]
fn missing_config() {
    assert_snapshot!(error("scenarios:\n  - flow:\n      - get: { url: http://h/ }\n"));
}

#[test]
fn missing_flow() {
    assert_snapshot!(error("config: {}\nscenarios:\n  - name: idle\n"));
}

#[test]
fn negative_rate() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      arrivalRate: -5\n")));
}

#[test]
fn negative_ramp() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      arrivalRate: 5\n      rampTo: -1.5\n")));
}

#[test]
fn zero_duration_with_a_rate() {
    assert_snapshot!(error(&with_phases("    - duration: 0\n      arrivalRate: 5\n")));
}

#[test]
fn missing_duration() {
    assert_snapshot!(error(&with_phases("    - arrivalCount: 5\n")));
}

#[test]
fn rate_and_count_together() {
    assert_snapshot!(error(&with_phases(
        "    - duration: 60\n      arrivalRate: 5\n      arrivalCount: 10\n"
    )));
}

#[test]
fn phase_without_load() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      name: idle\n")));
}

#[test]
fn pause_with_rate() {
    assert_snapshot!(error(&with_phases("    - pause: 10\n      arrivalRate: 5\n")));
}

#[test]
fn fractional_arrival_count() {
    assert_snapshot!(error(&with_phases("    - duration: 10\n      arrivalCount: 2.5\n")));
}

#[test]
fn zero_max_vusers() {
    assert_snapshot!(error(&with_phases("    - duration: 10\n      arrivalRate: 2\n      maxVusers: 0\n")));
}

#[test]
fn poisson_mode() {
    assert_snapshot!(error(&with_phases("    - duration: 10\n      arrivalRate: 2\n      mode: poisson\n")));
}

#[test]
fn unsupported_request_key() {
    assert_snapshot!(error(&with_flow(
        "      - post:\n          url: /login\n          json: { user: a }\n          capture:\n            json: $.token\n            as: token\n"
    )));
}

#[test]
fn unsupported_config_key() {
    assert_snapshot!(error("config:\n  target: http://h\n  payload:\n    path: users.csv\nscenarios: []\n"));
}

#[test]
fn unsupported_root_key() {
    assert_snapshot!(error("config: {target: 'http://h'}\nbefore:\n  flow: []\nscenarios: []\n"));
}

#[test]
fn unsupported_http_key_with_hint() {
    assert_snapshot!(error("config:\n  target: http://h\n  http:\n    maxSockets: 4\nscenarios: []\n"));
}

#[test]
fn unsupported_engine() {
    assert_snapshot!(error(
        "config: {target: 'http://h'}\nscenarios:\n  - engine: ws\n    flow:\n      - send: hi\n"
    ));
}

#[test]
fn unsupported_step() {
    assert_snapshot!(error(&with_flow("      - log: \"hello\"\n")));
}

#[test]
fn unsupported_loop_over() {
    assert_snapshot!(error(&with_flow("      - loop:\n          - get: { url: / }\n        over: items\n")));
}

#[test]
fn loop_without_count() {
    assert_snapshot!(error(&with_flow("      - loop:\n          - get: { url: / }\n")));
}

#[test]
fn count_on_a_request() {
    assert_snapshot!(error(&with_flow("      - get: { url: / }\n        count: 2\n")));
}

#[test]
fn two_actions_in_one_step() {
    assert_snapshot!(error(&with_flow("      - get: { url: /a }\n        post: { url: /b }\n")));
}

#[test]
fn step_without_action() {
    assert_snapshot!(error(&with_flow("      - {}\n")));
}

#[test]
fn json_and_body_together() {
    assert_snapshot!(error(&with_flow(
        "      - post:\n          url: /x\n          json: { a: 1 }\n          body: raw\n"
    )));
}

#[test]
fn body_given_a_map() {
    assert_snapshot!(error(&with_flow("      - post:\n          url: /x\n          body: { a: 1 }\n")));
}

#[test]
fn invalid_header_name() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          headers:\n            \"bad header\": v\n"
    )));
}

#[test]
fn duplicate_header_ignoring_case() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          headers:\n            Accept: a\n            accept: b\n"
    )));
}

#[test]
fn yaml_syntax_error() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  phases: [ { duration: 1, arrivalRate: 1 }\nscenarios: []\n"
    ));
}

#[test]
fn yaml_duplicate_key() {
    assert_snapshot!(error("config:\n  target: http://h\n  target: http://other\nscenarios: []\n"));
}

#[test]
fn relative_url_without_target() {
    assert_snapshot!(error(
        "config:\n  phases: []\nscenarios:\n  - flow:\n      - get: { url: \"https://h/ok\" }\n      - get: { url: \"/items\" }\n"
    ));
}

#[test]
fn all_weights_zero() {
    assert_snapshot!(error(
        "config: {target: 'http://h'}\nscenarios:\n  - weight: 0\n    flow: [ {get: {url: /}} ]\n  - weight: 0\n    flow: [ {get: {url: /}} ]\n"
    ));
}

#[test]
fn negative_weight() {
    assert_snapshot!(error(
        "config: {target: 'http://h'}\nscenarios:\n  - weight: -1\n    flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn empty_scenarios() {
    assert_snapshot!(error("config: {target: 'http://h'}\nscenarios: []\n"));
}

#[test]
fn empty_flow() {
    assert_snapshot!(error("config: {target: 'http://h'}\nscenarios:\n  - flow: []\n"));
}

#[test]
fn bad_target_scheme() {
    assert_snapshot!(error("config:\n  target: localhost:8080\nscenarios:\n  - flow: [ {think: 1} ]\n"));
}

#[test]
fn bad_target_from_command_line() {
    let opts = LoadOptions { target: Some("example.com".to_string()), insecure: false };
    assert_snapshot!(error_with("config: {}\nscenarios:\n  - flow: [ {think: 1} ]\n", &opts));
}

#[test]
fn timeout_set_twice() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  http:\n    timeout: 5\n  timeout: 10\nscenarios: []\n"
    ));
}

#[test]
fn zero_timeout() {
    assert_snapshot!(error("config:\n  target: http://h\n  http: { timeout: 0 }\nscenarios: []\n"));
}

#[test]
fn tls_reject_unauthorized_not_bool() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  tls: { rejectUnauthorized: no }\nscenarios: []\n"
    ));
}

#[test]
fn empty_script() {
    assert_snapshot!(error("# nothing here\n"));
}

#[test]
fn two_documents() {
    assert_snapshot!(error("config: {}\nscenarios: [ {flow: [ {think: 1} ]} ]\n---\nconfig: {}\n"));
}

#[test]
fn non_finite_variable() {
    assert_snapshot!(error("config:\n  target: http://h\n  variables:\n    big: .inf\nscenarios: []\n"));
}

#[test]
fn error_deep_in_the_file_widens_the_gutter() {
    let mut flow = String::new();
    for i in 0..6 {
        flow.push_str(&format!("      - get: {{ url: /page/{i} }}\n"));
    }
    flow.push_str("      - think: soon\n");
    assert_snapshot!(error(&with_flow(&flow)));
}

#[test]
fn error_inside_merged_mapping_points_at_the_definition() {
    assert_snapshot!(error(&with_phases(
        "    - &base\n      duration: 10\n      arrivalRate: 1\n      maxVuser: 5\n    - <<: *base\n"
    )));
}

#[test]
fn unknown_variable_with_did_you_mean() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  variables:\n    page: [1, 2]\nscenarios:\n  - flow:\n      - get: { url: \"/items/{{ pag }}\" }\n"
    ));
}

#[test]
fn unknown_variable_without_variables() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          headers:\n            authorization: \"Bearer {{token}}\"\n"
    )));
}

#[test]
fn artillery_builtin_in_template() {
    assert_snapshot!(error(&with_flow("      - get: { url: \"/r?n={{ $randomNumber(1, 10) }}\" }\n")));
}

#[test]
fn variable_path_in_json_body() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  variables:\n    user: { name: ann }\nscenarios:\n  - flow:\n      - post:\n          url: /x\n          json:\n            who: \"{{ user.name }}\"\n"
    ));
}
