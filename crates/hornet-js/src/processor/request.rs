//! `requestParams` and the response as hooks see them, and reading a hook's changes back.
//!
//! One `requestParams` object serves all the hooks of a request (`beforeRequest`, then
//! `afterResponse` or `onError`), as Artillery hands them one object, so nothing is read back
//! between them. It keeps the values it was made with: reading it back after the
//! `beforeRequest` hooks converts only the fields a hook replaced (compared by identity, as `===`
//! does), plus those a hook may change in place (`headers`, `json`, a byte `body`, object fields).
//! Property names go through the runtime's cached atoms ([`Names`]), and the shapes of these
//! objects (their sequences of property names) are kept alive between requests.

use rquickjs::object::{Filter, Property};
use rquickjs::{Atom, Ctx, Function, Object, Persistent, TypedArray, Value, qjs};
use serde_json::Value as Json;

use super::names::{Names, ShapeKey};
use super::{RequestBody, RequestParams, ResponseData};
use crate::convert::{from_js, to_js};

/// `requestParams` as JavaScript holds it for one request, made by
/// [`Processor::request_object`](super::Processor::request_object).
pub struct JsRequest {
    pub(super) object: Persistent<Object<'static>>,
    /// The values `url`, `uri`, `method`, `body` and `name` were given when the object was made.
    made: [Persistent<Value<'static>>; 5],
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
    for (k, v) in &request.headers {
        headers.set(names.header_atom(ctx, k)?, v.as_str())?;
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
    let made = [url.clone(), url, method, body, name].map(|v| Persistent::save(ctx, v));
    let js = JsRequest { object: Persistent::save(ctx, object.clone()), made };
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

fn string_field<'js>(
    ctx: &Ctx<'js>,
    value: &Value<'js>,
    made: &Persistent<Value<'static>>,
    current: &str,
) -> rquickjs::Result<Field> {
    if *value == made.clone().restore(ctx)? {
        return Ok(Field::Same);
    }
    Ok(match value.as_string() {
        Some(s) => {
            let text = s.to_string()?;
            if text == current { Field::Same } else { Field::New(text) }
        }
        None => Field::NotString,
    })
}

/// Reads the hooks' changes back into `request` (as it was when the object was made).
pub(super) fn read_request<'js>(
    ctx: &Ctx<'js>,
    names: &Names,
    js: &JsRequest,
    request: &mut RequestParams,
) -> rquickjs::Result<()> {
    let object = js.object.clone().restore(ctx)?;
    let [made_url, made_uri, made_method, made_body, made_name] = &js.made;
    let url: Value = object.get(names.url.atom(ctx)?)?;
    match string_field(ctx, &url, made_url, &request.url)? {
        Field::NotString => {}
        url => {
            let uri: Value = object.get(names.uri.atom(ctx)?)?;
            // `uri` is the older name; a hook that changed only it wins.
            match (url, string_field(ctx, &uri, made_uri, &request.url)?) {
                (Field::Same, Field::New(uri)) => request.url = uri,
                (Field::New(url), _) => request.url = url,
                _ => {}
            }
        }
    }
    let method: Value = object.get(names.method.atom(ctx)?)?;
    match string_field(ctx, &method, made_method, &request.method)? {
        Field::Same => request.method.make_ascii_uppercase(),
        Field::New(method) => request.method = method.to_ascii_uppercase(),
        Field::NotString => {}
    }
    if let Some(headers) = object.get::<_, Value>(names.headers.atom(ctx)?)?.into_object() {
        let mut read = Vec::with_capacity(request.headers.len() + 1);
        for key in headers.own_keys::<Atom>(Filter::default()) {
            let Ok(key) = key else { continue };
            let Ok(value) = headers.get::<_, Value>(key.clone()) else { continue };
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
            let Ok(name) = names.header_name(&key) else { continue };
            read.push((name, text));
        }
        // A header a hook added (a signature, say) is made again for each request too.
        keep_header_shapes(ctx, names, read.iter().map(|(k, _)| k.as_str()))?;
        request.headers = read;
    }
    let json: Value = object.get(names.json.atom(ctx)?)?;
    request.json = if json.is_undefined() {
        None
    } else {
        ctx.json_stringify(json).ok().flatten().and_then(|s| s.to_string().ok())
    };
    let body: Value = object.get(names.body.atom(ctx)?)?;
    let unchanged_text = matches!(request.body, Some(RequestBody::Text(_)) | None)
        && body == made_body.clone().restore(ctx)?;
    if !unchanged_text {
        request.body = body_of(body);
    }
    let name: Value = object.get(names.name.atom(ctx)?)?;
    if name != made_name.clone().restore(ctx)? {
        request.name = name.as_string().and_then(|s| s.to_string().ok());
    }
    request.extra.clear();
    for key in object.own_keys::<Atom>(Filter::default()) {
        let key = key?;
        if names.is_request_field(&key) {
            continue;
        }
        let value: Value = object.get(key.clone())?;
        if let Some(json) = from_js(&value) {
            request.extra.insert(key.to_string()?, json);
        }
    }
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
    object.set(names.status_code.atom(ctx)?, response.status)?;
    object.set(names.url.atom(ctx)?, response.url)?;
    let body = String::from_utf8_lossy(response.body);
    if !lazy {
        object.set(names.headers.atom(ctx)?, headers_object(ctx, &response_raw(&response))?)?;
        object.set(names.body.atom(ctx)?, body.as_ref())?;
        object.set(names.timings.atom(ctx)?, timings_object(ctx, &response_raw(&response))?)?;
        return Ok(object);
    }
    let parts = &names.response_parts;
    define_accessor(ctx, &object, names.headers.raw(), &parts.headers)?;
    object.set(names.body.atom(ctx)?, body.as_ref())?;
    define_accessor(ctx, &object, names.timings.raw(), &parts.timings)?;
    object.prop(parts.raw.clone().restore(ctx)?, Property::from(response_raw(&response)))?;
    Ok(object)
}

/// Defines the enumerable, configurable accessor `atom` on `object` with the getter and setter
/// `accessor` (rquickjs only defines accessors over Rust closures).
fn define_accessor<'js>(
    ctx: &Ctx<'js>,
    object: &Object<'js>,
    atom: qjs::JSAtom,
    accessor: &[Persistent<Function<'static>>; 2],
) -> rquickjs::Result<()> {
    let [get, set] = accessor;
    let (get, set) = (get.clone().restore(ctx)?, set.clone().restore(ctx)?);
    let flags = qjs::JS_PROP_HAS_GET
        | qjs::JS_PROP_HAS_SET
        | qjs::JS_PROP_HAS_ENUMERABLE
        | qjs::JS_PROP_ENUMERABLE
        | qjs::JS_PROP_HAS_CONFIGURABLE
        | qjs::JS_PROP_CONFIGURABLE
        | qjs::JS_PROP_THROW;
    // SAFETY: the context, object and functions are alive for the call, which takes references of
    // its own; the atom is kept alive by `Names`.
    let defined = unsafe {
        qjs::JS_DefineProperty(
            ctx.as_raw().as_ptr(),
            object.as_raw(),
            atom,
            qjs::JS_UNDEFINED,
            get.as_raw(),
            set.as_raw(),
            flags as _,
        )
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
        raw.extend(hex.iter().map(|&d| char::from(d)));
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
