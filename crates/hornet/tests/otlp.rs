//! OTLP end to end: a collector on loopback receives what `--otlp` (and `--otlp-traces`) send, and
//! decodes it with the official OpenTelemetry messages (the `opentelemetry-proto` crate): the
//! metrics pushed every interval and at the end against the report, and the client spans of sampled
//! requests against the `traceparent`s the target received.

mod common;

use std::collections::{HashMap, HashSet};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use common::*;
use hornet_target::{RunningTarget, TargetOptions};
use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::collector::trace::v1::ExportTraceServiceRequest;
use opentelemetry_proto::tonic::common::v1::{KeyValue, any_value::Value as Any};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Metric, NumberDataPoint, metric::Data, number_data_point,
};
use opentelemetry_proto::tonic::trace::v1::{Span, span::SpanKind, status::StatusCode};
use prost::Message;

fn recording_target() -> RunningTarget {
    RunningTarget::start_recording(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 }, false)
        .expect("start target")
}

/// One request a collector received.
struct Received {
    path: String,
    content_type: String,
    body: Vec<u8>,
}

/// An OTLP/HTTP collector on loopback: it answers every request 200 and keeps it.
struct Collector {
    url: String,
    received: Arc<Mutex<Vec<Received>>>,
    stop: Arc<AtomicBool>,
    thread: Option<std::thread::JoinHandle<()>>,
}

impl Collector {
    fn start() -> Collector {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        listener.set_nonblocking(true).expect("nonblocking");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let received = Arc::new(Mutex::new(Vec::new()));
        let stop = Arc::new(AtomicBool::new(false));
        let (kept, stopped) = (received.clone(), stop.clone());
        let thread = std::thread::spawn(move || {
            let deadline = Instant::now() + Duration::from_secs(120);
            while !stopped.load(Ordering::Relaxed) && Instant::now() < deadline {
                match listener.accept() {
                    Ok((stream, _)) => {
                        if let Some(r) = read_request(stream) {
                            kept.lock().unwrap().push(r);
                        }
                    }
                    Err(_) => std::thread::sleep(Duration::from_millis(5)),
                }
            }
        });
        Collector { url, received, stop, thread: Some(thread) }
    }

    /// Stops and returns what was received, in order.
    fn stop(mut self) -> Vec<Received> {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(t) = self.thread.take() {
            t.join().expect("the collector");
        }
        std::mem::take(&mut *self.received.lock().unwrap())
    }
}

/// Reads one request and answers it.
fn read_request(stream: std::net::TcpStream) -> Option<Received> {
    stream.set_nonblocking(false).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(20))).ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut request_line = String::new();
    reader.read_line(&mut request_line).ok()?;
    let (mut length, mut content_type) = (0usize, String::new());
    loop {
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let line = line.trim_end();
        if line.is_empty() {
            break;
        }
        let (name, value) = line.split_once(':')?;
        match name.to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().ok()?,
            "content-type" => content_type = value.trim().to_string(),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    reader.read_exact(&mut body).ok()?;
    let mut stream = stream;
    stream.write_all(b"HTTP/1.1 200 OK\r\ncontent-length: 0\r\nconnection: close\r\n\r\n").ok()?;
    let path = request_line.split(' ').nth(1).unwrap_or_default().to_string();
    Some(Received { path, content_type, body })
}

/// The metrics requests among `received`, decoded, in order.
fn metrics_pushes(received: &[Received]) -> Vec<ExportMetricsServiceRequest> {
    received
        .iter()
        .filter(|r| r.path == "/v1/metrics")
        .map(|r| {
            assert_eq!(r.content_type, "application/x-protobuf");
            ExportMetricsServiceRequest::decode(r.body.as_slice()).expect("a valid OTLP metrics request")
        })
        .collect()
}

