//! Single keys on an interactive terminal while a run shows its status line: `+`/`-` change
//! the load by 10%, `q` stops gracefully, `?`/`h` prints help.
//!
//! While keys are read the terminal is non-canonical and does not echo, but output processing
//! and signals stay on: other output renders as usual and Ctrl-C is still SIGINT (`signals.rs`).
//! The terminal handling and the key mapping are `hornet_tui`'s; the terminal is restored when the
//! run ends, on every exit path, and from a panic hook.

use std::sync::atomic::{AtomicBool, Ordering};
use std::thread::JoinHandle;

use hornet_runner::{Control, LoadRequest, StopReason};
use hornet_tui::input::{Action, STEP, action, key_of_byte};
use hornet_tui::terminal::{enter_key_mode, install_panic_hook, restore};

use crate::live::Screen;

/// The one-line help.
pub const HELP: &str = "keys: + more load, - less load, q stop, Ctrl-C cancel";

/// The action of a key (a byte read from the terminal) on the status line, if it has one: the
/// dashboard's mapping ([`hornet_tui::input`]), less what needs a full screen (Esc, Ctrl-L) and
/// Ctrl-C, which is SIGINT here.
pub fn status_line_action(key: u8) -> Option<Action> {
    action(&key_of_byte(key))
        .filter(|a| matches!(a, Action::More | Action::Less | Action::Quit | Action::Help))
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
        if !enter_key_mode() {
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
                            if let Some(a) = status_line_action(b) {
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
            // Not mapped on the status line (see `status_line_action`).
            Action::Dismiss | Action::Redraw | Action::Cancel => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_map_to_actions() {
        assert_eq!(status_line_action(b'+'), Some(Action::More));
        assert_eq!(status_line_action(b'='), Some(Action::More));
        assert_eq!(status_line_action(b'-'), Some(Action::Less));
        assert_eq!(status_line_action(b'q'), Some(Action::Quit));
        assert_eq!(status_line_action(b'?'), Some(Action::Help));
        assert_eq!(status_line_action(b'h'), Some(Action::Help));
    }

    #[test]
    fn other_keys_do_nothing() {
        for b in [b'c', b'x', b'Q', b'H', b' ', b'1', b'\n', 0x1b, 0x03] {
            assert_eq!(status_line_action(b), None, "{b:#x}");
        }
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
