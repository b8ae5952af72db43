//! `requestParams` and the response as hooks see them, and reading a hook's changes back.
//!
//! One `requestParams` object serves all the hooks of a request (`beforeRequest`, then
//! `afterResponse` or `onError`), as Artillery hands them one object, so nothing is read back
//! between them. It keeps the values it was made with: reading it back after the
//! `beforeRequest` hooks converts only the fields a hook replaced (compared by identity, as `===`
//! does), plus those a hook may change in place (`headers`, `json`, a byte `body`, object fields).
//! Property names go through the runtime's cached atoms ([`Names`]), and the shapes of these
//! objects (their sequences of property names) are kept alive between requests.

use rquickjs::{Ctx, Function, Object, Persistent, TypedArray, Value, qjs};
use serde_json::Value as Json;

use super::names::{Names, ShapeKey};
use super::{RequestBody, RequestParams, ResponseData};
use crate::convert::{from_js, to_js};

/// `requestParams` as JavaScript holds it for one request, made by
/// [`Processor::request_object`](super::Processor::request_object).
pub struct JsRequest {
    pub(super) object: Persistent<Object<'static>>,
    /// The values `url`, `uri`, `method`, `body` and `name` were given when the object was made
    /// (held, so that [`JsRequest::made_ids`] stay theirs).
    _made_held: [Persistent<Value<'static>>; 5],
    /// Those values' identities, to tell them by, as `===` does for objects.
    made_ids: [ValueId; 5],
    /// The atom of each header name the object was made with, in order, when the runtime's cache
    /// of header names holds it (0 otherwise: compared by text).
    header_atoms: Vec<qjs::JSAtom>,
}

/// A value's identity: its tag and its bits (the pointer, for strings and objects).
#[derive(Clone, Copy, PartialEq, Eq)]
struct ValueId(i32, u64);

impl ValueId {
    fn of(value: qjs::JSValue) -> ValueId {
        // SAFETY: reads the value's tag and bits, whatever they hold.
        unsafe { ValueId(qjs::JS_VALUE_GET_TAG(value), qjs::JS_VALUE_GET_FLOAT64(value).to_bits()) }
    }
}

/// A value got from the engine, freed when dropped.
struct Held {
    ctx: *mut qjs::JSContext,
    value: qjs::JSValue,
}

impl Held {
    /// `object[atom]`, as JavaScript reads it (getters run).
    fn get(ctx: &Ctx<'_>, object: qjs::JSValue, atom: qjs::JSAtom) -> rquickjs::Result<Held> {
        let ctx = ctx.as_raw().as_ptr();
        // SAFETY: the context and object are alive for the call; the atom is held by the caller.
        let value = unsafe { qjs::JS_GetProperty(ctx, object, atom) };
        // SAFETY: reads the tag.
        if unsafe { qjs::JS_IsException(value) } {
            return Err(rquickjs::Error::Exception);
        }
        Ok(Held { ctx, value })
    }

    fn id(&self) -> ValueId {
        ValueId::of(self.value)
    }

    fn is_undefined(&self) -> bool {
        // SAFETY: reads the tag.
        unsafe { qjs::JS_IsUndefined(self.value) }
    }

    /// Whether the value is a string with the text `text`; `None` when it is not a string.
    fn is_text(&self, text: &str) -> Option<bool> {
        is_text(self.ctx, self.value, text)
    }

    /// The value for rquickjs (a reference of its own).
    fn value<'js>(&self, ctx: &Ctx<'js>) -> Value<'js> {
        // SAFETY: the duplicated reference is handed to the `Value`, which frees it.
        unsafe { Value::from_raw(ctx.clone(), qjs::JS_DupValue(self.ctx, self.value)) }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // SAFETY: the value is owned, and its context alive while the caller is in it.
        unsafe { qjs::JS_FreeValue(self.ctx, self.value) }
    }
}

