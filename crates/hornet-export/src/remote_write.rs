//! A [`Frame`] as a Prometheus remote-write 1.0 request: the `WriteRequest` protobuf (the few
//! messages it needs, declared here with prost's derive from Prometheus's `prompb/types.proto` and
//! `remote.proto`), compressed as one snappy block. Counters become `<name>_total`, histograms
//! their `_bucket` (with `le`, and a bucket's exemplar with its `trace_id`), `_sum` and `_count`
//! series, or, when the frame carries them, one native histogram series each (schema, zero
//! bucket, count, sum, spans and delta-encoded buckets); every sample is stamped with the frame's
//! time.

use prost::Message;

use crate::frame::{Frame, HistogramValue, Kind, Value};
use crate::native::NativeHistogram;
use crate::text::float;

/// The headers a remote-write 1.0 request carries besides authentication.
pub const HEADERS: [(&str, &str); 3] = [
    ("Content-Encoding", "snappy"),
    ("Content-Type", "application/x-protobuf"),
    ("X-Prometheus-Remote-Write-Version", "0.1.0"),
];

/// `prometheus.WriteRequest`.
#[derive(Clone, PartialEq, Message)]
pub struct WriteRequest {
    /// The series and their samples.
    #[prost(message, repeated, tag = "1")]
    pub timeseries: Vec<TimeSeries>,
    /// The families' types and help.
    #[prost(message, repeated, tag = "3")]
    pub metadata: Vec<MetricMetadata>,
}

/// `prometheus.TimeSeries`.
#[derive(Clone, PartialEq, Message)]
pub struct TimeSeries {
    /// Its labels, `__name__` included, sorted by name.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// Its samples, oldest first.
    #[prost(message, repeated, tag = "2")]
    pub samples: Vec<Sample>,
    /// Its exemplars: a traced request the sample counts, with its trace id.
    #[prost(message, repeated, tag = "3")]
    pub exemplars: Vec<Exemplar>,
    /// Its native histogram samples, oldest first.
    #[prost(message, repeated, tag = "4")]
    pub histograms: Vec<Histogram>,
}

/// `prometheus.Exemplar`.
#[derive(Clone, PartialEq, Message)]
pub struct Exemplar {
    /// Its labels: `trace_id`.
    #[prost(message, repeated, tag = "1")]
    pub labels: Vec<Label>,
    /// The request's response time, seconds.
    #[prost(double, tag = "2")]
    pub value: f64,
    /// When, ms since the Unix epoch (the push's time, as a scrape stamps an exemplar without one).
    #[prost(int64, tag = "3")]
    pub timestamp: i64,
}

/// `prometheus.Histogram`, integer counts only (hornet's are): the `count_int` and
/// `zero_count_int` arms of its `oneof`s, no negative buckets.
#[derive(Clone, PartialEq, Message)]
pub struct Histogram {
    /// Number of values (`count_int`).
    #[prost(uint64, tag = "1")]
    pub count_int: u64,
    /// Sum of the values.
    #[prost(double, tag = "3")]
    pub sum: f64,
    /// Bucket `i` holds (2^((i-1)/2^schema), 2^(i/2^schema)].
    #[prost(sint32, tag = "4")]
    pub schema: i32,
    /// The zero bucket's half-width.
    #[prost(double, tag = "5")]
    pub zero_threshold: f64,
    /// Values in the zero bucket (`zero_count_int`).
    #[prost(uint64, tag = "6")]
    pub zero_count_int: u64,
    /// Runs of consecutive positive buckets.
    #[prost(message, repeated, tag = "11")]
    pub positive_spans: Vec<BucketSpan>,
    /// Each positive bucket's count minus the previous one's (the first's minus 0).
    #[prost(sint64, repeated, tag = "12")]
    pub positive_deltas: Vec<i64>,
    /// `ResetHint`: 0 unknown.
    #[prost(int32, tag = "14")]
    pub reset_hint: i32,
    /// When, ms since the Unix epoch.
    #[prost(int64, tag = "15")]
    pub timestamp: i64,
}

