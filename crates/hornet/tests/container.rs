//! hornet's container image, for real with podman: `deploy/image/build.sh` packages the binary this
//! test suite built (its `--binary` option: no release build here) into image storage of the test's
//! own, and `deploy/image/run.sh` runs it: `hornet --version`, `hornet demo`, and the Kubernetes
//! manifests' controller with two workers on the host network against a recording target on
//! loopback. `podman kube play` runs Pods, Deployments and PersistentVolumeClaims, not Jobs or
//! Services: it plays the manifests' claim (a podman volume), and the Jobs run as the equivalent
//! containers: each Job's arguments and mounts, the ConfigMap's and the Secret's keys as files, the
//! claim's volume, the Service's name as a host alias.
//!
//! Skips with the reason where podman cannot run containers; fails instead under `CI`.

mod common;

use std::collections::BTreeSet;
use std::ffi::OsString;
use std::io::{BufRead, BufReader};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::sync::mpsc::{Receiver, channel};
use std::time::{Duration, Instant};

use hornet_target::{RunningTarget, TargetOptions};
use hornet_testkit::kube::{Manifest, manifest_dir, read_manifests};
use serde_json::Value;

const TEST: &str = "the_image_runs_version_demo_and_the_manifests_distributed_run";

/// The script the test puts in the ConfigMap's place: 30 arrivals in 2 s, then 15/s for 2 s (60
/// arrivals), two requests each.
const SCRIPT: &str = r#"
config:
  target: TARGET
  phases:
    - duration: 2
      arrivalCount: 30
    - duration: 2
      arrivalRate: 15
scenarios:
  - flow:
      - get:
          url: "/"
      - get:
          url: "/json"
"#;

fn repo() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

/// podman and buildah with image storage of this test's own (vfs: no kernel overlay support needed),
/// removed at the end with every container the test labelled.
struct Podman {
    dir: tempfile::TempDir,
    storage_conf: PathBuf,
    label: String,
}

impl Podman {
    /// `None` (after printing why) where podman cannot work here; panics under `CI`.
    fn new() -> Option<Podman> {
        let install = "apt-get install -y buildah podman runc";
        hornet_testkit::require_tool(TEST, &[], &["podman"], install)?;
        hornet_testkit::require_tool(TEST, &[], &["buildah"], install)?;
        let dir = tempfile::tempdir().expect("tempdir");
        let storage_conf = dir.path().join("storage.conf");
        let root = dir.path().join("storage");
        let conf = format!(
            "[storage]\ndriver = \"vfs\"\ngraphroot = \"{}\"\nrunroot = \"{}\"\n",
            root.join("graph").display(),
            root.join("run").display()
        );
        std::fs::write(&storage_conf, conf).expect("write storage.conf");
        let podman = Podman { dir, storage_conf, label: format!("hornet-test={}", std::process::id()) };
        for tool in ["podman", "buildah"] {
            let info = podman.command(tool).arg("info").output().expect("run info");
            if !info.status.success() {
                let why = format!("`{tool} info` fails: {}", String::from_utf8_lossy(&info.stderr).trim());
                return hornet_testkit::require(TEST, Err(why));
            }
        }
        Some(podman)
    }

    fn command(&self, program: impl AsRef<std::ffi::OsStr>) -> Command {
        let mut c = Command::new(program);
        c.env("CONTAINERS_STORAGE_CONF", &self.storage_conf).stdin(Stdio::null());
        c
    }

    /// A folder for the test's files, under the test's temporary folder.
    fn folder(&self, name: &str) -> PathBuf {
        let p = self.dir.path().join(name);
        std::fs::create_dir_all(&p).expect("create folder");
        p
    }

    /// `deploy/image/run.sh --rm --label L --name NAME OPTIONS... IMAGE ARGS...`.
    fn run(&self, name: &str, options: &[OsString], image: &str, args: &[String]) -> Command {
        let mut c = self.command(repo().join("deploy/image/run.sh"));
        c.args(["--rm", "--label", &self.label, "--name", &format!("{name}-{}", std::process::id())]);
        c.args(options).arg(image).args(args);
        c
    }
}

