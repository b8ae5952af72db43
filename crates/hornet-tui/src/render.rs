//! Drawing the dashboard with ratatui from the [`View`] alone: a header with the phase and run
//! progress, charts of requests/s, errors/s and latency over the last minutes, Locust's
//! per-endpoint table (columns dropped, least important first, when the terminal is narrow), the
//! newest errors, the warnings and captured output, the key line and the help overlay. Numbers are
//! written by [`hornet_output::format`].

use hornet_output::format::{bytes, clip, elapsed as clock, ms, percent_precise, rate_compact};
use hornet_output::view::EndpointRow;
use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Cell, Chart, Clear, Dataset, GraphType, LineGauge, Paragraph, Row, Sparkline, Table,
};

use crate::model::{Sample, View};
use crate::terminal::MAX_TEXT;

/// The keys, as the help overlay and the bottom line show them.
const HELP_LINES: [(&str, &str); 6] = [
    ("q", "stop gracefully: no new VUs, running ones finish"),
    ("+", "10% more load (arrival rates and users)"),
    ("-", "10% less load"),
    ("?", "show or hide this help (Esc hides it)"),
    ("Ctrl-L", "redraw the screen"),
    ("Ctrl-C", "stop now and write the report; twice: exit without one"),
];

/// The load factor as shown.
fn factor_text(f: f64) -> String {
    format!("×{f:.2}")
}

const DIM: Style = Style::new().fg(Color::DarkGray);
const LABEL: Style = Style::new().fg(Color::Gray);
const TITLE: Style = Style::new().fg(Color::Cyan).add_modifier(Modifier::BOLD);

fn panel(title: Line<'_>) -> Block<'_> {
    Block::bordered().border_style(DIM).title(title)
}

/// Draws the whole dashboard.
pub fn render(f: &mut Frame<'_>, view: &View, factor: f64) {
    let area = f.area();
    let show_charts = area.height >= 24;
    let show_bottom = area.height >= 18;
    let [header, charts, table, bottom, status] = Layout::vertical([
        Constraint::Length(4),
        Constraint::Length(if show_charts { (area.height / 4).clamp(7, 14) } else { 0 }),
        Constraint::Min(4),
        Constraint::Length(if show_bottom { (area.height / 6).clamp(5, 9) } else { 0 }),
        Constraint::Length(1),
    ])
    .areas(area);
    render_header(f, header, view, factor);
    if show_charts {
        render_charts(f, charts, view);
    }
    render_table(f, table, view);
    if show_bottom {
        let [errors, panel] =
            Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)]).areas(bottom);
        render_errors(f, errors, view);
        render_panel(f, panel, view);
    }
    render_status(f, status, view);
    if view.help {
        render_help(f, area);
    }
}

fn render_header(f: &mut Frame<'_>, area: Rect, view: &View, factor: f64) {
    let s = &view.last;
    let info = &view.info;
    let mut title = vec![Span::styled(format!(" hornet {} ", env!("CARGO_PKG_VERSION")), TITLE)];
    if let Some(script) = &info.script {
        title.push(Span::raw(format!("{script} ")));
    }
    let block = panel(Line::from(title)).title_top(
        Line::from(match info.seed {
            Some(seed) => format!(" seed {seed} "),
            None => String::new(),
        })
        .right_aligned(),
    );
    let inner = block.inner(area);
    f.render_widget(block, area);
    let [progress, figures] = Layout::vertical([Constraint::Length(1); 2]).areas(inner);

    // Phase and run progress.
    let [phase_area, run_area] = Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
        .spacing(2)
        .areas(progress);
    let elapsed = s.elapsed;
    let current = info.phases.iter().position(|p| elapsed >= p.start && elapsed < p.start + p.duration);
    match (current, &view.phase) {
        (Some(i), _) => {
            let p = &info.phases[i];
            let ratio = ratio(elapsed.saturating_sub(p.start).as_secs_f64(), p.duration.as_secs_f64());
            let label = format!("phase {}/{} {} ", i + 1, info.phases.len(), p.label);
            f.render_widget(gauge(label, ratio, Color::Cyan), phase_area);
        }
        (None, Some(label)) => f.render_widget(
            Paragraph::new(Line::from(vec![Span::styled("phase ", LABEL), Span::raw(label)])),
            phase_area,
        ),
        (None, None) => {}
    }
    let run = match (info.duration, info.iterations) {
        (_, Some(n)) => Some((
            ratio(s.requests as f64, n as f64),
            format!("run {} · {}/{} iterations ", clock(elapsed), s.requests.min(n), n),
        )),
        (Some(d), None) if !d.is_zero() => Some((
            ratio(elapsed.as_secs_f64(), d.as_secs_f64()),
            format!("run {} / {} · {} left ", clock(elapsed), clock(d), clock(d.saturating_sub(elapsed))),
        )),
        _ => None,
    };
    match run {
        Some((r, label)) => f.render_widget(gauge(label, r, Color::Green), run_area),
        None => f.render_widget(
            Paragraph::new(Line::from(vec![Span::styled("elapsed ", LABEL), Span::raw(clock(elapsed))])),
            run_area,
        ),
    }

    // Figures.
    let mut spans = vec![
        Span::styled("VUs ", LABEL),
        Span::raw(s.active_vus.to_string()).bold(),
        Span::styled("  load ", LABEL),
        if (factor - 1.0).abs() < 0.005 {
            Span::raw(factor_text(factor))
        } else {
            Span::raw(factor_text(factor)).yellow().bold()
        },
        Span::styled("  requests ", LABEL),
        Span::raw(s.requests.to_string()),
        Span::styled("  errors ", LABEL),
        if s.errors > 0 {
            Span::raw(format!("{} ({})", s.errors, percent_precise(s.errors, s.requests))).red().bold()
        } else {
            Span::raw("0")
        },
        Span::styled("  VUs done ", LABEL),
        Span::raw(format!("{}/{}", s.vus_completed + s.vus_failed, s.vus_created)),
    ];
    if s.dropped > 0 {
        spans.push(Span::styled("  dropped ", LABEL));
        spans.push(Span::raw(s.dropped.to_string()).yellow());
    }
    if let Some(c) = s.cpu_percent {
        spans.push(Span::styled("  cpu ", LABEL));
        spans.push(Span::raw(format!("{c:.0}%")));
    }
    f.render_widget(Paragraph::new(Line::from(spans)), figures);
}

