//! `hornet ui` and `hornet run --ui`: serve the web UI (crate `hornet-ui`) and run the tests it
//! starts, one at a time, until Ctrl-C.

use std::time::Duration;

use hornet_runner::{RunOptions, Workload};
use hornet_script::Plan;
use hornet_ui::{Hub, Model, SessionInfo, Ui, UiConfig};

use super::{ExecuteOptions, Executor, UiRun, command_line, execute, exit, fresh_seed};
use crate::cli::{LoadArgs, UiArgs, WebArgs};

/// `hornet ui SCRIPT`: serve and wait for Start.
pub fn ui(args: UiArgs) -> i32 {
    if !super::report::check_outputs(args.load.output.as_deref(), &args.load.outputs) {
        return exit::USAGE;
    }
    let Some(plan) = super::run::load(&args.script, Some(&args.load)) else { return exit::USAGE };
    let session = Session { autostart: false, linger: true, abort_on_fail: false };
    serve(plan, &args.load, &args.web, session, &mut Executor::Local)
}

/// How a web UI session runs its tests.
#[derive(Debug, Clone, Copy)]
pub struct Session {
    /// Run the script as written at once (`hornet run --ui`).
    pub autostart: bool,
    /// Keep serving after that run, until Ctrl-C (`--ui-linger`; always for `hornet ui`).
    pub linger: bool,
    /// Stop a run as soon as a strict check fails (`--abort-on-fail`).
    pub abort_on_fail: bool,
}

/// Serves the UI for `plan`, running on `executor`. With `autostart` the script runs at once as
/// written; without `linger` the process ends after that run (with its exit code). Otherwise each
/// Start from the UI runs (reports written as after `hornet run`), until Ctrl-C: then the exit
/// code is that of the latest run (0 if none ran; 130 when Ctrl-C interrupted a run).
pub fn serve(plan: Plan, load: &LoadArgs, web: &WebArgs, session: Session, executor: &mut Executor) -> i32 {
    if let Err(e) = hornet_runner::check(&plan) {
        eprintln!("error: {e}");
        return exit::USAGE;
    }
    let options = || RunOptions {
        seed: load.seed.unwrap_or_else(fresh_seed),
        threads: load.threads,
        workload: Workload::Open,
        latency_from_intended: false,
        command: command_line(),
        log: !load.quiet,
    };
    let info = SessionInfo {
        script: plan.source.as_ref().map(|p| p.display().to_string()),
        target: plan.target.clone(),
        host: hornet_runner::hostname().unwrap_or_else(|| "localhost".into()),
        threads: options().thread_count(),
        phases: hornet_runner::describe_phases(&plan.phases),
        scripted: Model::of(&plan),
        trace_link: load.outputs.trace_link.clone(),
    };
    let hub = Hub::new(info);
    let ui = match Ui::start(UiConfig { addr: web.ui_addr, token: web.ui_token.clone() }, hub.clone()) {
        Ok(ui) => ui,
        Err(e) => {
            eprintln!("error: {e}");
            return exit::USAGE;
        }
    };
    eprintln!("hornet: web UI at {}", ui.url());
    crate::signals::target(None);
    let mut run = |plan: Plan, control| {
        let how = ExecuteOptions {
            abort_on_fail: session.abort_on_fail,
            ui: Some(UiRun { hub: &hub, control }),
            ..ExecuteOptions::from_load(load)
        };
        let code = execute(plan, options(), how, executor);
        crate::signals::target(None);
        code
    };
    let mut code = exit::OK;
    if session.autostart {
        code = run(plan.clone(), None);
        if !session.linger || crate::signals::received().is_some() {
            return code;
        }
        eprintln!("hornet: the run ended; the web UI stays at {} until Ctrl-C", ui.url());
    }
    while crate::signals::received().is_none() {
        let Some(start) = hub.wait_start(Duration::from_millis(200)) else { continue };
        code = run(start.request.plan(&plan), Some(start.control));
    }
    drop(ui);
    code
}
