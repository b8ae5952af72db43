//! Module resolution for `require` and `import`: Node built-ins (the ones hornet provides, the
//! ones it refuses), relative files and pure-JS packages from `node_modules` (CommonJS rules with
//! `package.json` `main`/`exports`); plus the load-time scan that refuses a processor whose own
//! code requires a module that cannot work here, naming the file and line.

use std::path::{Path, PathBuf};

use crate::files::Files;

/// Built-in modules hornet provides (see the prelude).
const SUPPORTED: &[&str] = &[
    "assert",
    "buffer",
    "console",
    "crypto",
    "events",
    "fs",
    "fs/promises",
    "os",
    "path",
    "path/posix",
    "perf_hooks",
    "process",
    "querystring",
    "string_decoder",
    "timers",
    "timers/promises",
    "url",
    "util",
];

/// Node built-ins that start processes, open sockets or load native code: a processor that needs
/// them cannot run unchanged in an embedded engine.
const REFUSED: &[&str] = &[
    "child_process",
    "cluster",
    "dgram",
    "dns",
    "dns/promises",
    "http",
    "http2",
    "https",
    "inspector",
    "module",
    "net",
    "readline",
    "repl",
    "tls",
    "tty",
    "v8",
    "vm",
    "worker_threads",
];

/// Node built-ins that exist in Node but not here (no socket involved, simply not provided).
const NOT_PROVIDED: &[&str] = &[
    "async_hooks",
    "constants",
    "diagnostics_channel",
    "domain",
    "punycode",
    "stream",
    "stream/promises",
    "sys",
    "trace_events",
    "wasi",
    "zlib",
];

/// What a module specifier names.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resolved {
    /// A built-in hornet provides, by its bare name (`crypto`, `fs/promises`).
    Builtin(&'static str),
    /// A file, absolute.
    File(PathBuf),
}

impl Resolved {
    /// The key the module cache and the ES module loader use: `node:<name>` or the path.
    pub fn key(&self) -> String {
        match self {
            Resolved::Builtin(name) => format!("node:{name}"),
            Resolved::File(path) => path.to_string_lossy().into_owned(),
        }
    }
}

/// Why a built-in is refused, or `None` when `name` is not a refused or missing built-in.
pub fn refusal(name: &str) -> Option<String> {
    let bare = name.strip_prefix("node:").unwrap_or(name);
    if REFUSED.contains(&bare) {
        Some(format!(
            "module '{bare}' cannot be used by a processor in hornet: it starts processes, opens \
             its own sockets or runs native code (use hornet's own steps for network traffic)"
        ))
    } else if NOT_PROVIDED.contains(&bare) {
        Some(format!("module '{bare}' is not provided by hornet's JavaScript engine"))
    } else {
        None
    }
}

/// Resolves `spec` required from the file `from` (a path, or `node:<name>` for a built-in),
/// looking only at the files `files` allows.
pub(crate) fn resolve(
    from: &str,
    spec: &str,
    prefer_import: bool,
    files: &Files,
) -> Result<Resolved, String> {
    let bare = spec.strip_prefix("node:").unwrap_or(spec);
    if let Some(name) = SUPPORTED.iter().find(|s| **s == bare) {
        return Ok(Resolved::Builtin(name));
    }
    if let Some(why) = refusal(spec) {
        return Err(why);
    }
    if spec.starts_with("node:") {
        return Err(format!("no built-in module '{bare}'"));
    }
    let base_dir = if from.starts_with("node:") {
        std::env::current_dir().unwrap_or_default()
    } else {
        Path::new(from).parent().map(Path::to_path_buf).unwrap_or_default()
    };
    let found = if spec.starts_with("./") || spec.starts_with("../") || spec == "." || spec == ".." {
        resolve_path(&base_dir.join(spec), prefer_import, files)
    } else if spec.starts_with('/') {
        resolve_path(Path::new(spec), prefer_import, files)
    } else {
        resolve_package(&base_dir, spec, prefer_import, files)
    };
    let path = found.ok_or_else(|| match files {
        Files::Anywhere => format!("cannot find module '{spec}' (required from {from})"),
        Files::Shipped(_) => {
            format!("cannot find module '{spec}' (required from {from}): {}", crate::files::not_shipped(spec))
        }
    })?;
    if path.extension().is_some_and(|e| e == "node") {
        return Err(format!(
            "module '{spec}' is a native addon ({}), which hornet's JavaScript engine cannot load",
            path.display()
        ));
    }
    Ok(Resolved::File(normalize(&path)))
}

