//! What hornet accepts as Artillery does, with a warning: unknown keys that resemble no valid one,
//! variables nothing defines, shapes Artillery ignores. Each script here loads, its warnings say
//! where and what, and `--strict` (`LoadOptions::strict`) makes the first one an error.

use hornet_script::plan::{Body, Expect, RequestStep, Step};
use hornet_script::template::JsonTemplate;
use hornet_script::{LoadOptions, Plan, ScriptWarning, parse_str};
use serde_json::json;

fn load(src: &str) -> Plan {
    parse_str(src, "w.yaml", &LoadOptions::default()).unwrap_or_else(|e| panic!("unexpected error:\n{e}"))
}

fn strict(src: &str) -> String {
    match parse_str(src, "w.yaml", &LoadOptions { strict: true, ..LoadOptions::default() }) {
        Ok(_) => panic!("--strict accepted a script with warnings"),
        Err(e) => e.to_string(),
    }
}

/// Each warning as `line:column message`.
fn said(plan: &Plan) -> Vec<String> {
    plan.warnings.iter().map(|ScriptWarning(w)| format!("{}:{} {}", w.line, w.column, w.message)).collect()
}

fn request(plan: &Plan, scenario: usize, step: usize) -> &RequestStep {
    match &plan.scenarios[scenario].flow[step] {
        Step::Request(r) => r,
        other => panic!("not a request: {other:?}"),
    }
}

const FLOW: &str = "scenarios:\n  - flow:\n      - get:\n          url: /\n";

#[test]
fn unrelated_unknown_keys_are_ignored_with_a_warning_at_their_place() {
    let src = format!(
        "owner: team-a\nconfig:\n  target: http://h\n  statuscode: 200\n  host: localhost\n  output: report.json\n{FLOW}    description: the home page\n"
    );
    let plan = load(&src);
    assert_eq!(
        said(&plan),
        [
            "1:1 unknown key `owner` at the top level is ignored",
            "4:3 unknown key `statuscode` in `config` is ignored",
            "5:3 unknown key `host` in `config` is ignored",
            "6:3 unknown key `output` in `config` is ignored",
            "11:5 unknown key `description` in a scenario is ignored",
        ]
    );
    assert_eq!(plan.scenarios.len(), 1);
    assert!(plan.warnings[0].to_string().starts_with("warning: unknown key `owner`"));
    let e = strict(&src);
    assert!(e.starts_with("error: unknown key `owner` at the top level is ignored\n  --> w.yaml:1:1"), "{e}");
    assert!(e.contains("an error because of --strict"), "{e}");
}

#[test]
fn keys_that_belong_elsewhere_are_ignored_where_they_are_with_a_hint() {
    let src =
        format!("config:\n  target: http://h\nvariables:\n  id: 7\npayload:\n  path: ./data.csv\n{FLOW}");
    let plan = load(&src);
    assert_eq!(
        said(&plan),
        [
            "3:1 unknown key `variables` at the top level is ignored",
            "5:1 unknown key `payload` at the top level is ignored",
        ]
    );
    assert!(plan.variables.is_empty() && plan.payloads.is_empty());
    let help = plan.warnings[0].0.help.as_deref().unwrap_or_default();
    assert!(help.starts_with("`variables` belongs under `config`"), "{help}");
}

#[test]
fn a_near_typo_of_a_valid_key_stays_an_error_with_did_you_mean() {
    let phase =
        "config:\n  target: http://h\n  phases:\n    - duration: 1\n      arivalRate: 2\nscenarios: []\n";
    let e = parse_str(phase, "w.yaml", &LoadOptions::default()).unwrap_err();
    assert_eq!((e.line, e.column), (5, 7));
    assert_eq!(e.message, "unknown key `arivalRate` in a phase");
    assert_eq!(e.help.as_deref(), Some("did you mean `arrivalRate`?"));
    let capture = "config:\n  target: http://h\nscenarios:\n  - flow:\n      - get:\n          url: /\n          captur: { json: $.id, as: id }\n";
    let e = parse_str(capture, "w.yaml", &LoadOptions::default()).unwrap_err();
    assert_eq!((e.line, e.column, e.help.as_deref()), (7, 11, Some("did you mean `capture`?")));
    let case = "config:\n  target: http://h\n  Phases: []\nscenarios: []\n";
    let e = parse_str(case, "w.yaml", &LoadOptions::default()).unwrap_err();
    assert_eq!(e.help.as_deref(), Some("did you mean `phases`?"));
}

#[test]
fn ensure_given_as_a_list_checks_nothing_and_says_so() {
    let plan = load(&format!("config:\n  target: http://h\n  ensure:\n    - statusCode: 200\n{FLOW}"));
    assert_eq!(
        said(&plan),
        ["4:7 `ensure` given as a list checks nothing: Artillery ignores it, and so does hornet"]
    );
    assert!(plan.ensure.thresholds.is_empty() && plan.ensure.conditions.is_empty());
    assert_eq!(plan.ensure.max_error_rate, None);
}

#[test]
fn an_undefined_variable_is_named_at_each_use_and_renders_as_undefined() {
    let src = "config:\n  target: http://h\nscenarios:\n  - flow:\n      - post:\n          url: /orders/{{ product }}\n          json:\n            body: 'Order {{ product }} received'\n";
    let plan = load(src);
    assert_eq!(
        said(&plan),
        [
            "6:27 variable `product` in `url` is not defined anywhere: it renders as `undefined`, as in Artillery",
            "8:29 variable `product` in `json` is not defined anywhere: it renders as `undefined`, as in Artillery",
        ]
    );
    let post = request(&plan, 0, 0);
    assert_eq!(post.url.as_constant(), Some("/orders/undefined"));
    let Some(Body::Json(body)) = &post.body else { panic!("not a JSON body: {:?}", post.body) };
    let mut out = String::new();
    body.render_into(&Vec::new(), &mut out);
    assert_eq!(
        serde_json::from_str::<serde_json::Value>(&out).unwrap(),
        json!({"body": "Order undefined received"})
    );
    assert!(matches!(body, JsonTemplate::Object(_)));
}

