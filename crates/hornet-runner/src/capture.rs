//! Captures (`capture:` and Artillery's `match:`): reading values out of a response.
//!
//! A [`ResponseView`] wraps one response for all captures and expectations of a request; it parses
//! the body lazily, at most once as JSON and at most once as HTML, whatever the number of captures.
//! [`capture`] runs one [`Capture`] against it. Nothing in the response can make these functions
//! panic: malformed bodies, non-UTF-8 text and odd header values all become [`CaptureError`]s or
//! lossy text.

use std::borrow::Cow;
use std::cell::OnceCell;
use std::fmt;

use hornet_script::plan::{Capture, CaptureIndex, CaptureSource, RegexGroup};
use hornet_script::template::Vars;
use serde_json::Value;

/// Response text quoted in messages is cut to this many characters.
const EXCERPT_CHARS: usize = 200;

/// A response as captures and expectations see it; the body is parsed lazily and at most once
/// (JSON, HTML).
///
/// The view is meant to be built after the response is read and dropped before the next await:
/// the cached HTML document is not `Send`.
pub struct ResponseView<'a> {
    status: u16,
    headers: &'a http::HeaderMap,
    body: &'a [u8],
    json: OnceCell<Option<Value>>,
    html: OnceCell<scraper::Html>,
    /// How many times the body was parsed as JSON and as HTML (tests check the caching).
    #[cfg(test)]
    pub(crate) parses: std::cell::Cell<(u32, u32)>,
}

impl fmt::Debug for ResponseView<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("ResponseView")
            .field("status", &self.status)
            .field("headers", &self.headers)
            .field("body_len", &self.body.len())
            .field("json_parsed", &self.json.get().is_some())
            .field("html_parsed", &self.html.get().is_some())
            .finish()
    }
}

impl<'a> ResponseView<'a> {
    /// A view of a response with this status, these headers and this (already decompressed) body.
    pub fn new(status: u16, headers: &'a http::HeaderMap, body: &'a [u8]) -> Self {
        ResponseView {
            status,
            headers,
            body,
            json: OnceCell::new(),
            html: OnceCell::new(),
            #[cfg(test)]
            parses: std::cell::Cell::new((0, 0)),
        }
    }

    /// The status code.
    pub fn status(&self) -> u16 {
        self.status
    }

    /// The response headers.
    pub fn headers(&self) -> &'a http::HeaderMap {
        self.headers
    }

    /// The body as text; invalid UTF-8 is replaced by U+FFFD (no copy when the body is valid).
    pub fn text(&self) -> Cow<'a, str> {
        String::from_utf8_lossy(self.body)
    }

    /// The body parsed as JSON (a leading UTF-8 BOM is ignored), or `None` when it is not JSON.
    /// Parsed on the first call only.
    pub fn json(&self) -> Option<&Value> {
        self.json
            .get_or_init(|| {
                #[cfg(test)]
                self.parses.set((self.parses.get().0 + 1, self.parses.get().1));
                let body = self.body.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(self.body);
                serde_json::from_slice(body).ok()
            })
            .as_ref()
    }

    /// The body parsed as an HTML document (HTML parsing never fails). Parsed on the first call only.
    pub fn html(&self) -> &scraper::Html {
        self.html.get_or_init(|| {
            #[cfg(test)]
            self.parses.set((self.parses.get().0, self.parses.get().1 + 1));
            scraper::Html::parse_document(&self.text())
        })
    }

    /// All values of header `name`, joined by `", "` as HTTP allows; `None` when it is absent.
    /// Bytes that are not UTF-8 are replaced by U+FFFD.
    pub fn header(&self, name: &http::HeaderName) -> Option<String> {
        let mut values = self.headers.get_all(name).iter();
        let first = values.next()?;
        let mut out = String::from_utf8_lossy(first.as_bytes()).into_owned();
        for v in values {
            out.push_str(", ");
            out.push_str(&String::from_utf8_lossy(v.as_bytes()));
        }
        Some(out)
    }
}

