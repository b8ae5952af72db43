//! The YAML layer: turns the source into a tree of [`Node`]s that each know their source span.
//!
//! Built from the event stream of serde-saphyr's parser (granit-parser) rather than through serde,
//! so that every later check (a bad duration, a bad template, an unknown key) can point at the
//! exact line and column. This module owns YAML semantics: plain-scalar typing (YAML 1.2 core
//! schema), anchors and aliases (with an expansion budget against "billion laughs"), `<<` merge
//! keys, and duplicate-key detection.

use std::collections::{HashMap, HashSet};

use serde_saphyr::granit_parser::{self, Event, Parser, ScalarStyle, ScanError, StrInput, StructureStyle};

use crate::error::{Pos, ScriptError, Span};

/// Most nodes a document may expand to, counting every copy an alias makes.
const MAX_NODES: usize = 250_000;

/// A YAML node and where it is.
#[derive(Debug, Clone)]
pub(crate) struct Node {
    pub value: Value,
    /// For scalars and flow collections, the whole token; for block collections, their first key
    /// or `-` (a block collection has no single token of its own).
    pub span: Span,
    /// Number of nodes in this subtree (for the alias budget).
    size: usize,
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

/// Parses `source` (one YAML document) into a node tree.
pub(crate) fn parse_document(source: &str, file: &str) -> Result<Node, ScriptError> {
    let mut options = granit_parser::Options::default();
    options.set_emit_comments(false);
    let mut builder = Builder {
        parser: Parser::new_from_str_with_options(source, options),
        source,
        file,
        anchors: HashMap::new(),
        defining: HashSet::new(),
        nodes: 0,
        last: Span::on_line(1, 0, 1),
        open_flow: Vec::new(),
    };
    builder.document()
}

struct Builder<'a> {
    parser: Parser<'a, StrInput<'a>>,
    source: &'a str,
    file: &'a str,
    /// Completed anchored nodes by anchor id.
    anchors: HashMap<usize, Node>,
    /// Anchors whose node is still being built (an alias to one of them is a cycle).
    defining: HashSet<usize>,
    nodes: usize,
    /// Span of the last event, for errors at the end of input.
    last: Span,
    /// Opening `[` or `{` of the flow collections being read, for syntax-error hints.
    open_flow: Vec<(char, Span)>,
}

fn span_of(s: &granit_parser::Span) -> Span {
    Span {
        start: Pos { line: s.start.line(), col: s.start.col() },
        end: Pos { line: s.end.line(), col: s.end.col() },
        file: 0,
    }
}

impl<'a> Builder<'a> {
    fn error(&self, span: Span, message: impl Into<String>) -> ScriptError {
        ScriptError::at(self.file, self.source, span, message)
    }

    fn syntax_error(&self, e: &ScanError) -> ScriptError {
        let m = e.marker();
        let span = Span::on_line(m.line().max(1), m.col(), 1);
        let err = self.error(span, format!("invalid YAML: {}", e.info()));
        match self.open_flow.last() {
            Some((c, open)) if open.start.line < span.start.line => err.with_help(format!(
                "the `{c}` on line {} may be missing its closing `{}`",
                open.start.line,
                if *c == '[' { ']' } else { '}' }
            )),
            _ => err,
        }
    }

    /// The next event that is part of the data (comments and anchor metadata are skipped).
    fn next(&mut self) -> Result<(Event<'a>, Span), ScriptError> {
        loop {
            match self.parser.next() {
                None => return Err(self.error(self.last, "invalid YAML: unexpected end of input")),
                Some(Err(e)) => return Err(self.syntax_error(&e)),
                Some(Ok((event, span))) => {
                    let span = span_of(&span);
                    self.last = span;
                    match event {
                        Event::StreamStart
                        | Event::StreamEnd
                        | Event::DocumentStart(..)
                        | Event::DocumentEnd
                        | Event::Alias(_)
                        | Event::Scalar(..)
                        | Event::SequenceStart(..)
                        | Event::SequenceEnd
                        | Event::MappingStart(..)
                        | Event::MappingEnd => return Ok((event, span)),
                        _ => continue,
                    }
                }
            }
        }
    }

