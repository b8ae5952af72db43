//! Invalid scripts: the full rendered error, as snapshots (tests/snapshots/).

use std::path::PathBuf;

use hornet_script::{LoadOptions, load_files, parse_str};
use insta::assert_snapshot;
use serde_json::json;

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

/// Renders the error a script produces with `--strict`, where every warning is an error.
fn strict_error(src: &str) -> String {
    error_with(src, &LoadOptions { strict: true, ..LoadOptions::default() })
}

/// Writes `files` into a new directory and loads its `.yaml` files in order; returns the error with
/// the directory shown as `[dir]`.
fn error_in_dir(files: &[(&str, &str)], opts: &LoadOptions) -> String {
    let dir = tempfile::tempdir().unwrap();
    let mut scripts: Vec<PathBuf> = Vec::new();
    for (name, text) in files {
        let path = dir.path().join(name);
        std::fs::write(&path, text).unwrap();
        if name.ends_with(".yaml") {
            scripts.push(path);
        }
    }
    match load_files(&scripts, opts) {
        Ok(plan) => panic!("expected an error, got a plan: {plan:?}"),
        Err(e) => e.to_string().replace(&dir.path().display().to_string(), "[dir]"),
    }
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
    assert_snapshot!(strict_error("target: http://localhost\nconfig: {}\nscenarios: []\n"));
}

#[test]
fn unknown_key_without_a_close_match() {
    assert_snapshot!(strict_error(&with_flow("      - get:\n          url: /\n          timeoutMs: 5\n")));
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
fn unknown_mode_with_did_you_mean() {
    assert_snapshot!(error(&with_phases("    - duration: 10\n      arrivalRate: 2\n      mode: poison\n")));
}

#[test]
fn unknown_config_mode_without_a_close_match() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  mode: random\n  phases: [ {duration: 1, arrivalRate: 1} ]\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn users_and_ramp_users_together() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      users: 10\n      rampUsers: 20\n")));
}

#[test]
fn arrival_rate_and_users_together() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      arrivalRate: 5\n      users: 20\n")));
}

#[test]
fn pacing_and_throughput_together() {
    assert_snapshot!(error(&with_phases(
        "    - duration: 60\n      users: 10\n      pacing: 2s\n      throughput: 0.5\n"
    )));
}

#[test]
fn pacing_on_an_arrival_phase() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      arrivalRate: 5\n      pacing: 2s\n")));
}

#[test]
fn throughput_on_a_request_rate_phase() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      requestRate: 50\n      throughput: 2\n")));
}

#[test]
fn zero_pacing() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      users: 10\n      pacing: 0s\n")));
}

#[test]
fn zero_throughput() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      rampUsers: 10\n      throughput: 0\n")));
}

#[test]
fn max_vusers_on_a_users_phase() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      users: 10\n      maxVusers: 20\n")));
}

#[test]
fn mode_on_a_users_phase() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      rampUsers: 10\n      mode: poisson\n")));
}

#[test]
fn negative_spawn_rate() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      users: 10\n      spawnRate: -2\n")));
}

#[test]
fn zero_spawn_rate() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      users: 10\n      spawnRate: 0\n")));
}

#[test]
fn spawn_rate_with_ramp_users() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      rampUsers: 10\n      spawnRate: 2\n")));
}

#[test]
fn ramp_to_with_users() {
    assert_snapshot!(error(&with_phases("    - duration: 60\n      users: 10\n      rampTo: 20\n")));
}

#[test]
fn users_without_duration() {
    assert_snapshot!(error(&with_phases("    - users: 10\n")));
}

#[test]
fn stages_and_phases_together() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  phases:\n    - { duration: 10, arrivalRate: 1 }\n  stages:\n    - { duration: 10, target: 5 }\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn mixed_stage_kinds() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  stages:\n    - { duration: 10, target: 5 }\n    - { duration: 10, rate: 20 }\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn stage_with_target_and_rate() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  stages:\n    - duration: 10\n      target: 5\n      rate: 20\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn stage_without_target_or_rate() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  stages:\n    - { duration: 10, name: idle }\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn stage_without_duration() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  stages:\n    - { target: 5 }\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn pacing_and_throughput_in_a_stage() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  stages:\n    - { duration: 10, target: 5, throughput: 1, pacing: 1s }\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn pacing_in_a_rate_stage() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  stages:\n    - { duration: 10, rate: 5, pacing: 1s }\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn start_rate_with_target_stages() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  startRate: 5\n  stages:\n    - { duration: 10, target: 5 }\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn unsupported_request_key() {
    assert_snapshot!(error(&with_flow("      - post:\n          url: /login\n          http2: true\n")));
}

