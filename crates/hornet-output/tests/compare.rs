//! Comparing two runs, on reports built through the metrics pipeline (Recorder → Aggregator →
//! Report) from known latencies.

use std::time::{Duration, UNIX_EPOCH};

use hornet_metrics::{Aggregator, ErrorKind, Recorder, Report, RunMeta, Timings};
use hornet_output::compare::{
    CompareError, CompareOptions, Comparison, EndpointComparison, MetricChange, Verdict, compare,
    render_html_section, render_text,
};

/// One endpoint of a constructed run: its name, the latency of each response (µs) and how many
/// further requests failed (timed out, no response).
struct Ep {
    name: &'static str,
    latencies_us: Vec<u64>,
    errors: u64,
}

fn ep(name: &'static str, latencies_us: Vec<u64>) -> Ep {
    Ep { name, latencies_us, errors: 0 }
}

fn timings(us: u64) -> Timings {
    Timings {
        dns: None,
        connect: None,
        tls: None,
        wait: Duration::from_micros(us * 9 / 10),
        receive: Duration::from_micros(us / 10),
        total: Duration::from_micros(us),
        corrected: None,
    }
}

/// A report of `endpoints` over a measured `secs` seconds.
fn report(endpoints: &[Ep], secs: u64) -> Report {
    let mut r = Recorder::new(endpoints.len(), 1);
    for (i, e) in endpoints.iter().enumerate() {
        let id = i as u32;
        for &us in &e.latencies_us {
            r.vu_created(0);
            r.request_sent(id, 100);
            r.response(id, 200, &timings(us), 1_000);
            r.vu_completed(Duration::from_micros(us));
        }
        for _ in 0..e.errors {
            r.vu_created(0);
            r.request_sent(id, 100);
            r.error(Some(id), ErrorKind::Timeout, &"request timed out");
            r.vu_failed();
        }
    }
    // An error outside any request: not part of any error rate.
    r.error(None, ErrorKind::Cancelled, &"run interrupted");
    let names = endpoints.iter().map(|e| e.name.to_owned()).collect();
    let mut agg = Aggregator::new(names, vec!["main".into()]);
    agg.add_tick(Duration::from_secs(secs), vec![r.take_interval()], 0);
    agg.report(RunMeta {
        script: Some("bench.yml".into()),
        target: Some("http://127.0.0.1:8080".into()),
        started_at: UNIX_EPOCH + Duration::from_secs(1_700_000_000),
        seed: 1,
        phases: serde_json::json!([]),
        command: "hornet run bench.yml".into(),
        ..RunMeta::for_tests(Duration::from_secs(secs))
    })
}

/// A deterministic generator (hornet's seeded SplitMix64), so the figures are the same every run.
struct Rng(u64);

impl Rng {
    fn next_u64(&mut self) -> u64 {
        hornet_script::rng::next(&mut self.0)
    }

    /// Uniform in (0, 1].
    fn unit(&mut self) -> f64 {
        ((self.next_u64() >> 11) + 1) as f64 / (1_u64 << 53) as f64
    }

    /// Standard normal (Box-Muller).
    fn normal(&mut self) -> f64 {
        let (u1, u2) = (self.unit(), self.unit());
        (-2.0 * u1.ln()).sqrt() * (std::f64::consts::TAU * u2).cos()
    }
}

/// `n` log-normal latencies (µs) with a median of 20 ms and σ = 0.5 (p99 ≈ 64 ms).
fn lognormal(seed: u64, n: usize) -> Vec<u64> {
    let mut rng = Rng(seed);
    (0..n).map(|_| (20_000.0 * (0.5 * rng.normal()).exp()).round() as u64).collect()
}

fn scaled(v: &[u64], factor: f64) -> Vec<u64> {
    v.iter().map(|&us| (us as f64 * factor).round() as u64).collect()
}

fn cmp(b: &Report, c: &Report) -> Comparison {
    compare(b, c, &CompareOptions::default()).expect("reports compare")
}

fn endpoint<'a>(c: &'a Comparison, name: &str) -> &'a EndpointComparison {
    c.endpoints.iter().find(|e| e.name == name).unwrap_or_else(|| panic!("no endpoint {name:?} in {c:#?}"))
}

fn metric<'a>(e: &'a EndpointComparison, name: &str) -> &'a MetricChange {
    e.changes.iter().find(|m| m.name == name).unwrap_or_else(|| panic!("no metric {name:?} in {e:#?}"))
}

