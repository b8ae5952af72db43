//! The plan compiled for execution: request steps with everything static pre-rendered once
//! (URI, headers, body), so that a plain request costs no template work at run time.

use std::sync::Arc;

use base64::Engine as _;
use bytes::Bytes;
use hornet_script::plan::{
    Body, EndpointId, FormPart, LoopOver, Plan, RequestStep, ScenarioHooks, Step, Think,
};

pub use crate::ws_program::{CompiledConnect, WsOp};
use hornet_engine::http::SharedHeaders;
use hornet_script::request_url::{self, HttpBase};
use hornet_script::template::{JsonTemplate, Template, Vars};
use http::header::{CONTENT_TYPE, HeaderMap, HeaderName, HeaderValue, USER_AGENT};
use http::{Method, Uri};

/// Why a request could not be built from its templates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BuildError {
    pub endpoint: EndpointId,
    pub message: String,
}

/// A scenario ready to run.
#[derive(Debug)]
pub struct Program {
    pub scenarios: Vec<CompiledScenario>,
    /// The `before` flow, run once before the load.
    pub before: Option<Vec<Op>>,
    /// The `after` flow, run once after the load.
    pub after: Option<Vec<Op>>,
    /// Cumulative weights, for picking a scenario with one random draw.
    cumulative_weights: Vec<u64>,
}

#[derive(Debug)]
pub struct CompiledScenario {
    pub flow: Vec<Op>,
}

/// One executable step.
#[derive(Debug)]
pub enum Op {
    Request(Box<CompiledRequest>),
    Think(Think),
    Loop {
        over: LoopOver,
        body: Vec<Op>,
    },
    Log(Template),
    Parallel(Vec<Op>),
    Ws(Box<WsOp>),
    /// A processor function step (also `beforeScenario`/`afterScenario`).
    Function(String),
}

/// The processor functions called around one request: the scenario's, then the request's own.
#[derive(Debug, Default)]
pub struct CompiledHooks {
    pub before_request: Vec<String>,
    pub after_response: Vec<String>,
    pub on_error: Vec<String>,
    /// A bare-name `ifTrue`: called when the processor exports a function by that name.
    pub if_true: Option<String>,
}

/// A request with its static parts rendered.
#[derive(Debug)]
pub struct CompiledRequest {
    pub method: Method,
    pub endpoint: EndpointId,
    /// The step as written: captures, expectations, conditions and request options.
    pub step: RequestStep,
    url: UrlSpec,
    /// Headers that do not depend on variables (defaults merged with the request's own), shared
    /// by the requests that send them as they are (see [`CompiledRequest::build`]).
    static_headers: SharedHeaders,
    /// Headers with templates, rendered per request.
    dynamic_headers: Vec<(HeaderName, Template)>,
    body: BodySpec,
    /// Processor hooks, for a request that has any.
    pub hooks: Option<Box<CompiledHooks>>,
    /// The request sets a `traceparent` or `baggage` header itself (a default's, its own, or a
    /// template): only then does tracing look for them in its headers.
    pub sets_trace_context: bool,
}

#[derive(Debug)]
enum UrlSpec {
    Static(Uri),
    Dynamic { base: Option<Arc<HttpBase>>, path: Template, qs: Vec<(String, Template)> },
}

#[derive(Debug)]
enum BodySpec {
    Empty,
    Static(Bytes),
    Raw(Template),
    Json(JsonTemplate),
    Form(Vec<(String, Template)>),
    Multipart(Vec<(String, Part)>),
}

/// A multipart field with any file already read.
#[derive(Debug)]
enum Part {
    Value(Template),
    File { name: String, content_type: String, data: Bytes },
}

/// The multipart boundary; long and unlikely to occur in a body.
const BOUNDARY: &str = "hornet-boundary-7MA4YWxkTrZu0gW";

/// A built request, ready for the engine.
pub struct BuiltRequest {
    pub method: Method,
    pub uri: Uri,
    /// All its headers, or with `shared_headers` only those rendered for this request.
    pub headers: HeaderMap,
    /// The step's static headers, sent before `headers` (see [`CompiledRequest::build`]).
    pub shared_headers: Option<SharedHeaders>,
    pub body: Bytes,
}

pub(crate) const AGENT: &str = concat!("hornet/", env!("CARGO_PKG_VERSION"));

