//! The workload: `config.phases`, the `config.stages` shorthand, `config.startRate` and
//! `config.mode`. A phase is open (`arrivalRate`, `arrivalCount`), closed (`users`, `rampUsers`),
//! request-rate (`requestRate`) or a `pause`; the keys that only make sense with one kind are
//! errors with the others, so nothing a script says is silently ignored.

use super::{Cx, DURATION_HELP, Map, PHASE, Result, STAGE, is_null, scalar_text, suggest};
use std::time::Duration;

use crate::plan::{
    ArrivalMode, DEFAULT_REQUEST_RATE_VUSERS, MAX_ARRIVAL_RATE, Pacing, Phase, PhaseKind, UserRamp,
};
use crate::yaml::{Entry, Node, ScalarKind, Value};

/// The keys that say what a phase does; a phase has exactly one of them (or `pause`).
const LOADS: [&str; 5] = ["arrivalRate", "arrivalCount", "users", "rampUsers", "requestRate"];

/// The values of `mode`.
const MODES: [&str; 2] = ["uniform", "poisson"];

const STAGE_EXAMPLE: &str = "for example `- { duration: 30s, target: 100 }` (users) or `- { duration: 30s, rate: 50 }` (arrivals per second)";

fn is_closed(load: &str) -> bool {
    matches!(load, "users" | "rampUsers")
}

