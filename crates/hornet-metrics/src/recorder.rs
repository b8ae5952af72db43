//! The per-thread [`Recorder`], which fills an [`Interval`].
//!
//! A recorder is owned by one worker thread. Recording is a plain add on that thread's data: no
//! lock, no channel, and no allocation per request (histograms are allocated on their first value
//! in an interval and a status code's slot on its first occurrence, see [`crate::hist`]). Once a
//! second the thread calls [`Recorder::take_interval`], which swaps the current interval for an
//! empty one, and sends the full one to the collector.

use std::time::Duration;

use crate::interval::{EndpointStats, Interval, WsStats, add_code, status_class};
use crate::kinds::{ErrorKind, Timings, expect_slot};
use crate::traces::TracedRequest;

/// Index of an endpoint (request name) in the plan's endpoint list.
pub type EndpointId = u32;

/// Longest first message kept, in bytes (longer ones are cut at a character boundary).
const MAX_MESSAGE_BYTES: usize = 1024;

/// Endpoint ids and scenario indices are expected below the plan's counts. Larger ones are kept
/// (the report names them `endpoint #i`), up to this many slots beyond the plan's count (at least);
/// past that they share one slot, so a bogus id cannot make a recorder allocate gigabytes.
const EXTRA_SLOTS: usize = 1024;

/// Per-thread metrics recorder. Owned by one thread; every method is a plain add on local data.
#[derive(Debug)]
pub struct Recorder {
    current: Interval,
    endpoints: usize,
    scenarios: usize,
    /// Per (endpoint + 1, or 0 for no endpoint), a bit per error kind whose first message this
    /// recorder has already captured. Lives across intervals, so a message is formatted once per
    /// (endpoint, kind) per thread for the whole run.
    messages_taken: Vec<u16>,
}

/// The slot of index `i` for a plan of `count` items: `i` itself, or a shared overflow slot.
#[inline]
fn slot(i: usize, count: usize) -> usize {
    i.min(count.max(EXTRA_SLOTS))
}

impl Recorder {
    /// A recorder for a plan with `endpoints` endpoints and `scenarios` scenarios.
    pub fn new(endpoints: usize, scenarios: usize) -> Recorder {
        Recorder {
            current: Interval::new(endpoints, scenarios),
            endpoints,
            scenarios,
            messages_taken: vec![0; endpoints + 1],
        }
    }

    /// How many endpoints the plan has (ids past them are named at run time, see
    /// [`crate::endpoint_names`]).
    pub fn endpoint_count(&self) -> usize {
        self.endpoints
    }

    /// `events.emit('counter', name, n)`: adds `n` (rounded; negative values are ignored).
    pub fn custom_counter(&mut self, name: &str, n: f64) {
        self.current.custom.get_or_insert_default().count(name, n.max(0.0).round() as u64);
    }

    /// `events.emit('histogram', name, value)`: records `value` (non-negative, to 1/1000).
    pub fn custom_histogram(&mut self, name: &str, value: f64) {
        self.current.custom.get_or_insert_default().record(name, value);
    }

    /// `events.emit('rate', name)`: one event of the per-second rate `name`.
    pub fn custom_rate(&mut self, name: &str) {
        self.current.custom.get_or_insert_default().tick(name);
    }

    /// A request was written (`http.requests`, `http.uploaded_bytes`).
    #[inline]
    pub fn request_sent(&mut self, ep: EndpointId, bytes_sent: u64) {
        let e = self.current.endpoint_mut(slot(ep as usize, self.endpoints));
        e.requests += 1;
        e.bytes_sent += bytes_sent;
    }

    /// A redirect response arrived and was followed (or was one past the limit): it counts in
    /// `http.responses` and `http.codes.<status>`, as every response the server sent does; the
    /// request's time is recorded once, with its final response ([`Recorder::response`]).
    #[inline]
    pub fn redirect_response(&mut self, ep: EndpointId, status: u16) {
        let e = self.current.endpoint_mut(slot(ep as usize, self.endpoints));
        e.responses += 1;
        add_code(&mut e.codes, status, 1);
    }

