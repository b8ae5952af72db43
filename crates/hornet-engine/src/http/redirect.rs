//! Redirect rules (Artillery's `followRedirect`, as got and browsers apply them): which responses
//! are followed, where they lead, and how the next request differs from the previous one.

use http::header::{
    AUTHORIZATION, CONTENT_ENCODING, CONTENT_LANGUAGE, CONTENT_LENGTH, CONTENT_LOCATION, CONTENT_TYPE,
    COOKIE, HOST, PROXY_AUTHORIZATION, TRANSFER_ENCODING,
};
use http::{HeaderMap, HeaderValue, Method, Uri};
use url::Url;

use super::cookies::to_url;

/// True for the statuses that are followed: 301, 302, 303, 307 and 308.
pub(crate) fn is_redirect(status: u16) -> bool {
    matches!(status, 301 | 302 | 303 | 307 | 308)
}

/// The absolute `http`/`https` URI a `Location` header leads to, resolved against `base` (the URL
/// that answered) when relative; the fragment is dropped. `None` when the location cannot be
/// parsed or has another scheme: the response is then not followed.
pub(crate) fn resolve(base: &Uri, location: &HeaderValue) -> Option<Uri> {
    // Servers may send UTF-8 in Location; the url parser percent-encodes it.
    let text = std::str::from_utf8(location.as_bytes()).ok()?.trim();
    if text.is_empty() {
        return None;
    }
    let mut url: Url = to_url(base)?.join(text).ok()?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return None;
    }
    url.set_fragment(None);
    Uri::try_from(url.as_str()).ok()
}

/// True when a redirect with `status` turns the request into a GET without a body: 303 for every
/// method but HEAD, and 301/302 for POST, as browsers do. 307 and 308 keep method and body.
pub(crate) fn switches_to_get(status: u16, method: &Method) -> bool {
    match status {
        303 => *method != Method::HEAD,
        301 | 302 => *method == Method::POST,
        _ => false,
    }
}

/// Removes the headers that describe a request body, once the body has been dropped.
pub(crate) fn drop_body_headers(headers: &mut HeaderMap) {
    for name in [
        CONTENT_TYPE,
        CONTENT_LENGTH,
        CONTENT_ENCODING,
        CONTENT_LANGUAGE,
        CONTENT_LOCATION,
        TRANSFER_ENCODING,
    ] {
        headers.remove(name);
    }
}

/// True when both URIs have the same scheme, host (case-insensitive) and effective port.
pub(crate) fn same_origin(a: &Uri, b: &Uri) -> bool {
    let https = |u: &Uri| u.scheme_str().is_some_and(|s| s.eq_ignore_ascii_case("https"));
    let port = |u: &Uri| u.port_u16().unwrap_or(if https(u) { 443 } else { 80 });
    a.scheme_str().map(str::to_ascii_lowercase) == b.scheme_str().map(str::to_ascii_lowercase)
        && a.host().map(str::to_ascii_lowercase) == b.host().map(str::to_ascii_lowercase)
        && port(a) == port(b)
}

/// Removes what must not follow a request to another origin: credentials, the request's own
/// `Cookie` header (the jar still adds the new origin's cookies) and an explicit `Host`.
pub(crate) fn drop_origin_headers(headers: &mut HeaderMap) {
    for name in [AUTHORIZATION, PROXY_AUTHORIZATION, COOKIE, HOST] {
        headers.remove(name);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn res(base: &'static str, location: &'static str) -> Option<String> {
        resolve(&Uri::from_static(base), &HeaderValue::from_static(location)).map(|u| u.to_string())
    }

    #[test]
    fn locations_resolve_against_the_current_url() {
        let base = "http://h.example:8080/a/b?q=1";
        assert_eq!(res(base, "/x").as_deref(), Some("http://h.example:8080/x"));
        assert_eq!(res(base, "c").as_deref(), Some("http://h.example:8080/a/c"));
        assert_eq!(res(base, "../up?z=2").as_deref(), Some("http://h.example:8080/up?z=2"));
        assert_eq!(res(base, "?only=query").as_deref(), Some("http://h.example:8080/a/b?only=query"));
        assert_eq!(res(base, "//other.example/p").as_deref(), Some("http://other.example/p"));
        assert_eq!(res(base, "https://s.example/p#frag").as_deref(), Some("https://s.example/p"));
        assert_eq!(res(base, "/with space").as_deref(), Some("http://h.example:8080/with%20space"));
    }

    #[test]
    fn unusable_locations_are_not_followed() {
        let base = "http://h.example/";
        assert_eq!(res(base, ""), None);
        assert_eq!(res(base, "ftp://h.example/file"), None);
        assert_eq!(res(base, "mailto:someone@h.example"), None);
        assert_eq!(res(base, "http://"), None);
    }

    #[test]
    fn method_rewriting() {
        assert!(switches_to_get(303, &Method::POST));
        assert!(switches_to_get(303, &Method::PUT));
        assert!(!switches_to_get(303, &Method::HEAD));
        assert!(switches_to_get(302, &Method::POST));
        assert!(switches_to_get(301, &Method::POST));
        assert!(!switches_to_get(302, &Method::PUT));
        assert!(!switches_to_get(307, &Method::POST));
        assert!(!switches_to_get(308, &Method::POST));
    }

    #[test]
    fn origins() {
        let a = Uri::from_static("http://H.example/x");
        assert!(same_origin(&a, &Uri::from_static("http://h.example:80/y")));
        assert!(!same_origin(&a, &Uri::from_static("https://h.example/x")));
        assert!(!same_origin(&a, &Uri::from_static("http://h.example:81/x")));
        assert!(!same_origin(&a, &Uri::from_static("http://g.example/x")));
    }

    #[test]
    fn header_stripping() {
        let mut h = HeaderMap::new();
        for name in [AUTHORIZATION, COOKIE, HOST, CONTENT_TYPE, CONTENT_LENGTH] {
            h.insert(name, HeaderValue::from_static("v"));
        }
        h.insert("x-keep", HeaderValue::from_static("v"));
        drop_body_headers(&mut h);
        assert!(!h.contains_key(CONTENT_TYPE) && !h.contains_key(CONTENT_LENGTH));
        assert!(h.contains_key(AUTHORIZATION));
        drop_origin_headers(&mut h);
        assert_eq!(h.keys().map(|k| k.as_str()).collect::<Vec<_>>(), ["x-keep"]);
    }
}
