//! `config.payload`: CSV files read at load time, with Artillery's options (fields, delimiter,
//! header, casting, empty lines, order), and errors that point at the row in the CSV file. The
//! bytes come from this machine's disk, or, on a distributed worker, from the plan
//! ([`DataFiles`]): both are parsed by the same code, with the same errors.

use std::path::PathBuf;
use std::sync::Arc;

use super::{Cx, PAYLOAD, Result, scalar_text, suggest};
use crate::DataFiles;
use crate::error::{ScriptError, Span};
use crate::plan::{Payload, PayloadOrder};
use crate::yaml::{Node, ScalarKind, Value};

impl Cx<'_> {
    /// `config.payload`: one map or a list of maps, their files read from `files`.
    pub(super) fn payloads(&self, node: &Node, files: &DataFiles) -> Result<Vec<Payload>> {
        match &node.value {
            Value::Seq(items) => {
                items.iter().enumerate().map(|(i, n)| self.payload(n, "each payload", i, files)).collect()
            }
            Value::Scalar(s) if s.kind == ScalarKind::Null => Ok(Vec::new()),
            _ => Ok(vec![self.payload(node, "`payload`", 0, files)?]),
        }
    }

    /// The `index`-th entry of `config.payload`.
    fn payload(&self, node: &Node, what: &str, index: usize, files: &DataFiles) -> Result<Payload> {
        let map = self.map(node, what, &PAYLOAD, false).map_err(|e| {
            if e.help.is_none() {
                e.with_help("a payload is a map like `{ path: users.csv, fields: [name, password] }`")
            } else {
                e
            }
        })?;
        let path_entry = map.get("path").ok_or_else(|| {
            self.missing(&map, "path", &PAYLOAD)
                .with_help("add `path: data.csv` (relative to the directory of the script)")
        })?;
        let relative = self.name(&path_entry.value, "`path`")?;
        let path = super::resolve(&self.source_of(path_entry.value.span).dir, relative);

        let mut fields: Vec<String> = Vec::new();
        let fields_entry = map.get("fields");
        if let Some(f) = fields_entry {
            for item in self.list(&f.value, "`fields`")? {
                let name = self.text(item, "a field name")?;
                self.variable_name(name, item.span, "a field name")?;
                if fields.iter().any(|n| n == name) {
                    return Err(self.err(item.span, format!("field `{name}` is named twice")));
                }
                fields.push(name.to_string());
            }
        }
        let load_all = self.flag(&map, "loadAll", false)?;
        let load_all = match (load_all, map.get("name")) {
            (true, Some(n)) => {
                let name = self.text(&n.value, "`name`")?;
                self.variable_name(name, n.value.span, "`name`")?;
                Some(name.to_string())
            }
            (true, None) => {
                return Err(self
                    .missing(&map, "name", &PAYLOAD)
                    .with_help("`loadAll: true` needs a `name`: the variable that holds the whole file"));
            }
            (false, Some(n)) => {
                return Err(self.err(n.key_span, "`name` goes with `loadAll: true`").with_help(
                    "add `loadAll: true` to load the whole file into the variable `name`, or remove `name`",
                ));
            }
            (false, None) => None,
        };
        if load_all.is_none() && fields.is_empty() {
            return Err(match fields_entry {
                Some(f) => self.err(f.value.span, "`fields` is empty"),
                None => self.missing(&map, "fields", &PAYLOAD),
            }
            .with_help("`fields` names the columns, e.g. `fields: [username, password]`"));
        }
        let order = match map.get("order") {
            None => PayloadOrder::Random,
            Some(e) => match scalar_text(&e.value) {
                Some("random") => PayloadOrder::Random,
                Some("sequence") => PayloadOrder::Sequence,
                Some(other) => {
                    let err = self.type_err(&e.value, "`order`", "`random` or `sequence`");
                    match suggest(other, &["random", "sequence"]) {
                        Some(s) => return Err(err.with_help(format!("did you mean `{s}`?"))),
                        None => return Err(err),
                    }
                }
                None => return Err(self.type_err(&e.value, "`order`", "`random` or `sequence`")),
            },
        };
        let delimiter = match map.get("delimiter") {
            None => b',',
            Some(e) => {
                let text = self.text(&e.value, "`delimiter`")?;
                match text.as_bytes() {
                    [b] if b.is_ascii() && *b != b'"' && *b != b'\n' && *b != b'\r' => *b,
                    _ => {
                        return Err(self
                            .err(e.value.span, format!("`delimiter` must be one character, found `{text}`"))
                            .with_help(r#"for example `delimiter: ";"`, or `delimiter: "\t"` for tabs"#));
                    }
                }
            }
        };
        let csv = CsvOptions {
            delimiter,
            skip_header: self.flag(&map, "skipHeader", false)?,
            cast: self.flag(&map, "cast", true)?,
            skip_empty_lines: self.flag(&map, "skipEmptyLines", true)?,
            fields: fields.len(),
        };

        let read;
        let (path, bytes): (PathBuf, &[u8]) = match files {
            DataFiles::Disk | DataFiles::DiskKept => {
                read = std::fs::read(&path).map_err(|e| {
                    let shown = path.display();
                    self.err(path_entry.value.span, format!("cannot read the payload file `{shown}`: {e}"))
                        .with_help("`path` is relative to the directory of the script that names it")
                })?;
                (path, &read)
            }
            // A distributed worker: the file the controller read for this entry, named as the
            // controller named it; never a path of this machine.
            DataFiles::Shipped(shipped) => match shipped.payloads.get(index) {
                Some(file) => (PathBuf::from(&file.name), &file.data),
                None => {
                    return Err(self
                        .err(
                            path_entry.value.span,
                            format!("the payload file `{relative}` was not shipped with the plan"),
                        )
                        .with_help(format!(
                            "a distributed worker reads only the payload files the controller sent ({} \
                             of them), never its own disk",
                            shipped.payloads.len()
                        )));
                }
            },
        };
        let shown = path.display().to_string();
        let text = std::str::from_utf8(bytes).map_err(|e| {
            self.err(path_entry.value.span, format!("the payload file `{shown}` is not UTF-8 text: {e}"))
        })?;
        let data = matches!(files, DataFiles::DiskKept).then(|| Arc::<[u8]>::from(bytes));
        let rows = self.read_csv(text, &shown, &csv, path_entry.value.span)?;
        if rows.is_empty() && load_all.is_none() {
            return Err(self
                .err(path_entry.value.span, format!("the payload file `{shown}` has no rows"))
                .with_help("each virtual user takes one row, so the file needs at least one"));
        }
        Ok(Payload { path, fields, rows: Arc::new(rows), order, load_all, data })
    }

    /// Reads the rows of a CSV file; an error points at the row in the CSV file.
    fn read_csv(
        &self,
        text: &str,
        name: &str,
        o: &CsvOptions,
        loaded_at: Span,
    ) -> Result<Vec<Vec<serde_json::Value>>> {
        let at = |offset: usize, message: String| {
            let line = text[..offset.min(text.len())].matches('\n').count() + 1;
            let len = text.lines().nth(line - 1).map_or(1, |l| l.trim_end_matches('\r').chars().count());
            ScriptError::at(name, text, Span::on_line(line, 0, len), message)
        };
        let origin = {
            let s = self.source_of(loaded_at);
            format!("{}:{}:{}", s.name, loaded_at.start.line, loaded_at.start.col + 1)
        };
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .flexible(true)
            .delimiter(o.delimiter)
            .from_reader(text.as_bytes());
        let mut rows: Vec<(usize, Vec<String>)> = Vec::new();
        // Where each record is: from its first character to just after its end.
        let mut extents: Vec<(usize, usize)> = Vec::new();
        let mut record = csv::StringRecord::new();
        let byte = |p: &csv::Position| usize::try_from(p.byte()).unwrap_or(usize::MAX).min(text.len());
        loop {
            match reader.read_record(&mut record) {
                Ok(false) => break,
                Ok(true) => {
                    // The reader's position is where it started looking, before any empty lines
                    // it skipped.
                    let from = record.position().map_or(0, byte);
                    let start =
                        from + (text[from..].len() - text[from..].trim_start_matches(['\r', '\n']).len());
                    extents.push((start, byte(reader.position()).max(start)));
                    rows.push((start, record.iter().map(str::to_string).collect()));
                }
                Err(e) => {
                    let offset = e.position().map_or(0, |p| usize::try_from(p.byte()).unwrap_or(0));
                    return Err(at(offset, format!("cannot read the payload file: {e}"))
                        .with_help(format!("the file is loaded by `config.payload` at {origin}")));
                }
            }
        }
        if !o.skip_empty_lines {
            rows.extend(empty_lines(text, &extents).into_iter().map(|s| (s, vec![String::new()])));
            rows.sort_by_key(|(s, _)| *s);
        }
        if o.skip_header && !rows.is_empty() {
            rows.remove(0);
        }
        let mut out = Vec::with_capacity(rows.len());
        for (start, row) in rows {
            if row.len() < o.fields {
                let blank = row.len() == 1 && row[0].is_empty();
                let help = if blank {
                    "the line is empty: remove it, or leave `skipEmptyLines` at its default (`true`)"
                        .to_string()
                } else {
                    format!(
                        "add the missing values, or name fewer `fields` (the file is loaded by `config.payload` at {origin})"
                    )
                };
                return Err(at(
                    start,
                    format!(
                        "this row of the payload file has {} {}, but `fields` names {}",
                        row.len(),
                        if row.len() == 1 { "value" } else { "values" },
                        o.fields
                    ),
                )
                .with_help(help));
            }
            out.push(
                row.into_iter()
                    .map(|v| if o.cast { cast(v) } else { serde_json::Value::String(v) })
                    .collect(),
            );
        }
        Ok(out)
    }
}

/// How to read a payload file.
struct CsvOptions {
    delimiter: u8,
    skip_header: bool,
    cast: bool,
    skip_empty_lines: bool,
    /// Number of `fields`: the fewest values a row may have.
    fields: usize,
}

/// Byte offsets of the empty lines of a CSV text whose records cover `extents` (the csv crate
/// skips empty lines silently). An empty line inside a record (in a quoted value) does not count.
fn empty_lines(text: &str, extents: &[(usize, usize)]) -> Vec<usize> {
    let mut out = Vec::new();
    let mut offset = 0;
    for line in text.split_inclusive('\n') {
        let content = line.trim_end_matches('\n').trim_end_matches('\r');
        if content.is_empty() && !extents.iter().any(|&(start, end)| (start..end).contains(&offset)) {
            out.push(offset);
        }
        offset += line.len();
    }
    out
}

/// Artillery's `cast`: `true`/`false` become booleans and numbers become numbers; everything else,
/// including numbers with leading zeros (`007`, often an identifier), stays a string.
fn cast(value: String) -> serde_json::Value {
    match value.as_str() {
        "true" => return serde_json::Value::Bool(true),
        "false" => return serde_json::Value::Bool(false),
        _ => {}
    }
    if crate::number::is_json_number(&value) {
        if let Ok(i) = value.parse::<i64>() {
            return serde_json::Value::from(i);
        }
        if let Some(n) = value.parse::<f64>().ok().and_then(serde_json::Number::from_f64) {
            return serde_json::Value::Number(n);
        }
    }
    serde_json::Value::String(value)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cast_follows_artillery_except_leading_zeros() {
        use serde_json::json;
        let c = |s: &str| cast(s.to_string());
        assert_eq!(c("42"), json!(42));
        assert_eq!(c("-1.5"), json!(-1.5));
        assert_eq!(c("0"), json!(0));
        assert_eq!(c("0.25"), json!(0.25));
        assert_eq!(c("1e3"), json!(1000.0));
        assert_eq!(c("true"), json!(true));
        assert_eq!(c("false"), json!(false));
        assert_eq!(c("007"), json!("007"));
        assert_eq!(c("True"), json!("True"));
        assert_eq!(c(""), json!(""));
        assert_eq!(c(" 1"), json!(" 1"));
        assert_eq!(c("1."), json!("1."));
        assert_eq!(c("99999999999999999999"), json!(1e20));
    }

    #[test]
    fn empty_lines_are_found_between_records_and_at_the_edges() {
        let text = "\na,b\n\n\nc,d\r\n\r\ne,\"x\n\ny\"\n";
        // Records: a,b at 1..5, c,d at 7..11, and e,"x..y" (with an empty line inside) at 14..23.
        assert_eq!(&text[1..4], "a,b");
        assert_eq!(&text[7..10], "c,d");
        assert_eq!(&text[14..15], "e");
        assert_eq!(empty_lines(text, &[(1, 5), (7, 11), (14, 23)]), [0, 5, 6, 12]);
        assert_eq!(empty_lines("a\n", &[(0, 2)]), Vec::<usize>::new());
        assert_eq!(empty_lines("a", &[(0, 1)]), Vec::<usize>::new());
        assert_eq!(empty_lines("a\n\n", &[(0, 2)]), [2]);
    }

    fn load(csv: &str, skip_empty_lines: bool) -> std::result::Result<Vec<Vec<serde_json::Value>>, String> {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("d.csv"), csv).unwrap();
        let script = format!(
            "config:\n  target: http://h\n  payload: {{ path: '{}', fields: [a, b], skipEmptyLines: {skip_empty_lines}, cast: false }}\nscenarios:\n  - flow: [ {{think: 1}} ]\n",
            dir.path().join("d.csv").display()
        );
        match crate::parse_str(&script, "t.yaml", &crate::LoadOptions::default()) {
            Ok(plan) => Ok((*plan.payloads[0].rows).clone()),
            Err(e) => {
                Err(format!("{}:{}: {}", e.file.rsplit('/').next().unwrap_or_default(), e.line, e.message))
            }
        }
    }

    #[test]
    fn csv_rows_and_empty_lines_with_real_reader_positions() {
        use serde_json::json;
        let text = "\n\na,b\r\n\r\nc,\"x\n\n\"\n\n";
        assert_eq!(
            load(text, true),
            Ok(vec![vec![json!("a"), json!("b")], vec![json!("c"), json!("x\n\n")]])
        );
        let e = load(text, false).unwrap_err();
        assert_eq!(e, "d.csv:1: this row of the payload file has 1 value, but `fields` names 2");
        let e = load("a,b\n\nc,d\n", false).unwrap_err();
        assert!(e.starts_with("d.csv:2: "), "{e}");
        let e = load("a,b\nc,d\nlast\n", true).unwrap_err();
        assert!(e.starts_with("d.csv:3: "), "{e}");
        let e = load("a,b\n\n\nc\n", true).unwrap_err();
        assert!(e.starts_with("d.csv:4: "), "line numbers count skipped empty lines: {e}");
    }

    /// A script naming `d.csv` (relative) in a folder whose own `d.csv` holds `on-disk,0`.
    fn script_beside_a_disk_file(payload: &str) -> (tempfile::TempDir, String, PathBuf) {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("d.csv"), "on-disk,0\n").unwrap();
        let script = format!(
            "config:\n  target: http://h\n  payload: {payload}\nscenarios:\n  - flow: [ {{think: 1}} ]\n"
        );
        let dir_path = dir.path().to_path_buf();
        (dir, script, dir_path)
    }

    fn load_with(script: &str, dir: &std::path::Path, files: DataFiles) -> Result<crate::Plan> {
        let opts = crate::LoadOptions { data_files: files, ..Default::default() };
        crate::load_sources(vec![("s.yaml".into(), script.to_string(), dir.to_path_buf())], &opts)
    }

    fn shipped(files: &[(&str, &str)]) -> DataFiles {
        let payloads = files
            .iter()
            .map(|(name, text)| crate::DataFile {
                name: (*name).to_string(),
                data: Arc::from(text.as_bytes()),
            })
            .collect();
        DataFiles::Shipped(Arc::new(crate::ShippedDataFiles { payloads, form_files: Vec::new() }))
    }

    #[test]
    fn shipped_payload_files_are_parsed_instead_of_the_disk_in_the_order_the_plan_names_them() {
        use serde_json::json;
        let (_dir, script, dir) = script_beside_a_disk_file(
            "[ { path: d.csv, fields: [a, b] }, { path: d.csv, fields: [x], order: sequence, cast: false } ]",
        );
        let on_disk = load_with(&script, &dir, DataFiles::Disk).unwrap();
        assert_eq!(*on_disk.payloads[0].rows, vec![vec![json!("on-disk"), json!(0)]]);
        assert_eq!(on_disk.payloads[0].data, None, "bytes are kept only when asked");
        let kept = load_with(&script, &dir, DataFiles::DiskKept).unwrap();
        assert_eq!(kept.payloads[1].data.as_deref(), Some(&b"on-disk,0\n"[..]));

        let files = shipped(&[("ctl/first.csv", "s1,1\ns2,2\n"), ("ctl/second.csv", "007\n")]);
        let plan = load_with(&script, &dir, files).unwrap();
        assert_eq!(*plan.payloads[0].rows, vec![vec![json!("s1"), json!(1)], vec![json!("s2"), json!(2)]]);
        assert_eq!(*plan.payloads[1].rows, vec![vec![json!("007")]]);
        assert_eq!(plan.payloads[1].order, PayloadOrder::Sequence);
        assert_eq!(plan.payloads[0].path, PathBuf::from("ctl/first.csv"), "named as the controller named it");
        assert_eq!(plan.payloads[0].data, None);
    }

    #[test]
    fn a_shipped_file_fails_with_the_errors_of_the_same_file_on_disk_and_a_missing_one_is_never_read() {
        let (_dir, script, dir) =
            script_beside_a_disk_file("{ path: d.csv, fields: [a, b], skipHeader: true, delimiter: ';' }");
        let text = "h1;h2\nok;1\nshort\n";
        std::fs::write(dir.join("d.csv"), text).unwrap();
        let from_disk = load_with(&script, &dir, DataFiles::Disk).unwrap_err();
        let name = dir.join("d.csv").display().to_string();
        let from_plan = load_with(&script, &dir, shipped(&[(&name, text)])).unwrap_err();
        assert_eq!(from_plan.to_string(), from_disk.to_string());
        assert_eq!((from_plan.file.as_str(), from_plan.line), (name.as_str(), 3), "{from_plan}");

        let missing = load_with(&script, &dir, shipped(&[])).unwrap_err();
        assert_eq!(missing.message, "the payload file `d.csv` was not shipped with the plan");
        assert_eq!((missing.file.as_str(), missing.line), ("s.yaml", 3), "{missing}");
        assert!(
            missing.to_string().contains("reads only the payload files the controller sent (0 of them)"),
            "{missing}"
        );
    }
}
