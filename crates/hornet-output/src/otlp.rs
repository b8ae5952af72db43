//! OTLP metrics (`--otlp URL`): a report's figures as an OpenTelemetry `ExportMetricsServiceRequest`,
//! POSTed over HTTP/protobuf to `<URL>/v1/metrics` once, at the end of the run, from the merged
//! figures the report holds (so a distributed run exports once, from its controller).
//!
//! Temporality is cumulative: every point runs from the run's start to its end. Per endpoint:
//! `http.client.request.duration` (the OpenTelemetry semantic convention's histogram, seconds, with
//! its default buckets, exemplars carrying the trace ids of the slowest requests kept),
//! `hornet.requests`, `hornet.failures` and `hornet.request.duration.quantile` (the report's exact
//! p50, p95 and p99); per error kind `hornet.errors`. The messages are declared here with prost's
//! derive (field numbers from `opentelemetry/proto/metrics/v1/metrics.proto`), so no protoc is needed.

use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use hornet_metrics::{Report, decode_histogram, traces::from_hex};
use prost::Message;

/// The OpenTelemetry messages hornet sends, as in the official `.proto` files.
pub mod proto {
    #![allow(missing_docs)]

    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ExportMetricsServiceRequest {
        #[prost(message, repeated, tag = "1")]
        pub resource_metrics: Vec<ResourceMetrics>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ResourceMetrics {
        #[prost(message, optional, tag = "1")]
        pub resource: Option<Resource>,
        #[prost(message, repeated, tag = "2")]
        pub scope_metrics: Vec<ScopeMetrics>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Resource {
        #[prost(message, repeated, tag = "1")]
        pub attributes: Vec<KeyValue>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct ScopeMetrics {
        #[prost(message, optional, tag = "1")]
        pub scope: Option<InstrumentationScope>,
        #[prost(message, repeated, tag = "2")]
        pub metrics: Vec<Metric>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct InstrumentationScope {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub version: String,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Metric {
        #[prost(string, tag = "1")]
        pub name: String,
        #[prost(string, tag = "2")]
        pub description: String,
        #[prost(string, tag = "3")]
        pub unit: String,
        #[prost(oneof = "Data", tags = "5, 7, 9")]
        pub data: Option<Data>,
    }
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Data {
        #[prost(message, tag = "5")]
        Gauge(Gauge),
        #[prost(message, tag = "7")]
        Sum(Sum),
        #[prost(message, tag = "9")]
        Histogram(Histogram),
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Gauge {
        #[prost(message, repeated, tag = "1")]
        pub data_points: Vec<NumberDataPoint>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Sum {
        #[prost(message, repeated, tag = "1")]
        pub data_points: Vec<NumberDataPoint>,
        #[prost(int32, tag = "2")]
        pub aggregation_temporality: i32,
        #[prost(bool, tag = "3")]
        pub is_monotonic: bool,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Histogram {
        #[prost(message, repeated, tag = "1")]
        pub data_points: Vec<HistogramDataPoint>,
        #[prost(int32, tag = "2")]
        pub aggregation_temporality: i32,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct NumberDataPoint {
        #[prost(message, repeated, tag = "7")]
        pub attributes: Vec<KeyValue>,
        #[prost(fixed64, tag = "2")]
        pub start_time_unix_nano: u64,
        #[prost(fixed64, tag = "3")]
        pub time_unix_nano: u64,
        #[prost(oneof = "NumberValue", tags = "4, 6")]
        pub value: Option<NumberValue>,
    }
    #[derive(Clone, Copy, PartialEq, prost::Oneof)]
    pub enum NumberValue {
        #[prost(double, tag = "4")]
        AsDouble(f64),
        #[prost(sfixed64, tag = "6")]
        AsInt(i64),
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct HistogramDataPoint {
        #[prost(message, repeated, tag = "9")]
        pub attributes: Vec<KeyValue>,
        #[prost(fixed64, tag = "2")]
        pub start_time_unix_nano: u64,
        #[prost(fixed64, tag = "3")]
        pub time_unix_nano: u64,
        #[prost(fixed64, tag = "4")]
        pub count: u64,
        #[prost(double, optional, tag = "5")]
        pub sum: Option<f64>,
        #[prost(fixed64, repeated, tag = "6")]
        pub bucket_counts: Vec<u64>,
        #[prost(double, repeated, tag = "7")]
        pub explicit_bounds: Vec<f64>,
        #[prost(message, repeated, tag = "8")]
        pub exemplars: Vec<Exemplar>,
        #[prost(double, optional, tag = "11")]
        pub min: Option<f64>,
        #[prost(double, optional, tag = "12")]
        pub max: Option<f64>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct Exemplar {
        #[prost(fixed64, tag = "2")]
        pub time_unix_nano: u64,
        #[prost(double, tag = "3")]
        pub as_double: f64,
        #[prost(bytes = "vec", tag = "4")]
        pub span_id: Vec<u8>,
        #[prost(bytes = "vec", tag = "5")]
        pub trace_id: Vec<u8>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct KeyValue {
        #[prost(string, tag = "1")]
        pub key: String,
        #[prost(message, optional, tag = "2")]
        pub value: Option<AnyValue>,
    }
    #[derive(Clone, PartialEq, prost::Message)]
    pub struct AnyValue {
        #[prost(oneof = "Value", tags = "1, 3, 4")]
        pub value: Option<Value>,
    }
    #[derive(Clone, PartialEq, prost::Oneof)]
    pub enum Value {
        #[prost(string, tag = "1")]
        StringValue(String),
        #[prost(int64, tag = "3")]
        IntValue(i64),
        #[prost(double, tag = "4")]
        DoubleValue(f64),
    }

    /// `AGGREGATION_TEMPORALITY_CUMULATIVE`.
    pub const CUMULATIVE: i32 = 2;
}

use proto::*;

/// The OpenTelemetry semantic convention's default buckets of `http.client.request.duration`, s.
pub const DURATION_BUCKETS_S: [f64; 14] =
    [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0];

/// Reads one figure of a summary, ms.
type SummaryField = fn(&hornet_metrics::Summary) -> f64;

/// The quantiles of `hornet.request.duration.quantile`.
const QUANTILES: [(&str, SummaryField); 3] = [("0.5", |s| s.p50), ("0.95", |s| s.p95), ("0.99", |s| s.p99)];

fn text(key: &str, value: &str) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(Value::StringValue(value.into())) }) }
}

fn int(key: &str, value: i64) -> KeyValue {
    KeyValue { key: key.into(), value: Some(AnyValue { value: Some(Value::IntValue(value)) }) }
}

fn nanos(t: SystemTime) -> u64 {
    t.duration_since(UNIX_EPOCH).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
}

/// The method an endpoint's name starts with (`GET /x`), else `_OTHER`, as the convention says.
fn method_of(endpoint: &str) -> &str {
    const METHODS: [&str; 9] =
        ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS", "TRACE", "CONNECT"];
    let first = endpoint.split(' ').next().unwrap_or("");
    METHODS.iter().copied().find(|m| *m == first).unwrap_or("_OTHER")
}

/// `server.address` and `server.port` of the run's target, when it has one.
fn server_of(target: Option<&str>) -> Vec<KeyValue> {
    let Some(target) = target else { return Vec::new() };
    let (scheme, rest) = target.split_once("://").unwrap_or(("http", target));
    let authority = rest.split(['/', '?']).next().unwrap_or("");
    let authority = authority.rsplit_once('@').map_or(authority, |(_, a)| a);
    let default_port = if scheme.eq_ignore_ascii_case("https") { 443 } else { 80 };
    let (host, port) = match authority.strip_prefix('[').and_then(|a| a.split_once(']')) {
        // [v6]:port
        Some((host, rest)) => (host, rest.strip_prefix(':')),
        None => match authority.rsplit_once(':') {
            Some((host, port)) => (host, Some(port)),
            None => (authority, None),
        },
    };
    let port = port.and_then(|p| p.parse().ok()).unwrap_or(default_port);
    vec![text("server.address", host), int("server.port", i64::from(port))]
}

/// The run's figures in `report` as one OTLP metrics request (see the module doc).
pub fn metrics_request(report: &Report) -> ExportMetricsServiceRequest {
    let start = humantime::parse_rfc3339(&report.run.started_at).unwrap_or(UNIX_EPOCH);
    let end = start + Duration::from_secs_f64(report.run.duration_s.max(0.0));
    let (start, end) = (nanos(start), nanos(end));
    let server = server_of(report.run.target.as_deref());
    let number = |attributes: Vec<KeyValue>, value: NumberValue| NumberDataPoint {
        attributes,
        start_time_unix_nano: start,
        time_unix_nano: end,
        value: Some(value),
    };
    let (mut durations, mut requests, mut failures, mut quantiles) =
        (Vec::new(), Vec::new(), Vec::new(), Vec::new());
    for e in &report.endpoints {
        let mut attributes =
            vec![text("http.request.method", method_of(&e.name)), text("hornet.endpoint", &e.name)];
        attributes.extend(server.iter().cloned());
        let count = |n: u64| NumberValue::AsInt(i64::try_from(n).unwrap_or(i64::MAX));
        requests.push(number(attributes.clone(), count(e.requests)));
        failures.push(number(attributes.clone(), count(e.failures)));
        for (q, field) in QUANTILES {
            let mut a = attributes.clone();
            a.push(text("quantile", q));
            quantiles.push(number(a, NumberValue::AsDouble(field(&e.summary) / 1000.0)));
        }
        let mut buckets = vec![0u64; DURATION_BUCKETS_S.len() + 1];
        if let Ok(h) = decode_histogram(&e.histogram) {
            for v in h.iter_recorded() {
                let seconds = h.highest_equivalent(v.value_iterated_to()) as f64 / 1e6;
                let i =
                    DURATION_BUCKETS_S.iter().position(|b| seconds <= *b).unwrap_or(DURATION_BUCKETS_S.len());
                buckets[i] += v.count_at_value();
            }
        }
        let exemplars = report
            .traced_requests
            .iter()
            .filter(|t| t.endpoint == e.name && t.slowest)
            .filter_map(|t| {
                Some(Exemplar {
                    time_unix_nano: start + (t.t_s * 1e9) as u64,
                    as_double: t.latency_ms / 1000.0,
                    span_id: from_hex::<8>(&t.span_id)?.to_vec(),
                    trace_id: from_hex::<16>(&t.trace_id)?.to_vec(),
                })
            })
            .collect();
        let s = &e.summary;
        durations.push(HistogramDataPoint {
            attributes,
            start_time_unix_nano: start,
            time_unix_nano: end,
            count: s.count,
            sum: Some(s.mean * s.count as f64 / 1000.0),
            bucket_counts: buckets,
            explicit_bounds: DURATION_BUCKETS_S.to_vec(),
            exemplars,
            min: (s.count > 0).then_some(s.min / 1000.0),
            max: (s.count > 0).then_some(s.max / 1000.0),
        });
    }
    let errors: Vec<NumberDataPoint> = report
        .errors
        .iter()
        .map(|e| {
            let mut a = vec![text("error.type", e.kind.as_str())];
            if let Some(endpoint) = &e.endpoint {
                a.push(text("hornet.endpoint", endpoint));
            }
            number(a, NumberValue::AsInt(i64::try_from(e.count).unwrap_or(i64::MAX)))
        })
        .collect();
    let sum = |name: &str, description: &str, data_points: Vec<NumberDataPoint>| Metric {
        name: name.into(),
        description: description.into(),
        unit: "{request}".into(),
        data: Some(Data::Sum(Sum { data_points, aggregation_temporality: CUMULATIVE, is_monotonic: true })),
    };
    let metrics = vec![
        Metric {
            name: "http.client.request.duration".into(),
            description: "Duration of HTTP client requests (hornet: issued to last byte).".into(),
            unit: "s".into(),
            data: Some(Data::Histogram(Histogram {
                data_points: durations,
                aggregation_temporality: CUMULATIVE,
            })),
        },
        sum("hornet.requests", "Requests sent.", requests),
        sum(
            "hornet.failures",
            "Failed requests: errors and statuses expectedStatus does not allow.",
            failures,
        ),
        Metric { unit: "{error}".into(), ..sum("hornet.errors", "Errors, by kind.", errors) },
        Metric {
            name: "hornet.request.duration.quantile".into(),
            description: "The whole run's response-time quantiles, exactly as in hornet's report.".into(),
            unit: "s".into(),
            data: Some(Data::Gauge(Gauge { data_points: quantiles })),
        },
    ];
    let mut resource = vec![text("service.name", "hornet"), text("hornet.testid", &report.run.test_id)];
    resource.extend(report.run.script.as_deref().map(|s| text("hornet.script", s)));
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource { attributes: resource }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(InstrumentationScope {
                    name: "hornet".into(),
                    version: report.hornet_version.clone(),
                }),
                metrics,
            }],
        }],
    }
}

/// How long a push may take, connection included.
const PUSH_TIMEOUT: Duration = Duration::from_secs(10);

/// The `host:port` and path an OTLP/HTTP metrics push goes to: `url` (`http://host:4318`) plus
/// `/v1/metrics` unless it already ends so. Only `http://` URLs.
pub fn endpoint(url: &str) -> Result<(String, String), String> {
    let rest = url.strip_prefix("http://").ok_or_else(|| {
        format!("`{url}`: hornet sends OTLP over plain http:// (e.g. http://127.0.0.1:4318)")
    })?;
    let (authority, path) = rest.split_once('/').map_or((rest, ""), |(a, p)| (a, p));
    if authority.is_empty() {
        return Err(format!("`{url}` has no host"));
    }
    let authority = if authority.contains(':') && !authority.ends_with(']') {
        authority.to_owned()
    } else {
        format!("{authority}:80")
    };
    let path = path.trim_end_matches('/');
    let path = if path.ends_with("v1/metrics") {
        format!("/{path}")
    } else if path.is_empty() {
        "/v1/metrics".into()
    } else {
        format!("/{path}/v1/metrics")
    };
    Ok((authority, path))
}

/// POSTs the report's metrics to `url` (OTLP/HTTP, protobuf); the error says why it failed.
pub fn push(report: &Report, url: &str) -> Result<(), String> {
    let (authority, path) = endpoint(url)?;
    let body = metrics_request(report).encode_to_vec();
    let addr = authority
        .to_socket_addrs()
        .map_err(|e| format!("{url}: {e}"))?
        .next()
        .ok_or_else(|| format!("{url}: no address"))?;
    let mut stream = TcpStream::connect_timeout(&addr, PUSH_TIMEOUT).map_err(|e| format!("{url}: {e}"))?;
    stream.set_read_timeout(Some(PUSH_TIMEOUT)).map_err(|e| format!("{url}: {e}"))?;
    stream.set_write_timeout(Some(PUSH_TIMEOUT)).map_err(|e| format!("{url}: {e}"))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nhost: {authority}\r\ncontent-type: application/x-protobuf\r\ncontent-length: {}\r\nconnection: close\r\n\r\n",
        body.len()
    );
    stream
        .write_all(head.as_bytes())
        .and_then(|()| stream.write_all(&body))
        .map_err(|e| format!("{url}: {e}"))?;
    let mut reply = Vec::new();
    let _ = stream.take(64 * 1024).read_to_end(&mut reply);
    let status_line =
        String::from_utf8_lossy(reply.split(|b| *b == b'\n').next().unwrap_or_default()).trim().to_owned();
    match status_line.split(' ').nth(1) {
        Some(code) if code.starts_with('2') => Ok(()),
        Some(_) => Err(format!("{url} answered `{status_line}`")),
        None => Err(format!("{url} sent no HTTP answer")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn endpoints_and_targets_are_read() {
        assert_eq!(
            endpoint("http://127.0.0.1:4318").unwrap(),
            ("127.0.0.1:4318".into(), "/v1/metrics".into())
        );
        assert_eq!(endpoint("http://c/otlp/").unwrap(), ("c:80".into(), "/otlp/v1/metrics".into()));
        assert_eq!(endpoint("http://c:1/v1/metrics").unwrap(), ("c:1".into(), "/v1/metrics".into()));
        assert!(endpoint("https://c:4318").unwrap_err().contains("plain http://"));
        assert_eq!(method_of("POST /login"), "POST");
        assert_eq!(method_of("checkout"), "_OTHER");
        let server = server_of(Some("https://user@shop.example:8443/api"));
        assert_eq!(server, vec![text("server.address", "shop.example"), int("server.port", 8443)]);
        assert_eq!(
            server_of(Some("http://[::1]/")),
            vec![text("server.address", "::1"), int("server.port", 80)]
        );
        let v6 = server_of(Some("http://[::1]:9000"));
        assert_eq!(v6, vec![text("server.address", "::1"), int("server.port", 9000)]);
    }
}
