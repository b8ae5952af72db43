//! `hornet capacity`: finds the most load a system takes within its objective, checks that it
//! holds, and says where it stops and why.
//!
//! One run is started with the script's scenarios and weights and its phases replaced by one
//! phase the search steers ([`driver`]): an arrival rate (open model), or users for a script whose
//! phases are all closed-model ones. Each step warms up, measures a window, and is judged by the
//! breach rules ([`step`]): the objective ([`slo`], the `ensure` grammar evaluated by
//! `hornet_verdict`), the achieved throughput against the offered load, latency rising through
//! the step, and, first of all, whether the generator itself saturated (the result is then
//! invalid). The search ([`search`]) grows ×1.5, bisects to the precision, and holds the found
//! load to verify it. The result ([`result`]) adds the knee, the recommended operating point, a
//! Universal Scalability Law fit ([`usl`]) and a `phases:` block, and is written as JSON and as a
//! page with charts ([`html`]). `docs/capacity.md` describes it for users.

pub mod driver;
pub mod html;
pub mod result;
pub mod search;
pub mod slo;
pub mod step;
pub mod usl;

pub use driver::{SearchOptions, search as run_search};
pub use result::Capacity;

/// Exit code of a search that ended because the load generator, not the system, was the
/// bottleneck (docs/cli.md lists every exit code).
pub const EXIT_GENERATOR_BOTTLENECK: i32 = 3;
