//! Running a test: the plan is compiled ([`program`]), arrivals from the schedule become virtual
//! users ([`vu`]) on one single-threaded runtime per core ([`worker`]), and their metrics are
//! merged once a second into the report ([`run`]). [`control`] steers a run from outside.

mod arrivals;
pub mod capture;
pub mod control;
pub mod expect;
mod gate;
mod hooks;
pub mod program;
pub mod run;
mod takeover;
mod users;
pub mod vu;
mod worker;
mod ws_program;

pub use control::{Control, LoadRequest, StopReason, Takeover};
pub use hornet_metrics::report::WorkerStatus;
pub use run::{
    Part, PartTick, RunError, RunOptions, RunOutcome, Tick, Workload, draw, run, run_after, run_before,
    run_part,
};
