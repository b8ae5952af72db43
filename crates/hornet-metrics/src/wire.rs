//! A serde form of [`Interval`] for sending one second of metrics between processes (distributed runs:
//! each worker sends its merged per-second interval to the controller, which merges them exactly).
//!
//! Counters travel as numbers; every histogram travels as HdrHistogram V2+DEFLATE in base64 (the same
//! encoding as the report) with its exact min, max and sum beside it, so that `from_wire(to_wire(x))`
//! merges to exactly the same figures as `x`. An empty histogram travels as `null`. Decoding validates
//! untrusted input ([`decode_histogram`]'s size caps; lists longer than the recorder allows are refused).

use serde::{Deserialize, Serialize};

use crate::custom::CustomStats;
use crate::endpoint_names::EndpointNames;
use crate::hist::{Hist, HistogramError, decode_histogram, encode_histogram};
use crate::interval::{EndpointStats, ErrorSlots, ExpectSlots, Interval, WsStats};
use crate::traces::{FAILED_KEPT, SLOWEST_KEPT, TraceSlots, WireTraced};

/// Most endpoints, scenarios or status codes one wire interval may carry.
const MAX_ITEMS: usize = 1 << 16;

/// A histogram on the wire: base64 V2+DEFLATE plus the exact statistics (µs).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct WireHist {
    /// The histogram, base64 V2+DEFLATE.
    pub h: String,
    /// Exact smallest value.
    pub min: u64,
    /// Exact largest value.
    pub max: u64,
    /// Exact sum of the values.
    pub sum: u64,
}

/// Error counts by kind (in [`crate::ErrorKind::ALL`] order) with the first message of each.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct WireErrors {
    /// Counts by kind.
    pub counts: Vec<u64>,
    /// First message by kind.
    pub first: Vec<Option<String>>,
}

/// One endpoint's second on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireEndpoint {
    pub requests: u64,
    pub responses: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// `(status, count)` pairs.
    pub codes: Vec<(u16, u64)>,
    pub errors: WireErrors,
    pub expect_ok: Vec<u64>,
    pub expect_failed: Vec<u64>,
    pub response_time: Option<WireHist>,
    /// 1xx .. 5xx.
    pub by_class: Vec<Option<WireHist>>,
    pub corrected: Option<WireHist>,
    pub any_corrected: bool,
    pub dns: Option<WireHist>,
    pub connect: Option<WireHist>,
    pub tls: Option<WireHist>,
    pub wait: Option<WireHist>,
    pub receive: Option<WireHist>,
    /// The slowest traced requests kept (runs with tracing; see [`crate::traces`]).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub slowest: Vec<WireTraced>,
    /// The first failed traced requests kept, earliest first.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub failed_traced: Vec<WireTraced>,
}

/// One [`Interval`] on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireInterval {
    pub endpoints: Vec<WireEndpoint>,
    /// `vusers.created` by scenario.
    pub created: Vec<u64>,
    pub vus_completed: u64,
    pub vus_failed: u64,
    pub vus_skipped: u64,
    pub dropped: u64,
    pub iterations_late: u64,
    pub session_length: Option<WireHist>,
    pub lag: Option<WireHist>,
    pub unattributed: WireErrors,
    /// The WebSocket section, when the second had WebSocket traffic.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub ws: Option<WireWs>,
    /// The metrics a processor reported, when the second had any.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub custom: Option<WireCustom>,
    /// The names of the endpoints named at run time (`context.http` requests) that have figures
    /// in `endpoints`, by index, and the plan endpoint count their ids start at: the receiver maps
    /// them to its own ids.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub named: Option<WireNamed>,
}

/// Endpoints named at run time, on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireNamed {
    pub base: u32,
    pub names: Vec<(u32, String)>,
}

/// Processor metrics (`events.emit`) of an interval on the wire, by name.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireCustom {
    pub counters: Vec<(String, u64)>,
    pub histograms: Vec<(String, WireHist)>,
    pub rates: Vec<(String, u64)>,
}

/// The WebSocket section of an interval on the wire.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[allow(missing_docs)]
pub struct WireWs {
    pub endpoints: Vec<WireEndpoint>,
    pub connections: u64,
    pub messages_sent: u64,
    pub messages_received: u64,
    pub bytes_sent: u64,
    pub bytes_received: u64,
    /// `(close code, count)` pairs.
    pub close_codes: Vec<(u16, u64)>,
    pub connect_time: Option<WireHist>,
    pub rtt: Option<WireHist>,
}

