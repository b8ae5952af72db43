//! What the Start and load controls ask for, validated, and the plan a custom Start runs.

use std::time::Duration;

use hornet_runner::LoadRequest;
use hornet_script::Plan;
use hornet_script::plan::{ArrivalMode, Phase, PhaseKind, UserRamp};
use serde::Deserialize;

/// How long a custom Start runs when no duration is given: until Stop, capped at a day.
pub const DEFAULT_RUN_CAP: Duration = Duration::from_secs(24 * 3600);
/// Largest arrival rate a control accepts (per second).
pub const MAX_RATE: f64 = 1_000_000.0;
/// Largest user count a control accepts.
pub const MAX_USERS: u64 = 1_000_000;
/// Longest ramp or duration a control accepts, seconds (a week).
pub const MAX_SECONDS: f64 = 7.0 * 24.0 * 3600.0;

/// The load of a Start.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum StartLoad {
    /// The script's phases, as written.
    Scripted,
    /// Open model: `rate` arrivals per second.
    Rate(f64),
    /// Closed model: `users` looping users.
    Users(u64),
}

/// A validated Start request.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct StartRequest {
    /// As scripted, a rate or a number of users.
    pub load: StartLoad,
    /// Linear ramp from 0 to the rate or user count.
    pub ramp: Duration,
    /// How long the steady part lasts ([`DEFAULT_RUN_CAP`] when not given).
    pub duration: Option<Duration>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    rate: Option<f64>,
    users: Option<f64>,
    ramp_s: Option<f64>,
    duration_s: Option<f64>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct LoadBody {
    rate: Option<f64>,
    users: Option<f64>,
    factor: Option<f64>,
}

/// Parses a JSON body; an empty body is `{}`.
fn parse_body<T: for<'de> Deserialize<'de> + Default>(body: &[u8]) -> Result<T, String> {
    if body.iter().all(u8::is_ascii_whitespace) {
        return Ok(T::default());
    }
    serde_json::from_slice(body).map_err(|e| format!("invalid JSON body: {e}"))
}

fn seconds(name: &str, v: Option<f64>) -> Result<Option<Duration>, String> {
    match v {
        None => Ok(None),
        Some(s) if s.is_finite() && (0.0..=MAX_SECONDS).contains(&s) => Ok(Some(Duration::from_secs_f64(s))),
        Some(s) => Err(format!("`{name}` must be a number of seconds between 0 and {MAX_SECONDS}, not {s}")),
    }
}

fn rate(v: f64, min_exclusive: bool) -> Result<f64, String> {
    let ok = v.is_finite() && v <= MAX_RATE && if min_exclusive { v > 0.0 } else { v >= 0.0 };
    ok.then_some(v).ok_or_else(|| format!("`rate` must be a number in (0, {MAX_RATE}], not {v}"))
}

fn users(v: f64, allow_zero: bool) -> Result<u64, String> {
    let ok =
        v.is_finite() && v.fract() == 0.0 && v <= MAX_USERS as f64 && (v >= 1.0 || (allow_zero && v == 0.0));
    ok.then_some(v as u64)
        .ok_or_else(|| format!("`users` must be a whole number from 1 to {MAX_USERS}, not {v}"))
}

impl StartRequest {
    /// Parses `POST /api/start`'s body: `{}` (as scripted), `{"rate": R}` or `{"users": U}`, with
    /// optional `ramp_s` and `duration_s`.
    pub fn parse(body: &[u8]) -> Result<StartRequest, String> {
        let b: StartBody = parse_body(body)?;
        let ramp = seconds("ramp_s", b.ramp_s)?;
        let duration = seconds("duration_s", b.duration_s)?;
        if duration.is_some_and(|d| d.is_zero()) {
            return Err("`duration_s` must be more than 0".into());
        }
        let load = match (b.rate, b.users) {
            (Some(_), Some(_)) => return Err("give `rate` or `users`, not both".into()),
            (Some(r), None) => StartLoad::Rate(rate(r, true)?),
            (None, Some(u)) => StartLoad::Users(users(u, false)?),
            (None, None) => {
                if ramp.is_some() || duration.is_some() {
                    return Err(
                        "`ramp_s` and `duration_s` need `rate` or `users` (`{}` runs the script as written)"
                            .into(),
                    );
                }
                StartLoad::Scripted
            }
        };
        Ok(StartRequest { load, ramp: ramp.unwrap_or_default(), duration })
    }

