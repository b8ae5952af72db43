//! The typed, validated plan a script compiles to.
//!
//! Everything downstream (schedule, virtual users, engines, outputs) reads these types and never the
//! YAML. Templates are compiled here once; request names (the metric keys) are fixed here, so that
//! the set of endpoints is known before the first request is sent.
//!
//! The fields are public: a plan is a description that every downstream crate reads, and the web
//! UI's custom Start edits a copy's phases. What must hold between fields is established where a
//! plan is made, by the parser and the constructors of `plan::constructors`: every step's
//! [`EndpointId`] indexes [`Plan::endpoints`], and each [`Endpoint`]'s protocol and method agree
//! with the steps that use it. Code that edits a plan leaves its endpoints and steps as they are.
//!
//! This module holds the plan, its settings and the flow's steps; the submodules hold the load
//! phases (`phase`), a request step with its captures and expectations (`request`), WebSocket
//! settings and steps (`ws`), the endpoints (`endpoint`), and plans built in code
//! (`constructors`).

use std::path::PathBuf;
use std::time::Duration;

use crate::template::Template;

mod constructors;
mod endpoint;
mod phase;
mod publish;
mod request;
mod tracing;
mod ws;

pub use constructors::SingleRequest;
pub use endpoint::Endpoint;
pub(crate) use endpoint::derive_methods;
pub use phase::{
    ArrivalMode, DEFAULT_REQUEST_RATE_VUSERS, MAX_ARRIVAL_RATE, Pacing, Phase, PhaseKind, UserRamp,
};
pub use publish::{
    DEFAULT_OTLP_ENDPOINT, OWN_LABELS, OtlpPush, PrometheusPush, PublishMetrics, is_label_name,
};
pub use request::{
    Body, Capture, CaptureIndex, CaptureSource, Expect, FormPart, RegexGroup, RequestHooks, RequestStep,
};
pub use tracing::{MAX_TEST_ID_LEN, Propagation, Tracing, check_test_id};
pub use ws::{WsConnect, WsPayload, WsReply, WsSend, WsSettings, WsStep, WsWait};

/// Index of an endpoint (a request name) in [`Plan::endpoints`]. Metrics are keyed by it.
pub type EndpointId = u32;

/// Which protocol an endpoint measures: its metrics count under `http.*` or `websocket.*`. The
/// metrics' own type, so that a plan's endpoints and the report's are described by one vocabulary.
pub use hornet_metrics::Protocol;

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
    /// The endpoints, one per request name; a step refers to its endpoint by [`EndpointId`].
    pub endpoints: Vec<Endpoint>,
    /// `config.ws`: WebSocket settings.
    pub ws: WsSettings,
    /// `before.flow`: run once before the load starts; its captures are visible to every VU.
    pub before: Option<Vec<Step>>,
    /// `after.flow`: run once after the load has ended.
    pub after: Option<Vec<Step>>,
    /// `config.payload`: CSV data, loaded and cast before the test starts.
    pub payloads: Vec<Payload>,
    /// The `formData` `fromFile` files as read at load, in the order the script names them
    /// (`before`, `after`, then the scenarios): only when the plan was loaded with
    /// [`DataFiles::DiskKept`](crate::DataFiles::DiskKept) (a controller ships them).
    pub kept_form_files: Vec<crate::DataFile>,
    /// `config.defaults.cookie`: cookies every VU starts with.
    pub default_cookies: Vec<(String, Template)>,
    /// `config.defaults.strictCapture` (default true).
    pub strict_capture: bool,
    /// `config.ensure` (also accepted under `config.plugins.ensure`).
    pub ensure: Ensure,
    /// `config.apdex.threshold` in milliseconds, when apdex is configured.
    pub apdex_threshold_ms: Option<f64>,
    /// How `expect` results affect the run.
    pub expect: ExpectSettings,
    /// `config.plugins.publish-metrics`: where the run's metrics are published, in the order
    /// written.
    pub publish_metrics: Vec<PublishMetrics>,
    /// The environment selected with `-e`, if any (`$environment`).
    pub environment: Option<String>,
    /// What the script does that hornet accepts, as Artillery does, but the author probably did not
    /// mean, in file order; the command line prints them before the run.
    pub warnings: Vec<crate::ScriptWarning>,
    /// `config.processor`: the JavaScript module whose functions the hooks and `function` steps
    /// name.
    pub processor: Option<ProcessorSpec>,
    /// `--testid`: the run's test id, when given (see [`Plan::test_id`]).
    pub test_id: Option<String>,
    /// `config.tracing` (or `--trace`): trace context sent with every request; `None`: off.
    pub tracing: Option<Tracing>,
}

