//! The full-screen live dashboard (ratatui on crossterm), shown on an interactive terminal
//! instead of the status line: a header with the phase and run progress, charts of requests/s,
//! errors/s and latency over the last minutes, Locust's per-endpoint table, the newest errors and
//! the warnings.
//!
//! While it shows, the terminal is in raw mode on the alternate screen, and whatever the process
//! writes to stderr (a script's `log` steps, messages of other parts) is captured into the
//! dashboard instead of tearing it, then replayed on the normal screen when the dashboard closes.
//! Keys: `q` stops gracefully, `+`/`-` change the load by 10%, `?` shows help, and Ctrl-C (a key in
//! raw mode) stops at once; a second Ctrl-C exits without a report. The terminal is restored when
//! the run ends, on every exit path, and from the panic hook (see [`restore_terminal`]).
//!
//! Cost: the run's collector calls [`Dashboard::tick`] once a second, which copies the figures it
//! shows (the per-endpoint rows cost a few quantile look-ups per endpoint); drawing happens on that
//! tick and on keys and resizes, at most [`FRAMES_PER_SECOND`] times a second.

use std::collections::{HashMap, VecDeque};
use std::io::{self, BufRead, Write};
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyCode, KeyEvent, KeyEventKind, KeyModifiers};
use crossterm::{cursor, execute, terminal};
use hornet_metrics::{ErrorKind, LiveSnapshot};
use hornet_output::view::{EndpointRow, EndpointTable};
use hornet_runner::{Control, LoadRequest, RunOptions, StopReason, Tick, Workload};
use hornet_script::Plan;
use hornet_script::plan::Step;
use ratatui::backend::CrosstermBackend;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::{Color, Modifier, Style, Stylize};
use ratatui::symbols::Marker;
use ratatui::text::{Line, Span};
use ratatui::widgets::{
    Axis, Block, Cell, Chart, Clear, Dataset, GraphType, LineGauge, Paragraph, Row, Sparkline, Table,
};
use ratatui::{Frame, Terminal};

use crate::keys::STEP;

/// Most redraws per second.
pub const FRAMES_PER_SECOND: u32 = 4;

/// Shortest time between two redraws.
const FRAME: Duration = Duration::from_millis(1000 / FRAMES_PER_SECOND as u64);

/// How long the key reader waits for a key before looking at pending redraws.
const POLL: Duration = Duration::from_millis(100);

/// Ticks kept for the charts: five minutes at one tick a second.
const HISTORY: usize = 300;

/// Lines of warnings and captured output kept for the panel.
const PANEL_LINES: usize = 200;

/// Lines of captured output kept to replay when the dashboard closes.
const REPLAY_LINES: usize = 1000;

/// Longest text from outside (names, messages, output lines) kept, in characters.
const MAX_TEXT: usize = 300;

/// The keys, as the help overlay and the bottom line show them.
const HELP_LINES: [(&str, &str); 6] = [
    ("q", "stop gracefully: no new VUs, running ones finish"),
    ("+", "10% more load (arrival rates and users)"),
    ("-", "10% less load"),
    ("?", "show or hide this help (Esc hides it)"),
    ("Ctrl-L", "redraw the screen"),
    ("Ctrl-C", "stop now and write the report; twice: exit without one"),
];

/// True while the terminal is in raw mode on the alternate screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The real stderr while stderr is captured, else -1.
static SAVED_STDERR: AtomicI32 = AtomicI32::new(-1);

/// Puts the terminal back as it was before the dashboard: stderr is given back, the alternate
/// screen left, the cursor shown and raw mode turned off. Does nothing when the dashboard is not
/// showing; safe to call from any thread (the panic hook, the signal thread), any number of times.
pub fn restore_terminal() {
    let saved = SAVED_STDERR.swap(-1, Ordering::SeqCst);
    if saved >= 0 {
        // SAFETY: `saved` is a descriptor this module duplicated from stderr and owns.
        unsafe {
            libc::dup2(saved, libc::STDERR_FILENO);
            libc::close(saved);
        }
    }
    if ACTIVE.swap(false, Ordering::SeqCst) {
        let mut out = io::stdout();
        let _ = execute!(out, terminal::LeaveAlternateScreen, cursor::Show);
        let _ = out.flush();
        let _ = terminal::disable_raw_mode();
    }
}

