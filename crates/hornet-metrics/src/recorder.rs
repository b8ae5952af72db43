//! The per-thread [`Recorder`] and the [`Interval`] it fills.
//!
//! A recorder is owned by one worker thread. Recording is a plain add on that thread's data: no
//! lock, no channel, and no allocation per request (histograms are allocated on their first value
//! in an interval and a status code's slot on its first occurrence, see [`crate::hist`]). Once a
//! second the thread calls [`Recorder::take_interval`], which swaps the current interval for an
//! empty one, and sends the full one to the collector.

use std::time::Duration;

use crate::hist::Hist;
use crate::kinds::{EXPECT_SLOTS, ErrorKind, Timings, expect_slot};

/// Index of an endpoint (request name) in the plan's endpoint list.
pub type EndpointId = u32;

/// Number of error kinds.
pub(crate) const KINDS: usize = ErrorKind::ALL.len();

/// Longest first message kept, in bytes (longer ones are cut at a character boundary).
const MAX_MESSAGE_BYTES: usize = 1024;

/// Endpoint ids and scenario indices are expected below the plan's counts. Larger ones are kept
/// (the report names them `endpoint #i`), up to this many slots beyond the plan's count (at least);
/// past that they share one slot, so a bogus id cannot make a recorder allocate gigabytes.
const EXTRA_SLOTS: usize = 1024;

/// Error counts by kind, with the first message of each kind.
#[derive(Debug, Clone, Default)]
pub(crate) struct ErrorSlots {
    pub(crate) counts: [u64; KINDS],
    pub(crate) first: [Option<Box<str>>; KINDS],
}

impl ErrorSlots {
    pub(crate) fn total(&self) -> u64 {
        self.counts.iter().sum()
    }

    fn merge(&mut self, other: &ErrorSlots) {
        for i in 0..KINDS {
            self.counts[i] += other.counts[i];
            if self.first[i].is_none() {
                self.first[i].clone_from(&other.first[i]);
            }
        }
    }
}

/// `expect` results by kind slot (see [`crate::kinds::EXPECT_KINDS`]): plain arrays, so counting
/// never allocates.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct ExpectSlots {
    pub(crate) ok: [u64; EXPECT_SLOTS],
    pub(crate) failed: [u64; EXPECT_SLOTS],
}

impl ExpectSlots {
    pub(crate) fn ok_total(&self) -> u64 {
        self.ok.iter().sum()
    }

    pub(crate) fn failed_total(&self) -> u64 {
        self.failed.iter().sum()
    }

    pub(crate) fn merge(&mut self, other: &ExpectSlots) {
        for i in 0..EXPECT_SLOTS {
            self.ok[i] += other.ok[i];
            self.failed[i] += other.failed[i];
        }
    }
}

/// What one endpoint did within an interval.
#[derive(Debug, Clone, Default)]
pub(crate) struct EndpointStats {
    pub(crate) requests: u64,
    pub(crate) responses: u64,
    pub(crate) bytes_sent: u64,
    pub(crate) bytes_received: u64,
    /// Responses by status code; a handful of entries, searched linearly.
    pub(crate) codes: Vec<(u16, u64)>,
    pub(crate) errors: ErrorSlots,
    /// `expect` results (`plugins.expect.*`).
    pub(crate) expects: ExpectSlots,
    /// `http.response_time`: issued → last byte.
    pub(crate) response_time: Hist,
    /// `http.response_time` by status class, 1xx .. 5xx.
    pub(crate) by_class: [Hist; 5],
    /// `http.response_time.corrected`: intended start → last byte (the service time when the
    /// request had no intended start).
    pub(crate) corrected: Hist,
    /// True once a corrected latency differed from the service time (at µs resolution).
    pub(crate) any_corrected: bool,
    pub(crate) dns: Hist,
    pub(crate) connect: Hist,
    pub(crate) tls: Hist,
    pub(crate) wait: Hist,
    pub(crate) receive: Hist,
}