/// `config.processor` and the limits its calls run under.
#[derive(Debug, Clone, PartialEq)]
pub struct ProcessorSpec {
    /// The module, resolved against the directory of the script that names it.
    pub path: PathBuf,
    /// Longest one hook call may take (`config.processorLimits.timeout`, default 5 s).
    pub budget: Duration,
    /// Most bytes one worker thread's JavaScript runtime may allocate
    /// (`config.processorLimits.memory`, in MiB; default 256 MiB).
    pub memory_limit: usize,
    /// On a distributed worker: the private folder holding exactly the files the controller
    /// shipped with the processor; its `fs` calls, `require` and `import` read nothing else.
    pub shipped_folder: Option<PathBuf>,
    /// On a distributed worker: the environment variables that came with the plan, which the
    /// processor's `process.env` (and `context.vars.$env`) read over this process's own.
    pub shipped_env: crate::ShippedEnv,
    /// Every function name the script uses, where it is written (for [`ProcessorSpec::check_exports`]).
    pub uses: Vec<FunctionUse>,
}

/// One place the script names a processor function.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FunctionUse {
    /// The function's name.
    pub name: String,
    /// The file, line and column (with the source line) of the name, as an error about it whose
    /// message the check fills in.
    pub site: crate::ScriptError,
}

impl ProcessorSpec {
    /// Checks that every function the script names is one of `exported`: the first that is not
    /// is an error at the place it is written, with a did-you-mean among the exported names.
    pub fn check_exports(&self, exported: &[String]) -> Result<(), crate::ScriptError> {
        let Some(missing) = self.uses.iter().find(|u| !exported.contains(&u.name)) else { return Ok(()) };
        let names: Vec<&str> = exported.iter().map(String::as_str).collect();
        let help = crate::parse::exported_names_help(&missing.name, &names);
        Err(crate::ScriptError {
            message: format!(
                "the processor `{}` exports no function named `{}`",
                self.path.display(),
                missing.name
            ),
            help: Some(help),
            underline: missing.name.chars().count().max(1),
            ..missing.site.clone()
        })
    }
}

/// Processor functions named by a scenario (`beforeScenario`, `afterScenario`, and the
/// scenario-level `beforeRequest`/`afterResponse`/`onError`, which apply to each of its requests).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ScenarioHooks {
    /// `beforeScenario`: function steps run before the flow.
    pub before_scenario: Vec<String>,
    /// `afterScenario`: function steps run after the flow.
    pub after_scenario: Vec<String>,
    /// `beforeRequest`, before each request's own.
    pub before_request: Vec<String>,
    /// `afterResponse`, before each request's own.
    pub after_response: Vec<String>,
    /// `onError`: called when a request fails to get a response.
    pub on_error: Vec<String>,
}

/// A CSV payload (`config.payload`).
#[derive(Debug, Clone)]
pub struct Payload {
    /// The CSV file, resolved relative to the script.
    pub path: PathBuf,
    /// Variable names for the columns, in order.
    pub fields: Vec<String>,
    /// The rows, each with at least `fields.len()` values (cast to numbers/booleans when `cast`).
    pub rows: std::sync::Arc<Vec<Vec<serde_json::Value>>>,
    /// How VUs take rows.
    pub order: PayloadOrder,
    /// `loadAll: true` with `name`: the whole file becomes one variable (an array of objects).
    pub load_all: Option<String>,
    /// The file's bytes as read, kept only when the plan was loaded with
    /// [`DataFiles::DiskKept`](crate::DataFiles::DiskKept) (a controller ships them).
    pub data: Option<std::sync::Arc<[u8]>>,
}

impl Payload {
    /// The value of the `loadAll` variable: every row as an object keyed by `fields` (values past
    /// the last field are dropped), or as an array of its values when there are no `fields`.
    pub fn load_all_value(&self) -> serde_json::Value {
        let rows = self.rows.iter().map(|row| {
            if self.fields.is_empty() {
                serde_json::Value::Array(row.clone())
            } else {
                serde_json::Value::Object(self.fields.iter().cloned().zip(row.iter().cloned()).collect())
            }
        });
        serde_json::Value::Array(rows.collect())
    }
}

/// How VUs take payload rows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PayloadOrder {
    /// Each VU takes a random row (Artillery's default).
    Random,
    /// VU n takes row n mod rows.
    Sequence,
}

/// `config.ensure`: checks on the final metrics that decide the exit code.
#[derive(Debug, Clone, Default)]
pub struct Ensure {
    /// `thresholds: [{metric: max}]`: each means `metric < max`.
    pub thresholds: Vec<Threshold>,
    /// `conditions: [{expression, strict}]`.
    pub conditions: Vec<Condition>,
    /// `maxErrorRate` in percent: failed VUs / created VUs × 100 must be ≤ this.
    pub max_error_rate: Option<f64>,
}