/// `path` as a file, with `.js`/`.json`/`.cjs`/`.mjs` added, or as a directory (its package.json
/// `main`, then `index.js`).
fn resolve_path(path: &Path, prefer_import: bool, files: &Files) -> Option<PathBuf> {
    if files.is_file(path) {
        return Some(path.to_path_buf());
    }
    for ext in ["js", "json", "cjs", "mjs", "node"] {
        let mut with = path.as_os_str().to_owned();
        with.push(".");
        with.push(ext);
        let with = PathBuf::from(with);
        if files.is_file(&with) {
            return Some(with);
        }
    }
    if files.is_dir(path) {
        if let Some(pkg) = read_package(path, files)
            && let Some(entry) = package_entry(&pkg, ".", prefer_import)
            && let Some(found) = resolve_path(&path.join(entry), prefer_import, files)
        {
            return Some(found);
        }
        for index in ["index.js", "index.json", "index.cjs", "index.mjs"] {
            let candidate = path.join(index);
            if files.is_file(&candidate) {
                return Some(candidate);
            }
        }
    }
    None
}

/// `name` or `name/sub/path` (or `@scope/name/...`) from the nearest `node_modules` upwards.
fn resolve_package(base_dir: &Path, spec: &str, prefer_import: bool, files: &Files) -> Option<PathBuf> {
    let mut parts = spec.splitn(if spec.starts_with('@') { 3 } else { 2 }, '/');
    let package = if spec.starts_with('@') {
        format!("{}/{}", parts.next()?, parts.next()?)
    } else {
        parts.next()?.to_string()
    };
    let subpath = parts.next();
    let mut dir = Some(base_dir);
    while let Some(d) = dir {
        let root = d.join("node_modules").join(&package);
        if files.is_dir(&root) {
            let exported = read_package(&root, files).and_then(|pkg| {
                let key = subpath.map_or_else(|| ".".to_string(), |s| format!("./{s}"));
                package_entry_exports(&pkg, &key, prefer_import)
            });
            if let Some(entry) = exported
                && let Some(found) = resolve_path(&root.join(entry), prefer_import, files)
            {
                return Some(found);
            }
            let target = match subpath {
                Some(sub) => root.join(sub),
                None => root.clone(),
            };
            if let Some(found) = resolve_path(&target, prefer_import, files) {
                return Some(found);
            }
        }
        dir = d.parent();
    }
    None
}

fn read_package(dir: &Path, files: &Files) -> Option<serde_json::Value> {
    let file = dir.join("package.json");
    if !files.allows(&file) {
        return None;
    }
    let text = std::fs::read_to_string(&file).ok()?;
    crate::deps::note(&file);
    serde_json::from_str(&text).ok()
}

/// The entry for `subpath` from `exports`, else (for ".") `main`.
fn package_entry(pkg: &serde_json::Value, subpath: &str, prefer_import: bool) -> Option<String> {
    package_entry_exports(pkg, subpath, prefer_import)
        .or_else(|| (subpath == ".").then(|| pkg.get("main")?.as_str().map(str::to_string)).flatten())
}

fn package_entry_exports(pkg: &serde_json::Value, subpath: &str, prefer_import: bool) -> Option<String> {
    let exports = pkg.get("exports")?;
    let target = match exports {
        serde_json::Value::Object(map) if map.keys().any(|k| k.starts_with('.')) => map.get(subpath)?,
        other if subpath == "." => other,
        _ => return None,
    };
    pick_condition(target, prefer_import)
}

/// Follows export conditions: `require`/`import` (by the kind of load), `node`, `default`.
fn pick_condition(target: &serde_json::Value, prefer_import: bool) -> Option<String> {
    match target {
        serde_json::Value::String(s) => Some(s.clone()),
        serde_json::Value::Array(list) => list.iter().find_map(|t| pick_condition(t, prefer_import)),
        serde_json::Value::Object(map) => {
            let order: [&str; 4] = if prefer_import {
                ["import", "node", "default", "require"]
            } else {
                ["require", "node", "default", "import"]
            };
            order.iter().find_map(|c| map.get(*c).and_then(|t| pick_condition(t, prefer_import)))
        }
        _ => None,
    }
}

/// Removes `.` and `..` components without touching the file system.
pub(crate) fn normalize(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            std::path::Component::CurDir => {}
            std::path::Component::ParentDir => {
                out.pop();
            }
            other => out.push(other.as_os_str()),
        }
    }
    out
}

/// Whether a `.js` file is an ES module: the nearest package.json `files` allows says
/// `"type": "module"`.
pub(crate) fn is_es_module(path: &Path, files: &Files) -> bool {
    match path.extension().and_then(|e| e.to_str()) {
        Some("mjs") => true,
        Some("cjs") | Some("json") => false,
        _ => {
            let mut dir = path.parent();
            while let Some(d) = dir {
                if let Some(pkg) = read_package(d, files) {
                    return pkg.get("type").and_then(|t| t.as_str()) == Some("module");
                }
                dir = d.parent();
            }
            false
        }
    }
}