/// `prometheus.BucketSpan`.
#[derive(Clone, PartialEq, Message)]
pub struct BucketSpan {
    /// Gap to the previous span's end (the first span's: its first bucket's index).
    #[prost(sint32, tag = "1")]
    pub offset: i32,
    /// Consecutive buckets in it.
    #[prost(uint32, tag = "2")]
    pub length: u32,
}

/// `prometheus.Label`.
#[derive(Clone, PartialEq, Message)]
pub struct Label {
    /// The label's name.
    #[prost(string, tag = "1")]
    pub name: String,
    /// Its value.
    #[prost(string, tag = "2")]
    pub value: String,
}

/// `prometheus.Sample`.
#[derive(Clone, PartialEq, Message)]
pub struct Sample {
    /// The value.
    #[prost(double, tag = "1")]
    pub value: f64,
    /// When, ms since the Unix epoch.
    #[prost(int64, tag = "2")]
    pub timestamp: i64,
}

/// `prometheus.MetricMetadata`.
#[derive(Clone, PartialEq, Message)]
pub struct MetricMetadata {
    /// `MetricType`: 1 counter, 2 gauge, 3 histogram, 5 summary.
    #[prost(int32, tag = "1")]
    pub r#type: i32,
    /// The family's name.
    #[prost(string, tag = "2")]
    pub metric_family_name: String,
    /// Its help.
    #[prost(string, tag = "4")]
    pub help: String,
    /// Its unit (empty: none given).
    #[prost(string, tag = "5")]
    pub unit: String,
}

/// The `WriteRequest` of `frame`, each series carrying `run_labels` too.
pub fn write_request(frame: &Frame, run_labels: &[(String, String)]) -> WriteRequest {
    let mut request = WriteRequest::default();
    let at = frame.timestamp_ms;
    for family in &frame.families {
        let (kind, name) = match family.kind {
            Kind::Counter => (1, format!("{}_total", family.name)),
            Kind::Gauge => (2, family.name.to_owned()),
            Kind::Histogram => (3, family.name.to_owned()),
            Kind::Summary => (5, family.name.to_owned()),
        };
        request.metadata.push(MetricMetadata {
            r#type: kind,
            metric_family_name: name,
            help: family.help.to_owned(),
            unit: String::new(),
        });
        for series in &family.series {
            let labels: Vec<(&str, &str)> = run_labels
                .iter()
                .map(|(n, v)| (n.as_str(), v.as_str()))
                .chain(series.labels.iter().map(|(n, v)| (*n, v.as_str())))
                .collect();
            let first = request.timeseries.len();
            let mut push = |suffix: &str, extra: Option<(&str, &str)>, value: f64| {
                let name = format!("{}{suffix}", family.name);
                request.timeseries.push(time_series(&name, &labels, extra, value, at));
            };
            match &series.value {
                Value::Counter(n) => push("_total", None, *n as f64),
                Value::Gauge(v) => push("", None, *v),
                Value::Histogram(HistogramValue { native: Some(native), .. }) => {
                    let mut ts = time_series(family.name, &labels, None, 0.0, at);
                    ts.samples.clear();
                    ts.histograms.push(histogram(native, at));
                    request.timeseries.push(ts);
                }
                Value::Histogram(h) => {
                    for &(le, n) in &h.buckets {
                        push("_bucket", Some(("le", &float(le))), n as f64);
                    }
                    push("_bucket", Some(("le", "+Inf")), h.count as f64);
                    push("_sum", None, h.sum);
                    push("_count", None, h.count as f64);
                }
                Value::Summary(q) => {
                    for &(quantile, v) in &q.quantiles {
                        push("", Some(("quantile", &float(quantile))), v);
                    }
                    push("_sum", None, q.sum);
                    push("_count", None, q.count as f64);
                }
            }
            if let Value::Histogram(h @ HistogramValue { native: None, .. }) = &series.value {
                // Bucket `i`'s series (`+Inf` after the bounds) is the `i`-th pushed for it.
                for (bucket, e) in &h.exemplars {
                    if let Some(bucket_series) = request.timeseries.get_mut(first + bucket) {
                        bucket_series.exemplars.push(Exemplar {
                            labels: vec![Label { name: "trace_id".to_owned(), value: e.trace_id.clone() }],
                            value: e.value,
                            timestamp: at,
                        });
                    }
                }
            }
        }
    }
    request
}

