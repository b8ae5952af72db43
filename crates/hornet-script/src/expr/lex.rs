//! The lexer of expressions: the source as tokens with their byte ranges, names with their path
//! parts, and keywords.

use serde_json::{Number, Value};

use super::{BinOp, ExprError, Name, Step, error};

#[derive(Debug, Clone, PartialEq)]
pub(super) enum Tok {
    Num(Value),
    Str(String),
    Name(Name),
    True,
    False,
    And,
    Or,
    Not,
    LParen,
    RParen,
    /// `-` is binary or unary depending on where it stands.
    Op(BinOp),
}

/// A token with its byte range in the source.
#[derive(Debug, Clone)]
pub(super) struct Token {
    pub(super) tok: Tok,
    pub(super) start: usize,
    pub(super) end: usize,
}

fn is_name_start(b: u8) -> bool {
    b.is_ascii_alphabetic() || b == b'_' || b == b'$'
}

fn is_name_char(b: u8) -> bool {
    b.is_ascii_alphanumeric() || b == b'_' || b == b'$'
}

/// The character starting at byte `i` of `s`, for messages.
fn char_at(s: &str, i: usize) -> char {
    s.get(i..).and_then(|r| r.chars().next()).unwrap_or(' ')
}

pub(super) fn lex(src: &str) -> Result<Vec<Token>, ExprError> {
    let b = src.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < b.len() {
        let c = b[i];
        let start = i;
        if c.is_ascii_whitespace() {
            i += 1;
            continue;
        }
        let tok = match c {
            b'0'..=b'9' => {
                while i < b.len() && b[i].is_ascii_digit() {
                    i += 1;
                }
                let mut float = false;
                if i + 1 < b.len() && b[i] == b'.' && b[i + 1].is_ascii_digit() {
                    float = true;
                    i += 1;
                    while i < b.len() && b[i].is_ascii_digit() {
                        i += 1;
                    }
                }
                if i < b.len() && (b[i] == b'e' || b[i] == b'E') {
                    let mut j = i + 1;
                    if j < b.len() && (b[j] == b'+' || b[j] == b'-') {
                        j += 1;
                    }
                    if j < b.len() && b[j].is_ascii_digit() {
                        float = true;
                        i = j;
                        while i < b.len() && b[i].is_ascii_digit() {
                            i += 1;
                        }
                    }
                }
                if i < b.len() && (is_name_char(b[i]) || b[i] == b'.') {
                    return error(
                        start,
                        format!(
                            "invalid number: unexpected `{}` after `{}`",
                            char_at(src, i),
                            &src[start..i]
                        ),
                    );
                }
                let text = &src[start..i];
                let value = match (float, text.parse::<i64>()) {
                    (false, Ok(n)) => Value::from(n),
                    _ => match text.parse::<f64>().ok().and_then(Number::from_f64) {
                        Some(n) => Value::Number(n),
                        None => return error(start, format!("number `{text}` is out of range")),
                    },
                };
                Tok::Num(value)
            }
            b'\'' | b'"' => {
                let mut s = String::new();
                i += 1;
                loop {
                    let Some(ch) = src.get(i..).and_then(|r| r.chars().next()) else {
                        return error(start, format!("this string is not closed by `{}`", c as char));
                    };
                    i += ch.len_utf8();
                    if ch == c as char {
                        break;
                    }
                    if ch != '\\' {
                        s.push(ch);
                        continue;
                    }
                    let esc = char_at(src, i);
                    if i >= b.len() {
                        return error(start, format!("this string is not closed by `{}`", c as char));
                    }
                    s.push(match esc {
                        '\\' | '\'' | '"' => esc,
                        'n' => '\n',
                        't' => '\t',
                        'r' => '\r',
                        _ => {
                            return error(
                                i - 1,
                                format!(
                                    "unknown escape `\\{esc}` in a string (known: \\\\ \\' \\\" \\n \\t \\r)"
                                ),
                            );
                        }
                    });
                    i += esc.len_utf8();
                }
                Tok::Str(s)
            }
            c if is_name_start(c) => lex_name(src, &mut i)?,
            b'(' => {
                i += 1;
                Tok::LParen
            }
            b')' => {
                i += 1;
                Tok::RParen
            }
            b'+' | b'-' | b'*' | b'/' | b'%' => {
                i += 1;
                Tok::Op(match c {
                    b'+' => BinOp::Add,
                    b'-' => BinOp::Sub,
                    b'*' => BinOp::Mul,
                    b'/' => BinOp::Div,
                    _ => BinOp::Rem,
                })
            }
            b'<' | b'>' | b'=' | b'!' => {
                let eq = b.get(i + 1) == Some(&b'=');
                i += if eq { 2 } else { 1 };
                match (c, eq) {
                    (b'<', false) => Tok::Op(BinOp::Lt),
                    (b'<', true) => Tok::Op(BinOp::Le),
                    (b'>', false) => Tok::Op(BinOp::Gt),
                    (b'>', true) => Tok::Op(BinOp::Ge),
                    (b'=', true) => Tok::Op(BinOp::Eq),
                    (b'!', true) => Tok::Op(BinOp::Ne),
                    (b'=', false) => return error(start, "`=` is not an operator: compare with `==`"),
                    _ => return error(start, "`!` is not an operator: negate with `not`"),
                }
            }
            b'&' => return error(start, "`&` is not an operator: combine conditions with `and`"),
            b'|' => return error(start, "`|` is not an operator: combine conditions with `or`"),
            _ => return error(start, format!("unexpected character `{}`", char_at(src, start))),
        };
        out.push(Token { tok, start, end: i });
    }
    Ok(out)
}

