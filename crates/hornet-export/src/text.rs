//! A [`Frame`] as text: the Prometheus text exposition format 0.0.4 (what `/metrics` serves by
//! default and what the Pushgateway receives) and OpenMetrics 1.0 (served when the scraper asks
//! for it). The run's labels (`testid` first) go before each series' own.

use std::fmt::Write as _;

use crate::frame::{Family, Frame, HistogramValue, Kind, Value};

/// The content type of the Prometheus text format.
pub const PROMETHEUS_TEXT: &str = "text/plain; version=0.0.4; charset=utf-8";

/// The content type of OpenMetrics text.
pub const OPENMETRICS_TEXT: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Which text format.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// The Prometheus text format 0.0.4.
    Prometheus,
    /// OpenMetrics 1.0.
    OpenMetrics,
}

impl Format {
    /// The format a scraper's `Accept` header asks for: OpenMetrics when it names
    /// `application/openmetrics-text`, else the Prometheus text format.
    pub fn from_accept(accept: Option<&str>) -> Format {
        match accept {
            Some(a) if a.contains("application/openmetrics-text") => Format::OpenMetrics,
            _ => Format::Prometheus,
        }
    }

    /// Its content type.
    pub fn content_type(self) -> &'static str {
        match self {
            Format::Prometheus => PROMETHEUS_TEXT,
            Format::OpenMetrics => OPENMETRICS_TEXT,
        }
    }
}

/// `frame` in `format`, each series carrying `run_labels` before its own.
pub fn render(frame: &Frame, run_labels: &[(String, String)], format: Format) -> String {
    let mut out = String::with_capacity(4096);
    for family in &frame.families {
        if family.series.is_empty() {
            continue;
        }
        family_header(&mut out, family, format);
        for series in &family.series {
            let labels = |extra: Option<(&str, &str)>| {
                label_set(
                    run_labels.iter().map(|(n, v)| (n.as_str(), v.as_str())),
                    series.labels.iter().map(|(n, v)| (*n, v.as_str())),
                    extra,
                )
            };
            match &series.value {
                Value::Counter(n) => {
                    let _ = writeln!(out, "{}_total{} {n}", family.name, labels(None));
                }
                Value::Gauge(v) => {
                    let _ = writeln!(out, "{}{} {}", family.name, labels(None), float(*v));
                }
                Value::Histogram(h) => histogram(&mut out, family.name, h, &labels, format),
                Value::Summary(q) => {
                    for &(quantile, v) in &q.quantiles {
                        let quantile = float(quantile);
                        let _ = writeln!(
                            out,
                            "{}{} {}",
                            family.name,
                            labels(Some(("quantile", &quantile))),
                            float(v)
                        );
                    }
                    let _ = writeln!(out, "{}_sum{} {}", family.name, labels(None), float(q.sum));
                    let _ = writeln!(out, "{}_count{} {}", family.name, labels(None), q.count);
                }
            }
        }
    }
    if format == Format::OpenMetrics {
        out.push_str("# EOF\n");
    }
    out
}

/// The `# HELP` and `# TYPE` lines. The Prometheus format names a counter with its `_total`;
/// OpenMetrics names the family without it.
fn family_header(out: &mut String, family: &Family, format: Format) {
    let kind = match family.kind {
        Kind::Counter => "counter",
        Kind::Gauge => "gauge",
        Kind::Histogram => "histogram",
        Kind::Summary => "summary",
    };
    let name = match (family.kind, format) {
        (Kind::Counter, Format::Prometheus) => format!("{}_total", family.name),
        _ => family.name.to_owned(),
    };
    let _ = writeln!(out, "# HELP {name} {}", escape_help(family.help));
    let _ = writeln!(out, "# TYPE {name} {kind}");
}

/// A series' label set, given an extra label (`le`) or none.
type LabelSet<'a> = dyn Fn(Option<(&str, &str)>) -> String + 'a;

/// A histogram's samples; in OpenMetrics, a bucket with a traced request carries it as an
/// exemplar (` # {trace_id="..."} 0.043`).
fn histogram(out: &mut String, name: &str, h: &HistogramValue, labels: &LabelSet<'_>, format: Format) {
    let exemplar = |i: usize| match h.exemplars.iter().find(|(b, _)| *b == i) {
        Some((_, e)) if format == Format::OpenMetrics => {
            format!(" # {{trace_id=\"{}\"}} {}", escape_value(&e.trace_id), float(e.value))
        }
        _ => String::new(),
    };
    for (i, &(le, n)) in h.buckets.iter().enumerate() {
        let le = float(le);
        let _ = writeln!(out, "{name}_bucket{} {n}{}", labels(Some(("le", &le))), exemplar(i));
    }
    let _ = writeln!(
        out,
        "{name}_bucket{} {}{}",
        labels(Some(("le", "+Inf"))),
        h.count,
        exemplar(h.buckets.len())
    );
    let _ = writeln!(out, "{name}_sum{} {}", labels(None), float(h.sum));
    let _ = writeln!(out, "{name}_count{} {}", labels(None), h.count);
}