fn verdicts(e: &EndpointComparison) -> Vec<(&'static str, Verdict)> {
    e.changes.iter().map(|m| (m.name, m.verdict)).collect()
}

const LATENCY: [&str; 3] = ["p50", "p95", "p99"];

#[test]
fn identical_reports_are_all_same() {
    let eps = || vec![ep("GET /", lognormal(1, 2000)), ep("POST /login", vec![10_000; 500])];
    let (b, c) = (report(&eps(), 10), report(&eps(), 10));
    let cmp = cmp(&b, &c);
    assert!(!cmp.worse());
    let names: Vec<&str> = cmp.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["GET /", "POST /login", "Total"]);
    for e in &cmp.endpoints {
        assert_eq!(e.verdict, Verdict::Same, "{e:#?}");
        let metrics: Vec<&str> = e.changes.iter().map(|m| m.name).collect();
        assert_eq!(metrics, ["rps", "error rate", "p50", "p95", "p99"]);
        for m in &e.changes {
            assert_eq!(
                (m.verdict, m.baseline, m.change, m.note.as_str()),
                (Verdict::Same, m.candidate, 0.0, "no change")
            );
        }
    }
    assert!(cmp.only_in_baseline.is_empty() && cmp.only_in_candidate.is_empty());
    // The figures are the ones the summary shows.
    let e = endpoint(&cmp, "POST /login");
    assert_eq!(metric(e, "rps").baseline, 50.0);
    assert_eq!(metric(e, "p99").baseline, 10.0);
    assert_eq!(metric(e, "error rate").baseline, 0.0);
    assert_eq!(metric(endpoint(&cmp, "Total"), "rps").baseline, 250.0);
}

#[test]
fn six_times_slower_candidate_is_worse() {
    let b = report(&[ep("GET /", vec![10_000; 500])], 10);
    let c = report(&[ep("GET /", vec![60_000; 500])], 10);
    let cmp = cmp(&b, &c);
    assert!(cmp.worse());
    for name in ["GET /", "Total"] {
        let e = endpoint(&cmp, name);
        assert_eq!(e.verdict, Verdict::Worse);
        for p in LATENCY {
            let m = metric(e, p);
            assert_eq!((m.verdict, m.baseline, m.candidate), (Verdict::Worse, 10.0, 60.0), "{m:#?}");
            assert!((m.change - 5.0).abs() < 1e-9, "{m:#?}");
            assert!(m.note.starts_with("beyond noise: 99% intervals"), "{}", m.note);
        }
        assert_eq!(metric(e, "rps").verdict, Verdict::Same);
        assert_eq!(metric(e, "error rate").verdict, Verdict::Same);
    }
}

#[test]
fn doubled_latencies_are_worse() {
    let base = lognormal(7, 2000);
    let b = report(&[ep("GET /", base.clone())], 10);
    let c = report(&[ep("GET /", scaled(&base, 2.0))], 10);
    let cmp = cmp(&b, &c);
    assert!(cmp.worse());
    let e = endpoint(&cmp, "GET /");
    assert_eq!(e.verdict, Verdict::Worse);
    for p in LATENCY {
        let m = metric(e, p);
        assert_eq!(m.verdict, Verdict::Worse, "{m:#?}");
        assert!((m.change - 1.0).abs() < 0.01, "{m:#?}");
    }
    assert_eq!(endpoint(&cmp, "Total").verdict, Verdict::Worse);
}

#[test]
fn faster_candidate_is_better() {
    let base = lognormal(11, 2000);
    let b = report(&[ep("GET /", base.clone())], 10);
    let c = report(&[ep("GET /", scaled(&base, 0.5))], 10);
    let cmp = cmp(&b, &c);
    assert!(!cmp.worse());
    for name in ["GET /", "Total"] {
        let e = endpoint(&cmp, name);
        assert_eq!(
            verdicts(e),
            [
                ("rps", Verdict::Same),
                ("error rate", Verdict::Same),
                ("p50", Verdict::Better),
                ("p95", Verdict::Better),
                ("p99", Verdict::Better)
            ]
        );
        // Nothing got worse and something got better.
        assert_eq!(e.verdict, Verdict::Better);
        assert!((metric(e, "p50").change + 0.5).abs() < 0.01);
    }
}

