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

use std::path::PathBuf;
use std::time::Duration;

use crate::template::{JsonTemplate, Template};

mod constructors;
mod endpoint;

pub use constructors::SingleRequest;
pub use endpoint::Endpoint;
pub(crate) use endpoint::derive_methods;

/// Index of an endpoint (a request name) in [`Plan::endpoints`]. Metrics are keyed by it.
pub type EndpointId = u32;

/// Which protocol an endpoint measures: its metrics count under `http.*` or `websocket.*`. The
/// metrics' own type, so that a plan's endpoints and the report's are described by one vocabulary.
pub use hornet_metrics::Protocol;

/// `config.ws`, plus the connection a VU opens by itself when a WebSocket step needs one.
#[derive(Debug, Clone, PartialEq)]
pub struct WsSettings {
    /// `subprotocols`, offered on every connection that does not set its own.
    pub subprotocols: Vec<String>,
    /// `headers`, sent on every upgrade request (a `connect` step's own headers win).
    pub headers: Vec<(http::HeaderName, Template)>,
    /// `timeout`: how long a `send` waits for its reply, a `wait` for its message, and a
    /// connection for its handshake. Default 10 s.
    pub timeout: Duration,
    /// The endpoint of the connection a VU opens to the target before a WebSocket step that runs
    /// without a `connect` step before it; `None` when every flow connects explicitly.
    pub implicit_connect: Option<EndpointId>,
}

impl Default for WsSettings {
    fn default() -> Self {
        WsSettings {
            subprotocols: Vec::new(),
            headers: Vec::new(),
            timeout: Duration::from_secs(10),
            implicit_connect: None,
        }
    }
}

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
    /// The environment selected with `-e`, if any (`$environment`).
    pub environment: Option<String>,
    /// What the script does that hornet accepts, as Artillery does, but the author probably did not
    /// mean, in file order; the command line prints them before the run.
    pub warnings: Vec<crate::ScriptWarning>,
    /// `config.processor`: the JavaScript module whose functions the hooks and `function` steps
    /// name.
    pub processor: Option<ProcessorSpec>,
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

/// Processor functions a request names itself (`beforeRequest`, `afterResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHooks {
    /// `beforeRequest`: `(requestParams, context, events, next)`, may change the request.
    pub before_request: Vec<String>,
    /// `afterResponse`: `(requestParams, response, context, events, next)`.
    pub after_response: Vec<String>,
    /// An `ifTrue` that is a bare name, in a script with a processor: as in Artillery, when the
    /// processor exports a function by that name, `name(context.vars)` decides whether the
    /// request is sent; otherwise the name is a variable of the expression in
    /// [`RequestStep::condition`].
    pub if_true: Option<String>,
}

impl RequestHooks {
    /// True when the request names no function.
    pub fn is_empty(&self) -> bool {
        self.before_request.is_empty() && self.after_response.is_empty() && self.if_true.is_none()
    }
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
}

impl Default for HttpSettings {
    fn default() -> Self {
        HttpSettings {
            timeout: Duration::from_secs(10),
            pool: None,
            insecure: false,
            source_addresses: Vec::new(),
        }
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
    /// Cap on VUs in flight; arrivals beyond it are skipped and counted. For a request-rate phase,
    /// the number of VUs that issue the requests.
    pub max_vusers: Option<u64>,
    /// How arrivals (or request-rate tokens) are spaced: evenly (default) or as a Poisson process.
    /// Always [`ArrivalMode::Uniform`] for pauses and closed-model phases, which have no arrivals.
    pub mode: ArrivalMode,
    /// For closed-model phases: how often each user starts an iteration.
    pub pacing: Option<Pacing>,
}

/// The number of VUs that issue a request-rate phase's requests when it sets no `maxVusers`
/// (the parser fills [`Phase::max_vusers`] with it).
pub const DEFAULT_REQUEST_RATE_VUSERS: u64 = 100;

/// How arrivals are spaced in time.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum ArrivalMode {
    /// Exactly as the rate says (docs/design.md §1).
    #[default]
    Uniform,
    /// A Poisson process with the same mean rate, seeded by `--seed`.
    Poisson,
}

