//! Terminal handling for the live views: the dashboard's raw mode and alternate screen, the status
//! line's key mode (non-canonical, no echo), capturing stderr while the dashboard shows, and
//! putting everything back ([`restore`]) on every exit path, from the panic hook and from the
//! signal thread.

use std::collections::VecDeque;
use std::io::{self, BufRead, Write};
use std::os::fd::FromRawFd;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex, Once, PoisonError};
use std::thread::JoinHandle;

use crossterm::{cursor, execute, terminal};
use hornet_output::format;

/// Lines of captured output kept for the panel.
pub(crate) const PANEL_LINES: usize = 200;

/// Lines of captured output kept to replay when the dashboard closes.
const REPLAY_LINES: usize = 1000;

/// Longest text from outside (names, messages, output lines) kept, in characters.
pub(crate) const MAX_TEXT: usize = 300;

/// True while the terminal is in raw mode on the alternate screen.
static ACTIVE: AtomicBool = AtomicBool::new(false);

/// The real stderr while stderr is captured, else -1.
static SAVED_STDERR: AtomicI32 = AtomicI32::new(-1);

/// The terminal settings before the status line's key mode, while it is on.
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

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

/// Puts the terminal back as it was, if this process changed it (the key reader's mode, or the
/// dashboard's raw mode and alternate screen). Safe to call from anywhere, any number of times.
pub fn restore() {
    restore_terminal();
    if let Some(saved) = SAVED.lock().unwrap_or_else(PoisonError::into_inner).take() {
        // SAFETY: `saved` came from tcgetattr on the same descriptor.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &saved) };
    }
}

/// Restores the terminal before any panic message is printed, then runs the previous hook.
pub fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// Puts the terminal on stdin in non-canonical, no-echo mode with reads that return after at most
/// 100 ms, for the status line's key reader; output processing and signals stay on (Ctrl-C is still
/// SIGINT). False when stdin is not a terminal or it cannot be changed. [`restore`] undoes it.
pub fn enter_key_mode() -> bool {
    // SAFETY: termios is plain data; tcgetattr fills it or fails, and we check its result.
    let mut t: libc::termios = unsafe { std::mem::zeroed() };
    if unsafe { libc::tcgetattr(libc::STDIN_FILENO, &mut t) } != 0 {
        return false;
    }
    let saved = t;
    t.c_lflag &= !(libc::ICANON | libc::ECHO);
    t.c_cc[libc::VMIN] = 0;
    t.c_cc[libc::VTIME] = 1;
    // SAFETY: `t` is a valid termios obtained from tcgetattr.
    if unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &t) } != 0 {
        return false;
    }
    *SAVED.lock().unwrap_or_else(PoisonError::into_inner) = Some(saved);
    true
}

/// Raw mode and the alternate screen with the cursor hidden, for the dashboard. False, with the
/// terminal as it was, when that is not possible.
pub(crate) fn enter_full_screen() -> bool {
    install_panic_hook();
    if terminal::enable_raw_mode().is_err() {
        return false;
    }
    ACTIVE.store(true, Ordering::SeqCst);
    if execute!(io::stdout(), terminal::EnterAlternateScreen, cursor::Hide).is_err() {
        restore_terminal();
        return false;
    }
    true
}

/// Writes the terminal's output to stdout in one go per frame, and drops it once the dashboard
/// has closed, so that nothing from a late or interrupted frame lands on the normal screen.
#[derive(Default)]
pub(crate) struct Out {
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

impl Captured {
    /// Takes in one line read from the captured stderr.
    fn push(&mut self, raw: &str) {
        self.pending.push(format::clip(raw, MAX_TEXT));
        if self.pending.len() > PANEL_LINES {
            let extra = self.pending.len() - PANEL_LINES;
            self.pending.drain(..extra);
        }
        if self.kept.len() == REPLAY_LINES {
            self.kept.pop_front();
            self.dropped += 1;
        }
        // Replayed as written, but without escape sequences that could upset the terminal.
        self.kept.push_back(raw.chars().filter(|ch| !ch.is_control() || *ch == '\t').collect());
    }
}

/// The output captured from stderr, shared by the reader thread and the dashboard.
#[derive(Default)]
pub(crate) struct Capture {
    lines: Mutex<Captured>,
    /// Set when `lines.pending` has lines.
    fresh: AtomicBool,
}

impl Capture {
    fn lines(&self) -> std::sync::MutexGuard<'_, Captured> {
        self.lines.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn push(&self, raw: &str) {
        self.lines().push(raw);
        self.fresh.store(true, Ordering::SeqCst);
    }

    /// The lines captured since the previous call, for the panel.
    pub(crate) fn take_pending(&self) -> Vec<String> {
        if self.fresh.swap(false, Ordering::SeqCst) {
            std::mem::take(&mut self.lines().pending)
        } else {
            Vec::new()
        }
    }

    /// Writes the kept lines to stderr (which must be the real one again), then forgets them.
    pub(crate) fn replay(&self) {
        let captured = std::mem::take(&mut *self.lines());
        let mut err = io::stderr().lock();
        if captured.dropped > 0 {
            let _ = writeln!(err, "hornet: {} earlier lines of output not shown", captured.dropped);
        }
        for line in &captured.kept {
            let _ = writeln!(err, "{line}");
        }
    }
}

/// Points stderr at a pipe read by a thread that keeps the lines in `capture` for the panel and
/// the replay; [`restore_terminal`] gives stderr back, which ends the reader.
pub(crate) fn capture_stderr(capture: Arc<Capture>) -> Option<JoinHandle<()>> {
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
                    capture.push(raw.trim_end_matches(['\n', '\r']));
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn captured_lines_are_bounded_and_cleaned() {
        let capture = Capture::default();
        for i in 0..REPLAY_LINES + 3 {
            capture.push(&format!("line {i}\x1b[0m"));
        }
        let c = capture.lines();
        assert_eq!(c.pending.len(), PANEL_LINES);
        assert_eq!(c.kept.len(), REPLAY_LINES);
        assert_eq!(c.dropped, 3);
        assert_eq!(c.kept.back().map(String::as_str), Some(format!("line {}[0m", REPLAY_LINES + 2).as_str()));
        assert_eq!(
            c.pending.last().map(String::as_str),
            Some(format!("line {} [0m", REPLAY_LINES + 2).as_str())
        );
        drop(c);
        assert_eq!(capture.take_pending().len(), PANEL_LINES);
        assert!(capture.take_pending().is_empty(), "taken once");
    }
}
