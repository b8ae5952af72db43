//! Calling a hook: its arguments in Artillery's shape, and settling it (callback, Promise or
//! `async`) while driving the job queue and timers under the time budget.

use std::cell::RefCell;
use std::cmp::Reverse;
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::function::{Args, This};
use rquickjs::{Ctx, Error as JsError, Function, Promise, Value};

use super::request::{JsRequest, response_to_js};
use super::{Export, JsVu, Outcome, Processor, ResponseData, Shape, Slot, VuVars, engine_failure};
use crate::convert::from_js;
use crate::{Emitted, HookError, HookFailure, first_location};

/// Jobs run between two clock checks while pumping the job queue.
const JOBS_PER_CLOCK_CHECK: u32 = 256;

impl Processor {
    #[allow(clippy::too_many_arguments)]
    pub(super) async fn invoke(
        &self,
        vu: &JsVu,
        name: &str,
        shape: Shape,
        mut vars: VuVars<'_>,
        request: Option<&JsRequest>,
        response: Option<ResponseData<'_>>,
        error: Option<&str>,
        http: Option<&mut dyn crate::HttpSender>,
    ) -> Result<Option<bool>, HookError> {
        let Some(export) = self.functions.get(name) else {
            return Err(HookError {
                function: name.to_string(),
                failure: HookFailure::Missing,
                message: format!("{} exports no function named '{name}'", self.path.display()),
                stack: String::new(),
            });
        };
        let started = Instant::now();
        let slot: Slot = Rc::new(RefCell::new(None));
        let mut pulled = false;
        let started_call = self.enter(vu, started, |ctx| {
            self.start_call(&ctx, vu, name, export, shape, &mut vars, request, response, error, &slot)?;
            if slot.borrow().is_some() {
                // Settled already (a hook that calls its callback before returning): the
                // variables are read back now, without entering the engine again.
                self.shared.deadline.set(None);
                self.pull_vars(&ctx, vu, &mut vars);
                pulled = true;
            }
            Ok(())
        });
        if let Err(e) = started_call {
            return Err(self.failure_of(name, e));
        }
        let outcome = self.settle(vu, name, &slot, started, http).await.map_err(|mut e| {
            // A callback's error does not know the function it was given to.
            if e.function.is_empty() {
                e.function = name.to_string();
            }
            e
        });
        if !pulled {
            self.context.with(|ctx| self.pull_vars(&ctx, vu, &mut vars));
        }
        outcome
    }

    /// Reads back what the call changed in `context.vars`.
    fn pull_vars(&self, ctx: &Ctx<'_>, vu: &JsVu, vars: &mut VuVars<'_>) {
        if let Ok(context) = vu.context.clone().restore(ctx) {
            // Failing here (out of memory) keeps the variables as they were before the call.
            let _ = vu.vars.pull(ctx, &self.names, &context, vars.map);
        }
    }

