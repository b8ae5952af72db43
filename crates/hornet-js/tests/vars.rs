//! `context.vars` across calls: one object for the VU's life, in step with the VU's variables on
//! the Rust side both ways (what JavaScript assigns, deletes, mutates in place or replaces; what
//! a capture sets or a loop removes between two calls).

use std::collections::HashMap;
use std::path::Path;

use hornet_js::{ChangeLog, Processor, ProcessorOptions, VuVars};
use serde_json::{Value, json};

const VARS_JS: &str = r#"
let kept = null;
module.exports = {
  setObject(context, events, done) {
    context.vars.order = { qty: 1, lines: ['a'] };
    kept = context.vars.order;
    done();
  },
  mutateInPlace(context, events, done) {
    // The same object as the last call left: a VU's variables are not copied between calls.
    context.vars.sameObject = kept === context.vars.order;
    context.vars.order.qty += 1;
    context.vars.order.lines.push('b');
    done();
  },
  remove(context, events, done) {
    delete context.vars.doomed;
    done();
  },
  echo(context, events, done) {
    context.vars.seen = Object.keys(context.vars).sort().join(',');
    context.vars.capturedTwice = context.vars.captured + context.vars.captured;
    done();
  },
  storeFunction(context, events, done) {
    context.vars.helper = () => 42;
    context.vars.when = new Date(0);
    done();
  },
  useFunction(context, events, done) {
    context.vars.helped = typeof context.vars.helper === 'function' ? context.vars.helper() : 'lost';
    done();
  },
  replace(context, events, done) {
    context.vars = { fresh: true, id: context.vars.id };
    done();
  },
  readEnv(context, events, done) {
    context.vars.hasEnv = typeof context.vars.$env === 'object';
    done();
  },
  assignMany(context, events, done) {
    Object.assign(context.vars, { a: 1, b: { c: 2 } });
    Object.defineProperty(context.vars, 'd', { value: 'x', enumerable: true, writable: true, configurable: true });
    done();
  },
  setUndefined(context, events, done) {
    context.vars.id = undefined;
    done();
  },
  keepContext(context, events, done) {
    setTimeout(() => { context.vars.late = 'from a timer'; }, 5);
    done();
  },
  nothing(context, events, done) {
    done();
  },
  async wait(context) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  },
};
"#;

fn load(dir: &Path) -> Processor {
    std::fs::write(dir.join("vars.js"), VARS_JS).unwrap();
    Processor::load(&dir.join("vars.js"), ProcessorOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

fn vars(pairs: &[(&str, Value)]) -> HashMap<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

#[tokio::test]
async fn an_object_set_by_javascript_is_kept_and_its_in_place_changes_come_back() {
    let dir = tempfile::tempdir().unwrap();
    let processor = load(dir.path());
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[("id", json!(1))]);
    processor.call_step(&vu, "setObject", &mut v).await.unwrap();
    assert_eq!(v["order"], json!({ "qty": 1, "lines": ["a"] }), "a template sees the object");
    processor.call_step(&vu, "mutateInPlace", &mut v).await.unwrap();
    assert_eq!(v["sameObject"], json!(true));
    assert_eq!(v["order"], json!({ "qty": 2, "lines": ["a", "b"] }), "{v:?}");
    assert_eq!(v["id"], json!(1));
}

#[tokio::test]
async fn deletions_and_changes_cross_both_ways_between_calls() {
    let dir = tempfile::tempdir().unwrap();
    let processor = load(dir.path());
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[("doomed", json!("x")), ("captured", json!("a"))]);
    processor.call_step(&vu, "remove", &mut v).await.unwrap();
    assert!(!v.contains_key("doomed"), "a variable JavaScript deleted is gone: {v:?}");

    // Between calls the runner captures a new value and ends a loop (removing its variable).
    v.insert("captured".into(), json!("b"));
    v.insert("$loopCount".into(), json!(3));
    processor.call_step(&vu, "echo", &mut v).await.unwrap();
    assert_eq!(v["capturedTwice"], json!("bb"), "a capture after a call is visible to the next");
    assert_eq!(v["seen"], json!("$loopCount,captured"));
    v.remove("$loopCount");
    v.insert("doomed".into(), json!({ "back": [1] }));
    processor.call_step(&vu, "echo", &mut v).await.unwrap();
    assert_eq!(v["seen"], json!("captured,capturedTwice,doomed,seen"), "{v:?}");

    processor.call_step(&vu, "assignMany", &mut v).await.unwrap();
    assert_eq!((&v["a"], &v["b"], &v["d"]), (&json!(1), &json!({ "c": 2 }), &json!("x")), "{v:?}");

    // A variable set to undefined is no variable.
    v.insert("id".into(), json!(5));
    processor.call_step(&vu, "setUndefined", &mut v).await.unwrap();
    assert!(!v.contains_key("id"), "{v:?}");
}