fn ratio(part: f64, whole: f64) -> f64 {
    if whole > 0.0 && part.is_finite() { (part / whole).clamp(0.0, 1.0) } else { 0.0 }
}

fn gauge(label: String, ratio: f64, color: Color) -> LineGauge<'static> {
    LineGauge::default()
        .label(Line::from(vec![Span::raw(label), Span::styled(format!("{:>3.0}% ", ratio * 100.0), LABEL)]))
        .ratio(ratio)
        .filled_style(Style::new().fg(color))
        .unfilled_style(DIM)
}

/// The last `n` samples.
fn recent(view: &View, n: usize) -> impl Iterator<Item = &Sample> {
    view.history.iter().skip(view.history.len().saturating_sub(n))
}

fn render_charts(f: &mut Frame<'_>, area: Rect, view: &View) {
    let [rps_area, eps_area, lat_area] = Layout::horizontal([
        Constraint::Percentage(35),
        Constraint::Percentage(20),
        Constraint::Percentage(45),
    ])
    .areas(area);
    let now = view.history.back().copied().unwrap_or_default();

    let width = rps_area.width.saturating_sub(2) as usize;
    let data: Vec<u64> = recent(view, width).map(|s| s.rps.round() as u64).collect();
    let max = data.iter().copied().max().unwrap_or(0);
    let title = Line::from(vec![
        Span::styled(" requests/s ", TITLE),
        Span::raw(rate_compact(now.rps)).bold(),
        Span::styled(format!("  max {max} "), LABEL),
    ]);
    f.render_widget(
        Sparkline::default().block(panel(title)).data(data).style(Style::new().fg(Color::Green)),
        rps_area,
    );

    let width = eps_area.width.saturating_sub(2) as usize;
    let data: Vec<u64> = recent(view, width).map(|s| s.eps.ceil() as u64).collect();
    let title = Line::from(vec![
        Span::styled(" errors/s ", TITLE),
        if now.eps > 0.0 { Span::raw(rate_compact(now.eps)).red().bold() } else { Span::raw("0") },
        Span::raw(" "),
    ]);
    // At least 1: a run without errors stays flat rather than scaling zeros to full bars.
    let max = data.iter().copied().max().unwrap_or(0).max(1);
    f.render_widget(
        Sparkline::default().block(panel(title)).data(data).max(max).style(Style::new().fg(Color::Red)),
        eps_area,
    );

    render_latency(f, lat_area, view, now);
}

