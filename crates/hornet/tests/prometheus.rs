//! hornet's metrics in a real Prometheus (Debian's `prometheus` package): remote write into
//! Prometheus's receiver gives, over PromQL, exactly the report's counts per endpoint and its
//! whole-run percentiles, and `histogram_quantile` agrees with the report's p95 within the bucket
//! it falls in (with native histograms, within one schema-8 bucket of it), and the buckets'
//! exemplars are traced requests of the report, each in its bucket; `/metrics` passes
//! `promtool check metrics` and is scraped by Prometheus; a real Pushgateway (Debian's
//! `prometheus-pushgateway`) serves the report's counts in the run's group.

mod common;

use std::collections::BTreeMap;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use common::{Case, hornet, target};
use serde_json::Value;

/// A Prometheus server on a loopback port, with its storage in a temporary folder; killed when
/// dropped.
struct Prometheus {
    child: Child,
    port: u16,
    _dir: tempfile::TempDir,
}

impl Prometheus {
    /// Starts `binary` with the remote-write receiver on, scraping `scrape` (host:port) every
    /// second when given, and waits (at most 60 s) until it is ready.
    fn start(binary: &Path, scrape: Option<&str>) -> Prometheus {
        Prometheus::start_with(binary, scrape, &[])
    }

    /// [`Prometheus::start`] with `flags` added to its command line.
    fn start_with(binary: &Path, scrape: Option<&str>, flags: &[&str]) -> Prometheus {
        let dir = tempfile::tempdir().expect("tempdir");
        let mut config = "global:\n  scrape_interval: 1s\n  evaluation_interval: 1s\n".to_owned();
        if let Some(addr) = scrape {
            config.push_str(&format!(
                "scrape_configs:\n  - job_name: hornet\n    scrape_interval: 1s\n    static_configs:\n      - targets: [\"{addr}\"]\n"
            ));
        }
        let config_path = dir.path().join("prometheus.yml");
        std::fs::write(&config_path, config).expect("write prometheus.yml");
        let port = free_port();
        let child = Command::new(binary)
            .arg(format!("--config.file={}", config_path.display()))
            .arg(format!("--storage.tsdb.path={}", dir.path().join("data").display()))
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            .arg("--web.enable-remote-write-receiver")
            .arg("--log.level=warn")
            .args(flags)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start prometheus");
        let prometheus = Prometheus { child, port, _dir: dir };
        let deadline = Instant::now() + Duration::from_secs(60);
        wait_until_ready(port, deadline, "prometheus");
        // Its discovery hands targets to the scraper a few seconds after the start: wait for
        // that, so a short run is scraped from its first second.
        while scrape.is_some()
            && get(port, "/api/v1/targets").is_none_or(|(_, body)| !body.contains("\"scrapeUrl\""))
        {
            assert!(Instant::now() < deadline, "prometheus had no scrape target within 60 s");
            std::thread::sleep(Duration::from_millis(200));
        }
        prometheus
    }

    fn write_url(&self) -> String {
        format!("http://127.0.0.1:{}/api/v1/write", self.port)
    }

    /// The result vector of the instant query `promql`: each series' labels and value.
    fn query(&self, promql: &str) -> Vec<(serde_json::Map<String, Value>, f64)> {
        let path = format!("/api/v1/query?query={}", percent_encode(promql));
        let (status, body) = get(self.port, &path).expect("query prometheus");
        let json: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
        assert_eq!(status, 200, "{promql}: {body}");
        json["data"]["result"]
            .as_array()
            .expect("a vector")
            .iter()
            .map(|s| {
                let value = s["value"][1].as_str().expect("a value").parse::<f64>().expect("a number");
                (s["metric"].as_object().cloned().unwrap_or_default(), value)
            })
            .collect()
    }

    /// The single value of `promql`.
    fn scalar(&self, promql: &str) -> f64 {
        let result = self.query(promql);
        assert_eq!(result.len(), 1, "{promql} gave {result:?}");
        result[0].1
    }

