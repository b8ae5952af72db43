//! A VU's variables and its random generator ([`Scope`]): what templates, `ifTrue` and
//! processor functions see, where `$uuid` comes from, and the innermost loop's `$loopCount` and
//! `$loopElement`. A VU's starting variables shared by every VU (the run's globals) are not copied
//! into it until something needs them all as one map.

use std::cell::OnceCell;
use std::collections::HashMap;
use std::sync::Arc;

use hornet_js::{ChangeLog, VuVars};
use hornet_script::rng::{self, GOLDEN_GAMMA, SplitMix64};
use hornet_script::template::Vars;
use serde_json::Value;

/// The variable every VU has, drawn for it (see [`Scope::over`]).
const UUID: &str = "$uuid";
/// The innermost loop's iteration, from 1 (see [`Scope::enter_loop`]).
const LOOP_COUNT: &str = "$loopCount";
/// The innermost loop's element (its index, from 0, for a counted loop).
const LOOP_ELEMENT: &str = "$loopElement";

/// `$loopCount` and `$loopElement` kept apart from the other variables, so that a loop sets them
/// on each iteration without hashing their names.
#[derive(Default)]
struct LoopSlots {
    count: Option<Value>,
    element: Option<Value>,
    /// Whether the variables were cleared of these two names (done once, when the first loop
    /// starts; until then a value among them is what an empty slot reads).
    vars_cleared: bool,
}

impl LoopSlots {
    fn slot(&mut self, name: &str) -> Option<&mut Option<Value>> {
        match name {
            LOOP_COUNT => Some(&mut self.count),
            LOOP_ELEMENT => Some(&mut self.element),
            _ => None,
        }
    }
}

/// The loop variables outside a loop, for [`Scope::leave_loop`] to put back.
pub(crate) struct OuterLoop {
    count: Option<Value>,
    element: Option<Value>,
}

/// A VU's variables and its random source: what templates and `ifTrue` see.
pub struct Scope {
    /// The VU's own variables: all of them when `shared` is `None`, else those it was given or
    /// set, which hide the shared ones of the same name.
    vars: HashMap<String, Value>,
    /// Starting variables shared with other VUs and not copied: the names of `vars` hide theirs.
    /// Copied into `vars` (and dropped) before one of them is removed or the variables are handed
    /// out as one map; never holds `$uuid`, `$loopCount` or `$loopElement`.
    shared: Option<Arc<HashMap<String, Value>>>,
    rng: SplitMix64,
    /// The variables set or removed since the last processor call, kept from the first call on
    /// (a VU without a processor keeps none).
    changes: Option<ChangeLog>,
    /// `$uuid` while it is not among `vars`: drawn from `uuid_seed` when first read, and moved
    /// into `vars` when they are handed out or `$uuid` is set or removed.
    uuid: OnceCell<Value>,
    uuid_seed: Option<u64>,
    /// `$loopCount` and `$loopElement` while no processor has been handed the variables; `None`
    /// from then on, when they are among `vars` like any other.
    loop_slots: Option<LoopSlots>,
}

impl Scope {
    /// A scope with `vars`, drawing random numbers from `seed`.
    pub fn new(vars: HashMap<String, Value>, seed: u64) -> Scope {
        Scope {
            vars,
            shared: None,
            rng: SplitMix64::new(seed),
            changes: None,
            uuid: OnceCell::new(),
            uuid_seed: None,
            loop_slots: Some(LoopSlots::default()),
        }
    }

    /// A VU's scope: the `shared` variables (not copied) with `own` hiding those of the same name,
    /// and a `$uuid` (replacing one among them) made of the first two values drawn from `seed`, the
    /// other random numbers coming after them. The UUID is only written out when something reads
    /// it: most flows never do, and making it cost about as much as the rest of a VU's set-up.
    pub fn over(
        shared: Option<Arc<HashMap<String, Value>>>,
        own: HashMap<String, Value>,
        seed: u64,
    ) -> Scope {
        let rng = SplitMix64::new(seed.wrapping_add(GOLDEN_GAMMA.wrapping_mul(2)));
        let mut scope = Scope {
            vars: own,
            shared: shared.filter(|s| !s.is_empty()),
            rng,
            changes: None,
            uuid: OnceCell::new(),
            uuid_seed: Some(seed),
            loop_slots: Some(LoopSlots::default()),
        };
        // The names the scope keeps apart from its variables are looked up among its own only.
        if scope
            .shared
            .as_ref()
            .is_some_and(|s| [UUID, LOOP_COUNT, LOOP_ELEMENT].iter().any(|n| s.contains_key(*n)))
        {
            scope.own_all();
        }
        if !scope.vars.is_empty() {
            scope.vars.remove(UUID);
        }
        scope
    }

