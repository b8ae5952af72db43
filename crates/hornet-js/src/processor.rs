//! The per-thread processor: loading the module into a fresh runtime, the VU `context` objects,
//! calling hooks with Artillery's signatures and settling them (callback, Promise or `async`)
//! while driving the job queue and timers, under a time budget and a memory limit.

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap, HashSet};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::function::{Args, Rest, This};
use rquickjs::loader::{Loader, Resolver};
use rquickjs::module::Declared;
use rquickjs::{
    Context, Ctx, Error as JsError, Function, Module, Object, Persistent, Promise, Runtime, TypedArray, Value,
};
use serde_json::Value as Json;

use crate::convert::{from_js, to_js};
use crate::resolve;
use crate::{Emitted, HookError, HookFailure, LoadError, first_location, native};

/// The prelude: Node built-ins over the native helpers.
const PRELUDE: &str = include_str!("prelude.js");
/// Jobs run between two clock checks while pumping the job queue.
const JOBS_PER_CLOCK_CHECK: u32 = 256;

/// Limits for one processor runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessorOptions {
    /// Longest a hook call may take, from its start to its settling (and the module's load).
    pub budget: Duration,
    /// Most memory the runtime may allocate (all VUs of the thread together).
    pub memory_limit: usize,
}

impl Default for ProcessorOptions {
    fn default() -> Self {
        ProcessorOptions { budget: Duration::from_secs(5), memory_limit: 256 << 20 }
    }
}

/// State the native helpers and the interrupt handler share with the processor.
pub(crate) struct Shared {
    /// The processor's folder: `fs` paths are relative to it.
    pub base_dir: PathBuf,
    /// When the running JavaScript must be interrupted.
    pub deadline: Cell<Option<Instant>>,
    /// Set by the interrupt handler when it fired.
    pub interrupted: Cell<bool>,
    /// `Math.random`'s state, swapped in and out per VU.
    pub rng: Cell<u64>,
    /// Pending timers: (when, id).
    pub timers: RefCell<BinaryHeap<Reverse<(Instant, u32)>>>,
    /// What `events.emit` reported since the last [`Processor::take_emitted`].
    pub emitted: RefCell<Vec<Emitted>>,
    /// The last resolution failure, for an `import` whose error QuickJS reports vaguely.
    pub last_resolve_error: RefCell<Option<String>>,
}

/// A request as hooks see it (`requestParams`); what a hook changes is read back.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RequestParams {
    /// Absolute URL.
    pub url: String,
    /// Upper-case method.
    pub method: String,
    /// Header names and values, in order.
    pub headers: Vec<(String, String)>,
    /// `json`: a body sent as JSON, as JSON text (JavaScript sees the parsed value; what it
    /// leaves there comes back as `JSON.stringify` wrote it, key order kept).
    pub json: Option<String>,
    /// `body`: a raw body.
    pub body: Option<RequestBody>,
    /// The request's `name`, when it has one.
    pub name: Option<String>,
    /// Other fields (`qs`, `form`, `formData`, `cookie`, ...) as JSON.
    pub extra: serde_json::Map<String, Json>,
}

/// A raw request body.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RequestBody {
    /// A string body.
    Text(String),
    /// A `Buffer`/`Uint8Array` body.
    Bytes(Vec<u8>),
}

/// A response as `afterResponse` sees it.
#[derive(Debug, Clone, Copy)]
pub struct ResponseData<'a> {
    /// Status code.
    pub status: u16,
    /// Headers as received (names lower-case).
    pub headers: &'a http::HeaderMap,
    /// The body (given to JavaScript as a string, as Artillery does).
    pub body: &'a [u8],
    /// The URL requested.
    pub url: &'a str,
    /// `timings.phases` entries in milliseconds (`wait`, `dns`, `tcp`, `tls`, `firstByte`,
    /// `download`, `total`).
    pub phases: &'a [(&'a str, f64)],
}