fn render_latency(f: &mut Frame<'_>, area: Rect, view: &View, now: Sample) {
    let corrected = view.history.iter().any(|s| s.p99c > s.p99 * 1.001);
    let mut title = vec![
        Span::styled(" latency ms ", TITLE),
        Span::styled("p50 ", LABEL),
        Span::raw(ms(now.p50)).green(),
        Span::styled(" p95 ", LABEL),
        Span::raw(ms(now.p95)).yellow(),
        Span::styled(" p99 ", LABEL),
        Span::raw(ms(now.p99)).red(),
    ];
    if corrected {
        title.push(Span::styled(" p99 corr. ", LABEL));
        title.push(Span::raw(ms(now.p99c)).magenta());
    }
    title.push(Span::raw(" "));
    let block = panel(Line::from(title));
    // Two braille dots per cell across: enough points for the width.
    let n = (area.width.saturating_sub(8) as usize * 2).max(2);
    let pick = |g: fn(&Sample) -> f64| -> Vec<(f64, f64)> { recent(view, n).map(|s| (s.t, g(s))).collect() };
    let series: Vec<(Vec<(f64, f64)>, Color)> = {
        let mut v = vec![
            (pick(|s| s.p50), Color::Green),
            (pick(|s| s.p95), Color::Yellow),
            (pick(|s| s.p99), Color::Red),
        ];
        if corrected {
            v.push((pick(|s| s.p99c), Color::Magenta));
        }
        v
    };
    let (t0, t1) = match (recent(view, n).next(), view.history.back()) {
        (Some(a), Some(b)) if b.t > a.t => (a.t, b.t),
        (_, Some(b)) => (b.t - 1.0, b.t),
        _ => (0.0, 1.0),
    };
    let top = series.iter().flat_map(|(d, _)| d.iter().map(|p| p.1)).fold(0.0_f64, f64::max);
    let top = if top > 0.0 { top * 1.1 } else { 1.0 };
    let datasets = series
        .iter()
        .map(|(d, c)| Dataset::default().data(d).marker(Marker::Braille).graph_type(GraphType::Line).fg(*c))
        .collect();
    let chart = Chart::new(datasets)
        .block(block)
        .legend_position(None)
        .x_axis(Axis::default().bounds([t0, t1]).style(DIM))
        .y_axis(
            Axis::default()
                .bounds([0.0, top])
                .labels([Span::styled("0", DIM), Span::styled(ms(top), DIM)])
                .style(DIM),
        );
    f.render_widget(chart, area);
}

/// A column of the endpoint table.
struct Column {
    header: &'static str,
    width: u16,
    /// Columns with a higher number are dropped first when the table is too narrow (0: never).
    drop: u8,
    value: fn(&EndpointRow) -> String,
}

const COLUMNS: [Column; 11] = [
    Column { header: "# reqs", width: 9, drop: 0, value: |r| r.requests.to_string() },
    Column { header: "# fails", width: 14, drop: 0, value: |r| fails(r) },
    Column { header: "Median", width: 7, drop: 0, value: |r| ms(r.median_ms) },
    Column { header: "95%ile", width: 7, drop: 4, value: |r| ms(r.p95_ms) },
    Column { header: "99%ile", width: 7, drop: 0, value: |r| ms(r.p99_ms) },
    Column { header: "Average", width: 7, drop: 6, value: |r| ms(r.mean_ms) },
    Column { header: "Min", width: 7, drop: 8, value: |r| ms(r.min_ms) },
    Column { header: "Max", width: 7, drop: 7, value: |r| ms(r.max_ms) },
    Column { header: "Avg size", width: 9, drop: 5, value: |r| bytes(r.avg_size) },
    Column { header: "Cur RPS", width: 8, drop: 0, value: |r| rate_compact(r.current_rps) },
    Column { header: "Cur fail/s", width: 10, drop: 3, value: |r| rate_compact(r.current_failures_per_s) },
];

fn fails(r: &EndpointRow) -> String {
    format!("{} ({})", r.failures, percent_precise(r.failures, r.requests))
}

const TYPE_WIDTH: u16 = 7;
const MIN_NAME: u16 = 24;

/// `s` cut to `width` characters in the middle (the end of a URL tells endpoints apart).
pub(crate) fn shorten(s: &str, width: usize) -> String {
    let n = s.chars().count();
    if n <= width || width < 5 {
        return s.to_owned();
    }
    let head = (width - 1) / 2;
    let tail = width - 1 - head;
    let mut out: String = s.chars().take(head).collect();
    out.push('…');
    out.extend(s.chars().skip(n - tail));
    out
}

