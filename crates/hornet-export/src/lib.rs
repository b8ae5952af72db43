//! hornet's metrics in Prometheus and OpenTelemetry: remote write 1.0 (`--prometheus-rw`), a
//! `/metrics` endpoint to scrape (`--metrics-addr`), Pushgateway pushes
//! (`config.plugins.publish-metrics`) and OTLP/HTTP metrics (`--otlp`); and the export of the
//! client spans of sampled requests over OTLP ([`spans`]). The metrics all read
//! the run's merged aggregate, the one the report is built from, through one model ([`frame`]),
//! once per tick for `/metrics`, every push interval for the pushes, and once more at the end. A
//! run that exports nothing has no [`Exporters`] at all.
//!
//! Names, labels and cardinality rules are in docs/observability.md.

pub mod background;
pub mod frame;
pub mod http;
pub mod native;
pub mod otlp;
pub mod push;
pub mod remote_write;
pub mod saved;
pub mod serve;
pub mod spans;
pub mod text;

use std::net::SocketAddr;
use std::sync::Arc;
use std::time::Duration;

use base64::Engine as _;
use hornet_metrics::Aggregator;
use hornet_script::Plan;
use hornet_script::plan::{OWN_LABELS, PublishMetrics, is_label_name};

use crate::frame::{Frame, Histograms, Labeler};
use crate::http::{Destination, HttpError};
use crate::otlp::OtlpRun;
use crate::push::{Pusher, Sink};
use crate::serve::MetricsServer;

/// The default of `--metrics-max-endpoints`.
pub const DEFAULT_MAX_ENDPOINTS: usize = 100;

/// The default time between pushes.
pub const DEFAULT_PUSH_INTERVAL: Duration = Duration::from_secs(5);

/// What a run exports, from the command line and the script.
#[derive(Debug, Clone)]
pub struct ExportOptions {
    /// `--prometheus-rw`: where to remote-write.
    pub remote_write: Option<RemoteWrite>,
    /// The script's `publish-metrics` entries.
    pub publish: Vec<PublishMetrics>,
    /// `--otlp` (and `publish-metrics` entries of `type: open-telemetry`): OTLP/HTTP collectors
    /// to push the metrics to.
    pub otlp: Vec<String>,
    /// The run's target (`config.target`): the `server.address` and `server.port` of OTLP points.
    pub target: Option<String>,
    /// `--metrics-addr`: where to serve `/metrics`.
    pub metrics_addr: Option<SocketAddr>,
    /// Time between pushes.
    pub push_interval: Duration,
    /// The `testid` label.
    pub testid: String,
    /// `--metrics-label`: labels on every series.
    pub labels: Vec<(String, String)>,
    /// `--metrics-max-endpoints`.
    pub max_endpoints: usize,
}

/// `--prometheus-rw` and its options.
#[derive(Debug, Clone, Default)]
pub struct RemoteWrite {
    /// The receiver's URL.
    pub url: String,
    /// `--prometheus-rw-header`: headers on every push.
    pub headers: Vec<(String, String)>,
    /// `--prometheus-rw-user` and its password.
    pub basic_auth: Option<(String, String)>,
    /// `--prometheus-rw-native`: latency histograms sent as native histograms.
    pub native_histograms: bool,
}

impl ExportOptions {
    /// Options that export nothing, with the test id `testid`.
    pub fn none(testid: String) -> ExportOptions {
        ExportOptions {
            remote_write: None,
            publish: Vec::new(),
            otlp: Vec::new(),
            target: None,
            metrics_addr: None,
            push_interval: DEFAULT_PUSH_INTERVAL,
            testid,
            labels: Vec::new(),
            max_endpoints: DEFAULT_MAX_ENDPOINTS,
        }
    }

    /// True when nothing is exported.
    pub fn is_empty(&self) -> bool {
        self.remote_write.is_none()
            && self.publish.is_empty()
            && self.otlp.is_empty()
            && self.metrics_addr.is_none()
    }
}

