//! The commands, and the run-and-report sequence they share.

/// `eprintln!` that cannot panic: a line for a closed or broken stderr is dropped, never the run.
macro_rules! note {
    ($($arg:tt)*) => {{
        use std::io::Write as _;
        let _ = writeln!(std::io::stderr(), $($arg)*);
    }};
}

pub mod capacity;
pub mod cluster;
pub mod demo;
pub mod docs;
pub mod env_file;
pub mod import;
pub mod quick;
pub mod report;
pub mod run;
pub mod target;
pub mod ui;

use std::path::Path;
use std::sync::Arc;

use hornet_export::spans::SpanExporter;
use hornet_export::{ExportOptions, Exporters, RemoteWrite};
use hornet_runner::{Control, Run, RunError, RunHandle, RunOptions, StopReason};
use hornet_script::Plan;
use hornet_verdict::{Checks, LiveChecks};

use crate::cli::{ExportArgs, LoadArgs, OutputArgs};
use crate::live::Live;

/// Exit codes (docs/cli.md).
pub mod exit {
    pub const OK: i32 = 0;
    /// A check failed, or a report file (or the summary) could not be written.
    pub const FAILED: i32 = 1;
    /// Bad script, options or output paths; nothing was sent.
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

/// The command line as typed, for the report (`run.command`), with its secrets redacted
/// ([`redact_secrets`]).
pub fn command_line() -> String {
    redact_secrets(std::env::args()).join(" ")
}

/// What replaces a secret in a recorded command line.
const REDACTED: &str = "***";

/// `args` with their secrets replaced by `***`: the web UI token (`--ui-token T`, `--ui-token=T`),
/// the value of every `--var` (`--var name=***`) and of every key of `-v/--variables`, the value of a
/// credential header of `quick` or of the remote-write pushes (`-H "Authorization: ***"`; see
/// [`is_credential_header`]) and the password of a URL (`http://user:***@host`). Reports are files that get shared, and these hold secrets.
fn redact_secrets(args: impl IntoIterator<Item = String>) -> Vec<String> {
    let var = |assignment: &str| match assignment.split_once('=') {
        Some((name, _)) => format!("{name}={REDACTED}"),
        None => REDACTED.to_string(),
    };
    // `-v '{"name": value}'`: the names are kept, every value redacted.
    let variables = |json: &str| match serde_json::from_str::<serde_json::Value>(json) {
        Ok(serde_json::Value::Object(map)) => {
            let names: serde_json::Map<String, serde_json::Value> =
                map.into_iter().map(|(name, _)| (name, REDACTED.into())).collect();
            serde_json::Value::Object(names).to_string()
        }
        _ => REDACTED.to_string(),
    };
    let header = |line: &str| match line.split_once(':') {
        Some((name, _)) if is_credential_header(name) => format!("{name}: {REDACTED}"),
        _ => line.to_string(),
    };
    let mut out = Vec::new();
    let mut args = args.into_iter();
    while let Some(arg) = args.next() {
        match arg.as_str() {
            // Everything after `--` is positional.
            "--" => {
                out.push(arg);
                out.extend(args.by_ref());
            }
            "--ui-token" => {
                out.push(arg);
                out.extend(args.next().map(|_| REDACTED.to_string()));
            }
            "--var" => {
                out.push(arg);
                out.extend(args.next().map(|v| var(&v)));
            }
            "-v" | "--variables" => {
                out.push(arg);
                out.extend(args.next().map(|v| variables(&v)));
            }
            "-H" | "--header" | "--prometheus-rw-header" => {
                out.push(arg);
                out.extend(
                    args.next().map(|h| header(&hornet_script::request_url::without_url_password(&h))),
                );
            }
            _ if arg.starts_with("--ui-token=") => out.push(format!("--ui-token={REDACTED}")),
            _ => {
                let arg = hornet_script::request_url::without_url_password(&arg);
                if let Some(assignment) = arg.strip_prefix("--var=") {
                    out.push(format!("--var={}", var(assignment)));
                } else if let Some(json) = arg.strip_prefix("--variables=") {
                    out.push(format!("--variables={}", variables(json)));
                } else if let Some(json) = arg.strip_prefix("-v").filter(|j| !j.is_empty()) {
                    out.push(format!("-v{}", variables(json)));
                } else if let Some(line) = arg.strip_prefix("--header=") {
                    out.push(format!("--header={}", header(line)));
                } else if let Some(line) = arg.strip_prefix("--prometheus-rw-header=") {
                    out.push(format!("--prometheus-rw-header={}", header(line)));
                } else if let Some(line) = arg.strip_prefix("-H") {
                    out.push(format!("-H{}", header(line)));
                } else {
                    out.push(arg);
                }
            }
        }
    }
    out
}

/// A header that carries a credential: `Authorization`, `Proxy-Authorization`, `Cookie`, or a name
/// that says so (`X-Api-Key`, `X-Auth-Token`, `X-Session-Id`, a password or secret).
fn is_credential_header(name: &str) -> bool {
    let name = name.trim().to_ascii_lowercase();
    name == "cookie"
        || ["auth", "token", "key", "secret", "password", "session"].iter().any(|word| name.contains(word))
}

/// Where runs execute: on this machine, or on the workers that joined this process as their
/// controller (`hornet controller`, `hornet run --local-workers N`).
pub enum Executor {
    Local,
    Cluster(Box<hornet_cluster::Cluster>),
}

impl Executor {
    /// Starts `run` here or on the cluster's workers.
    fn start(&mut self, run: Run) -> Result<RunHandle<'_>, RunError> {
        match self {
            Executor::Local => run.start(),
            Executor::Cluster(cluster) => run.start_on(cluster.as_mut()),
        }
    }
}