/// Whether `value` is a string with the text `text`; `None` when it is not a string.
fn is_text(ctx: *mut qjs::JSContext, value: qjs::JSValue, text: &str) -> Option<bool> {
    // SAFETY: reads the tag.
    if !unsafe { qjs::JS_IsString(value) } {
        return None;
    }
    let mut len = 0;
    // SAFETY: an ASCII string's own bytes are lent (others are converted), and given back at
    // once; a failed conversion (out of memory) counts as different text.
    unsafe {
        let bytes = qjs::JS_ToCStringLen(ctx, &mut len, value);
        if bytes.is_null() {
            return Some(false);
        }
        let same = std::slice::from_raw_parts(bytes.cast::<u8>(), len) == text.as_bytes();
        qjs::JS_FreeCString(ctx, bytes);
        Some(same)
    }
}

/// `f` of atom `atom`'s text (`None` when it is not valid UTF-8 or cannot be had).
fn with_atom_text<R>(ctx: *mut qjs::JSContext, atom: qjs::JSAtom, f: impl FnOnce(Option<&str>) -> R) -> R {
    let mut len: qjs::size_t = 0;
    // SAFETY: the caller holds the atom; the C string is lent to `f` and given back after it.
    unsafe {
        let bytes = qjs::JS_AtomToCStringLen(ctx, &mut len, atom);
        if bytes.is_null() {
            return f(None);
        }
        let out = f(std::str::from_utf8(std::slice::from_raw_parts(bytes.cast::<u8>(), len as usize)).ok());
        qjs::JS_FreeCString(ctx, bytes);
        out
    }
}

/// Nesting compared at most by [`json_is`] (deeper counts as changed).
const MAX_JSON_DEPTH: usize = 16;

/// Whether `value` (what `requestParams.json` holds now) is still the JSON value `original`, as
/// JSON.stringify would see it: null, booleans, numbers, strings and plain objects (own
/// enumerable keys, no `toJSON`) are compared; anything else (arrays, other classes) counts as
/// changed, and is written out by JSON.stringify as before.
fn json_is(ctx: &Ctx<'_>, names: &Names, value: qjs::JSValue, original: &Json, depth: usize) -> bool {
    let raw_ctx = ctx.as_raw().as_ptr();
    // SAFETY: reads the value's tag and payload.
    let tag = unsafe { qjs::JS_VALUE_GET_TAG(value) };
    match original {
        Json::Null => tag == qjs::JS_TAG_NULL,
        // SAFETY: the payload of a boolean.
        Json::Bool(b) => tag == qjs::JS_TAG_BOOL && unsafe { qjs::JS_VALUE_GET_BOOL(value) } == *b,
        Json::Number(n) => {
            let number = match tag {
                // SAFETY: the payload of an integer.
                qjs::JS_TAG_INT => f64::from(unsafe { qjs::JS_VALUE_GET_INT(value) }),
                // SAFETY: the payload of a float.
                qjs::JS_TAG_FLOAT64 => unsafe { qjs::JS_VALUE_GET_FLOAT64(value) },
                _ => return false,
            };
            n.as_f64() == Some(number)
        }
        Json::String(text) => is_text(raw_ctx, value, text) == Some(true),
        Json::Array(_) => false,
        Json::Object(map) => {
            // SAFETY: reads the class of an object.
            if depth >= MAX_JSON_DEPTH
                || tag != qjs::JS_TAG_OBJECT
                || unsafe { qjs::JS_GetClassID(value) } != 1
            {
                return false;
            }
            let compared = (|| -> rquickjs::Result<bool> {
                if !Held::get(ctx, value, names.to_json.raw())?.is_undefined() {
                    return Ok(false);
                }
                let own = OwnNames::of(ctx, value)?;
                if own.len as usize != map.len() {
                    return Ok(false);
                }
                for atom in own.atoms() {
                    let Some(expected) =
                        with_atom_text(raw_ctx, atom, |key| key.and_then(|key| map.get(key)))
                    else {
                        return Ok(false);
                    };
                    if !json_is(ctx, names, Held::get(ctx, value, atom)?.value, expected, depth + 1) {
                        return Ok(false);
                    }
                }
                Ok(true)
            })();
            compared.unwrap_or_else(|_| {
                // Counted as changed: JSON.stringify meets the same failure and decides.
                let _ = ctx.catch();
                false
            })
        }
    }
}

