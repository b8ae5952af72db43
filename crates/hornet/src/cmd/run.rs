//! `hornet run` and `hornet validate`.

use hornet_runner::{RunOptions, Workload};
use hornet_script::{DataFiles, LoadOptions, Plan, ScriptError};

use super::ui::Session;
use super::{ExecuteOptions, Executor, command_line, execute, exit, fresh_seed};
use crate::cli::{LoadArgs, RunArgs, ScriptArgs, ValidateArgs};

/// Loads the scripts with the command-line overrides (with `load`, those of a command that runs
/// them: `-k`, `--testid`, `--trace`); prints the error and returns `None` on failure.
pub(crate) fn load(args: &ScriptArgs, load: Option<&LoadArgs>) -> Option<Plan> {
    load_with_options(args, load, None).map(|(plan, _)| plan)
}

/// [`load`], also returning the load options (a controller sends them to its workers). `workers`:
/// a distributed run's worker count; the load is split over them, and the data files' bytes
/// (`config.payload`, `formData`) are kept in the plan for the controller to ship.
pub(crate) fn load_with_options(
    args: &ScriptArgs,
    load: Option<&LoadArgs>,
    workers: Option<u32>,
) -> Option<(Plan, LoadOptions)> {
    let mut variables = Vec::new();
    if let Some(json) = &args.variables {
        match serde_json::from_str::<serde_json::Value>(json) {
            Ok(serde_json::Value::Object(map)) => variables.extend(map),
            Ok(_) => {
                eprintln!("error: -v/--variables: expected a JSON object, like '{{\"id\": 1}}'");
                return None;
            }
            Err(e) => {
                eprintln!("error: -v/--variables is not valid JSON: {e}, in `{json}`");
                return None;
            }
        }
    }
    for v in &args.vars {
        let Some((name, value)) = v.split_once('=') else {
            eprintln!("error: --var `{v}`: expected name=value");
            return None;
        };
        let value =
            serde_json::from_str(value).unwrap_or_else(|_| serde_json::Value::String(value.to_string()));
        variables.push((name.trim().to_string(), value));
    }
    let mut overrides = match args.overrides.as_deref().map(serde_json::from_str::<serde_json::Value>) {
        None => None,
        Some(Ok(v @ serde_json::Value::Object(_))) => Some(v),
        Some(Ok(_)) => {
            eprintln!("error: --overrides: expected a JSON object, like '{{\"http\": {{\"timeout\": 5}}}}'");
            return None;
        }
        Some(Err(e)) => {
            eprintln!("error: --overrides is not valid JSON: {e}");
            return None;
        }
    };
    if args.solo {
        overrides = Some(solo(overrides));
    }
    if let Some(csv) = &args.payload {
        let what = format!(
            "-p/--payload {}: ignored, as Artillery 2 ignores it; name the CSV file in `config.payload`",
            csv.display()
        );
        if args.strict {
            eprintln!("error: {what} (--strict)");
            return None;
        }
        eprintln!("warning: {what}\n");
    }
    let opts = LoadOptions {
        target: args.target.clone(),
        insecure: load.is_some_and(|l| l.insecure),
        environment: args.environment.clone(),
        variables,
        overrides,
        scenario_names: args.scenario_names.clone(),
        strict: args.strict,
        shipped_processor: None,
        shipped_env: hornet_script::ShippedEnv::default(),
        test_id: load.and_then(|l| l.testid.clone()),
        trace: load.is_some_and(|l| l.trace),
        split_over: workers.unwrap_or(1),
        data_files: if workers.is_some() { DataFiles::DiskKept } else { DataFiles::Disk },
    };
    let plan =
        hornet_script::load_files(&args.files(), &opts).map_err(|e: ScriptError| eprintln!("{e}")).ok()?;
    for warning in &plan.warnings {
        eprintln!("{warning}\n");
    }
    Some((plan, opts))
}

/// `--overrides` with `-s/--solo`'s phases, one arrival (`{duration: 1, arrivalCount: 1}`), in
/// place of any it sets: applied last, they replace the phases of the scripts and of `-e`.
fn solo(overrides: Option<serde_json::Value>) -> serde_json::Value {
    let one = serde_json::json!([{ "duration": 1, "arrivalCount": 1 }]);
    let mut overrides = overrides.unwrap_or_else(|| serde_json::json!({}));
    let Some(map) = overrides.as_object_mut() else { return overrides };
    // Artillery's form (`{"config": ...}`) merges into the whole script, the short form into `config`.
    let whole = ["config", "scenarios", "before", "after"].iter().any(|k| map.contains_key(*k));
    let config = if whole {
        let config = map.entry("config").or_insert_with(|| serde_json::json!({}));
        if !config.is_object() {
            *config = serde_json::json!({});
        }
        config.as_object_mut()
    } else {
        Some(map)
    };
    if let Some(config) = config {
        config.insert("phases".to_string(), one);
    }
    overrides
}

pub fn run(args: RunArgs) -> i32 {
    if let Err(why) = args.artillery_cloud.refusal() {
        eprintln!("error: {why}");
        return exit::USAGE;
    }
    if !super::report::check_outputs(args.load.output.as_deref(), &args.load.outputs) {
        return exit::USAGE;
    }
    if let Some(n) = args.local_workers {
        return super::cluster::local(args, n);
    }
    let Some(plan) = load(&args.script, Some(&args.load)) else { return exit::USAGE };
    run_on(plan, args, &mut Executor::Local)
}

/// `hornet run` of `plan` on `executor` (this machine, or a controller's workers). The run's start
/// checks the processor: one that does not load, or lacks a function the script names, is an
/// error (exit 2) before anything is sent.
pub(crate) fn run_on(plan: Plan, args: RunArgs, executor: &mut Executor) -> i32 {
    if args.ui {
        let session = Session { autostart: true, linger: args.ui_linger, abort_on_fail: args.abort_on_fail };
        return super::ui::serve(plan, &args.load, &args.web, session, executor);
    }
    let run = RunOptions {
        seed: args.load.seed.unwrap_or_else(fresh_seed),
        threads: args.load.threads,
        workload: Workload::Open,
        latency_from_intended: false,
        command: command_line(),
        log: !args.load.quiet,
    };
    let how = ExecuteOptions { abort_on_fail: args.abort_on_fail, ..ExecuteOptions::from_load(&args.load) };
    execute(plan, run, how, executor)
}

pub fn validate(args: ValidateArgs) -> i32 {
    let Some(plan) = load(&args.script, None) else { return exit::USAGE };
    if let Err(e) = hornet_runner::check(&plan) {
        eprintln!("error: {e}");
        return exit::USAGE;
    }
    let schedule = hornet_schedule::Schedule::new(&plan.phases);
    let names: Vec<String> = args.script.files().iter().map(|p| p.display().to_string()).collect();
    let line = format!(
        "{}: ok — {} scenario(s), {} endpoint(s), {} phase(s), {} arrivals over {:.1} s",
        names.join(" + "),
        plan.scenarios.len(),
        plan.endpoints.len(),
        plan.phases.len(),
        if plan.phases.is_empty() { 1 } else { schedule.expected_arrivals() },
        schedule.total_duration().as_secs_f64(),
    );
    if !super::report::print_text(&line, false) {
        return exit::FAILED;
    }
    exit::OK
}
