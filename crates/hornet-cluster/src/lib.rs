//! Distributed runs: one controller and several workers split one plan by execution segments
//! (docs/design.md §5, docs/distributed.md).
//!
//! - [`protocol`]: the messages (JSON, one per line).
//! - [`transport`]: the HTTP/2 session stream (optionally over TLS) that carries them.
//! - [`auth`]: the mutual HMAC-SHA256 challenge on a shared token, and the plan hash.
//! - [`plan_source`]: what travels as the plan (script texts and load options) and how a worker rebuilds it.
//! - [`controller`]: accepts workers, hands out segments, starts them together, forwards control,
//!   feeds their per-second intervals to the runner's collector as one source (the [`Cluster`] is
//!   the runner's `Workers`), and handles lost workers.
//! - [`worker`]: connects, proves and checks the token, runs its part, streams metrics, and stops its
//!   load when the controller goes away.

pub mod auth;
pub mod controller;
pub mod plan_source;
pub mod protocol;
pub mod transport;
pub mod worker;

pub use controller::{Cluster, ClusterOptions, LossPolicy};
pub use plan_source::PlanSource;
pub use worker::{WorkerOptions, run_worker};

/// The largest `--weight` of a worker (the weights of a run must add up to at most
/// [`hornet_schedule::MAX_CYCLE`]).
pub const MAX_WEIGHT: u32 = 1024;
/// How long without any message before a peer counts as gone.
pub const LOST_AFTER: std::time::Duration = std::time::Duration::from_secs(5);
/// How often each side sends a heartbeat.
pub const HEARTBEAT: std::time::Duration = std::time::Duration::from_secs(1);
/// A worker stops its load when it has not heard from the controller for this long.
pub const ORPHAN_AFTER: std::time::Duration = std::time::Duration::from_secs(3);
