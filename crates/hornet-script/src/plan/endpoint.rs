//! The plan's endpoints: one per request name (the key its metrics count under), with the
//! protocol it measures, the method its requests use and the scenario that uses it, and the rule
//! that derives those two from the scenarios.

use super::{EndpointId, Plan, Protocol, Step};

/// One endpoint of a plan: a request name, the key its metrics count under. A step refers to it by
/// its [`EndpointId`](super::EndpointId), its index in [`Plan::endpoints`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// The name: the request's `name`, or its method and URL (`GET /items`).
    pub name: String,
    /// The method of the scenarios' steps that use it: the HTTP method when every request of that
    /// name uses the same one, `WS` for a WebSocket step. `None` when two methods share the name,
    /// or when no scenario step uses it (a request of `before` or `after`, the connection a VU
    /// opens by itself).
    pub method: Option<String>,
    /// Whether its metrics count under `http.*` or `websocket.*`.
    pub protocol: Protocol,
    /// The scenario whose steps use it; `None` when several scenarios (or none) do.
    pub scenario: Option<String>,
}

impl Endpoint {
    /// The endpoint `name` measuring `protocol`, its method not derived yet (see
    /// [`derive_methods`]).
    pub(crate) fn new(name: String, protocol: Protocol) -> Endpoint {
        Endpoint { name, method: None, protocol, scenario: None }
    }
}

impl Plan {
    /// The endpoints' names, in [`EndpointId`](super::EndpointId) order.
    pub fn endpoint_names(&self) -> Vec<&str> {
        self.endpoints.iter().map(|e| e.name.as_str()).collect()
    }
}

/// Sets each endpoint's [`Endpoint::method`] and [`Endpoint::scenario`] from the steps of the
/// plan's scenarios.
pub(crate) fn derive_methods(plan: &mut Plan) {
    let n = plan.endpoints.len();
    let mut methods: Vec<Option<String>> = vec![None; n];
    let mut conflicting = vec![false; n];
    // Each endpoint's scenario: `Some(None)` once a second scenario uses it.
    let mut scenarios: Vec<Option<Option<usize>>> = vec![None; n];
    for (index, scenario) in plan.scenarios.iter().enumerate() {
        visit_endpoints(&scenario.flow, &mut |id, method| {
            let i = id as usize;
            let (Some(slot), Some(bad), Some(used_by)) =
                (methods.get_mut(i), conflicting.get_mut(i), scenarios.get_mut(i))
            else {
                return;
            };
            match used_by {
                Some(Some(other)) if *other != index => *used_by = Some(None),
                None => *used_by = Some(Some(index)),
                _ => {}
            }
            match slot {
                Some(existing) if existing != method => {
                    *bad = true;
                    *slot = None;
                }
                None if !*bad => *slot = Some(method.to_owned()),
                _ => {}
            }
        });
    }
    let names: Vec<String> = plan.scenarios.iter().map(|s| s.name.clone()).collect();
    for ((endpoint, method), used_by) in plan.endpoints.iter_mut().zip(methods).zip(scenarios) {
        endpoint.method = method;
        endpoint.scenario = used_by.flatten().and_then(|i| names.get(i).cloned());
    }
}

/// Calls `f` with the endpoint and method of every request and WebSocket step (method `WS`) in
/// `steps`, loops and `parallel` included.
fn visit_endpoints(steps: &[Step], f: &mut impl FnMut(EndpointId, &str)) {
    for step in steps {
        match step {
            Step::Request(r) => f(r.endpoint, r.method.as_str()),
            Step::Loop { steps, .. } | Step::Parallel(steps) => visit_endpoints(steps, f),
            Step::Ws(ws) => {
                if let Some(id) = ws.endpoint() {
                    f(id, "WS");
                }
            }
            Step::Think(_) | Step::Log(_) | Step::Function(_) => {}
        }
    }
}