    /// Polls `promql` (at most 30 s) until it gives a series.
    fn wait_for(&self, promql: &str) {
        let deadline = Instant::now() + Duration::from_secs(30);
        while self.query(promql).is_empty() {
            if Instant::now() > deadline {
                let targets = get(self.port, "/api/v1/targets").map(|(_, body)| body).unwrap_or_default();
                panic!("{promql} gave nothing within 30 s; Prometheus's targets: {targets}");
            }
            std::thread::sleep(Duration::from_millis(250));
        }
    }
}

impl Drop for Prometheus {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Waits until `GET /-/ready` on `port` answers 200, failing at `deadline`.
fn wait_until_ready(port: u16, deadline: Instant, what: &str) {
    while get(port, "/-/ready").is_none_or(|(status, _)| status != 200) {
        assert!(Instant::now() < deadline, "{what} was not ready in time");
        std::thread::sleep(Duration::from_millis(200));
    }
}

/// A Pushgateway (Debian's `prometheus-pushgateway`) on a loopback port, keeping its metrics in
/// memory only; killed when dropped.
struct Pushgateway {
    child: Child,
    port: u16,
}

impl Pushgateway {
    /// Starts `binary` and waits (at most 60 s) until it is ready.
    fn start(binary: &Path) -> Pushgateway {
        let port = free_port();
        let child = Command::new(binary)
            .arg(format!("--web.listen-address=127.0.0.1:{port}"))
            // In memory only: Debian's default file is shared by every Pushgateway of the machine.
            .arg("--persistence.file=")
            .arg("--log.level=warn")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("start the pushgateway");
        let pushgateway = Pushgateway { child, port };
        wait_until_ready(port, Instant::now() + Duration::from_secs(60), "the pushgateway");
        pushgateway
    }
}

impl Drop for Pushgateway {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One sample of the Prometheus text format: its name, labels and value.
#[derive(Debug)]
struct Sample {
    name: String,
    labels: BTreeMap<String, String>,
    value: f64,
}

/// The samples of a Prometheus text-format exposition (comments skipped); panics on a line that
/// is not one.
fn parse_exposition(text: &str) -> Vec<Sample> {
    let mut samples = Vec::new();
    for line in text.lines().filter(|l| !l.is_empty() && !l.starts_with('#')) {
        let bad = || -> ! { panic!("not a sample line: {line}") };
        let name_end = line.find(['{', ' ']).unwrap_or_else(|| bad());
        let name = line[..name_end].to_owned();
        let mut labels = BTreeMap::new();
        let mut rest = &line[name_end..];
        if let Some(mut inside) = rest.strip_prefix('{') {
            loop {
                inside = inside.trim_start_matches(',');
                if let Some(after) = inside.strip_prefix('}') {
                    rest = after;
                    break;
                }
                let (label, after) = inside.split_once("=\"").unwrap_or_else(|| bad());
                let mut value = String::new();
                let mut chars = after.char_indices();
                let end = loop {
                    match chars.next().unwrap_or_else(|| bad()) {
                        (i, '"') => break i,
                        (_, '\\') => match chars.next().unwrap_or_else(|| bad()).1 {
                            'n' => value.push('\n'),
                            c => value.push(c),
                        },
                        (_, c) => value.push(c),
                    }
                };
                labels.insert(label.to_owned(), value);
                inside = &after[end + 1..];
            }
        }
        let value = rest.split_whitespace().next().unwrap_or_else(|| bad());
        let value = match value {
            "+Inf" => f64::INFINITY,
            "-Inf" => f64::NEG_INFINITY,
            v => v.parse().unwrap_or_else(|_| bad()),
        };
        samples.push(Sample { name, labels, value });
    }
    samples
}

fn prometheus_binary(test: &str) -> Option<PathBuf> {
    hornet_testkit::require_tool(
        test,
        &["/usr/bin/prometheus"],
        &["prometheus"],
        "apt-get install -y prometheus",
    )
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("a free port").port()
}

/// `GET path` on 127.0.0.1:`port` over HTTP/1.1: the status and body, or `None` when nothing
/// answers.
fn get(port: u16, path: &str) -> Option<(u16, String)> {
    use std::io::{Read, Write};
    let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).ok()?;
    stream.set_read_timeout(Some(Duration::from_secs(10))).ok()?;
    write!(stream, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n").ok()?;
    let mut response = Vec::new();
    stream.read_to_end(&mut response).ok()?;
    let text = String::from_utf8_lossy(&response).into_owned();
    let status = text.split(' ').nth(1)?.parse().ok()?;
    let (head, body) = text.split_once("\r\n\r\n")?;
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        unchunk(body)
    } else {
        body.to_owned()
    };
    Some((status, body))
}

/// A chunked body's data.
fn unchunk(mut body: &str) -> String {
    let mut out = String::new();
    while let Some((size, rest)) = body.split_once("\r\n") {
        let Ok(n) = usize::from_str_radix(size.trim(), 16) else { break };
        if n == 0 || rest.len() < n {
            break;
        }
        out.push_str(&rest[..n]);
        body = rest[n..].trim_start_matches("\r\n");
    }
    out
}

fn percent_encode(text: &str) -> String {
    text.bytes()
        .map(|b| match b {
            b'A'..=b'Z' | b'a'..=b'z' | b'0'..=b'9' | b'-' | b'_' | b'.' | b'~' => (b as char).to_string(),
            _ => format!("%{b:02X}"),
        })
        .collect()
}

/// Two endpoints with latencies spread over several buckets (5 to 60 ms, and 1 to 9 ms), one
/// answering 500 a third of the time, and one whose server refuses the connection.
fn script(target: &str) -> String {
    format!(
        r#"config:
  target: "{target}"
  phases:
    - duration: 3
      arrivalRate: 30
  http:
    timeout: 2
scenarios:
  - name: browse
    weight: 3
    flow:
      - get: {{ url: "/delay/{{{{ $randomNumber(5, 60) }}}}", name: slow }}
      - get: {{ url: "/delay/{{{{ $randomNumber(1, 9) }}}}", name: fast }}
  - name: break
    weight: 1
    flow:
      - get: {{ url: "/status/{{{{ $randomNumber(1, 3) }}}}00", name: flaky }}
      - get: {{ url: "http://127.0.0.1:1/", name: refused }}
"#
    )
}

/// Seconds in whole microseconds, the report's resolution (its figures are ms with 3 decimals).
fn micros(seconds: f64) -> i64 {
    (seconds * 1e6).round() as i64
}

/// The report's endpoint named `name`.
fn endpoint<'a>(report: &'a Value, name: &str) -> &'a Value {
    report["endpoints"]
        .as_array()
        .and_then(|e| e.iter().find(|e| e["name"] == name))
        .unwrap_or_else(|| panic!("no endpoint {name} in the report"))
}

