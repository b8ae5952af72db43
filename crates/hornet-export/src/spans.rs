//! OTLP span export: the client span of every sampled request of a traced run, with the trace and
//! span ids its `traceparent` carried, sent in batches to a collector's `/v1/traces`
//! (OTLP/HTTP, protobuf) from a thread of its own.
//!
//! Virtual users hand finished spans to a bounded queue and never wait: when it is full, the span
//! is counted as dropped. The exporting thread sleeps between flushes (it is never woken per
//! span), empties the queue once a second into requests of at most [`BATCH`] spans, and empties
//! it a last time when the run ends. A run without span export has no [`SpanExporter`].

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender, SyncSender, TrySendError, channel, sync_channel};
use std::thread::JoinHandle;
use std::time::Duration;

use hornet_metrics::{FinishedSpan, SpanSink};
use hornet_script::Plan;
use http::Method;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::KeyValue;
use opentelemetry_proto::tonic::resource::v1::Resource;
use opentelemetry_proto::tonic::trace::v1::{ResourceSpans, ScopeSpans, Span, Status, span, status};

use crate::otlp::{self, OtlpRun, int, text};

/// The most spans the queue holds; more are dropped until the exporter empties it.
pub const QUEUE: usize = 16_384;
/// The most spans one request carries.
pub const BATCH: usize = 2_048;
/// Time between flushes.
const FLUSH_INTERVAL: Duration = Duration::from_secs(1);
/// How long the end of a run waits for the last spans to be sent.
const LAST_FLUSH_WAIT: Duration = Duration::from_secs(2 * crate::http::REQUEST_TIMEOUT.as_secs() + 1);

/// `W3C trace flags: sampled`, in the span's `flags`.
const SAMPLED_FLAG: u32 = 1;

/// The queue virtual users hand their spans to.
#[derive(Debug)]
struct SpanQueue {
    spans: SyncSender<FinishedSpan>,
    dropped: Arc<AtomicU64>,
}

impl SpanSink for SpanQueue {
    fn offer(&self, span: FinishedSpan) {
        if let Err(TrySendError::Full(_) | TrySendError::Disconnected(_)) = self.spans.try_send(span) {
            self.dropped.fetch_add(1, Ordering::Relaxed);
        }
    }
}

/// What a run's span export did, said at its end.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct SpanCounts {
    /// Spans the collector accepted.
    pub sent: u64,
    /// Spans dropped because the queue was full.
    pub dropped: u64,
    /// Spans in requests that failed (the collector was down or refused them).
    pub failed: u64,
}

/// The endpoint attributes of a span, read from the plan once.
#[derive(Debug, Clone)]
struct EndpointAttributes {
    /// The span's name: the endpoint's name.
    name: String,
    attributes: Vec<KeyValue>,
}

/// The span export of a run (see the module doc).
pub struct SpanExporter {
    queue: Arc<SpanQueue>,
    url: String,
    stop: Sender<()>,
    done: Receiver<(u64, u64)>,
    thread: Option<JoinHandle<()>>,
}

