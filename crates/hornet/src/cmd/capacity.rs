//! `hornet capacity`: reads the script and the search's options (bad ones exit 2 before anything
//! is sent), runs the search on this machine (`hornet_capacity`), prints the live table and the
//! result, and writes the JSON and HTML files.

use std::path::Path;
use std::time::Duration;

use hornet_capacity::result::{table_header, table_row};
use hornet_capacity::slo::{self, Slo};
use hornet_capacity::step::Model;
use hornet_capacity::{Capacity, SearchOptions};
use hornet_runner::{Control, RunOptions, Workload};

use super::{command_line, exit, fresh_seed};
use crate::cli::{CapacityArgs, LoadArgs, OutputArgs};

/// Default start: arrivals a second (open model) or users (closed model).
const DEFAULT_START_RATE: f64 = 10.0;
const DEFAULT_START_USERS: f64 = 1.0;

/// A duration option, or the error naming it.
fn duration(option: &str, text: &str) -> Result<Duration, String> {
    hornet_script::parse_duration(text).map_err(|why| format!("{option} `{text}`: {why}"))
}

/// `--precision`: `5%` or `0.05`, above 0 and at most 50%.
fn precision(text: &str) -> Result<f64, String> {
    let t = text.trim();
    let value = match t.strip_suffix('%') {
        Some(p) => p.trim().parse::<f64>().map(|p| p / 100.0),
        None => t.parse::<f64>(),
    };
    value.ok().filter(|p| p.is_finite() && *p > 0.0 && *p <= 0.5).ok_or_else(|| {
        format!("--precision `{text}`: expected a share above 0 and at most 50%, like 5% or 0.05")
    })
}

/// A load option: a finite number above 0.
fn positive(option: &str, v: f64) -> Result<f64, String> {
    if v.is_finite() && v > 0.0 { Ok(v) } else { Err(format!("{option} {v}: expected a number above 0")) }
}

/// The search's options from the command line and the plan (its model and `config.ensure`).
fn options(
    args: &CapacityArgs,
    model: Model,
    ensure: &hornet_script::plan::Ensure,
) -> Result<SearchOptions, String> {
    let slo: Slo = match &args.slo {
        Some(text) => slo::parse(text).map_err(|e| e.to_string())?,
        None => Slo::from_ensure(ensure).ok_or_else(|| {
            "no objective: give --slo (for example --slo 'p95<300ms,errors<1%') or config.ensure in the script"
                .to_owned()
        })?,
    };
    let default_start = if model == Model::Closed { DEFAULT_START_USERS } else { DEFAULT_START_RATE };
    let start = positive("--start", args.start.unwrap_or(default_start))?;
    let bound = start * hornet_capacity::driver::MAX_FACTOR;
    let max = match args.max {
        Some(m) => positive("--max", m)?,
        None => bound,
    };
    if max < start {
        return Err(format!("--max {max} is below --start {start}"));
    }
    if max > bound {
        return Err(format!(
            "--max {max} is more than 1000 × --start ({bound}): one search steers its run over a range of 1000 at most; raise --start"
        ));
    }
    let step = duration("--step", &args.step)?;
    if step < Duration::from_secs(1) {
        return Err(format!("--step `{}`: a step's window needs at least 1 s (a tick)", args.step));
    }
    let hold = duration("--hold", &args.hold)?;
    if !hold.is_zero() && hold < Duration::from_secs(1) {
        return Err(format!("--hold `{}`: at least 1 s, or 0 for no verification", args.hold));
    }
    Ok(SearchOptions {
        slo,
        start,
        max,
        step,
        warmup: duration("--warmup", &args.warmup)?,
        precision: precision(&args.precision)?,
        hold,
    })
}

/// Writes `text` to `path` (`-`: stdout); says where on stderr; false on failure.
fn write(what: &str, path: &Path, text: &str) -> bool {
    match hornet_output::file::write_file(path, text.as_bytes()) {
        Ok(()) => {
            if !hornet_output::file::is_stdout(path) {
                note!("{what} written to {}", path.display());
            }
            true
        }
        Err(e) => {
            note!("error: could not write the {what} to {}: {e}", path.display());
            false
        }
    }
}

pub fn capacity(args: CapacityArgs) -> i32 {
    let files = OutputArgs { html: args.html.clone(), ..OutputArgs::default() };
    if !super::report::check_outputs(args.output.as_deref(), &files) {
        return exit::USAGE;
    }
    // What the script is read with: only `-k` of the options a run takes applies here.
    let reading =
        LoadArgs { seed: args.seed, insecure: args.insecure, threads: args.threads, ..LoadArgs::default() };
    let Some(plan) = super::run::load(&args.script, Some(&reading)) else { return exit::USAGE };
    let model = hornet_capacity::driver::model_of(&plan);
    let search = match options(&args, model, &plan.ensure) {
        Ok(o) => o,
        Err(why) => {
            note!("error: {why}");
            return exit::USAGE;
        }
    };
    let to_stderr = super::report::stdout_taken(args.output.as_deref(), &files);
    let run = RunOptions {
        seed: args.seed.unwrap_or_else(fresh_seed),
        threads: args.threads,
        workload: Workload::Open,
        latency_from_intended: false,
        command: command_line(),
        log: false,
    };
    note!(
        "hornet {}: capacity search, seed {}: {} from {} to {}, steps of {} s after {} s of warm-up, precision {}%, hold {} s; objective: {}",
        env!("CARGO_PKG_VERSION"),
        run.seed,
        model.unit(),
        hornet_capacity::result::load(model, search.start),
        hornet_capacity::result::load(model, search.max),
        search.step.as_secs_f64(),
        search.warmup.as_secs_f64(),
        search.precision * 100.0,
        search.hold.as_secs_f64(),
        search.slo.describe(),
    );
    let mut printed = super::report::print_text(&table_header(model), to_stderr);
    let control = Control::new();
    crate::signals::install(control.clone());
    let result =
        hornet_capacity::run_search(plan, run, &search, control.clone(), |r| r.start(), &mut |step| {
            printed &= super::report::print_text(&table_row(model, step), to_stderr);
        });
    let capacity: Capacity = match result {
        Ok(c) => c,
        Err(e) => {
            note!("error: {e}");
            return match e {
                hornet_runner::RunError::StoppedBefore(reason) => reason.exit_code(),
                _ => exit::USAGE,
            };
        }
    };
    let mut code = match (capacity.exit_code(), control.stop_reason()) {
        (Some(code), _) => code,
        (None, Some(reason)) => reason.exit_code(),
        (None, None) => exit::FAILED,
    };
    let mut files_ok = true;
    if let Some(path) = &args.output {
        match serde_json::to_string_pretty(&capacity) {
            Ok(json) => files_ok &= write("capacity result", path, &json),
            Err(e) => {
                note!("error: could not serialize the capacity result: {e}");
                files_ok = false;
            }
        }
    }
    if let Some(path) = &args.html {
        files_ok &= write("capacity page", path, &hornet_capacity::html::render(&capacity));
    }
    printed &= super::report::print_text(&format!("\n{}", capacity.summary()), to_stderr);
    if (!files_ok || !printed) && code == exit::OK {
        code = exit::FAILED;
    }
    code
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn precision_takes_a_percentage_or_a_share() {
        assert_eq!(precision("5%"), Ok(0.05));
        assert_eq!(precision("0.1"), Ok(0.1));
        for bad in ["0", "0%", "60%", "x", "-5%", "NaN"] {
            assert!(precision(bad).is_err(), "{bad}");
        }
    }
}