/// Runs the script `script_for` writes for a target's URL against that target, with seed `seed`,
/// test id `testid` and `flags`, and returns the report. No push may fail.
fn run_exporting(seed: &str, testid: &str, flags: &[&str], script_for: impl FnOnce(&str) -> String) -> Value {
    let t = target();
    let case = Case::new();
    let script = case.script("load.yaml", &script_for(&t.url()));
    let out = hornet()
        .args(["run", "-q", "--seed", seed, "--testid", testid])
        .args(flags)
        .arg(&script)
        .arg("-o")
        .arg(case.report_path())
        .output()
        .expect("run hornet");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(!stderr.contains("failed"), "{stderr}");
    serde_json::from_str(&std::fs::read_to_string(case.report_path()).expect("report")).expect("json")
}

/// Runs [`script`] remote-writing to `prometheus` every second as `testid` with `flags` added;
/// waits until Prometheus has the run and returns the report.
fn remote_write_run(prometheus: &Prometheus, testid: &str, seed: &str, flags: &[&str]) -> Value {
    let url = prometheus.write_url();
    let mut all = vec!["--push-interval", "1", "--prometheus-rw", &url];
    all.extend_from_slice(flags);
    let report = run_exporting(seed, testid, &all, script);
    prometheus.wait_for(&format!("hornet_run_info{{testid=\"{testid}\"}}"));
    report
}

