//! Duration strings: `500ms`, `90s`, `5m`, `1h`, `1.5s`, `1m30s`, and plain numbers of seconds.

use std::time::Duration;

/// Nanoseconds per unit, with every spelling accepted for it (compared case-insensitively).
const UNITS: &[(&[&str], f64)] = &[
    (&["ms", "msec", "msecs", "millisecond", "milliseconds"], 1e6),
    (&["s", "sec", "secs", "second", "seconds"], 1e9),
    (&["m", "min", "mins", "minute", "minutes"], 60e9),
    (&["h", "hr", "hrs", "hour", "hours"], 3600e9),
    (&["d", "day", "days"], 86_400e9),
];

/// Parses a duration: a plain number is seconds (`10`, `0.5`); otherwise one or more
/// `<number><unit>` parts (`500ms`, `90s`, `5m`, `1h`, `1.5s`, `1m30s`, `2 min`), units being
/// `ms`, `s`, `m`, `h`, `d` or their long forms. The error is a sentence without the input's
/// location, for the caller to place.
pub fn parse_duration(s: &str) -> Result<Duration, String> {
    let text = s.trim();
    if text.is_empty() {
        return Err("a duration cannot be empty".to_string());
    }
    if text.starts_with('-') {
        return Err(format!("`{text}` is negative; durations must be zero or more"));
    }
    if text.chars().all(|c| c.is_ascii_digit() || c == '.') {
        let secs: f64 = text.parse().map_err(|_| format!("`{text}` is not a number"))?;
        return nanos_to_duration(secs * 1e9, text);
    }
    let mut total = 0.0;
    let mut rest = text;
    while !rest.is_empty() {
        let num_len = rest.find(|c: char| !(c.is_ascii_digit() || c == '.')).unwrap_or(rest.len());
        if num_len == 0 {
            return Err(format!("`{text}` is not a duration: expected a number at `{rest}`"));
        }
        let value: f64 =
            rest[..num_len].parse().map_err(|_| format!("`{}` is not a number", &rest[..num_len]))?;
        rest = rest[num_len..].trim_start();
        let unit_len = rest.find(|c: char| !c.is_alphabetic()).unwrap_or(rest.len());
        let unit = &rest[..unit_len];
        if unit.is_empty() {
            return Err(format!(
                "`{text}` is not a duration: a unit must follow every number except a lone one"
            ));
        }
        let Some(scale) = UNITS
            .iter()
            .find(|(names, _)| names.iter().any(|n| n.eq_ignore_ascii_case(unit)))
            .map(|(_, scale)| *scale)
        else {
            return Err(format!("unknown unit `{unit}` in `{text}`; use ms, s, m, h or d"));
        };
        total += value * scale;
        rest = rest[unit_len..].trim_start();
    }
    nanos_to_duration(total, text)
}

/// Turns a number of seconds (from a YAML number) into a duration.
pub(crate) fn secs_to_duration(secs: f64) -> Result<Duration, String> {
    if secs.is_nan() || secs < 0.0 {
        return Err(format!("{secs} is negative; durations must be zero or more"));
    }
    nanos_to_duration(secs * 1e9, &secs.to_string())
}

fn nanos_to_duration(nanos: f64, text: &str) -> Result<Duration, String> {
    if !nanos.is_finite() || nanos >= u64::MAX as f64 {
        return Err(format!("`{text}` is too long a duration"));
    }
    // In range and non-negative, so the cast is exact up to rounding.
    Ok(Duration::from_nanos(nanos.round() as u64))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ms(n: u64) -> Duration {
        Duration::from_millis(n)
    }

    #[test]
    fn accepts_units_fractions_and_plain_numbers() {
        assert_eq!(parse_duration("500ms"), Ok(ms(500)));
        assert_eq!(parse_duration("90s"), Ok(ms(90_000)));
        assert_eq!(parse_duration("5m"), Ok(ms(300_000)));
        assert_eq!(parse_duration("1h"), Ok(ms(3_600_000)));
        assert_eq!(parse_duration("1.5s"), Ok(ms(1_500)));
        assert_eq!(parse_duration("10"), Ok(ms(10_000)));
        assert_eq!(parse_duration("0.1"), Ok(ms(100)));
        assert_eq!(parse_duration(" 2 min "), Ok(ms(120_000)));
        assert_eq!(parse_duration("1m30s"), Ok(ms(90_000)));
        assert_eq!(parse_duration("1h 2m 3s"), Ok(ms(3_723_000)));
        assert_eq!(parse_duration("300MS"), Ok(ms(300)));
        assert_eq!(parse_duration("1d"), Ok(Duration::from_secs(86_400)));
        assert_eq!(parse_duration("0"), Ok(Duration::ZERO));
    }

    #[test]
    fn rejects_garbage_with_a_reason() {
        assert!(parse_duration("").unwrap_err().contains("empty"));
        assert!(parse_duration("-5s").unwrap_err().contains("negative"));
        assert!(parse_duration("5x").unwrap_err().contains("unknown unit `x`"));
        assert!(parse_duration("5 fortnights").unwrap_err().contains("unknown unit `fortnights`"));
        assert!(parse_duration("s").unwrap_err().contains("expected a number"));
        assert!(parse_duration("1m30").unwrap_err().contains("a unit must follow"));
        assert!(parse_duration("1.2.3s").unwrap_err().contains("not a number"));
        assert!(parse_duration("inf").is_err());
        assert!(parse_duration("NaN").is_err());
        assert!(parse_duration("99999999999999999999h").unwrap_err().contains("too long"));
    }

    #[test]
    fn seconds_from_numbers() {
        assert_eq!(secs_to_duration(0.25), Ok(ms(250)));
        assert!(secs_to_duration(-1.0).is_err());
        assert!(secs_to_duration(f64::INFINITY).is_err());
        assert!(secs_to_duration(f64::NAN).is_err());
    }
}
