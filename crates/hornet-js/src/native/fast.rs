//! The native helpers hooks call on every request (`__hornet.digest` behind `crypto`'s hashes and
//! HMACs, `__hornet.emit` behind `events.emit`) as QuickJS C closures: rquickjs's functions go
//! through its class dispatch and convert each argument to a Rust type, some 1,500 instructions
//! a call; these read their arguments where they are (a string's UTF-8 borrowed, not copied).

use std::ffi::{c_int, c_void};
use std::mem::ManuallyDrop;
use std::ptr::NonNull;
use std::rc::Rc;

use rquickjs::{Ctx, Error, Exception, Object, TypedArray, Value, qjs};

use super::{HmacKeys, digest, digest_output, throw};
use crate::Emitted;
use crate::processor::Shared;

/// `magic` of `digest(alg, key, data, out)`.
const DIGEST: c_int = 0;
/// `magic` of `emit(kind, name, value)`.
const EMIT: c_int = 1;

/// What the closures share: the processor's state and the HMAC key kept between signatures.
struct State {
    shared: Rc<Shared>,
    keys: HmacKeys,
}

/// Sets `digest` and `emit` on `h` (the `__hornet` object).
pub(super) fn install<'js>(ctx: &Ctx<'js>, h: &Object<'js>, shared: &Rc<Shared>) -> rquickjs::Result<()> {
    let state = Rc::new(State { shared: shared.clone(), keys: HmacKeys::default() });
    for (name, magic, length) in [("digest", DIGEST, 4), ("emit", EMIT, 3)] {
        let opaque = Rc::into_raw(state.clone()).cast_mut().cast::<c_void>();
        // SAFETY: the context is alive; the closure owns one reference to the state, given back by
        // `release` when the engine frees the function (also when making it fails).
        let raw = unsafe {
            qjs::JS_NewCClosure(
                ctx.as_raw().as_ptr(),
                Some(call),
                std::ptr::null(),
                Some(release),
                length,
                magic,
                opaque,
            )
        };
        if unsafe { qjs::JS_IsException(raw) } {
            return Err(Error::Exception);
        }
        // SAFETY: `raw` is a new function value this handle takes over.
        h.set(name, unsafe { Value::from_raw(ctx.clone(), raw) })?;
    }
    Ok(())
}

/// Gives back a closure's reference to the state.
unsafe extern "C" fn release(opaque: *mut c_void) {
    if !opaque.is_null() {
        // SAFETY: made by `Rc::into_raw` in `install`, released once, by the engine's finalizer.
        drop(unsafe { Rc::from_raw(opaque.cast_const().cast::<State>()) });
    }
}

/// The closures' body: the function `magic` names on the first arguments.
unsafe extern "C" fn call(
    ctx: *mut qjs::JSContext,
    _this: qjs::JSValue,
    argc: c_int,
    argv: *mut qjs::JSValue,
    magic: c_int,
    opaque: *mut c_void,
) -> qjs::JSValue {
    let (Some(raw_ctx), false) = (NonNull::new(ctx), opaque.is_null()) else { return qjs::JS_UNDEFINED };
    // SAFETY: the state outlives the closure that holds a reference to it; this borrows it.
    let state = ManuallyDrop::new(unsafe { Rc::from_raw(opaque.cast_const().cast::<State>()) });
    // A panic must not unwind into the engine.
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        // SAFETY: called by the engine on its thread, inside the lock the caller holds.
        let ctx = unsafe { Ctx::from_raw(raw_ctx) };
        let count = usize::try_from(argc).unwrap_or(0);
        let arg = |i: usize| {
            if i < count && !argv.is_null() {
                // SAFETY: `argv[i]` is alive for the call; the handle takes a reference of its own.
                unsafe { Value::from_raw(ctx.clone(), qjs::JS_DupValue(raw_ctx.as_ptr(), *argv.add(i))) }
            } else {
                Value::new_undefined(ctx.clone())
            }
        };
        let result = match magic {
            DIGEST => digest_call(&ctx, &state.keys, &arg(0), &arg(1), &arg(2), &arg(3)),
            _ => {
                emit_call(&ctx, &state.shared, &arg(0), &arg(1), &arg(2));
                Ok(Value::new_undefined(ctx.clone()))
            }
        };
        match result {
            // The engine takes a reference of its own; the handle drops its.
            Ok(value) => unsafe { qjs::JS_DupValue(raw_ctx.as_ptr(), value.as_raw()) },
            Err(Error::Exception) => qjs::JS_EXCEPTION,
            Err(other) => {
                let _ = Exception::throw_message(&ctx, &other.to_string());
                qjs::JS_EXCEPTION
            }
        }
    }));
    outcome.unwrap_or(qjs::JS_UNDEFINED)
}