    fn document(&mut self) -> Result<Node, ScriptError> {
        let mut root: Option<Node> = None;
        loop {
            let (event, span) = self.next()?;
            match event {
                Event::StreamStart | Event::DocumentStart(..) | Event::DocumentEnd => {}
                Event::StreamEnd => break,
                _ => {
                    let node = self.node(event, span)?;
                    if root.is_none() {
                        root = Some(node);
                    } else if !is_null(&node) {
                        return Err(self
                            .error(node.span, "a script is one YAML document, but a second one starts here")
                            .with_help("remove the `---` line above it and merge the two documents"));
                    }
                }
            }
        }
        match root {
            Some(node) if !is_null(&node) => Ok(node),
            _ => Err(self
                .error(Span::on_line(1, 0, 1), "the script is empty")
                .with_help("a script needs a `config` map and a `scenarios` list")),
        }
    }

    fn count(&mut self, n: usize, span: Span) -> Result<(), ScriptError> {
        self.nodes += n;
        if self.nodes > MAX_NODES {
            return Err(self
                .error(span, format!("the document expands to more than {MAX_NODES} YAML nodes"))
                .with_help("aliases (`*name`) copy their anchor's whole value; use fewer of them"));
        }
        Ok(())
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Node, ScriptError> {
        match event {
            Event::Alias(id) => {
                let Some(node) = self.anchors.get(&id).cloned() else {
                    let message = if self.defining.contains(&id) {
                        "this alias refers to the value that contains it (recursive values are not supported)"
                    } else {
                        "this alias refers to an unknown anchor"
                    };
                    return Err(self.error(span, message));
                };
                self.count(node.size, span)?;
                // Errors about the value as a whole point at the alias; errors inside it point at
                // its definition.
                let mut node = node;
                node.span = span;
                if let Value::Scalar(s) = &mut node.value {
                    s.text_col = None;
                }
                Ok(node)
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, span)?;
                let mut as_string = false;
                if let Some(tag) = tag {
                    if tag.is_yaml_core_schema_tag("str") {
                        as_string = true;
                    } else if tag.is_custom() {
                        return Err(
                            self.error(span, format!("YAML tag `{}` is not supported", tag.original()))
                        );
                    }
                }
                let kind =
                    if style == ScalarStyle::Plain && !as_string { resolve(&text) } else { ScalarKind::Str };
                let chars = text.chars().count();
                let quote = match style {
                    ScalarStyle::Plain => Some(0),
                    ScalarStyle::SingleQuoted | ScalarStyle::DoubleQuoted => Some(1),
                    _ => None,
                };
                let text_col = quote.filter(|q| {
                    span.start.line == span.end.line
                        && span.end.col.checked_sub(span.start.col) == Some(chars + 2 * q)
                });
                let node = Node {
                    value: Value::Scalar(Scalar {
                        text: text.into_owned(),
                        kind,
                        text_col: text_col.map(|q| span.start.col + q),
                    }),
                    span,
                    size: 1,
                };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::SequenceStart(style, anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "seq", span)?;
                self.count(1, span)?;
                if anchor != 0 {
                    self.defining.insert(anchor);
                }
                let mut items = Vec::new();
                let mut size = 1;
                let mut first = None;
                if style == StructureStyle::Flow {
                    self.open_flow.push(('[', span));
                }
                let end = loop {
                    let (event, item_span) = self.next()?;
                    if let Event::SequenceEnd = event {
                        break item_span;
                    }
                    let item = self.node(event, item_span)?;
                    first.get_or_insert(item.span);
                    size += item.size;
                    items.push(item);
                };
                self.defining.remove(&anchor);
                let span = self.collection_span(style, span, end, first);
                let node = Node { value: Value::Seq(items), span, size };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::MappingStart(style, anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "map", span)?;
                self.count(1, span)?;
                if anchor != 0 {
                    self.defining.insert(anchor);
                }
                let node = self.mapping(style, span)?;
                self.defining.remove(&anchor);
                self.remember(anchor, &node);
                Ok(node)
            }
            _ => Err(self.error(span, "invalid YAML: unexpected event")),
        }
    }

