//! Execution segments: how a distributed run splits one schedule over several worker processes without
//! multiplying it (docs/design.md §5).
//!
//! The controller gives each worker an integer *weight* (1 by default). With `D` the sum of the weights,
//! worker `i` owns the segment `[a_i, b_i)` of `[0, 1)` with `a_i = Σ_{j<i} w_j / D` and
//! `b_i = a_i + w_i / D`. Which worker runs arrival `k` (global index, the same numbering as the
//! single-machine run) is decided by a cycle of length `D` built once with *smooth weighted round robin*:
//! at each step every worker's credit grows by its weight, the worker with the largest credit (the
//! lowest index on ties) takes the step and pays `D`. Arrival `k` belongs to the owner of step `k mod D`.
//!
//! Properties (tested in `tests/segment.rs`):
//!
//! - **Exact union.** Every `k` has exactly one owner, so the workers' arrivals together are exactly the
//!   single-machine schedule: the same indices at the same times, and any count split this way
//!   ([`Segments::split`]) has integer parts that sum to the total.
//! - **Exact shares.** Each cycle of `D` consecutive indices gives worker `i` exactly `w_i` of them.
//! - **Even spread.** Smooth round robin keeps each worker's running count within one of its exact share
//!   `k·w_i/D` at every prefix, so over any window of consecutive indices (say the arrivals of one second)
//!   a worker's count differs from its share by less than 2, and by at most 1 when all weights are equal
//!   (plain round robin).
//!
//! The same ownership applies to every numbered thing: arrivals, request-rate tokens, closed-model users
//! (user `u` runs on the owner of `u`), and therefore CSV rows, which are picked by VU index. Inside one
//! worker process its items are then striped over its threads by their ordinal among the worker's own
//! items ([`SegmentCounts`], [`Segments::nth`]).

use crate::ArrivalCounts;

/// Largest cycle (sum of weights) accepted; keeps the lookup tables small.
pub const MAX_CYCLE: u64 = 1 << 16;

/// Why a list of weights cannot make segments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SegmentError {
    /// No worker, or every weight is 0.
    #[error("execution segments need at least one worker with a positive weight")]
    Empty,
    /// The weights add up to more than [`MAX_CYCLE`].
    #[error("the workers' weights add up to {0}, more than the {MAX_CYCLE} allowed")]
    TooLarge(u64),
}

/// The execution segments of a run: one per worker, by weight. Cheap to clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Segments {
    /// Weight of each worker.
    weights: Vec<u32>,
    /// Owner of each step of the cycle (length `D`).
    cycle: std::sync::Arc<[u32]>,
    /// For each worker, the steps of the cycle it owns, in increasing order (`weights[i]` of them).
    positions: std::sync::Arc<[Vec<u32>]>,
}

impl Segments {
    /// Segments for workers of the given weights (a weight of 0 gives an empty segment).
    pub fn new(weights: &[u32]) -> Result<Segments, SegmentError> {
        let total: u64 = weights.iter().map(|&w| u64::from(w)).sum();
        if total == 0 {
            return Err(SegmentError::Empty);
        }
        if total > MAX_CYCLE {
            return Err(SegmentError::TooLarge(total));
        }
        let d = total as i64;
        let mut credit = vec![0i64; weights.len()];
        let mut cycle = Vec::with_capacity(total as usize);
        let mut positions = vec![Vec::new(); weights.len()];
        for step in 0..total {
            let mut best = 0usize;
            for (i, &w) in weights.iter().enumerate() {
                credit[i] += i64::from(w);
                if credit[i] > credit[best] {
                    best = i;
                }
            }
            credit[best] -= d;
            cycle.push(best as u32);
            positions[best].push(step as u32);
        }
        Ok(Segments { weights: weights.to_vec(), cycle: cycle.into(), positions: positions.into() })
    }

    /// `n` workers of equal weight (plain round robin: worker `i` owns `k ≡ i mod n`).
    pub fn equal(n: usize) -> Result<Segments, SegmentError> {
        let n = u32::try_from(n).map_err(|_| SegmentError::TooLarge(n as u64))?;
        Segments::new(&vec![1; n as usize])
    }

    /// Number of workers.
    pub fn len(&self) -> usize {
        self.weights.len()
    }

