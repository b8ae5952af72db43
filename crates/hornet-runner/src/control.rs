//! The one handle through which a running test is steered from outside: today, stopping it
//! (Ctrl-C, SIGTERM, or a graceful stop). Rate and user changes will come through here too.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};

use tokio::sync::watch;

/// Why a run was stopped before its schedule ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StopReason {
    /// SIGINT / Ctrl-C: exit code 130.
    Interrupted,
    /// SIGTERM: exit code 143.
    Terminated,
    /// A check failed while running and `--abort-on-fail` was given: exit code 1.
    ChecksFailed,
}

impl StopReason {
    /// The conventional exit code for this reason.
    pub fn exit_code(self) -> i32 {
        match self {
            StopReason::Interrupted => 130,
            StopReason::Terminated => 143,
            StopReason::ChecksFailed => 1,
        }
    }
}

/// A cloneable, thread-safe handle to a run.
#[derive(Clone)]
pub struct Control {
    inner: Arc<Inner>,
}

struct Inner {
    reason: AtomicU8,
    stopped: watch::Sender<bool>,
}

impl Default for Control {
    fn default() -> Self {
        Control::new()
    }
}

impl Control {
    pub fn new() -> Control {
        let (stopped, _) = watch::channel(false);
        Control { inner: Arc::new(Inner { reason: AtomicU8::new(0), stopped }) }
    }

    /// Stops the run now: no new arrivals, VUs in flight are cancelled and counted, and the
    /// report is still produced. The first reason given wins.
    pub fn stop(&self, reason: StopReason) {
        let code = match reason {
            StopReason::Interrupted => 1,
            StopReason::Terminated => 2,
            StopReason::ChecksFailed => 3,
        };
        let _ = self.inner.reason.compare_exchange(0, code, Ordering::SeqCst, Ordering::SeqCst);
        self.inner.stopped.send_replace(true);
    }

    /// The reason the run was stopped, if it was.
    pub fn stop_reason(&self) -> Option<StopReason> {
        match self.inner.reason.load(Ordering::SeqCst) {
            1 => Some(StopReason::Interrupted),
            2 => Some(StopReason::Terminated),
            3 => Some(StopReason::ChecksFailed),
            _ => None,
        }
    }

    /// A receiver that changes to `true` when the run is stopped.
    pub(crate) fn subscribe(&self) -> watch::Receiver<bool> {
        self.inner.stopped.subscribe()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn first_reason_wins_and_subscribers_see_it() {
        let c = Control::new();
        let rx = c.subscribe();
        assert_eq!(c.stop_reason(), None);
        assert!(!*rx.borrow());
        c.stop(StopReason::Terminated);
        c.stop(StopReason::Interrupted);
        assert_eq!(c.stop_reason(), Some(StopReason::Terminated));
        assert!(*rx.borrow());
        assert_eq!(StopReason::Interrupted.exit_code(), 130);
    }
}
