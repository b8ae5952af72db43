//! `hornet quick`: one URL, no script, like oha or hey. Closed model by default (`-c` users
//! each looping); with `-r` an open model at a fixed rate with latency measured from each
//! request's intended send time.

use std::time::Duration;

use hornet_runner::{RunOptions, Workload};
use hornet_script::plan::{HttpSettings, Phase, Plan, SingleRequest};
use http::{HeaderName, Method};

use super::{ExecuteOptions, Executor, command_line, execute, exit, fresh_seed};
use crate::cli::QuickArgs;

pub fn quick(args: QuickArgs) -> i32 {
    if !super::report::check_outputs(args.load.output.as_deref(), &args.load.outputs) {
        return exit::USAGE;
    }
    match build(&args) {
        Ok((plan, workload)) => {
            let run = RunOptions {
                seed: args.load.seed.unwrap_or_else(fresh_seed),
                threads: args.load.threads,
                workload,
                latency_from_intended: args.rate.is_some(),
                command: command_line(),
                log: false,
            };
            execute(plan, run, ExecuteOptions::from_load(&args.load), &mut Executor::Local)
        }
        Err(message) => {
            eprintln!("error: {message}");
            exit::USAGE
        }
    }
}

/// Builds the one-request plan and the workload that drives it.
fn build(args: &QuickArgs) -> Result<(Plan, Workload), String> {
    SingleRequest::check_url(&args.url)?;
    let method = Method::from_bytes(args.method.to_ascii_uppercase().as_bytes())
        .map_err(|_| format!("`{}` is not an HTTP method", args.method))?;
    let duration = args
        .duration
        .as_deref()
        .map(|d| hornet_script::parse_duration(d).map_err(|e| format!("-d {d}: {e}")))
        .transpose()?;
    let timeout = hornet_script::parse_duration(&args.timeout).map_err(|e| format!("--timeout: {e}"))?;
    if args.connections == 0 {
        return Err("-c must be at least 1".into());
    }
    let mut headers = Vec::new();
    for h in &args.headers {
        let (name, value) =
            h.split_once(':').ok_or_else(|| format!("header `{h}`: expected `name: value`"))?;
        let name = HeaderName::from_bytes(name.trim().as_bytes())
            .map_err(|_| format!("header `{h}`: `{}` is not a valid header name", name.trim()))?;
        headers.push((name, value.trim().to_string()));
    }

    let (phases, workload, pool) = match args.rate {
        Some(rate) if !(rate > 0.0 && rate.is_finite()) => return Err("-r must be a positive rate".into()),
        Some(rate) if rate > hornet_script::plan::MAX_ARRIVAL_RATE => {
            return Err(format!(
                "-r {rate}: more than the {:.0} requests a second one hornet process can start (each is a virtual user with its own state; faster, they queue in memory until the process is killed)",
                hornet_script::plan::MAX_ARRIVAL_RATE
            ));
        }
        Some(rate) => {
            let phase = match (args.requests, duration) {
                (Some(n), _) => Phase::count(n, Duration::from_secs_f64(n as f64 / rate))
                    .named(format!("{n} requests at {rate}/s")),
                (None, d) => {
                    let d = d.unwrap_or(Duration::from_secs(10));
                    Phase::rate(rate, d).named(format!("{rate}/s for {:.1} s", d.as_secs_f64()))
                }
            };
            (vec![phase], Workload::Open, Some(args.connections as usize))
        }
        None => {
            let iterations = match (args.requests, duration) {
                (None, None) => Some(200),
                (n, _) => n,
            };
            (vec![], Workload::Closed { users: args.connections, iterations, duration }, None)
        }
    };
    let mut plan = Plan::single_request(SingleRequest {
        method,
        url: args.url.clone(),
        headers,
        body: args.body.clone(),
        http: HttpSettings { timeout, pool, insecure: args.load.insecure, ..HttpSettings::default() },
        phases,
    })?;
    plan.test_id = args.load.testid.clone();
    plan.tracing = args.load.trace.then(hornet_script::plan::Tracing::default);
    Ok((plan, workload))
}
