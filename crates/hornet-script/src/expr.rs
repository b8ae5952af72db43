//! A small expression language for `ifTrue` and `ensure` conditions, modelled on the subset of
//! filtrex that Artillery scripts use. Compiled once into a tree, evaluated often.
//!
//! # Grammar
//!
//! - Literals: numbers (`12`, `-3` via unary minus, `0.5`, `1e3`), strings (`'a'` or `"a"`, with
//!   the escapes `\\`, `\'`, `\"`, `\n`, `\t`, `\r`), `true`, `false`.
//! - Names: a letter, `_` or `$`, then letters, digits, `_` and `$`; `.part` and `[n]` continue the
//!   name (`http.codes.200`, `items[0].id`). A name is first looked up whole (metric names contain
//!   dots: `http.response_time.p99`); when that finds nothing and the name has parts, it is
//!   resolved as a path: the root name, then object keys and array indices. Unknown names are
//!   `null` (see [`Expr::missing`]).
//! - Operators, loosest first (all binary ones are left-associative, as in filtrex):
//!   `or`; `and`; `==` `!=`; `<` `<=` `>` `>=`; `+` `-`; `*` `/` `%`; then the prefix operators
//!   `not` and `-`, which bind tighter than any binary operator (so `not a == b` is
//!   `(not a) == b`, as in filtrex). Parentheses group.
//!
//! # Semantics
//!
//! - Truthiness: `false`, `null`, `0` and `""` are false; everything else is true.
//! - `and`/`or` short-circuit and give booleans; `not` gives a boolean.
//! - Arithmetic works on numbers; numeric strings and booleans (1/0) convert; anything else (or a
//!   non-finite result such as division by zero) gives `null`. Integer arithmetic stays integer
//!   while it does not overflow; `/` always gives a float. `+` with a string on either side
//!   concatenates (`null` adds nothing).
//! - `==`/`!=`: numbers compare by value (`1 == 1.0`), a number equals a numeric string with the
//!   same value (`200 == "200"`), other values are equal when they have the same type and value.
//! - `<` `<=` `>` `>=`: two strings compare lexicographically; otherwise both sides convert to
//!   numbers, and a side that does not convert (such as `null`) makes the comparison false.

use std::cmp::Ordering;
use std::fmt;

use serde_json::{Number, Value};

/// How deep the expression tree may be (long chains like `a + b + c + ...` count each operator).
const MAX_DEPTH: u32 = 256;
/// How deeply parentheses and prefix operators may nest.
const MAX_NESTING: u32 = 64;

/// A compiled expression.
#[derive(Debug, Clone, PartialEq)]
pub struct Expr {
    source: String,
    root: Node,
    /// Every distinct name, in order of first appearance; [`Node::Name`] indexes it.
    names: Vec<Name>,
}

/// Why an expression did not compile; `offset` is the byte offset in the source.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExprError {
    /// Byte offset of the problem.
    pub offset: usize,
    /// What was expected.
    pub message: String,
}

impl fmt::Display for ExprError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExprError {}

fn error<T>(offset: usize, message: impl Into<String>) -> Result<T, ExprError> {
    Err(ExprError { offset, message: message.into() })
}

/// A name as written plus its path form.
#[derive(Debug, Clone, PartialEq)]
struct Name {
    text: String,
    root: String,
    steps: Vec<Step>,
}

