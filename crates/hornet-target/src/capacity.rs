//! `/capacity?workers=N&ms=S`: a system whose capacity is known by construction, for testing
//! `hornet capacity` and for trying it out. N workers each serve one request at a time and stay
//! busy S milliseconds per request; a request that finds every worker busy waits in one FIFO
//! queue. The route therefore sustains exactly N·1000/S requests a second: below that rate
//! latency stays at S, above it the queue (and latency) grows without bound.
//!
//! Each distinct (N, S) has its own pool of workers, shared by every connection of the server, so
//! several settings can be measured side by side. A worker is a semaphore permit held during a
//! sleep on a high-resolution timer ([`hornet_timer::Timer`]), not a spinning thread: the pool
//! models a server's concurrency limit without using the CPU the load generator needs. Each
//! worker keeps its own timetable: a request it takes starts when the request arrived or when the
//! worker's previous request was due to end, whichever is later, and ends S after that. A wake-up
//! that comes late (a busy machine) therefore shortens the next request rather than adding up, and
//! the pool keeps its capacity as long as such delays stay below S.

use std::cmp::Reverse;
use std::collections::{BinaryHeap, HashMap};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::{Duration, Instant};

use http::StatusCode;
use tokio::sync::Semaphore;

use crate::routes::query_param;

/// Most workers a pool may have.
pub(crate) const MAX_WORKERS: u32 = 10_000;
/// Longest busy time per request, ms.
pub(crate) const MAX_BUSY_MS: f64 = 60_000.0;
/// Most requests one pool holds waiting; the next ones are answered 503 at once (memory bound).
pub(crate) const MAX_QUEUED: u64 = 100_000;

/// One setting's workers and the requests waiting for them.
#[derive(Debug)]
struct Pool {
    workers: Semaphore,
    /// When each idle worker's last request was due to end (one entry per permit not held).
    free_at: Mutex<BinaryHeap<Reverse<Instant>>>,
    /// Requests waiting for a worker now.
    queued: AtomicU64,
}

/// Every pool of one server, by (workers, busy time in µs).
#[derive(Debug, Default)]
pub(crate) struct Pools {
    pools: Mutex<HashMap<(u32, u64), Arc<Pool>>>,
}

/// A `/capacity` request's setting.
#[derive(Debug, Clone, Copy, PartialEq)]
struct Setting {
    workers: u32,
    busy: Duration,
}

/// The setting in `query`, or what is wrong with it.
fn setting(query: Option<&str>) -> Result<Setting, String> {
    let query = query.unwrap_or("");
    let workers = match query_param(query, "workers") {
        None => return Err("missing workers: expected /capacity?workers=N&ms=S".to_owned()),
        Some(w) => w
            .parse::<u32>()
            .ok()
            .filter(|w| (1..=MAX_WORKERS).contains(w))
            .ok_or_else(|| format!("invalid workers `{w}`: expected 1..={MAX_WORKERS}"))?,
    };
    let busy_ms = match query_param(query, "ms") {
        None => return Err("missing ms: expected /capacity?workers=N&ms=S".to_owned()),
        Some(s) => {
            s.parse::<f64>().ok().filter(|ms| ms.is_finite() && *ms > 0.0 && *ms <= MAX_BUSY_MS).ok_or_else(
                || format!("invalid ms `{s}`: expected a number of milliseconds above 0, at most 60000"),
            )?
        }
    };
    Ok(Setting { workers, busy: Duration::from_secs_f64(busy_ms / 1000.0) })
}

impl Pools {
    fn pool(&self, s: Setting) -> Arc<Pool> {
        let key = (s.workers, s.busy.as_micros() as u64);
        let mut pools = self.pools.lock().unwrap_or_else(PoisonError::into_inner);
        pools
            .entry(key)
            .or_insert_with(|| {
                let now = Instant::now();
                Arc::new(Pool {
                    workers: Semaphore::new(s.workers as usize),
                    free_at: Mutex::new((0..s.workers).map(|_| Reverse(now)).collect()),
                    queued: AtomicU64::new(0),
                })
            })
            .clone()
    }
}

/// Decrements a pool's queue count when the request stops waiting (served or cancelled).
struct Waiting<'a>(&'a AtomicU64);

impl Drop for Waiting<'_> {
    fn drop(&mut self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }
}

