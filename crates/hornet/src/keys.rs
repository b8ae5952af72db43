//! Single keys on an interactive terminal while a run shows its status line: `+`/`-` change
//! the load by 10%, `q` stops gracefully, `?`/`h` prints help.
//!
//! While keys are read the terminal is non-canonical and does not echo, but output processing
//! and signals stay on: other output renders as usual and Ctrl-C is still SIGINT (`signals.rs`).
//! The terminal is restored when the run ends, on every exit path, and from a panic hook.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Mutex, Once, PoisonError};
use std::thread::JoinHandle;

use hornet_runner::{Control, LoadRequest, StopReason};

use crate::live::Screen;

/// The step of one `+` or `-`.
pub const STEP: f64 = 1.1;

/// The one-line help.
pub const HELP: &str = "keys: + more load, - less load, q stop, Ctrl-C cancel";

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// 10% more load.
    More,
    /// 10% less load.
    Less,
    /// Stop gracefully: running VUs finish.
    Quit,
    /// Print the keys.
    Help,
}

/// The action for a key (a byte read from the terminal), if it has one.
pub fn action(key: u8) -> Option<Action> {
    match key {
        b'+' | b'=' => Some(Action::More),
        b'-' => Some(Action::Less),
        b'q' => Some(Action::Quit),
        b'?' | b'h' => Some(Action::Help),
        _ => None,
    }
}

/// The terminal settings before keys were read, while they are changed.
static SAVED: Mutex<Option<libc::termios>> = Mutex::new(None);

/// Puts the terminal on stdin in non-canonical, no-echo mode with reads that return after at most
/// 100 ms. False when stdin is not a terminal or it cannot be changed.
fn enter() -> bool {
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

/// Puts the terminal back as it was, if this process changed it (the key reader's mode, or the
/// dashboard's raw mode and alternate screen). Safe to call from anywhere, any number of times.
pub fn restore() {
    crate::dashboard::restore_terminal();
    if let Some(saved) = SAVED.lock().unwrap_or_else(PoisonError::into_inner).take() {
        // SAFETY: `saved` came from tcgetattr on the same descriptor.
        unsafe { libc::tcsetattr(libc::STDIN_FILENO, libc::TCSANOW, &saved) };
    }
}

/// Restores the terminal before any panic message is printed, then runs the previous hook.
pub(crate) fn install_panic_hook() {
    static HOOK: Once = Once::new();
    HOOK.call_once(|| {
        let previous = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            restore();
            previous(info);
        }));
    });
}

/// The key reader: a background thread, with the terminal changed while it runs.
pub struct Keys {
    done: std::sync::Arc<AtomicBool>,
    thread: Option<JoinHandle<()>>,
}

impl Keys {
    /// Changes the terminal and starts reading keys. `None` (and the terminal as it was) when that
    /// is not possible.
    pub fn start(control: Control, screen: Screen) -> Option<Keys> {
        install_panic_hook();
        if !enter() {
            return None;
        }
        let done = std::sync::Arc::new(AtomicBool::new(false));
        let stop = done.clone();
        let shared = screen.clone();
        let spawned = std::thread::Builder::new().name("hornet-keys".into()).spawn(move || {
            let mut state = State::default();
            let mut buf = [0u8; 16];
            while !stop.load(Ordering::SeqCst) {
                // SAFETY: reading into a local buffer of the given length.
                let n = unsafe { libc::read(libc::STDIN_FILENO, buf.as_mut_ptr().cast(), buf.len()) };
                match n {
                    0 => {}
                    n if n > 0 => {
                        for &b in &buf[..n as usize] {
                            if let Some(a) = action(b) {
                                state.apply(a, &control, &shared);
                            }
                        }
                    }
                    _ if std::io::Error::last_os_error().kind() == std::io::ErrorKind::Interrupted => {}
                    _ => break,
                }
            }
            restore();
        });
        match spawned {
            Ok(thread) => {
                screen.say(HELP);
                Some(Keys { done, thread: Some(thread) })
            }
            Err(_) => {
                restore();
                None
            }
        }
    }

    /// Stops reading keys and restores the terminal. Idempotent.
    pub fn stop(&mut self) {
        self.done.store(true, Ordering::SeqCst);
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
        restore();
    }
}

impl Drop for Keys {
    fn drop(&mut self) {
        self.stop();
    }
}

/// What the key reader remembers between keys.
#[derive(Default)]
struct State {
    quitting: bool,
}

impl State {
    fn apply(&mut self, action: Action, control: &Control, screen: &Screen) {
        match action {
            Action::More => control.request(LoadRequest::Scale(STEP)),
            Action::Less => control.request(LoadRequest::Scale(1.0 / STEP)),
            Action::Help => screen.say(HELP),
            Action::Quit => {
                control.stop(StopReason::Quit);
                if !self.quitting && control.stop_reason() == Some(StopReason::Quit) {
                    self.quitting = true;
                    screen.say("hornet: stopping: waiting for running VUs to finish (Ctrl-C to cancel them)");
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_actions() {
        assert_eq!(action(b'+'), Some(Action::More));
        assert_eq!(action(b'='), Some(Action::More));
        assert_eq!(action(b'-'), Some(Action::Less));
        assert_eq!(action(b'q'), Some(Action::Quit));
        assert_eq!(action(b'?'), Some(Action::Help));
        assert_eq!(action(b'h'), Some(Action::Help));
    }

    #[test]
    fn other_keys_do_nothing() {
        for b in [b'c', b'x', b'Q', b'H', b' ', b'1', b'\n', 0x1b, 0x03] {
            assert_eq!(action(b), None, "{b:#x}");
        }
    }

    #[test]
    fn plus_then_minus_is_the_plan_again() {
        assert!((STEP * (1.0 / STEP) - 1.0).abs() < 1e-12);
    }

    #[test]
    fn quit_stops_gracefully_once() {
        let control = Control::new();
        let mut state = State::default();
        state.apply(Action::Quit, &control, &Screen::default());
        state.apply(Action::Quit, &control, &Screen::default());
        assert_eq!(control.stop_reason(), Some(StopReason::Quit));
        assert!(state.quitting);
    }
}
