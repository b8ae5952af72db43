//! A VU's variables between YAML and processor JavaScript, end to end: an object a function sets
//! (and later changes in place) rendered by a template, a capture made after a hook visible to the
//! next function, a variable JavaScript deletes gone from templates; and `Math.random` seeded per
//! VU from `--seed`, so a run with code repeats like one without. Judged by what the embedded
//! target received, reported back through custom metrics.

mod common;

use common::{Case, counter, run_ok, target, with_target};
use serde_json::Value;

const VARS_JS: &str = r#"
module.exports = {
  makeOrder(context, events, done) {
    context.vars.order = { qty: 2, tags: ['a'] };
    context.vars.doomed = 'still-here';
    done();
  },
  growOrder(context, events, done) {
    context.vars.order.qty += 1;
    context.vars.order.tags.push('b');
    delete context.vars.doomed;
    done();
  },
  // afterResponse: what the server received, as the echo reports it.
  received(requestParams, response, context, events, next) {
    const echoed = JSON.parse(response.body);
    const query = require('querystring').parse(echoed.query || '');
    const step = echoed.path.split('/').pop();
    events.emit('counter', step + '.qty.' + query.qty, 1);
    events.emit('counter', step + '.doomed.' + (query.doomed || 'empty'), 1);
    next();
  },
  useCapture(context, events, done) {
    events.emit('counter', 'captured.' + context.vars.echoedPath, 1);
    done();
  },
};
"#;

const VARS_YAML: &str = r#"
config:
  target: "TARGET"
  processor: ./vars.js
  phases:
    - duration: 1
      arrivalCount: 2
scenarios:
  - afterResponse: received
    flow:
      - function: makeOrder
      - get:
          url: "/echo/first?qty={{ order.qty }}&doomed={{ doomed }}"
      - function: growOrder
      - get:
          url: "/echo/second?qty={{ order.qty }}&doomed={{ doomed }}"
          capture:
            - json: "$.path"
              as: echoedPath
      - function: useCapture
"#;

#[test]
fn variables_set_mutated_deleted_and_captured_cross_between_yaml_and_javascript() {
    let t = target();
    let case = Case::new();
    case.script("vars.js", VARS_JS);
    let script = case.script("vars.yaml", &with_target(VARS_YAML, &t));
    let report = run_ok(&case, &script, &["-q"]);
    assert_eq!(counter(&report, "vusers.completed"), 2, "{report}");
    assert_eq!(counter(&report, "first.qty.2"), 2, "{report}");
    assert_eq!(counter(&report, "first.doomed.still-here"), 2, "{report}");
    // The object changed in place is what the later template renders; the deleted variable is gone.
    assert_eq!(counter(&report, "second.qty.3"), 2, "{report}");
    assert_eq!(counter(&report, "second.doomed.still-here"), 0, "{report}");
    // A capture made after the hooks ran is visible to the next function.
    assert_eq!(counter(&report, "captured./echo/second"), 2, "{report}");
}

const RANDOM_JS: &str = r#"
module.exports = {
  draw(context, events, done) {
    context.vars.n = Math.floor(Math.random() * 1e9);
    done();
  },
  received(requestParams, response, context, events, next) {
    events.emit('counter', 'drawn.' + JSON.parse(response.body).query, 1);
    next();
  },
};
"#;

const RANDOM_YAML: &str = r#"
config:
  target: "TARGET"
  processor: ./random.js
  phases:
    - duration: 1
      arrivalCount: 4
scenarios:
  - flow:
      - function: draw
      - get:
          url: "/echo?n={{ n }}"
          afterResponse: received
"#;

/// The counter names the run's draws made (one per VU), sorted.
fn draws(report: &Value) -> Vec<String> {
    let counters = report["aggregate"]["counters"].as_object().cloned().unwrap_or_default();
    let mut names: Vec<String> = counters.keys().filter(|k| k.starts_with("drawn.")).cloned().collect();
    names.sort();
    names
}

#[test]
fn math_random_repeats_with_the_seed_and_differs_per_vu_and_per_seed() {
    let t = target();
    let case = Case::new();
    case.script("random.js", RANDOM_JS);
    let script = case.script("random.yaml", &with_target(RANDOM_YAML, &t));
    let first = draws(&run_ok(&case, &script, &["-q", "--seed", "11"]));
    let again = draws(&run_ok(&case, &script, &["-q", "--seed", "11"]));
    let other = draws(&run_ok(&case, &script, &["-q", "--seed", "12"]));
    assert_eq!(first.len(), 4, "each VU drew its own number: {first:?}");
    assert_eq!(first, again, "the same seed draws the same numbers");
    assert_ne!(first, other, "another seed draws others");
}
