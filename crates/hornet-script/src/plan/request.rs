//! A request step: what is sent (URL, headers, body, form parts), the processor functions it
//! names, and what is read from its response (captures) and checked on it (expectations).

use std::path::PathBuf;

use super::EndpointId;
use crate::template::{JsonTemplate, Template};

/// Processor functions a request names itself (`beforeRequest`, `afterResponse`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RequestHooks {
    /// `beforeRequest`: `(requestParams, context, events, next)`, may change the request.
    pub before_request: Vec<String>,
    /// `afterResponse`: `(requestParams, response, context, events, next)`.
    pub after_response: Vec<String>,
    /// An `ifTrue` that is a bare name, in a script with a processor: as in Artillery, when the
    /// processor exports a function by that name, `name(context.vars)` decides whether the
    /// request is sent; otherwise the name is a variable of the expression in
    /// [`RequestStep::condition`].
    pub if_true: Option<String>,
}

impl RequestHooks {
    /// True when the request names no function.
    pub fn is_empty(&self) -> bool {
        self.before_request.is_empty() && self.after_response.is_empty() && self.if_true.is_none()
    }
}

/// An HTTP request step.
#[derive(Debug, Clone)]
pub struct RequestStep {
    /// The HTTP method (the step's action key).
    pub method: http::Method,
    /// Absolute, or relative to the target.
    pub url: Template,
    /// The metric name: the step's `name`, or the method and URL template (`GET /items/{{ id }}`).
    pub endpoint: EndpointId,
    /// `headers`, in file order; they replace default headers of the same name.
    pub headers: Vec<(http::HeaderName, Template)>,
    /// `qs`: query parameters appended to the URL, in file order.
    pub qs: Vec<(String, Template)>,
    /// `json`, `body`, `form` or `formData`, if any.
    pub body: Option<Body>,
    /// `auth: {user, pass}`: basic authentication.
    pub auth: Option<(Template, Template)>,
    /// `cookie`: cookies added to this request.
    pub cookies: Vec<(String, Template)>,
    /// `followRedirect` (default true; at most 10 hops).
    pub follow_redirect: bool,
    /// `gzip` (default true): ask for and decode gzip/deflate/br bodies.
    pub decompress: bool,
    /// `probability` in percent: the request is sent with this chance, else skipped.
    pub probability: Option<f64>,
    /// `ifTrue`: the request is sent only when the expression is true.
    pub condition: Option<crate::expr::Expr>,
    /// `capture` (and `match`), in order.
    pub captures: Vec<Capture>,
    /// `expect`, in order.
    pub expects: Vec<Expect>,
    /// Processor functions called around this request.
    pub hooks: RequestHooks,
}

impl RequestStep {
    /// True when a later step may need the response body (captures or body expectations).
    pub fn needs_body(&self) -> bool {
        self.captures.iter().any(|c| !matches!(c.source, CaptureSource::Header(_)))
            || self.expects.iter().any(|e| {
                matches!(e, Expect::HasProperty(_) | Expect::NotHasProperty(_) | Expect::MatchesRegexp(_))
            })
    }

    /// True when the response's headers may be read after it arrives (any capture or expectation;
    /// the engine keeps the ones it acts on itself: redirects, content coding, cookies).
    pub fn needs_headers(&self) -> bool {
        !self.captures.is_empty() || !self.expects.is_empty()
    }
}

/// One capture (or Artillery `match`).
#[derive(Debug, Clone)]
pub struct Capture {
    /// Where the value comes from.
    pub source: CaptureSource,
    /// `as`: the variable to set. `None` for a `match` without `as`.
    pub name: Option<String>,
    /// `strict` (default: the plan's `strict_capture`): a failed capture fails the VU.
    pub strict: bool,
    /// Which match to take when there are several.
    pub index: CaptureIndex,
    /// For `match`: the value the capture must equal.
    pub equals: Option<Template>,
}

/// Where a capture reads from.
#[derive(Debug, Clone)]
pub enum CaptureSource {
    /// `json`: an RFC 9535 JSONPath over the JSON body.
    Json {
        /// The compiled path.
        path: serde_json_path::JsonPath,
        /// The path as written.
        source: String,
    },
    /// `regexp` (with `flags`) over the body; `group` picks a capture group.
    Regexp {
        /// The compiled expression.
        regex: regex::Regex,
        /// `group`: a number or a name; default the whole match (or group 1 if there is one).
        group: Option<RegexGroup>,
    },
    /// `header`: a response header's value.
    Header(http::HeaderName),
    /// `selector`: a CSS selector over an HTML body; `attr` reads an attribute instead of the text.
    Selector {
        /// The compiled selector.
        selector: scraper::Selector,
        /// The selector as written.
        source: String,
        /// `attr`.
        attr: Option<String>,
    },
}