fn render_table(f: &mut Frame<'_>, area: Rect, view: &View) {
    let title = Line::from(vec![
        Span::styled(" endpoints ", TITLE),
        Span::styled("(times in ms, since the start; current = last second) ", LABEL),
    ]);
    let block = panel(title);
    let inner = block.inner(area);
    f.render_widget(block, area);

    // Columns that fit, dropping the least important first.
    let spacing = 1;
    let mut limit = u8::MAX;
    let (columns, name_width) = loop {
        let cols: Vec<&Column> = COLUMNS.iter().filter(|c| c.drop < limit).collect();
        let used: u16 = cols.iter().map(|c| c.width + spacing).sum::<u16>() + TYPE_WIDTH + spacing;
        if used + MIN_NAME <= inner.width || limit == 1 {
            break (cols, inner.width.saturating_sub(used));
        }
        limit = COLUMNS.iter().map(|c| c.drop).filter(|&d| d < limit).max().unwrap_or(1).max(1);
    };
    let mut widths = vec![Constraint::Length(TYPE_WIDTH), Constraint::Fill(1)];
    widths.extend(columns.iter().map(|c| Constraint::Length(c.width)));

    let mut header = vec![Cell::from("Type"), Cell::from("Name")];
    header.extend(columns.iter().map(|c| Cell::from(Line::from(c.header).right_aligned())));
    let header = Row::new(header).style(Style::new().add_modifier(Modifier::BOLD));

    // Header, then rows; the last line says how many did not fit.
    let room = inner.height.saturating_sub(1) as usize;
    let total = view.endpoints.len();
    let shown = if total > room { room.saturating_sub(1) } else { total };
    let mut rows: Vec<Row<'_>> = view.endpoints[..shown]
        .iter()
        .map(|r| {
            let mut cells = vec![
                Cell::from(r.kind.as_str()),
                Cell::from(shorten(&clip(&r.name, MAX_TEXT), name_width.into())),
            ];
            cells.extend(columns.iter().map(|c| Cell::from(Line::from((c.value)(r)).right_aligned())));
            let row = Row::new(cells);
            if r.failures > 0 { row.style(Style::new().fg(Color::LightRed)) } else { row }
        })
        .collect();
    if shown < total {
        rows.push(Row::new(vec![Cell::from(""), Cell::from(format!("… {} more", total - shown)).style(DIM)]));
    }
    if total == 0 {
        rows.push(Row::new(vec![Cell::from(""), Cell::from("no requests yet").style(DIM)]));
    }
    f.render_widget(Table::new(rows, widths).header(header).column_spacing(spacing), inner);
}

fn render_errors(f: &mut Frame<'_>, area: Rect, view: &View) {
    let total: u64 = view.errors.iter().map(|e| e.count).sum();
    let title = Line::from(vec![
        Span::styled(" errors ", TITLE),
        Span::styled(if total > 0 { format!("{total}, newest first ") } else { "none ".into() }, LABEL),
    ]);
    let lines: Vec<Line<'_>> = view
        .errors
        .iter()
        .take(area.height.saturating_sub(2) as usize)
        .map(|e| {
            Line::from(vec![
                Span::raw(format!("{:>7} ", e.count)).red(),
                Span::raw(format!("{} ", e.kind)).bold(),
                Span::styled(
                    e.endpoint.as_deref().map(|n| format!("{} ", clip(n, 60))).unwrap_or_default(),
                    LABEL,
                ),
                Span::raw(e.message.as_str()),
            ])
        })
        .collect();
    f.render_widget(Paragraph::new(lines).block(panel(title)), area);
}

fn render_panel(f: &mut Frame<'_>, area: Rect, view: &View) {
    let title = Line::from(vec![Span::styled(" warnings & output ", TITLE)]);
    let room = area.height.saturating_sub(2) as usize;
    let lines: Vec<Line<'_>> = view
        .panel
        .iter()
        .skip(view.panel.len().saturating_sub(room))
        .map(|(warning, text)| {
            if *warning {
                Line::from(vec![Span::raw("WARNING ").yellow().bold(), Span::raw(text.as_str())])
            } else {
                Line::from(Span::styled(text.as_str(), LABEL))
            }
        })
        .collect();
    f.render_widget(Paragraph::new(lines).block(panel(title)), area);
}

fn render_status(f: &mut Frame<'_>, area: Rect, view: &View) {
    let line = match &view.notice {
        Some(n) => Line::from(Span::raw(format!(" {n}")).yellow().bold()),
        None => {
            let mut spans = Vec::new();
            for (key, what) in
                [("q", "stop"), ("+", "more load"), ("-", "less load"), ("?", "help"), ("Ctrl-C", "cancel")]
            {
                spans.push(Span::raw(format!(" {key} ")).bold().reversed());
                spans.push(Span::styled(format!(" {what}  "), LABEL));
            }
            Line::from(spans)
        }
    };
    f.render_widget(Paragraph::new(line), area);
}

fn render_help(f: &mut Frame<'_>, area: Rect) {
    let width = 72.min(area.width);
    let height = (HELP_LINES.len() as u16 + 4).min(area.height);
    let r = area.centered(Constraint::Length(width), Constraint::Length(height));
    f.render_widget(Clear, r);
    let mut lines = vec![Line::default()];
    lines.extend(
        HELP_LINES
            .iter()
            .map(|(k, what)| Line::from(vec![Span::raw(format!(" {k:>7}  ")).bold(), Span::raw(*what)])),
    );
    f.render_widget(Paragraph::new(lines).block(Block::bordered().title(Span::styled(" keys ", TITLE))), r);
}
