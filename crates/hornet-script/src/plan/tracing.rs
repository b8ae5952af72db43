//! `config.tracing` (or `--trace`): the trace context a run sends with its requests, and the
//! run's test id, which the `baggage` header, the exports and the report carry.

/// How trace context is propagated.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Propagation {
    /// W3C Trace Context: a `traceparent` header, and a `baggage` entry `hornet.testid=<id>`.
    #[default]
    W3c,
}

/// `config.tracing`.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Tracing {
    /// `propagate`: the header format (only `w3c`).
    pub propagate: Propagation,
    /// `sampleRate`: the fraction of traces whose `sampled` flag is set, from 0 to 1 (default 1).
    /// Decided from the trace id, as OpenTelemetry's `TraceIdRatioBased` sampler does.
    pub sample_rate: f64,
    /// `perIteration`: the requests of one VU iteration share one trace (each its own span);
    /// default false: every request starts a trace of its own.
    pub per_iteration: bool,
}

impl Default for Tracing {
    fn default() -> Tracing {
        Tracing { propagate: Propagation::W3c, sample_rate: 1.0, per_iteration: false }
    }
}

/// The longest test id.
pub const MAX_TEST_ID_LEN: usize = 128;

/// Checks a test id given with `--testid`: 1 to [`MAX_TEST_ID_LEN`] letters, digits, `-`, `_`, `.`
/// or `:` (safe as a label value, in a `baggage` entry and in a URL). The error says what is wrong.
pub fn check_test_id(id: &str) -> Result<(), String> {
    if id.is_empty() {
        return Err("the test id is empty".into());
    }
    if id.len() > MAX_TEST_ID_LEN {
        return Err(format!(
            "the test id is {} characters long; at most {MAX_TEST_ID_LEN} are allowed",
            id.len()
        ));
    }
    if let Some(c) = id.chars().find(|c| !(c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.' | ':'))) {
        return Err(format!(
            "the test id contains `{}`; use letters, digits, `-`, `_`, `.` and `:` only",
            c.escape_debug()
        ));
    }
    Ok(())
}

impl crate::Plan {
    /// The run's test id: `--testid` when given, else the `$testId` drawn from `seed` (16 hex
    /// digits). Every VU sees it as `$testId`; the `baggage` header, the exports and the report
    /// (`run.test_id`) carry it.
    pub fn test_id(&self, seed: u64) -> String {
        match &self.test_id {
            Some(id) => id.clone(),
            None => format!("{:016x}", crate::rng::draw(seed, 0x7E57)),
        }
    }
}