/// How [`execute`] shows and reports a run, besides the plan and the run's options.
pub struct ExecuteOptions<'a> {
    /// No live view, no seed line.
    pub quiet: bool,
    /// The full-screen dashboard on an interactive terminal (else the status line).
    pub dashboard: bool,
    /// Stop the run as soon as a strict check fails (`--abort-on-fail`).
    pub abort_on_fail: bool,
    /// Where the JSON report goes (`-o`).
    pub output: Option<&'a Path>,
    /// The other report formats.
    pub outputs: &'a OutputArgs,
    /// The web UI the run feeds, if any.
    pub ui: Option<UiRun<'a>>,
    /// What the run exports to Prometheus (`None`: nothing, as for `demo`).
    pub export: Option<&'a ExportArgs>,
}

impl<'a> ExecuteOptions<'a> {
    /// The options a command's `LoadArgs` give (no `--abort-on-fail`, no web UI).
    pub fn from_load(load: &'a LoadArgs) -> ExecuteOptions<'a> {
        ExecuteOptions {
            quiet: load.quiet,
            dashboard: !load.no_dashboard,
            abort_on_fail: false,
            output: load.output.as_deref(),
            outputs: &load.outputs,
            ui: None,
            export: Some(&load.export),
        }
    }
}

/// Where the basic-auth password of `--prometheus-rw-user` comes from (never the command line,
/// which other users of the machine can read).
const RW_PASSWORD: &str = "HORNET_PROMETHEUS_RW_PASSWORD";

/// The exports `args`, `--otlp` and the script's `publish-metrics` ask for, for a run with `seed`.
fn export_options(args: Option<&ExportArgs>, otlp: Option<&String>, plan: &Plan, seed: u64) -> ExportOptions {
    let mut options = ExportOptions::none(plan.test_id(seed));
    options.publish = plan.publish_metrics.clone();
    options.otlp.extend(otlp.cloned());
    options.target = plan.target.clone();
    let Some(args) = args else { return options };
    options.remote_write = args.prometheus_rw.as_ref().map(|url| RemoteWrite {
        url: url.clone(),
        headers: args.prometheus_rw_headers.clone(),
        basic_auth: args
            .prometheus_rw_user
            .as_ref()
            .map(|user| (user.clone(), std::env::var(RW_PASSWORD).unwrap_or_default())),
        native_histograms: args.prometheus_rw_native,
    });
    options.metrics_addr = args.metrics_addr;
    options.push_interval = std::time::Duration::from_secs(args.push_interval);
    options.labels = args.metrics_labels.clone();
    options.max_endpoints = args.metrics_max_endpoints;
    options
}

/// The span export a run asks for: `--otlp-traces`, else `--otlp` when tracing is on. `None`
/// without tracing or a collector; an error when `--otlp-traces` is given without tracing.
fn span_exporter(
    args: Option<&ExportArgs>,
    otlp: Option<&String>,
    plan: &Plan,
    seed: u64,
    executor: &Executor,
) -> Result<Option<SpanExporter>, String> {
    let explicit = args.and_then(|a| a.otlp_traces.as_ref());
    if plan.tracing.is_none() {
        return match explicit {
            Some(_) => Err("--otlp-traces sends the spans of traced requests: turn tracing on with --trace or config.tracing".into()),
            None => Ok(None),
        };
    }
    let Some(url) = explicit.or(otlp) else { return Ok(None) };
    if matches!(executor, Executor::Cluster(_)) {
        note!(
            "hornet: spans are not exported from a distributed run's workers; only the metrics go to {url}"
        );
        return Ok(None);
    }
    SpanExporter::start(url, plan, &plan.test_id(seed)).map(Some).map_err(|e| e.to_string())
}

/// A run shown in the web UI: the hub it feeds, and the control a Start from the UI made.
pub struct UiRun<'a> {
    pub hub: &'a hornet_ui::Hub,
    pub control: Option<Control>,
}

