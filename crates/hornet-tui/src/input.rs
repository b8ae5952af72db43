//! Key input: the one mapping from a key to what it asks for, used by the dashboard (crossterm
//! key events in raw mode) and by the status line's key reader (bytes from a non-canonical
//! terminal, see [`key_of_byte`]).

use crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

/// The step of one `+` or `-`: the load is multiplied or divided by it.
pub const STEP: f64 = 1.1;

/// What a key asks for.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Action {
    /// `+` (or `=`): 10% more load.
    More,
    /// `-`: 10% less load.
    Less,
    /// `q`: stop gracefully, running VUs finish.
    Quit,
    /// `?` (or `h`): show the keys.
    Help,
    /// Esc: hides the help.
    Dismiss,
    /// Ctrl-L: redraw the screen.
    Redraw,
    /// Ctrl-C (a key only in raw mode; otherwise it is SIGINT).
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

/// The key a byte read from a terminal stands for: a control byte (0x01–0x1a) is Ctrl with its
/// letter, 0x1b is Esc, a printable byte its character.
pub fn key_of_byte(b: u8) -> KeyEvent {
    match b {
        0x1b => KeyEvent::new(KeyCode::Esc, KeyModifiers::NONE),
        0x01..=0x1a => KeyEvent::new(KeyCode::Char(char::from(b'a' + b - 1)), KeyModifiers::CONTROL),
        b => KeyEvent::new(KeyCode::Char(char::from(b)), KeyModifiers::NONE),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
    fn bytes_are_the_same_keys() {
        assert_eq!(action(&key_of_byte(b'q')), Some(Action::Quit));
        assert_eq!(action(&key_of_byte(b'h')), Some(Action::Help));
        assert_eq!(action(&key_of_byte(0x03)), Some(Action::Cancel));
        assert_eq!(action(&key_of_byte(0x0c)), Some(Action::Redraw));
        assert_eq!(action(&key_of_byte(0x1b)), Some(Action::Dismiss));
        assert_eq!(action(&key_of_byte(b'Q')), None);
    }

    #[test]
    fn plus_then_minus_is_the_plan_again() {
        assert!((STEP * (1.0 / STEP) - 1.0).abs() < 1e-12);
    }
}
