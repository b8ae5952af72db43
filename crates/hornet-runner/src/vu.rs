//! One virtual user: runs a scenario's steps in order with its own variables, cookie jar and
//! connection; renders requests, applies captures and expectations, and stops at the first
//! failed request or failed strict capture. WebSocket steps run in [`ws`], calls into the
//! processor (function steps, conditions, request hooks) in [`processor`], and the VU's variables
//! and random generator are its [`Scope`].

mod processor;
mod scope;
mod ws;

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use bytes::Bytes;
use hornet_engine::http::{HttpClient, Request, Response, Session};
use hornet_engine::ws::WsClient;
use hornet_metrics::{ErrorKind, Recorder};
use hornet_script::plan::{Capture, EndpointId, Jitter, LoopOver, Think};
use hornet_script::template::{Template, Vars};
use serde_json::Value;
use tokio::time::{Duration, Instant};

use crate::capture::{ResponseView, capture};
use crate::expect::check;
use crate::gate::Gate;
use crate::js::VuJs;
use crate::program::{CompiledConnect, CompiledRequest, Op};
use crate::trace_context::{SentTrace, VuTracer};

pub use scope::{Scope, uuid};

/// Redirect hops followed when `followRedirect` is true (Artillery's default behaviour).
pub(crate) const MAX_REDIRECTS: u8 = 10;

/// Why a VU ended early; the cause has already been recorded against its endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct VuFailure {
    /// What went wrong, for `before`/`after` flows, which report it directly.
    pub message: String,
    /// The VU was told to stop (its request-rate phase ended); nothing failed.
    pub stopped: bool,
}

/// The failure of a virtual user whose `think` or loop `count` template rendered as something else
/// than a duration or a number. The first such message of each template is also printed, once per
/// process, since no request carries it into the report.
fn wrong_type(template: &Template, message: String) -> VuFailure {
    fail_once(template.source(), message)
}

/// A VU failure whose message is printed the first time `key` fails in this process.
fn fail_once(key: &str, message: String) -> VuFailure {
    static PRINTED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut printed = PRINTED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !printed.iter().any(|seen| seen == key) {
        printed.push(key.to_string());
        let message = hornet_script::escape_controls(&message);
        eprintln!("hornet: {message}; the virtual users that meet it fail");
    }
    VuFailure::new(message)
}

/// What a variable holds, as a message says it.
fn json_kind(value: &Value) -> &'static str {
    match value {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a map",
    }
}

impl VuFailure {
    fn new(message: String) -> VuFailure {
        VuFailure { message, stopped: false }
    }
}

/// Settings every VU of a run shares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VuSettings {
    /// `expectDefault200`: a request without `expect` must answer 200.
    pub expect_default_200: bool,
    /// Print `log` steps (false for quiet runs).
    pub log: bool,
    /// Report `http.response_time` itself from the intended start (`quick -r`, wrk2-style),
    /// not only `http.response_time.corrected`.
    pub replace_total: bool,
}

/// The state of one virtual user.
pub struct Vu {
    client: Rc<HttpClient>,
    recorder: Rc<RefCell<Recorder>>,
    settings: Rc<VuSettings>,
    session: Session,
    /// Variables and randomness.
    pub scope: Scope,
    scratch: String,
    /// When set, the next request's latency is measured from this instant (its intended start)
    /// instead of from when it was issued (wrk2-style; used by `quick -r`).
    intended_start: Option<Instant>,
    /// An id for `log` lines.
    id: u64,
    /// In a request-rate phase, each request waits for a token from here.
    gate: Option<Rc<Gate>>,
    /// The thread's WebSocket engine.
    ws_client: Rc<WsClient>,
    /// The open WebSocket connection, if any (one per VU at a time).
    ws: Option<ws::OpenWs>,
    /// The connection last opened, reopened by a WebSocket step that finds none open.
    last_connect: Option<std::sync::Arc<CompiledConnect>>,
    /// The processor's side of the VU, when the plan has a processor.
    js: Option<Box<VuJs>>,
    /// Trace context for its requests, when the run is traced.
    tracer: Option<Box<VuTracer>>,
}

type OpsFuture<'a> = Pin<Box<dyn Future<Output = Result<(), VuFailure>> + 'a>>;

impl Vu {
    pub fn new(
        client: Rc<HttpClient>,
        ws_client: Rc<WsClient>,
        recorder: Rc<RefCell<Recorder>>,
        settings: Rc<VuSettings>,
        scope: Scope,
        id: u64,
    ) -> Vu {
        Vu {
            ws_client,
            ws: None,
            last_connect: None,
            client,
            recorder,
            settings,
            session: Session::new(),
            scope,
            scratch: String::new(),
            intended_start: None,
            id,
            gate: None,
            js: None,
            tracer: None,
        }
    }

