//! The per-VU cookie jar: `Set-Cookie` headers of every response are stored, and every request
//! gets a `Cookie` header with the cookies that match its URL (Artillery gives each VU a
//! tough-cookie jar; `cookie_store` applies the same RFC 6265 rules: domain and path matching,
//! `Max-Age`/`Expires`, `Secure`, host-only cookies).
//!
//! The store works on `url::Url`, so a request URI is converted only when the jar has something
//! to send or a response has something to store: VUs that never see a cookie pay nothing. The jar
//! keeps the `Url` of the last origin it converted and only swaps in the path and query of the
//! next URI to the same origin (a VU's usual case), instead of printing and parsing it whole.

use cookie_store::{CookieStore, RawCookie};
use http::header::{COOKIE, SET_COOKIE};
use http::uri::{Authority, Scheme};
use http::{HeaderMap, HeaderValue, Uri};
use url::Url;

/// A cookie jar for one VU.
#[derive(Debug, Default, Clone)]
pub(crate) struct Jar {
    store: CookieStore,
    /// False until a cookie has been stored, to skip all work for VUs that have none.
    used: bool,
    /// The last URI converted to a `Url`, by origin: see [`LastUrl`].
    last: Option<LastUrl>,
}

/// The `Url` of the last URI the jar converted, with that URI's scheme and authority: a URI with
/// the same ones converts by setting the path and query of this `Url`, which gives what a parse
/// of the whole URI gives (the host, already parsed, is what costs).
#[derive(Debug, Clone)]
struct LastUrl {
    scheme: Scheme,
    authority: Authority,
    url: Url,
}

impl LastUrl {
    /// The `Url` of `uri`, reusing `last` when the origin is the same; `None` when `uri` is not an
    /// absolute URL.
    fn of<'a>(last: &'a mut Option<LastUrl>, uri: &Uri) -> Option<&'a Url> {
        let (Some(scheme), Some(authority)) = (uri.scheme(), uri.authority()) else {
            return None;
        };
        match last {
            Some(l) if l.scheme == *scheme && l.authority.as_str() == authority.as_str() => {
                if l.url.path() != uri.path() {
                    l.url.set_path(uri.path());
                }
                if l.url.query() != uri.query() {
                    l.url.set_query(uri.query());
                }
            }
            _ => {
                let url = to_url(uri)?;
                *last = Some(LastUrl { scheme: scheme.clone(), authority: authority.clone(), url });
            }
        }
        last.as_ref().map(|l| &l.url)
    }
}

/// The `url::Url` of an absolute URI, or `None` when it does not parse as one.
pub(crate) fn to_url(uri: &Uri) -> Option<Url> {
    Url::parse(&uri.to_string()).ok()
}

impl Jar {
    /// Stores the cookies of a response received from `uri`. Malformed `Set-Cookie` values, and
    /// cookies the RFC 6265 storage model rejects (e.g. a `Domain` that does not match the host),
    /// are ignored, as browsers do.
    pub(crate) fn store_response(&mut self, uri: &Uri, headers: &HeaderMap) {
        let mut values = headers.get_all(SET_COOKIE).iter().peekable();
        if values.peek().is_none() {
            return;
        }
        let Some(url) = LastUrl::of(&mut self.last, uri) else { return };
        for value in values {
            let Ok(text) = std::str::from_utf8(value.as_bytes()) else { continue };
            let Ok(cookie) = RawCookie::parse(text) else { continue };
            if self.store.insert_raw(&cookie, url).is_ok() {
                self.used = true;
            }
        }
    }

    /// Stores `name=value` as if `uri` had set it without attributes: a host-only session cookie
    /// whose path is the default path of `uri` (RFC 6265 §5.1.4: the URI path up to its last `/`).
    /// Returns false, storing nothing, when the URI is not absolute, the name is empty or contains
    /// `=`, `;`, whitespace or control characters, or the value contains `;` or control
    /// characters (they could not be sent back in a `Cookie` header).
    pub(crate) fn set(&mut self, uri: &Uri, name: &str, value: &str) -> bool {
        let bad_name = name.is_empty()
            || name.chars().any(|c| c == '=' || c == ';' || c.is_whitespace() || c.is_control());
        let bad_value = value.chars().any(|c| c == ';' || c.is_control());
        if bad_name || bad_value {
            return false;
        }
        let Some(url) = LastUrl::of(&mut self.last, uri) else { return false };
        let cookie = RawCookie::new(name.to_owned(), value.to_owned());
        let stored = self.store.insert_raw(&cookie, url).is_ok();
        self.used |= stored;
        stored
    }

