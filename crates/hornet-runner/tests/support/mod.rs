//! Set-up shared by the runner's integration tests: a target on loopback, a plan from YAML aimed
//! at it, the run options, and "run this YAML and give me the report" in this process.

#![allow(dead_code)] // Each test file uses its own subset.

use std::sync::Arc;

use hornet_metrics::Report;
use hornet_runner::{Control, Run, RunHandle, RunOptions, RunOutcome, Workload};
use hornet_script::{LoadOptions, Plan};
use hornet_target::{RunningTarget, TargetOptions};

/// The test target, on an ephemeral loopback port.
pub fn target() -> RunningTarget {
    RunningTarget::start(TargetOptions::default()).expect("the test target starts")
}

/// The plan of the script `yaml`, aimed at `target`.
pub fn plan(target: &RunningTarget, yaml: &str) -> Arc<Plan> {
    let opts = LoadOptions { target: Some(target.url()), ..Default::default() };
    Arc::new(hornet_script::parse_str(yaml, "test.yaml", &opts).expect("a valid script"))
}

/// The options of every test run: a fixed seed, two worker threads, the open model.
pub fn options() -> RunOptions {
    RunOptions {
        seed: 1,
        threads: 2,
        workload: Workload::Open,
        latency_from_intended: false,
        command: "test".into(),
        log: false,
    }
}

/// Starts the script `yaml` against `target` on this machine.
pub fn start(target: &RunningTarget, yaml: &str) -> RunHandle<'static> {
    Run::new(plan(target, yaml), options()).start().expect("the run starts")
}

/// Runs the script `yaml` against `target` to its end; returns the report.
pub fn run_yaml(target: &RunningTarget, yaml: &str) -> Report {
    let outcome = start(target, yaml).wait(&mut |_| {});
    assert_eq!(outcome.stopped, None, "nothing stopped the run");
    outcome.report
}

/// Runs the script `yaml` against `target` to its end, calling `steer` with the run's control at
/// the first tick (about a second in); returns the outcome and the control.
pub fn run_steered(
    target: &RunningTarget,
    yaml: &str,
    steer: impl FnOnce(&Control),
) -> (RunOutcome, Control) {
    let run = start(target, yaml);
    let control = run.control().clone();
    let mut steer = Some(steer);
    let outcome = run.wait(&mut |_| {
        if let Some(steer) = steer.take() {
            steer(&control);
        }
    });
    (outcome, control)
}
