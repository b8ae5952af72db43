//! Outputs: the live status line and progress block shown during a run, the end-of-run summary
//! rendered from a [`Report`] alone, and the JSON report file.
//!
//! Everything here is plain ASCII (tables use comfy-table's `ASCII_FULL_CONDENSED` preset) so it
//! reads the same in a terminal and in a CI log.
//!
//! [`Report`]: hornet_metrics::Report

pub mod compare;
pub mod csv;
mod format;
pub mod html;
mod json;
pub mod junit;
mod live;
mod summary;
pub mod summary_json;

pub use format::ms as format_ms;
pub use json::{write_atomic, write_json};
pub use live::{progress_block, status_line};
pub use summary::{LAG_WARNING_MS, summary};
