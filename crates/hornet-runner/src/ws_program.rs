//! WebSocket steps compiled for execution: connection specs with their URL and headers
//! pre-rendered when static, payloads pre-rendered when static, and the connection a step opens
//! when the VU has none (the plan's implicit `connect` to the target).
//!
//! URL rules: an absolute `ws://`/`wss://` URL is used as is; `http://` maps to `ws://` and
//! `https://` to `wss://`; a relative URL is joined to the target, whose scheme maps the same way.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use hornet_script::plan::{EndpointId, Plan, WsConnect, WsReply, WsStep, WsWait};
use hornet_script::template::{JsonTemplate, Template, Vars};
use hornet_script::{request_url, ws_scheme};
use http::Uri;
use http::header::{HeaderMap, HeaderName};

use crate::program::{BuildError, render_headers, split_headers};

/// A compiled WebSocket step.
#[derive(Debug)]
pub enum WsOp {
    /// Open the VU's connection (closing any open one first).
    Connect(Arc<CompiledConnect>),
    /// Send a message; with `reply`, wait for the next message.
    Send {
        payload: PayloadSpec,
        reply: Option<WsReply>,
        /// The connection to open when the VU has none.
        fallback: Option<Arc<CompiledConnect>>,
    },
    /// Wait for a message that meets the conditions.
    Wait { wait: WsWait, fallback: Option<Arc<CompiledConnect>> },
    /// Close the connection with this code.
    Close(u16),
}

/// A message to send, pre-rendered when it is static.
#[derive(Debug)]
pub enum PayloadSpec {
    /// Static text.
    StaticText(Arc<str>),
    /// Text with templates.
    Text(Template),
    /// JSON with templates.
    Json(JsonTemplate),
    /// Binary data.
    Binary(Bytes),
}

/// A rendered message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Payload {
    Text(String),
    Binary(Bytes),
}

impl PayloadSpec {
    /// Renders the message for one VU.
    pub fn render(&self, vars: &(impl Vars + ?Sized)) -> Payload {
        match self {
            PayloadSpec::StaticText(t) => Payload::Text(t.to_string()),
            PayloadSpec::Text(t) => Payload::Text(t.render(vars)),
            PayloadSpec::Json(j) => {
                let mut s = String::new();
                j.render_into(vars, &mut s);
                Payload::Text(s)
            }
            PayloadSpec::Binary(b) => Payload::Binary(b.clone()),
        }
    }
}

/// A connection to open.
#[derive(Debug)]
pub struct CompiledConnect {
    /// The endpoint its connect time and errors are recorded under.
    pub endpoint: EndpointId,
    url: ConnectUrl,
    static_headers: HeaderMap,
    dynamic_headers: Vec<(HeaderName, Template)>,
    /// Subprotocols offered.
    pub subprotocols: Vec<String>,
    /// Bound on the handshake.
    pub timeout: Duration,
}

#[derive(Debug)]
enum ConnectUrl {
    Static(Uri),
    Dynamic { base: Option<Arc<str>>, path: Template },
}

/// Compiles WebSocket steps of one plan.
pub(crate) struct WsCompiler {
    /// The target with a ws(s) scheme and no trailing `/`.
    base: Option<Arc<str>>,
    headers: Vec<(HeaderName, Template)>,
    subprotocols: Vec<String>,
    timeout: Duration,
    implicit: Option<Arc<CompiledConnect>>,
}

impl WsCompiler {
    pub(crate) fn new(plan: &Plan) -> Result<WsCompiler, BuildError> {
        let base: Option<Arc<str>> = plan.target.as_deref().map(|t| Arc::from(request_url::ws_base(t)));
        let mut c = WsCompiler {
            base,
            headers: plan.ws.headers.clone(),
            subprotocols: plan.ws.subprotocols.clone(),
            timeout: plan.ws.timeout,
            implicit: None,
        };
        if let (Some(endpoint), Some(target)) = (plan.ws.implicit_connect, &plan.target) {
            let spec = WsConnect {
                url: Template::literal(&ws_scheme(target)),
                endpoint,
                headers: Vec::new(),
                subprotocols: None,
            };
            c.implicit = Some(Arc::new(c.connect(&spec)?));
        }
        Ok(c)
    }

    pub(crate) fn compile(&self, step: &WsStep) -> Result<WsOp, BuildError> {
        Ok(match step {
            WsStep::Connect(spec) => WsOp::Connect(Arc::new(self.connect(spec)?)),
            WsStep::Send(send) => WsOp::Send {
                payload: payload_spec(&send.payload),
                reply: send.reply.clone(),
                fallback: self.implicit.clone(),
            },
            WsStep::Wait(wait) => WsOp::Wait { wait: wait.clone(), fallback: self.implicit.clone() },
            WsStep::Close(code) => WsOp::Close(*code),
        })
    }

    fn connect(&self, spec: &WsConnect) -> Result<CompiledConnect, BuildError> {
        let err = |message: String| BuildError { endpoint: spec.endpoint, message };
        let url = if spec.url.is_static() {
            let mut s = String::new();
            request_url::assemble_ws(
                self.base.as_deref(),
                &spec.url,
                &[] as &[(String, serde_json::Value)],
                &mut s,
            );
            ConnectUrl::Static(request_url::parse_ws(&s).map_err(|e| err(e.to_string()))?)
        } else {
            ConnectUrl::Dynamic { base: self.base.clone(), path: spec.url.clone() }
        };
        let (static_headers, dynamic_headers) = split_headers(&self.headers, &spec.headers).map_err(err)?;
        Ok(CompiledConnect {
            endpoint: spec.endpoint,
            url,
            static_headers,
            dynamic_headers,
            subprotocols: spec.subprotocols.clone().unwrap_or_else(|| self.subprotocols.clone()),
            timeout: self.timeout,
        })
    }
}

fn payload_spec(p: &hornet_script::plan::WsPayload) -> PayloadSpec {
    use hornet_script::plan::WsPayload as P;
    match p {
        P::Text(t) if t.is_static() => PayloadSpec::StaticText(Arc::from(t.source())),
        P::Text(t) => PayloadSpec::Text(t.clone()),
        P::Json(j) if j.is_static() => {
            let mut s = String::new();
            j.render_into(&[] as &[(String, serde_json::Value)], &mut s);
            PayloadSpec::StaticText(Arc::from(s))
        }
        P::Json(j) => PayloadSpec::Json(j.clone()),
        P::Binary(b) => PayloadSpec::Binary(Bytes::from(b.clone())),
    }
}

impl CompiledConnect {
    /// The URL and headers of the upgrade request for one VU.
    pub fn build(
        &self,
        vars: &(impl Vars + ?Sized),
        scratch: &mut String,
    ) -> Result<(Uri, HeaderMap), BuildError> {
        let err = |message: String| BuildError { endpoint: self.endpoint, message };
        let uri = match &self.url {
            ConnectUrl::Static(u) => u.clone(),
            ConnectUrl::Dynamic { base, path } => {
                scratch.clear();
                request_url::assemble_ws(base.as_deref(), path, vars, scratch);
                request_url::parse_ws(scratch).map_err(|e| err(e.to_string()))?
            }
        };
        let headers =
            render_headers(&self.static_headers, &self.dynamic_headers, vars, scratch).map_err(err)?;
        Ok((uri, headers))
    }
}
