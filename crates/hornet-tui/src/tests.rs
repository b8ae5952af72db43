//! Tests of the dashboard's view model and rendering, drawn on ratatui's test backend: two ticks
//! of a small run, then the screen as text.

use std::time::Duration;

use hornet_metrics::{Aggregator, ErrorKind, Recorder, Timings};
use hornet_runner::{RunOptions, Tick, Workload};
use ratatui::Terminal;
use ratatui::backend::TestBackend;

use crate::model::HISTORY;
use crate::render::shorten;
use crate::terminal::PANEL_LINES;
use crate::{PhaseSpan, RunInfo, View, render};

fn responses(r: &mut Recorder, ep: u32, n: u64, ms: u64) {
    let t = Timings { total: Duration::from_millis(ms), ..Timings::default() };
    for _ in 0..n {
        r.request_sent(ep, 10);
        r.response(ep, 200, &t, 512);
    }
}

/// Two ticks, the view updated after each: /items busiest, `home` with a timeout in the first
/// tick, /items with a reset in the second, /login idle.
fn setup() -> (Aggregator, View) {
    let mut agg = Aggregator::new(
        vec!["home".into(), "GET /items".into(), "POST /login".into()],
        vec!["browse".into()],
    );
    let mut view = View::new(info());
    let mut r = Recorder::new(3, 1);
    responses(&mut r, 0, 5, 12);
    responses(&mut r, 1, 30, 3);
    r.error(Some(0), ErrorKind::Timeout, &"request timed out after 5s");
    agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 7);
    view.update(&Tick {
        live: agg.live(),
        aggregate: &agg,
        phase: Some("warm up"),
        warnings: vec![],
        workers: &[],
    });
    responses(&mut r, 1, 12, 4);
    r.error(Some(1), ErrorKind::ConnectReset, &"connection reset by peer\n\x1b[31mred");
    agg.add_tick(Duration::from_secs(2), vec![r.take_interval()], 7);
    view.update(&Tick {
        live: agg.live(),
        aggregate: &agg,
        phase: Some("warm up"),
        warnings: vec!["the generator is falling behind".into()],
        workers: &[],
    });
    (agg, view)
}

fn info() -> RunInfo {
    RunInfo {
        script: Some("examples/demo.yaml".into()),
        seed: Some(42),
        phases: vec![
            PhaseSpan { label: "warm up".into(), start: Duration::ZERO, duration: Duration::from_secs(8) },
            PhaseSpan {
                label: "sustained load".into(),
                start: Duration::from_secs(8),
                duration: Duration::from_secs(12),
            },
        ],
        duration: Some(Duration::from_secs(20)),
        iterations: None,
        methods: vec![Some("GET".into()), Some("GET".into()), Some("POST".into())],
    }
}

/// The screen as text, one line per row.
fn draw(view: &View, width: u16, height: u16) -> Vec<String> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).unwrap();
    terminal.draw(|f| render(f, view, 1.1)).unwrap();
    let buffer = terminal.backend().buffer();
    buffer
        .content()
        .chunks(buffer.area.width as usize)
        .map(|row| row.iter().map(|c| c.symbol()).collect())
        .collect()
}

fn line_with<'a>(screen: &'a [String], needle: &str) -> &'a str {
    screen
        .iter()
        .find(|l| l.contains(needle))
        .unwrap_or_else(|| panic!("no line with {needle:?} in\n{}", screen.join("\n")))
}

#[test]
fn renders_the_endpoint_table_with_locust_columns() {
    let (_agg, view) = setup();
    let screen = draw(&view, 150, 40);
    let header = line_with(&screen, "# reqs");
    let mut at = 0;
    for column in [
        "Type",
        "Name",
        "# reqs",
        "# fails",
        "Median",
        "95%ile",
        "99%ile",
        "Average",
        "Min",
        "Max",
        "Avg size",
        "Cur RPS",
        "Cur fail/s",
    ] {
        let found = header[at..].find(column).unwrap_or_else(|| panic!("{column} missing in {header}"));
        at += found + column.len();
    }
    // Most requests first; the method comes from the plan and leaves the name.
    let items = line_with(&screen, "/items");
    assert!(items.contains("GET"), "{items}");
    assert!(!items.contains("GET /items"), "{items}");
    let cells: Vec<&str> = items.split_whitespace().collect();
    assert!(cells.contains(&"42"), "42 requests: {items}");
    assert!(cells.contains(&"1"), "1 failure: {items}");
    assert!(cells.contains(&"512"), "avg size: {items}");
    let home = screen.iter().position(|l| l.contains(" home ")).unwrap();
    let items_row = screen.iter().position(|l| l.contains("/items")).unwrap();
    assert!(items_row < home, "sorted by requests");
    assert!(line_with(&screen, "/login").contains("POST"));
}

