//! The `before` and `after` flows: each runs once, outside the load, on a private runtime. What
//! `before` captures becomes visible to every VU. A stop of the run (Ctrl-C, SIGTERM) ends a
//! `before` flow at once, even one waiting on a server that never answers. With tracing on, their
//! requests carry trace context like the load's (they are not reported, so neither are their
//! slowest requests).

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use hornet_engine::http::{ClientConfig, HttpClient};
use hornet_engine::ws::WsClient;
use hornet_metrics::{EndpointNames, NameCache, Recorder};
use tokio::task::LocalSet;

use std::collections::HashMap;

use crate::control::Control;
use crate::program::Op;
use crate::run::{RunError, draw};
use crate::trace_context::{RunTracing, VuTracer};
use crate::vu::{Scope, Vu, VuFailure, VuSettings};

/// The VU index of the `before` flow's tracer and randomness.
pub(crate) const BEFORE_VU: u64 = u64::MAX;
/// The VU index of the `after` flow's tracer and randomness.
pub(crate) const AFTER_VU: u64 = u64::MAX - 1;

/// The tracer of a `before` or `after` flow (VU `index`) of a plan with tracing, outside a run's
/// own tracing (its times count from now).
pub(crate) fn flow_tracer(plan: &hornet_script::Plan, seed: u64, index: u64) -> Option<VuTracer> {
    let tracing = plan.tracing.as_ref()?;
    let run = RunTracing::new(
        tracing,
        &plan.test_id(seed),
        seed,
        tokio::time::Instant::now(),
        plan.http.expected_status.clone(),
    );
    Some(VuTracer::new(Arc::new(run), index))
}

/// Runs the plan's `before` flow once from `globals` (a stop of the run ends it at once) and returns
/// the variables every VU starts from.
pub(crate) fn run_before(
    before: &[Op],
    plan: &hornet_script::Plan,
    client: &ClientConfig,
    settings: VuSettings,
    globals: HashMap<String, serde_json::Value>,
    seed: u64,
    control: &Control,
) -> Result<HashMap<String, serde_json::Value>, RunError> {
    let scope = Scope::new(globals, draw(seed, BEFORE_VU));
    let settings = Rc::new(VuSettings { replace_total: false, ..settings });
    run_once(before, plan, client, settings, scope, Some(control), (seed, BEFORE_VU))
        .map(Scope::into_vars)
        .map_err(|f| RunError::before(f, control))
}

/// Prints how the `after` flow ended when it did not complete: stopped (Ctrl-C, SIGTERM) or
/// failed.
pub(crate) fn report_after(outcome: Result<Scope, VuFailure>) {
    use std::io::Write as _;
    match outcome {
        Ok(_) => {}
        Err(f) if f.stopped => {
            let _ = writeln!(std::io::stderr(), "hornet: the `after` flow was stopped before it ended");
        }
        Err(f) => {
            let _ = writeln!(std::io::stderr(), "hornet: the `after` flow failed: {}", f.message);
        }
    }
}

/// Runs `ops` of `plan` once as the VU `index` of a run seeded with `seed` (`before` or `after`),
/// with `scope`, traced when the plan is, its processor loaded with that VU's `Math.random` seed
/// ([`crate::js::load_seed`]); returns the scope with whatever the flow captured. When `stop` is given and the run is stopped
/// meanwhile, the flow is dropped where it is and the failure is marked `stopped`.
pub(crate) fn run_once(
    ops: &[Op],
    plan: &hornet_script::Plan,
    client: &ClientConfig,
    settings: Rc<VuSettings>,
    scope: Scope,
    stop: Option<&Control>,
    (seed, index): (u64, u64),
) -> Result<Scope, VuFailure> {
    let tracer = flow_tracer(plan, seed, index);
    let (endpoints, processor) = (plan.endpoints.len(), plan.processor.as_ref());
    let fail = |message: String| VuFailure { message, stopped: false };
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .map_err(|e| fail(format!("could not start a runtime: {e}")))?;
    let client_config = client;
    let client = Rc::new(HttpClient::new(client).map_err(|e| fail(e.to_string()))?);
    // These requests are not part of the load: their metrics are not reported.
    let recorder = Rc::new(RefCell::new(Recorder::new(endpoints, 0)));
    let ws = Rc::new(WsClient::new(client_config.insecure).map_err(|e| fail(e.to_string()))?);
    let mut vu = Vu::new(client, ws, recorder, settings, scope, 0);
    if let Some(tracer) = tracer {
        vu.set_tracer(tracer);
    }
    if let Some(processor) =
        crate::js::load_spec(processor, crate::js::load_seed(seed, index)).map_err(fail)?
    {
        // Their `context.http` requests are not reported either: their names stay in a table of
        // their own.
        let names = Rc::new(NameCache::new(Arc::new(EndpointNames::new(endpoints))));
        vu.set_processor(processor, names);
    }
    let mut stopped = stop.map(Control::subscribe);
    LocalSet::new().block_on(&runtime, async {
        let flow = async {
            vu.run_flow(ops).await?;
            Ok(vu.into_scope())
        };
        match stopped.as_mut() {
            Some(stopped) => tokio::select! {
                result = flow => result,
                _ = stopped.wait_for(|s| *s) => Err(VuFailure { message: "the run was stopped".into(), stopped: true }),
            },
            None => flow.await,
        }
    })
}
