//! Tests that the Kubernetes manifests in `deploy/kubernetes/` fit this binary: they name the image
//! `deploy/image/build.sh` builds by default, hornet's parser accepts every argument their containers
//! pass (those left commented out for TLS too), and the pieces agree with each other: the token file
//! is a key of the mounted Secret, the script a key of the mounted ConfigMap, the workers reach the
//! controller's Service port, and as many workers run as the controller waits for.

use std::collections::BTreeSet;
use std::path::Path;

use clap::Parser;
use hornet_testkit::kube::{Manifest, commented_args, manifest_dir, read_manifests};
use serde_json::Value;

use crate::cli::{Cli, Command};

/// The image build.sh names by default: `localhost/hornet:<crate version>`.
fn default_image() -> String {
    format!("localhost/hornet:{}", env!("CARGO_PKG_VERSION"))
}

/// A container of a pod spec that runs hornet, with the manifest it is in.
struct HornetContainer<'a> {
    manifest: &'a Manifest,
    spec: &'a Value,
    container: &'a Value,
}

impl HornetContainer<'_> {
    fn args(&self) -> Vec<String> {
        let args = self.container["args"].as_array().map(Vec::as_slice).unwrap_or_default();
        args.iter()
            .map(|a| {
                a.as_str()
                    .unwrap_or_else(|| panic!("{}: every arg must be a string, not {a}", self.manifest.file))
                    .to_owned()
            })
            .collect()
    }

    fn parse(&self, extra: &[String]) -> Cli {
        let line = std::iter::once("hornet".to_owned()).chain(self.args()).chain(extra.iter().cloned());
        Cli::try_parse_from(line).unwrap_or_else(|e| {
            panic!("{}: hornet refuses the container's args {extra:?}: {e}", self.manifest.file)
        })
    }

    /// The volume mounted at the folder holding `path`, with the mount.
    fn volume_of(&self, path: &Path) -> (&Value, &Value) {
        let mounts = self.container["volumeMounts"].as_array().map(Vec::as_slice).unwrap_or_default();
        let mount = mounts
            .iter()
            .find(|m| m["mountPath"].as_str().is_some_and(|dir| path.starts_with(dir)))
            .unwrap_or_else(|| {
                panic!("{}: nothing is mounted where {} is", self.manifest.file, path.display())
            });
        let volumes = self.spec["volumes"].as_array().map(Vec::as_slice).unwrap_or_default();
        let volume = volumes
            .iter()
            .find(|v| v["name"] == mount["name"])
            .unwrap_or_else(|| panic!("{}: no volume named {}", self.manifest.file, mount["name"]));
        (mount, volume)
    }
}

fn hornet_containers(all: &[Manifest]) -> Vec<HornetContainer<'_>> {
    let mut found = Vec::new();
    for manifest in all {
        let Some(spec) = manifest.pod_spec() else { continue };
        for container in spec["containers"].as_array().map(Vec::as_slice).unwrap_or_default() {
            if container["image"].as_str().is_some_and(|i| i.contains("/hornet:")) {
                found.push(HornetContainer { manifest, spec, container });
            }
        }
    }
    found
}

fn find<'a>(all: &'a [Manifest], kind: &str, name: &str) -> &'a Manifest {
    all.iter()
        .find(|m| m.kind() == kind && m.name() == name)
        .unwrap_or_else(|| panic!("no {kind} named {name} in deploy/kubernetes"))
}

/// The text of `key` in a ConfigMap's `data` or a Secret's `stringData`.
fn key_of<'a>(manifest: &'a Manifest, key: &str) -> &'a str {
    let field = if manifest.kind() == "Secret" { "stringData" } else { "data" };
    manifest.doc[field][key].as_str().unwrap_or_else(|| {
        panic!("{}: {} {} has no {field}.{key}", manifest.file, manifest.kind(), manifest.name())
    })
}

/// The file a mounted ConfigMap or Secret volume shows at `path`: its text.
fn mounted_file<'a>(all: &'a [Manifest], c: &HornetContainer, path: &Path) -> &'a str {
    let (mount, volume) = c.volume_of(path);
    let key = path
        .strip_prefix(mount["mountPath"].as_str().unwrap_or_default())
        .ok()
        .and_then(|p| p.to_str())
        .unwrap_or_default();
    if let Some(name) = volume["configMap"]["name"].as_str() {
        key_of(find(all, "ConfigMap", name), key)
    } else if let Some(name) = volume["secret"]["secretName"].as_str() {
        key_of(find(all, "Secret", name), key)
    } else {
        panic!(
            "{}: {} is on volume {volume}, neither a ConfigMap nor a Secret",
            c.manifest.file,
            path.display()
        )
    }
}

