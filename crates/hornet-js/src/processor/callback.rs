//! The callback a hook gets as `done`/`next`: one engine-native function per call that fills the
//! call's slot. It is a QuickJS C closure holding the slot itself (no boxed Rust closure, no
//! class instance), so making one costs an object and a reference count; a callback kept and
//! called after its call settled fills only its own, already filled, slot.

use std::cell::RefCell;
use std::ffi::{c_int, c_void};
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::rc::Rc;

use rquickjs::{Ctx, Function, Value, qjs};

use super::hooks::{describe, settle, truthy};
use super::{Outcome, Slot};
use crate::{HookError, HookFailure};

/// `magic` of a condition's callback (`next(result)`); the others are error-first.
const CONDITION: c_int = 1;

/// A new callback for the call whose outcome goes to `slot`; with `condition`, its first argument
/// is the result (whileTrue's `next(result)`), else an error when truthy. A failure's `function` is
/// left empty for the caller to name.
pub(super) fn callback<'js>(ctx: &Ctx<'js>, slot: &Slot, condition: bool) -> rquickjs::Result<Function<'js>> {
    let opaque = Rc::into_raw(slot.clone()).cast_mut().cast::<c_void>();
    let magic = if condition { CONDITION } else { 0 };
    // SAFETY: the context is alive; the closure owns one reference to the slot, given back by
    // `release` when the engine frees the function (also when making it fails).
    let raw = unsafe {
        qjs::JS_NewCClosure(
            ctx.as_raw().as_ptr(),
            Some(call),
            std::ptr::null(),
            Some(release),
            0,
            magic,
            opaque,
        )
    };
    if unsafe { qjs::JS_IsException(raw) } {
        return Err(rquickjs::Error::Exception);
    }
    // SAFETY: `raw` is a new function value this handle takes over.
    let value = unsafe { Value::from_raw(ctx.clone(), raw) };
    value.into_function().ok_or(rquickjs::Error::Unknown)
}

/// Gives back the closure's reference to its slot.
unsafe extern "C" fn release(opaque: *mut c_void) {
    if !opaque.is_null() {
        // SAFETY: made by `Rc::into_raw` in `callback`, released once, by the engine's finalizer.
        drop(unsafe { Rc::from_raw(opaque.cast_const().cast::<RefCell<Option<Outcome>>>()) });
    }
}

/// The callback's body: settles the slot from its first argument.
unsafe extern "C" fn call(
    ctx: *mut qjs::JSContext,
    _this: qjs::JSValue,
    argc: c_int,
    argv: *mut qjs::JSValue,
    magic: c_int,
    opaque: *mut c_void,
) -> qjs::JSValue {
    let (Some(ctx), false) = (NonNull::new(ctx), opaque.is_null()) else { return qjs::JS_UNDEFINED };
    // SAFETY: the slot outlives the closure that holds a reference to it; this borrows it.
    let slot =
        ManuallyDrop::new(unsafe { Rc::from_raw(opaque.cast_const().cast::<RefCell<Option<Outcome>>>()) });
    // A panic must not unwind into the engine; there is none to expect here.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: called by the engine on its thread, inside the lock the caller holds.
        let first = (argc > 0 && !argv.is_null()).then(|| unsafe {
            // `argv[0]` is alive for the call; the handle takes a reference of its own.
            let raw = qjs::JS_DupValue(ctx.as_ptr(), *argv);
            Value::from_raw(Ctx::from_raw(ctx), raw)
        });
        let outcome = match (magic, &first) {
            (CONDITION, first) => Ok(Some(first.as_ref().is_some_and(truthy))),
            (_, Some(err)) if truthy(err) => {
                let (message, stack) = describe(err);
                Err(HookError { function: String::new(), failure: HookFailure::Failed, message, stack })
            }
            _ => Ok(None),
        };
        settle(&slot, outcome);
    }));
    qjs::JS_UNDEFINED
}
