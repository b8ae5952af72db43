//! `hornet import har`: writes the script `hornet-import` makes from a recording, checks that it
//! loads, and with `--check` replays it once (functional mode: one virtual user, once) and
//! reports each request whose status differs from the recording.

use std::sync::Arc;

use hornet_import::{Imported, Options};
use hornet_runner::{Run, RunOptions, Workload};
use hornet_script::LoadOptions;

use super::{command_line, exit, fresh_seed};
use crate::cli::ImportHarArgs;

pub fn har(args: ImportHarArgs) -> i32 {
    let name = args.recording.display().to_string();
    if args.output.as_deref().is_some_and(|o| o == args.recording) {
        note!("error: -o {name} would overwrite the recording");
        return exit::USAGE;
    }
    let text = match std::fs::read(&args.recording) {
        Ok(bytes) => match String::from_utf8(bytes) {
            Ok(text) => text,
            Err(e) => {
                note!(
                    "error: {name}: not text (invalid UTF-8 at byte {}): a HAR file is JSON",
                    e.utf8_error().valid_up_to()
                );
                return exit::USAGE;
            }
        },
        Err(e) => {
            note!("error: cannot read `{name}`: {e}");
            return exit::USAGE;
        }
    };
    let options = Options {
        file_name: name.clone(),
        include_hosts: args.include_hosts.clone(),
        exclude: args.exclude.clone(),
        target: args.target.clone(),
        think: args.think,
    };
    let imported = match hornet_import::import_har(&text, &options) {
        Ok(imported) => imported,
        Err(e) => {
            note!("error: {e}");
            return exit::USAGE;
        }
    };
    let script_name =
        args.output.as_ref().map_or_else(|| "the script".to_string(), |p| p.display().to_string());
    match &args.output {
        Some(path) => {
            if let Err(e) = std::fs::write(path, &imported.yaml) {
                note!("error: cannot write `{}`: {e}", path.display());
                return exit::USAGE;
            }
        }
        None => {
            if !super::report::print_text(imported.yaml.trim_end(), false) {
                return exit::FAILED;
            }
        }
    }
    note!(
        "hornet import: {script_name}: {} request(s), {} value(s) correlated, {} secret(s) in config.variables, {} left out as noise",
        imported.requests.len(),
        imported.correlations.len(),
        imported.secrets.len(),
        imported.skipped.len()
    );
    for unresolved in &imported.unresolved {
        note!("  check by hand: {unresolved}");
    }
    // The script must load; if it does not, that is the importer's fault, and the user is told.
    if let Err(e) = hornet_script::parse_str(&imported.yaml, &script_name, &LoadOptions::default()) {
        note!("error: the imported script does not load (please report this with the recording):\n{e}");
        return exit::FAILED;
    }
    if args.check { check(&imported, args.insecure) } else { exit::OK }
}

/// Replays the script once and reports each request whose status differs from the recording.
fn check(imported: &Imported, insecure: bool) -> i32 {
    let load = LoadOptions { insecure, ..LoadOptions::default() };
    let plan = match hornet_script::parse_str(&imported.check_yaml, "check", &load) {
        Ok(plan) => plan,
        Err(e) => {
            note!("error: the check script does not load:\n{e}");
            return exit::FAILED;
        }
    };
    let target = plan.target.clone().unwrap_or_default();
    let options = RunOptions {
        seed: fresh_seed(),
        threads: 1,
        workload: Workload::Open,
        latency_from_intended: false,
        command: command_line(),
        log: false,
    };
    let outcome = match Run::new(Arc::new(plan), options).start() {
        Ok(run) => run.wait(&mut |_| {}),
        Err(e) => {
            note!("error: the check could not start: {e}");
            return exit::USAGE;
        }
    };
    let report = &outcome.report;
    let lines = check_lines(imported, report);
    note!("check: replayed {} request(s) once against {target}", imported.requests.len());
    for line in &lines {
        note!("  {line}");
    }
    if lines.is_empty() {
        note!("check: every request got the status it got in the recording");
        exit::OK
    } else {
        let differing = imported
            .requests
            .iter()
            .filter(|r| lines.iter().any(|l| l.starts_with(&format!("{}:", r.check_name))))
            .count();
        note!("check: {differing} of {} request(s) differ from the recording", imported.requests.len());
        exit::FAILED
    }
}

/// One line per request whose replay differs from the recording: another status, an error
/// (a capture that found nothing, say), or not sent at all.
fn check_lines(imported: &Imported, report: &hornet_metrics::report::Report) -> Vec<String> {
    let mut lines = Vec::new();
    for request in &imported.requests {
        let endpoint = report.endpoints.iter().find(|e| e.name == request.check_name);
        let recorded = request.recorded_status;
        let label = &request.check_name;
        let Some(endpoint) = endpoint.filter(|e| e.requests > 0) else {
            lines
                .push(format!("{label}: recorded {recorded}, not sent (the virtual user stopped before it)"));
            continue;
        };
        let mut got: Vec<&String> = endpoint.codes.keys().collect();
        // Each redirect hop hornet followed counts as a response of its own (its 3xx) beside the
        // final status, which is the one the recording has.
        if !(300..400).contains(&recorded) {
            let finals: Vec<&String> = got.iter().copied().filter(|c| !c.starts_with('3')).collect();
            if !finals.is_empty() {
                got = finals;
            }
        }
        if !(got.len() == 1 && got[0] == &recorded.to_string()) {
            let got = if got.is_empty() {
                "no response".to_string()
            } else {
                got.iter().map(|c| c.as_str()).collect::<Vec<_>>().join(", ")
            };
            lines.push(format!("{label}: recorded {recorded}, got {got}"));
        }
        for error in report.errors.iter().filter(|e| e.endpoint.as_deref() == Some(label.as_str())) {
            lines.push(format!("{label}: {}: {}", error.kind, error.first_message));
        }
    }
    lines
}
