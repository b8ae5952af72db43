//! A VU's calls into the processor: `function` steps (and `beforeScenario`/`afterScenario`),
//! functions as conditions, and the hooked request path (an `ifTrue` function, `beforeRequest`,
//! `afterResponse`, `onError`), each call's emitted metrics and failure recorded like the
//! built-in ones.

use std::rc::Rc;

use hornet_engine::http::{Request, Response};
use hornet_metrics::ErrorKind;
use hornet_script::plan::EndpointId;
use hornet_script::template::Vars as _;
use serde_json::Value;

use super::{Vu, VuFailure, warn_once};
use crate::js::{ResponseCopy, VuJs};
use crate::program::{CompiledHooks, CompiledRequest};

/// A request that `afterResponse` or `onError` functions will see: its `requestParams` object and
/// the URL it goes to, as text (what `response.url` says).
pub(crate) struct HookedRequest {
    object: hornet_js::JsRequest,
    url: String,
}

impl Vu {
    /// The processor and this VU's JavaScript side.
    fn js_parts(&mut self) -> Result<(Rc<hornet_js::Processor>, Rc<hornet_js::JsVu>), VuFailure> {
        let Some(js) = self.js.as_deref_mut() else {
            return Err(VuFailure::new("a processor function was called without a processor".into()));
        };
        js.parts(&self.scope).map_err(|e| VuFailure::new(e.to_string()))
    }

    /// A `function` step (or `beforeScenario`/`afterScenario`).
    pub(super) async fn call_function(&mut self, name: &str) -> Result<(), VuFailure> {
        let (processor, vu) = self.js_parts()?;
        let names =
            self.js.as_deref().map(|js| js.names().clone()).ok_or_else(|| {
                VuFailure::new("a processor function was called without a processor".into())
            })?;
        let target = match self.scope.get("target") {
            Some(Value::String(t)) => Some(t.clone()),
            _ => None,
        };
        let plan = self.js.as_deref().and_then(VuJs::plan);
        // `config.defaults.headers`, rendered now: the function may not send anything, but its
        // requests must look like the YAML ones.
        let default_headers = plan
            .map(|p| {
                p.default_headers
                    .iter()
                    .map(|(name, value)| (name.clone(), value.render(&self.scope)))
                    .collect()
            })
            .unwrap_or_default();
        let plan_endpoints = plan.map(|p| p.endpoints.as_slice());
        let mut http = crate::js::VuHttp {
            default_headers,
            client: &self.client,
            session: &mut self.session,
            recorder: &self.recorder,
            target,
            plan_endpoints,
            names: &names,
            tracer: self.tracer.as_deref_mut(),
        };
        let outcome = processor.call_step_with_http(&vu, name, self.scope.js_vars(), &mut http).await;
        crate::js::record(&processor, &self.recorder, None, outcome).map_err(VuFailure::new)
    }

    /// A `whileTrue` function: whether the loop goes on.
    pub(super) async fn call_condition(&mut self, name: &str) -> Result<bool, VuFailure> {
        let (processor, vu) = self.js_parts()?;
        let outcome = processor.condition(&vu, name, self.scope.js_vars()).await;
        let go = outcome.as_ref().is_ok_and(|go| *go);
        crate::js::record(&processor, &self.recorder, None, outcome.map(drop)).map_err(VuFailure::new)?;
        Ok(go)
    }

    /// A request with processor hooks: `beforeRequest` functions may change it before it is sent,
    /// `onError` functions see a request that failed, `afterResponse` functions see the response
    /// (after captures and expectations, with the variables they set).
    pub(super) async fn run_hooked_request(
        &mut self,
        req: &CompiledRequest,
        hooks: &CompiledHooks,
    ) -> Result<(), VuFailure> {
        self.await_token().await?;
        let decided = self.if_true_function(req, hooks).await?;
        let Some(mut request) = self.prepare(req, decided)? else { return Ok(()) };
        // Before the hooks, so a `beforeRequest` function sees the headers that go out.
        let sent = self.trace_in_headers(&mut request);
        let (params, ep) = self.before_send(req, hooks, &mut request).await?;
        let from = self.intended_start.take();
        let result = Box::pin(self.client.send(&mut self.session, request)).await;
        let copy = self.after_send(req, hooks, &result, params.as_ref()).await?;
        self.complete(req, ep, result, from, sent)?;
        self.after_complete(req, hooks, copy, params.as_ref()).await
    }

    /// What the processor function a bare-name `ifTrue` names says, when the processor exports
    /// one by that name (`None`: the name is a variable of the expression). As in Artillery, it is
    /// called with `context.vars`, and a function that throws lets the request go.
    pub(super) async fn if_true_function(
        &mut self,
        req: &CompiledRequest,
        hooks: &CompiledHooks,
    ) -> Result<Option<bool>, VuFailure> {
        let Some(name) = &hooks.if_true else { return Ok(None) };
        if self.js.as_ref().is_none_or(|js| !js.has_function(name)) {
            return Ok(None);
        }
        if req.step.probability.is_some_and(|p| self.scope.unit() * 100.0 >= p) {
            return Ok(Some(false));
        }
        let (processor, vu) = self.js_parts()?;
        let outcome = processor.if_true(&vu, name, self.scope.js_vars()).await;
        let go = match &outcome {
            Ok(go) => *go,
            Err(e) if e.failure == hornet_js::HookFailure::Budget => false,
            Err(_) => true,
        };
        if let Err(e) = &outcome {
            if e.failure == hornet_js::HookFailure::Budget {
                let message = e.to_string();
                self.recorder.borrow_mut().error(Some(req.endpoint), ErrorKind::Processor, &message);
                return Err(VuFailure::new(message));
            }
            warn_once(&format!("hornet: `ifTrue: {name}` threw ({e}); the request is sent, as in Artillery"));
        }
        let _ = crate::js::record(&processor, &self.recorder, Some(req.endpoint), Ok(()));
        Ok(Some(go))
    }

