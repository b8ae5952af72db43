//! The trace ids of chosen requests: per endpoint, the [`SLOWEST_KEPT`] slowest requests and the
//! first [`FAILED_KEPT`] failed ones, each with its latency, status, error and time in the run, so
//! that the report can point at the exact server-side trace of a slow or failed request.
//!
//! Only traced requests (a run with `config.tracing`) are offered. A worker thread keeps them in a
//! small fixed array per endpoint in its [`Interval`](crate::Interval) (allocated on the endpoint's
//! first traced request of the interval, never per request); the once-a-second merge keeps the
//! slowest and the earliest failures of every thread, so the run-wide aggregate ends up with the
//! run's slowest requests and first failures per endpoint.

use std::fmt::Write as _;

use serde::{Deserialize, Serialize};

use crate::kinds::ErrorKind;

/// The slowest requests kept per endpoint.
pub const SLOWEST_KEPT: usize = 5;
/// The failed requests kept per endpoint (the first ones of the run).
pub const FAILED_KEPT: usize = 5;

/// A W3C trace id: 16 bytes, shown as 32 lowercase hex digits.
pub type TraceId = [u8; 16];
/// A W3C span (parent) id: 8 bytes, shown as 16 lowercase hex digits.
pub type SpanId = [u8; 8];

/// One traced request, as the virtual user that sent it records it.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct TracedRequest {
    /// The trace id sent in its `traceparent`.
    pub trace_id: TraceId,
    /// The span id sent in its `traceparent` (the server's parent span).
    pub span_id: SpanId,
    /// Whether its `sampled` flag was set.
    pub sampled: bool,
    /// Its response time (issued → last byte, or → the error), µs.
    pub latency_us: u64,
    /// The status of its response; 0 when it failed without one.
    pub status: u16,
    /// Why it failed without a response, if it did.
    pub error: Option<ErrorKind>,
    /// When it was issued, µs since the start of the run.
    pub at_us: u64,
    /// True when it counts as a failed request: an error, or a status `expectedStatus` does not allow.
    pub failed: bool,
}

/// The kept requests of one endpoint: fixed arrays, so offering one never allocates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct TraceSlots {
    slowest: [TracedRequest; SLOWEST_KEPT],
    slowest_len: usize,
    /// Once `slowest` is full, the latency of its fastest request: only a slower one gets in.
    floor_us: u64,
    failed: [TracedRequest; FAILED_KEPT],
    failed_len: usize,
}

impl TraceSlots {
    /// True when [`TraceSlots::offer`] would keep a request of `latency_us`, `failed` or not.
    #[inline]
    pub(crate) fn keeps(&self, latency_us: u64, failed: bool) -> bool {
        self.slowest_len < SLOWEST_KEPT
            || latency_us > self.floor_us
            || (failed && self.failed_len < FAILED_KEPT)
    }

    /// Keeps `r` if it is among the slowest so far, or among the first [`FAILED_KEPT`] failures
    /// (a request with the same latency as the fastest kept one does not replace it).
    #[inline]
    pub(crate) fn offer(&mut self, r: &TracedRequest) {
        if r.failed && self.failed_len < FAILED_KEPT {
            self.failed[self.failed_len] = *r;
            self.failed_len += 1;
        }
        if self.slowest_len < SLOWEST_KEPT {
            self.slowest[self.slowest_len] = *r;
            self.slowest_len += 1;
            if self.slowest_len == SLOWEST_KEPT {
                self.refresh_floor();
            }
            return;
        }
        if r.latency_us > self.floor_us {
            // The fastest kept one makes room.
            if let Some(at) = self.slowest.iter().position(|kept| kept.latency_us == self.floor_us) {
                self.slowest[at] = *r;
            }
            self.refresh_floor();
        }
    }

    /// Sets the floor from the slowest kept (when there are [`SLOWEST_KEPT`] of them).
    fn refresh_floor(&mut self) {
        self.floor_us = if self.slowest_len == SLOWEST_KEPT {
            self.slowest.iter().map(|kept| kept.latency_us).min().unwrap_or(0)
        } else {
            0
        };
    }