impl EndpointStats {
    fn merge(&mut self, o: &EndpointStats) {
        self.requests += o.requests;
        self.responses += o.responses;
        self.bytes_sent += o.bytes_sent;
        self.bytes_received += o.bytes_received;
        for &(code, n) in &o.codes {
            add_code(&mut self.codes, code, n);
        }
        self.errors.merge(&o.errors);
        self.expects.merge(&o.expects);
        self.response_time.merge(&o.response_time);
        for (a, b) in self.by_class.iter_mut().zip(&o.by_class) {
            a.merge(b);
        }
        self.corrected.merge(&o.corrected);
        self.any_corrected |= o.any_corrected;
        self.dns.merge(&o.dns);
        self.connect.merge(&o.connect);
        self.tls.merge(&o.tls);
        self.wait.merge(&o.wait);
        self.receive.merge(&o.receive);
    }
}

/// Adds `n` responses with status `code` to a small code list.
#[inline]
pub(crate) fn add_code(codes: &mut Vec<(u16, u64)>, code: u16, n: u64) {
    match codes.iter_mut().find(|(c, _)| *c == code) {
        Some((_, count)) => *count += n,
        None => codes.push((code, n)),
    }
}

/// Index of the status class (0 = 1xx .. 4 = 5xx), `None` outside 100..=599.
#[inline]
pub(crate) fn status_class(status: u16) -> Option<usize> {
    match status {
        100..=599 => Some(usize::from(status / 100 - 1)),
        _ => None,
    }
}

/// The WebSocket figures of an interval. Allocated on the interval's first WebSocket event, so an
/// HTTP-only run never has one.
#[derive(Debug, Clone, Default)]
pub(crate) struct WsStats {
    /// Per WebSocket endpoint (index = endpoint id): `requests` counts steps started (connection
    /// attempts, sends that wait, waits), `responses` the ones that got what they waited for,
    /// `response_time` the connect time, round-trip time or time waited. Errors stay in the
    /// interval's endpoint slots, like HTTP errors.
    pub(crate) endpoints: Vec<EndpointStats>,
    /// `websocket.connections`: connections opened.
    pub(crate) connections: u64,
    /// `websocket.messages_sent`.
    pub(crate) messages_sent: u64,
    /// `websocket.messages_received`.
    pub(crate) messages_received: u64,
    /// `websocket.bytes_sent`: payload bytes of the messages sent.
    pub(crate) bytes_sent: u64,
    /// `websocket.bytes_received`: payload bytes of the messages received.
    pub(crate) bytes_received: u64,
    /// `websocket.close.<code>`: connections ended, by close code (1006: dropped without one).
    pub(crate) close_codes: Vec<(u16, u64)>,
    /// `websocket.connect_time`: TCP connect + TLS + upgrade handshake.
    pub(crate) connect_time: Hist,
    /// `websocket.rtt`: send → reply, over every `send` that waits for a reply.
    pub(crate) rtt: Hist,
}

impl WsStats {
    fn merge(&mut self, o: &WsStats) {
        if self.endpoints.len() < o.endpoints.len() {
            self.endpoints.resize_with(o.endpoints.len(), EndpointStats::default);
        }
        for (a, b) in self.endpoints.iter_mut().zip(&o.endpoints) {
            a.merge(b);
        }
        self.connections += o.connections;
        self.messages_sent += o.messages_sent;
        self.messages_received += o.messages_received;
        self.bytes_sent += o.bytes_sent;
        self.bytes_received += o.bytes_received;
        for &(code, n) in &o.close_codes {
            add_code(&mut self.close_codes, code, n);
        }
        self.connect_time.merge(&o.connect_time);
        self.rtt.merge(&o.rtt);
    }

    /// The stats of WebSocket endpoint slot `i`, growing the list if needed.
    #[inline]
    fn endpoint_mut(&mut self, i: usize) -> &mut EndpointStats {
        if i >= self.endpoints.len() {
            self.endpoints.resize_with(i + 1, EndpointStats::default);
        }
        &mut self.endpoints[i]
    }
}

