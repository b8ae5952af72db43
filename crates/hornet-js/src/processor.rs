//! The per-thread processor: loading the module into a fresh runtime, the VU `context` objects,
//! calling hooks with Artillery's signatures and settling them (callback, Promise or `async`)
//! while driving the job queue and timers, under a time budget and a memory limit.

mod callback;
mod hooks;
mod import;
mod names;
mod request;
mod vars;

use std::cell::{Cell, RefCell};
use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::path::{Path, PathBuf};
use std::rc::Rc;
use std::time::{Duration, Instant};

use rquickjs::{
    Context, Ctx, Error as JsError, Function, Module, Object, Persistent, Promise, Runtime, Value,
};
use serde_json::Value as Json;

use crate::files::Files;
use crate::resolve;
use crate::{Emitted, HookError, HookFailure, LoadError, first_location, native};
use hooks::describe;
use import::{ImportLoader, ImportResolver};
use names::Names;
pub use request::JsRequest;
pub(crate) use request::{headers_object, timings_object};

/// The prelude: Node built-ins over the native helpers.
const PRELUDE: &str = include_str!("prelude.js");

/// Limits for one processor runtime.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ProcessorOptions {
    /// Longest a hook call may take, from its start to its settling (and the module's load).
    pub budget: Duration,
    /// Most memory the runtime may allocate (all VUs of the thread together).
    pub memory_limit: usize,
    /// `Math.random`'s seed while the module loads (its top-level code runs before any VU has its
    /// own): a package that seeds itself from `Math.random` at load, as `@faker-js/faker` does,
    /// then repeats with it.
    pub seed: u64,
}

impl Default for ProcessorOptions {
    fn default() -> Self {
        ProcessorOptions { budget: Duration::from_secs(5), memory_limit: 256 << 20, seed: 0 }
    }
}

/// State the native helpers and the interrupt handler share with the processor.
pub(crate) struct Shared {
    /// The processor's folder: `fs` paths are relative to it.
    pub base_dir: PathBuf,
    /// What `fs`, `require` and `import` may read.
    pub files: Files,
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
    /// `context.http` requests waiting for their VU's settle loop.
    pub http_queue: RefCell<std::collections::VecDeque<crate::http::PendingHttp>>,
    /// Environment variables laid over this process's in `process.env` (a distributed worker's,
    /// sent with the plan).
    pub env: Vec<(String, String)>,
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

/// The names of the variables the Rust side set or removed since the last hook call, kept by
/// whoever changes a VU's variables between calls (the runner's scope), so that a call brings
/// only those over to `context.vars` instead of comparing every variable with what JavaScript
/// last saw. Each name is noted once. A new log may have missed changes made before it: the first
/// call that reads it compares every variable.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ChangeLog {
    names: Vec<String>,
    /// Whether every change since the last call is noted (not so until a call has read the log).
    complete: bool,
}

impl ChangeLog {
    /// Notes that variable `name` was set or removed.
    pub fn note(&mut self, name: &str) {
        if !self.names.iter().any(|n| n == name) {
            self.names.push(name.to_string());
        }
    }

    /// The names noted since the log was last emptied.
    pub fn names(&self) -> &[String] {
        &self.names
    }

    /// Whether the log holds every change since the last call.
    fn is_complete(&self) -> bool {
        self.complete
    }

    /// Empties the log once a call has brought its changes over.
    fn clear(&mut self) {
        self.names.clear();
        self.complete = true;
    }
}

/// A VU's variables as a hook call reads and writes them (`context.vars`): the map, and the
/// [`ChangeLog`] of what the caller changed in it since the previous call, when it keeps one.
/// Without a log every variable is compared with what JavaScript last saw. A call empties the log.
pub struct VuVars<'a> {
    /// The variables by name.
    pub map: &'a mut HashMap<String, Json>,
    /// Every name set or removed in `map` since the previous call, other than by the calls
    /// themselves; `None` when the caller does not keep count.
    pub changed: Option<&'a mut ChangeLog>,
}