    /// Copies the shared variables the VU has not hidden into its own, and drops the shared ones.
    fn own_all(&mut self) {
        if let Some(shared) = self.shared.take() {
            self.vars.reserve(shared.len());
            for (name, value) in shared.iter() {
                if !self.vars.contains_key(name) {
                    self.vars.insert(name.clone(), value.clone());
                }
            }
        }
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

    /// Moves `$loopCount` and `$loopElement` among the variables (before they are handed out),
    /// where they stay from then on.
    fn settle_loop(&mut self) {
        if let Some(slots) = self.loop_slots.take() {
            for (name, value) in [(LOOP_COUNT, slots.count), (LOOP_ELEMENT, slots.element)] {
                if let Some(value) = value {
                    if let Some(changes) = &mut self.changes {
                        changes.note(name);
                    }
                    self.vars.insert(name.to_string(), value);
                }
            }
        }
    }

    /// Starts a loop: its `$loopCount` and `$loopElement` replace (and hide) those of the loop
    /// around it, which are returned for [`Scope::leave_loop`].
    pub(crate) fn enter_loop(&mut self) -> OuterLoop {
        let Some(slots) = &mut self.loop_slots else {
            return OuterLoop { count: self.remove(LOOP_COUNT), element: self.remove(LOOP_ELEMENT) };
        };
        if !slots.vars_cleared {
            slots.vars_cleared = true;
            if !self.vars.is_empty() {
                for (name, slot) in [(LOOP_COUNT, &mut slots.count), (LOOP_ELEMENT, &mut slots.element)] {
                    if let Some(value) = self.vars.remove(name) {
                        slot.get_or_insert(value);
                    }
                }
            }
        }
        OuterLoop { count: slots.count.take(), element: slots.element.take() }
    }

    /// Sets the loop's `$loopCount` and `$loopElement` for its next iteration.
    pub(crate) fn set_loop(&mut self, count: Value, element: Value) {
        match &mut self.loop_slots {
            Some(slots) => {
                slots.count = Some(count);
                slots.element = Some(element);
            }
            None => {
                self.set(LOOP_COUNT, count);
                self.set(LOOP_ELEMENT, element);
            }
        }
    }

    /// Ends a loop: the loop variables are again those of the loop around it (`outer`, from
    /// [`Scope::enter_loop`]), or unset.
    pub(crate) fn leave_loop(&mut self, outer: OuterLoop) {
        match &mut self.loop_slots {
            Some(slots) => {
                slots.count = outer.count;
                slots.element = outer.element;
            }
            None => {
                self.remove(LOOP_COUNT);
                self.remove(LOOP_ELEMENT);
                if let Some(count) = outer.count {
                    self.set(LOOP_COUNT, count);
                }
                if let Some(element) = outer.element {
                    self.set(LOOP_ELEMENT, element);
                }
            }
        }
    }

    /// Sets a variable.
    pub fn set(&mut self, name: &str, value: Value) {
        if name == UUID {
            self.settle_uuid();
        }
        if let Some(slot) = self.loop_slots.as_mut().and_then(|slots| slots.slot(name)) {
            *slot = Some(value);
            return;
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
        if let Some(slots) = &mut self.loop_slots
            && let Some(slot) = slots.slot(name)
        {
            // An empty slot reads what the variables hold until the first loop cleared them.
            let held = slot.take();
            let cleared = slots.vars_cleared;
            return if cleared { held } else { held.or(self.vars.remove(name)) };
        }
        if self.shared.as_ref().is_some_and(|s| s.contains_key(name)) {
            self.own_all();
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
        self.settle_loop();
        self.own_all();
        VuVars { map: &mut self.vars, changed: Some(self.changes.get_or_insert_default()) }
    }

    /// All variables (for `before` captures that become global).
    pub fn into_vars(mut self) -> HashMap<String, Value> {
        self.settle_uuid();
        self.settle_loop();
        self.own_all();
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
        if let Some(slots) = &self.loop_slots {
            let slot = match name {
                LOOP_COUNT => Some(&slots.count),
                LOOP_ELEMENT => Some(&slots.element),
                _ => None,
            };
            if let Some(slot) = slot {
                return slot.as_ref().or_else(|| if slots.vars_cleared { None } else { self.vars.get(name) });
            }
        }
        match self.vars.get(name) {
            None if name == UUID => self.drawn_uuid(),
            None => self.shared.as_ref()?.get(name),
            found => found,
        }
    }

    fn random(&self) -> u64 {
        self.next_u64()
    }
}

/// The `$uuid` of a scope made with [`Scope::over`] from `seed`.
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
            let (old, new) = (eager(HashMap::new(), seed), Scope::over(None, HashMap::new(), seed));
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
        let mut scope = Scope::over(None, HashMap::new(), seed);
        assert_eq!(scope.js_vars().map.get(UUID), Some(&id));
        // Removed: gone for good (and returned), whether read before or not.
        for read_first in [false, true] {
            let mut scope = Scope::over(None, HashMap::new(), seed);
            if read_first {
                assert_eq!(Vars::get(&scope, UUID), Some(&id));
            }
            assert_eq!(scope.remove(UUID), Some(id.clone()));
            assert_eq!(Vars::get(&scope, UUID), None);
            assert_eq!(scope.into_vars().get(UUID), None);
        }
        // Set: the new value wins, now and when the variables are handed out.
        let mut scope = Scope::over(None, HashMap::new(), seed);
        scope.set(UUID, Value::from("mine"));
        assert_eq!(Vars::get(&scope, UUID), Some(&Value::from("mine")));
        assert_eq!(scope.into_vars().get(UUID), Some(&Value::from("mine")));
        // A `$uuid` among the starting variables (a `before` flow's) is the VU's own instead.
        let inherited =
            HashMap::from([(UUID.to_string(), Value::from("before")), ("a".into(), Value::from(1))]);
        let scope = Scope::over(None, inherited, seed);
        assert_eq!(Vars::get(&scope, UUID), Some(&id));
        assert_eq!(Vars::get(&scope, "a"), Some(&Value::from(1)));
        assert_eq!(scope.lookup(UUID), Some(id));
    }

    /// One step of a VU's life that touches the loop variables.
    #[derive(Clone, Copy)]
    enum LoopStep {
        Enter,
        Iterate(u64),
        Leave,
        Set(&'static str, i64),
        Remove(&'static str),
    }

    /// Runs `steps` and returns what `$loopCount` and `$loopElement` read after each, what each
    /// `Remove` returned, and the variables at the end.
    fn replay(mut scope: Scope, steps: &[LoopStep]) -> (Vec<String>, HashMap<String, Value>) {
        let mut seen = Vec::new();
        let mut outers = Vec::new();
        for step in steps {
            match *step {
                LoopStep::Enter => outers.push(scope.enter_loop()),
                LoopStep::Iterate(i) => scope.set_loop(Value::from(i + 1), Value::from(format!("e{i}"))),
                LoopStep::Leave => scope.leave_loop(outers.pop().expect("entered")),
                LoopStep::Set(name, v) => scope.set(name, Value::from(v)),
                LoopStep::Remove(name) => seen.push(format!("removed {:?}", scope.remove(name))),
            }
            seen.push(format!("{:?} {:?}", Vars::get(&scope, LOOP_COUNT), Vars::get(&scope, LOOP_ELEMENT)));
        }
        (seen, scope.into_vars())
    }

    #[test]
    fn loop_variables_kept_apart_read_as_the_same_variables_kept_among_the_others() {
        use LoopStep::*;
        let flows: [&[LoopStep]; 4] = [
            &[Enter, Iterate(0), Enter, Iterate(0), Iterate(1), Leave, Iterate(1), Leave],
            &[Enter, Iterate(0), Enter, Leave, Set(LOOP_COUNT, 9), Remove(LOOP_ELEMENT), Leave],
            &[Set(LOOP_COUNT, 5), Enter, Iterate(3), Remove(LOOP_COUNT), Leave, Remove(LOOP_COUNT)],
            &[Remove(LOOP_ELEMENT), Enter, Iterate(2), Enter, Iterate(0)],
        ];
        let starts = [
            HashMap::new(),
            HashMap::from([("a".to_string(), Value::from(1))]),
            HashMap::from([
                (LOOP_COUNT.to_string(), Value::from(7)),
                (LOOP_ELEMENT.to_string(), Value::from("x")),
            ]),
        ];
        for flow in flows {
            for vars in &starts {
                // Handed to a processor first: the loop variables live among the others.
                let mut among = Scope::new(vars.clone(), 1);
                let _ = among.js_vars();
                let apart = Scope::new(vars.clone(), 1);
                assert!(apart.loop_slots.is_some() && among.loop_slots.is_none());
                assert_eq!(replay(apart, flow), replay(among, flow), "{vars:?}");
            }
        }
        // And handed to a processor in the middle of a loop.
        let mut scope = Scope::new(HashMap::new(), 1);
        let outer = scope.enter_loop();
        scope.set_loop(Value::from(2), Value::from(1));
        assert_eq!(scope.js_vars().map.get(LOOP_COUNT), Some(&Value::from(2)));
        scope.set_loop(Value::from(3), Value::from(2));
        assert_eq!(Vars::get(&scope, LOOP_ELEMENT), Some(&Value::from(2)));
        scope.leave_loop(outer);
        assert_eq!(Vars::get(&scope, LOOP_COUNT), None);
        assert!(scope.into_vars().is_empty());
    }

    fn shared(pairs: &[(&str, Value)]) -> Arc<HashMap<String, Value>> {
        Arc::new(pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
    }

    #[test]
    fn shared_variables_are_read_without_being_copied_and_own_ones_hide_them() {
        let globals = shared(&[("target", Value::from("http://t")), ("list", Value::from(vec![1, 2, 3]))]);
        let own = HashMap::from([("list".to_string(), Value::from(2))]);
        let mut scope = Scope::over(Some(globals.clone()), own, 3);
        assert_eq!(scope.vars.len(), 1, "only the VU's own variable is in its map");
        assert_eq!(Vars::get(&scope, "target"), Some(&Value::from("http://t")));
        assert_eq!(
            Vars::get(&scope, "list"),
            Some(&Value::from(2)),
            "the VU's own value hides the shared one"
        );
        assert_eq!(Vars::get(&scope, "missing"), None);
        scope.set("target", Value::from("mine"));
        assert_eq!(Vars::get(&scope, "target"), Some(&Value::from("mine")));
        assert_eq!(globals.get("target"), Some(&Value::from("http://t")), "the shared map is not written");
        assert!(Vars::get(&scope, UUID).is_some(), "a VU over shared variables still has its $uuid");
    }

    #[test]
    fn removing_a_shared_variable_removes_it_for_this_vu_only() {
        let globals = shared(&[("a", Value::from(1)), ("b", Value::from(2))]);
        let mut scope = Scope::over(Some(globals.clone()), HashMap::new(), 3);
        assert_eq!(scope.remove("a"), Some(Value::from(1)));
        assert_eq!(Vars::get(&scope, "a"), None);
        assert_eq!(Vars::get(&scope, "b"), Some(&Value::from(2)));
        assert_eq!(scope.remove("a"), None);
        // Hidden and then removed: the shared value does not come back.
        let mut scope = Scope::over(Some(globals.clone()), HashMap::new(), 3);
        scope.set("b", Value::from(20));
        assert_eq!(scope.remove("b"), Some(Value::from(20)));
        assert_eq!(Vars::get(&scope, "b"), None);
        assert_eq!(globals.len(), 2);
        assert_eq!(Vars::get(&Scope::over(Some(globals), HashMap::new(), 3), "a"), Some(&Value::from(1)));
    }

    #[test]
    fn handed_out_variables_are_the_shared_and_own_ones_together() {
        let seed = 9;
        let globals = shared(&[("a", Value::from(1)), ("b", Value::from(2))]);
        let own = HashMap::from([("b".to_string(), Value::from(3)), ("c".to_string(), Value::from(4))]);
        let mut flat = globals.as_ref().clone();
        flat.extend(own.clone());
        let expected = Scope::over(None, flat, seed).into_vars();
        assert_eq!(Scope::over(Some(globals.clone()), own.clone(), seed).into_vars(), expected);
        let mut scope = Scope::over(Some(globals), own, seed);
        assert_eq!(*scope.js_vars().map, expected);
        // The processor's writes are the VU's variables from then on.
        scope.js_vars().map.insert("a".into(), Value::from(10));
        assert_eq!(Vars::get(&scope, "a"), Some(&Value::from(10)));
    }

    #[test]
    fn a_shared_uuid_is_replaced_by_the_vus_own() {
        let seed = 5;
        let id = Vars::get(&eager(HashMap::new(), seed), UUID).cloned().expect("an eager $uuid");
        let globals = shared(&[(UUID, Value::from("before")), ("a", Value::from(1))]);
        let mut scope = Scope::over(Some(globals), HashMap::new(), seed);
        assert_eq!(Vars::get(&scope, UUID), Some(&id));
        assert_eq!(scope.remove(UUID), Some(id));
        assert_eq!(Vars::get(&scope, UUID), None, "removed: the shared one does not show through");
        assert_eq!(Vars::get(&scope, "a"), Some(&Value::from(1)));
    }

    #[test]
    fn shared_loop_variables_are_the_outer_loops() {
        let globals = shared(&[(LOOP_COUNT, Value::from(5)), ("a", Value::from(1))]);
        let mut scope = Scope::over(Some(globals), HashMap::new(), 3);
        assert_eq!(Vars::get(&scope, LOOP_COUNT), Some(&Value::from(5)));
        let outer = scope.enter_loop();
        scope.set_loop(Value::from(1), Value::from(0));
        assert_eq!(Vars::get(&scope, LOOP_COUNT), Some(&Value::from(1)));
        scope.leave_loop(outer);
        assert_eq!(Vars::get(&scope, LOOP_COUNT), Some(&Value::from(5)));
        assert_eq!(Vars::get(&scope, LOOP_ELEMENT), None);
        assert_eq!(Vars::get(&scope, "a"), Some(&Value::from(1)));
    }
}