#[test]
fn remote_write_gives_the_report_s_counts_and_percentiles_in_promql() {
    let Some(binary) = prometheus_binary("remote_write_gives_the_report_s_counts_and_percentiles_in_promql")
    else {
        return;
    };
    let prometheus = Prometheus::start_with(&binary, None, &["--enable-feature=exemplar-storage"]);
    let testid = format!("rw-{}", std::process::id());
    let report = remote_write_run(&prometheus, &testid, "7", &["--trace"]);
    let id = format!("testid=\"{testid}\"");

    let by_endpoint = |promql: &str| -> Vec<(String, f64)> {
        let mut rows: Vec<(String, f64)> = prometheus
            .query(promql)
            .into_iter()
            .map(|(labels, v)| (labels["endpoint"].as_str().unwrap_or_default().to_owned(), v))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows
    };
    let from_report = |field: &str| -> Vec<(String, f64)> {
        let mut rows: Vec<(String, f64)> = report["endpoints"]
            .as_array()
            .expect("endpoints")
            .iter()
            .map(|e| (e["name"].as_str().unwrap_or_default().to_owned(), e[field].as_f64().unwrap_or(-1.0)))
            .collect();
        rows.sort_by(|a, b| a.0.cmp(&b.0));
        rows
    };
    let requests = by_endpoint(&format!("sum by (endpoint) (hornet_requests_total{{{id}}})"));
    assert_eq!(requests, from_report("requests"));
    assert_eq!(requests.len(), 4);
    assert_eq!(
        by_endpoint(&format!("sum by (endpoint) (hornet_failures_total{{{id}}})")),
        from_report("failures")
    );
    let refused = endpoint(&report, "refused");
    assert!(refused["failures"].as_f64().unwrap_or(0.0) > 0.0, "the refused endpoint failed");
    for (kind, n) in refused["errors"].as_object().expect("errors by kind") {
        let promql = format!("hornet_errors_total{{{id},endpoint=\"refused\",kind=\"{kind}\"}}");
        assert_eq!(prometheus.scalar(&promql), n.as_f64().unwrap_or(-1.0), "{promql}");
    }
    for (code, n) in endpoint(&report, "flaky")["codes"].as_object().expect("codes") {
        let promql = format!("hornet_responses_total{{{id},endpoint=\"flaky\",status=\"{code}\"}}");
        assert_eq!(prometheus.scalar(&promql), n.as_f64().unwrap_or(-1.0), "{promql}");
    }
    let labels = &prometheus.query(&format!("hornet_requests_total{{{id},endpoint=\"slow\"}}"))[0].0;
    assert_eq!((labels["scenario"].as_str(), labels["method"].as_str()), (Some("browse"), Some("GET")));

    // The whole-run percentiles are the report's, exactly.
    for (name, quantile, field) in [("slow", "0.95", "p95"), ("fast", "0.99", "p99"), ("slow", "0.5", "p50")]
    {
        let promql = format!(
            "hornet_request_duration_run_seconds{{{id},endpoint=\"{name}\",quantile=\"{quantile}\"}}"
        );
        let ms = endpoint(&report, name)["summary"][field].as_f64().expect("a percentile");
        assert_eq!(micros(prometheus.scalar(&promql)), micros(ms / 1000.0), "{promql}");
    }
    let run_p95 = report["aggregate"]["summaries"]["http.response_time"]["p95"].as_f64().expect("p95");
    let promql = format!("hornet_http_request_duration_run_seconds{{{id},quantile=\"0.95\"}}");
    assert_eq!(micros(prometheus.scalar(&promql)), micros(run_p95 / 1000.0));

    // The histogram's estimate lies in the bucket of the report's p95.
    let bounds = hornet_export::frame::LATENCY_BUCKETS_US.map(|us| us as f64 / 1e6);
    for name in ["slow", "fast"] {
        let p95 = endpoint(&report, name)["summary"]["p95"].as_f64().expect("p95") / 1000.0;
        let promql = format!(
            "histogram_quantile(0.95, sum by (le) (hornet_request_duration_seconds_bucket{{{id},endpoint=\"{name}\"}}))"
        );
        let estimate = prometheus.scalar(&promql);
        let upper = bounds.iter().copied().find(|&b| b >= p95).expect("a bucket above p95");
        let lower = bounds.iter().copied().rfind(|&b| b < p95).unwrap_or(0.0);
        assert!(
            (lower..=upper).contains(&estimate),
            "{name}: histogram_quantile says {estimate} s, the report's p95 is {p95} s, in the bucket ({lower}, {upper}]"
        );
        let count = prometheus
            .scalar(&format!("sum(hornet_request_duration_seconds_count{{{id},endpoint=\"{name}\"}})"));
        assert_eq!(count, endpoint(&report, name)["summary"]["count"].as_f64().unwrap_or(-1.0));
    }
    every_dashboard_query_answers(&prometheus, &testid);

    // Every exemplar is a response time within its bucket's bound. Those of the final push (the
    // latest stamp) are traced requests the report keeps, each in its bucket, with its response time;
    // an earlier push's may name a request that a slower one later displaced from the report.
    let query = percent_encode(&format!("hornet_request_duration_seconds_bucket{{{id}}}"));
    let (status, body) =
        get(prometheus.port, &format!("/api/v1/query_exemplars?query={query}&start=0&end=9999999999"))
            .expect("query exemplars");
    assert_eq!(status, 200, "{body}");
    let json: Value = serde_json::from_str(&body).unwrap_or_else(|e| panic!("{e}: {body}"));
    let traced = report["traced_requests"].as_array().expect("traced requests");
    let series = json["data"].as_array().expect("exemplars by series");
    let stamp = |e: &Value| e["timestamp"].as_f64().expect("an exemplar's timestamp");
    let last_push = series
        .iter()
        .flat_map(|s| s["exemplars"].as_array().expect("exemplars"))
        .map(stamp)
        .fold(f64::NEG_INFINITY, f64::max);
    let mut seen = 0;
    for series in series {
        let labels = &series["seriesLabels"];
        let le: f64 = match labels["le"].as_str() {
            Some("+Inf") => f64::INFINITY,
            Some(le) => le.parse().expect("a bound"),
            None => panic!("an exemplar on a series without le: {series}"),
        };
        for e in series["exemplars"].as_array().expect("exemplars") {
            let trace_id = e["labels"]["trace_id"].as_str().expect("a trace_id label");
            let value: f64 = e["value"].as_str().expect("a value").parse().expect("a number");
            assert!(value <= le, "exemplar {value} s above its bucket's bound {le}");
            assert!(trace_id.len() == 32 && trace_id.bytes().all(|b| b.is_ascii_hexdigit()), "{trace_id}");
            if stamp(e) < last_push {
                continue;
            }
            let request = traced.iter().find(|t| t["trace_id"] == trace_id).unwrap_or_else(|| {
                panic!("exemplar {trace_id} of the final push is no traced request of the report")
            });
            assert_eq!(request["endpoint"], labels["endpoint"], "{series}");
            let ms = request["latency_ms"].as_f64().expect("latency");
            assert_eq!(micros(value), micros(ms / 1000.0), "{trace_id}");
            seen += 1;
        }
    }
    assert!(seen > 0, "no exemplar arrived: {body}");
}