/// Everything recorded by one thread (or, once merged, by several) during one interval.
/// Counts are exact and histograms merge exactly.
#[derive(Debug, Clone, Default)]
pub struct Interval {
    pub(crate) endpoints: Vec<EndpointStats>,
    /// `vusers.created` by scenario index.
    pub(crate) created: Vec<u64>,
    pub(crate) vus_completed: u64,
    pub(crate) vus_failed: u64,
    pub(crate) vus_skipped: u64,
    /// `http.requests.dropped`: request-rate tokens that found no free VU.
    pub(crate) dropped: u64,
    /// `vusers.iterations_late`: paced iterations started after their slot.
    pub(crate) iterations_late: u64,
    pub(crate) session_length: Hist,
    pub(crate) lag: Hist,
    /// Errors not tied to an endpoint.
    pub(crate) unattributed: ErrorSlots,
    /// WebSocket figures, once there are any.
    pub(crate) ws: Option<Box<WsStats>>,
}

impl Interval {
    /// An empty interval sized for `endpoints` endpoints and `scenarios` scenarios.
    pub fn new(endpoints: usize, scenarios: usize) -> Interval {
        Interval {
            endpoints: vec![EndpointStats::default(); endpoints],
            created: vec![0; scenarios],
            ..Interval::default()
        }
    }

    /// Adds everything in `other` to `self`. Counts add, histograms merge exactly, and for each
    /// (endpoint, kind) the first message already in `self` wins over `other`'s.
    pub fn merge(&mut self, other: &Interval) {
        if self.endpoints.len() < other.endpoints.len() {
            self.endpoints.resize_with(other.endpoints.len(), EndpointStats::default);
        }
        for (a, b) in self.endpoints.iter_mut().zip(&other.endpoints) {
            a.merge(b);
        }
        if self.created.len() < other.created.len() {
            self.created.resize(other.created.len(), 0);
        }
        for (a, b) in self.created.iter_mut().zip(&other.created) {
            *a += b;
        }
        self.vus_completed += other.vus_completed;
        self.vus_failed += other.vus_failed;
        self.vus_skipped += other.vus_skipped;
        self.dropped += other.dropped;
        self.iterations_late += other.iterations_late;
        self.session_length.merge(&other.session_length);
        self.lag.merge(&other.lag);
        self.unattributed.merge(&other.unattributed);
        if let Some(o) = &other.ws {
            self.ws.get_or_insert_default().merge(o);
        }
    }

    /// Messages sent over WebSocket connections (`websocket.messages_sent`).
    pub fn ws_messages_sent(&self) -> u64 {
        self.ws.as_ref().map_or(0, |w| w.messages_sent)
    }

    /// Messages received over WebSocket connections (`websocket.messages_received`).
    pub fn ws_messages_received(&self) -> u64 {
        self.ws.as_ref().map_or(0, |w| w.messages_received)
    }

    /// The 99th percentile of the schedule lag in this interval, ms.
    pub fn lag_p99_ms(&self) -> f64 {
        self.lag.summary().p99
    }

    /// Requests sent (`http.requests`).
    pub fn requests(&self) -> u64 {
        self.endpoints.iter().map(|e| e.requests).sum()
    }

    /// Responses received (`http.responses`).
    pub fn responses(&self) -> u64 {
        self.endpoints.iter().map(|e| e.responses).sum()
    }

    /// Errors of every kind, on endpoints or not.
    pub fn errors(&self) -> u64 {
        self.endpoints.iter().map(|e| e.errors.total()).sum::<u64>() + self.unattributed.total()
    }

    /// Errors of one kind, on endpoints or not.
    pub fn errors_of(&self, kind: ErrorKind) -> u64 {
        let i = kind.index();
        self.endpoints.iter().map(|e| e.errors.counts[i]).sum::<u64>() + self.unattributed.counts[i]
    }

    /// `expect` checks that held (`plugins.expect.ok`).
    pub fn expectations_ok(&self) -> u64 {
        self.endpoints.iter().map(|e| e.expects.ok_total()).sum()
    }

    /// `expect` checks that did not hold (`plugins.expect.failed`).
    pub fn expectations_failed(&self) -> u64 {
        self.endpoints.iter().map(|e| e.expects.failed_total()).sum()
    }

