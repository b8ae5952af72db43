//! The commands, and the run-and-report sequence they share.

pub mod cluster;
pub mod demo;
pub mod quick;
pub mod report;
pub mod run;
pub mod target;
pub mod ui;

use std::path::Path;
use std::sync::Arc;

use hornet_metrics::RunMeta;
use hornet_runner::{Control, RunOptions, StopReason};
use hornet_script::Plan;
use hornet_verdict::{Checks, LiveChecks};

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
    execute_with(plan, opts, quiet, output, outputs, abort_on_fail, None)
}

/// A run shown in the web UI: the hub it feeds, and the control a Start from the UI made.
pub struct UiRun<'a> {
    pub hub: &'a hornet_ui::Hub,
    pub control: Option<Control>,
}

/// [`execute`], also feeding the web UI when `ui` is given: the run's start, a snapshot per tick
/// (from the collector's `on_tick`), and its final report or the error that kept it from starting.
pub fn execute_with(
    plan: Plan,
    opts: RunOptions,
    quiet: bool,
    output: Option<&Path>,
    outputs: &OutputArgs,
    abort_on_fail: bool,
    ui: Option<UiRun<'_>>,
) -> i32 {
    let control = ui.as_ref().and_then(|u| u.control.clone()).unwrap_or_default();
    crate::signals::install(control.clone());
    if !quiet {
        eprintln!("hornet {}: seed {}", env!("CARGO_PKG_VERSION"), opts.seed);
    }
    let checks = Checks::from_plan(&plan);
    let hub = ui.map(|u| u.hub);
    if let Some(hub) = hub {
        let meta = RunMeta {
            script: plan.source.as_ref().map(|p| p.display().to_string()),
            target: plan.target.clone(),
            started_at: std::time::SystemTime::now(),
            duration: std::time::Duration::ZERO,
            seed: opts.seed,
            phases: hornet_runner::run::describe_phases(&plan.phases),
            interrupted: false,
            hornet_version: env!("CARGO_PKG_VERSION").to_string(),
            command: opts.command.clone(),
        };
        hub.run_started(&control, &plan, meta, &checks);
    }
    let mut live = Live::new(quiet, control.clone());
    live.describe(&plan, &opts);
    let stopper = control.clone();
    // Evaluated only when someone reads them: `--abort-on-fail` or the web UI.
    let mut live_checks =
        LiveChecks::new(if abort_on_fail || hub.is_some() { checks.clone() } else { Checks::default() });
    let outcome = cluster::run(Arc::new(plan), opts, control, &mut |t| {
        live_checks.tick(t.aggregate, t.live.elapsed);
        if abort_on_fail && let Some(which) = live_checks.abort_reason() {
            live.finish();
            eprintln!("hornet: stopping: {which} (--abort-on-fail)");
            stopper.stop(StopReason::ChecksFailed);
        }
        if let Some(hub) = hub {
            hub.on_tick(&t, &live_checks);
        }
        live.tick(t)
    });
    live.finish();
    let mut outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            if let Some(hub) = hub {
                hub.run_failed(&e.to_string());
            }
            return exit::USAGE;
        }
    };
    let verdicts = hornet_verdict::evaluate(&checks, &outcome.report);
    verdicts.apply_to(&mut outcome.report);
    if let Some(hub) = hub {
        hub.run_finished(&outcome.report);
    }
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