#[test]
fn unsupported_config_key() {
    assert_snapshot!(error("config:\n  target: http://h\n  includeFiles: [a.txt]\nscenarios: []\n"));
}

#[test]
fn before_without_flow() {
    assert_snapshot!(error("config: {target: 'http://h'}\nbefore:\n  - get: { url: / }\nscenarios: []\n"));
}

#[test]
fn unsupported_http_key_with_hint() {
    assert_snapshot!(error("config:\n  target: http://h\n  http:\n    maxSockets: 4\nscenarios: []\n"));
}

#[test]
fn function_step_without_processor() {
    assert_snapshot!(error(&with_flow("      - get: { url: / }\n      - function: setToken\n")));
}

#[test]
fn processor_file_missing() {
    assert_snapshot!(error("config:\n  target: http://h\n  processor: ./funcs.js\nscenarios: []\n"));
}

#[test]
fn request_hook_without_processor() {
    assert_snapshot!(error(&with_flow("      - get:\n          url: /\n          afterResponse: logIt\n")));
}

#[test]
fn loop_over_unknown_variable() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /items\n          capture: { json: $.items, as: items }\n      - loop:\n          - get: { url: / }\n        over: \"{{ itms }}\"\n"
    )));
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
    let opts = LoadOptions { target: Some("example.com".to_string()), ..LoadOptions::default() };
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
    assert_snapshot!(strict_error(&with_flow(
        "      - get:\n          url: /x\n          headers:\n            authorization: \"Bearer {{token}}\"\n"
    )));
}

#[test]
fn unknown_root_of_a_variable_path() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  variables:\n    user: { name: ann }\nscenarios:\n  - flow:\n      - post:\n          url: /x\n          json:\n            who: \"{{ usr.name }}\"\n"
    ));
}

// ---- the full scenario language ----

#[test]
fn bad_json_path() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          capture:\n            - json: \"$.items[\"\n              as: items\n"
    )));
}

#[test]
fn bad_regexp() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          capture: { regexp: \"id=(\\\\d+\", as: id }\n"
    )));
}

#[test]
fn regexp_look_around_is_not_supported() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          capture: { regexp: \"(?<=id=)\\\\d+\", as: id }\n"
    )));
}

#[test]
fn bad_regexp_flag() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          capture: { regexp: \"id=(\\\\d+)\", flags: \"gx\", as: id }\n"
    )));
}

#[test]
fn regexp_group_that_does_not_exist() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          capture: { regexp: \"id=(?P<id>\\\\d+)\", group: ident, as: id }\n"
    )));
}

#[test]
fn bad_selector() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          capture: { selector: \"ul >\", attr: href, as: link }\n"
    )));
}

#[test]
fn capture_without_as() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          capture: { json: $.id }\n"
    )));
}

#[test]
fn capture_with_two_sources() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          capture: { json: $.id, header: location, as: id }\n"
    )));
}

#[test]
fn match_without_value() {
    assert_snapshot!(error(&with_flow("      - get:\n          url: /x\n          match: { json: $.id }\n")));
}

#[test]
fn unsupported_xpath_capture() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          capture: { xpath: \"//a\", as: a }\n"
    )));
}

#[test]
fn missing_csv_file() {
    assert_snapshot!(error_in_dir(
        &[(
            "load.yaml",
            "config:\n  target: http://h\n  payload:\n    path: data/users.csv\n    fields: [name]\nscenarios:\n  - flow: [ {get: {url: \"/u/{{ name }}\"}} ]\n"
        )],
        &LoadOptions::default()
    ));
}

