//! The capacity page in a browser: both charts draw (the page's `?selftest` verdict), for an open
//! and a closed search, and the page reads the same without JavaScript.

use hornet_capacity::result::{Capacity, Conclusion, SCHEMA, SettingsReport, Step};
use hornet_capacity::search::{Outcome, Stage};
use hornet_capacity::step::{Judgement, Latency, Model, StepFigures, Verdict};
use hornet_testkit::chromium::{headless, selftest_verdict};

/// A search of a system that holds up to `limit`, with `loads` offered in order.
fn search(model: Model, loads: &[f64], limit: f64) -> Capacity {
    let steps = loads
        .iter()
        .enumerate()
        .map(|(i, &offered)| {
            let pass = offered <= limit;
            let achieved = offered.min(limit);
            let p50 = if pass { 20.0 } else { 20.0 * offered / limit * 10.0 };
            Step {
                index: i + 1,
                stage: if i + 1 == loads.len() { Stage::Hold } else { Stage::Grow },
                started_s: i as f64 * 6.0,
                figures: StepFigures {
                    offered,
                    window_s: 3.0,
                    achieved,
                    concurrency: if model == Model::Closed { offered } else { achieved * p50 / 1000.0 },
                    latency: Latency {
                        p50,
                        p95: p50 * 1.3,
                        p99: p50 * 1.6,
                        mean: p50,
                        p99_corrected: p50 * 1.6,
                    },
                    ..StepFigures::default()
                },
                judgement: Judgement {
                    verdict: if pass { Verdict::Pass } else { Verdict::Breach },
                    reasons: if pass { vec![] } else { vec!["SLO failed: <p95> & more".to_owned()] },
                },
            }
        })
        .collect();
    let mut c = Capacity {
        schema: SCHEMA,
        hornet_version: "0.1.0".to_owned(),
        command: "hornet capacity s.yaml --slo 'p95<300ms'".to_owned(),
        script: Some("s.yaml".to_owned()),
        target: Some("http://127.0.0.1:8080".to_owned()),
        started_at: "2026-01-01T00:00:00.000Z".to_owned(),
        model,
        unit: model.unit(),
        throughput_unit: model.throughput_unit(),
        slo: vec!["p95<300ms".to_owned()],
        settings: SettingsReport {
            start: loads[0],
            max: loads[0] * 1000.0,
            step_s: 3.0,
            warmup_s: 1.0,
            precision: 0.05,
            hold_s: 6.0,
            threads: 2,
        },
        steps,
        outcome: Some(Outcome::Found {
            load: *loads.last().unwrap(),
            verified: true,
            step_downs: 0,
            reached_max: false,
        }),
        interrupted: false,
        conclusion: Conclusion::default(),
    };
    c.conclude();
    c
}

#[test]
fn both_charts_draw_in_a_browser() {
    let Some(chrome) = hornet_testkit::require_tool(
        "both_charts_draw_in_a_browser",
        &["/usr/bin/chromium"],
        &["chromium", "chromium-browser"],
        "apt-get install -y chromium",
    ) else {
        return;
    };
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join("capacity-page");
    std::fs::create_dir_all(&dir).unwrap();
    for (name, c) in [
        ("open", search(Model::Open, &[50.0, 75.0, 112.5, 168.8, 253.1, 210.9, 189.8, 195.1, 195.1], 200.0)),
        (
            "closed",
            search(Model::Closed, &[1.0, 2.0, 3.0, 5.0, 8.0, 12.0, 18.0, 27.0, 22.0, 20.0, 19.0, 19.0], 19.0),
        ),
    ] {
        let path = dir.join(format!("{name}.html"));
        std::fs::write(&path, hornet_capacity::html::render(&c)).unwrap();
        let url = format!("file://{}", path.canonicalize().unwrap().display());
        let dom = headless(&chrome, &format!("{url}?selftest"), &["--dump-dom".to_owned()]);
        assert_eq!(selftest_verdict(&dom), Some("ok 2 charts"), "{name}");
        let plain = headless(&chrome, &url, &["--dump-dom".to_owned()]);
        assert!(!plain.contains("id=\"selftest\""), "{name}: no verdict without ?selftest");
        // Text from the steps is escaped, and the result reads without the charts.
        assert!(
            plain.contains("SLO failed: &lt;p95&gt; &amp; more") && plain.contains("id=\"max\""),
            "{name}"
        );
    }
}