/// The enumerable own string-keyed property names of an object, freed when dropped.
struct OwnNames {
    ctx: *mut qjs::JSContext,
    table: *mut qjs::JSPropertyEnum,
    len: u32,
}

impl OwnNames {
    fn of(ctx: &Ctx<'_>, object: qjs::JSValue) -> rquickjs::Result<OwnNames> {
        let ctx = ctx.as_raw().as_ptr();
        let mut names = OwnNames { ctx, table: std::ptr::null_mut(), len: 0 };
        let flags = (qjs::JS_GPN_STRING_MASK | qjs::JS_GPN_ENUM_ONLY) as _;
        // SAFETY: the context and object are alive for the call, which fills the table or fails.
        if unsafe { qjs::JS_GetOwnPropertyNames(ctx, &mut names.table, &mut names.len, object, flags) } < 0 {
            return Err(rquickjs::Error::Exception);
        }
        Ok(names)
    }

    fn atoms(&self) -> impl Iterator<Item = qjs::JSAtom> + '_ {
        let table: &[qjs::JSPropertyEnum] = if self.table.is_null() {
            &[]
        } else {
            // SAFETY: the engine made the table with `len` entries; it lives until `drop`.
            unsafe { std::slice::from_raw_parts(self.table, self.len as usize) }
        };
        table.iter().map(|entry| entry.atom)
    }
}

impl Drop for OwnNames {
    fn drop(&mut self) {
        if !self.table.is_null() {
            // SAFETY: the table (and the atoms it holds) came from `JS_GetOwnPropertyNames`.
            unsafe { qjs::JS_FreePropertyEnum(self.ctx, self.table, self.len) }
        }
    }
}

pub(super) fn request_to_js<'js>(
    ctx: &Ctx<'js>,
    names: &Names,
    request: &RequestParams,
) -> rquickjs::Result<(Object<'js>, JsRequest)> {
    keep_request_shapes(ctx, names, request)?;
    let object = Object::new(ctx.clone())?;
    for (k, v) in &request.extra {
        object.set(k.as_str(), to_js(ctx, v)?)?;
    }
    let url = rquickjs::String::from_str(ctx.clone(), &request.url)?.into_value();
    object.set(names.url.atom(ctx)?, url.clone())?;
    object.set(names.uri.atom(ctx)?, url.clone())?;
    let method = rquickjs::String::from_str(ctx.clone(), &request.method)?.into_value();
    object.set(names.method.atom(ctx)?, method.clone())?;
    let headers = Object::new(ctx.clone())?;
    let mut header_atoms = Vec::with_capacity(request.headers.len());
    for (k, v) in &request.headers {
        headers.set(names.header_atom(ctx, k)?, v.as_str())?;
        header_atoms.push(names.kept_header_atom(k).unwrap_or(0));
    }
    object.set(names.headers.atom(ctx)?, headers)?;
    if let Some(json) = &request.json {
        object.set(names.json.atom(ctx)?, ctx.json_parse(json.as_str())?)?;
    }
    let body = match &request.body {
        Some(RequestBody::Text(text)) => rquickjs::String::from_str(ctx.clone(), text)?.into_value(),
        Some(RequestBody::Bytes(bytes)) => {
            let buffer: Function = ctx.eval("(u8) => Buffer.from(u8)")?;
            let array = TypedArray::<u8>::new(ctx.clone(), bytes.clone())?;
            buffer.call::<_, Value>((array,))?
        }
        None => Value::new_undefined(ctx.clone()),
    };
    if !body.is_undefined() {
        object.set(names.body.atom(ctx)?, body.clone())?;
    }
    let name = match &request.name {
        Some(name) => rquickjs::String::from_str(ctx.clone(), name)?.into_value(),
        None => Value::new_undefined(ctx.clone()),
    };
    if !name.is_undefined() {
        object.set(names.name.atom(ctx)?, name.clone())?;
    }
    let made_values = [url.clone(), url, method, body, name];
    let made_ids = made_values.each_ref().map(|v| ValueId::of(v.as_raw()));
    let _made_held = made_values.map(|v| Persistent::save(ctx, v));
    let js = JsRequest { object: Persistent::save(ctx, object.clone()), _made_held, made_ids, header_atoms };
    Ok((object, js))
}

