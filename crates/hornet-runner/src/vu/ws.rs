//! A VU's WebSocket connection: opening it (explicitly, or by itself before a step that needs one),
//! sending, waiting for replies and messages, reading while the VU thinks so that every message
//! received is counted, and closing it (code 1000) when the flow ends.
//!
//! Errors are recorded against the step's endpoint (or the connection's for a plain `send`), and a
//! failed step fails the VU, like a failed HTTP request.

use std::sync::Arc;

use bytes::Bytes;
use hornet_engine::ws::{ABNORMAL_CLOSE, ConnectRequest, Connection, Incoming, Outgoing, WsError};
use hornet_metrics::ErrorKind;
use hornet_script::plan::{Capture, EndpointId, WsReply, WsWait};
use tokio::time::{Duration, Instant};

use super::{Vu, VuFailure};
use crate::capture::{ResponseView, capture};
use crate::program::{CompiledConnect, WsOp};
use crate::ws_program::{Payload, PayloadSpec};

/// Most messages already received that a `send` with a reply drops before sending.
const MAX_DRAINED: usize = 10_000;

/// How long the end of a flow waits for the server to answer the close frame.
const CLOSE_WAIT: Duration = Duration::from_secs(1);

/// The VU's open connection.
pub(super) struct OpenWs {
    conn: Connection,
    /// The connection's endpoint: errors outside a waiting step are recorded under it.
    endpoint: EndpointId,
}

/// Why a message was not received.
enum RecvFailure {
    /// Nothing within the step's timeout.
    Timeout,
    /// The server closed the connection (with this code).
    Closed(u16),
    /// The connection failed.
    Error(WsError),
}

impl Vu {
    /// Runs one WebSocket step.
    pub(super) async fn run_ws(&mut self, op: &WsOp) -> Result<(), VuFailure> {
        match op {
            WsOp::Connect(spec) => {
                self.close_ws(1000).await;
                self.connect_ws(spec).await
            }
            WsOp::Send { payload, reply, fallback } => {
                self.ensure_ws(fallback).await?;
                self.send_ws(payload, reply.as_ref()).await
            }
            WsOp::Wait { wait, fallback } => {
                self.ensure_ws(fallback).await?;
                self.wait_ws(wait).await
            }
            WsOp::Close(code) => {
                self.close_ws(*code).await;
                Ok(())
            }
        }
    }

    /// Opens a connection unless one is open: the last one this VU opened, else `fallback`.
    async fn ensure_ws(&mut self, fallback: &Option<Arc<CompiledConnect>>) -> Result<(), VuFailure> {
        if self.ws.is_some() {
            return Ok(());
        }
        match self.last_connect.clone().or_else(|| fallback.clone()) {
            Some(spec) => self.connect_ws(&spec).await,
            None => {
                let message = "no WebSocket connection is open: add a `connect` step".to_string();
                self.recorder.borrow_mut().error(None, ErrorKind::Protocol, &message);
                Err(VuFailure::new(message))
            }
        }
    }

    async fn connect_ws(&mut self, spec: &Arc<CompiledConnect>) -> Result<(), VuFailure> {
        let ep = spec.endpoint;
        self.last_connect = Some(spec.clone());
        let (uri, mut headers) = match spec.build(&self.scope, &mut self.scratch) {
            Ok(b) => b,
            Err(e) => {
                self.recorder.borrow_mut().error(Some(ep), ErrorKind::InvalidUrl, &e.message);
                return Err(VuFailure::new(e.message));
            }
        };
        self.add_cookies(&uri, &mut headers);
        let sent = self.tracer.as_mut().and_then(|tracer| tracer.inject_headers(&mut headers));
        let request =
            ConnectRequest { uri, headers, subprotocols: spec.subprotocols.clone(), timeout: spec.timeout };
        self.recorder.borrow_mut().ws_step_started(ep);
        let started = Instant::now();
        let result = self.ws_client.connect(request).await;
        if let (Some(sent), Some(tracer)) = (&sent, &self.tracer) {
            let outcome = result.as_ref().map(drop).map_err(|e| e.kind);
            let took = result.as_ref().map_or_else(|_| started.elapsed(), |conn| conn.connect_time);
            tracer.record_handshake(&mut self.recorder.borrow_mut(), ep, sent, outcome, took);
        }
        match result {
            Ok(conn) => {
                self.recorder.borrow_mut().ws_connected(ep, conn.connect_time);
                self.ws = Some(OpenWs { conn, endpoint: ep });
                Ok(())
            }
            Err(e) => Err(self.ws_failed(ep, e)),
        }
    }

