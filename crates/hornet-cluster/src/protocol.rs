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

/// One script file of the plan: its name (path on the controller), text and directory.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ScriptText {
    pub name: String,
    pub text: String,
    /// The directory relative paths were resolved against on the controller.
    pub dir: String,
}

/// The plan hand-off.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct PlanMsg {
    /// hornet version of the controller.
    pub version: String,
    /// SHA-256 (hex) over the version, the scripts, the options and the payload rows.
    pub hash: String,
    pub scripts: Vec<ScriptText>,
    /// The command-line options that shape the plan (`-t`, `-k`, `-e`, `--var`, `--overrides`,
    /// `--scenario-name`).
    pub options: hornet_script::LoadOptions,
    pub seed: u64,
    /// Worker threads (0: one per core of the worker).
    pub threads: usize,
    /// Execution segments: every worker's weight, and this worker's index.
    pub weights: Vec<u32>,
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
    Challenge { nonce: String, version: String, protocol: u32 },
    /// Worker → controller: its nonce and `HMAC(token, "hornet-worker" ‖ controller nonce ‖ worker nonce)`.
    Hello {
        version: String,
        protocol: u32,
        nonce: String,
        mac: String,
        host: String,
        threads: usize,
        /// Its share of the load relative to the others (`--weight`; 1 when absent).
        #[serde(default = "one")]
        weight: u32,
    },
    /// Controller → worker: `HMAC(token, "hornet-controller" ‖ worker nonce ‖ controller nonce)`.
    Welcome { mac: String, index: usize },
    /// Either side: why the connection is refused (then it is closed).
    Refused { reason: String },
    /// Controller → worker.
    Plan(Box<PlanMsg>),
    /// Worker → controller: the plan was built; the hash it computed.
    Ready { hash: String },
    /// Worker → controller: the plan could not be built or run.
    Error { message: String },
    /// Controller → worker: start at this wall-clock instant (ms since the Unix epoch).
    Start { start_at_unix_ms: u64 },
    /// Controller → worker: a new load factor, and/or stop (`"graceful"` or `"now"`).
    Control { factor: Option<f64>, stop: Option<String> },
    /// Controller → worker: also run the arrivals of segment `lost` due from `from_ms` (ms since
    /// start) that fall to this worker when they are dealt round robin over `survivors`.
    Takeover { lost: usize, from_ms: u64, survivors: Vec<usize> },
    /// Both ways, once a second.
    Heartbeat,
    /// Worker → controller: one second of metrics.
    Metrics { elapsed_ms: u64, interval: Box<WireInterval>, active_vus: u64, cpu: Option<f64>, last: bool },
    /// Worker → controller: the part is finished.
    Done,
}

/// Why a message could not be read.
#[derive(Debug, thiserror::Error)]
pub enum ReadError {
    #[error("connection error: {0}")]
    Io(#[from] std::io::Error),
    #[error("message longer than {MAX_LINE} bytes")]
    TooLong,
    #[error("invalid message: {0}")]
    Json(#[from] serde_json::Error),
}
