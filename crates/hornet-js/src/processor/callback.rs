//! The callback a hook gets as `done`/`next`, which fills the call's slot. It is a QuickJS C
//! closure (no boxed Rust closure, no class instance) over a [`Target`]: the slot it fills and
//! whether it is a condition's `next(result)`.
//!
//! Making a function object costs QuickJS an object, its record and two properties (`length`,
//! `name`), about 1,200 instructions, on every hook call. So the runtime keeps one callback and
//! hands it to the next call again, pointed at that call's slot, when nothing but the runtime
//! holds it any more: a hook that kept its callback (in a closure, a timer, a variable, a
//! Promise's reactions) raises its reference count, and then the next call gets a new one while
//! the kept one goes on filling its own call's slot, as Artillery's callbacks do. A callback is
//! handed out again only when its count says nothing else can call it (a `WeakRef` does not count:
//! a hook that reaches its callback only through one may reach the next call's). Properties a
//! hook set on a callback it did not keep are still there on the next call that gets it.
//!
//! The count is read where this engine build keeps it, found by a probe when the runtime starts
//! (the int before the object, in the allocator's block header of the QuickJS rquickjs vendors, or
//! the object's first int, as upstream QuickJS-ng keeps it); where neither behaves as a count, every
//! call gets a new callback.

use std::cell::{Cell, RefCell};
use std::ffi::{c_int, c_void};
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::rc::Rc;

use rquickjs::{Ctx, Function, Object, Persistent, Value, qjs};

use super::hooks::{describe, settle, truthy};
use super::{Outcome, Slot};
use crate::{HookError, HookFailure};

/// What a callback settles when called.
struct Target {
    /// The slot of the call it was last handed to.
    slot: RefCell<Slot>,
    /// Whether its first argument is the result (whileTrue's `next(result)`) rather than an error.
    condition: Cell<bool>,
}

/// Where an object's reference count is, relative to the pointer its value holds.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum CountAt {
    /// The int just before the object (the allocator's block header).
    Before,
    /// The object's first int.
    First,
}

/// The callback kept for the next call, and its target.
struct Kept {
    function: Persistent<Function<'static>>,
    target: Rc<Target>,
}

/// The callbacks of one runtime's hook calls: the one kept for reuse and how to tell whether
/// anything else holds it.
pub(super) struct Callbacks {
    kept: RefCell<Option<Kept>>,
    count_at: Option<CountAt>,
}

impl Callbacks {
    /// Probes where the engine keeps reference counts; without a place that behaves as one,
    /// every call gets a new callback.
    pub(super) fn new(ctx: &Ctx<'_>) -> rquickjs::Result<Callbacks> {
        let count_at = probe(ctx)?;
        Ok(Callbacks { kept: RefCell::new(None), count_at })
    }

    /// Whether callbacks are handed out again (the engine's reference counts can be read).
    #[cfg(test)]
    fn reused(&self) -> bool {
        self.count_at.is_some()
    }

    /// The callback for the call whose outcome goes to `slot`; with `condition`, its first
    /// argument is the result, else an error when truthy. A failure's `function` is left empty
    /// for the caller to name.
    pub(super) fn get<'js>(
        &self,
        ctx: &Ctx<'js>,
        slot: &Slot,
        condition: bool,
    ) -> rquickjs::Result<Function<'js>> {
        let Some(count_at) = self.count_at else {
            let target =
                Rc::new(Target { slot: RefCell::new(slot.clone()), condition: Cell::new(condition) });
            return closure(ctx, &target);
        };
        let mut kept = self.kept.borrow_mut();
        if let Some(Kept { function, target }) = kept.as_ref() {
            let function = function.clone().restore(ctx)?;
            // Held by `kept` and by this handle, and by nothing else.
            if count(count_at, function.as_value()) == Some(2) {
                *target.slot.borrow_mut() = slot.clone();
                target.condition.set(condition);
                return Ok(function);
            }
        }
        let target = Rc::new(Target { slot: RefCell::new(slot.clone()), condition: Cell::new(condition) });
        let function = closure(ctx, &target)?;
        *kept = Some(Kept { function: Persistent::save(ctx, function.clone()), target });
        Ok(function)
    }
}

/// The reference count of `value`'s object, read at `at`.
fn count(at: CountAt, value: &Value<'_>) -> Option<i32> {
    let raw = value.as_raw();
    // SAFETY: reading the value's tag and pointer does not touch the engine.
    if !unsafe { qjs::JS_VALUE_HAS_REF_COUNT(raw) } {
        return None;
    }
    // SAFETY: the pointer is the engine's allocation for a live object (the value holds a
    // reference); `Before` reads the 4 bytes before it, inside the allocation's header, which
    // the probe found to be the count.
    let object = unsafe { qjs::JS_VALUE_GET_PTR(raw) }.cast::<i32>();
    Some(unsafe {
        match at {
            CountAt::Before => object.sub(1).read(),
            CountAt::First => object.read(),
        }
    })
}