/// Why the exports cannot start (before the run: nothing was sent).
#[derive(Debug, thiserror::Error)]
pub enum ExportError {
    /// A URL or header is not usable.
    #[error("{what}: {source}")]
    Destination {
        /// The option or entry it came from.
        what: String,
        /// What is wrong.
        source: HttpError,
    },
    /// A label name is not valid, or is one hornet sets itself.
    #[error("--metrics-label `{0}`: {1}")]
    Label(String, &'static str),
    /// `--metrics-addr` could not be bound.
    #[error("--metrics-addr {0}: {1}")]
    Bind(SocketAddr, std::io::Error),
    /// A thread could not be started.
    #[error("cannot start the metrics exporter: {0}")]
    Thread(std::io::Error),
}

/// A run's exports (see the module doc).
pub struct Exporters {
    labeler: Labeler,
    histograms: Histograms,
    server: Option<MetricsServer>,
    pusher: Option<Pusher>,
    push_interval: Duration,
    /// When the last frame was pushed (time into the run).
    last_push: Option<Duration>,
    /// The start of the run, ms since the Unix epoch, as the first frame put it: every frame's
    /// counts start there (or at the statistics' reset after it), the same instant each time.
    run_start_ms: Option<i64>,
}

impl Exporters {
    /// Starts what `options` asks for a run of `plan`: binds `/metrics`, starts the pushing
    /// thread. `None` when nothing is exported.
    pub fn start(options: &ExportOptions, plan: &Plan) -> Result<Option<Exporters>, ExportError> {
        if options.is_empty() {
            return Ok(None);
        }
        for (name, _) in &options.labels {
            if !is_label_name(name) {
                return Err(ExportError::Label(name.clone(), "not a Prometheus label name"));
            }
            if OWN_LABELS.contains(&name.as_str()) {
                return Err(ExportError::Label(name.clone(), "a label hornet sets itself"));
            }
        }
        let mut run_labels = vec![("testid".to_owned(), options.testid.clone())];
        run_labels.extend(options.labels.iter().cloned());
        let run_labels = Arc::new(run_labels);
        let sinks = sinks(options)?;
        let server = match options.metrics_addr {
            Some(addr) => {
                Some(MetricsServer::start(addr, run_labels.clone()).map_err(|e| ExportError::Bind(addr, e))?)
            }
            None => None,
        };
        let pusher = if sinks.is_empty() {
            None
        } else {
            Some(Pusher::start(sinks, run_labels).map_err(ExportError::Thread)?)
        };
        let native = options.remote_write.as_ref().is_some_and(|rw| rw.native_histograms);
        Ok(Some(Exporters {
            labeler: Labeler::new(plan, options.max_endpoints),
            histograms: if native { Histograms::Native } else { Histograms::Classic },
            server,
            pusher,
            push_interval: options.push_interval.max(Duration::from_secs(1)),
            last_push: None,
            run_start_ms: None,
        }))
    }

    /// The URL of `/metrics`, when it is served.
    pub fn metrics_url(&self) -> Option<String> {
        self.server.as_ref().map(|s| format!("http://{}/metrics", s.local_addr()))
    }

    /// At a tick: the frame of `aggregate` goes to `/metrics`, and to the pushes when one is
    /// due. Returns the warnings raised (a cap on label values reached), each once.
    pub fn tick(&mut self, aggregate: &Aggregator) -> Vec<String> {
        let elapsed = aggregate.live().elapsed;
        let push_due = self.pusher.is_some()
            && self.last_push.is_none_or(|at| {
                elapsed.saturating_sub(at) + Duration::from_millis(100) >= self.push_interval
            });
        if self.server.is_none() && !push_due {
            return Vec::new();
        }
        let frame = self.frame(aggregate);
        if let (true, Some(pusher)) = (push_due, &self.pusher) {
            pusher.push(frame);
            self.last_push = Some(elapsed);
        }
        self.labeler.take_warnings()
    }