/// `metric < max`.
#[derive(Debug, Clone, PartialEq)]
pub struct Threshold {
    /// A metric name as in the report, with an aggregation suffix (`http.response_time.p95`).
    pub metric: String,
    /// The exclusive upper bound.
    pub max: f64,
}

/// An ensure condition.
#[derive(Debug, Clone)]
pub struct Condition {
    /// The expression over metric names.
    pub expression: crate::expr::Expr,
    /// `strict: false` reports a failure without failing the run.
    pub strict: bool,
}

/// How `expect` results affect the run.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ExpectSettings {
    /// A failed expectation fails the run (exit 1): set by `config.plugins.expect` or `config.expect`.
    pub fail_run: bool,
    /// `expectDefault200`: a request without `expect` must answer 200.
    pub default_200: bool,
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
    /// `sourceAddresses`: local addresses that new connections bind to, in turn (empty: the
    /// system's choice). Each address has its own ~28,000 ephemeral ports towards one target.
    pub source_addresses: Vec<std::net::IpAddr>,
    /// `expectedStatus`: the statuses that count as a success; a response with any other status
    /// counts as a failed request of its endpoint (the VU goes on). Default: 100 to 399.
    pub expected_status: Vec<std::ops::RangeInclusive<u16>>,
    /// `maxCaptureBody`: the longest response body kept for captures, expectations and hooks
    /// that read it; a longer one is read and counted but not kept, and what needed it fails as
    /// `capture-failed`. Default [`DEFAULT_MAX_CAPTURE_BODY`].
    pub max_capture_body: usize,
}

/// The default of `config.http.maxCaptureBody`: 16 MiB.
pub const DEFAULT_MAX_CAPTURE_BODY: usize = 16 * 1024 * 1024;

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout: Duration::from_secs(10),
            pool: None,
            insecure: false,
            source_addresses: Vec::new(),
            expected_status: vec![hornet_metrics::DEFAULT_EXPECTED_STATUS],
            max_capture_body: DEFAULT_MAX_CAPTURE_BODY,
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
    /// Processor functions the scenario names.
    pub hooks: ScenarioHooks,
    /// The scenario as written, as JSON (what processor functions see as `context.scenario`);
    /// `null` in a plan without a processor.
    pub spec: std::sync::Arc<serde_json::Value>,
}

/// One step of a flow.
#[derive(Debug, Clone)]
pub enum Step {
    /// Send a request and wait for its response.
    Request(Box<RequestStep>),
    /// Pause the virtual user.
    Think(Think),
    /// Run `steps` repeatedly.
    Loop {
        /// How many times, or over what.
        over: LoopOver,
        /// The loop body; never empty.
        steps: Vec<Step>,
    },
    /// `log`: print a rendered line (to stderr, prefixed with the VU).
    Log(Template),
    /// `parallel`: issue the requests of `steps` concurrently and wait for all.
    Parallel(Vec<Step>),
    /// A WebSocket step: `connect`, `send`, `sendBytes`, `wait` or `close`.
    Ws(Box<WsStep>),
    /// `function: name`: call a processor function with `(context, events, done)`.
    Function(String),
}

/// A think step.
#[derive(Debug, Clone, PartialEq)]
pub struct Think {
    /// The pause (zero when it is `rendered`).
    pub duration: Duration,
    /// Random variation around `duration`, if any.
    pub jitter: Option<Jitter>,
    /// `think: "{{ pause }}"`: the pause as a template, rendered each time the step runs and read
    /// as a [duration](crate::parse_duration) (`2`, `0.5`, `"500ms"`).
    pub rendered: Option<Template>,
}

/// Think-time jitter: the pause is drawn uniformly from `duration ± jitter`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Jitter {
    /// A fraction of the duration (`jitter: "20%"` is 0.2).
    Fraction(f64),
    /// A fixed amount.
    Absolute(Duration),
}

/// What a loop iterates.
#[derive(Debug, Clone, PartialEq)]
pub enum LoopOver {
    /// `count: N`.
    Count(u64),
    /// `count: "{{ n }}"`: rendered when the loop starts, as a whole number.
    CountRendered(Template),
    /// `over: [a, b, c]`: each element in turn as `$loopElement`.
    Values(Vec<serde_json::Value>),
    /// `over: name`: the elements of the array variable `name`.
    Variable(String),
    /// `whileTrue: fn`: while the processor function says so (`fn(context, next)`), at most
    /// `max` times when the loop also has a `count`.
    While {
        /// The processor function.
        function: String,
        /// The loop's `count`, if it has one.
        max: Option<u64>,
    },
}
