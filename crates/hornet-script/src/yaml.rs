//! The YAML layer: turns the source into a tree of [`Node`]s that each know their source span.
//!
//! Built from the event stream of serde-saphyr's parser (granit-parser) rather than through serde,
//! so that every later check (a bad duration, a bad template, an unknown key) can point at the
//! exact line and column. This module owns YAML semantics: plain-scalar typing (YAML 1.2 core
//! schema), anchors and aliases (with an expansion budget against "billion laughs"), `<<` merge
//! keys, and duplicate-key detection. The tree and the operations on it are here; building it from
//! the parser's events is in `yaml/build.rs`.

use crate::error::Span;

mod build;

pub(crate) use build::parse_document;

/// A YAML node and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub value: Value,
    /// For scalars and flow collections, the whole token; for block collections, their first key
    /// or `-` (a block collection has no single token of its own).
    pub span: Span,
    /// Number of nodes in this subtree (for the alias budget).
    size: usize,
    /// Bytes of text (scalars and keys) in this subtree (for the alias budget).
    bytes: usize,
}

/// The content of a node.
#[derive(Debug, Clone)]
pub(crate) enum Value {
    Scalar(Scalar),
    Seq(Vec<Node>),
    Map(Vec<Entry>),
}

/// A scalar with its YAML 1.2 core-schema type.
#[derive(Debug, Clone)]
pub(crate) struct Scalar {
    /// The text after YAML escape processing.
    pub text: String,
    pub kind: ScalarKind,
    /// Column of the first character of `text`, when each character of `text` is one character in
    /// the source on one line (plain, or quoted without escapes); lets errors point inside.
    pub text_col: Option<usize>,
}

/// Type of a scalar: plain scalars are typed by their text; quoted and block scalars are strings.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum ScalarKind {
    Null,
    Bool(bool),
    Int(i64),
    Float(f64),
    Str,
}

/// A mapping entry. Keys are scalars, kept as text.
#[derive(Debug, Clone)]
pub(crate) struct Entry {
    pub key: String,
    pub key_span: Span,
    pub value: Node,
}

/// Marks every span of `node` as belonging to source number `file`.
pub(crate) fn set_file(node: &mut Node, file: usize) {
    node.span.file = file;
    match &mut node.value {
        Value::Scalar(_) => {}
        Value::Seq(items) => items.iter_mut().for_each(|i| set_file(i, file)),
        Value::Map(entries) => {
            for e in entries {
                e.key_span.file = file;
                set_file(&mut e.value, file);
            }
        }
    }
}

/// Deep-merges `over` into `base`: mappings merge key by key (keys new in `over` are appended, in
/// its order), anything else in `over` replaces what `base` has, except that an empty (null) value
/// leaves a mapping in `base` as it is. At this level only, the lists under the keys in `concat`
/// are concatenated instead of replaced.
pub(crate) fn deep_merge(base: &mut Node, over: Node, concat: &[&str]) {
    if is_null(&over) && matches!(base.value, Value::Map(_)) {
        return;
    }
    let Value::Map(entries) = &mut base.value else {
        *base = over;
        return;
    };
    let Value::Map(over_entries) = over.value else {
        *base = over;
        return;
    };
    for e in over_entries {
        let Some(b) = entries.iter_mut().find(|b| b.key == e.key) else {
            entries.push(e);
            continue;
        };
        match (&mut b.value.value, e.value.value) {
            (Value::Seq(items), Value::Seq(more)) if concat.contains(&e.key.as_str()) => items.extend(more),
            (_, value) => {
                let over = Node { value, span: e.value.span, size: e.value.size, bytes: e.value.bytes };
                if matches!(b.value.value, Value::Map(_)) && matches!(over.value, Value::Map(_)) {
                    deep_merge(&mut b.value, over, &[]);
                } else if !(is_null(&over) && matches!(b.value.value, Value::Map(_))) {
                    *b = Entry { key: e.key, key_span: e.key_span, value: over };
                }
            }
        }
    }
}