/// One VU's JavaScript side: its `context` object and its `Math.random` state.
pub struct JsVu {
    context: Persistent<Object<'static>>,
    rng: Cell<u64>,
}

/// How a hook is called and what settles it.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Shape {
    /// `(context, events, done)`: function steps, beforeScenario, afterScenario.
    Step,
    /// `(requestParams, context, events, next)`.
    BeforeRequest,
    /// `(requestParams, response, context, events, next)`.
    AfterResponse,
    /// `(err, requestParams, context, events, next)`.
    OnError,
    /// `(context, next)` where `next(result)`: whileTrue/ifTrue functions.
    Condition,
}

type Outcome = Result<Option<bool>, HookError>;
type Slot = Rc<RefCell<Option<Outcome>>>;

/// A loaded processor: one runtime and context for one worker thread.
pub struct Processor {
    // Field order matters: persistent handles are dropped before the context and runtime.
    exports: Persistent<Object<'static>>,
    events: Persistent<Object<'static>>,
    fire_timer: Persistent<Function<'static>>,
    functions: HashSet<String>,
    context: Context,
    _runtime: Runtime,
    shared: Rc<Shared>,
    options: ProcessorOptions,
    path: PathBuf,
}

impl Processor {
    /// Loads the processor at `path` (CommonJS, or an ES module for `.mjs` and `"type":
    /// "module"` packages) into a new runtime.
    pub fn load(path: &Path, options: ProcessorOptions) -> Result<Processor, LoadError> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let file = path.to_string_lossy().into_owned();
        let source = std::fs::read_to_string(&path)
            .map_err(|e| LoadError::in_file(&file, format!("cannot read the processor: {e}")))?;
        if let Some((line, column, why)) = resolve::find_refused(&source) {
            return Err(LoadError::at(&file, line, column, why));
        }
        let shared = Rc::new(Shared {
            base_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            deadline: Cell::new(None),
            interrupted: Cell::new(false),
            rng: Cell::new(0),
            timers: RefCell::new(BinaryHeap::new()),
            emitted: RefCell::new(Vec::new()),
            last_resolve_error: RefCell::new(None),
        });
        let engine_error =
            |e: JsError| LoadError::in_file(&file, format!("the JavaScript engine failed: {e}"));
        let runtime = Runtime::new().map_err(engine_error)?;
        runtime.set_memory_limit(options.memory_limit);
        let watch = shared.clone();
        runtime.set_interrupt_handler(Some(Box::new(move || {
            let due = watch.deadline.get().is_some_and(|d| Instant::now() >= d);
            if due {
                watch.interrupted.set(true);
            }
            due
        })));
        runtime.set_loader(ImportResolver { shared: shared.clone() }, ImportLoader);
        let context = Context::full(&runtime).map_err(engine_error)?;
        shared.deadline.set(Some(Instant::now() + options.budget));
        let loaded = context.with(|ctx| -> Result<_, LoadError> {
            let fail = |e: JsError| load_error(&ctx, &shared, &file, options.budget, e);
            native::install(&ctx, &shared, &path).map_err(fail)?;
            let mut prelude = rquickjs::context::EvalOptions::default();
            prelude.filename = Some("hornet:prelude".into());
            prelude.strict = false;
            ctx.eval_with_options::<(), _>(PRELUDE, prelude).map_err(fail)?;
            let events: Object = ctx
                .eval_with_options(
                    "(() => { const E = __hornet_builtin('events'); const ee = new E(); \
                     const emit = ee.emit.bind(ee); \
                     ee.emit = (kind, ...args) => { __hornet.emit(String(kind), ...args); \
                     if (ee.listenerCount(kind) > 0) emit(kind, ...args); return true; }; return ee; })()",
                    eval_options("hornet:events"),
                )
                .map_err(fail)?;
            let fire: Function = ctx.globals().get("__hornet_fire").map_err(fail)?;
            let exports: Object = if resolve::is_es_module(&path) {
                let module = Module::declare(ctx.clone(), file.clone(), source).map_err(fail)?;
                let (module, done) = module.eval().map_err(fail)?;
                settle_load(&ctx, &done).map_err(fail)?;
                module.namespace().map_err(fail)?
            } else {
                let load: Function = ctx.globals().get("__hornet_cjs").map_err(fail)?;
                let exported: Value = load.call((file.clone(),)).map_err(fail)?;
                match exported.into_object() {
                    Some(o) => o,
                    None => Object::new(ctx.clone()).map_err(fail)?,
                }
            };
            let mut functions = HashSet::new();
            for key in exports.keys::<String>() {
                let Ok(key) = key else { continue };
                if exports.get::<_, Value>(key.as_str()).is_ok_and(|v| v.is_function()) {
                    functions.insert(key);
                }
            }
            Ok((
                Persistent::save(&ctx, exports),
                Persistent::save(&ctx, events),
                Persistent::save(&ctx, fire),
                functions,
            ))
        });
        shared.deadline.set(None);
        let (exports, events, fire_timer, functions) = loaded?;
        Ok(Processor {
            exports,
            events,
            fire_timer,
            functions,
            context,
            _runtime: runtime,
            shared,
            options,
            path,
        })
    }

    /// The processor's file, absolute.
    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the module exports a function named `name`.
    pub fn has_function(&self, name: &str) -> bool {
        self.functions.contains(name)
    }

    /// The exported function names, sorted.
    pub fn function_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.functions.iter().cloned().collect();
        names.sort();
        names
    }

    /// A VU's `context` (`vars`, `scenario`, `_uid`), with `Math.random` seeded from `seed`.
    pub fn new_vu(&self, uid: &str, scenario: Option<&str>, seed: u64) -> Result<JsVu, HookError> {
        self.context.with(|ctx| {
            let build = || -> rquickjs::Result<Object<'_>> {
                let context = Object::new(ctx.clone())?;
                context.set("vars", Object::new(ctx.clone())?)?;
                let info = Object::new(ctx.clone())?;
                if let Some(name) = scenario {
                    info.set("name", name)?;
                }
                context.set("scenario", info)?;
                context.set("_uid", uid)?;
                Ok(context)
            };
            let context = build().map_err(|e| engine_failure("context", e))?;
            Ok(JsVu { context: Persistent::save(&ctx, context), rng: Cell::new(seed) })
        })
    }

    /// Calls a `function:` step, `beforeScenario` or `afterScenario`: `(context, events, done)`.
    pub async fn call_step(
        &self,
        vu: &JsVu,
        name: &str,
        vars: &mut HashMap<String, Json>,
    ) -> Result<(), HookError> {
        self.invoke(vu, name, Shape::Step, vars, None, None, None).await.map(drop)
    }

    /// Calls a `beforeRequest` hook: `(requestParams, context, events, next)`; changes to
    /// `request` are read back.
    pub async fn before_request(
        &self,
        vu: &JsVu,
        name: &str,
        request: &mut RequestParams,
        vars: &mut HashMap<String, Json>,
    ) -> Result<(), HookError> {
        self.invoke(vu, name, Shape::BeforeRequest, vars, Some(request), None, None).await.map(drop)
    }

    /// Calls an `afterResponse` hook: `(requestParams, response, context, events, next)`.
    pub async fn after_response(
        &self,
        vu: &JsVu,
        name: &str,
        request: &mut RequestParams,
        response: ResponseData<'_>,
        vars: &mut HashMap<String, Json>,
    ) -> Result<(), HookError> {
        self.invoke(vu, name, Shape::AfterResponse, vars, Some(request), Some(response), None).await.map(drop)
    }

    /// Calls an `onError` hook: `(err, requestParams, context, events, next)`.
    pub async fn on_error(
        &self,
        vu: &JsVu,
        name: &str,
        error: &str,
        request: &mut RequestParams,
        vars: &mut HashMap<String, Json>,
    ) -> Result<(), HookError> {
        self.invoke(vu, name, Shape::OnError, vars, Some(request), None, Some(error)).await.map(drop)
    }

    /// Calls a condition (`whileTrue`, `ifTrue`): `(context, next)`; the result is what it passes
    /// to `next`, returns, or resolves to, as a truthy value.
    pub async fn condition(
        &self,
        vu: &JsVu,
        name: &str,
        vars: &mut HashMap<String, Json>,
    ) -> Result<bool, HookError> {
        self.invoke(vu, name, Shape::Condition, vars, None, None, None).await.map(|r| r.unwrap_or(false))
    }

    /// What `events.emit` reported since the last call.
    pub fn take_emitted(&self) -> Vec<Emitted> {
        std::mem::take(&mut *self.shared.emitted.borrow_mut())
    }

    /// Bytes the runtime has allocated (all VUs of this thread).
    pub fn memory_used(&self) -> usize {
        let usage = self._runtime.memory_usage();
        usize::try_from(usage.malloc_size).unwrap_or(0)
    }

    #[allow(clippy::too_many_arguments)]
    async fn invoke(
        &self,
        vu: &JsVu,
        name: &str,
        shape: Shape,
        vars: &mut HashMap<String, Json>,
        request: Option<&mut RequestParams>,
        response: Option<ResponseData<'_>>,
        error: Option<&str>,
    ) -> Result<Option<bool>, HookError> {
        if !self.functions.contains(name) {
            return Err(HookError {
                function: name.to_string(),
                failure: HookFailure::Missing,
                message: format!("{} exports no function named '{name}'", self.path.display()),
                stack: String::new(),
            });
        }
        let started = Instant::now();
        let slot: Slot = Rc::new(RefCell::new(None));
        let request_object = self.enter(vu, started, |ctx| {
            self.start_call(&ctx, vu, name, shape, vars, request.as_deref(), response, error, &slot)
        });
        let request_object = match request_object {
            Ok(r) => r,
            Err(e) => return Err(self.failure_of(name, e)),
        };
        let outcome = self.settle(vu, name, &slot, started).await;
        // Read back what the hook changed, even when it failed (Artillery keeps the mutations).
        self.context.with(|ctx| {
            let context = vu.context.clone().restore(&ctx).ok();
            if let Some(Json::Object(map)) =
                context.and_then(|c| c.get::<_, Value>("vars").ok()).and_then(|v| from_js(&v))
            {
                vars.clear();
                vars.extend(map);
            }
            if let (Some(request), Some(object)) = (request, request_object)
                && let Ok(object) = object.restore(&ctx)
            {
                read_request(&object, request);
            }
        });
        outcome
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
        shape: Shape,
        vars: &HashMap<String, Json>,
        request: Option<&RequestParams>,
        response: Option<ResponseData<'_>>,
        error: Option<&str>,
        slot: &Slot,
    ) -> rquickjs::Result<Option<Persistent<Object<'static>>>> {
        let exports = self.exports.clone().restore(ctx)?;
        let function: Function = exports.get(name)?;
        let context = vu.context.clone().restore(ctx)?;
        let vars_object = Object::new(ctx.clone())?;
        for (k, v) in vars {
            vars_object.set(k.as_str(), to_js(ctx, v)?)?;
        }
        let builtins: Function = ctx.globals().get("__hornet_vars_builtins")?;
        builtins.call::<_, ()>((vars_object.clone(),))?;
        context.set("vars", vars_object)?;
        let events = self.events.clone().restore(ctx)?;
        let request_object = request.map(|r| request_to_js(ctx, r)).transpose()?;
        let is_async = function
            .get::<_, Object>("constructor")
            .and_then(|c| c.get::<_, String>("name"))
            .is_ok_and(|n| n == "AsyncFunction");
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
                args.push_arg(response.map(|r| response_to_js(ctx, r)).transpose()?)?;
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
        }
        if !is_async {
            args.push_arg(callback(ctx, name, shape, slot)?)?;
        }
        match function.call_arg::<Value>(args) {
            Ok(returned) => {
                if let Some(promise) = returned.as_promise() {
                    watch_promise(ctx, name, shape, promise, slot)?;
                } else if shape == Shape::Condition && !returned.is_undefined() {
                    settle(slot, Ok(Some(truthy(&returned))));
                }
            }
            Err(JsError::Exception) => {
                let thrown = ctx.catch();
                settle(slot, Err(self.thrown(name, &thrown)));
            }
            Err(other) => return Err(other),
        }
        Ok(request_object.map(|o| Persistent::save(ctx, o)))
    }

    /// Drives jobs and timers until `slot` is filled or the budget runs out.
    async fn settle(&self, vu: &JsVu, name: &str, slot: &Slot, started: Instant) -> Outcome {
        let deadline = started + self.options.budget;
        loop {
            if let Some(outcome) = slot.borrow_mut().take() {
                return outcome;
            }
            let next_timer = self.enter(vu, started, |ctx| self.pump(&ctx, deadline));
            if let Some(outcome) = slot.borrow_mut().take() {
                return outcome;
            }
            let now = Instant::now();
            if now >= deadline || self.shared.interrupted.get() {
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

fn engine_failure(name: &str, e: JsError) -> HookError {
    HookError {
        function: name.to_string(),
        failure: HookFailure::Failed,
        message: format!("the JavaScript engine failed: {e}"),
        stack: String::new(),
    }
}

fn eval_options(filename: &str) -> rquickjs::context::EvalOptions {
    let mut options = rquickjs::context::EvalOptions::default();
    options.filename = Some(filename.into());
    options.strict = false;
    options
}

/// Fills `slot` unless a first outcome already did (a callback called twice keeps the first).
fn settle(slot: &Slot, outcome: Outcome) {
    let mut slot = slot.borrow_mut();
    if slot.is_none() {
        *slot = Some(outcome);
    }
}

fn truthy(value: &Value<'_>) -> bool {
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
fn describe(thrown: &Value<'_>) -> (String, String) {
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

/// The callback hooks get as `done`/`next`: error-first, except conditions (`next(result)`).
fn callback<'js>(ctx: &Ctx<'js>, name: &str, shape: Shape, slot: &Slot) -> rquickjs::Result<Function<'js>> {
    let slot = slot.clone();
    let name = name.to_string();
    Function::new(ctx.clone(), move |args: Rest<Value<'js>>| {
        let first = args.0.first();
        let outcome = match (shape, first) {
            (Shape::Condition, first) => Ok(Some(first.is_some_and(truthy))),
            (_, Some(err)) if truthy(err) => {
                let (message, stack) = describe(err);
                Err(HookError { function: name.clone(), failure: HookFailure::Failed, message, stack })
            }
            _ => Ok(None),
        };
        settle(&slot, outcome);
    })
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
        let result = (shape == Shape::Condition).then(|| value.0.as_ref().is_some_and(truthy));
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

/// Runs the job queue until a module's evaluation promise settles (top-level await).
fn settle_load<'js>(ctx: &Ctx<'js>, done: &Promise<'js>) -> rquickjs::Result<()> {
    loop {
        match done.result::<Value>() {
            Some(Ok(_)) => return Ok(()),
            Some(Err(e)) => return Err(e),
            None => {
                if !ctx.execute_pending_job() {
                    return Err(rquickjs::Exception::throw_message(
                        ctx,
                        "the module's top-level await never settled",
                    ));
                }
            }
        }
    }
}

/// A load failure as a [`LoadError`], with file:line:column from the exception when it has one.
fn load_error(ctx: &Ctx<'_>, shared: &Shared, file: &str, budget: Duration, e: JsError) -> LoadError {
    if shared.interrupted.get() {
        return LoadError::in_file(
            file,
            format!("loading ran longer than its budget of {budget:?} and was interrupted"),
        );
    }
    let (mut message, stack) = match e {
        JsError::Exception => describe(&ctx.catch()),
        other => (other.to_string(), String::new()),
    };
    if let Some(why) = shared.last_resolve_error.borrow_mut().take()
        && !message.contains(&why)
    {
        message = format!("{message}: {why}");
    }
    // A refusal from a required file already names its place.
    if let Some((place, rest)) = message.split_once(": ")
        && let Some((f, line, column)) = split_location(place)
    {
        return LoadError::at(f, line, column, rest.to_string());
    }
    match first_location(&stack).and_then(split_location) {
        Some((f, line, column)) => LoadError::at(f, line, column, message),
        None => LoadError::in_file(file, message),
    }
}

/// `file:line:column` into its parts.
fn split_location(place: &str) -> Option<(&str, usize, usize)> {
    let (rest, column) = place.rsplit_once(':')?;
    let (file, line) = rest.rsplit_once(':')?;
    Some((file, line.parse().ok()?, column.parse().ok()?))
}

fn request_to_js<'js>(ctx: &Ctx<'js>, request: &RequestParams) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    for (k, v) in &request.extra {
        object.set(k.as_str(), to_js(ctx, v)?)?;
    }
    object.set("url", request.url.as_str())?;
    object.set("uri", request.url.as_str())?;
    object.set("method", request.method.as_str())?;
    let headers = Object::new(ctx.clone())?;
    for (k, v) in &request.headers {
        headers.set(k.as_str(), v.as_str())?;
    }
    object.set("headers", headers)?;
    if let Some(json) = &request.json {
        object.set("json", ctx.json_parse(json.as_str())?)?;
    }
    match &request.body {
        Some(RequestBody::Text(text)) => object.set("body", text.as_str())?,
        Some(RequestBody::Bytes(bytes)) => {
            let buffer: Function = ctx.eval("(u8) => Buffer.from(u8)")?;
            let array = TypedArray::<u8>::new(ctx.clone(), bytes.clone())?;
            object.set("body", buffer.call::<_, Value>((array,))?)?
        }
        None => {}
    }
    if let Some(name) = &request.name {
        object.set("name", name.as_str())?;
    }
    Ok(object)
}