    /// At the end of the run, with everything merged (what the report is built from): the last
    /// frame goes to `/metrics` and is pushed, and the push is waited for. Returns the warnings
    /// raised.
    pub fn finish(&mut self, aggregate: &Aggregator) -> Vec<String> {
        let frame = self.frame(aggregate);
        if let Some(pusher) = self.pusher.take() {
            pusher.finish(frame);
        }
        self.labeler.take_warnings()
    }

    /// The frame of `aggregate` now, also served at `/metrics`.
    fn frame(&mut self, aggregate: &Aggregator) -> Arc<Frame> {
        let mut frame = frame::build(aggregate, &mut self.labeler, self.histograms);
        let since_reset = aggregate.reset_at().map_or(0, frame::millis);
        let run_start = *self.run_start_ms.get_or_insert(frame.start_ms - since_reset);
        frame.start_ms = run_start + since_reset;
        let frame = Arc::new(frame);
        if let Some(server) = &self.server {
            server.publish(frame.clone());
        }
        frame
    }
}

/// The push destinations `options` names.
fn sinks(options: &ExportOptions) -> Result<Vec<Sink>, ExportError> {
    let mut sinks = Vec::new();
    let mut otlp_urls: Vec<&String> = options.otlp.iter().collect();
    if let Some(rw) = &options.remote_write {
        let what = "--prometheus-rw".to_owned();
        let mut headers = rw.headers.clone();
        if let Some((user, password)) = &rw.basic_auth {
            headers.push(("Authorization".into(), basic_auth(user, password)));
        }
        let destination = Destination::new(&rw.url, &headers)
            .map_err(|source| ExportError::Destination { what, source })?;
        sinks.push(Sink::RemoteWrite(destination));
    }
    for entry in &options.publish {
        match entry {
            PublishMetrics::Prometheus(p) => {
                let what = format!("publish-metrics pushgateway `{}`", p.pushgateway);
                let base = Destination::new(&p.pushgateway, &[])
                    .map_err(|source| ExportError::Destination { what, source })?;
                let group = base
                    .joined(&format!("/metrics/job/hornet/{}", grouping_label("testid", &options.testid)));
                sinks.push(Sink::Pushgateway { group, labels: p.labels.clone() });
            }
            PublishMetrics::OpenTelemetry(o) => otlp_urls.extend(o.metrics.iter()),
        }
    }
    otlp_urls.dedup();
    if !otlp_urls.is_empty() {
        let run = Arc::new(OtlpRun::new(&options.testid, &options.labels, options.target.as_deref()));
        for url in otlp_urls {
            let what = format!("--otlp `{url}`");
            let metrics = otlp::destination(url, "metrics")
                .map_err(|source| ExportError::Destination { what, source })?;
            sinks.push(Sink::Otlp { metrics, run: run.clone() });
        }
    }
    Ok(sinks)
}

/// `Basic base64(user:password)`.
pub(crate) fn basic_auth(user: &str, password: &str) -> String {
    format!("Basic {}", base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}")))
}

/// A Pushgateway grouping-key path segment: `name/value`, or `name@base64/...` when the value has
/// characters a path segment cannot carry as they are.
fn grouping_label(name: &str, value: &str) -> String {
    let plain = !value.is_empty() && value.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_.".contains(&b));
    if plain {
        format!("{name}/{value}")
    } else {
        format!("{name}@base64/{}", base64::engine::general_purpose::URL_SAFE.encode(value))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grouping_labels_are_plain_or_base64() {
        assert_eq!(grouping_label("testid", "a1b2-c3_d.e"), "testid/a1b2-c3_d.e");
        assert_eq!(grouping_label("testid", "run 1/2"), "testid@base64/cnVuIDEvMg==");
        assert_eq!(grouping_label("testid", ""), "testid@base64/");
        assert_eq!(basic_auth("ann", "s3cret"), "Basic YW5uOnMzY3JldA==");
    }
}