    /// Responses with the given status code.
    pub fn code(&self, status: u16) -> u64 {
        self.endpoints.iter().flat_map(|e| &e.codes).filter(|(c, _)| *c == status).map(|(_, n)| n).sum()
    }

    /// Response bytes received (`http.downloaded_bytes`).
    pub fn bytes_received(&self) -> u64 {
        self.endpoints.iter().map(|e| e.bytes_received).sum()
    }

    /// Request bytes written (`http.uploaded_bytes`).
    pub fn bytes_sent(&self) -> u64 {
        self.endpoints.iter().map(|e| e.bytes_sent).sum()
    }

    /// VUs created (`vusers.created`).
    pub fn vus_created(&self) -> u64 {
        self.created.iter().sum()
    }

    /// VUs that finished their flow (`vusers.completed`).
    pub fn vus_completed(&self) -> u64 {
        self.vus_completed
    }

    /// VUs whose flow failed (`vusers.failed`).
    pub fn vus_failed(&self) -> u64 {
        self.vus_failed
    }

    /// Arrivals dropped by `maxVusers` (`vusers.skipped`).
    pub fn vus_skipped(&self) -> u64 {
        self.vus_skipped
    }

    /// Request-rate tokens dropped because no VU was free (`http.requests.dropped`).
    pub fn dropped(&self) -> u64 {
        self.dropped
    }

    /// Paced iterations that started after their slot (`vusers.iterations_late`).
    pub fn iterations_late(&self) -> u64 {
        self.iterations_late
    }

    /// True if any response's corrected latency differed from its service time.
    pub fn any_corrected(&self) -> bool {
        self.endpoints.iter().any(|e| e.any_corrected)
    }

    /// Number of response times recorded (all endpoints).
    pub fn response_time_count(&self) -> u64 {
        self.endpoints.iter().map(|e| e.response_time.count()).sum()
    }

    /// The `http.response_time` histogram over all endpoints.
    pub(crate) fn response_time(&self) -> Hist {
        let mut h = Hist::default();
        for e in &self.endpoints {
            h.merge(&e.response_time);
        }
        h
    }

    /// The `http.response_time.corrected` histogram over all endpoints.
    pub(crate) fn corrected(&self) -> Hist {
        let mut h = Hist::default();
        for e in &self.endpoints {
            h.merge(&e.corrected);
        }
        h
    }