/// Reads the hook's changes back into `request`.
fn read_request(object: &Object<'_>, request: &mut RequestParams) {
    if let Ok(url) = object.get::<_, String>("url") {
        let uri: Option<String> = object.get("uri").ok();
        // `uri` is the older name; a hook that changed only it wins.
        request.url = match uri {
            Some(uri) if uri != request.url && url == request.url => uri,
            _ => url,
        };
    }
    if let Ok(method) = object.get::<_, String>("method") {
        request.method = method.to_ascii_uppercase();
    }
    if let Ok(headers) = object.get::<_, Object>("headers") {
        request.headers = headers
            .props::<String, Value>()
            .filter_map(|p| p.ok())
            .filter_map(|(k, v)| {
                let text = match from_js(&v)? {
                    Json::String(s) => s,
                    Json::Null => return None,
                    other => other.to_string(),
                };
                Some((k, text))
            })
            .collect();
    }
    request.json = object
        .get::<_, Value>("json")
        .ok()
        .filter(|v| !v.is_undefined())
        .and_then(|v| v.ctx().clone().json_stringify(v).ok().flatten())
        .and_then(|s| s.to_string().ok());
    request.body = object.get::<_, Value>("body").ok().and_then(|v| {
        if let Ok(array) = TypedArray::<u8>::from_value(v.clone()) {
            // SAFETY: copied at once; no JavaScript runs while the slice is alive.
            return Some(RequestBody::Bytes(
                unsafe { array.as_bytes() }.map(<[u8]>::to_vec).unwrap_or_default(),
            ));
        }
        match from_js(&v)? {
            Json::String(s) => Some(RequestBody::Text(s)),
            Json::Null => None,
            other => Some(RequestBody::Text(other.to_string())),
        }
    });
    request.name = object.get::<_, Option<String>>("name").ok().flatten();
    let known = ["url", "uri", "method", "headers", "json", "body", "name"];
    request.extra = object
        .props::<String, Value>()
        .filter_map(|p| p.ok())
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .filter_map(|(k, v)| Some((k, from_js(&v)?)))
        .collect();
}

