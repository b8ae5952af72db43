//! `requestParams` and the response as hooks see them, and reading a hook's changes back.

use rquickjs::{Ctx, Function, Object, TypedArray, Value};
use serde_json::Value as Json;

use super::{RequestBody, RequestParams, ResponseData};
use crate::convert::{from_js, to_js};

pub(super) fn request_to_js<'js>(ctx: &Ctx<'js>, request: &RequestParams) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    for (k, v) in &request.extra {
        object.set(k.as_str(), to_js(ctx, v)?)?;
    }
    object.set("url", request.url.as_str())?;
    object.set("uri", request.url.as_str())?;
    object.set("method", request.method.as_str())?;
    let headers = Object::new(ctx.clone())?;
    for (k, v) in &request.headers {
        headers.set(k.as_str(), v.as_str())?;
    }
    object.set("headers", headers)?;
    if let Some(json) = &request.json {
        object.set("json", ctx.json_parse(json.as_str())?)?;
    }
    match &request.body {
        Some(RequestBody::Text(text)) => object.set("body", text.as_str())?,
        Some(RequestBody::Bytes(bytes)) => {
            let buffer: Function = ctx.eval("(u8) => Buffer.from(u8)")?;
            let array = TypedArray::<u8>::new(ctx.clone(), bytes.clone())?;
            object.set("body", buffer.call::<_, Value>((array,))?)?
        }
        None => {}
    }
    if let Some(name) = &request.name {
        object.set("name", name.as_str())?;
    }
    Ok(object)
}

/// Reads the hook's changes back into `request`.
pub(super) fn read_request(object: &Object<'_>, request: &mut RequestParams) {
    if let Ok(url) = object.get::<_, String>("url") {
        let uri: Option<String> = object.get("uri").ok();
        // `uri` is the older name; a hook that changed only it wins.
        request.url = match uri {
            Some(uri) if uri != request.url && url == request.url => uri,
            _ => url,
        };
    }
    if let Ok(method) = object.get::<_, String>("method") {
        request.method = method.to_ascii_uppercase();
    }
    if let Ok(headers) = object.get::<_, Object>("headers") {
        request.headers = headers
            .props::<String, Value>()
            .filter_map(|p| p.ok())
            .filter_map(|(k, v)| {
                let text = match from_js(&v)? {
                    Json::String(s) => s,
                    Json::Null => return None,
                    other => other.to_string(),
                };
                Some((k, text))
            })
            .collect();
    }
    request.json = object
        .get::<_, Value>("json")
        .ok()
        .filter(|v| !v.is_undefined())
        .and_then(|v| v.ctx().clone().json_stringify(v).ok().flatten())
        .and_then(|s| s.to_string().ok());
    request.body = object.get::<_, Value>("body").ok().and_then(|v| {
        if let Ok(array) = TypedArray::<u8>::from_value(v.clone()) {
            // SAFETY: copied at once; no JavaScript runs while the slice is alive.
            return Some(RequestBody::Bytes(
                unsafe { array.as_bytes() }.map(<[u8]>::to_vec).unwrap_or_default(),
            ));
        }
        match from_js(&v)? {
            Json::String(s) => Some(RequestBody::Text(s)),
            Json::Null => None,
            other => Some(RequestBody::Text(other.to_string())),
        }
    });
    request.name = object.get::<_, Option<String>>("name").ok().flatten();
    let known = ["url", "uri", "method", "headers", "json", "body", "name"];
    request.extra = object
        .props::<String, Value>()
        .filter_map(|p| p.ok())
        .filter(|(k, _)| !known.contains(&k.as_str()))
        .filter_map(|(k, v)| Some((k, from_js(&v)?)))
        .collect();
}

pub(super) fn response_to_js<'js>(
    ctx: &Ctx<'js>,
    response: ResponseData<'_>,
) -> rquickjs::Result<Object<'js>> {
    let object = Object::new(ctx.clone())?;
    object.set("statusCode", response.status)?;
    object.set("url", response.url)?;
    let headers = Object::new(ctx.clone())?;
    for name in response.headers.keys() {
        let values: Vec<String> = response
            .headers
            .get_all(name)
            .iter()
            .map(|v| String::from_utf8_lossy(v.as_bytes()).into_owned())
            .collect();
        if name == http::header::SET_COOKIE {
            headers.set(name.as_str(), values)?;
        } else {
            headers.set(name.as_str(), values.join(", "))?;
        }
    }
    object.set("headers", headers)?;
    object.set("body", String::from_utf8_lossy(response.body).into_owned())?;
    let timings = Object::new(ctx.clone())?;
    let phases = Object::new(ctx.clone())?;
    for (k, v) in response.phases {
        phases.set(*k, *v)?;
    }
    timings.set("phases", phases)?;
    object.set("timings", timings)?;
    Ok(object)
}
