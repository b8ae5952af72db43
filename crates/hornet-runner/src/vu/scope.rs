//! A VU's variables and its random generator ([`Scope`]): what templates, `ifTrue` and
//! processor functions see, and where `$uuid` comes from.

use std::cell::OnceCell;
use std::collections::HashMap;

use hornet_js::{ChangeLog, VuVars};
use hornet_script::rng::{self, GOLDEN_GAMMA, SplitMix64};
use hornet_script::template::Vars;
use serde_json::Value;

/// The variable every VU has, drawn for it (see [`Scope::with_uuid`]).
const UUID: &str = "$uuid";

/// A VU's variables and its random source: what templates and `ifTrue` see.
pub struct Scope {
    vars: HashMap<String, Value>,
    rng: SplitMix64,
    /// The variables set or removed since the last processor call, kept from the first call on
    /// (a VU without a processor keeps none).
    changes: Option<ChangeLog>,
    /// `$uuid` while it is not among `vars`: drawn from `uuid_seed` when first read, and moved
    /// into `vars` when they are handed out or `$uuid` is set or removed.
    uuid: OnceCell<Value>,
    uuid_seed: Option<u64>,
}

impl Scope {
    /// A scope with `vars`, drawing random numbers from `seed`.
    pub fn new(vars: HashMap<String, Value>, seed: u64) -> Scope {
        Scope { vars, rng: SplitMix64::new(seed), changes: None, uuid: OnceCell::new(), uuid_seed: None }
    }

    /// A VU's scope: `vars`, and a `$uuid` (replacing one in `vars`) made of the first two values
    /// drawn from `seed`, the other random numbers coming after them. The UUID is only written out
    /// when something reads it: most flows never do, and making it cost about as much as the rest
    /// of a VU's set-up.
    pub fn with_uuid(mut vars: HashMap<String, Value>, seed: u64) -> Scope {
        if !vars.is_empty() {
            vars.remove(UUID);
        }
        let rng = SplitMix64::new(seed.wrapping_add(GOLDEN_GAMMA.wrapping_mul(2)));
        Scope { vars, rng, changes: None, uuid: OnceCell::new(), uuid_seed: Some(seed) }
    }

    /// The drawn `$uuid`, written out on first use; `None` once it is among the variables.
    fn drawn_uuid(&self) -> Option<&Value> {
        let seed = self.uuid_seed?;
        Some(self.uuid.get_or_init(|| draw_uuid(seed)))
    }

    /// Moves the drawn `$uuid` among the variables (before they change or are handed out).
    fn settle_uuid(&mut self) {
        if let Some(seed) = self.uuid_seed.take() {
            let value = self.uuid.take().unwrap_or_else(|| draw_uuid(seed));
            if let Some(changes) = &mut self.changes {
                changes.note(UUID);
            }
            self.vars.insert(UUID.to_string(), value);
        }
    }

    /// Sets a variable.
    pub fn set(&mut self, name: &str, value: Value) {
        if name == UUID {
            self.settle_uuid();
        }
        if let Some(changes) = &mut self.changes {
            changes.note(name);
        }
        match self.vars.get_mut(name) {
            Some(v) => *v = value,
            None => {
                self.vars.insert(name.to_string(), value);
            }
        }
    }

    /// Removes a variable, returning it.
    pub fn remove(&mut self, name: &str) -> Option<Value> {
        if name == UUID {
            self.settle_uuid();
        }
        if let Some(changes) = &mut self.changes {
            changes.note(name);
        }
        self.vars.remove(name)
    }

    /// The variables, as processor functions read and write them (`context.vars`), with what
    /// was set or removed here since the last call.
    pub(crate) fn js_vars(&mut self) -> VuVars<'_> {
        self.settle_uuid();
        VuVars { map: &mut self.vars, changed: Some(self.changes.get_or_insert_default()) }
    }

    /// All variables (for `before` captures that become global).
    pub fn into_vars(mut self) -> HashMap<String, Value> {
        self.settle_uuid();
        self.vars
    }

    /// A uniformly random u64 (SplitMix64 over the VU's own state).
    pub fn next_u64(&self) -> u64 {
        self.rng.next_u64()
    }

    /// A uniform float in [0, 1).
    pub(super) fn unit(&self) -> f64 {
        self.rng.unit()
    }

    pub(super) fn lookup(&self, name: &str) -> Option<Value> {
        Vars::get(self, name).cloned()
    }
}