/// Every span of the traces requests among `received`.
fn spans(received: &[Received]) -> Vec<Span> {
    received
        .iter()
        .filter(|r| r.path == "/v1/traces")
        .flat_map(|r| {
            assert_eq!(r.content_type, "application/x-protobuf");
            let request =
                ExportTraceServiceRequest::decode(r.body.as_slice()).expect("a valid OTLP traces request");
            request.resource_spans.into_iter().flat_map(|rs| rs.scope_spans).flat_map(|ss| ss.spans)
        })
        .collect()
}

fn attr<'a>(attributes: &'a [KeyValue], key: &str) -> Option<&'a Any> {
    attributes.iter().find(|a| a.key == key)?.value.as_ref()?.value.as_ref()
}

fn string(attributes: &[KeyValue], key: &str) -> String {
    match attr(attributes, key) {
        Some(Any::StringValue(s)) => s.clone(),
        other => panic!("{key}: {other:?}"),
    }
}

fn metric<'a>(request: &'a ExportMetricsServiceRequest, name: &str) -> &'a Metric {
    request.resource_metrics[0].scope_metrics[0]
        .metrics
        .iter()
        .find(|m| m.name == name)
        .unwrap_or_else(|| panic!("no {name}"))
}

/// The points of the monotonic, cumulative sum `name`.
fn sum_points<'a>(request: &'a ExportMetricsServiceRequest, name: &str) -> &'a [NumberDataPoint] {
    match &metric(request, name).data {
        Some(Data::Sum(s)) => {
            assert!(s.is_monotonic, "{name}");
            assert_eq!(s.aggregation_temporality, AggregationTemporality::Cumulative as i32, "{name}");
            &s.data_points
        }
        other => panic!("{name} is not a sum: {other:?}"),
    }
}

fn int_value(p: &NumberDataPoint) -> u64 {
    match p.value {
        Some(number_data_point::Value::AsInt(n)) => u64::try_from(n).expect("a count"),
        other => panic!("{other:?}"),
    }
}

/// The count of sum `name` for endpoint `endpoint` (and the further attribute `extra`).
fn count(
    request: &ExportMetricsServiceRequest,
    name: &str,
    endpoint: &str,
    extra: Option<(&str, &Any)>,
) -> u64 {
    sum_points(request, name)
        .iter()
        .filter(|p| string(&p.attributes, "hornet.endpoint") == endpoint)
        .filter(|p| extra.is_none_or(|(k, v)| attr(&p.attributes, k) == Some(v)))
        .map(int_value)
        .sum()
}