#[test]
fn samples_of_the_same_distribution_are_same() {
    // Ten pairs of independent samples of one log-normal distribution, 2000 values each.
    for seed in 0..10_u64 {
        let b = report(&[ep("GET /", lognormal(100 + seed, 2000))], 10);
        let c = report(&[ep("GET /", lognormal(200 + seed, 2000))], 10);
        let cmp = cmp(&b, &c);
        assert!(!cmp.worse(), "seed {seed}: {cmp:#?}");
        for e in &cmp.endpoints {
            assert_eq!(e.verdict, Verdict::Same, "seed {seed}: {e:#?}");
            for p in LATENCY {
                let m = metric(e, p);
                assert!(m.baseline != m.candidate || p == "p50", "samples should differ: {m:#?}");
                assert!(
                    m.note.starts_with("within the 10% threshold") || m.note.starts_with("within noise"),
                    "{m:#?}"
                );
            }
        }
    }
}

#[test]
fn a_large_change_on_few_values_is_noise() {
    // p99 from 60 values rests on the slowest value or two, which differ a lot between samples: it
    // is not judged at all (5 values beyond p99 take 500 values).
    let b = report(&[ep("GET /", lognormal(1, 60))], 10);
    let c = report(&[ep("GET /", scaled(&lognormal(2, 60), 1.3))], 10);
    let m = metric(endpoint(&cmp(&b, &c), "GET /"), "p99").clone();
    assert!(m.change.abs() > 0.1, "{m:#?}");
    assert_eq!(m.verdict, Verdict::Same, "{m:#?}");
    assert_eq!(m.note, "too few samples for p99 (60 and 60, need 500)", "{m:#?}");
}

#[test]
fn fewer_than_twenty_samples_are_same() {
    let b = report(&[ep("GET /", vec![10_000; 19])], 10);
    let c = report(&[ep("GET /", vec![60_000; 19])], 10);
    let cmp = cmp(&b, &c);
    assert!(!cmp.worse());
    for e in &cmp.endpoints {
        assert_eq!(e.verdict, Verdict::Same);
        for m in &e.changes {
            assert_eq!(m.verdict, Verdict::Same);
            assert!(m.note.starts_with("too few samples"), "{m:#?}");
        }
    }
    assert_eq!(metric(endpoint(&cmp, "GET /"), "p99").candidate, 60.0);
}

#[test]
fn threshold_decides_whether_a_real_change_counts() {
    // +5 % on 2000 identical values: certainly real, but below a 10 % threshold.
    let b = report(&[ep("GET /", vec![20_000; 2000])], 10);
    let c = report(&[ep("GET /", vec![21_000; 2000])], 10);
    let default = cmp(&b, &c);
    assert!(!default.worse());
    let m = metric(endpoint(&default, "GET /"), "p95");
    assert_eq!((m.verdict, m.note.as_str()), (Verdict::Same, "within the 10% threshold"));
    let strict = compare(&b, &c, &CompareOptions { threshold: 0.02 }).unwrap();
    assert!(strict.worse());
    assert_eq!(metric(endpoint(&strict, "GET /"), "p95").verdict, Verdict::Worse);
}

#[test]
fn error_rate_from_zero_to_twenty_percent_is_worse() {
    let b = report(&[ep("GET /", vec![10_000; 500])], 10);
    let c = report(&[Ep { name: "GET /", latencies_us: vec![10_000; 400], errors: 100 }], 10);
    let cmp = cmp(&b, &c);
    assert!(cmp.worse());
    for name in ["GET /", "Total"] {
        let e = endpoint(&cmp, name);
        let m = metric(e, "error rate");
        assert_eq!((m.verdict, m.baseline, m.candidate), (Verdict::Worse, 0.0, 0.2), "{m:#?}");
        // The change of an error rate is in absolute points.
        assert!((m.change - 0.2).abs() < 1e-12);
        assert_eq!(e.verdict, Verdict::Worse);
        // Same requests and latencies otherwise.
        assert_eq!(metric(e, "rps").verdict, Verdict::Same);
        assert_eq!(metric(e, "p99").verdict, Verdict::Same);
    }
    // Fixing the errors is better.
    let back = compare(&c, &b, &CompareOptions::default()).unwrap();
    assert!(!back.worse());
    assert_eq!(metric(endpoint(&back, "GET /"), "error rate").verdict, Verdict::Better);
}

#[test]
fn a_few_errors_are_noise() {
    // 0 → 3 errors in 2000 requests (0.15 %): within the binomial noise.
    let b = report(&[ep("GET /", vec![10_000; 2000])], 10);
    let c = report(&[Ep { name: "GET /", latencies_us: vec![10_000; 1997], errors: 3 }], 10);
    let m = metric(endpoint(&cmp(&b, &c), "GET /"), "error rate").clone();
    assert_eq!(m.verdict, Verdict::Same, "{m:#?}");
    assert!(m.note.starts_with("within noise"), "{m:#?}");
}