/// Where this engine build keeps an object's reference count: the place that reads 1 for a new
/// object, 2 with a second reference and 1 again without it.
fn probe(ctx: &Ctx<'_>) -> rquickjs::Result<Option<CountAt>> {
    let object = Object::new(ctx.clone())?.into_value();
    for at in [CountAt::Before, CountAt::First] {
        let alone = count(at, &object);
        let second = object.clone();
        let shared = count(at, &second);
        drop(second);
        if alone == Some(1) && shared == Some(2) && count(at, &object) == Some(1) {
            return Ok(Some(at));
        }
    }
    Ok(None)
}

/// A new C closure settling `target`'s slot.
fn closure<'js>(ctx: &Ctx<'js>, target: &Rc<Target>) -> rquickjs::Result<Function<'js>> {
    let opaque = Rc::into_raw(target.clone()).cast_mut().cast::<c_void>();
    // SAFETY: the context is alive; the closure owns one reference to the target, given back by
    // `release` when the engine frees the function (also when making it fails).
    let raw = unsafe {
        qjs::JS_NewCClosure(ctx.as_raw().as_ptr(), Some(call), std::ptr::null(), Some(release), 0, 0, opaque)
    };
    if unsafe { qjs::JS_IsException(raw) } {
        return Err(rquickjs::Error::Exception);
    }
    // SAFETY: `raw` is a new function value this handle takes over.
    let value = unsafe { Value::from_raw(ctx.clone(), raw) };
    value.into_function().ok_or(rquickjs::Error::Unknown)
}

/// Gives back the closure's reference to its target.
unsafe extern "C" fn release(opaque: *mut c_void) {
    if !opaque.is_null() {
        // SAFETY: made by `Rc::into_raw` in `closure`, released once, by the engine's finalizer.
        drop(unsafe { Rc::from_raw(opaque.cast_const().cast::<Target>()) });
    }
}

/// The callback's body: settles its target's slot from its first argument.
unsafe extern "C" fn call(
    ctx: *mut qjs::JSContext,
    _this: qjs::JSValue,
    argc: c_int,
    argv: *mut qjs::JSValue,
    _magic: c_int,
    opaque: *mut c_void,
) -> qjs::JSValue {
    let (Some(ctx), false) = (NonNull::new(ctx), opaque.is_null()) else { return qjs::JS_UNDEFINED };
    // SAFETY: the target outlives the closure that holds a reference to it; this borrows it.
    let target = ManuallyDrop::new(unsafe { Rc::from_raw(opaque.cast_const().cast::<Target>()) });
    // A panic must not unwind into the engine; there is none to expect here.
    let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: called by the engine on its thread, inside the lock the caller holds.
        let first = (argc > 0 && !argv.is_null()).then(|| unsafe {
            // `argv[0]` is alive for the call; the handle takes a reference of its own.
            let raw = qjs::JS_DupValue(ctx.as_ptr(), *argv);
            Value::from_raw(Ctx::from_raw(ctx), raw)
        });
        let outcome: Outcome = match (target.condition.get(), &first) {
            (true, first) => Ok(Some(first.as_ref().is_some_and(truthy))),
            (false, Some(err)) if truthy(err) => {
                let (message, stack) = describe(err);
                Err(HookError { function: String::new(), failure: HookFailure::Failed, message, stack })
            }
            _ => Ok(None),
        };
        let slot = target.slot.borrow().clone();
        settle(&slot, outcome);
    }));
    qjs::JS_UNDEFINED
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn this_engine_builds_reference_counts_are_found() {
        let runtime = rquickjs::Runtime::new().unwrap();
        let context = rquickjs::Context::full(&runtime).unwrap();
        context.with(|ctx| {
            let callbacks = Callbacks::new(&ctx).unwrap();
            assert!(callbacks.reused(), "the probe found no reference count; every call makes a callback");
        });
    }

    fn object_of(function: &Function<'_>) -> *mut c_void {
        // SAFETY: reads the pointer the value holds.
        unsafe { qjs::JS_VALUE_GET_PTR(function.as_value().as_raw()) }
    }

    #[test]
    fn a_callback_is_handed_out_again_only_when_nothing_else_holds_it() {
        let runtime = rquickjs::Runtime::new().unwrap();
        let context = rquickjs::Context::full(&runtime).unwrap();
        context.with(|ctx| {
            let callbacks = Callbacks::new(&ctx).unwrap();
            let (first_slot, second_slot): (Slot, Slot) = (Rc::default(), Rc::default());
            let first = callbacks.get(&ctx, &first_slot, false).unwrap();
            let object = object_of(&first);
            drop(first);
            let second = callbacks.get(&ctx, &second_slot, false).unwrap();
            assert_eq!(object_of(&second), object, "not held: handed out again");
            second.call::<_, ()>(()).unwrap();
            assert!(first_slot.borrow().is_none(), "the earlier call's slot is left alone");
            assert!(matches!(*second_slot.borrow(), Some(Ok(None))));
            let third_slot: Slot = Rc::default();
            let third = callbacks.get(&ctx, &third_slot, true).unwrap();
            assert_ne!(object_of(&third), object, "held by `second`: a new one");
            second.call::<_, ()>(("an error, too late",)).unwrap();
            third.call::<_, ()>((1,)).unwrap();
            assert!(matches!(*second_slot.borrow(), Some(Ok(None))), "a settled slot keeps its outcome");
            assert!(matches!(*third_slot.borrow(), Some(Ok(Some(true)))));
        });
    }
}
