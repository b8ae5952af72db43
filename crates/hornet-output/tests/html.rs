//! The HTML report: structure and escaping of a realistic report, its size for a one-hour run, and
//! (with Chromium) that the page draws every chart without a JavaScript error.
//!
//! The browser test needs Chromium (`apt-get install -y chromium`); without it the test is skipped
//! with a message, and with `CI` set it fails (`hornet_testkit::require`). It leaves the pages and
//! screenshots it made under `target/test-output/html/`.

use std::path::{Path, PathBuf};
use std::time::{Duration, UNIX_EPOCH};

use hornet_metrics::{
    Aggregator, CheckReport, ErrorKind, Protocol, Recorder, Report, RunMeta, TimelinePolicy, Timings,
    TracedRequest,
};
use hornet_output::html::{render_html, write_html};
use hornet_testkit::chromium::{headless, selftest_verdict};
use serde_json::Value;

const XSS_ENDPOINT: &str = "<script>alert(1)</script>";
const XSS_MESSAGE: &str = "refused </script><script>alert(\"x\")</script> & <!-- 'quoted'";

/// A deterministic xorshift generator.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    /// Uniform in [0, 1).
    fn unit(&mut self) -> f64 {
        (self.next() >> 11) as f64 / (1_u64 << 53) as f64
    }
}

fn meta(ticks: u64, interrupted: bool) -> RunMeta {
    RunMeta {
        script: Some("examples/shop & <co>.yml".into()),
        target: Some("http://127.0.0.1:8080/?a=1&b=<2>".into()),
        started_at: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        seed: 42,
        phases: serde_json::json!([{"duration": ticks, "arrivalRate": 50}]),
        interrupted,
        command: "hornet run examples/shop.yml -o \"report.html\"".into(),
        ..RunMeta::for_tests(Duration::from_secs(ticks))
    }
}