#[test]
fn request_rate_is_judged_with_poisson_noise() {
    let b = report(&[ep("GET /", vec![10_000; 1000])], 10);
    // Twice the requests in the same time: more throughput is better.
    let c = report(&[ep("GET /", vec![10_000; 2000])], 10);
    let m = metric(endpoint(&cmp(&b, &c), "GET /"), "rps").clone();
    assert_eq!((m.verdict, m.baseline, m.candidate, m.change), (Verdict::Better, 100.0, 200.0, 1.0));
    // Half: worse.
    let m = metric(endpoint(&cmp(&c, &b), "GET /"), "rps").clone();
    assert_eq!(m.verdict, Verdict::Worse);
    // 1000 vs 1150: +15 %, but within the Poisson intervals (±2.576·√N ≈ ±8 %).
    let c = report(&[ep("GET /", vec![10_000; 1150])], 10);
    let m = metric(endpoint(&cmp(&b, &c), "GET /"), "rps").clone();
    assert_eq!(m.verdict, Verdict::Same, "{m:#?}");
    assert!(m.note.starts_with("within noise"), "{m:#?}");
}

#[test]
fn endpoints_in_only_one_run_are_listed() {
    let b = report(&[ep("GET /", vec![10_000; 100]), ep("GET /old", vec![10_000; 100])], 10);
    let c = report(
        &[ep("GET /new", vec![10_000; 100]), ep("GET /", vec![10_000; 100]), ep("GET /beta", vec![1; 30])],
        10,
    );
    let cmp = cmp(&b, &c);
    let names: Vec<&str> = cmp.endpoints.iter().map(|e| e.name.as_str()).collect();
    assert_eq!(names, ["GET /", "Total"]);
    assert_eq!(cmp.only_in_baseline, ["GET /old"]);
    assert_eq!(cmp.only_in_candidate, ["GET /new", "GET /beta"]);
    let text = render_text(&cmp);
    assert!(text.contains("Only in baseline (not compared): GET /old\n"), "{text}");
    assert!(text.contains("Only in candidate (not compared): GET /new, GET /beta\n"), "{text}");
    let html = render_html_section(&cmp);
    assert!(html.contains("<li>GET /old</li>") && html.contains("<li>GET /beta</li>"), "{html}");
}

/// The cells of the table rows of `text` (between `|`), trimmed.
fn rows(text: &str) -> Vec<Vec<String>> {
    text.lines()
        .filter(|l| l.starts_with('|'))
        .map(|l| l.split('|').map(|c| c.trim().to_owned()).collect::<Vec<_>>())
        .map(|cells| cells[1..cells.len() - 1].to_vec())
        .collect()
}

#[test]
fn text_shows_every_endpoint_figure_and_verdict() {
    let b = report(&[ep("GET /", vec![10_000; 500]), ep("POST /login", lognormal(3, 500))], 10);
    let c = report(&[ep("GET /", vec![60_000; 500]), ep("POST /login", lognormal(3, 500))], 10);
    let cmp = cmp(&b, &c);
    let text = render_text(&cmp);
    assert!(text.starts_with("Comparison: candidate vs baseline"), "{text}");
    assert!(text.contains("threshold 10%"), "{text}");
    let rows = rows(&text);
    assert_eq!(rows[0], ["Endpoint", "Metric", "Baseline", "Candidate", "Change", "Verdict", "Note"]);
    // 3 endpoints (with Total) × 5 figures.
    assert_eq!(rows.len(), 1 + 15, "{text}");
    let p99 = rows.iter().position(|r| r[0] == "GET /").unwrap() + 4;
    assert_eq!(rows[p99][..6], ["", "p99", "10.0 ms", "60.0 ms", "^ +500.0%", "WORSE"]);
    let login = rows.iter().position(|r| r[0] == "POST /login").unwrap();
    assert_eq!(rows[login][..6], ["POST /login", "rps", "50.0/s", "50.0/s", "= +0.0%", "same"]);
    assert_eq!(rows[login + 1][..6], ["", "error rate", "0.00%", "0.00%", "= +0.00 pt", "same"]);
    assert!(rows.iter().any(|r| r[0] == "Total"), "{text}");
    assert!(
        text.contains("\nVerdict by endpoint\n  WORSE   GET /\n  same    POST /login\n  WORSE   Total\n"),
        "{text}"
    );
    assert!(text.ends_with("\nResult: WORSE: 2 of 3 regressed (GET /, Total)\n"), "{text}");
    assert!(text.is_ascii(), "{text}");

    // And the other way round: better, with a down arrow.
    let text = render_text(&compare(&c, &b, &CompareOptions::default()).unwrap());
    assert!(text.contains(" v -83.3% | better  |"), "{text}");
    assert!(text.contains("  better  GET /\n"), "{text}");
    assert!(text.ends_with("\nResult: better: 2 of 3 improved, none regressed\n"), "{text}");
    let same = render_text(&compare(&b, &b, &CompareOptions::default()).unwrap());
    assert!(same.ends_with("\nResult: same: no significant change\n"), "{same}");
}