/// Runs `plan` on `executor`, shows live progress, prints the summary with the checks' verdicts,
/// writes the report; returns the exit code. With a web UI it also feeds the UI: the run's start,
/// a snapshot per tick, and its final report or the error that kept it from starting.
pub fn execute(plan: Plan, opts: RunOptions, how: ExecuteOptions<'_>, executor: &mut Executor) -> i32 {
    let ExecuteOptions { quiet, dashboard, abort_on_fail, output, outputs, ui, export } = how;
    // Started before the run: a busy --metrics-addr or a bad URL is an error before anything is sent.
    let exporters =
        match Exporters::start(&export_options(export, outputs.otlp.as_ref(), &plan, opts.seed), &plan) {
            Ok(e) => std::cell::RefCell::new(e),
            Err(e) => {
                note!("error: {e}");
                return exit::USAGE;
            }
        };
    if let Some(url) = exporters.borrow().as_ref().and_then(Exporters::metrics_url) {
        note!("hornet: metrics at {url}");
    }
    let spans = match span_exporter(export, outputs.otlp.as_ref(), &plan, opts.seed, executor) {
        Ok(s) => s,
        Err(e) => {
            note!("error: {e}");
            return exit::USAGE;
        }
    };
    let control = ui.as_ref().and_then(|u| u.control.clone()).unwrap_or_default();
    crate::signals::install(control.clone());
    if !quiet {
        note!("hornet {}: seed {}", env!("CARGO_PKG_VERSION"), opts.seed);
    }
    if matches!(executor, Executor::Local)
        && let Some(warning) = crate::files::shortage_warning(&plan)
    {
        note!("{warning}");
    }
    let checks = Checks::from_plan(&plan);
    let hub = ui.map(|u| u.hub);
    let mut live = Live::new(quiet, dashboard, control.clone());
    live.describe(&plan, &opts);
    let stopper = control.clone();
    // Evaluated only when someone reads them: `--abort-on-fail` or the web UI.
    let watched = if abort_on_fail || hub.is_some() { checks.clone() } else { Checks::default() };
    let mut live_checks = LiveChecks::new(watched);
    let plan = Arc::new(plan);
    let mut run = Run::new(plan.clone(), opts).with_control(control);
    if let Some(spans) = &spans {
        run = run.with_spans(spans.sink());
    }
    let started = executor.start(run);
    let outcome = started.map(|run| {
        if let Some(hub) = hub {
            hub.run_started(run.control(), &plan, run.meta(), &checks);
        }
        let on_tick = &mut |mut t: hornet_runner::Tick<'_>| {
            if let Some(e) = exporters.borrow_mut().as_mut() {
                t.warnings.extend(e.tick(t.aggregate));
            }
            live_checks.tick(t.aggregate, t.live.elapsed);
            if abort_on_fail && let Some(which) = live_checks.abort_reason() {
                live.finish();
                note!("hornet: stopping: {which} (--abort-on-fail)");
                stopper.stop(StopReason::ChecksFailed);
            }
            if let Some(hub) = hub {
                hub.on_tick(&t, &live_checks);
            }
            live.tick(t)
        };
        run.wait_to_end(on_tick, &mut |aggregate| {
            if let Some(e) = exporters.borrow_mut().as_mut() {
                for warning in e.finish(aggregate) {
                    note!("WARNING: {warning}");
                }
            }
        })
    });
    live.finish();
    let mut outcome = match outcome {
        Ok(o) => o,
        Err(e) => {
            note!("error: {e}");
            if let Some(hub) = hub {
                hub.run_failed(&e.to_string());
            }
            // A signal during the `before` flow ends it at once, with the signal's exit code.
            return match e {
                RunError::StoppedBefore(reason) => reason.exit_code(),
                _ => exit::USAGE,
            };
        }
    };
    if let Some(spans) = spans {
        let url = spans.url().to_owned();
        let counts = spans.finish();
        note!("hornet: {} spans sent to {url}", counts.sent);
        if counts.dropped > 0 {
            outcome.report.warnings.push(format!(
                "{} spans of sampled requests were dropped, not exported: the span export's queue ({} spans) was full; lower sampleRate",
                counts.dropped,
                hornet_export::spans::QUEUE
            ));
        }
        if counts.failed > 0 {
            note!("hornet: {} spans could not be sent to {url}", counts.failed);
        }
    }
    let verdicts = hornet_verdict::evaluate(&checks, &outcome.report);
    verdicts.apply_to(&mut outcome.report);
    outcome.report.run.trace_link.clone_from(&outputs.trace_link);
    let mut code = if verdicts.failed() { exit::FAILED } else { exit::OK };
    // The files first, then the summary: a closed or full stdout cannot lose the reports.
    if let Some(path) = output
        && !report::write_json_report(&outcome.report, path)
    {
        code = exit::FAILED;
    }
    if !report::write_outputs(&outcome.report, outputs) {
        code = exit::FAILED;
    }
    let to_stderr = report::stdout_taken(output, outputs);
    if !report::print_text(&hornet_output::summary(&outcome.report), to_stderr) {
        code = exit::FAILED;
    }
    // The web UI shows the run as stopped once its reports are on disk.
    if let Some(hub) = hub {
        hub.run_finished(&outcome.report);
    }
    match outcome.stopped {
        Some(reason) => reason.exit_code(),
        None => code,
    }
}