/// A worker's timetable entry, handed back to its pool when the request ends.
struct Busy<'a> {
    pool: &'a Pool,
    end: Instant,
}

impl Drop for Busy<'_> {
    fn drop(&mut self) {
        self.pool.free_at.lock().unwrap_or_else(PoisonError::into_inner).push(Reverse(self.end));
    }
}

/// Serves one `/capacity` request: waits for a worker of its pool, keeps it busy for the setting's
/// time, and answers 200 with `{"workers", "ms", "queued_ms"}` (how long it waited for a worker);
/// 400 for a bad setting, 503 when the pool's queue is full.
pub(crate) async fn serve(query: Option<&str>, pools: &Pools) -> (StatusCode, String) {
    let s = match setting(query) {
        Ok(s) => s,
        Err(why) => return (StatusCode::BAD_REQUEST, serde_json::json!({ "error": why }).to_string()),
    };
    let pool = pools.pool(s);
    let arrived = Instant::now();
    if pool.queued.fetch_add(1, Ordering::Relaxed) >= MAX_QUEUED {
        pool.queued.fetch_sub(1, Ordering::Relaxed);
        return (StatusCode::SERVICE_UNAVAILABLE, r#"{"error":"queue full"}"#.to_owned());
    }
    let waiting = Waiting(&pool.queued);
    // The semaphore is never closed, so acquiring only fails if it were; answer 503 then.
    let Ok(_worker) = pool.workers.acquire().await else {
        return (StatusCode::SERVICE_UNAVAILABLE, r#"{"error":"closed"}"#.to_owned());
    };
    drop(waiting);
    // The worker whose permit this is: the one that became free first.
    let free_at = pool.free_at.lock().unwrap_or_else(PoisonError::into_inner).pop().map_or(arrived, |r| r.0);
    let start = arrived.max(free_at);
    let end = start + s.busy;
    // Handed back to the pool when the request ends, served or dropped with its connection.
    let _busy = Busy { pool: &pool, end };
    hornet_timer::Timer::new().sleep_until(end.into()).await;
    let queued = start - arrived;
    let body = serde_json::json!({
        "workers": s.workers,
        "ms": s.busy.as_secs_f64() * 1000.0,
        "queued_ms": (queued.as_secs_f64() * 1e6).round() / 1e3,
    });
    (StatusCode::OK, body.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn settings_are_read_and_bounded() {
        assert_eq!(
            setting(Some("workers=4&ms=20")),
            Ok(Setting { workers: 4, busy: Duration::from_millis(20) })
        );
        assert_eq!(setting(Some("ms=2.5&workers=1")).map(|s| s.busy), Ok(Duration::from_micros(2500)));
        for bad in ["", "workers=4", "ms=20", "workers=0&ms=20", "workers=4&ms=0", "workers=4&ms=-1"] {
            assert!(setting(Some(bad)).is_err(), "{bad}");
        }
        assert!(setting(Some("workers=10001&ms=1")).unwrap_err().contains("1..=10000"));
        assert!(setting(Some("workers=1&ms=60001")).unwrap_err().contains("at most 60000"));
        assert!(setting(None).unwrap_err().contains("missing workers"));
    }

    /// Two workers of 30 ms take four requests in two rounds: the last two wait one round.
    #[tokio::test(flavor = "current_thread")]
    async fn excess_requests_queue_for_a_worker() {
        let pools = Pools::default();
        let started = Instant::now();
        let answers =
            futures_util::future::join_all((0..4).map(|_| serve(Some("workers=2&ms=30"), &pools))).await;
        let elapsed = started.elapsed();
        assert!(elapsed >= Duration::from_millis(60), "two rounds of 30 ms: {elapsed:?}");
        let mut queued: Vec<f64> = answers
            .iter()
            .map(|(status, body)| {
                assert_eq!(*status, StatusCode::OK);
                let v: serde_json::Value = serde_json::from_str(body).unwrap();
                v["queued_ms"].as_f64().unwrap()
            })
            .collect();
        queued.sort_by(f64::total_cmp);
        assert!(queued[1] < 15.0 && queued[2] >= 25.0, "{queued:?}");
        assert_eq!(pools.pool(setting(Some("workers=2&ms=30")).unwrap()).queued.load(Ordering::Relaxed), 0);
    }
}
