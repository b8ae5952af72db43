//! The typed, validated plan a script compiles to.
//!
//! Everything downstream (schedule, virtual users, engines, outputs) reads these types and never the
//! YAML. Templates are compiled here once; request names (the metric keys) are fixed here, so that
//! the set of endpoints is known before the first request is sent.

use std::path::PathBuf;
use std::time::Duration;

use crate::template::{JsonTemplate, Template};

/// Index of an endpoint (a request name) in [`Plan::endpoints`]. Metrics are keyed by it.
pub type EndpointId = u32;

/// A whole test, ready to run.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The script file the plan came from (for reports and relative paths).
    pub source: Option<PathBuf>,
    /// Base URL that relative request URLs are joined to. `None` only if every URL is absolute.
    pub target: Option<String>,
    /// Load phases, run back to back. Empty means functional mode: one VU runs once.
    pub phases: Vec<Phase>,
    /// `config.http` (plus `config.timeout` and the TLS setting).
    pub http: HttpSettings,
    /// Headers sent with every request unless the request sets the same name.
    pub default_headers: Vec<(http::HeaderName, Template)>,
    /// `config.variables`, visible to every VU.
    pub variables: Vec<(String, serde_json::Value)>,
    /// How long VUs may keep running after the last phase ends before they are cancelled.
    pub graceful_stop: Duration,
    /// The scenarios, in file order; at least one, and at least one with a positive weight.
    pub scenarios: Vec<Scenario>,
    /// Request names; a request step refers to its name by [`EndpointId`].
    pub endpoints: Vec<String>,
}

/// `config.http`.
#[derive(Debug, Clone, PartialEq)]
pub struct HttpSettings {
    /// Whole-request timeout (connect to last byte). Default 10 s.
    pub timeout: Duration,
    /// `Some(n)`: VUs share a pool of `n` connections. `None`: each VU owns its keep-alive connection.
    pub pool: Option<usize>,
    /// Accept invalid or self-signed TLS certificates (`-k`).
    pub insecure: bool,
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings { timeout: Duration::from_secs(10), pool: None, insecure: false }
    }
}

/// One load phase.
#[derive(Debug, Clone, PartialEq)]
pub struct Phase {
    /// `name`, if given.
    pub name: Option<String>,
    /// How long the phase lasts (more than zero unless it is a pause).
    pub duration: Duration,
    /// What arrives during the phase.
    pub kind: PhaseKind,
    /// Cap on VUs in flight; arrivals beyond it are skipped and counted.
    pub max_vusers: Option<u64>,
}

/// The arrivals of a phase. Rates are finite and non-negative; a phase that would have no arrivals
/// at all (rate 0 without a ramp, count 0) is a [`PhaseKind::Pause`].
#[derive(Debug, Clone, PartialEq)]
pub enum PhaseKind {
    /// `arrivalRate` (per second), optionally ramping linearly to `ramp_to` over the duration.
    Rate {
        /// Arrivals per second at the start of the phase.
        rate: f64,
        /// Arrivals per second at the end of the phase (`rampTo`), if it ramps.
        ramp_to: Option<f64>,
    },
    /// `arrivalCount` arrivals spread evenly over the duration.
    Count {
        /// Number of arrivals (at least 1).
        count: u64,
    },
    /// No arrivals.
    Pause,
}

impl Phase {
    /// A label for displays: the name, or a description of the phase.
    pub fn label(&self, index: usize) -> String {
        match &self.name {
            Some(n) => n.clone(),
            None => format!("phase {}", index + 1),
        }
    }
}

/// A weighted scenario.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// `name`, or `scenario N` (1-based).
    pub name: String,
    /// Relative chance of being picked (default 1; may be 0).
    pub weight: u32,
    /// The steps, run in order; never empty.
    pub flow: Vec<Step>,
}

/// One step of a flow.
#[derive(Debug, Clone)]
pub enum Step {
    /// Send a request and wait for its response.
    Request(Box<RequestStep>),
    /// Pause the virtual user.
    Think(Duration),
    /// Run `steps` `count` times.
    Loop {
        /// How many times (at least 1).
        count: u64,
        /// The loop body; never empty.
        steps: Vec<Step>,
    },
}

/// An HTTP request step.
#[derive(Debug, Clone)]
pub struct RequestStep {
    /// The HTTP method (the step's action key).
    pub method: http::Method,
    /// Absolute, or relative to the target.
    pub url: Template,
    /// The metric name: the step's `name`, or the method and URL template (`GET /items/{{ id }}`).
    pub endpoint: EndpointId,
    /// `headers`, in file order; they replace default headers of the same name.
    pub headers: Vec<(http::HeaderName, Template)>,
    /// `qs`: query parameters appended to the URL, in file order.
    pub qs: Vec<(String, Template)>,
    /// `json` or `body`, if any.
    pub body: Option<Body>,
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// `json:`; sent with `content-type: application/json` unless a header says otherwise.
    Json(JsonTemplate),
    /// `body:`; sent as is.
    Raw(Template),
}
