//! The [`Interval`]: everything recorded by one thread (or, once merged, by several) during one
//! tick, and the slot types it is made of (error, `expect`, endpoint and WebSocket figures), which
//! the aggregate, the timeline and the wire form merge and read too.

use crate::custom::CustomStats;
use crate::hist::Hist;
use crate::kinds::{EXPECT_SLOTS, ErrorKind};
use crate::traces::TraceSlots;

/// Number of error kinds.
pub(crate) const KINDS: usize = ErrorKind::ALL.len();

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
    /// The slowest and the first failed traced requests (runs with tracing only).
    pub(crate) traces: Option<Box<TraceSlots>>,
}

impl EndpointStats {
    /// The response times recorded so far in the interval: while it is being recorded, those of
    /// responses with a status class are only in `by_class` (see [`EndpointStats::settle`]).
    pub(crate) fn response_time_so_far(&self) -> Hist {
        let mut all = self.response_time.clone();
        for class in &self.by_class {
            all.merge(class);
        }
        all
    }

    /// Completes an endpoint's HTTP figures once its interval is recorded: the recorder puts a
    /// response's time only in its status class (`response_time` holds those without one) and,
    /// until a latency of the interval is corrected, leaves `corrected` empty, since it equals
    /// the response time.
    pub(crate) fn settle(&mut self) {
        for class in &self.by_class {
            self.response_time.merge(class);
        }
        if !self.any_corrected {
            self.corrected = self.response_time.clone();
        }
    }

    pub(crate) fn merge(&mut self, o: &EndpointStats) {
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
        if let Some(t) = &o.traces {
            match &mut self.traces {
                Some(mine) => mine.merge(t),
                None => self.traces = Some(t.clone()),
            }
        }
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
    pub(crate) fn endpoint_mut(&mut self, i: usize) -> &mut EndpointStats {
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
    /// Metrics processor JavaScript reported (`events.emit`), once there are any.
    pub(crate) custom: Option<Box<CustomStats>>,
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
        if let Some(o) = &other.custom {
            self.custom.get_or_insert_default().merge(o);
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
    pub(crate) fn endpoint_mut(&mut self, i: usize) -> &mut EndpointStats {
        if i >= self.endpoints.len() {
            // Only for an id beyond the plan's endpoint count: keep the data rather than drop it.
            self.endpoints.resize_with(i + 1, EndpointStats::default);
        }
        &mut self.endpoints[i]
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use std::time::Duration;

    use super::*;
    use crate::kinds::Timings;
    use crate::recorder::Recorder;

    /// Timings of a response that took `total_us`, half of it waiting and a quarter receiving.
    pub(crate) fn timings(total_us: u64) -> Timings {
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
    pub(crate) type Fingerprint = (u64, (u64, u64, u64), Vec<(u64, u64)>);

    pub(crate) fn hist_fingerprint(h: &Hist) -> Fingerprint {
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