/// What the run is, for the header: known before it starts.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct RunInfo {
    /// The script (or, without one, the target).
    pub script: Option<String>,
    pub seed: Option<u64>,
    /// The planned phases, back to back.
    pub phases: Vec<PhaseSpan>,
    /// The planned length of the run, when it has one.
    pub duration: Option<Duration>,
    /// The planned number of iterations (closed model with `-n`).
    pub iterations: Option<u64>,
    /// The HTTP method of each endpoint, when one method is used for it.
    pub methods: Vec<Option<String>>,
}

/// One planned phase.
#[derive(Debug, Clone, PartialEq)]
pub struct PhaseSpan {
    pub label: String,
    pub start: Duration,
    pub duration: Duration,
}

impl RunInfo {
    pub fn new(plan: &Plan, opts: &RunOptions) -> RunInfo {
        let mut start = Duration::ZERO;
        let mut phases = Vec::new();
        let (duration, iterations) = match &opts.workload {
            Workload::Open => {
                for (i, p) in plan.phases.iter().enumerate() {
                    phases.push(PhaseSpan { label: clean(&p.label(i), 60), start, duration: p.duration });
                    start = start.saturating_add(p.duration);
                }
                ((!phases.is_empty()).then_some(start), None)
            }
            Workload::Closed { iterations, duration, .. } => (*duration, *iterations),
        };
        let mut methods: Vec<Option<String>> = vec![None; plan.endpoints.len()];
        let mut conflicting = vec![false; plan.endpoints.len()];
        for scenario in &plan.scenarios {
            collect_methods(&scenario.flow, &mut methods, &mut conflicting);
        }
        let script = plan
            .source
            .as_ref()
            .map(|p| p.display().to_string())
            .or_else(|| plan.target.clone())
            .or_else(|| plan.endpoints.first().cloned());
        RunInfo {
            script: script.map(|s| clean(&s, 120)),
            seed: Some(opts.seed),
            phases,
            duration,
            iterations,
            methods,
        }
    }
}

/// Records the method of every request in `steps` by endpoint; an endpoint used with two methods
/// gets none.
fn collect_methods(steps: &[Step], methods: &mut [Option<String>], conflicting: &mut [bool]) {
    for step in steps {
        match step {
            Step::Request(r) => {
                let i = r.endpoint as usize;
                let (Some(slot), Some(bad)) = (methods.get_mut(i), conflicting.get_mut(i)) else { continue };
                let m = r.method.as_str();
                match slot {
                    Some(existing) if existing != m => {
                        *bad = true;
                        *slot = None;
                    }
                    None if !*bad => *slot = Some(m.to_owned()),
                    _ => {}
                }
            }
            Step::Loop { steps, .. } | Step::Parallel(steps) => collect_methods(steps, methods, conflicting),
            Step::Ws(ws) => {
                if let Some(slot) = ws.endpoint().and_then(|id| methods.get_mut(id as usize)) {
                    *slot = Some("WS".to_owned());
                }
            }
            Step::Think(_) | Step::Log(_) => {}
        }
    }
}

/// One tick's figures for the charts.
#[derive(Debug, Clone, Copy, Default, PartialEq)]
struct Sample {
    /// Seconds since the start.
    t: f64,
    rps: f64,
    /// Errors per second.
    eps: f64,
    p50: f64,
    p95: f64,
    p99: f64,
    p99c: f64,
}

/// An error kind on an endpoint, with when its count last grew.
#[derive(Debug, Clone, PartialEq)]
struct ErrorLine {
    kind: ErrorKind,
    endpoint: Option<String>,
    count: u64,
    message: String,
    /// Elapsed time of the tick its count last grew in.
    last: Duration,
}

