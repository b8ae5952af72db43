//! The bridge to processor JavaScript (`hornet-js`): loading the module once per worker thread,
//! checking before the run that every function the script names exists, a VU's JavaScript side
//! (created on its first call), requests and responses as hooks see them, and `events.emit`
//! metrics and hook errors recorded like the built-in ones. A plan without a processor never
//! reaches this module.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use bytes::Bytes;
use hornet_engine::http::{HttpClient, Request, Response, Session};
use hornet_js::{
    Emitted, HookError, HttpCall, HttpFuture, HttpReply, HttpSender, JsVu, Processor, ProcessorOptions,
    RequestBody, RequestParams,
};
use hornet_metrics::{ErrorKind, NameCache, Recorder};
use hornet_script::plan::{Body, FormPart, Plan, ProcessorSpec, RequestStep};
use hornet_script::template::Vars as _;
use http::header::{CONTENT_TYPE, HeaderName, HeaderValue};
use http::{HeaderMap, Method, Uri};
use serde_json::Value;

use crate::trace_context::VuTracer;
use crate::vu::Scope;

/// The seed of `Math.random` while the processor loads on the thread (or `before`/`after` VU)
/// `index` of a run seeded with `seed`: module-level random values (a faker instance seeded at
/// load) repeat with `--seed`, and differ between threads and between seeds.
pub(crate) fn load_seed(seed: u64, index: u64) -> u64 {
    crate::run::draw(seed ^ 0x10AD_5EED_F00D_1A7E, index)
}

/// Loads the plan's processor for the calling thread (`None` without one), `Math.random` seeded
/// with `seed` while it loads ([`load_seed`]).
pub(crate) fn load(plan: &Plan, seed: u64) -> Result<Option<Rc<Processor>>, String> {
    load_spec(plan.processor.as_ref(), seed)
}

/// Loads the processor `spec` describes, if any, for the calling thread.
pub(crate) fn load_spec(spec: Option<&ProcessorSpec>, seed: u64) -> Result<Option<Rc<Processor>>, String> {
    spec.map(|spec| open(spec, seed).map(Rc::new)).transpose()
}

fn open(spec: &ProcessorSpec, seed: u64) -> Result<Processor, String> {
    let options = ProcessorOptions { budget: spec.budget, memory_limit: spec.memory_limit, seed };
    match &spec.shipped_folder {
        Some(folder) => Processor::load_shipped(
            &spec.path,
            options,
            folder,
            spec.shipped_env.iter().map(|(k, v)| (k.to_owned(), v.to_owned())).collect(),
        ),
        None => Processor::load(&spec.path, options),
    }
    .map_err(|e| format!("processor {e}"))
}

/// Loads the plan's processor once and checks that every function the script names is exported:
/// what the run would stumble on (a syntax error, a refused module, a misspelt name) is reported,
/// with its file, line and column, before anything is sent.
pub(crate) fn check(plan: &Plan) -> Result<(), String> {
    let Some(spec) = &plan.processor else { return Ok(()) };
    let processor = open(spec, 0)?;
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
    /// The run's plan (for the names `context.http` requests are counted under).
    plan: Option<Arc<Plan>>,
    /// The thread's view of the run's endpoints named at run time.
    names: Rc<NameCache>,
}

impl VuJs {
    pub(crate) fn new(processor: Rc<Processor>, names: Rc<NameCache>) -> VuJs {
        VuJs { processor, vu: None, scenario: None, plan: None, names }
    }

    /// The thread's view of the run's endpoints named at run time.
    pub(crate) fn names(&self) -> &Rc<NameCache> {
        &self.names
    }

    /// Whether the processor exports a function named `name`.
    pub(crate) fn has_function(&self, name: &str) -> bool {
        self.processor.has_function(name)
    }

    /// The scenario the VU runs: its index and its spec, which becomes `context.scenario`.
    pub(crate) fn set_scenario(&mut self, plan: Arc<Plan>, index: usize) {
        self.scenario = plan.scenarios.get(index).map(|s| (index, s.spec.clone()));
        self.plan = Some(plan);
    }

