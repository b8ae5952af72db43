//! Rendering a compiled template into a caller's buffer: variables looked up through [`Vars`],
//! the functions evaluated with the caller's randomness, and the typed forms (a whole placeholder
//! keeps its JSON type).

use std::fmt::Write as _;

use serde_json::Value;

use super::json::{push_json, push_json_escaped, push_text_value};
use super::{Segment, Template, Vars};

const ALPHANUMERIC: &[u8; 62] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

pub(super) fn random_number(r: u64, min: i64, max: i64) -> i64 {
    // `span` is 1..=2^64; the widening multiply maps `r` onto it without a division.
    let span = (i128::from(max) - i128::from(min)) as u128 + 1;
    if span > u128::from(u64::MAX) {
        return r as i64;
    }
    let offset = (u128::from(r) * span) >> 64;
    (i128::from(min) + offset as i128) as i64
}

pub(super) fn random_char(r: u64) -> char {
    ALPHANUMERIC[((u128::from(r) * 62) >> 64) as usize] as char
}

pub(super) fn timestamp_ms() -> u64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
}

impl Template {
    /// Appends the rendered text to `out`. Returns the first variable path that did not resolve,
    /// as written, if any (it rendered as nothing).
    pub fn render_into<'a>(&'a self, vars: &(impl Vars + ?Sized), out: &mut String) -> Option<&'a str> {
        self.render_segments(vars, out, false)
    }

    fn render_segments<'a, V: Vars + ?Sized>(
        &'a self,
        vars: &V,
        out: &mut String,
        json: bool,
    ) -> Option<&'a str> {
        let mut missing = None;
        for seg in &self.segments {
            match seg {
                Segment::Lit(s) if json => push_json_escaped(out, s),
                Segment::Lit(s) => out.push_str(s),
                Segment::Ref(path) => match path.resolve(vars) {
                    Some(v) => push_text_value(v, out, json),
                    None => {
                        missing.get_or_insert(path.text.as_str());
                    }
                },
                Segment::RandomNumber { min, max } => {
                    let _ = write!(out, "{}", random_number(vars.random(), *min, *max));
                }
                Segment::RandomString { len } => {
                    out.reserve(*len);
                    for _ in 0..*len {
                        out.push(random_char(vars.random()));
                    }
                }
                Segment::Timestamp => {
                    let _ = write!(out, "{}", timestamp_ms());
                }
            }
        }
        missing
    }

    /// Renders to a new string (convenience for cold paths and tests).
    pub fn render(&self, vars: &(impl Vars + ?Sized)) -> String {
        let mut out = String::with_capacity(self.source.len());
        self.render_into(vars, &mut out);
        out
    }

    /// Renders to a typed value. A template that is exactly one placeholder keeps the JSON type of
    /// what it inserts: a variable's value as is (number, object, null, ...), a number for
    /// `$randomNumber` and `$timestamp`. Anything else, including a variable that does not resolve,
    /// is the rendered string.
    pub fn render_value(&self, vars: &(impl Vars + ?Sized)) -> Value {
        match self.segments.as_slice() {
            [Segment::Ref(p)] => match p.resolve(vars) {
                Some(v) => v.clone(),
                None => Value::String(String::new()),
            },
            [Segment::RandomNumber { min, max }] => Value::from(random_number(vars.random(), *min, *max)),
            [Segment::Timestamp] => Value::from(timestamp_ms()),
            _ => Value::String(self.render(vars)),
        }
    }

    /// Appends the JSON form of [`Template::render_value`] to `out` without building the value:
    /// a whole placeholder keeps its type, anything else is a JSON string. Returns the first
    /// variable path that did not resolve, as [`Template::render_into`] does.
    pub fn render_json_into<'a>(&'a self, vars: &(impl Vars + ?Sized), out: &mut String) -> Option<&'a str> {
        match self.segments.as_slice() {
            [Segment::Ref(p)] => match p.resolve(vars) {
                Some(v) => {
                    push_json(v, out);
                    None
                }
                None => {
                    out.push_str("\"\"");
                    Some(&p.text)
                }
            },
            [Segment::RandomNumber { .. } | Segment::Timestamp] => self.render_segments(vars, out, false),
            _ => {
                out.push('"');
                let missing = self.render_segments(vars, out, true);
                out.push('"');
                missing
            }
        }
    }

    /// True when some segment changes between renders.
    pub(super) fn is_dynamic(&self) -> bool {
        self.segments.iter().any(Segment::is_dynamic)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_number_stays_in_range_at_the_extremes() {
        for r in [0, 1, u64::MAX / 2, u64::MAX - 1, u64::MAX] {
            assert!((-3..=3).contains(&random_number(r, -3, 3)));
            assert_eq!(random_number(r, 7, 7), 7);
            let _ = random_number(r, i64::MIN, i64::MAX);
            assert!(random_number(r, i64::MAX - 1, i64::MAX) >= i64::MAX - 1);
        }
        assert_eq!(random_number(0, -3, 3), -3);
        assert_eq!(random_number(u64::MAX, -3, 3), 3);
        assert_eq!(random_char(0), 'A');
        assert_eq!(random_char(u64::MAX), '9');
    }
}
