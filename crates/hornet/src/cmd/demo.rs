//! `hornet demo`: the bundled demo script against the embedded target on a loopback port.

use hornet_runner::{RunOptions, Workload};
use hornet_script::{LoadOptions, Plan};
use hornet_target::{RunningTarget, TargetOptions};

use super::{ExecuteOptions, Executor, command_line, execute, exit, fresh_seed};
use crate::cli::DemoArgs;

/// The demo script, bundled into the binary.
pub const DEMO_SCRIPT: &str = include_str!("../../../../examples/demo.yaml");

pub fn demo(args: DemoArgs) -> i32 {
    if !super::report::check_outputs(Some(&args.output), &args.outputs) {
        return exit::USAGE;
    }
    let target = match RunningTarget::start(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 }) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: could not start the embedded target: {e}");
            return exit::FAILED;
        }
    };
    let opts = LoadOptions { target: Some(target.url()), ..LoadOptions::default() };
    let plan = match hornet_script::parse_str(DEMO_SCRIPT, "examples/demo.yaml", &opts) {
        Ok(p) => Plan { source: Some("examples/demo.yaml (bundled)".into()), ..p },
        Err(e) => {
            eprintln!("{e}");
            return exit::USAGE;
        }
    };
    if !args.quiet {
        eprintln!("demo: embedded target on {}, running examples/demo.yaml (about 20 s)", target.url());
    }
    let run = RunOptions {
        seed: args.seed.unwrap_or_else(fresh_seed),
        threads: 0,
        workload: Workload::Open,
        latency_from_intended: false,
        command: command_line(),
        log: !args.quiet,
    };
    let how = ExecuteOptions {
        quiet: args.quiet,
        dashboard: !args.no_dashboard,
        abort_on_fail: false,
        output: Some(&args.output),
        outputs: &args.outputs,
        ui: None,
        export: None,
    };
    let code = execute(plan, run, how, &mut Executor::Local);
    target.stop();
    code
}
