//! The page's controls on the session: Start (queued for the command that runs tests, which
//! takes it with [`Hub::wait_start`]), load changes, Stop and Reset, each allowed only in the
//! session states where it makes sense (409 otherwise).

use std::sync::PoisonError;
use std::time::Duration;

use hornet_runner::{Control, LoadRequest, StopReason};
use serde_json::{Value, json};

use super::{ApiError, History, Hub, RunState, Start};
use crate::plan::{Model, StartRequest};

impl Hub {
    /// `POST /api/start`: queues a Start for the command running tests ([`Hub::wait_start`]).
    pub fn start(&self, request: StartRequest) -> Result<u64, ApiError> {
        let mut i = self.lock();
        if !matches!(i.state, RunState::Ready | RunState::Stopped) {
            return Err(ApiError::new(409, format!("a run is {}", state_word(i.state))));
        }
        let control = Control::new();
        i.run += 1;
        i.state = RunState::Starting;
        i.control = Some(control.clone());
        i.model = Model::of_start(&request, self.info.scripted);
        i.load = describe(&request);
        i.message = None;
        i.history = History::default();
        i.report = None;
        i.pending = Some(Start { request, control });
        let run = i.run;
        drop(i);
        self.started.notify_all();
        self.publish_idle();
        Ok(run)
    }

    /// Waits up to `timeout` for a Start (see [`Hub::start`]).
    pub fn wait_start(&self, timeout: Duration) -> Option<Start> {
        let i = self.lock();
        let (mut i, _) = self
            .started
            .wait_timeout_while(i, timeout, |i| i.pending.is_none())
            .unwrap_or_else(PoisonError::into_inner);
        i.pending.take()
    }

    /// `POST /api/load`.
    pub fn load(&self, body: &[u8]) -> Result<Value, ApiError> {
        let i = self.lock();
        let control = match (&i.control, i.state) {
            (Some(c), RunState::Starting | RunState::Running) => c.clone(),
            _ => {
                return Err(ApiError::new(
                    409,
                    format!("no run to change: the session is {}", state_word(i.state)),
                ));
            }
        };
        let request = crate::plan::parse_load(body, i.model).map_err(|m| ApiError::new(400, m))?;
        drop(i);
        control.request(request);
        let what = match request {
            LoadRequest::Rate(r) => json!({ "rate": r }),
            LoadRequest::Users(u) => json!({ "users": u }),
            LoadRequest::Factor(f) | LoadRequest::Scale(f) => json!({ "factor": f }),
        };
        Ok(json!({ "accepted": what, "applied_within_s": 1 }))
    }

    /// `POST /api/stop`: a graceful stop (like the terminal's `q`).
    pub fn stop(&self) -> Result<(), ApiError> {
        let mut i = self.lock();
        match (&i.control, i.state) {
            (Some(c), RunState::Starting | RunState::Running) => c.stop(StopReason::Quit),
            _ => {
                return Err(ApiError::new(
                    409,
                    format!("no run to stop: the session is {}", state_word(i.state)),
                ));
            }
        }
        i.state = RunState::Stopping;
        drop(i);
        self.restate();
        Ok(())
    }

    /// `POST /api/reset`.
    pub fn reset(&self) -> Result<(), ApiError> {
        let i = self.lock();
        match (&i.control, i.state) {
            (Some(c), RunState::Starting | RunState::Running) => c.reset_stats(),
            _ => {
                return Err(ApiError::new(
                    409,
                    format!("no run to reset: the session is {}", state_word(i.state)),
                ));
            }
        }
        Ok(())
    }
}

/// The session state in an error message: "a run is starting", "the session is stopped".
fn state_word(s: RunState) -> &'static str {
    match s {
        RunState::Ready => "ready (no run yet)",
        RunState::Starting => "starting",
        RunState::Running => "running",
        RunState::Stopping => "stopping",
        RunState::Stopped => "stopped",
    }
}

/// What a Start asks for, as the page shows it: "as scripted", "50/s, ramp 10 s", "10 users".
fn describe(r: &StartRequest) -> String {
    use crate::plan::StartLoad;
    let ramp = if r.ramp.is_zero() { String::new() } else { format!(", ramp {:.0} s", r.ramp.as_secs_f64()) };
    let dur = r.duration.map(|d| format!(", for {:.0} s", d.as_secs_f64())).unwrap_or_default();
    match r.load {
        StartLoad::Scripted => "as scripted".into(),
        StartLoad::Rate(x) => format!("{x}/s{ramp}{dur}"),
        StartLoad::Users(u) => format!("{u} users{ramp}{dur}"),
    }
}
