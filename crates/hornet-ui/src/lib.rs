//! hornet's live web UI, like Locust's: a page with Statistics, Charts, Failures,
//! Checks, Workers and Download tabs, controls to start, steer, stop and reset a run, and the JSON
//! API they use (documented in `docs/web-ui.md`), which scripts can drive with curl.
//!
//! This crate owns the HTTP server ([`Ui`], axum on a tokio runtime of its own on one dedicated
//! thread, never on the workers or the request path), the embedded page and assets, the state it
//! shares with the command that runs tests ([`Hub`]: snapshots pushed by the collector once per
//! tick, the queued Start, reports built on request), and the translation of the controls into the
//! runner's [`Control`](hornet_runner::Control) requests and, for a custom Start, a plan with
//! synthesized phases ([`StartRequest::plan`]). It never reads the engine directly: everything
//! comes from the merged aggregate the collector hands to `on_tick`.

pub mod assets;
pub mod hub;
pub mod plan;
pub mod server;

pub use hub::{ApiError, Hub, RunState, SessionInfo, Start};
pub use plan::{Model, StartLoad, StartRequest};
pub use server::{Ui, UiConfig, UiError, router};

/// The default address: loopback only.
pub const DEFAULT_ADDR: &str = "127.0.0.1:8089";
