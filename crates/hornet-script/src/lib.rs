//! Script loading: parses Artillery-style YAML into a typed, validated [`plan::Plan`], with
//! templates compiled once and errors that name the file, line and column.
//!
//! The format is described in `docs/script-format.md`. Entry points: [`load_file`],
//! [`load_files`] (several scripts merged) and [`parse_str`], with [`LoadOptions`] for the
//! command-line overrides; every problem comes back as a [`ScriptError`] whose `Display` is a
//! rustc-style snippet. What hornet accepts, as Artillery does, but the author probably did not mean
//! (a key that resembles no valid one, a variable nothing defines) is a [`ScriptWarning`] in
//! [`Plan::warnings`]. CSV payloads are read at load time, so a plan is complete.

mod duration;
mod error;
pub mod expr;
mod number;
mod parse;
pub mod plan;
pub mod request_url;
pub mod rng;
pub mod template;
mod yaml;

use std::path::{Path, PathBuf};
use std::sync::Arc;

pub use duration::parse_duration;
pub use error::{ScriptError, ScriptWarning, escape_controls};
pub use parse::{http_scheme, ws_scheme};
pub use plan::Plan;

/// Command-line settings that override or select parts of the script.
///
/// They apply in this order, after the script files are merged: `environment`, then `overrides`,
/// then `variables`, then `target`. Serializable: a distributed run sends them to its workers.
#[derive(Debug, Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct LoadOptions {
    /// `-t`: replaces `config.target` (which is then not checked at all).
    pub target: Option<String>,
    /// `-k`: accept invalid TLS certificates, as `config.tls.rejectUnauthorized: false` does.
    pub insecure: bool,
    /// `-e NAME`: deep-merge `config.environments.NAME` over `config`. An unknown name is an error
    /// that lists the environments the script defines.
    pub environment: Option<String>,
    /// `--var name=value`: set (or add) a variable, replacing one of the same name in
    /// `config.variables`.
    pub variables: Vec<(String, serde_json::Value)>,
    /// `--overrides '<json>'`: a JSON object deep-merged into `config` (objects merge key by key,
    /// arrays and scalars replace). An object with a `config`, `scenarios`, `before` or `after`
    /// key is Artillery's form and is merged into the whole script instead.
    pub overrides: Option<serde_json::Value>,
    /// `--scenario-name`: keep only the scenarios with one of these names. A name that matches no
    /// scenario is an error listing the names.
    pub scenario_names: Vec<String>,
    /// `--strict`: every warning (see [`Plan::warnings`]) is an error instead.
    #[serde(default)]
    pub strict: bool,
    /// The copy of `config.processor` a distributed worker was sent, read instead of the path the
    /// script gives (which then need not exist here). Not sent to workers and not part of the
    /// plan's hash.
    #[serde(skip)]
    pub shipped_processor: Option<ShippedProcessor>,
    /// Where the `config.payload` and `formData` files come from: this machine's disk, or what a
    /// distributed worker was sent. Not sent to workers and not part of the plan's hash (the files
    /// are).
    #[serde(skip)]
    pub data_files: DataFiles,
    /// `--testid ID`: the run's test id ([`Plan::test_id`]) instead of one drawn from the seed.
    /// Letters, digits, `-`, `_`, `.` and `:` only, at most 128 of them.
    #[serde(default)]
    pub test_id: Option<String>,
    /// A distributed run's worker count: the load is split over that many processes, so the most
    /// arrivals a second one process can start ([`plan::MAX_ARRIVAL_RATE`]) bounds each one's
    /// share, not the whole (0 or 1: one process). Part of the plan's hash.
    #[serde(default)]
    pub split_over: u32,
    /// `--trace`: send a W3C `traceparent` on every request, as `config.tracing` with its defaults
    /// does (a script's own `config.tracing` is kept when it has one).
    #[serde(default)]
    pub trace: bool,
    /// The environment variables a distributed worker was sent with the plan (the controller's
    /// `--dotenv` values): `$env` / `$processEnvironment` templates and the processor's
    /// `process.env` read these first, this process's environment for every other name. Not sent
    /// as an option (the plan carries them beside) and not part of the options' hash.
    #[serde(skip)]
    pub shipped_env: ShippedEnv,
}

/// Environment variables that came with a distributed run's plan, laid over this process's own
/// environment: a name they set reads their value, any other name the process's. `Debug` shows
/// the names only (the values are often secrets and must not reach a log).
#[derive(Clone, Default, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(transparent)]
pub struct ShippedEnv(std::collections::BTreeMap<String, String>);

impl ShippedEnv {
    /// The variables `pairs` set (a later pair of the same name wins).
    pub fn new(pairs: impl IntoIterator<Item = (String, String)>) -> ShippedEnv {
        ShippedEnv(pairs.into_iter().collect())
    }