/// A run of `ticks` one-second ticks on four endpoints (one named like an XSS attempt): a ramp up
/// then a plateau with a slow spell in the middle, errors of three kinds, expectations, corrected
/// latencies, schedule lag (high for a while), late iterations, dropped requests and generator CPU
/// (saturated for a while). `per_tick` scales the number of requests.
fn run(ticks: u64, per_tick: u64, policy: TimelinePolicy) -> Report {
    let endpoints = vec![
        "GET /".to_owned(),
        "POST /login".to_owned(),
        "GET /items/{id}".to_owned(),
        XSS_ENDPOINT.to_owned(),
    ];
    let mut agg = Aggregator::with_timeline_policy(endpoints, vec!["browse".into(), "buy".into()], policy);
    let mut rng = Rng(0x2545_f491_4f6c_dd1d);
    let mut recs = [Recorder::new(4, 2), Recorder::new(4, 2)];
    for tick in 0..ticks {
        let ramp = ((tick + 1) as f64 / 30.0).min(1.0);
        let slow = (ticks / 2..ticks / 2 + 20).contains(&tick);
        let n = (per_tick as f64 * ramp).ceil() as u64;
        for i in 0..n {
            let r = &mut recs[(i % 2) as usize];
            let ep = (rng.next() % 4) as u32;
            r.vu_created((ep % 2) as usize);
            let lag_us = if slow { 6_000 + rng.next() % 4_000 } else { rng.next() % 800 };
            r.lag(Duration::from_micros(lag_us));
            r.request_sent(ep, 200 + rng.next() % 300);
            let u = rng.unit();
            let traced = |r: &mut Recorder,
                          latency_us: u64,
                          status: u16,
                          error: Option<ErrorKind>,
                          rng: &mut Rng| {
                let id = rng.next();
                let request = TracedRequest {
                    trace_id: [id.to_be_bytes(), (!id).to_be_bytes()].concat().try_into().unwrap_or_default(),
                    span_id: rng.next().to_be_bytes(),
                    sampled: id.is_multiple_of(2),
                    latency_us,
                    status,
                    error,
                    at_us: tick * 1_000_000 + i,
                    failed: error.is_some() || status >= 400,
                };
                r.traced(ep, &request);
            };
            if u < 0.01 {
                r.error(Some(ep), ErrorKind::Timeout, &"no response within 10s");
                traced(r, 10_000_000, 0, Some(ErrorKind::Timeout), &mut rng);
                r.vu_failed();
                continue;
            }
            if u < 0.015 && ep == 3 {
                r.error(Some(ep), ErrorKind::ConnectRefused, &XSS_MESSAGE);
                r.vu_failed();
                continue;
            }
            // Log-normal-ish latency: mostly 5..40 ms, a long tail, slower during the slow spell.
            let base = [8.0, 40.0, 15.0, 5.0][ep as usize] * if slow { 4.0 } else { 1.0 };
            let total_ms = base * (-(rng.unit().max(1e-9)).ln()).powf(1.3) + 0.5;
            let total = Duration::from_secs_f64(total_ms / 1000.0);
            let cold = rng.next().is_multiple_of(20);
            let t = Timings {
                dns: cold.then(|| Duration::from_micros(300 + rng.next() % 900)),
                connect: cold.then(|| Duration::from_micros(500 + rng.next() % 1_500)),
                tls: (cold && ep == 1).then(|| Duration::from_micros(2_000 + rng.next() % 3_000)),
                wait: total.mul_f64(0.8),
                receive: total.mul_f64(0.15),
                total,
                corrected: Some(total + Duration::from_micros(lag_us)),
            };
            let status = match rng.next() % 100 {
                0..=2 => 404,
                3 => 500,
                4 => 302,
                _ if ep == 1 => 201,
                _ => 200,
            };
            r.response(ep, status, &t, 512 + rng.next() % 4096);
            traced(r, total.as_micros() as u64, status, None, &mut rng);
            r.expectation(ep, "statusCode", status < 400);
            if ep == 2 {
                r.expectation(ep, "hasProperty", !rng.next().is_multiple_of(50));
            }
            r.vu_completed(total.mul_f64(1.5));
            if rng.next().is_multiple_of(97) {
                r.late_iteration();
            }
            if slow && rng.next().is_multiple_of(5) {
                r.dropped();
            }
        }
        if tick + 1 == ticks {
            recs[0].error(None, ErrorKind::Cancelled, &"run ended");
        }
        let vus = (40.0 * ramp) as u64 + rng.next() % 3;
        agg.add_tick(
            Duration::from_secs(tick + 1),
            recs.iter_mut().map(Recorder::take_interval).collect(),
            vus,
        );
        let cpu = if (100..115).contains(&tick) { 95.0 } else { 20.0 + 10.0 * rng.unit() };
        agg.record_generator(cpu);
    }
    agg.report(meta(ticks, false))
}

fn check(name: &str, ok: bool, strict: bool, detail: &str) -> CheckReport {
    CheckReport { name: name.into(), ok, strict, detail: detail.into() }
}

/// [`run`] over 300 ticks with checks (one of each outcome, one with markup) and an apdex.
fn judged() -> Report {
    let mut r = run(300, 120, TimelinePolicy::default());
    let apdex = r.compute_apdex(50.0).unwrap();
    r.set_verdicts(
        vec![
            check("http.response_time.p95 < 500", true, true, "http.response_time.p95 was 120.4"),
            check("errors.timeout < 10", false, true, "errors.timeout was 360"),
            check("http.request_rate > 1000", false, false, "http.request_rate = 118.3"),
            check("a <b> & c", true, true, "<i>not italic</i>"),
        ],
        Some(apdex),
    );
    r
}

/// The JSON of the `hornet-data` script element.
fn data_blob(html: &str) -> Value {
    let open = "<script type=\"application/json\" id=\"hornet-data\">";
    let start = html.find(open).expect("data blob") + open.len();
    let end = start + html[start..].find("</script>").expect("end of the data blob");
    serde_json::from_str(&html[start..end]).expect("the data blob parses")
}

