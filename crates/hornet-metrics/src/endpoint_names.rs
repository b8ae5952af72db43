//! Endpoints named while a run goes (`context.http` requests of processor code, named at run
//! time) beyond the plan's list. One [`EndpointNames`] table belongs to one run, so that its
//! worker threads and its collector agree on their ids, and two runs in one process (the web UI
//! runs plans one after another) never see each other's names. An id is the plan's endpoint count
//! plus the name's place in the table. Each worker thread looks names up through its own
//! [`NameCache`], so the table's lock is taken only the first time a thread meets a name. The
//! wire form of an interval carries these names, and the receiving process maps them to the ids
//! of its own run's table ([`crate::Interval::from_wire`]).

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use crate::recorder::EndpointId;

/// Most names a table holds; further names share the last id.
pub const MAX_NAMES: usize = 1000;

/// One run's endpoints named at run time (see the module doc).
#[derive(Debug)]
pub struct EndpointNames {
    /// The plan's endpoint count: where the ids of the names start.
    base: usize,
    table: Mutex<Table>,
}

/// The names in order of first use, and each name's place among them.
#[derive(Debug, Default)]
struct Table {
    names: Vec<String>,
    places: HashMap<String, usize>,
}

impl EndpointNames {
    /// An empty table for a run whose plan has `plan_endpoints` endpoints.
    pub fn new(plan_endpoints: usize) -> EndpointNames {
        EndpointNames { base: plan_endpoints, table: Mutex::new(Table::default()) }
    }

    /// The plan's endpoint count: the first id a name gets.
    pub fn base(&self) -> usize {
        self.base
    }

    fn table(&self) -> std::sync::MutexGuard<'_, Table> {
        self.table.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The id of endpoint `name`, given on its first use (the last id once the table is full).
    pub fn intern(&self, name: &str) -> EndpointId {
        let mut table = self.table();
        let place = match table.places.get(name) {
            Some(&place) => place,
            None if table.names.len() < MAX_NAMES => {
                let place = table.names.len();
                table.names.push(name.to_string());
                table.places.insert(name.to_string(), place);
                place
            }
            None => MAX_NAMES - 1,
        };
        self.id_at(place)
    }

    fn id_at(&self, place: usize) -> EndpointId {
        u32::try_from(self.base + place).unwrap_or(u32::MAX)
    }

    /// The name of endpoint `id`, when this table gave it.
    pub fn name_of(&self, id: usize) -> Option<String> {
        let place = id.checked_sub(self.base)?;
        self.table().names.get(place).cloned()
    }

    /// The names with ids below `below`, with their ids (for the wire form of an interval that
    /// has `below` endpoints).
    pub(crate) fn named_below(&self, below: usize) -> Vec<(u32, String)> {
        let table = self.table();
        let count = below.saturating_sub(self.base).min(table.names.len());
        table.names[..count]
            .iter()
            .enumerate()
            .map(|(place, name)| (self.id_at(place), name.clone()))
            .collect()
    }
}

/// One worker thread's view of its run's [`EndpointNames`]: the ids it has already looked up,
/// so that only a name's first use in the thread takes the table's lock.
#[derive(Debug)]
pub struct NameCache {
    names: Arc<EndpointNames>,
    ids: RefCell<HashMap<String, EndpointId>>,
}

impl NameCache {
    /// A thread's empty cache of the run's `names`.
    pub fn new(names: Arc<EndpointNames>) -> NameCache {
        NameCache { names, ids: RefCell::new(HashMap::new()) }
    }

    /// The id of endpoint `name` in the run's table.
    pub fn id(&self, name: &str) -> EndpointId {
        if let Some(&id) = self.ids.borrow().get(name) {
            return id;
        }
        let id = self.names.intern(name);
        let mut ids = self.ids.borrow_mut();
        // Bounded like the table: names past it share an id and are looked up each time.
        if ids.len() < MAX_NAMES {
            ids.insert(name.to_string(), id);
        }
        id
    }

    /// The run's table.
    pub fn names(&self) -> &Arc<EndpointNames> {
        &self.names
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_get_ids_past_the_plan_and_keep_them() {
        let names = EndpointNames::new(3);
        let a = names.intern("login");
        let b = names.intern("cart");
        assert_eq!((a, b), (3, 4));
        assert_eq!(names.intern("login"), a);
        assert_eq!(names.name_of(a as usize).as_deref(), Some("login"));
        assert_eq!(names.name_of(1), None, "plan endpoints are not in the table");
        assert_eq!(names.named_below(4), [(3, "login".to_string())]);
    }

    #[test]
    fn two_runs_in_one_process_keep_their_names_apart() {
        let first = EndpointNames::new(2);
        let second = EndpointNames::new(5);
        let checkout = first.intern("checkout");
        let search = second.intern("search");
        assert_eq!((checkout, search), (2, 5), "each run's names start at its own plan's count");
        assert_eq!(first.name_of(5), None);
        assert_eq!(second.name_of(2), None);
        assert_eq!(second.intern("checkout"), 6, "a name of the first run is new to the second");
        assert_eq!(first.name_of(2).as_deref(), Some("checkout"));
    }

    #[test]
    fn the_table_is_bounded_and_the_thread_caches_agree_with_it() {
        let names = Arc::new(EndpointNames::new(1));
        let (one, two) = (NameCache::new(names.clone()), NameCache::new(names.clone()));
        assert_eq!(one.id("a"), 1);
        assert_eq!(two.id("b"), 2);
        assert_eq!(two.id("a"), 1, "a name one thread gave has that id in every thread");
        assert_eq!(one.id("b"), 2);
        for i in 0..MAX_NAMES + 5 {
            one.id(&format!("n{i}"));
        }
        let last = u32::try_from(MAX_NAMES).unwrap();
        assert_eq!(one.id("yet another"), last, "names past the bound share the last id");
        assert_eq!(names.named_below(usize::MAX).len(), MAX_NAMES);
    }
}
