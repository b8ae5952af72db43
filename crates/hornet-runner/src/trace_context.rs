//! W3C trace context on the requests of a run with `config.tracing` (or `--trace`): a
//! `traceparent` with fresh ids on every request (or one trace per VU iteration, each request its
//! own span), its `sampled` flag set for `sampleRate` of the traces, a `baggage` entry carrying the
//! test id, and the record of what was sent, which the recorder keeps for the slowest and failed
//! requests. Every request hornet sends carries it: the flows' requests, a processor's
//! `context.http` requests, WebSocket handshakes, and the `before` and `after` flows. With a span
//! exporter, each sampled request's client span is handed to its [`SpanSink`] as the request
//! completes.
//!
//! A run without tracing has no [`VuTracer`] at all: its VUs check one `Option` per request and do
//! nothing else. With tracing, ids come from a SplitMix64 generator per VU (seeded from the run's
//! seed, the test id and the VU's index, so a seed and test id give the same ids) and go into the
//! request as a [`TraceContext`], which the engine hex-encodes straight into the request it writes:
//! no header map and no allocation per request. A request the recorder will not keep (not among
//! the slowest so far, not an early failure) costs one comparison when it completes.

use std::ops::RangeInclusive;
use std::sync::Arc;

use hornet_engine::http::{BAGGAGE, Request, TRACEPARENT, TraceContext};
use hornet_metrics::{
    EndpointId, ErrorKind, FinishedSpan, Recorder, SpanId, SpanSink, TraceId, TracedRequest,
};
use hornet_script::plan::Tracing;
use hornet_script::rng;
use http::{HeaderMap, HeaderValue};
use tokio::time::{Duration, Instant};

/// The baggage key that carries the test id.
pub const TEST_ID_KEY: &str = "hornet.testid";

/// What every VU of a traced run shares.
#[derive(Debug)]
pub(crate) struct RunTracing {
    /// A trace is sampled when the low 64 bits of its id are below this (OpenTelemetry's
    /// `TraceIdRatioBased`); `None`: every trace is sampled.
    sample_below: Option<u64>,
    per_iteration: bool,
    /// `hornet.testid=<id>`.
    baggage: HeaderValue,
    /// Seeds the VUs' generators: the run's seed mixed with the test id.
    seed: u64,
    /// The start of the run, for each request's time in the run.
    start: Instant,
    /// The statuses that count as a success (`expectedStatus`).
    expected: Vec<RangeInclusive<u16>>,
    /// Where the client spans of sampled requests go (OTLP span export); `None`: nowhere.
    spans: Option<Arc<dyn SpanSink>>,
    /// `start` on the wall clock, ns since the Unix epoch: the spans' times.
    start_unix_ns: u64,
}

impl RunTracing {
    /// The tracing of a run started at `start` with `seed` and `test_id`.
    pub(crate) fn new(
        tracing: &Tracing,
        test_id: &str,
        seed: u64,
        start: Instant,
        expected: Vec<RangeInclusive<u16>>,
    ) -> RunTracing {
        let rate = tracing.sample_rate.clamp(0.0, 1.0);
        let sample_below = (rate < 1.0).then(|| (rate * 2f64.powi(64)) as u64);
        // A test id is checked to be letters, digits and `-_.:`, which baggage values carry as is.
        let baggage = HeaderValue::from_str(&format!("{TEST_ID_KEY}={test_id}"))
            .unwrap_or_else(|_| HeaderValue::from_static("hornet.testid=invalid"));
        let id_hash = test_id
            .bytes()
            .fold(0xcbf2_9ce4_8422_2325_u64, |h, b| (h ^ u64::from(b)).wrapping_mul(0x100_0000_01b3));
        RunTracing {
            sample_below,
            per_iteration: tracing.per_iteration,
            baggage,
            seed: rng::mix(seed ^ id_hash ^ 0x7261_6365),
            start,
            expected,
            spans: None,
            start_unix_ns: unix_ns_at(start),
        }
    }

    /// Hands the client span of every sampled request to `spans` as it completes.
    pub(crate) fn exporting_spans(mut self, spans: Option<Arc<dyn SpanSink>>) -> RunTracing {
        self.spans = spans;
        self
    }

    fn sampled(&self, trace_id: &TraceId) -> bool {
        let low = u64::from_be_bytes(trace_id[8..].try_into().unwrap_or_default());
        self.sample_below.is_none_or(|below| low < below)
    }
}

/// A VU's tracer: its generator and, with `perIteration`, the trace of its current iteration.
#[derive(Debug)]
pub(crate) struct VuTracer {
    run: Arc<RunTracing>,
    /// The VU's scenario, for its spans.
    scenario: u32,
    state: u64,
    iteration: Option<(TraceId, bool)>,
}

