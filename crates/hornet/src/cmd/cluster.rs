//! `hornet controller`, `hornet worker` and `hornet run --local-workers N`.
//!
//! A controller process listens for its workers ([`Cluster`]), waits until they have joined, and
//! then runs the test like `hornet run` on [`Executor::Cluster`]: the live view, the web UI,
//! `--abort-on-fail`, the summary and every report go through the same code as a single-machine
//! run.

use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use hornet_cluster::{Cluster, ClusterOptions, PlanSource, WorkerOptions};

use super::{Executor, exit};
use crate::cli::{ControllerArgs, RunArgs, TokenArgs, WorkerArgs};

/// Environment variable that may hold the token instead of `--token-file`.
const TOKEN_ENV: &str = "HORNET_CLUSTER_TOKEN";

/// The token from `--token-file` or the environment; `Err` with the message when the file is unreadable.
fn token(args: &TokenArgs) -> Result<Option<String>, String> {
    if let Some(path) = &args.token_file {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read the token file {}: {e}", path.display()))?;
        let t = text.trim().to_string();
        if t.is_empty() {
            return Err(format!("the token file {} is empty", path.display()));
        }
        return Ok(Some(t));
    }
    Ok(std::env::var(TOKEN_ENV).ok().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()))
}

/// Sets up the cluster for `args.run`, waits for the workers, and runs the test on them.
fn control_run(
    args: RunArgs,
    opts: ClusterOptions,
    join_timeout: Duration,
    local: Option<&mut Vec<Child>>,
) -> i32 {
    // The rate is divided among the workers: each must be able to start its share.
    let split_over = u32::try_from(opts.workers).unwrap_or(u32::MAX);
    let Some((mut plan, load_opts)) =
        super::run::load_with_options(&args.script, Some(&args.load), Some(split_over))
    else {
        return exit::USAGE;
    };
    // A plan the run's start would refuse (a processor that does not load, or lacks a function
    // the script names) is refused here, before any worker is started or waited for.
    if let Err(e) = hornet_runner::check(&plan) {
        eprintln!("error: {e}");
        return exit::USAGE;
    }
    // The workers get the processor and the files it needs, and the data files (payload,
    // formData), with the plan.
    // And the `--dotenv` variables, with the values this process uses for them.
    let source = PlanSource::read(&args.script.files(), &load_opts).and_then(|mut source| {
        source.ship_processor(&plan, hornet_cluster::plan_source::MAX_PROCESSOR_BYTES)?;
        source.ship_data_files(&mut plan, hornet_cluster::plan_source::MAX_PAYLOAD_BYTES)?;
        if let Some(path) = &args.script.dotenv {
            source.ship_env(super::env_file::names(path)?.iter().map(String::as_str));
        }
        Ok(source)
    });
    let source = match source {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let workers = opts.workers;
    // Local workers get the controller's token through their environment.
    let token = opts.token.clone();
    let mut cluster = match Cluster::listen(opts, source) {
        Ok(c) => c,
        Err(e) => {
            eprintln!("error: cannot listen for workers: {e}");
            return exit::USAGE;
        }
    };
    let addr = cluster.local_addr();
    if let Some(local) = local {
        let exe = match std::env::current_exe() {
            Ok(e) => e,
            Err(e) => {
                eprintln!("error: cannot find this program to start local workers: {e}");
                return exit::USAGE;
            }
        };
        for i in 0..workers {
            let mut cmd = Command::new(&exe);
            cmd.arg("worker")
                .arg("--controller")
                .arg(addr.to_string())
                .env(TOKEN_ENV, &token)
                .stdin(Stdio::null());
            if args.load.threads > 0 {
                cmd.arg("--threads").arg(args.load.threads.to_string());
            }
            match cmd.spawn() {
                Ok(child) => {
                    if !args.load.quiet {
                        eprintln!("hornet: local worker {} started (pid {})", i + 1, child.id());
                    }
                    local.push(child);
                }
                Err(e) => {
                    eprintln!("error: cannot start a local worker: {e}");
                    return exit::USAGE;
                }
            }
        }
    } else {
        eprintln!("hornet: waiting for {workers} workers on {addr}");
    }
    if let Err(e) = cluster.wait_for_workers(join_timeout) {
        eprintln!("error: {e}");
        return exit::USAGE;
    }
    // Dropping the cluster (with the executor) closes the connections: workers that are still up
    // stop at once.
    super::run::run_on(
        plan,
        RunArgs { local_workers: None, ..args },
        &mut Executor::Cluster(Box::new(cluster)),
    )
}

/// `hornet controller`.
pub fn controller(args: ControllerArgs) -> i32 {
    if let Err(why) = args.run.artillery_cloud.refusal() {
        eprintln!("error: {why}");
        return exit::USAGE;
    }
    if !super::report::check_outputs(args.run.load.output.as_deref(), &args.run.load.outputs) {
        return exit::USAGE;
    }
    let token = match token(&args.token) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    if token.is_none() && !args.listen.ip().is_loopback() {
        eprintln!(
            "error: --listen {} is beyond loopback: a shared token is required (--token-file FILE or \
             {TOKEN_ENV})",
            args.listen
        );
        return exit::USAGE;
    }
    if args.workers == 0 {
        eprintln!("error: --workers must be at least 1");
        return exit::USAGE;
    }
    // A controller always requires a token: on loopback without one, a fresh one for this run.
    let token = match token {
        Some(t) => t,
        None => match hornet_cluster::auth::new_token() {
            Ok(t) => {
                // Port 0 is chosen at listening: the "waiting for" line below names it.
                let at =
                    if args.listen.port() == 0 { "HOST:PORT".to_string() } else { args.listen.to_string() };
                eprintln!(
                    "hornet: no cluster token given (--token-file FILE or {TOKEN_ENV}): generated one for \
                     this run. Start each worker with it:\n  {TOKEN_ENV}={t} hornet worker --controller {at}"
                );
                t
            }
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        },
    };
    let tls = match (&args.tls_cert, &args.tls_key) {
        (Some(cert), Some(key)) => match hornet_cluster::transport::server_tls(cert, key) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        },
        _ => None,
    };
    let opts = ClusterOptions {
        listen: args.listen,
        tls,
        token,
        workers: args.workers,
        on_loss: args.run.on_worker_loss,
        verbose: !args.run.load.quiet,
    };
    control_run(args.run, opts, Duration::from_secs(args.join_timeout), None)
}