impl Cx<'_> {
    /// The phases of the test: `config.phases`, or `config.stages` expanded into phases.
    pub(super) fn workload(&self, config: &Map<'_>) -> Result<Vec<Phase>> {
        let default_mode = config.get("mode").map(|e| self.mode(&e.value)).transpose()?.unwrap_or_default();
        let start_rate = config.get("startRate");
        match (config.get("phases"), config.get("stages")) {
            (Some(p), Some(s)) => {
                Err(self.err(s.key_span, "`config` has both `stages` and `phases`").with_help(format!(
                    "`stages` is a shorthand that expands into phases; keep it or `phases` ({}), not both",
                    self.line_of(p.key_span, s.key_span)
                )))
            }
            (None, Some(s)) => self.stages(&s.value, start_rate, default_mode),
            (phases, None) => {
                if let Some(sr) = start_rate {
                    return Err(self.start_rate_misplaced(sr, "there are no `stages`"));
                }
                match phases {
                    None => Ok(Vec::new()),
                    Some(e) if is_null(&e.value) => Ok(Vec::new()),
                    Some(e) => {
                        let items = self.list(&e.value, "`phases`")?;
                        items.iter().map(|p| self.phase(p, default_mode)).collect()
                    }
                }
            }
        }
    }

    fn start_rate_misplaced(&self, start_rate: &Entry, why: &str) -> crate::ScriptError {
        self.err(start_rate.key_span, format!("`startRate` goes with `stages` that set a `rate`, but {why}"))
            .with_help("`startRate` is the arrival rate the first `rate` stage ramps from; remove it, or write the rates of `phases` with `arrivalRate`")
    }

    /// `mode`: how arrivals are spaced.
    pub(super) fn mode(&self, node: &Node) -> Result<ArrivalMode> {
        match scalar_text(node) {
            Some("uniform") => Ok(ArrivalMode::Uniform),
            Some("poisson") => Ok(ArrivalMode::Poisson),
            Some(other) if matches!(&node.value, Value::Scalar(s) if s.kind == ScalarKind::Str) => {
                let err = self.type_err(node, "`mode`", "`uniform` or `poisson`");
                Err(match suggest(other, &MODES) {
                    Some(s) => err.with_help(format!("did you mean `{s}`?")),
                    None => err.with_help(
                        "`uniform` spaces arrivals evenly; `poisson` draws them at random with the same mean rate (repeatable with --seed)",
                    ),
                })
            }
            _ => Err(self.type_err(node, "`mode`", "`uniform` or `poisson`")),
        }
    }

    /// One item of `config.phases`.
    fn phase(&self, node: &Node, default_mode: ArrivalMode) -> Result<Phase> {
        let map = self.map(node, "each phase", &PHASE, false)?;
        let name = map.get("name").map(|e| self.text(&e.value, "`name`").map(str::to_string)).transpose()?;
        let mode_entry = map.get("mode");
        let mode = mode_entry.map(|e| self.mode(&e.value)).transpose()?.unwrap_or(default_mode);
        let max_vusers_entry = map.get("maxVusers");
        let max_vusers = max_vusers_entry.map(|e| self.positive(&e.value, "`maxVusers`")).transpose()?;
        let [duration, ramp, spawn] = ["duration", "rampTo", "spawnRate"].map(|k| map.get(k));
        let pacing_keys = map.any_of(&["pacing", "throughput"]);
        let loads = map.any_of(&LOADS);

        if let Some(pause) = map.get("pause") {
            let other = map.entries.iter().copied().find(|e| {
                LOADS.contains(&e.key.as_str())
                    || matches!(e.key.as_str(), "duration" | "rampTo" | "spawnRate" | "pacing" | "throughput")
            });
            if let Some(other) = other {
                return Err(self
                    .err(other.key_span, format!("a `pause` phase takes no `{}`", other.key))
                    .with_help("a pause is just `- pause: 10`; put the load in a phase of its own"));
            }
            let d = self.duration(&pause.value, "`pause`")?;
            return Ok(Phase {
                name,
                duration: d,
                kind: PhaseKind::Pause,
                max_vusers,
                mode: ArrivalMode::Uniform,
                pacing: None,
            });
        }

        let load = match loads.as_slice() {
            [] => {
                if let Some(r) = ramp {
                    return Err(self
                        .err(r.key_span, "`rampTo` needs an `arrivalRate` to ramp from")
                        .with_help("add `arrivalRate: <start rate>` to this phase"));
                }
                if let Some(s) = spawn {
                    return Err(self
                        .err(s.key_span, "`spawnRate` needs `users`: the number of users to start")
                        .with_help("add `users: <count>` to this phase"));
                }
                return Err(self
                    .err(
                        map.span,
                        "a phase needs `arrivalRate`, `arrivalCount`, `users`, `rampUsers`, `requestRate` or `pause`",
                    )
                    .with_help(
                        "for example `- duration: 60` with `arrivalRate: 10` (new users per second) or `users: 50` (users kept running)",
                    ));
            }
            [first, second, ..] => {
                let help = match (first.key.as_str(), second.key.as_str()) {
                    ("users", "rampUsers") | ("rampUsers", "users") => {
                        "`users: N` holds N users (started at once, or `spawnRate` per second); `rampUsers: N` changes the count linearly to N over `duration`"
                    }
                    (a, b) if is_closed(a) != is_closed(b) => {
                        "an open-model phase (arrivals) and a closed-model phase (`users`, `rampUsers`) are different phases: split it into two"
                    }
                    _ => "split it into two phases",
                };
                return Err(self
                    .err(
                        second.key_span,
                        format!("a phase has `{}` or `{}`, not both", first.key, second.key),
                    )
                    .with_help(help));
            }
            [only] => *only,
        };
        let kind_key = load.key.as_str();
        let closed = is_closed(kind_key);

        if let Some(r) = ramp
            && !matches!(kind_key, "arrivalRate" | "requestRate")
        {
            return Err(if kind_key == "arrivalCount" {
                self.err(r.key_span, "`rampTo` goes with `arrivalRate`, not `arrivalCount`")
                    .with_help("use `arrivalRate` and `rampTo` to ramp the rate up or down")
            } else {
                self.err(
                    r.key_span,
                    format!("`rampTo` goes with `arrivalRate` or `requestRate`, not `{kind_key}`"),
                )
                .with_help(
                    "to change the number of users over the phase, use `rampUsers: <users at the end>`",
                )
            });
        }
        if let Some(s) = spawn
            && kind_key != "users"
        {
            let help = if kind_key == "rampUsers" {
                "`rampUsers` spreads the change over `duration` by itself; to start users at a fixed rate, write `users: N` with `spawnRate`"
            } else {
                "`spawnRate` is how many users start per second in a closed-model phase (`users: N`)"
            };
            return Err(self
                .err(s.key_span, format!("`spawnRate` goes with `users`, not `{kind_key}`"))
                .with_help(help));
        }
        if !closed && let Some(p) = pacing_keys.first() {
            return Err(self.pacing_on_open(p, kind_key));
        }
        if closed {
            if let Some(m) = max_vusers_entry {
                return Err(self
                    .err(
                        m.key_span,
                        format!("`maxVusers` does not go with `{kind_key}`: the user count is the cap"),
                    )
                    .with_help(
                        "remove `maxVusers`; a closed-model phase never runs more users than it names",
                    ));
            }
            if let Some(m) = mode_entry {
                return Err(self
                    .err(m.key_span, format!("`mode` does not go with `{kind_key}`: a closed-model phase has no arrivals to space"))
                    .with_help("remove `mode`; `spawnRate` or `rampUsers` set how users start"));
            }
        }

        let kind = match kind_key {
            "arrivalRate" | "requestRate" => {
                let start = self.non_negative(&load.value, &format!("`{kind_key}`"))?;
                let end = ramp.map(|e| self.non_negative(&e.value, "`rampTo`")).transpose()?;
                if start == 0.0 && end.is_none_or(|e| e == 0.0) {
                    PhaseKind::Pause
                } else if kind_key == "arrivalRate" {
                    PhaseKind::Rate { rate: start, ramp_to: end }
                } else {
                    PhaseKind::RequestRate { rate: start, ramp_to: end }
                }
            }
            "arrivalCount" => {
                let n = self.whole(&load.value, "`arrivalCount`")?;
                if n == 0 { PhaseKind::Pause } else { PhaseKind::Count { count: n } }
            }
            "users" => {
                let users = self.whole(&load.value, "`users`")?;
                let ramp = match spawn {
                    Some(s) => UserRamp::SpawnRate(self.more_than_zero(
                        &s.value,
                        "`spawnRate`",
                        "`spawnRate` is users started per second, e.g. `spawnRate: 10`; leave it out to start them all at once",
                    )?),
                    None => UserRamp::Immediate,
                };
                PhaseKind::Users { users, ramp }
            }
            _ => PhaseKind::Users { users: self.whole(&load.value, "`rampUsers`")?, ramp: UserRamp::Linear },
        };
        let Some(duration) = duration else {
            return Err(self
                .err(map.span, format!("a phase with `{kind_key}` needs a `duration`"))
                .with_help("add `duration: <seconds>`, e.g. `duration: 60`"));
        };
        let d = self.duration(&duration.value, "`duration`")?;
        if d.is_zero() && kind != PhaseKind::Pause {
            return Err(self
                .err(
                    duration.value.span,
                    format!("`duration` must be more than 0 in a phase with `{kind_key}`"),
                )
                .with_help(DURATION_HELP));
        }
        self.check_rate(&kind, d, load, ramp)?;
        let pacing = if closed { self.pacing(&pacing_keys, "a phase")? } else { None };
        let (mode, max_vusers) = match kind {
            PhaseKind::Pause | PhaseKind::Users { .. } => (ArrivalMode::Uniform, max_vusers),
            PhaseKind::RequestRate { .. } => (mode, max_vusers.or(Some(DEFAULT_REQUEST_RATE_VUSERS))),
            PhaseKind::Rate { .. } | PhaseKind::Count { .. } => (mode, max_vusers),
        };
        Ok(Phase { name, duration: d, kind, max_vusers, mode, pacing })
    }

    /// Refuses an open phase faster than one process can start arrivals ([`MAX_ARRIVAL_RATE`]):
    /// its arrivals would queue in memory until the process is killed. Split over several
    /// processes (a distributed run's workers), each one's share is what must fit.
    fn check_rate(
        &self,
        kind: &PhaseKind,
        duration: Duration,
        load: &Entry,
        ramp: Option<&Entry>,
    ) -> Result<()> {
        let (rate, at) = match *kind {
            PhaseKind::Rate { rate, ramp_to } | PhaseKind::RequestRate { rate, ramp_to } => {
                match (ramp_to, ramp) {
                    (Some(end), Some(r)) if end > rate => (end, r.value.span),
                    _ => (rate, load.value.span),
                }
            }
            PhaseKind::Count { count } => (count as f64 / duration.as_secs_f64(), load.value.span),
            _ => return Ok(()),
        };
        let processes = f64::from(self.split_over);
        if rate / processes <= MAX_ARRIVAL_RATE {
            return Ok(());
        }
        let mut what = match kind {
            PhaseKind::Count { count } => {
                format!("{count} arrivals in {} s is {rate:.0} a second", duration.as_secs_f64())
            }
            _ => format!("{rate} arrivals a second"),
        };
        if self.split_over > 1 {
            what = format!("{what}, {:.0} for each of the {} workers", rate / processes, self.split_over);
        }
        Err(self
            .err(at, format!("{what}: more than the {MAX_ARRIVAL_RATE:.0} arrivals a second one hornet process can start"))
            .with_help("each arrival is a virtual user with its own state: faster than that, they queue in memory until the process is killed. Lower the rate, or split the load over more workers (a distributed run divides the rate among them)"))
    }

    fn pacing_on_open(&self, entry: &Entry, kind_key: &str) -> crate::ScriptError {
        let key = &entry.key;
        let (message, help) = match kind_key {
            "rate" => (
                format!("`{key}` goes in `target` stages (users), not in a `rate` stage"),
                "each arrival runs one iteration, so the arrival rate is the pace; use `target` stages to pace the iterations of a fixed number of users",
            ),
            "requestRate" => (
                format!(
                    "`{key}` goes in a closed-model phase (`users` or `rampUsers`), not with `requestRate`"
                ),
                "the pace of a request-rate phase is `requestRate` itself",
            ),
            _ => (
                format!(
                    "`{key}` goes in a closed-model phase (`users` or `rampUsers`), not with `{kind_key}`"
                ),
                "each arrival runs one iteration, so the arrival rate is the pace; to pace iterations, use a closed-model phase (`users: N` with `pacing`)",
            ),
        };
        self.err(entry.key_span, message).with_help(help)
    }

    /// `pacing` or `throughput` (not both), from the entries of a closed-model phase or stage
    /// (`what`: "a phase" or "a stage").
    fn pacing(&self, entries: &[&Entry], what: &str) -> Result<Option<Pacing>> {
        match entries {
            [] => Ok(None),
            [first, second, ..] => Err(self
                .err(second.key_span, format!("{what} has `{}` or `{}`, not both", first.key, second.key))
                .with_help(
                    "both set how often each user starts an iteration: `throughput: 5` is `pacing: 200ms`",
                )),
            [p] if p.key == "pacing" => {
                let d = self.duration(&p.value, "`pacing`")?;
                if d.is_zero() {
                    return Err(self
                        .err(p.value.span, "`pacing` must be more than 0")
                        .with_help("`pacing: 2s` starts an iteration of each user every 2 s; leave it out to loop without waiting"));
                }
                Ok(Some(Pacing::Interval(d)))
            }
            [t] => Ok(Some(Pacing::Throughput(self.more_than_zero(
                &t.value,
                "`throughput`",
                "`throughput` is iterations per second per user, e.g. `throughput: 0.5` for one every 2 s",
            )?))),
        }
    }

    /// A finite number above 0.
    fn more_than_zero(&self, node: &Node, what: &str, help: &str) -> Result<f64> {
        let n = self.finite(node, what)?;
        if n <= 0.0 {
            return Err(self
                .err(node.span, format!("{what} must be more than 0, found {}", super::found(node)))
                .with_help(help));
        }
        Ok(n)
    }

    /// `config.stages`: k6-style stages, expanded into closed-model phases (`target`) or arrival-rate
    /// ramps (`rate`).
    fn stages(&self, node: &Node, start_rate: Option<&Entry>, mode: ArrivalMode) -> Result<Vec<Phase>> {
        let items = if is_null(node) { &[][..] } else { self.list(node, "`stages`")? };
        let mut previous_rate =
            start_rate.map(|e| self.non_negative(&e.value, "`startRate`")).transpose()?.unwrap_or(0.0);
        let mut previous_users = 0;
        let mut first: Option<&Entry> = None;
        let mut phases = Vec::with_capacity(items.len());
        for item in items {
            let map = self.map(item, "each stage", &STAGE, false)?;
            let name =
                map.get("name").map(|e| self.text(&e.value, "`name`").map(str::to_string)).transpose()?;
            let load = match (map.get("target"), map.get("rate")) {
                (Some(t), Some(r)) => {
                    let at = |e: &Entry| (e.key_span.start.line, e.key_span.start.col);
                    let (a, b) = if at(t) <= at(r) { (t, r) } else { (r, t) };
                    return Err(self
                        .err(b.key_span, format!("a stage has `{}` or `{}`, not both", a.key, b.key))
                        .with_help("`target` is a number of users (closed model), `rate` a number of arrivals per second (open model)"));
                }
                (None, None) => {
                    return Err(self
                        .err(map.span, "a stage needs `target` (users) or `rate` (arrivals per second)")
                        .with_help(STAGE_EXAMPLE));
                }
                (Some(l), None) | (None, Some(l)) => l,
            };
            match first {
                None => first = Some(load),
                Some(f) if f.key != load.key => {
                    return Err(self
                        .err(load.key_span, format!("this stage has `{}`, but the first stage has `{}`", load.key, f.key))
                        .with_help(format!(
                            "a `stages` list ramps users (`target`) or the arrival rate (`rate`), not both (the first stage is on {}); to mix them, write `phases`",
                            self.line_of(f.key_span, load.key_span)
                        )));
                }
                Some(_) => {}
            }
            let pacing_keys = map.any_of(&["pacing", "throughput"]);
            if load.key == "rate"
                && let Some(p) = pacing_keys.first()
            {
                return Err(self.pacing_on_open(p, "rate"));
            }
            let Some(duration) = map.get("duration") else {
                return Err(self.missing(&map, "duration", &STAGE).with_help(STAGE_EXAMPLE));
            };
            let d = self.duration(&duration.value, "`duration`")?;
            if d.is_zero() {
                return Err(self
                    .err(duration.value.span, "`duration` must be more than 0 in a stage")
                    .with_help(
                        "a stage ramps over its duration; to jump at once, use a short one like `1s`",
                    ));
            }
            let phase = if load.key == "target" {
                let users = self.whole(&load.value, "`target`")?;
                let ramp = if users == previous_users { UserRamp::Immediate } else { UserRamp::Linear };
                previous_users = users;
                let pacing = self.pacing(&pacing_keys, "a stage")?;
                Phase {
                    name,
                    duration: d,
                    kind: PhaseKind::Users { users, ramp },
                    max_vusers: None,
                    mode: ArrivalMode::Uniform,
                    pacing,
                }
            } else {
                let rate = self.non_negative(&load.value, "`rate`")?;
                let (kind, mode) = if rate != previous_rate {
                    (PhaseKind::Rate { rate: previous_rate, ramp_to: Some(rate) }, mode)
                } else if rate > 0.0 {
                    (PhaseKind::Rate { rate, ramp_to: None }, mode)
                } else {
                    (PhaseKind::Pause, ArrivalMode::Uniform)
                };
                previous_rate = rate;
                Phase { name, duration: d, kind, max_vusers: None, mode, pacing: None }
            };
            phases.push(phase);
        }
        if let Some(sr) = start_rate {
            match first {
                Some(f) if f.key == "target" => {
                    return Err(self.start_rate_misplaced(sr, "these stages set a `target` (users)"));
                }
                None => return Err(self.start_rate_misplaced(sr, "`stages` is empty")),
                Some(_) => {}
            }
        }
        Ok(phases)
    }
}