/// One part of a name after the root: `.key` or `[n]`.
#[derive(Debug, Clone, PartialEq)]
struct Step {
    key: String,
    index: Option<usize>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum BinOp {
    Eq,
    Ne,
    Lt,
    Le,
    Gt,
    Ge,
    Add,
    Sub,
    Mul,
    Div,
    Rem,
}

#[derive(Debug, Clone, PartialEq)]
enum Node {
    Lit(Value),
    Name(usize),
    Neg(Box<Node>),
    Not(Box<Node>),
    Bin(BinOp, Box<Node>, Box<Node>),
    And(Box<Node>, Box<Node>),
    Or(Box<Node>, Box<Node>),
}

#[derive(Debug, Clone, PartialEq)]
enum Tok {
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
struct Token {
    tok: Tok,
    start: usize,
    end: usize,
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

fn lex(src: &str) -> Result<Vec<Token>, ExprError> {
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

fn describe(src: &str, t: Option<&Token>) -> String {
    match t {
        Some(t) => format!("`{}`", &src[t.start..t.end]),
        None => "the end".to_string(),
    }
}

/// An infix operator as the parser sees it.
#[derive(Debug, Clone, Copy)]
enum Infix {
    And,
    Or,
    Bin(BinOp),
}

/// The infix operator a token stands for, with its binding power (higher binds tighter).
fn infix(t: &Tok) -> Option<(u8, Infix)> {
    Some(match t {
        Tok::Or => (1, Infix::Or),
        Tok::And => (2, Infix::And),
        Tok::Op(op @ (BinOp::Eq | BinOp::Ne)) => (3, Infix::Bin(*op)),
        Tok::Op(op @ (BinOp::Lt | BinOp::Le | BinOp::Gt | BinOp::Ge)) => (4, Infix::Bin(*op)),
        Tok::Op(op @ (BinOp::Add | BinOp::Sub)) => (5, Infix::Bin(*op)),
        Tok::Op(op @ (BinOp::Mul | BinOp::Div | BinOp::Rem)) => (6, Infix::Bin(*op)),
        _ => return None,
    })
}

/// A parsed subtree and its depth.
struct Parsed {
    node: Node,
    depth: u32,
}

struct Parser<'s> {
    src: &'s str,
    toks: Vec<Token>,
    pos: usize,
    nesting: u32,
    names: Vec<Name>,
}

impl Parser<'_> {
    fn peek(&self) -> Option<&Token> {
        self.toks.get(self.pos)
    }

    /// Offset of the next token, or the end of the source.
    fn here(&self) -> usize {
        self.peek().map_or(self.src.len(), |t| t.start)
    }

    fn node(&self, node: Node, depth: u32, at: usize) -> Result<Parsed, ExprError> {
        if depth > MAX_DEPTH {
            return error(at, format!("the expression is too deeply nested (more than {MAX_DEPTH} levels)"));
        }
        Ok(Parsed { node, depth })
    }

    /// Parses operators binding at least as tight as `min`; `after` describes what precedes the
    /// operand, for messages.
    fn expr(&mut self, min: u8, after: Option<&str>) -> Result<Parsed, ExprError> {
        let mut lhs = self.unary(after)?;
        while let Some(t) = self.peek() {
            let Some((prec, op)) = infix(&t.tok) else { break };
            if prec < min {
                break;
            }
            let at = t.start;
            let text = self.src[t.start..t.end].to_string();
            self.pos += 1;
            let rhs = self.expr(prec + 1, Some(&text))?;
            let depth = lhs.depth.max(rhs.depth) + 1;
            let (l, r) = (Box::new(lhs.node), Box::new(rhs.node));
            let node = match op {
                Infix::And => Node::And(l, r),
                Infix::Or => Node::Or(l, r),
                Infix::Bin(op) => Node::Bin(op, l, r),
            };
            lhs = self.node(node, depth, at)?;
        }
        Ok(lhs)
    }

    fn unary(&mut self, after: Option<&str>) -> Result<Parsed, ExprError> {
        let Some(t) = self.peek() else {
            return error(self.src.len(), expected_operand(after, "the end"));
        };
        let at = t.start;
        let prefix = match t.tok {
            Tok::Not => Some(true),
            Tok::Op(BinOp::Sub) => Some(false),
            _ => None,
        };
        let Some(is_not) = prefix else { return self.primary(after) };
        self.pos += 1;
        self.enter(at)?;
        let inner = self.unary(Some(if is_not { "not" } else { "-" }))?;
        self.nesting -= 1;
        let node = if is_not { Node::Not(Box::new(inner.node)) } else { Node::Neg(Box::new(inner.node)) };
        self.node(node, inner.depth + 1, at)
    }

    fn enter(&mut self, at: usize) -> Result<(), ExprError> {
        self.nesting += 1;
        if self.nesting > MAX_NESTING {
            return error(at, format!("the expression nests too deeply (more than {MAX_NESTING} levels)"));
        }
        Ok(())
    }