    /// The stats of endpoint slot `i`, growing the list if needed.
    #[inline]
    fn endpoint_mut(&mut self, i: usize) -> &mut EndpointStats {
        if i >= self.endpoints.len() {
            // Only for an id beyond the plan's endpoint count: keep the data rather than drop it.
            self.endpoints.resize_with(i + 1, EndpointStats::default);
        }
        &mut self.endpoints[i]
    }
}

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

    /// A request was written (`http.requests`, `http.uploaded_bytes`).
    #[inline]
    pub fn request_sent(&mut self, ep: EndpointId, bytes_sent: u64) {
        let e = self.current.endpoint_mut(slot(ep as usize, self.endpoints));
        e.requests += 1;
        e.bytes_sent += bytes_sent;
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
        e.response_time.record_us(total);
        if let Some(class) = status_class(status) {
            e.by_class[class].record_us(total);
        }
        let corrected = t.corrected.map_or(total, |c| crate::hist::duration_us(c).max(total));
        e.corrected.record_us(corrected);
        e.any_corrected |= corrected != total;
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
        std::mem::replace(&mut self.current, Interval::new(self.endpoints, self.scenarios))
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

    fn timings(total_us: u64) -> Timings {
        Timings {
            wait: Duration::from_micros(total_us / 2),
            receive: Duration::from_micros(total_us / 4),
            total: Duration::from_micros(total_us),
            ..Timings::default()
        }
    }

    #[test]
    fn interval_is_send() {
        fn assert_send<T: Send + 'static>() {}
        assert_send::<Interval>();
    }

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

    /// A deterministic pseudo-random workload, split over `threads` recorders.
    fn workload(threads: usize) -> Vec<Interval> {
        let mut recs: Vec<Recorder> = (0..threads).map(|_| Recorder::new(3, 2)).collect();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for n in 0..5_000_u64 {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            let r = &mut recs[(n as usize) % threads];
            let ep = (x % 3) as u32;
            r.request_sent(ep, x % 500);
            r.expectation(
                ep,
                ["statusCode", "equals", "headerEquals"][(x >> 5) as usize % 3],
                !x.is_multiple_of(3),
            );
            match x % 10 {
                0 => r.error(Some(ep), ErrorKind::Timeout, &"timed out"),
                1 => r.error(None, ErrorKind::Cancelled, &"cancelled"),
                _ => {
                    let status = [200, 200, 201, 302, 404, 500][(x >> 8) as usize % 6];
                    let total = x % 5_000_000;
                    let t = Timings {
                        connect: x.is_multiple_of(7).then(|| Duration::from_micros(x % 900)),
                        corrected: x.is_multiple_of(3).then(|| Duration::from_micros(total + x % 70_000)),
                        ..timings(total)
                    };
                    r.response(ep, status, &t, x % 10_000);
                }
            }
            if x.is_multiple_of(4) {
                r.vu_created((x >> 3) as usize % 2);
                r.vu_completed(Duration::from_micros(x % 90_000_000));
                r.lag(Duration::from_micros(x % 3_000));
            }
            if x.is_multiple_of(5) {
                r.dropped();
            }
            if x.is_multiple_of(6) {
                r.late_iteration();
            }
        }
        recs.iter_mut().map(Recorder::take_interval).collect()
    }

    /// Count, exact (min, max, sum) and every (value, count) bin of a histogram.
    type Fingerprint = (u64, (u64, u64, u64), Vec<(u64, u64)>);

    fn hist_fingerprint(h: &Hist) -> Fingerprint {
        let bins = h
            .histogram()
            .map(|h| h.iter_recorded().map(|v| (v.value_iterated_to(), v.count_at_value())).collect())
            .unwrap_or_default();
        (h.count(), h.stats(), bins)
    }

    #[test]
    fn merging_threads_equals_one_thread_recording_everything() {
        let one = workload(1).pop().unwrap();
        let mut parts = workload(3).into_iter();
        let mut merged = parts.next().unwrap();
        for p in parts {
            merged.merge(&p);
        }
        assert_eq!(merged.requests(), one.requests());
        assert_eq!(merged.responses(), one.responses());
        assert_eq!(merged.errors(), one.errors());
        assert_eq!(merged.bytes_received(), one.bytes_received());
        assert_eq!(merged.created, one.created);
        assert_eq!(merged.vus_completed, one.vus_completed);
        for (a, b) in merged.endpoints.iter().zip(&one.endpoints) {
            let mut ca = a.codes.clone();
            let mut cb = b.codes.clone();
            ca.sort_unstable();
            cb.sort_unstable();
            assert_eq!(ca, cb);
            assert_eq!(a.errors.counts, b.errors.counts);
            assert_eq!(a.expects, b.expects);
            assert_eq!(a.any_corrected, b.any_corrected);
            for (ha, hb) in [
                (&a.response_time, &b.response_time),
                (&a.corrected, &b.corrected),
                (&a.connect, &b.connect),
                (&a.wait, &b.wait),
                (&a.receive, &b.receive),
            ]
            .into_iter()
            .chain(a.by_class.iter().zip(&b.by_class))
            {
                assert_eq!(hist_fingerprint(ha), hist_fingerprint(hb));
            }
        }
        assert_eq!(hist_fingerprint(&merged.session_length), hist_fingerprint(&one.session_length));
        assert_eq!(hist_fingerprint(&merged.lag), hist_fingerprint(&one.lag));
        assert_eq!(merged.response_time().summary(), one.response_time().summary());
        assert_eq!(merged.corrected().summary(), one.corrected().summary());
        assert!(one.any_corrected());
        assert_eq!((merged.dropped, merged.iterations_late), (one.dropped, one.iterations_late));
        assert!(one.dropped > 0 && one.iterations_late > 0);
    }
}
