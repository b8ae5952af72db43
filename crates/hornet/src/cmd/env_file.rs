//! `--dotenv FILE` (alias `--env-file`): environment variables read from a dotenv file into this
//! process's environment at start, as Artillery's `--dotenv` does (a variable already set keeps
//! its value).
//!
//! The file is read as Node's `dotenv` (which Artillery uses) reads it, so a file written for
//! Artillery gives the same values: `KEY=VALUE` or `KEY: VALUE`, an optional `export ` before the
//! key, blank lines and `#` comments; an unquoted value ends at `#` and is trimmed; a value in
//! single, double or back quotes keeps its text as written and may span lines, and in double
//! quotes `\n` and `\r` become a newline and a carriage return. Nothing is expanded: `$NAME` and
//! `${NAME}` stay as they are (a password with a `$` in it arrives whole). Where Node's parser
//! silently skips a line it cannot read, hornet stops with `file:line:column`.

use std::path::Path;

/// Reads the variables of `path` and sets each one that is not already set in this process's
/// environment. Must be called before any other thread starts (it changes the environment). A
/// file that cannot be read or a line that does not parse is an error naming `file:line:column`.
pub fn load(path: &Path) -> Result<usize, String> {
    let entries = read(path)?;
    let mut set = 0;
    for (key, value) in entries {
        if std::env::var_os(&key).is_none() {
            // SAFETY: called from `main` before any other thread exists, so nothing reads the
            // environment while it changes.
            unsafe { std::env::set_var(&key, &value) };
            set += 1;
        }
    }
    Ok(set)
}

/// The names `path` sets, in order (a distributed run ships their values to its workers).
pub fn names(path: &Path) -> Result<Vec<String>, String> {
    Ok(read(path)?.into_iter().map(|(key, _)| key).collect())
}

/// The `(key, value)` pairs of the file at `path`; an error names `file:line:column`.
fn read(path: &Path) -> Result<Vec<(String, String)>, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--dotenv {}: cannot be read: {e}", path.display()))?;
    parse(&text).map_err(|e| format!("{}:{}:{}: {}", path.display(), e.line, e.column, e.what))
}

/// Where a dotenv file stops parsing, and what was expected there.
#[derive(Debug, PartialEq)]
struct ParseError {
    line: usize,
    column: usize,
    what: String,
}

/// The `(key, value)` pairs of a dotenv file, in order (a later repeat of a key wins when set).
fn parse(text: &str) -> Result<Vec<(String, String)>, ParseError> {
    let text = text.replace("\r\n", "\n").replace('\r', "\n");
    let lines: Vec<&str> = text.split('\n').collect();
    let mut out: Vec<(String, String)> = Vec::new();
    let mut i = 0;
    while i < lines.len() {
        let line = lines[i];
        let line_no = i + 1;
        i += 1;
        let body = line.trim_start();
        if body.is_empty() || body.starts_with('#') {
            continue;
        }
        let error = |at: &str, what: &str| ParseError {
            line: line_no,
            column: line.len() - at.len() + 1,
            what: what.to_owned(),
        };
        let body = match body.strip_prefix("export") {
            Some(rest) if rest.starts_with([' ', '\t']) => rest.trim_start(),
            _ => body,
        };
        let key_len =
            body.find(|c: char| !(c.is_ascii_alphanumeric() || "_.-".contains(c))).unwrap_or(body.len());
        if key_len == 0 {
            return Err(error(
                body,
                "expected a variable name (letters, digits, `_`, `.` or `-`), a comment or a blank line",
            ));
        }
        let key = &body[..key_len];
        let after_key = body[key_len..].trim_start_matches([' ', '\t']);
        let rest = if let Some(rest) = after_key.strip_prefix('=') {
            rest
        } else if let Some(rest) =
            after_key.strip_prefix(':').filter(|r| r.is_empty() || r.starts_with([' ', '\t']))
        {
            rest
        } else {
            return Err(error(after_key, &format!("expected `=` after `{key}`")));
        };
        let rest = rest.trim_start_matches([' ', '\t']);
        let value = match rest.chars().next() {
            Some(quote @ ('"' | '\'' | '`')) => {
                // The value runs to the closing quote (a backslash-escaped one does not close it),
                // on this line or a later one.
                let mut text = rest[1..].to_owned();
                let close = loop {
                    if let Some(at) = closing(&text, quote) {
                        break at;
                    }
                    let Some(next) = lines.get(i) else {
                        return Err(error(rest, &format!("the value's opening {quote} is never closed")));
                    };
                    text.push('\n');
                    text.push_str(next);
                    i += 1;
                };
                let trailing = text[close + 1..].rsplit('\n').next().unwrap_or_default();
                let after = trailing.trim_start_matches([' ', '\t']);
                if !(after.is_empty() || after.starts_with('#')) {
                    let last = lines[i - 1];
                    return Err(ParseError {
                        line: i,
                        column: last.len() - after.len() + 1,
                        what: format!(
                            "expected the end of the line or a `#` comment after the closing {quote}"
                        ),
                    });
                }
                let inner = &text[..close];
                if quote == '"' { inner.replace("\\n", "\n").replace("\\r", "\r") } else { inner.to_owned() }
            }
            _ => rest.split('#').next().unwrap_or_default().trim().to_owned(),
        };
        match out.iter_mut().find(|(k, _)| k == key) {
            Some(entry) => entry.1 = value,
            None => out.push((key.to_owned(), value)),
        }
    }
    Ok(out)
}