/// Runs `f` on the UTF-8 of a string or the bytes of a `Buffer`/typed array, borrowed.
fn with_bytes<'js, R>(ctx: &Ctx<'js>, value: &Value<'js>, f: impl FnOnce(&[u8]) -> R) -> rquickjs::Result<R> {
    if value.is_string() {
        let raw_ctx = ctx.as_raw().as_ptr();
        let mut len: u64 = 0;
        // SAFETY: the value is a live string of this context; the text is freed below.
        let text = unsafe { qjs::JS_ToCStringLen2(raw_ctx, &mut len, value.as_raw(), false) };
        if text.is_null() {
            return Err(Error::Exception);
        }
        // SAFETY: the engine gave `len` bytes at `text`, alive until freed; no JavaScript runs in `f`.
        let out =
            f(unsafe { std::slice::from_raw_parts(text.cast::<u8>(), usize::try_from(len).unwrap_or(0)) });
        // SAFETY: made by `JS_ToCStringLen2` above, freed once.
        unsafe { qjs::JS_FreeCString(raw_ctx, text) };
        return Ok(out);
    }
    match TypedArray::<u8>::from_value(value.clone()) {
        // SAFETY: no JavaScript runs while the slice is alive.
        Ok(array) => Ok(f(unsafe { array.as_bytes() }.unwrap_or_default())),
        Err(_) => Err(throw(ctx, "digest input must be a string or a Buffer")),
    }
}

/// The hashes `digest` knows, by the names the prelude gives them.
const HASHES: [&str; 5] = ["md5", "sha1", "sha256", "sha384", "sha512"];

/// `digest(alg, key, data, out)`: a digest of `data` (an HMAC with `key` unless it is undefined)
/// encoded as `out` says (see [`digest_output`]).
fn digest_call<'js>(
    ctx: &Ctx<'js>,
    keys: &HmacKeys,
    alg: &Value<'js>,
    key: &Value<'js>,
    data: &Value<'js>,
    out: &Value<'js>,
) -> rquickjs::Result<Value<'js>> {
    let name = with_bytes(ctx, alg, |name| {
        HASHES
            .iter()
            .copied()
            .find(|h| h.as_bytes() == name)
            .ok_or_else(|| String::from_utf8_lossy(name).into_owned())
    });
    let name = match name? {
        Ok(name) => name,
        Err(unknown) => return Err(throw(ctx, &format!("Digest method not supported: {unknown}"))),
    };
    let bytes = with_bytes(ctx, data, |data| {
        if key.is_undefined() {
            Ok(digest(name, data))
        } else {
            with_bytes(ctx, key, |key| keys.sign(name, key, data))
        }
    })??;
    let bytes = bytes.ok_or_else(|| throw(ctx, &format!("Digest method not supported: {name}")))?;
    let out = out.as_int().or_else(|| out.as_number().map(|n| n as i32)).unwrap_or(0);
    digest_output(ctx, bytes, out)
}

/// The kinds of `events.emit` hornet records.
enum Kind {
    Counter,
    Histogram,
    Rate,
    Error,
    Other,
}

/// `emit(kind, name, value)`: a custom metric or error for the runner.
fn emit_call<'js>(ctx: &Ctx<'js>, shared: &Shared, kind: &Value<'js>, name: &Value<'js>, value: &Value<'js>) {
    let text = |v: &Value<'js>| {
        v.as_string()
            .and_then(|s| s.to_string().ok())
            .or_else(|| v.as_object().and_then(|o| o.get::<_, String>("message").ok()))
    };
    let number = value.as_number();
    if !kind.is_string() {
        return;
    }
    let Ok(kind) = with_bytes(ctx, kind, |kind| match kind {
        b"counter" => Kind::Counter,
        b"histogram" | b"summary" => Kind::Histogram,
        b"rate" => Kind::Rate,
        b"error" => Kind::Error,
        _ => Kind::Other,
    }) else {
        return;
    };
    let emitted = match kind {
        Kind::Counter => text(name).map(|name| Emitted::Counter { name, value: number.unwrap_or(1.0) }),
        Kind::Histogram => text(name).zip(number).map(|(name, value)| Emitted::Histogram { name, value }),
        Kind::Rate => text(name).map(|name| Emitted::Rate { name }),
        Kind::Error => Some(Emitted::Error { message: text(name).unwrap_or_else(|| "error".into()) }),
        Kind::Other => None,
    };
    if let Some(e) = emitted {
        shared.emitted.borrow_mut().push(e);
    }
}