#[tokio::test]
async fn values_json_cannot_hold_stay_in_javascript_and_templates_see_their_json_form() {
    let dir = tempfile::tempdir().unwrap();
    let processor = load(dir.path());
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[]);
    processor.call_step(&vu, "storeFunction", &mut v).await.unwrap();
    assert!(!v.contains_key("helper"), "a function is no template variable: {v:?}");
    assert_eq!(v["when"], json!("1970-01-01T00:00:00.000Z"));
    processor.call_step(&vu, "useFunction", &mut v).await.unwrap();
    assert_eq!(v["helped"], json!(42), "the function is still there for the next call");
}

#[tokio::test]
async fn replacing_context_vars_replaces_the_variables_and_keeps_the_environment() {
    let dir = tempfile::tempdir().unwrap();
    let processor = load(dir.path());
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[("id", json!(9)), ("other", json!("gone"))]);
    processor.call_step(&vu, "replace", &mut v).await.unwrap();
    assert_eq!(v, vars(&[("fresh", json!(true)), ("id", json!(9))]));
    v.insert("captured".into(), json!("c"));
    processor.call_step(&vu, "readEnv", &mut v).await.unwrap();
    assert_eq!(v["hasEnv"], json!(true));
    processor.call_step(&vu, "echo", &mut v).await.unwrap();
    assert_eq!(v["capturedTwice"], json!("cc"), "the new object receives later captures");
}

#[tokio::test]
async fn each_vu_keeps_its_own_variables() {
    let dir = tempfile::tempdir().unwrap();
    let processor = load(dir.path());
    let a = processor.new_vu("a", None, 1).unwrap();
    let b = processor.new_vu("b", None, 2).unwrap();
    let mut va = vars(&[("captured", json!("a"))]);
    let mut vb = vars(&[("captured", json!("b"))]);
    processor.call_step(&a, "setObject", &mut va).await.unwrap();
    processor.call_step(&b, "echo", &mut vb).await.unwrap();
    processor.call_step(&a, "echo", &mut va).await.unwrap();
    assert_eq!(vb["seen"], json!("captured"));
    assert_eq!(va["seen"], json!("captured,order"));
}

/// The variables with the log of what the test changed since the last call.
fn logged<'a>(map: &'a mut HashMap<String, Value>, log: &'a mut ChangeLog) -> VuVars<'a> {
    VuVars { map, changed: Some(log) }
}

#[tokio::test]
async fn a_change_log_brings_over_what_it_names_and_a_new_log_compares_everything() {
    let dir = tempfile::tempdir().unwrap();
    let processor = load(dir.path());
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[("captured", json!("a")), ("doomed", json!(1))]);
    let mut log = ChangeLog::default();
    // The first call with a log compares every variable: the log may not hold what came before.
    processor.call_step(&vu, "echo", logged(&mut v, &mut log)).await.unwrap();
    assert_eq!(v["seen"], json!("captured,doomed"));
    assert!(log.names().is_empty(), "a call empties the log");

    // Changes the log names come over, set and removed.
    v.insert("captured".into(), json!("b"));
    log.note("captured");
    v.remove("doomed");
    log.note("doomed");
    log.note("captured");
    assert_eq!(log.names(), ["captured", "doomed"], "each name once");
    processor.call_step(&vu, "echo", logged(&mut v, &mut log)).await.unwrap();
    assert_eq!(v["capturedTwice"], json!("bb"));
    assert_eq!(v["seen"], json!("captured,capturedTwice,seen"));

    // A change the log does not name stays on the Rust side; a new log, which may have missed
    // changes, brings everything over.
    v.insert("unlogged".into(), json!(1));
    processor.call_step(&vu, "echo", logged(&mut v, &mut log)).await.unwrap();
    assert_eq!(v["seen"], json!("captured,capturedTwice,seen"), "only what the log names is looked at");
    let mut fresh = ChangeLog::default();
    processor.call_step(&vu, "echo", logged(&mut v, &mut fresh)).await.unwrap();
    assert_eq!(v["seen"], json!("captured,capturedTwice,seen,unlogged"));
}

#[tokio::test]
async fn a_kept_context_written_after_its_call_settled_is_read_back_by_a_later_call() {
    let dir = tempfile::tempdir().unwrap();
    let processor = load(dir.path());
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[("id", json!(1))]);
    let mut log = ChangeLog::default();
    processor.call_step(&vu, "keepContext", logged(&mut v, &mut log)).await.unwrap();
    // A call that changes nothing, on either side, changes nothing.
    processor.call_step(&vu, "nothing", logged(&mut v, &mut log)).await.unwrap();
    assert_eq!(v, vars(&[("id", json!(1))]));
    // The timer fires while a later call waits; what it wrote comes back with that call.
    processor.call_step(&vu, "wait", logged(&mut v, &mut log)).await.unwrap();
    assert_eq!(v["late"], json!("from a timer"));
    v.insert("id".into(), json!(2));
    log.note("id");
    processor.call_step(&vu, "echo", logged(&mut v, &mut log)).await.unwrap();
    assert_eq!(v["seen"], json!("id,late"));
}
