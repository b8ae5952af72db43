//! A VU's variables and its random generator ([`Scope`]): what templates, `ifTrue` and
//! processor functions see, and where `$uuid` comes from.

use std::collections::HashMap;

use hornet_js::{ChangeLog, VuVars};
use hornet_script::rng::{self, SplitMix64};
use hornet_script::template::Vars;
use serde_json::Value;

/// A VU's variables and its random source: what templates and `ifTrue` see.
pub struct Scope {
    vars: HashMap<String, Value>,
    rng: SplitMix64,
    /// The variables set or removed since the last processor call, kept from the first call on
    /// (a VU without a processor keeps none).
    changes: Option<ChangeLog>,
}

impl Scope {
    /// A scope with `vars`, drawing random numbers from `seed`.
    pub fn new(vars: HashMap<String, Value>, seed: u64) -> Scope {
        Scope { vars, rng: SplitMix64::new(seed), changes: None }
    }

    /// Sets a variable.
    pub fn set(&mut self, name: &str, value: Value) {
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
        if let Some(changes) = &mut self.changes {
            changes.note(name);
        }
        self.vars.remove(name)
    }

    /// The variables, as processor functions read and write them (`context.vars`), with what
    /// was set or removed here since the last call.
    pub(crate) fn js_vars(&mut self) -> VuVars<'_> {
        VuVars { map: &mut self.vars, changed: Some(self.changes.get_or_insert_default()) }
    }

    /// All variables (for `before` captures that become global).
    pub fn into_vars(self) -> HashMap<String, Value> {
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
        self.vars.get(name).cloned()
    }
}

impl Vars for Scope {
    fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }

    fn random(&self) -> u64 {
        self.next_u64()
    }
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
}
