//! Command-line interface definitions.

use std::net::SocketAddr;
use std::path::PathBuf;

use clap::{Args, Parser, Subcommand};

/// hornet: load tests from Artillery-style scripts, at wrk-like cost, with honest latency.
#[derive(Debug, Parser)]
#[command(name = "hornet", version, about, propagate_version = true)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run a test script.
    Run(RunArgs),
    /// Find the most load the system takes within an objective (see docs/capacity.md).
    Capacity(CapacityArgs),
    /// Serve the live web UI for a script and wait for Start (runs until Ctrl-C).
    Ui(UiArgs),
    /// Check a script without sending anything.
    Validate(ValidateArgs),
    /// A one-off test of one URL, like oha or hey.
    Quick(QuickArgs),
    /// Start the embedded target and run the bundled demo script against it (about 20 s).
    Demo(DemoArgs),
    /// Run the embedded target server on its own (for trying scripts and benchmarks).
    Target(TargetArgs),
    /// Print the summary of a JSON report again and write other formats from it.
    Report(ReportArgs),
    /// Compare two JSON reports endpoint by endpoint; exit code 1 when the candidate is worse.
    Compare(CompareArgs),
    /// Run a test across several `hornet worker` processes (see docs/distributed.md).
    Controller(ControllerArgs),
    /// Generate one share of a controller's test.
    Worker(WorkerArgs),
    /// Print the shell completion script for SHELL (bash, zsh, fish, elvish, powershell).
    Completions(CompletionsArgs),
    /// Print hornet's man page (roff), or write one page per command into a folder.
    Man(ManArgs),
    /// Turn a recording into a script (see docs/import.md).
    Import(ImportArgs),
}

impl Command {
    /// The dotenv file (`--dotenv`) of a command that reads one.
    pub fn dotenv(&self) -> Option<&std::path::Path> {
        match self {
            Command::Run(a) | Command::Controller(ControllerArgs { run: a, .. }) => {
                a.script.dotenv.as_deref()
            }
            Command::Capacity(a) => a.script.dotenv.as_deref(),
            Command::Ui(a) => a.script.dotenv.as_deref(),
            Command::Validate(a) => a.script.dotenv.as_deref(),
            Command::Worker(a) => a.dotenv.as_deref(),
            _ => None,
        }
    }
}

#[derive(Debug, Args)]
pub struct CompletionsArgs {
    /// The shell to complete for.
    #[arg(value_enum)]
    pub shell: clap_complete::Shell,
}