fn hist_out(h: &Hist) -> Option<WireHist> {
    if h.count() == 0 {
        return None;
    }
    let (min, max, sum) = h.stats();
    let encoded = encode_histogram(h.histogram_ref()?).ok()?;
    Some(WireHist { h: encoded, min, max, sum })
}

fn hist_in(w: Option<&WireHist>) -> Result<Hist, HistogramError> {
    match w {
        None => Ok(Hist::default()),
        Some(w) => Ok(Hist::from_parts(decode_histogram(&w.h)?, w.min, w.max, w.sum)),
    }
}

fn errors_out(e: &ErrorSlots) -> WireErrors {
    WireErrors {
        counts: e.counts.to_vec(),
        first: e.first.iter().map(|m| m.as_deref().map(str::to_string)).collect(),
    }
}

fn errors_in(w: &WireErrors) -> ErrorSlots {
    let mut e = ErrorSlots::default();
    for (slot, n) in e.counts.iter_mut().zip(&w.counts) {
        *slot = *n;
    }
    for (slot, m) in e.first.iter_mut().zip(&w.first) {
        *slot = m.as_deref().map(Box::from);
    }
    e
}

fn too_many(what: &'static str, n: usize) -> Result<(), HistogramError> {
    if n > MAX_ITEMS { Err(HistogramError::Format(what)) } else { Ok(()) }
}

fn endpoint_out(e: &EndpointStats) -> WireEndpoint {
    WireEndpoint {
        requests: e.requests,
        responses: e.responses,
        bytes_sent: e.bytes_sent,
        bytes_received: e.bytes_received,
        codes: e.codes.clone(),
        errors: errors_out(&e.errors),
        expect_ok: e.expects.ok.to_vec(),
        expect_failed: e.expects.failed.to_vec(),
        response_time: hist_out(&e.response_time),
        by_class: e.by_class.iter().map(hist_out).collect(),
        corrected: hist_out(&e.corrected),
        any_corrected: e.any_corrected,
        dns: hist_out(&e.dns),
        connect: hist_out(&e.connect),
        tls: hist_out(&e.tls),
        wait: hist_out(&e.wait),
        receive: hist_out(&e.receive),
        slowest: e
            .traces
            .as_ref()
            .map_or_else(Vec::new, |t| t.slowest().iter().map(WireTraced::from_request).collect()),
        failed_traced: e
            .traces
            .as_ref()
            .map_or_else(Vec::new, |t| t.failed().iter().map(WireTraced::from_request).collect()),
    }
}

fn endpoint_in(e: &WireEndpoint) -> Result<EndpointStats, HistogramError> {
    too_many("too many status codes", e.codes.len())?;
    let mut expects = ExpectSlots::default();
    for (slot, n) in expects.ok.iter_mut().zip(&e.expect_ok) {
        *slot = *n;
    }
    for (slot, n) in expects.failed.iter_mut().zip(&e.expect_failed) {
        *slot = *n;
    }
    let mut by_class: [Hist; 5] = Default::default();
    for (slot, h) in by_class.iter_mut().zip(&e.by_class) {
        *slot = hist_in(h.as_ref())?;
    }
    Ok(EndpointStats {
        requests: e.requests,
        responses: e.responses,
        bytes_sent: e.bytes_sent,
        bytes_received: e.bytes_received,
        codes: e.codes.clone(),
        errors: errors_in(&e.errors),
        expects,
        response_time: hist_in(e.response_time.as_ref())?,
        by_class,
        corrected: hist_in(e.corrected.as_ref())?,
        any_corrected: e.any_corrected,
        dns: hist_in(e.dns.as_ref())?,
        connect: hist_in(e.connect.as_ref())?,
        tls: hist_in(e.tls.as_ref())?,
        wait: hist_in(e.wait.as_ref())?,
        receive: hist_in(e.receive.as_ref())?,
        traces: traces_in(&e.slowest, &e.failed_traced)?,
    })
}

/// The kept traced requests of an endpoint; more than a recorder keeps, or an id that is not hex,
/// is refused.
fn traces_in(
    slowest: &[WireTraced],
    failed: &[WireTraced],
) -> Result<Option<Box<TraceSlots>>, HistogramError> {
    if slowest.is_empty() && failed.is_empty() {
        return Ok(None);
    }
    if slowest.len() > SLOWEST_KEPT || failed.len() > FAILED_KEPT {
        return Err(HistogramError::Format("too many traced requests"));
    }
    let decode = |list: &[WireTraced]| -> Result<Vec<_>, HistogramError> {
        list.iter()
            .map(|t| t.to_request().ok_or(HistogramError::Format("a trace id that is not hex")))
            .collect()
    };
    Ok(Some(Box::new(TraceSlots::from_parts(&decode(slowest)?, &decode(failed)?))))
}

