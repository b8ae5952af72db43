//! [`ScriptError`]: one problem in a script, with its file, line and column, the offending source
//! line and an optional hint, rendered in the style of rustc diagnostics; and [`ScriptWarning`], the
//! same for something hornet accepts (as Artillery does) but the author probably did not mean.

use std::fmt;

/// A position in the source: 1-based line, 0-based column counted in characters.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Pos {
    pub line: usize,
    pub col: usize,
}

/// A source range (end exclusive). A range that ends on a later line is underlined to the end of
/// its first line.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Span {
    pub start: Pos,
    pub end: Pos,
    /// Which source the range is in, when several are merged (an index into the loader's list of
    /// sources; 0 for the first or only one).
    pub file: usize,
}

impl Span {
    /// A span of `len` characters on one line of the first source.
    pub fn on_line(line: usize, col: usize, len: usize) -> Span {
        Span { start: Pos { line, col }, end: Pos { line, col: col + len }, file: 0 }
    }

    /// A span of `len` characters on one line of the same source as `self`.
    pub fn moved_to(self, line: usize, col: usize, len: usize) -> Span {
        Span { file: self.file, ..Span::on_line(line, col, len) }
    }
}

/// Why a script could not be loaded, and where.
///
/// `line` and `column` are 1-based; `line == 0` means the error has no position in the file (an
/// I/O error, or a bad `-t` value), and then `source_line` is `None`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptError {
    /// The script's file name as given by the caller.
    pub file: String,
    /// 1-based line, or 0 when the error is not about a place in the file.
    pub line: usize,
    /// 1-based column, counted in characters.
    pub column: usize,
    /// What is wrong, as one sentence.
    pub message: String,
    /// How to fix it, when there is something useful to say.
    pub help: Option<String>,
    /// The text of line `line` (without its line break), for the snippet.
    pub source_line: Option<String>,
    /// How many characters to underline from `column` (at least 1).
    pub underline: usize,
}

impl ScriptError {
    /// An error about `span` of `source`.
    pub(crate) fn at(file: &str, source: &str, span: Span, message: impl Into<String>) -> ScriptError {
        let text = source.lines().nth(span.start.line.saturating_sub(1)).map(|l| l.trim_end_matches('\r'));
        let line_chars = text.map_or(0, |t| t.chars().count());
        let underline = if span.end.line == span.start.line && span.end.col > span.start.col {
            span.end.col - span.start.col
        } else {
            line_chars.saturating_sub(span.start.col)
        };
        ScriptError {
            file: file.to_string(),
            line: span.start.line.max(1),
            column: span.start.col + 1,
            message: message.into(),
            help: None,
            source_line: text.map(str::to_string),
            underline: underline.max(1),
        }
    }

    /// An error with no position in the file.
    pub(crate) fn general(file: &str, message: impl Into<String>) -> ScriptError {
        ScriptError {
            file: file.to_string(),
            line: 0,
            column: 0,
            message: message.into(),
            help: None,
            source_line: None,
            underline: 0,
        }
    }

    /// Adds a hint.
    pub(crate) fn with_help(mut self, help: impl Into<String>) -> ScriptError {
        self.help = Some(help.into());
        self
    }
}

/// Longest part of a source line shown in a snippet, in characters.
const MAX_SHOWN: usize = 100;

/// Whether `c` would act on a terminal rather than show: C0 and C1 controls (ESC starts escape
/// sequences, CSI is one in C1) and the bidirectional overrides that reorder what follows.
fn acts_on_terminal(c: char) -> bool {
    c.is_control() || matches!(c, '\u{202a}'..='\u{202e}' | '\u{2066}'..='\u{2069}')
}

/// `text` with every character that would act on a terminal written as an escape (`\u{1b}`), so
/// that text from a script (a key, a value, a file name) shows as written and cannot move the
/// cursor, recolour or retitle the terminal. Newlines and tabs are kept.
pub fn escape_controls(text: &str) -> std::borrow::Cow<'_, str> {
    if !text.chars().any(|c| acts_on_terminal(c) && c != '\n' && c != '\t') {
        return std::borrow::Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if acts_on_terminal(c) && c != '\n' && c != '\t' {
            out.extend(c.escape_unicode());
        } else {
            out.push(c);
        }
    }
    std::borrow::Cow::Owned(out)
}

/// Display width of the first `chars` characters of `line`, with tabs shown as 4 spaces.
fn width(line: &str, chars: usize) -> usize {
    line.chars().take(chars).map(|c| if c == '\t' { 4 } else { 1 }).sum()
}

/// Something hornet accepts, as Artillery does, that the author probably did not mean: a key that
/// resembles no valid one and is ignored, a variable nothing defines, a setting Artillery ignores.
/// Printed once before the run; `--strict` ([`LoadOptions::strict`](crate::LoadOptions::strict))
/// makes it an error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScriptWarning(pub ScriptError);

