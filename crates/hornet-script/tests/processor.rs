//! `config.processor` and the keys that name its functions: where they land in the plan, and the
//! errors about them (a missing file, a name the module does not export).

use std::path::Path;
use std::time::Duration;

use hornet_script::plan::{LoopOver, Plan, Step};
use hornet_script::{LoadOptions, load_file};

/// Writes `script` as `dir/load.yaml` and `funcs.js` beside it, and loads the script.
fn load_with_processor(dir: &Path, script: &str) -> Result<Plan, hornet_script::ScriptError> {
    std::fs::write(dir.join("funcs.js"), "module.exports = {};\n").unwrap();
    std::fs::write(dir.join("load.yaml"), script).unwrap();
    load_file(&dir.join("load.yaml"), &LoadOptions::default())
}

const HOOKED: &str = "\
config:
  target: http://127.0.0.1:9
  processor: ./funcs.js
  processorLimits: { timeout: 2s, memory: 32 }
scenarios:
  - name: signed
    beforeScenario: setUp
    afterScenario: [tearDown, report]
    beforeRequest: addTrace
    afterResponse: [countBytes]
    onError: logError
    flow:
      - function: makeBody
      - post:
          url: /items
          beforeRequest: [signRequest, addTrace]
          afterResponse: parseBody
      - loop:
          - get: { url: /next }
        whileTrue: moreToDo
        count: 3
";

#[test]
fn hooks_and_function_steps_land_in_the_plan() {
    let dir = tempfile::tempdir().unwrap();
    let plan = load_with_processor(dir.path(), HOOKED).unwrap();
    let spec = plan.processor.as_ref().expect("a processor");
    assert_eq!(spec.path, dir.path().join("funcs.js"));
    assert_eq!(spec.budget, Duration::from_secs(2));
    assert_eq!(spec.memory_limit, 32 << 20);
    let names: Vec<&str> = spec.uses.iter().map(|u| u.name.as_str()).collect();
    assert_eq!(
        names,
        [
            "setUp",
            "tearDown",
            "report",
            "addTrace",
            "countBytes",
            "logError",
            "makeBody",
            "signRequest",
            "parseBody",
            "moreToDo"
        ]
    );
    let s = &plan.scenarios[0];
    assert_eq!(s.hooks.before_scenario, ["setUp"]);
    assert_eq!(s.hooks.after_scenario, ["tearDown", "report"]);
    assert_eq!(s.hooks.before_request, ["addTrace"]);
    assert_eq!(s.hooks.after_response, ["countBytes"]);
    assert_eq!(s.hooks.on_error, ["logError"]);
    assert!(matches!(&s.flow[0], Step::Function(name) if name == "makeBody"));
    let Step::Request(post) = &s.flow[1] else { panic!("expected a request, got {:?}", s.flow[1]) };
    assert_eq!(post.hooks.before_request, ["signRequest", "addTrace"]);
    assert_eq!(post.hooks.after_response, ["parseBody"]);
    let Step::Loop { over, steps } = &s.flow[2] else { panic!("expected a loop") };
    assert_eq!(over, &LoopOver::While { function: "moreToDo".into(), max: Some(3) });
    assert_eq!(steps.len(), 1);
}

#[test]
fn defaults_and_the_top_level_processor_key() {
    let dir = tempfile::tempdir().unwrap();
    let script = "processor: funcs.js\nconfig:\n  target: http://127.0.0.1:9\nscenarios:\n  - flow:\n      - function: go\n";
    let plan = load_with_processor(dir.path(), script).unwrap();
    let spec = plan.processor.expect("a processor");
    assert_eq!(spec.path, dir.path().join("funcs.js"));
    assert_eq!(spec.budget, Duration::from_secs(5));
    assert_eq!(spec.memory_limit, 256 << 20);
}

#[test]
fn a_script_without_processor_has_none() {
    let dir = tempfile::tempdir().unwrap();
    let script = "config:\n  target: http://127.0.0.1:9\nscenarios:\n  - flow:\n      - get: { url: / }\n";
    assert!(load_with_processor(dir.path(), script).unwrap().processor.is_none());
}

#[test]
fn an_unexported_name_is_an_error_at_its_place_with_did_you_mean() {
    let dir = tempfile::tempdir().unwrap();
    let plan = load_with_processor(dir.path(), HOOKED).unwrap();
    let spec = plan.processor.unwrap();
    let mut exported: Vec<String> = spec.uses.iter().map(|u| u.name.clone()).collect();
    assert!(spec.check_exports(&exported).is_ok());

    exported.retain(|n| n != "signRequest");
    exported.push("signRequests".into());
    let err = spec.check_exports(&exported).unwrap_err();
    assert_eq!((err.line, err.column), (16, 27), "{err}");
    assert!(err.message.contains("exports no function named `signRequest`"), "{err}");
    assert_eq!(err.help.as_deref(), Some("did you mean `signRequests`?"));
    assert_eq!(err.underline, "signRequest".len());
    assert!(err.file.ends_with("load.yaml"), "{err}");

    let err = spec.check_exports(&[]).unwrap_err();
    assert!(err.message.contains("`setUp`"), "{err}");
    assert!(err.help.unwrap().contains("exports no function"));
}

#[test]
fn limits_without_a_processor_and_bad_names_are_errors() {
    let dir = tempfile::tempdir().unwrap();
    let no_processor = "config:\n  target: http://127.0.0.1:9\n  processorLimits: { timeout: 1 }\nscenarios:\n  - flow:\n      - get: { url: / }\n";
    let err = load_with_processor(dir.path(), no_processor).unwrap_err();
    assert_eq!((err.line, err.column), (3, 3), "{err}");
    assert!(err.message.contains("no `config.processor`"), "{err}");

    let bad_name = "config:\n  target: http://127.0.0.1:9\n  processor: funcs.js\nscenarios:\n  - flow:\n      - function: \"not a name\"\n";
    let err = load_with_processor(dir.path(), bad_name).unwrap_err();
    assert_eq!(err.line, 6, "{err}");
    assert!(err.message.contains("must name a processor function"), "{err}");

    let while_and_over = "config:\n  target: http://127.0.0.1:9\n  processor: funcs.js\nscenarios:\n  - flow:\n      - loop: [ { think: 1 } ]\n        whileTrue: more\n        over: [1, 2]\n";
    let err = load_with_processor(dir.path(), while_and_over).unwrap_err();
    assert!(err.message.contains("`whileTrue` or `over`"), "{err}");
}