/// Everything the dashboard shows, updated once a tick; rendering reads only this.
#[derive(Debug, Default)]
pub struct View {
    info: RunInfo,
    last: LiveSnapshot,
    history: VecDeque<Sample>,
    phase: Option<String>,
    /// Every endpoint's row, most requests first.
    endpoints: Vec<EndpointRow>,
    errors: Vec<ErrorLine>,
    /// Warnings (`true`) and captured output lines, oldest first.
    panel: VecDeque<(bool, String)>,
    help: bool,
    notice: Option<String>,
}

impl View {
    pub fn new(info: RunInfo) -> View {
        View { info, ..View::default() }
    }

    /// Takes in one tick of the run.
    pub fn update(&mut self, tick: &Tick<'_>) {
        let s = tick.live;
        let dt = s.elapsed.saturating_sub(self.last.elapsed).as_secs_f64();
        let new_errors = s.errors.saturating_sub(self.last.errors);
        if self.history.len() == HISTORY {
            self.history.pop_front();
        }
        self.history.push_back(Sample {
            t: s.elapsed.as_secs_f64(),
            rps: s.rps,
            eps: if dt > 0.0 { new_errors as f64 / dt } else { 0.0 },
            p50: s.p50_ms,
            p95: s.p95_ms,
            p99: s.p99_ms,
            p99c: s.p99_corrected_ms.max(s.p99_ms),
        });
        self.last = s;
        self.phase = tick.phase.map(|p| clean(p, 60));

        self.endpoints = EndpointTable::live(tick.aggregate, usize::MAX, &self.info.methods).rows;

        let before: HashMap<(ErrorKind, Option<String>), (u64, Duration)> =
            self.errors.drain(..).map(|e| ((e.kind, e.endpoint), (e.count, e.last))).collect();
        self.errors = tick
            .aggregate
            .errors()
            .into_iter()
            .map(|e| {
                let last = match before.get(&(e.kind, e.endpoint.clone())) {
                    Some(&(count, last)) if count >= e.count => last,
                    _ => s.elapsed,
                };
                ErrorLine {
                    kind: e.kind,
                    endpoint: e.endpoint,
                    count: e.count,
                    message: clean(&e.first_message, MAX_TEXT),
                    last,
                }
            })
            .collect();
        self.errors.sort_by(|a, b| b.last.cmp(&a.last).then(b.count.cmp(&a.count)));

        for w in &tick.warnings {
            self.push_panel(true, clean(w, MAX_TEXT));
        }
    }

    /// Adds a warning or an output line to the panel.
    fn push_panel(&mut self, warning: bool, line: String) {
        if self.panel.len() == PANEL_LINES {
            self.panel.pop_front();
        }
        self.panel.push_back((warning, line));
    }

    pub fn set_info(&mut self, info: RunInfo) {
        self.info = info;
    }
}

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    More,
    Less,
    Quit,
    Help,
    /// Esc: hides the help.
    Dismiss,
    Redraw,
    /// Ctrl-C.
    Cancel,
}

/// The action of a key press, if it has one.
pub fn action(key: &KeyEvent) -> Option<Action> {
    if key.kind == KeyEventKind::Release {
        return None;
    }
    let ctrl = key.modifiers.contains(KeyModifiers::CONTROL);
    match key.code {
        KeyCode::Char('c') if ctrl => Some(Action::Cancel),
        KeyCode::Char('l') if ctrl => Some(Action::Redraw),
        _ if ctrl => None,
        KeyCode::Char('+' | '=') => Some(Action::More),
        KeyCode::Char('-') => Some(Action::Less),
        KeyCode::Char('q') => Some(Action::Quit),
        KeyCode::Char('?' | 'h') => Some(Action::Help),
        KeyCode::Esc => Some(Action::Dismiss),
        _ => None,
    }
}

/// Writes the terminal's output to stdout in one go per frame, and drops it once the dashboard
/// has closed, so that nothing from a late or interrupted frame lands on the normal screen.
#[derive(Default)]
struct Out {
    buf: Vec<u8>,
}

