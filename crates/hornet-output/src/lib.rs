//! Outputs, each rendered from a [`Report`] alone: the end-of-run summary, the JSON report file,
//! the HTML report ([`html`]), Locust's CSV files ([`csv`]), JUnit XML ([`junit`]), the summary
//! JSON ([`summary_json`]) and the comparison of two runs ([`compare`]); the live status line and
//! progress block shown during a run; and what they share: the number formatters ([`format`]),
//! one HTML/XML escaper and the embedded assets ([`assets`]); and the live view model of the
//! endpoint table that the terminal dashboard and the web UI show ([`view`]).
//!
//! The text outputs are plain ASCII (tables use comfy-table's `ASCII_FULL_CONDENSED` preset) so they
//! read the same in a terminal and in a CI log. Every file is written through [`file`], which checks
//! destinations before a run and never renames over a device, FIFO or symbolic link.
//!
//! [`Report`]: hornet_metrics::Report

pub mod assets;
pub mod compare;
pub mod csv;
pub mod escape;
pub mod file;
pub mod format;
pub mod html;
mod json;
pub mod junit;
mod live;
mod summary;
pub mod summary_json;
pub mod view;

pub use file::write_file;
pub use format::ms as format_ms;
pub use json::write_json;
pub use live::{progress_block, status_line};
pub use summary::{LAG_WARNING_MS, summary};
