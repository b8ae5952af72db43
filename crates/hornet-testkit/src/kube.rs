//! The Kubernetes manifests of `deploy/kubernetes/` as the tests read them: every YAML document of
//! every file, the pod spec of a Pod or of a workload's template, and the lines a manifest leaves
//! commented out for the user to enable.

use std::path::{Path, PathBuf};

use serde_json::Value;

/// The folder of the manifests, from the repository's root.
pub fn manifest_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../deploy/kubernetes")
}

/// One YAML document of a manifest file.
#[derive(Debug, Clone)]
pub struct Manifest {
    /// The file's name (`controller.yaml`).
    pub file: String,
    /// The document.
    pub doc: Value,
}

impl Manifest {
    /// `kind`, or "" when the document has none.
    pub fn kind(&self) -> &str {
        self.doc["kind"].as_str().unwrap_or_default()
    }

    /// `metadata.name`, or "".
    pub fn name(&self) -> &str {
        self.doc["metadata"]["name"].as_str().unwrap_or_default()
    }

    /// The pod spec: a Pod's `spec`, or the `spec.template.spec` of a Job, Deployment, StatefulSet...
    pub fn pod_spec(&self) -> Option<&Value> {
        match self.kind() {
            "Pod" => self.doc.get("spec"),
            _ => self.doc.pointer("/spec/template/spec"),
        }
    }
}

/// Every document of every `*.yaml` file in `dir`, files in name order; panics naming the file and
/// the parser's message (line, column) on YAML that does not parse.
pub fn read_manifests(dir: &Path) -> Vec<Manifest> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .filter_map(|entry| entry.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "yaml"))
        .collect();
    files.sort();
    let mut manifests = Vec::new();
    for path in files {
        let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let docs: Vec<Value> =
            serde_saphyr::from_multiple(&text).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        let file = path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
        manifests.extend(
            docs.into_iter().filter(|d| !d.is_null()).map(|doc| Manifest { file: file.clone(), doc }),
        );
    }
    manifests
}

/// The list items a file leaves commented out under `args:` for the user to enable
/// (`            # - --tls-ca=/tls/tls.crt` gives `--tls-ca=/tls/tls.crt`): options, starting with `-`.
pub fn commented_args(text: &str) -> Vec<String> {
    text.lines()
        .filter_map(|line| line.trim_start().strip_prefix("# - "))
        .map(str::trim)
        .filter(|item| item.starts_with('-'))
        .map(str::to_owned)
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_every_document_and_finds_pod_specs() {
        let temp = tempfile::tempdir().unwrap();
        let dir = temp.path();
        std::fs::write(
            dir.join("a.yaml"),
            "kind: Service\nmetadata: { name: s }\n---\nkind: Job\nmetadata: { name: j }\nspec:\n  template:\n    spec:\n      containers: [{ name: c, args: [run, --quiet] }]\n",
        )
        .unwrap();
        std::fs::write(dir.join("b.yaml"), "kind: Pod\nmetadata: { name: p }\nspec: { containers: [] }\n")
            .unwrap();
        std::fs::write(dir.join("notes.txt"), "not: a manifest").unwrap();
        let all = read_manifests(dir);
        let names: Vec<(&str, &str, &str)> =
            all.iter().map(|m| (m.file.as_str(), m.kind(), m.name())).collect();
        assert_eq!(names, [("a.yaml", "Service", "s"), ("a.yaml", "Job", "j"), ("b.yaml", "Pod", "p")]);
        assert!(all[0].pod_spec().is_none());
        assert_eq!(all[1].pod_spec().unwrap()["containers"][0]["args"][1], "--quiet");
        assert!(all[2].pod_spec().unwrap()["containers"].is_array());
    }

    #[test]
    fn commented_args_are_the_options_left_for_the_user() {
        let text = "args:\n  - worker\n  # TLS: uncomment below.\n  # - --tls-ca=/tls/tls.crt\n# - { name: tls, mountPath: /tls }\n";
        assert_eq!(commented_args(text), ["--tls-ca=/tls/tls.crt"]);
    }
}