impl<'a> From<&'a mut HashMap<String, Json>> for VuVars<'a> {
    fn from(map: &'a mut HashMap<String, Json>) -> VuVars<'a> {
        VuVars { map, changed: None }
    }
}

/// One VU's JavaScript side: its `context` object and its `Math.random` state.
pub struct JsVu {
    context: Persistent<Object<'static>>,
    vars: vars::VarsMirror,
    rng: Cell<u64>,
    /// Tells this VU's `context.http` requests from other VUs' in the thread's queue.
    id: u32,
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
    /// `(context, next)` where `next(result)`: whileTrue functions.
    Condition,
    /// `(vars)`, answering with its return value: a function named by `ifTrue`.
    IfTrue,
}

type Outcome = Result<Option<bool>, HookError>;

/// An exported function: its name's atom (the function is looked up at each call, as Artillery
/// does) and whether it is `async` (called without a callback).
struct Export {
    name: names::Name,
    is_async: bool,
}

/// The exported functions by name.
type Exports = HashMap<String, Export, std::hash::BuildHasherDefault<vars::NameHasher>>;
type Slot = Rc<RefCell<Option<Outcome>>>;

/// A loaded processor: one runtime and context for one worker thread.
pub struct Processor {
    // Field order matters: persistent handles are dropped before the context and runtime.
    exports: Persistent<Object<'static>>,
    events: Persistent<Object<'static>>,
    fire_timer: Persistent<Function<'static>>,
    http_client: Persistent<Function<'static>>,
    http_settle: Persistent<Function<'static>>,
    /// The callback handed to hook calls again while nothing else holds it.
    callbacks: callback::Callbacks,
    /// The atoms of the hook objects' property names.
    names: Names,
    /// The id of the next VU.
    next_vu: Cell<u32>,
    /// `context.scenario` objects, one per scenario index, shared by the thread's VUs.
    scenarios: RefCell<HashMap<usize, Persistent<Value<'static>>>>,
    functions: Exports,
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
        Processor::load_reading(path, options, Files::Anywhere, Vec::new())
    }

    /// Loads the processor at `path`, a distributed worker's copy in `folder`, which holds
    /// exactly the files the controller shipped: its `fs` calls, `require` and `import` read
    /// those and nothing else (any other path is an error saying it was not shipped). `env`, the
    /// variables that came with the plan, is laid over this process's environment in
    /// `process.env` (a name it sets reads its value).
    pub fn load_shipped(
        path: &Path,
        options: ProcessorOptions,
        folder: &Path,
        env: Vec<(String, String)>,
    ) -> Result<Processor, LoadError> {
        Processor::load_reading(path, options, Files::shipped(folder), env)
    }

    fn load_reading(
        path: &Path,
        options: ProcessorOptions,
        files: Files,
        env: Vec<(String, String)>,
    ) -> Result<Processor, LoadError> {
        let path = std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf());
        let file = path.to_string_lossy().into_owned();
        let source = files
            .check(&path, &file)
            .and_then(|()| std::fs::read_to_string(&path).map_err(|e| e.to_string()))
            .map_err(|e| LoadError::in_file(&file, format!("cannot read the processor: {e}")))?;
        if let Some((line, column, why)) = resolve::find_refused(&source) {
            return Err(LoadError::at(&file, line, column, why));
        }
        let shared = Rc::new(Shared {
            base_dir: path.parent().map(Path::to_path_buf).unwrap_or_default(),
            files,
            deadline: Cell::new(None),
            interrupted: Cell::new(false),
            rng: Cell::new(options.seed),
            timers: RefCell::new(BinaryHeap::new()),
            emitted: RefCell::new(Vec::new()),
            last_resolve_error: RefCell::new(None),
            http_queue: RefCell::new(std::collections::VecDeque::new()),
            env,
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
        runtime
            .set_loader(ImportResolver { shared: shared.clone() }, ImportLoader { shared: shared.clone() });
        let context = Context::full(&runtime).map_err(engine_error)?;
        shared.deadline.set(Some(Instant::now() + options.budget));
        let loaded = context.with(|ctx| -> Result<_, LoadError> {
            let fail = |e: JsError| load_error(&ctx, &shared, &file, options.budget, e);
            native::install(&ctx, &shared, &path).map_err(fail)?;
            let mut prelude = rquickjs::context::EvalOptions::default();
            prelude.filename = Some("hornet:prelude".into());
            prelude.strict = false;
            ctx.eval_with_options::<(), _>(PRELUDE, prelude).map_err(fail)?;
            ctx.eval_with_options::<(), _>(crate::http::CLIENT_JS, eval_options("hornet:http"))
                .map_err(fail)?;
            let events: Object = ctx
                .eval_with_options(
                    // `emit` reports to hornet, and to the object's own listeners once it has
                    // any: until a listener list is made, a version without `arguments` (which
                    // QuickJS makes for each call of a function that names it) serves.
                    "(() => { const E = __hornet_builtin('events'); const ee = new E(); const H = __hornet; \
                     const emit = ee.emit; \
                     const fast = function (kind, name, value) { H.emit(String(kind), name, value); return true; }; \
                     const full = function (kind, name, value) { H.emit(String(kind), name, value); \
                     const listeners = ee._events && ee._events.get(kind); \
                     if (listeners !== undefined && listeners.length > 0) emit.apply(ee, arguments); \
                     return true; }; \
                     const list = ee._list; \
                     ee._list = function (name) { if (ee.emit === fast) ee.emit = full; return list.call(this, name); }; \
                     ee.emit = fast; return ee; })()",
                    eval_options("hornet:events"),
                )
                .map_err(fail)?;
            let fire: Function = ctx.globals().get("__hornet_fire").map_err(fail)?;
            let http_client: Function = ctx.globals().get("__hornet_http_client").map_err(fail)?;
            let http_settle: Function = ctx.globals().get("__hornet_http_settle").map_err(fail)?;
            let names = Names::new(&ctx).map_err(fail)?;
            let callbacks = callback::Callbacks::new(&ctx).map_err(fail)?;
            let exports: Object = if resolve::is_es_module(&path, &shared.files) {
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
            let mut functions = Exports::default();
            for key in exports.keys::<String>() {
                let Ok(key) = key else { continue };
                let Ok(function) = exports.get::<_, Function>(key.as_str()) else { continue };
                // Artillery awaits an `AsyncFunction` without a callback; it decides by the type.
                let is_async = function
                    .get::<_, Object>("constructor")
                    .and_then(|c| c.get::<_, String>("name"))
                    .is_ok_and(|n| n == "AsyncFunction");
                let name = names::Name::new(&ctx, &key).map_err(fail)?;
                functions.insert(key, Export { name, is_async });
            }
            Ok((
                Persistent::save(&ctx, exports),
                Persistent::save(&ctx, events),
                Persistent::save(&ctx, fire),
                Persistent::save(&ctx, http_client),
                Persistent::save(&ctx, http_settle),
                callbacks,
                names,
                functions,
            ))
        });
        shared.deadline.set(None);
        let (exports, events, fire_timer, http_client, http_settle, callbacks, names, functions) = loaded?;
        Ok(Processor {
            exports,
            events,
            fire_timer,
            http_client,
            http_settle,
            callbacks,
            names,
            next_vu: Cell::new(0),
            scenarios: RefCell::new(HashMap::new()),
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

    /// The processor's folder, which relative paths it names are taken from.
    pub fn base_dir(&self) -> &Path {
        &self.shared.base_dir
    }

    /// Reads a file the processor named (`shown`, as it wrote it; relative to the processor's
    /// folder), as its `fs` calls may: on a distributed worker, only a file that was shipped.
    pub fn read_file(&self, shown: &str) -> Result<Vec<u8>, String> {
        self.shared.files.read(&self.shared.base_dir.join(shown), shown)
    }

    /// Whether the module exports a function named `name`.
    pub fn has_function(&self, name: &str) -> bool {
        self.functions.contains_key(name)
    }

    /// The exported function names, sorted.
    pub fn function_names(&self) -> Vec<String> {
        let mut names: Vec<String> = self.functions.keys().cloned().collect();
        names.sort();
        names
    }

    /// A VU's `context` (`vars`, `scenario`, `_uid`), with `Math.random` seeded from `seed`.
    pub fn new_vu(&self, uid: &str, scenario: Option<&str>, seed: u64) -> Result<JsVu, HookError> {
        let id = self.next_vu.get();
        self.next_vu.set(id.wrapping_add(1));
        self.context.with(|ctx| {
            let build = || -> rquickjs::Result<(Object<'_>, vars::VarsMirror)> {
                let context = Object::new(ctx.clone())?;
                let vars = vars::VarsMirror::new(&ctx, &context)?;
                let info = Object::new(ctx.clone())?;
                if let Some(name) = scenario {
                    info.set("name", name)?;
                }
                context.set("scenario", info)?;
                context.set("_uid", uid)?;
                let client = self.http_client.clone().restore(&ctx)?;
                context.set("http", client.call::<_, Value>((id,))?)?;
                Ok((context, vars))
            };
            let (context, vars) = build().map_err(|e| engine_failure("context", e))?;
            Ok(JsVu { context: Persistent::save(&ctx, context), vars, rng: Cell::new(seed), id })
        })
    }

    /// Sets the VU's `context.scenario` to the scenario at `index`, given as written (`spec`):
    /// made once per scenario and thread and shared by its VUs, as Artillery hands every VU of a
    /// scenario the same object.
    pub fn set_scenario(&self, vu: &JsVu, index: usize, spec: &Json) -> Result<(), HookError> {
        self.context.with(|ctx| {
            let set = || -> rquickjs::Result<()> {
                let cached = self.scenarios.borrow().get(&index).cloned();
                let object = match cached {
                    Some(object) => object.restore(&ctx)?,
                    None => {
                        let object = crate::convert::to_js(&ctx, spec)?;
                        let saved = Persistent::save(&ctx, object.clone());
                        self.scenarios.borrow_mut().insert(index, saved);
                        object
                    }
                };
                vu.context.clone().restore(&ctx)?.set("scenario", object)
            };
            set().map_err(|e| engine_failure("context.scenario", e))
        })
    }

    /// Calls a `function:` step, `beforeScenario` or `afterScenario`: `(context, events, done)`.
    pub async fn call_step(
        &self,
        vu: &JsVu,
        name: &str,
        vars: impl Into<VuVars<'_>>,
    ) -> Result<(), HookError> {
        self.invoke(vu, name, Shape::Step, vars.into(), None, None, None, None).await.map(drop)
    }

    /// Calls a `function:` step (or `beforeScenario`/`afterScenario`) whose `context.http`
    /// requests `http` sends: the step may `await context.http.get(url)` and the like.
    pub async fn call_step_with_http(
        &self,
        vu: &JsVu,
        name: &str,
        vars: impl Into<VuVars<'_>>,
        http: &mut dyn crate::HttpSender,
    ) -> Result<(), HookError> {
        self.invoke(vu, name, Shape::Step, vars.into(), None, None, None, Some(http)).await.map(drop)
    }

    /// `requestParams` for one request: the object its `beforeRequest`, `afterResponse` and
    /// `onError` hooks all get (as Artillery hands them one object). Drop it before the processor.
    pub fn request_object(&self, request: &RequestParams) -> Result<JsRequest, HookError> {
        self.context.with(|ctx| {
            request::request_to_js(&ctx, &self.names, request)
                .map(|(_, js)| js)
                .map_err(|e| engine_failure("requestParams", e))
        })
    }

    /// Reads back into `request` (the request `object` was made from) what the hooks changed.
    pub fn read_request(&self, object: &JsRequest, request: &mut RequestParams) -> Result<(), HookError> {
        self.context.with(|ctx| {
            request::read_request(&ctx, &self.names, object, request)
                .map_err(|e| engine_failure("requestParams", e))
        })
    }

    /// Calls a `beforeRequest` hook on `request`: `(requestParams, context, events, next)`; what
    /// it changes is read with [`Processor::read_request`].
    pub async fn before_request_on(
        &self,
        vu: &JsVu,
        name: &str,
        request: &JsRequest,
        vars: impl Into<VuVars<'_>>,
    ) -> Result<(), HookError> {
        self.invoke(vu, name, Shape::BeforeRequest, vars.into(), Some(request), None, None, None)
            .await
            .map(drop)
    }

    /// Calls an `afterResponse` hook on `request`: `(requestParams, response, context, events,
    /// next)`.
    pub async fn after_response_on(
        &self,
        vu: &JsVu,
        name: &str,
        request: &JsRequest,
        response: ResponseData<'_>,
        vars: impl Into<VuVars<'_>>,
    ) -> Result<(), HookError> {
        self.invoke(vu, name, Shape::AfterResponse, vars.into(), Some(request), Some(response), None, None)
            .await
            .map(drop)
    }

    /// Calls an `onError` hook on `request`: `(err, requestParams, context, events, next)`.
    pub async fn on_error_on(
        &self,
        vu: &JsVu,
        name: &str,
        error: &str,
        request: &JsRequest,
        vars: impl Into<VuVars<'_>>,
    ) -> Result<(), HookError> {
        self.invoke(vu, name, Shape::OnError, vars.into(), Some(request), None, Some(error), None)
            .await
            .map(drop)
    }

    /// Calls a `beforeRequest` hook on a `requestParams` of its own; changes to `request` are
    /// read back (also when the hook failed, as Artillery keeps them).
    pub async fn before_request(
        &self,
        vu: &JsVu,
        name: &str,
        request: &mut RequestParams,
        vars: impl Into<VuVars<'_>>,
    ) -> Result<(), HookError> {
        let object = self.request_object(request)?;
        let outcome = self.before_request_on(vu, name, &object, vars).await;
        let _ = self.read_request(&object, request);
        outcome
    }

    /// Calls an `afterResponse` hook on a `requestParams` of its own, read back after it.
    pub async fn after_response(
        &self,
        vu: &JsVu,
        name: &str,
        request: &mut RequestParams,
        response: ResponseData<'_>,
        vars: impl Into<VuVars<'_>>,
    ) -> Result<(), HookError> {
        let object = self.request_object(request)?;
        let outcome = self.after_response_on(vu, name, &object, response, vars).await;
        let _ = self.read_request(&object, request);
        outcome
    }

    /// Calls an `onError` hook on a `requestParams` of its own, read back after it.
    pub async fn on_error(
        &self,
        vu: &JsVu,
        name: &str,
        error: &str,
        request: &mut RequestParams,
        vars: impl Into<VuVars<'_>>,
    ) -> Result<(), HookError> {
        let object = self.request_object(request)?;
        let outcome = self.on_error_on(vu, name, error, &object, vars).await;
        let _ = self.read_request(&object, request);
        outcome
    }

    /// Calls a condition (`whileTrue`, `ifTrue`): `(context, next)`; the result is what it passes
    /// to `next`, returns, or resolves to, as a truthy value.
    pub async fn condition(
        &self,
        vu: &JsVu,
        name: &str,
        vars: impl Into<VuVars<'_>>,
    ) -> Result<bool, HookError> {
        self.invoke(vu, name, Shape::Condition, vars.into(), None, None, None, None)
            .await
            .map(|r| r.unwrap_or(false))
    }

    /// Calls the function an `ifTrue` names, as Artillery does: `name(context.vars)`, the request
    /// being sent when the returned value (or what a returned Promise resolves to) is truthy.
    pub async fn if_true(
        &self,
        vu: &JsVu,
        name: &str,
        vars: impl Into<VuVars<'_>>,
    ) -> Result<bool, HookError> {
        self.invoke(vu, name, Shape::IfTrue, vars.into(), None, None, None, None)
            .await
            .map(|r| r.unwrap_or(false))
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
