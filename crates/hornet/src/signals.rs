//! Turns SIGINT, SIGTERM and SIGHUP into a stop of the run that still prints the summary and
//! writes the reports (exit codes 130, 143 and 129); a second SIGINT exits at once. SIGHUP is left
//! alone when it was ignored at start (`nohup hornet run ...`).
//!
//! One listener serves the whole process; [`install`] points it at the current run's control, so a
//! process that runs several tests (`hornet ui`) steers whichever is running, and [`received`] tells
//! it a signal came while nothing ran.

use std::sync::atomic::{AtomicI32, Ordering};
use std::sync::{Mutex, Once, PoisonError};

use hornet_runner::{Control, StopReason};

/// The run that signals stop, if any.
static TARGET: Mutex<Option<Control>> = Mutex::new(None);
/// The exit code of the first signal received (130, 143 or 129), 0 before.
static RECEIVED: AtomicI32 = AtomicI32::new(0);
static LISTENER: Once = Once::new();

/// The exit code of the first SIGINT (130), SIGTERM (143) or SIGHUP (129) received, if one was.
pub fn received() -> Option<i32> {
    Some(RECEIVED.load(Ordering::SeqCst)).filter(|&c| c != 0)
}

/// Points the signal listener at `control` (a run), or at nothing (`None`: between runs), starting
/// the listener the first time.
pub fn target(control: Option<Control>) {
    *TARGET.lock().unwrap_or_else(PoisonError::into_inner) = control;
    LISTENER.call_once(listen);
}

fn signalled(reason: StopReason) -> bool {
    let _ = RECEIVED.compare_exchange(0, reason.exit_code(), Ordering::SeqCst, Ordering::SeqCst);
    let target = TARGET.lock().unwrap_or_else(PoisonError::into_inner).clone();
    match target {
        Some(c) => {
            c.stop(reason);
            true
        }
        None => false,
    }
}

/// Listens for signals on a small background thread for as long as the process lives, stopping
/// `control`.
pub fn install(control: Control) {
    target(Some(control));
}

fn listen() {
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
                // Listening to SIGHUP replaces its disposition: not when `nohup` asked to ignore it.
                let mut hangup = if hangup_ignored() { None } else { signal(SignalKind::hangup()).ok() };
                let mut interrupts = 0;
                loop {
                    tokio::select! {
                        _ = int.recv() => {
                            interrupts += 1;
                            if interrupts > 1 {
                                hornet_tui::terminal::restore();
                                eprintln!("\nhornet: interrupted twice, exiting without a report");
                                std::process::exit(130);
                            }
                            if signalled(StopReason::Interrupted) {
                                eprintln!("\nhornet: interrupted; stopping VUs and writing the report (Ctrl-C again to quit now)");
                            } else {
                                eprintln!("\nhornet: interrupted");
                            }
                        }
                        _ = term.recv() => {
                            signalled(StopReason::Terminated);
                        }
                        Some(()) = async { hangup.as_mut()?.recv().await } => {
                            // The terminal is gone: nothing to say on it.
                            signalled(StopReason::HungUp);
                        }
                    }
                }
            }
            #[cfg(not(unix))]
            {
                if tokio::signal::ctrl_c().await.is_ok() {
                    signalled(StopReason::Interrupted);
                }
            }
        });
    });
    if let Err(e) = spawned {
        eprintln!("hornet: could not install signal handlers: {e}");
    }
}

/// True when SIGHUP is ignored (as `nohup` leaves it).
#[cfg(unix)]
fn hangup_ignored() -> bool {
    // SAFETY: sigaction with a null new action only reads the current one into `current`, a
    // zeroed struct that lives for the call.
    unsafe {
        let mut current: libc::sigaction = std::mem::zeroed();
        libc::sigaction(libc::SIGHUP, std::ptr::null(), &mut current) == 0
            && current.sa_sigaction == libc::SIG_IGN
    }
}
