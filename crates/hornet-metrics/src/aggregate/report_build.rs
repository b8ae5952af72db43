//! Building the final [`Report`] from everything an [`Aggregator`] merged: run-wide counters,
//! rates, summaries and encoded histograms, one entry per endpoint, the errors, the timeline as
//! interval reports, and the warnings; and the lighter [`Aggregator::figures`] that live checks read.

use std::collections::BTreeMap;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use super::Aggregator;
use crate::apdex::Apdex;
use crate::generator::{LAG_WARNING_MS, is_lag_warning, run_lag_warning};
use crate::hist::Hist;
use crate::interval::{EndpointStats, ErrorSlots, ExpectSlots, WsStats, add_code};
use crate::kinds::{EXPECT_SLOTS, ErrorKind, expect_slot_name};
use crate::report::{
    Aggregate, EXPECT_FAILED, EXPECT_OK, EndpointExpectations, EndpointReport, ErrorReport, FAILURES,
    GENERATOR_CPU, GENERATOR_CPU_MAX, GeneratorReport, ITERATIONS_LATE, IntervalReport, REQUEST_RATE,
    REQUESTS_DROPPED, RESPONSE_TIME, RESPONSE_TIME_CORRECTED, Report, RunInfo, RunMeta, SCHEMA,
    WS_CONNECT_TIME, WS_RTT,
};
use crate::timeline::Point;

impl Aggregator {
    /// The report of everything merged so far. Rates divide by `meta.duration`.
    ///
    /// `warnings` holds every warning raised during the run plus, when the run-wide schedule-lag
    /// p99 is above [`LAG_WARNING_MS`] and no lag warning was raised live, a run-wide one.
    pub fn report(&self, meta: RunMeta) -> Report {
        self.build_report(meta, Detail::Full)
    }

    /// The figures checks read, as a [`Report`]: counters, rates, summaries, endpoints (counts,
    /// codes, expectations, summaries) and errors, after `elapsed` of the run. Unlike
    /// [`Aggregator::report`] it encodes no histogram and carries no timeline (`histograms`,
    /// the endpoints' `histogram` fields and `intervals` are empty), which is what made a report
    /// too costly to build every second; `run` holds only the duration. Live checks
    /// (`hornet_verdict::LiveChecks`) evaluate this, with [`Aggregator::apdex`] for the apdex.
    pub fn figures(&self, elapsed: Duration) -> Report {
        let meta = RunMeta {
            script: None,
            target: None,
            started_at: UNIX_EPOCH,
            duration: elapsed,
            seed: 0,
            phases: serde_json::Value::Null,
            interrupted: false,
            hornet_version: String::new(),
            command: String::new(),
            test_id: String::new(),
        };
        self.build_report(meta, Detail::Figures)
    }

    /// The apdex of every response since the start (or the latest reset) for threshold
    /// `threshold_ms`: the same as [`Report::compute_apdex`] on the report built now, without
    /// encoding the histogram.
    pub fn apdex(&self, threshold_ms: f64) -> Apdex {
        match self.all_rt.histogram_ref() {
            Some(h) => Apdex::from_histogram(h, threshold_ms),
            None => Apdex::from_histogram(&crate::hist::new_histogram(), threshold_ms),
        }
    }