    /// A response arrived: `http.responses`, `http.codes.<status>`, `http.response_time` (all and
    /// by status class), `http.response_time.corrected` (`t.corrected`, or `t.total` when `None`;
    /// never below `t.total`), the timing breakdown (dns/connect/tls when they happened, wait,
    /// receive) and `http.downloaded_bytes`.
    #[inline]
    pub fn response(&mut self, ep: EndpointId, status: u16, t: &Timings, bytes_received: u64) {
        let e = self.current.endpoint_mut(slot(ep as usize, self.endpoints));
        e.responses += 1;
        e.bytes_received += bytes_received;
        add_code(&mut e.codes, status, 1);
        let total = crate::hist::duration_us(t.total);
        let corrected = t.corrected.map_or(total, |c| crate::hist::duration_us(c).max(total));
        // One histogram takes the response time, not three: `http.response_time` is the sum of
        // its status classes, and `corrected` the same as it until a latency is corrected; both are
        // completed when the interval is taken (`EndpointStats::settle`).
        if corrected != total && !e.any_corrected {
            e.corrected = e.response_time_so_far();
            e.any_corrected = true;
        }
        if e.any_corrected {
            e.corrected.record_us(corrected);
        }
        match status_class(status) {
            Some(class) => e.by_class[class].record_us(total),
            None => e.response_time.record_us(total),
        }
        if let Some(d) = t.dns {
            e.dns.record(d);
        }
        if let Some(d) = t.connect {
            e.connect.record(d);
        }
        if let Some(d) = t.tls {
            e.tls.record(d);
        }
        e.wait.record(t.wait);
        e.receive.record(t.receive);
    }

    /// A traced request of endpoint `ep` completed (with a response or an error, recorded with
    /// [`Recorder::response`] or [`Recorder::error`] as well): it is kept if it is among the
    /// slowest of the endpoint, or among its first failures (see [`crate::traces`]). Compares and
    /// copies into a fixed array; allocates only on the endpoint's first traced request of the
    /// interval.
    #[inline]
    pub fn traced(&mut self, ep: EndpointId, request: &TracedRequest) {
        let e = self.current.endpoint_mut(slot(ep as usize, self.endpoints));
        e.traces.get_or_insert_default().offer(request);
    }

    /// [`Recorder::traced`] for a caller that makes the request only when it is kept: a request
    /// of `latency_us`, `failed` or not, that is not among the slowest of the endpoint so far nor
    /// among its first failures costs one comparison, and `make` is not called.
    #[inline]
    pub fn traced_if_kept(
        &mut self,
        ep: EndpointId,
        latency_us: u64,
        failed: bool,
        make: impl FnOnce() -> TracedRequest,
    ) {
        let e = self.current.endpoint_mut(slot(ep as usize, self.endpoints));
        let slots = e.traces.get_or_insert_default();
        if slots.keeps(latency_us, failed) {
            slots.offer(&make());
        }
    }

    /// An error, counted by (endpoint, kind). The first message per (endpoint, kind) is kept;
    /// `message` is only formatted when this recorder has not captured one yet.
    pub fn error(&mut self, ep: Option<EndpointId>, kind: ErrorKind, message: &dyn std::fmt::Display) {
        let k = kind.index();
        let ep = ep.map(|e| slot(e as usize, self.endpoints));
        let taken = ep.map_or(0, |e| e + 1);
        let slots = match ep {
            Some(e) => &mut self.current.endpoint_mut(e).errors,
            None => &mut self.current.unattributed,
        };
        slots.counts[k] += 1;
        if taken >= self.messages_taken.len() {
            self.messages_taken.resize(taken + 1, 0);
        }
        let bit = 1_u16 << k;
        if self.messages_taken[taken] & bit == 0 {
            self.messages_taken[taken] |= bit;
            slots.first[k] = Some(truncate_message(message.to_string()).into_boxed_str());
        }
    }

    /// One `expect` check on a response of endpoint `ep` was evaluated: `plugins.expect.ok` or
    /// `plugins.expect.failed`, in total and by kind, and per endpoint. `kind` is the check's name
    /// as written in scripts (`statusCode`, `hasProperty`, ... see
    /// [`EXPECT_KINDS`](crate::kinds::EXPECT_KINDS)); any other name is counted as `other`.
    /// A plain add into fixed arrays: never allocates (beyond growing the interval for an endpoint
    /// id outside the plan, as every method does).
    ///
    /// This only counts. Whether a failure is also an error (`ErrorKind::ExpectationFailed`) or fails
    /// the VU is the runner's decision, recorded with [`Recorder::error`].
    #[inline]
    pub fn expectation(&mut self, ep: EndpointId, kind: &'static str, ok: bool) {
        let k = expect_slot(kind);
        let e = &mut self.current.endpoint_mut(slot(ep as usize, self.endpoints)).expects;
        if ok {
            e.ok[k] += 1;
        } else {
            e.failed[k] += 1;
        }
    }