fn response_to_js<'js>(ctx: &Ctx<'js>, response: ResponseData<'_>) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    object.set("statusCode", response.status)?;
    object.set("url", response.url)?;
    let headers = Object::new(ctx.clone())?;
    for name in response.headers.keys() {
        let values: Vec<String> = response
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        if name == http::header::SET_COOKIE {
            headers.set(name.as_str(), values)?;
        } else {
            headers.set(name.as_str(), values.join(", "))?;
        }
    }
    object.set("headers", headers)?;
    object.set("body", String::from_utf8_lossy(response.body).into_owned())?;
    let timings = Object::new(ctx.clone())?;
    let phases = Object::new(ctx.clone())?;
    for (k, v) in response.phases {
        phases.set(*k, *v)?;
    }
    timings.set("phases", phases)?;
    object.set("timings", timings)?;
    Ok(object)
}

/// Resolves `import` specifiers: built-ins as `node:<name>`, files as absolute paths.
struct ImportResolver {
    shared: Rc<Shared>,
}

impl Resolver for ImportResolver {
    fn resolve<'js>(
        &mut self,
        _ctx: &Ctx<'js>,
        base: &str,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<String> {
        match native::resolve_import(base, name) {
            Ok(found) => Ok(found.key()),
            Err(why) => {
                *self.shared.last_resolve_error.borrow_mut() = Some(why.clone());
                Err(JsError::new_resolving_message(base, name, why))
            }
        }
    }
}

