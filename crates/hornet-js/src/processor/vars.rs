//! A VU's `context.vars`: one JavaScript object for the VU's life, kept in step with the VU's
//! variables on the Rust side by moving only what changed. Before a call, the variables that
//! differ from what JavaScript last saw are set (or deleted). After it, the object's JSON text
//! (`JSON.stringify`, in C) is compared with the text after the previous call: the same text
//! means nothing changed on either side, and otherwise the text is parsed and only the variables
//! that differ are written back. Templates see each variable's JSON form.

use std::cell::RefCell;
use std::collections::HashMap;

use rquickjs::{Ctx, Error as JsError, Function, Object, Persistent, Value};
use serde_json::{Map, Value as Json};

use crate::convert::from_js;

/// The JavaScript side of a VU's variables and what it last agreed on with the Rust side.
pub(crate) struct VarsMirror {
    /// The object `context.vars` holds.
    object: RefCell<Persistent<Object<'static>>>,
    /// The variables as both sides last agreed on them.
    synced: RefCell<HashMap<String, Json>>,
    /// `JSON.stringify(context.vars)` after the last call.
    text: RefCell<String>,
}

/// Gives `vars` the `$env` / `$processEnvironment` getters (not enumerable, so not variables).
fn install_builtins<'js>(ctx: &Ctx<'js>, vars: &Object<'js>) -> rquickjs::Result<()> {
    let builtins: Function = ctx.globals().get("__hornet_vars_builtins")?;
    builtins.call((vars.clone(),))
}

impl VarsMirror {
    /// A fresh `context.vars` set on `context`.
    pub(crate) fn new<'js>(ctx: &Ctx<'js>, context: &Object<'js>) -> rquickjs::Result<VarsMirror> {
        let object = Object::new(ctx.clone())?;
        install_builtins(ctx, &object)?;
        context.set("vars", object.clone())?;
        Ok(VarsMirror {
            object: RefCell::new(Persistent::save(ctx, object)),
            synced: RefCell::new(HashMap::new()),
            text: RefCell::new(String::new()),
        })
    }

    /// Brings `context.vars` up to `vars`, setting and deleting only what differs from what
    /// JavaScript last saw; returns the object.
    pub(crate) fn push<'js>(
        &self,
        ctx: &Ctx<'js>,
        vars: &HashMap<String, Json>,
    ) -> rquickjs::Result<Object<'js>> {
        let object = self.object.borrow().clone().restore(ctx)?;
        let mut synced = self.synced.borrow_mut();
        let mut changed = false;
        for (k, v) in vars {
            if synced.get(k) != Some(v) {
                object.set(k.as_str(), crate::convert::to_js(ctx, v)?)?;
                synced.insert(k.clone(), v.clone());
                changed = true;
            }
        }
        if synced.len() > vars.len() {
            changed = true;
            let gone: Vec<String> = synced.keys().filter(|k| !vars.contains_key(*k)).cloned().collect();
            for k in gone {
                object.remove(k.as_str())?;
                synced.remove(&k);
            }
        }
        if changed {
            // The text after the call no longer tells whether the call changed anything (it may
            // have undone what was just set): read it in full.
            self.text.borrow_mut().clear();
        }
        Ok(object)
    }

    /// Reads back into `vars` what JavaScript changed: assigned, deleted or mutated variables,
    /// also those changed after an earlier call settled (by a timer), or all of them when the
    /// call replaced `context.vars` with another object.
    pub(crate) fn pull<'js>(
        &self,
        ctx: &Ctx<'js>,
        context: &Object<'js>,
        vars: &mut HashMap<String, Json>,
    ) -> rquickjs::Result<()> {
        let stored = self.object.borrow().clone().restore(ctx)?;
        let object = match context.get::<_, Value>("vars")?.into_object() {
            Some(current) if current == stored => current,
            Some(current) => {
                // A frozen object keeps what it has.
                let _ = install_builtins(ctx, &current);
                *self.object.borrow_mut() = Persistent::save(ctx, current.clone());
                self.text.borrow_mut().clear();
                current
            }
            None => {
                context.set("vars", stored.clone())?;
                stored
            }
        };
        let parsed = match ctx.json_stringify(object.clone()) {
            Ok(Some(text)) => {
                let text = text.to_string()?;
                if *self.text.borrow() == text {
                    return Ok(());
                }
                let parsed = serde_json::from_str::<Map<String, Json>>(&text).ok();
                *self.text.borrow_mut() = text;
                parsed
            }
            Ok(None) => None,
            Err(JsError::Exception) => {
                // A cycle or a BigInt: converted value by value, every time.
                let _ = ctx.catch();
                self.text.borrow_mut().clear();
                None
            }
            Err(e) => return Err(e),
        };
        let parsed = match parsed {
            Some(map) => map,
            None => match from_js(&object.into_value()) {
                Some(Json::Object(map)) => map,
                _ => Map::new(),
            },
        };
        let mut synced = self.synced.borrow_mut();
        vars.retain(|k, _| parsed.contains_key(k));
        synced.retain(|k, _| parsed.contains_key(k));
        for (k, v) in parsed {
            if vars.get(&k) != Some(&v) {
                vars.insert(k.clone(), v.clone());
            }
            if synced.get(&k) != Some(&v) {
                synced.insert(k, v);
            }
        }
        Ok(())
    }
}