impl Write for Out {
    fn write(&mut self, data: &[u8]) -> io::Result<usize> {
        self.buf.extend_from_slice(data);
        Ok(data.len())
    }

    fn flush(&mut self) -> io::Result<()> {
        let result = if ACTIVE.load(Ordering::SeqCst) && !self.buf.is_empty() {
            let mut out = io::stdout().lock();
            out.write_all(&self.buf).and_then(|()| out.flush())
        } else {
            Ok(())
        };
        self.buf.clear();
        result
    }
}

/// The view and the terminal it is drawn on.
struct Board {
    view: View,
    terminal: Terminal<CrosstermBackend<Out>>,
    last_draw: Option<Instant>,
    dirty: bool,
    /// Set by Ctrl-L: the next frame repaints every cell.
    repaint: bool,
}

impl Board {
    /// Draws if something changed and the last frame is old enough.
    fn maybe_draw(&mut self, factor: f64) {
        if !self.dirty || self.last_draw.is_some_and(|t| t.elapsed() < FRAME) {
            return;
        }
        self.dirty = false;
        self.last_draw = Some(Instant::now());
        if std::mem::take(&mut self.repaint) {
            let _ = self.terminal.clear();
        }
        let Board { view, terminal, .. } = self;
        let _ = terminal.draw(|f| render(f, view, factor));
    }
}

/// Lines written to stderr while it is captured.
#[derive(Default)]
struct Captured {
    /// Not yet moved into the view.
    pending: Vec<String>,
    /// The latest lines, replayed when the dashboard closes.
    kept: VecDeque<String>,
    /// Lines that fell out of `kept`.
    dropped: u64,
}

/// State shared by the run's thread (ticks), the key reader and the stderr reader.
struct Shared {
    board: Mutex<Board>,
    control: Control,
    captured: Mutex<Captured>,
    /// Set when `captured.pending` has lines.
    fresh: AtomicBool,
}

impl Shared {
    fn board(&self) -> std::sync::MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn captured(&self) -> std::sync::MutexGuard<'_, Captured> {
        self.captured.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn on_key(&self, key: &KeyEvent) {
        let Some(action) = action(key) else { return };
        let mut board = self.board();
        let view = &mut board.view;
        match action {
            Action::More => self.control.request(LoadRequest::Scale(STEP)),
            Action::Less => self.control.request(LoadRequest::Scale(1.0 / STEP)),
            Action::Help => view.help = !view.help,
            Action::Dismiss => view.help = false,
            Action::Redraw => board.repaint = true,
            Action::Quit => {
                self.control.stop(StopReason::Quit);
                if self.control.stop_reason() == Some(StopReason::Quit) {
                    view.notice =
                        Some("stopping: waiting for running VUs to finish (Ctrl-C to cancel them)".into());
                }
            }
            Action::Cancel => {
                if self.control.stop_reason() == Some(StopReason::Interrupted) {
                    drop(board);
                    restore_terminal();
                    crate::keys::restore();
                    eprintln!("hornet: interrupted twice, exiting without a report");
                    std::process::exit(130);
                }
                self.control.stop(StopReason::Interrupted);
                view.notice = Some(
                    "interrupted: stopping VUs and writing the report (Ctrl-C again to quit now)".into(),
                );
            }
        }
        board.dirty = true;
        board.maybe_draw(self.control.factor());
    }

    /// Moves captured output into the view and draws a pending frame when it is due.
    fn pump(&self) {
        let lines = if self.fresh.swap(false, Ordering::SeqCst) {
            std::mem::take(&mut self.captured().pending)
        } else {
            Vec::new()
        };
        let mut board = self.board();
        if !lines.is_empty() {
            for line in lines {
                board.view.push_panel(false, line);
            }
            board.dirty = true;
        }
        board.maybe_draw(self.control.factor());
    }
}