/// With `--prometheus-rw-native`, Prometheus (its native histograms on) stores one
/// native histogram per endpoint: `histogram_count` is the report's count exactly, and
/// `histogram_quantile(0.95, ...)` is within one schema-8 bucket (0.271 %) of the report's p95, and
/// every query of the Grafana dashboard gives an answer.
#[test]
fn native_histograms_give_the_report_s_count_and_p95_within_a_bucket() {
    let Some(binary) = prometheus_binary("native_histograms_give_the_report_s_count_and_p95_within_a_bucket")
    else {
        return;
    };
    let prometheus = Prometheus::start_with(&binary, None, &["--enable-feature=native-histograms"]);
    let testid = format!("native-{}", std::process::id());
    let report = remote_write_run(&prometheus, &testid, "11", &["--prometheus-rw-native"]);
    let id = format!("testid=\"{testid}\"");

    let width = hornet_export::native::relative_bucket_width();
    for name in ["slow", "fast", "flaky"] {
        let reported = &endpoint(&report, name)["summary"];
        let series = format!("hornet_request_duration_seconds{{{id},endpoint=\"{name}\"}}");
        let count = prometheus.scalar(&format!("histogram_count({series})"));
        assert_eq!(count, reported["count"].as_f64().unwrap_or(-1.0), "{name}: histogram_count");
        let corrected = format!("hornet_request_duration_corrected_seconds{{{id},endpoint=\"{name}\"}}");
        assert_eq!(
            prometheus.scalar(&format!("histogram_count({corrected})")),
            endpoint(&report, name)["summary_corrected"]["count"].as_f64().unwrap_or(-1.0),
            "{name}: the corrected latency's histogram_count"
        );
        let p95 = reported["p95"].as_f64().expect("p95") / 1000.0;
        let estimate = prometheus.scalar(&format!("histogram_quantile(0.95, {series})"));
        assert!(
            (estimate - p95).abs() <= p95 * width + 1e-9,
            "{name}: histogram_quantile says {estimate} s, the report's p95 is {p95} s: more than {:.3} % apart",
            width * 100.0
        );
    }
    assert!(
        prometheus.query(&format!("hornet_request_duration_seconds_bucket{{{id}}}")).is_empty(),
        "no classic buckets beside the native histograms"
    );
    let requests = prometheus.scalar(&format!("sum(hornet_requests_total{{{id},endpoint=\"slow\"}})"));
    assert_eq!(requests, endpoint(&report, "slow")["requests"].as_f64().unwrap_or(-1.0));
    every_dashboard_query_answers(&prometheus, &testid);
}

