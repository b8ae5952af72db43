//! Taking over a lost worker's share (`--on-worker-loss redistribute`): when the controller reports a
//! lost segment ([`Takeover`]), every survivor also runs that segment's open-model arrivals, its
//! closed-model users and its request-rate tokens (with its request-rate VUs) from the loss on, each
//! dealt round robin over the survivors' threads. Nothing here runs unless a takeover comes, so the
//! drivers of a run's own share are untouched.

use std::rc::Rc;
use std::time::Duration;

use hornet_schedule::{ArrivalCounts, Schedule, Segments};
use tokio::time::sleep_until;

use crate::control::Takeover;
use crate::worker::ThreadState;
use crate::{arrivals, gate, users};

/// One thread's share of a takeover. The items of each numbered set the lost segment owned (arrivals,
/// request tokens, closed-model users, request-rate VUs) are dealt round robin by their ordinal among
/// that segment's items over `stripes` = survivors × threads; this thread is stripe `stripe` =
/// rank among the survivors × threads + thread index.
#[derive(Debug, Clone)]
pub(crate) struct Deal {
    segments: Segments,
    lost: usize,
    from: Duration,
    stripes: u64,
    stripe: u64,
}

impl Deal {
    /// Thread `thread` (of `threads`) of segment `me`'s share of `takeover`; `None` when `me` is not
    /// among its survivors.
    pub fn new(
        takeover: &Takeover,
        segments: &Segments,
        me: usize,
        threads: usize,
        thread: usize,
    ) -> Option<Deal> {
        let rank = takeover.survivors.iter().position(|&s| s == me)?;
        (thread < threads).then(|| Deal {
            segments: segments.clone(),
            lost: takeover.lost,
            from: takeover.from,
            stripes: (takeover.survivors.len() * threads) as u64,
            stripe: (rank * threads + thread) as u64,
        })
    }

    /// From when the lost segment's items are taken over (time since the start of the run).
    pub fn from(&self) -> Duration {
        self.from
    }

    /// The global index of this stripe's `k`-th item of a numbered set (users, request-rate VUs): the
    /// lost segment's item of ordinal `k·stripes + stripe`. Increases with `k`; `u64::MAX` when there
    /// is none.
    pub fn item_at(&self, k: u64) -> u64 {
        let m = k.saturating_mul(self.stripes).saturating_add(self.stripe);
        self.segments.nth(self.lost, m).unwrap_or(u64::MAX)
    }

    /// This stripe's items among `0 … total − 1`.
    pub fn items_below(&self, total: u64) -> impl Iterator<Item = u64> + '_ {
        (0..).map(|k| self.item_at(k)).take_while(move |&i| i < total)
    }

    /// This stripe's share of a schedule's items (`all` is the schedule's whole
    /// [`Schedule::arrival_counts`]): those of the lost segment due at or after `from` in the plan (as
    /// written, so that every survivor deals the same set whatever load factor it applies), dealt by
    /// their ordinal among them, as (global index, virtual count) pairs.
    pub fn counts(
        &self,
        schedule: &Schedule,
        all: ArrivalCounts,
    ) -> impl Iterator<Item = (u64, f64)> + 'static {
        let (segments, lost, from) = (self.segments.clone(), self.lost, self.from);
        let (stripes, stripe) = (self.stripes, self.stripe);
        let (schedule, phases) = (schedule.clone(), schedule.phase_count());
        let mut ordinal = 0u64;
        all.take_while(move |&(_, _, phase)| phase < phases)
            // Due times grow with the count: skip to the first item due from `from` on.
            .skip_while(move |&(_, c, _)| schedule.time_at_count(c).is_none_or(|at| at < from))
            .filter(move |&(k, _, _)| segments.owner(k) == lost)
            .filter(move |_| {
                ordinal += 1;
                (ordinal - 1) % stripes == stripe
            })
            .map(|(k, c, _)| (k, c))
    }
}

/// In a part of a distributed run: runs this thread's share of each lost segment the controller asks
/// this worker to take over, until the schedule ends or the run stops.
pub(crate) async fn drive(local: &Rc<ThreadState>) {
    let shared = &local.shared;
    let Some((segments, me)) = shared.part.clone() else { return };
    let mut list = shared.control.subscribe_takeovers();
    let mut stopped = shared.control.subscribe();
    let end = shared.start + shared.schedule.total_duration();
    let mut seen = 0;
    let mut tasks = Vec::new();
    loop {
        let takeovers = list.borrow_and_update().clone();
        for t in takeovers.iter().skip(seen) {
            let Some(deal) = Deal::new(t, &segments, me, shared.threads, local.index) else { continue };
            let deal = Rc::new(deal);
            let (l, d) = (local.clone(), deal.clone());
            tasks.push(tokio::task::spawn_local(async move {
                let items = d.counts(&l.shared.schedule, l.shared.schedule.arrival_counts(l.shared.seed));
                arrivals::drive_items(&l, items).await;
            }));
            if shared.users.peak() > 0 {
                let (l, d) = (local.clone(), deal.clone());
                tasks.push(tokio::task::spawn_local(async move { take_over_users(&l, &d).await }));
            }
            if gate::has_phases(shared) {
                let (l, d) = (local.clone(), deal.clone());
                tasks.push(tokio::task::spawn_local(async move { gate::drive_takeover(&l, &d).await }));
            }
        }
        seen = takeovers.len();
        tokio::select! {
            changed = list.changed() => if changed.is_err() { break },
            _ = sleep_until(end) => break,
            _ = stopped.wait_for(|s| *s) => break,
        }
    }
    for t in tasks {
        let _ = t.await;
    }
}