impl Program {
    /// Compiles every scenario of `plan`. A URL that is fully static and does not parse is an
    /// error here, before any traffic.
    pub fn compile(plan: &Plan) -> Result<Program, BuildError> {
        // HTTP requests go to the target with an http(s) scheme (a ws:// target means http://).
        let base: Option<Arc<HttpBase>> = plan.target.as_deref().map(|t| Arc::new(HttpBase::new(t)));
        let ws = crate::ws_program::WsCompiler::new(plan)?;
        let mut scenarios = Vec::with_capacity(plan.scenarios.len());
        let mut cumulative_weights = Vec::with_capacity(plan.scenarios.len());
        let mut total = 0u64;
        for s in &plan.scenarios {
            total += u64::from(s.weight);
            cumulative_weights.push(total);
            let hooks = &s.hooks;
            let mut flow: Vec<Op> = hooks.before_scenario.iter().cloned().map(Op::Function).collect();
            flow.extend(compile_steps(plan, &base, &ws, Some(hooks), &s.flow)?);
            flow.extend(hooks.after_scenario.iter().cloned().map(Op::Function));
            scenarios.push(CompiledScenario { flow });
        }
        let flow = |f: &Option<Vec<Step>>| {
            f.as_ref().map(|steps| compile_steps(plan, &base, &ws, None, steps)).transpose()
        };
        Ok(Program { scenarios, before: flow(&plan.before)?, after: flow(&plan.after)?, cumulative_weights })
    }

    /// Picks a scenario by weight from a uniformly random `draw`.
    pub fn pick(&self, draw: u64) -> usize {
        let total = self.cumulative_weights.last().copied().unwrap_or(0);
        if total == 0 {
            return 0;
        }
        let x = draw % total;
        self.cumulative_weights.partition_point(|&c| c <= x)
    }
}

fn compile_steps(
    plan: &Plan,
    base: &Option<Arc<HttpBase>>,
    ws: &crate::ws_program::WsCompiler,
    scenario: Option<&ScenarioHooks>,
    steps: &[Step],
) -> Result<Vec<Op>, BuildError> {
    steps
        .iter()
        .map(|step| {
            Ok(match step {
                Step::Request(r) => {
                    let mut request = compile_request(plan, base, r)?;
                    request.hooks = request_hooks(scenario, r);
                    Op::Request(Box::new(request))
                }
                Step::Think(t) => Op::Think(t.clone()),
                Step::Loop { over, steps } => {
                    Op::Loop { over: over.clone(), body: compile_steps(plan, base, ws, scenario, steps)? }
                }
                Step::Log(t) => Op::Log(t.clone()),
                Step::Parallel(steps) => Op::Parallel(compile_steps(plan, base, ws, scenario, steps)?),
                Step::Ws(step) => Op::Ws(Box::new(ws.compile(step)?)),
                Step::Function(name) => Op::Function(name.clone()),
            })
        })
        .collect()
}

/// The scenario's request hooks followed by the request's own; `None` when there are none.
fn request_hooks(scenario: Option<&ScenarioHooks>, r: &RequestStep) -> Option<Box<CompiledHooks>> {
    let none = ScenarioHooks::default();
    let s = scenario.unwrap_or(&none);
    let hooks = CompiledHooks {
        before_request: s.before_request.iter().chain(&r.hooks.before_request).cloned().collect(),
        after_response: s.after_response.iter().chain(&r.hooks.after_response).cloned().collect(),
        on_error: s.on_error.clone(),
        if_true: r.hooks.if_true.clone(),
    };
    let any = !(hooks.before_request.is_empty()
        && hooks.after_response.is_empty()
        && hooks.on_error.is_empty()
        && hooks.if_true.is_none());
    any.then(|| Box::new(hooks))
}

/// Headers rendered once (static values) and headers rendered per request (templates): the
/// `defaults` the step's `own` headers do not override, then its own, plus hornet's `user-agent`
/// unless one is set. Shared by HTTP requests and WebSocket upgrades.
pub(crate) fn split_headers(
    defaults: &[(HeaderName, Template)],
    own: &[(HeaderName, Template)],
) -> Result<(HeaderMap, Vec<(HeaderName, Template)>), String> {
    let mut static_headers = HeaderMap::new();
    let mut dynamic_headers = Vec::new();
    let overridden = |name: &HeaderName| own.iter().any(|(n, _)| n == name);
    for (name, value) in defaults.iter().filter(|(n, _)| !overridden(n)).chain(own) {
        if value.is_static() {
            let v = HeaderValue::from_str(value.source())
                .map_err(|_| format!("header `{name}` has a value that is not valid in HTTP"))?;
            static_headers.append(name.clone(), v);
        } else {
            dynamic_headers.push((name.clone(), value.clone()));
        }
    }
    if !static_headers.contains_key(USER_AGENT) && !dynamic_headers.iter().any(|(n, _)| n == USER_AGENT) {
        static_headers.insert(USER_AGENT, HeaderValue::from_static(AGENT));
    }
    Ok((static_headers, dynamic_headers))
}

