//! WebSocket steps (`connect`, `send`, `sendBytes`, `wait`, `close`) and `config.ws`: their keys,
//! payload forms, endpoint naming, and the rule that decides when a VU connects by itself.

use base64::Engine as _;

use super::{
    Cx, Map, Result, WS_CLOSE, WS_CONFIG, WS_CONNECT, WS_SEND, WS_SEND_BYTES, WS_WAIT, is_null, scalar_text,
};
use crate::plan::{
    Capture, CaptureIndex, CaptureSource, EndpointId, Protocol, Step, WsConnect, WsPayload, WsReply, WsSend,
    WsSettings, WsStep, WsWait,
};
use crate::yaml::{Entry, Node, Value};

/// The step keys that are WebSocket actions.
pub(super) const WS_ACTIONS: [&str; 5] = ["connect", "send", "sendBytes", "wait", "close"];

/// Longest payload or condition text kept in a default endpoint name.
const NAME_CHARS: usize = 40;

/// The largest `sendBytes` message, decoded (16 MiB).
const MAX_BINARY: usize = 16 * 1024 * 1024;

/// Maps `http://` to `ws://` and `https://` to `wss://`; other text is returned as is.
pub fn ws_scheme(url: &str) -> std::borrow::Cow<'_, str> {
    if let Some(rest) = url.strip_prefix("http://") {
        format!("ws://{rest}").into()
    } else if let Some(rest) = url.strip_prefix("https://") {
        format!("wss://{rest}").into()
    } else {
        url.into()
    }
}

/// Maps `ws://` to `http://` and `wss://` to `https://`; other text is returned as is.
pub fn http_scheme(url: &str) -> std::borrow::Cow<'_, str> {
    if let Some(rest) = url.strip_prefix("ws://") {
        format!("http://{rest}").into()
    } else if let Some(rest) = url.strip_prefix("wss://") {
        format!("https://{rest}").into()
    } else {
        url.into()
    }
}

fn is_absolute(url: &str) -> bool {
    ["ws://", "wss://", "http://", "https://"].iter().any(|s| url.starts_with(s))
}

/// `text` cut to [`NAME_CHARS`] characters, with `...` when cut.
fn shorten(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let mut out: String = one_line.chars().take(NAME_CHARS).collect();
    if one_line.chars().count() > NAME_CHARS {
        out.push_str("...");
    }
    out
}

/// Whether a flow's first WebSocket step (in the order the steps are written, loops included)
/// runs without a connection: any WebSocket step other than `connect`. `None`: no WebSocket step.
pub(super) fn first_ws_step_needs_connection(steps: &[Step]) -> Option<bool> {
    for step in steps {
        let found = match step {
            Step::Ws(ws) => Some(!matches!(**ws, WsStep::Connect(_))),
            Step::Loop { steps, .. } | Step::Parallel(steps) => first_ws_step_needs_connection(steps),
            Step::Request(_) | Step::Think(_) | Step::Log(_) | Step::Function(_) => None,
        };
        if found.is_some() {
            return found;
        }
    }
    None
}

