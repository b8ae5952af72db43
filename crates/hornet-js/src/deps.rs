//! The files a processor needs, for a distributed run's controller to ship to its workers: every
//! file loading the processor reads (the modules it requires or imports, the `package.json` files
//! their resolution consults, the files its top-level code reads with `fs`), plus the modules its
//! sources require by a literal name without loading them at once (a `require` inside a function)
//! and the files a string literal of the processor's own sources names (a `readFileSync` at hook
//! time). A file read only at hook time under a computed name is not found.

use std::cell::RefCell;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

use crate::files::Files;
use crate::resolve::{self, Resolved};
use crate::{LoadError, Processor, ProcessorOptions};

thread_local! {
    /// The files read on this thread while [`dependencies`] records.
    static READ: RefCell<Option<BTreeSet<PathBuf>>> = const { RefCell::new(None) };
}

/// Notes that `path` was read, when the calling thread records (see [`dependencies`]).
pub(crate) fn note(path: &Path) {
    READ.with(|read| {
        if let Some(files) = read.borrow_mut().as_mut() {
            files.insert(resolve::normalize(&std::path::absolute(path).unwrap_or_else(|_| path.into())));
        }
    });
}

/// Runs `f` with reads recorded; returns its result and the files read.
fn recording<T>(f: impl FnOnce() -> T) -> (T, BTreeSet<PathBuf>) {
    READ.with(|read| *read.borrow_mut() = Some(BTreeSet::new()));
    let out = f();
    let files = READ.with(|read| read.borrow_mut().take()).unwrap_or_default();
    (out, files)
}

/// Loads the processor at `path` (as a run would: its top-level code runs) and returns, sorted and
/// absolute, every file it needs: itself, what loading it read, and what its sources name (see the
/// module's doc). An error is the load's, as [`Processor::load`] reports it.
pub fn dependencies(path: &Path) -> Result<Vec<PathBuf>, LoadError> {
    let (loaded, mut files) = recording(|| Processor::load(path, ProcessorOptions::default()).map(drop));
    loaded?;
    files.insert(resolve::normalize(&std::path::absolute(path).unwrap_or_else(|_| path.into())));
    // Resolving the names the sources hold reads `package.json` files: those are needed too.
    let ((), consulted) = recording(|| named_by_sources(&mut files));
    files.extend(consulted);
    files.retain(|f| f.is_file());
    Ok(files.into_iter().collect())
}

fn is_script(path: &Path) -> bool {
    matches!(path.extension().and_then(|e| e.to_str()), Some("js" | "cjs" | "mjs"))
}

fn in_node_modules(path: &Path) -> bool {
    path.components().any(|c| c.as_os_str() == "node_modules")
}

/// Adds to `files` what the scripts among them name, repeatedly: modules required by a literal
/// name (resolved as a run would; names that do not resolve are left to the run), and, for the
/// processor's own sources (outside `node_modules`), existing files a string literal names
/// relative to the source's folder.
fn named_by_sources(files: &mut BTreeSet<PathBuf>) {
    let mut queue: Vec<PathBuf> = files.iter().filter(|f| is_script(f)).cloned().collect();
    let mut seen: BTreeSet<PathBuf> = queue.iter().cloned().collect();
    while let Some(file) = queue.pop() {
        let Ok(source) = std::fs::read_to_string(&file) else { continue };
        let from = file.to_string_lossy();
        let import = file.extension().is_some_and(|e| e == "mjs");
        let mut found = Vec::new();
        for (_, spec) in resolve::module_names(&source) {
            if let Ok(Resolved::File(target)) = resolve::resolve(&from, spec, import, &Files::Anywhere) {
                found.push(target);
            }
        }
        if !in_node_modules(&file) {
            let dir = file.parent().unwrap_or(Path::new(""));
            for literal in string_literals(&source) {
                let candidate = resolve::normalize(&dir.join(literal));
                if plausible_path(literal) && candidate.is_file() {
                    found.push(candidate);
                }
            }
        }
        for target in found {
            if is_script(&target) && seen.insert(target.clone()) {
                queue.push(target.clone());
            }
            files.insert(target);
        }
    }
}

/// A literal that may name a file: short, one line, not a URL or a built-in.
fn plausible_path(literal: &str) -> bool {
    !literal.is_empty()
        && literal.len() <= 255
        && !literal.contains(['\n', '\0'])
        && !literal.contains("://")
        && !literal.starts_with("node:")
        && literal != "."
        && literal != ".."
}

