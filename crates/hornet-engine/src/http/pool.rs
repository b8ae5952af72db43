//! The per-thread connection pool used when `ClientConfig::pool` is set: at most `n` connections
//! per origin, shared by all VUs of the thread.
//!
//! Each origin has a FIFO semaphore of `n` permits. An HTTP/1.1 request holds a permit while it
//! uses a connection, taking an idle one or opening a new one only when none is idle, so the
//! number of connections never exceeds `n`; a request that finds no permit waits in line.
//! Opening any connection takes a permit, so at most `n` are set up at once. An HTTP/2 connection
//! carries concurrent streams, so it does not hold a permit while it lives: up to `n` HTTP/2
//! connections are opened (each while holding a permit) and requests are spread over them in turn,
//! like h2load's `-c n -m streams`.

use std::cell::RefCell;
use std::rc::Rc;
use std::sync::Arc;

use hornet_metrics::{ErrorKind, Timings};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

use super::connection::{Conn, Connector, Origin, ReqBody, Route, Sender, Target, TaskGuard};
use super::error::Failure;

/// A shared HTTP/2 connection of the pool.
struct SharedH2 {
    sender: hyper::client::conn::http2::SendRequest<ReqBody>,
    guard: Rc<TaskGuard>,
}

/// Connections of one origin.
struct OriginPool {
    origin: Origin,
    permits: Arc<Semaphore>,
    idle: Vec<Conn>,
    shared: Vec<SharedH2>,
    /// Connections being opened right now (they may turn out to be HTTP/2).
    opening: usize,
    /// The shared connection the next HTTP/2 request uses.
    turn: usize,
}

/// A connection being opened; uncounted when dropped.
struct Opening<'a> {
    pool: &'a Pool,
    origin: Origin,
}

impl Drop for Opening<'_> {
    fn drop(&mut self) {
        self.pool.count_opening(&self.origin, false);
    }
}

/// Per-origin pools of one thread.
pub(crate) struct Pool {
    max: usize,
    origins: RefCell<Vec<OriginPool>>,
}

/// A connection checked out of the pool for one request.
pub(crate) enum PoolLease {
    /// An HTTP/1.1 connection used exclusively, with the permit that allows it.
    H1 { conn: Conn, permit: OwnedSemaphorePermit },
    /// A stream on a shared HTTP/2 connection.
    H2 { sender: hyper::client::conn::http2::SendRequest<ReqBody>, guard: Rc<TaskGuard> },
}

impl PoolLease {
    /// How the request goes out on the leased connection.
    pub(crate) fn route(&mut self) -> Route<'_> {
        match self {
            PoolLease::H1 { conn, .. } => conn.route(),
            PoolLease::H2 { sender, .. } => Route::H2(sender),
        }
    }
}

impl Pool {
    /// A pool of at most `max` connections per origin (`max` ≥ 1).
    pub(crate) fn new(max: usize) -> Pool {
        Pool { max: max.max(1), origins: RefCell::new(Vec::new()) }
    }

    /// The most connections per origin.
    pub(crate) fn max(&self) -> usize {
        self.max
    }

    /// A live shared HTTP/2 connection to `target`, the next in turn, dropping closed ones on the
    /// way; `None` while more may be opened (fewer than `max` are up or being opened).
    fn shared(&self, target: &Target<'_>) -> Option<PoolLease> {
        let mut origins = self.origins.borrow_mut();
        let entry = origins.iter_mut().find(|o| o.origin.matches(target))?;
        entry.shared.retain(|s| !s.sender.is_closed());
        if entry.shared.is_empty() || entry.shared.len() + entry.opening < self.max {
            return None;
        }
        entry.turn = (entry.turn + 1) % entry.shared.len();
        let s = &entry.shared[entry.turn];
        Some(PoolLease::H2 { sender: s.sender.clone(), guard: s.guard.clone() })
    }

