//! A started distributed run as the collector's source of intervals ([`ClusterSource`]): the
//! workers' metrics messages, lost workers handled by the [`LossPolicy`], and the run's control
//! forwarded to the workers.

use std::collections::HashMap;
use std::sync::Arc;
use std::sync::mpsc::RecvTimeoutError;
use std::time::{Duration, Instant};

use hornet_metrics::{EndpointNames, Interval};
use hornet_runner::{
    Control, Finish, IntervalSource, PlannedLoad, SourceTick, StopReason, Waited, WorkerStatus,
};
use hornet_schedule::{Schedule, Segments};
use hornet_script::escape_controls;

use super::{Cluster, Event, LossPolicy, Out};
use crate::LOST_AFTER;
use crate::protocol::Msg;

/// The joined workers of a started run, as the collector's source of intervals: their metrics
/// messages, lost workers, and the run's control forwarded to them.
pub(super) struct ClusterSource<'a> {
    pub(super) cluster: &'a mut Cluster,
    pub(super) control: Control,
    pub(super) start: Instant,
    pub(super) planned: Planned,
    /// Each worker's share of the load.
    pub(super) shares: Vec<f64>,
    /// The latest figures of each worker that sent metrics.
    pub(super) stats: HashMap<usize, WorkerStatus>,
    pub(super) active: Vec<u64>,
    pub(super) cpus: Vec<Option<f64>>,
    /// Notes on lost workers, for the report.
    pub(super) notes: Vec<String>,
    pub(super) forwarded_stop: bool,
    /// A worker was lost under the `abort` policy.
    pub(super) aborted: bool,
    /// The run's endpoints named at run time: the workers' names map to its ids.
    pub(super) endpoint_names: Arc<EndpointNames>,
}

impl ClusterSource<'_> {
    /// Worker `i` was lost at `elapsed` for `why`.
    fn lose(&mut self, i: usize, elapsed: Duration, why: &str) {
        let note = self.cluster.lose(i, elapsed, why, &self.planned, &self.control);
        self.aborted |= self.cluster.opts.on_loss == LossPolicy::Abort;
        self.active[i] = 0;
        self.notes.push(note);
    }

    /// Tells the workers once when the run was stopped.
    fn forward_stop(&mut self) {
        if !self.forwarded_stop
            && let Some(reason) = self.control.stop_reason()
        {
            self.forwarded_stop = true;
            let how = if reason.is_graceful() { "graceful" } else { "now" };
            self.cluster.broadcast(&Msg::Control { factor: None, stop: Some(how.into()) });
        }
    }

    /// A metrics message from worker `i`.
    fn metrics(&mut self, i: usize, msg: Msg, pending: &mut Vec<Interval>) {
        let Msg::Metrics { interval, active_vus, cpu, last, .. } = msg else {
            if let Msg::Done = msg {
                self.cluster.conns[i].done = true;
            }
            return;
        };
        match Interval::from_wire(&interval, &self.endpoint_names) {
            Ok(iv) => {
                let c = &self.cluster.conns[i];
                let before = self.stats.get(&i).map_or(0, |s| s.requests);
                self.stats.insert(
                    i,
                    WorkerStatus {
                        index: i,
                        address: c.addr.clone(),
                        host: c.host.clone(),
                        state: "running".into(),
                        weight: c.weight,
                        share: self.shares[i],
                        active_vus,
                        rps: iv.requests() as f64,
                        requests: before + iv.requests(),
                        cpu,
                        lag_p99_ms: iv.lag_p99_ms(),
                    },
                );
                pending.push(iv);
            }
            Err(e) => eprintln!(
                "hornet: worker {}: bad metrics ignored: {}",
                self.cluster.conns[i].addr,
                escape_controls(&e.to_string())
            ),
        }
        self.active[i] = active_vus;
        self.cpus[i] = cpu.or(self.cpus[i]);
        if last {
            self.cluster.conns[i].done = true;
            self.active[i] = 0;
        }
    }
}