/// Keeps the shapes of `requestParams` and of its `headers` as [`request_to_js`] makes them for
/// `request` (once per sequence of names), so that making them again only finds them.
fn keep_request_shapes(ctx: &Ctx<'_>, names: &Names, request: &RequestParams) -> rquickjs::Result<()> {
    let mut fields = ShapeKey::new();
    for k in request.extra.keys() {
        fields.text(k);
    }
    let optional = [
        (request.json.is_some(), &names.json, "json"),
        (request.body.is_some(), &names.body, "body"),
        (request.name.is_some(), &names.name, "name"),
    ];
    for (present, name, _) in &optional {
        if *present {
            fields.atom(name.raw());
        }
    }
    names.shapes.keep(ctx, fields, || {
        let mut list: Vec<&str> = request.extra.keys().map(String::as_str).collect();
        list.extend(["url", "uri", "method", "headers"]);
        list.extend(optional.iter().filter(|(present, _, _)| *present).map(|(_, _, text)| *text));
        list
    })?;
    keep_header_shapes(ctx, names, request.headers.iter().map(|(k, _)| k.as_str()))
}

/// Keeps the shapes of a `headers` object with `headers` set in this order.
fn keep_header_shapes<'a>(
    ctx: &Ctx<'_>,
    names: &Names,
    headers: impl Iterator<Item = &'a str> + Clone,
) -> rquickjs::Result<()> {
    let mut key = ShapeKey::new();
    key.atom(names.headers.raw());
    for name in headers.clone() {
        key.text(name);
    }
    names.shapes.keep(ctx, key, || headers.collect())
}

/// A string field as a hook left it.
enum Field {
    /// The value it was made with, or a string of the same text.
    Same,
    /// Another string.
    New(String),
    /// Not a string: the field is left as it was.
    NotString,
}

/// Field `atom` of `object`, told from the value it was made with (`made`) and the text it had
/// (`current`) without copying it out unless it changed.
fn string_field(
    ctx: &Ctx<'_>,
    object: qjs::JSValue,
    atom: qjs::JSAtom,
    made: ValueId,
    current: &str,
) -> rquickjs::Result<Field> {
    let value = Held::get(ctx, object, atom)?;
    if value.id() == made {
        return Ok(Field::Same);
    }
    Ok(match value.is_text(current) {
        Some(true) => Field::Same,
        Some(false) => match value.value(ctx).as_string() {
            Some(s) => Field::New(s.to_string()?),
            None => Field::NotString,
        },
        None => Field::NotString,
    })
}

