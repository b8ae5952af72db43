//! Running a test: the plan is compiled ([`program`]), arrivals from the schedule become virtual
//! users ([`vu`]) on one single-threaded runtime per core, and their metrics are collected once a
//! second into the aggregate and, at the end, the report.
//!
//! # The public API
//!
//! Every front end (`hornet run`, `quick`, `demo`, the web UI, a distributed run's controller and
//! its workers) runs a plan the same way:
//!
//! - [`Run`]: what to run ([`RunOptions`], [`Workload`]) and how to steer it ([`Control`]);
//!   [`Run::start`] starts it on this machine, [`Run::start_on`] on the [`Workers`] of a
//!   distributed run, and [`Run::segment`] makes it one worker's [`SegmentRun`].
//! - [`RunHandle`]: [`RunHandle::control`] (change the load with a [`LoadRequest`], reset the
//!   statistics, stop with a [`StopReason`]), [`RunHandle::subscribe`] (the [`LiveSnapshot`]
//!   once a second), and [`RunHandle::wait`], which collects the run on the calling thread, hands
//!   each second's [`Tick`] to the caller, and returns the [`RunOutcome`] with the report;
//!   a distributed run's worker ends its segment with [`RunHandle::wait_without_report`] instead,
//!   since its controller collects.
//! - A distributed run is another source of intervals for the same collector: its controller
//!   implements [`Workers`], whose [`Started`] source is an [`IntervalSource`] ([`Waited`],
//!   [`SourceTick`], [`Finish`]), and relates load requests to the plan through [`PlannedLoad`].
//! - Helpers: [`RunOptions::thread_count`], [`hostname`], [`describe_phases`] (the report's
//!   `run.phases`), [`draw`] (a seeded hash), and [`check`] (does a plan compile, before a run).
//!
//! ```no_run
//! use std::sync::Arc;
//! use hornet_runner::{LoadRequest, Run, RunOptions, Workload};
//!
//! let plan = hornet_script::load_file("test.yaml".as_ref(), &Default::default()).expect("a valid script");
//! let options = RunOptions {
//!     seed: 1,
//!     threads: 0,
//!     workload: Workload::Open,
//!     latency_from_intended: false,
//!     command: "example".into(),
//!     log: false,
//! };
//! let mut run = Run::new(Arc::new(plan), options).start().expect("the run starts");
//! let control = run.control().clone();
//! let snapshots = run.subscribe();
//! std::thread::spawn(move || {
//!     // Double the load after the first second.
//!     if snapshots.recv().is_ok() {
//!         control.request(LoadRequest::Scale(2.0));
//!     }
//! });
//! let outcome = run.wait(&mut |tick| eprintln!("{:.0} req/s", tick.live.rps));
//! println!("{} requests", outcome.report.counter("http.requests"));
//! ```
//!
//! Modules: `collector` (the once-a-second collector and the source trait), `control` (the
//! handle that steers a run), `handle` (the run API), `local` (this machine's worker threads as a
//! source), `run` (the options and the state the worker threads share), `worker`, `arrivals`,
//! `gate`, `users` and `takeover` (how each thread generates its share of the load), `hooks`
//! (`before`/`after`), and `program`, `vu`, `capture` and `expect` (what a VU executes).

mod arrivals;
mod capture;
mod collector;
mod control;
mod expect;
mod gate;
mod handle;
mod hooks;
mod js;
mod local;
mod program;
mod run;
mod takeover;
mod trace_context;
mod users;
mod vu;
mod worker;
mod ws_program;

pub use collector::{Finish, IntervalSource, SourceTick, Tick, Waited};
pub use control::{Control, LoadRequest, PlannedLoad, StopReason, Takeover};
pub use handle::{Run, RunHandle, RunOutcome, Started, Workers};
pub use hornet_metrics::LiveSnapshot;
pub use hornet_metrics::report::WorkerStatus;
pub use run::{
    RunError, RunOptions, SegmentRun, SegmentTick, Workload, check, describe_phases, draw, hostname,
};