#[test]
fn a_near_typo_of_a_defined_variable_stays_an_error() {
    let src = "config:\n  target: http://h\n  variables:\n    userId: 1\nscenarios:\n  - flow:\n      - get:\n          url: /u/{{ usrId }}\n";
    let e = parse_str(src, "w.yaml", &LoadOptions::default()).unwrap_err();
    assert_eq!(e.message, "unknown variable `usrId` in `url`");
    assert_eq!(e.help.as_deref(), Some("did you mean `userId`?"));
}

#[test]
fn the_target_may_read_the_environment() {
    let plan = load(&format!(
        "config:\n  target: \"http://{{{{ $processEnvironment.CARGO_PKG_NAME }}}}.test:8080\"\n{FLOW}"
    ));
    assert_eq!(plan.target.as_deref(), Some(concat!("http://", env!("CARGO_PKG_NAME"), ".test:8080")));
    assert!(plan.warnings.is_empty());
}

#[test]
fn a_clean_script_has_no_warnings_and_strict_accepts_it() {
    let src = format!("config:\n  target: http://h\n{FLOW}");
    assert!(load(&src).warnings.is_empty());
    assert!(parse_str(&src, "w.yaml", &LoadOptions { strict: true, ..LoadOptions::default() }).is_ok());
}

#[test]
fn a_step_with_think_and_loop_runs_the_loop_as_artillery_does() {
    let src = "config:\n  target: http://h\nscenarios:\n  - flow:\n      - think: 1\n        loop:\n          - get: { url: / }\n        count: 3\n";
    let plan = load(src);
    assert_eq!(
        said(&plan),
        ["5:9 `think` is ignored: this step also has `loop`, which is the one Artillery runs"]
    );
    match &plan.scenarios[0].flow[..] {
        [Step::Loop { steps, .. }] => assert_eq!(steps.len(), 1),
        other => panic!("expected one loop step, got {other:?}"),
    }
    let two_requests = "config:\n  target: http://h\nscenarios:\n  - flow:\n      - get: { url: / }\n        post: { url: / }\n";
    let e = parse_str(two_requests, "w.yaml", &LoadOptions::default()).unwrap_err();
    assert_eq!(e.message, "a step has one action, but this one has `get` and `post`");
}

#[test]
fn a_placeholder_artillery_cannot_read_is_sent_as_written_with_a_warning() {
    let src = "config:\n  target: http://h\nscenarios:\n  - flow:\n      - get:\n          url: \"/s?d={{ $moment().format('L') }}\"\n";
    let plan = load(src);
    assert_eq!(
        said(&plan),
        [
            "6:22 `{{ $moment().format('L') }}` in `url` is sent as written, as Artillery sends it: it is neither a variable nor a function call"
        ]
    );
    assert_eq!(request(&plan, 0, 0).url.as_constant(), Some("/s?d={{ $moment().format('L') }}"));
}

#[test]
fn expect_takes_templated_status_codes_and_tolerates_a_single_equals() {
    let src = "config:\n  target: http://h\nscenarios:\n  - flow:\n      - loop:\n          - get:\n              url: /\n              expect:\n                - statusCode: \"{{ $loopElement.code }}\"\n                - notStatusCode: [\"500\", 502]\n                - equals: [\"new-user\"]\n        over: [{ code: 200 }]\n";
    let plan = load(src);
    assert_eq!(
        said(&plan),
        ["11:27 `equals` with a single value checks nothing: Artillery passes it, and so does hornet"]
    );
    let Step::Loop { steps, .. } = &plan.scenarios[0].flow[0] else { panic!("not a loop") };
    let Step::Request(get) = &steps[0] else { panic!("not a request") };
    match get.expects.as_slice() {
        [Expect::StatusCodeRendered(codes), Expect::NotStatusCode(not)] => {
            assert_eq!(codes.len(), 1);
            assert_eq!(codes[0].source(), "{{ $loopElement.code }}");
            assert_eq!(not, &[500, 502]);
        }
        other => panic!("unexpected expectations {other:?}"),
    }
}

#[test]
fn while_true_that_names_no_function_is_ignored_when_count_bounds_the_loop() {
    let src = "config:\n  target: http://h\nscenarios:\n  - flow:\n      - loop:\n          - get: { url: / }\n        count: 3\n        whileTrue: \"response.statusCode < 429\"\n";
    let plan = load(src);
    assert_eq!(plan.warnings.len(), 1, "{:?}", said(&plan));
    assert!(said(&plan)[0].starts_with("8:20 `whileTrue` names no processor function"), "{:?}", said(&plan));
    assert!(matches!(
        &plan.scenarios[0].flow[0],
        Step::Loop { over: hornet_script::plan::LoopOver::Count(3), .. }
    ));
    assert!(strict(src).contains("`whileTrue` names no processor function"));
}

#[test]
fn publish_metrics_prefix_is_ignored_with_a_warning() {
    let src = format!(
        "config:\n  target: http://h\n  plugins:\n    publish-metrics:\n      - type: prometheus\n        pushgateway: http://127.0.0.1:9091\n        prefix: artillery\n{FLOW}"
    );
    let plan = load(&src);
    assert_eq!(said(&plan), ["7:9 `prefix` is ignored: hornet's series are named `hornet_*`"]);
    assert_eq!(plan.publish_metrics.len(), 1);
}