/// Reads the hooks' changes back into `request` (as it was when the object was made). What a
/// hook left as it was made (the same value, or a string of the same text) is not copied out.
pub(super) fn read_request<'js>(
    ctx: &Ctx<'js>,
    names: &Names,
    js: &JsRequest,
    request: &mut RequestParams,
) -> rquickjs::Result<()> {
    let object = js.object.clone().restore(ctx)?;
    let raw = object.as_raw();
    let [made_url, made_uri, made_method, made_body, made_name] = js.made_ids;
    match string_field(ctx, raw, names.url.raw(), made_url, &request.url)? {
        Field::NotString => {}
        url => {
            // `uri` is the older name; a hook that changed only it wins.
            match (url, string_field(ctx, raw, names.uri.raw(), made_uri, &request.url)?) {
                (Field::Same, Field::New(uri)) => request.url = uri,
                (Field::New(url), _) => request.url = url,
                _ => {}
            }
        }
    }
    match string_field(ctx, raw, names.method.raw(), made_method, &request.method)? {
        Field::Same => request.method.make_ascii_uppercase(),
        Field::New(method) => request.method = method.to_ascii_uppercase(),
        Field::NotString => {}
    }
    let headers = Held::get(ctx, raw, names.headers.raw())?;
    // SAFETY: reads the tag.
    if unsafe { qjs::JS_IsObject(headers.value) } {
        read_headers(ctx, names, js, headers.value, &mut request.headers)?;
    }
    let json = Held::get(ctx, raw, names.json.raw())?;
    // A hook may change `json` in place: it is compared with the text it was made from (kept
    // when equal) before JSON.stringify writes it out again.
    let unchanged_json = !json.is_undefined()
        && request.json.as_deref().is_some_and(|text| {
            serde_json::from_str::<Json>(text).is_ok_and(|made| json_is(ctx, names, json.value, &made, 0))
        });
    if !unchanged_json {
        request.json = if json.is_undefined() {
            None
        } else {
            ctx.json_stringify(json.value(ctx)).ok().flatten().and_then(|s| s.to_string().ok())
        };
    }
    let body = Held::get(ctx, raw, names.body.raw())?;
    let unchanged_text = matches!(request.body, Some(RequestBody::Text(_)) | None) && body.id() == made_body;
    if !unchanged_text {
        request.body = body_of(body.value(ctx));
    }
    let name = Held::get(ctx, raw, names.name.raw())?;
    if name.id() != made_name {
        request.name = name.value(ctx).as_string().and_then(|s| s.to_string().ok());
    }
    request.extra.clear();
    let own = OwnNames::of(ctx, raw)?;
    for atom in own.atoms() {
        if names.is_request_field(atom) {
            continue;
        }
        let value = Held::get(ctx, raw, atom)?.value(ctx);
        if let Some(json) = from_js(&value) {
            request.extra.insert(super::names::atom_text(ctx, atom)?, json);
        }
    }
    Ok(())
}

/// Reads `requestParams.headers` back into `headers` (as the object was made with them): a header
/// left with its name, place and text is kept as it was, without converting it again.
fn read_headers(
    ctx: &Ctx<'_>,
    names: &Names,
    js: &JsRequest,
    object: qjs::JSValue,
    headers: &mut Vec<(String, String)>,
) -> rquickjs::Result<()> {
    let own = OwnNames::of(ctx, object)?;
    let mut made = std::mem::take(headers);
    let mut read = Vec::with_capacity(made.len() + 1);
    let mut unchanged = own.len as usize == made.len();
    for (at, atom) in own.atoms().enumerate() {
        let Ok(value) = Held::get(ctx, object, atom) else {
            // As a failed read did before: the header is left out (and the exception dropped).
            let _ = ctx.catch();
            unchanged = false;
            continue;
        };
        if let (Some(&made_atom), Some((_, made_value))) = (js.header_atoms.get(at), made.get(at))
            && made_atom != 0
            && made_atom == atom
            && value.is_text(made_value) == Some(true)
        {
            read.push(std::mem::take(&mut made[at]));
            continue;
        }
        unchanged = false;
        let value = value.value(ctx);
        let text = match value.as_string() {
            Some(s) => match s.to_string() {
                Ok(text) => text,
                Err(_) => continue,
            },
            None => match from_js(&value) {
                Some(Json::String(s)) => s,
                Some(Json::Null) | None => continue,
                Some(other) => other.to_string(),
            },
        };
        let Ok(name) = names.header_name(ctx, atom) else { continue };
        read.push((name, text));
    }
    if !unchanged {
        // A header a hook added (a signature, say) is made again for each request too.
        keep_header_shapes(ctx, names, read.iter().map(|(k, _)| k.as_str()))?;
    }
    *headers = read;
    Ok(())
}