/// Loads imported modules: ES module files as they are; CommonJS files and built-ins through
/// `require`, re-exported (`default` plus each own key that is an identifier).
struct ImportLoader;

impl Loader for ImportLoader {
    fn load<'js>(
        &mut self,
        ctx: &Ctx<'js>,
        name: &str,
        _attributes: Option<rquickjs::loader::ImportAttributes<'js>>,
    ) -> rquickjs::Result<Module<'js, Declared>> {
        let path = Path::new(name);
        if !name.starts_with("node:") && resolve::is_es_module(path) {
            let source = std::fs::read_to_string(path)
                .map_err(|e| JsError::new_loading_message(name, e.to_string()))?;
            if let Some((line, column, why)) = resolve::find_refused(&source) {
                return Err(JsError::new_loading_message(
                    name,
                    LoadError::at(name, line, column, why).to_string(),
                ));
            }
            return Module::declare(ctx.clone(), name, source);
        }
        let load: Function = ctx.globals().get("__hornet_cjs")?;
        let exported: Value = load.call((name,))?;
        let key = serde_json::to_string(name).unwrap_or_default();
        let mut source = format!("const m = globalThis.__hornet_cjs({key});\nexport default m;\n");
        if let Some(object) = exported.as_object() {
            for k in object.keys::<String>().filter_map(|k| k.ok()) {
                let identifier = k.chars().next().is_some_and(|c| c.is_alphabetic() || c == '_' || c == '$')
                    && k.chars().all(|c| c.is_alphanumeric() || c == '_' || c == '$');
                if identifier && k != "default" && !RESERVED.contains(&k.as_str()) {
                    source.push_str(&format!("export const {k} = m.{k};\n"));
                }
            }
        }
        Module::declare(ctx.clone(), name, source)
    }
}

/// Words that cannot name an `export const`.
const RESERVED: &[&str] = &[
    "await",
    "break",
    "case",
    "catch",
    "class",
    "const",
    "continue",
    "debugger",
    "delete",
    "do",
    "else",
    "enum",
    "export",
    "extends",
    "false",
    "finally",
    "for",
    "function",
    "if",
    "import",
    "in",
    "instanceof",
    "let",
    "new",
    "null",
    "return",
    "static",
    "super",
    "switch",
    "this",
    "throw",
    "true",
    "try",
    "typeof",
    "var",
    "void",
    "while",
    "with",
    "yield",
    "arguments",
    "eval",
];
