//! What travels as the plan: the script texts and the options that shape them, plus a hash that
//! both sides compute from what they actually loaded (payload rows included), so a worker whose CSV
//! files or version differ is refused instead of running a different test.

use std::path::{Path, PathBuf};

use hornet_script::{LoadOptions, Plan, ScriptError};

use crate::protocol::ScriptText;

/// The plan as sent to workers.
#[derive(Debug, Clone, PartialEq)]
pub struct PlanSource {
    /// The main script first, then the files it includes.
    pub scripts: Vec<ScriptText>,
    /// The command-line options that shape the plan.
    pub options: LoadOptions,
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
        Ok(PlanSource { scripts, options: opts.clone() })
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

    /// SHA-256 (hex) over the hornet version, the scripts, the options and the payload rows of `plan`.
    pub fn hash(&self, plan: &Plan) -> String {
        let payloads: Vec<_> = plan.payloads.iter().map(|p| (&p.fields, &*p.rows)).collect();
        let texts: Vec<(&str, &str)> =
            self.scripts.iter().map(|s| (s.name.as_str(), s.text.as_str())).collect();
        let doc = serde_json::json!({
            "version": env!("CARGO_PKG_VERSION"),
            "scripts": texts,
            "options": serde_json::to_value(&self.options).unwrap_or_default(),
            "payloads": payloads,
        });
        crate::auth::sha256(doc.to_string().as_bytes())
    }
}
