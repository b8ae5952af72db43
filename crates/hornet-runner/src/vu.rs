//! One virtual user: runs a scenario's steps in order with its own variables and connection,
//! recording each request, and stops at the first failed request.

use std::cell::RefCell;
use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use hornet_engine::http::{HttpClient, Request, Session};
use hornet_metrics::{ErrorKind, Recorder};
use tokio::time::{Duration, Instant};

use crate::program::Op;

/// How a VU ended early.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum VuFailure {
    /// A request failed (already recorded against its endpoint).
    Request,
}

/// The state of one virtual user.
pub struct Vu {
    client: Rc<HttpClient>,
    recorder: Rc<RefCell<Recorder>>,
    session: Session,
    vars: Rc<Vec<(String, serde_json::Value)>>,
    scratch: String,
    /// When set, the next request's latency is measured from this instant (its intended start)
    /// instead of from when it was issued (wrk2-style; used by `quick -r`).
    intended_start: Option<Instant>,
}

type OpsFuture<'a> = Pin<Box<dyn Future<Output = Result<(), VuFailure>> + 'a>>;

impl Vu {
    pub fn new(
        client: Rc<HttpClient>,
        recorder: Rc<RefCell<Recorder>>,
        vars: Rc<Vec<(String, serde_json::Value)>>,
    ) -> Vu {
        Vu { client, recorder, session: Session::new(), vars, scratch: String::new(), intended_start: None }
    }

    /// Measure the next request's latency from `at` rather than from its issue time.
    pub fn measure_next_from(&mut self, at: Instant) {
        self.intended_start = Some(at);
    }

    /// Runs `ops` once.
    pub fn run<'a>(&'a mut self, ops: &'a [Op]) -> OpsFuture<'a> {
        Box::pin(async move {
            for op in ops {
                match op {
                    Op::Request(req) => {
                        let built = match req.build(self.vars.as_slice(), &mut self.scratch) {
                            Ok(b) => b,
                            Err(e) => {
                                self.recorder.borrow_mut().error(
                                    Some(e.endpoint),
                                    ErrorKind::InvalidUrl,
                                    &e.message,
                                );
                                return Err(VuFailure::Request);
                            }
                        };
                        let request = Request {
                            method: built.method,
                            uri: built.uri,
                            headers: built.headers,
                            body: built.body,
                            keep_body: false,
                        };
                        let from = self.intended_start.take();
                        match self.client.send(&mut self.session, request).await {
                            Ok(resp) => {
                                let mut timings = resp.timings;
                                if let Some(from) = from {
                                    timings.total = Instant::now().saturating_duration_since(from);
                                }
                                let mut rec = self.recorder.borrow_mut();
                                rec.request_sent(req.endpoint, resp.bytes_sent);
                                rec.response(req.endpoint, resp.status, &timings, resp.body_len);
                            }
                            Err(e) => {
                                let mut rec = self.recorder.borrow_mut();
                                rec.request_sent(req.endpoint, 0);
                                rec.error(Some(req.endpoint), e.kind, &e.message);
                                return Err(VuFailure::Request);
                            }
                        }
                    }
                    Op::Think(d) => tokio::time::sleep(*d).await,
                    Op::Loop { count, body } => {
                        for _ in 0..*count {
                            self.run(body).await?;
                        }
                    }
                }
            }
            Ok(())
        })
    }
}

/// Time since `start`, for session lengths.
pub fn since(start: Instant) -> Duration {
    Instant::now().saturating_duration_since(start)
}