/// Per-user pacing of iterations in a closed-model phase.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Pacing {
    /// `pacing: 2s`: an iteration starts every interval (Locust's constant_pacing); an iteration
    /// that overruns is followed at once and counted as late.
    Interval(Duration),
    /// `throughput: 5`: iterations per second per user (Locust's constant_throughput).
    Throughput(f64),
}

impl Pacing {
    /// The interval between iteration starts.
    pub fn interval(&self) -> Duration {
        match *self {
            Pacing::Interval(d) => d,
            Pacing::Throughput(t) if t > 0.0 && t.is_finite() => Duration::from_secs_f64(1.0 / t),
            Pacing::Throughput(_) => Duration::ZERO,
        }
    }
}

/// How a closed-model phase reaches its user count.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum UserRamp {
    /// `users: N`: all users (beyond those already running) start at the phase start.
    Immediate,
    /// `users: N` with `spawnRate: r`: user i of the change starts at i / r (Locust).
    SpawnRate(f64),
    /// `rampUsers: N`: linear from the previous phase's users to N over the duration (k6 ramping-vus).
    Linear,
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
    /// Closed model: keep `users` virtual users alive, each looping over its scenario's flow.
    /// Users beyond the new count (after a ramp down) stop at the end of their iteration.
    Users {
        /// The user count at the end of the phase.
        users: u64,
        /// How the count is reached.
        ramp: UserRamp,
    },
    /// `requestRate`: requests per second across all VUs (ramping to `ramp_to`), whatever the
    /// flow; `max_vusers` VUs issue them. A request due while no VU is free is dropped and counted.
    RequestRate {
        /// Requests per second at the start.
        rate: f64,
        /// Requests per second at the end (`rampTo`), if it ramps.
        ramp_to: Option<f64>,
    },
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

/// A WebSocket step. A VU has at most one connection at a time.
#[derive(Debug, Clone)]
pub enum WsStep {
    /// `connect`: open the VU's connection (closing any open one first).
    Connect(WsConnect),
    /// `send` / `sendBytes`: send one message; with `reply`, wait for the next message.
    Send(WsSend),
    /// `wait`: wait for a message that meets every `match` (other messages are discarded).
    Wait(WsWait),
    /// `close`: close the connection with this code (default 1000).
    Close(u16),
}

impl WsStep {
    /// The endpoint the step's metrics are recorded under, if it waits for something.
    pub fn endpoint(&self) -> Option<EndpointId> {
        match self {
            WsStep::Connect(c) => Some(c.endpoint),
            WsStep::Send(s) => s.reply.as_ref().map(|r| r.endpoint),
            WsStep::Wait(w) => Some(w.endpoint),
            WsStep::Close(_) => None,
        }
    }
}

/// A `connect` step.
#[derive(Debug, Clone)]
pub struct WsConnect {
    /// The URL: absolute (`ws://`, `wss://`, `http://`, `https://`) or relative to the target.
    pub url: Template,
    /// Metric name: `name`, or `WS connect <url>`.
    pub endpoint: EndpointId,
    /// Headers of the upgrade request (they replace `config.ws.headers` of the same name).
    pub headers: Vec<(http::HeaderName, Template)>,
    /// Subprotocols offered; `None` means those of `config.ws`.
    pub subprotocols: Option<Vec<String>>,
}

/// A `send` or `sendBytes` step.
#[derive(Debug, Clone)]
pub struct WsSend {
    /// The message.
    pub payload: WsPayload,
    /// Set when the step waits for a reply (it has `capture` or `match`).
    pub reply: Option<WsReply>,
}

/// What a `send` sends.
#[derive(Debug, Clone)]
pub enum WsPayload {
    /// A text message (a string, rendered).
    Text(Template),
    /// A text message holding JSON (a map or list, rendered).
    Json(JsonTemplate),
    /// A binary message (`sendBytes`, decoded from base64 or hex when the script is read).
    Binary(Vec<u8>),
}