/// The `data-chart` keys of the page, in order.
fn chart_keys(html: &str) -> Vec<String> {
    html.match_indices("data-chart=\"")
        .map(|(i, m)| {
            let rest = &html[i + m.len()..];
            rest[..rest.find('"').unwrap()].to_owned()
        })
        .collect()
}

#[test]
fn every_section_is_present_and_every_string_is_escaped() {
    let report = judged();
    assert!(report.any_corrected && !report.warnings.is_empty() && report.generator.is_some());
    let html = render_html(&report);

    assert!(html.starts_with("<!DOCTYPE html>"));
    assert!(html.trim_end().ends_with("</html>"));
    for id in [
        "header",
        "warnings",
        "verdicts",
        "apdex",
        "expectation-totals",
        "figures",
        "timeline",
        "distribution",
        "percentiles",
        "breakdown",
        "endpoints",
        "endpoint-table",
        "corrected-table",
        "codes",
        "errors",
        "expectations",
        "traces",
        "traces-table",
        "vusers",
    ] {
        assert!(html.contains(&format!("id=\"{id}\"")), "section {id} is missing");
    }
    assert!(html.contains("<a href=\"#traces\">Slowest requests</a>"));
    // Every traced request kept is a row, with its trace id; a timeout shows its kind.
    assert!(!report.traced_requests.is_empty());
    for t in &report.traced_requests {
        assert!(html.contains(&format!("<code>{}</code>", t.trace_id)), "trace {} listed", t.trace_id);
    }
    assert!(html.contains("<td class=\"bad\">timeout</td>"));
    assert!(!html.contains("rel=\"noopener\""), "no links without --trace-link");
    // With a link template, each trace id is a link, and the template's markup is escaped.
    let mut linked = report.clone();
    linked.run.trace_link = Some("https://grafana.example/explore?q=\"<b>{trace_id}</b>&s={span_id}".into());
    let html_linked = render_html(&linked);
    let t = &report.traced_requests[0];
    assert!(html_linked.contains(&format!(
        "<a href=\"https://grafana.example/explore?q=&quot;&lt;b&gt;{}&lt;/b&gt;&amp;s={}\" rel=\"noopener\" target=\"_blank\"><code>{}</code></a>",
        t.trace_id, t.span_id, t.trace_id
    )));
    // Header: everything about the run, escaped.
    for text in [
        "examples/shop &amp; &lt;co&gt;.yml",
        "http://127.0.0.1:8080/?a=1&amp;b=&lt;2&gt;",
        "hornet run examples/shop.yml -o &quot;report.html&quot;",
        "2023-11-14 22:13:20.000 UTC",
        "2023-11-14 22:18:20.000 UTC",
        "5m00.0s",
        "<dt>Seed</dt><dd>42</dd>",
        "<dt>hornet</dt><dd>0.1.0</dd>",
        "<dt>Interrupted</dt><dd>no</dd>",
    ] {
        assert!(html.contains(text), "header lacks {text}");
    }
    assert!(!html.contains("id=\"interrupted\""));
    assert!(
        html.contains("<summary>Phases as planned</summary>") && html.contains("&quot;arrivalRate&quot;: 50")
    );
    // Warnings from the generator's health.
    assert!(html.contains("the generator used 95% CPU for 10 s"), "CPU warning");
    assert!(html.contains("falling behind its schedule"), "lag warning");
    // Verdicts.
    assert!(html.contains("FAILED: 1 of 4 check(s) failed (1 warning)"));
    assert!(html.contains("<span class=\"pill ok\">ok</span> <code>http.response_time.p95 &lt; 500</code>"));
    assert!(html.contains("<span class=\"pill fail\">FAIL</span> <code>errors.timeout &lt; 10</code>"));
    assert!(html.contains("<span class=\"pill warn\">warn</span> <code>http.request_rate &gt; 1000</code>"));
    assert!(html.contains(
        "<code>a &lt;b&gt; &amp; c</code> <span class=\"detail\">&lt;i&gt;not italic&lt;/i&gt;</span>"
    ));
    let apdex = report.apdex.unwrap();
    assert!(html.contains(&format!("{:.2} <small>{}</small>", apdex.score, apdex.rating)));
    // Tables.
    for name in ["GET /", "POST /login", "GET /items/{id}"] {
        assert!(html.contains(&format!("<td class=\"name\">{name}</td>")), "endpoint {name}");
    }
    assert!(html.contains("<td class=\"name\">Total</td>"));
    for header in
        ["Requests", "Failures", "RPS", "Min", "Median", "p90", "p95", "p99", "Max", "Mean", "Avg size"]
    {
        assert!(html.contains(&format!("<th>{header}</th>")), "column {header}");
    }
    for code in ["200", "201", "302", "404", "500"] {
        assert!(html.contains(&format!("<td data-v=\"{code}\"")), "status {code}");
    }
    for kind in ["timeout", "connect-refused", "cancelled"] {
        assert!(html.contains(&format!("<td class=\"name\">{kind}</td>")), "error kind {kind}");
    }
    assert!(html.contains("no response within 10s"));
    assert!(html.contains("<td class=\"name\">hasProperty</td>"));
    for phase in ["dns", "connect", "tls", "wait (TTFB)", "receive"] {
        assert!(html.contains(&format!("<div class=\"bar-label\">{phase}<small>")), "phase {phase}");
    }

    // Hostile strings appear escaped, never as markup.
    assert!(!html.contains(XSS_ENDPOINT) && !html.contains("alert(\"x\")</script>"));
    assert!(html.contains("&lt;script&gt;alert(1)&lt;/script&gt;"));
    assert!(html.contains("refused &lt;/script&gt;&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; &lt;!-- &#39;quoted&#39;"));
    // Exactly our four script elements: the error trap, the data, uPlot and the report's script.
    assert_eq!(html.matches("<script").count(), 4, "script elements");
    assert_eq!(html.matches("</script>").count(), 4);
    assert_eq!(html.matches("<!--").count(), 0);

    // The data blob parses and holds what the placeholders need.
    let data = data_blob(&html);
    let tl = &data["timeline"];
    let n = report.intervals.len();
    // 300 ticks: the last 120 at one second, the 180 before them merged into 10-second points.
    assert_eq!(n, 120 + 18, "{n} points");
    assert_eq!(tl["t"].as_array().unwrap().len(), n);
    for key in ["rps", "eps", "vus", "vusMax", "late", "dropped", "cpu", "cpuMax"] {
        assert_eq!(tl[key].as_array().map(Vec::len), Some(n), "timeline {key}");
    }
    for key in ["p50", "p90", "p95", "p99", "max", "p99c"] {
        assert_eq!(tl["lat"][key].as_array().map(Vec::len), Some(n), "latency {key}");
    }
    for class in ["2xx", "3xx", "4xx", "5xx"] {
        assert_eq!(tl["codes"][class].as_array().map(Vec::len), Some(n), "codes {class}");
    }
    let p99 = report.intervals[n - 10].summaries["http.response_time"].p99;
    assert!((tl["lat"]["p99"][n - 10].as_f64().unwrap() - p99).abs() < 0.0006);
    let x = data["dist"]["x"].as_array().unwrap();
    assert_eq!(data["dist"]["rt"].as_array().unwrap().len(), x.len());
    assert_eq!(data["dist"]["corrected"].as_array().unwrap().len(), x.len());
    assert_eq!(x[0], 1);
    let rt = report.summary("http.response_time").unwrap();
    assert_eq!(data["dist"]["rt"].as_array().unwrap().last().unwrap().as_f64(), Some(rt.max));
    let curve: Vec<f64> =
        data["dist"]["rt"].as_array().unwrap().iter().map(|v| v.as_f64().unwrap()).collect();
    assert!(curve.windows(2).all(|w| w[0] <= w[1]), "the percentile curve never goes down");
    assert_eq!(
        data["lagdist"]["x"].as_array().unwrap().len(),
        data["lagdist"]["lag"].as_array().unwrap().len()
    );
    // No base64 histogram is embedded.
    assert!(!html.contains("HISTF"));

    assert_eq!(chart_keys(&html), ["rps", "codes", "latency", "vus", "schedule", "cpu", "dist", "lagdist"]);
    // The percentile table matches the summary.
    assert!(html.contains(&format!("<tr><td>max</td><td>{}</td>", fmt_ms(rt.max))));
}