/// Most run-time endpoint names one wire interval may carry.
const MAX_WIRE_NAMES: usize = 1000;

/// The run-time names of the endpoints past the plan among the first `count`.
fn named_out(names: &EndpointNames, count: usize) -> Option<WireNamed> {
    let named = names.named_below(count);
    (!named.is_empty())
        .then(|| WireNamed { base: u32::try_from(names.base()).unwrap_or(u32::MAX), names: named })
}

fn custom_out(c: &CustomStats) -> WireCustom {
    WireCustom {
        counters: c.counters.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
        histograms: c.histograms.iter().filter_map(|(k, h)| Some((k.to_string(), hist_out(h)?))).collect(),
        rates: c.rates.iter().map(|(k, n)| (k.to_string(), *n)).collect(),
    }
}

/// Names past the recorder's own bound are dropped, as they are when recorded.
fn custom_in(w: &WireCustom) -> Result<CustomStats, HistogramError> {
    too_many("too many processor metrics", w.counters.len() + w.histograms.len() + w.rates.len())?;
    let mut stats = CustomStats::default();
    for (name, n) in &w.counters {
        stats.count(name, *n);
    }
    for (name, h) in &w.histograms {
        stats.merge_histogram(name, &hist_in(Some(h))?);
    }
    for (name, n) in &w.rates {
        stats.tick_n(name, *n);
    }
    Ok(stats)
}

fn ws_out(w: &WsStats) -> WireWs {
    WireWs {
        endpoints: w.endpoints.iter().map(endpoint_out).collect(),
        connections: w.connections,
        messages_sent: w.messages_sent,
        messages_received: w.messages_received,
        bytes_sent: w.bytes_sent,
        bytes_received: w.bytes_received,
        close_codes: w.close_codes.clone(),
        connect_time: hist_out(&w.connect_time),
        rtt: hist_out(&w.rtt),
    }
}

fn ws_in(w: &WireWs) -> Result<WsStats, HistogramError> {
    too_many("too many WebSocket endpoints", w.endpoints.len())?;
    too_many("too many close codes", w.close_codes.len())?;
    Ok(WsStats {
        endpoints: w.endpoints.iter().map(endpoint_in).collect::<Result<_, _>>()?,
        connections: w.connections,
        messages_sent: w.messages_sent,
        messages_received: w.messages_received,
        bytes_sent: w.bytes_sent,
        bytes_received: w.bytes_received,
        close_codes: w.close_codes.clone(),
        connect_time: hist_in(w.connect_time.as_ref())?,
        rtt: hist_in(w.rtt.as_ref())?,
    })
}

impl Interval {
    /// The interval in its wire form; `names` is the run's table of endpoints named at run time,
    /// whose names travel with their figures.
    pub fn to_wire(&self, names: &EndpointNames) -> WireInterval {
        WireInterval {
            endpoints: self.endpoints.iter().map(endpoint_out).collect(),
            created: self.created.clone(),
            vus_completed: self.vus_completed,
            vus_failed: self.vus_failed,
            vus_skipped: self.vus_skipped,
            dropped: self.dropped,
            iterations_late: self.iterations_late,
            session_length: hist_out(&self.session_length),
            lag: hist_out(&self.lag),
            unattributed: errors_out(&self.unattributed),
            ws: self.ws.as_deref().map(ws_out),
            custom: self.custom.as_deref().map(custom_out),
            named: named_out(names, self.endpoints.len()),
        }
    }

    /// Rebuilds an interval from its wire form (untrusted input: bad histograms and oversized lists are
    /// errors, never panics). The endpoints the sender named at run time get the ids of `names`,
    /// the receiving run's table.
    pub fn from_wire(w: &WireInterval, names: &EndpointNames) -> Result<Interval, HistogramError> {
        too_many("too many endpoints", w.endpoints.len())?;
        too_many("too many scenarios", w.created.len())?;
        let mut interval = Interval {
            endpoints: w.endpoints.iter().map(endpoint_in).collect::<Result<_, _>>()?,
            created: w.created.clone(),
            vus_completed: w.vus_completed,
            vus_failed: w.vus_failed,
            vus_skipped: w.vus_skipped,
            dropped: w.dropped,
            iterations_late: w.iterations_late,
            session_length: hist_in(w.session_length.as_ref())?,
            lag: hist_in(w.lag.as_ref())?,
            unattributed: errors_in(&w.unattributed),
            ws: w.ws.as_ref().map(ws_in).transpose()?.map(Box::new),
            custom: w.custom.as_ref().map(custom_in).transpose()?.map(Box::new),
        };
        if let Some(named) = &w.named {
            interval.rename_endpoints(named, names);
        }
        Ok(interval)
    }