impl Vars for Scope {
    fn get(&self, name: &str) -> Option<&Value> {
        match self.vars.get(name) {
            None if name == UUID => self.drawn_uuid(),
            found => found,
        }
    }

    fn random(&self) -> u64 {
        self.next_u64()
    }
}

/// The `$uuid` of a scope made with [`Scope::with_uuid`] from `seed`.
fn draw_uuid(seed: u64) -> Value {
    Value::String(rng::uuid(&SplitMix64::new(seed)))
}

/// A random version-4 UUID from `scope`'s generator (for `$uuid`).
pub fn uuid(scope: &Scope) -> String {
    rng::uuid(&scope.rng)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uuids_are_version_4_and_differ() {
        let scope = Scope::new(HashMap::new(), 42);
        let (a, b) = (uuid(&scope), uuid(&scope));
        assert_ne!(a, b);
        for id in [a, b] {
            let groups: Vec<&str> = id.split('-').collect();
            assert_eq!(groups.iter().map(|g| g.len()).collect::<Vec<_>>(), [8, 4, 4, 4, 12], "{id}");
            assert!(id.chars().all(|c| c == '-' || c.is_ascii_hexdigit() && !c.is_ascii_uppercase()), "{id}");
            assert!(groups[2].starts_with('4'), "version nibble: {id}");
            assert!(matches!(&groups[3][..1], "8" | "9" | "a" | "b"), "variant bits: {id}");
        }
    }

    /// What a VU's scope was before `$uuid` was drawn lazily: the UUID from the seed's first two
    /// values, set as a variable, the other random numbers after them.
    fn eager(vars: HashMap<String, Value>, seed: u64) -> Scope {
        let mut scope = Scope::new(vars, seed);
        let id = uuid(&scope);
        scope.set(UUID, Value::String(id));
        scope
    }

    #[test]
    fn a_lazy_uuid_has_the_value_and_leaves_the_random_numbers_an_eager_one_did() {
        for seed in [0, 42, u64::MAX] {
            let (old, new) = (eager(HashMap::new(), seed), Scope::with_uuid(HashMap::new(), seed));
            assert_eq!(new.next_u64(), old.next_u64(), "drawn before $uuid was read");
            assert_eq!(Vars::get(&new, UUID), Vars::get(&old, UUID));
            assert_eq!(Vars::get(&new, UUID), Vars::get(&new, UUID), "the same on every read");
            assert_eq!(new.next_u64(), old.next_u64(), "drawn after");
            assert_eq!(new.into_vars(), old.into_vars());
        }
    }

    #[test]
    fn a_lazy_uuid_is_a_variable_like_the_others() {
        let seed = 7;
        let id = Vars::get(&eager(HashMap::new(), seed), UUID).cloned().expect("an eager $uuid");
        // Handed out to a processor (`context.vars`), unread before: it is there.
        let mut scope = Scope::with_uuid(HashMap::new(), seed);
        assert_eq!(scope.js_vars().map.get(UUID), Some(&id));
        // Removed: gone for good (and returned), whether read before or not.
        for read_first in [false, true] {
            let mut scope = Scope::with_uuid(HashMap::new(), seed);
            if read_first {
                assert_eq!(Vars::get(&scope, UUID), Some(&id));
            }
            assert_eq!(scope.remove(UUID), Some(id.clone()));
            assert_eq!(Vars::get(&scope, UUID), None);
            assert_eq!(scope.into_vars().get(UUID), None);
        }
        // Set: the new value wins, now and when the variables are handed out.
        let mut scope = Scope::with_uuid(HashMap::new(), seed);
        scope.set(UUID, Value::from("mine"));
        assert_eq!(Vars::get(&scope, UUID), Some(&Value::from("mine")));
        assert_eq!(scope.into_vars().get(UUID), Some(&Value::from("mine")));
        // A `$uuid` among the starting variables (a `before` flow's) is the VU's own instead.
        let inherited =
            HashMap::from([(UUID.to_string(), Value::from("before")), ("a".into(), Value::from(1))]);
        let scope = Scope::with_uuid(inherited, seed);
        assert_eq!(Vars::get(&scope, UUID), Some(&id));
        assert_eq!(Vars::get(&scope, "a"), Some(&Value::from(1)));
        assert_eq!(scope.lookup(UUID), Some(id));
    }
}
