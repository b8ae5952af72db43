//! `GET /metrics` while the run lasts: the latest frame in the Prometheus text format, or in
//! OpenMetrics when the scraper's `Accept` header asks for it. Served by axum from a thread of its
//! own ([`Background`]); the collector only swaps the frame the server reads.

use std::net::SocketAddr;
use std::sync::{Arc, PoisonError, RwLock};

use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, header};
use axum::response::IntoResponse;
use axum::routing::get;

use crate::background::Background;
use crate::frame::Frame;
use crate::text::{self, Format};

/// What the server reads: the latest frame, and the run's labels.
struct Shared {
    frame: RwLock<Option<Arc<Frame>>>,
    run_labels: Arc<Vec<(String, String)>>,
}

/// The running `/metrics` server. Dropping it stops it.
pub struct MetricsServer {
    shared: Arc<Shared>,
    addr: SocketAddr,
    /// Serving until dropped.
    _server: Background,
}

impl MetricsServer {
    /// Binds `addr` (before returning, so a busy port is an error before the run) and serves
    /// from a thread of its own, series carrying `run_labels`.
    pub fn start(addr: SocketAddr, run_labels: Arc<Vec<(String, String)>>) -> std::io::Result<MetricsServer> {
        let listener = std::net::TcpListener::bind(addr)?;
        listener.set_nonblocking(true)?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared { frame: RwLock::new(None), run_labels });
        let app = Router::new().route("/metrics", get(metrics)).with_state(shared.clone());
        let server = Background::serve(listener, app, "hornet-metrics", "/metrics")?;
        Ok(MetricsServer { shared, addr, _server: server })
    }

    /// The address actually bound.
    pub fn local_addr(&self) -> SocketAddr {
        self.addr
    }

    /// Serves `frame` from now on.
    pub fn publish(&self, frame: Arc<Frame>) {
        *self.shared.frame.write().unwrap_or_else(PoisonError::into_inner) = Some(frame);
    }
}

async fn metrics(State(shared): State<Arc<Shared>>, headers: HeaderMap) -> impl IntoResponse {
    let format = Format::from_accept(headers.get(header::ACCEPT).and_then(|v| v.to_str().ok()));
    let frame = shared.frame.read().unwrap_or_else(PoisonError::into_inner).clone();
    let body = match frame {
        Some(f) => text::render(&f, &shared.run_labels, format),
        // Before the first tick: no series yet.
        None if format == Format::OpenMetrics => "# EOF\n".to_owned(),
        None => String::new(),
    };
    ([(header::CONTENT_TYPE, format.content_type())], body)
}