    fn build_report(&self, meta: RunMeta, detail: Detail) -> Report {
        let full = detail == Detail::Full;
        let t = &self.total;
        let duration = meta.duration;

        let mut counters = BTreeMap::new();
        counters.insert("http.requests".to_owned(), t.requests());
        counters.insert(REQUESTS_DROPPED.to_owned(), t.dropped);
        counters.insert("http.responses".to_owned(), t.responses());
        counters.insert("http.downloaded_bytes".to_owned(), t.bytes_received());
        counters.insert("http.uploaded_bytes".to_owned(), t.bytes_sent());
        let mut codes = Vec::new();
        for e in &t.endpoints {
            for &(c, n) in &e.codes {
                add_code(&mut codes, c, n);
            }
        }
        for (c, n) in codes {
            counters.insert(format!("http.codes.{c}"), n);
        }
        counters.insert("errors".to_owned(), t.errors());
        for kind in ErrorKind::ALL {
            let n = t.errors_of(kind);
            if n > 0 {
                counters.insert(format!("errors.{kind}"), n);
            }
        }
        counters.insert("vusers.created".to_owned(), t.vus_created());
        for i in 0..self.scenarios.len().max(t.created.len()) {
            let n = t.created.get(i).copied().unwrap_or(0);
            counters.insert(format!("vusers.created_by_name.{}", self.scenario_name(i)), n);
        }
        counters.insert("vusers.completed".to_owned(), t.vus_completed);
        counters.insert("vusers.failed".to_owned(), t.vus_failed);
        counters.insert("vusers.skipped".to_owned(), t.vus_skipped);
        counters.insert(ITERATIONS_LATE.to_owned(), t.iterations_late);
        let mut expects = ExpectSlots::default();
        for e in &t.endpoints {
            expects.merge(&e.expects);
        }
        counters.insert(EXPECT_OK.to_owned(), expects.ok_total());
        counters.insert(EXPECT_FAILED.to_owned(), expects.failed_total());
        for k in 0..EXPECT_SLOTS {
            let kind = expect_slot_name(k);
            if expects.ok[k] > 0 {
                counters.insert(format!("{EXPECT_OK}.{kind}"), expects.ok[k]);
            }
            if expects.failed[k] > 0 {
                counters.insert(format!("{EXPECT_FAILED}.{kind}"), expects.failed[k]);
            }
        }

        // After a reset the totals cover the time since it.
        let counted = duration.saturating_sub(self.reset_at.unwrap_or_default());
        let mut rates = BTreeMap::new();
        rates.insert(REQUEST_RATE.to_owned(), rate(t.requests(), counted));
        let no_ws = WsStats::default();
        let ws = self.has_ws().then(|| t.ws.as_deref().unwrap_or(&no_ws));
        if let Some(ws) = ws {
            ws_counters(ws, &mut counters);
            rates.insert("websocket.send_rate".to_owned(), rate(ws.messages_sent, counted));
            rates.insert("websocket.receive_rate".to_owned(), rate(ws.messages_received, counted));
        }

        // Run-wide histograms: the exact sum of the endpoints'.
        let mut rt = Hist::default();
        let mut corrected = Hist::default();
        let mut classes: [Hist; 5] = Default::default();
        let (mut dns, mut connect, mut tls, mut wait, mut receive) =
            (Hist::default(), Hist::default(), Hist::default(), Hist::default(), Hist::default());
        for e in &t.endpoints {
            rt.merge(&e.response_time);
            corrected.merge(&e.corrected);
            for (a, b) in classes.iter_mut().zip(&e.by_class) {
                a.merge(b);
            }
            dns.merge(&e.dns);
            connect.merge(&e.connect);
            tls.merge(&e.tls);
            wait.merge(&e.wait);
            receive.merge(&e.receive);
        }
        let mut summaries = BTreeMap::new();
        let mut histograms = BTreeMap::new();
        let mut put = |key: String, h: &Hist, always: bool| {
            if always || h.count() > 0 {
                summaries.insert(key.clone(), h.summary());
                if full {
                    histograms.insert(key, h.encode());
                }
            }
        };
        put(RESPONSE_TIME.to_owned(), &rt, true);
        put(RESPONSE_TIME_CORRECTED.to_owned(), &corrected, true);
        for (i, h) in classes.iter().enumerate() {
            put(format!("{RESPONSE_TIME}.{}xx", i + 1), h, false);
        }
        put("http.dns".to_owned(), &dns, false);
        put("http.connect".to_owned(), &connect, false);
        put("http.tls".to_owned(), &tls, false);
        put("http.wait".to_owned(), &wait, true);
        put("http.receive".to_owned(), &receive, true);
        put("vusers.session_length".to_owned(), &t.session_length, true);
        put("schedule.lag".to_owned(), &t.lag, true);
        if let Some(ws) = ws {
            put(WS_CONNECT_TIME.to_owned(), &ws.connect_time, true);
            put(WS_RTT.to_owned(), &ws.rtt, true);
        }
        // Processor metrics, under the names the processor gave them (as Artillery reports them).
        if let Some(custom) = &t.custom {
            for (name, h) in &custom.histograms {
                put(name.to_string(), h, true);
            }
            for (name, n) in &custom.counters {
                counters.insert(name.to_string(), *n);
            }
            for (name, n) in &custom.rates {
                rates.insert(name.to_string(), rate(*n, counted));
            }
        }

        let endpoint_count = self.endpoints.len().max(t.endpoints.len());
        let mut endpoints = Vec::with_capacity(endpoint_count);
        let mut errors = Vec::new();
        let empty = EndpointStats::default();
        for i in 0..endpoint_count {
            let (e, errors_of) = self.stats_of(t, i, &empty);
            if i >= self.endpoints.len() && e.requests == 0 && errors_of.total() == 0 {
                // A slot past the plan that this run did not use.
                continue;
            }
            let name = self.endpoint_name(i);
            let mut codes: Vec<_> = e.codes.clone();
            codes.sort_unstable();
            endpoints.push(EndpointReport {
                name: name.clone(),
                protocol: self.protocol(i),
                requests: e.requests,
                responses: e.responses,
                failures: self.failures_of(i, e, errors_of),
                codes: codes.into_iter().map(|(c, n)| (c.to_string(), n)).collect(),
                failed_codes: self.failed_statuses(i, e).map(|(c, n)| (c.to_string(), n)).collect(),
                errors: kind_counts(errors_of),
                expectations: endpoint_expectations(&e.expects),
                bytes_sent: e.bytes_sent,
                bytes_received: e.bytes_received,
                summary: e.response_time.summary(),
                histogram: if full { e.response_time.encode() } else { String::new() },
                summary_corrected: e.corrected.summary(),
                histogram_corrected: if full { e.corrected.encode() } else { String::new() },
            });
            push_errors(&mut errors, errors_of, Some(&name));
        }
        push_errors(&mut errors, &t.unattributed, None);

        let intervals = if full {
            let (kept, folded) = self.timeline.report_points();
            kept.iter().chain(folded.as_ref()).map(interval_report).collect()
        } else {
            Vec::new()
        };

        let mut warnings = self.watch.warnings().to_vec();
        let lag = t.lag.summary();
        if lag.p99 > LAG_WARNING_MS && !warnings.iter().any(|w| is_lag_warning(w)) {
            warnings.push(run_lag_warning(lag.p99));
        }
        if let Some(at) = self.reset_at {
            warnings.push(format!(
                "statistics were reset at {:.1} s: totals, percentiles and errors cover the last {:.1} s; the intervals cover the whole run",
                at.as_secs_f64(),
                counted.as_secs_f64()
            ));
        }
        let generator = self.watch.cpu().map(|c| GeneratorReport { cpu_mean: c.mean(), cpu_max: c.max });

        Report {
            schema: SCHEMA.to_owned(),
            hornet_version: meta.hornet_version,
            run: RunInfo {
                script: meta.script,
                target: meta.target,
                command: meta.command,
                started_at: rfc3339(meta.started_at),
                duration_s: seconds(duration),
                seed: meta.seed,
                phases: meta.phases,
                interrupted: meta.interrupted,
                host: None,
                test_id: meta.test_id,
                trace_link: None,
            },
            aggregate: Aggregate { counters, rates, summaries, histograms },
            endpoints,
            errors,
            intervals,
            checks: Vec::new(),
            apdex: None,
            any_corrected: t.any_corrected(),
            generator,
            warnings,
            workers: Vec::new(),
            traced_requests: if full { self.traced_requests() } else { Vec::new() },
        }
    }
}