#[derive(Debug, Args)]
pub struct ManArgs {
    /// Write hornet.1 and one page per command (hornet-run.1, ...) into this folder instead of
    /// printing hornet.1.
    #[arg(long, value_name = "DIR")]
    pub dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ImportArgs {
    #[command(subcommand)]
    pub format: ImportFormat,
}

#[derive(Debug, Subcommand)]
pub enum ImportFormat {
    /// A HAR file saved from the browser's DevTools: one scenario, tokens correlated.
    Har(ImportHarArgs),
}

#[derive(Debug, Args)]
pub struct ImportHarArgs {
    /// The recording (HAR 1.1 or 1.2).
    pub recording: PathBuf,
    /// Where to write the script (default: standard output).
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Keep the requests to this host though it is outside the application's site (repeatable;
    /// `host`, `host:port`, or a parent domain).
    #[arg(long = "include-host", value_name = "HOST")]
    pub include_hosts: Vec<String>,
    /// Leave out the requests whose URL contains this pattern (`*` matches any text; repeatable).
    #[arg(long, value_name = "PATTERN")]
    pub exclude: Vec<String>,
    /// The script's config.target instead of the recorded origin.
    #[arg(long, value_name = "URL")]
    pub target: Option<String>,
    /// Pauses: `recorded` (from the recording), `none`, or a number of seconds between pages.
    #[arg(long, value_name = "recorded|none|SECONDS", default_value = "recorded")]
    pub think: hornet_import::Think,
    /// Replay the script once against the target and report each request whose status differs
    /// from the recording (exit code 1 when one does).
    #[arg(long)]
    pub check: bool,
    /// With --check: accept invalid or self-signed TLS certificates.
    #[arg(short = 'k', long)]
    pub insecure: bool,
}

/// The shared token of a cluster: `--token-file`, else `HORNET_CLUSTER_TOKEN`.
#[derive(Debug, Args)]
pub struct TokenArgs {
    /// File holding the shared cluster token (required when the controller listens beyond loopback).
    #[arg(long, value_name = "FILE")]
    pub token_file: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct ControllerArgs {
    #[command(flatten)]
    pub run: RunArgs,
    /// How many workers to wait for before starting.
    #[arg(long, value_name = "N")]
    pub workers: usize,
    /// Where workers connect.
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:7070")]
    pub listen: SocketAddr,
    #[command(flatten)]
    pub token: TokenArgs,
    /// Serve the workers over TLS with this certificate chain (PEM); needs --tls-key.
    #[arg(long, value_name = "FILE", requires = "tls_key")]
    pub tls_cert: Option<PathBuf>,
    /// The private key of --tls-cert (PEM).
    #[arg(long, value_name = "FILE", requires = "tls_cert")]
    pub tls_key: Option<PathBuf>,
    /// How long to wait for the workers to join, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 300)]
    pub join_timeout: u64,
}

#[derive(Debug, Args)]
pub struct WorkerArgs {
    /// The controller, host:port.
    #[arg(long, value_name = "HOST:PORT")]
    pub controller: String,
    #[command(flatten)]
    pub token: TokenArgs,
    /// Connect over TLS, trusting the public web PKI roots.
    #[arg(long)]
    pub tls: bool,
    /// Connect over TLS, trusting the CA certificates in this PEM file (the controller's own
    /// certificate when it is self-signed).
    #[arg(long, value_name = "FILE")]
    pub tls_ca: Option<PathBuf>,
    /// The name the controller's certificate must carry, when it differs from the host of
    /// --controller.
    #[arg(long, value_name = "NAME")]
    pub tls_server_name: Option<String>,
    /// Worker threads (default: the controller's --threads, else one per core; at most 1024).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = thread_count)]
    pub threads: usize,
    /// This worker's share of the load relative to the other workers: a worker of weight 2 runs
    /// twice the arrivals, users and request rate of one of weight 1.
    #[arg(long, value_name = "N", default_value_t = 1, value_parser = clap::value_parser!(u32).range(1..=i64::from(hornet_cluster::MAX_WEIGHT)))]
    pub weight: u32,
    /// Read environment variables (`KEY=VALUE` lines) from this dotenv file at start, as `hornet
    /// run --dotenv` does, for the names the controller's --dotenv does not set (those travel
    /// with the plan and win).
    #[arg(long = "dotenv", visible_alias = "env-file", value_name = "FILE")]
    pub dotenv: Option<PathBuf>,
    /// Accepted for older command lines; nothing is read from it (the processor, CSV payloads and
    /// formData files come with the plan).
    #[arg(long, value_name = "DIR")]
    pub script_dir: Option<PathBuf>,
    /// How long to keep trying to reach the controller, in seconds.
    #[arg(long, value_name = "SECONDS", default_value_t = 60)]
    pub connect_timeout: u64,
}

#[derive(Debug, Args)]
pub struct ReportArgs {
    /// A JSON report written with -o.
    pub report: PathBuf,
    #[command(flatten)]
    pub outputs: OutputArgs,
}

#[derive(Debug, Args)]
pub struct CompareArgs {
    /// The reference run (JSON report).
    pub baseline: PathBuf,
    /// The run to judge (JSON report).
    pub candidate: PathBuf,
    /// Smallest relative change that counts as better or worse, e.g. 10% or 0.1.
    #[arg(long, default_value = "10%")]
    pub threshold: String,
    /// Also write the comparison as an HTML page.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
}

/// Options shared by every command that generates load.
#[derive(Debug, Args, Default)]
pub struct LoadArgs {
    /// Write the JSON report to this file.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Seed for scenario choice and random picks (printed and saved in the report).
    #[arg(long)]
    pub seed: Option<u64>,
    /// No live progress; the summary is still printed.
    #[arg(short, long)]
    pub quiet: bool,
    /// Accept invalid or self-signed TLS certificates.
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Worker threads (default: one per core; at most 1024).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = thread_count)]
    pub threads: usize,
    /// Show the one-line status instead of the full-screen dashboard on an interactive terminal.
    #[arg(long)]
    pub no_dashboard: bool,
    /// The run's test id (letters, digits, `-_.:`), as `$testId`, in the report, the exported series
    /// and the `baggage` header (default: 16 hex digits drawn from the seed).
    #[arg(long, value_name = "ID", value_parser = test_id)]
    pub testid: Option<String>,
    /// Send a W3C `traceparent` (and `baggage: hornet.testid=ID`) on every request, as
    /// `config.tracing` does; keeps the trace ids of the slowest and failed requests.
    #[arg(long)]
    pub trace: bool,
    #[command(flatten)]
    pub outputs: OutputArgs,
    #[command(flatten)]
    pub export: ExportArgs,
}

