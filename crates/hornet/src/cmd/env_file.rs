//! `--dotenv FILE` (alias `--env-file`): environment variables read from a dotenv file into this
//! process's environment at start, as Artillery's `--dotenv` does (a variable already set keeps
//! its value).

use std::path::Path;

/// Reads the `KEY=VALUE` lines of `path` and sets each variable that is not already set in this
/// process's environment. Must be called before any other thread starts (it changes the
/// environment). A file that cannot be read or a line that does not parse is an error naming
/// `file:line:column`.
pub fn load(path: &Path) -> Result<usize, String> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| format!("--dotenv {}: cannot be read: {e}", path.display()))?;
    let mut set = 0;
    for entry in dotenvy::from_read_iter(text.as_bytes()) {
        let (key, value) = entry.map_err(|e| describe(path, &text, e))?;
        if std::env::var_os(&key).is_none() {
            // SAFETY: called from `main` before any other thread exists, so nothing reads the
            // environment while it changes.
            unsafe { std::env::set_var(&key, &value) };
            set += 1;
        }
    }
    Ok(set)
}

/// The error of a dotenv line, with its place in the file.
fn describe(path: &Path, text: &str, error: dotenvy::Error) -> String {
    match error {
        dotenvy::Error::LineParse(line, index) => {
            let (line_no, column) = place(text, &line, index);
            format!(
                "{}:{line_no}:{column}: not a dotenv line (expected KEY=VALUE, a comment or a blank line): `{}`",
                path.display(),
                line.trim_end()
            )
        }
        other => format!("--dotenv {}: {other}", path.display()),
    }
}

/// The 1-based line and column of byte `index` of the logical line `line` (as the parser saw it,
/// possibly spanning several lines) in `text`.
fn place(text: &str, line: &str, index: usize) -> (usize, usize) {
    let Some(start) = text.find(line.trim_end()) else { return (1, index + 1) };
    let at = (start + index).min(text.len());
    let before = &text[..at];
    let line_no = before.matches('\n').count() + 1;
    let column = before.rfind('\n').map_or(at, |nl| at - nl - 1) + 1;
    (line_no, column)
}

#[cfg(test)]
mod tests {
    use super::place;

    #[test]
    fn a_bad_line_is_placed_at_its_line_and_column() {
        let text = "A=1\n# note\nB C=2\n";
        assert_eq!(place(text, "B C=2", 1), (3, 2));
        assert_eq!(place(text, "A=1", 0), (1, 1));
    }
}