/// The trace context one request was sent with.
#[derive(Debug, Clone, Copy)]
pub(crate) struct SentTrace {
    trace_id: TraceId,
    span_id: SpanId,
    sampled: bool,
}

impl VuTracer {
    /// The tracer of VU `index`.
    pub(crate) fn new(run: Arc<RunTracing>, index: u64) -> VuTracer {
        let state = rng::draw(run.seed, index);
        VuTracer { run, scenario: 0, state, iteration: None }
    }

    /// The tracer of a VU running scenario `scenario` (its index in the plan).
    pub(crate) fn in_scenario(mut self, scenario: usize) -> VuTracer {
        self.scenario = u32::try_from(scenario).unwrap_or(u32::MAX);
        self
    }

    /// A new VU iteration begins: with `perIteration`, its requests share a new trace.
    pub(crate) fn new_iteration(&mut self) {
        if self.run.per_iteration {
            let trace_id = self.trace_id();
            self.iteration = Some((trace_id, self.run.sampled(&trace_id)));
        }
    }

    fn trace_id(&mut self) -> TraceId {
        let mut id = [0u8; 16];
        id[..8].copy_from_slice(&rng::next(&mut self.state).to_be_bytes());
        id[8..].copy_from_slice(&rng::next(&mut self.state).to_be_bytes());
        if id == [0; 16] {
            id[15] = 1; // all zeros is invalid
        }
        id
    }

    fn span_id(&mut self) -> SpanId {
        match rng::next(&mut self.state) {
            0 => 1u64.to_be_bytes(), // all zeros is invalid
            n => n.to_be_bytes(),
        }
    }

    /// The ids of the next request: its iteration's trace (`perIteration`) or a new one, and a
    /// new span.
    fn next(&mut self) -> SentTrace {
        let (trace_id, sampled) = match self.iteration {
            Some(current) => current,
            None => {
                let id = self.trace_id();
                (id, self.run.sampled(&id))
            }
        };
        SentTrace { trace_id, span_id: self.span_id(), sampled }
    }

    /// Gives `request` trace context (the engine writes it) and says what was sent. A request that
    /// already has a `traceparent` (the script set one) keeps it and is not traced; one with a
    /// `baggage` of its own gets the entry appended to it (through its header map). Its headers
    /// are only looked at when it `may_set_its_own`.
    #[inline]
    pub(crate) fn inject(&mut self, request: &mut Request, may_set_its_own: bool) -> Option<SentTrace> {
        if may_set_its_own
            && (request.headers.contains_key(TRACEPARENT) || request.headers.contains_key(BAGGAGE))
        {
            return self.inject_headers(&mut request.headers);
        }
        let sent = self.next();
        request.trace = Some(TraceContext {
            trace_id: sent.trace_id,
            span_id: sent.span_id,
            sampled: sent.sampled,
            baggage: self.run.baggage.clone(),
        });
        Some(sent)
    }

    /// Adds `traceparent` and the test id's `baggage` entry to `headers` and says what was sent:
    /// for requests whose headers are seen before they go out (a WebSocket handshake, a request
    /// with `beforeRequest` hooks) or that have a `baggage` of their own. A request that already
    /// has a `traceparent` keeps it and is not traced; a `baggage` it has gets the entry appended.
    pub(crate) fn inject_headers(&mut self, headers: &mut HeaderMap) -> Option<SentTrace> {
        if headers.contains_key(TRACEPARENT) {
            return None;
        }
        let sent = self.next();
        let value = hornet_engine::http::traceparent(&sent.trace_id, &sent.span_id, sent.sampled);
        headers.insert(TRACEPARENT, HeaderValue::from_bytes(&value).ok()?);
        match headers.get_mut(BAGGAGE) {
            None => {
                headers.insert(BAGGAGE, self.run.baggage.clone());
            }
            Some(existing) => {
                let mut joined = existing.as_bytes().to_vec();
                joined.extend_from_slice(b",");
                joined.extend_from_slice(self.run.baggage.as_bytes());
                if let Ok(v) = HeaderValue::from_bytes(&joined) {
                    *existing = v;
                }
            }
        }
        Some(sent)
    }

    /// Offers a completed request to the recorder's slowest and failed requests: `status` of its
    /// response, or `error` when it had none, after `latency` (as reported), `took` after it was
    /// issued (the engine's own measure, which dates it in the run). Nothing is made unless the
    /// recorder keeps it.
    pub(crate) fn record(
        &self,
        recorder: &mut Recorder,
        ep: EndpointId,
        sent: &SentTrace,
        outcome: Result<u16, ErrorKind>,
        latency: Duration,
        took: Duration,
    ) {
        let (status, error) = match outcome {
            Ok(status) => (status, None),
            Err(kind) => (0, Some(kind)),
        };
        let failed = error.is_some() || !self.run.expected.iter().any(|r| r.contains(&status));
        self.keep(recorder, ep, sent, status, error, failed, latency, took);
    }