/// The modules a source names by a literal (`require('x')`, `import ... from 'x'`,
/// `import('x')`), each with the byte offset of its opening quote.
pub fn module_names(source: &str) -> Vec<(usize, &str)> {
    let mut names = Vec::new();
    for (offset, _) in source.match_indices(['(', 'm', 't']) {
        let before = &source[..offset];
        let rest = &source[offset..];
        let call = rest.starts_with('(')
            && (before.trim_end().ends_with("require") || before.trim_end().ends_with("import"));
        let keyword = rest.starts_with('m') && before.ends_with("fro")
            || rest.starts_with('t') && before.ends_with("impor");
        if !call && !keyword {
            continue;
        }
        let after = &rest[1..];
        let trimmed = after.trim_start();
        let Some(quote) = trimmed.chars().next().filter(|c| matches!(c, '\'' | '"' | '`')) else {
            continue;
        };
        let Some(end) = trimmed[1..].find(quote) else {
            continue;
        };
        names.push((source.len() - trimmed.len(), &trimmed[1..1 + end]));
    }
    names
}

/// A module the source names (see [`module_names`]) that is refused, with its 1-based line and
/// column and the reason.
pub fn find_refused(source: &str) -> Option<(usize, usize, String)> {
    module_names(source).into_iter().find_map(|(at, name)| {
        let why = refusal(name)?;
        let line = source[..at].matches('\n').count() + 1;
        let column = at - source[..at].rfind('\n').map_or(0, |n| n + 1) + 1;
        Some((line, column, why))
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_resolve_with_or_without_the_node_prefix() {
        assert_eq!(resolve("/x/p.js", "crypto", false, &Files::Anywhere), Ok(Resolved::Builtin("crypto")));
        assert_eq!(
            resolve("/x/p.js", "node:fs/promises", false, &Files::Anywhere),
            Ok(Resolved::Builtin("fs/promises"))
        );
        let err = resolve("/x/p.js", "child_process", false, &Files::Anywhere).unwrap_err();
        assert!(err.contains("'child_process'"), "{err}");
        assert!(
            resolve("/x/p.js", "node:zlib", false, &Files::Anywhere).unwrap_err().contains("not provided")
        );
    }

    #[test]
    fn packages_resolve_through_exports_then_main_then_index() {
        let dir = tempfile::tempdir().unwrap();
        let nm = dir.path().join("node_modules");
        std::fs::create_dir_all(nm.join("a/lib")).unwrap();
        std::fs::write(nm.join("a/package.json"), r#"{"main":"lib/main"}"#).unwrap();
        std::fs::write(nm.join("a/lib/main.js"), "").unwrap();
        std::fs::create_dir_all(nm.join("@s/b/dist")).unwrap();
        std::fs::write(
            nm.join("@s/b/package.json"),
            r#"{"exports":{".":{"import":"./dist/b.mjs","require":"./dist/b.cjs"},"./x":"./dist/x.js"}}"#,
        )
        .unwrap();
        for f in ["b.mjs", "b.cjs", "x.js"] {
            std::fs::write(nm.join("@s/b/dist").join(f), "").unwrap();
        }
        std::fs::create_dir_all(nm.join("c")).unwrap();
        std::fs::write(nm.join("c/index.js"), "").unwrap();
        std::fs::create_dir_all(dir.path().join("sub")).unwrap();
        let from = dir.path().join("sub/p.js");
        let from = from.to_str().unwrap();
        let file = |p: &str| Ok(Resolved::File(nm.join(p)));
        assert_eq!(resolve(from, "a", false, &Files::Anywhere), file("a/lib/main.js"));
        assert_eq!(resolve(from, "@s/b", false, &Files::Anywhere), file("@s/b/dist/b.cjs"));
        assert_eq!(resolve(from, "@s/b", true, &Files::Anywhere), file("@s/b/dist/b.mjs"));
        assert_eq!(resolve(from, "@s/b/x", false, &Files::Anywhere), file("@s/b/dist/x.js"));
        assert_eq!(resolve(from, "c", false, &Files::Anywhere), file("c/index.js"));
        assert!(
            resolve(from, "missing", false, &Files::Anywhere)
                .unwrap_err()
                .contains("cannot find module 'missing'")
        );
    }

    #[test]
    fn relative_files_get_their_extension_and_native_addons_are_refused() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::write(dir.path().join("data.json"), "{}").unwrap();
        std::fs::write(dir.path().join("addon.node"), "").unwrap();
        let from = dir.path().join("p.js");
        let from = from.to_str().unwrap();
        assert_eq!(
            resolve(from, "./data", false, &Files::Anywhere),
            Ok(Resolved::File(dir.path().join("data.json")))
        );
        assert!(resolve(from, "./addon", false, &Files::Anywhere).unwrap_err().contains("native addon"));
    }

    #[test]
    fn the_scan_finds_a_refused_require_with_its_position() {
        let src = "const a = require('crypto');\n\nfunction f() {\n  return require(\"child_process\");\n}\n";
        let (line, column, why) = find_refused(src).unwrap();
        assert_eq!((line, column), (4, 18));
        assert!(why.contains("child_process"));
        assert_eq!(find_refused("import http from 'node:http';").map(|r| (r.0, r.1)), Some((1, 18)));
        assert!(find_refused("const x = require('./http');").is_none());
    }
}
