//! The bridge to processor JavaScript (`hornet-js`): loading the module once per worker thread,
//! checking before the run that every function the script names exists, a VU's JavaScript side
//! (created on its first call), requests and responses as hooks see them, and `events.emit`
//! metrics and hook errors recorded like the built-in ones. A plan without a processor never
//! reaches this module.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use hornet_engine::http::{Request, Response};
use hornet_js::{Emitted, HookError, JsVu, Processor, ProcessorOptions, RequestBody, RequestParams};
use hornet_metrics::{ErrorKind, Recorder};
use hornet_script::plan::{Body, Plan, ProcessorSpec};
use hornet_script::template::Vars as _;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};
use serde_json::Value;

use crate::vu::Scope;

/// Loads the plan's processor for the calling thread (`None` without one).
pub(crate) fn load(plan: &Plan) -> Result<Option<Rc<Processor>>, String> {
    load_spec(plan.processor.as_ref())
}

/// Loads the processor `spec` describes, if any, for the calling thread.
pub(crate) fn load_spec(spec: Option<&ProcessorSpec>) -> Result<Option<Rc<Processor>>, String> {
    spec.map(|spec| open(spec).map(Rc::new)).transpose()
}

fn open(spec: &ProcessorSpec) -> Result<Processor, String> {
    let options = ProcessorOptions { budget: spec.budget, memory_limit: spec.memory_limit };
    Processor::load(&spec.path, options).map_err(|e| format!("processor {e}"))
}

/// Loads the plan's processor once and checks that every function the script names is exported:
/// what the run would stumble on (a syntax error, a refused module, a misspelt name) is reported,
/// with its file, line and column, before anything is sent.
pub(crate) fn check(plan: &Plan) -> Result<(), String> {
    let Some(spec) = &plan.processor else { return Ok(()) };
    let processor = open(spec)?;
    spec.check_exports(&processor.function_names()).map_err(|e| {
        // The caller prefixes `error: ` as it does for other run errors.
        let text = e.to_string();
        text.strip_prefix("error: ").map(str::to_string).unwrap_or(text)
    })
}

/// A VU's processor and, once it has made a call, its JavaScript `context`.
pub(crate) struct VuJs {
    // Field order matters: the VU's JavaScript values are freed before the runtime they live in
    // (this may be the last reference to the processor).
    vu: Option<Rc<JsVu>>,
    processor: Rc<Processor>,
    /// The scenario's index and spec, for `context.scenario`.
    scenario: Option<(usize, Arc<Value>)>,
}

impl VuJs {
    pub(crate) fn new(processor: Rc<Processor>) -> VuJs {
        VuJs { processor, vu: None, scenario: None }
    }

    /// Whether the processor exports a function named `name`.
    pub(crate) fn has_function(&self, name: &str) -> bool {
        self.processor.has_function(name)
    }

    /// The scenario the VU runs: its index and its spec, which becomes `context.scenario`.
    pub(crate) fn set_scenario(&mut self, index: usize, spec: Arc<Value>) {
        self.scenario = Some((index, spec));
    }

    /// The processor and the VU's JavaScript side, made on first use: `_uid` is the VU's `$uuid`
    /// and `Math.random` is seeded from the VU's own generator.
    pub(crate) fn parts(&mut self, scope: &Scope) -> Result<(Rc<Processor>, Rc<JsVu>), HookError> {
        let vu = match &mut self.vu {
            Some(vu) => vu,
            slot => {
                let uid = match scope.get("$uuid") {
                    Some(Value::String(s)) => s.clone(),
                    _ => crate::vu::uuid(scope),
                };
                let vu = self.processor.new_vu(&uid, None, scope.next_u64())?;
                if let Some((index, spec)) = &self.scenario {
                    self.processor.set_scenario(&vu, *index, spec)?;
                }
                slot.insert(Rc::new(vu))
            }
        };
        Ok((self.processor.clone(), vu.clone()))
    }
}

/// Records what `events.emit` reported; then a hook's failure, if any, as a `processor` error.
pub(crate) fn record(
    processor: &Processor,
    recorder: &RefCell<Recorder>,
    endpoint: Option<u32>,
    outcome: Result<(), HookError>,
) -> Result<(), String> {
    let emitted = processor.take_emitted();
    let mut rec = recorder.borrow_mut();
    for e in emitted {
        match e {
            Emitted::Counter { name, value } => rec.custom_counter(&name, value),
            Emitted::Histogram { name, value } => rec.custom_histogram(&name, value),
            Emitted::Rate { name } => rec.custom_rate(&name),
            Emitted::Error { message } => rec.error(endpoint, ErrorKind::Processor, &message),
        }
    }
    outcome.map_err(|e| {
        let message = e.to_string();
        rec.error(endpoint, ErrorKind::Processor, &message);
        message
    })
}

