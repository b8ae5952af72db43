//! The plan's endpoints: one per request name (the key its metrics count under), with the
//! protocol it measures and the method its requests use, and the rule that derives that method
//! from the scenarios.

use super::{Plan, Protocol, Step};

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
}

impl Endpoint {
    /// The endpoint `name` measuring `protocol`, its method not derived yet (see
    /// [`derive_methods`]).
    pub(crate) fn new(name: String, protocol: Protocol) -> Endpoint {
        Endpoint { name, method: None, protocol }
    }
}

impl Plan {
    /// The endpoints' names, in [`EndpointId`](super::EndpointId) order.
    pub fn endpoint_names(&self) -> Vec<&str> {
        self.endpoints.iter().map(|e| e.name.as_str()).collect()
    }
}

/// Sets each endpoint's [`Endpoint::method`] from the steps of the plan's scenarios.
pub(crate) fn derive_methods(plan: &mut Plan) {
    let mut methods: Vec<Option<String>> = vec![None; plan.endpoints.len()];
    let mut conflicting = vec![false; plan.endpoints.len()];
    for scenario in &plan.scenarios {
        collect_methods(&scenario.flow, &mut methods, &mut conflicting);
    }
    for (endpoint, method) in plan.endpoints.iter_mut().zip(methods) {
        endpoint.method = method;
    }
}

/// Records the method of every request in `steps` by endpoint; an endpoint used with two methods
/// gets none.
fn collect_methods(steps: &[Step], methods: &mut [Option<String>], conflicting: &mut [bool]) {
    for step in steps {
        match step {
            Step::Request(r) => {
                let i = r.endpoint as usize;
                let (Some(slot), Some(bad)) = (methods.get_mut(i), conflicting.get_mut(i)) else { continue };
                let m = r.method.as_str();
                match slot {
                    Some(existing) if existing != m => {
                        *bad = true;
                        *slot = None;
                    }
                    None if !*bad => *slot = Some(m.to_owned()),
                    _ => {}
                }
            }
            Step::Loop { steps, .. } | Step::Parallel(steps) => collect_methods(steps, methods, conflicting),
            Step::Ws(ws) => {
                if let Some(slot) = ws.endpoint().and_then(|id| methods.get_mut(id as usize)) {
                    *slot = Some("WS".to_owned());
                }
            }
            Step::Think(_) | Step::Log(_) | Step::Function(_) => {}
        }
    }
}
