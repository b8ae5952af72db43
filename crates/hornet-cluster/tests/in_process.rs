//! A distributed run in this process: a controller and two workers on loopback, the plan started
//! on them through the runner's `Run::start_on`, and the report the runner's collector builds from
//! their intervals.

use std::sync::Arc;
use std::time::Duration;

use hornet_cluster::worker::exit;
use hornet_cluster::{Cluster, ClusterOptions, LossPolicy, PlanSource, WorkerOptions, run_worker};
use hornet_runner::{Run, RunOptions, Workload};
use hornet_script::LoadOptions;
use hornet_target::{RunningTarget, TargetOptions};

const TOKEN: &str = "in-process-test-token";

/// 30 arrivals over 2 s, one GET `/` each.
const SCRIPT: &str = "config:\n  phases:\n    - duration: 2\n      arrivalCount: 30\nscenarios:\n  - flow:\n      - get: { url: \"/\" }\n";

fn worker_options(controller: String) -> WorkerOptions {
    WorkerOptions {
        controller,
        tls: None,
        tls_server_name: None,
        token: Some(TOKEN.into()),
        threads: 1,
        weight: 1,
        script_dir: None,
        connect_timeout: Duration::from_secs(10),
    }
}

#[test]
fn two_workers_run_the_plan_through_the_runner_api_and_the_report_counts_every_arrival() {
    let target = RunningTarget::start(TargetOptions::default()).expect("the test target starts");
    let dir = tempfile::tempdir().expect("a temporary folder");
    let path = dir.path().join("cluster.yaml");
    std::fs::write(&path, SCRIPT).expect("the script is written");
    let load = LoadOptions { target: Some(target.url()), ..Default::default() };
    let source = PlanSource::read(std::slice::from_ref(&path), &load).expect("the script loads");
    let plan = Arc::new(source.build(None).expect("the plan builds"));

    let options = ClusterOptions {
        listen: ([127, 0, 0, 1], 0).into(),
        tls: None,
        token: TOKEN.into(),
        workers: 2,
        on_loss: LossPolicy::Continue,
        verbose: false,
    };
    let mut cluster = Cluster::listen(options, source).expect("the controller listens");
    let address = cluster.local_addr().to_string();
    let workers: Vec<_> = (0..2)
        .map(|_| {
            let options = worker_options(address.clone());
            std::thread::spawn(move || run_worker(options))
        })
        .collect();
    cluster.wait_for_workers(Duration::from_secs(20)).expect("both workers join");

    let run_options = RunOptions {
        seed: 7,
        threads: 1,
        workload: Workload::Open,
        latency_from_intended: false,
        command: "test".into(),
        log: false,
    };
    let run = Run::new(plan, run_options).start_on(&mut cluster).expect("the run starts on the workers");
    let mut ticks = 0;
    let outcome = run.wait(&mut |tick| {
        ticks += 1;
        assert_eq!(tick.workers.len(), 2, "each tick lists both workers");
    });
    drop(cluster);
    for worker in workers {
        assert_eq!(worker.join().expect("the worker thread"), exit::OK, "the worker ran its part to its end");
    }

    assert!(ticks >= 1);
    assert_eq!(outcome.stopped, None);
    let report = &outcome.report;
    assert_eq!(report.counter("vusers.created"), 30, "the two segments add up to the plan");
    assert_eq!(report.counter("http.codes.200"), 30);
    assert_eq!(report.run.host.as_deref(), Some("controller + 2 workers"));
    assert_eq!(report.workers.len(), 2);
    let shares: f64 = report.workers.iter().map(|w| w.share).sum();
    assert!((shares - 1.0).abs() < 1e-9, "the shares cover the plan: {shares}");
    let requests: u64 = report.workers.iter().map(|w| w.requests).sum();
    assert_eq!(requests, 30, "each worker's requests add up to the run's");
}