#[test]
fn csv_row_with_too_few_columns() {
    assert_snapshot!(error_in_dir(
        &[
            (
                "load.yaml",
                "config:\n  target: http://h\n  payload:\n    - path: users.csv\n      fields: [name, password]\nscenarios:\n  - flow: [ {get: {url: \"/u/{{ name }}\"}} ]\n"
            ),
            ("users.csv", "ann,secret\nbob\ncid,pw\n"),
        ],
        &LoadOptions::default()
    ));
}

#[test]
fn csv_empty_line_when_empty_lines_are_kept() {
    assert_snapshot!(error_in_dir(
        &[
            (
                "load.yaml",
                "config:\n  target: http://h\n  payload:\n    path: users.csv\n    fields: [name, password]\n    skipEmptyLines: false\nscenarios:\n  - flow: [ {get: {url: \"/u/{{ name }}\"}} ]\n"
            ),
            ("users.csv", "ann,secret\n\ncid,pw\n"),
        ],
        &LoadOptions::default()
    ));
}

#[test]
fn payload_without_fields() {
    assert_snapshot!(error("config:\n  target: http://h\n  payload:\n    path: users.csv\nscenarios: []\n"));
}

#[test]
fn payload_bad_delimiter() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  payload: { path: users.csv, fields: [a], delimiter: \"::\" }\nscenarios: []\n"
    ));
}

#[test]
fn unknown_environment() {
    let opts = LoadOptions { environment: Some("stagin".to_string()), ..LoadOptions::default() };
    assert_snapshot!(error_with(
        "config:\n  target: http://h\n  environments:\n    staging: { target: 'https://staging' }\n    production: { target: 'https://prod' }\nscenarios:\n  - flow: [ {think: 1} ]\n",
        &opts
    ));
}

#[test]
fn environment_without_environments() {
    let opts = LoadOptions { environment: Some("staging".to_string()), ..LoadOptions::default() };
    assert_snapshot!(error_with(
        "config:\n  target: http://h\nscenarios:\n  - flow: [ {think: 1} ]\n",
        &opts
    ));
}

#[test]
fn unknown_key_in_an_unselected_environment() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  environments:\n    staging:\n      taget: 'https://staging'\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn json_and_form_together() {
    assert_snapshot!(error(&with_flow(
        "      - post:\n          url: /x\n          form: { a: 1 }\n          json: { a: 1 }\n"
    )));
}

#[test]
fn form_data_file_missing() {
    assert_snapshot!(error_in_dir(
        &[(
            "load.yaml",
            "config: {target: 'http://h'}\nscenarios:\n  - flow:\n      - post:\n          url: /upload\n          formData:\n            name: photo\n            file: { fromFile: ./photo.png, contentType: image/png }\n"
        )],
        &LoadOptions::default()
    ));
}

#[test]
fn unsupported_expect_kind() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          expect:\n            - statusCode: 200\n            - cdnHit: true\n"
    )));
}

#[test]
fn unknown_expect_kind_with_did_you_mean() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          expect:\n            - statuscode: 200\n"
    )));
}

#[test]
fn bad_status_code() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          expect: { statusCode: [200, 2001] }\n"
    )));
}

#[test]
fn equals_with_one_value() {
    assert_snapshot!(strict_error(&with_flow(
        "      - get:\n          url: /x\n          expect:\n            - equals: [a]\n"
    )));
}

#[test]
fn ensure_threshold_with_two_metrics() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  ensure:\n    thresholds:\n      - http.response_time.p95: 200\n        http.response_time.p99: 500\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn ensure_threshold_not_a_map() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  ensure:\n    thresholds:\n      - http.response_time.p95 < 200\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn ensure_threshold_not_a_number() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  plugins:\n    ensure:\n      thresholds:\n        - http.response_time.p95: fast\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn ensure_max_error_rate_set_twice() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  ensure: { maxErrorRate: 1 }\n  plugins:\n    ensure: { maxErrorRate: 2 }\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn unknown_ensure_key() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  ensure:\n    p96: 200\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn unsupported_plugin() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  plugins:\n    fuzzer: {}\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