impl Drop for Podman {
    fn drop(&mut self) {
        // Containers still running after a failure, then the images: podman removes what it wrote
        // (layers may belong to another user in a rootless set-up), the folder goes after.
        let filter = format!("label={}", self.label);
        if let Ok(out) = self.command("podman").args(["ps", "-aq", "--filter", &filter]).output() {
            let ids: Vec<String> =
                String::from_utf8_lossy(&out.stdout).split_whitespace().map(str::to_owned).collect();
            if !ids.is_empty() {
                let _ = self.command("podman").args(["rm", "-f", "-t", "0"]).args(&ids).output();
            }
        }
        let _ = self.command("podman").args(["rmi", "-a", "-f"]).output();
        let _ = self.command("podman").args(["volume", "rm", "-a", "-f"]).output();
    }
}

fn text(out: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&out.stdout), String::from_utf8_lossy(&out.stderr))
}

/// A child whose stderr lines arrive on a channel.
struct Spawned {
    child: Child,
    lines: Receiver<String>,
    seen: Vec<String>,
}

impl Spawned {
    fn new(mut cmd: Command) -> Spawned {
        let mut child = cmd.stdout(Stdio::null()).stderr(Stdio::piped()).spawn().expect("spawn run.sh");
        let err = child.stderr.take().expect("stderr");
        let (tx, lines) = channel();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Spawned { child, lines, seen: Vec::new() }
    }

    fn wait_line(&mut self, needle: &str, limit: Duration) -> bool {
        let deadline = Instant::now() + limit;
        while let Ok(line) = self.lines.recv_timeout(deadline.saturating_duration_since(Instant::now())) {
            let found = line.contains(needle);
            self.seen.push(line);
            if found {
                return true;
            }
        }
        false
    }

    /// The exit code within `limit`, else `None` (the child is then killed; Podman's drop removes
    /// the container).
    fn exit_within(&mut self, limit: Duration) -> Option<i32> {
        let deadline = Instant::now() + limit;
        let code = loop {
            if let Ok(Some(status)) = self.child.try_wait() {
                break status.code();
            }
            if Instant::now() > deadline {
                let _ = self.child.kill();
                let _ = self.child.wait();
                break None;
            }
            std::thread::sleep(Duration::from_millis(50));
        };
        // The reader thread ends with the pipe; collect what it read.
        std::thread::sleep(Duration::from_millis(50));
        self.seen.extend(self.lines.try_iter());
        code
    }
}

/// The arrivals a script's phases make, as `hornet validate` counts them.
fn expected_arrivals(script: &str, name: &str) -> u64 {
    let opts = hornet_script::LoadOptions { target: Some("http://127.0.0.1:1".into()), ..Default::default() };
    let plan = hornet_script::parse_str(script, name, &opts).unwrap_or_else(|e| panic!("{name}: {e}"));
    hornet_schedule::Schedule::new(&plan.phases).expected_arrivals()
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).map(|a| a.port()).expect("free port")
}

