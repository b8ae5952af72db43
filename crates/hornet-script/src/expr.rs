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
//!
//! Submodules: `lex` (the tokens), `parse` (the tree, and the limits on its depth and nesting)
//! and `value` (what the operators do to values); this module holds the tree and evaluates it.

use std::cmp::Ordering;
use std::fmt;

use serde_json::Value;

mod lex;
mod parse;
mod value;

use lex::{Tok, describe, lex};
use parse::Parser;
pub use value::truthy;
use value::{arith, as_int, compare, equal, follow, from_f64, to_f64};

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