    /// The run's plan, when the VU runs one of its scenarios.
    pub(crate) fn plan(&self) -> Option<&Plan> {
        self.plan.as_deref()
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

/// A request as hooks see it: the request built from its step, with the step's `form`,
/// `formData`, `qs` and `cookie` as objects (as Artillery gives them) beside `url`, `headers`
/// and `json` or `body`.
pub(crate) fn request_params(request: &Request, step: &RequestStep, scope: &Scope) -> RequestParams {
    let headers = request
        .headers
        .iter()
        .map(|(k, v)| (k.as_str().to_string(), String::from_utf8_lossy(v.as_bytes()).into_owned()))
        .collect();
    let mut extra = serde_json::Map::new();
    let (json, raw) = match &step.body {
        Some(Body::Json(_)) => (Some(String::from_utf8_lossy(&request.body).into_owned()), None),
        Some(Body::Form(_)) => {
            let form = url::form_urlencoded::parse(&request.body).map(|(k, v)| (k.into_owned(), v.into()));
            extra.insert("form".into(), Value::Object(form.collect()));
            (None, None)
        }
        Some(Body::Multipart(parts)) => {
            let fields = parts.iter().map(|(name, part)| {
                let value = match part {
                    FormPart::Value(t) => Value::String(t.render(scope)),
                    FormPart::File { path, content_type, .. } => {
                        let mut file = serde_json::Map::new();
                        file.insert("fromFile".into(), path.to_string_lossy().into_owned().into());
                        if let Some(t) = content_type {
                            file.insert("contentType".into(), t.clone().into());
                        }
                        Value::Object(file)
                    }
                };
                (name.clone(), value)
            });
            extra.insert("formData".into(), Value::Object(fields.collect()));
            (None, None)
        }
        _ if request.body.is_empty() => (None, None),
        _ => match std::str::from_utf8(&request.body) {
            Ok(text) => (None, Some(RequestBody::Text(text.to_string()))),
            Err(_) => (None, Some(RequestBody::Bytes(request.body.to_vec()))),
        },
    };
    if !step.qs.is_empty() {
        // The values as sent: the last occurrence of each of the step's `qs` names in the query.
        let mut qs = serde_json::Map::new();
        for (k, v) in url::form_urlencoded::parse(request.uri.query().unwrap_or("").as_bytes()) {
            if step.qs.iter().any(|(name, _)| *name == k) {
                qs.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
        extra.insert("qs".into(), Value::Object(qs));
    }
    if !step.cookies.is_empty() {
        let cookies =
            step.cookies.iter().map(|(name, value)| (name.clone(), Value::String(value.render(scope))));
        extra.insert("cookie".into(), Value::Object(cookies.collect()));
    }
    RequestParams {
        url: request.uri.to_string(),
        method: request.method.as_str().to_string(),
        headers,
        json,
        body: raw,
        name: None,
        extra,
    }
}

/// Headers from JavaScript as a header map; `who` starts the error for a name or value HTTP
/// cannot carry (`beforeRequest set`).
fn header_map(pairs: &[(String, String)], who: &str) -> Result<HeaderMap, String> {
    let mut headers = HeaderMap::with_capacity(pairs.len() + 1);
    append_headers(&mut headers, pairs, who)?;
    Ok(headers)
}

/// Appends headers from JavaScript to `headers` (errors as [`header_map`]'s).
fn append_headers(headers: &mut HeaderMap, pairs: &[(String, String)], who: &str) -> Result<(), String> {
    for (k, v) in pairs {
        let name = HeaderName::from_bytes(k.as_bytes())
            .map_err(|_| format!("{who} a header named `{k}`, which is not valid in HTTP"))?;
        let value = HeaderValue::from_str(v)
            .map_err(|_| format!("{who} header `{k}` with a value that is not valid in HTTP"))?;
        headers.append(name, value);
    }
    Ok(())
}

/// A JSON value as the text a form field, query parameter or cookie carries.
fn field_text(value: &Value) -> String {
    match value {
        Value::String(s) => s.clone(),
        Value::Null => String::new(),
        other => other.to_string(),
    }
}

/// Applies what `beforeRequest` hooks changed, given the request as they first saw it
/// (`original`): URL (with `qs`), method, headers and body (`json`, then `form`, then `formData`,
/// then `body`, as Artillery ranks them). Returns the cookies to put in the VU's jar for the
/// request's URL, when the hooks changed `cookie`, and the URL the request goes to, as text. Files
/// a new `formData` names with `fromFile` are read by `processor`, as its `fs` calls read
/// (relative to its folder; on a distributed worker, only a file that was shipped).
pub(crate) fn apply(
    params: RequestParams,
    original: &RequestParams,
    request: &mut Request,
    processor: &Processor,
) -> Result<(Vec<(String, String)>, String), String> {
    let changed = |key: &str| params.extra.get(key) != original.extra.get(key);
    let mut url = params.url.clone();
    if let Some(Value::Object(qs)) = params.extra.get("qs")
        && changed("qs")
    {
        let mut parsed =
            url::Url::parse(&url).map_err(|e| format!("beforeRequest set the URL `{url}`: {e}"))?;
        let replaced: Vec<&String> = match original.extra.get("qs") {
            Some(Value::Object(before)) => before.keys().collect(),
            _ => Vec::new(),
        };
        let kept: Vec<(String, String)> = parsed
            .query_pairs()
            .filter(|(k, _)| !replaced.iter().any(|r| **r == *k))
            .map(|(k, v)| (k.into_owned(), v.into_owned()))
            .collect();
        {
            let mut pairs = parsed.query_pairs_mut();
            pairs.clear();
            pairs.extend_pairs(&kept);
            for (k, v) in qs {
                pairs.append_pair(k, &field_text(v));
            }
        }
        if parsed.query() == Some("") {
            parsed.set_query(None);
        }
        url = parsed.into();
    }
    // `original.url` is the request's URI as text: comparing with it spares formatting the URI again.
    if url != original.url {
        let parsed = url
            .parse::<Uri>()
            .ok()
            .filter(|u| matches!(u.scheme_str(), Some("http" | "https")) && u.host().is_some())
            .ok_or_else(|| {
                format!("beforeRequest set the URL `{url}`, which is not an absolute http(s) URL")
            })?;
        // As the request's URI writes it (`http://host` gets its `/`).
        url = parsed.to_string();
        request.uri = parsed;
    }
    request.method = Method::from_bytes(params.method.as_bytes())
        .map_err(|_| format!("beforeRequest set the method `{}`, which is not valid", params.method))?;
    // Headers the hooks only added to (a signature, say) are appended to the request's own.
    let kept = params.headers.len() >= original.headers.len()
        && params.headers.iter().zip(&original.headers).all(|(now, before)| now == before);
    let mut headers = if kept {
        let mut headers = std::mem::take(&mut request.headers);
        append_headers(&mut headers, &params.headers[original.headers.len()..], "beforeRequest set")?;
        headers
    } else {
        header_map(&params.headers, "beforeRequest set")?
    };
    let mut content_type = |value: &str, replace: bool| {
        if (replace || !headers.contains_key(CONTENT_TYPE))
            && let Ok(v) = HeaderValue::from_str(value)
        {
            headers.insert(CONTENT_TYPE, v);
        }
    };
    let form = params.extra.get("form").filter(|f| f.is_object());
    let form_data = params.extra.get("formData").filter(|f| f.is_object());
    request.body = match (params.json, form, form_data, params.body) {
        (Some(json), ..) => {
            content_type("application/json", false);
            Bytes::from(json)
        }
        (None, Some(Value::Object(fields)), ..)
            if changed("form") || original.extra.get("form").is_none() =>
        {
            content_type("application/x-www-form-urlencoded", false);
            let mut form = url::form_urlencoded::Serializer::new(String::new());
            for (k, v) in fields {
                form.append_pair(k, &field_text(v));
            }
            Bytes::from(form.finish())
        }
        (None, Some(_), ..) => std::mem::take(&mut request.body),
        (None, None, Some(Value::Object(fields)), _)
            if changed("formData") || original.extra.get("formData").is_none() =>
        {
            content_type(crate::program::MULTIPART_CONTENT_TYPE, true);
            multipart_of(fields, processor)?
        }
        (None, None, Some(_), _) => std::mem::take(&mut request.body),
        (None, None, None, Some(RequestBody::Text(text))) => Bytes::from(text),
        (None, None, None, Some(RequestBody::Bytes(bytes))) => Bytes::from(bytes),
        (None, None, None, None) => Bytes::new(),
    };
    request.headers = headers;
    let cookies = match params.extra.get("cookie") {
        Some(Value::Object(cookies)) if changed("cookie") => {
            cookies.iter().map(|(k, v)| (k.clone(), field_text(v))).collect()
        }
        _ => Vec::new(),
    };
    Ok((cookies, url))
}

/// A `formData` object a hook set, encoded as `multipart/form-data`: each field a value, or
/// `{ value }`, or `{ fromFile, contentType }` (a file `processor` reads, see [`apply`]).
fn multipart_of(fields: &serde_json::Map<String, Value>, processor: &Processor) -> Result<Bytes, String> {
    let mut out = Vec::new();
    for (name, value) in fields {
        match value {
            Value::Object(part) if part.contains_key("fromFile") => {
                let shown = field_text(&part["fromFile"]);
                let data = processor
                    .read_file(&shown)
                    .map_err(|e| format!("beforeRequest set formData field `{name}` to a file: {e}"))?;
                let path = std::path::Path::new(&shown);
                let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
                let content_type =
                    part.get("contentType").map_or("application/octet-stream".into(), field_text);
                crate::program::multipart_part(&mut out, name, Some((&file, &content_type)), &data);
            }
            Value::Object(part) if part.contains_key("value") => {
                crate::program::multipart_part(&mut out, name, None, field_text(&part["value"]).as_bytes());
            }
            other => crate::program::multipart_part(&mut out, name, None, field_text(other).as_bytes()),
        }
    }
    crate::program::multipart_end(&mut out);
    Ok(Bytes::from(out))
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
        ResponseCopy::with_url(response, url.to_string())
    }

    /// The copy of `response` to a request sent to `url`.
    pub(crate) fn with_url(response: &Response, url: String) -> ResponseCopy {
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
            url,
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

/// Sends one VU's `context.http` requests through the engine, on the VU's own connection and
/// cookie jar, and records each like a YAML request under its name (`options.name`, else the
/// method and URL as given, as a YAML step without `name` is named).
pub(crate) struct VuHttp<'a> {
    /// `config.defaults.headers`, rendered: sent unless the call sets the same header.
    pub default_headers: Vec<(HeaderName, String)>,
    pub client: &'a HttpClient,
    pub session: &'a mut Session,
    pub recorder: &'a RefCell<Recorder>,
    /// `target`, which relative URLs are joined to.
    pub target: Option<String>,
    /// The plan's request names: a name among them is counted with that request.
    pub plan_endpoints: Option<&'a [hornet_script::plan::Endpoint]>,
    /// The run's endpoints named at run time, as this thread sees them.
    pub names: &'a NameCache,
    /// The VU's trace context, when the run is traced: its requests carry it like the YAML ones.
    pub tracer: Option<&'a mut VuTracer>,
}

/// The endpoint id requests named `name` are counted under: the plan's request of that name, or
/// the one the run's table of `names` gives it.
pub(crate) fn endpoint_id(
    plan_endpoints: Option<&[hornet_script::plan::Endpoint]>,
    names: &NameCache,
    name: &str,
) -> u32 {
    match plan_endpoints.and_then(|endpoints| endpoints.iter().position(|e| e.name == name)) {
        Some(i) => u32::try_from(i).unwrap_or(u32::MAX),
        None => names.id(name),
    }
}

/// The `name` a request step was given in the YAML, as `requestParams.name` shows it (`None`
/// for a step named by its method and URL).
pub(crate) fn step_name(plan: Option<&Plan>, step: &RequestStep) -> Option<String> {
    let name = &plan?.endpoints.get(step.endpoint as usize)?.name;
    // Compared with `{method} {url}` in parts, without writing it out for every request.
    let derived = name
        .strip_prefix(step.method.as_str())
        .and_then(|rest| rest.strip_prefix(' '))
        .is_some_and(|url| url == step.url.source());
    (!derived).then(|| name.clone())
}

impl VuHttp<'_> {
    fn endpoint(&self, call: &HttpCall) -> u32 {
        let name = match &call.name {
            Some(name) => name.clone(),
            None => format!("{} {}", call.method, call.url),
        };
        endpoint_id(self.plan_endpoints, self.names, &name)
    }

    fn request(&self, call: &HttpCall) -> Result<Request, String> {
        let url = if call.url.starts_with("http://") || call.url.starts_with("https://") {
            call.url.clone()
        } else {
            match &self.target {
                Some(target) => format!("{}{}", hornet_script::request_url::http_base(target), call.url),
                None => {
                    return Err(format!(
                        "context.http: `{}` is relative, and the script has no target",
                        call.url
                    ));
                }
            }
        };
        let uri = hornet_script::request_url::parse_http(&url)
            .map_err(|e| format!("context.http: `{url}` is not a URL that can be sent: {e}"))?;
        let method = Method::from_bytes(call.method.as_bytes())
            .map_err(|_| format!("context.http: `{}` is not an HTTP method", call.method))?;
        let mut headers = header_map(&call.headers, "context.http was given")?;
        for (name, value) in &self.default_headers {
            if !headers.contains_key(name)
                && let Ok(value) = HeaderValue::from_str(value)
            {
                headers.insert(name.clone(), value);
            }
        }
        if !headers.contains_key(http::header::USER_AGENT) {
            headers.insert(http::header::USER_AGENT, HeaderValue::from_static(crate::program::AGENT));
        }
        Ok(Request {
            method,
            uri,
            headers,
            body: Bytes::from(call.body.clone()),
            keep_body: true,
            follow_redirects: if call.follow_redirects { crate::vu::MAX_REDIRECTS } else { 0 },
            decompress: true,
            skip_headers: false,
            trace: None,
            shared_headers: None,
        })
    }
}

impl HttpSender for VuHttp<'_> {
    fn send(&mut self, call: HttpCall) -> HttpFuture<'_> {
        Box::pin(async move {
            let ep = self.endpoint(&call);
            let mut request = match self.request(&call) {
                Ok(r) => r,
                Err(message) => {
                    self.recorder.borrow_mut().error(Some(ep), ErrorKind::InvalidUrl, &message);
                    return Err(message);
                }
            };
            let sent = self.tracer.as_deref_mut().and_then(|tracer| tracer.inject(&mut request, true));
            let uri = request.uri.clone();
            match self.client.send(self.session, request).await {
                Ok(response) => {
                    {
                        let mut rec = self.recorder.borrow_mut();
                        crate::vu::count_request(
                            &mut rec,
                            ep,
                            response.bytes_sent,
                            response.resent,
                            response.redirects,
                            &response.redirect_statuses,
                        );
                        rec.response(ep, response.status, &response.timings, response.body_len);
                        if let (Some(sent), Some(tracer)) = (&sent, &self.tracer) {
                            let total = response.timings.total;
                            tracer.record(&mut rec, ep, sent, Ok(response.status), total, total);
                        }
                    }
                    if response.body_over_limit {
                        let why = crate::vu::body_over_limit(response.body_len, self.client.max_kept_body());
                        return Err(format!("context.http: {} {uri}: {why}", call.method));
                    }
                    let copy = ResponseCopy::of(&response, &uri);
                    Ok(HttpReply {
                        status: copy.status,
                        headers: copy.headers,
                        body: copy.body.to_vec(),
                        url: copy.url,
                        phases: copy.phases,
                    })
                }
                Err(e) => {
                    let mut rec = self.recorder.borrow_mut();
                    crate::vu::count_request(&mut rec, ep, 0, e.resent, e.redirects, &e.redirect_statuses);
                    rec.error(Some(ep), e.kind, &e.message);
                    if let (Some(sent), Some(tracer)) = (&sent, &self.tracer) {
                        tracer.record(&mut rec, ep, sent, Err(e.kind), e.timings.total, e.timings.total);
                    }
                    Err(format!("context.http: {} {uri}: {}", call.method, e.message))
                }
            }
        })
    }
}