/// A request as `beforeRequest` sees it.
pub(crate) fn request_params(request: &Request, body: Option<&Body>) -> RequestParams {
    let headers = request
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let (json, raw) = match body {
        Some(Body::Json(_)) => (Some(String::from_utf8_lossy(&request.body).into_owned()), None),
        _ if request.body.is_empty() => (None, None),
        _ => match std::str::from_utf8(&request.body) {
            Ok(text) => (None, Some(RequestBody::Text(text.to_string()))),
            Err(_) => (None, Some(RequestBody::Bytes(request.body.to_vec()))),
        },
    };
    RequestParams {
        url: request.uri.to_string(),
        method: request.method.as_str().to_string(),
        headers,
        json,
        body: raw,
        name: None,
        extra: serde_json::Map::new(),
    }
}

/// Applies what a `beforeRequest` hook changed: URL (with `qs`), method, headers and body.
pub(crate) fn apply(params: RequestParams, request: &mut Request) -> Result<(), String> {
    let mut url = params.url;
    if let Some(Value::Object(qs)) = params.extra.get("qs") {
        let mut parsed =
            url::Url::parse(&url).map_err(|e| format!("beforeRequest set the URL `{url}`: {e}"))?;
        {
            let mut pairs = parsed.query_pairs_mut();
            for (k, v) in qs {
                let v = match v {
                    Value::String(s) => s.clone(),
                    other => other.to_string(),
                };
                pairs.append_pair(k, &v);
            }
        }
        url = parsed.into();
    }
    if url != request.uri.to_string() {
        request.uri = url
            .parse::<Uri>()
            .ok()
            .filter(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some())
            .ok_or_else(|| {
                format!("beforeRequest set the URL `{url}`, which is not an absolute http(s) URL")
            })?;
    }
    request.method = Method::from_bytes(params.method.as_bytes())
        .map_err(|_| format!("beforeRequest set the method `{}`, which is not valid", params.method))?;
    let mut headers = HeaderMap::with_capacity(params.headers.len());
    for (k, v) in &params.headers {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("beforeRequest set a header named `{k}`, which is not valid in HTTP"))?;
        let value = HeaderValue::from_str(v)
            .map_err(|_| format!("beforeRequest set header `{k}` to a value that is not valid in HTTP"))?;
        headers.append(name, value);
    }
    request.body = match (params.json, params.body) {
        (Some(json), _) => {
            if !headers.contains_key(CONTENT_TYPE) {
                headers.insert(CONTENT_TYPE, HeaderValue::from_static("application/json"));
            }
            Bytes::from(json)
        }
        (None, Some(RequestBody::Text(text))) => Bytes::from(text),
        (None, Some(RequestBody::Bytes(bytes))) => Bytes::from(bytes),
        (None, None) => Bytes::new(),
    };
    request.headers = headers;
    Ok(())
}

/// The parts of a response an `afterResponse` hook reads, kept past the recording of the response.
pub(crate) struct ResponseCopy {
    pub status: u16,
    pub headers: HeaderMap,
    pub body: Bytes,
    pub url: String,
    pub phases: Vec<(&'static str, f64)>,
}

impl ResponseCopy {
    pub(crate) fn of(response: &Response, url: &Uri) -> ResponseCopy {
        let t = &response.timings;
        let ms = |d: std::time::Duration| d.as_secs_f64() * 1000.0;
        let mut phases = vec![("wait", ms(t.wait)), ("download", ms(t.receive)), ("total", ms(t.total))];
        phases.push(("firstByte", ms(t.total.saturating_sub(t.receive))));
        for (name, d) in [("dns", t.dns), ("tcp", t.connect), ("tls", t.tls)] {
            if let Some(d) = d {
                phases.push((name, ms(d)));
            }
        }
        ResponseCopy {
            status: response.status,
            headers: response.headers.clone(),
            body: response.body.clone().unwrap_or_default(),
            url: url.to_string(),
            phases,
        }
    }

    pub(crate) fn data(&self) -> hornet_js::ResponseData<'_> {
        hornet_js::ResponseData {
            status: self.status,
            headers: &self.headers,
            body: &self.body,
            url: &self.url,
            phases: &self.phases,
        }
    }
}