    /// Runs `f` in the context with the VU's random state and a fresh interrupt deadline.
    fn enter<R>(&self, vu: &JsVu, started: Instant, f: impl FnOnce(Ctx<'_>) -> R) -> R {
        self.shared.rng.set(vu.rng.get());
        self.shared.interrupted.set(false);
        self.shared.deadline.set(Some(started + self.options.budget));
        let out = self.context.with(f);
        self.shared.deadline.set(None);
        vu.rng.set(self.shared.rng.get());
        out
    }

    #[allow(clippy::too_many_arguments)]
    fn start_call<'js>(
        &self,
        ctx: &Ctx<'js>,
        vu: &JsVu,
        name: &str,
        export: &Export,
        shape: Shape,
        vars: &mut VuVars<'_>,
        request: Option<&JsRequest>,
        response: Option<ResponseData<'_>>,
        error: Option<&str>,
        slot: &Slot,
    ) -> rquickjs::Result<()> {
        let exports = self.exports.clone().restore(ctx)?;
        let function: Function = exports.get(export.name.atom(ctx)?)?;
        let context = vu.context.clone().restore(ctx)?;
        vu.vars.push(ctx, vars.map, vars.changed.as_deref_mut())?;
        let events = self.events.clone().restore(ctx)?;
        let request_object = request.map(|r| r.object.clone().restore(ctx)).transpose()?;
        let is_async = export.is_async;
        let mut args = Args::new(ctx.clone(), 6);
        match shape {
            Shape::Step => {
                args.push_arg(context)?;
                args.push_arg(events)?;
            }
            Shape::BeforeRequest => {
                args.push_arg(request_object.clone())?;
                args.push_arg(context)?;
                args.push_arg(events)?;
            }
            Shape::AfterResponse => {
                args.push_arg(request_object.clone())?;
                args.push_arg(response.map(|r| response_to_js(ctx, &self.names, r, true)).transpose()?)?;
                args.push_arg(context)?;
                args.push_arg(events)?;
            }
            Shape::OnError => {
                let err = rquickjs::Exception::from_message(ctx.clone(), error.unwrap_or("error"))?;
                args.push_arg(err)?;
                args.push_arg(request_object.clone())?;
                args.push_arg(context)?;
                args.push_arg(events)?;
            }
            Shape::Condition => args.push_arg(context)?,
            Shape::IfTrue => args.push_arg(vu.vars.proxy(ctx)?)?,
        }
        if !is_async && shape != Shape::IfTrue {
            args.push_arg(self.callbacks.get(ctx, slot, shape == Shape::Condition)?)?;
        }
        match function.call_arg::<Value>(args) {
            Ok(returned) => {
                if let Some(promise) = returned.as_promise() {
                    watch_promise(ctx, name, shape, promise, slot)?;
                } else if shape == Shape::IfTrue || shape == Shape::Condition && !returned.is_undefined() {
                    settle(slot, Ok(Some(truthy(&returned))));
                }
            }
            Err(JsError::Exception) => {
                let thrown = ctx.catch();
                settle(slot, Err(self.thrown(name, &thrown)));
            }
            Err(other) => return Err(other),
        }
        Ok(())
    }

    /// Drives jobs, timers and the VU's `context.http` requests until `slot` is filled or the
    /// budget runs out. Time spent waiting for a response does not count against the budget.
    async fn settle(
        &self,
        vu: &JsVu,
        name: &str,
        slot: &Slot,
        started: Instant,
        mut http: Option<&mut dyn crate::HttpSender>,
    ) -> Outcome {
        let mut budget_start = started;
        loop {
            if let Some(outcome) = slot.borrow_mut().take() {
                return outcome;
            }
            let deadline = budget_start + self.options.budget;
            let next_timer = self.enter(vu, budget_start, |ctx| self.pump(&ctx, deadline));
            if let Some(outcome) = slot.borrow_mut().take() {
                return outcome;
            }
            if self.shared.interrupted.get() {
                return Err(self.over_budget(name));
            }
            if let Some(pending) = self.take_http(vu) {
                let reply = match http.as_deref_mut() {
                    Some(sender) => {
                        let sent = Instant::now();
                        let mut in_flight = sender.send(pending.call);
                        // Timers that fall due while the request is out still fire; their
                        // JavaScript counts against the budget, the waiting does not.
                        let mut javascript = Duration::ZERO;
                        let reply = loop {
                            let next_timer =
                                self.shared.timers.borrow().peek().map(|Reverse((when, _))| *when);
                            let Some(when) = next_timer else { break in_flight.await };
                            tokio::select! {
                                biased;
                                reply = &mut in_flight => break reply,
                                () = tokio::time::sleep_until(when.into()) => {
                                    let ran = Instant::now();
                                    // The budget's start, moved on by the waiting so far.
                                    let start = budget_start + (ran - sent).saturating_sub(javascript);
                                    self.enter(vu, start, |ctx| self.pump(&ctx, start + self.options.budget));
                                    javascript += ran.elapsed();
                                }
                            }
                        };
                        budget_start += sent.elapsed().saturating_sub(javascript);
                        reply
                    }
                    None => Err(format!(
                        "context.http works in function steps (and beforeScenario/afterScenario); \
                         '{name}' is another kind of hook"
                    )),
                };
                self.enter(vu, budget_start, |ctx| self.settle_http(&ctx, pending.id, reply));
                continue;
            }
            let now = Instant::now();
            if now >= deadline {
                return Err(self.over_budget(name));
            }
            match next_timer {
                Some(when) => tokio::time::sleep_until(when.min(deadline).into()).await,
                None => {
                    return Err(HookError {
                        function: name.to_string(),
                        failure: HookFailure::NeverSettled,
                        message: "the function returned without calling its callback or returning \
                                  a Promise, and has nothing pending"
                            .into(),
                        stack: String::new(),
                    });
                }
            }
        }
    }