    /// Sends trace context with the VU's requests (`config.tracing`).
    pub(crate) fn set_tracer(&mut self, tracer: VuTracer) {
        self.tracer = Some(Box::new(tracer));
    }

    /// Adds the trace context to a request about to be sent; `None` when the run is not traced.
    #[inline]
    fn trace(&mut self, req: &CompiledRequest, request: &mut Request) -> Option<SentTrace> {
        self.tracer.as_mut()?.inject(request, req.sets_trace_context)
    }

    /// Adds the trace context to a request's headers, where `beforeRequest` hooks see it.
    fn trace_in_headers(&mut self, request: &mut Request) -> Option<SentTrace> {
        self.tracer.as_mut()?.inject_headers(&mut request.headers)
    }

    /// Gives the VU the thread's processor (plans with `config.processor`).
    pub(crate) fn set_processor(
        &mut self,
        processor: Rc<hornet_js::Processor>,
        names: Rc<hornet_metrics::NameCache>,
    ) {
        self.js = Some(Box::new(VuJs::new(processor, names)));
    }

    /// The scenario the VU runs, which processor functions see as `context.scenario`.
    pub(crate) fn set_scenario(&mut self, plan: std::sync::Arc<hornet_script::plan::Plan>, index: usize) {
        if let Some(js) = self.js.as_deref_mut() {
            js.set_scenario(plan, index);
        }
    }

    /// The VU's variables, when it is done.
    pub fn into_scope(self) -> Scope {
        self.scope
    }

    /// Adds a cookie to the VU's jar (`config.defaults.cookie`).
    pub fn set_cookie(&mut self, url: &http::Uri, name: &str, value: &str) {
        self.session.set_cookie(url, name, value);
    }

    /// Makes every request wait for a token from `gate` (request-rate phases).
    pub(crate) fn set_gate(&mut self, gate: Rc<Gate>) {
        self.gate = Some(gate);
    }

    /// Waits for a request token when the VU has a gate; `Err` once the gate is closed.
    async fn await_token(&mut self) -> Result<(), VuFailure> {
        if let Some(gate) = &self.gate {
            match gate.acquire().await {
                Some(at) => self.intended_start = Some(at),
                None => return Err(VuFailure { message: "request-rate phase ended".into(), stopped: true }),
            }
        }
        Ok(())
    }

    /// Measure the next request's latency from `at` (its intended start) as well as from its issue
    /// time: the corrected latency.
    pub fn measure_next_from(&mut self, at: Instant) {
        self.intended_start = Some(at);
    }

    /// Runs a whole flow once, then closes the VU's WebSocket connection (code 1000) if one is
    /// open.
    pub async fn run_flow(&mut self, ops: &[Op]) -> Result<(), VuFailure> {
        if let Some(tracer) = &mut self.tracer {
            tracer.new_iteration();
        }
        let result = self.run(ops).await;
        if self.ws_open() {
            // Boxed: inline, closing a WebSocket would be most of every VU task's future.
            Box::pin(self.close_ws(1000)).await;
        }
        self.last_connect = None;
        result
    }

    /// Runs `ops` once.
    pub fn run<'a>(&'a mut self, ops: &'a [Op]) -> OpsFuture<'a> {
        Box::pin(async move {
            for op in ops {
                match op {
                    Op::Request(req) if req.hooks.is_some() => {
                        if let Some(hooks) = &req.hooks {
                            Box::pin(self.run_hooked_request(req, hooks)).await?;
                        }
                    }
                    Op::Request(req) => {
                        self.await_token().await?;
                        if let Some(mut request) = self.prepare(req, None)? {
                            let from = self.intended_start.take();
                            let sent = self.trace(req, &mut request);
                            // Boxed: the send future is ~10 KB, and inline it would make every
                            // `run` future (one per loop nesting level, per VU) that large, whatever
                            // the flow's steps (docs/benchmarks.md, WebSocket section).
                            let result = Box::pin(self.client.send(&mut self.session, request)).await;
                            self.complete(req, req.endpoint, result, from, sent)?;
                        }
                    }
                    Op::Think(t) => {
                        let d = self.think_time(t)?;
                        if self.ws_open() {
                            self.think_reading(d).await;
                        } else {
                            tokio::time::sleep(d).await;
                        }
                    }
                    // Boxed, like `send`: a WebSocket step's future is ~3.4 KB, and inline it
                    // would make every `run` future that large, HTTP-only flows' too.
                    Op::Ws(op) => Box::pin(self.run_ws(op)).await?,
                    Op::Loop { over, body } => self.run_loop(over, body).await?,
                    Op::Log(t) => {
                        if self.settings.log {
                            // Never `eprintln!`: a closed stderr (`2>&1 | head`) must not panic
                            // the VU and lose its requests.
                            use std::io::Write as _;
                            let _ = writeln!(std::io::stderr(), "[vu {}] {}", self.id, t.render(&self.scope));
                        }
                    }
                    // Boxed, like `send`: `run_parallel` holds the hooks' request and response
                    // copies across its awaits (its future is ~1.8 KB), and inline it would make
                    // every `run` future that large (576 bytes without), flows without `parallel`
                    // too: a looping VU holds two.
                    Op::Parallel(ops) => Box::pin(self.run_parallel(ops)).await?,
                    Op::Function(name) => Box::pin(self.call_function(name)).await?,
                }
            }
            Ok(())
        })
    }

