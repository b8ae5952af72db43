//! What travels as the plan: the script texts and the options that shape them, the processor
//! JavaScript with the files it needs (within [`MAX_PROCESSOR_BYTES`]), plus a hash that both sides
//! compute from what they actually loaded (payload rows and processor files included), so a worker
//! whose CSV files or version differ is refused instead of running a different test.

use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use hornet_script::{LoadOptions, Plan, ScriptError};

use crate::protocol::{ProcessorBundle, ScriptText, ShippedFile};

/// Most bytes the processor and the files it needs may add up to (a distributed run sends them
/// to every worker inside the plan message).
pub const MAX_PROCESSOR_BYTES: u64 = 16 << 20;

/// The plan as sent to workers.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSource {
    /// The main script first, then the files it includes.
    pub scripts: Vec<ScriptText>,
    /// The command-line options that shape the plan.
    pub options: LoadOptions,
    /// The processor and the files it needs ([`PlanSource::ship_processor`]).
    pub processor: Option<ProcessorBundle>,
}

impl PlanSource {
    /// Reads the scripts at `paths` (as `hornet run` would) with `opts`.
    pub fn read(paths: &[PathBuf], opts: &LoadOptions) -> Result<PlanSource, String> {
        let mut scripts = Vec::with_capacity(paths.len());
        for path in paths {
            let text = std::fs::read_to_string(path)
                .map_err(|e| format!("cannot read `{}`: {e}", path.display()))?;
            let dir = path.parent().map(Path::to_path_buf).unwrap_or_default();
            let dir = std::fs::canonicalize(if dir.as_os_str().is_empty() { Path::new(".") } else { &dir })
                .unwrap_or(dir);
            scripts.push(ScriptText {
                name: path.display().to_string(),
                text,
                dir: dir.display().to_string(),
            });
        }
        Ok(PlanSource { scripts, options: opts.clone(), processor: None })
    }

    /// Builds the plan. Relative paths (CSV payloads) resolve against the controller's directory when
    /// it exists here, else against `local_dir` (or the current directory).
    pub fn build(&self, local_dir: Option<&Path>) -> Result<Plan, ScriptError> {
        let sources = self
            .scripts
            .iter()
            .map(|s| {
                let dir = PathBuf::from(&s.dir);
                let dir =
                    if dir.is_dir() { dir } else { local_dir.map(Path::to_path_buf).unwrap_or_default() };
                (s.name.clone(), s.text.clone(), dir)
            })
            .collect();
        hornet_script::load_sources(sources, &self.options)
    }

    /// SHA-256 (hex) over the hornet version, the scripts, the options, the payload rows of `plan`
    /// and the processor's files.
    pub fn hash(&self, plan: &Plan) -> String {
        let payloads: Vec<_> = plan.payloads.iter().map(|p| (&p.fields, &*p.rows)).collect();
        let texts: Vec<(&str, &str)> =
            self.scripts.iter().map(|s| (s.name.as_str(), s.text.as_str())).collect();
        let doc = serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "scripts": texts,
            "options": serde_json::to_value(&self.options).unwrap_or_default(),
            "payloads": payloads,
            "processor": self.processor,
        });
        crate::auth::sha256(doc.to_string().as_bytes())
    }
}

impl PlanSource {
    /// Reads `plan`'s processor and every file it needs (see `hornet_js::dependencies`) into
    /// [`PlanSource::processor`]; an error when it does not load, or when the files come to more
    /// than `limit` bytes (naming the biggest).
    pub fn ship_processor(&mut self, plan: &Plan, limit: u64) -> Result<(), String> {
        self.processor = match &plan.processor {
            Some(spec) => Some(bundle(&spec.path, limit)?),
            None => None,
        };
        Ok(())
    }
}

/// The processor at `main` and the files it needs, paths relative to the deepest folder that
/// holds them all.
pub fn bundle(main: &Path, limit: u64) -> Result<ProcessorBundle, String> {
    let files = hornet_js::dependencies(main).map_err(|e| format!("processor {e}"))?;
    let mut sizes: Vec<(u64, &PathBuf)> =
        files.iter().map(|f| (std::fs::metadata(f).map_or(0, |m| m.len()), f)).collect();
    let total: u64 = sizes.iter().map(|(n, _)| n).sum();
    let root = common_folder(&files);
    let relative = |f: &Path| f.strip_prefix(&root).unwrap_or(f).to_string_lossy().replace('\\', "/");
    if total > limit {
        sizes.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(b.1)));
        let biggest: Vec<String> =
            sizes.iter().take(5).map(|(n, f)| format!("{} ({})", relative(f), size(*n))).collect();
        return Err(format!(
            "the processor {} and the files it needs ({} files) come to {}, over the {} a \
             distributed run ships to its workers; the biggest: {}",
            main.display(),
            files.len(),
            size(total),
            size(limit),
            biggest.join(", ")
        ));
    }
    let absolute = normal(&std::path::absolute(main).unwrap_or_else(|_| main.to_path_buf()));
    let mut shipped = Vec::with_capacity(files.len());
    let mut main_name = None;
    for file in &files {
        let bytes = std::fs::read(file).map_err(|e| format!("cannot read `{}`: {e}", file.display()))?;
        let path = relative(file);
        if normal(file) == absolute {
            main_name = Some(path.clone());
        }
        shipped.push(ShippedFile { path, data: base64::engine::general_purpose::STANDARD.encode(bytes) });
    }
    let main = main_name.unwrap_or_else(|| relative(&absolute));
    Ok(ProcessorBundle { main, files: shipped })
}

