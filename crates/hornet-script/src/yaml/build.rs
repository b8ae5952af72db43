//! Building the node tree from the event stream of granit-parser: spans, scalar styles and
//! tags, anchors and aliases within the expansion budget, `<<` merge keys, duplicate keys, and
//! syntax errors with hints.

use std::collections::{HashMap, HashSet};

use serde_saphyr::granit_parser::{self, Event, Parser, ScalarStyle, ScanError, StrInput, StructureStyle};

use super::{Entry, Node, Scalar, ScalarKind, Value, is_null, resolve};
use crate::error::{Pos, ScriptError, Span};

/// Most nodes a document may expand to, counting every copy an alias makes.
const MAX_NODES: usize = 250_000;

/// Most bytes of text (keys and scalars) a document may expand to, counting every copy an alias
/// makes: a few aliases of a long string would otherwise take gigabytes.
const MAX_BYTES: usize = 64 << 20;

/// Most levels of lists and maps inside one another. Reading the tree and every later check are
/// recursive: 110 levels of `{a: ` overflowed a 2 MiB thread stack (a test's, a web UI handler's)
/// in a debug build, 3,000 the main thread's in any build. 64 leaves room in both; scripts nest a
/// few levels, JSON bodies rarely past 20.
const MAX_DEPTH: usize = 64;

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
        bytes: 0,
        aliases: 0,
        depth: 0,
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
    /// Bytes of text the document has expanded to so far.
    bytes: usize,
    /// Aliases expanded so far (a budget exceeded without any is the script's own size).
    aliases: usize,
    /// Lists and maps open around the node being read.
    depth: usize,
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

    fn count(&mut self, n: usize, bytes: usize, span: Span) -> Result<(), ScriptError> {
        self.nodes += n;
        self.bytes = self.bytes.saturating_add(bytes);
        let over = if self.nodes > MAX_NODES {
            format!("{MAX_NODES} YAML values (keys, values and list items)")
        } else if self.bytes > MAX_BYTES {
            format!("{} MiB of text", MAX_BYTES >> 20)
        } else {
            return Ok(());
        };
        let help = if self.aliases > 0 {
            "aliases (`*name`) copy their anchor's whole value, and each copy counts; use fewer of them"
        } else {
            "hornet reads scripts up to that size; put large data in a payload file (`config.payload`)"
        };
        Err(self.error(span, format!("the document expands to more than {over}")).with_help(help))
    }

    /// Enters a list or map that starts at `span`; fails past [`MAX_DEPTH`].
    fn enter(&mut self, span: Span) -> Result<(), ScriptError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(self
                .error(span, format!("lists and maps are nested more than {MAX_DEPTH} levels deep here"))
                .with_help("hornet reads scripts nested up to that depth; put deep data in a file"));
        }
        Ok(())
    }

    fn node(&mut self, event: Event<'a>, span: Span) -> Result<Node, ScriptError> {
        match event {
            Event::Alias(id) => {
                let Some((size, bytes)) = self.anchors.get(&id).map(|n| (n.size, n.bytes)) else {
                    let message = if self.defining.contains(&id) {
                        "this alias refers to the value that contains it (recursive values are not supported)"
                    } else {
                        "this alias refers to an unknown anchor"
                    };
                    return Err(self.error(span, message));
                };
                self.aliases += 1;
                self.count(size, bytes, span)?;
                // Errors about the value as a whole point at the alias; errors inside it point at
                // its definition.
                let Some(mut node) = self.anchors.get(&id).cloned() else {
                    return Err(self.error(span, "this alias refers to an unknown anchor"));
                };
                node.span = span;
                if let Value::Scalar(s) = &mut node.value {
                    s.text_col = None;
                }
                Ok(node)
            }
            Event::Scalar(text, style, anchor, tag) => {
                self.count(1, text.len(), span)?;
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
                let text_len = text.len();
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
                    bytes: text_len,
                };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::SequenceStart(style, anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "seq", span)?;
                self.count(1, 0, span)?;
                self.enter(span)?;
                if anchor != 0 {
                    self.defining.insert(anchor);
                }
                let mut items = Vec::new();
                let mut size = 1;
                let mut bytes = 0;
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
                    bytes += item.bytes;
                    items.push(item);
                };
                self.defining.remove(&anchor);
                self.depth -= 1;
                let span = self.collection_span(style, span, end, first);
                let node = Node { value: Value::Seq(items), span, size, bytes };
                self.remember(anchor, &node);
                Ok(node)
            }
            Event::MappingStart(style, anchor, tag) => {
                self.check_collection_tag(tag.as_deref(), "map", span)?;
                self.count(1, 0, span)?;
                self.enter(span)?;
                if anchor != 0 {
                    self.defining.insert(anchor);
                }
                let node = self.mapping(style, span)?;
                self.defining.remove(&anchor);
                self.depth -= 1;
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
        let mut bytes = 0;
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
            bytes += key.len() + value.bytes;
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
        Ok(Node { value: Value::Map(entries), span, size, bytes })
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
                        other => return Err(not_map(&Node { value: other, span, size: 0, bytes: 0 })),
                    }
                }
                Ok(out)
            }
            Value::Scalar(_) => Err(not_map(&value)),
        }
    }
}