    async fn run_loop(&mut self, over: &LoopOver, body: &[Op]) -> Result<(), VuFailure> {
        if let LoopOver::While { function, max } = over {
            return self.run_while(function, *max, body).await;
        }
        // `$loopElement` is the index for a counted loop, the element otherwise.
        let items: Box<dyn Iterator<Item = Value> + '_> = match over {
            LoopOver::Count(n) => Box::new((0..*n).map(Value::from)),
            LoopOver::CountRendered(template) => {
                let text = template.render(&self.scope);
                let n: u64 = text.trim().parse().map_err(|_| {
                    wrong_type(
                        template,
                        format!(
                            "loop `count: {}` rendered as `{text}`, not a whole number",
                            template.source()
                        ),
                    )
                })?;
                Box::new((0..n).map(Value::from))
            }
            LoopOver::Values(values) => Box::new(values.iter().cloned()),
            // The variable may change inside the loop: iterate over the array as it was.
            // Unset (a capture that did not match, with `strict: false`) or null: no iteration.
            LoopOver::Variable(name) => match self.scope.get(name) {
                Some(Value::Array(items)) => Box::new(items.clone().into_iter()),
                None | Some(Value::Null) => Box::new(std::iter::empty()),
                Some(other) => {
                    let kind = json_kind(other);
                    return Err(fail_once(
                        &format!("loop over {name}"),
                        format!("loop `over: {name}` needs a list, but `{name}` is {kind}"),
                    ));
                }
            },
            LoopOver::While { .. } => Box::new(std::iter::empty()),
        };
        let outer = self.scope.enter_loop();
        let mut result = Ok(());
        for (i, item) in items.enumerate() {
            self.scope.set_loop(Value::from(i as u64 + 1), item);
            result = self.run(body).await;
            if result.is_err() {
                break;
            }
        }
        self.scope.leave_loop(outer);
        result
    }

    /// `whileTrue`: the body runs while the function says so, at most `max` times.
    async fn run_while(&mut self, function: &str, max: Option<u64>, body: &[Op]) -> Result<(), VuFailure> {
        let outer = self.scope.enter_loop();
        let mut result = Ok(());
        let mut i = 0u64;
        while max.is_none_or(|m| i < m) {
            match Box::pin(self.call_condition(function)).await {
                Ok(true) => {}
                Ok(false) => break,
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
            i += 1;
            self.scope.set_loop(Value::from(i), Value::from(i - 1));
            result = self.run(body).await;
            if result.is_err() {
                break;
            }
        }
        self.scope.leave_loop(outer);
        result
    }

    /// Requests of a `parallel` step go out together, each on its own connection (the VU's own
    /// connection can carry one request at a time); their responses are then handled in order.
    async fn run_parallel(&mut self, ops: &[Op]) -> Result<(), VuFailure> {
        let mut pending = Vec::new();
        for op in ops {
            let Op::Request(req) = op else { continue };
            self.await_token().await?;
            let from = self.intended_start.take();
            let decided = match &req.hooks {
                Some(hooks) => Box::pin(self.if_true_function(req, hooks)).await?,
                None => None,
            };
            if let Some(mut request) = self.prepare(req, decided)? {
                let sent = match &req.hooks {
                    Some(_) => self.trace_in_headers(&mut request),
                    None => self.trace(req, &mut request),
                };
                // Hooks run in order on this VU; only the requests themselves overlap.
                let (params, ep) = match &req.hooks {
                    Some(hooks) => Box::pin(self.before_send(req, hooks, &mut request)).await?,
                    None => (None, req.endpoint),
                };
                let client = self.client.clone();
                let handle = tokio::task::spawn_local(async move {
                    let mut session = Session::new();
                    client.send(&mut session, request).await
                });
                pending.push((req, ep, handle, from, params, sent));
            }
        }
        let mut outcome = Ok(());
        for (req, ep, handle, from, params, sent) in pending {
            let result = match handle.await {
                Ok(r) => r,
                Err(_) => continue,
            };
            if outcome.is_err() {
                continue;
            }
            let copy = match &req.hooks {
                Some(hooks) => Box::pin(self.after_send(req, hooks, &result, params.as_ref())).await?,
                None => None,
            };
            outcome = self.complete(req, ep, result, from, sent);
            if let (Ok(()), Some(hooks)) = (&outcome, &req.hooks) {
                outcome = Box::pin(self.after_complete(req, hooks, copy, params.as_ref())).await;
            }
        }
        outcome
    }

    fn think_time(&self, t: &Think) -> Result<Duration, VuFailure> {
        let duration = match &t.rendered {
            None => t.duration,
            Some(template) => {
                let text = template.render(&self.scope);
                hornet_script::parse_duration(text.trim()).map_err(|e| {
                    wrong_type(
                        template,
                        format!("`think: {}` rendered as `{text}`, not a duration: {e}", template.source()),
                    )
                })?
            }
        };
        let jitter = match t.jitter {
            None => return Ok(duration),
            Some(Jitter::Fraction(f)) => duration.mul_f64(f.clamp(0.0, 1.0)),
            Some(Jitter::Absolute(d)) => d.min(duration),
        };
        // Uniform in [duration - jitter, duration + jitter].
        let offset = jitter.mul_f64(self.scope.unit() * 2.0);
        Ok((duration + offset).saturating_sub(jitter))
    }

    /// Decides whether the request is sent (`ifTrue`, `probability`) and renders it. `decided` is
    /// what an `ifTrue` processor function said (having drawn the probability itself).
    fn prepare(
        &mut self,
        req: &CompiledRequest,
        decided: Option<bool>,
    ) -> Result<Option<Request>, VuFailure> {
        let step = &req.step;
        match decided {
            Some(false) => return Ok(None),
            Some(true) => {}
            None => {
                if let Some(cond) = &step.condition
                    && !cond.eval_bool(&|name| self.scope.lookup(name))
                {
                    return Ok(None);
                }
                if let Some(p) = step.probability
                    && self.scope.unit() * 100.0 >= p
                {
                    return Ok(None);
                }
            }
        }
        // Requests with hooks show their headers to the processor; ones that may set trace context
        // are looked into for it: only the others share the step's static headers.
        let share = req.hooks.is_none() && !req.sets_trace_context;
        let built = match req.build(&self.scope, &mut self.scratch, share) {
            Ok(b) => b,
            Err(e) => {
                self.recorder.borrow_mut().error(Some(e.endpoint), ErrorKind::InvalidUrl, &e.message);
                return Err(VuFailure::new(e.message));
            }
        };
        for (name, value) in &step.cookies {
            let v = value.render(&self.scope);
            self.session.set_cookie(&built.uri, name, &v);
        }
        Ok(Some(Request {
            method: built.method,
            uri: built.uri,
            headers: built.headers,
            body: built.body,
            keep_body: step.needs_body(),
            follow_redirects: if step.follow_redirect { MAX_REDIRECTS } else { 0 },
            decompress: step.decompress,
            skip_headers: !step.needs_headers(),
            trace: None,
            shared_headers: built.shared_headers,
        }))
    }

    /// Runs `captures` on a response (or a WebSocket message) in order, setting the named variables;
    /// a failed strict capture is counted and fails the VU.
    pub(crate) fn run_captures(
        &mut self,
        ep: EndpointId,
        captures: &[Capture],
        view: &ResponseView<'_>,
    ) -> Result<(), VuFailure> {
        for c in captures {
            let draw = self.scope.next_u64();
            match capture(c, view, &self.scope, &mut move || draw) {
                Ok(value) => {
                    if let Some(name) = &c.name {
                        self.scope.set(name, value);
                    }
                }
                Err(e) if c.strict => {
                    self.recorder.borrow_mut().error(Some(ep), ErrorKind::CaptureFailed, &e.message);
                    return Err(VuFailure::new(e.message));
                }
                Err(_) => {}
            }
        }
        Ok(())
    }

    /// Records the outcome of a request under endpoint `ep` (the step's, unless a `beforeRequest`
    /// renamed it) and, when it was `sent` with trace context, offers it to the slowest and failed
    /// requests; then runs its captures and expectations.
    fn complete(
        &mut self,
        req: &CompiledRequest,
        ep: EndpointId,
        result: Result<Response, hornet_engine::http::RequestError>,
        from: Option<Instant>,
        sent: Option<SentTrace>,
    ) -> Result<(), VuFailure> {
        let resp = match result {
            Ok(r) => r,
            Err(e) => {
                let mut rec = self.recorder.borrow_mut();
                count_request(&mut rec, ep, 0, e.resent, e.redirects, &e.redirect_statuses);
                rec.error(Some(ep), e.kind, &e.message);
                if let (Some(sent), Some(tracer)) = (&sent, &self.tracer) {
                    tracer.record(&mut rec, ep, sent, Err(e.kind), e.timings.total, e.timings.total);
                }
                return Err(VuFailure::new(e.message));
            }
        };
        let mut timings = resp.timings;
        if let Some(from) = from {
            let corrected = Instant::now().saturating_duration_since(from).max(timings.total);
            timings.corrected = Some(corrected);
            if self.settings.replace_total {
                timings.total = corrected;
            }
        }
        {
            let mut rec = self.recorder.borrow_mut();
            count_request(
                &mut rec,
                ep,
                resp.bytes_sent,
                resp.resent,
                resp.redirects,
                &resp.redirect_statuses,
            );
            rec.response(ep, resp.status, &timings, resp.body_len);
            if let (Some(sent), Some(tracer)) = (&sent, &self.tracer) {
                tracer.record(&mut rec, ep, sent, Ok(resp.status), timings.total, resp.timings.total);
            }
        }
        let step = &req.step;
        if step.captures.is_empty() && step.expects.is_empty() && !self.settings.expect_default_200 {
            return Ok(());
        }
        if resp.body_over_limit && step.needs_body() {
            let message = body_over_limit(resp.body_len, self.client.max_kept_body());
            self.recorder.borrow_mut().error(Some(ep), ErrorKind::CaptureFailed, &message);
            return Err(VuFailure::new(message));
        }
        let empty = Bytes::new();
        let body = resp.body.as_ref().unwrap_or(&empty);
        let view = ResponseView::new(resp.status, &resp.headers, body);
        self.run_captures(ep, &step.captures, &view)?;
        if step.expects.is_empty() {
            if self.settings.expect_default_200 {
                let ok = resp.status == 200;
                self.recorder.borrow_mut().expectation(ep, "statusCode", ok);
                if !ok {
                    let msg = format!("statusCode: expected 200, got {}", resp.status);
                    self.recorder.borrow_mut().error(Some(ep), ErrorKind::ExpectationFailed, &msg);
                }
            }
            return Ok(());
        }
        for e in &step.expects {
            let outcome = check(e, &view, &self.scope);
            let mut rec = self.recorder.borrow_mut();
            rec.expectation(ep, e.kind(), outcome.is_ok());
            if let Err(f) = outcome {
                rec.error(Some(ep), ErrorKind::ExpectationFailed, &f.message);
            }
        }
        Ok(())
    }
}

