//! What operators do to values: conversions to numbers, equality and ordering, arithmetic and
//! concatenation, truthiness, and following a name's path into a value.

use std::cmp::Ordering;

use serde_json::{Number, Value};

use super::{BinOp, Step};

/// Numbers and numeric strings as f64 (`None` for anything that does not convert).
pub(super) fn to_f64(v: &Value) -> Option<f64> {
    match v {
        Value::Number(n) => n.as_f64(),
        Value::String(s) => parse_number(s),
        Value::Bool(b) => Some(if *b { 1.0 } else { 0.0 }),
        _ => None,
    }
}

/// A string holding a finite number (surrounding whitespace allowed).
fn parse_number(s: &str) -> Option<f64> {
    let t = s.trim();
    let looks_numeric =
        t.bytes().all(|b| b.is_ascii_digit() || matches!(b, b'.' | b'-' | b'+' | b'e' | b'E'))
            && t.bytes().any(|b| b.is_ascii_digit());
    if !looks_numeric {
        return None;
    }
    t.parse::<f64>().ok().filter(|x| x.is_finite())
}

pub(super) fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

pub(super) fn from_f64(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn cmp_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), _, _) => Some(x.cmp(&y)),
        (_, _, Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

pub(super) fn equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y) == Some(Ordering::Equal),
        (Value::Number(n), Value::String(s)) | (Value::String(s), Value::Number(n)) => {
            match (parse_number(s), n.as_f64()) {
                (Some(x), Some(y)) => x == y,
                _ => false,
            }
        }
        _ => a == b,
    }
}

pub(super) fn compare(a: &Value, b: &Value) -> Option<Ordering> {
    match (a, b) {
        (Value::String(x), Value::String(y)) => Some(x.cmp(y)),
        (Value::Number(x), Value::Number(y)) => cmp_numbers(x, y),
        _ => to_f64(a)?.partial_cmp(&to_f64(b)?),
    }
}

/// Appends a value as text for string concatenation.
fn push_text(out: &mut String, v: &Value) {
    use std::fmt::Write as _;
    match v {
        Value::Null => {}
        Value::String(s) => out.push_str(s),
        other => {
            let _ = write!(out, "{other}");
        }
    }
}

pub(super) fn arith(op: BinOp, a: &Value, b: &Value) -> Value {
    if op == BinOp::Add && (a.is_string() || b.is_string()) {
        let mut s = String::new();
        push_text(&mut s, a);
        push_text(&mut s, b);
        return Value::String(s);
    }
    if let (Some(x), Some(y)) = (as_int(a), as_int(b)) {
        let r = match op {
            BinOp::Add => x.checked_add(y),
            BinOp::Sub => x.checked_sub(y),
            BinOp::Mul => x.checked_mul(y),
            BinOp::Rem => x.checked_rem(y),
            _ => None,
        };
        if let Some(r) = r {
            return Value::from(r);
        }
    }
    let (Some(x), Some(y)) = (to_f64(a), to_f64(b)) else { return Value::Null };
    from_f64(match op {
        BinOp::Add => x + y,
        BinOp::Sub => x - y,
        BinOp::Mul => x * y,
        BinOp::Div => x / y,
        _ => x % y,
    })
}

/// Truthiness: `false`, `null`, `0` and `""` are false.
pub fn truthy(v: &Value) -> bool {
    match v {
        Value::Null => false,
        Value::Bool(b) => *b,
        Value::Number(n) => n.as_f64().is_some_and(|x| x != 0.0),
        Value::String(s) => !s.is_empty(),
        Value::Array(_) | Value::Object(_) => true,
    }
}

/// Follows `steps` into an owned value, moving out instead of cloning.
pub(super) fn follow(mut v: Value, steps: &[Step]) -> Option<Value> {
    for step in steps {
        v = match v {
            Value::Object(mut m) => m.remove(&step.key)?,
            Value::Array(mut a) => {
                let i = step.index?;
                if i >= a.len() {
                    return None;
                }
                a.swap_remove(i)
            }
            _ => return None,
        };
    }
    Some(v)
}