#[test]
fn html_fragment_escapes_names_and_shows_verdicts() {
    let evil = "<script>alert('x')</script> & \"co\"";
    let b = report(&[ep(evil, vec![10_000; 500]), ep("only <b>here</b>", vec![1; 5])], 10);
    let c = report(&[ep(evil, vec![60_000; 500])], 10);
    let cmp = cmp(&b, &c);
    let html = render_html_section(&cmp);
    assert!(
        html.starts_with("<section class=\"hornet-compare\">") && html.ends_with("</section>\n"),
        "{html}"
    );
    assert!(!html.contains("<script>") && !html.contains("<b>"), "{html}");
    assert!(html.contains("&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &quot;co&quot;"), "{html}");
    assert!(html.contains("<li>only &lt;b&gt;here&lt;/b&gt;</li>"), "{html}");
    assert!(html.contains("<td class=\"worse\">worse</td>"), "{html}");
    assert!(html.contains("<td class=\"same\">same</td>"), "{html}");
    assert!(html.contains(">Total<br><span class=\"worse\">worse</span></th>"), "{html}");
    assert!(html.contains("<p class=\"result worse\">Result: WORSE: 2 of 2 regressed ("), "{html}");
    // Balanced markup: every opened row and cell is closed.
    for tag in ["tr", "td", "table", "ul", "p"] {
        assert_eq!(
            html.matches(&format!("<{tag}>")).count() + html.matches(&format!("<{tag} ")).count(),
            html.matches(&format!("</{tag}>")).count(),
            "<{tag}> in {html}"
        );
    }
    // The text output shows the (one-line) name as is.
    assert!(render_text(&cmp).contains(evil));
}

#[test]
fn reports_read_back_from_json_compare_the_same() {
    let b = report(&[ep("GET /", lognormal(5, 1000))], 10);
    let c = report(&[ep("GET /", scaled(&lognormal(6, 1000), 1.5))], 10);
    let direct = cmp(&b, &c);
    let read = |r: &Report| Report::from_json(&r.to_json().unwrap()).unwrap();
    assert_eq!(cmp(&read(&b), &read(&c)), direct);
    assert!(direct.worse());
}

#[test]
fn bad_inputs_are_errors() {
    let b = report(&[ep("GET /", vec![10_000; 100])], 10);
    for t in [-0.1, f64::NAN, f64::INFINITY] {
        assert!(matches!(
            compare(&b, &b, &CompareOptions { threshold: t }),
            Err(CompareError::InvalidThreshold(_))
        ));
    }
    let mut broken = b.clone();
    broken.endpoints[0].histogram = "not a histogram".into();
    let err = compare(&b, &broken, &CompareOptions::default()).unwrap_err();
    assert!(
        matches!(&err, CompareError::Histogram { run: "candidate", endpoint, .. } if endpoint == "GET /")
    );
    assert!(err.to_string().contains("candidate report's histogram of \"GET /\""), "{err}");
    let mut missing = b.clone();
    missing.aggregate.histograms.clear();
    let err = compare(&missing, &b, &CompareOptions::default()).unwrap_err();
    assert!(matches!(err, CompareError::MissingHistogram { run: "baseline" }), "{err}");
}

#[test]
fn a_run_without_duration_has_no_rate_verdict() {
    let b = report(&[ep("GET /", vec![10_000; 100])], 10);
    let mut c = report(&[ep("GET /", vec![10_000; 100])], 10);
    c.run.duration_s = 0.0;
    let cmp = cmp(&b, &c);
    let m = metric(endpoint(&cmp, "GET /"), "rps");
    assert_eq!(m.verdict, Verdict::Same);
    assert!(m.note.starts_with("too few samples"), "{m:#?}");
}