    /// A VU of scenario `scenario` was created (`vusers.created`, `vusers.created_by_name.<name>`).
    #[inline]
    pub fn vu_created(&mut self, scenario: usize) {
        let scenario = slot(scenario, self.scenarios);
        let created = &mut self.current.created;
        if scenario >= created.len() {
            created.resize(scenario + 1, 0);
        }
        created[scenario] += 1;
    }

    /// A VU finished its flow (`vusers.completed`, `vusers.session_length`).
    #[inline]
    pub fn vu_completed(&mut self, session_length: Duration) {
        self.current.vus_completed += 1;
        self.current.session_length.record(session_length);
    }

    /// A VU's flow failed (`vusers.failed`).
    #[inline]
    pub fn vu_failed(&mut self) {
        self.current.vus_failed += 1;
    }

    /// An arrival was dropped because `maxVusers` VUs were in flight (`vusers.skipped`).
    #[inline]
    pub fn vu_skipped(&mut self) {
        self.current.vus_skipped += 1;
    }

    /// A request-rate token found no free VU and was dropped (`http.requests.dropped`): a request
    /// the target rate asked for was never sent. A plain add: never allocates.
    #[inline]
    pub fn dropped(&mut self) {
        self.current.dropped += 1;
    }

    /// A paced iteration started after its slot because the previous iteration overran the pacing
    /// interval (`vusers.iterations_late`). A plain add: never allocates.
    #[inline]
    pub fn late_iteration(&mut self) {
        self.current.iterations_late += 1;
    }

    /// Schedule lag of an arrival: actual start − intended start (`schedule.lag`).
    #[inline]
    pub fn lag(&mut self, lag: Duration) {
        self.current.lag.record(lag);
    }

    /// The interval's WebSocket section, created (once per interval) on first use.
    #[inline]
    fn ws(&mut self) -> &mut WsStats {
        let endpoints = self.endpoints;
        self.current.ws.get_or_insert_with(|| {
            Box::new(WsStats { endpoints: vec![EndpointStats::default(); endpoints], ..WsStats::default() })
        })
    }

    /// A WebSocket step of endpoint `ep` started: a connection attempt, a `send` that waits for a
    /// reply, or a `wait`.
    #[inline]
    pub fn ws_step_started(&mut self, ep: EndpointId) {
        let i = slot(ep as usize, self.endpoints);
        self.ws().endpoint_mut(i).requests += 1;
    }

    /// A connection of endpoint `ep` opened after `connect_time` (TCP + TLS + upgrade):
    /// `websocket.connections`, `websocket.connect_time`, and the endpoint's response time.
    #[inline]
    pub fn ws_connected(&mut self, ep: EndpointId, connect_time: Duration) {
        let i = slot(ep as usize, self.endpoints);
        let ws = self.ws();
        ws.connections += 1;
        ws.connect_time.record(connect_time);
        let e = ws.endpoint_mut(i);
        e.responses += 1;
        e.response_time.record(connect_time);
    }

    /// A message of `bytes` payload bytes was sent (`websocket.messages_sent`, `.bytes_sent`).
    #[inline]
    pub fn ws_message_sent(&mut self, bytes: u64) {
        let ws = self.ws();
        ws.messages_sent += 1;
        ws.bytes_sent += bytes;
    }

    /// A message of `bytes` payload bytes arrived (`websocket.messages_received`, `.bytes_received`).
    #[inline]
    pub fn ws_message_received(&mut self, bytes: u64) {
        let ws = self.ws();
        ws.messages_received += 1;
        ws.bytes_received += bytes;
    }

    /// The reply to a `send` of endpoint `ep` arrived `rtt` after the send began: the endpoint's
    /// response time and `websocket.rtt`. `sent` and `received` are the two messages' payload bytes.
    #[inline]
    pub fn ws_reply(&mut self, ep: EndpointId, rtt: Duration, sent: u64, received: u64) {
        let i = slot(ep as usize, self.endpoints);
        let ws = self.ws();
        ws.rtt.record(rtt);
        let e = ws.endpoint_mut(i);
        e.responses += 1;
        e.bytes_sent += sent;
        e.bytes_received += received;
        e.response_time.record(rtt);
    }

    /// A `wait` of endpoint `ep` got its message after `waited`; `received` payload bytes.
    #[inline]
    pub fn ws_waited(&mut self, ep: EndpointId, waited: Duration, received: u64) {
        let i = slot(ep as usize, self.endpoints);
        let e = self.ws().endpoint_mut(i);
        e.responses += 1;
        e.bytes_received += received;
        e.response_time.record(waited);
    }

