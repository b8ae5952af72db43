//! The running dashboard: the terminal taken over from [`Dashboard::start`] to
//! [`Dashboard::finish`], the key reader thread acting on keys, and drawing at most
//! [`FRAMES_PER_SECOND`] times a second, on ticks, keys and resizes.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::thread::JoinHandle;
use std::time::{Duration, Instant};

use crossterm::event::{self, Event, KeyEvent};
use hornet_runner::{Control, LoadRequest, StopReason, Tick};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;

use crate::input::{Action, STEP, action};
use crate::model::{RunInfo, View};
use crate::render::render;
use crate::terminal::{self, Capture, Out};

/// Most redraws per second.
pub const FRAMES_PER_SECOND: u32 = 4;

/// Shortest time between two redraws.
const FRAME: Duration = Duration::from_millis(1000 / FRAMES_PER_SECOND as u64);

/// How long the key reader waits for a key before looking at pending redraws.
const POLL: Duration = Duration::from_millis(100);

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

/// State shared by the run's thread (ticks), the key reader and the stderr reader.
struct Shared {
    board: Mutex<Board>,
    control: Control,
    capture: Arc<Capture>,
}

impl Shared {
    fn board(&self) -> MutexGuard<'_, Board> {
        self.board.lock().unwrap_or_else(PoisonError::into_inner)
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
                    terminal::restore();
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
        let lines = self.capture.take_pending();
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
        if !terminal::enter_full_screen() {
            return None;
        }
        let Ok(term) = Terminal::new(CrosstermBackend::new(Out::default())) else {
            terminal::restore_terminal();
            return None;
        };
        let board =
            Board { view: View::new(info), terminal: term, last_draw: None, dirty: true, repaint: false };
        let shared =
            Arc::new(Shared { board: Mutex::new(board), control, capture: Arc::new(Capture::default()) });
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
            terminal::restore_terminal();
            return None;
        };
        let capture = terminal::capture_stderr(shared.capture.clone());
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

    /// Tells the dashboard what runs (the header), once it is known.
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
        terminal::restore_terminal();
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
            self.shared.capture.replay();
        }
    }
}

impl Drop for Dashboard {
    fn drop(&mut self) {
        self.finish();
    }
}