/// A script with `config.plugins.publish-metrics` set to `entries` (YAML, indented for the list).
fn publish_metrics(entries: &str) -> String {
    format!(
        "config:\n  target: http://h\n  plugins:\n    publish-metrics:\n{entries}scenarios:\n  - flow: [ {{think: 1}} ]\n"
    )
}

#[test]
fn publish_metrics_unknown_type() {
    assert_snapshot!(error(&publish_metrics(
        "      - type: prometheus-rw\n        pushgateway: http://127.0.0.1:9091\n"
    )));
}

#[test]
fn publish_metrics_artillery_type_hornet_does_not_have() {
    assert_snapshot!(error(&publish_metrics("      - type: datadog\n        apiKey: x\n")));
}

#[test]
fn publish_metrics_entry_without_type() {
    assert_snapshot!(error(&publish_metrics("      - pushgateway: http://127.0.0.1:9091\n")));
}

#[test]
fn publish_metrics_prometheus_without_pushgateway() {
    assert_snapshot!(error(&publish_metrics("      - type: prometheus\n")));
}

#[test]
fn publish_metrics_prometheus_bad_url() {
    assert_snapshot!(error(&publish_metrics(
        "      - type: prometheus\n        pushgateway: 127.0.0.1:9091\n"
    )));
}

#[test]
fn publish_metrics_tag_without_value() {
    assert_snapshot!(error(&publish_metrics(
        "      - type: prometheus\n        pushgateway: http://127.0.0.1:9091\n        tags: [team]\n"
    )));
}

#[test]
fn publish_metrics_tag_with_a_label_hornet_sets() {
    assert_snapshot!(error(&publish_metrics(
        "      - type: prometheus\n        pushgateway: http://127.0.0.1:9091\n        tags: [\"team:a\", \"endpoint:x\"]\n"
    )));
}

#[test]
fn publish_metrics_tag_that_is_no_label_name() {
    assert_snapshot!(error(&publish_metrics(
        "      - type: prometheus\n        pushgateway: http://127.0.0.1:9091\n        tags: [\"team-name:a\"]\n"
    )));
}

#[test]
fn misspelt_plugin() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  plugins:\n    ensur: {}\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn expect_plugin_bad_output_format() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  plugins:\n    expect: { outputFormat: prety }\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn apdex_thresholds_disagree() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  apdex: { threshold: 100 }\n  plugins:\n    apdex: { threshold: 200 }\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn defaults_set_in_two_places() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  defaults:\n    strictCapture: false\n  http:\n    defaults:\n      strictCapture: true\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn bad_jitter_percentage() {
    assert_snapshot!(error(&with_flow("      - think: 1\n        jitter: \"150%\"\n")));
}

#[test]
fn jitter_on_a_request() {
    assert_snapshot!(error(&with_flow("      - get: { url: / }\n        jitter: 1\n")));
}

#[test]
fn probability_out_of_range() {
    assert_snapshot!(error(&with_flow("      - get:\n          url: /x\n          probability: 150\n")));
}

#[test]
fn parallel_with_a_think_step() {
    assert_snapshot!(error(&with_flow(
        "      - parallel:\n          - get: { url: /a }\n          - think: 1\n"
    )));
}

#[test]
fn loop_with_count_and_over() {
    assert_snapshot!(error(&with_flow(
        "      - loop:\n          - get: { url: / }\n        count: 2\n        over: [1, 2]\n"
    )));
}

#[test]
fn while_true_without_processor() {
    assert_snapshot!(error(&with_flow(
        "      - loop:\n          - get: { url: / }\n        whileTrue: moreToDo\n"
    )));
}