    /// The oldest `context.http` request `vu` made that is still waiting.
    fn take_http(&self, vu: &JsVu) -> Option<crate::http::PendingHttp> {
        let mut queue = self.shared.http_queue.borrow_mut();
        let at = queue.iter().position(|p| p.vu == vu.id)?;
        queue.remove(at)
    }

    /// Resolves (with a response object) or rejects (with an Error) the Promise of request `id`.
    fn settle_http(&self, ctx: &Ctx<'_>, id: u32, reply: Result<crate::HttpReply, String>) {
        let settled = (|| -> rquickjs::Result<()> {
            let settle = self.http_settle.clone().restore(ctx)?;
            match reply {
                Ok(reply) => {
                    let data = ResponseData {
                        status: reply.status,
                        headers: &reply.headers,
                        body: &reply.body,
                        url: &reply.url,
                        phases: &reply.phases,
                    };
                    let response = response_to_js(ctx, &self.names, data, false)?;
                    settle.call::<_, ()>((id, response, Value::new_undefined(ctx.clone())))
                }
                Err(message) => settle.call::<_, ()>((id, Value::new_null(ctx.clone()), message)),
            }
        })();
        if let Err(JsError::Exception) = settled {
            let thrown = ctx.catch();
            self.uncaught(&thrown);
        }
    }

    /// Runs pending jobs and due timers; returns when the next timer is due, if any.
    fn pump(&self, ctx: &Ctx<'_>, deadline: Instant) -> Option<Instant> {
        let fire = self.fire_timer.clone().restore(ctx).ok();
        loop {
            let mut ran = 0u32;
            loop {
                if !ctx.execute_pending_job() {
                    if ctx.has_exception() {
                        let thrown = ctx.catch();
                        self.uncaught(&thrown);
                        continue;
                    }
                    break;
                }
                ran += 1;
                if ran.is_multiple_of(JOBS_PER_CLOCK_CHECK) && Instant::now() >= deadline {
                    return None;
                }
            }
            let now = Instant::now();
            let due = {
                let mut timers = self.shared.timers.borrow_mut();
                match timers.peek() {
                    Some(Reverse((when, _))) if *when <= now => timers.pop().map(|Reverse((_, id))| id),
                    _ => None,
                }
            };
            match (due, &fire) {
                (Some(id), Some(fire)) => {
                    if let Err(JsError::Exception) = fire.call::<_, ()>((id,)) {
                        let thrown = ctx.catch();
                        self.uncaught(&thrown);
                    }
                }
                _ => break,
            }
            if now >= deadline {
                break;
            }
        }
        self.shared.timers.borrow().peek().map(|Reverse((when, _))| *when)
    }

    /// An exception nothing could catch (in a timer or a detached job): counted as an error.
    fn uncaught(&self, thrown: &Value<'_>) {
        let (message, stack) = describe(thrown);
        let at = first_location(&stack).map(|l| format!(" (at {l})")).unwrap_or_default();
        self.shared.emitted.borrow_mut().push(Emitted::Error { message: format!("uncaught {message}{at}") });
    }