impl Cx<'_> {
    /// `config.ws`.
    pub(super) fn ws_settings(&mut self, entry: Option<&Entry>) -> Result<WsSettings> {
        let mut ws = WsSettings::default();
        let Some(entry) = entry else { return Ok(ws) };
        let map = self.map(&entry.value, "`config.ws`", &WS_CONFIG, true)?;
        if let Some(e) = map.get("subprotocols") {
            ws.subprotocols = self.subprotocols(&e.value)?;
        }
        if let Some(e) = map.get("headers") {
            ws.headers = self.headers(&e.value)?;
        }
        if let Some(e) = map.get("timeout") {
            ws.timeout = self.timeout(&e.value)?;
        }
        Ok(ws)
    }

    /// A list of subprotocol names (one name alone is accepted too).
    fn subprotocols(&self, node: &Node) -> Result<Vec<String>> {
        let items: Vec<&Node> = match &node.value {
            Value::Seq(items) => items.iter().collect(),
            _ => vec![node],
        };
        let mut out = Vec::with_capacity(items.len());
        for item in items {
            let name = self.name(item, "a subprotocol")?;
            if name.chars().any(|c| c.is_whitespace() || c == ',' || c.is_control()) {
                return Err(self
                    .err(item.span, format!("`{name}` is not a valid subprotocol name"))
                    .with_help("a subprotocol is a token such as `json` or `graphql-ws`"));
            }
            out.push(name.to_string());
        }
        Ok(out)
    }

    /// Registers a WebSocket endpoint name.
    fn ws_endpoint(&mut self, map: Option<&Map<'_>>, default: String, at: &Entry) -> Result<EndpointId> {
        let name = match map.and_then(|m| m.get("name")) {
            Some(e) => self.name(&e.value, "`name`")?.to_string(),
            None => default,
        };
        self.endpoint_of(name, Protocol::Ws, at.key_span)
    }

    /// One WebSocket step; `action` is its action entry, `step` the whole step map.
    pub(super) fn ws_step(&mut self, step: &Map<'_>, action: &Entry) -> Result<Step> {
        if let Some(extra) = step.entries.iter().find(|e| e.key != action.key) {
            return Err(self
                .err(
                    extra.key_span,
                    format!("`{}` does not go with `{}` at the step level", extra.key, action.key),
                )
                .with_help(format!("write the options inside the step, e.g. `{}: {{ ... }}`", action.key)));
        }
        let ws = match action.key.as_str() {
            "connect" => WsStep::Connect(self.ws_connect(action)?),
            "send" => WsStep::Send(self.ws_send(action)?),
            "sendBytes" => WsStep::Send(self.ws_send_bytes(action)?),
            "wait" => WsStep::Wait(self.ws_wait(action)?),
            _ => WsStep::Close(self.ws_close(action)?),
        };
        Ok(Step::Ws(Box::new(ws)))
    }

    /// `connect: url` or `connect: { target, headers, subprotocols, name }`.
    fn ws_connect(&mut self, action: &Entry) -> Result<WsConnect> {
        let (url_node, map) = match &action.value.value {
            Value::Map(_) => {
                let map = self.map(&action.value, "`connect`", &WS_CONNECT, false)?;
                let url = match (map.get("target"), map.get("url")) {
                    (Some(_), Some(u)) => {
                        return Err(self.err(u.key_span, "`connect` has `target` or `url`, not both"));
                    }
                    (Some(t), None) | (None, Some(t)) => &t.value,
                    (None, None) => {
                        return Err(self.missing(&map, "target", &WS_CONNECT).with_help(
                            "write `connect: { target: \"/ws/echo\" }` or `connect: \"/ws/echo\"`",
                        ));
                    }
                };
                (url, Some(map))
            }
            _ => (&action.value, None),
        };
        let url = self.template(url_node, "the `connect` URL")?;
        let source = url.source().trim().to_string();
        if source.is_empty() {
            return Err(self.err(url_node.span, "the `connect` URL is empty"));
        }
        if is_absolute(&source) {
            if url.is_static()
                && let Err(e) = url::Url::parse(&source)
            {
                return Err(self.err(url_node.span, format!("`{source}` is not a valid URL: {e}")));
            }
        } else if source.contains("://") {
            return Err(self
                .err(url_node.span, format!("`{source}` is not a WebSocket URL"))
                .with_help("write ws://, wss://, http:// or https://, or a path relative to the target"));
        } else if self.relative_url.is_none() {
            self.relative_url = Some((source.clone(), url_node.span));
        }
        self.check_static_ws_url(&url, url_node.span)?;
        let headers = match map.as_ref().and_then(|m| m.get("headers")) {
            Some(e) => self.headers(&e.value)?,
            None => Vec::new(),
        };
        let subprotocols = match map.as_ref().and_then(|m| m.get("subprotocols")) {
            Some(e) => Some(self.subprotocols(&e.value)?),
            None => None,
        };
        let endpoint = self.ws_endpoint(map.as_ref(), format!("WS connect {}", shorten(&source)), action)?;
        Ok(WsConnect { url, endpoint, headers, subprotocols })
    }

    /// `send: text`, `send: {json object}` or `send: { payload, capture, match, name, timeout }`.
    fn ws_send(&mut self, action: &Entry) -> Result<WsSend> {
        let node = &action.value;
        let is_step_form = matches!(&node.value, Value::Map(entries)
            if entries.iter().any(|e| WS_SEND.known.contains(&e.key.as_str())));
        if !is_step_form {
            let payload = self.ws_payload(node)?;
            return Ok(WsSend { payload, reply: None });
        }
        let map = self.map(node, "`send`", &WS_SEND, false)?;
        let Some(payload_entry) = map.get("payload") else {
            return Err(self.missing(&map, "payload", &WS_SEND).with_help(
                "with `capture`, `match`, `name` or `timeout`, put the message under `payload:`",
            ));
        };
        let payload = self.ws_payload(&payload_entry.value)?;
        let label = match &payload_entry.value.value {
            Value::Map(_) | Value::Seq(_) => {
                serde_json::to_string(&self.json_value(&payload_entry.value)?).unwrap_or_default()
            }
            _ => scalar_text(&payload_entry.value).unwrap_or_default().to_string(),
        };
        let reply = self.ws_reply(&map, action, format!("WS send {}", shorten(&label)))?;
        Ok(WsSend { payload, reply })
    }

    /// The reply part of a `send`/`sendBytes` map: present when it has `capture` or `match`.
    fn ws_reply(&mut self, map: &Map<'_>, action: &Entry, default_name: String) -> Result<Option<WsReply>> {
        let captures = self.ws_captures(map)?;
        if captures.is_empty() {
            for key in ["name", "timeout"] {
                if let Some(e) = map.get(key) {
                    return Err(self
                        .err(e.key_span, format!("`{key}` is for a `{}` that waits for a reply", action.key))
                        .with_help("add a `capture` or `match` to wait for the reply, or remove it"));
                }
            }
            return Ok(None);
        }
        let timeout = self.ws_timeout(map)?;
        let endpoint = self.ws_endpoint(Some(map), default_name, action)?;
        Ok(Some(WsReply { endpoint, captures, timeout }))
    }

    /// `capture` and `match`, in that order.
    fn ws_captures(&self, map: &Map<'_>) -> Result<Vec<Capture>> {
        let mut captures = Vec::new();
        for (key, is_match) in [("capture", false), ("match", true)] {
            if let Some(e) = map.get(key) {
                for spec in self.one_or_list(&e.value) {
                    let c = self.capture(spec, is_match)?;
                    if let CaptureSource::Header(_) | CaptureSource::Selector { .. } = c.source {
                        return Err(self.err(
                            spec.span,
                            "a WebSocket message has no headers or HTML: use `json` or `regexp`",
                        ));
                    }
                    captures.push(c);
                }
            }
        }
        Ok(captures)
    }

    /// `timeout` in a step map, else `config.ws.timeout` (filled in later: zero here).
    fn ws_timeout(&self, map: &Map<'_>) -> Result<std::time::Duration> {
        match map.get("timeout") {
            Some(e) => self.timeout(&e.value),
            None => Ok(std::time::Duration::ZERO),
        }
    }

    /// A message: a string (text, a template), or a map or list (sent as JSON).
    fn ws_payload(&self, node: &Node) -> Result<WsPayload> {
        match &node.value {
            Value::Map(_) | Value::Seq(_) => Ok(WsPayload::Json(self.json_template(node)?)),
            _ if is_null(node) => Err(self
                .err(node.span, "the message is empty")
                .with_help("write the text to send, e.g. `send: \"hello\"`, or a map to send as JSON")),
            _ => Ok(WsPayload::Text(self.template(node, "the message")?)),
        }
    }

    /// `sendBytes: base64` or `sendBytes: { base64 | hex, capture, match, name, timeout }`.
    fn ws_send_bytes(&mut self, action: &Entry) -> Result<WsSend> {
        let node = &action.value;
        if !matches!(node.value, Value::Map(_)) {
            let data = self.decode_bytes(node, "base64")?;
            return Ok(WsSend { payload: WsPayload::Binary(data), reply: None });
        }
        let map = self.map(node, "`sendBytes`", &WS_SEND_BYTES, false)?;
        let (encoding, data_node) = match (map.get("base64"), map.get("hex")) {
            (Some(_), Some(h)) => {
                return Err(self.err(h.key_span, "`sendBytes` has `base64` or `hex`, not both"));
            }
            (Some(b), None) => ("base64", b),
            (None, Some(h)) => ("hex", h),
            (None, None) => {
                return Err(self
                    .missing(&map, "base64", &WS_SEND_BYTES)
                    .with_help("write the bytes as `base64: \"AAEC\"` or `hex: \"000102\"`"));
            }
        };
        let data = self.decode_bytes(&data_node.value, encoding)?;
        let label = shorten(scalar_text(&data_node.value).unwrap_or_default());
        let reply = self.ws_reply(&map, action, format!("WS sendBytes {label}"))?;
        Ok(WsSend { payload: WsPayload::Binary(data), reply })
    }

    /// Decodes `sendBytes` data written in `encoding` (`base64` or `hex`).
    fn decode_bytes(&self, node: &Node, encoding: &str) -> Result<Vec<u8>> {
        let text = self.text(node, "the bytes")?;
        let compact: String = text.chars().filter(|c| !c.is_whitespace()).collect();
        let decoded = if encoding == "hex" {
            decode_hex(&compact)
        } else {
            base64::engine::general_purpose::STANDARD.decode(compact.as_bytes()).map_err(|e| e.to_string())
        };
        let data = decoded.map_err(|m| {
            self.err(node.span, format!("invalid {encoding} in `sendBytes`: {m}")).with_help(
                "`sendBytes: \"AAEC\"` is base64 (standard alphabet, with padding); write `sendBytes: { hex: \"000102\" }` for hex",
            )
        })?;
        if data.len() > MAX_BINARY {
            return Err(self.err(node.span, format!("`sendBytes` is limited to {MAX_BINARY} bytes")));
        }
        Ok(data)
    }

    /// `wait: null` (any message) or `wait: { match, regexp, capture, name, timeout }`.
    fn ws_wait(&mut self, action: &Entry) -> Result<WsWait> {
        let map = self.map(&action.value, "`wait`", &WS_WAIT, true)?;
        let mut conditions = Vec::new();
        let mut label = String::new();
        if let Some(e) = map.get("regexp") {
            let regex = self.regex(&e.value, "`regexp`", Default::default())?;
            label = format!("/{}/", regex.as_str());
            conditions.push(Capture {
                source: CaptureSource::Regexp { regex, group: None },
                name: None,
                strict: true,
                index: CaptureIndex::First,
                equals: None,
            });
        }
        if let Some(e) = map.get("match") {
            for spec in self.one_or_list(&e.value) {
                let c = self.capture(spec, true)?;
                if let (CaptureSource::Json { source, .. }, Some(v)) = (&c.source, &c.equals)
                    && label.is_empty()
                {
                    label = format!("{source}={}", v.source());
                }
                if let CaptureSource::Header(_) | CaptureSource::Selector { .. } = c.source {
                    return Err(self.err(
                        spec.span,
                        "a WebSocket message has no headers or HTML: use `json` or `regexp`",
                    ));
                }
                conditions.push(c);
            }
        }
        let mut captures = Vec::new();
        if let Some(e) = map.get("capture") {
            for spec in self.one_or_list(&e.value) {
                captures.push(self.capture(spec, false)?);
            }
        }
        let timeout = self.ws_timeout(&map)?;
        let default =
            if label.is_empty() { "WS wait".to_string() } else { format!("WS wait {}", shorten(&label)) };
        let endpoint = self.ws_endpoint(Some(&map), default, action)?;
        Ok(WsWait { endpoint, conditions, captures, timeout })
    }

    /// `close: null`, `close: 1000` or `close: { code: 1000 }`.
    fn ws_close(&self, action: &Entry) -> Result<u16> {
        let node = match &action.value.value {
            Value::Map(_) => {
                let map = self.map(&action.value, "`close`", &WS_CLOSE, false)?;
                match map.get("code") {
                    Some(c) => &c.value,
                    None => return Ok(1000),
                }
            }
            _ if is_null(&action.value) => return Ok(1000),
            _ => &action.value,
        };
        let code = self.whole(node, "the close code")?;
        // 1000..=1003, 1007..=1014 and 3000..=4999 may be sent (RFC 6455 §7.4).
        let sendable = matches!(code, 1000..=1003 | 1007..=1014 | 3000..=4999);
        if !sendable {
            return Err(self
                .err(node.span, format!("{code} is not a close code a client may send"))
                .with_help("use 1000 (normal), 1001 (going away), 1008 (policy), 1011, or 3000 to 4999"));
        }
        Ok(code as u16)
    }

    /// Registers the endpoint of the connection a VU opens by itself (before a WebSocket step
    /// that has no connection), named after the target's path.
    pub(super) fn implicit_connect(&mut self, target: &str, span: crate::error::Span) -> Result<EndpointId> {
        let path = url::Url::parse(&ws_scheme(target)).map(|u| u.path().to_string()).unwrap_or_default();
        let path = if path.is_empty() { "/".to_string() } else { path };
        self.endpoint_of(format!("WS connect {path}"), Protocol::Ws, span)
    }
}