    /// The session's cookies for the connection's URL (as http/https), unless the step sets
    /// `cookie` itself.
    fn add_cookies(&self, uri: &http::Uri, headers: &mut http::HeaderMap) {
        if headers.contains_key(http::header::COOKIE) {
            return;
        }
        let Ok(http_uri) = hornet_script::http_scheme(&uri.to_string()).parse::<http::Uri>() else { return };
        let cookies = self.session.cookies(&http_uri);
        if cookies.is_empty() {
            return;
        }
        let line = cookies.iter().map(|(n, v)| format!("{n}={v}")).collect::<Vec<_>>().join("; ");
        if let Ok(v) = http::HeaderValue::from_str(&line) {
            headers.insert(http::header::COOKIE, v);
        }
    }

    async fn send_ws(&mut self, payload: &PayloadSpec, reply: Option<&WsReply>) -> Result<(), VuFailure> {
        let message = match payload.render(&self.scope) {
            Payload::Text(t) => Outgoing::Text(t),
            Payload::Binary(b) => Outgoing::Binary(b),
        };
        if reply.is_some() {
            // The reply is a message that arrives after the send: count and drop any already here.
            self.drain_ws();
        }
        let Some(open) = self.ws.as_mut() else {
            let message = "the server closed the connection before the send".to_string();
            let ep = reply.map(|r| r.endpoint);
            self.recorder.borrow_mut().error(ep, ErrorKind::ConnectReset, &message);
            return Err(VuFailure::new(message));
        };
        let ep = reply.map_or(open.endpoint, |r| r.endpoint);
        if reply.is_some() {
            self.recorder.borrow_mut().ws_step_started(ep);
        }
        let started = Instant::now();
        let sent = match open.conn.send(message).await {
            Ok(n) => n,
            Err(e) => return Err(self.ws_failed(ep, e)),
        };
        self.recorder.borrow_mut().ws_message_sent(sent);
        let Some(reply) = reply else { return Ok(()) };
        let deadline = started + reply.timeout;
        let data = match self.recv_ws(deadline).await {
            Ok(data) => data,
            Err(f) => return Err(self.recv_failed(ep, f, reply.timeout, "a reply")),
        };
        self.recorder.borrow_mut().ws_reply(ep, started.elapsed(), sent, data.len() as u64);
        self.apply_captures(ep, &reply.captures, &data)
    }

    async fn wait_ws(&mut self, wait: &WsWait) -> Result<(), VuFailure> {
        let ep = wait.endpoint;
        self.recorder.borrow_mut().ws_step_started(ep);
        let started = Instant::now();
        let deadline = started + wait.timeout;
        // Bounded by the deadline: every iteration consumes one message.
        loop {
            let data = match self.recv_ws(deadline).await {
                Ok(data) => data,
                Err(f) => return Err(self.recv_failed(ep, f, wait.timeout, "a matching message")),
            };
            if self.meets(&wait.conditions, &data) {
                self.recorder.borrow_mut().ws_waited(ep, started.elapsed(), data.len() as u64);
                return self.apply_captures(ep, &wait.captures, &data);
            }
        }
    }

    /// True when every condition finds its value in the message.
    fn meets(&self, conditions: &[Capture], data: &Bytes) -> bool {
        let headers = http::HeaderMap::new();
        let view = ResponseView::new(0, &headers, data);
        conditions.iter().all(|c| {
            let draw = self.scope.next_u64();
            capture(c, &view, &self.scope, &mut move || draw).is_ok()
        })
    }

    /// Runs captures and matches on a message; a failed strict one fails the VU.
    fn apply_captures(
        &mut self,
        ep: EndpointId,
        captures: &[Capture],
        data: &Bytes,
    ) -> Result<(), VuFailure> {
        let headers = http::HeaderMap::new();
        self.run_captures(ep, captures, &ResponseView::new(0, &headers, data))
    }

