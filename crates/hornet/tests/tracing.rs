//! The run's test id and trace context end to end: `--testid`, `config.tracing` / `--trace` (the
//! `traceparent` and `baggage` headers the target receives), and the slowest requests the report
//! keeps with their trace ids.

mod common;

use common::*;
use hornet_target::{RunningTarget, TargetOptions};

fn recording_target() -> RunningTarget {
    RunningTarget::start_recording(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 }, false)
        .expect("start target")
}

#[test]
fn testid_is_the_runs_test_id_in_templates_and_the_report() {
    let t = recording_target();
    let yaml = with_target(
        "config:\n  target: TARGET\n  phases: [{ duration: 1, arrivalCount: 2 }]\nscenarios:\n  - flow:\n      - get: { url: /json, headers: { x-run: \"{{ $testId }}\" } }\n",
        &t,
    );
    let report = run_yaml_ok(&yaml, &["-q", "--testid", "nightly-42"]);
    assert_eq!(report["run"]["test_id"], "nightly-42");
    let log = t.requests().expect("recording");
    assert_eq!(
        log["routes"]["GET /json"]["fields"]["header:x-run"]["values"],
        serde_json::json!(["nightly-42"])
    );

    // Without --testid: 16 hex digits drawn from the seed, the same for the same seed.
    let report = run_yaml_ok(&yaml, &["-q", "--seed", "5"]);
    let id = report["run"]["test_id"].as_str().expect("a test id").to_string();
    assert_eq!(id.len(), 16, "{id}");
    assert!(id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    assert_eq!(run_yaml_ok(&yaml, &["-q", "--seed", "5"])["run"]["test_id"], id.as_str());

    let case = Case::new();
    let script = case.script("test.yaml", &yaml);
    let (out, report) = run_script(&case, &script, &["-q", "--testid", "a/b"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(report.is_none(), "nothing ran");
    assert!(text(&out).contains("the test id contains `/`"), "{}", text(&out));
}