/// How much of the report [`Aggregator::build_report`] builds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Detail {
    /// Everything: the report that is written.
    Full,
    /// No encoded histograms, no timeline: what checks read ([`Aggregator::figures`]).
    Figures,
}

/// The run-wide `websocket.*` counters.
fn ws_counters(ws: &WsStats, counters: &mut BTreeMap<String, u64>) {
    counters.insert("websocket.connections".to_owned(), ws.connections);
    counters.insert("websocket.messages_sent".to_owned(), ws.messages_sent);
    counters.insert("websocket.messages_received".to_owned(), ws.messages_received);
    counters.insert("websocket.bytes_sent".to_owned(), ws.bytes_sent);
    counters.insert("websocket.bytes_received".to_owned(), ws.bytes_received);
    for &(code, n) in &ws.close_codes {
        counters.insert(format!("websocket.close.{code}"), n);
    }
}

fn endpoint_expectations(slots: &ExpectSlots) -> EndpointExpectations {
    let by_kind = |counts: &[u64; EXPECT_SLOTS]| {
        counts
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(k, &n)| (expect_slot_name(k).to_owned(), n))
            .collect()
    };
    EndpointExpectations {
        ok: slots.ok_total(),
        failed: slots.failed_total(),
        ok_by_kind: by_kind(&slots.ok),
        failed_by_kind: by_kind(&slots.failed),
    }
}

/// `count / duration` in events per second; 0 for a zero duration.
pub(super) fn rate(count: u64, duration: Duration) -> f64 {
    let secs = duration.as_secs_f64();
    if secs > 0.0 { count as f64 / secs } else { 0.0 }
}