/// The summary's millisecond format.
fn fmt_ms(v: f64) -> String {
    if v < 10.0 {
        format!("{v:.2}")
    } else if v < 1000.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

#[test]
fn a_processors_metrics_have_their_section_under_their_own_names() {
    let mut agg = Aggregator::new(vec!["GET /".into()], vec!["s".into()]);
    for tick in 0..4u64 {
        let mut r = Recorder::new(1, 1);
        r.custom_counter("orders.made", 3.0);
        r.custom_counter(XSS_ENDPOINT, 1.0);
        r.custom_rate("logins");
        for v in [10.0, 20.0, 30.0 + tick as f64] {
            r.custom_histogram("cart.size", v);
        }
        agg.add_tick(Duration::from_secs(tick + 1), vec![r.take_interval()], 1);
    }
    let report = agg.report(meta(4, false));
    let html = render_html(&report);
    assert!(html.contains("<a href=\"#processor-metrics\">Processor metrics</a>"));
    assert!(html.contains("id=\"processor-counters\"") && html.contains("id=\"processor-histograms\""));
    let section = &html[html.find("id=\"processor-metrics\"").unwrap()..];
    let section = &section[..section.find("</section>").unwrap()];
    assert!(
        section.contains(
            "<td class=\"name\">orders.made</td><td class=\"name\">counter</td><td data-v=\"12\">12</td>"
        ),
        "{section}"
    );
    assert!(section.contains("<td class=\"name\">logins</td><td class=\"name\">rate</td>"), "{section}");
    let cart = &report.aggregate.summaries["cart.size"];
    assert_eq!(cart.count, 12);
    assert!(
        section.contains(&format!(
            "<td class=\"name\">cart.size</td><td data-v=\"12\">12</td><td data-v=\"{}\">{:.2}</td>",
            cart.min, cart.min
        )),
        "{section}"
    );
    assert!(section.contains("&lt;script&gt;") && !section.contains(XSS_ENDPOINT), "names are escaped");
    // hornet's own metrics stay out of it, and a run without a processor has no such section.
    assert!(!section.contains("http.") && !section.contains("vusers."), "{section}");
    let plain = render_html(&judged());
    assert!(!plain.contains("processor-metrics"));
}

/// A report with nothing in it: no request, no check, no timeline (as an older or empty report).
fn empty() -> Report {
    let agg = Aggregator::new(vec!["GET /".into()], vec!["s".into()]);
    let mut r = agg.report(meta(0, true));
    r.run.script = None;
    r.run.target = None;
    r
}

/// 20 ticks against a dead server: every request is refused, so there is no latency at all.
fn dead() -> Report {
    let mut agg = Aggregator::new(vec!["GET /".into()], vec!["s".into()]);
    let mut r = Recorder::new(1, 1);
    for tick in 0..20 {
        for _ in 0..5 {
            r.vu_created(0);
            r.request_sent(0, 100);
            r.error(Some(0), ErrorKind::ConnectRefused, &"connection refused (os error 111)");
            r.vu_failed();
        }
        agg.add_tick(Duration::from_secs(tick + 1), vec![r.take_interval()], 5);
    }
    agg.report(meta(20, false))
}

/// 10 ticks of a WebSocket run mixed with an HTTP login: the WebSocket section and chart.
fn websocket() -> Report {
    let mut agg = Aggregator::new(
        vec!["POST /login".into(), "WS connect /ws/echo".into(), "echo <id>".into()],
        vec!["s".into()],
    );
    agg.set_protocols(vec![Protocol::Http, Protocol::Ws, Protocol::Ws]);
    let mut r = Recorder::new(3, 1);
    for tick in 0..10u64 {
        r.vu_created(0);
        r.request_sent(0, 100);
        r.response(0, 200, &Timings { total: Duration::from_millis(3), ..Timings::default() }, 60);
        r.ws_step_started(1);
        r.ws_connected(1, Duration::from_micros(700 + tick * 10));
        for n in 0..20 {
            r.ws_step_started(2);
            r.ws_message_sent(30);
            r.ws_message_received(30);
            r.ws_reply(2, Duration::from_micros(200 + n * 50 + tick), 30, 30);
        }
        r.ws_closed(1000);
        r.vu_completed(Duration::from_secs(1));
        agg.add_tick(Duration::from_secs(tick + 1), vec![r.take_interval()], 1);
    }
    agg.report(meta(10, false))
}

#[test]
fn websocket_runs_have_their_section_and_chart_and_http_tables_stay_http() {
    let html = render_html(&websocket());
    assert!(html.contains("<section id=\"websocket\">"));
    assert!(html.contains("echo &lt;id&gt;"), "step names are escaped");
    assert!(chart_keys(&html).contains(&"ws".to_string()));
    let endpoints = &html[html.find("id=\"endpoint-table\"").unwrap_or(0)
        ..html.find("<section id=\"websocket\">").unwrap_or(0)];
    assert!(endpoints.contains("POST /login") && !endpoints.contains("echo &lt;id&gt;"));
    let plain = render_html(&run(3, 2, TimelinePolicy::default()));
    assert!(!plain.contains("id=\"websocket\"") && !chart_keys(&plain).contains(&"ws".to_string()));
}

#[test]
fn a_run_without_responses_has_no_latency_charts() {
    let html = render_html(&dead());
    assert_eq!(chart_keys(&html), ["rps", "vus"]);
    assert!(data_blob(&html)["timeline"].get("lat").is_none());
    assert!(html.contains("No response time was recorded."));
    assert!(html.contains("connection refused (os error 111)"));
}

#[test]
fn an_empty_interrupted_report_still_renders() {
    let html = render_html(&empty());
    assert!(html.contains("id=\"interrupted\""));
    assert!(html.contains("<dt>Interrupted</dt><dd><b class=\"bad\">yes</b></dd>"));
    assert!(html.contains("No checks were configured."));
    assert!(html.contains("The report has no timeline."));
    assert!(html.contains("No response time was recorded."));
    assert!(html.contains("No errors."));
    assert!(chart_keys(&html).is_empty());
    assert_eq!(data_blob(&html), serde_json::json!({}));
    assert!(!html.contains("id=\"apdex\"") && !html.contains("id=\"warnings\""));
    // Missing or broken histograms (an older or edited report) leave the charts out, not panic.
    let mut r = judged();
    for h in r.aggregate.histograms.values_mut() {
        *h = "garbage".into();
    }
    let html = render_html(&r);
    assert!(!chart_keys(&html).contains(&"dist".to_owned()));
    assert!(chart_keys(&html).contains(&"latency".to_owned()));
}

#[test]
fn write_html_replaces_atomically() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("report.html");
    std::fs::write(&path, "old").unwrap();
    let report = empty();
    write_html(&report, &path).unwrap();
    assert_eq!(std::fs::read_to_string(&path).unwrap(), render_html(&report));
    let names: Vec<_> = std::fs::read_dir(dir.path()).unwrap().map(|e| e.unwrap().file_name()).collect();
    assert_eq!(names, ["report.html"]);
    assert!(write_html(&report, &dir.path().join("missing").join("r.html")).is_err());
    assert_eq!(std::fs::read_dir(dir.path()).unwrap().count(), 1);
}