impl SpanExporter {
    /// Starts exporting the spans of a run of `plan` with `testid` to the collector at `url`
    /// (`http://host:4318`; `/v1/traces` is added unless the URL ends with it).
    pub fn start(url: &str, plan: &Plan, testid: &str) -> Result<SpanExporter, crate::ExportError> {
        let what = format!("--otlp-traces `{url}`");
        let traces = otlp::destination(url, "traces")
            .map_err(|source| crate::ExportError::Destination { what, source })?;
        let run = OtlpRun::new(testid, &[], plan.target.as_deref());
        let endpoints: Vec<EndpointAttributes> =
            plan.endpoints.iter().map(|e| endpoint_attributes(e, &run)).collect();
        let scenarios: Vec<String> = plan.scenarios.iter().map(|s| s.name.clone()).collect();
        let tls =
            crate::http::tls_config().map_err(|e| crate::ExportError::Thread(std::io::Error::other(e)))?;
        let (spans, queued) = sync_channel(QUEUE);
        let (stop, stopped) = channel();
        let (finished, done) = channel();
        let thread = std::thread::Builder::new()
            .name("hornet-spans".into())
            .spawn(move || {
                let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                    eprintln!("hornet: could not start the span exporter's runtime; no span is exported");
                    return;
                };
                let (mut sent, mut failed, mut warned) = (0u64, 0u64, false);
                loop {
                    let last =
                        !matches!(stopped.recv_timeout(FLUSH_INTERVAL), Err(RecvTimeoutError::Timeout));
                    let pending: Vec<FinishedSpan> = queued.try_iter().collect();
                    for batch in pending.chunks(BATCH) {
                        let request = traces_request(batch, &endpoints, &scenarios, &run);
                        let body = prost::Message::encode_to_vec(&request);
                        let headers = [("Content-Type", otlp::CONTENT_TYPE)];
                        match rt.block_on(traces.send(Method::POST, &headers, body, &tls)) {
                            Ok(()) => sent += batch.len() as u64,
                            Err(e) => {
                                failed += batch.len() as u64;
                                if !warned {
                                    warned = true;
                                    eprintln!("hornet: the span export to {} failed: {e}", traces.shown());
                                }
                            }
                        }
                    }
                    if last {
                        break;
                    }
                }
                let _ = finished.send((sent, failed));
            })
            .map_err(crate::ExportError::Thread)?;
        let queue = Arc::new(SpanQueue { spans, dropped: Arc::new(AtomicU64::new(0)) });
        Ok(SpanExporter { queue, url: url.to_owned(), stop, done, thread: Some(thread) })
    }

    /// The sink the run's virtual users hand their spans to.
    pub fn sink(&self) -> Arc<dyn SpanSink> {
        self.queue.clone()
    }

    /// Where the spans go, as given.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// Sends what is queued and stops, waiting for the last requests (at most about 20 s);
    /// returns what was sent, dropped and lost.
    pub fn finish(mut self) -> SpanCounts {
        let _ = self.stop.send(());
        let (sent, failed) = self.done.recv_timeout(LAST_FLUSH_WAIT).unwrap_or((0, 0));
        if let Some(t) = self.thread.take()
            && t.is_finished()
        {
            let _ = t.join();
        }
        SpanCounts { sent, dropped: self.queue.dropped.load(Ordering::Relaxed), failed }
    }
}

/// The attributes every span of endpoint `e` carries.
fn endpoint_attributes(e: &hornet_script::plan::Endpoint, run: &OtlpRun) -> EndpointAttributes {
    let method = e.method.as_deref().filter(|m| is_http_method(m)).unwrap_or("_OTHER");
    let mut attributes = vec![text("http.request.method", method)];
    attributes.extend(run.server.iter().cloned());
    // An unnamed request's name is its method and URL template (`GET /items/{{ id }}`).
    if let Some((_, template)) = e.name.split_once(' ').filter(|(m, _)| is_http_method(m)) {
        attributes.push(text("url.template", template));
    }
    attributes.extend(run.labels.iter().cloned());
    attributes.push(text("hornet.endpoint", &e.name));
    EndpointAttributes { name: e.name.clone(), attributes }
}

fn is_http_method(word: &str) -> bool {
    matches!(word, "GET" | "POST" | "PUT" | "DELETE" | "PATCH" | "HEAD" | "OPTIONS" | "TRACE" | "CONNECT")
}

/// The OTLP request of `spans`.
fn traces_request(
    spans: &[FinishedSpan],
    endpoints: &[EndpointAttributes],
    scenarios: &[String],
    run: &OtlpRun,
) -> ExportTraceServiceRequest {
    let spans = spans
        .iter()
        .map(|s| {
            let endpoint = endpoints.get(s.endpoint as usize);
            let mut attributes = match endpoint {
                Some(e) => e.attributes.clone(),
                None => run.labels.clone(),
            };
            if let Some(scenario) = scenarios.get(s.scenario as usize) {
                attributes.push(text("hornet.scenario", scenario));
            }
            if s.status != 0 {
                attributes.push(int("http.response.status_code", i64::from(s.status)));
            }
            let error_type = match s.error {
                Some(kind) => Some(kind.to_string()),
                None if s.failed => Some(s.status.to_string()),
                None => None,
            };
            let status = match &error_type {
                Some(t) => {
                    attributes.push(text("error.type", t));
                    Status { code: status::StatusCode::Error as i32, message: t.clone() }
                }
                None => Status::default(),
            };
            Span {
                trace_id: s.trace_id.to_vec(),
                span_id: s.span_id.to_vec(),
                flags: SAMPLED_FLAG,
                name: endpoint.map_or_else(|| "HTTP".to_owned(), |e| e.name.clone()),
                kind: span::SpanKind::Client as i32,
                start_time_unix_nano: s.start_unix_ns,
                end_time_unix_nano: s.start_unix_ns.saturating_add(s.duration_ns),
                attributes,
                status: Some(status),
                ..Default::default()
            }
        })
        .collect();
    ExportTraceServiceRequest {
        resource_spans: vec![ResourceSpans {
            resource: Some(Resource { attributes: run.resource.clone(), ..Default::default() }),
            scope_spans: vec![ScopeSpans { scope: Some(OtlpRun::scope()), spans, ..Default::default() }],
            ..Default::default()
        }],
    }
}