    /// Whether there is no worker (never true for a value built by [`Segments::new`]).
    pub fn is_empty(&self) -> bool {
        self.weights.is_empty()
    }

    /// The weights, as given.
    pub fn weights(&self) -> &[u32] {
        &self.weights
    }

    /// Length of the cycle: the sum of the weights.
    pub fn cycle_len(&self) -> u64 {
        self.cycle.len() as u64
    }

    /// Worker `i`'s segment `[a, b)` of `[0, 1)` (`(0, 0)` past the last worker).
    pub fn bounds(&self, i: usize) -> (f64, f64) {
        if i >= self.weights.len() {
            return (0.0, 0.0);
        }
        let d = self.cycle_len() as f64;
        let before: u64 = self.weights[..i].iter().map(|&w| u64::from(w)).sum();
        let a = before as f64 / d;
        (a, (before + u64::from(self.weights[i])) as f64 / d)
    }

    /// Worker `i`'s share, `w_i / D`.
    pub fn share(&self, i: usize) -> f64 {
        let (a, b) = self.bounds(i);
        b - a
    }

    /// The worker that runs item `k`.
    pub fn owner(&self, k: u64) -> usize {
        self.cycle[(k % self.cycle_len()) as usize] as usize
    }

    /// How many of the items `0 … n − 1` worker `i` runs. Over all workers these add up to `n`.
    pub fn count_below(&self, i: usize, n: u64) -> u64 {
        let (Some(&w), Some(pos)) = (self.weights.get(i), self.positions.get(i)) else { return 0 };
        let d = self.cycle_len();
        let rest = n % d;
        (n / d).saturating_mul(u64::from(w)) + pos.partition_point(|&p| u64::from(p) < rest) as u64
    }

    /// Worker `i`'s part of a total of `n` items (users, rows, a `maxVusers` bound): the parts add up to
    /// `n` exactly.
    pub fn split(&self, n: u64) -> Vec<u64> {
        (0..self.len()).map(|i| self.count_below(i, n)).collect()
    }

    /// Global index of worker `i`'s `m`-th item (counting from 0), or `None` when it owns none.
    pub fn nth(&self, i: usize, m: u64) -> Option<u64> {
        let w = u64::from(*self.weights.get(i)?);
        if w == 0 {
            return None;
        }
        let pos = self.positions.get(i)?;
        let step = u64::from(*pos.get((m % w) as usize)?);
        (m / w).checked_mul(self.cycle_len())?.checked_add(step)
    }
}

/// The items of an [`ArrivalCounts`] sequence that worker `worker` owns under `segments`, further
/// striped over `threads` threads: thread `thread` takes the worker's items whose ordinal among the
/// worker's own items is `≡ thread (mod threads)`. Items keep their global index and count, so the
/// union over all workers and threads is exactly the unsplit sequence.
#[derive(Debug, Clone)]
pub struct SegmentCounts {
    inner: Option<ArrivalCounts>,
    segments: Segments,
    worker: usize,
    thread: u64,
    threads: u64,
    ordinal: u64,
}

impl SegmentCounts {
    /// Wraps `inner` (the whole, unstriped sequence). Empty when the worker owns nothing, or when
    /// `threads == 0` or `thread >= threads`.
    pub fn new(
        inner: ArrivalCounts,
        segments: Segments,
        worker: usize,
        thread: usize,
        threads: usize,
    ) -> Self {
        let owns = segments.weights().get(worker).is_some_and(|&w| w > 0);
        let inner = (owns && threads > 0 && thread < threads).then_some(inner);
        SegmentCounts {
            inner,
            segments,
            worker,
            thread: thread as u64,
            threads: threads.max(1) as u64,
            ordinal: 0,
        }
    }
}

impl Iterator for SegmentCounts {
    type Item = (u64, f64, usize);

    fn next(&mut self) -> Option<(u64, f64, usize)> {
        let inner = self.inner.as_mut()?;
        // Each pass either yields or skips an item; the owner has an item in every `D` consecutive
        // indices, so a yield comes within `D·threads` passes (or the sequence ends).
        loop {
            let item = inner.next()?;
            if self.segments.owner(item.0) != self.worker {
                continue;
            }
            let ordinal = self.ordinal;
            self.ordinal += 1;
            if ordinal % self.threads == self.thread {
                return Some(item);
            }
        }
    }
}

impl std::iter::FusedIterator for SegmentCounts {}