    /// Adds `other`'s kept requests: the slowest of both, and the earliest failures of both.
    pub(crate) fn merge(&mut self, other: &TraceSlots) {
        for r in other.slowest() {
            // Failures go through the earliest-first merge below.
            self.offer(&TracedRequest { failed: false, ..*r });
        }
        let mut failed: Vec<TracedRequest> = self.failed().iter().chain(other.failed()).copied().collect();
        failed.sort_by_key(|r| r.at_us);
        failed.dedup_by_key(|r| (r.trace_id, r.span_id));
        failed.truncate(FAILED_KEPT);
        self.failed_len = failed.len();
        self.failed[..failed.len()].copy_from_slice(&failed);
        // The slowest keep their own flag: a slow request that failed is both.
        for kept in &mut self.slowest[..self.slowest_len] {
            kept.failed |= other.slowest().iter().chain(other.failed()).any(|o| same(o, kept) && o.failed);
        }
    }

    /// Slots holding `slowest` and `failed` (at most [`SLOWEST_KEPT`] and [`FAILED_KEPT`]; the
    /// rest are dropped): what [`TraceSlots::slowest`] and [`TraceSlots::failed`] gave.
    pub(crate) fn from_parts(slowest: &[TracedRequest], failed: &[TracedRequest]) -> TraceSlots {
        let mut slots = TraceSlots::default();
        let s = slowest.len().min(SLOWEST_KEPT);
        slots.slowest[..s].copy_from_slice(&slowest[..s]);
        slots.slowest_len = s;
        slots.refresh_floor();
        let f = failed.len().min(FAILED_KEPT);
        slots.failed[..f].copy_from_slice(&failed[..f]);
        slots.failed_len = f;
        slots
    }

    /// The slowest requests kept, in no order.
    pub(crate) fn slowest(&self) -> &[TracedRequest] {
        &self.slowest[..self.slowest_len]
    }

    /// The failed requests kept, earliest first.
    pub(crate) fn failed(&self) -> &[TracedRequest] {
        &self.failed[..self.failed_len]
    }

    /// Every kept request once, slowest first, with whether it is among the slowest.
    pub(crate) fn kept(&self) -> Vec<(TracedRequest, bool)> {
        let mut out: Vec<(TracedRequest, bool)> = self.slowest().iter().map(|r| (*r, true)).collect();
        for r in self.failed() {
            match out.iter_mut().find(|(k, _)| same(k, r)) {
                Some((k, _)) => k.failed = true,
                None => out.push((*r, false)),
            }
        }
        out.sort_by(|(a, _), (b, _)| b.latency_us.cmp(&a.latency_us).then(a.at_us.cmp(&b.at_us)));
        out
    }
}

/// True when `a` and `b` are the same request (the same trace and span ids).
fn same(a: &TracedRequest, b: &TracedRequest) -> bool {
    a.trace_id == b.trace_id && a.span_id == b.span_id
}

/// Lowercase hex of `bytes`.
pub fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The bytes of `N * 2` hex digits; `None` for anything else.
pub fn from_hex<const N: usize>(text: &str) -> Option<[u8; N]> {
    let digits = text.as_bytes();
    if digits.len() != N * 2 || !digits.iter().all(u8::is_ascii_hexdigit) {
        return None;
    }
    let mut out = [0u8; N];
    for (byte, pair) in out.iter_mut().zip(digits.chunks_exact(2)) {
        let pair = std::str::from_utf8(pair).ok()?;
        *byte = u8::from_str_radix(pair, 16).ok()?;
    }
    Some(out)
}

/// One kept request in the report (`traced_requests`) and on the wire.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TracedRequestReport {
    /// The endpoint's name.
    pub endpoint: String,
    /// The trace id it was sent with, 32 hex digits.
    pub trace_id: String,
    /// The span id it was sent with (the server's parent span), 16 hex digits.
    pub span_id: String,
    /// Whether its `sampled` flag was set.
    pub sampled: bool,
    /// Its response time, ms.
    pub latency_ms: f64,
    /// The status of its response; absent when it failed without one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub status: Option<u16>,
    /// Why it failed without a response.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorKind>,
    /// When it was issued, seconds since the start of the run.
    pub t_s: f64,
    /// Among the slowest requests of its endpoint.
    pub slowest: bool,
    /// A failed request (an error, or a status `expectedStatus` does not allow).
    pub failed: bool,
}