#[test]
fn a_one_hour_run_stays_under_two_megabytes() {
    // The aggregator's default timeline (1-s points for the last 10 min, 10-s points before).
    let report = run(3600, 30, TimelinePolicy::default());
    let html = render_html(&report);
    eprintln!(
        "1-hour run: {} timeline points, HTML report {} bytes ({:.1} KiB); JSON report {} bytes",
        report.intervals.len(),
        html.len(),
        html.len() as f64 / 1024.0,
        report.to_json().unwrap().len()
    );
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
    assert_eq!(data_blob(&html)["timeline"]["t"].as_array().unwrap().len(), report.intervals.len());

    // Even with every one of the 3600 ticks kept as its own point.
    let mut flat = report.clone();
    flat.intervals = (0..3600).map(|i| report.intervals[i % report.intervals.len()].clone()).collect();
    for (i, p) in flat.intervals.iter_mut().enumerate() {
        p.t_s = i as f64;
        p.duration_s = 1.0;
    }
    let html = render_html(&flat);
    eprintln!(
        "1-hour run, 3600 points kept: HTML report {} bytes ({:.1} KiB)",
        html.len(),
        html.len() as f64 / 1024.0
    );
    assert!(html.len() < 2_000_000, "{} bytes", html.len());
}

// ---------------------------------------------------------------------------------------------
// In a browser