    /// A connection ended with close code `code` (1006 when it dropped without a close frame).
    #[inline]
    pub fn ws_closed(&mut self, code: u16) {
        add_code(&mut self.ws().close_codes, code, 1);
    }

    /// Swaps the current interval for an empty one and returns the full one (double buffer).
    pub fn take_interval(&mut self) -> Interval {
        // Sized for the plan; an out-of-range id grows only the interval it occurs in.
        let mut full = std::mem::replace(&mut self.current, Interval::new(self.endpoints, self.scenarios));
        for e in &mut full.endpoints {
            e.settle();
        }
        full
    }
}

/// Cuts `s` to at most [`MAX_MESSAGE_BYTES`] at a character boundary, marking the cut.
fn truncate_message(mut s: String) -> String {
    if s.len() > MAX_MESSAGE_BYTES {
        let mut end = MAX_MESSAGE_BYTES;
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        s.truncate(end);
        s.push('…');
    }
    s
}
#[cfg(test)]
mod tests {
    use std::cell::Cell;
    use std::fmt;

    use super::*;
    use crate::interval::tests::{hist_fingerprint, timings};
    use crate::kinds::EXPECT_SLOTS;

    #[test]
    fn records_counts_codes_classes_and_timings() {
        let mut r = Recorder::new(2, 1);
        r.request_sent(0, 100);
        r.request_sent(0, 100);
        r.request_sent(1, 50);
        let cold = Timings {
            dns: Some(Duration::from_micros(300)),
            connect: Some(Duration::from_micros(400)),
            tls: None,
            ..timings(2_000)
        };
        r.response(0, 200, &cold, 1_000);
        r.response(0, 503, &timings(4_000), 10);
        r.response(1, 200, &timings(1_000), 20);
        let i = r.take_interval();
        assert_eq!(i.requests(), 3);
        assert_eq!(i.responses(), 3);
        assert_eq!(i.bytes_sent(), 250);
        assert_eq!(i.bytes_received(), 1_030);
        assert_eq!(i.code(200), 2);
        assert_eq!(i.code(503), 1);
        let e0 = &i.endpoints[0];
        assert_eq!(e0.response_time.count(), 2);
        assert_eq!(e0.by_class[1].count(), 1);
        assert_eq!(e0.by_class[4].count(), 1);
        assert_eq!(e0.by_class[4].stats().0, 4_000);
        assert_eq!(e0.dns.count(), 1);
        assert_eq!(e0.connect.count(), 1);
        assert_eq!(e0.tls.count(), 0);
        assert!(e0.tls.histogram().is_none(), "an unused histogram is not allocated");
        assert_eq!(e0.wait.count(), 2);
        assert_eq!(e0.receive.stats(), (500, 1_000, 1_500));
        // The next interval starts empty.
        let next = r.take_interval();
        assert_eq!(next.requests(), 0);
        assert_eq!(next.endpoints.len(), 2);
    }

    #[test]
    fn response_time_adds_up_its_classes_and_a_late_correction_keeps_the_earlier_latencies() {
        let mut r = Recorder::new(1, 1);
        r.response(0, 200, &timings(1_000), 0);
        r.response(0, 404, &timings(3_000), 0);
        // A status without a class still counts in the response time.
        r.response(0, 999, &timings(7_000), 0);
        let late = Timings { corrected: Some(Duration::from_micros(50_000)), ..timings(2_000) };
        r.response(0, 200, &late, 0);
        r.response(0, 200, &timings(4_000), 0);
        let i = r.take_interval();
        let e = &i.endpoints[0];
        assert_eq!(e.response_time.count(), 5);
        assert_eq!(e.response_time.stats(), (1_000, 7_000, 17_000));
        assert_eq!((e.by_class[1].count(), e.by_class[3].count()), (3, 1));
        assert!(e.any_corrected);
        // The three before the correction at their response time, then 50 ms, then 4 ms.
        assert_eq!(e.corrected.count(), 5);
        assert_eq!(e.corrected.stats(), (1_000, 50_000, 65_000));
        let h = e.corrected.histogram().expect("recorded");
        assert!(h.equivalent(h.value_at_quantile(0.5), 4_000), "the median of 1, 3, 4, 7 and 50 ms");
    }

