//! The wire protocol: one JSON object per line (UTF-8, `\n`-terminated) in each direction of the
//! HTTP/2 session stream that the worker opens to the controller ([`crate::transport`]). Every
//! message has a `"type"`; the full schema with an example of each message is in
//! docs/distributed.md.
//!
//! Order: controller `challenge` → worker `hello` → controller `welcome` (or `refused`) →
//! controller `plan` → worker `ready` (or `error`) → controller `start` → worker `metrics` once a
//! second, both sides `heartbeat` once a second, controller `control` / `takeover` at any time →
//! worker `metrics` with `last: true` then `done`.

use hornet_metrics::WireInterval;
use serde::{Deserialize, Serialize};

/// Version of this protocol; both sides must agree (and on the hornet version).
pub const PROTOCOL: u32 = 1;

/// Longest line accepted (a plan with large scripts, or a second of metrics with many endpoints).
pub const MAX_LINE: u64 = 64 << 20;

/// Longest line the controller reads before the peer has proved it knows the token: a `hello` is a
/// few hundred bytes, so a peer that sends more is cut off without being buffered.
pub const MAX_PRE_AUTH_LINE: u64 = 16 << 10;

/// One script file of the plan: its name (path on the controller), text and directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptText {
    /// Its path on the controller, as errors name it.
    pub name: String,
    /// The YAML text.
    pub text: String,
    /// The directory relative paths were resolved against on the controller.
    pub dir: String,
}

/// `config.processor` and the files it needs (see `hornet_js::dependencies`), as the controller
/// read them: a worker loads the processor from this copy, never from its own disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ProcessorBundle {
    /// The processor's path among [`ProcessorBundle::files`].
    pub main: String,
    /// Every file, by its path relative to the folder that holds them all.
    pub files: Vec<ShippedFile>,
}

/// One file of a [`ProcessorBundle`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippedFile {
    /// Its path relative to the bundle's folder, `/`-separated, without `.` or `..`.
    pub path: String,
    /// Its bytes, base64 (standard alphabet, padded).
    pub data: String,
}

/// A data file of the script (a `config.payload` CSV file, or a `formData` `fromFile` file) as the
/// controller read it: a worker uses these bytes, never a path of its own disk.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ShippedData {
    /// The file as the controller named it (relative to where it ran, as a local run's errors
    /// name it), for the worker's errors.
    pub path: String,
    /// Its bytes, base64 (standard alphabet, padded).
    pub data: String,
}

/// The plan hand-off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanMsg {
    /// hornet version of the controller.
    pub version: String,
    /// SHA-256 (hex) over the version, the scripts, the options, the data files (payload and
    /// `formData`), the payload rows, and the processor's files.
    pub hash: String,
    /// The script files: the main script first, then any `config.includes`.
    pub scripts: Vec<ScriptText>,
    /// The command-line options that shape the plan (`-t`, `-k`, `-e`, `--var`, `--overrides`,
    /// `--scenario-name`).
    pub options: hornet_script::LoadOptions,
    /// The script's processor and the files it needs, when it has one.
    #[serde(default)]
    pub processor: Option<ProcessorBundle>,
    /// The `config.payload` files, one per entry in the order the plan names them.
    #[serde(default)]
    pub payloads: Vec<ShippedData>,
    /// The `formData` `fromFile` files, in the order the plan names them (`before`, `after`, then
    /// the scenarios).
    #[serde(default)]
    pub form_files: Vec<ShippedData>,
    /// The controller's `--dotenv` variables (the values the controller itself uses for the names
    /// the file sets): the worker's templates and processor read them over its own environment.
    #[serde(default)]
    pub env: hornet_script::ShippedEnv,
    /// The run's seed (`--seed`), the same on every worker.
    pub seed: u64,
    /// Worker threads (0: one per core of the worker).
    pub threads: usize,
    /// Execution segments: every worker's weight, and this worker's index.
    pub weights: Vec<u32>,
    /// This worker's segment (an index into `weights`).
    pub index: usize,
    /// What `before` produced on the controller.
    pub globals: serde_json::Map<String, serde_json::Value>,
    /// Print `log` steps.
    pub log: bool,
}

fn one() -> u32 {
    1
}

/// Every message of the protocol.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "snake_case")]
pub enum Msg {
    /// Controller → worker, first: a fresh random nonce (hex).
    Challenge {
        /// The controller's nonce.
        nonce: String,
        /// The controller's hornet version.
        version: String,
        /// The controller's [`PROTOCOL`].
        protocol: u32,
    },
    /// Worker → controller: its nonce and `HMAC(token, "hornet-worker" ‖ controller nonce ‖ worker nonce)`.
    Hello {
        /// The worker's hornet version.
        version: String,
        /// The worker's [`PROTOCOL`].
        protocol: u32,
        /// The worker's nonce.
        nonce: String,
        /// The worker's proof that it holds the token (hex).
        mac: String,
        /// The worker's host name, for the controller's log and report.
        host: String,
        /// Worker threads it will run.
        threads: usize,
        /// Its share of the load relative to the others (`--weight`; 1 when absent).
        #[serde(default = "one")]
        weight: u32,
    },
    /// Controller → worker: `HMAC(token, "hornet-controller" ‖ worker nonce ‖ controller nonce)`.
    Welcome {
        /// The controller's proof that it holds the token (hex).
        mac: String,
        /// The worker's segment index.
        index: usize,
    },
    /// Either side: why the connection is refused (then it is closed).
    Refused {
        /// A sentence for the other side's log.
        reason: String,
    },
    /// Controller → worker.
    Plan(Box<PlanMsg>),
    /// Worker → controller: the plan was built; the hash it computed.
    Ready {
        /// [`PlanMsg::hash`] as the worker computed it.
        hash: String,
    },
    /// Worker → controller: the plan could not be built or run.
    Error {
        /// The error, formatted as the command line would print it.
        message: String,
    },
    /// Controller → worker: start at this wall-clock instant (ms since the Unix epoch).
    Start {
        /// When phase 0 begins, in ms since the Unix epoch.
        start_at_unix_ms: u64,
    },
    /// Controller → worker: a new load factor, and/or stop (`"graceful"` or `"now"`).
    Control {
        /// The new load factor, if it changed.
        factor: Option<f64>,
        /// `"graceful"` or `"now"`, to stop.
        stop: Option<String>,
    },
    /// Controller → worker: also run the arrivals of segment `lost` due from `from_ms` (ms since
    /// start) that fall to this worker when they are dealt round robin over `survivors`.
    Takeover {
        /// The lost worker's segment index.
        lost: usize,
        /// From when (ms since start) its arrivals are taken over.
        from_ms: u64,
        /// The segments that share them, in order.
        survivors: Vec<usize>,
    },
    /// Both ways, once a second.
    Heartbeat,
    /// Worker → controller: one second of metrics.
    Metrics {
        /// The end of the interval, in ms since start.
        elapsed_ms: u64,
        /// The second's figures.
        interval: Box<WireInterval>,
        /// Virtual users active on the worker at the end of the interval.
        active_vus: u64,
        /// The worker process's CPU use, percent of the cores its threads use, when measured.
        cpu: Option<f64>,
        /// The last interval of the part.
        last: bool,
    },
    /// Worker → controller: the part is finished.
    Done,
}

/// Why a message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    /// The stream failed.
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    /// A line longer than the reader's limit ([`MAX_LINE`], or [`MAX_PRE_AUTH_LINE`] before
    /// authentication).
    #[error("message longer than {0} bytes")]
    TooLong(u64),
    /// A line that is not a message.
    #[error("invalid message: {0}")]
    Json(#[from] serde_json::Error),
}