#[test]
fn the_manifests_run_the_image_build_sh_builds_with_arguments_hornet_accepts() {
    let dir = manifest_dir();
    let all = read_manifests(&dir);
    let containers = hornet_containers(&all);
    assert_eq!(containers.len(), 2, "a controller and a worker container");
    let (mut controller, mut worker) = (None, None);
    for c in &containers {
        assert_eq!(c.container["image"], default_image(), "{}", c.manifest.file);
        let text = std::fs::read_to_string(dir.join(&c.manifest.file)).expect("manifest");
        let commented = commented_args(&text);
        assert!(!commented.is_empty(), "{}: the TLS options are there to uncomment", c.manifest.file);
        c.parse(&commented);
        match c.parse(&[]).command {
            Command::Controller(args) => controller = Some((c, args)),
            Command::Worker(args) => worker = Some((c, args)),
            other => panic!("{}: runs {other:?}", c.manifest.file),
        }
    }
    let (ctl, ctl_args) = controller.expect("a controller container");
    let (wrk, wrk_args) = worker.expect("a worker container");

    // The token both read is the Secret's.
    for (c, token) in [(ctl, &ctl_args.token.token_file), (wrk, &wrk_args.token.token_file)] {
        let token = token.as_deref().expect("--token-file");
        assert!(!mounted_file(&all, c, token).is_empty(), "{}: empty token", c.manifest.file);
    }
    // The script is the ConfigMap's, a valid one (workers get its files with the plan; their
    // --script-dir is the ConfigMap's folder all the same).
    let script = &ctl_args.run.script.scripts;
    assert_eq!(script.len(), 1);
    let text = mounted_file(&all, ctl, &script[0]);
    if let Err(e) =
        hornet_script::parse_str(text, "hornet-script test.yaml", &hornet_script::LoadOptions::default())
    {
        panic!("the ConfigMap's script does not load: {e}");
    }
    let script_dir = wrk_args.script_dir.as_deref().expect("--script-dir");
    assert_eq!(Some(script_dir), script[0].parent(), "--script-dir is the script's folder");
    assert_eq!(wrk.volume_of(&script[0]).1["configMap"], ctl.volume_of(&script[0]).1["configMap"]);
    // Reports go to a writable volume that outlives the pod.
    let output = ctl_args.run.load.output.as_deref().expect("--output");
    let (mount, volume) = ctl.volume_of(output);
    assert_ne!(mount["readOnly"], true);
    let claim =
        volume["persistentVolumeClaim"]["claimName"].as_str().expect("reports on a PersistentVolumeClaim");
    find(&all, "PersistentVolumeClaim", claim);

    // Workers reach the controller through its Service, on the port it listens on.
    let service = find(&all, "Service", "hornet-controller");
    let port = &service.doc["spec"]["ports"][0];
    assert_eq!(port["port"], ctl_args.listen.port());
    assert_eq!(port["targetPort"], ctl_args.listen.port());
    assert_eq!(wrk_args.controller, format!("{}:{}", service.name(), ctl_args.listen.port()));
    let selector = &service.doc["spec"]["selector"];
    let labels = &ctl.manifest.doc["spec"]["template"]["metadata"]["labels"];
    assert!(
        selector.as_object().is_some_and(|s| s.iter().all(|(k, v)| &labels[k] == v)),
        "{selector} {labels}"
    );
    // As many workers as the controller waits for.
    let workers = &wrk.manifest.doc["spec"];
    assert_eq!(workers["completions"], ctl_args.workers);
    assert_eq!(workers["parallelism"], ctl_args.workers);
}

#[test]
fn every_mounted_volume_exists_and_kustomize_applies_the_run_with_the_default_image() {
    let all = read_manifests(&manifest_dir());
    for manifest in &all {
        let Some(spec) = manifest.pod_spec() else { continue };
        let volumes = spec["volumes"].as_array().map(Vec::as_slice).unwrap_or_default();
        for container in spec["containers"].as_array().map(Vec::as_slice).unwrap_or_default() {
            for mount in container["volumeMounts"].as_array().map(Vec::as_slice).unwrap_or_default() {
                assert!(volumes.iter().any(|v| v["name"] == mount["name"]), "{}: {mount}", manifest.file);
            }
        }
        for volume in volumes {
            if let Some(name) = volume["configMap"]["name"].as_str() {
                find(&all, "ConfigMap", name);
            }
            if let Some(name) = volume["secret"]["secretName"].as_str() {
                find(&all, "Secret", name);
            }
            if let Some(name) = volume["persistentVolumeClaim"]["claimName"].as_str() {
                find(&all, "PersistentVolumeClaim", name);
            }
        }
    }
    let kustomization = all.iter().find(|m| m.kind() == "Kustomization").expect("kustomization.yaml");
    let listed: BTreeSet<&str> = kustomization.doc["resources"]
        .as_array()
        .expect("resources")
        .iter()
        .filter_map(Value::as_str)
        .collect();
    // Everything but the Secret's placeholder (created with a random token instead), the reader pod
    // (applied after the run) and the kustomization itself.
    let expected: BTreeSet<&str> = all
        .iter()
        .map(|m| m.file.as_str())
        .filter(|f| !["secret.yaml", "results-reader.yaml", "kustomization.yaml"].contains(f))
        .collect();
    assert_eq!(listed, expected);
    let image = &kustomization.doc["images"][0];
    assert_eq!(
        format!(
            "{}:{}",
            image["name"].as_str().unwrap_or_default(),
            image["newTag"].as_str().unwrap_or_default()
        ),
        default_image()
    );
}