/// `requestParams.body` as the request's body.
fn body_of(value: Value<'_>) -> Option<RequestBody> {
    if let Ok(array) = TypedArray::<u8>::from_value(value.clone()) {
        // SAFETY: copied at once; no JavaScript runs while the slice is alive.
        return Some(RequestBody::Bytes(unsafe { array.as_bytes() }.map(<[u8]>::to_vec).unwrap_or_default()));
    }
    match from_js(&value)? {
        Json::String(s) => Some(RequestBody::Text(s)),
        Json::Null => None,
        other => Some(RequestBody::Text(other.to_string())),
    }
}

/// The `response` object hooks get. With `lazy`, its `headers` and `timings` are made when first
/// used (most hooks read only `body` and `statusCode`): until then they are enumerable accessors
/// over [`response_raw`] kept under a symbol (see the prelude).
pub(super) fn response_to_js<'js>(
    ctx: &Ctx<'js>,
    names: &Names,
    response: ResponseData<'_>,
    lazy: bool,
) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    let raw = object.as_raw();
    define_value(ctx, raw, names.status_code.raw(), Value::new_int(ctx.clone(), i32::from(response.status)))?;
    define_value(
        ctx,
        raw,
        names.url.raw(),
        rquickjs::String::from_str(ctx.clone(), response.url)?.into_value(),
    )?;
    let body = String::from_utf8_lossy(response.body);
    let body = rquickjs::String::from_str(ctx.clone(), &body)?.into_value();
    if !lazy {
        object.set(names.headers.atom(ctx)?, headers_object(ctx, &response_raw(&response))?)?;
        define_value(ctx, raw, names.body.raw(), body)?;
        object.set(names.timings.atom(ctx)?, timings_object(ctx, &response_raw(&response))?)?;
        return Ok(object);
    }
    let parts = &names.response_parts;
    define_accessor(ctx, raw, names.headers.raw(), parts.headers)?;
    define_value(ctx, raw, names.body.raw(), body)?;
    define_accessor(ctx, raw, names.timings.raw(), parts.timings)?;
    let text = rquickjs::String::from_str(ctx.clone(), &response_raw(&response))?.into_value();
    // Hidden, read-only and fixed, as the prelude's kept shape has it.
    define(ctx, raw, parts.raw.raw(), text, 0)?;
    Ok(object)
}

/// Defines `atom` on the new plain `object` as a writable, enumerable, configurable value, as
/// setting it does (without looking for a setter on the prototype).
fn define_value(
    ctx: &Ctx<'_>,
    object: qjs::JSValue,
    atom: qjs::JSAtom,
    value: Value<'_>,
) -> rquickjs::Result<()> {
    define(ctx, object, atom, value, qjs::JS_PROP_C_W_E | qjs::JS_PROP_THROW)
}

/// Defines `atom` on `object` as `value` with `flags`.
fn define(
    ctx: &Ctx<'_>,
    object: qjs::JSValue,
    atom: qjs::JSAtom,
    value: Value<'_>,
    flags: u32,
) -> rquickjs::Result<()> {
    let ctx = ctx.as_raw().as_ptr();
    // SAFETY: the context and object are alive for the call, which takes over the reference
    // duplicated for it; the atom is kept alive by `Names`.
    let defined = unsafe {
        qjs::JS_DefinePropertyValue(ctx, object, atom, qjs::JS_DupValue(ctx, value.as_raw()), flags as _)
    };
    if defined < 0 {
        return Err(rquickjs::Error::Exception);
    }
    Ok(())
}