    fn primary(&mut self, after: Option<&str>) -> Result<Parsed, ExprError> {
        let Some(t) = self.peek().cloned() else {
            return error(self.src.len(), expected_operand(after, "the end"));
        };
        let leaf = |node| Ok(Parsed { node, depth: 1 });
        match t.tok {
            Tok::Num(v) => {
                self.pos += 1;
                leaf(Node::Lit(v))
            }
            Tok::Str(s) => {
                self.pos += 1;
                leaf(Node::Lit(Value::String(s)))
            }
            Tok::True | Tok::False => {
                self.pos += 1;
                leaf(Node::Lit(Value::Bool(t.tok == Tok::True)))
            }
            Tok::Name(name) => {
                self.pos += 1;
                let idx = match self.names.iter().position(|n| n.text == name.text) {
                    Some(i) => i,
                    None => {
                        self.names.push(name);
                        self.names.len() - 1
                    }
                };
                leaf(Node::Name(idx))
            }
            Tok::LParen => {
                self.pos += 1;
                self.enter(t.start)?;
                let inner = self.expr(0, Some("("))?;
                self.nesting -= 1;
                match self.peek() {
                    Some(Token { tok: Tok::RParen, .. }) => {
                        self.pos += 1;
                        Ok(inner)
                    }
                    other => error(
                        self.here(),
                        format!(
                            "expected `)` to close the `(` at offset {}, found {}",
                            t.start,
                            describe(self.src, other)
                        ),
                    ),
                }
            }
            _ => error(t.start, expected_operand(after, &describe(self.src, Some(&t)))),
        }
    }
}

fn expected_operand(after: Option<&str>, found: &str) -> String {
    match after {
        Some(a) => format!("expected an operand after `{a}`, found {found}"),
        None => format!("expected an expression, found {found}"),
    }
}

/// Numbers and numeric strings as f64 (`None` for anything that does not convert).
fn to_f64(v: &Value) -> Option<f64> {
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

fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::Bool(b) => Some(i64::from(*b)),
        _ => None,
    }
}

fn from_f64(x: f64) -> Value {
    Number::from_f64(x).map_or(Value::Null, Value::Number)
}

fn cmp_numbers(a: &Number, b: &Number) -> Option<Ordering> {
    match (a.as_i64(), b.as_i64(), a.as_u64(), b.as_u64()) {
        (Some(x), Some(y), _, _) => Some(x.cmp(&y)),
        (_, _, Some(x), Some(y)) => Some(x.cmp(&y)),
        _ => a.as_f64()?.partial_cmp(&b.as_f64()?),
    }
}

fn equal(a: &Value, b: &Value) -> bool {
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

fn compare(a: &Value, b: &Value) -> Option<Ordering> {
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

fn arith(op: BinOp, a: &Value, b: &Value) -> Value {
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
fn follow(mut v: Value, steps: &[Step]) -> Option<Value> {
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

/// Evaluation state: the lookup and, when asked for, which names were missing.
struct Cx<'l> {
    lookup: &'l dyn Fn(&str) -> Option<Value>,
    missing: Option<Vec<usize>>,
}

impl Expr {
    /// Compiles `source`; errors carry the byte offset of the problem and what was expected.
    pub fn compile(source: &str) -> Result<Expr, ExprError> {
        let toks = lex(source)?;
        let mut p = Parser { src: source, toks, pos: 0, nesting: 0, names: Vec::new() };
        let root = p.expr(0, None)?.node;
        if let Some(t) = p.peek() {
            let message = if t.tok == Tok::RParen {
                "unmatched `)`".to_string()
            } else {
                format!(
                    "expected an operator or the end of the expression, found {}",
                    describe(source, Some(t))
                )
            };
            return error(t.start, message);
        }
        Ok(Expr { source: source.to_string(), root, names: p.names })
    }

    /// The expression as written.
    pub fn source(&self) -> &str {
        &self.source
    }

    /// The names the expression references, as written (`http.response_time.p99`, `user.name`),
    /// each once, in order of first appearance.
    pub fn variables(&self) -> impl Iterator<Item = &str> {
        self.names.iter().map(|n| n.text.as_str())
    }

    /// Evaluates the expression; `lookup` resolves names (see the [module docs](self) for how
    /// dotted names are tried whole, then as paths). Unknown names are `null`.
    pub fn eval(&self, lookup: &dyn Fn(&str) -> Option<Value>) -> Value {
        let mut cx = Cx { lookup, missing: None };
        self.eval_node(&self.root, &mut cx)
    }

    /// Evaluates the expression and tells whether the result is truthy.
    pub fn eval_bool(&self, lookup: &dyn Fn(&str) -> Option<Value>) -> bool {
        truthy(&self.eval(lookup))
    }

    /// Unknown names evaluate to null; this tells which names were missing during an evaluation
    /// (for ensure: a non-existent metric makes the check fail, with a message naming it). Names in
    /// branches skipped by `and`/`or` are not looked up, so they are not reported.
    pub fn missing(&self, lookup: &dyn Fn(&str) -> Option<Value>) -> Vec<String> {
        self.eval_with_missing(lookup).1
    }

    /// [`Expr::eval`] and [`Expr::missing`] in one evaluation.
    pub fn eval_with_missing(&self, lookup: &dyn Fn(&str) -> Option<Value>) -> (Value, Vec<String>) {
        let mut cx = Cx { lookup, missing: Some(Vec::new()) };
        let value = self.eval_node(&self.root, &mut cx);
        let missing =
            cx.missing.unwrap_or_default().into_iter().map(|i| self.names[i].text.clone()).collect();
        (value, missing)
    }

    fn load(&self, idx: usize, cx: &mut Cx<'_>) -> Value {
        let name = &self.names[idx];
        if let Some(v) = (cx.lookup)(&name.text) {
            return v;
        }
        if !name.steps.is_empty()
            && let Some(v) = (cx.lookup)(&name.root).and_then(|root| follow(root, &name.steps))
        {
            return v;
        }
        if let Some(m) = &mut cx.missing
            && !m.contains(&idx)
        {
            m.push(idx);
        }
        Value::Null
    }

    fn eval_node(&self, node: &Node, cx: &mut Cx<'_>) -> Value {
        match node {
            Node::Lit(v) => v.clone(),
            Node::Name(i) => self.load(*i, cx),
            Node::Not(e) => Value::Bool(!truthy(&self.eval_node(e, cx))),
            Node::Neg(e) => {
                let v = self.eval_node(e, cx);
                match as_int(&v).and_then(i64::checked_neg) {
                    Some(n) => Value::from(n),
                    None => to_f64(&v).map_or(Value::Null, |x| from_f64(-x)),
                }
            }
            Node::And(l, r) => Value::Bool(truthy(&self.eval_node(l, cx)) && truthy(&self.eval_node(r, cx))),
            Node::Or(l, r) => Value::Bool(truthy(&self.eval_node(l, cx)) || truthy(&self.eval_node(r, cx))),
            Node::Bin(op, l, r) => {
                let a = self.eval_node(l, cx);
                let b = self.eval_node(r, cx);
                let ord = || compare(&a, &b);
                match op {
                    BinOp::Eq => Value::Bool(equal(&a, &b)),
                    BinOp::Ne => Value::Bool(!equal(&a, &b)),
                    BinOp::Lt => Value::Bool(ord() == Some(Ordering::Less)),
                    BinOp::Le => Value::Bool(matches!(ord(), Some(Ordering::Less | Ordering::Equal))),
                    BinOp::Gt => Value::Bool(ord() == Some(Ordering::Greater)),
                    BinOp::Ge => Value::Bool(matches!(ord(), Some(Ordering::Greater | Ordering::Equal))),
                    _ => arith(*op, &a, &b),
                }
            }
        }
    }
}

impl fmt::Display for Expr {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.source)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn none(_: &str) -> Option<Value> {
        None
    }

    fn ev(src: &str) -> Value {
        Expr::compile(src).unwrap_or_else(|e| panic!("{src}: {e}")).eval(&none)
    }

    #[test]
    fn literals_and_arithmetic() {
        assert_eq!(ev("1 + 2 * 3"), json!(7));
        assert_eq!(ev("(1 + 2) * 3"), json!(9));
        assert_eq!(ev("7 % 4 - 10 / 4"), json!(0.5));
        assert_eq!(ev("-2 * -3"), json!(6));
        assert_eq!(ev("1e3"), json!(1000.0));
        assert_eq!(ev("'a' + 1 + 2"), json!("a12"));
        assert_eq!(ev("1 / 0"), Value::Null);
        assert_eq!(ev("9223372036854775807 + 1"), json!(9223372036854775808.0));
    }

    #[test]
    fn number_lexing_and_escapes() {
        assert_eq!(ev(r#""a\"b\\c\n""#), json!("a\"b\\c\n"));
        assert_eq!(ev("'it\\'s'"), json!("it's"));
        assert!(Expr::compile("1.2.3").is_err());
        assert!(Expr::compile("2abc").is_err());
    }
}