/// Seconds with microsecond precision.
fn seconds(d: Duration) -> f64 {
    d.as_micros() as f64 / 1e6
}

/// RFC 3339 in UTC with milliseconds; the epoch for times humantime cannot format.
fn rfc3339(t: SystemTime) -> String {
    use std::fmt::Write as _;
    // humantime panics before the epoch and fails from the year 10000 on.
    let formattable = t.duration_since(UNIX_EPOCH).is_ok_and(|d| d.as_secs() < 253_402_300_800);
    let mut s = String::new();
    if write!(s, "{}", humantime::format_rfc3339_millis(if formattable { t } else { UNIX_EPOCH })).is_err() {
        s = "1970-01-01T00:00:00.000Z".to_owned();
    }
    s
}

fn kind_counts(slots: &ErrorSlots) -> BTreeMap<ErrorKind, u64> {
    super::kind_counts(slots).into_iter().collect()
}

pub(super) fn push_errors(out: &mut Vec<ErrorReport>, slots: &ErrorSlots, endpoint: Option<&str>) {
    for kind in ErrorKind::ALL {
        let count = slots.counts[kind.index()];
        if count > 0 {
            out.push(ErrorReport {
                kind,
                endpoint: endpoint.map(str::to_owned),
                count,
                first_message: slots.first[kind.index()].as_deref().unwrap_or_default().to_owned(),
            });
        }
    }
}

fn interval_report(p: &Point) -> IntervalReport {
    let duration = p.end.saturating_sub(p.start);
    let mut counters = BTreeMap::new();
    counters.insert("http.requests".to_owned(), p.requests);
    counters.insert(REQUESTS_DROPPED.to_owned(), p.dropped);
    counters.insert("http.responses".to_owned(), p.responses);
    counters.insert("http.downloaded_bytes".to_owned(), p.downloaded_bytes);
    for &(c, n) in &p.codes {
        counters.insert(format!("http.codes.{c}"), n);
    }
    counters.insert("errors".to_owned(), p.error_total());
    counters.insert(FAILURES.to_owned(), p.failures());
    for kind in ErrorKind::ALL {
        let n = p.errors[kind.index()];
        if n > 0 {
            counters.insert(format!("errors.{kind}"), n);
        }
    }
    counters.insert("vusers.created".to_owned(), p.vus_created);
    counters.insert("vusers.completed".to_owned(), p.vus_completed);
    counters.insert("vusers.failed".to_owned(), p.vus_failed);
    counters.insert("vusers.skipped".to_owned(), p.vus_skipped);
    counters.insert(ITERATIONS_LATE.to_owned(), p.iterations_late);
    let mut rates = BTreeMap::new();
    rates.insert(REQUEST_RATE.to_owned(), rate(p.requests, duration));
    let mut summaries = BTreeMap::new();
    summaries.insert(RESPONSE_TIME.to_owned(), p.rt.summary);
    summaries.insert(RESPONSE_TIME_CORRECTED.to_owned(), p.corrected().summary);
    let mut histograms = BTreeMap::new();
    histograms.insert(RESPONSE_TIME.to_owned(), p.rt.histogram.clone());
    histograms.insert(RESPONSE_TIME_CORRECTED.to_owned(), p.corrected().histogram.clone());
    if let Some(ws) = &p.ws {
        counters.insert("websocket.messages_sent".to_owned(), ws.messages_sent);
        counters.insert("websocket.messages_received".to_owned(), ws.messages_received);
        counters.insert("websocket.bytes_sent".to_owned(), ws.bytes_sent);
        counters.insert("websocket.bytes_received".to_owned(), ws.bytes_received);
        counters.insert("websocket.connections".to_owned(), ws.connections);
        rates.insert("websocket.send_rate".to_owned(), rate(ws.messages_sent, duration));
        rates.insert("websocket.receive_rate".to_owned(), rate(ws.messages_received, duration));
        summaries.insert(WS_RTT.to_owned(), ws.rtt.summary);
        histograms.insert(WS_RTT.to_owned(), ws.rtt.histogram.clone());
    }
    let mut gauges = BTreeMap::new();
    if let Some(c) = p.cpu {
        gauges.insert(GENERATOR_CPU.to_owned(), c.mean());
        gauges.insert(GENERATOR_CPU_MAX.to_owned(), c.max);
    }
    IntervalReport {
        t_s: seconds(p.start),
        duration_s: seconds(duration),
        counters,
        rates,
        summaries,
        active_vus: p.active_vus,
        active_vus_max: p.active_vus_max,
        histograms,
        gauges,
    }
}
