//! `config.plugins.publish-metrics`, read in one place: a list of entries, each dispatched on its
//! `type` to the reader of that type. A type hornet does not publish to is an error at the `type`
//! value, naming the types it has.

use super::{
    Cx, Map, PUBLISH_OTEL, PUBLISH_OTEL_METRICS, PUBLISH_OTEL_TRACES, PUBLISH_PROMETHEUS, Result, backquoted,
    is_null, suggest,
};
use crate::plan::{
    DEFAULT_OTLP_ENDPOINT, OWN_LABELS, OtlpPush, PrometheusPush, PublishMetrics, is_label_name,
};
use crate::yaml::{Node, Value};

/// The `type`s hornet publishes to.
const TYPES: [&str; 2] = ["prometheus", "open-telemetry"];

/// Artillery's other `publish-metrics` types, which hornet does not have.
const ARTILLERY_TYPES: [&str; 10] = [
    "cloudwatch",
    "datadog",
    "dynatrace",
    "honeycomb",
    "influxdb-statsd",
    "lightstep",
    "mixpanel",
    "newrelic",
    "splunk",
    "statsd",
];

impl Cx<'_> {
    /// The entries of `config.plugins.publish-metrics`, in the order written (none when the plugin
    /// is not configured).
    pub(super) fn publish_metrics(&self, config: &Map<'_>) -> Result<Vec<PublishMetrics>> {
        let Some(plugins) = config.get("plugins") else { return Ok(Vec::new()) };
        let plugins = self.entries(&plugins.value, "`plugins`", "a map of plugin names to their settings")?;
        let Some(entry) = plugins.iter().find(|e| e.key == "publish-metrics") else { return Ok(Vec::new()) };
        if is_null(&entry.value) {
            return Ok(Vec::new());
        }
        let mut out = Vec::new();
        for item in self.list(&entry.value, "`publish-metrics`")? {
            out.push(self.publish_entry(item)?);
        }
        Ok(out)
    }

    /// One entry: its `type`, then the reader of that type.
    fn publish_entry(&self, item: &Node) -> Result<PublishMetrics> {
        let types_help = || {
            format!("hornet publishes metrics with the types {} (docs/observability.md)", backquoted(&TYPES))
        };
        let Value::Map(entries) = &item.value else {
            return Err(self.type_err(item, "an entry of `publish-metrics`", "a map with a `type`"));
        };
        let Some(kind) = entries.iter().find(|e| e.key == "type") else {
            return Err(self
                .err(item.span, "missing required key `type` in an entry of `publish-metrics`")
                .with_help(types_help()));
        };
        match self.text(&kind.value, "`type`")? {
            "prometheus" => Ok(PublishMetrics::Prometheus(self.prometheus_push(item)?)),
            "open-telemetry" => Ok(PublishMetrics::OpenTelemetry(self.otlp_push(item)?)),
            other => {
                let message = if ARTILLERY_TYPES.contains(&other) {
                    format!("the publish-metrics type `{other}` is not supported by hornet")
                } else {
                    format!("unknown publish-metrics type `{other}`")
                };
                let help = match suggest(other, &TYPES) {
                    Some(s) => format!("did you mean `{s}`?"),
                    None => types_help(),
                };
                Err(self.err(kind.value.span, message).with_help(help))
            }
        }
    }

    /// `type: prometheus`: `pushgateway` (required), `tags` and Artillery's `prefix`.
    fn prometheus_push(&self, item: &Node) -> Result<PrometheusPush> {
        let map = self.map(item, "a `prometheus` entry of `publish-metrics`", &PUBLISH_PROMETHEUS, false)?;
        let Some(gateway) = map.get("pushgateway") else {
            return Err(self
                .missing(&map, "pushgateway", &PUBLISH_PROMETHEUS)
                .with_help("add the Pushgateway's URL, like `pushgateway: \"http://127.0.0.1:9091\"`"));
        };
        let pushgateway = self.http_url(&gateway.value, "`pushgateway`")?;
        let labels = match map.get("tags") {
            Some(e) if !is_null(&e.value) => self.tags(&e.value)?,
            _ => Vec::new(),
        };
        if let Some(prefix) = map.get("prefix") {
            self.warn(
                self.err(prefix.key_span, "`prefix` is ignored: hornet's series are named `hornet_*`")
                    .with_help(
                        "docs/observability.md lists the series and a Grafana dashboard built on them",
                    ),
            );
        }
        Ok(PrometheusPush { pushgateway, labels })
    }

    /// `type: open-telemetry`: `metrics.endpoint` becomes the OTLP/HTTP push (`--otlp`), a `traces`
    /// section turns tracing on with its `sampleRate`. What hornet does not do (gRPC, span export,
    /// Artillery's attribute and name options) is a warning, or an error for a gRPC exporter.
    fn otlp_push(&self, item: &Node) -> Result<OtlpPush> {
        let map = self.map(item, "an `open-telemetry` entry of `publish-metrics`", &PUBLISH_OTEL, false)?;
        let ignored = |key: &str, why: &str| {
            self.warn(
                self.err(item.span, format!("`{key}` is ignored: {why}"))
                    .with_help("docs/observability.md#otlp-metrics"),
            );
        };
        if map.get("serviceName").is_some() {
            ignored("serviceName", "hornet's OTLP resource is `service.name=hornet`");
        }
        let exporter = |section: &Map<'_>| -> Result<()> {
            let Some(e) = section.get("exporter") else { return Ok(()) };
            match self.text(&e.value, "`exporter`")? {
                "otlp-proto" | "otlp-http" => Ok(()),
                other => Err(self
                    .err(e.value.span, format!("the OTLP exporter `{other}` is not supported by hornet"))
                    .with_help("hornet sends OTLP over HTTP with protobuf bodies: `exporter: otlp-proto`")),
            }
        };
        let metrics = match map.get("metrics") {
            None => None,
            Some(m) => {
                let section = self.map(&m.value, "`metrics`", &PUBLISH_OTEL_METRICS, true)?;
                exporter(&section)?;
                for key in ["headers", "includeOnly", "excluded", "attributes"] {
                    if section.get(key).is_some() {
                        ignored(
                            &format!("metrics.{key}"),
                            "hornet sends every metric, without extra headers or attributes",
                        );
                    }
                }
                Some(match section.get("endpoint") {
                    Some(e) => {
                        let url = self.http_url(&e.value, "`endpoint`")?;
                        if !url.starts_with("http://") {
                            return Err(self
                                .err(e.value.span, "hornet sends OTLP over plain http:// only")
                                .with_help(
                                    "point it at a collector's OTLP/HTTP port, e.g. `http://127.0.0.1:4318`",
                                ));
                        }
                        url
                    }
                    None => DEFAULT_OTLP_ENDPOINT.to_owned(),
                })
            }
        };
        let traces_sample_rate = match map.get("traces") {
            None => None,
            Some(t) => {
                let section = self.map(&t.value, "`traces`", &PUBLISH_OTEL_TRACES, true)?;
                exporter(&section)?;
                ignored(
                    "traces",
                    "hornet does not export client spans; it sends trace context with its requests (config.tracing) and keeps the trace ids of the slowest ones",
                );
                let rate = match section.get("sampleRate") {
                    Some(e) => self.non_negative(&e.value, "`sampleRate`")?.min(1.0),
                    None => 1.0,
                };
                Some(rate)
            }
        };
        Ok(OtlpPush { metrics, traces_sample_rate })
    }

    /// An absolute `http://` or `https://` URL.
    fn http_url(&self, node: &Node, what: &str) -> Result<String> {
        let text = self.text(node, what)?.trim();
        let parsed = url::Url::parse(text).ok().filter(|u| matches!(u.scheme(), "http" | "https"));
        if parsed.is_none_or(|u| u.host().is_none()) {
            return Err(self
                .err(node.span, format!("{what} must be an http:// or https:// URL, found `{text}`"))
                .with_help("for example `http://127.0.0.1:9091`"));
        }
        Ok(text.to_string())
    }

    /// `tags: ["name:value", ...]`: labels added to every series.
    fn tags(&self, node: &Node) -> Result<Vec<(String, String)>> {
        let mut labels: Vec<(String, String)> = Vec::new();
        for tag in self.list(node, "`tags`")? {
            let text = self.text(tag, "a tag")?;
            let Some((name, value)) = text.split_once(':') else {
                return Err(self
                    .err(tag.span, format!("a tag must be `name:value`, found `{text}`"))
                    .with_help("for example `- \"team:checkout\"`"));
            };
            let name = name.trim();
            if !is_label_name(name) {
                return Err(self
                    .err(tag.span, format!("`{name}` is not a Prometheus label name"))
                    .with_help(
                        "a label name is letters, digits and `_`, not starting with a digit or `__`",
                    ));
            }
            if OWN_LABELS.contains(&name) {
                return Err(self.err(tag.span, format!("`{name}` is a label hornet sets itself")).with_help(
                    format!("hornet's own labels are {}; pick another name", backquoted(&OWN_LABELS)),
                ));
            }
            if labels.iter().any(|(n, _)| n == name) {
                return Err(self.err(tag.span, format!("the tag `{name}` is given twice")));
            }
            labels.push((name.to_string(), value.trim().to_string()));
        }
        Ok(labels)
    }
}