#[test]
fn otlp_metrics_are_pushed_every_interval_and_the_last_push_is_the_reports() {
    let t = recording_target();
    let yaml = with_target(
        "config:\n  target: TARGET\n  phases: [{ duration: 3, arrivalRate: 5 }]\nscenarios:\n  - name: shop\n    flow:\n      - get: { url: /json }\n      - get: { url: /delay/30, name: slow }\n      - get: { url: /status/503, name: broken }\n",
        &t,
    );
    let collector = Collector::start();
    let report = run_yaml_ok(
        &yaml,
        &["-q", "--trace", "--testid", "otlp-1", "--push-interval", "1", "--otlp", &collector.url],
    );
    let received = collector.stop();
    let pushes = metrics_pushes(&received);
    assert!(pushes.len() >= 3, "a push a second and the last: {}", pushes.len());
    let last = pushes.last().expect("a push");
    let rm = &last.resource_metrics[0];
    let resource = &rm.resource.as_ref().expect("a resource").attributes;
    assert_eq!(string(resource, "hornet.testid"), "otlp-1");
    assert_eq!(string(resource, "service.name"), "hornet");
    assert_eq!(rm.scope_metrics[0].scope.as_ref().map(|s| s.name.as_str()), Some("hornet"));

    // Cumulative: every push starts at the run's start, and the counts only grow.
    let requests_of = |p: &ExportMetricsServiceRequest| -> u64 {
        sum_points(p, "hornet.requests").iter().map(int_value).sum()
    };
    let start = sum_points(last, "hornet.requests")[0].start_time_unix_nano;
    assert!(start > 1_600_000_000_000_000_000, "a wall-clock time: {start}");
    for pair in pushes.windows(2) {
        assert!(requests_of(&pair[0]) <= requests_of(&pair[1]), "cumulative counts never go down");
        for p in sum_points(&pair[1], "hornet.requests") {
            assert_eq!(p.start_time_unix_nano, start, "one start for the whole run");
            assert!(p.time_unix_nano > p.start_time_unix_nano);
        }
    }
    assert!(requests_of(&pushes[0]) < requests_of(last), "the first push came during the run");

    // The last push is the report's, per endpoint.
    let port = t.addr().port();
    for name in ["GET /json", "slow", "broken"] {
        let e = endpoint(&report, name);
        assert_eq!(count(last, "hornet.requests", name, None), e["requests"].as_u64().unwrap(), "{name}");
        assert_eq!(count(last, "hornet.failures", name, None), e["failures"].as_u64().unwrap(), "{name}");
        for (code, n) in e["codes"].as_object().unwrap() {
            let status = Any::IntValue(code.parse().unwrap());
            assert_eq!(
                count(last, "hornet.responses", name, Some(("http.response.status_code", &status))),
                n.as_u64().unwrap(),
                "{name} {code}"
            );
        }
    }
    assert_eq!(count(last, "hornet.failures", "broken", None), 15);

    let Some(Data::Histogram(h)) = &metric(last, "http.client.request.duration").data else {
        panic!("a histogram")
    };
    assert_eq!(metric(last, "http.client.request.duration").unit, "s");
    assert_eq!(h.aggregation_temporality, AggregationTemporality::Cumulative as i32);
    assert_eq!(h.data_points.len(), 3);
    let traced: HashSet<&str> = report["traced_requests"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["trace_id"].as_str().unwrap())
        .collect();
    for p in &h.data_points {
        let name = string(&p.attributes, "hornet.endpoint");
        let e = endpoint(&report, &name);
        assert_eq!(p.count, e["summary"]["count"].as_u64().unwrap(), "{name}");
        assert_eq!(p.bucket_counts.iter().sum::<u64>(), p.count, "{name}");
        assert_eq!(p.bucket_counts.len(), p.explicit_bounds.len() + 1);
        let mean_s = p.sum.expect("a sum") / p.count as f64;
        assert!((mean_s * 1000.0 - e["summary"]["mean"].as_f64().unwrap()).abs() < 0.01, "{name}");
        assert_eq!(string(&p.attributes, "http.request.method"), "GET", "{name}: the plan's method");
        assert_eq!(string(&p.attributes, "hornet.scenario"), "shop");
        assert_eq!(string(&p.attributes, "hornet.testid"), "otlp-1");
        assert_eq!(string(&p.attributes, "server.address"), "127.0.0.1");
        assert_eq!(attr(&p.attributes, "server.port"), Some(&Any::IntValue(i64::from(port))));
        // Exemplars are requests kept with the trace ids they were sent with.
        for x in &p.exemplars {
            let id: String = x.trace_id.iter().map(|b| format!("{b:02x}")).collect();
            assert!(traced.contains(id.as_str()), "{name}: exemplar {id} is not a traced request");
        }
    }
    // /delay/30 waits at least 30 ms: nothing of `slow` in the buckets up to 25 ms.
    let slow = h.data_points.iter().find(|p| string(&p.attributes, "hornet.endpoint") == "slow").unwrap();
    let below_30ms = slow.explicit_bounds.iter().take_while(|b| **b <= 0.025).count();
    assert_eq!(slow.bucket_counts[..below_30ms].iter().sum::<u64>(), 0, "{slow:?}");
    assert!(!slow.exemplars.is_empty(), "with --trace, the slowest requests are exemplars");

    let Some(Data::Gauge(g)) = &metric(last, "hornet.request.duration.quantile").data else {
        panic!("a gauge")
    };
    let p95 = g
        .data_points
        .iter()
        .find(|p| {
            string(&p.attributes, "hornet.endpoint") == "slow" && string(&p.attributes, "quantile") == "0.95"
        })
        .expect("slow's p95");
    let Some(number_data_point::Value::AsDouble(seconds)) = p95.value else { panic!("{p95:?}") };
    let report_p95 = endpoint(&report, "slow")["summary"]["p95"].as_f64().unwrap();
    assert!((seconds * 1000.0 - report_p95).abs() < 1e-6, "{seconds} s, the report says {report_p95} ms");
    let sent: u64 = ["GET /json", "slow", "broken"]
        .iter()
        .map(|n| endpoint(&report, n)["requests"].as_u64().unwrap())
        .sum();
    assert_eq!(
        spans(&received).len() as u64,
        sent,
        "with tracing on, --otlp gets every sampled request's span too"
    );
}