impl TracedRequestReport {
    /// The report form of `r`, a request of `endpoint`.
    pub(crate) fn new(endpoint: String, r: &TracedRequest, slowest: bool) -> TracedRequestReport {
        TracedRequestReport {
            endpoint,
            trace_id: hex(&r.trace_id),
            span_id: hex(&r.span_id),
            sampled: r.sampled,
            latency_ms: r.latency_us as f64 / 1000.0,
            status: (r.status != 0).then_some(r.status),
            error: r.error,
            t_s: r.at_us as f64 / 1e6,
            slowest,
            failed: r.failed,
        }
    }
}

/// The placeholder of a trace link template that the trace id replaces.
pub const TRACE_ID_PLACEHOLDER: &str = "{trace_id}";

/// Checks a `--trace-link` template: it must hold `{trace_id}`.
pub fn check_trace_link(template: &str) -> Result<(), String> {
    if template.contains(TRACE_ID_PLACEHOLDER) {
        Ok(())
    } else {
        Err(format!(
            "the link template has no {TRACE_ID_PLACEHOLDER}, which the trace id replaces (e.g. 'https://grafana.example/explore?left=...{TRACE_ID_PLACEHOLDER}...')"
        ))
    }
}

/// The link to a trace: `template` with `{trace_id}` and `{span_id}` replaced.
pub fn trace_url(template: &str, trace_id: &str, span_id: &str) -> String {
    template.replace(TRACE_ID_PLACEHOLDER, trace_id).replace("{span_id}", span_id)
}

impl TracedRequestReport {
    /// Its link by `template` (`--trace-link`), if there is one.
    pub fn link(&self, template: Option<&str>) -> Option<String> {
        template.map(|t| trace_url(t, &self.trace_id, &self.span_id))
    }
}

/// One kept request on the wire (ids in hex, times in µs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireTraced {
    pub trace_id: String,
    pub span_id: String,
    pub sampled: bool,
    pub latency_us: u64,
    pub status: u16,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub error: Option<ErrorKind>,
    pub at_us: u64,
    pub failed: bool,
}

impl WireTraced {
    pub(crate) fn from_request(r: &TracedRequest) -> WireTraced {
        WireTraced {
            trace_id: hex(&r.trace_id),
            span_id: hex(&r.span_id),
            sampled: r.sampled,
            latency_us: r.latency_us,
            status: r.status,
            error: r.error,
            at_us: r.at_us,
            failed: r.failed,
        }
    }