    fn thrown(&self, name: &str, thrown: &Value<'_>) -> HookError {
        if self.shared.interrupted.get() {
            return self.over_budget(name);
        }
        if thrown.is_null() {
            // QuickJS throws null when it cannot even allocate its "out of memory" error.
            let message = format!(
                "out of memory: the engine reached its limit of {} MiB (or the function threw null)",
                self.options.memory_limit >> 20
            );
            return HookError {
                function: name.to_string(),
                failure: HookFailure::Failed,
                message,
                stack: String::new(),
            };
        }
        let (message, stack) = describe(thrown);
        HookError { function: name.to_string(), failure: HookFailure::Failed, message, stack }
    }

    fn over_budget(&self, name: &str) -> HookError {
        HookError {
            function: name.to_string(),
            failure: HookFailure::Budget,
            message: format!("ran longer than its budget of {:?} and was interrupted", self.options.budget),
            stack: String::new(),
        }
    }

    fn failure_of(&self, name: &str, e: JsError) -> HookError {
        if self.shared.interrupted.get() {
            return self.over_budget(name);
        }
        engine_failure(name, e)
    }
}

/// Fills `slot` unless a first outcome already did (a callback called twice keeps the first).
pub(super) fn settle(slot: &Slot, outcome: Outcome) {
    let mut slot = slot.borrow_mut();
    if slot.is_none() {
        *slot = Some(outcome);
    }
}

pub(super) fn truthy(value: &Value<'_>) -> bool {
    if let Some(b) = value.as_bool() {
        return b;
    }
    if let Some(n) = value.as_number() {
        return n != 0.0 && !n.is_nan();
    }
    if let Some(s) = value.as_string() {
        return s.to_string().is_ok_and(|s| !s.is_empty());
    }
    !(value.is_null() || value.is_undefined())
}

/// The message and stack of a thrown value.
pub(super) fn describe(thrown: &Value<'_>) -> (String, String) {
    if let Some(object) = thrown.as_object() {
        let message: Option<String> = object.get("message").ok();
        let name: Option<String> = object.get("name").ok();
        let stack: Option<String> = object.get("stack").ok();
        if let Some(message) = message {
            let message = match name {
                Some(name) if !name.is_empty() && name != "Error" => format!("{name}: {message}"),
                _ => message,
            };
            return (message, stack.unwrap_or_default());
        }
        let text = from_js(thrown).map(|j| j.to_string()).unwrap_or_else(|| "[object]".into());
        return (text, String::new());
    }
    let text = match thrown.as_string() {
        Some(s) => s.to_string().unwrap_or_default(),
        None => from_js(thrown).map(|j| j.to_string()).unwrap_or_else(|| "undefined".into()),
    };
    (text, String::new())
}

/// Settles `slot` when `promise` does.
fn watch_promise<'js>(
    ctx: &Ctx<'js>,
    name: &str,
    shape: Shape,
    promise: &Promise<'js>,
    slot: &Slot,
) -> rquickjs::Result<()> {
    let ok_slot = slot.clone();
    let on_ok = Function::new(ctx.clone(), move |value: rquickjs::function::Opt<Value<'js>>| {
        let result =
            matches!(shape, Shape::Condition | Shape::IfTrue).then(|| value.0.as_ref().is_some_and(truthy));
        settle(&ok_slot, Ok(result));
    })?;
    let err_slot = slot.clone();
    let name = name.to_string();
    let on_err = Function::new(ctx.clone(), move |reason: rquickjs::function::Opt<Value<'js>>| {
        let (message, stack) = match &reason.0 {
            Some(r) => describe(r),
            None => ("the promise was rejected".into(), String::new()),
        };
        settle(
            &err_slot,
            Err(HookError { function: name.clone(), failure: HookFailure::Failed, message, stack }),
        );
    })?;
    let then = promise.then()?;
    then.call::<_, Value>((This(promise.clone()), on_ok, on_err))?;
    Ok(())
}
