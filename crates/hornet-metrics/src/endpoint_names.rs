//! Endpoints named while a run goes (`context.http` requests of processor code, named at run
//! time) beyond the plan's list: one table per process, so that its worker threads and its
//! collector agree on their ids. An id is the plan's endpoint count plus the name's place in the
//! table. The wire form of an interval carries these names, and the receiving process maps them
//! to its own ids ([`crate::Interval::from_wire`]).

use std::sync::Mutex;

use crate::recorder::EndpointId;

/// The names, in order of first use in this process.
static NAMES: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// The plan endpoint count the last [`intern`] was given: where the ids of the names start.
static BASE: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Most names the table holds; further names share the last id.
const MAX_NAMES: usize = 1000;

/// The id of endpoint `name` in a plan of `plan_endpoints` endpoints, given an id on first use.
pub fn intern(plan_endpoints: usize, name: &str) -> EndpointId {
    BASE.store(plan_endpoints, std::sync::atomic::Ordering::Relaxed);
    let mut names = NAMES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    let place = match names.iter().position(|n| n == name) {
        Some(place) => place,
        None if names.len() < MAX_NAMES => {
            names.push(name.to_string());
            names.len() - 1
        }
        None => MAX_NAMES - 1,
    };
    u32::try_from(plan_endpoints + place).unwrap_or(u32::MAX)
}

/// The name of endpoint `id` in a plan of `plan_endpoints` endpoints, when [`intern`] gave it.
pub fn name_of(plan_endpoints: usize, id: usize) -> Option<String> {
    let names = NAMES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    id.checked_sub(plan_endpoints).and_then(|place| names.get(place).cloned())
}

/// The names given at run time with their ids (for the wire form), and where the ids start;
/// `None` when no name was given in this process.
pub(crate) fn named() -> Option<(usize, Vec<(u32, String)>)> {
    let names = NAMES.lock().unwrap_or_else(std::sync::PoisonError::into_inner);
    if names.is_empty() {
        return None;
    }
    let base = BASE.load(std::sync::atomic::Ordering::Relaxed);
    let ids = names
        .iter()
        .enumerate()
        .map(|(place, name)| (u32::try_from(base + place).unwrap_or(u32::MAX), name.clone()));
    Some((base, ids.collect()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_ids_past_the_plan_and_keep_them() {
        let a = intern(3, "login (js) test-a");
        let b = intern(3, "cart (js) test-a");
        assert!(a >= 3 && b >= 3 && a != b);
        assert_eq!(intern(3, "login (js) test-a"), a);
        assert_eq!(name_of(3, a as usize).as_deref(), Some("login (js) test-a"));
        assert_eq!(name_of(3, 1), None, "plan endpoints are not in the table");
    }
}