/// Why a capture (or `match`) failed. Whether that fails the virtual user is up to the caller
/// (see [`Capture::strict`]).
#[derive(Debug, Clone, PartialEq)]
pub struct CaptureError {
    /// What went wrong, e.g. ``capture `$.token` (json) found nothing``.
    pub message: String,
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for CaptureError {}

/// Runs one capture against a response and returns the captured value.
///
/// - `json`: every value the JSONPath selects, each keeping its JSON type.
/// - `regexp`: every match over the body (as lossy UTF-8); the value is group `group` (by number
///   or name), by default group 1 if the expression has groups and the whole match otherwise.
///   Matches in which the group did not take part are skipped. The value is a string.
/// - `header`: every value of the header (names are case-insensitive); a string.
/// - `selector`: every element the CSS selector matches in the body parsed as HTML; the value is
///   the element's trimmed text, or its `attr` attribute (an error if the picked element lacks it).
///
/// When there are several candidates, [`Capture::index`] picks one: the first, the last, a random
/// one (`random() % count`), or the n-th (0-based; out of range is an error). No candidate at all
/// is an error. With `equals` (Artillery's `match`), the value as text (strings unquoted, `null`
/// empty, anything else as JSON, like templates render it) must equal the rendered template.
///
/// `vars` renders `equals`; `random` is called only for [`CaptureIndex::Random`].
pub fn capture(
    c: &Capture,
    resp: &ResponseView<'_>,
    vars: &(impl Vars + ?Sized),
    random: &mut dyn FnMut() -> u64,
) -> Result<Value, CaptureError> {
    let value = extract(c, resp, random)?;
    if let Some(expected) = &c.equals {
        let expected = expected.render(vars);
        let got = value_text(&value);
        if *got != *expected {
            let what = match &c.name {
                Some(name) => format!("`{name}`"),
                None => describe(&c.source),
            };
            return Err(CaptureError {
                message: format!(
                    "capture {what} did not match: expected {:?}, got {:?}",
                    excerpt(&expected),
                    excerpt(&got)
                ),
            });
        }
    }
    Ok(value)
}

/// Finds the value without checking `equals`.
fn extract(
    c: &Capture,
    resp: &ResponseView<'_>,
    random: &mut dyn FnMut() -> u64,
) -> Result<Value, CaptureError> {
    let fail = |what: String| CaptureError { message: format!("capture {} {what}", describe(&c.source)) };
    let picked = |p: Result<Value, Miss>| p.map_err(|m| fail(m.to_string()));
    match &c.source {
        CaptureSource::Json { path, .. } => {
            let Some(json) = resp.json() else {
                return Err(fail("failed: response body is not JSON".to_string()));
            };
            let nodes = path.query(json).all();
            picked(pick(nodes.into_iter(), c.index, random).cloned())
        }
        CaptureSource::Regexp { regex, group } => {
            let group = match group {
                None => usize::from(regex.captures_len() > 1),
                Some(RegexGroup::Index(i)) if *i < regex.captures_len() => *i,
                Some(RegexGroup::Index(i)) => return Err(fail(format!("has no group {i}"))),
                Some(RegexGroup::Name(name)) => {
                    match regex.capture_names().position(|n| n == Some(name.as_str())) {
                        Some(i) => i,
                        None => return Err(fail(format!("has no group named `{name}`"))),
                    }
                }
            };
            let text = resp.text();
            let matches = regex.captures_iter(&text).filter_map(|caps| caps.get(group));
            picked(pick(matches, c.index, random).map(|m| Value::String(m.as_str().to_string())))
        }
        CaptureSource::Header(name) => {
            let values = resp.headers().get_all(name).iter();
            picked(
                pick(values, c.index, random)
                    .map(|v| Value::String(String::from_utf8_lossy(v.as_bytes()).into_owned())),
            )
        }
        CaptureSource::Selector { selector, attr, .. } => {
            let element =
                pick(resp.html().select(selector), c.index, random).map_err(|m| fail(m.to_string()))?;
            match attr {
                None => Ok(Value::String(element.text().collect::<String>().trim().to_string())),
                Some(attr) => match element.value().attr(attr) {
                    Some(v) => Ok(Value::String(v.to_string())),
                    None => Err(fail(format!("failed: the element has no `{attr}` attribute"))),
                },
            }
        }
    }
}

/// Why [`pick`] found no value.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Miss {
    /// There were no candidates.
    Nothing,
    /// `Nth(index)` with only `found` candidates.
    OutOfRange { index: usize, found: usize },
}

impl fmt::Display for Miss {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Miss::Nothing => f.write_str("found nothing"),
            Miss::OutOfRange { index, found } => {
                let s = if *found == 1 { "" } else { "s" };
                write!(f, "found {found} value{s}, none at index {index}")
            }
        }
    }
}

/// Picks one candidate by `index`, consuming no more of `items` than needed.
fn pick<T>(
    mut items: impl Iterator<Item = T>,
    index: CaptureIndex,
    random: &mut dyn FnMut() -> u64,
) -> Result<T, Miss> {
    match index {
        CaptureIndex::First => items.next().ok_or(Miss::Nothing),
        CaptureIndex::Last => items.last().ok_or(Miss::Nothing),
        CaptureIndex::Random => {
            let mut all: Vec<T> = items.collect();
            if all.is_empty() {
                return Err(Miss::Nothing);
            }
            // The modulo is < len, so it fits in usize.
            let i = (random() % all.len() as u64) as usize;
            Ok(all.swap_remove(i))
        }
        CaptureIndex::Nth(n) => {
            let mut found = 0;
            for item in items {
                if found == n {
                    return Ok(item);
                }
                found += 1;
            }
            Err(if found == 0 { Miss::Nothing } else { Miss::OutOfRange { index: n, found } })
        }
    }
}

/// The capture source for messages: ``` `$.token` (json) ```.
fn describe(source: &CaptureSource) -> String {
    match source {
        CaptureSource::Json { source, .. } => format!("`{source}` (json)"),
        CaptureSource::Regexp { regex, .. } => format!("`{}` (regexp)", regex.as_str()),
        CaptureSource::Header(name) => format!("`{name}` (header)"),
        CaptureSource::Selector { source, .. } => format!("`{source}` (selector)"),
    }
}

/// A value as text, the way templates render it: strings unquoted, `null` empty, others as JSON.
pub(crate) fn value_text(v: &Value) -> Cow<'_, str> {
    match v {
        Value::String(s) => Cow::Borrowed(s),
        Value::Null => Cow::Borrowed(""),
        other => Cow::Owned(other.to_string()),
    }
}

/// `s`, cut to [`EXCERPT_CHARS`] characters (with `…`) so that response content cannot flood
/// messages.
pub(crate) fn excerpt(s: &str) -> Cow<'_, str> {
    match s.char_indices().nth(EXCERPT_CHARS) {
        None => Cow::Borrowed(s),
        Some((cut, _)) => Cow::Owned(format!("{}…", &s[..cut])),
    }
}

#[cfg(test)]
mod tests;