#[test]
fn scenario_hook_without_processor() {
    assert_snapshot!(error(
        "config: {target: 'http://h'}\nscenarios:\n  - beforeScenario: setup\n    flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn other_engine() {
    assert_snapshot!(error(
        "config: {target: 'http://h'}\nscenarios:\n  - engine: playwright\n    flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn unknown_scenario_name() {
    let opts = LoadOptions { scenario_names: vec!["brows".to_string()], ..LoadOptions::default() };
    assert_snapshot!(error_with(
        "config: {target: 'http://h'}\nscenarios:\n  - name: browse\n    flow: [ {think: 1} ]\n  - name: buy\n    flow: [ {think: 1} ]\n",
        &opts
    ));
}

#[test]
fn overrides_not_an_object() {
    let opts = LoadOptions { overrides: Some(json!([1, 2])), ..LoadOptions::default() };
    assert_snapshot!(error_with(
        "config: {target: 'http://h'}\nscenarios:\n  - flow: [ {think: 1} ]\n",
        &opts
    ));
}

#[test]
fn error_inside_overrides_points_into_the_json() {
    let opts = LoadOptions {
        overrides: Some(json!({"phases": [{"duration": 10, "arrivalRate": -1}]})),
        ..LoadOptions::default()
    };
    assert_snapshot!(error_with(
        "config: {target: 'http://h'}\nscenarios:\n  - flow: [ {think: 1} ]\n",
        &opts
    ));
}

#[test]
fn error_in_the_second_file_names_that_file() {
    assert_snapshot!(error_in_dir(
        &[
            ("common.yaml", "config:\n  target: http://h\n  variables:\n    page: 1\n"),
            ("scenarios.yaml", "scenarios:\n  - flow:\n      - get: { url: \"/items/{{ pag }}\" }\n"),
        ],
        &LoadOptions::default()
    ));
}

#[test]
fn bad_cookie_name() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          cookie:\n            \"a b\": 1\n"
    )));
}

#[test]
fn auth_without_user() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          auth: { pass: secret }\n"
    )));
}

#[test]
fn if_true_with_an_unknown_variable() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  variables: { count: 1 }\nscenarios:\n  - flow:\n      - get:\n          url: /x\n          ifTrue: \"cuont > 1\"\n"
    ));
}

#[test]
fn if_true_naming_a_function() {
    assert_snapshot!(error(&with_flow("      - get:\n          url: /x\n          ifTrue: isLoggedIn\n")));
}

#[test]
fn bad_if_true_expression() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          ifTrue: \"status == \"\n"
    )));
}

#[test]
fn bad_ensure_condition() {
    assert_snapshot!(error(
        "config:\n  target: http://h\n  ensure:\n    conditions:\n      - expression: \"http.response_time.p99 < < 200\"\nscenarios:\n  - flow: [ {think: 1} ]\n"
    ));
}

#[test]
fn unknown_builtin_variable() {
    assert_snapshot!(error(&with_flow("      - get: { url: \"/u/{{ $uuidd }}\" }\n")));
}

#[test]
fn bad_template_function_call() {
    assert_snapshot!(error(&with_flow("      - get: { url: \"/n/{{ $randomNumber(5, 1) }}\" }\n")));
}

#[test]
fn capture_into_a_builtin_name() {
    assert_snapshot!(error(&with_flow(
        "      - get:\n          url: /x\n          capture: { json: $.id, as: $uuid }\n"
    )));
}

#[test]
fn source_address_that_is_not_an_ip() {
    assert_snapshot!(error(
        "config:\n  target: http://localhost:8080\n  http:\n    sourceAddresses: [127.0.0.2, localhost]\nscenarios:\n  - flow:\n      - get: { url: / }\n"
    ));
}

#[test]
fn connect_url_with_a_character_a_uri_cannot_hold() {
    assert_snapshot!(error(&with_flow("      - connect: \"ws://localhost:8080/chat room\"\n")));
}

#[test]
fn relative_connect_url_that_is_not_a_url_once_joined_to_the_target() {
    assert_snapshot!(error(&with_flow("      - connect: { target: \"/chat room\" }\n")));
}

#[test]
fn an_alias_bomb_is_bounded_by_the_bytes_it_expands_to() {
    // One 1 MiB string copied by 100 aliases: 101 nodes, but 101 MiB of text.
    let mut src = format!(
        "config:\n  target: http://localhost:8080\n  variables:\n    a: &a \"{}\"\n    b: [",
        "x".repeat(1 << 20)
    );
    src.push_str(&vec!["*a"; 100].join(", "));
    src.push_str("]\nscenarios:\n  - flow:\n      - get: { url: / }\n");
    let started = std::time::Instant::now();
    let err = error(&src);
    assert!(err.contains("the document expands to more than 64 MiB of text"), "{err}");
    assert!(err.contains("load.yaml:5:"), "{err}");
    assert!(err.contains("aliases (`*name`) copy their anchor's whole value"), "{err}");
    assert!(started.elapsed() < std::time::Duration::from_secs(30), "refused without expanding it all");
}