/// One series: `__name__`, `labels` and `extra`, sorted by name, with one sample.
fn time_series(
    name: &str,
    labels: &[(&str, &str)],
    extra: Option<(&str, &str)>,
    value: f64,
    at: i64,
) -> TimeSeries {
    let mut all: Vec<Label> = std::iter::once(("__name__", name))
        .chain(labels.iter().copied())
        .chain(extra)
        .map(|(n, v)| Label { name: n.to_owned(), value: v.to_owned() })
        .collect();
    all.sort_by(|a, b| a.name.cmp(&b.name));
    TimeSeries {
        labels: all,
        samples: vec![Sample { value, timestamp: at }],
        exemplars: Vec::new(),
        histograms: Vec::new(),
    }
}

/// `native` as a `Histogram` message at `at`: its buckets in spans of consecutive indices, their
/// counts delta-encoded.
fn histogram(native: &NativeHistogram, at: i64) -> Histogram {
    let mut positive_spans: Vec<BucketSpan> = Vec::new();
    let mut positive_deltas = Vec::with_capacity(native.buckets.len());
    let (mut next_index, mut previous_count) = (None::<i32>, 0i64);
    for &(index, count) in &native.buckets {
        match (next_index, positive_spans.last_mut()) {
            (Some(next), Some(span)) if next == index => span.length += 1,
            _ => positive_spans
                .push(BucketSpan { offset: next_index.map_or(index, |next| index - next), length: 1 }),
        }
        let count = i64::try_from(count).unwrap_or(i64::MAX);
        positive_deltas.push(count - previous_count);
        previous_count = count;
        next_index = Some(index + 1);
    }
    Histogram {
        count_int: native.count,
        sum: native.sum,
        schema: native.schema,
        zero_threshold: 0.0,
        zero_count_int: native.zero_count,
        positive_spans,
        positive_deltas,
        reset_hint: 0,
        timestamp: at,
    }
}

