//! Metrics processor JavaScript reports with `events.emit`: counters, histograms and rates under
//! names the processor chooses, kept per interval and merged like the built-in metrics.

use crate::hist::Hist;

/// The prefixes of hornet's own metric names; `errors` alone is one too.
const BUILT_IN_PREFIXES: [&str; 7] =
    ["http.", "vusers.", "errors.", "websocket.", "plugins.", "schedule.", "generator."];

/// Whether a report's counter, rate or summary `name` is one a processor reported (any name outside
/// hornet's own families), as the summary shows them apart.
pub fn is_processor_metric(name: &str) -> bool {
    name != "errors" && !BUILT_IN_PREFIXES.iter().any(|p| name.starts_with(p))
}

/// Most distinct names of each custom metric kind an interval keeps; later names are not counted
/// (a processor that puts ids in metric names cannot make a recorder grow without bound).
const MAX_CUSTOM_NAMES: usize = 1024;

/// Custom metrics by name: counters, histograms (values in the unit the processor used, kept to
/// 1/1000 as the histograms' microsecond ticks, so summaries read back in that unit) and rates.
/// Short lists searched linearly: a name is allocated once per interval, on its first value.
#[derive(Debug, Clone, Default)]
pub(crate) struct CustomStats {
    pub(crate) counters: Vec<(Box<str>, u64)>,
    pub(crate) histograms: Vec<(Box<str>, Hist)>,
    pub(crate) rates: Vec<(Box<str>, u64)>,
}

/// The entry for `name`, added when there is room.
fn slot<'a, T: Default>(list: &'a mut Vec<(Box<str>, T)>, name: &str) -> Option<&'a mut T> {
    match list.iter().position(|(n, _)| &**n == name) {
        Some(i) => Some(&mut list[i].1),
        None if list.len() < MAX_CUSTOM_NAMES => {
            list.push((name.into(), T::default()));
            list.last_mut().map(|(_, v)| v)
        }
        None => None,
    }
}

impl CustomStats {
    pub(crate) fn merge(&mut self, o: &CustomStats) {
        for (name, n) in &o.counters {
            self.count(name, *n);
        }
        for (name, h) in &o.histograms {
            self.merge_histogram(name, h);
        }
        for (name, n) in &o.rates {
            self.tick_n(name, *n);
        }
    }

    /// Merges `h` into histogram `name`.
    pub(crate) fn merge_histogram(&mut self, name: &str, h: &Hist) {
        if let Some(mine) = slot(&mut self.histograms, name) {
            mine.merge(h);
        }
    }

    /// `n` events of rate `name`.
    pub(crate) fn tick_n(&mut self, name: &str, n: u64) {
        if let Some(c) = slot(&mut self.rates, name) {
            *c += n;
        }
    }

    /// Adds `n` to counter `name`.
    pub(crate) fn count(&mut self, name: &str, n: u64) {
        if let Some(c) = slot(&mut self.counters, name) {
            *c += n;
        }
    }

    /// Records `value` (non-negative, to 1/1000) in histogram `name`.
    pub(crate) fn record(&mut self, name: &str, value: f64) {
        if let Some(h) = slot(&mut self.histograms, name) {
            h.record_us((value.max(0.0) * 1000.0).round() as u64);
        }
    }

    /// One event of rate `name`.
    pub(crate) fn tick(&mut self, name: &str) {
        self.tick_n(name, 1);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn processor_metrics_are_told_apart_from_built_in_ones() {
        for own in ["errors", "errors.timeout", "http.response_time", "vusers.created", "plugins.expect.ok"] {
            assert!(!is_processor_metric(own), "{own}");
        }
        for custom in ["orders.made", "echo.body_bytes", "httpish", "error.rate"] {
            assert!(is_processor_metric(custom), "{custom}");
        }
    }

    #[test]
    fn merging_adds_by_name_and_names_are_bounded() {
        let mut a = CustomStats::default();
        a.count("logins", 2);
        a.record("size", 1.5);
        a.tick("signups");
        let mut b = CustomStats::default();
        b.count("logins", 3);
        b.count("other", 1);
        b.record("size", 2.5);
        a.merge(&b);
        assert_eq!(a.counters, [("logins".into(), 5), ("other".into(), 1)]);
        assert_eq!(a.histograms[0].1.count(), 2);
        assert_eq!(a.rates, [("signups".into(), 1)]);

        for i in 0..MAX_CUSTOM_NAMES + 10 {
            a.count(&format!("id.{i}"), 1);
        }
        assert_eq!(a.counters.len(), MAX_CUSTOM_NAMES);
    }
}
