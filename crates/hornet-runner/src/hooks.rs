//! The `before` and `after` flows: each runs once, outside the load, on a private runtime. What
//! `before` captures becomes visible to every VU. A stop of the run (Ctrl-C, SIGTERM) ends a
//! `before` flow at once, even one waiting on a server that never answers.

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
use crate::vu::{Scope, Vu, VuFailure, VuSettings};

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
    let scope = Scope::new(globals, draw(seed, u64::MAX));
    let settings = Rc::new(VuSettings { replace_total: false, ..settings });
    run_once(before, client, plan.endpoints.len(), settings, scope, plan.processor.as_ref(), Some(control))
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

/// Runs `ops` once as one VU with `scope`; returns the scope with whatever the flow captured. When
/// `stop` is given and the run is stopped meanwhile, the flow is dropped where it is and the
/// failure is marked `stopped`.
pub(crate) fn run_once(
    ops: &[Op],
    client: &ClientConfig,
    endpoints: usize,
    settings: Rc<VuSettings>,
    scope: Scope,
    processor: Option<&hornet_script::plan::ProcessorSpec>,
    stop: Option<&Control>,
) -> Result<Scope, VuFailure> {
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
    if let Some(processor) = crate::js::load_spec(processor).map_err(fail)? {
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