impl fmt::Display for ScriptWarning {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.render(f, "warning")
    }
}

impl fmt::Display for ScriptError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.render(f, "error")
    }
}

impl ScriptError {
    /// The rustc-style snippet, headed `label: message`.
    fn render(&self, f: &mut fmt::Formatter<'_>, label: &str) -> fmt::Result {
        writeln!(f, "{label}: {}", escape_controls(&self.message))?;
        let gutter = if self.line == 0 { 1 } else { self.line.to_string().len() };
        let pad = " ".repeat(gutter + 1);
        if self.line > 0 {
            write!(f, "{pad}--> {}:{}:{}", escape_controls(&self.file), self.line, self.column)?;
            if let Some(text) = &self.source_line {
                // One `?` per control character keeps the caret under its column.
                let shown: Vec<char> = text
                    .trim_end()
                    .replace('\t', "    ")
                    .chars()
                    .map(|c| if acts_on_terminal(c) { '?' } else { c })
                    .collect();
                let before = width(text, self.column.saturating_sub(1));
                let marked = (width(text, self.column.saturating_sub(1) + self.underline) - before).max(1);
                // Show at most MAX_SHOWN characters of a long line, around the column.
                let start = if shown.len() > MAX_SHOWN { before.saturating_sub(MAX_SHOWN / 3) } else { 0 };
                let end = (start + MAX_SHOWN).min(shown.len());
                let mut line: String = shown.get(start..end).unwrap_or_default().iter().collect();
                let mut indent = before - start;
                if start > 0 {
                    line.insert_str(0, "...");
                    indent += 3;
                }
                if end < shown.len() {
                    line.push_str("...");
                }
                let marked = marked.min(end.saturating_sub(before).max(1));
                write!(
                    f,
                    "\n{pad} |\n {:>gutter$} | {line}\n{pad} | {}{}",
                    self.line,
                    " ".repeat(indent),
                    "^".repeat(marked),
                )?;
            }
        }
        if let Some(help) = &self.help {
            if self.line > 0 {
                writeln!(f)?;
            }
            write!(f, "{pad} = help: {}", escape_controls(help))?;
        }
        Ok(())
    }
}

impl std::error::Error for ScriptError {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn renders_snippet_with_caret_under_the_span() {
        let src = "config:\n  phases:\n    - arivalRate: 10\n";
        let e =
            ScriptError::at("load.yaml", src, Span::on_line(3, 6, 10), "unknown key `arivalRate` in a phase")
                .with_help("did you mean `arrivalRate`?");
        assert_eq!((e.line, e.column, e.underline), (3, 7, 10));
        assert_eq!(
            e.to_string(),
            "error: unknown key `arivalRate` in a phase\n  --> load.yaml:3:7\n   |\n 3 |     - arivalRate: 10\n   |       ^^^^^^^^^^\n   = help: did you mean `arrivalRate`?"
        );
    }

    #[test]
    fn multi_line_span_is_underlined_to_end_of_line_and_gutter_grows() {
        let mut src = "x\n".repeat(11);
        src.push_str("key: |\n  text\n");
        let span = Span { start: Pos { line: 12, col: 5 }, end: Pos { line: 14, col: 0 }, file: 0 };
        let e = ScriptError::at("f.yaml", &src, span, "bad");
        assert_eq!(e.underline, 1);
        assert_eq!(e.to_string(), "error: bad\n   --> f.yaml:12:6\n    |\n 12 | key: |\n    |      ^");
    }

    #[test]
    fn tabs_are_expanded_consistently() {
        let e = ScriptError::at("f", "a:\t\"{{\"\n", Span::on_line(1, 3, 4), "bad template");
        assert_eq!(
            e.to_string(),
            "error: bad template\n  --> f:1:4\n   |\n 1 | a:    \"{{\"\n   |       ^^^^"
        );
    }

    #[test]
    fn long_lines_are_cut_around_the_column() {
        let src = format!("{}key: {}\n", "a".repeat(200), "b".repeat(200));
        let e = ScriptError::at("f", &src, Span::on_line(1, 200, 3), "bad");
        let shown = e.to_string();
        let lines: Vec<&str> = shown.lines().collect();
        assert_eq!(lines[3], format!(" 1 | ...{}key: {}...", "a".repeat(33), "b".repeat(62)));
        assert_eq!(lines[4], format!("   | {}^^^", " ".repeat(36)));
    }

    #[test]
    fn general_error_has_no_location_lines() {
        let e = ScriptError::general("x.yaml", "cannot read `x.yaml`: gone").with_help("check the path");
        assert_eq!(e.to_string(), "error: cannot read `x.yaml`: gone\n   = help: check the path");
    }
}