fn is_null(node: &Node) -> bool {
    matches!(&node.value, Value::Scalar(s) if s.kind == ScalarKind::Null)
}

/// Types a plain scalar by the YAML 1.2 core schema.
fn resolve(text: &str) -> ScalarKind {
    match text {
        "" | "~" | "null" | "Null" | "NULL" => return ScalarKind::Null,
        "true" | "True" | "TRUE" => return ScalarKind::Bool(true),
        "false" | "False" | "FALSE" => return ScalarKind::Bool(false),
        ".inf" | ".Inf" | ".INF" | "+.inf" | "+.Inf" | "+.INF" => return ScalarKind::Float(f64::INFINITY),
        "-.inf" | "-.Inf" | "-.INF" => return ScalarKind::Float(f64::NEG_INFINITY),
        ".nan" | ".NaN" | ".NAN" => return ScalarKind::Float(f64::NAN),
        _ => {}
    }
    let digits = text.strip_prefix(['-', '+']).unwrap_or(text);
    if !digits.is_empty() && digits.bytes().all(|b| b.is_ascii_digit()) {
        return match text.parse::<i64>() {
            Ok(i) => ScalarKind::Int(i),
            Err(_) => text.parse::<f64>().map_or(ScalarKind::Str, ScalarKind::Float),
        };
    }
    if let Some(hex) = text.strip_prefix("0x")
        && let Ok(i) = i64::from_str_radix(hex, 16)
    {
        return ScalarKind::Int(i);
    }
    if let Some(oct) = text.strip_prefix("0o")
        && let Ok(i) = i64::from_str_radix(oct, 8)
    {
        return ScalarKind::Int(i);
    }
    if crate::number::is_yaml_float(digits)
        && let Ok(f) = text.parse::<f64>()
    {
        return ScalarKind::Float(f);
    }
    ScalarKind::Str
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(src: &str) -> Node {
        match parse_document(src, "t.yaml") {
            Ok(n) => n,
            Err(e) => panic!("{e}"),
        }
    }

    fn map(n: &Node) -> &[Entry] {
        match &n.value {
            Value::Map(e) => e,
            other => panic!("not a map: {other:?}"),
        }
    }

    fn keys(n: &Node) -> Vec<&str> {
        map(n).iter().map(|e| e.key.as_str()).collect()
    }

    fn scalar(n: &Node) -> &Scalar {
        match &n.value {
            Value::Scalar(s) => s,
            other => panic!("not a scalar: {other:?}"),
        }
    }

    #[test]
    fn plain_scalars_are_typed_and_quoted_ones_are_strings() {
        let root = parse(
            "a: 1\nb: -2.5\nc: true\nd: ~\ne: '1'\nf: hello\ng: 1e3\nh: 0x1F\ni: .5\nj: 1.2.3\nk: !!str 7\n",
        );
        let kinds: Vec<ScalarKind> = map(&root).iter().map(|e| scalar(&e.value).kind).collect();
        assert_eq!(
            kinds,
            [
                ScalarKind::Int(1),
                ScalarKind::Float(-2.5),
                ScalarKind::Bool(true),
                ScalarKind::Null,
                ScalarKind::Str,
                ScalarKind::Str,
                ScalarKind::Float(1000.0),
                ScalarKind::Int(31),
                ScalarKind::Float(0.5),
                ScalarKind::Str,
                ScalarKind::Str,
            ]
        );
    }

    #[test]
    fn spans_and_text_columns() {
        let root = parse("key: 'ab'\nother: \"a\\tb\"\nx: plain\n");
        let e = &map(&root)[0];
        assert_eq!(e.key_span, Span::on_line(1, 0, 3));
        assert_eq!(e.value.span, Span::on_line(1, 5, 4));
        assert_eq!(scalar(&e.value).text_col, Some(6));
        // An escape means source and text columns differ: no inner column.
        assert_eq!(scalar(&map(&root)[1].value).text_col, None);
        assert_eq!(scalar(&map(&root)[2].value).text_col, Some(3));
    }

    #[test]
    fn merge_keys_follow_yaml_precedence_and_position() {
        let root =
            parse("base: &b {x: 1, y: 2}\nother: &o {y: 9, z: 3}\nm:\n  a: 0\n  <<: [*b, *o]\n  x: 5\n");
        let m = &map(&root)[2].value;
        assert_eq!(keys(m), ["a", "y", "z", "x"]);
        let values: Vec<&str> = map(m).iter().map(|e| scalar(&e.value).text.as_str()).collect();
        assert_eq!(values, ["0", "2", "3", "5"]);
    }

    #[test]
    fn aliases_copy_the_anchored_value_and_point_at_the_alias() {
        let root = parse("a: &v [1, 2]\nb: *v\n");
        let b = &map(&root)[1].value;
        assert!(matches!(&b.value, Value::Seq(items) if items.len() == 2));
        assert_eq!(b.span, Span::on_line(2, 3, 2));
    }

    #[test]
    fn yaml_problems_are_errors_with_positions() {
        let e = parse_document("a: 1\na: 2\n", "t").unwrap_err();
        assert_eq!((e.line, e.column), (2, 1));
        assert!(e.message.contains("duplicate key `a`"));
        let e = parse_document("a: b: c\n", "t").unwrap_err();
        assert!(e.message.starts_with("invalid YAML"));
        assert_eq!((e.line, e.column), (1, 5));
        assert!(parse_document("a: &x [*x]\n", "t").unwrap_err().message.contains("recursive"));
        assert!(parse_document("a: 1\n---\nb: 2\n", "t").unwrap_err().message.contains("second"));
        assert!(parse_document("# nothing\n", "t").unwrap_err().message.contains("empty"));
        assert!(parse_document("a: !custom 1\n", "t").unwrap_err().message.contains("`!custom`"));
        assert!(parse_document("<<: 3\n", "t").unwrap_err().message.contains("merge key"));
        assert!(parse_document("[1]: x\n", "t").unwrap_err().message.contains("plain text"));
    }

    #[test]
    fn deep_merge_merges_maps_replaces_the_rest_and_concatenates_only_at_the_top() {
        let mut base = parse("a: {x: 1, y: [1, 2], z: {k: v}}\nlist: [1]\nkeep: {m: 1}\ns: [a]\n");
        let mut over = parse("a: {y: [3], z: {j: w}, n: 0}\nlist: [2]\nkeep:\nnew: 5\ns: [b]\n");
        set_file(&mut over, 1);
        deep_merge(&mut base, over, &["list"]);
        assert_eq!(keys(&base), ["a", "list", "keep", "s", "new"]);
        let a = &map(&base)[0];
        assert_eq!(keys(&a.value), ["x", "y", "z", "n"]);
        let y = &map(&a.value)[1];
        assert!(
            matches!(&y.value.value, Value::Seq(items) if items.len() == 1),
            "lists below the top replace"
        );
        assert_eq!(y.key_span.file, 1, "a replaced entry points at the file it came from");
        assert_eq!(map(&a.value)[0].key_span.file, 0);
        assert_eq!(keys(&map(&a.value)[2].value), ["k", "j"], "maps merge at every depth");
        assert!(
            matches!(&map(&base)[1].value.value, Value::Seq(items) if items.len() == 2),
            "`list` concatenates"
        );
        assert!(matches!(&map(&base)[3].value.value, Value::Seq(items) if items.len() == 1), "`s` replaces");
        assert_eq!(keys(&map(&base)[2].value), ["m"], "an empty value does not erase a map");
    }

    #[test]
    fn alias_expansion_is_bounded() {
        let mut src = String::from("a0: &a0 [x, x, x, x, x, x, x, x, x, x]\n");
        for i in 1..8 {
            let p = i - 1;
            src.push_str(&format!(
                "a{i}: &a{i} [*a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}, *a{p}]\n"
            ));
        }
        let e = parse_document(&src, "t").unwrap_err();
        assert!(e.message.contains("more than"), "{e}");
    }
}