#[cfg(test)]
mod tests {
    use hornet_metrics::ErrorKind;

    use super::*;

    fn plan() -> Plan {
        let yaml = "config:\n  target: http://127.0.0.1:8080\nscenarios:\n  - name: shop\n    flow:\n      - get: { url: \"/items/{{ id }}\" }\n      - post: { url: /cart, name: add to cart }\n  - name: browse\n    flow:\n      - get: { url: \"/items/{{ id }}\" }\n";
        hornet_script::parse_str(yaml, "p.yaml", &Default::default()).expect("a plan")
    }

    fn span(endpoint: u32, status: u16, error: Option<ErrorKind>, failed: bool) -> FinishedSpan {
        FinishedSpan {
            trace_id: [7; 16],
            span_id: [9; 8],
            endpoint,
            scenario: 0,
            start_unix_ns: 1_700_000_000_000_000_000,
            duration_ns: 42_000_000,
            status,
            error,
            failed,
        }
    }

    fn attr<'a>(
        s: &'a Span,
        key: &str,
    ) -> Option<&'a opentelemetry_proto::tonic::common::v1::any_value::Value> {
        s.attributes.iter().find(|a| a.key == key)?.value.as_ref()?.value.as_ref()
    }

    #[test]
    fn spans_carry_the_ids_times_and_the_conventions_attributes() {
        use opentelemetry_proto::tonic::common::v1::any_value::Value;
        let plan = plan();
        let run = OtlpRun::new("t-1", &[], plan.target.as_deref());
        let endpoints: Vec<_> = plan.endpoints.iter().map(|e| endpoint_attributes(e, &run)).collect();
        let request = traces_request(
            &[
                span(0, 200, None, false),
                span(1, 503, None, true),
                span(1, 0, Some(ErrorKind::Timeout), true),
                FinishedSpan { scenario: 1, ..span(0, 200, None, false) },
            ],
            &endpoints,
            &["shop".to_owned(), "browse".to_owned()],
            &run,
        );
        let spans = &request.resource_spans[0].scope_spans[0].spans;
        let ok = &spans[0];
        assert_eq!((ok.trace_id.as_slice(), ok.span_id.as_slice()), (&[7u8; 16][..], &[9u8; 8][..]));
        assert_eq!(ok.kind, span::SpanKind::Client as i32);
        assert_eq!(ok.end_time_unix_nano - ok.start_time_unix_nano, 42_000_000);
        assert_eq!(ok.name, "GET /items/{{ id }}");
        assert_eq!(attr(ok, "http.request.method"), Some(&Value::StringValue("GET".into())));
        assert_eq!(attr(ok, "url.template"), Some(&Value::StringValue("/items/{{ id }}".into())));
        assert_eq!(attr(ok, "server.port"), Some(&Value::IntValue(8080)));
        assert_eq!(attr(ok, "http.response.status_code"), Some(&Value::IntValue(200)));
        assert_eq!(attr(ok, "hornet.scenario"), Some(&Value::StringValue("shop".into())));
        assert_eq!(attr(ok, "error.type"), None);
        assert_eq!(ok.status.as_ref().map(|s| s.code), Some(status::StatusCode::Unset as i32));
        let refused = &spans[1];
        assert_eq!(attr(refused, "hornet.endpoint"), Some(&Value::StringValue("add to cart".into())));
        assert_eq!(attr(refused, "url.template"), None, "a named request");
        assert_eq!(attr(refused, "error.type"), Some(&Value::StringValue("503".into())));
        assert_eq!(refused.status.as_ref().map(|s| s.code), Some(status::StatusCode::Error as i32));
        let timed_out = &spans[2];
        assert_eq!(attr(timed_out, "error.type"), Some(&Value::StringValue("timeout".into())));
        assert_eq!(attr(timed_out, "http.response.status_code"), None);
        // An endpoint two scenarios share: each span names its own VU's scenario.
        assert_eq!(attr(&spans[3], "hornet.scenario"), Some(&Value::StringValue("browse".into())));
        assert_eq!(attr(&spans[3], "hornet.endpoint"), attr(ok, "hornet.endpoint"));
    }

    #[test]
    fn a_full_queue_drops_and_counts_instead_of_waiting() {
        let (spans, _queued) = sync_channel(2);
        let queue = SpanQueue { spans, dropped: Arc::new(AtomicU64::new(0)) };
        for _ in 0..5 {
            queue.offer(span(0, 200, None, false));
        }
        assert_eq!(queue.dropped.load(Ordering::Relaxed), 3);
    }
}
