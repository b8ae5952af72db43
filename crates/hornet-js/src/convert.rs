//! JSON values across the boundary: a VU's variables and request fields go into JavaScript as
//! plain objects and come back as `serde_json::Value`, with JSON's rules (functions and
//! `undefined` dropped, non-finite numbers as `null`).

use rquickjs::{Array, Ctx, Object, Value};
use serde_json::{Map, Number, Value as Json};

/// Nesting beyond this becomes `null` on the way back (guards against cycles).
const MAX_DEPTH: usize = 64;

/// `json` as a JavaScript value.
pub fn to_js<'js>(ctx: &Ctx<'js>, json: &Json) -> rquickjs::Result<Value<'js>> {
    Ok(match json {
        Json::Null => Value::new_null(ctx.clone()),
        Json::Bool(b) => Value::new_bool(ctx.clone(), *b),
        Json::Number(n) => match n.as_i64().and_then(|i| i32::try_from(i).ok()) {
            Some(i) => Value::new_int(ctx.clone(), i),
            None => Value::new_float(ctx.clone(), n.as_f64().unwrap_or(f64::NAN)),
        },
        Json::String(s) => rquickjs::String::from_str(ctx.clone(), s)?.into_value(),
        Json::Array(items) => {
            let array = Array::new(ctx.clone())?;
            for (i, item) in items.iter().enumerate() {
                array.set(i, to_js(ctx, item)?)?;
            }
            array.into_value()
        }
        Json::Object(map) => {
            let object = Object::new(ctx.clone())?;
            for (k, v) in map {
                object.set(k.as_str(), to_js(ctx, v)?)?;
            }
            object.into_value()
        }
    })
}

/// `value` as JSON; `None` for what JSON leaves out (`undefined`, functions, symbols).
pub fn from_js(value: &Value<'_>) -> Option<Json> {
    from_js_at(value, 0)
}

fn from_js_at(value: &Value<'_>, depth: usize) -> Option<Json> {
    if depth > MAX_DEPTH {
        return Some(Json::Null);
    }
    if value.is_undefined() || value.is_function() || value.is_symbol() {
        return None;
    }
    if value.is_null() {
        return Some(Json::Null);
    }
    if let Some(b) = value.as_bool() {
        return Some(Json::Bool(b));
    }
    if let Some(i) = value.as_int() {
        return Some(Json::from(i));
    }
    if let Some(f) = value.as_float() {
        return Some(float(f));
    }
    if let Some(s) = value.as_string() {
        return Some(Json::String(s.to_string().unwrap_or_default()));
    }
    if let Some(b) = value.as_big_int() {
        return Some(b.clone().to_i64().map_or(Json::Null, Json::from));
    }
    if let Some(array) = value.as_array() {
        let items = array
            .iter::<Value>()
            .map(|item| item.ok().and_then(|v| from_js_at(&v, depth + 1)).unwrap_or(Json::Null))
            .collect();
        return Some(Json::Array(items));
    }
    let object = value.as_object()?;
    // Dates, Buffers and other objects with a toJSON serialise as JSON.stringify would.
    if let Ok(to_json) = object.get::<_, rquickjs::Function>("toJSON") {
        let converted: rquickjs::Result<Value> = to_json.call((rquickjs::function::This(object.clone()),));
        return converted.ok().and_then(|v| {
            if v.as_object().is_some_and(|o| o == object) { None } else { from_js_at(&v, depth + 1) }
        });
    }
    let mut map = Map::new();
    for entry in object.props::<String, Value>() {
        let Ok((k, v)) = entry else { continue };
        if let Some(json) = from_js_at(&v, depth + 1) {
            map.insert(k, json);
        }
    }
    Some(Json::Object(map))
}

/// A float as JSON: integral values as integers (JavaScript has one number type).
fn float(f: f64) -> Json {
    if f.is_finite() && f.fract() == 0.0 && f.abs() < 9.007_199_254_740_992e15 {
        Json::from(f as i64)
    } else {
        Number::from_f64(f).map_or(Json::Null, Json::Number)
    }
}