    /// The unexpired cookies to send to `url`, longest path first (RFC 6265 §5.4).
    fn matching<'a>(store: &'a CookieStore, url: &Url) -> Vec<(&'a str, &'a str)> {
        let mut cookies = store.matches(url);
        cookies.sort_by_key(|c| std::cmp::Reverse(c.path.len()));
        cookies.into_iter().map(|c| c.name_value()).collect()
    }

    /// False until a cookie has been stored: [`Jar::apply`] then changes no request.
    pub(crate) fn used(&self) -> bool {
        self.used
    }

    /// The `(name, value)` pairs that a request to `uri` would send.
    pub(crate) fn pairs(&self, uri: &Uri) -> Vec<(String, String)> {
        if !self.used {
            return Vec::new();
        }
        let Some(url) = to_url(uri) else { return Vec::new() };
        Self::matching(&self.store, &url).into_iter().map(|(n, v)| (n.to_owned(), v.to_owned())).collect()
    }

    /// Adds the cookies that match `uri` to `headers`. A `Cookie` header already there is kept
    /// first, and everything is merged into one header (`a=1; b=2`), as HTTP/1.1 requires.
    pub(crate) fn apply(&mut self, uri: &Uri, headers: &mut HeaderMap) {
        if !self.used {
            return;
        }
        let Some(url) = LastUrl::of(&mut self.last, uri) else { return };
        let pairs = Self::matching(&self.store, url);
        if pairs.is_empty() {
            return;
        }
        let mut line = Vec::with_capacity(64);
        for existing in headers.get_all(COOKIE) {
            if !existing.is_empty() {
                if !line.is_empty() {
                    line.extend_from_slice(b"; ");
                }
                line.extend_from_slice(existing.as_bytes());
            }
        }
        for (name, value) in pairs {
            if !line.is_empty() {
                line.extend_from_slice(b"; ");
            }
            line.extend_from_slice(name.as_bytes());
            line.push(b'=');
            line.extend_from_slice(value.as_bytes());
        }
        // Stored cookies came from header values, so this only fails on bytes no server sent.
        if let Ok(value) = HeaderValue::from_bytes(&line) {
            headers.insert(COOKIE, value);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(s: &'static str) -> Uri {
        Uri::from_static(s)
    }

    fn set_cookies(values: &[&'static str]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(SET_COOKIE, HeaderValue::from_static(v));
        }
        h
    }

    fn names(jar: &Jar, u: &'static str) -> Vec<String> {
        let mut n: Vec<String> = jar.pairs(&uri(u)).into_iter().map(|(n, _)| n).collect();
        n.sort();
        n
    }

    #[test]
    fn secure_cookies_go_only_to_secure_urls() {
        let mut jar = Jar::default();
        jar.store_response(&uri("https://example.com/"), &set_cookies(&["s=1; Secure", "p=2"]));
        assert_eq!(names(&jar, "https://example.com/x"), ["p", "s"]);
        assert_eq!(names(&jar, "http://example.com/x"), ["p"]);
    }

    #[test]
    fn domain_attribute_covers_subdomains_and_host_only_does_not() {
        let mut jar = Jar::default();
        let h = set_cookies(&["d=1; Domain=example.com", "h=2", "bad=3; Domain=other.org"]);
        jar.store_response(&uri("http://a.example.com/"), &h);
        assert_eq!(names(&jar, "http://a.example.com/"), ["d", "h"]);
        assert_eq!(names(&jar, "http://b.example.com/"), ["d"]);
        assert!(names(&jar, "http://other.org/").is_empty(), "a foreign Domain is rejected");
    }

    #[test]
    fn default_path_is_the_directory_of_the_setting_url() {
        let mut jar = Jar::default();
        assert!(jar.set(&uri("http://h.example/app/login"), "sid", "42"));
        assert_eq!(names(&jar, "http://h.example/app/home"), ["sid"]);
        assert!(names(&jar, "http://h.example/other").is_empty());
    }

    #[test]
    fn merges_with_an_existing_cookie_header_longest_path_first() {
        let mut jar = Jar::default();
        jar.store_response(&uri("http://h.example/"), &set_cookies(&["root=r; Path=/", "deep=d; Path=/a/b"]));
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("mine=m"));
        jar.apply(&uri("http://h.example/a/b/c"), &mut headers);
        assert_eq!(headers.get_all(COOKIE).iter().count(), 1);
        assert_eq!(headers.get(COOKIE).map(|v| v.as_bytes()), Some(&b"mine=m; deep=d; root=r"[..]));
        // Nothing matches: the request's own header is left alone.
        let mut headers = HeaderMap::new();
        headers.insert(COOKIE, HeaderValue::from_static("mine=m"));
        jar.apply(&uri("http://elsewhere.example/"), &mut headers);
        assert_eq!(headers.get(COOKIE).map(|v| v.as_bytes()), Some(&b"mine=m"[..]));
    }

    #[test]
    fn expired_and_replaced_cookies() {
        let mut jar = Jar::default();
        let u = uri("http://h.example/");
        jar.store_response(&u, &set_cookies(&["a=1", "b=2"]));
        jar.store_response(&u, &set_cookies(&["a=3", "b=; Max-Age=0"]));
        assert_eq!(jar.pairs(&u), [("a".to_owned(), "3".to_owned())]);
        jar.store_response(&u, &set_cookies(&["a=x; Expires=Thu, 01 Jan 1970 00:00:00 GMT"]));
        assert!(jar.pairs(&u).is_empty());
    }

    #[test]
    fn invalid_input_is_ignored() {
        let mut jar = Jar::default();
        let u = uri("http://h.example/");
        let mut h = HeaderMap::new();
        h.append(SET_COOKIE, HeaderValue::from_static("no-equals-sign"));
        h.append(SET_COOKIE, HeaderValue::from_bytes(b"bin=\xff\xfe").expect("obs-text"));
        h.append(SET_COOKIE, HeaderValue::from_static("ok=1"));
        jar.store_response(&u, &h);
        assert_eq!(names(&jar, "http://h.example/"), ["ok"]);
        assert!(!jar.set(&u, "", "v"));
        assert!(!jar.set(&u, "a=b", "v"));
        assert!(!jar.set(&u, "a", "v; Path=/x"));
        assert!(!jar.set(&u, "a", "line\nbreak"));
        assert!(!jar.set(&Uri::from_static("/relative"), "a", "v"));
        assert!(jar.set(&u, "json", "{\"k\":1}"));
    }

    #[test]
    fn a_url_reused_for_the_same_origin_is_the_url_parsed_whole() {
        let uris = [
            "http://h.example:8080/a/b?x=1",
            "http://h.example:8080/items/3",
            "http://h.example:8080/a/../c/./d?",
            "http://h.example:8080/sp%20ace/%C3%A9?q=a%20b&r",
            "http://h.example:8080/",
            "http://H.EXAMPLE:8080/upper?y",
            "https://h.example:8080/secure",
            "http://other.example/x?z=2",
            "http://user:pw@other.example/y",
            "http://other.example/y",
            "http://[::1]:9/v6?q",
            "http://127.0.0.1/a",
            "http://127.0.0.1/a",
        ];
        let mut last = None;
        for text in uris {
            let uri: Uri = text.parse().expect("a URI");
            let reused = LastUrl::of(&mut last, &uri).cloned();
            assert_eq!(reused, to_url(&uri), "{text}");
        }
        assert!(LastUrl::of(&mut last, &uri("/relative")).is_none());
    }

    #[test]
    fn cookies_follow_the_path_of_each_request_to_one_origin() {
        let mut jar = Jar::default();
        jar.store_response(&uri("http://h.example/app/login"), &set_cookies(&["a=1", "r=2; Path=/"]));
        let sent = |jar: &mut Jar, u: &'static str| {
            let mut headers = HeaderMap::new();
            jar.apply(&uri(u), &mut headers);
            headers.get(COOKIE).map(|v| v.to_str().unwrap_or_default().to_owned())
        };
        assert_eq!(sent(&mut jar, "http://h.example/app/x?q=1").as_deref(), Some("a=1; r=2"));
        assert_eq!(sent(&mut jar, "http://h.example/other").as_deref(), Some("r=2"));
        assert_eq!(sent(&mut jar, "http://h.example/app/y").as_deref(), Some("a=1; r=2"));
        assert_eq!(sent(&mut jar, "http://elsewhere.example/app/y"), None);
        assert_eq!(sent(&mut jar, "http://h.example/app/").as_deref(), Some("a=1; r=2"));
    }

    #[test]
    fn empty_jar_leaves_headers_untouched() {
        let mut jar = Jar::default();
        let mut headers = HeaderMap::new();
        jar.apply(&uri("http://h.example/"), &mut headers);
        assert!(headers.is_empty());
        assert!(jar.pairs(&uri("http://h.example/")).is_empty());
    }
}