/// `path` without `.` and `..` components (as `hornet_js::dependencies` names files).
fn normal(path: &Path) -> PathBuf {
    let mut out = PathBuf::new();
    for part in path.components() {
        match part {
            Component::CurDir => {}
            Component::ParentDir => {
                out.pop();
            }
            other => out.push(other),
        }
    }
    out
}

/// The deepest folder holding every one of `files` (absolute paths).
fn common_folder(files: &[PathBuf]) -> PathBuf {
    let mut common: Option<Vec<Component<'_>>> = None;
    for file in files {
        let parts: Vec<Component<'_>> = file.parent().unwrap_or(file).components().collect();
        common = Some(match common {
            None => parts,
            Some(c) => c.iter().zip(&parts).take_while(|(a, b)| a == b).map(|(a, _)| *a).collect(),
        });
    }
    common.unwrap_or_default().iter().collect()
}

/// `n` bytes as people read them.
fn size(n: u64) -> String {
    if n >= 1 << 20 {
        format!("{:.1} MiB", n as f64 / f64::from(1 << 20))
    } else if n >= 1 << 10 {
        format!("{:.1} KiB", n as f64 / f64::from(1 << 10))
    } else {
        format!("{n} bytes")
    }
}

/// A processor bundle written out on a worker: the folder (removed when this is dropped) and the
/// processor's path in it.
pub struct Unpacked {
    dir: tempfile::TempDir,
    /// The processor, to load from.
    pub main: PathBuf,
}

impl Unpacked {
    /// The copy as a plan is built from it: the processor, confined to the folder's files.
    pub fn shipped(&self) -> hornet_script::ShippedProcessor {
        hornet_script::ShippedProcessor { main: self.main.clone(), folder: self.dir.path().to_path_buf() }
    }
}

impl ProcessorBundle {
    /// Writes the files into a fresh temporary folder; an error names a file that could not be
    /// written or a path that would leave the folder.
    pub fn unpack(&self) -> Result<Unpacked, String> {
        let dir = tempfile::Builder::new()
            .prefix("hornet-processor-")
            .tempdir()
            .map_err(|e| format!("cannot make a folder for the processor: {e}"))?;
        let place = |path: &str| -> Result<PathBuf, String> {
            let relative = Path::new(path);
            if path.is_empty() || !relative.components().all(|c| matches!(c, Component::Normal(_))) {
                return Err(format!("the controller sent a processor file with a bad path `{path}`"));
            }
            Ok(dir.path().join(relative))
        };
        for file in &self.files {
            let full = place(&file.path)?;
            let bytes = base64::engine::general_purpose::STANDARD
                .decode(&file.data)
                .map_err(|e| format!("the processor file `{}` arrived damaged: {e}", file.path))?;
            if let Some(parent) = full.parent() {
                std::fs::create_dir_all(parent)
                    .map_err(|e| format!("cannot write `{}`: {e}", parent.display()))?;
            }
            std::fs::write(&full, bytes).map_err(|e| format!("cannot write `{}`: {e}", full.display()))?;
        }
        let main = place(&self.main)?;
        Ok(Unpacked { dir, main })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(root: &Path, path: &str, text: &[u8]) {
        let full = root.join(path);
        std::fs::create_dir_all(full.parent().unwrap()).unwrap();
        std::fs::write(full, text).unwrap();
    }

    #[test]
    fn a_bundle_unpacks_elsewhere_with_its_layout_and_loads_there() {
        let dir = tempfile::tempdir().unwrap();
        write(
            dir.path(),
            "js/p.js",
            b"const d = require('../data/d.json'); module.exports = { f() { return d.k; } };",
        );
        write(dir.path(), "data/d.json", b"{\"k\": 7}");
        // Named the way a script's folder joined with `../js/p.js` names it.
        let bundle = bundle(&dir.path().join("data/./../js/p.js"), MAX_PROCESSOR_BYTES).unwrap();
        assert_eq!(bundle.main, "js/p.js");
        let names: Vec<&str> = bundle.files.iter().map(|f| f.path.as_str()).collect();
        assert_eq!(names, ["data/d.json", "js/p.js"]);
        let unpacked = bundle.unpack().unwrap();
        assert!(!unpacked.main.starts_with(dir.path()));
        assert_eq!(
            std::fs::read_to_string(unpacked.main.parent().unwrap().join("../data/d.json")).unwrap(),
            "{\"k\": 7}"
        );
        drop(dir);
        // The copy loads on its own: the original folder is gone.
        let found = hornet_js::dependencies(&unpacked.main).unwrap();
        assert_eq!(found.len(), 2);
    }

    #[test]
    fn a_bundle_over_the_limit_names_the_limit_and_the_biggest_files() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "p.js", b"const fs = require('fs'); const big = fs.readFileSync('./big.bin'); const small = fs.readFileSync('./small.txt'); module.exports = {};");
        write(dir.path(), "big.bin", &vec![7u8; 3000]);
        write(dir.path(), "small.txt", b"x");
        let err = bundle(&dir.path().join("p.js"), 2048).unwrap_err();
        assert!(err.contains("over the 2.0 KiB a distributed run ships"), "{err}");
        assert!(err.contains("the biggest: big.bin (2.9 KiB), p.js ("), "{err}");
        let total = ["p.js", "big.bin", "small.txt"]
            .iter()
            .map(|f| std::fs::metadata(dir.path().join(f)).unwrap().len())
            .sum::<u64>();
        assert!(err.contains(&format!("(3 files) come to {}", size(total))), "{err}");
    }

    #[test]
    fn a_bundle_with_a_path_out_of_its_folder_is_refused() {
        let bundle = ProcessorBundle {
            main: "p.js".into(),
            files: vec![ShippedFile { path: "../evil.js".into(), data: String::new() }],
        };
        assert!(bundle.unpack().err().unwrap().contains("bad path `../evil.js`"));
    }
}