/// A regex capture group.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RegexGroup {
    /// By number (0 is the whole match).
    Index(usize),
    /// By name.
    Name(String),
}

/// Which of several matches a capture takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CaptureIndex {
    /// The first (default).
    First,
    /// The last.
    Last,
    /// A random one.
    Random,
    /// The n-th, 0-based.
    Nth(usize),
}

/// One `expect` check.
#[derive(Debug, Clone)]
pub enum Expect {
    /// `statusCode`: one of these.
    StatusCode(Vec<u16>),
    /// `notStatusCode`: none of these.
    NotStatusCode(Vec<u16>),
    /// `statusCode` with a template among its values (`"{{ $loopElement.code }}"`): one of these
    /// once rendered, each of which must render as a status code.
    StatusCodeRendered(Vec<Template>),
    /// `notStatusCode` with a template among its values: none of these once rendered.
    NotStatusCodeRendered(Vec<Template>),
    /// `contentType`: the content type contains this (`json` matches `application/json`).
    ContentType(Template),
    /// `hasProperty`: the JSON body has this dotted path.
    HasProperty(String),
    /// `notHasProperty`.
    NotHasProperty(String),
    /// `hasProperty` written as a template: the path is rendered for each response.
    HasPropertyRendered(Template),
    /// `notHasProperty` written as a template.
    NotHasPropertyRendered(Template),
    /// `equals`: all rendered values are equal.
    Equals(Vec<Template>),
    /// `hasHeader`.
    HasHeader(http::HeaderName),
    /// `headerEquals: [name, value]`.
    HeaderEquals(http::HeaderName, Template),
    /// `matchesRegexp`: the body matches.
    MatchesRegexp(regex::Regex),
}

impl Expect {
    /// Every kind's name as written in scripts, in the order of the variants: the list the metrics
    /// count them by ([`hornet_metrics::EXPECT_KINDS`]), defined once there.
    pub const KINDS: [&'static str; 9] = hornet_metrics::EXPECT_KINDS;

    /// The kind's name as written in scripts (`statusCode`), for metrics and messages.
    pub fn kind(&self) -> &'static str {
        match self {
            Expect::StatusCode(_) | Expect::StatusCodeRendered(_) => "statusCode",
            Expect::NotStatusCode(_) | Expect::NotStatusCodeRendered(_) => "notStatusCode",
            Expect::ContentType(_) => "contentType",
            Expect::HasProperty(_) | Expect::HasPropertyRendered(_) => "hasProperty",
            Expect::NotHasProperty(_) | Expect::NotHasPropertyRendered(_) => "notHasProperty",
            Expect::Equals(_) => "equals",
            Expect::HasHeader(_) => "hasHeader",
            Expect::HeaderEquals(..) => "headerEquals",
            Expect::MatchesRegexp(_) => "matchesRegexp",
        }
    }
}

/// A request body.
#[derive(Debug, Clone)]
pub enum Body {
    /// `json:`; sent with `content-type: application/json` unless a header says otherwise.
    Json(JsonTemplate),
    /// `body:`; sent as is.
    Raw(Template),
    /// `form:`; sent as `application/x-www-form-urlencoded`.
    Form(Vec<(String, Template)>),
    /// `formData:`; sent as `multipart/form-data`.
    Multipart(Vec<(String, FormPart)>),
}

/// One field of a multipart body.
#[derive(Debug, Clone)]
pub enum FormPart {
    /// A plain value.
    Value(Template),
    /// `fromFile`: a file's content (path resolved relative to the script), with an optional type.
    File {
        /// The file.
        path: PathBuf,
        /// `contentType`, default `application/octet-stream`.
        content_type: Option<String>,
        /// The file's bytes when they came with a distributed worker's plan: sent instead of
        /// reading `path` (which is then the controller's name for it).
        shipped: Option<std::sync::Arc<[u8]>>,
    },
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_expect_kind_is_listed_in_variant_order() {
        let t = || crate::template::Template::literal("x");
        let h = || http::HeaderName::from_static("x");
        let re = || regex::Regex::new("x").unwrap();
        let all = [
            Expect::StatusCode(vec![]),
            Expect::NotStatusCode(vec![]),
            Expect::ContentType(t()),
            Expect::HasProperty(String::new()),
            Expect::NotHasProperty(String::new()),
            Expect::Equals(vec![]),
            Expect::HasHeader(h()),
            Expect::HeaderEquals(h(), t()),
            Expect::MatchesRegexp(re()),
        ];
        let kinds: Vec<&str> = all.iter().map(Expect::kind).collect();
        assert_eq!(kinds, Expect::KINDS);
    }
}
