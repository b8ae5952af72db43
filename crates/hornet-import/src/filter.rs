//! What of a recording is noise: static assets (by resource type, content type and extension),
//! third-party hosts (analytics, tag managers, fonts, CDNs, and any host outside the application's
//! site unless `--include-host` names it), the browser's own requests (CORS preflights,
//! prefetches, extension and data URLs, its update and safe-browsing services), `--exclude`
//! patterns, and entries without a response.

use url::Url;

use crate::har::Entry;

/// Hosts (and their subdomains) that are never the application under test: analytics, tag
/// managers, ads, error trackers, font services and public CDNs.
const THIRD_PARTY_DOMAINS: &[&str] = &[
    "google-analytics.com",
    "analytics.google.com",
    "googletagmanager.com",
    "googleadservices.com",
    "googlesyndication.com",
    "doubleclick.net",
    "facebook.net",
    "connect.facebook.com",
    "hotjar.com",
    "hotjar.io",
    "segment.io",
    "segment.com",
    "mixpanel.com",
    "amplitude.com",
    "sentry.io",
    "nr-data.net",
    "newrelic.com",
    "datadoghq.com",
    "browser-intake-datadoghq.com",
    "clarity.ms",
    "fullstory.com",
    "intercom.io",
    "fonts.googleapis.com",
    "fonts.gstatic.com",
    "use.typekit.net",
    "cdn.jsdelivr.net",
    "cdnjs.cloudflare.com",
    "unpkg.com",
    "ajax.googleapis.com",
    "code.jquery.com",
    "stackpath.bootstrapcdn.com",
    "cdn.cookielaw.org",
    "static.cloudflareinsights.com",
];

/// Hosts the browser talks to for itself (updates, safe browsing, sync, autofill).
const BROWSER_DOMAINS: &[&str] = &[
    "clients1.google.com",
    "clients2.google.com",
    "clients4.google.com",
    "update.googleapis.com",
    "safebrowsing.googleapis.com",
    "optimizationguide-pa.googleapis.com",
    "content-autofill.googleapis.com",
    "accounts.google.com",
    "edge.microsoft.com",
    "push.services.mozilla.com",
    "firefox.settings.services.mozilla.com",
    "detectportal.firefox.com",
];

/// Resource types (Chromium's `_resourceType`) that are static assets.
const ASSET_TYPES: &[&str] = &["image", "stylesheet", "script", "font", "media", "manifest", "texttrack"];

/// Path extensions of static assets.
const ASSET_EXTENSIONS: &[&str] = &[
    "css", "js", "mjs", "map", "png", "jpg", "jpeg", "gif", "svg", "ico", "webp", "avif", "bmp", "woff",
    "woff2", "ttf", "otf", "eot", "mp4", "webm", "mp3", "ogg", "wav", "wasm",
];

/// Why an entry is left out.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Reason {
    /// An image, style sheet, script, font or media file.
    StaticAsset(String),
    /// A host outside the application.
    ThirdParty(String),
    /// A request the browser made for itself.
    BrowserInternal(String),
    /// Matched an `--exclude` pattern.
    Excluded(String),
    /// The recording holds no response.
    NoResponse,
}

impl std::fmt::Display for Reason {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Reason::StaticAsset(what) => write!(f, "static asset ({what})"),
            Reason::ThirdParty(host) => write!(f, "third-party host {host}"),
            Reason::BrowserInternal(what) => write!(f, "browser-internal ({what})"),
            Reason::Excluded(pattern) => write!(f, "--exclude {pattern}"),
            Reason::NoResponse => write!(f, "no response recorded (blocked, cancelled or failed)"),
        }
    }
}

/// The rules, with the application's site and the user's adjustments.
pub(crate) struct Filter<'a> {
    /// The application's host (that of the first page).
    pub main_host: String,
    /// `--include-host`.
    pub include_hosts: &'a [String],
    /// `--exclude`.
    pub exclude: &'a [String],
}

impl Filter<'_> {
    /// Why `entry` (whose URL is `url`) is noise, or `None` to keep it.
    pub fn reason(&self, entry: &Entry, url: Option<&Url>) -> Option<Reason> {
        let raw = &entry.request.url;
        let Some(url) = url.filter(|u| matches!(u.scheme(), "http" | "https")) else {
            let scheme = raw.split(':').next().unwrap_or("");
            return Some(Reason::BrowserInternal(format!("{scheme}: URL")));
        };
        if let Some(pattern) = self.exclude.iter().find(|p| glob_contains(p, raw)) {
            return Some(Reason::Excluded(pattern.clone()));
        }
        let host = url.host_str().unwrap_or("").to_ascii_lowercase();
        let included = self.include_hosts.iter().any(|h| host_matches(h, url));
        if !included {
            if let Some(reason) = browser_internal(entry, &host) {
                return Some(reason);
            }
            if host != self.main_host
                && (on_list(&host, THIRD_PARTY_DOMAINS) || site(&host) != site(&self.main_host))
            {
                return Some(Reason::ThirdParty(host_port(url)));
            }
        }
        if let Some(what) = static_asset(entry, url) {
            return Some(Reason::StaticAsset(what));
        }
        let answered = entry.response.as_ref().is_some_and(|r| r.status > 0);
        if !answered {
            return Some(Reason::NoResponse);
        }
        None
    }
}