/// The `-v` options and files that stand for a pod's volumes: a ConfigMap's or Secret's keys become
/// files of a read-only folder (a ConfigMap's `test.yaml` replaced by `script`), a claim the podman
/// volume `podman kube play` made of it, and an emptyDir a folder the image's user may write.
fn mounts(podman: &Podman, all: &[Manifest], pod: &Value, container: &Value, script: &str) -> Vec<OsString> {
    let volumes = pod["volumes"].as_array().map(Vec::as_slice).unwrap_or_default();
    let mut options = Vec::new();
    for mount in container["volumeMounts"].as_array().map(Vec::as_slice).unwrap_or_default() {
        let name = mount["name"].as_str().expect("mount name");
        let volume = volumes.iter().find(|v| v["name"] == name).expect("volume");
        let target = mount["mountPath"].as_str().expect("mountPath");
        if let Some(claim) = volume["persistentVolumeClaim"]["claimName"].as_str() {
            options.extend([OsString::from("-v"), OsString::from(format!("{claim}:{target}"))]);
            continue;
        }
        let host = podman.folder(&format!("volumes/{name}"));
        let (source, field) = if let Some(map) = volume["configMap"]["name"].as_str() {
            (Some(("ConfigMap", map)), "data")
        } else if let Some(secret) = volume["secret"]["secretName"].as_str() {
            (Some(("Secret", secret)), "stringData")
        } else {
            (None, "")
        };
        let read_only = match source {
            Some((kind, source)) => {
                let manifest = all.iter().find(|m| m.kind() == kind && m.name() == source).expect("source");
                for (key, value) in manifest.doc[field].as_object().expect("keys") {
                    let value = if kind == "ConfigMap" && key == "test.yaml" {
                        script
                    } else {
                        value.as_str().expect("text")
                    };
                    std::fs::write(host.join(key), value).expect("write key");
                }
                true
            }
            None => {
                use std::os::unix::fs::PermissionsExt;
                std::fs::set_permissions(&host, std::fs::Permissions::from_mode(0o777)).expect("chmod");
                false
            }
        };
        let mut option = OsString::from(format!("{}:{target}", host.display()));
        if read_only {
            option.push(":ro");
        }
        options.extend([OsString::from("-v"), option]);
    }
    options
}

/// The pod spec and the one container of the Job named `name`.
fn job<'a>(all: &'a [Manifest], name: &str) -> (&'a Manifest, &'a Value, &'a Value) {
    let job = all.iter().find(|m| m.kind() == "Job" && m.name() == name).expect("job");
    let pod = job.pod_spec().expect("pod spec");
    (job, pod, &pod["containers"][0])
}

fn args_of(container: &Value) -> Vec<String> {
    container["args"]
        .as_array()
        .expect("args")
        .iter()
        .map(|a| a.as_str().expect("string arg").to_owned())
        .collect()
}

