//! A [`Frame`] as an OTLP/HTTP metrics request (`--otlp URL`, `POST <URL>/v1/metrics`, protobuf),
//! in the official OpenTelemetry messages of the `opentelemetry-proto` crate, and the pieces OTLP
//! metrics and spans share: the resource, attributes, the endpoint URLs.
//!
//! Temporality is cumulative: every point runs from the start of the run (or of the statistics'
//! last reset) to the frame's time, so each push carries the run's figures so far and the last one
//! the report's. Family names follow OpenTelemetry's style (`hornet.requests`, unit `{request}`);
//! the response-time histogram is the semantic convention's `http.client.request.duration`.
//! Labels become attributes: `endpoint` is `hornet.endpoint`, `method` `http.request.method`,
//! `status` `http.response.status_code`, `kind` `error.type` (docs/observability.md).

use opentelemetry_proto::tonic::collector::metrics::v1::ExportMetricsServiceRequest;
use opentelemetry_proto::tonic::common::v1::{AnyValue, InstrumentationScope, KeyValue, any_value};
use opentelemetry_proto::tonic::metrics::v1::{
    AggregationTemporality, Exemplar, Gauge, Histogram, HistogramDataPoint, Metric, NumberDataPoint,
    ResourceMetrics, ScopeMetrics, Sum, exemplar, metric, number_data_point,
};
use opentelemetry_proto::tonic::resource::v1::Resource;

use crate::frame::{Family, Frame, Kind, Value};
use crate::http::{Destination, HttpError};

/// The content type of an OTLP/HTTP protobuf body.
pub const CONTENT_TYPE: &str = "application/x-protobuf";

/// What every OTLP message of a run carries: the resource's and the points' run attributes, and
/// the target's `server.address` and `server.port`.
#[derive(Debug, Clone, Default)]
pub struct OtlpRun {
    /// `service.name=hornet`, `service.version`, `hornet.testid`.
    pub resource: Vec<KeyValue>,
    /// On every point: `hornet.testid` and the `--metrics-label`s.
    pub labels: Vec<KeyValue>,
    /// `server.address` and `server.port` of the run's target, when it has one.
    pub server: Vec<KeyValue>,
}

impl OtlpRun {
    /// The attributes of a run with `testid`, extra `labels`, against `target`.
    pub fn new(testid: &str, labels: &[(String, String)], target: Option<&str>) -> OtlpRun {
        let resource = vec![
            text("service.name", "hornet"),
            text("service.version", env!("CARGO_PKG_VERSION")),
            text("hornet.testid", testid),
        ];
        let mut points = vec![text("hornet.testid", testid)];
        points.extend(labels.iter().map(|(n, v)| text(n, v)));
        OtlpRun { resource, labels: points, server: server_of(target) }
    }

    /// The instrumentation scope of everything hornet sends.
    pub fn scope() -> InstrumentationScope {
        InstrumentationScope {
            name: "hornet".into(),
            version: env!("CARGO_PKG_VERSION").into(),
            ..Default::default()
        }
    }
}

/// A string attribute.
pub fn text(key: &str, value: &str) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(any_value::Value::StringValue(value.into())) }),
        ..Default::default()
    }
}

/// An integer attribute.
pub fn int(key: &str, value: i64) -> KeyValue {
    KeyValue {
        key: key.into(),
        value: Some(AnyValue { value: Some(any_value::Value::IntValue(value)) }),
        ..Default::default()
    }
}

/// `server.address` and `server.port` of `target` (`https://user@shop.example:8443/api`).
pub fn server_of(target: Option<&str>) -> Vec<KeyValue> {
    let Some(url) = target.and_then(|t| url::Url::parse(t).ok()) else { return Vec::new() };
    let (Some(host), Some(port)) = (url.host(), url.port_or_known_default()) else { return Vec::new() };
    let host = match host {
        url::Host::Ipv6(ip) => ip.to_string(),
        other => other.to_string(),
    };
    vec![text("server.address", &host), int("server.port", i64::from(port))]
}

/// `url` (`http://host:4318`, or a URL that already ends with `signal`'s path) as the destination
/// of one OTLP signal: `/v1/metrics` or `/v1/traces` appended unless it ends so.
pub fn destination(url: &str, signal: &str) -> Result<Destination, HttpError> {
    let path = format!("/v1/{signal}");
    let trimmed = url.trim_end_matches('/');
    let base = Destination::new(trimmed, &[])?;
    if trimmed.ends_with(&path) { Ok(base) } else { Ok(base.joined(&path)) }
}

