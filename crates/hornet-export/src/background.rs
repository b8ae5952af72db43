//! An axum router served from a thread of its own, on a current-thread runtime, until it is
//! stopped: the `/metrics` server and the web UI both run this way, beside the run's workers.

use std::thread::JoinHandle;
use std::time::Duration;

use axum::Router;

/// A router being served. Dropping it (or [`Background::stop`]) stops it.
pub struct Background {
    stop: Option<tokio::sync::oneshot::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl Background {
    /// Serves `app` on `listener` (bound and non-blocking) from a thread named `thread`; `what`
    /// names the server in what it prints when it cannot go on.
    pub fn serve(
        listener: std::net::TcpListener,
        app: Router,
        thread: &str,
        what: &'static str,
    ) -> std::io::Result<Background> {
        let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
        let thread = std::thread::Builder::new().name(thread.to_owned()).spawn(move || {
            let Ok(rt) = tokio::runtime::Builder::new_current_thread().enable_all().build() else {
                eprintln!("hornet: {what}: could not start its runtime");
                return;
            };
            rt.block_on(async move {
                let listener = match tokio::net::TcpListener::from_std(listener) {
                    Ok(l) => l,
                    Err(e) => {
                        eprintln!("hornet: {what}: {e}");
                        return;
                    }
                };
                tokio::select! {
                    r = axum::serve(listener, app) => {
                        if let Err(e) = r {
                            eprintln!("hornet: {what} stopped: {e}");
                        }
                    }
                    _ = stopped => {}
                }
            });
            rt.shutdown_timeout(Duration::from_secs(1));
        })?;
        Ok(Background { stop: Some(stop), thread: Some(thread) })
    }

    /// Stops serving and waits (about a second at most) for the thread.
    pub fn stop(&mut self) {
        if let Some(s) = self.stop.take() {
            let _ = s.send(());
        }
        if let Some(t) = self.thread.take() {
            let _ = t.join();
        }
    }
}

impl Drop for Background {
    fn drop(&mut self) {
        self.stop();
    }
}