/// The body of a remote-write request: `request` as protobuf, in one snappy block.
pub fn encode(request: &WriteRequest) -> Result<Vec<u8>, snap::Error> {
    snap::raw::Encoder::new().compress_vec(&request.encode_to_vec())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::frame::{Family, Series};

    #[test]
    fn a_frame_becomes_sorted_series_with_the_frame_s_time_and_round_trips() {
        let frame = Frame {
            timestamp_ms: 1_700_000_000_123,
            start_ms: 1_700_000_000_000,
            families: vec![
                Family {
                    name: "hornet_requests",
                    help: "h",
                    kind: Kind::Counter,
                    series: vec![Series { labels: vec![("endpoint", "a".into())], value: Value::Counter(7) }],
                },
                Family {
                    name: "hornet_schedule_lag_seconds",
                    help: "h",
                    kind: Kind::Histogram,
                    series: vec![Series {
                        labels: Vec::new(),
                        value: Value::Histogram(HistogramValue {
                            buckets: vec![(0.5, 1)],
                            count: 2,
                            sum: 1.5,
                            exemplars: vec![(
                                1,
                                crate::frame::Exemplar { trace_id: "4bf92f35".into(), value: 1.1 },
                            )],
                            native: None,
                        }),
                    }],
                },
            ],
        };
        let request = write_request(&frame, &[("testid".into(), "t".into())]);
        let names: Vec<Vec<(&str, &str)>> = request
            .timeseries
            .iter()
            .map(|s| s.labels.iter().map(|l| (l.name.as_str(), l.value.as_str())).collect())
            .collect();
        assert_eq!(
            names,
            [
                vec![("__name__", "hornet_requests_total"), ("endpoint", "a"), ("testid", "t")],
                vec![("__name__", "hornet_schedule_lag_seconds_bucket"), ("le", "0.5"), ("testid", "t")],
                vec![("__name__", "hornet_schedule_lag_seconds_bucket"), ("le", "+Inf"), ("testid", "t")],
                vec![("__name__", "hornet_schedule_lag_seconds_sum"), ("testid", "t")],
                vec![("__name__", "hornet_schedule_lag_seconds_count"), ("testid", "t")],
            ]
        );
        let values: Vec<f64> = request.timeseries.iter().map(|s| s.samples[0].value).collect();
        assert_eq!(values, [7.0, 1.0, 2.0, 1.5, 2.0]);
        assert!(request.timeseries.iter().all(|s| s.samples[0].timestamp == 1_700_000_000_123));
        assert_eq!(request.metadata[0].metric_family_name, "hornet_requests_total");
        // The exemplar of bucket 1 (`+Inf`) goes with that bucket's series, and only there.
        let exemplars: Vec<usize> = request.timeseries.iter().map(|s| s.exemplars.len()).collect();
        assert_eq!(exemplars, [0, 0, 1, 0, 0]);
        let e = &request.timeseries[2].exemplars[0];
        assert_eq!((e.labels[0].name.as_str(), e.labels[0].value.as_str()), ("trace_id", "4bf92f35"));
        assert_eq!((e.value, e.timestamp), (1.1, 1_700_000_000_123));

        let body = encode(&request).expect("encodes");
        let raw = snap::raw::Decoder::new().decompress_vec(&body).expect("one snappy block");
        assert_eq!(WriteRequest::decode(raw.as_slice()).expect("decodes"), request);
    }

    #[test]
    fn a_native_histogram_is_one_series_of_spans_and_deltas() {
        let native = NativeHistogram {
            schema: 8,
            zero_count: 1,
            count: 13,
            sum: 0.75,
            buckets: vec![(-3, 2), (-2, 5), (0, 1), (4, 4)],
        };
        let frame = Frame {
            timestamp_ms: 1_700_000_000_000,
            start_ms: 1_699_999_990_000,
            families: vec![Family {
                name: "hornet_request_duration_seconds",
                help: "h",
                kind: Kind::Histogram,
                series: vec![Series {
                    labels: vec![("endpoint", "a".into())],
                    value: Value::Histogram(HistogramValue {
                        buckets: vec![(0.5, 13)],
                        count: 13,
                        sum: 0.75,
                        exemplars: Vec::new(),
                        native: Some(native),
                    }),
                }],
            }],
        };
        let request = write_request(&frame, &[]);
        assert_eq!(request.timeseries.len(), 1, "no classic series beside it");
        let series = &request.timeseries[0];
        assert_eq!(series.labels[0].value, "hornet_request_duration_seconds");
        assert!(series.samples.is_empty());
        let h = &series.histograms[0];
        let spans: Vec<(i32, u32)> = h.positive_spans.iter().map(|s| (s.offset, s.length)).collect();
        assert_eq!(spans, [(-3, 2), (1, 1), (3, 1)]);
        assert_eq!(h.positive_deltas, [2, 3, -4, 3]);
        assert_eq!((h.count_int, h.zero_count_int, h.schema, h.sum), (13, 1, 8, 0.75));
        assert_eq!(h.timestamp, 1_700_000_000_000);
        let raw =
            snap::raw::Decoder::new().decompress_vec(&encode(&request).expect("encodes")).expect("snappy");
        assert_eq!(WriteRequest::decode(raw.as_slice()).expect("decodes"), request);
    }
}
