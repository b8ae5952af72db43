//! The live view while a test runs: on an interactive terminal the full-screen dashboard
//! ([`hornet_tui`]); with `--no-dashboard`, or when only stderr is a terminal, a status line
//! redrawn in place (which also takes keys, see [`crate::keys`]); otherwise a progress block every
//! 10 seconds.

use std::io::{IsTerminal, Write};
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use hornet_runner::{Control, RunOptions, Tick};
use hornet_script::Plan;

use crate::keys::Keys;
use hornet_tui::{Dashboard, RunInfo};

/// True when the dashboard can show: it is `enabled` (not `--no-dashboard`), stdin, stdout and
/// stderr are terminals, and `CI` is unset.
fn dashboard_wanted(quiet: bool, enabled: bool) -> bool {
    !quiet
        && enabled
        && std::env::var_os("CI").is_none()
        && std::io::stdout().is_terminal()
        && std::io::stderr().is_terminal()
        && std::io::stdin().is_terminal()
}

/// Prints live progress to stderr.
pub struct Live {
    mode: Mode,
    last_block: Duration,
    control: Control,
    screen: Screen,
    /// Reads keys while the status line shows (interactive terminals only).
    keys: Option<Keys>,
}

enum Mode {
    Quiet,
    Line,
    Blocks,
    Dashboard(Box<Dashboard>),
}

impl Live {
    /// The live view of a run steered by `control`: nothing when `quiet`; the dashboard when
    /// `dashboard` is on and the terminal allows it; else the status line or progress blocks.
    pub fn new(quiet: bool, dashboard: bool, control: Control) -> Live {
        let screen = Screen::default();
        if dashboard_wanted(quiet, dashboard)
            && let Some(d) = Dashboard::start(control.clone(), RunInfo::default())
        {
            let mode = Mode::Dashboard(Box::new(d));
            return Live { mode, last_block: Duration::ZERO, control, screen, keys: None };
        }
        let line = !quiet && std::io::stderr().is_terminal() && std::env::var_os("CI").is_none();
        let mode = if quiet {
            Mode::Quiet
        } else if line {
            Mode::Line
        } else {
            Mode::Blocks
        };
        // Keys only when someone can type them: a pipe or file on stdin is left alone, and so is
        // the terminal's mode.
        let keys = if line && std::io::stdin().is_terminal() {
            Keys::start(control.clone(), screen.clone())
        } else {
            None
        };
        Live { mode, last_block: Duration::ZERO, control, screen, keys }
    }

    /// Tells the live view what is about to run (the script, seed, phases and planned length,
    /// for the dashboard's header and progress bars). Optional; cheap.
    pub fn describe(&mut self, plan: &Plan, opts: &RunOptions) {
        if let Mode::Dashboard(d) = &self.mode {
            d.set_info(RunInfo::new(plan, opts));
        }
    }

    pub fn tick(&mut self, tick: Tick<'_>) {
        if let Mode::Dashboard(d) = &self.mode {
            // Warnings show in the dashboard, and in the summary at the end.
            d.tick(&tick);
            return;
        }
        let factor = self.control.factor();
        for warning in &tick.warnings {
            match self.mode {
                Mode::Line => self.screen.say(&format!("WARNING: {warning}")),
                Mode::Blocks | Mode::Quiet | Mode::Dashboard(_) => eprintln!("WARNING: {warning}"),
            }
        }
        match self.mode {
            Mode::Quiet | Mode::Dashboard(_) => {}
            Mode::Line => {
                let mut line = hornet_output::status_line(&tick.live, tick.phase);
                if let Some(f) = shown_factor(factor) {
                    line.push_str(&format!(" | load ×{f}"));
                }
                self.screen.draw(line);
            }
            Mode::Blocks => {
                if tick.live.elapsed >= self.last_block + Duration::from_secs(10) {
                    self.last_block = tick.live.elapsed;
                    let mut block = hornet_output::progress_block(&tick.live, tick.phase);
                    if let Some(f) = shown_factor(factor) {
                        block.push_str(&format!("\n  load:      ×{f} of the plan"));
                    }
                    let _ = writeln!(std::io::stderr().lock(), "{block}");
                }
            }
        }
    }

    /// Ends the live view: closes the dashboard, or stops reading keys (restoring the terminal)
    /// and moves past the status line. Ticks after this (a run stopping after `--abort-on-fail`)
    /// show on the status line.
    pub fn finish(&mut self) {
        if let Mode::Dashboard(d) = &mut self.mode {
            d.finish();
            self.mode = Mode::Line;
            return;
        }
        if let Some(mut keys) = self.keys.take() {
            keys.stop();
        }
        if let Mode::Line = self.mode {
            self.screen.end();
        }
    }
}

impl Drop for Live {
    fn drop(&mut self) {
        // Every way out of a run restores the terminal, not only `finish`.
        if let Some(mut keys) = self.keys.take() {
            keys.stop();
        }
    }
}

/// The load factor as shown, or `None` when it is the plan as written.
fn shown_factor(factor: f64) -> Option<String> {
    let shown = format!("{factor:.2}");
    (shown != "1.00").then_some(shown)
}

/// The status line on stderr, shared with the key reader so that messages go above it.
///
/// Messages go above the status line, which is then redrawn.
#[derive(Clone, Default)]
pub struct Screen {
    line: Arc<Mutex<String>>,
}

impl Screen {
    /// Redraws the status line in place.
    fn draw(&self, line: String) {
        let mut last = self.line.lock().unwrap_or_else(PoisonError::into_inner);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r{line}\x1b[K");
        let _ = err.flush();
        *last = line;
    }

    /// Prints `message` on its own line above the status line, then redraws the status line.
    pub fn say(&self, message: &str) {
        let last = self.line.lock().unwrap_or_else(PoisonError::into_inner);
        let mut err = std::io::stderr().lock();
        let _ = write!(err, "\r\x1b[K{message}\r\n{last}\x1b[K");
        let _ = err.flush();
    }

    /// Moves past the status line for good (if one was drawn).
    fn end(&self) {
        let mut last = self.line.lock().unwrap_or_else(PoisonError::into_inner);
        if !last.is_empty() {
            let _ = write!(std::io::stderr().lock(), "\r\x1b[K\r\n");
        }
        last.clear();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn factor_is_shown_only_when_it_changes_the_plan() {
        assert_eq!(shown_factor(1.0), None);
        assert_eq!(shown_factor(1.000_000_1), None);
        assert_eq!(shown_factor(1.1 * 1.1).as_deref(), Some("1.21"));
        assert_eq!(shown_factor(1.0 / 1.1).as_deref(), Some("0.91"));
        assert_eq!(shown_factor(0.0).as_deref(), Some("0.00"));
    }
}