/// The running dashboard: the terminal is taken over from [`Dashboard::start`] to
/// [`Dashboard::finish`] (or drop).
pub struct Dashboard {
    shared: Arc<Shared>,
    done: Arc<AtomicBool>,
    keys: Option<JoinHandle<()>>,
    capture: Option<JoinHandle<()>>,
}

impl Dashboard {
    /// Takes over the terminal (raw mode, alternate screen, stderr captured) and starts reading
    /// keys. `None`, with the terminal as it was, when that is not possible.
    pub fn start(control: Control, info: RunInfo) -> Option<Dashboard> {
        crate::keys::install_panic_hook();
        terminal::enable_raw_mode().ok()?;
        ACTIVE.store(true, Ordering::SeqCst);
        if execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide).is_err() {
            restore_terminal();
            return None;
        }
        let Ok(term) = Terminal::new(CrosstermBackend::new(Out::default())) else {
            restore_terminal();
            return None;
        };
        let board =
            Board { view: View::new(info), terminal: term, last_draw: None, dirty: true, repaint: false };
        let shared = Arc::new(Shared {
            board: Mutex::new(board),
            control,
            captured: Mutex::new(Captured::default()),
            fresh: AtomicBool::new(false),
        });
        let done = Arc::new(AtomicBool::new(false));
        let keys = {
            let (shared, done) = (shared.clone(), done.clone());
            std::thread::Builder::new().name("hornet-dashboard".into()).spawn(move || {
                while !done.load(Ordering::SeqCst) {
                    match event::poll(POLL) {
                        Ok(true) => match event::read() {
                            Ok(Event::Key(key)) => shared.on_key(&key),
                            Ok(Event::Resize(..)) => shared.board().dirty = true,
                            _ => {}
                        },
                        Ok(false) => {}
                        Err(_) => std::thread::sleep(POLL),
                    }
                    shared.pump();
                }
            })
        };
        let Ok(keys) = keys else {
            restore_terminal();
            return None;
        };
        let capture = capture_stderr(shared.clone());
        shared.board().maybe_draw(shared.control.factor());
        Some(Dashboard { shared, done, keys: Some(keys), capture })
    }

    /// Takes in one tick of the run and redraws (unless a frame was drawn very recently: the key
    /// reader then draws it shortly).
    pub fn tick(&self, tick: &Tick<'_>) {
        let mut board = self.shared.board();
        board.view.update(tick);
        board.dirty = true;
        board.maybe_draw(self.shared.control.factor());
    }

    pub fn set_info(&self, info: RunInfo) {
        let mut board = self.shared.board();
        board.view.set_info(info);
        board.dirty = true;
    }

    /// Gives the terminal back and replays the output captured meanwhile on stderr. Idempotent.
    pub fn finish(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(keys) = self.keys.take() {
            let _ = keys.join();
        }
        restore_terminal();
        if let Some(reader) = self.capture.take() {
            // Stderr is back, so the pipe is closed and the reader ends at once; don't hang if
            // something else still holds it.
            let deadline = Instant::now() + Duration::from_millis(500);
            while !reader.is_finished() && Instant::now() < deadline {
                std::thread::sleep(Duration::from_millis(5));
            }
            if reader.is_finished() {
                let _ = reader.join();
            }
            let captured = std::mem::take(&mut *self.shared.captured());
            let mut err = io::stderr().lock();
            if captured.dropped > 0 {
                let _ = writeln!(err, "hornet: {} earlier lines of output not shown", captured.dropped);
            }
            for line in &captured.kept {
                let _ = writeln!(err, "{line}");
            }
        }
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.finish();
    }
}