/// The string literals of a JavaScript source ('...', "..." and `...` without `${`), escapes
/// left as written; comments are skipped. Regular expressions are not told apart, which at worst
/// yields a literal that names no file.
fn string_literals(source: &str) -> Vec<&str> {
    let bytes = source.as_bytes();
    let mut out = Vec::new();
    let mut i = 0;
    while i < bytes.len() {
        match bytes[i] {
            b'/' if bytes.get(i + 1) == Some(&b'/') => {
                i = source[i..].find('\n').map_or(bytes.len(), |n| i + n);
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i = source[i + 2..].find("*/").map_or(bytes.len(), |n| i + 2 + n + 2);
            }
            quote @ (b'\'' | b'"' | b'`') => {
                let start = i + 1;
                let mut j = start;
                while j < bytes.len() && bytes[j] != quote && (quote == b'`' || bytes[j] != b'\n') {
                    j += if bytes[j] == b'\\' { 2 } else { 1 };
                }
                let end = j.min(bytes.len());
                let text = &source[start..end];
                if !(quote == b'`' && text.contains("${")) {
                    out.push(text);
                }
                i = end + 1;
            }
            _ => i += 1,
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literals_are_found_outside_comments() {
        let src = "// don't\nconst a = 'x.json'; /* \"no\" */ const b = \"y\\\"z\"; const c = `t`; const d = `${a}`;";
        assert_eq!(string_literals(src), vec!["x.json", "y\\\"z", "t"]);
    }

    #[test]
    fn dependencies_are_what_loading_reads_and_what_the_sources_name() {
        let dir = tempfile::tempdir().unwrap();
        let root = dir.path();
        let write = |p: &str, text: &str| {
            let full = root.join(p);
            std::fs::create_dir_all(full.parent().unwrap()).unwrap();
            std::fs::write(full, text).unwrap();
        };
        write(
            "app/p.js",
            "const h = require('./lib/helper');\nconst cfg = require('../shared/cfg.json');\n\
             const pkg = require('tiny');\nconst fs = require('fs');\n\
             const users = fs.readFileSync(__dirname + '/data/users.csv', 'utf8');\n\
             function later(context, events, done) { const l = require('./lazy'); \
             context.vars.t = fs.readFileSync('./data/at-hook-time.txt', 'utf8'); done(); }\n\
             module.exports = { later };\n",
        );
        write("app/lib/helper.js", "module.exports = require('./deep');");
        write("app/lib/deep.js", "module.exports = 1;");
        write("app/lazy.js", "module.exports = require('./lazier.json');");
        write("app/lazier.json", "{}");
        write("app/data/users.csv", "a,b\n");
        write("app/data/at-hook-time.txt", "t");
        write("app/data/unused.txt", "never named");
        write("app/unrelated.js", "module.exports = 0;");
        write("shared/cfg.json", "{\"k\": 1}");
        write("node_modules/tiny/package.json", "{\"main\": \"main.js\"}");
        write("node_modules/tiny/main.js", "module.exports = require('./util');");
        write("node_modules/tiny/util.js", "module.exports = {};");
        write("node_modules/tiny/README.md", "not needed");
        let found = dependencies(&root.join("app/p.js")).unwrap();
        let root = resolve::normalize(&std::fs::canonicalize(root).unwrap());
        let mut names: Vec<String> = found
            .iter()
            .map(|f| {
                let f = std::fs::canonicalize(f).unwrap();
                f.strip_prefix(&root).unwrap().to_string_lossy().into_owned()
            })
            .collect();
        names.sort();
        assert_eq!(
            names,
            [
                "app/data/at-hook-time.txt",
                "app/data/users.csv",
                "app/lazier.json",
                "app/lazy.js",
                "app/lib/deep.js",
                "app/lib/helper.js",
                "app/p.js",
                "node_modules/tiny/main.js",
                "node_modules/tiny/package.json",
                "node_modules/tiny/util.js",
                "shared/cfg.json",
            ]
        );
    }

    #[test]
    fn a_processor_that_does_not_load_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("p.js"), "module.exports = {;").unwrap();
        assert!(dependencies(&dir.path().join("p.js")).is_err());
    }
}