/// `target/test-output/html/`, created.
fn output_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .unwrap_or_else(|| Path::new(env!("CARGO_MANIFEST_DIR")).join("../../target"));
    let dir = target.join("test-output").join("html");
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Chromium, if installed (else the test is skipped, or fails with `CI` set).
fn chromium() -> Option<PathBuf> {
    hornet_testkit::require_tool(
        "the_page_draws_every_chart_in_a_browser",
        &["/usr/bin/chromium"],
        &["chromium", "chromium-browser"],
        "apt-get install -y chromium",
    )
}

#[test]
fn the_page_draws_every_chart_in_a_browser() {
    let Some(chrome) = chromium() else { return };
    let dir = output_dir();
    // A realistic run, a single tick with a single response (one point per series), a dead server
    // (no latency at all) and nothing.
    let pages = [
        ("report", judged()),
        ("tiny", run(1, 1, TimelinePolicy::default())),
        ("dead", dead()),
        ("empty", empty()),
        ("websocket", websocket()),
    ];
    for (name, report) in pages {
        let path = dir.join(format!("{name}.html"));
        write_html(&report, &path).unwrap();
        let path = path.canonicalize().unwrap();
        let url = format!("file://{}", path.display());
        let html = std::fs::read_to_string(&path).unwrap();
        let charts = chart_keys(&html).len();

        let dom = headless(&chrome, &format!("{url}?selftest"), &["--dump-dom".to_owned()]);
        assert!(dom.contains("id=\"selftest\">ok"), "{name}: self-test verdict {:?}", selftest_verdict(&dom));
        assert_eq!(selftest_verdict(&dom), Some(format!("ok {charts} charts").as_str()), "{name}");
        // Without ?selftest the page shows no verdict.
        let plain = headless(&chrome, &url, &["--dump-dom".to_owned()]);
        assert!(plain.contains("id=\"hornet-data\"") && !plain.contains("id=\"selftest\""), "{name}");

        let shot = dir.join(format!("{name}.png"));
        let _ = std::fs::remove_file(&shot);
        headless(
            &chrome,
            &url,
            &[format!("--screenshot={}", shot.display()), "--window-size=1400,2400".to_owned()],
        );
        assert!(
            std::fs::metadata(&shot).map(|m| m.len() > 10_000).unwrap_or(false),
            "{name}: screenshot {}",
            shot.display()
        );
    }

    // The self-check catches what it is there for: a chart it cannot draw and a script error.
    let html = render_html(&judged())
        .replacen("<div class=\"chart\" data-chart=\"vus\">", "<div class=\"chart\" data-chart=\"nope\">", 1)
        .replacen("</main>", "</main>\n<script>console.error('boom');</script>", 1);
    let path = dir.join("broken.html");
    std::fs::write(&path, html).unwrap();
    let url = format!("file://{}?selftest", path.canonicalize().unwrap().display());
    let dom = headless(&chrome, &url, &["--dump-dom".to_owned()]);
    let verdict = selftest_verdict(&dom).expect("a verdict");
    assert!(verdict.starts_with("FAIL: "), "{verdict}");
    assert!(verdict.contains("nope: no canvas") && verdict.contains("unknown chart nope"), "{verdict}");
    assert!(verdict.contains("console.error: boom"), "{verdict}");
}