/// The lost segment's closed-model users dealt to this thread, from `from` on: those active then
/// start at once (they were running on the lost worker) and all follow the target user count from
/// there, like the worker's own users.
async fn take_over_users(local: &Rc<ThreadState>, deal: &Deal) {
    let shared = &local.shared;
    let mut stopped = shared.control.subscribe();
    tokio::select! {
        _ = sleep_until(shared.start + deal.from) => {}
        _ = stopped.wait_for(|s| *s) => return,
    }
    users::drive(local, |k| deal.item_at(k)).await;
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeSet;

    use hornet_script::plan::{Phase, PhaseKind};

    use super::*;

    fn takeover(lost: usize, from_s: u64, survivors: &[usize]) -> Takeover {
        Takeover { lost, from: Duration::from_secs(from_s), survivors: survivors.to_vec() }
    }

    /// Every deal of `t` over `threads` threads per survivor.
    fn deals(t: &Takeover, segments: &Segments, threads: usize) -> Vec<Deal> {
        let all = t.survivors.iter().flat_map(|&me| (0..threads).map(move |i| (me, i)));
        all.map(|(me, i)| Deal::new(t, segments, me, threads, i).expect("a survivor")).collect()
    }

    #[test]
    fn only_survivors_get_a_deal() {
        let segments = Segments::equal(3).unwrap();
        let t = takeover(1, 3, &[0, 2]);
        assert!(Deal::new(&t, &segments, 1, 2, 0).is_none(), "the lost worker");
        assert!(Deal::new(&t, &segments, 0, 2, 2).is_none(), "no such thread");
        let d = Deal::new(&t, &segments, 2, 2, 1).unwrap();
        assert_eq!((d.stripes, d.stripe), (4, 3));
    }

    #[test]
    fn the_lost_segments_users_are_dealt_exactly_once_in_increasing_order() {
        // Weights 1, 2, 1: the lost worker 1 owns half the users; 2 survivors × 2 threads share them.
        let segments = Segments::new(&[1, 2, 1]).unwrap();
        let t = takeover(1, 3, &[0, 2]);
        let mut dealt = Vec::new();
        for d in deals(&t, &segments, 2) {
            let mine: Vec<u64> = d.items_below(100).collect();
            assert!(mine.windows(2).all(|w| w[0] < w[1]), "increasing: {mine:?}");
            assert!((12..=13).contains(&mine.len()), "an even share: {mine:?}");
            dealt.extend(mine);
        }
        dealt.sort_unstable();
        let lost: Vec<u64> = (0..100).filter(|&u| segments.owner(u) == 1).collect();
        assert_eq!(dealt, lost);
        // With 3 equal workers, worker 1's users are 1, 4, 7, …; survivor 0's thread 0 has the first.
        let equal = Segments::equal(3).unwrap();
        let d = Deal::new(&t, &equal, 0, 1, 0).unwrap();
        assert_eq!(d.items_below(30).collect::<Vec<_>>(), [1, 7, 13, 19, 25]);
        let d = Deal::new(&t, &equal, 2, 1, 0).unwrap();
        assert_eq!(d.items_below(30).collect::<Vec<_>>(), [4, 10, 16, 22, 28]);
    }

    #[test]
    fn the_lost_segments_items_due_from_the_loss_are_dealt_exactly_once() {
        let phases = [
            Phase::rate(10.0, Duration::from_secs(4)),
            Phase::new(Duration::from_secs(4), PhaseKind::RequestRate { rate: 30.0, ramp_to: Some(60.0) }),
        ];
        // The loss comes 3 s into the arrivals' phase, and 1 s into the request-rate phase.
        for (schedule, from) in [(Schedule::new(&phases), 3), (Schedule::requests(&phases), 5)] {
            let segments = Segments::equal(3).unwrap();
            let t = takeover(1, from, &[0, 2]);
            let all: Vec<(u64, f64, usize)> =
                schedule.arrival_counts(7).take_while(|&(_, _, p)| p < schedule.phase_count()).collect();
            let lost: BTreeSet<u64> = all
                .iter()
                .filter(|&&(k, c, _)| {
                    segments.owner(k) == 1 && schedule.time_at_count(c).unwrap() >= Duration::from_secs(from)
                })
                .map(|&(k, _, _)| k)
                .collect();
            assert!(!lost.is_empty());
            let before = |&&(k, c, _): &&(u64, f64, usize)| {
                segments.owner(k) == 1 && schedule.time_at_count(c).unwrap() < Duration::from_secs(from)
            };
            assert!(all.iter().any(|i| before(&i)), "the lost segment had items before the loss");
            let mut dealt = BTreeSet::new();
            let mut shares = Vec::new();
            for d in deals(&t, &segments, 2) {
                let mine: Vec<(u64, f64)> = d.counts(&schedule, schedule.arrival_counts(7)).collect();
                shares.push(mine.len());
                for (k, c) in mine {
                    assert_eq!(all.iter().find(|i| i.0 == k).map(|i| i.1), Some(c), "the count of {k}");
                    assert!(dealt.insert(k), "{k} dealt twice");
                }
            }
            assert_eq!(dealt, lost);
            let (min, max) = (shares.iter().min().unwrap(), shares.iter().max().unwrap());
            assert!(max - min <= 1, "even shares: {shares:?}");
        }
    }
}