/// The OpenTelemetry name and unit of a family (dots for its underscores when it has no name of its
/// own here).
fn otlp_name(family: &Family) -> (String, &'static str) {
    let known = match family.name {
        "hornet_requests" => Some(("hornet.requests", "{request}")),
        "hornet_responses" => Some(("hornet.responses", "{response}")),
        "hornet_failures" => Some(("hornet.failures", "{request}")),
        "hornet_errors" => Some(("hornet.errors", "{error}")),
        "hornet_sent_bytes" => Some(("hornet.bytes.sent", "By")),
        "hornet_received_bytes" => Some(("hornet.bytes.received", "By")),
        "hornet_request_duration_seconds" => Some(("http.client.request.duration", "s")),
        "hornet_request_duration_corrected_seconds" => Some(("hornet.request.duration.corrected", "s")),
        "hornet_request_duration_run_seconds" => Some(("hornet.request.duration.quantile", "s")),
        "hornet_request_duration_corrected_run_seconds" => {
            Some(("hornet.request.duration.corrected.quantile", "s"))
        }
        "hornet_http_request_duration_run_seconds" => Some(("hornet.http.request.duration.quantile", "s")),
        "hornet_http_request_duration_corrected_run_seconds" => {
            Some(("hornet.http.request.duration.corrected.quantile", "s"))
        }
        "hornet_active_vus" => Some(("hornet.vus.active", "{vu}")),
        "hornet_vusers_created" => Some(("hornet.vus.created", "{vu}")),
        "hornet_vusers_completed" => Some(("hornet.vus.completed", "{vu}")),
        "hornet_vusers_failed" => Some(("hornet.vus.failed", "{vu}")),
        "hornet_requests_dropped" => Some(("hornet.requests.dropped", "{request}")),
        "hornet_schedule_lag_seconds" => Some(("hornet.schedule.lag", "s")),
        "hornet_schedule_lag_run_seconds" => Some(("hornet.schedule.lag.quantile", "s")),
        "hornet_generator_cpu_ratio" => Some(("hornet.generator.cpu.utilization", "1")),
        "hornet_run_info" => Some(("hornet.run.info", "1")),
        _ => None,
    };
    match known {
        Some((name, unit)) => (name.to_owned(), unit),
        None => (family.name.replace('_', "."), ""),
    }
}

/// A series label as an attribute.
fn attribute(name: &str, value: &str) -> KeyValue {
    match name {
        "endpoint" => text("hornet.endpoint", value),
        "scenario" => text("hornet.scenario", value),
        "method" if value.is_empty() => text("http.request.method", "_OTHER"),
        "method" => text("http.request.method", value),
        "status" => match value.parse::<i64>() {
            Ok(code) => int("http.response.status_code", code),
            Err(_) => text("http.response.status_code", value),
        },
        "kind" => text("error.type", value),
        "version" => text("hornet.version", value),
        other => text(other, value),
    }
}

/// The ns since the Unix epoch of `ms`.
fn nanos(ms: i64) -> u64 {
    u64::try_from(ms).unwrap_or(0).saturating_mul(1_000_000)
}

