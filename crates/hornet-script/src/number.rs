//! The decimal number grammar, once: how YAML plain scalars and CSV payload cells (Artillery's
//! `cast`) tell a number from a string. Both split a number into integer part, fraction and
//! exponent the same way; they differ only in what JSON forbids (leading zeros, a bare `.5`).

/// A decimal number split at its `.` and `e`/`E`: `int[.frac][e exponent]`.
struct Parts<'s> {
    int: &'s str,
    frac: Option<&'s str>,
    exponent: Option<&'s str>,
}

fn parts(s: &str) -> Parts<'_> {
    let (mantissa, exponent) = match s.find(['e', 'E']) {
        Some(i) => (&s[..i], Some(&s[i + 1..])),
        None => (s, None),
    };
    let (int, frac) = match mantissa.split_once('.') {
        Some((i, f)) => (i, Some(f)),
        None => (mantissa, None),
    };
    Parts { int, frac, exponent }
}

fn all_digits(s: &str) -> bool {
    s.bytes().all(|b| b.is_ascii_digit())
}

fn some_digits(s: &str) -> bool {
    !s.is_empty() && all_digits(s)
}

/// A missing exponent, or one of digits with an optional sign.
fn exponent_ok(exponent: Option<&str>) -> bool {
    exponent.is_none_or(|e| some_digits(e.strip_prefix(['-', '+']).unwrap_or(e)))
}

/// YAML 1.2 core schema floats, sign already removed:
/// `(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?`.
pub(crate) fn is_yaml_float(s: &str) -> bool {
    let p = parts(s);
    all_digits(p.int)
        && p.frac.is_none_or(all_digits)
        && (!p.int.is_empty() || p.frac.is_some_and(|f| !f.is_empty()))
        && exponent_ok(p.exponent)
}

/// JSON numbers: `-?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][-+]?[0-9]+)?`.
pub(crate) fn is_json_number(s: &str) -> bool {
    let p = parts(s.strip_prefix('-').unwrap_or(s));
    some_digits(p.int)
        && (p.int == "0" || !p.int.starts_with('0'))
        && p.frac.is_none_or(some_digits)
        && exponent_ok(p.exponent)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_floats() {
        for yes in ["1.5", ".5", "5.", "1e3", "1.5E-3", "007.5", "2e+10"] {
            assert!(is_yaml_float(yes), "{yes}");
        }
        for no in [".", "", "e3", "1e", "1.5.2", "1x", "1e+", "0x1"] {
            assert!(!is_yaml_float(no), "{no}");
        }
    }

    #[test]
    fn json_numbers() {
        for yes in ["0", "-1", "1.5", "1e3", "-0.5E-3", "10"] {
            assert!(is_json_number(yes), "{yes}");
        }
        for no in ["007", ".5", "5.", "", "-", "1e", "+1", "1.5.2", "0x1"] {
            assert!(!is_json_number(no), "{no}");
        }
    }
}