/// `{a="1",b="2"}` from the run's labels, the series' and an extra one (`le`); empty when there
/// are none.
fn label_set<'a>(
    run: impl Iterator<Item = (&'a str, &'a str)>,
    own: impl Iterator<Item = (&'a str, &'a str)>,
    extra: Option<(&'a str, &'a str)>,
) -> String {
    let mut out = String::new();
    for (name, value) in run.chain(own).chain(extra) {
        out.push(if out.is_empty() { '{' } else { ',' });
        let _ = write!(out, "{name}=\"{}\"", escape_value(value));
    }
    if !out.is_empty() {
        out.push('}');
    }
    out
}

/// A label value with `\`, `"` and line feeds escaped.
fn escape_value(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// Help text with `\` and line feeds escaped.
fn escape_help(help: &str) -> String {
    help.replace('\\', "\\\\").replace('\n', "\\n")
}

/// A sample value: Rust's shortest round-trip form (never an exponent), `NaN`, `+Inf`, `-Inf`.
pub(crate) fn float(v: f64) -> String {
    if v.is_nan() {
        "NaN".to_owned()
    } else if v.is_infinite() {
        if v > 0.0 { "+Inf".to_owned() } else { "-Inf".to_owned() }
    } else {
        format!("{v}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Exemplar, Series};

    fn frame() -> Frame {
        Frame {
            timestamp_ms: 0,
            start_ms: 0,
            families: vec![
                Family {
                    name: "hornet_requests",
                    help: "Requests sent.",
                    kind: Kind::Counter,
                    series: vec![Series {
                        labels: vec![("endpoint", "GET /a \"x\"\\\n".into())],
                        value: Value::Counter(3),
                    }],
                },
                Family { name: "hornet_active_vus", help: "VUs.", kind: Kind::Gauge, series: Vec::new() },
                Family {
                    name: "hornet_schedule_lag_seconds",
                    help: "Lag.",
                    kind: Kind::Histogram,
                    series: vec![Series {
                        labels: Vec::new(),
                        value: Value::Histogram(HistogramValue {
                            buckets: vec![(0.0001, 1), (60.0, 2)],
                            count: 3,
                            sum: 0.5,
                            exemplars: vec![(1, Exemplar { trace_id: "4bf92f35".into(), value: 0.25 })],
                            native: None,
                        }),
                    }],
                },
            ],
        }
    }

    #[test]
    fn the_prometheus_format_names_counters_with_total_and_escapes_values() {
        let text = render(&frame(), &[("testid".into(), "t1".into())], Format::Prometheus);
        assert_eq!(
            text,
            "# HELP hornet_requests_total Requests sent.\n\
             # TYPE hornet_requests_total counter\n\
             hornet_requests_total{testid=\"t1\",endpoint=\"GET /a \\\"x\\\"\\\\\\n\"} 3\n\
             # HELP hornet_schedule_lag_seconds Lag.\n\
             # TYPE hornet_schedule_lag_seconds histogram\n\
             hornet_schedule_lag_seconds_bucket{testid=\"t1\",le=\"0.0001\"} 1\n\
             hornet_schedule_lag_seconds_bucket{testid=\"t1\",le=\"60\"} 2\n\
             hornet_schedule_lag_seconds_bucket{testid=\"t1\",le=\"+Inf\"} 3\n\
             hornet_schedule_lag_seconds_sum{testid=\"t1\"} 0.5\n\
             hornet_schedule_lag_seconds_count{testid=\"t1\"} 3\n"
        );
    }

    #[test]
    fn openmetrics_names_the_counter_family_without_total_and_ends_with_eof() {
        let text = render(&frame(), &[], Format::OpenMetrics);
        assert!(text.starts_with("# HELP hornet_requests Requests sent.\n# TYPE hornet_requests counter\nhornet_requests_total{endpoint="));
        assert!(text.ends_with("hornet_schedule_lag_seconds_count 3\n# EOF\n"), "{text}");
        assert!(
            text.contains("hornet_schedule_lag_seconds_bucket{le=\"60\"} 2 # {trace_id=\"4bf92f35\"} 0.25\n"),
            "{text}"
        );
    }

    #[test]
    fn the_accept_header_picks_the_format() {
        assert_eq!(Format::from_accept(None), Format::Prometheus);
        assert_eq!(Format::from_accept(Some("text/plain;version=0.0.4;q=0.5,*/*;q=0.1")), Format::Prometheus);
        assert_eq!(
            Format::from_accept(Some("application/openmetrics-text;version=1.0.0,text/plain;q=0.5")),
            Format::OpenMetrics
        );
        assert_eq!(float(1e-7), "0.0000001");
        assert_eq!(float(f64::INFINITY), "+Inf");
    }
}
