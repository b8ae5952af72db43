//! Turns SIGINT and SIGTERM into a graceful stop of the run; a second SIGINT exits at once.

use hornet_runner::{Control, StopReason};

/// Listens for signals on a small background thread for as long as the process lives.
pub fn install(control: Control) {
    let spawned = std::thread::Builder::new().name("hornet-signals".into()).spawn(move || {
        let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
            return;
        };
        rt.block_on(async move {
            #[cfg(unix)]
            {
                use tokio::signal::unix::{SignalKind, signal};
                let (Ok(mut int), Ok(mut term)) =
                    (signal(SignalKind::interrupt()), signal(SignalKind::terminate()))
                else {
                    return;
                };
                let mut interrupts = 0;
                loop {
                    tokio::select! {
                        _ = int.recv() => {
                            interrupts += 1;
                            if interrupts > 1 {
                                crate::keys::restore();
                                eprintln!("\nhornet: interrupted twice, exiting without a report");
                                std::process::exit(130);
                            }
                            eprintln!("\nhornet: interrupted; stopping VUs and writing the report (Ctrl-C again to quit now)");
                            control.stop(StopReason::Interrupted);
                        }
                        _ = term.recv() => {
                            control.stop(StopReason::Terminated);
                        }
                    }
                }
            }
            #[cfg(not(unix))]
            {
                if tokio::signal::ctrl_c().await.is_ok() {
                    control.stop(StopReason::Interrupted);
                }
            }
        });
    });
    if let Err(e) = spawned {
        eprintln!("hornet: could not install signal handlers: {e}");
    }
}
