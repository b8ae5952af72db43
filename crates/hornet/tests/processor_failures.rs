//! What a failing processor does to a run, end to end against a recording `hornet target`: an
//! error a hook throws (sync, async, or through `next(err)`) fails its VU and lands in the report's
//! errors, under the `processor` kind, with the JavaScript message and the file:line it came from
//! (the JSON report; the printed errors table shows the kind and the message); and a processor that requires a module that
//! cannot work here is refused before anything is sent (exit 2), naming the module and its place.

mod common;

use common::{Case, counter, run_script, text, with_target};
use hornet_target::{RunningTarget, TargetOptions};
use serde_json::Value;

fn recording_target() -> RunningTarget {
    RunningTarget::start_recording(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 }, false)
        .expect("start recording target")
}

/// One failure per hook kind, each on its own line of `failing.js` (lines 3, 7 and 10).
const FAILING_JS: &str = "module.exports = {
  throwsInStep(context, events, done) {
    if (context.vars.$loopCount === 2) throw new Error('step failed on purpose');
    done();
  },
  async rejectsBeforeRequest(requestParams, context, events) {
    if (requestParams.url.endsWith('/reject')) throw new TypeError('before request rejected');
  },
  nextWithError(requestParams, response, context, events, next) {
    if (response.statusCode === 200) return next(new Error('after response said no'));
    next();
  },
};
";

/// Three scenarios, run one at a time with `--scenario-name`, each failing in its own way.
const FAILING_YAML: &str = r#"
config:
  target: "TARGET"
  processor: ./failing.js
  phases:
    - duration: 1
      arrivalCount: 3
scenarios:
  - name: step
    flow:
      - loop:
          - function: throwsInStep
          - get: { url: /step }
        count: 2
  - name: reject
    flow:
      - get: { url: /reject, beforeRequest: rejectsBeforeRequest }
  - name: next
    flow:
      - get: { url: /next, afterResponse: nextWithError }
"#;

fn errors_of(report: &Value) -> Vec<(String, String)> {
    report["errors"]
        .as_array()
        .map(|e| {
            e.iter()
                .map(|e| {
                    (
                        e["kind"].as_str().unwrap_or("").to_string(),
                        e["first_message"].as_str().unwrap_or("").to_string(),
                    )
                })
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn a_thrown_rejected_or_next_error_is_counted_with_its_message_and_place() {
    let t = recording_target();
    let case = Case::new();
    case.script("failing.js", FAILING_JS);
    let script = case.script("failing.yaml", &with_target(FAILING_YAML, &t));
    let mut reports = Vec::new();
    for name in ["step", "reject", "next"] {
        let (out, report) = run_script(&case, &script, &["--scenario-name", name]);
        let report = report.unwrap_or_else(|| panic!("{name}: no report: {}", text(&out)));
        assert_eq!(counter(&report, "vusers.failed"), 3, "{name}: {report}");
        assert_eq!(counter(&report, "errors.processor"), 3, "{name}: {report}");
        reports.push((name, report, text(&out)));
    }
    let log = t.requests().expect("recording");
    let count = |route: &str| log["routes"][route]["count"].as_u64().unwrap_or(0);
    // The step failed in the second iteration (after one request each); a rejected beforeRequest
    // sent nothing; next(err) came after the response.
    assert_eq!((count("GET /step"), count("GET /reject"), count("GET /next")), (3, 0, 3), "{log}");

    let expected = [
        ("step", "step failed on purpose", "failing.js:3"),
        ("reject", "before request rejected", "failing.js:7"),
        ("next", "after response said no", "failing.js:10"),
    ];
    for ((name, report, printed), (_, message, place)) in reports.iter().zip(expected) {
        let errors = errors_of(report);
        let processor: Vec<&(String, String)> = errors.iter().filter(|(k, _)| k == "processor").collect();
        assert_eq!(processor.len(), 1, "{name}: {errors:?}");
        let shown = &processor[0].1;
        assert!(shown.contains(message) && shown.contains(place), "{name}: {shown}");
        // The printed errors table shows it too (its place may be cut short there, after the
        // file's absolute path).
        let table = printed.split("Errors: ").nth(1).unwrap_or_else(|| panic!("{name}: {printed}"));
        assert!(table.contains("| processor |") && table.contains(message), "{name}: {printed}");
    }
}

#[test]
fn a_module_that_cannot_work_is_refused_before_anything_is_sent() {
    let t = recording_target();
    let case = Case::new();
    case.script(
        "helpers.js",
        "// shell out\nconst { execSync } = require('child_process');\nmodule.exports = {};\n",
    );
    case.script(
        "uses.js",
        "const helpers = require('./helpers');\nmodule.exports = { f(c, e, done) { done(); } };\n",
    );
    let script = case.script(
        "uses.yaml",
        &with_target(
            "config:\n  target: \"TARGET\"\n  processor: ./uses.js\n  phases:\n    - duration: 1\n      arrivalCount: 2\nscenarios:\n  - flow:\n      - function: f\n      - get: { url: /sent }\n",
            &t,
        ),
    );
    for extra in [&[][..], &["--local-workers", "2"][..]] {
        let (out, report) = run_script(&case, &script, extra);
        assert_eq!(out.status.code(), Some(2), "{extra:?}: {}", text(&out));
        assert!(report.is_none(), "{extra:?}");
        let shown = text(&out);
        assert!(shown.contains("helpers.js:2:"), "{extra:?}: {shown}");
        assert!(shown.contains("module 'child_process' cannot be used"), "{extra:?}: {shown}");
    }
    assert_eq!(t.requests().expect("recording")["total"], 0, "nothing was sent");
}