/// The trace id of the first exemplar on a `hornet_request_duration_seconds_bucket` line.
fn first_exemplar(openmetrics: &str) -> Option<String> {
    openmetrics.lines().filter(|l| l.starts_with("hornet_request_duration_seconds_bucket{")).find_map(|l| {
        l.split_once(" # {trace_id=\"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(id, _)| id.to_owned())
    })
}

/// Every query of the Grafana dashboard (deploy/grafana/hornet.json), with its variables set to
/// the run `testid`, every endpoint and a 1-minute rate window, gives an answer.
fn every_dashboard_query_answers(prometheus: &Prometheus, testid: &str) {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/grafana/hornet.json");
    let text = std::fs::read_to_string(path).expect("the dashboard");
    let dashboard: Value = serde_json::from_str(&text).expect("json");
    let panels = dashboard["panels"].as_array().expect("panels");
    let targets = panels.iter().flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default());
    let mut asked = 0;
    for target in targets {
        let expr = target["expr"].as_str().expect("an expr");
        let promql =
            expr.replace("$testid", testid).replace("$endpoint", ".*").replace("$__rate_interval", "1m");
        assert!(!prometheus.query(&promql).is_empty(), "the dashboard's `{expr}` gives nothing");
        asked += 1;
    }
    assert!(asked >= 15, "{asked} queries");
}

