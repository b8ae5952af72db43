//! WebSocket in a plan: `config.ws`, and the `connect`, `send`, `wait` and `close` steps.

use std::time::Duration;

use super::{Capture, EndpointId};
use crate::template::{JsonTemplate, Template};

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
