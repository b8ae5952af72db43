//! `hornet run` and `hornet validate`.

use hornet_runner::{RunOptions, Workload};
use hornet_script::LoadOptions;

use super::{command_line, execute, exit, fresh_seed};
use crate::cli::{RunArgs, ValidateArgs};

pub fn run(args: RunArgs) -> i32 {
    let opts = LoadOptions { target: args.target, insecure: args.load.insecure };
    let plan = match hornet_script::load_file(&args.script, &opts) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("{e}");
            return exit::USAGE;
        }
    };
    let run = RunOptions {
        seed: args.load.seed.unwrap_or_else(fresh_seed),
        threads: args.load.threads,
        workload: Workload::Open,
        latency_from_intended: false,
        command: command_line(),
    };
    execute(plan, run, args.load.quiet, args.load.output.as_deref())
}

pub fn validate(args: ValidateArgs) -> i32 {
    let opts = LoadOptions { target: args.target, insecure: false };
    match hornet_script::load_file(&args.script, &opts) {
        Ok(plan) => {
            if let Err(e) = hornet_runner::program::Program::compile(&plan) {
                let name = plan.endpoints.get(e.endpoint as usize).map(String::as_str).unwrap_or("?");
                eprintln!("error: request `{name}`: {}", e.message);
                return exit::USAGE;
            }
            let schedule = hornet_schedule::Schedule::new(&plan.phases);
            println!(
                "{}: ok — {} scenario(s), {} endpoint(s), {} phase(s), {} arrivals over {:.1} s",
                args.script.display(),
                plan.scenarios.len(),
                plan.endpoints.len(),
                plan.phases.len(),
                if plan.phases.is_empty() { 1 } else { schedule.expected_arrivals() },
                schedule.total_duration().as_secs_f64(),
            );
            exit::OK
        }
        Err(e) => {
            eprintln!("{e}");
            exit::USAGE
        }
    }
}