/// The headers of one request or upgrade: the static ones of [`split_headers`] plus the templated
/// ones rendered with `vars`.
pub(crate) fn render_headers(
    static_headers: &HeaderMap,
    dynamic_headers: &[(HeaderName, Template)],
    vars: &(impl Vars + ?Sized),
    scratch: &mut String,
) -> Result<HeaderMap, String> {
    let mut headers = static_headers.clone();
    for (name, value) in dynamic_headers {
        scratch.clear();
        value.render_into(vars, scratch);
        let v = HeaderValue::from_str(scratch)
            .map_err(|_| format!("header `{name}` rendered to a value that is not valid in HTTP"))?;
        headers.append(name.clone(), v);
    }
    Ok(headers)
}

fn compile_request(
    plan: &Plan,
    base: &Option<Arc<HttpBase>>,
    r: &RequestStep,
) -> Result<CompiledRequest, BuildError> {
    let err = |message: String| BuildError { endpoint: r.endpoint, message };
    let url = if r.url.is_static() && r.qs.iter().all(|(_, v)| v.is_static()) {
        let mut s = String::new();
        request_url::assemble_http(
            base.as_deref().map(HttpBase::as_str),
            &r.url,
            &r.qs,
            &[] as &[(String, serde_json::Value)],
            &mut s,
        );
        UrlSpec::Static(request_url::parse_http(&s).map_err(|e| err(e.to_string()))?)
    } else {
        UrlSpec::Dynamic { base: base.clone(), path: r.url.clone(), qs: r.qs.clone() }
    };

    let (mut static_headers, dynamic_headers) =
        split_headers(&plan.default_headers, &r.headers).map_err(err)?;
    let has =
        |h: &HeaderMap, n: &HeaderName| h.contains_key(n) || dynamic_headers.iter().any(|(d, _)| d == n);
    let mut content_type = |value: &'static str| {
        if !has(&static_headers, &CONTENT_TYPE) {
            static_headers.insert(CONTENT_TYPE, HeaderValue::from_static(value));
        }
    };
    let body = match &r.body {
        None => BodySpec::Empty,
        Some(Body::Form(fields)) => {
            content_type("application/x-www-form-urlencoded");
            BodySpec::Form(fields.clone())
        }
        Some(Body::Multipart(parts)) => {
            content_type(MULTIPART_CONTENT_TYPE);
            let mut out = Vec::with_capacity(parts.len());
            for (name, part) in parts {
                out.push((
                    name.clone(),
                    match part {
                        FormPart::Value(t) => Part::Value(t.clone()),
                        FormPart::File { path, content_type, shipped } => Part::File {
                            name: path
                                .file_name()
                                .map(|n| n.to_string_lossy().into_owned())
                                .unwrap_or_default(),
                            content_type: content_type
                                .clone()
                                .unwrap_or_else(|| "application/octet-stream".into()),
                            // A distributed worker sends the bytes that came with its plan.
                            data: match shipped {
                                Some(bytes) => Bytes::from_owner(bytes.clone()),
                                None => std::fs::read(path).map(Bytes::from).map_err(|e| {
                                    err(format!("cannot read `{}` for formData: {e}", path.display()))
                                })?,
                            },
                        },
                    },
                ));
            }
            BodySpec::Multipart(out)
        }
        Some(Body::Raw(t)) if t.is_static() => BodySpec::Static(Bytes::from(t.source().to_string())),
        Some(Body::Raw(t)) => BodySpec::Raw(t.clone()),
        Some(Body::Json(j)) => {
            content_type("application/json");
            if j.is_static() {
                let mut s = String::new();
                j.render_into(&[] as &[(String, serde_json::Value)], &mut s);
                BodySpec::Static(Bytes::from(s))
            } else {
                BodySpec::Json(j.clone())
            }
        }
    };
    let sets_trace_context = has(&static_headers, &hornet_engine::http::TRACEPARENT)
        || has(&static_headers, &hornet_engine::http::BAGGAGE);
    Ok(CompiledRequest {
        sets_trace_context,
        method: r.method.clone(),
        endpoint: r.endpoint,
        step: r.clone(),
        url,
        static_headers: SharedHeaders::new(static_headers),
        dynamic_headers,
        body,
        hooks: None,
    })
}

/// The `content-type` of the multipart bodies hornet encodes (with [`BOUNDARY`]).
pub(crate) const MULTIPART_CONTENT_TYPE: &str =
    concat!("multipart/form-data; boundary=", "hornet-boundary-7MA4YWxkTrZu0gW");

