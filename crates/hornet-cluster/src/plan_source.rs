//! What travels as the plan: the script texts and the options that shape them, the processor
//! JavaScript with the files it needs (within [`MAX_PROCESSOR_BYTES`]), the data files — the
//! `config.payload` CSV files and `formData` `fromFile` files — as the controller read them (within
//! [`MAX_PAYLOAD_BYTES`]), plus a hash that both sides compute from what they actually loaded
//! (data files, payload rows, processor files), so a worker that built anything else, or runs
//! another version, is refused instead of running a different test. A worker builds the plan from
//! these bytes alone: it opens no path of its own disk that the plan names.

use std::path::{Component, Path, PathBuf};

use base64::Engine as _;
use std::sync::Arc;

use hornet_script::{DataFile, DataFiles, LoadOptions, Plan, ScriptError, ShippedDataFiles};

use crate::protocol::{MAX_LINE, ProcessorBundle, ScriptText, ShippedData, ShippedFile};

/// Most bytes the processor and the files it needs may add up to (a distributed run sends them
/// to every worker inside the plan message).
pub const MAX_PROCESSOR_BYTES: u64 = 16 << 20;

/// Most bytes the data files (`config.payload` and `formData` `fromFile` files) may add up to
/// (sent to every worker inside the plan message, like the processor's files).
pub const MAX_PAYLOAD_BYTES: u64 = 16 << 20;

// Both at their limits, in base64, leave room in one plan message for the scripts.
const _: () = assert!((MAX_PROCESSOR_BYTES + MAX_PAYLOAD_BYTES) / 3 * 4 + (16 << 20) <= MAX_LINE);

/// The plan as sent to workers.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSource {
    /// The main script first, then the files it includes.
    pub scripts: Vec<ScriptText>,
    /// The command-line options that shape the plan.
    pub options: LoadOptions,
    /// The processor and the files it needs ([`PlanSource::ship_processor`]).
    pub processor: Option<ProcessorBundle>,
    /// The `config.payload` files, one per entry in the plan's order ([`PlanSource::ship_data_files`]).
    pub payloads: Vec<ShippedData>,
    /// The `formData` `fromFile` files, in the order the plan names them.
    pub form_files: Vec<ShippedData>,
    /// The controller's `--dotenv` variables ([`PlanSource::ship_env`]): a worker reads them
    /// over its own environment.
    pub env: hornet_script::ShippedEnv,
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
        Ok(PlanSource {
            scripts,
            options: opts.clone(),
            processor: None,
            payloads: Vec::new(),
            form_files: Vec::new(),
            env: hornet_script::ShippedEnv::default(),
        })
    }

    /// Builds the plan. Data files are read as `options.data_files` says (a worker: from
    /// [`PlanSource::payloads`] and [`PlanSource::form_files`]); relative paths otherwise resolve
    /// against the controller's directory when it exists here, else against `local_dir` (or the
    /// current directory).
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

    /// SHA-256 (hex) over the hornet version, the scripts, the options, the data files (payload
    /// and `formData`) and the payload rows of `plan`, the processor's files, and the shipped
    /// environment variables.
    pub fn hash(&self, plan: &Plan) -> String {
        /// What the hash covers, borrowed (the shipped files are hashed as they are encoded).
        #[derive(serde::Serialize)]
        struct Hashed<'a> {
            version: &'a str,
            scripts: Vec<(&'a str, &'a str)>,
            options: &'a LoadOptions,
            payloads: Vec<(&'a Vec<String>, &'a Vec<Vec<serde_json::Value>>)>,
            payload_files: &'a [ShippedData],
            form_files: &'a [ShippedData],
            processor: &'a Option<ProcessorBundle>,
            env: &'a hornet_script::ShippedEnv,
        }
        crate::auth::sha256_json(&Hashed {
            version: env!("CARGO_PKG_VERSION"),
            scripts: self.scripts.iter().map(|s| (s.name.as_str(), s.text.as_str())).collect(),
            options: &self.options,
            payloads: plan.payloads.iter().map(|p| (&p.fields, &*p.rows)).collect(),
            payload_files: &self.payloads,
            form_files: &self.form_files,
            processor: &self.processor,
            env: &self.env,
        })
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

impl PlanSource {
    /// Ships the variables `names` (those of the controller's `--dotenv` file) with the plan, each
    /// with the value this process has for it (its own environment's when it set the name before
    /// the file was read, as `hornet run --dotenv` reads it). A name this process does not have is
    /// left out.
    pub fn ship_env<'a>(&mut self, names: impl IntoIterator<Item = &'a str>) {
        self.env = hornet_script::ShippedEnv::new(names.into_iter().filter_map(|name| {
            std::env::var_os(name).map(|v| (name.to_owned(), v.to_string_lossy().into_owned()))
        }));
    }
}