/// The reply a `send` waits for: the next message that arrives.
#[derive(Debug, Clone)]
pub struct WsReply {
    /// Metric name: `name`, or `WS send <payload>`; its round-trip times are recorded under it.
    pub endpoint: EndpointId,
    /// `capture` and `match`, in order, applied to the reply.
    pub captures: Vec<Capture>,
    /// `timeout`, else `config.ws.timeout`.
    pub timeout: Duration,
}

/// A `wait` step.
#[derive(Debug, Clone)]
pub struct WsWait {
    /// Metric name: `name`, or `WS wait <condition>`.
    pub endpoint: EndpointId,
    /// `match` (and a bare `json`/`regexp` condition): every one must hold for a message to count.
    pub conditions: Vec<Capture>,
    /// `capture`, applied to the message that met the conditions.
    pub captures: Vec<Capture>,
    /// `timeout`, else `config.ws.timeout`.
    pub timeout: Duration,
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
    /// `json`, `body`, `form` or `formData`, if any.
    pub body: Option<Body>,
    /// `auth: {user, pass}`: basic authentication.
    pub auth: Option<(Template, Template)>,
    /// `cookie`: cookies added to this request.
    pub cookies: Vec<(String, Template)>,
    /// `followRedirect` (default true; at most 10 hops).
    pub follow_redirect: bool,
    /// `gzip` (default true): ask for and decode gzip/deflate/br bodies.
    pub decompress: bool,
    /// `probability` in percent: the request is sent with this chance, else skipped.
    pub probability: Option<f64>,
    /// `ifTrue`: the request is sent only when the expression is true.
    pub condition: Option<crate::expr::Expr>,
    /// `capture` (and `match`), in order.
    pub captures: Vec<Capture>,
    /// `expect`, in order.
    pub expects: Vec<Expect>,
    /// Processor functions called around this request.
    pub hooks: RequestHooks,
}

impl RequestStep {
    /// True when a later step may need the response body (captures or body expectations).
    pub fn needs_body(&self) -> bool {
        self.captures.iter().any(|c| !matches!(c.source, CaptureSource::Header(_)))
            || self.expects.iter().any(|e| {
                matches!(e, Expect::HasProperty(_) | Expect::NotHasProperty(_) | Expect::MatchesRegexp(_))
            })
    }

    /// True when the response's headers may be read after it arrives (any capture or expectation;
    /// the engine keeps the ones it acts on itself: redirects, content coding, cookies).
    pub fn needs_headers(&self) -> bool {
        !self.captures.is_empty() || !self.expects.is_empty()
    }
}

/// One capture (or Artillery `match`).
#[derive(Debug, Clone)]
pub struct Capture {
    /// Where the value comes from.
    pub source: CaptureSource,
    /// `as`: the variable to set. `None` for a `match` without `as`.
    pub name: Option<String>,
    /// `strict` (default: the plan's `strict_capture`): a failed capture fails the VU.
    pub strict: bool,
    /// Which match to take when there are several.
    pub index: CaptureIndex,
    /// For `match`: the value the capture must equal.
    pub equals: Option<Template>,
}

/// Where a capture reads from.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    /// `json`: an RFC 9535 JSONPath over the JSON body.
    Json {
        /// The compiled path.
        path: serde_json_path::JsonPath,
        /// The path as written.
        source: String,
    },
    /// `regexp` (with `flags`) over the body; `group` picks a capture group.
    Regexp {
        /// The compiled expression.
        regex: regex::Regex,
        /// `group`: a number or a name; default the whole match (or group 1 if there is one).
        group: Option<RegexGroup>,
    },
    /// `header`: a response header's value.
    Header(http::HeaderName),
    /// `selector`: a CSS selector over an HTML body; `attr` reads an attribute instead of the text.
    Selector {
        /// The compiled selector.
        selector: scraper::Selector,
        /// The selector as written.
        source: String,
        /// `attr`.
        attr: Option<String>,
    },
}

/// A regex capture group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegexGroup {
    /// By number (0 is the whole match).
    Index(usize),
    /// By name.
    Name(String),
}

