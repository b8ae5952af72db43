//! The commands, and the run-and-report sequence they share.

pub mod demo;
pub mod quick;
pub mod report;
pub mod run;
pub mod target;

use std::path::Path;
use std::sync::Arc;

use hornet_metrics::RunMeta;
use hornet_runner::{Control, RunOptions, StopReason};
use hornet_script::Plan;
use hornet_verdict::Checks;

use crate::cli::OutputArgs;
use crate::live::Live;

/// Exit codes (docs/cli.md).
pub mod exit {
    pub const OK: i32 = 0;
    /// A check failed, or the report could not be written.
    pub const FAILED: i32 = 1;
    /// Bad script or usage; nothing was sent.
    pub const USAGE: i32 = 2;
}

/// A seed from the clock, when the user gave none.
pub fn fresh_seed() -> u64 {
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_nanos() as u64)
        .unwrap_or(0);
    hornet_runner::draw(nanos, u64::from(std::process::id()))
}

/// The command line as typed, for the report.
pub fn command_line() -> String {
    std::env::args().collect::<Vec<_>>().join(" ")
}

/// Runs `plan`, shows live progress, prints the summary with the checks' verdicts, writes the
/// report; returns the exit code.
pub fn execute(
    plan: Plan,
    opts: RunOptions,
    quiet: bool,
    output: Option<&Path>,
    outputs: &OutputArgs,
    abort_on_fail: bool,
) -> i32 {
    let control = Control::new();
    crate::signals::install(control.clone());
    if !quiet {
        eprintln!("hornet {}: seed {}", env!("CARGO_PKG_VERSION"), opts.seed);
    }
    let checks = Checks::from_plan(&plan);
    let watch_checks = abort_on_fail && !checks.is_empty();
    let mut live = Live::new(quiet, control.clone());
    live.describe(&plan, &opts);
    let stopper = control.clone();
    let outcome = hornet_runner::run(Arc::new(plan), opts, control, &mut |t| {
        if watch_checks {
            let report = t.aggregate.report(placeholder_meta(t.live.elapsed));
            if let Some(which) = hornet_verdict::should_abort(&checks, &report, t.live.elapsed) {
                live.finish();
                eprintln!("hornet: stopping: {which} (--abort-on-fail)");
                stopper.stop(StopReason::ChecksFailed);
            }
        }
        live.tick(t)
    });
    live.finish();
    let mut outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let verdicts = hornet_verdict::evaluate(&checks, &outcome.report);
    verdicts.apply_to(&mut outcome.report);
    println!("{}", hornet_output::summary(&outcome.report));
    let mut code = if verdicts.failed() { exit::FAILED } else { exit::OK };
    if !report::write_outputs(&outcome.report, outputs) {
        code = exit::FAILED;
    }
    if let Some(path) = output {
        match hornet_output::write_json(&outcome.report, path) {
            Ok(()) => eprintln!("report written to {}", path.display()),
            Err(e) => {
                eprintln!("error: could not write the report to {}: {e}", path.display());
                code = exit::FAILED;
            }
        }
    }
    match outcome.stopped {
        Some(reason) => reason.exit_code(),
        None => code,
    }
}

/// Metadata for a report built mid-run only to evaluate checks.
fn placeholder_meta(elapsed: std::time::Duration) -> RunMeta {
    RunMeta {
        script: None,
        target: None,
        started_at: std::time::SystemTime::now(),
        duration: elapsed,
        seed: 0,
        phases: serde_json::Value::Null,
        interrupted: false,
        hornet_version: String::new(),
        command: String::new(),
    }
}
