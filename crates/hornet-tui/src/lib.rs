//! hornet's full-screen live dashboard (ratatui on crossterm), shown on an interactive terminal
//! instead of the status line: a header with the phase and run progress, charts of requests/s,
//! errors/s and latency over the last minutes, Locust's per-endpoint table, the newest errors and
//! the warnings; plus the terminal handling every live view needs.
//!
//! A crate of its own, not a module of the binary nor of `hornet-ui`: it is the only user of
//! ratatui and crossterm and of the terminal's raw mode, so those stay out of the binary's command
//! code and out of the web UI (an HTTP server that never touches a terminal), and its parts can be
//! tested without spawning hornet. The `hornet` binary only starts it, feeds it ticks and finishes
//! it.
//!
//! It is split by concern:
//! * [`terminal`]: raw mode and the alternate screen, the status line's key mode, stderr capture,
//!   and [`terminal::restore`] on every exit path (the panic hook, the signal thread);
//! * [`input`]: the one mapping from a key (a crossterm event or a byte) to an [`input::Action`];
//! * `model`: the view model ([`RunInfo`], [`View`]), updated once a tick, whose endpoint rows are
//!   the shared live view model of `hornet_output::view`;
//! * `render`: drawing the view with ratatui;
//! * `dashboard`: the running [`Dashboard`] that ties them together.
//!
//! While it shows, the terminal is in raw mode on the alternate screen, and whatever the process
//! writes to stderr (a script's `log` steps, messages of other parts) is captured into the
//! dashboard instead of tearing it, then replayed on the normal screen when the dashboard closes.
//! Keys: `q` stops gracefully, `+`/`-` change the load by 10%, `?` shows help, and Ctrl-C (a key in
//! raw mode) stops at once; a second Ctrl-C exits without a report.
//!
//! Cost: the run's collector calls [`Dashboard::tick`] once a second, which copies the figures it
//! shows (the per-endpoint rows cost a few quantile look-ups per endpoint); drawing happens on that
//! tick and on keys and resizes, at most [`FRAMES_PER_SECOND`] times a second.

mod dashboard;
pub mod input;
mod model;
mod render;
pub mod terminal;
#[cfg(test)]
mod tests;

pub use dashboard::{Dashboard, FRAMES_PER_SECOND};
pub use model::{PhaseSpan, RunInfo, View};
pub use render::render;