/// `/metrics` while the run lasts: `promtool check metrics` accepts the text format, the
/// OpenMetrics form ends with `# EOF`, and Prometheus scrapes it (it asks for OpenMetrics first).
#[test]
fn metrics_endpoint_passes_promtool_and_prometheus_scrapes_it() {
    let test = "metrics_endpoint_passes_promtool_and_prometheus_scrapes_it";
    let Some(binary) = prometheus_binary(test) else { return };
    let Some(promtool) = hornet_testkit::require_tool(
        test,
        &["/usr/bin/promtool"],
        &["promtool"],
        "apt-get install -y prometheus",
    ) else {
        return;
    };
    let port = free_port();
    let addr = format!("127.0.0.1:{port}");
    let prometheus = Prometheus::start(&binary, Some(&addr));
    // A recording target keeps every traceparent it receives: an exemplar must be one of them.
    let t = hornet_target::RunningTarget::start_recording(
        hornet_target::TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 },
        false,
    )
    .expect("start target");
    let case = Case::new();
    let script = case.script("load.yaml", &script(&t.url()).replace("duration: 3", "duration: 5"));
    let testid = format!("pull-{}", std::process::id());
    let mut run = hornet()
        .args(["run", "-q", "--trace", "--testid", &testid, "--metrics-addr", &addr])
        .arg(&script)
        .arg("-o")
        .arg(case.report_path())
        .stdout(Stdio::null())
        .stderr(Stdio::piped())
        .spawn()
        .expect("run hornet");
    // Read while the run lasts, once the first tick has filled it.
    let deadline = Instant::now() + Duration::from_secs(20);
    let text = loop {
        if let Some((200, body)) = get(port, "/metrics")
            && body.contains("hornet_requests_total")
        {
            break body;
        }
        assert!(Instant::now() < deadline, "/metrics served no requests within 20 s");
        std::thread::sleep(Duration::from_millis(200));
    };
    let checked = Command::new(&promtool)
        .args(["check", "metrics"])
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .and_then(|mut child| {
            use std::io::Write;
            child.stdin.take().expect("stdin").write_all(text.as_bytes())?;
            child.wait_with_output()
        })
        .expect("run promtool");
    assert!(
        checked.status.success(),
        "promtool check metrics: {}{}\n{text}",
        String::from_utf8_lossy(&checked.stdout),
        String::from_utf8_lossy(&checked.stderr)
    );
    let openmetrics = {
        use std::io::{Read, Write};
        let mut stream = std::net::TcpStream::connect(("127.0.0.1", port)).expect("connect");
        write!(
            stream,
            "GET /metrics HTTP/1.1\r\nHost: x\r\nAccept: application/openmetrics-text;version=1.0.0\r\nConnection: close\r\n\r\n"
        )
        .expect("send");
        let mut response = String::new();
        stream.read_to_string(&mut response).expect("read");
        response
    };
    assert!(
        openmetrics.to_ascii_lowercase().contains("content-type: application/openmetrics-text"),
        "{openmetrics}"
    );
    assert!(openmetrics.contains("# TYPE hornet_requests counter"), "{openmetrics}");
    assert!(openmetrics.trim_end().ends_with("# EOF"), "{openmetrics}");

    let id = format!("testid=\"{testid}\",job=\"hornet\"");
    prometheus
        .wait_for(&format!("hornet_request_duration_seconds_bucket{{{id},endpoint=\"slow\",le=\"+Inf\"}}"));
    let status = common::exit_within(&mut run, Duration::from_secs(60));
    assert!(status.success(), "hornet exited with {status}");
    let report: Value =
        serde_json::from_str(&std::fs::read_to_string(case.report_path()).expect("report")).expect("json");
    // A bucket's exemplar is a traced request, by the trace id it was sent with. (It was read
    // while the run lasted, when it was among the slowest so far; the report lists the slowest
    // at the end, which later requests may have displaced, so the target's log is the witness.)
    let exemplar = first_exemplar(&openmetrics).expect("an exemplar on a latency bucket");
    let sent = t.trace_contexts().expect("a recording target");
    assert!(
        sent.iter().any(|c| c.traceparent.split('-').nth(1) == Some(exemplar.as_str())),
        "the exemplar's trace id {exemplar} was never sent in a traceparent ({} received)",
        sent.len()
    );
    assert!(
        report["traced_requests"].as_array().is_some_and(|t| !t.is_empty()),
        "traced requests in the report"
    );
    let scraped =
        prometheus.scalar(&format!("max_over_time(hornet_requests_total{{{id},endpoint=\"slow\"}}[5m])"));
    let reported = endpoint(&report, "slow")["requests"].as_f64().expect("requests");
    assert!(
        scraped > 0.0 && scraped <= reported,
        "scraped {scraped} requests of slow, the report says {reported}"
    );
}