/// The OTLP metrics request of `frame` (see the module doc).
pub fn metrics_request(frame: &Frame, run: &OtlpRun) -> ExportMetricsServiceRequest {
    let (start, now) = (nanos(frame.start_ms), nanos(frame.timestamp_ms));
    let cumulative = AggregationTemporality::Cumulative as i32;
    let mut metrics = Vec::with_capacity(frame.families.len());
    for family in &frame.families {
        if family.series.is_empty() {
            continue;
        }
        let (name, unit) = otlp_name(family);
        let mut numbers = Vec::new();
        let mut histograms = Vec::new();
        for series in &family.series {
            let mut attributes = run.labels.clone();
            attributes.extend(series.labels.iter().map(|(n, v)| attribute(n, v)));
            if series.labels.iter().any(|(n, _)| *n == "endpoint") {
                attributes.extend(run.server.iter().cloned());
            }
            let number = |attributes: Vec<KeyValue>, value: number_data_point::Value| NumberDataPoint {
                attributes,
                start_time_unix_nano: start,
                time_unix_nano: now,
                value: Some(value),
                ..Default::default()
            };
            match &series.value {
                Value::Counter(n) => numbers.push(number(
                    attributes,
                    number_data_point::Value::AsInt(i64::try_from(*n).unwrap_or(i64::MAX)),
                )),
                Value::Gauge(v) => numbers.push(number(attributes, number_data_point::Value::AsDouble(*v))),
                Value::Summary(q) => {
                    for &(quantile, v) in &q.quantiles {
                        let mut a = attributes.clone();
                        a.push(text("quantile", &crate::text::float(quantile)));
                        numbers.push(number(a, number_data_point::Value::AsDouble(v)));
                    }
                }
                Value::Histogram(h) => {
                    let mut counts = Vec::with_capacity(h.buckets.len() + 1);
                    let mut below = 0;
                    for &(_, cumulative) in &h.buckets {
                        counts.push(cumulative.saturating_sub(below));
                        below = cumulative;
                    }
                    counts.push(h.count.saturating_sub(below));
                    let exemplars = h
                        .exemplars
                        .iter()
                        .filter_map(|(_, e)| {
                            Some(Exemplar {
                                time_unix_nano: now,
                                trace_id: hornet_metrics::traces::from_hex::<16>(&e.trace_id)?.to_vec(),
                                value: Some(exemplar::Value::AsDouble(e.value)),
                                ..Default::default()
                            })
                        })
                        .collect();
                    histograms.push(HistogramDataPoint {
                        attributes,
                        start_time_unix_nano: start,
                        time_unix_nano: now,
                        count: h.count,
                        sum: Some(h.sum),
                        bucket_counts: counts,
                        explicit_bounds: h.buckets.iter().map(|(le, _)| *le).collect(),
                        exemplars,
                        ..Default::default()
                    });
                }
            }
        }
        let data = match family.kind {
            Kind::Counter => metric::Data::Sum(Sum {
                data_points: numbers,
                aggregation_temporality: cumulative,
                is_monotonic: true,
            }),
            Kind::Gauge | Kind::Summary => metric::Data::Gauge(Gauge { data_points: numbers }),
            Kind::Histogram => metric::Data::Histogram(Histogram {
                data_points: histograms,
                aggregation_temporality: cumulative,
            }),
        };
        metrics.push(Metric {
            name,
            description: family.help.to_owned(),
            unit: unit.to_owned(),
            data: Some(data),
            ..Default::default()
        });
    }
    ExportMetricsServiceRequest {
        resource_metrics: vec![ResourceMetrics {
            resource: Some(Resource { attributes: run.resource.clone(), ..Default::default() }),
            scope_metrics: vec![ScopeMetrics {
                scope: Some(OtlpRun::scope()),
                metrics,
                ..Default::default()
            }],
            ..Default::default()
        }],
    }
}

/// Sends a saved run's final figures (`hornet report run.json --otlp URL`) to the collector at
/// `url`, once; the error says why it failed.
pub fn push_report(report: &hornet_metrics::Report, url: &str) -> Result<(), String> {
    let frame = crate::saved::from_report(report, crate::DEFAULT_MAX_ENDPOINTS);
    let run = OtlpRun::new(&report.run.test_id, &[], report.run.target.as_deref());
    let body = prost::Message::encode_to_vec(&metrics_request(&frame, &run));
    let metrics = destination(url, "metrics").map_err(|e| e.to_string())?;
    let tls = crate::http::tls_config().map_err(|e| e.to_string())?;
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().map_err(|e| e.to_string())?;
    rt.block_on(metrics.send(http::Method::POST, &[("Content-Type", CONTENT_TYPE)], body, &tls))
        .map_err(|e| format!("{}: {e}", metrics.shown()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_and_servers_are_read() {
        let d = destination("http://127.0.0.1:4318", "metrics").unwrap();
        assert_eq!(d.shown(), "http://127.0.0.1:4318/v1/metrics");
        let d = destination("http://c/otlp/", "traces").unwrap();
        assert_eq!(d.shown(), "http://c/otlp/v1/traces");
        let d = destination("https://c:1/v1/metrics", "metrics").unwrap();
        assert_eq!(d.shown(), "https://c:1/v1/metrics");
        assert!(destination("ftp://c", "metrics").is_err());
        let server = server_of(Some("https://user@shop.example:8443/api"));
        assert_eq!(server, vec![text("server.address", "shop.example"), int("server.port", 8443)]);
        assert_eq!(
            server_of(Some("http://[::1]/")),
            vec![text("server.address", "::1"), int("server.port", 80)]
        );
        assert!(server_of(None).is_empty());
    }

    #[test]
    fn labels_become_the_conventions_attributes() {
        assert_eq!(attribute("status", "503"), int("http.response.status_code", 503));
        assert_eq!(attribute("status", "other"), text("http.response.status_code", "other"));
        assert_eq!(attribute("method", ""), text("http.request.method", "_OTHER"));
        assert_eq!(attribute("kind", "timeout"), text("error.type", "timeout"));
        assert_eq!(attribute("team", "checkout"), text("team", "checkout"));
    }
}
