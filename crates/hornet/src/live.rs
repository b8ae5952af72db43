//! The live view while a test runs: a status line redrawn in place on a terminal, or a
//! progress block every 10 seconds otherwise.

use std::io::{IsTerminal, Write};
use std::time::Duration;

use hornet_runner::Tick;

/// Prints live progress to stderr.
pub struct Live {
    mode: Mode,
    last_block: Duration,
}

enum Mode {
    Quiet,
    Line,
    Blocks,
}

impl Live {
    pub fn new(quiet: bool) -> Live {
        let mode = if quiet {
            Mode::Quiet
        } else if std::io::stderr().is_terminal() && std::env::var_os("CI").is_none() {
            Mode::Line
        } else {
            Mode::Blocks
        };
        Live { mode, last_block: Duration::ZERO }
    }

    pub fn tick(&mut self, tick: Tick<'_>) {
        let mut err = std::io::stderr().lock();
        match self.mode {
            Mode::Quiet => {}
            Mode::Line => {
                let line = hornet_output::status_line(&tick.live, tick.phase);
                let _ = write!(err, "\r{line}\x1b[K");
                let _ = err.flush();
            }
            Mode::Blocks => {
                if tick.live.elapsed >= self.last_block + Duration::from_secs(10) {
                    self.last_block = tick.live.elapsed;
                    let _ = writeln!(err, "{}", hornet_output::progress_block(&tick.live, tick.phase));
                }
            }
        }
    }

    /// Ends the live view (moves past the status line).
    pub fn finish(&mut self) {
        if let Mode::Line = self.mode {
            let _ = writeln!(std::io::stderr(), "\r\x1b[K");
        }
    }
}