/// The run's metrics exported to Prometheus while it runs (docs/observability.md).
#[derive(Debug, Args, Default)]
pub struct ExportArgs {
    /// Push the metrics to this Prometheus remote-write URL (…/api/v1/write).
    #[arg(long, value_name = "URL")]
    pub prometheus_rw: Option<String>,
    /// A header on every remote-write push, `Name: value` (repeatable).
    #[arg(long = "prometheus-rw-header", value_name = "K:V", requires = "prometheus_rw", value_parser = header)]
    pub prometheus_rw_headers: Vec<(String, String)>,
    /// Basic-auth user of the remote-write pushes (password: $HORNET_PROMETHEUS_RW_PASSWORD).
    #[arg(long, value_name = "USER", requires = "prometheus_rw")]
    pub prometheus_rw_user: Option<String>,
    /// Remote-write latency as native histograms (schema 8), not classic buckets.
    #[arg(long, requires = "prometheus_rw")]
    pub prometheus_rw_native: bool,
    /// Seconds between pushes (remote write, Pushgateway, OTLP).
    #[arg(long, value_name = "SECONDS", default_value_t = 5, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub push_interval: u64,
    /// Serve the metrics at http://ADDR/metrics while the run lasts.
    #[arg(long, value_name = "ADDR")]
    pub metrics_addr: Option<SocketAddr>,
    /// A label on every exported series, `name=value` (repeatable).
    #[arg(long = "metrics-label", value_name = "NAME=VALUE", value_parser = label)]
    pub metrics_labels: Vec<(String, String)>,
    /// The most endpoints exported; the rest are summed as endpoint="other".
    #[arg(long, value_name = "N", default_value_t = hornet_export::DEFAULT_MAX_ENDPOINTS, value_parser = clap::builder::RangedU64ValueParser::<usize>::new().range(1..=100_000))]
    pub metrics_max_endpoints: usize,
    /// Send the client spans of sampled requests over OTLP/HTTP to this collector (POST
    /// /v1/traces); needs tracing (--trace or config.tracing). With tracing on and no
    /// --otlp-traces, spans go to the --otlp collector.
    #[arg(long, value_name = "URL", value_parser = otlp_url)]
    pub otlp_traces: Option<String>,
}