    /// Counts a connection being opened to `origin` until the returned guard is dropped (also
    /// when the request is cancelled mid-open).
    fn opening(&self, origin: Origin) -> Opening<'_> {
        self.count_opening(&origin, true);
        Opening { pool: self, origin }
    }

    fn count_opening(&self, origin: &Origin, up: bool) {
        let mut origins = self.origins.borrow_mut();
        if let Some(entry) = origins.iter_mut().find(|o| o.origin.same(origin)) {
            entry.opening = if up { entry.opening + 1 } else { entry.opening.saturating_sub(1) };
        }
    }

    /// The permits of `target`'s origin, creating its entry on first use.
    fn permits(&self, target: &Target<'_>) -> Arc<Semaphore> {
        let mut origins = self.origins.borrow_mut();
        if let Some(entry) = origins.iter().find(|o| o.origin.matches(target)) {
            return entry.permits.clone();
        }
        let permits = Arc::new(Semaphore::new(self.max));
        origins.push(OriginPool {
            origin: Origin::of(target),
            permits: permits.clone(),
            idle: Vec::new(),
            shared: Vec::new(),
            opening: 0,
            turn: 0,
        });
        permits
    }

    fn pop_idle(&self, target: &Target<'_>) -> Option<Conn> {
        let mut origins = self.origins.borrow_mut();
        origins.iter_mut().find(|o| o.origin.matches(target))?.idle.pop()
    }

    /// Takes a connection for one request: a shared HTTP/2 stream, an idle connection, or a new one
    /// when fewer than `max` exist; otherwise waits for one to be returned. Returns whether the
    /// connection had been used before (a failure on it may be a stale keep-alive).
    pub(crate) async fn checkout(
        &self,
        connector: &Connector,
        target: &Target<'_>,
        t: &mut Timings,
    ) -> Result<(PoolLease, bool), Failure> {
        if let Some(lease) = self.shared(target) {
            return Ok((lease, true));
        }
        let permits = self.permits(target);
        let permit = permits
            .acquire_owned()
            .await
            .map_err(|_| Failure::new(ErrorKind::Cancelled, "connection pool closed".to_owned()))?;
        // Another request may have opened an HTTP/2 connection while this one waited.
        if let Some(lease) = self.shared(target) {
            return Ok((lease, true));
        }
        while let Some(mut conn) = self.pop_idle(target) {
            if !conn.is_closed() && conn.ready().await.is_ok() {
                return Ok((PoolLease::H1 { conn, permit }, true));
            }
        }
        // Boxed, as in `HttpClient::checkout`: keeps the request future small.
        let opening = self.opening(Origin::of(target));
        let opened = Box::pin(connector.open(target, t)).await;
        drop(opening);
        let mut conn = opened?;
        if !conn.is_h2() {
            // A fresh HTTP/1.1 connection becomes ready once its task has run.
            if let Err(e) = conn.ready().await {
                return Err(super::error::from_hyper(&e, target));
            }
            return Ok((PoolLease::H1 { conn, permit }, false));
        }
        let Conn { origin, sender, host_header, guard } = conn;
        match sender {
            Sender::H2(sender) => {
                let guard = Rc::new(guard);
                let mut origins = self.origins.borrow_mut();
                if let Some(entry) = origins.iter_mut().find(|o| o.origin.same(&origin)) {
                    entry.shared.push(SharedH2 { sender: sender.clone(), guard: guard.clone() });
                }
                drop(origins);
                // Wakes the next waiter: it opens another connection while fewer than `max` are up,
                // or shares one of them.
                drop(permit);
                Ok((PoolLease::H2 { sender, guard }, false))
            }
            // `is_h2` said otherwise; keep the connection as an exclusive one.
            sender => {
                Ok((PoolLease::H1 { conn: Conn { origin, sender, host_header, guard }, permit }, false))
            }
        }
    }

    /// Returns a connection after a complete response: an HTTP/1.1 connection goes back to the idle
    /// list before its permit is released, so the next waiter finds it (or, when the response
    /// closed it, is dropped, and the waiter opens a new one).
    pub(crate) fn checkin(&self, lease: PoolLease) {
        if let PoolLease::H1 { conn, permit } = lease {
            if !conn.reusable() {
                return;
            }
            let mut origins = self.origins.borrow_mut();
            if let Some(entry) = origins.iter_mut().find(|o| o.origin.same(&conn.origin)) {
                entry.idle.push(conn);
            }
            drop(origins);
            drop(permit);
        }
    }

    /// Drops a connection that failed: an HTTP/2 one is also removed from the shared list so the
    /// next request opens a new one.
    pub(crate) fn discard(&self, lease: PoolLease) {
        if let PoolLease::H2 { guard, .. } = &lease {
            let mut origins = self.origins.borrow_mut();
            for entry in origins.iter_mut() {
                entry.shared.retain(|s| !Rc::ptr_eq(&s.guard, guard));
            }
        }
    }
}
