//! The commands, and the run-and-report sequence they share.

pub mod demo;
pub mod quick;
pub mod run;
pub mod target;

use std::path::Path;
use std::sync::Arc;

use hornet_runner::{Control, RunOptions};
use hornet_script::Plan;

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

/// Runs `plan`, shows live progress, prints the summary, writes the report; returns the exit code.
pub fn execute(plan: Plan, opts: RunOptions, quiet: bool, output: Option<&Path>) -> i32 {
    let control = Control::new();
    crate::signals::install(control.clone());
    if !quiet {
        eprintln!("hornet {}: seed {}", env!("CARGO_PKG_VERSION"), opts.seed);
    }
    let mut live = Live::new(quiet);
    let outcome = hornet_runner::run(Arc::new(plan), opts, control, &mut |t| live.tick(t));
    live.finish();
    let outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    println!("{}", hornet_output::summary(&outcome.report));
    let mut code = exit::OK;
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
