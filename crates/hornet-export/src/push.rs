//! Pushing frames from a thread of their own: the collector hands over the latest frame (never
//! waiting on the network), the thread sends it to every sink at once (Prometheus remote write,
//! Pushgateways, OTLP collectors), and the last frame of the run is waited for, within a deadline, so the receiver
//! gets the report's final figures.

use std::sync::Arc;
use std::sync::mpsc::{Receiver, RecvTimeoutError, channel};
use std::thread::JoinHandle;
use std::time::Duration;

use http::Method;
use tokio::sync::watch;

use crate::frame::Frame;
use crate::http::{Destination, HttpError};
use crate::otlp::OtlpRun;
use crate::{otlp, remote_write, text};

/// Where frames are pushed, and how.
#[derive(Debug, Clone)]
pub enum Sink {
    /// Prometheus remote write 1.0.
    RemoteWrite(Destination),
    /// A Pushgateway's group (the URL of `/metrics/job/.../testid/...`), sent the text format with
    /// `labels` added to every series.
    Pushgateway {
        /// The group's URL.
        group: Destination,
        /// The entry's `tags`.
        labels: Vec<(String, String)>,
    },
    /// An OTLP/HTTP collector's `/v1/metrics`, sent the frame as cumulative OTLP metrics.
    Otlp {
        /// Its URL.
        metrics: Destination,
        /// The run's resource and attributes.
        run: Arc<OtlpRun>,
    },
}

impl Sink {
    /// What a message about it calls it.
    fn describe(&self) -> String {
        match self {
            Sink::RemoteWrite(d) => format!("remote write to {}", d.shown()),
            Sink::Pushgateway { group, .. } => format!("push to the Pushgateway at {}", group.shown()),
            Sink::Otlp { metrics, .. } => format!("OTLP metrics push to {}", metrics.shown()),
        }
    }

    async fn push(
        &self,
        frame: &Frame,
        run_labels: &[(String, String)],
        tls: &Arc<rustls::ClientConfig>,
    ) -> Result<(), HttpError> {
        match self {
            Sink::RemoteWrite(d) => {
                let request = remote_write::write_request(frame, run_labels);
                let body =
                    remote_write::encode(&request).map_err(|e| HttpError::Io(format!("snappy: {e}")))?;
                d.send(Method::POST, &remote_write::HEADERS, body, tls).await
            }
            Sink::Pushgateway { group, labels } => {
                let all: Vec<(String, String)> = run_labels.iter().chain(labels).cloned().collect();
                let body = text::render(frame, &all, text::Format::Prometheus).into_bytes();
                group.send(Method::PUT, &[("Content-Type", text::PROMETHEUS_TEXT)], body, tls).await
            }
            Sink::Otlp { metrics, run } => {
                let body = prost::Message::encode_to_vec(&otlp::metrics_request(frame, run));
                metrics.send(Method::POST, &[("Content-Type", otlp::CONTENT_TYPE)], body, tls).await
            }
        }
    }
}

/// The latest frame to push, and whether it is the run's last.
type Latest = Option<(Arc<Frame>, bool)>;

/// The pushing thread (see the module doc).
pub struct Pusher {
    latest: watch::Sender<Latest>,
    /// Told when the last frame has been pushed (or given up on).
    done: Receiver<()>,
    thread: Option<JoinHandle<()>>,
}

/// How long the end of a run waits for its last push: one push in flight, then the last one.
const LAST_PUSH_WAIT: Duration = Duration::from_secs(2 * crate::http::REQUEST_TIMEOUT.as_secs() + 1);

impl Pusher {
    /// Starts the thread that pushes to `sinks` with `run_labels` on every series.
    pub fn start(sinks: Vec<Sink>, run_labels: Arc<Vec<(String, String)>>) -> std::io::Result<Pusher> {
        let tls = crate::http::tls_config().map_err(std::io::Error::other)?;
        let (latest, mut updates) = watch::channel::<Latest>(None);
        let (finished, done) = channel();
        let thread = std::thread::Builder::new().name("hornet-export".into()).spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                eprintln!("hornet: could not start the metrics exporter's runtime; nothing is exported");
                return;
            };
            rt.block_on(async move {
                let mut failing = vec![false; sinks.len()];
                while updates.changed().await.is_ok() {
                    let Some((frame, last)) = updates.borrow_and_update().clone() else { continue };
                    let mut pushes = tokio::task::JoinSet::new();
                    for (i, sink) in sinks.iter().enumerate() {
                        let (sink, frame, labels, tls) =
                            (sink.clone(), frame.clone(), run_labels.clone(), tls.clone());
                        pushes.spawn(async move { (i, sink.push(&frame, &labels, &tls).await) });
                    }
                    while let Some(Ok((i, result))) = pushes.join_next().await {
                        match result {
                            Err(e) if last => {
                                eprintln!(
                                    "hornet: the last {} failed, so it lacks the run's final figures: {e}",
                                    sinks[i].describe()
                                );
                            }
                            Err(e) if !failing[i] => {
                                failing[i] = true;
                                eprintln!(
                                    "hornet: {} failed: {e}; trying again with the next push",
                                    sinks[i].describe()
                                );
                            }
                            Err(_) => {}
                            Ok(()) => failing[i] = false,
                        }
                    }
                    if last {
                        break;
                    }
                }
            });
            let _ = finished.send(());
        })?;
        Ok(Pusher { latest, done, thread: Some(thread) })
    }

    /// Hands `frame` over to be pushed; a frame not yet pushed is replaced.
    pub fn push(&self, frame: Arc<Frame>) {
        self.latest.send_replace(Some((frame, false)));
    }

    /// Pushes the run's last frame and waits for it (at most about 20 s: a push already in flight,
    /// then this one).
    pub fn finish(mut self, frame: Arc<Frame>) {
        self.latest.send_replace(Some((frame, true)));
        match self.done.recv_timeout(LAST_PUSH_WAIT) {
            Ok(()) | Err(RecvTimeoutError::Disconnected) => {
                if let Some(t) = self.thread.take() {
                    let _ = t.join();
                }
            }
            // The thread is left to end with the process.
            Err(RecvTimeoutError::Timeout) => {}
        }
    }
}