/// `hornet run --local-workers N`: a controller on a loopback port with N worker processes.
pub fn local(args: RunArgs, n: usize) -> i32 {
    if n == 0 {
        eprintln!("error: --local-workers must be at least 1");
        return exit::USAGE;
    }
    let token = match hornet_cluster::auth::new_token() {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let opts = ClusterOptions {
        listen: ([127, 0, 0, 1], 0).into(),
        tls: None,
        // Fresh per run: the local workers and their controller share it.
        token,
        workers: n,
        on_loss: args.on_worker_loss,
        verbose: !args.load.quiet,
    };
    let mut children = Vec::with_capacity(n);
    let code = control_run(args, opts, Duration::from_secs(60), Some(&mut children));
    // The workers end with the run; make sure none outlives it.
    let deadline = Instant::now() + Duration::from_secs(5);
    for mut child in children {
        while matches!(child.try_wait(), Ok(None)) && Instant::now() < deadline {
            std::thread::sleep(Duration::from_millis(20));
        }
        if matches!(child.try_wait(), Ok(None)) {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
    code
}

/// `hornet worker`.
pub fn worker(args: WorkerArgs) -> i32 {
    let token = match token(&args.token) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    let tls = if args.tls || args.tls_ca.is_some() {
        match hornet_cluster::transport::client_tls(args.tls_ca.as_deref()) {
            Ok(t) => Some(t),
            Err(e) => {
                eprintln!("error: {e}");
                return exit::USAGE;
            }
        }
    } else {
        None
    };
    hornet_cluster::run_worker(WorkerOptions {
        controller: args.controller,
        tls,
        tls_server_name: args.tls_server_name,
        token,
        threads: args.threads,
        weight: args.weight,
        script_dir: args.script_dir,
        connect_timeout: Duration::from_secs(args.connect_timeout),
    })
}