/// Encodes a `multipart/form-data` body with [`BOUNDARY`].
fn multipart(parts: &[(String, Part)], vars: &(impl Vars + ?Sized), scratch: &mut String) -> Bytes {
    let mut out = Vec::new();
    for (name, part) in parts {
        match part {
            Part::Value(t) => {
                scratch.clear();
                t.render_into(vars, scratch);
                multipart_part(&mut out, name, None, scratch.as_bytes());
            }
            Part::File { name: file, content_type, data } => {
                multipart_part(&mut out, name, Some((file, content_type)), data);
            }
        }
    }
    multipart_end(&mut out);
    Bytes::from(out)
}

/// Appends one part of a multipart body: field `name` holding `data`, as a file (name and type)
/// when `file` says so.
pub(crate) fn multipart_part(out: &mut Vec<u8>, name: &str, file: Option<(&str, &str)>, data: &[u8]) {
    out.extend_from_slice(format!("--{BOUNDARY}\r\n").as_bytes());
    let head = match file {
        None => format!("content-disposition: form-data; name=\"{name}\"\r\n\r\n"),
        Some((file, content_type)) => format!(
            "content-disposition: form-data; name=\"{name}\"; filename=\"{file}\"\r\ncontent-type: {content_type}\r\n\r\n"
        ),
    };
    out.extend_from_slice(head.as_bytes());
    out.extend_from_slice(data);
    out.extend_from_slice(b"\r\n");
}

/// Ends a multipart body.
pub(crate) fn multipart_end(out: &mut Vec<u8>) {
    out.extend_from_slice(format!("--{BOUNDARY}--\r\n").as_bytes());
}

impl CompiledRequest {
    /// Renders the request for one VU. `scratch` is a reusable buffer. With `share`, the static
    /// headers are not copied into the request's header map but shared with it
    /// ([`BuiltRequest::shared_headers`]), unless basic `auth` would replace one of them: for a
    /// request whose headers nobody reads or changes before it goes out.
    pub fn build(
        &self,
        vars: &(impl Vars + ?Sized),
        scratch: &mut String,
        share: bool,
    ) -> Result<BuiltRequest, BuildError> {
        let err = |message: String| BuildError { endpoint: self.endpoint, message };
        let uri = match &self.url {
            UrlSpec::Static(u) => u.clone(),
            UrlSpec::Dynamic { base, path, qs } => {
                request_url::render_http(base.as_deref(), path, qs, vars, scratch)
                    .map_err(|e| err(e.to_string()))?
            }
        };
        let share = share && self.step.auth.is_none();
        let mut headers = match share {
            true if self.dynamic_headers.is_empty() => HeaderMap::new(),
            true => render_headers(&HeaderMap::new(), &self.dynamic_headers, vars, scratch).map_err(err)?,
            false => render_headers(self.static_headers.map(), &self.dynamic_headers, vars, scratch)
                .map_err(err)?,
        };
        let body = match &self.body {
            BodySpec::Empty => Bytes::new(),
            BodySpec::Static(b) => b.clone(),
            BodySpec::Raw(t) => {
                let mut s = String::new();
                t.render_into(vars, &mut s);
                Bytes::from(s)
            }
            BodySpec::Json(j) => {
                let mut s = String::new();
                j.render_into(vars, &mut s);
                Bytes::from(s)
            }
            BodySpec::Form(fields) => {
                let mut form = url::form_urlencoded::Serializer::new(String::new());
                for (k, v) in fields {
                    scratch.clear();
                    v.render_into(vars, scratch);
                    form.append_pair(k, scratch);
                }
                Bytes::from(form.finish())
            }
            BodySpec::Multipart(parts) => multipart(parts, vars, scratch),
        };
        if let Some((user, pass)) = &self.step.auth {
            scratch.clear();
            user.render_into(vars, scratch);
            scratch.push(':');
            pass.render_into(vars, scratch);
            let token = base64::engine::general_purpose::STANDARD.encode(scratch.as_bytes());
            let v = HeaderValue::from_str(&format!("Basic {token}"))
                .map_err(|_| err("basic auth credentials are not valid in a header".into()))?;
            headers.insert(http::header::AUTHORIZATION, v);
        }
        let shared_headers = share.then(|| self.static_headers.clone());
        Ok(BuiltRequest { method: self.method.clone(), uri, headers, shared_headers, body })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pick_follows_weights() {
        let p = Program {
            scenarios: vec![],
            before: None,
            after: None,
            cumulative_weights: vec![3, 3, 4], // weights 3, 0, 1
        };
        let picks: Vec<usize> = (0..8).map(|d| p.pick(d)).collect();
        assert_eq!(picks, [0, 0, 0, 2, 0, 0, 0, 2]);
    }
}