/// Lexes a name (and recognizes keywords); `i` is at its first byte.
fn lex_name(src: &str, i: &mut usize) -> Result<Tok, ExprError> {
    let b = src.as_bytes();
    let start = *i;
    let part = |i: &mut usize| {
        let s = *i;
        while *i < b.len() && is_name_char(b[*i]) {
            *i += 1;
        }
        s..*i
    };
    let root = part(i);
    let mut steps = Vec::new();
    loop {
        match b.get(*i) {
            Some(b'.') => {
                *i += 1;
                let key = part(i);
                if key.is_empty() {
                    let found =
                        if *i < b.len() { format!("`{}`", char_at(src, *i)) } else { "the end".into() };
                    return error(*i, format!("expected a name part after `.`, found {found}"));
                }
                let key = &src[key];
                let index = if key.bytes().all(|c| c.is_ascii_digit()) { key.parse().ok() } else { None };
                steps.push(Step { key: key.to_string(), index });
            }
            Some(b'[') => {
                let open = *i;
                *i += 1;
                let s = *i;
                while *i < b.len() && b[*i].is_ascii_digit() {
                    *i += 1;
                }
                let digits = &src[s..*i];
                if digits.is_empty() || b.get(*i) != Some(&b']') {
                    return error(open, "expected an array index like `[0]`");
                }
                let Ok(index) = digits.parse::<usize>() else {
                    return error(s, format!("array index `{digits}` is too large"));
                };
                *i += 1;
                steps.push(Step { key: digits.to_string(), index: Some(index) });
            }
            _ => break,
        }
    }
    let text = &src[start..*i];
    Ok(match text {
        "and" => Tok::And,
        "or" => Tok::Or,
        "not" => Tok::Not,
        "true" => Tok::True,
        "false" => Tok::False,
        _ => Tok::Name(Name { text: text.to_string(), root: src[root].to_string(), steps }),
    })
}

pub(super) fn describe(src: &str, t: Option<&Token>) -> String {
    match t {
        Some(t) => format!("`{}`", &src[t.start..t.end]),
        None => "the end".to_string(),
    }
}