impl PlanSource {
    /// Moves the bytes of `plan`'s data files — its `config.payload` files and its `formData`
    /// `fromFile` files, read once at load ([`DataFiles::DiskKept`]) — into
    /// [`PlanSource::payloads`] and [`PlanSource::form_files`]; an error when they come to more
    /// than `limit` bytes together (naming the file, or the biggest), or when the plan did not keep
    /// them.
    pub fn ship_data_files(&mut self, plan: &mut Plan, limit: u64) -> Result<(), String> {
        let mut payloads = Vec::with_capacity(plan.payloads.len());
        for payload in &mut plan.payloads {
            let name = payload.path.display().to_string();
            let Some(data) = payload.data.take() else {
                return Err(format!(
                    "the payload file `{name}` was loaded without its bytes (load the plan with \
                     DataFiles::DiskKept to ship it)"
                ));
            };
            payloads.push((name, data));
        }
        let form_files: Vec<(String, Arc<[u8]>)> =
            std::mem::take(&mut plan.kept_form_files).into_iter().map(|f| (f.name, f.data)).collect();
        let total: u64 = payloads.iter().chain(&form_files).map(|(_, data)| data.len() as u64).sum();
        if total > limit {
            let what = match (payloads.as_slice(), form_files.as_slice()) {
                ([(name, _)], []) => format!("the payload file {name} comes to"),
                ([], [(name, _)]) => format!("the formData file {name} comes to"),
                (_, []) => {
                    format!("the payload files of `config.payload` ({} files) come to", payloads.len())
                }
                ([], _) => format!("the `formData` `fromFile` files ({} files) come to", form_files.len()),
                _ => format!(
                    "the payload and `formData` files ({} files) come to",
                    payloads.len() + form_files.len()
                ),
            };
            let count = payloads.len() + form_files.len();
            let sizes = payloads
                .iter()
                .chain(&form_files)
                .map(|(name, data)| (data.len() as u64, name.clone()))
                .collect();
            return Err(over_limit(&what, total, limit, sizes, count > 1));
        }
        let base64 = &base64::engine::general_purpose::STANDARD;
        let encode = |files: Vec<(String, Arc<[u8]>)>| -> Vec<ShippedData> {
            files.into_iter().map(|(path, data)| ShippedData { path, data: base64.encode(data) }).collect()
        };
        self.payloads = encode(payloads);
        self.form_files = encode(form_files);
        Ok(())
    }

    /// The data files as a worker's plan reads them ([`DataFiles::Shipped`]); an error names a file
    /// that arrived damaged.
    pub fn shipped_data_files(&self) -> Result<DataFiles, String> {
        let base64 = &base64::engine::general_purpose::STANDARD;
        let decode = |files: &[ShippedData], what: &str| {
            files
                .iter()
                .map(|f| {
                    let data = base64
                        .decode(&f.data)
                        .map_err(|e| format!("the {what} file `{}` arrived damaged: {e}", f.path))?;
                    Ok(DataFile { name: f.path.clone(), data: data.into() })
                })
                .collect::<Result<Vec<_>, String>>()
        };
        let files = ShippedDataFiles {
            payloads: decode(&self.payloads, "payload")?,
            form_files: decode(&self.form_files, "formData")?,
        };
        Ok(DataFiles::Shipped(Arc::new(files)))
    }
}

/// The error for files of `total` bytes over `limit`: `what` (which says what they are, ending in
/// "come(s) to"), the total, the limit, and, when `what` does not name the file, the five biggest
/// of `sizes` (bytes, name).
fn over_limit(
    what: &str,
    total: u64,
    limit: u64,
    mut sizes: Vec<(u64, String)>,
    name_biggest: bool,
) -> String {
    let mut out =
        format!("{what} {}, over the {} a distributed run ships to its workers", size(total), size(limit));
    if name_biggest {
        sizes.sort_by(|a, b| b.0.cmp(&a.0).then_with(|| a.1.cmp(&b.1)));
        let biggest: Vec<String> = sizes.iter().take(5).map(|(n, f)| format!("{f} ({})", size(*n))).collect();
        out.push_str("; the biggest: ");
        out.push_str(&biggest.join(", "));
    }
    out
}