#[cfg(test)]
mod tests {
    use super::redact_secrets;

    fn redacted(line: &str) -> String {
        redact_secrets(line.split(' ').map(String::from)).join(" ")
    }

    #[test]
    fn the_ui_token_and_var_values_are_redacted_in_every_spelling() {
        assert_eq!(
            redacted("hornet run s.yaml --var secret=S3CR3T --var=key=a=b --ui --ui-token T0K3N -o r.json"),
            "hornet run s.yaml --var secret=*** --var=key=*** --ui --ui-token *** -o r.json"
        );
        assert_eq!(
            redacted("hornet ui s.yaml --ui-token=T0K3N --var novalue"),
            "hornet ui s.yaml --ui-token=*** --var ***"
        );
        // Other options and positional arguments are kept, even after `--`.
        assert_eq!(
            redacted("hornet run -t http://h --seed 3 -- --var"),
            "hornet run -t http://h --seed 3 -- --var"
        );
        assert_eq!(redacted("hornet run s.yaml --var"), "hornet run s.yaml --var");
    }

    #[test]
    fn variables_json_keeps_its_names_and_redacts_its_values() {
        assert_eq!(
            redacted(r#"hornet run s.yaml -v {"key":"S3CR3T","n":1} --variables=[1]"#),
            r#"hornet run s.yaml -v {"key":"***","n":"***"} --variables=***"#
        );
        assert_eq!(
            redacted(r#"hornet run -v{"key":"S3CR3T"} s.yaml"#),
            r#"hornet run -v{"key":"***"} s.yaml"#
        );
    }

    #[test]
    fn remote_write_credentials_are_redacted() {
        assert_eq!(
            redacted(
                "hornet run s.yaml --prometheus-rw http://u:pw@h/w --prometheus-rw-header Authorization:Bearer.T0K3N --prometheus-rw-header X-Scope-OrgID:t1"
            ),
            "hornet run s.yaml --prometheus-rw http://u:***@h/w --prometheus-rw-header Authorization: *** --prometheus-rw-header X-Scope-OrgID:t1"
        );
        assert_eq!(
            redacted("hornet run s.yaml --prometheus-rw-header=X-Api-Key:k"),
            "hornet run s.yaml --prometheus-rw-header=X-Api-Key: ***"
        );
    }

    #[test]
    fn credential_headers_and_url_passwords_are_redacted_and_the_rest_kept() {
        let args = [
            "hornet",
            "quick",
            "http://me:pa55@127.0.0.1:8080/a?b=c",
            "-H",
            "Authorization: Bearer abc",
            "--header=X-Api-Key: k3y",
            "-HCookie: sid=1",
            "-H",
            "Accept: text/plain",
            "-t",
            "https://user@h/x",
        ];
        assert_eq!(
            redact_secrets(args.map(String::from)),
            [
                "hornet",
                "quick",
                "http://me:***@127.0.0.1:8080/a?b=c",
                "-H",
                "Authorization: ***",
                "--header=X-Api-Key: ***",
                "-HCookie: ***",
                "-H",
                "Accept: text/plain",
                "-t",
                "https://user@h/x",
            ]
        );
    }
}