/// The byte index of the first `quote` in `text` that no backslash escapes.
fn closing(text: &str, quote: char) -> Option<usize> {
    let mut escaped = false;
    for (at, c) in text.char_indices() {
        match c {
            '\\' if !escaped => escaped = true,
            c if c == quote && !escaped => return Some(at),
            _ => escaped = false,
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::{ParseError, parse};

    fn pairs(text: &str) -> Vec<(String, String)> {
        parse(text).unwrap_or_else(|e| panic!("{e:?}"))
    }

    fn kv(k: &str, v: &str) -> (String, String) {
        (k.to_owned(), v.to_owned())
    }

    #[test]
    fn values_are_read_as_node_dotenv_reads_them_without_expansion() {
        let text = "# CI secrets\n\nA=1\nexport B = \"two words\"  # note\nPASS=pa$$word${HOME}\nC: colon\n\
                    D='single $X \\n kept'\nE=\"line\\nbreak\"\nF=before # comment\nG=\nH=`back`\n  I.j-k=v\r\n";
        assert_eq!(
            pairs(text),
            vec![
                kv("A", "1"),
                kv("B", "two words"),
                kv("PASS", "pa$$word${HOME}"),
                kv("C", "colon"),
                kv("D", "single $X \\n kept"),
                kv("E", "line\nbreak"),
                kv("F", "before"),
                kv("G", ""),
                kv("H", "back"),
                kv("I.j-k", "v"),
            ]
        );
    }

    #[test]
    fn a_quoted_value_may_span_lines_and_a_repeated_key_keeps_the_last() {
        let text = "KEY=\"-----BEGIN-----\nabc\n-----END-----\"\nA=1\nA=2\nQ=\"say \\\"hi\\\"\"\n";
        assert_eq!(
            pairs(text),
            vec![kv("KEY", "-----BEGIN-----\nabc\n-----END-----"), kv("A", "2"), kv("Q", "say \\\"hi\\\"")]
        );
    }

    #[test]
    fn a_line_that_does_not_parse_is_placed_at_its_line_and_column() {
        let err = |text: &str| parse(text).expect_err(text);
        assert_eq!(
            err("A=1\n# note\nB C=2\n"),
            ParseError { line: 3, column: 3, what: "expected `=` after `B`".into() }
        );
        assert_eq!(err("A=1\n  =2\n").column, 3);
        assert_eq!(err("A=1\nB=\"open\nstill open\n").line, 2);
        assert_eq!(
            err("A='x' y\n"),
            ParseError {
                line: 1,
                column: 7,
                what: "expected the end of the line or a `#` comment after the closing '".into()
            }
        );
        assert_eq!(err("A:novalue\n").what, "expected `=` after `A`");
    }
}
