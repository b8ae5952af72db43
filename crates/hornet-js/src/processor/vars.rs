//! A VU's `context.vars`: one JavaScript object for the VU's life, kept in step with the VU's
//! variables on the Rust side by moving only what changed. Before a call, the variables that
//! differ from what JavaScript last saw are set (or deleted) on the object: those the caller's
//! [`ChangeLog`] names, or all of them compared when it keeps none. `context.vars` is a
//! Proxy over it that notes the names JavaScript sets, defines or deletes; after a call only those
//! are converted back, plus the variables holding objects, whose JSON text is compared with the
//! last one to catch changes made in place. A call that touches no variable, in a VU without
//! object variables, costs a look at `context.vars` and at one array's length, made through the
//! engine's own calls (no handle, each of which holds a reference to the context), and a call the
//! runner changed no variable before costs nothing on the way in. Templates see each variable's
//! JSON form.

use std::cell::{Cell, RefCell};
use std::collections::HashMap;
use std::hash::{BuildHasherDefault, Hasher};

use rquickjs::{Array, Ctx, Function, Object, Persistent, Value, qjs};
use serde_json::{Map, Value as Json};

use super::ChangeLog;
use super::names::Names;
use crate::convert::{from_js, to_js};

/// Variables by name, hashed with [`NameHasher`].
type NameMap<V> = HashMap<String, V, BuildHasherDefault<NameHasher>>;

/// FxHash (rustc's hasher) for the mirror's maps, which look up every variable of the VU on every
/// call: a few instructions a word where SipHash takes a hundred or more for a short name. Its
/// weakness against chosen keys does not matter for names a script chose itself.
#[derive(Default)]
pub(crate) struct NameHasher(u64);

impl Hasher for NameHasher {
    fn write(&mut self, bytes: &[u8]) {
        const SEED: u64 = 0x51_7c_c1_b7_27_22_0a_95;
        let mut add = |word: u64| self.0 = (self.0.rotate_left(5) ^ word).wrapping_mul(SEED);
        let mut chunks = bytes.chunks_exact(8);
        for chunk in &mut chunks {
            let mut word = [0u8; 8];
            word.copy_from_slice(chunk);
            add(u64::from_le_bytes(word));
        }
        let rest = chunks.remainder();
        if !rest.is_empty() {
            let mut word = [0u8; 8];
            word[..rest.len()].copy_from_slice(rest);
            add(u64::from_le_bytes(word) ^ ((rest.len() as u64) << 56));
        }
    }

    fn finish(&self) -> u64 {
        self.0
    }
}

/// The JavaScript side of a VU's variables and what it last agreed on with the Rust side.
pub(crate) struct VarsMirror {
    /// The Proxy `context.vars` holds.
    proxy: RefCell<Persistent<Object<'static>>>,
    /// The object behind it, which holds the variables.
    target: RefCell<Persistent<Object<'static>>>,
    /// The names JavaScript wrote through the proxy since the last call ended.
    written: RefCell<Persistent<Array<'static>>>,
    /// The variables as both sides last agreed on them.
    synced: RefCell<NameMap<Json>>,
    /// The JSON text of each variable holding an object, as JavaScript last wrote it (absent when
    /// the value came from the Rust side and has not been read back yet).
    texts: RefCell<NameMap<String>>,
    /// Whether `synced` is what JavaScript holds, so that a [`ChangeLog`] can say what differs
    /// (false before the first call and after a call that failed on the way in).
    primed: Cell<bool>,
    /// The proxy's and `written`'s values as the engine has them, for looking at them without a
    /// handle; valid while `proxy` and `written` hold them.
    raw: Cell<Raw>,
}

/// The raw values of a mirror's proxy and `written` list.
#[derive(Clone, Copy)]
struct Raw {
    proxy: qjs::JSValue,
    written: qjs::JSValue,
}

impl Raw {
    fn of(proxy: &Object<'_>, written: &Array<'_>) -> Raw {
        Raw { proxy: proxy.as_raw(), written: written.as_raw() }
    }
}

/// Gives `vars` the `$env` / `$processEnvironment` getters (not enumerable, so not variables).
fn install_builtins<'js>(ctx: &Ctx<'js>, vars: &Object<'js>) -> rquickjs::Result<()> {
    let builtins: Function = ctx.globals().get("__hornet_vars_builtins")?;
    builtins.call((vars.clone(),))
}

/// A Proxy over `target` that notes what is written through it.
fn proxy_of<'js>(ctx: &Ctx<'js>, target: &Object<'js>) -> rquickjs::Result<(Object<'js>, Array<'js>)> {
    let make: Function = ctx.globals().get("__hornet_vars_proxy")?;
    let made: Array = make.call((target.clone(),))?;
    Ok((made.get(0)?, made.get(1)?))
}

