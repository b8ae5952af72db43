//! The parser of expressions: precedence climbing over the tokens into a tree, with limits on
//! its depth and nesting.

use serde_json::Value;

use super::lex::{Tok, Token, describe};
use super::{BinOp, ExprError, Name, Node, error};

/// How deep the expression tree may be (long chains like `a + b + c + ...` count each operator).
const MAX_DEPTH: u32 = 256;
/// How deeply parentheses and prefix operators may nest.
const MAX_NESTING: u32 = 64;

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
pub(super) struct Parsed {
    pub(super) node: Node,
    depth: u32,
}

pub(super) struct Parser<'s> {
    pub(super) src: &'s str,
    pub(super) toks: Vec<Token>,
    pub(super) pos: usize,
    pub(super) nesting: u32,
    pub(super) names: Vec<Name>,
}

impl Parser<'_> {
    pub(super) fn peek(&self) -> Option<&Token> {
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
    pub(super) fn expr(&mut self, min: u8, after: Option<&str>) -> Result<Parsed, ExprError> {
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