/// Why the captures and expectations of a response whose body was too long to keep were not run.
pub(crate) fn body_over_limit(body_len: u64, limit: usize) -> String {
    format!(
        "the response body ({body_len} bytes) is longer than {limit} bytes, the most kept for captures \
         and expectations (config.http.maxCaptureBody): it was read and counted, not checked"
    )
}

/// Counts a request in `http.requests`, with the attempts the engine sent again before its
/// outcome (each reached the wire on a connection the server closed unanswered, and the server
/// may have read it) and the redirects it followed (each one more request), and counts the
/// redirect responses it received in `http.responses` and `http.codes`: the counts match what
/// the server saw (docs/errors.md).
pub(crate) fn count_request(
    rec: &mut Recorder,
    ep: EndpointId,
    bytes_sent: u64,
    resent: u8,
    redirects: u8,
    redirect_statuses: &[u16],
) {
    rec.request_sent(ep, bytes_sent);
    for _ in 0..u16::from(resent) + u16::from(redirects) {
        rec.request_sent(ep, 0);
    }
    for &status in redirect_statuses {
        rec.redirect_response(ep, status);
    }
}

/// Prints `message` once per process.
fn warn_once(message: &str) {
    static PRINTED: std::sync::Mutex<Vec<String>> = std::sync::Mutex::new(Vec::new());
    let mut printed = PRINTED.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if !printed.iter().any(|m| m == message) {
        printed.push(message.to_string());
        eprintln!("{message}");
    }
}

/// Time since `start`, for session lengths.
pub fn since(start: Instant) -> Duration {
    Instant::now().saturating_duration_since(start)
}