/// Defines the enumerable, configurable accessor `atom` on `object` with the getter and setter
/// `accessor` (rquickjs only defines accessors over Rust closures).
fn define_accessor(
    ctx: &Ctx<'_>,
    object: qjs::JSValue,
    atom: qjs::JSAtom,
    [get, set]: [qjs::JSValue; 2],
) -> rquickjs::Result<()> {
    let flags = qjs::JS_PROP_HAS_GET
        | qjs::JS_PROP_HAS_SET
        | qjs::JS_PROP_HAS_ENUMERABLE
        | qjs::JS_PROP_ENUMERABLE
        | qjs::JS_PROP_HAS_CONFIGURABLE
        | qjs::JS_PROP_CONFIGURABLE
        | qjs::JS_PROP_THROW;
    // SAFETY: the context and object are alive for the call, which takes references of its own
    // to the functions (kept alive by `Names`); the atom is kept alive by `Names`.
    let defined = unsafe {
        qjs::JS_DefineProperty(ctx.as_raw().as_ptr(), object, atom, qjs::JS_UNDEFINED, get, set, flags as _)
    };
    if defined < 0 {
        return Err(rquickjs::Error::Exception);
    }
    Ok(())
}

/// The raw text behind a response's `headers` and `timings`: the phases as `name=bits;` entries
/// (the milliseconds' `f64` bits in hex), a NUL, then each header as its name and value, each
/// followed by a NUL (no HTTP header name or value holds a NUL). `set-cookie` comes once per
/// value, the others once with their values joined by `, `.
fn response_raw(response: &ResponseData<'_>) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut raw = String::with_capacity(28 * response.phases.len() + 48 * response.headers.len() + 1);
    for (name, ms) in response.phases {
        raw.push_str(name);
        raw.push('=');
        // The number's bits in hex: exact, and far cheaper than formatting it in decimal.
        let bits = ms.to_bits();
        let mut hex = [0u8; 16];
        for (i, digit) in hex.iter_mut().enumerate() {
            *digit = DIGITS[((bits >> ((15 - i) * 4)) & 15) as usize];
        }
        raw.push_str(std::str::from_utf8(&hex).unwrap_or_default());
        raw.push(';');
    }
    raw.push('\0');
    // The values of a name come one after the other: all but `set-cookie` are joined.
    let mut previous: Option<&http::HeaderName> = None;
    for (name, value) in response.headers {
        let value = String::from_utf8_lossy(value.as_bytes());
        if previous == Some(name) && name != http::header::SET_COOKIE {
            raw.pop();
            raw.push_str(", ");
        } else {
            raw.push_str(name.as_str());
            raw.push('\0');
        }
        raw.push_str(&value);
        raw.push('\0');
        previous = Some(name);
    }
    raw
}

/// `response.headers` from [`response_raw`]'s text: names lower-case, `set-cookie` a list.
pub(crate) fn headers_object<'js>(ctx: &Ctx<'js>, raw: &str) -> rquickjs::Result<Object<'js>> {
    let headers = Object::new(ctx.clone())?;
    let Some((_, list)) = raw.split_once('\0') else { return Ok(headers) };
    let mut fields = list.split('\0');
    while let (Some(name), Some(value)) = (fields.next(), fields.next()) {
        if name == http::header::SET_COOKIE.as_str() {
            let cookies = match headers.get::<_, Option<rquickjs::Array>>(name)? {
                Some(cookies) => cookies,
                None => {
                    let cookies = rquickjs::Array::new(ctx.clone())?;
                    headers.set(name, cookies.clone())?;
                    cookies
                }
            };
            cookies.set(cookies.len(), value)?;
        } else {
            headers.set(name, value)?;
        }
    }
    Ok(headers)
}

/// `response.timings` (`{ phases: { wait, ... } }`) from [`response_raw`]'s text.
pub(crate) fn timings_object<'js>(ctx: &Ctx<'js>, raw: &str) -> rquickjs::Result<Object<'js>> {
    let phases = Object::new(ctx.clone())?;
    let list = raw.split_once('\0').map_or(raw, |(phases, _)| phases);
    for entry in list.split(';') {
        if let Some((name, bits)) = entry.split_once('=')
            && let Ok(bits) = u64::from_str_radix(bits, 16)
        {
            phases.set(name, f64::from_bits(bits))?;
        }
    }
    let timings = Object::new(ctx.clone())?;
    timings.set("phases", phases)?;
    Ok(timings)
}
