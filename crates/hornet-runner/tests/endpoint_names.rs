//! Endpoints named at run time (`context.http` requests) belong to their run: two runs one after
//! another in one process (as the web UI runs them) each report only their own names, and the
//! first run filling its table leaves the second run's table empty.

mod support;

use std::path::PathBuf;

use hornet_metrics::Report;
use support::{run_yaml, target};

/// Processor functions that each send one request under a name of their own.
const NAMING_JS: &str = r#"
module.exports = {
  async first(context) {
    await context.http.get('/', { name: 'named by run one' });
    // Fills the run's table (1000 names) to its bound.
    for (let i = 0; i < 1000; i++) await context.http.get('/', { name: 'filler ' + i });
  },
  async second(context) {
    await context.http.get('/', { name: 'named by run two' });
    await context.http.get('/', { name: 'also named by run two' });
  },
};
"#;

/// A directory of this test's own, holding the processor.
fn processor_dir() -> PathBuf {
    let dir = std::env::temp_dir().join(format!("hornet-endpoint-names-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("a temporary directory");
    std::fs::write(dir.join("naming.js"), NAMING_JS).expect("the processor is written");
    dir
}

fn script(processor: &std::path::Path, requests: &str, function: &str) -> String {
    format!(
        "config:\n  processor: \"{}\"\n  phases:\n    - duration: 1\n      arrivalCount: 1\nscenarios:\n  - flow:\n{requests}      - function: {function}\n",
        processor.display()
    )
}

fn rows(report: &Report) -> Vec<(String, u64)> {
    report.endpoints.iter().map(|e| (e.name.clone(), e.requests)).collect()
}

#[test]
fn two_runs_in_one_process_report_only_their_own_run_time_names() {
    let t = target();
    let dir = processor_dir();
    let processor = dir.join("naming.js");
    let one = run_yaml(&t, &script(&processor, "      - get: { url: \"/\" }\n", "first"));
    let two_requests = "      - get: { url: \"/\" }\n      - get: { url: \"/\", name: home }\n";
    let two = run_yaml(&t, &script(&processor, two_requests, "second"));
    let _ = std::fs::remove_dir_all(&dir);
    let (one, two) = (rows(&one), rows(&two));
    assert!(one.contains(&("named by run one".into(), 1)), "{one:?}");
    assert!(!two.iter().any(|(name, _)| name == "named by run one" || name.starts_with("filler")), "{two:?}");
    assert!(!one.iter().chain(&two).any(|(name, _)| name.starts_with("endpoint #")), "{one:?} {two:?}");
    // The second run's names have the first ids past its own plan's two requests, each its own
    // row: the first run's full table is not theirs.
    assert_eq!(two[2..], [("named by run two".into(), 1), ("also named by run two".into(), 1)], "{two:?}");
}