/// The (trace id, span id, sampled) of a W3C `traceparent`.
fn ids(traceparent: &str) -> (String, String, bool) {
    let parts: Vec<&str> = traceparent.split('-').collect();
    assert_eq!(parts.len(), 4, "{traceparent}");
    (parts[1].to_string(), parts[2].to_string(), parts[3] == "01")
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

#[test]
fn sampled_requests_are_exported_as_client_spans_with_the_ids_they_were_sent_with() {
    let t = recording_target();
    let yaml = with_target(
        "config:\n  target: TARGET\n  phases: [{ duration: 1, arrivalCount: 50 }]\n  tracing: { sampleRate: 0.5 }\nscenarios:\n  - name: browse\n    flow:\n      - get: { url: /json }\n      - get: { url: /status/503, name: broken }\n",
        &t,
    );
    let (metrics, traces) = (Collector::start(), Collector::start());
    let report = run_yaml_ok(
        &yaml,
        &["-q", "--testid", "spans-1", "--otlp", &metrics.url, "--otlp-traces", &traces.url],
    );
    let (to_metrics, to_traces) = (metrics.stop(), traces.stop());
    assert!(spans(&to_metrics).is_empty(), "--otlp-traces takes the spans");
    assert!(!metrics_pushes(&to_metrics).is_empty());
    assert!(metrics_pushes(&to_traces).is_empty());
    let spans = spans(&to_traces);

    // Every request the target received, by the ids it was sent with.
    let received = t.trace_contexts().expect("recording");
    assert_eq!(received.len(), 100);
    let sent: HashMap<(String, String), (String, bool)> = received
        .iter()
        .map(|r| {
            let (trace, span, sampled) = ids(&r.traceparent);
            ((trace, span), (r.request.clone(), sampled))
        })
        .collect();
    let sampled = sent.values().filter(|(_, s)| *s).count();
    // Binomial: 5 standard deviations around 100 · 0.5.
    assert!((25..=75).contains(&sampled), "{sampled} of 100 sampled");
    assert_eq!(spans.len(), sampled, "one span per sampled request, none for the others");

    let port = i64::from(t.addr().port());
    let mut seen = HashSet::new();
    for span in &spans {
        let key = (hex(&span.trace_id), hex(&span.span_id));
        let (request, was_sampled) = sent.get(&key).unwrap_or_else(|| panic!("{key:?} was never sent"));
        assert!(was_sampled, "{key:?} was not sampled");
        assert!(seen.insert(key.clone()), "{key:?} exported twice");
        assert_eq!(span.kind, SpanKind::Client as i32);
        assert!(span.parent_span_id.is_empty(), "hornet's span is the root of the trace");
        assert!(span.end_time_unix_nano > span.start_time_unix_nano);
        assert!(span.start_time_unix_nano > 1_600_000_000_000_000_000);
        let a = &span.attributes;
        assert_eq!(string(a, "http.request.method"), "GET");
        assert_eq!(string(a, "server.address"), "127.0.0.1");
        assert_eq!(attr(a, "server.port"), Some(&Any::IntValue(port)));
        assert_eq!(string(a, "hornet.testid"), "spans-1");
        assert_eq!(string(a, "hornet.scenario"), "browse");
        let status = span.status.as_ref().map(|s| s.code);
        match request.as_str() {
            "GET /json" => {
                assert_eq!(string(a, "hornet.endpoint"), "GET /json");
                assert_eq!(string(a, "url.template"), "/json");
                assert_eq!(attr(a, "http.response.status_code"), Some(&Any::IntValue(200)));
                assert_eq!(attr(a, "error.type"), None);
                assert_eq!(status, Some(StatusCode::Unset as i32));
            }
            "GET /status/503" => {
                assert_eq!(string(a, "hornet.endpoint"), "broken");
                assert_eq!(span.name, "broken");
                assert_eq!(attr(a, "http.response.status_code"), Some(&Any::IntValue(503)));
                assert_eq!(string(a, "error.type"), "503");
                assert_eq!(status, Some(StatusCode::Error as i32));
            }
            other => panic!("unexpected request {other}"),
        }
    }
    // The spans' durations are the requests' latencies: none is longer than the run.
    let run_ns = (report["run"]["duration_s"].as_f64().unwrap() * 1e9) as u64;
    assert!(spans.iter().all(|s| s.end_time_unix_nano - s.start_time_unix_nano <= run_ns));
    let first = spans.iter().map(|s| s.start_time_unix_nano).min().unwrap();
    let end = spans.iter().map(|s| s.end_time_unix_nano).max().unwrap();
    assert!(end - first <= run_ns + 1_000_000_000, "the spans lie within the run");
}

#[test]
fn otlp_traces_needs_tracing_and_without_a_collector_nothing_is_exported() {
    let t = recording_target();
    let yaml = with_target(
        "config:\n  target: TARGET\n  phases: [{ duration: 1, arrivalCount: 2 }]\nscenarios:\n  - flow:\n      - get: { url: /json }\n",
        &t,
    );
    let case = Case::new();
    let script = case.script("test.yaml", &yaml);
    let (out, _) = run_script(&case, &script, &["-q", "--otlp-traces", "http://127.0.0.1:9/"]);
    assert_eq!(out.status.code(), Some(2), "{}", text(&out));
    assert!(text(&out).contains("turn tracing on with --trace"), "{}", text(&out));
    assert!(t.trace_contexts().expect("recording").is_empty(), "nothing ran");

    // --otlp without tracing: metrics only.
    let collector = Collector::start();
    run_yaml_ok(&yaml, &["-q", "--otlp", &collector.url]);
    let received = collector.stop();
    assert!(received.iter().all(|r| r.path == "/v1/metrics"), "no spans without tracing");
    assert!(!received.is_empty());
}

#[test]
fn an_artillery_open_telemetry_entry_pushes_the_metrics_and_turns_tracing_on() {
    let t = recording_target();
    let collector = Collector::start();
    let yaml = with_target(
        &format!(
            "config:\n  target: TARGET\n  phases: [{{ duration: 1, arrivalCount: 4 }}]\n  plugins:\n    publish-metrics:\n      - type: open-telemetry\n        metrics:\n          endpoint: {}\n          exporter: otlp-proto\n        traces:\n          sampleRate: 1\nscenarios:\n  - flow:\n      - get: {{ url: /json }}\n",
            collector.url
        ),
        &t,
    );
    let report = run_yaml_ok(&yaml, &["-q"]);
    let received = collector.stop();
    let last = metrics_pushes(&received).pop().expect("a metrics push");
    assert_eq!(count(&last, "hornet.requests", "GET /json", None), 4);
    let received = t.trace_contexts().expect("recording");
    assert_eq!(received.len(), 4, "traces: turns tracing on");
    assert!(received.iter().all(|r| ids(&r.traceparent).2), "sampleRate 1: all sampled");
    assert_eq!(report["traced_requests"].as_array().map(Vec::len), Some(4));
}

#[test]
fn a_distributed_run_exports_its_metrics_once_from_the_controller() {
    let t = recording_target();
    let yaml = with_target(
        "config:\n  target: TARGET\n  phases: [{ duration: 2, arrivalRate: 10 }]\nscenarios:\n  - flow:\n      - get: { url: /json }\n",
        &t,
    );
    let collector = Collector::start();
    let report =
        run_yaml_ok(&yaml, &["-q", "--local-workers", "2", "--push-interval", "1", "--otlp", &collector.url]);
    let pushes = metrics_pushes(&collector.stop());
    let requests = endpoint(&report, "GET /json")["requests"].as_u64().unwrap();
    assert_eq!(requests, 20);
    let last = pushes.last().expect("a push");
    assert_eq!(count(last, "hornet.requests", "GET /json", None), requests, "the merged figures");
    // One exporter: its pushes' counts only grow (a worker's own push would carry its half).
    let counts: Vec<u64> = pushes.iter().map(|p| count(p, "hornet.requests", "GET /json", None)).collect();
    assert!(counts.windows(2).all(|w| w[0] <= w[1]), "{counts:?}");
    assert!(pushes.len() <= 2 + 4, "one push a second and the last, not one per worker: {}", pushes.len());
}

#[test]
fn hornet_report_sends_a_saved_runs_final_figures_as_the_live_run_did() {
    let t = recording_target();
    let yaml = with_target(
        "config:\n  target: TARGET\n  phases: [{ duration: 1, arrivalCount: 6 }]\nscenarios:\n  - flow:\n      - get: { url: /json }\n      - get: { url: /delay/30, name: slow }\n      - get: { url: /status/404, name: missing }\n",
        &t,
    );
    let live = Collector::start();
    let case = Case::new();
    let script = case.script("test.yaml", &yaml);
    let report = run_ok(&case, &script, &["-q", "--trace", "--testid", "saved-1", "--otlp", &live.url]);
    let live_push = metrics_pushes(&live.stop()).pop().expect("the live run's last push");

    let saved = Collector::start();
    let out = hornet()
        .arg("report")
        .arg(case.report_path())
        .args(["--otlp", &saved.url])
        .output()
        .expect("hornet report");
    assert!(out.status.success(), "{}", text(&out));
    let pushes = metrics_pushes(&saved.stop());
    assert_eq!(pushes.len(), 1, "one push of the saved run");
    let saved_push = &pushes[0];
    let resource = &saved_push.resource_metrics[0].resource.as_ref().expect("a resource").attributes;
    assert_eq!(string(resource, "hornet.testid"), "saved-1");
    for name in ["GET /json", "slow", "missing"] {
        let e = endpoint(&report, name);
        for metric in ["hornet.requests", "hornet.failures"] {
            let (live, saved) =
                (count(&live_push, metric, name, None), count(saved_push, metric, name, None));
            assert_eq!((live, saved), (live, live), "{metric} {name}");
        }
        assert_eq!(count(saved_push, "hornet.requests", name, None), e["requests"].as_u64().unwrap());
        let histogram =
            |p: &ExportMetricsServiceRequest| match &metric(p, "http.client.request.duration").data {
                Some(Data::Histogram(h)) => h
                    .data_points
                    .iter()
                    .find(|d| string(&d.attributes, "hornet.endpoint") == name)
                    .map(|d| (d.count, d.bucket_counts.clone(), d.explicit_bounds.clone()))
                    .expect("a point"),
                other => panic!("{other:?}"),
            };
        assert_eq!(histogram(saved_push), histogram(&live_push), "{name}: the same buckets");
    }
    assert_eq!(count(saved_push, "hornet.failures", "missing", None), 6);
}