    /// The plan to run: `base` as written, or `base` with its phases replaced by a linear ramp
    /// from 0 to the rate (or user count) over `ramp`, then that load for `duration` (a day when
    /// not given, so it runs until Stop).
    pub fn plan(&self, base: &Plan) -> Plan {
        let mut plan = base.clone();
        let steady = self.duration.unwrap_or(DEFAULT_RUN_CAP);
        let phase = |name: &str, duration: Duration, kind: PhaseKind| Phase {
            name: Some(name.to_owned()),
            duration,
            kind,
            max_vusers: None,
            mode: ArrivalMode::Uniform,
            pacing: None,
        };
        let mut phases = Vec::new();
        match self.load {
            StartLoad::Scripted => return plan,
            StartLoad::Rate(r) => {
                if !self.ramp.is_zero() {
                    phases.push(phase("ramp", self.ramp, PhaseKind::Rate { rate: 0.0, ramp_to: Some(r) }));
                }
                phases.push(phase(&format!("{r}/s"), steady, PhaseKind::Rate { rate: r, ramp_to: None }));
            }
            StartLoad::Users(u) => {
                if !self.ramp.is_zero() {
                    phases.push(phase(
                        "ramp",
                        self.ramp,
                        PhaseKind::Users { users: u, ramp: UserRamp::Linear },
                    ));
                }
                phases.push(phase(
                    &format!("{u} users"),
                    steady,
                    PhaseKind::Users { users: u, ramp: UserRamp::Immediate },
                ));
            }
        }
        plan.phases = phases;
        plan
    }
}

/// Which absolute load changes a running plan understands.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Model {
    /// It has arrival-rate, arrival-count or request-rate phases (a rate can be set).
    pub rate: bool,
    /// It has closed-model phases (a user count can be set).
    pub users: bool,
}

impl Model {
    /// The model of `plan`'s phases.
    pub fn of(plan: &Plan) -> Model {
        let mut m = Model::default();
        for p in &plan.phases {
            match p.kind {
                PhaseKind::Rate { .. } | PhaseKind::Count { .. } | PhaseKind::RequestRate { .. } => {
                    m.rate = true
                }
                PhaseKind::Users { .. } => m.users = true,
                PhaseKind::Pause => {}
            }
        }
        m
    }

    /// The model a Start runs.
    pub fn of_start(start: &StartRequest, scripted: Model) -> Model {
        match start.load {
            StartLoad::Scripted => scripted,
            StartLoad::Rate(_) => Model { rate: true, users: false },
            StartLoad::Users(_) => Model { rate: false, users: true },
        }
    }
}

/// Parses `POST /api/load`'s body (`{"rate": R}`, `{"users": U}` or `{"factor": F}`) for a run of
/// `model`.
pub fn parse_load(body: &[u8], model: Model) -> Result<LoadRequest, String> {
    let b: LoadBody = parse_body(body)?;
    match (b.rate, b.users, b.factor) {
        (Some(r), None, None) => {
            if !model.rate {
                return Err(
                    "this run has no arrival rate to set (closed model); set `users` or `factor`".into()
                );
            }
            Ok(LoadRequest::Rate(rate(r, false)?))
        }
        (None, Some(u), None) => {
            if !model.users {
                return Err("this run has no user count to set (open model); set `rate` or `factor`".into());
            }
            Ok(LoadRequest::Users(users(u, true)?))
        }
        (None, None, Some(f)) if f.is_finite() && (0.0..=1000.0).contains(&f) => Ok(LoadRequest::Factor(f)),
        (None, None, Some(f)) => Err(format!("`factor` must be a number from 0 to 1000, not {f}")),
        _ => Err("give exactly one of `rate`, `users` or `factor`".into()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn start_bodies() {
        assert_eq!(StartRequest::parse(b"").map(|s| s.load), Ok(StartLoad::Scripted));
        assert_eq!(StartRequest::parse(b"{}").map(|s| s.load), Ok(StartLoad::Scripted));
        let s = StartRequest::parse(br#"{"rate": 50, "ramp_s": 10, "duration_s": 60}"#)
            .unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(s.load, StartLoad::Rate(50.0));
        assert_eq!((s.ramp, s.duration), (Duration::from_secs(10), Some(Duration::from_secs(60))));
        assert_eq!(StartRequest::parse(br#"{"users": 3}"#).map(|s| s.load), Ok(StartLoad::Users(3)));
        for bad in [
            &br#"{"rate": 1, "users": 2}"#[..],
            br#"{"rate": -1}"#,
            br#"{"rate": 0}"#,
            br#"{"users": 1.5}"#,
            br#"{"users": 0}"#,
            br#"{"ramp_s": 5}"#,
            br#"{"rate": 5, "duration_s": 0}"#,
            br#"{"rate": 5, "bogus": 1}"#,
            br#"{"rate": "x"}"#,
            b"not json",
        ] {
            assert!(StartRequest::parse(bad).is_err(), "{}", String::from_utf8_lossy(bad));
        }
    }

    #[test]
    fn load_bodies_respect_the_model() {
        let open = Model { rate: true, users: false };
        let closed = Model { rate: false, users: true };
        assert_eq!(parse_load(br#"{"rate": 20}"#, open), Ok(LoadRequest::Rate(20.0)));
        assert!(parse_load(br#"{"rate": 20}"#, closed).is_err());
        assert_eq!(parse_load(br#"{"users": 0}"#, closed), Ok(LoadRequest::Users(0)));
        assert!(parse_load(br#"{"users": 4}"#, open).is_err());
        assert_eq!(parse_load(br#"{"factor": 2}"#, closed), Ok(LoadRequest::Factor(2.0)));
        assert!(parse_load(br#"{"factor": 2000}"#, open).is_err());
        assert!(parse_load(b"{}", open).is_err());
        assert!(parse_load(br#"{"rate": 1, "factor": 1}"#, open).is_err());
    }
}