/// Which of several matches a capture takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureIndex {
    /// The first (default).
    First,
    /// The last.
    Last,
    /// A random one.
    Random,
    /// The n-th, 0-based.
    Nth(usize),
}

/// One `expect` check.
#[derive(Debug, Clone)]
pub enum Expect {
    /// `statusCode`: one of these.
    StatusCode(Vec<u16>),
    /// `notStatusCode`: none of these.
    NotStatusCode(Vec<u16>),
    /// `statusCode` with a template among its values (`"{{ $loopElement.code }}"`): one of these
    /// once rendered, each of which must render as a status code.
    StatusCodeRendered(Vec<Template>),
    /// `notStatusCode` with a template among its values: none of these once rendered.
    NotStatusCodeRendered(Vec<Template>),
    /// `contentType`: the content type contains this (`json` matches `application/json`).
    ContentType(Template),
    /// `hasProperty`: the JSON body has this dotted path.
    HasProperty(String),
    /// `notHasProperty`.
    NotHasProperty(String),
    /// `hasProperty` written as a template: the path is rendered for each response.
    HasPropertyRendered(Template),
    /// `notHasProperty` written as a template.
    NotHasPropertyRendered(Template),
    /// `equals`: all rendered values are equal.
    Equals(Vec<Template>),
    /// `hasHeader`.
    HasHeader(http::HeaderName),
    /// `headerEquals: [name, value]`.
    HeaderEquals(http::HeaderName, Template),
    /// `matchesRegexp`: the body matches.
    MatchesRegexp(regex::Regex),
}

impl Expect {
    /// Every kind's name as written in scripts, in the order of the variants: the list the metrics
    /// count them by ([`hornet_metrics::EXPECT_KINDS`]), defined once there.
    pub const KINDS: [&'static str; 9] = hornet_metrics::EXPECT_KINDS;

    /// The kind's name as written in scripts (`statusCode`), for metrics and messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Expect::StatusCode(_) | Expect::StatusCodeRendered(_) => "statusCode",
            Expect::NotStatusCode(_) | Expect::NotStatusCodeRendered(_) => "notStatusCode",
            Expect::ContentType(_) => "contentType",
            Expect::HasProperty(_) | Expect::HasPropertyRendered(_) => "hasProperty",
            Expect::NotHasProperty(_) | Expect::NotHasPropertyRendered(_) => "notHasProperty",
            Expect::Equals(_) => "equals",
            Expect::HasHeader(_) => "hasHeader",
            Expect::HeaderEquals(..) => "headerEquals",
            Expect::MatchesRegexp(_) => "matchesRegexp",
        }
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// `json:`; sent with `content-type: application/json` unless a header says otherwise.
    Json(JsonTemplate),
    /// `body:`; sent as is.
    Raw(Template),
    /// `form:`; sent as `application/x-www-form-urlencoded`.
    Form(Vec<(String, Template)>),
    /// `formData:`; sent as `multipart/form-data`.
    Multipart(Vec<(String, FormPart)>),
}

/// One field of a multipart body.
#[derive(Debug, Clone)]
pub enum FormPart {
    /// A plain value.
    Value(Template),
    /// `fromFile`: a file's content (path resolved relative to the script), with an optional type.
    File {
        /// The file.
        path: PathBuf,
        /// `contentType`, default `application/octet-stream`.
        content_type: Option<String>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_expect_kind_is_listed_in_variant_order() {
        let t = || crate::template::Template::literal("x");
        let h = || http::HeaderName::from_static("x");
        let re = || regex::Regex::new("x").unwrap();
        let all = [
            Expect::StatusCode(vec![]),
            Expect::NotStatusCode(vec![]),
            Expect::ContentType(t()),
            Expect::HasProperty(String::new()),
            Expect::NotHasProperty(String::new()),
            Expect::Equals(vec![]),
            Expect::HasHeader(h()),
            Expect::HeaderEquals(h(), t()),
            Expect::MatchesRegexp(re()),
        ];
        let kinds: Vec<&str> = all.iter().map(Expect::kind).collect();
        assert_eq!(kinds, Expect::KINDS);
    }
}
