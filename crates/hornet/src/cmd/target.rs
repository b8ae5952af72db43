//! `hornet target`: the embedded target server on its own.

use hornet_target::{RunningTarget, TargetOptions};

use super::exit;
use crate::cli::TargetArgs;

pub fn target(args: TargetArgs) -> i32 {
    let opts = TargetOptions { addr: args.addr, threads: args.threads.max(1) };
    let started = match (args.record, args.tls) {
        (true, tls) => RunningTarget::start_recording(opts, tls),
        (false, true) => RunningTarget::start_tls(opts),
        (false, false) => RunningTarget::start(opts),
    };
    let running = match started {
        Ok(t) => t,
        Err(e) => {
            eprintln!("error: could not listen on {}: {e}", args.addr);
            return exit::USAGE;
        }
    };
    if !args.addr.ip().is_loopback() {
        eprintln!("warning: listening on {}, which is not a loopback address", args.addr);
    }
    println!("hornet target listening on {}\n{}", running.url(), hornet_target::endpoints_help());
    if args.record {
        println!(
            "recording requests: GET {} reads them, DELETE clears them; unknown paths answer a generic JSON document",
            hornet_target::record::LOG_PATH
        );
    }
    let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
        return exit::FAILED;
    };
    rt.block_on(async {
        let _ = tokio::signal::ctrl_c().await;
    });
    running.stop();
    exit::OK
}