/// Decodes an even-length string of hex digits.
fn decode_hex(text: &str) -> std::result::Result<Vec<u8>, String> {
    if !text.len().is_multiple_of(2) {
        return Err("an odd number of hex digits".to_string());
    }
    let digit = |c: u8, at: usize| -> std::result::Result<u8, String> {
        (c as char)
            .to_digit(16)
            .map(|d| d as u8)
            .ok_or_else(|| format!("`{}` at {at} is not a hex digit", c as char))
    };
    let bytes = text.as_bytes();
    (0..bytes.len() / 2)
        .map(|i| Ok(digit(bytes[2 * i], 2 * i)? << 4 | digit(bytes[2 * i + 1], 2 * i + 1)?))
        .collect()
}

/// The default `config.ws.timeout`, applied to steps without their own (see [`Cx::ws_timeout`]).
pub(super) fn fill_timeouts(steps: &mut [Step], timeout: std::time::Duration) {
    for step in steps {
        match step {
            Step::Ws(ws) => match &mut **ws {
                WsStep::Send(WsSend { reply: Some(r), .. }) if r.timeout.is_zero() => r.timeout = timeout,
                WsStep::Wait(w) if w.timeout.is_zero() => w.timeout = timeout,
                _ => {}
            },
            Step::Loop { steps, .. } | Step::Parallel(steps) => fill_timeouts(steps, timeout),
            Step::Request(_) | Step::Think(_) | Step::Log(_) | Step::Function(_) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schemes_map_both_ways() {
        assert_eq!(ws_scheme("http://h:1/x"), "ws://h:1/x");
        assert_eq!(ws_scheme("https://h/x"), "wss://h/x");
        assert_eq!(ws_scheme("ws://h"), "ws://h");
        assert_eq!(http_scheme("ws://h:1/x"), "http://h:1/x");
        assert_eq!(http_scheme("wss://h"), "https://h");
        assert_eq!(http_scheme("/rel"), "/rel");
    }

    #[test]
    fn hex_decoding() {
        assert_eq!(decode_hex("00ff10"), Ok(vec![0, 255, 16]));
        assert!(decode_hex("0").is_err());
        assert!(decode_hex("zz").is_err());
    }

    #[test]
    fn names_are_shortened() {
        assert_eq!(shorten("a  b\nc"), "a b c");
        let long = "x".repeat(50);
        assert_eq!(shorten(&long), format!("{}...", "x".repeat(40)));
    }
}