    /// Moves the figures of endpoints the sender named at run time to the ids `names` (the
    /// receiving run's table) gives those names.
    fn rename_endpoints(&mut self, named: &WireNamed, names: &EndpointNames) {
        let base = usize::try_from(named.base).unwrap_or(usize::MAX);
        let mut moved = Vec::new();
        for (id, name) in named.names.iter().take(MAX_WIRE_NAMES) {
            let from = *id as usize;
            if from < base || from >= self.endpoints.len() {
                continue;
            }
            moved.push((names.intern(name) as usize, std::mem::take(&mut self.endpoints[from])));
        }
        for (to, stats) in moved {
            if to >= self.endpoints.len() {
                if to > names.base().saturating_add(MAX_WIRE_NAMES) {
                    continue;
                }
                self.endpoints.resize_with(to + 1, EndpointStats::default);
            }
            self.endpoints[to].merge(&stats);
        }
    }
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;
    use crate::{Aggregator, ErrorKind, Recorder};

    /// The table of a run that named nothing at run time (a plan of three endpoints).
    fn no_names() -> EndpointNames {
        EndpointNames::new(3)
    }

    fn sample(seed: u64) -> Interval {
        let mut r = Recorder::new(3, 2);
        for i in 0..500u64 {
            let us = (i * 7919 + seed * 31) % 90_000 + 100;
            r.vu_created(usize::from(i % 2 == 0));
            r.lag(Duration::from_micros(us / 10));
            r.request_sent((i % 3) as u32, 120);
            let t = crate::Timings { total: Duration::from_micros(us), ..Default::default() };
            r.response((i % 3) as u32, if i % 11 == 0 { 503 } else { 200 }, &t, 512);
            let traced = crate::TracedRequest {
                trace_id: [(i % 256) as u8; 16],
                span_id: [seed as u8; 8],
                latency_us: us,
                status: if i % 11 == 0 { 503 } else { 200 },
                at_us: i * 1_000,
                failed: i % 11 == 0,
                ..Default::default()
            };
            r.traced((i % 3) as u32, &traced);
        }
        r.error(Some(1), ErrorKind::Timeout, &"timed out after 10 s");
        // WebSocket traffic on endpoint 2: a connection, messages both ways, a reply, a close.
        r.ws_step_started(2);
        r.ws_connected(2, Duration::from_micros(800 + seed));
        r.ws_message_sent(10);
        r.ws_message_received(12);
        r.ws_reply(2, Duration::from_micros(1_500 + seed), 10, 12);
        r.ws_closed(1000);
        r.take_interval()
    }

    #[test]
    fn an_interval_survives_the_wire_and_merges_exactly() {
        let (a, b) = (sample(1), sample(2));
        let json = serde_json::to_string(&a.to_wire(&no_names())).unwrap();
        let back = Interval::from_wire(&serde_json::from_str(&json).unwrap(), &no_names()).unwrap();
        assert_eq!(back.to_wire(&no_names()), a.to_wire(&no_names()));
        // Merging decoded intervals gives the same report as merging the originals.
        let names: Vec<String> = vec!["a".into(), "b".into(), "c".into()];
        let mut direct = Aggregator::new(names.clone(), vec!["s0".into(), "s1".into()]);
        direct.add_tick(Duration::from_secs(1), vec![a.clone(), b.clone()], 0);
        let mut wired = Aggregator::new(names, vec!["s0".into(), "s1".into()]);
        let b2 = Interval::from_wire(&b.to_wire(&no_names()), &no_names()).unwrap();
        wired.add_tick(Duration::from_secs(1), vec![back, b2], 0);
        let (x, y) = (direct.live(), wired.live());
        assert_eq!(format!("{x:?}"), format!("{y:?}"));
        assert_eq!(direct.traced_requests(), wired.traced_requests());
        assert!(direct.traced_requests().iter().any(|t| t.failed && t.status == Some(503)));
        assert_eq!(a.requests(), 500);
        assert_eq!((back_ws(&a), a.ws_messages_sent()), (1, 1));
        assert_eq!(a.errors_of(ErrorKind::Timeout), 1);
    }