/// Points stderr at a pipe read by a thread that keeps the lines for the panel and the replay.
fn capture_stderr(shared: Arc<Shared>) -> Option<JoinHandle<()>> {
    let mut fds = [0; 2];
    // SAFETY: plain descriptor calls with results checked; every descriptor opened here is either
    // owned by the reader (the read end), by `SAVED_STDERR` (the saved stderr) or closed.
    unsafe {
        if libc::pipe2(fds.as_mut_ptr(), libc::O_CLOEXEC) != 0 {
            return None;
        }
        let saved = libc::fcntl(libc::STDERR_FILENO, libc::F_DUPFD_CLOEXEC, 3);
        if saved < 0 || libc::dup2(fds[1], libc::STDERR_FILENO) < 0 {
            if saved >= 0 {
                libc::close(saved);
            }
            libc::close(fds[0]);
            libc::close(fds[1]);
            return None;
        }
        libc::close(fds[1]);
        SAVED_STDERR.store(saved, Ordering::SeqCst);
    }
    // SAFETY: the read end is ours alone from here.
    let pipe = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    let spawned = std::thread::Builder::new().name("hornet-stderr".into()).spawn(move || {
        let mut reader = io::BufReader::new(pipe);
        let mut buf = Vec::new();
        loop {
            buf.clear();
            match reader.read_until(b'\n', &mut buf) {
                Ok(0) | Err(_) => break,
                Ok(_) => {
                    let raw = String::from_utf8_lossy(&buf);
                    let raw = raw.trim_end_matches(['\n', '\r']);
                    let mut c = shared.captured();
                    c.pending.push(clean(raw, MAX_TEXT));
                    if c.pending.len() > PANEL_LINES {
                        let extra = c.pending.len() - PANEL_LINES;
                        c.pending.drain(..extra);
                    }
                    if c.kept.len() == REPLAY_LINES {
                        c.kept.pop_front();
                        c.dropped += 1;
                    }
                    // Replayed as written, but without escape sequences that could upset the terminal.
                    c.kept.push_back(raw.chars().filter(|ch| !ch.is_control() || *ch == '\t').collect());
                    drop(c);
                    shared.fresh.store(true, Ordering::SeqCst);
                }
            }
        }
    });
    match spawned {
        Ok(h) => Some(h),
        Err(_) => {
            // Nobody would read the pipe: give stderr back.
            let saved = SAVED_STDERR.swap(-1, Ordering::SeqCst);
            // SAFETY: as in `restore_terminal`.
            unsafe {
                libc::dup2(saved, libc::STDERR_FILENO);
                libc::close(saved);
            }
            None
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

/// Text from outside on one line: control characters become spaces, cut to `max` characters.
fn clean(s: &str, max: usize) -> String {
    let mut out = String::with_capacity(s.len().min(max));
    for (i, c) in s.trim().chars().enumerate() {
        if i == max {
            out.push('…');
            break;
        }
        out.push(if c.is_control() { ' ' } else { c });
    }
    out
}

/// `12s`, `1m05s`, `2h03m04s`.
fn clock(d: Duration) -> String {
    let s = d.as_secs();
    match s {
        0..60 => format!("{s}s"),
        60..3600 => format!("{}m{:02}s", s / 60, s % 60),
        _ => format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60),
    }
}

use hornet_output::format_ms as ms;

/// A rate: one decimal below 100, none above.
fn rate(v: f64) -> String {
    if !v.is_finite() {
        "-".into()
    } else if v < 100.0 {
        format!("{v:.1}")
    } else {
        format!("{v:.0}")
    }
}

/// A byte count in binary units.
fn size(v: f64) -> String {
    const UNITS: [&str; 4] = ["B", "KiB", "MiB", "GiB"];
    let (mut v, mut unit) = (v, 0);
    while v >= 1024.0 && unit < UNITS.len() - 1 {
        v /= 1024.0;
        unit += 1;
    }
    if unit == 0 { format!("{v:.0} B") } else { format!("{v:.1} {}", UNITS[unit]) }
}

/// `part / whole` in percent.
fn percent(part: u64, whole: u64) -> String {
    if whole == 0 { "0%".into() } else { format!("{:.2}%", part as f64 * 100.0 / whole as f64) }
}

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
            Span::raw(format!("{} ({})", s.errors, percent(s.errors, s.requests))).red().bold()
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
        Span::raw(rate(now.rps)).bold(),
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
        if now.eps > 0.0 { Span::raw(rate(now.eps)).red().bold() } else { Span::raw("0") },
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
    Column { header: "Avg size", width: 9, drop: 5, value: |r| size(r.avg_size) },
    Column { header: "Cur RPS", width: 8, drop: 0, value: |r| rate(r.current_rps) },
    Column { header: "Cur fail/s", width: 10, drop: 3, value: |r| rate(r.current_failures_per_s) },
];

fn fails(r: &EndpointRow) -> String {
    format!("{} ({})", r.failures, percent(r.failures, r.requests))
}

const TYPE_WIDTH: u16 = 7;
const MIN_NAME: u16 = 24;

/// `s` cut to `width` characters in the middle (the end of a URL tells endpoints apart).
fn shorten(s: &str, width: usize) -> String {
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
                Cell::from(shorten(&clean(&r.name, MAX_TEXT), name_width.into())),
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
                    e.endpoint.as_deref().map(|n| format!("{} ", clean(n, 60))).unwrap_or_default(),
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

#[cfg(test)]
mod tests {
    use hornet_metrics::{Aggregator, Recorder, Timings};
    use ratatui::backend::TestBackend;

    use super::*;

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
                PhaseSpan {
                    label: "warm up".into(),
                    start: Duration::ZERO,
                    duration: Duration::from_secs(8),
                },
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
            view.update(&Tick {
                live: agg.live(),
                aggregate: &agg,
                phase: None,
                warnings: vec![],
                workers: &[],
            });
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
            crate::cmd::demo::DEMO_SCRIPT,
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
        let home = plan.endpoints.iter().position(|e| e == "home").unwrap();
        assert_eq!(info.methods[home].as_deref(), Some("GET"));

        let closed = RunOptions {
            workload: Workload::Closed { users: 5, iterations: Some(100), duration: None },
            ..opts
        };
        let info = RunInfo::new(&plan, &closed);
        assert!(info.phases.is_empty());
        assert_eq!(info.iterations, Some(100));
    }

    #[test]
    fn keys_map_to_actions() {
        let key = |code, modifiers| KeyEvent::new(code, modifiers);
        let none = KeyModifiers::NONE;
        assert_eq!(action(&key(KeyCode::Char('q'), none)), Some(Action::Quit));
        assert_eq!(action(&key(KeyCode::Char('+'), KeyModifiers::SHIFT)), Some(Action::More));
        assert_eq!(action(&key(KeyCode::Char('='), none)), Some(Action::More));
        assert_eq!(action(&key(KeyCode::Char('-'), none)), Some(Action::Less));
        assert_eq!(action(&key(KeyCode::Char('?'), none)), Some(Action::Help));
        assert_eq!(action(&key(KeyCode::Esc, none)), Some(Action::Dismiss));
        assert_eq!(action(&key(KeyCode::Char('c'), KeyModifiers::CONTROL)), Some(Action::Cancel));
        assert_eq!(action(&key(KeyCode::Char('l'), KeyModifiers::CONTROL)), Some(Action::Redraw));
        assert_eq!(action(&key(KeyCode::Char('c'), none)), None);
        assert_eq!(action(&key(KeyCode::Char('q'), KeyModifiers::CONTROL)), None);
        let mut release = key(KeyCode::Char('q'), none);
        release.kind = KeyEventKind::Release;
        assert_eq!(action(&release), None);
    }

    #[test]
    fn formats() {
        assert_eq!(clean(" a\nb\x1b[0m ", 10), "a b [0m");
        assert_eq!(clean("abcdef", 3), "abc…");
        assert_eq!(clock(Duration::from_secs(65)), "1m05s");
        assert_eq!(ms(3.456), "3.46");
        assert_eq!(ms(123.45), "123.5");
        assert_eq!(rate(20134.4), "20134");
        assert_eq!(size(1536.0), "1.5 KiB");
        assert_eq!(percent(1, 3), "33.33%");
        assert_eq!(shorten("http://127.0.0.1:18080/items", 12), "http:…/items");
        assert_eq!(shorten("short", 12), "short");
    }
}
