//! The Grafana dashboard in deploy/grafana/hornet.json is built on what hornet exports: every
//! series a query names is one the exporter writes (a family's sample name), every label it matches
//! or groups by is one the exporter sets, every histogram query reads the classic buckets or the
//! native histogram (`--prometheus-rw-native`) alike, and the panels the dashboard promises are there.
//! (crates/hornet/tests/prometheus.rs also runs every query against a real Prometheus holding a
//! run, and requires an answer from each.)

use std::collections::BTreeSet;

use hornet_export::frame::{FAMILIES, Kind};
use serde_json::Value;

fn dashboard() -> Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../deploy/grafana/hornet.json");
    let text = std::fs::read_to_string(path).expect("deploy/grafana/hornet.json");
    serde_json::from_str(&text).expect("the dashboard is JSON")
}

/// Every PromQL text of the dashboard: the panels' targets and the variables' queries.
fn queries(d: &Value) -> Vec<String> {
    let mut out: Vec<String> = d["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .flat_map(|p| p["targets"].as_array().cloned().unwrap_or_default())
        .map(|t| t["expr"].as_str().expect("a target's expr").to_owned())
        .collect();
    for v in d["templating"]["list"].as_array().expect("variables") {
        if v["type"] == "query" {
            out.push(v["query"]["query"].as_str().expect("a variable's query").to_owned());
        }
    }
    out
}

/// The names of the samples the exporter writes.
fn sample_names() -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    for (name, kind, _) in FAMILIES {
        let suffixes: &[&str] = match kind {
            Kind::Counter => &["_total"],
            Kind::Gauge => &[""],
            // The bare name is the native histogram remote write sends with --prometheus-rw-native.
            Kind::Histogram => &["_bucket", "_sum", "_count", ""],
            Kind::Summary => &["", "_sum", "_count"],
        };
        names.extend(suffixes.iter().map(|s| format!("{name}{s}")));
    }
    names
}

#[test]
fn every_query_names_series_and_labels_the_exporter_writes() {
    let names = sample_names();
    let labels: BTreeSet<&str> =
        ["testid", "scenario", "endpoint", "method", "status", "kind", "quantile", "le", "version"].into();
    let series = regex::Regex::new(r"\bhornet_[a-z0-9_]+").expect("regex");
    let matcher = regex::Regex::new(r#"([a-zA-Z_][a-zA-Z0-9_]*)\s*(?:=~|!~|!=|=)\s*""#).expect("regex");
    let grouping = regex::Regex::new(r"\b(?:by|without)\s*\(([^)]*)\)").expect("regex");
    let all = queries(&dashboard());
    assert!(all.len() >= 15, "{} queries", all.len());
    for q in &all {
        let named: Vec<&str> = series.find_iter(q).map(|m| m.as_str()).collect();
        assert!(!named.is_empty(), "`{q}` names no hornet series");
        for name in named {
            assert!(names.contains(name), "`{q}` names {name}, which hornet does not export");
        }
        for m in matcher.captures_iter(q) {
            assert!(labels.contains(&m[1]), "`{q}` matches the label {}, which hornet does not set", &m[1]);
        }
        for g in grouping.captures_iter(q) {
            for label in g[1].split(',').map(str::trim).filter(|l| !l.is_empty()) {
                assert!(labels.contains(label), "`{q}` groups by {label}, which hornet does not set");
            }
        }
        let one_run = q.contains("$testid") || q.starts_with("label_values(hornet_run_info");
        assert!(one_run, "`{q}` is not limited to one run");
    }
}

/// A run sent with `--prometheus-rw-native` has no `_bucket` series: each histogram query is
/// `classic or native`, the native side the classic one with the family's bare name and no `le`
/// grouping, so the panel shows whichever form the run was sent in.
#[test]
fn every_histogram_query_reads_classic_buckets_or_native_histograms() {
    let histograms: Vec<&str> = FAMILIES
        .iter()
        .filter(|(_, kind, _)| matches!(kind, Kind::Histogram))
        .map(|(name, _, _)| *name)
        .collect();
    let mut checked = 0;
    for q in queries(&dashboard()) {
        let Some(family) =
            histograms.iter().find(|h| q.contains(&format!("{h}_bucket")) || q.contains(&format!("{h}{{")))
        else {
            continue;
        };
        let (classic, native) =
            q.split_once(" or ").unwrap_or_else(|| panic!("`{q}` reads only one form of {family}"));
        assert!(classic.contains(&format!("{family}_bucket{{")), "`{classic}` is not over {family}_bucket");
        assert!(classic.contains("by (le"), "`{classic}` does not group the buckets by le");
        assert!(classic.starts_with("histogram_quantile("), "`{classic}`");
        let from_classic = classic
            .replace(&format!("{family}_bucket{{"), &format!("{family}{{"))
            .replace("sum by (le, ", "sum by (")
            .replace("sum by (le) ", "sum ");
        assert_eq!(native, from_classic, "the native side of `{q}` differs from the classic one");
        assert!(
            !native.contains("_bucket") && !native.contains("le,") && !native.contains("(le)"),
            "`{native}`"
        );
        checked += 1;
    }
    assert!(checked >= 6, "{checked} histogram queries");
}

#[test]
fn the_dashboard_has_the_panels_it_promises() {
    let d = dashboard();
    let titles: Vec<String> = d["panels"]
        .as_array()
        .expect("panels")
        .iter()
        .map(|p| p["title"].as_str().unwrap_or_default().to_lowercase())
        .collect();
    let promised = [
        "throughput",
        "errors by kind",
        "latency percentiles by endpoint",
        "corrected",
        "active vus",
        "schedule lag",
        "generator cpu",
    ];
    for wanted in promised {
        assert!(titles.iter().any(|t| t.contains(wanted)), "no panel about {wanted}: {titles:?}");
    }
    let variables: Vec<&str> = d["templating"]["list"]
        .as_array()
        .expect("variables")
        .iter()
        .filter_map(|v| v["name"].as_str())
        .collect();
    assert_eq!(variables, ["datasource", "testid", "endpoint"]);
}