    fn check_collection_tag(
        &self,
        tag: Option<&granit_parser::Tag>,
        expected: &str,
        span: Span,
    ) -> Result<(), ScriptError> {
        match tag {
            Some(t) if !t.is_yaml_core_schema_tag(expected) => {
                Err(self.error(span, format!("YAML tag `{}` is not supported here", t.original())))
            }
            _ => Ok(()),
        }
    }

    fn remember(&mut self, anchor: usize, node: &Node) {
        if anchor != 0 {
            self.anchors.insert(anchor, node.clone());
        }
    }

    /// Reads a mapping's entries up to its end and applies `<<` merge keys: entries written in
    /// the mapping win over merged ones, and among merged mappings the earlier one wins. Merged
    /// entries take the place of the `<<` entry, in their own order.
    fn mapping(&mut self, style: StructureStyle, start: Span) -> Result<Node, ScriptError> {
        enum Item {
            Own(Entry),
            Merged(Vec<Entry>),
        }
        let mut items = Vec::new();
        let mut own: HashMap<String, Span> = HashMap::new();
        let mut size = 1;
        let mut first_key = None;
        if style == StructureStyle::Flow {
            self.open_flow.push(('{', start));
        }
        let end = loop {
            let (event, key_span) = self.next()?;
            if let Event::MappingEnd = event {
                break key_span;
            }
            let is_merge = matches!(&event, Event::Scalar(t, ScalarStyle::Plain, _, None) if t == "<<");
            let key_node = self.node(event, key_span)?;
            first_key.get_or_insert(key_node.span);
            let key = match key_node.value {
                Value::Scalar(s) => s.text,
                _ => return Err(self.error(key_node.span, "a key must be plain text, not a list or a map")),
            };
            let (event, value_span) = self.next()?;
            let value = self.node(event, value_span)?;
            size += key_node.size + value.size;
            if is_merge {
                items.push(Item::Merged(self.merge_source(value)?));
                continue;
            }
            if let Some(previous) = own.get(&key) {
                return Err(self
                    .error(key_node.span, format!("duplicate key `{key}`"))
                    .with_help(format!("`{key}` is already set on line {}", previous.start.line)));
            }
            own.insert(key.clone(), key_node.span);
            items.push(Item::Own(Entry { key, key_span: key_node.span, value }));
        };
        let mut seen: HashSet<String> = own.into_keys().collect();
        let mut entries = Vec::new();
        for item in items {
            match item {
                Item::Own(e) => entries.push(e),
                Item::Merged(list) => {
                    for e in list {
                        if seen.insert(e.key.clone()) {
                            entries.push(e);
                        }
                    }
                }
            }
        }
        let span = self.collection_span(style, start, end, first_key);
        Ok(Node { value: Value::Map(entries), span, size })
    }

    /// A flow collection spans its brackets; a block collection's start event has an empty span,
    /// so it is represented by its first child (or its start if it has none).
    fn collection_span(
        &mut self,
        style: StructureStyle,
        start: Span,
        end: Span,
        first: Option<Span>,
    ) -> Span {
        if style == StructureStyle::Flow {
            self.open_flow.pop();
            return Span { start: start.start, end: end.end, file: 0 };
        }
        first.unwrap_or(start)
    }

    /// The entries a `<<` value brings: a mapping, or a list of mappings (earlier ones win).
    fn merge_source(&self, value: Node) -> Result<Vec<Entry>, ScriptError> {
        let not_map = |n: &Node| {
            self.error(n.span, "a `<<` merge key needs a mapping or a list of mappings")
                .with_help("write `<<: *name` where `&name` marks a mapping")
        };
        match value.value {
            Value::Map(entries) => Ok(entries),
            Value::Seq(items) => {
                let mut out: Vec<Entry> = Vec::new();
                for item in items {
                    let span = item.span;
                    match item.value {
                        Value::Map(entries) => {
                            for e in entries {
                                if !out.iter().any(|o| o.key == e.key) {
                                    out.push(e);
                                }
                            }
                        }
                        other => return Err(not_map(&Node { value: other, span, size: 0 })),
                    }
                }
                Ok(out)
            }
            Value::Scalar(_) => Err(not_map(&value)),
        }
    }
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
                let over = Node { value, span: e.value.span, size: e.value.size };
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
