//! Script loading: parses Artillery-style YAML into a typed, validated [`plan::Plan`], with
//! templates compiled once and errors that name the file, line and column.
//!
//! The format is described in `docs/script-format.md`. Entry points: [`load_file`] and
//! [`parse_str`]; every problem comes back as a [`ScriptError`] whose `Display` is a
//! rustc-style snippet.

#![warn(missing_docs)]

mod duration;
mod error;
mod parse;
pub mod plan;
pub mod template;
mod yaml;

use std::path::Path;

pub use duration::parse_duration;
pub use error::ScriptError;
pub use plan::Plan;

/// Command-line settings that override the script.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LoadOptions {
    /// `-t`: replaces `config.target` (which is then not checked at all).
    pub target: Option<String>,
    /// `-k`: accept invalid TLS certificates, as `config.tls.rejectUnauthorized: false` does.
    pub insecure: bool,
}

/// Reads and parses the script at `path`, setting [`Plan::source`]. A file that cannot be read is
/// a [`ScriptError`] without a line (`line == 0`) naming the file.
pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<Plan, ScriptError> {
    let name = path.display().to_string();
    let source = std::fs::read_to_string(path)
        .map_err(|e| ScriptError::general(&name, format!("cannot read `{name}`: {e}")))?;
    let mut plan = parse_str(&source, &name, opts)?;
    plan.source = Some(path.to_path_buf());
    Ok(plan)
}

/// Parses a script held in memory; `file_name` is only used in error messages.
/// [`Plan::source`] is left `None`.
pub fn parse_str(source: &str, file_name: &str, opts: &LoadOptions) -> Result<Plan, ScriptError> {
    let root = yaml::parse_document(source, file_name)?;
    parse::build(&root, file_name, source, opts)
}