    #[test]
    fn corrected_latency_defaults_to_the_service_time_and_is_kept_per_endpoint() {
        let corrected = |total_us: u64, corrected_us: u64| Timings {
            corrected: Some(Duration::from_micros(corrected_us)),
            ..timings(total_us)
        };
        let mut r = Recorder::new(2, 1);
        // No intended start: the corrected histogram is the service-time histogram.
        r.response(0, 200, &timings(1_000), 0);
        r.response(0, 500, &timings(3_000), 0);
        let i = r.take_interval();
        let e0 = &i.endpoints[0];
        assert_eq!(e0.corrected.count(), 2);
        assert_eq!(hist_fingerprint(&e0.corrected), hist_fingerprint(&e0.response_time));
        assert!(!i.any_corrected());
        // An intended start equal to the actual one (at µs resolution) is no correction either.
        r.response(1, 200, &corrected(2_000, 2_000), 0);
        r.response(
            1,
            200,
            &Timings { corrected: Some(Duration::from_nanos(2_000_400)), ..timings(2_000) },
            0,
        );
        assert!(!r.take_interval().any_corrected());

        r.response(1, 200, &corrected(2_000, 40_000), 0);
        r.response(1, 200, &timings(1_000), 0);
        // Below the service time (an intended start after the actual one): raised to it.
        r.response(0, 200, &corrected(5_000, 10), 0);
        let j = r.take_interval();
        assert!(j.any_corrected());
        assert!(j.endpoints[1].any_corrected && !j.endpoints[0].any_corrected);
        assert_eq!(j.endpoints[1].corrected.stats(), (1_000, 40_000, 41_000));
        assert_eq!(j.endpoints[1].response_time.stats(), (1_000, 2_000, 3_000), "service time unchanged");
        assert_eq!(j.endpoints[0].corrected.stats(), (5_000, 5_000, 5_000));
        assert_eq!(j.corrected().count(), 3);
        assert_eq!(j.corrected().stats(), (1_000, 40_000, 46_000));

        // Merging keeps the flag and the histograms.
        let mut merged = i.clone();
        merged.merge(&j);
        assert!(merged.any_corrected());
        assert_eq!(merged.endpoints[1].corrected.count(), 2);
        assert_eq!(merged.endpoints[0].corrected.count(), 3);
    }

    #[test]
    fn drops_and_late_iterations_are_counted_and_merged() {
        let mut r = Recorder::new(1, 1);
        r.dropped();
        r.dropped();
        r.late_iteration();
        let i = r.take_interval();
        assert_eq!((i.dropped(), i.iterations_late()), (2, 1));
        assert_eq!(i.requests(), 0, "a dropped token is not a request");
        let next = r.take_interval();
        assert_eq!((next.dropped(), next.iterations_late()), (0, 0));
        let mut merged = i.clone();
        merged.merge(&i);
        assert_eq!((merged.dropped(), merged.iterations_late()), (4, 2));
    }

    #[test]
    fn expectations_are_counted_by_endpoint_and_kind() {
        let mut r = Recorder::new(2, 1);
        r.expectation(0, "statusCode", true);
        r.expectation(0, "statusCode", false);
        r.expectation(0, "statusCode", false);
        r.expectation(0, "hasProperty", true);
        r.expectation(1, "matchesRegexp", false);
        r.expectation(1, "cdnHit", false);
        let i = r.take_interval();
        assert_eq!((i.expectations_ok(), i.expectations_failed()), (2, 4));
        let e0 = &i.endpoints[0].expects;
        assert_eq!((e0.ok[0], e0.failed[0]), (1, 2));
        assert_eq!((e0.ok[3], e0.failed[3]), (1, 0));
        let e1 = &i.endpoints[1].expects;
        assert_eq!(e1.failed[8], 1);
        assert_eq!(e1.failed[EXPECT_SLOTS - 1], 1, "unknown kinds go to the `other` slot");
        assert_eq!(r.take_interval().expectations_failed(), 0, "the next interval starts empty");

        let mut merged = i.clone();
        merged.merge(&i);
        assert_eq!(merged.endpoints[0].expects.failed[0], 4);
        assert_eq!(merged.expectations_ok(), 4);
    }

    #[test]
    fn vu_lifecycle_and_lag() {
        let mut r = Recorder::new(0, 2);
        r.vu_created(0);
        r.vu_created(1);
        r.vu_created(1);
        r.vu_completed(Duration::from_millis(150));
        r.vu_failed();
        r.vu_skipped();
        r.lag(Duration::from_micros(250));
        r.lag(Duration::from_micros(750));
        let i = r.take_interval();
        assert_eq!(i.created, vec![1, 2]);
        assert_eq!(i.vus_created(), 3);
        assert_eq!((i.vus_completed(), i.vus_failed(), i.vus_skipped()), (1, 1, 1));
        assert_eq!(i.session_length.stats(), (150_000, 150_000, 150_000));
        assert_eq!(i.lag.count(), 2);
        assert_eq!(i.lag.summary().mean, 0.5);
    }

