//! `context.http`, the measured HTTP client of function steps: the requests JavaScript makes
//! ([`HttpCall`]), queued per VU until the step's settle loop hands them to the runner's
//! [`HttpSender`] (the VU's own connection and cookie jar), and the answers ([`HttpReply`])
//! resolving or rejecting the Promises JavaScript awaits.

use std::future::Future;
use std::pin::Pin;
use std::rc::Rc;

use rquickjs::function::Func;
use rquickjs::{Ctx, Exception, Object, TypedArray, Value};

use crate::processor::Shared;

/// The JavaScript half: the client object each VU's `context.http` is, and the settling of the
/// Promises it returns.
pub(crate) const CLIENT_JS: &str = include_str!("http.js");

/// A request JavaScript made with `context.http`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HttpCall {
    /// Upper-case method.
    pub method: String,
    /// The URL as given (absolute, or relative to the script's target), with `qs` appended.
    pub url: String,
    /// Header names (lower-case) and values, in order.
    pub headers: Vec<(String, String)>,
    /// The body (empty for none).
    pub body: Vec<u8>,
    /// `options.name`: the request name its metrics are counted under.
    pub name: Option<String>,
    /// Follow redirects (`options.followRedirect`, default true).
    pub follow_redirects: bool,
}

/// The response to an [`HttpCall`].
#[derive(Debug, Clone, Default)]
pub struct HttpReply {
    /// Status code.
    pub status: u16,
    /// Headers as received.
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Vec<u8>,
    /// The URL requested.
    pub url: String,
    /// `timings.phases`, in milliseconds (as [`crate::ResponseData::phases`]).
    pub phases: Vec<(&'static str, f64)>,
}

/// What a failed [`HttpCall`] rejects its Promise with.
pub type HttpFailure = String;

/// The future of one sent request.
pub type HttpFuture<'a> = Pin<Box<dyn Future<Output = Result<HttpReply, HttpFailure>> + 'a>>;

/// Sends `context.http` requests for one VU: the runner's side, which times and counts them.
pub trait HttpSender {
    /// Sends `call` on the VU's connection.
    fn send(&mut self, call: HttpCall) -> HttpFuture<'_>;
}

/// A request waiting for its VU's settle loop.
pub(crate) struct PendingHttp {
    /// The VU that made it ([`crate::JsVu`]'s id).
    pub vu: u32,
    /// The Promise to settle (an id in the JavaScript half's table).
    pub id: u32,
    pub call: HttpCall,
}

/// Installs `__hornet.httpSend(vu, id, call)`, which queues a request (`call`: `method`, `url`,
/// `headers` as a flat `[name, value, ...]` list, `body`, `name`, `follow`) for the VU's settle
/// loop.
pub(crate) fn install<'js>(helpers: &Object<'js>, shared: &Rc<Shared>) -> rquickjs::Result<()> {
    let queue = shared.clone();
    helpers.set(
        "httpSend",
        Func::from(move |ctx: Ctx<'js>, vu: u32, id: u32, call: Object<'js>| {
            let body: Value<'js> = call.get("body")?;
            let body = if body.is_undefined() || body.is_null() {
                Vec::new()
            } else if let Some(text) = body.as_string() {
                text.to_string()?.into_bytes()
            } else if let Ok(array) = TypedArray::<u8>::from_value(body) {
                // SAFETY: copied at once; no JavaScript runs while the slice is alive.
                unsafe { array.as_bytes() }.map(<[u8]>::to_vec).unwrap_or_default()
            } else {
                return Err(Exception::throw_type(
                    &ctx,
                    "context.http: `body` must be a string or a Buffer (use `json` for objects)",
                ));
            };
            let headers: Vec<String> = call.get("headers")?;
            let call = HttpCall {
                method: call.get("method")?,
                url: call.get("url")?,
                headers: headers.chunks_exact(2).map(|pair| (pair[0].clone(), pair[1].clone())).collect(),
                body,
                name: call.get("name")?,
                follow_redirects: call.get("follow")?,
            };
            queue.http_queue.borrow_mut().push_back(PendingHttp { vu, id, call });
            Ok(())
        }),
    )
}
