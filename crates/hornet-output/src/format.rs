//! Number, duration and text formatting shared by the outputs and the live views (the status
//! line, the terminal dashboard and the web UI): every number hornet shows is written by a
//! function of this module.

use std::time::Duration;

/// Elapsed time as `12s`, `1m05s` or `2h03m04s`.
pub fn elapsed(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60),
    }
}

/// A duration in seconds for the summary header: `9.87 s`, `2m05.3s`, `1h02m03s`.
pub fn seconds(s: f64) -> String {
    if !s.is_finite() || s < 0.0 {
        return "-".to_owned();
    }
    if s < 60.0 {
        format!("{s:.2} s")
    } else if s < 3600.0 {
        format!("{}m{:04.1}s", (s / 60.0).floor(), s % 60.0)
    } else {
        elapsed(Duration::from_secs_f64(s))
    }
}

/// Milliseconds with a precision that suits the magnitude: `0.35`, `9.87`, `123.4`, `2048`
/// (defined in `hornet-metrics`, whose warnings write milliseconds too).
pub use hornet_metrics::format::ms;

/// A rate per second with one decimal.
pub fn rate(v: f64) -> String {
    if v.is_finite() { format!("{v:.1}") } else { "-".to_owned() }
}

/// A byte count in binary units: `512 B`, `1.5 KiB`, `3.2 MiB`.
pub fn bytes(v: f64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    if !v.is_finite() || v < 0.0 {
        return "-".to_owned();
    }
    let mut v = v;
    let mut unit = 0;
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{v:.0} B") } else { format!("{v:.1} {}", UNITS[unit]) }
}

/// `part / whole` as a percentage with one decimal, `-` when `whole` is 0.
pub fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "-".to_owned() } else { format!("{:.1}%", part as f64 * 100.0 / whole as f64) }
}

/// A rate for a narrow column: one decimal below 100, none from 100 on (`9.5`, `20134`).
pub fn rate_compact(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// `part / whole` as a percentage with two decimals, `0%` when `whole` is 0 (a live count that
/// has not started yet).
pub fn percent_precise(part: u64, whole: u64) -> String {
    if whole == 0 { "0%".into() } else { format!("{:.2}%", part as f64 * 100.0 / whole as f64) }
}

/// A number for a machine-read file (CSV): the shortest form that reads back as the same number
/// (`2.351`, `100`), like Python's `repr`; `0` when not finite.
pub fn shortest(v: f64) -> String {
    if v.is_finite() { format!("{v}") } else { "0".to_owned() }
}

/// `n` events over `seconds`, per second; 0 for a duration that is not positive.
pub fn per_sec(n: u64, seconds: f64) -> f64 {
    if seconds > 0.0 && seconds.is_finite() { n as f64 / seconds } else { 0.0 }
}

/// Text from a script or a server on one line: control characters (newlines, escape sequences)
/// become spaces and the text is cut to `max` characters, ending in `...` when cut.
pub fn one_line(s: &str, max: usize) -> String {
    let clean: String = s.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
    let clean = clean.trim();
    if clean.chars().count() <= max {
        return clean.to_owned();
    }
    let mut out: String = clean.chars().take(max.saturating_sub(3)).collect();
    out.push_str("...");
    out
}

/// Text from outside for a terminal cell: trimmed, control characters become spaces, and cut to
/// `max` characters followed by `…` when longer.
pub fn clip(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    for (i, c) in s.trim().chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(elapsed(Duration::from_millis(9_999)), "9s");
        assert_eq!(elapsed(Duration::from_secs(65)), "1m05s");
        assert_eq!(elapsed(Duration::from_secs(3 * 3600 + 62)), "3h01m02s");
        assert_eq!(seconds(9.876), "9.88 s");
        assert_eq!(seconds(125.25), "2m05.2s");
        assert_eq!(seconds(f64::NAN), "-");
        assert_eq!(
            (ms(0.349), ms(12.34), ms(2048.4), ms(f64::INFINITY)),
            ("0.35".into(), "12.3".into(), "2048".into(), "-".into())
        );
        assert_eq!(bytes(512.0), "512 B");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(bytes(3.5 * 1024.0 * 1024.0), "3.5 MiB");
        assert_eq!(percent(1, 3), "33.3%");
        assert_eq!(percent(1, 0), "-");
        assert_eq!(rate(2.0 / 3.0), "0.7");
    }

    #[test]
    fn terminal_formats() {
        assert_eq!(clip(" a\nb\x1b[0m ", 10), "a b [0m");
        assert_eq!(clip("abcdef", 3), "abc…");
        assert_eq!(elapsed(Duration::from_secs(65)), "1m05s");
        assert_eq!(ms(3.456), "3.46");
        assert_eq!(ms(123.45), "123.5");
        assert_eq!(bytes(1536.0), "1.5 KiB");
        assert_eq!(rate_compact(20134.4), "20134");
        assert_eq!(rate_compact(9.44), "9.4");
        assert_eq!(percent_precise(1, 3), "33.33%");
        assert_eq!(percent_precise(1, 0), "0%");
    }

    #[test]
    fn per_sec_is_zero_without_a_duration() {
        assert_eq!(per_sec(10, 4.0), 2.5);
        assert_eq!(per_sec(10, 0.0), 0.0);
        assert_eq!(per_sec(10, f64::NAN), 0.0);
    }

    #[test]
    fn one_line_strips_control_characters_and_cuts() {
        assert_eq!(one_line("a\nb\x1b[31mc\t", 80), "a b [31mc");
        assert_eq!(one_line("abcdefghij", 6), "abc...");
        assert_eq!(one_line("ééé", 3), "ééé");
    }
}