    #[test]
    fn out_of_range_ids_are_kept_not_dropped() {
        let mut r = Recorder::new(1, 1);
        r.request_sent(3, 0);
        r.vu_created(4);
        r.error(Some(5), ErrorKind::Dns, &"no such host");
        let i = r.take_interval();
        assert_eq!(i.requests(), 1);
        assert_eq!(i.vus_created(), 1);
        assert_eq!(i.errors(), 1);
        assert_eq!(i.endpoints.len(), 6);

        // Absurd ids share the last slot instead of allocating billions of endpoints.
        r.request_sent(u32::MAX, 0);
        r.error(Some(u32::MAX - 1), ErrorKind::Dns, &"bogus");
        r.vu_created(usize::MAX);
        let j = r.take_interval();
        assert_eq!(j.endpoints.len(), EXTRA_SLOTS + 1);
        assert_eq!(j.endpoints[EXTRA_SLOTS].requests, 1);
        assert_eq!(j.endpoints[EXTRA_SLOTS].errors.total(), 1);
        assert_eq!(j.created.len(), EXTRA_SLOTS + 1);
        assert_eq!(j.vus_created(), 1);
        // Later intervals are sized for the plan again.
        assert_eq!(r.take_interval().endpoints.len(), 1);
    }

    /// Counts how many times it is formatted.
    struct Counted<'a>(&'a Cell<u32>, &'static str);

    impl fmt::Display for Counted<'_> {
        fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
            self.0.set(self.0.get() + 1);
            f.write_str(self.1)
        }
    }

    #[test]
    fn first_error_message_is_kept_and_later_ones_are_not_formatted() {
        let calls = Cell::new(0);
        let mut r = Recorder::new(2, 1);
        r.error(Some(0), ErrorKind::Timeout, &Counted(&calls, "first"));
        r.error(Some(0), ErrorKind::Timeout, &Counted(&calls, "second"));
        r.error(Some(0), ErrorKind::Timeout, &Counted(&calls, "third"));
        assert_eq!(calls.get(), 1);
        // Another kind, another endpoint and no endpoint each keep their own first message.
        r.error(Some(0), ErrorKind::ConnectRefused, &Counted(&calls, "refused"));
        r.error(Some(1), ErrorKind::Timeout, &Counted(&calls, "other endpoint"));
        r.error(None, ErrorKind::Timeout, &Counted(&calls, "no endpoint"));
        assert_eq!(calls.get(), 4);
        let i = r.take_interval();
        // Not formatted again in later intervals either.
        r.error(Some(0), ErrorKind::Timeout, &Counted(&calls, "fourth"));
        assert_eq!(calls.get(), 4);
        let j = r.take_interval();

        let t = ErrorKind::Timeout.index();
        assert_eq!(i.endpoints[0].errors.counts[t], 3);
        assert_eq!(i.endpoints[0].errors.first[t].as_deref(), Some("first"));
        assert_eq!(i.endpoints[1].errors.first[t].as_deref(), Some("other endpoint"));
        assert_eq!(i.unattributed.first[t].as_deref(), Some("no endpoint"));
        assert_eq!(i.errors(), 6);
        assert_eq!(i.errors_of(ErrorKind::Timeout), 5);
        assert_eq!(j.endpoints[0].errors.counts[t], 1);
        assert_eq!(j.endpoints[0].errors.first[t], None);

        let mut merged = i.clone();
        merged.merge(&j);
        assert_eq!(merged.endpoints[0].errors.counts[t], 4);
        assert_eq!(merged.endpoints[0].errors.first[t].as_deref(), Some("first"));
    }

    #[test]
    fn long_messages_are_truncated_at_a_char_boundary() {
        let mut r = Recorder::new(1, 0);
        let long = "é".repeat(2_000);
        r.error(Some(0), ErrorKind::Protocol, &long);
        let i = r.take_interval();
        let kept = i.endpoints[0].errors.first[ErrorKind::Protocol.index()].as_deref().unwrap();
        assert!(kept.len() <= MAX_MESSAGE_BYTES + '…'.len_utf8());
        assert!(kept.ends_with('…'));
    }
}