/// Artillery's `publish-metrics` entry of type `prometheus` pushes to a real Pushgateway: it then
/// serves, in the group `job="hornet",testid="<test id>"`, the report's request, failure, error and
/// status counts per endpoint, each series labelled as docs/observability.md says.
#[test]
fn the_pushgateway_serves_the_report_s_counts_per_endpoint_in_the_run_s_group() {
    let test = "the_pushgateway_serves_the_report_s_counts_per_endpoint_in_the_run_s_group";
    let Some(binary) = hornet_testkit::require_tool(
        test,
        &["/usr/bin/prometheus-pushgateway"],
        &["prometheus-pushgateway", "pushgateway"],
        "apt-get install -y prometheus-pushgateway",
    ) else {
        return;
    };
    let pushgateway = Pushgateway::start(&binary);
    let publish = format!(
        "  plugins:\n    publish-metrics:\n      - type: prometheus\n        pushgateway: http://127.0.0.1:{}\n        tags: [\"team:perf\"]\n",
        pushgateway.port
    );
    let testid = format!("pg-{}", std::process::id());
    let report = run_exporting("5", &testid, &[], |url| {
        script(url).replace("scenarios:\n", &format!("{publish}scenarios:\n"))
    });

    let (status, text) = get(pushgateway.port, "/metrics").expect("scrape the pushgateway");
    assert_eq!(status, 200, "{text}");
    let samples = parse_exposition(&text);
    let hornet: Vec<&Sample> = samples.iter().filter(|s| s.name.starts_with("hornet_")).collect();
    assert!(!hornet.is_empty(), "no hornet series: {text}");
    // The group's key, on every series it serves: job and testid (the Pushgateway adds an empty
    // instance), with the entry's tags beside.
    for sample in &hornet {
        let run: Vec<(&str, &str)> = ["job", "testid", "instance", "team"]
            .iter()
            .map(|&k| (k, sample.labels.get(k).map_or("(none)", String::as_str)))
            .collect();
        assert_eq!(
            run,
            [("job", "hornet"), ("testid", testid.as_str()), ("instance", ""), ("team", "perf")],
            "{sample:?}"
        );
    }
    let pushed =
        samples.iter().find(|s| s.name == "push_time_seconds").expect("the group's push_time_seconds");
    let group: Vec<(&str, &str)> = pushed.labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    assert_eq!(group, [("instance", ""), ("job", "hornet"), ("testid", testid.as_str())]);
    let (_, groups) = get(pushgateway.port, "/api/v1/metrics").expect("the pushgateway's groups");
    let groups: Value = serde_json::from_str(&groups).expect("json");
    let keys: Vec<&Value> = groups["data"].as_array().expect("groups").iter().map(|g| &g["labels"]).collect();
    assert_eq!(keys, [&serde_json::json!({"job": "hornet", "testid": testid})], "one group, the run's");

    let value = |name: &str, labels: &[(&str, &str)]| -> Option<f64> {
        let matching: Vec<f64> = hornet
            .iter()
            .filter(|s| s.name == name)
            .filter(|s| labels.iter().all(|(k, v)| s.labels.get(*k).map(String::as_str) == Some(*v)))
            .map(|s| s.value)
            .collect();
        assert!(matching.len() <= 1, "{name} {labels:?}: {matching:?}");
        matching.first().copied()
    };
    let endpoints = report["endpoints"].as_array().expect("endpoints");
    assert_eq!(endpoints.len(), 4);
    for e in endpoints {
        let name = e["name"].as_str().expect("a name");
        let scenario = if ["slow", "fast"].contains(&name) { "browse" } else { "break" };
        let labels = [("endpoint", name), ("scenario", scenario), ("method", "GET")];
        let count = |field: &str| e[field].as_f64().unwrap_or(-1.0);
        assert_eq!(value("hornet_requests_total", &labels), Some(count("requests")), "{name}: requests");
        assert_eq!(value("hornet_failures_total", &labels), Some(count("failures")), "{name}: failures");
        for (kind, n) in e["errors"].as_object().expect("errors by kind") {
            let with_kind = [("endpoint", name), ("kind", kind.as_str())];
            assert_eq!(value("hornet_errors_total", &with_kind), n.as_f64(), "{name}: {kind} errors");
        }
        for (code, n) in e["codes"].as_object().expect("codes") {
            let with_status = [("endpoint", name), ("status", code.as_str())];
            assert_eq!(value("hornet_responses_total", &with_status), n.as_f64(), "{name}: status {code}");
        }
        let series =
            hornet.iter().find(|s| s.name == "hornet_requests_total" && s.labels["endpoint"] == name);
        let names: Vec<&str> = series.expect("a series").labels.keys().map(String::as_str).collect();
        assert_eq!(names, ["endpoint", "instance", "job", "method", "scenario", "team", "testid"]);
    }
    let refused = endpoint(&report, "refused");
    assert!(refused["errors"].as_object().is_some_and(|e| !e.is_empty()), "the refused endpoint has errors");
    let flaky_codes = endpoint(&report, "flaky")["codes"].as_object().map_or(0, |c| c.len());
    assert!(flaky_codes >= 2, "flaky answered with several statuses");
}