/// `--metrics-label name=value`: a Prometheus label name that is not one of hornet's own, and its
/// value.
fn label(text: &str) -> Result<(String, String), String> {
    let (name, value) = text.split_once('=').ok_or_else(|| format!("`{text}` is not name=value"))?;
    let name = name.trim();
    if !hornet_script::plan::is_label_name(name) {
        return Err(format!(
            "`{name}` is not a Prometheus label name (letters, digits and _, not starting with a digit or __)"
        ));
    }
    if hornet_script::plan::OWN_LABELS.contains(&name) {
        return Err(format!("`{name}` is a label hornet sets itself"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// `--prometheus-rw-header 'Name: value'`.
fn header(text: &str) -> Result<(String, String), String> {
    let (name, value) = text.split_once(':').ok_or_else(|| format!("`{text}` is not `Name: value`"))?;
    let (name, value) = (name.trim(), value.trim());
    if http::HeaderName::try_from(name).is_err() || http::HeaderValue::try_from(value).is_err() {
        return Err(format!("`{text}` is not a valid HTTP header"));
    }
    Ok((name.to_owned(), value.to_owned()))
}

/// Report files written at the end of a run (or later by `hornet report`).
#[derive(Debug, Args, Default)]
pub struct OutputArgs {
    /// Write a self-contained HTML report.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Write Locust-compatible CSV files PREFIX_stats.csv, PREFIX_stats_history.csv, PREFIX_failures.csv.
    #[arg(long, value_name = "PREFIX")]
    pub csv: Option<String>,
    /// Write a JUnit XML file: one test case per check and expectation kind.
    #[arg(long, value_name = "FILE")]
    pub junit: Option<PathBuf>,
    /// Write a small, stable JSON summary for scripts.
    #[arg(long = "summary-json", value_name = "FILE")]
    pub summary_json: Option<PathBuf>,
    /// Make the trace ids of the slowest and failed requests links: a URL with `{trace_id}` (and
    /// optionally `{span_id}`), e.g. 'https://grafana.example/explore?...{trace_id}...'.
    #[arg(long, value_name = "URL", value_parser = trace_link)]
    pub trace_link: Option<String>,
    /// Send the run's metrics over OTLP/HTTP (protobuf) to this collector every push interval and
    /// at the end, e.g. http://127.0.0.1:4318 (POST /v1/metrics); with tracing on, the spans of
    /// sampled requests too (POST /v1/traces).
    #[arg(long, value_name = "URL", value_parser = otlp_url)]
    pub otlp: Option<String>,
}

/// How scripts are read: shared by `run` and `validate`.
#[derive(Debug, Args)]
pub struct ScriptArgs {
    /// The script (YAML); several are deep-merged in order.
    #[arg(required = true, value_name = "SCRIPT")]
    pub scripts: Vec<PathBuf>,
    /// Override config.target.
    #[arg(short, long, value_name = "URL")]
    pub target: Option<String>,
    /// Use config.environments.NAME.
    #[arg(short = 'e', long = "environment", value_name = "NAME")]
    pub environment: Option<String>,
    /// Set a variable, `name=value` (repeatable); the value is JSON if it parses as JSON, else a string.
    #[arg(long = "var", value_name = "NAME=VALUE")]
    pub vars: Vec<String>,
    /// JSON deep-merged into `config` (objects merge, other values replace).
    #[arg(long, value_name = "JSON")]
    pub overrides: Option<String>,
    /// Run only the scenarios with this name (repeatable).
    #[arg(long = "scenario-name", value_name = "NAME")]
    pub scenario_names: Vec<String>,
    /// Treat every script warning (an ignored unknown key, an undefined variable...) as an error.
    #[arg(long)]
    pub strict: bool,
    /// Read environment variables (`KEY=VALUE` lines) from this dotenv file before the script is
    /// loaded, for `$env`, `$processEnvironment` and the processor's `process.env`; a variable
    /// already set in the environment keeps its value (Artillery's `--dotenv`).
    #[arg(long = "dotenv", visible_alias = "env-file", value_name = "FILE")]
    pub dotenv: Option<PathBuf>,
    /// Set variables from a JSON object, e.g. '{"id": 1}': each key as one `--var` (Artillery's
    /// `-v`); `--var` wins over a key of the same name.
    #[arg(short = 'v', long = "variables", value_name = "JSON")]
    pub variables: Option<String>,
    /// Read configuration from this file (a script file with a `config:` section, Artillery's
    /// `-c`): deep-merged after the scripts, so what it sets wins.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// One virtual user: the phases become a single arrival (`{duration: 1, arrivalCount: 1}`),
    /// as Artillery's `-s`.
    #[arg(short = 's', long)]
    pub solo: bool,
    /// Accepted for Artillery command lines and ignored with a warning, as Artillery 2 ignores
    /// it; name the CSV file in `config.payload`.
    #[arg(short = 'p', long = "payload", value_name = "CSV")]
    pub payload: Option<PathBuf>,
}

impl ScriptArgs {
    /// The files to read, in merge order: the scripts, then `-c FILE`.
    pub fn files(&self) -> Vec<PathBuf> {
        self.scripts.iter().chain(&self.config).cloned().collect()
    }
}

#[derive(Debug, Args)]
pub struct RunArgs {
    #[command(flatten)]
    pub script: ScriptArgs,
    /// Stop as soon as a threshold or condition has failed (exit code 1).
    #[arg(long)]
    pub abort_on_fail: bool,
    /// Serve the live web UI while the test runs (see docs/web-ui.md).
    #[arg(long)]
    pub ui: bool,
    /// With --ui: keep serving after the run (final figures, downloads, a new Start) until Ctrl-C.
    #[arg(long, requires = "ui")]
    pub ui_linger: bool,
    #[command(flatten)]
    pub web: WebArgs,
    #[command(flatten)]
    pub load: LoadArgs,
    /// Split the test over N worker processes of this binary on this machine (a local cluster).
    #[arg(long, value_name = "N")]
    pub local_workers: Option<usize>,
    /// In a distributed run, what to do when a worker is lost: continue, redistribute or abort.
    #[arg(long, value_name = "POLICY", default_value = "continue")]
    pub on_worker_loss: hornet_cluster::LossPolicy,
    #[command(flatten)]
    pub artillery_cloud: ArtilleryCloudArgs,
}

/// Artillery's platform and Artillery Cloud flags: `--platform local` is accepted, the others are
/// refused (exit 2) with a pointer to hornet's own distributed runs, never ignored.
#[derive(Debug, Args, Default)]
pub struct ArtilleryCloudArgs {
    /// Where the test runs: `local` (this machine) is accepted; for more machines use
    /// `--local-workers N` or `hornet controller` (docs/distributed.md).
    #[arg(long, value_name = "PLATFORM")]
    pub platform: Option<String>,
    /// Refused: an option of Artillery's cloud platforms.
    #[arg(long = "platform-opt", value_name = "K=V")]
    pub platform_opt: Vec<String>,
    /// Refused: Artillery's count of cloud workers.
    #[arg(long, value_name = "N")]
    pub count: Option<String>,
    /// Refused: records the run to Artillery Cloud.
    #[arg(long)]
    pub record: bool,
    /// Refused: the Artillery Cloud API key.
    #[arg(long, value_name = "KEY")]
    pub key: Option<String>,
    /// Refused: the run's name in Artillery Cloud.
    #[arg(long, value_name = "NAME")]
    pub name: Option<String>,
    /// Refused: the run's tags in Artillery Cloud.
    #[arg(long, value_name = "TAGS")]
    pub tags: Option<String>,
    /// Refused: a note on the run in Artillery Cloud.
    #[arg(long, value_name = "TEXT")]
    pub note: Option<String>,
}

impl ArtilleryCloudArgs {
    /// `Err` with what to use instead when a flag asks for something other than this machine.
    pub fn refusal(&self) -> Result<(), String> {
        const INSTEAD: &str = "hornet runs the test on this machine (`hornet run`, or `hornet run --local-workers N` \
             for several processes) or across machines with `hornet controller` and `hornet worker` \
             (see docs/distributed.md); it sends nothing to Artillery Cloud";
        if let Some(platform) = self.platform.as_deref().filter(|p| *p != "local") {
            return Err(format!("--platform {platform} is not supported: {INSTEAD}"));
        }
        let cloud = [
            ("--platform-opt", !self.platform_opt.is_empty()),
            ("--count", self.count.is_some()),
            ("--record", self.record),
            ("--key", self.key.is_some()),
            ("--name", self.name.is_some()),
            ("--tags", self.tags.is_some()),
            ("--note", self.note.is_some()),
        ];
        match cloud.iter().find(|(_, given)| *given) {
            Some((flag, _)) => {
                Err(format!("{flag} is an Artillery cloud flag and is not supported: {INSTEAD}"))
            }
            None => Ok(()),
        }
    }
}

/// Where the web UI listens and who may use it.
#[derive(Debug, Args)]
pub struct WebArgs {
    /// Address of the web UI (port 0 picks a free port; the URL is printed to stderr).
    #[arg(long, value_name = "ADDR", default_value = "127.0.0.1:8089")]
    pub ui_addr: SocketAddr,
    /// Token every web UI request must carry (`Authorization: Bearer T`, or `/?token=T` once);
    /// required for a non-loopback --ui-addr.
    #[arg(long, value_name = "TOKEN", env = "HORNET_UI_TOKEN", hide_env_values = true)]
    pub ui_token: Option<String>,
}

#[derive(Debug, Args)]
pub struct UiArgs {
    #[command(flatten)]
    pub script: ScriptArgs,
    #[command(flatten)]
    pub web: WebArgs,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Args)]
pub struct CapacityArgs {
    #[command(flatten)]
    pub script: ScriptArgs,
    /// The objective: comma-separated `ensure` conditions, short forms allowed
    /// (`p95<300ms,errors<1%`); default: the script's `config.ensure`.
    #[arg(long, value_name = "SLO")]
    pub slo: Option<String>,
    /// The first load: arrivals per second (users for a closed-model script). Default 10 (1 user).
    #[arg(long, value_name = "RATE")]
    pub start: Option<f64>,
    /// The most load offered (default and upper bound: 1000 × --start).
    #[arg(long, value_name = "RATE")]
    pub max: Option<f64>,
    /// Measured window of each step.
    #[arg(long, value_name = "DURATION", default_value = "20s")]
    pub step: String,
    /// Warm-up before each step's window.
    #[arg(long, value_name = "DURATION", default_value = "5s")]
    pub warmup: String,
    /// Bisection ends when the bounds are this close (5% or 0.05).
    #[arg(long, value_name = "PERCENT", default_value = "5%")]
    pub precision: String,
    /// How long the found load is held to verify it (0 for no verification).
    #[arg(long, value_name = "DURATION", default_value = "60s")]
    pub hold: String,
    /// Write the result (every step's figures and histograms) as JSON to this file.
    #[arg(short = 'o', long = "output", value_name = "FILE")]
    pub output: Option<PathBuf>,
    /// Write a page with throughput and latency against the offered load.
    #[arg(long, value_name = "FILE")]
    pub html: Option<PathBuf>,
    /// Seed for scenario choice and random picks.
    #[arg(long)]
    pub seed: Option<u64>,
    /// Accept invalid or self-signed TLS certificates.
    #[arg(short = 'k', long)]
    pub insecure: bool,
    /// Worker threads of the generator (default: one per core; at most 1024).
    #[arg(long, value_name = "N", default_value_t = 0, value_parser = thread_count)]
    pub threads: usize,
}

#[derive(Debug, Args)]
pub struct ValidateArgs {
    #[command(flatten)]
    pub script: ScriptArgs,
}

#[derive(Debug, Args)]
pub struct QuickArgs {
    /// The URL to load (http:// or https://).
    pub url: String,
    /// Total number of requests (default 200 when neither -n nor -d is given).
    #[arg(short = 'n', long, value_name = "N")]
    pub requests: Option<u64>,
    /// Duration of the test, e.g. 10s, 1m, 500ms.
    #[arg(short = 'd', long, value_name = "DURATION")]
    pub duration: Option<String>,
    /// Concurrent connections (closed model), or the connection pool size with -r.
    #[arg(short = 'c', long, value_name = "N", default_value_t = 50)]
    pub connections: u64,
    /// Fixed request rate per second (open model); latency is measured from each request's
    /// intended send time.
    #[arg(short = 'r', long, value_name = "PER_SECOND")]
    pub rate: Option<f64>,
    /// HTTP method.
    #[arg(short = 'm', long, default_value = "GET")]
    pub method: String,
    /// Request header, `name: value` (repeatable).
    #[arg(short = 'H', long = "header", value_name = "HEADER")]
    pub headers: Vec<String>,
    /// Request body.
    #[arg(short = 'b', long, value_name = "BODY")]
    pub body: Option<String>,
    /// Request timeout, e.g. 10s.
    #[arg(long, value_name = "DURATION", default_value = "10s")]
    pub timeout: String,
    #[command(flatten)]
    pub load: LoadArgs,
}

#[derive(Debug, Args)]
pub struct DemoArgs {
    /// Where to write the JSON report.
    #[arg(short = 'o', long = "output", value_name = "FILE", default_value = "hornet-report.json")]
    pub output: PathBuf,
    /// Seed for scenario choice and random picks.
    #[arg(long)]
    pub seed: Option<u64>,
    /// No live progress; the summary is still printed.
    #[arg(short, long)]
    pub quiet: bool,
    /// Show the plain status line instead of the full-screen dashboard.
    #[arg(long)]
    pub no_dashboard: bool,
    #[command(flatten)]
    pub outputs: OutputArgs,
}

#[derive(Debug, Args)]
pub struct TargetArgs {
    /// Address to listen on (loopback by default).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub addr: SocketAddr,
    /// Server threads.
    #[arg(long, default_value_t = 1)]
    pub threads: usize,
    /// Serve https:// and wss:// with a self-signed certificate made at start (clients need
    /// --insecure or `config.tls.rejectUnauthorized: false`).
    #[arg(long)]
    pub tls: bool,
    /// Record every request received (read with `GET /_hornet/requests`, clear with `DELETE`; every
    /// `traceparent` received with `GET /_hornet/traceparents`) and answer unknown paths with a
    /// generic JSON document instead of 404.
    #[arg(long)]
    pub record: bool,
}

/// `--trace-link URL`: must hold `{trace_id}`.
fn trace_link(text: &str) -> Result<String, String> {
    hornet_metrics::traces::check_trace_link(text)?;
    Ok(text.to_string())
}

/// `--otlp URL`, `--otlp-traces URL`: an http:// or https:// URL.
fn otlp_url(text: &str) -> Result<String, String> {
    hornet_export::otlp::destination(text, "metrics").map_err(|e| e.to_string())?;
    Ok(text.to_string())
}

/// `--testid ID`: checked before anything starts.
fn test_id(text: &str) -> Result<String, String> {
    hornet_script::plan::check_test_id(text)?;
    Ok(text.to_string())
}

/// The most worker threads `--threads` starts: each has its own stack and event loop, and far more
/// threads than cores only add switching (100,000 exhausted the process's memory map).
pub const MAX_THREADS: usize = 1024;

/// `--threads N`: a whole number up to [`MAX_THREADS`] (0 for one per core), checked before anything
/// starts.
fn thread_count(text: &str) -> Result<usize, String> {
    let n: usize = text.trim().parse().map_err(|_| format!("`{text}` is not a whole number"))?;
    if n > MAX_THREADS {
        return Err(format!(
            "{n} is more than {MAX_THREADS} threads; each runs its own event loop, so more threads than cores only add switching"
        ));
    }
    Ok(n)
}