#[test]
fn renders_header_charts_errors_and_warnings() {
    let (_agg, view) = setup();
    let screen = draw(&view, 150, 40);
    if std::env::var_os("HORNET_SHOW_DASHBOARD").is_some() {
        println!("{}", screen.join("\n"));
    }
    let all = screen.join("\n");
    assert!(line_with(&screen, "hornet").contains("examples/demo.yaml"));
    assert!(line_with(&screen, "seed 42").contains("hornet"));
    assert!(line_with(&screen, "phase 1/2 warm up").contains("run 2s / 20s"));
    assert!(line_with(&screen, "VUs 7").contains("×1.10"), "load factor shown");
    assert!(all.contains("requests/s"));
    assert!(all.contains("errors/s"));
    assert!(all.contains("latency ms"));
    // Newest error first, on one line, without the escape sequence.
    let reset = screen.iter().position(|l| l.contains("connect-reset")).unwrap();
    let timeout = screen.iter().position(|l| l.contains("timeout")).unwrap();
    assert!(reset < timeout, "newest first");
    assert!(screen[reset].contains("connection reset by peer"));
    assert!(!all.contains('\x1b'));
    assert!(line_with(&screen, "WARNING").contains("falling behind"));
    assert!(line_with(&screen, " q ").contains("stop"));
}

#[test]
fn caps_the_table_at_the_rows_that_fit() {
    let names: Vec<String> = (0..40).map(|i| format!("GET /page/{i}")).collect();
    let mut agg = Aggregator::new(names, vec![]);
    let mut r = Recorder::new(40, 1);
    for i in 0..40 {
        responses(&mut r, i, u64::from(i) + 1, 2);
    }
    agg.add_tick(Duration::from_secs(1), vec![r.take_interval()], 1);
    let mut view = View::new(RunInfo::default());
    view.update(&Tick { live: agg.live(), aggregate: &agg, phase: None, warnings: vec![], workers: &[] });
    let screen = draw(&view, 120, 30);
    let more = line_with(&screen, "more");
    let shown = screen.iter().filter(|l| l.contains("/page/")).count();
    assert!(shown > 0);
    assert!(more.contains(&format!("… {} more", 40 - shown)), "{more}");
    // The busiest first.
    assert!(screen.iter().any(|l| l.contains("/page/39 ")));
    assert!(!screen.iter().any(|l| l.contains("/page/0 ")));
}

#[test]
fn small_terminals_keep_the_key_columns() {
    let (_agg, view) = setup();
    let screen = draw(&view, 80, 20);
    let header = line_with(&screen, "# reqs");
    for column in ["Name", "# fails", "Median", "99%ile", "Cur RPS"] {
        assert!(header.contains(column), "{column} missing in {header}");
    }
    assert!(line_with(&screen, "/items").contains("42"));
    // Too small for anything: no panic.
    draw(&view, 10, 3);
    draw(&View::default(), 1, 1);
}

#[test]
fn help_overlay() {
    let (_agg, mut view) = setup();
    view.help = true;
    let screen = draw(&view, 120, 40);
    assert!(line_with(&screen, "keys").contains('┌'));
    assert!(line_with(&screen, "Ctrl-C").contains("twice"));
    view.notice = Some("stopping: waiting for running VUs".into());
    let screen = draw(&view, 120, 40);
    assert!(screen.last().unwrap().contains("stopping"));
}

#[test]
fn history_is_a_bounded_ring() {
    let (agg, _) = setup();
    let mut view = View::new(RunInfo::default());
    for _ in 0..HISTORY + 10 {
        view.update(&Tick { live: agg.live(), aggregate: &agg, phase: None, warnings: vec![], workers: &[] });
    }
    assert_eq!(view.history.len(), HISTORY);
    for i in 0..PANEL_LINES + 5 {
        view.push_panel(false, i.to_string());
    }
    assert_eq!(view.panel.len(), PANEL_LINES);
    assert_eq!(view.panel.back().unwrap().1, (PANEL_LINES + 4).to_string());
}

#[test]
fn run_info_from_the_demo_plan() {
    let plan = hornet_script::parse_str(
        include_str!("../../../examples/demo.yaml"),
        "examples/demo.yaml",
        &hornet_script::LoadOptions::default(),
    )
    .unwrap();
    let opts = RunOptions {
        seed: 7,
        threads: 1,
        workload: Workload::Open,
        latency_from_intended: false,
        command: String::new(),
        log: false,
    };
    let info = RunInfo::new(&plan, &opts);
    assert_eq!(info.seed, Some(7));
    assert_eq!(info.phases.len(), 2);
    assert_eq!(info.phases[0].label, "warm up");
    assert_eq!(info.phases[1].start, Duration::from_secs(8));
    assert_eq!(info.duration, Some(Duration::from_secs(20)));
    let home = plan.endpoints.iter().position(|e| e.name == "home").unwrap();
    assert_eq!(info.methods[home].as_deref(), Some("GET"));

    let closed =
        RunOptions { workload: Workload::Closed { users: 5, iterations: Some(100), duration: None }, ..opts };
    let info = RunInfo::new(&plan, &closed);
    assert!(info.phases.is_empty());
    assert_eq!(info.iterations, Some(100));
}

#[test]
fn long_names_are_cut_in_the_middle() {
    assert_eq!(shorten("http://127.0.0.1:18080/items", 12), "http:…/items");
    assert_eq!(shorten("short", 12), "short");
}