impl VarsMirror {
    /// A fresh `context.vars` set on `context`.
    pub(crate) fn new<'js>(ctx: &Ctx<'js>, context: &Object<'js>) -> rquickjs::Result<VarsMirror> {
        let target = Object::new(ctx.clone())?;
        install_builtins(ctx, &target)?;
        let (proxy, written) = proxy_of(ctx, &target)?;
        context.set("vars", proxy.clone())?;
        Ok(VarsMirror {
            raw: Cell::new(Raw::of(&proxy, &written)),
            proxy: RefCell::new(Persistent::save(ctx, proxy)),
            target: RefCell::new(Persistent::save(ctx, target)),
            written: RefCell::new(Persistent::save(ctx, written)),
            synced: RefCell::new(NameMap::default()),
            texts: RefCell::new(NameMap::default()),
            primed: Cell::new(false),
        })
    }

    /// `context.vars`, the proxy (a function named by `ifTrue` gets it).
    pub(crate) fn proxy<'js>(&self, ctx: &Ctx<'js>) -> rquickjs::Result<Object<'js>> {
        self.proxy.borrow().clone().restore(ctx)
    }

    /// Brings `context.vars` up to `vars`: with a `changed` log, only the variables it names
    /// (after the first call, which compares them all); without one, every variable is compared
    /// with what JavaScript last saw. Only what differs is set or deleted.
    pub(crate) fn push(
        &self,
        ctx: &Ctx<'_>,
        vars: &HashMap<String, Json>,
        changed: Option<&mut ChangeLog>,
    ) -> rquickjs::Result<()> {
        let logged = self.primed.get() && changed.as_ref().is_some_and(|log| log.is_complete());
        if logged && changed.as_ref().is_some_and(|log| log.names().is_empty()) {
            return Ok(());
        }
        let target = self.target.borrow().clone().restore(ctx)?;
        // Until this push is through, a failure leaves the two sides in an unknown state.
        self.primed.set(false);
        match changed {
            Some(log) if logged => {
                for name in log.names() {
                    self.push_one(ctx, &target, name, vars.get(name))?;
                }
                log.clear();
            }
            changed => {
                self.push_all(ctx, &target, vars)?;
                if let Some(log) = changed {
                    log.clear();
                }
            }
        }
        self.primed.set(true);
        Ok(())
    }

    /// Whether the last call left nothing to read back: `context` still holds the proxy,
    /// nothing was written through it, and no variable holds an object (which JavaScript may
    /// have changed in place). Looked at through the engine's own calls; `None` when the engine
    /// failed (the caller then takes the long way, which reports it).
    fn untouched(&self, ctx: &Ctx<'_>, names: &Names, context: &Object<'_>) -> Option<bool> {
        if self.synced.borrow().values().any(|v| v.is_object() || v.is_array()) {
            return Some(false);
        }
        let raw = ctx.as_raw().as_ptr();
        let Raw { proxy, written } = self.raw.get();
        // SAFETY: the context is alive and locked by the caller; `context` is a live object and
        // `proxy` and `written` are held by this mirror. The value read is freed here.
        unsafe {
            let current = qjs::JS_GetProperty(raw, context.as_raw(), names.vars.raw());
            if qjs::JS_IsException(current) {
                return None;
            }
            let same = qjs::JS_VALUE_GET_TAG(current) == qjs::JS_TAG_OBJECT
                && qjs::JS_VALUE_GET_PTR(current) == qjs::JS_VALUE_GET_PTR(proxy);
            qjs::JS_FreeValue(raw, current);
            if !same {
                return Some(false);
            }
            let mut length = 0i64;
            if qjs::JS_GetLength(raw, written, &mut length) < 0 {
                return None;
            }
            Some(length == 0)
        }
    }

    /// Sets `name` on `target` to `value` (deletes it for `None`) unless JavaScript has it so.
    fn push_one<'js>(
        &self,
        ctx: &Ctx<'js>,
        target: &Object<'js>,
        name: &str,
        value: Option<&Json>,
    ) -> rquickjs::Result<()> {
        let mut synced = self.synced.borrow_mut();
        if synced.get(name) == value {
            return Ok(());
        }
        match value {
            Some(v) => {
                target.set(name, to_js(ctx, v)?)?;
                synced.insert(name.to_string(), v.clone());
            }
            None => {
                target.remove(name)?;
                synced.remove(name);
            }
        }
        self.texts.borrow_mut().remove(name);
        Ok(())
    }

    /// Compares every variable with what JavaScript last saw, setting and deleting what differs.
    fn push_all<'js>(
        &self,
        ctx: &Ctx<'js>,
        target: &Object<'js>,
        vars: &HashMap<String, Json>,
    ) -> rquickjs::Result<()> {
        let mut synced = self.synced.borrow_mut();
        for (k, v) in vars {
            if synced.get(k) != Some(v) {
                target.set(k.as_str(), to_js(ctx, v)?)?;
                self.texts.borrow_mut().remove(k);
                synced.insert(k.clone(), v.clone());
            }
        }
        if synced.len() > vars.len() {
            let gone: Vec<String> = synced.keys().filter(|k| !vars.contains_key(*k)).cloned().collect();
            for k in gone {
                target.remove(k.as_str())?;
                self.texts.borrow_mut().remove(&k);
                synced.remove(&k);
            }
        }
        Ok(())
    }

    /// Reads back into `vars` what JavaScript changed: what it set, defined or deleted through
    /// `context.vars` (also after an earlier call settled, from a timer), objects changed in
    /// place, or all of it when the call replaced `context.vars` with another object.
    pub(crate) fn pull<'js>(
        &self,
        ctx: &Ctx<'js>,
        names: &Names,
        context: &Object<'js>,
        vars: &mut HashMap<String, Json>,
    ) -> rquickjs::Result<()> {
        match self.untouched(ctx, names, context) {
            Some(true) => return Ok(()),
            // An exception the long way meets again and reports.
            None => drop(ctx.catch()),
            Some(false) => {}
        }
        let proxy = self.proxy.borrow().clone().restore(ctx)?;
        match context.get::<_, Value>(names.vars.atom(ctx)?)?.into_object() {
            Some(current) if current == proxy => {}
            Some(current) => return self.adopt(ctx, context, current, vars),
            None => context.set(names.vars.atom(ctx)?, proxy)?,
        }
        let target = self.target.borrow().clone().restore(ctx)?;
        let written = self.written.borrow().clone().restore(ctx)?;
        let mut synced = self.synced.borrow_mut();
        let mut texts = self.texts.borrow_mut();
        let count = written.len();
        let mut seen: Vec<String> = Vec::with_capacity(count);
        for i in 0..count {
            let name: String = written.get(i)?;
            if seen.contains(&name) {
                continue;
            }
            let value: Value = target.get(name.as_str())?;
            texts.remove(&name);
            if value.is_object() && !value.is_function() {
                // Read as an object below, by its JSON text.
                synced.remove(&name);
            } else {
                set(vars, &mut synced, &name, from_js(&value));
            }
            seen.push(name);
        }
        if count > 0 {
            written.as_object().set("length", 0)?;
        }
        // Variables holding objects: what JavaScript wrote, and in-place changes to any of them.
        let objects: Vec<String> = seen
            .iter()
            .filter(|k| !synced.contains_key(*k))
            .cloned()
            .chain(synced.iter().filter(|(_, v)| v.is_object() || v.is_array()).map(|(k, _)| k.clone()))
            .collect();
        for name in objects {
            let value: Value = target.get(name.as_str())?;
            let text = match ctx.json_stringify(value.clone()) {
                Ok(text) => text.map(|t| t.to_string()).transpose()?,
                Err(rquickjs::Error::Exception) => {
                    // A cycle or a BigInt: converted value by value.
                    let _ = ctx.catch();
                    set(vars, &mut synced, &name, from_js(&value));
                    continue;
                }
                Err(e) => return Err(e),
            };
            if text.is_some() && texts.get(&name) == text.as_ref() {
                continue;
            }
            let json = text.as_deref().and_then(|t| serde_json::from_str(t).ok());
            set(vars, &mut synced, &name, json);
            match text {
                Some(text) => texts.insert(name, text),
                None => texts.remove(&name),
            };
        }
        Ok(())
    }

    /// The call replaced `context.vars` with `current`: its variables become the VU's, and it is
    /// wrapped in a Proxy of its own.
    fn adopt<'js>(
        &self,
        ctx: &Ctx<'js>,
        context: &Object<'js>,
        current: Object<'js>,
        vars: &mut HashMap<String, Json>,
    ) -> rquickjs::Result<()> {
        // A frozen object keeps what it has.
        let _ = install_builtins(ctx, &current);
        let all = match from_js(&current.clone().into_value()) {
            Some(Json::Object(map)) => map,
            _ => Map::new(),
        };
        let (proxy, written) = proxy_of(ctx, &current)?;
        context.set("vars", proxy.clone())?;
        self.raw.set(Raw::of(&proxy, &written));
        *self.proxy.borrow_mut() = Persistent::save(ctx, proxy);
        *self.target.borrow_mut() = Persistent::save(ctx, current);
        *self.written.borrow_mut() = Persistent::save(ctx, written);
        self.texts.borrow_mut().clear();
        let mut synced = self.synced.borrow_mut();
        synced.clear();
        vars.clear();
        for (k, v) in all {
            synced.insert(k.clone(), v.clone());
            vars.insert(k, v);
        }
        Ok(())
    }
}

/// Sets (or, for `None`, removes) variable `name` on both sides of the record.
fn set(vars: &mut HashMap<String, Json>, synced: &mut NameMap<Json>, name: &str, value: Option<Json>) {
    match value {
        Some(json) => {
            synced.insert(name.to_string(), json.clone());
            vars.insert(name.to_string(), json);
        }
        None => {
            synced.remove(name);
            vars.remove(name);
        }
    }
}
