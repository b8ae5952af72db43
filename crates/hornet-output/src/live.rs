//! Live output during a run: a one-line status for terminals and a periodic block for logs.

use hornet_metrics::LiveSnapshot;

use crate::format;

/// Longest phase label shown, in characters.
const MAX_PHASE: usize = 32;

/// The corrected p99 when it is above the service-time p99 (some request started late).
fn p99_corrected(s: &LiveSnapshot) -> Option<f64> {
    (s.p99_corrected_ms > s.p99_ms).then_some(s.p99_corrected_ms)
}

/// CPU percentage without decimals; `-` when not finite.
fn cpu(v: f64) -> String {
    if v.is_finite() { format!("{v:.0}%") } else { "-".to_owned() }
}

/// One-line live status for a terminal: elapsed time, phase label, active VUs, RPS and p50/p95/p99
/// of the latest tick (with the corrected p99, `corr.`, when it is higher), total requests and
/// errors, then `drop N` when request-rate tokens were dropped and `cpu N%` when the generator's CPU
/// was measured. No newline; the caller writes `"\r"` + line + clear-to-end-of-line.
pub fn status_line(s: &LiveSnapshot, phase: Option<&str>) -> String {
    let phase = phase.map(|p| format!(" [{}]", format::one_line(p, MAX_PHASE))).unwrap_or_default();
    let corrected = p99_corrected(s).map(|v| format!(" (corr. {})", format::ms(v))).unwrap_or_default();
    let mut line = format!(
        "{}{phase} | VUs {} | {} req/s | p50 {} p95 {} p99 {}{corrected} ms | {} reqs | {} errors",
        format::elapsed(s.elapsed),
        s.active_vus,
        format::rate(s.rps),
        format::ms(s.p50_ms),
        format::ms(s.p95_ms),
        format::ms(s.p99_ms),
        s.requests,
        s.errors,
    );
    if s.dropped > 0 {
        line.push_str(&format!(" | drop {}", s.dropped));
    }
    if let Some(c) = s.cpu_percent {
        line.push_str(&format!(" | cpu {}", cpu(c)));
    }
    line
}

/// A multi-line progress block for non-terminals (CI logs), printed every 10 s: VUs, requests,
/// latency (with the corrected p99 when it is higher), errors, then dropped requests (when any) and
/// the generator's CPU (when measured). Lines are separated by `\n`; there is no trailing newline.
pub fn progress_block(s: &LiveSnapshot, phase: Option<&str>) -> String {
    let phase = phase.map(|p| format!(" phase: {}", format::one_line(p, MAX_PHASE))).unwrap_or_default();
    let corrected = p99_corrected(s)
        .map(|v| format!("; p99 from intended start {} ms", format::ms(v)))
        .unwrap_or_default();
    let mut lines = vec![
        format!("--- {} elapsed{phase} ---", format::elapsed(s.elapsed)),
        format!(
            "  VUs:       {} active, {} created, {} completed, {} failed",
            s.active_vus, s.vus_created, s.vus_completed, s.vus_failed
        ),
        format!("  requests:  {} total, {} req/s (last second)", s.requests, format::rate(s.rps)),
        format!(
            "  latency:   p50 {} ms, p95 {} ms, p99 {} ms{corrected} (last second)",
            format::ms(s.p50_ms),
            format::ms(s.p95_ms),
            format::ms(s.p99_ms)
        ),
        format!("  errors:    {}", s.errors),
    ];
    if s.dropped > 0 {
        lines.push(format!("  dropped:   {} (request-rate tokens that found no free VU)", s.dropped));
    }
    if let Some(c) = s.cpu_percent {
        lines.push(format!("  generator: cpu {} (last second)", cpu(c)));
    }
    lines.join("\n")
}

#[cfg(test)]
mod tests {
    use std::time::Duration;

    use super::*;

    fn snapshot() -> LiveSnapshot {
        LiveSnapshot {
            elapsed: Duration::from_millis(65_400),
            active_vus: 50,
            rps: 1234.56,
            p50_ms: 2.104,
            p95_ms: 5.3,
            p99_ms: 12.345,
            p99_corrected_ms: 12.345,
            requests: 80_000,
            errors: 3,
            vus_created: 700,
            vus_completed: 640,
            vus_failed: 10,
            dropped: 0,
            cpu_percent: None,
        }
    }

    #[test]
    fn status_line_shows_every_figure_on_one_line() {
        let line = status_line(&snapshot(), Some("warm up"));
        assert_eq!(
            line,
            "1m05s [warm up] | VUs 50 | 1234.6 req/s | p50 2.10 p95 5.30 p99 12.3 ms | 80000 reqs | 3 errors"
        );
        let bare = status_line(&LiveSnapshot::default(), None);
        assert_eq!(bare, "0s | VUs 0 | 0.0 req/s | p50 0.00 p95 0.00 p99 0.00 ms | 0 reqs | 0 errors");
    }

    #[test]
    fn phase_labels_cannot_break_the_line() {
        let line =
            status_line(&snapshot(), Some("evil\nphase\r\x1b[2J that is much too long to show in full"));
        assert!(!line.chars().any(char::is_control), "{line:?}");
        assert!(line.contains("[evil phase  [2J that is much ...]"), "{line}");
    }

    #[test]
    fn progress_block_has_one_line_per_topic() {
        let block = progress_block(&snapshot(), Some("sustained"));
        let lines: Vec<_> = block.lines().collect();
        assert_eq!(lines.len(), 5);
        assert_eq!(lines[0], "--- 1m05s elapsed phase: sustained ---");
        assert_eq!(lines[1], "  VUs:       50 active, 700 created, 640 completed, 10 failed");
        assert_eq!(lines[2], "  requests:  80000 total, 1234.6 req/s (last second)");
        assert_eq!(lines[3], "  latency:   p50 2.10 ms, p95 5.30 ms, p99 12.3 ms (last second)");
        assert_eq!(lines[4], "  errors:    3");
        assert!(!block.ends_with('\n'));
    }

    #[test]
    fn drops_cpu_and_corrected_p99_show_only_when_relevant() {
        let s = LiveSnapshot { dropped: 17, cpu_percent: Some(45.4), p99_corrected_ms: 250.0, ..snapshot() };
        assert_eq!(
            status_line(&s, None),
            "1m05s | VUs 50 | 1234.6 req/s | p50 2.10 p95 5.30 p99 12.3 (corr. 250.0) ms | 80000 reqs | 3 \
             errors | drop 17 | cpu 45%"
        );
        // CPU measured at 0 % is shown; no drops and an equal corrected p99 are not.
        let quiet = LiveSnapshot { cpu_percent: Some(0.0), ..snapshot() };
        let line = status_line(&quiet, None);
        assert!(line.ends_with("| 3 errors | cpu 0%"), "{line}");
        assert!(!line.contains("drop") && !line.contains("corr."), "{line}");

        let block = progress_block(&s, None);
        let lines: Vec<_> = block.lines().collect();
        assert_eq!(lines.len(), 7);
        assert_eq!(
            lines[3],
            "  latency:   p50 2.10 ms, p95 5.30 ms, p99 12.3 ms; p99 from intended start 250.0 ms (last second)"
        );
        assert_eq!(lines[5], "  dropped:   17 (request-rate tokens that found no free VU)");
        assert_eq!(lines[6], "  generator: cpu 45% (last second)");
        let block = progress_block(&snapshot(), None);
        assert!(!block.contains("dropped") && !block.contains("generator") && !block.contains("intended"));
    }
}