    /// Counts and drops the messages already received (at most [`MAX_DRAINED`]), without waiting.
    fn drain_ws(&mut self) {
        use futures_util::FutureExt as _;
        for _ in 0..MAX_DRAINED {
            let Some(open) = self.ws.as_mut() else { return };
            let Some(next) = open.conn.recv().now_or_never() else { return };
            match next {
                Ok(Incoming::Message(data)) => {
                    self.recorder.borrow_mut().ws_message_received(data.len() as u64)
                }
                Ok(Incoming::Closed(code)) => {
                    self.ws = None;
                    self.recorder.borrow_mut().ws_closed(code);
                }
                Err(e) => {
                    let ep = open.endpoint;
                    let _ = self.ws_failed(ep, e);
                }
            }
        }
    }

    /// The next message before `deadline`, counted as received.
    async fn recv_ws(&mut self, deadline: Instant) -> Result<Bytes, RecvFailure> {
        let Some(open) = self.ws.as_mut() else { return Err(RecvFailure::Closed(ABNORMAL_CLOSE)) };
        match tokio::time::timeout_at(deadline, open.conn.recv()).await {
            Err(_) => Err(RecvFailure::Timeout),
            Ok(Ok(Incoming::Message(data))) => {
                self.recorder.borrow_mut().ws_message_received(data.len() as u64);
                Ok(data)
            }
            Ok(Ok(Incoming::Closed(code))) => Err(RecvFailure::Closed(code)),
            Ok(Err(e)) => Err(RecvFailure::Error(e)),
        }
    }

    /// Records why a step got no message and ends the connection if it is gone.
    fn recv_failed(&mut self, ep: EndpointId, f: RecvFailure, timeout: Duration, what: &str) -> VuFailure {
        match f {
            RecvFailure::Timeout => {
                let message = format!("no {what} within {}s", timeout.as_secs_f64());
                self.recorder.borrow_mut().error(Some(ep), ErrorKind::Timeout, &message);
                VuFailure::new(message)
            }
            RecvFailure::Closed(code) => {
                self.ws = None;
                self.recorder.borrow_mut().ws_closed(code);
                let message =
                    format!("the server closed the connection (code {code}) while waiting for {what}");
                self.recorder.borrow_mut().error(Some(ep), ErrorKind::ConnectReset, &message);
                VuFailure::new(message)
            }
            RecvFailure::Error(e) => self.ws_failed(ep, e),
        }
    }

    /// Records a failed connection or exchange under `ep`; the connection is dropped.
    fn ws_failed(&mut self, ep: EndpointId, e: WsError) -> VuFailure {
        let mut rec = self.recorder.borrow_mut();
        if self.ws.take().is_some() {
            rec.ws_closed(ABNORMAL_CLOSE);
        }
        rec.error(Some(ep), e.kind, &e.message);
        VuFailure::new(e.message)
    }

    /// Sleeps for `d` while reading the connection, so messages that arrive meanwhile are counted
    /// (and discarded). A server close ends the connection; a drop is recorded as an error.
    pub(super) async fn think_reading(&mut self, d: Duration) {
        let deadline = Instant::now() + d;
        // Bounded by the deadline: every iteration consumes one message or ends the connection.
        while self.ws.is_some() {
            match self.recv_ws(deadline).await {
                Ok(_) => {}
                Err(RecvFailure::Timeout) => return,
                Err(RecvFailure::Closed(code)) => {
                    self.ws = None;
                    self.recorder.borrow_mut().ws_closed(code);
                }
                Err(RecvFailure::Error(e)) => {
                    let ep = self.ws.as_ref().map(|o| o.endpoint);
                    self.ws = None;
                    let mut rec = self.recorder.borrow_mut();
                    rec.ws_closed(ABNORMAL_CLOSE);
                    rec.error(ep, e.kind, &e.message);
                }
            }
        }
        tokio::time::sleep_until(deadline).await;
    }

    /// True while the VU has an open connection.
    pub(super) fn ws_open(&self) -> bool {
        self.ws.is_some()
    }

    /// Closes the open connection, if any, with `code` and records the close code.
    pub(super) async fn close_ws(&mut self, code: u16) {
        let Some(mut open) = self.ws.take() else { return };
        let recorder = self.recorder.clone();
        let mut received = |bytes: u64| recorder.borrow_mut().ws_message_received(bytes);
        match open.conn.close(code, CLOSE_WAIT, &mut received).await {
            Ok(code) => self.recorder.borrow_mut().ws_closed(code),
            Err(e) => {
                let mut rec = self.recorder.borrow_mut();
                rec.ws_closed(ABNORMAL_CLOSE);
                rec.error(Some(open.endpoint), e.kind, &e.message);
            }
        }
    }
}
