//! `config.plugins.publish-metrics`: where a run publishes its metrics while it runs, as
//! Artillery's `publish-metrics` plugin is configured. Each entry names a `type`; the command line
//! maps each onto one of hornet's exporters (docs/observability.md).

/// One entry of `config.plugins.publish-metrics`.
#[derive(Debug, Clone, PartialEq)]
pub enum PublishMetrics {
    /// `type: prometheus`: push the metrics to a Prometheus Pushgateway.
    Prometheus(PrometheusPush),
    /// `type: open-telemetry`: send the metrics over OTLP/HTTP at the end of the run (as `--otlp`),
    /// and, with a `traces` section, send trace context (as `config.tracing`).
    OpenTelemetry(OtlpPush),
}

/// `type: open-telemetry` (Artillery's keys): what hornet does with it.
#[derive(Debug, Clone, PartialEq)]
pub struct OtlpPush {
    /// `metrics.endpoint` (default `http://localhost:4318`): where the metrics go, as `--otlp`;
    /// `None` without a `metrics` section.
    pub metrics: Option<String>,
    /// `traces.sampleRate` (default 1) when there is a `traces` section: tracing is on with it,
    /// unless `config.tracing` says otherwise.
    pub traces_sample_rate: Option<f64>,
}

/// Artillery's default OTLP/HTTP endpoint.
pub const DEFAULT_OTLP_ENDPOINT: &str = "http://localhost:4318";

/// `type: prometheus`: a Prometheus Pushgateway that receives the metrics in the Prometheus text
/// format every push interval and once more at the end of the run.
#[derive(Debug, Clone, PartialEq)]
pub struct PrometheusPush {
    /// `pushgateway`: the gateway's base URL (`http://127.0.0.1:9091`).
    pub pushgateway: String,
    /// `tags` (`- "team:checkout"`): labels added to every series, in the order written.
    pub labels: Vec<(String, String)>,
}

/// The labels hornet's exporters set on their series themselves; a `tags` entry may not use them.
pub const OWN_LABELS: [&str; 8] =
    ["testid", "scenario", "endpoint", "method", "status", "kind", "quantile", "le"];

/// Whether `name` is a valid Prometheus label name: `[a-zA-Z_][a-zA-Z0-9_]*`, and not one of the
/// reserved `__` names.
pub fn is_label_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
        && !name.starts_with("__")
}
