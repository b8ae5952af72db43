//! The chart history of the current run, columnar (one array per series, as the Charts tab
//! draws them), bounded: when full, every other point is dropped and each point then stands for
//! twice as many ticks, so the whole run stays, coarser.

use serde::Serialize;

use super::HISTORY_CAP;

/// Columnar chart history of the current run.
#[derive(Debug, Clone, Default, Serialize)]
pub(super) struct History {
    t: Vec<f64>,
    rps: Vec<f64>,
    fails: Vec<f64>,
    p50: Vec<f64>,
    p95: Vec<f64>,
    p99: Vec<f64>,
    vus: Vec<f64>,
    /// How many ticks each point stands for (1, then 2, 4, ... after halvings).
    step: u64,
    #[serde(skip)]
    skip: u64,
}

impl History {
    /// The series, in the order of a pushed point.
    fn series(&mut self) -> [&mut Vec<f64>; 7] {
        [
            &mut self.t,
            &mut self.rps,
            &mut self.fails,
            &mut self.p50,
            &mut self.p95,
            &mut self.p99,
            &mut self.vus,
        ]
    }

    pub(super) fn push(&mut self, p: [f64; 7]) {
        self.step = self.step.max(1);
        self.skip += 1;
        if self.skip < self.step {
            return;
        }
        self.skip = 0;
        if self.t.len() >= HISTORY_CAP {
            for v in self.series() {
                let mut i = 0;
                v.retain(|_| {
                    i += 1;
                    i % 2 == 1
                });
            }
            self.step *= 2;
        }
        for (v, x) in self.series().into_iter().zip(p) {
            v.push(x);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn history_halves_when_full_and_keeps_the_whole_run() {
        let mut h = History::default();
        for k in 0..(HISTORY_CAP as u64 * 3) {
            h.push([k as f64, 1.0, 0.0, 1.0, 2.0, 3.0, 4.0]);
        }
        assert!(h.t.len() <= HISTORY_CAP, "{}", h.t.len());
        assert!(h.step >= 2);
        assert_eq!(h.t.first(), Some(&0.0), "the start of the run stays");
        let last = h.t.last().copied().unwrap_or_default();
        assert!(last >= (HISTORY_CAP * 3) as f64 - 1.0 - h.step as f64, "the end too: {last}");
        assert!(h.t.windows(2).all(|w| w[0] < w[1]));
        assert_eq!(h.rps.len(), h.t.len());
    }
}