impl IntervalSource for ClusterSource<'_> {
    fn wait(&mut self, deadline: tokio::time::Instant, pending: &mut Vec<Interval>) -> Waited {
        loop {
            self.forward_stop();
            if self.cluster.conns.iter().all(|c| c.done || c.lost) {
                return Waited::Finished;
            }
            let deadline = deadline.into_std();
            let event = self.cluster.events.recv_timeout(deadline.saturating_duration_since(Instant::now()));
            let elapsed = Instant::now().saturating_duration_since(self.start);
            match event {
                Ok(Event::Msg { id, msg }) => {
                    let Some(i) = self.cluster.conns.iter().position(|c| c.id == id) else { continue };
                    self.cluster.conns[i].last_seen = Instant::now();
                    self.metrics(i, msg, pending);
                }
                Ok(Event::Closed { id, why }) => {
                    if let Some(i) = self.cluster.conns.iter().position(|c| c.id == id)
                        && !self.cluster.conns[i].done
                        && !self.cluster.conns[i].lost
                    {
                        self.lose(i, elapsed, &why);
                    }
                }
                Ok(Event::Joined { tx, .. }) => {
                    let _ = tx.send(Out::Msg(Msg::Refused { reason: "the run has all its workers".into() }));
                }
                Err(RecvTimeoutError::Timeout) => return Waited::Deadline,
                Err(RecvTimeoutError::Disconnected) => return Waited::Finished,
            }
        }
    }

    fn tick(&mut self, elapsed: Duration, control: &Control, _pending: &mut Vec<Interval>) -> SourceTick {
        // Silent workers are lost.
        for i in 0..self.cluster.conns.len() {
            let c = &self.cluster.conns[i];
            if !c.done && !c.lost && c.last_seen.elapsed() >= LOST_AFTER {
                let why = format!("no message for {} s", LOST_AFTER.as_secs());
                self.lose(i, elapsed, &why);
            }
        }
        // Load changes from the terminal or the web UI become one factor for everyone.
        if let Some(factor) = control.apply_pending(&self.planned.load, elapsed) {
            self.cluster.broadcast(&Msg::Control { factor: Some(factor), stop: None });
        }
        let measured = self.cpus.iter().flatten().copied();
        SourceTick {
            active_vus: self.active.iter().sum(),
            cpu: measured.reduce(f64::max),
            workers: self.cluster.worker_list(&self.shares, &self.stats),
        }
    }

    fn finish(&mut self, _elapsed: Duration, _control: &Control, _pending: &mut Vec<Interval>) -> Finish {
        Finish {
            host: Some(format!("controller + {} workers", self.cluster.conns.len())),
            warnings: std::mem::take(&mut self.notes),
            workers: self.cluster.worker_list(&self.shares, &self.stats),
            completed: !self.aborted,
        }
    }
}

impl Cluster {
    /// Marks worker `i` lost at `elapsed`, applies the policy, and returns the note for the report.
    fn lose(&mut self, i: usize, elapsed: Duration, why: &str, plan: &Planned, control: &Control) -> String {
        self.conns[i].lost = true;
        let addr = self.conns[i].addr.clone();
        let missing = plan.remaining(i, elapsed);
        let secs = elapsed.as_secs_f64();
        let survivors: Vec<usize> =
            (0..self.conns.len()).filter(|&j| !self.conns[j].lost && !self.conns[j].done).collect();
        let note = match self.opts.on_loss {
            LossPolicy::Continue => format!(
                "worker {i} ({addr}) was lost at {secs:.1} s ({why}); the run went on without its share: \
                 {missing} of its segment after the loss were not delivered"
            ),
            LossPolicy::Abort => {
                control.stop(StopReason::ChecksFailed);
                format!(
                    "worker {i} ({addr}) was lost at {secs:.1} s ({why}); the run was aborted \
                     (--on-worker-loss abort); {missing} of its segment were not delivered"
                )
            }
            LossPolicy::Redistribute if survivors.is_empty() => format!(
                "worker {i} ({addr}) was lost at {secs:.1} s ({why}) and no worker was left to take over: \
                 {missing} of its segment were not delivered"
            ),
            LossPolicy::Redistribute => {
                let from_ms = elapsed.as_millis() as u64;
                for &j in &survivors {
                    let _ = self.conns[j].tx.send(Out::Msg(Msg::Takeover {
                        lost: i,
                        from_ms,
                        survivors: survivors.clone(),
                    }));
                }
                format!(
                    "worker {i} ({addr}) was lost at {secs:.1} s ({why}); its remaining share ({missing}) was \
                     redistributed over the {} remaining workers",
                    survivors.len()
                )
            }
        };
        // `why` may carry a peer's text: the note is printed, and shown again in the summary.
        let note = escape_controls(&note).into_owned();
        eprintln!("hornet: {note}");
        note
    }
}

/// The plan's load and its split, for relating load requests to the plan and telling how much of
/// a lost worker's share remained.
pub(super) struct Planned {
    pub(super) segments: Segments,
    pub(super) load: PlannedLoad,
}

impl Planned {
    /// What segment `i` still had to do at `t` (at the plan's rates, before any load factor): its
    /// arrivals and request-rate tokens due from `t`, and its closed-model users running at `t`.
    fn remaining(&self, i: usize, t: Duration) -> String {
        let due_from = |s: &Schedule| {
            let total = s.expected_arrivals();
            let from = s.count_at(t).ceil().min(total as f64) as u64;
            self.segments.count_below(i, total) - self.segments.count_below(i, from)
        };
        let users = self.segments.count_below(i, self.load.users.at(t).round().max(0.0) as u64);
        let parts: Vec<String> = [
            (due_from(&self.load.arrivals), "planned arrivals"),
            (due_from(&self.load.requests), "planned requests of request-rate phases"),
            (users, "running users"),
        ]
        .into_iter()
        .filter(|&(n, _)| n > 0)
        .map(|(n, what)| format!("{n} {what}"))
        .collect();
        match parts.len() {
            0 => "no planned load".to_owned(),
            _ => parts.join(", "),
        }
    }
}