    /// Messages received, after a trip over the wire.
    fn back_ws(iv: &Interval) -> u64 {
        let json = serde_json::to_string(&iv.to_wire(&no_names())).unwrap();
        Interval::from_wire(&serde_json::from_str(&json).unwrap(), &no_names())
            .unwrap()
            .ws_messages_received()
    }

    #[test]
    fn endpoints_named_at_run_time_move_to_the_receivers_ids() {
        // The sender's run named two endpoints; the receiver's run (a plan of 2 as well) had
        // already met `search`, which it gave id 2.
        let sender = EndpointNames::new(2);
        assert_eq!(sender.intern("login"), 2);
        assert_eq!(sender.intern("checkout"), 3);
        let receiver = EndpointNames::new(2);
        assert_eq!(receiver.intern("search"), 2);
        let mut r = Recorder::new(2, 1);
        let t = crate::Timings { total: Duration::from_micros(900), ..Default::default() };
        r.request_sent(3, 10);
        r.response(3, 200, &t, 20);
        let wire = r.take_interval().to_wire(&sender);
        let named = wire.named.clone().expect("the run-time names travel");
        assert_eq!(named, WireNamed { base: 2, names: vec![(2, "login".into()), (3, "checkout".into())] });
        let json = serde_json::to_string(&wire).unwrap();
        let back = Interval::from_wire(&serde_json::from_str(&json).unwrap(), &receiver).unwrap();
        let here = receiver.name_of(4).expect("the receiver's table learnt the sender's names");
        assert_eq!(here, "checkout", "ids follow the receiver's table: search 2, login 3, checkout 4");
        assert_eq!(back.endpoints[4].requests, 1);
        assert_eq!(back.endpoints[4].responses, 1);
        assert_eq!(back.endpoints[3].requests, 0, "moved, not copied");
        assert_eq!(back.endpoints[2].requests, 0, "the receiver's own name keeps its figures");
        // Another receiving run has its own table: the same message lands under its ids.
        let other = EndpointNames::new(2);
        let back = Interval::from_wire(&serde_json::from_str(&json).unwrap(), &other).unwrap();
        assert_eq!(back.endpoints[3].requests, 1);
        assert_eq!(other.name_of(3).as_deref(), Some("checkout"));
        assert_eq!(receiver.name_of(5), None, "the other run's lookups do not reach this table");
    }

    #[test]
    fn processor_metrics_cross_the_wire() {
        let mut r = Recorder::new(1, 1);
        r.custom_counter("orders.made", 3.0);
        r.custom_histogram("cart.size", 2.5);
        r.custom_histogram("cart.size", 4.0);
        r.custom_rate("logins");
        let iv = r.take_interval();
        let json = serde_json::to_string(&iv.to_wire(&no_names())).unwrap();
        let back = Interval::from_wire(&serde_json::from_str(&json).unwrap(), &no_names()).unwrap();
        let custom = back.custom.as_deref().expect("processor metrics");
        assert_eq!(custom.counters, [("orders.made".into(), 3)]);
        assert_eq!(custom.rates, [("logins".into(), 1)]);
        assert_eq!(custom.histograms[0].0.as_ref(), "cart.size");
        assert_eq!(custom.histograms[0].1.count(), 2);
        // An interval without them sends none.
        let plain = serde_json::to_string(&Recorder::new(1, 1).take_interval().to_wire(&no_names())).unwrap();
        assert!(!plain.contains("custom"), "{plain}");
    }

    #[test]
    fn bad_wire_input_is_an_error() {
        let mut w = sample(3).to_wire(&no_names());
        w.endpoints[0].response_time = Some(WireHist { h: "not base64!".into(), min: 0, max: 0, sum: 0 });
        assert!(Interval::from_wire(&w, &no_names()).is_err());
        let w = WireInterval { created: vec![0; MAX_ITEMS + 1], ..Default::default() };
        assert!(Interval::from_wire(&w, &no_names()).is_err());
        let mut w = sample(3).to_wire(&no_names());
        w.endpoints[0].slowest[0].trace_id = "not hex".into();
        assert!(Interval::from_wire(&w, &no_names()).is_err());
        let mut w = sample(3).to_wire(&no_names());
        let extra = w.endpoints[0].slowest[0].clone();
        w.endpoints[0].slowest.push(extra);
        assert!(Interval::from_wire(&w, &no_names()).is_err(), "more than a recorder keeps");
    }
}