#[test]
fn a_script_too_large_without_aliases_names_the_real_limit() {
    let mut src = String::from("config:\n  target: http://localhost:8080\n  variables:\n    many: [");
    src.push_str(&vec!["1"; 250_001].join(","));
    src.push_str("]\nscenarios:\n  - flow:\n      - get: { url: / }\n");
    let err = error(&src);
    assert!(err.contains("the document expands to more than 250000 YAML values"), "{err}");
    assert!(err.contains("hornet reads scripts up to that size"), "{err}");
    assert!(!err.contains("alias"), "no alias to blame: {err}");
}

#[test]
fn expected_status_that_is_not_a_status_or_range() {
    for entry in ["20x", "399-200", "600", "200-"] {
        let e = error(&format!(
            "config:\n  target: http://localhost:8080\n  http:\n    expectedStatus: [200, {entry}]\nscenarios:\n  - flow:\n      - get: {{ url: / }}\n"
        ));
        assert!(e.contains(&format!("`{entry}` is not an HTTP status or range of statuses")), "{e}");
        assert!(e.contains("load.yaml:4:27"), "{e}");
        assert!(e.contains("ranges (`200-399`)"), "{e}");
    }
}

#[test]
fn tracing_settings_out_of_range_or_unknown() {
    let script = |tracing: &str| {
        format!(
            "config:\n  target: http://localhost:8080\n  tracing:\n{tracing}scenarios:\n  - flow:\n      - get: {{ url: / }}\n"
        )
    };
    let e = error(&script("    sampleRate: 1.5\n"));
    assert!(e.contains("`sampleRate` must be between 0 and 1, found the number 1.5"), "{e}");
    assert!(e.contains("load.yaml:4:17"), "{e}");
    let e = error(&script("    propagate: b3\n"));
    assert!(e.contains("unknown trace propagation `b3`"), "{e}");
    assert!(e.contains("propagate: w3c"), "{e}");
    let e = error(&script("    sampleRatio: 0.5\n"));
    assert!(e.contains("sampleRatio"), "{e}");
    assert!(e.contains("sampleRate"), "{e}");
}

#[test]
fn a_test_id_with_spaces_is_refused() {
    let opts = LoadOptions { test_id: Some("my run".into()), ..LoadOptions::default() };
    let e = error_with(
        "config:\n  target: http://localhost:8080\nscenarios:\n  - flow:\n      - get: { url: / }\n",
        &opts,
    );
    assert!(e.contains("--testid `my run`: the test id contains ` `"), "{e}");
}

#[test]
fn max_capture_body_that_is_not_a_size_in_range() {
    for (value, says) in [
        ("16 parsecs", "`maxCaptureBody` `16 parsecs` is not a size"),
        ("0", "`maxCaptureBody` must be at least 1"),
        ("2GiB", "`maxCaptureBody` must be from 1 byte to 1073741824 bytes, found 2147483648"),
        ("[1]", "`maxCaptureBody`"),
    ] {
        let e = error(&format!(
            "config:\n  target: http://localhost:8080\n  http:\n    maxCaptureBody: {value}\nscenarios:\n  - flow:\n      - get: {{ url: / }}\n"
        ));
        assert!(e.contains(says), "{e}");
        assert!(e.contains("load.yaml:4:21"), "{e}");
    }
}

#[test]
fn open_telemetry_over_grpc_is_refused() {
    let e = error(
        "config:\n  target: http://localhost:8080\n  plugins:\n    publish-metrics:\n      - type: open-telemetry\n        metrics:\n          exporter: otlp-grpc\nscenarios:\n  - flow:\n      - get: { url: / }\n",
    );
    assert!(e.contains("the OTLP exporter `otlp-grpc` is not supported by hornet"), "{e}");
    assert!(e.contains("load.yaml:7:21"), "{e}");
    assert!(e.contains("otlp-proto"), "{e}");
}