    /// The request; `None` when an id is not hex of the right length.
    pub(crate) fn to_request(&self) -> Option<TracedRequest> {
        Some(TracedRequest {
            trace_id: from_hex(&self.trace_id)?,
            span_id: from_hex(&self.span_id)?,
            sampled: self.sampled,
            latency_us: self.latency_us,
            status: self.status,
            error: self.error,
            at_us: self.at_us,
            failed: self.failed,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn req(n: u8, latency_us: u64, at_us: u64, failed: bool) -> TracedRequest {
        TracedRequest {
            trace_id: [n; 16],
            span_id: [n; 8],
            latency_us,
            at_us,
            failed,
            ..TracedRequest::default()
        }
    }

    #[test]
    fn keeps_the_slowest_and_the_first_failures() {
        let mut slots = TraceSlots::default();
        for n in 0..20u8 {
            // Latencies 0, 7, 14, ... wrapping at 100; every third request failed.
            slots.offer(&req(n, u64::from(n) * 7 % 100, u64::from(n), n % 3 == 0));
        }
        let mut slow: Vec<u64> = slots.slowest().iter().map(|r| r.latency_us).collect();
        slow.sort_unstable();
        let mut all: Vec<u64> = (0..20u64).map(|n| n * 7 % 100).collect();
        all.sort_unstable();
        assert_eq!(slow, all[all.len() - SLOWEST_KEPT..]);
        let failed: Vec<u64> = slots.failed().iter().map(|r| r.at_us).collect();
        assert_eq!(failed, [0, 3, 6, 9, 12]);
    }

    #[test]
    fn keeps_says_exactly_whether_offer_keeps_a_request() {
        let mut slots = TraceSlots::default();
        let mut kept = 0;
        for n in 0..200u8 {
            // Latencies jump around, with ties; every seventh request failed.
            let r = req(n, u64::from(n) * 53 % 41, u64::from(n), n % 7 == 0);
            let before = slots;
            let keeps = slots.keeps(r.latency_us, r.failed);
            slots.offer(&r);
            assert_eq!(keeps, slots != before, "request {n} ({} µs)", r.latency_us);
            kept += usize::from(keeps);
        }
        assert!(kept > SLOWEST_KEPT + FAILED_KEPT, "the floor moved: {kept}");
        // The floor is the fastest of the slowest kept: a tie does not get in, one more µs does.
        let floor = slots.slowest().iter().map(|r| r.latency_us).min().expect("full");
        assert!(!slots.keeps(floor, false));
        assert!(slots.keeps(floor + 1, false));
    }

    #[test]
    fn merging_equals_offering_everything_to_one() {
        let requests: Vec<TracedRequest> =
            (0..60u8).map(|n| req(n, u64::from(n) * 37 % 101, u64::from(n) * 10, n % 4 == 1)).collect();
        let mut one = TraceSlots::default();
        for r in &requests {
            one.offer(r);
        }
        // Three threads, each taking every third request.
        let mut parts = [TraceSlots::default(); 3];
        for (i, r) in requests.iter().enumerate() {
            parts[i % 3].offer(r);
        }
        let mut merged = parts[2];
        merged.merge(&parts[0]);
        merged.merge(&parts[1]);
        let key = |s: &TraceSlots| {
            let mut v: Vec<(u64, [u8; 16])> =
                s.slowest().iter().map(|r| (r.latency_us, r.trace_id)).collect();
            v.sort_unstable();
            v
        };
        assert_eq!(key(&merged), key(&one));
        assert_eq!(merged.failed(), one.failed());
        // A slow request that failed is listed once, as both.
        let kept = merged.kept();
        let both = kept.iter().filter(|(r, slow)| *slow && r.failed).count();
        let slow_failed = one.slowest().iter().filter(|r| r.failed).count();
        assert_eq!(both, slow_failed);
        assert!(both > 0, "the workload has a slow failure");
        let overlap = one.slowest().iter().filter(|r| one.failed().iter().any(|f| same(f, r))).count();
        assert_eq!(kept.len(), SLOWEST_KEPT + FAILED_KEPT - overlap);
        assert!(kept.windows(2).all(|w| w[0].0.latency_us >= w[1].0.latency_us), "slowest first");
    }

    #[test]
    fn trace_links_replace_the_ids() {
        let r = TracedRequestReport::new("GET /".into(), &req(0xab, 5, 0, false), true);
        let link = r.link(Some("https://g.example/explore?q={trace_id}&s={span_id}&again={trace_id}"));
        let (trace, span) = ("ab".repeat(16), "ab".repeat(8));
        assert_eq!(link, Some(format!("https://g.example/explore?q={trace}&s={span}&again={trace}")));
        assert_eq!(r.link(None), None);
        assert!(check_trace_link("https://x/{trace_id}").is_ok());
        assert!(check_trace_link("https://x/{traceid}").unwrap_err().contains("{trace_id}"));
    }

    #[test]
    fn hex_round_trips_and_refuses_bad_input() {
        let id = [0x0a, 0xff, 0x00, 0x10, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12];
        assert_eq!(hex(&id), "0aff00100102030405060708090a0b0c");
        assert_eq!(from_hex::<16>(&hex(&id)), Some(id));
        assert_eq!(from_hex::<8>("0aff0010"), None, "too short");
        assert_eq!(from_hex::<4>("0aff001g"), None, "not hex");
        assert_eq!(from_hex::<2>("+a0b"), None, "a sign is not a digit");
    }
}