    /// `name`'s value: the shipped one, else this process's (`None` when neither sets it).
    pub fn var(&self, name: &str) -> Option<String> {
        match self.0.get(name) {
            Some(value) => Some(value.clone()),
            None => std::env::var_os(name).map(|v| v.to_string_lossy().into_owned()),
        }
    }

    /// The shipped variables, by name.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        self.0.iter().map(|(k, v)| (k.as_str(), v.as_str()))
    }

    /// True when nothing was shipped.
    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }
}

impl std::fmt::Debug for ShippedEnv {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_set().entries(self.0.keys()).finish()
    }
}

/// A processor that came with a distributed run's plan, written out on the worker.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShippedProcessor {
    /// The processor's copy.
    pub main: PathBuf,
    /// The private folder holding exactly the files that came with it: the processor reads no
    /// other (see [`plan::ProcessorSpec::shipped_folder`]).
    pub folder: PathBuf,
}

/// Where the files a script names for its data come from: the `config.payload` CSV files and the
/// `formData` `fromFile` files of its requests.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub enum DataFiles {
    /// Each file read from this machine's disk, its path relative to the script that names it (a
    /// `fromFile` each time a request sends it).
    #[default]
    Disk,
    /// The same, each file also read once at load and kept ([`plan::Payload::data`],
    /// [`Plan::kept_form_files`]): a distributed run's controller ships them to its workers.
    DiskKept,
    /// The files a distributed worker was sent: no path of this machine's disk is opened.
    Shipped(Arc<ShippedDataFiles>),
}

/// The data files that came with a distributed run's plan, each list in the order the plan names
/// them: the `n`-th `config.payload` entry reads `payloads[n]`, the `n`-th `fromFile` met reading
/// the script (`before`, the scenarios in order, then `after`) reads `form_files[n]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ShippedDataFiles {
    /// The `config.payload` files.
    pub payloads: Vec<DataFile>,
    /// The `formData` `fromFile` files.
    pub form_files: Vec<DataFile>,
}

/// A data file as a controller read it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DataFile {
    /// The file as the controller named it (errors name it the same way as on the controller).
    pub name: String,
    /// Its bytes.
    pub data: Arc<[u8]>,
}

/// Reads and parses the script at `path`; the same as [`load_files`] with one path.
pub fn load_file(path: &Path, opts: &LoadOptions) -> Result<Plan, ScriptError> {
    load_files(&[path.to_path_buf()], opts)
}

/// Reads the scripts at `paths` and deep-merges them in order into one plan, setting
/// [`Plan::source`] to the first.
///
/// Merge rules: mappings merge key by key, a later file's value winning; lists and scalars of a
/// later file replace the earlier ones, except the top-level `scenarios` lists, which are
/// concatenated in file order. Errors point at the file, line and column the offending value came
/// from, and relative paths (`config.payload` files, `formData` files) are resolved against the
/// directory of the file that holds them. A file that cannot be read is a [`ScriptError`] without a
/// line (`line == 0`) naming the file.
pub fn load_files(paths: &[PathBuf], opts: &LoadOptions) -> Result<Plan, ScriptError> {
    let Some(first) = paths.first() else {
        return Err(ScriptError::general("hornet", "no script file was given"));
    };
    let mut sources = Vec::with_capacity(paths.len());
    for path in paths {
        let name = path.display().to_string();
        let text = std::fs::read_to_string(path)
            .map_err(|e| ScriptError::general(&name, format!("cannot read `{name}`: {e}")))?;
        let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
        sources.push(parse::Source { name, text, dir });
    }
    let mut plan = parse::build(sources, opts)?;
    plan.source = Some(first.clone());
    Ok(plan)
}

/// Parses scripts held in memory, as `(name, text, dir)` with relative paths resolved against `dir`,
/// deep-merged like [`load_files`]; [`Plan::source`] is set to the first name. A distributed worker
/// builds the controller's plan this way from the script texts it was sent.
pub fn load_sources(
    sources: Vec<(String, String, PathBuf)>,
    opts: &LoadOptions,
) -> Result<Plan, ScriptError> {
    let first = sources.first().map(|(name, _, _)| PathBuf::from(name));
    let sources = sources.into_iter().map(|(name, text, dir)| parse::Source { name, text, dir }).collect();
    let mut plan = parse::build(sources, opts)?;
    plan.source = first;
    Ok(plan)
}

/// Parses a script held in memory; `file_name` is only used in error messages, and relative paths
/// in the script are resolved against the current directory. [`Plan::source`] is left `None`.
pub fn parse_str(source: &str, file_name: &str, opts: &LoadOptions) -> Result<Plan, ScriptError> {
    let source = parse::Source { name: file_name.to_string(), text: source.to_string(), dir: PathBuf::new() };
    parse::build(vec![source], opts)
}