    /// Runs the `beforeRequest` functions on a prepared request and applies what they changed;
    /// returns the `requestParams` object the later hooks get (the one the `beforeRequest`
    /// functions changed, as in Artillery), when there are any.
    pub(super) async fn before_send(
        &mut self,
        req: &CompiledRequest,
        hooks: &CompiledHooks,
        request: &mut hornet_engine::http::Request,
    ) -> Result<(Option<HookedRequest>, EndpointId), VuFailure> {
        let mut ep = req.endpoint;
        let later = !hooks.after_response.is_empty() || !hooks.on_error.is_empty();
        if hooks.before_request.is_empty() && !later {
            return Ok((None, ep));
        }
        let mut original = self.hook_params(request, req);
        let (processor, _) = self.js_parts()?;
        let object = match processor.request_object(&original) {
            Ok(object) => object,
            Err(e) => {
                let failed = crate::js::record(&processor, &self.recorder, Some(ep), Err(e));
                return Err(VuFailure::new(failed.err().unwrap_or_default()));
            }
        };
        let mut url = None;
        if !hooks.before_request.is_empty() {
            for name in &hooks.before_request {
                let (processor, vu) = self.js_parts()?;
                let outcome = processor.before_request_on(&vu, name, &object, self.scope.js_vars()).await;
                crate::js::record(&processor, &self.recorder, Some(ep), outcome).map_err(VuFailure::new)?;
            }
            let mut params = original.clone();
            let read = processor.read_request(&object, &mut params);
            crate::js::record(&processor, &self.recorder, Some(ep), read).map_err(VuFailure::new)?;
            if let Some(name) =
                params.name.as_deref().filter(|n| params.name != original.name && !n.is_empty())
            {
                // Renamed: counted under the new name, as Artillery's per-endpoint metrics do.
                if let Some(js) = self.js.as_deref() {
                    let plan_endpoints = js.plan().map(|p| p.endpoints.as_slice());
                    ep = crate::js::endpoint_id(plan_endpoints, js.names(), name);
                }
            }
            match crate::js::apply(params, &original, request, &processor) {
                Ok((cookies, sent_to)) => {
                    for (name, value) in cookies {
                        self.session.set_cookie(&request.uri, &name, &value);
                    }
                    url = Some(sent_to);
                }
                Err(message) => {
                    self.recorder.borrow_mut().error(Some(ep), ErrorKind::Processor, &message);
                    return Err(VuFailure::new(message));
                }
            }
        }
        if !hooks.after_response.is_empty() {
            request.keep_body = true;
            request.skip_headers = false;
        }
        let hooked = later.then(|| {
            let url = url.unwrap_or_else(|| std::mem::take(&mut original.url));
            HookedRequest { object, url }
        });
        Ok((hooked, ep))
    }

    /// `requestParams` for a prepared request, with the step's `name` if it has one.
    fn hook_params(&self, request: &Request, req: &CompiledRequest) -> hornet_js::RequestParams {
        let mut params = crate::js::request_params(request, &req.step, &self.scope);
        params.name = crate::js::step_name(self.js.as_deref().and_then(VuJs::plan), &req.step);
        params
    }

    /// Runs the `onError` functions for a request that got no response (its error still fails the
    /// VU when it is recorded); keeps what `afterResponse` functions will read of a response.
    pub(super) async fn after_send(
        &mut self,
        req: &CompiledRequest,
        hooks: &CompiledHooks,
        result: &Result<Response, hornet_engine::http::RequestError>,
        params: Option<&HookedRequest>,
    ) -> Result<Option<ResponseCopy>, VuFailure> {
        let Some(params) = params else { return Ok(None) };
        match result {
            Err(e) => {
                for name in &hooks.on_error {
                    let (processor, vu) = self.js_parts()?;
                    let outcome = processor
                        .on_error_on(&vu, name, &e.message, &params.object, self.scope.js_vars())
                        .await;
                    let _ = crate::js::record(&processor, &self.recorder, Some(req.endpoint), outcome);
                }
                Ok(None)
            }
            Ok(resp) if !hooks.after_response.is_empty() => {
                Ok(Some(ResponseCopy::with_url(resp, params.url.clone())))
            }
            Ok(_) => Ok(None),
        }
    }

    /// Runs the `afterResponse` functions, after the request's captures and expectations.
    pub(super) async fn after_complete(
        &mut self,
        req: &CompiledRequest,
        hooks: &CompiledHooks,
        copy: Option<ResponseCopy>,
        params: Option<&HookedRequest>,
    ) -> Result<(), VuFailure> {
        let (Some(copy), Some(params)) = (copy, params) else { return Ok(()) };
        for name in &hooks.after_response {
            let (processor, vu) = self.js_parts()?;
            let outcome = processor
                .after_response_on(&vu, name, &params.object, copy.data(), self.scope.js_vars())
                .await;
            crate::js::record(&processor, &self.recorder, Some(req.endpoint), outcome)
                .map_err(VuFailure::new)?;
        }
        Ok(())
    }
}