/// The processor at `main` and the files it needs, paths relative to the deepest folder that
/// holds them all.
pub fn bundle(main: &Path, limit: u64) -> Result<ProcessorBundle, String> {
    let files = hornet_js::dependencies(main).map_err(|e| format!("processor {e}"))?;
    let root = common_folder(&files);
    let relative = |f: &Path| f.strip_prefix(&root).unwrap_or(f).to_string_lossy().replace('\\', "/");
    let sizes: Vec<(u64, String)> =
        files.iter().map(|f| (std::fs::metadata(f).map_or(0, |m| m.len()), relative(f))).collect();
    let total: u64 = sizes.iter().map(|(n, _)| n).sum();
    if total > limit {
        let what = format!(
            "the processor {} and the files it needs ({} files) come to",
            main.display(),
            files.len()
        );
        return Err(over_limit(&what, total, limit, sizes, true));
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

    /// A script in a fresh folder with two payload files and a `formData` file, read as a
    /// controller reads it.
    fn controller_side(users: &str, more: &str) -> (tempfile::TempDir, PlanSource, Plan) {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "users.csv", users.as_bytes());
        write(dir.path(), "more/ids.csv", more.as_bytes());
        write(dir.path(), "photo.bin", b"\x89PNG");
        write(
            dir.path(),
            "s.yaml",
            b"config:\n  target: http://127.0.0.1:1\n  payload:\n    - { path: users.csv, fields: [user] }\n    \
              - { path: more/ids.csv, fields: [id], cast: false }\nscenarios:\n  - flow:\n      - post:\n          \
              url: /up\n          formData: { photo: { fromFile: photo.bin } }\n",
        );
        let opts = LoadOptions { data_files: DataFiles::DiskKept, ..Default::default() };
        let script = dir.path().join("s.yaml");
        let plan = hornet_script::load_file(&script, &opts).unwrap();
        let source = PlanSource::read(&[script], &opts).unwrap();
        (dir, source, plan)
    }

    #[test]
    fn a_worker_builds_the_data_files_from_the_shipped_bytes_alone_with_the_controllers_hash() {
        let (dir, mut source, mut plan) = controller_side("ann\nbo\n", "007\n");
        source.ship_data_files(&mut plan, MAX_PAYLOAD_BYTES).unwrap();
        assert!(plan.payloads.iter().all(|p| p.data.is_none()), "the bytes moved to the plan source");
        let names: Vec<&str> = source.payloads.iter().map(|p| p.path.as_str()).collect();
        let users = dir.path().join("users.csv");
        assert_eq!(
            names,
            [users.display().to_string(), dir.path().join("more/ids.csv").display().to_string()]
        );
        let photo = dir.path().join("photo.bin").display().to_string();
        assert_eq!(source.form_files.len(), 1);
        assert_eq!(source.form_files[0].path, photo);
        assert!(plan.kept_form_files.is_empty(), "the bytes moved to the plan source");
        let hash = source.hash(&plan);

        // The worker's side: the files on disk are gone (and would differ), its plan is the same.
        std::fs::write(&users, "other\n").unwrap();
        std::fs::remove_file(dir.path().join("more/ids.csv")).unwrap();
        let mut worker = source.clone();
        worker.options.data_files = worker.shipped_data_files().unwrap();
        let built = worker.build(None).unwrap();
        assert_eq!(
            *built.payloads[0].rows,
            vec![vec![serde_json::json!("ann")], vec![serde_json::json!("bo")]]
        );
        assert_eq!(*built.payloads[1].rows, vec![vec![serde_json::json!("007")]]);
        std::fs::remove_file(dir.path().join("photo.bin")).unwrap();
        let built = worker.build(None).unwrap();
        let hornet_script::plan::Step::Request(step) = &built.scenarios[0].flow[0] else {
            panic!("a request")
        };
        let Some(hornet_script::plan::Body::Multipart(parts)) = &step.body else {
            panic!("a multipart body")
        };
        let hornet_script::plan::FormPart::File { path, shipped, .. } = &parts[0].1 else {
            panic!("a file part")
        };
        assert_eq!((path.display().to_string(), shipped.as_deref()), (photo, Some(&b"\x89PNG"[..])));
        assert_eq!(worker.hash(&built), hash);

        // Other bytes are another plan.
        let mut other = source.clone();
        other.form_files[0].data = base64::engine::general_purpose::STANDARD.encode("GIF8");
        other.options.data_files = other.shipped_data_files().unwrap();
        let built = other.build(None).unwrap();
        assert_ne!(other.hash(&built), hash);
        let mut other = source.clone();
        other.payloads[1].data = base64::engine::general_purpose::STANDARD.encode("008\n");
        other.options.data_files = other.shipped_data_files().unwrap();
        let built = other.build(None).unwrap();
        assert_ne!(other.hash(&built), hash);
        other.payloads[0].data = "not base64!".into();
        let err = other.shipped_data_files().unwrap_err();
        assert!(err.starts_with(&format!("the payload file `{}` arrived damaged", users.display())), "{err}");
    }

    #[test]
    fn data_files_over_the_limit_are_named_with_the_limit() {
        let (dir, mut source, mut plan) = controller_side(&"a\n".repeat(1000), "1\n");
        let err = source.ship_data_files(&mut plan, 1024).unwrap_err();
        let users = dir.path().join("users.csv").display().to_string();
        let ids = dir.path().join("more/ids.csv").display().to_string();
        let photo = dir.path().join("photo.bin").display().to_string();
        assert_eq!(
            err,
            format!(
                "the payload and `formData` files (3 files) come to 2.0 KiB, over the 1.0 KiB a \
                 distributed run ships to its workers; the biggest: {users} (2.0 KiB), {photo} (4 bytes), \
                 {ids} (2 bytes)"
            )
        );
        assert!(source.payloads.is_empty());

        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "big.csv", &b"x\n".repeat(600));
        write(dir.path(), "s.yaml", b"config:\n  target: http://127.0.0.1:1\n  payload: { path: big.csv, fields: [x] }\nscenarios:\n  - flow: [ {think: 1} ]\n");
        let script = dir.path().join("s.yaml");
        let kept = LoadOptions { data_files: DataFiles::DiskKept, ..Default::default() };
        let mut plan = hornet_script::load_file(&script, &kept).unwrap();
        let mut source = PlanSource::read(std::slice::from_ref(&script), &kept).unwrap();
        let err = source.ship_data_files(&mut plan, 1024).unwrap_err();
        let big = dir.path().join("big.csv").display().to_string();
        assert_eq!(
            err,
            format!(
                "the payload file {big} comes to 1.2 KiB, over the 1.0 KiB a distributed run ships to its workers"
            )
        );
        // A plan read without keeping the bytes cannot be shipped (the file is not read again).
        let mut plan = hornet_script::load_file(&script, &LoadOptions::default()).unwrap();
        let err = source.ship_data_files(&mut plan, MAX_PAYLOAD_BYTES).unwrap_err();
        assert!(err.contains("was loaded without its bytes"), "{err}");
    }

    #[test]
    fn the_shipped_environment_is_in_the_hash_and_its_values_stay_out_of_debug() {
        let (_dir, source, plan) = controller_side("ann\n", "1\n");
        let mut shipped = source.clone();
        shipped.env = hornet_script::ShippedEnv::new([("API_KEY".to_string(), "hunter2".to_string())]);
        assert_ne!(shipped.hash(&plan), source.hash(&plan));
        let mut other = shipped.clone();
        other.env = hornet_script::ShippedEnv::new([("API_KEY".to_string(), "hunter3".to_string())]);
        assert_ne!(other.hash(&plan), shipped.hash(&plan));
        let shown = format!("{shipped:?}");
        assert!(shown.contains("API_KEY") && !shown.contains("hunter2"), "{shown}");
        // What a worker reads: the shipped value over its own environment, its own for the rest.
        assert_eq!(shipped.env.var("API_KEY").as_deref(), Some("hunter2"));
        assert_eq!(shipped.env.var("PATH"), std::env::var("PATH").ok());
    }

    #[test]
    fn the_processor_and_the_files_it_requires_are_in_the_hash() {
        let dir = tempfile::tempdir().unwrap();
        write(dir.path(), "s.yaml", b"config:\n  target: http://127.0.0.1:1\n  processor: p.js\nscenarios:\n  - flow:\n      - function: f\n");
        write(dir.path(), "lib.js", b"module.exports = 1;\n");
        let hash_with = |processor: &[u8]| {
            write(dir.path(), "p.js", processor);
            let script = dir.path().join("s.yaml");
            let plan = hornet_script::load_file(&script, &LoadOptions::default()).unwrap();
            let mut source = PlanSource::read(&[script], &LoadOptions::default()).unwrap();
            source.ship_processor(&plan, MAX_PROCESSOR_BYTES).unwrap();
            source.hash(&plan)
        };
        let first = hash_with(b"require('./lib');\nexports.f = (c, e, done) => done();\n");
        assert_eq!(hash_with(b"require('./lib');\nexports.f = (c, e, done) => done();\n"), first);
        assert_ne!(hash_with(b"require('./lib');\nexports.f = (c, e, done) => { done(); };\n"), first);
        // A file the processor requires counts too.
        write(dir.path(), "lib.js", b"module.exports = 2;\n");
        assert_ne!(hash_with(b"require('./lib');\nexports.f = (c, e, done) => done();\n"), first);
    }
}