#[test]
fn the_image_runs_version_demo_and_the_manifests_distributed_run() {
    let Some(podman) = Podman::new() else { return };
    let started = Instant::now();
    let binary = env!("CARGO_BIN_EXE_hornet");

    // The image, under the name build.sh gives by default: the one the manifests use.
    let build = podman
        .command(repo().join("deploy/image/build.sh"))
        .args(["--binary", binary])
        .output()
        .expect("build.sh");
    assert!(build.status.success(), "build.sh: {}", text(&build));
    let image = String::from_utf8_lossy(&build.stdout).lines().last().unwrap_or_default().to_owned();
    assert_eq!(image, format!("localhost/hornet:{}", env!("CARGO_PKG_VERSION")));

    // The image holds the binary, the libraries ldd lists for it, the CA bundle and the user files.
    let inspect = podman.command("podman").args(["image", "inspect", &image]).output().expect("inspect");
    assert!(inspect.status.success(), "{}", text(&inspect));
    let config: Value = serde_json::from_slice(&inspect.stdout).expect("inspect json");
    assert_eq!(config[0]["Config"]["Entrypoint"], serde_json::json!(["hornet"]));
    assert_eq!(config[0]["Config"]["User"], "10001:10001");
    let created =
        podman.command("podman").args(["create", "--label", &podman.label, &image]).output().expect("create");
    assert!(created.status.success(), "{}", text(&created));
    let id = String::from_utf8_lossy(&created.stdout).trim().to_owned();
    let tar = podman.dir.path().join("image.tar");
    let export = podman.command("podman").args(["export", "-o"]).arg(&tar).arg(&id).output().expect("export");
    assert!(export.status.success(), "{}", text(&export));
    let _ = podman.command("podman").args(["rm", &id]).output();
    let listing = Command::new("tar").arg("-tvf").arg(&tar).output().expect("tar");
    let files: BTreeSet<String> = String::from_utf8_lossy(&listing.stdout)
        .lines()
        .filter(|l| l.starts_with('-'))
        .filter_map(|l| l.split_whitespace().last().map(|p| p.trim_start_matches("./").to_owned()))
        .collect();
    let ldd = Command::new("ldd").arg(binary).output().expect("ldd");
    let libraries: BTreeSet<String> = String::from_utf8_lossy(&ldd.stdout)
        .split_whitespace()
        .filter(|w| w.starts_with('/'))
        .map(|p| p.trim_start_matches('/').to_owned())
        .collect();
    let mut expected: BTreeSet<String> = [
        "usr/local/bin/hornet",
        "etc/passwd",
        "etc/group",
        "etc/nsswitch.conf",
        "etc/ssl/certs/ca-certificates.crt",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect();
    expected.extend(libraries);
    // podman adds the files it bind-mounts at run time as empty placeholders.
    let files: BTreeSet<String> = files
        .into_iter()
        .filter(|f| {
            !["etc/hosts", "etc/resolv.conf", "etc/hostname", "run/.containerenv"].contains(&f.as_str())
        })
        .collect();
    assert_eq!(
        files, expected,
        "the image holds exactly the binary, its libraries, the CA bundle and the user files"
    );

    let version =
        podman.run("version", &[], &image, &["--version".into()]).output().expect("run.sh --version");
    if matches!(version.status.code(), Some(125..=127)) {
        // podman or the runtime could not start the container at all.
        hornet_testkit::require::<()>(
            TEST,
            Err(format!("podman cannot run containers here: {}", text(&version))),
        );
        return;
    }
    assert!(version.status.success(), "{}", text(&version));
    assert_eq!(
        String::from_utf8_lossy(&version.stdout).trim(),
        format!("hornet {}", env!("CARGO_PKG_VERSION"))
    );

    // `hornet demo` inside the container, beside the distributed run (it takes about 20 s).
    let demo_out = podman.folder("demo");
    {
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&demo_out, std::fs::Permissions::from_mode(0o777)).expect("chmod");
    }
    let demo_options = [OsString::from("-v"), OsString::from(format!("{}:/out", demo_out.display()))];
    let demo_args: Vec<String> = ["demo", "-q", "-o", "/out/report.json"].map(String::from).to_vec();
    let mut demo = Spawned::new(podman.run("demo", &demo_options, &image, &demo_args));

    // The manifests' run: the controller Job's container and two of the workers Job's.
    let target =
        RunningTarget::start_recording(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 }, false)
            .expect("start target");
    let script = SCRIPT.replace("TARGET", &target.url());
    let all = read_manifests(&manifest_dir());
    let (_, ctl_pod, ctl) = job(&all, "hornet-controller");
    let (workers_job, wrk_pod, wrk) = job(&all, "hornet-workers");
    let workers = workers_job.doc["spec"]["completions"].as_u64().expect("completions");
    assert_eq!(workers, 2, "the manifests run two workers");
    let service = all.iter().find(|m| m.kind() == "Service").expect("service");
    // What podman plays of the controller's manifest: the claim for the reports, as a volume.
    let play = podman
        .command("podman")
        .args(["kube", "play", "--start=false"])
        .arg(manifest_dir().join("controller.yaml"))
        .output()
        .expect("podman kube play");
    assert!(play.status.success(), "podman kube play: {}", text(&play));
    let claim = ctl_pod["volumes"]
        .as_array()
        .and_then(|v| v.iter().find_map(|v| v["persistentVolumeClaim"]["claimName"].as_str()))
        .expect("a claim for the reports");
    let inspect =
        podman.command("podman").args(["volume", "inspect", claim, "--format", "{{.Mountpoint}}"]).output();
    let inspect = inspect.expect("podman volume inspect");
    assert!(inspect.status.success(), "kube play made no volume {claim}: {}", text(&inspect));
    let results = PathBuf::from(String::from_utf8_lossy(&inspect.stdout).trim());
    // The arguments as the manifests give them, but for the port: on the host network a fixed
    // port could be taken, and the controller listens on loopback only.
    let port = free_port();
    let ctl_args: Vec<String> = args_of(ctl)
        .into_iter()
        .map(|a| if a.starts_with("--listen=") { format!("--listen=127.0.0.1:{port}") } else { a })
        .collect();
    let wrk_args: Vec<String> = args_of(wrk)
        .into_iter()
        .map(|a| match a.strip_prefix("--controller=").and_then(|hp| hp.rsplit_once(':')) {
            Some((host, _)) => format!("--controller={host}:{port}"),
            None => a,
        })
        .collect();
    assert_eq!(ctl_args.len(), args_of(ctl).len());
    let ctl_mounts = mounts(&podman, &all, ctl_pod, ctl, &script);
    let mut controller = Spawned::new(podman.run("controller", &ctl_mounts, &image, &ctl_args));
    assert!(
        controller.wait_line(&format!("waiting for {workers} workers"), Duration::from_secs(60)),
        "the controller did not start: {:?}",
        controller.seen
    );
    let host_alias = [OsString::from("--add-host"), OsString::from(format!("{}:127.0.0.1", service.name()))];
    let wrk_mounts = mounts(&podman, &all, wrk_pod, wrk, &script);
    let options: Vec<OsString> = host_alias.into_iter().chain(wrk_mounts).collect();
    let mut worker_runs: Vec<Spawned> = (0..workers)
        .map(|i| Spawned::new(podman.run(&format!("worker{i}"), &options, &image, &wrk_args)))
        .collect();
    let code = controller.exit_within(Duration::from_secs(120));
    let worker_codes: Vec<Option<i32>> =
        worker_runs.iter_mut().map(|w| w.exit_within(Duration::from_secs(30))).collect();
    assert_eq!(code, Some(0), "controller: {:?}", controller.seen);
    for (w, c) in worker_runs.iter().zip(&worker_codes) {
        assert_eq!(*c, Some(0), "worker: {:?}", w.seen);
    }

    // The server saw exactly the script's arrivals, two requests each, and the report says so.
    let arrivals = expected_arrivals(&script, "test.yaml");
    assert_eq!(arrivals, 60);
    let log = target.requests().expect("recording target");
    assert_eq!(log["routes"]["GET /"]["count"], arrivals, "{log}");
    assert_eq!(log["routes"]["GET /json"]["count"], arrivals, "{log}");
    assert_eq!(log["total"], 2 * arrivals, "{log}");
    let report: Value = serde_json::from_str(
        &std::fs::read_to_string(results.join("report.json")).expect("report on the results volume"),
    )
    .expect("report json");
    assert_eq!(common::counter(&report, "vusers.created"), arrivals);
    assert_eq!(common::counter(&report, "http.requests"), 2 * arrivals);
    let shares = report["workers"].as_array().expect("workers in the report");
    assert_eq!(shares.len(), 2);
    assert!(
        shares.iter().all(|w| w["state"] == "done" && w["requests"].as_u64() == Some(arrivals)),
        "{shares:?}"
    );
    assert!(results.join("report.html").is_file(), "the HTML report is on the results volume too");
    target.stop();

    let demo_code = demo.exit_within(Duration::from_secs(120));
    // 1 is the demo's own latency threshold (p99 < 500 ms) failing on a loaded machine: a timing goal,
    // which this test does not judge. The run itself must be whole.
    assert!(matches!(demo_code, Some(0 | 1)), "demo: {demo_code:?} {:?}", demo.seen);
    let demo_report: Value =
        serde_json::from_str(&std::fs::read_to_string(demo_out.join("report.json")).expect("demo report"))
            .expect("json");
    let demo_script = std::fs::read_to_string(repo().join("examples/demo.yaml")).expect("demo.yaml");
    assert_eq!(common::counter(&demo_report, "vusers.created"), expected_arrivals(&demo_script, "demo.yaml"));
    eprintln!("{TEST}: {:.1} s", started.elapsed().as_secs_f64());
}
