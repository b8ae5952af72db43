//! `Math.random` while a processor loads is seeded from `--seed` too: a module that seeds its own
//! generator from `Math.random` at load (as `@faker-js/faker`'s default instance does) makes the
//! same data with the same seed and other data with another, and each worker thread's copy of the
//! module starts from its own seed. Judged by the headers the recording target received.

mod common;

use common::{Case, run_ok, with_target};
use hornet_target::{RunningTarget, TargetOptions};

fn recording_target() -> RunningTarget {
    RunningTarget::start_recording(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 }, false)
        .expect("start recording target")
}

/// A data generator in the manner of faker: its own seeded generator, seeded from `Math.random`
/// when the module loads, shared by the thread's VUs.
const GENERATOR_JS: &str = r#"
let state = Math.ceil(Math.random() * 0x7fffffff);
function next() {
  state = (Math.imul(state, 1103515245) + 12345) >>> 0;
  return state;
}
const NAMES = ['ada', 'bo', 'cy', 'di', 'ed', 'flo', 'gus', 'hal'];
module.exports = {
  person(context, events, done) {
    context.vars.person = NAMES[next() % NAMES.length] + '-' + (next() % 1000);
    done();
  },
};
"#;

const SCRIPT: &str = r#"
config:
  target: "TARGET"
  processor: ./generator.js
  phases:
    - duration: 1
      arrivalCount: 4
scenarios:
  - flow:
      - function: person
      - get: { url: "/people", headers: { x-person: "{{ person }}" } }
"#;

#[test]
fn module_level_random_values_repeat_with_the_seed_and_differ_with_another() {
    let case = Case::new();
    case.script("generator.js", GENERATOR_JS);
    let people = |seed: &str, threads: &str| {
        let t = recording_target();
        let script = case.script("people.yaml", &with_target(SCRIPT, &t));
        run_ok(&case, &script, &["-q", "--seed", seed, "--threads", threads]);
        let log = t.requests().expect("recording");
        assert_eq!(log["routes"]["GET /people"]["count"], 4, "{log}");
        let mut values: Vec<String> = log["routes"]["GET /people"]["fields"]["header:x-person"]["values"]
            .as_array()
            .map(|v| v.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            .unwrap_or_default();
        values.sort();
        values
    };
    // One thread: its VUs take the generator's values in turn, the same turns in every run.
    let first = people("21", "1");
    assert_eq!(first.len(), 4, "four people made: {first:?}");
    assert_eq!(people("21", "1"), first, "the same seed makes the same people");
    assert_ne!(people("22", "1"), first, "another seed makes others");
}

#[test]
fn each_worker_thread_loads_the_module_with_its_own_seed() {
    let case = Case::new();
    case.script(
        "first.js",
        "const first = Math.random();\nmodule.exports = { f(context, events, done) { context.vars.first = String(first); done(); } };\n",
    );
    let t = recording_target();
    let script = case.script(
        "first.yaml",
        &with_target(
            "config:\n  target: \"TARGET\"\n  processor: ./first.js\n  phases:\n    - duration: 1\n      arrivalCount: 8\nscenarios:\n  - flow:\n      - function: f\n      - get: { url: \"/first\", headers: { x-first: \"{{ first }}\" } }\n",
            &t,
        ),
    );
    run_ok(&case, &script, &["-q", "--seed", "3", "--threads", "2"]);
    let log = t.requests().expect("recording");
    let values = log["routes"]["GET /first"]["fields"]["header:x-first"]["values"].as_array().cloned();
    // Both threads ran VUs (8 arrivals over 2 threads), each with its module's first draw.
    assert_eq!(values.map(|v| v.len()), Some(2), "{log}");
}
