//! Name resolution for new connections, with a short per-thread memory: a host name resolved less
//! than [`RESOLVED_FOR`] ago is connected to again without a lookup. Each lookup is a blocking
//! `getaddrinfo` on tokio's blocking pool (two thread hand-offs), which in the open model, where
//! every arrival opens its own connection, cost more than the rest of the arrival together. IP
//! literals never get here.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::net::SocketAddr;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// How long an answer is used before the name is looked up again. `getaddrinfo` gives no TTL;
/// one second keeps a load test's view of a changing name (a fail-over, a rotating set of
/// addresses) about as fresh as a lookup per connection would, at one lookup a second.
pub(crate) const RESOLVED_FOR: Duration = Duration::from_secs(1);

/// Names kept at most; past that, expired answers are dropped, then all (a script that makes up
/// host names must not grow the memory without bound).
const MAX_NAMES: usize = 256;

/// The thread's recent answers, by host, then port.
#[derive(Default)]
pub(crate) struct Resolved {
    answers: RefCell<HashMap<Box<str>, Vec<Answer>>>,
}

/// One lookup's addresses for a port, and where the next connection starts among them.
struct Answer {
    port: u16,
    addrs: Rc<[SocketAddr]>,
    until: Instant,
    /// Each new connection starts at the next address, as lookups that come back rotated (round-
    /// robin DNS) would spread them; the others follow in order if it fails.
    next: Cell<usize>,
}

/// The addresses one connection tries, in order: all of an answer's, from a given one on.
pub(crate) struct Attempts {
    addrs: Rc<[SocketAddr]>,
    first: usize,
    tried: usize,
}

impl Iterator for Attempts {
    type Item = SocketAddr;

    fn next(&mut self) -> Option<SocketAddr> {
        let n = self.addrs.len();
        if self.tried == n {
            return None;
        }
        self.tried += 1;
        Some(self.addrs[(self.first + self.tried - 1) % n])
    }
}

impl Resolved {
    /// The addresses to try for `host:port` when an answer younger than [`RESOLVED_FOR`] is known
    /// at `now`.
    pub(crate) fn recall(&self, host: &str, port: u16, now: Instant) -> Option<Attempts> {
        let answers = self.answers.borrow();
        let answer = answers.get(host)?.iter().find(|a| a.port == port && now < a.until)?;
        let first = answer.next.get() % answer.addrs.len();
        answer.next.set(first + 1);
        Some(Attempts { addrs: answer.addrs.clone(), first, tried: 0 })
    }

    /// Remembers a lookup of `host:port` made at `now` (an empty answer is not kept), and returns
    /// its addresses to try, in the order of the answer.
    pub(crate) fn remember(&self, host: &str, port: u16, addrs: Vec<SocketAddr>, now: Instant) -> Attempts {
        let addrs: Rc<[SocketAddr]> = addrs.into();
        let attempts = Attempts { addrs: addrs.clone(), first: 0, tried: 0 };
        if addrs.is_empty() {
            return attempts;
        }
        let mut answers = self.answers.borrow_mut();
        if answers.len() >= MAX_NAMES && !answers.contains_key(host) {
            answers.retain(|_, ports| {
                ports.retain(|a| now < a.until);
                !ports.is_empty()
            });
            if answers.len() >= MAX_NAMES {
                answers.clear();
            }
        }
        let answer = Answer { port, addrs, until: now + RESOLVED_FOR, next: Cell::new(1) };
        let ports = answers.entry(host.into()).or_default();
        ports.retain(|a| a.port != port);
        ports.push(answer);
        attempts
    }

    /// Forgets the answer for `host:port` (none of its addresses took a connection): the next
    /// connection looks the name up again.
    pub(crate) fn forget(&self, host: &str, port: u16) {
        if let Some(ports) = self.answers.borrow_mut().get_mut(host) {
            ports.retain(|a| a.port != port);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn addr(s: &str) -> SocketAddr {
        s.parse().unwrap()
    }

    fn recall(resolved: &Resolved, host: &str, port: u16, now: Instant) -> Option<Vec<SocketAddr>> {
        resolved.recall(host, port, now).map(Iterator::collect)
    }

    #[test]
    fn an_answer_is_used_until_it_expires_then_the_name_is_looked_up_again() {
        let resolved = Resolved::default();
        let t0 = Instant::now();
        assert_eq!(recall(&resolved, "svc.test", 80, t0), None, "nothing known yet");
        resolved.remember("svc.test", 80, vec![addr("127.0.0.2:80")], t0);
        let soon = t0 + RESOLVED_FOR - Duration::from_millis(1);
        assert_eq!(recall(&resolved, "svc.test", 80, soon), Some(vec![addr("127.0.0.2:80")]));
        assert_eq!(recall(&resolved, "svc.test", 81, soon), None, "another port is another answer");
        assert_eq!(recall(&resolved, "other.test", 80, soon), None);
        let later = t0 + RESOLVED_FOR;
        assert_eq!(recall(&resolved, "svc.test", 80, later), None, "expired: look it up again");
        // The name now resolves elsewhere: the new answer replaces the old one.
        resolved.remember("svc.test", 80, vec![addr("127.0.0.3:80")], later);
        assert_eq!(recall(&resolved, "svc.test", 80, later), Some(vec![addr("127.0.0.3:80")]));
    }

    #[test]
    fn connections_start_at_each_address_in_turn() {
        let resolved = Resolved::default();
        let t0 = Instant::now();
        let (a, b, c) = (addr("127.0.0.1:80"), addr("127.0.0.2:80"), addr("[::1]:80"));
        let first: Vec<_> = resolved.remember("rr.test", 80, vec![a, b, c], t0).collect();
        assert_eq!(first, vec![a, b, c], "the lookup's own connection tries the answer in order");
        assert_eq!(recall(&resolved, "rr.test", 80, t0), Some(vec![b, c, a]));
        assert_eq!(recall(&resolved, "rr.test", 80, t0), Some(vec![c, a, b]));
        assert_eq!(recall(&resolved, "rr.test", 80, t0), Some(vec![a, b, c]));
    }

    #[test]
    fn a_forgotten_or_empty_answer_is_looked_up_again() {
        let resolved = Resolved::default();
        let t0 = Instant::now();
        resolved.remember("gone.test", 80, vec![addr("127.0.0.1:80")], t0);
        resolved.forget("gone.test", 80);
        assert_eq!(recall(&resolved, "gone.test", 80, t0), None);
        resolved.remember("empty.test", 80, Vec::new(), t0);
        assert_eq!(recall(&resolved, "empty.test", 80, t0), None);
    }

    #[test]
    fn made_up_names_do_not_grow_the_memory_past_its_bound() {
        let resolved = Resolved::default();
        let t0 = Instant::now();
        for i in 0..MAX_NAMES * 3 {
            resolved.remember(&format!("n{i}.test"), 80, vec![addr("127.0.0.1:80")], t0);
            assert!(resolved.answers.borrow().len() <= MAX_NAMES);
        }
        let last = format!("n{}.test", MAX_NAMES * 3 - 1);
        assert!(recall(&resolved, &last, 80, t0).is_some(), "the newest answer is kept");
    }
}