/// A request the browser made for itself, whatever the page did.
fn browser_internal(entry: &Entry, host: &str) -> Option<Reason> {
    let header = |name: &str| {
        entry.request.headers.iter().find(|h| h.name.eq_ignore_ascii_case(name)).map(|h| h.value())
    };
    if entry.request.method.eq_ignore_ascii_case("OPTIONS")
        && header("access-control-request-method").is_some()
    {
        return Some(Reason::BrowserInternal("CORS preflight".into()));
    }
    if header("sec-purpose").or(header("purpose")).is_some_and(|p| p.contains("prefetch")) {
        return Some(Reason::BrowserInternal("prefetch".into()));
    }
    if let Some(kind @ ("ping" | "preflight" | "csp_violation_report" | "signed-exchange")) =
        entry.resource_type.as_deref()
    {
        return Some(Reason::BrowserInternal(kind.into()));
    }
    if on_list(host, BROWSER_DOMAINS) {
        return Some(Reason::BrowserInternal("the browser's own service".into()));
    }
    None
}

/// What kind of static asset `entry` is, if it is one.
fn static_asset(entry: &Entry, url: &Url) -> Option<String> {
    if let Some(kind) = entry.resource_type.as_deref().filter(|t| ASSET_TYPES.contains(t)) {
        return Some(kind.to_string());
    }
    let mime = entry
        .response
        .as_ref()
        .and_then(|r| r.content.as_ref())
        .and_then(|c| c.mime_type.as_deref())
        .unwrap_or("")
        .to_ascii_lowercase();
    let mime = mime.split(';').next().unwrap_or("").trim();
    let asset_mime = mime.starts_with("image/")
        || mime.starts_with("font/")
        || mime.starts_with("audio/")
        || mime.starts_with("video/")
        || mime == "text/css"
        || mime.contains("javascript")
        || mime.contains("font")
        || mime == "application/wasm";
    if asset_mime {
        return Some(mime.to_string());
    }
    let last = url.path_segments().and_then(|mut s| s.next_back()).unwrap_or("");
    let extension = last.rsplit_once('.').map(|(_, e)| e.to_ascii_lowercase())?;
    ASSET_EXTENSIONS.contains(&extension.as_str()).then(|| format!(".{extension}"))
}

/// True when `host` is one of `domains` or below one.
fn on_list(host: &str, domains: &[&str]) -> bool {
    domains.iter().any(|d| host == *d || host.strip_suffix(d).is_some_and(|rest| rest.ends_with('.')))
}

/// The site of a host: its last two labels (`www.example.com` → `example.com`); an IP address or
/// a one-label name is its own site.
pub(crate) fn site(host: &str) -> String {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    if host.parse::<std::net::IpAddr>().is_ok() {
        return host.to_string();
    }
    let labels: Vec<&str> = host.split('.').collect();
    if labels.len() <= 2 { host.to_string() } else { labels[labels.len() - 2..].join(".") }
}

/// `host` or `host:port` of a URL (the port only when it is not the scheme's default).
pub(crate) fn host_port(url: &Url) -> String {
    let host = url.host_str().unwrap_or("");
    match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_string(),
    }
}

/// `--include-host H`: H is the host, `host:port`, or a parent domain (`example.com` includes
/// `api.example.com`).
fn host_matches(wanted: &str, url: &Url) -> bool {
    let wanted = wanted.trim().to_ascii_lowercase();
    let host = url.host_str().unwrap_or("").to_ascii_lowercase();
    wanted == host
        || wanted == host_port(url).to_ascii_lowercase()
        || host.strip_suffix(&wanted).is_some_and(|rest| rest.ends_with('.'))
}

/// `--exclude PATTERN`: the URL contains the pattern, where `*` stands for any run of characters.
pub(crate) fn glob_contains(pattern: &str, text: &str) -> bool {
    let mut parts = pattern.split('*');
    let Some(first) = parts.next() else { return true };
    let Some(mut at) = text.find(first).map(|i| i + first.len()) else { return false };
    for part in parts {
        match text[at..].find(part) {
            Some(i) => at += i + part.len(),
            None => return false,
        }
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn globs_match_anywhere_with_stars() {
        assert!(glob_contains("/api/", "http://h/api/x"));
        assert!(glob_contains("/api/*/stats", "http://h/api/v1/stats?x"));
        assert!(!glob_contains("/api/*/stats", "http://h/api/v1/other"));
        assert!(glob_contains("*", "anything"));
    }

    #[test]
    fn sites_and_lists() {
        assert_eq!(site("www.example.com"), "example.com");
        assert_eq!(site("api.example.com"), "example.com");
        assert_eq!(site("127.0.0.1"), "127.0.0.1");
        assert_eq!(site("localhost"), "localhost");
        assert!(on_list("www.google-analytics.com", THIRD_PARTY_DOMAINS));
        assert!(!on_list("notgoogle-analytics.com", THIRD_PARTY_DOMAINS));
    }
}