    /// Offers a WebSocket handshake that ended after `took` (`Ok`: the server switched protocols,
    /// `101`; `Err`: why it failed) to the recorder's slowest and failed requests.
    pub(crate) fn record_handshake(
        &self,
        recorder: &mut Recorder,
        ep: EndpointId,
        sent: &SentTrace,
        outcome: Result<(), ErrorKind>,
        took: Duration,
    ) {
        let (status, error) = match outcome {
            Ok(()) => (101, None),
            Err(kind) => (0, Some(kind)),
        };
        self.keep(recorder, ep, sent, status, error, error.is_some(), took, took);
    }

    #[allow(clippy::too_many_arguments)]
    fn keep(
        &self,
        recorder: &mut Recorder,
        ep: EndpointId,
        sent: &SentTrace,
        status: u16,
        error: Option<ErrorKind>,
        failed: bool,
        latency: Duration,
        took: Duration,
    ) {
        let latency_us = u64::try_from(latency.as_micros()).unwrap_or(u64::MAX);
        let mut kept_at_us = None;
        recorder.traced_if_kept(ep, latency_us, failed, || TracedRequest {
            trace_id: sent.trace_id,
            span_id: sent.span_id,
            sampled: sent.sampled,
            latency_us,
            status,
            error,
            at_us: *kept_at_us.insert(self.at_us(took)),
            failed,
        });
        if sent.sampled
            && let Some(spans) = &self.run.spans
        {
            let at_us = kept_at_us.unwrap_or_else(|| self.at_us(took));
            spans.offer(FinishedSpan {
                trace_id: sent.trace_id,
                span_id: sent.span_id,
                endpoint: ep,
                scenario: self.scenario,
                start_unix_ns: self.run.start_unix_ns.saturating_add(at_us.saturating_mul(1000)),
                duration_ns: u64::try_from(latency.as_nanos()).unwrap_or(u64::MAX),
                status,
                error,
                failed,
            });
        }
    }

    /// When a request that completed now after `took` was issued, µs since the start of the run.
    fn at_us(&self, took: Duration) -> u64 {
        let issued = Instant::now().checked_sub(took).unwrap_or(self.run.start);
        u64::try_from(issued.saturating_duration_since(self.run.start).as_micros()).unwrap_or(u64::MAX)
    }
}

/// `at` (on this machine's monotonic clock) on the wall clock, ns since the Unix epoch.
fn unix_ns_at(at: Instant) -> u64 {
    let (now, wall) = (Instant::now(), std::time::SystemTime::now());
    let wall_at = if at >= now { wall.checked_add(at - now) } else { wall.checked_sub(now - at) };
    wall_at
        .unwrap_or(wall)
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn run(rate: f64, per_iteration: bool) -> Arc<RunTracing> {
        let tracing = Tracing { sample_rate: rate, per_iteration, ..Tracing::default() };
        Arc::new(RunTracing::new(&tracing, "t-1", 42, Instant::now(), vec![100..=399]))
    }

    /// The (trace id, span id, flags) of a `traceparent`, checked against the W3C grammar.
    fn parse(value: &[u8]) -> (String, String, String) {
        let text = std::str::from_utf8(value).expect("ASCII");
        let parts: Vec<&str> = text.split('-').collect();
        assert_eq!(parts.len(), 4, "{text}");
        assert_eq!(parts[0], "00");
        let lower_hex = |s: &str| s.bytes().all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b));
        assert!(parts[1].len() == 32 && lower_hex(parts[1]) && parts[1] != "0".repeat(32), "{text}");
        assert!(parts[2].len() == 16 && lower_hex(parts[2]) && parts[2] != "0".repeat(16), "{text}");
        assert!(parts[3] == "00" || parts[3] == "01", "{text}");
        (parts[1].into(), parts[2].into(), parts[3].into())
    }

    #[test]
    fn every_request_gets_a_valid_traceparent_with_fresh_ids_and_the_test_id() {
        let mut t = VuTracer::new(run(1.0, false), 3);
        let mut seen = std::collections::HashSet::new();
        for n in 0..100 {
            // The engine writes the request's trace context; a map of headers gets the same.
            let (trace, span, flags, baggage) = if n % 2 == 0 {
                let mut request = Request::default();
                let sent = t.inject(&mut request, true).expect("traced");
                assert!(request.headers.is_empty(), "no header map on the engine's path");
                let context = request.trace.expect("trace context");
                let (trace, span, flags) = parse(&context.traceparent());
                assert_eq!(trace, hornet_metrics::traces::hex(&sent.trace_id));
                assert_eq!(span, hornet_metrics::traces::hex(&sent.span_id));
                (trace, span, flags, context.baggage)
            } else {
                let mut headers = HeaderMap::new();
                let sent = t.inject_headers(&mut headers).expect("traced");
                let (trace, span, flags) = parse(headers[TRACEPARENT].as_bytes());
                assert_eq!(trace, hornet_metrics::traces::hex(&sent.trace_id));
                (trace, span, flags, headers[BAGGAGE].clone())
            };
            assert_eq!(span.len(), 16);
            assert_eq!(flags, "01", "sampleRate 1 samples every trace");
            assert!(seen.insert(trace), "a new trace per request");
            assert_eq!(baggage, "hornet.testid=t-1");
        }
        // The same VU of the same run draws the same ids.
        let (mut a, mut b) = (VuTracer::new(run(1.0, false), 9), VuTracer::new(run(1.0, false), 9));
        let (mut ra, mut rb) = (Request::default(), Request::default());
        a.inject(&mut ra, false);
        b.inject(&mut rb, false);
        assert_eq!(ra.trace.expect("a").traceparent(), rb.trace.expect("b").traceparent());
    }

    #[test]
    fn per_iteration_requests_share_a_trace_with_their_own_spans() {
        let mut t = VuTracer::new(run(1.0, true), 0);
        let mut traces = Vec::new();
        for _ in 0..3 {
            t.new_iteration();
            let mut spans = std::collections::HashSet::new();
            let mut trace = None;
            for _ in 0..4 {
                let mut request = Request::default();
                t.inject(&mut request, true);
                let (id, span, _) = parse(&request.trace.expect("traced").traceparent());
                assert!(trace.get_or_insert(id.clone()) == &id, "one trace per iteration");
                assert!(spans.insert(span));
            }
            traces.push(trace);
        }
        traces.dedup();
        assert_eq!(traces.len(), 3, "a new trace per iteration");
    }

    #[test]
    fn the_sampled_fraction_follows_the_rate() {
        for rate in [0.0, 0.1, 0.5] {
            let run = run(rate, false);
            let n = 20_000;
            let mut sampled = 0;
            for vu in 0..20 {
                let mut t = VuTracer::new(run.clone(), vu);
                for _ in 0..n / 20 {
                    let mut request = Request::default();
                    if t.inject(&mut request, true).expect("traced").sampled {
                        sampled += 1;
                    }
                }
            }
            // Binomial: 5 standard deviations around n·rate (at most 354 for rate 0.5).
            let sd = (n as f64 * rate * (1.0 - rate)).sqrt();
            let expected = n as f64 * rate;
            assert!((sampled as f64 - expected).abs() <= 5.0 * sd, "rate {rate}: {sampled} of {n}");
        }
    }

    #[test]
    fn a_scripts_traceparent_is_kept_and_its_baggage_extended() {
        let mut t = VuTracer::new(run(1.0, false), 0);
        let mut request = Request::default();
        request.headers.insert(
            TRACEPARENT,
            HeaderValue::from_static("00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"),
        );
        assert!(t.inject(&mut request, true).is_none());
        assert!(request.trace.is_none());
        assert_eq!(request.headers[TRACEPARENT], "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01");
        assert!(t.inject_headers(&mut request.headers).is_none());
        // A baggage of the request's own: the entry is appended, the ids go in the header map.
        let mut request = Request::default();
        request.headers.insert(BAGGAGE, HeaderValue::from_static("tenant=a"));
        let sent = t.inject(&mut request, true).expect("traced");
        assert!(request.trace.is_none());
        assert_eq!(request.headers[BAGGAGE], "tenant=a,hornet.testid=t-1");
        let (trace, _, _) = parse(request.headers[TRACEPARENT].as_bytes());
        assert_eq!(trace, hornet_metrics::traces::hex(&sent.trace_id));
    }

    #[test]
    fn failures_follow_expected_status() {
        let t = VuTracer::new(run(1.0, false), 0);
        let mut rec = Recorder::new(1, 1);
        let sent = SentTrace { trace_id: [1; 16], span_id: [2; 8], sampled: true };
        let ms = Duration::from_millis;
        t.record(&mut rec, 0, &sent, Ok(404), ms(5), ms(5));
        t.record(&mut rec, 0, &sent, Ok(200), ms(4), ms(4));
        t.record(&mut rec, 0, &sent, Err(ErrorKind::Timeout), ms(9), ms(9));
        let mut agg = hornet_metrics::Aggregator::new(vec!["GET /".into()], vec!["s".into()]);
        agg.add_tick(Duration::from_secs(1), vec![rec.take_interval()], 0);
        let kept = agg.traced_requests();
        let failed: Vec<(Option<u16>, Option<ErrorKind>)> =
            kept.iter().filter(|r| r.failed).map(|r| (r.status, r.error)).collect();
        assert_eq!(failed, [(None, Some(ErrorKind::Timeout)), (Some(404), None)]);
        assert!(kept.iter().any(|r| !r.failed && r.status == Some(200)));
    }
}
