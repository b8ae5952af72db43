//! hornet-import: turns a browser recording (a HAR file) into an ordinary hornet script, the
//! engine of `hornet import har`.
//!
//! [`import_har`] reads the file ([`har`]: HAR 1.1 and 1.2, errors with file, line and column),
//! leaves out the noise ([`filter`]: static assets, third-party hosts, the browser's own requests),
//! builds one request per user action ([`steps`]: a redirect and its follow-up are one request,
//! hornet follows redirects), correlates the session's generated values ([`correlate`]: captures
//! and `{{ variables }}`), and writes the YAML ([`emit`]): one scenario, requests grouped by page,
//! `think` from the recorded pauses, headers sent with every request hoisted into
//! `config.defaults.headers`, the target factored out. The script needs no processor and runs on
//! Artillery as well. `docs/import.md` describes the rules for users.

mod correlate;
mod emit;
pub mod filter;
mod har;
mod steps;

use std::collections::HashMap;

pub use correlate::{CaptureKind, Correlation};
pub use filter::Reason;

/// Gaps between requests of one page at least this long become a `think` (ms).
const THINK_WITHIN_PAGE_MS: f64 = 500.0;
/// Without pages in the file, a gap this long starts a new group (ms).
const GROUP_GAP_MS: f64 = 1000.0;

/// An input that cannot be imported; the message names the file (and line and column when the
/// JSON itself is at fault).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportError(pub String);

impl std::fmt::Display for ImportError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ImportError {}

/// How `think` steps are made.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Think {
    /// The recorded pauses (between pages, and of half a second or more within one), to 0.1 s.
    Recorded,
    /// No `think` at all.
    None,
    /// This many seconds between pages.
    Fixed(f64),
}

impl std::str::FromStr for Think {
    type Err = String;
    fn from_str(s: &str) -> Result<Think, String> {
        match s {
            "recorded" => Ok(Think::Recorded),
            "none" => Ok(Think::None),
            n => n
                .parse::<f64>()
                .ok()
                .filter(|n| n.is_finite() && *n >= 0.0)
                .map(Think::Fixed)
                .ok_or_else(|| format!("`{s}`: expected recorded, none or a number of seconds")),
        }
    }
}

/// What the user asked for.
#[derive(Debug, Clone)]
pub struct Options {
    /// The file's name, for messages and the script's header.
    pub file_name: String,
    /// `--include-host`: hosts kept though they are outside the application's site.
    pub include_hosts: Vec<String>,
    /// `--exclude`: URLs containing one of these (`*` for any text) are left out.
    pub exclude: Vec<String>,
    /// `--target`: the script's `config.target` instead of the recorded origin.
    pub target: Option<String>,
    /// `--think`.
    pub think: Think,
}

impl Options {
    /// The defaults for a file of this name.
    pub fn new(file_name: impl Into<String>) -> Options {
        Options {
            file_name: file_name.into(),
            include_hosts: Vec::new(),
            exclude: Vec::new(),
            target: None,
            think: Think::Recorded,
        }
    }
}

/// A request of the script, for `--check`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ImportedRequest {
    /// 1-based position in the script.
    pub number: usize,
    /// Its `name` in [`Imported::check_yaml`].
    pub check_name: String,
    /// The HTTP method.
    pub method: String,
    /// The URL as recorded.
    pub url: String,
    /// The status the recording got (after redirects); 200 for a 304, since the script sends no
    /// cache validators.
    pub recorded_status: u16,
}

/// An entry left out, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Skipped {
    /// The HTTP method.
    pub method: String,
    /// The URL as recorded.
    pub url: String,
    /// Why it was left out.
    pub reason: Reason,
}

/// The script and what went into it.
#[derive(Debug, Clone)]
pub struct Imported {
    /// The script.
    pub yaml: String,
    /// The same script with a `name` on every request (`#03 GET /path`), for `--check`.
    pub check_yaml: String,
    /// Its requests, in order.
    pub requests: Vec<ImportedRequest>,
    /// The values correlated.
    pub correlations: Vec<Correlation>,
    /// Variables for secrets the user typed.
    pub secrets: Vec<String>,
    /// The entries left out as noise.
    pub skipped: Vec<Skipped>,
    /// Values that need a person (also listed in the script's header).
    pub unresolved: Vec<String>,
}

/// Imports the HAR text `text`.
pub fn import_har(text: &str, options: &Options) -> Result<Imported, ImportError> {
    let file = &options.file_name;
    let log = har::parse(text, file)?;
    let mut header = vec![format!("Imported by `hornet import har` from {}.", file_label(file))];
    match log.version.as_deref() {
        Some("1.2") => {}
        Some("1.1") => header.push(
            "HAR 1.1: no page timings or base64 bodies; pauses come from the entries' start times.".into(),
        ),
        Some(other) => header.push(format!("HAR version `{other}` is not 1.1 or 1.2; read as 1.2.")),
        None => header.push("The file gives no HAR version; read as 1.2.".into()),
    }
    if let Some(creator) = &log.creator
        && !creator.name.is_empty()
    {
        header.push(format!("Recorded with {} {}.", creator.name, creator.version).trim_end().to_string());
    }
    if log.entries.is_empty() {
        return Err(ImportError(format!("{file}: the recording holds no requests (`log.entries` is empty)")));
    }
    // In the order the browser started them.
    let mut order: Vec<(usize, f64)> = Vec::new();
    let mut last_time = 0.0;
    for (i, entry) in log.entries.iter().enumerate() {
        let t = entry.started.as_deref().and_then(har::timestamp_ms).unwrap_or(last_time);
        last_time = t;
        order.push((i, t));
    }
    order.sort_by(|a, b| a.1.total_cmp(&b.1));
    let urls: HashMap<usize, url::Url> =
        order.iter().filter_map(|&(i, _)| steps::entry_url(&log.entries[i]).map(|u| (i, u))).collect();

    // The application: the host of the first page the browser navigated to.
    let is_page = |i: usize| {
        let e = &log.entries[i];
        e.resource_type.as_deref() == Some("document")
            || e.request
                .headers
                .iter()
                .any(|h| h.name.eq_ignore_ascii_case("sec-fetch-mode") && h.value() == "navigate")
            || e.response
                .as_ref()
                .and_then(|r| r.content.as_ref())
                .and_then(|c| c.mime_type.as_deref())
                .is_some_and(|m| m.contains("html"))
    };
    let web = |i: &usize| urls.get(i).is_some_and(|u| matches!(u.scheme(), "http" | "https"));
    let main_index = order
        .iter()
        .map(|&(i, _)| i)
        .filter(web)
        .find(|&i| is_page(i))
        .or_else(|| order.iter().map(|&(i, _)| i).find(web))
        .ok_or_else(|| ImportError(format!("{file}: no http:// or https:// request in the recording")))?;
    let main_url = &urls[&main_index];
    let main_origin = main_url.origin().ascii_serialization();
    let filter = filter::Filter {
        main_host: main_url.host_str().unwrap_or("").to_ascii_lowercase(),
        include_hosts: &options.include_hosts,
        exclude: &options.exclude,
    };

    let mut skipped = Vec::new();
    let mut kept: Vec<(usize, f64)> = Vec::new();
    for &(i, t) in &order {
        let entry = &log.entries[i];
        match filter.reason(entry, urls.get(&i)) {
            Some(reason) => skipped.push(Skipped {
                method: entry.request.method.clone(),
                url: entry.request.url.clone(),
                reason,
            }),
            None => kept.push((i, t)),
        }
    }
    if kept.is_empty() {
        return Err(ImportError(format!(
            "{file}: all {} requests were left out as noise ({}); use --include-host or fewer --exclude patterns",
            skipped.len(),
            summarize_reasons(&skipped)
        )));
    }

    // Pages: the file's, else a new one at each navigation or long pause.
    let page_ids: Vec<String> =
        log.pages.as_ref().map(|p| p.iter().map(|p| p.id.clone()).collect()).unwrap_or_default();
    let page_titles: HashMap<&str, &str> =
        log.pages.iter().flatten().map(|p| (p.id.as_str(), p.title.as_str())).collect();
    let use_pagerefs = !page_ids.is_empty() && kept.iter().all(|&(i, _)| log.entries[i].pageref.is_some());

    // Steps, with redirects folded into the request that caused them.
    let mut built: Vec<steps::Step> = Vec::new();
    let mut pages: Vec<(String, String)> = Vec::new();
    let mut page_of_ref: HashMap<String, usize> = HashMap::new();
    let mut followed = vec![false; log.entries.len()];
    let mut previous_end: Option<f64> = None;
    for (position, &(i, t)) in kept.iter().enumerate() {
        if followed[i] {
            continue;
        }
        let mut chain = vec![(i, &log.entries[i], t)];
        let mut at = i;
        let mut next_position = position + 1;
        while let Some(target) = urls.get(&at).and_then(|u| steps::redirect_target(&log.entries[at], u)) {
            let Some(&(next, next_t)) = kept.get(next_position) else { break };
            if urls.get(&next) != Some(&target) || followed[next] {
                break;
            }
            followed[next] = true;
            chain.push((next, &log.entries[next], next_t));
            at = next;
            next_position += 1;
        }
        let url = &urls[&i];
        let entry = &log.entries[i];
        let navigation = is_page(i) && entry.request.method.eq_ignore_ascii_case("GET");
        let page = if use_pagerefs {
            let id = entry.pageref.clone().unwrap_or_default();
            let next = pages.len();
            let page = *page_of_ref.entry(id.clone()).or_insert(next);
            if page == next {
                let title = page_titles.get(id.as_str()).copied().unwrap_or("");
                pages.push((
                    if title == entry.request.url { String::new() } else { title.to_string() },
                    entry.request.url.clone(),
                ));
            }
            page
        } else {
            let gap = previous_end.map_or(f64::INFINITY, |end| t - end);
            if pages.is_empty() || navigation || gap >= GROUP_GAP_MS {
                pages.push((String::new(), entry.request.url.clone()));
            }
            pages.len() - 1
        };
        let step = steps::build(built.len() + 1, &chain, url, page);
        previous_end = Some(step.end_ms);
        built.push(step);
    }

    let outcome = correlate::correlate(&mut built);
    let default_headers = hoist_headers(&mut built);
    let thinks = thinks(&built, options.think);

    let requests = built
        .iter()
        .map(|s| ImportedRequest {
            number: s.number,
            check_name: emit::check_name(s),
            method: s.method.clone(),
            url: log.entries[s.entry].request.url.clone(),
            // The script sends no cache validators, so a revalidated 304 is a 200 in a replay.
            recorded_status: if s.response.status == 304 { 200 } else { s.response.status },
        })
        .collect();

    header.push(format!(
        "{} requests kept of {} recorded; {} value(s) correlated; {} left out as noise.",
        built.len(),
        log.entries.len(),
        outcome.correlations.len(),
        skipped.len()
    ));
    if built.len() + skipped.len() < log.entries.len() {
        header.push(format!(
            "{} redirect(s) are followed by hornet itself and are not separate requests here.",
            log.entries.len() - built.len() - skipped.len()
        ));
    }
    if !outcome.correlations.is_empty() {
        header.push(String::new());
        header.push("Correlated (captured from a response, sent by later requests):".into());
        for c in &outcome.correlations {
            let used: Vec<String> = c.used_at.iter().map(|(n, where_)| format!("#{n} {where_}")).collect();
            header.push(format!("  {}: {} of #{} -> {}", c.variable, c.kind, c.captured_at, used.join(", ")));
        }
    }
    if !outcome.unresolved.is_empty() {
        header.push(String::new());
        header.push("Check by hand:".into());
        header.extend(outcome.unresolved.iter().map(|u| format!("  {u}")));
    }
    if !skipped.is_empty() {
        header.push(String::new());
        header.push("Left out (--include-host and --exclude change this):".into());
        for s in &skipped {
            header.push(format!("  {} {}: {}", s.method, shorten(&s.url), s.reason));
        }
    }
    header.push(String::new());
    header.push("Check it against the application with `hornet import har ... --check`.".into());

    let target = options.target.clone().unwrap_or_else(|| main_origin.clone());
    let scenario = format!("recording {}", file_label(file));
    let script = |named| {
        emit::Script {
            header: header.clone(),
            target: target.trim_end_matches('/').to_string(),
            main_origin: main_origin.clone(),
            secrets: &outcome.secrets,
            default_headers: &default_headers,
            start_cookies: &outcome.start_cookies,
            steps: &built,
            captures: &outcome.captures,
            pages: &pages,
            thinks: &thinks,
            scenario: scenario.clone(),
            named,
        }
        .render()
    };
    Ok(Imported {
        yaml: script(false),
        check_yaml: script(true),
        requests,
        correlations: outcome.correlations.clone(),
        secrets: outcome.secrets.iter().map(|s| s.variable.clone()).collect(),
        skipped,
        unresolved: outcome.unresolved.clone(),
    })
}

/// The file's base name.
fn file_label(file: &str) -> String {
    std::path::Path::new(file)
        .file_name()
        .map_or_else(|| file.to_string(), |n| n.to_string_lossy().into_owned())
}

/// A URL cut to a readable length for a comment.
fn shorten(url: &str) -> String {
    const MAX: usize = 100;
    match url.char_indices().nth(MAX) {
        Some((cut, _)) => format!("{}...", &url[..cut]),
        None => url.to_string(),
    }
}

/// `3 static asset, 2 third-party host`.
fn summarize_reasons(skipped: &[Skipped]) -> String {
    let mut counts: Vec<(String, usize)> = Vec::new();
    for s in skipped {
        let kind = s.reason.to_string().split(['(', ' ']).take(2).collect::<Vec<_>>().join(" ");
        match counts.iter_mut().find(|(k, _)| *k == kind) {
            Some((_, n)) => *n += 1,
            None => counts.push((kind, 1)),
        }
    }
    counts.iter().map(|(k, n)| format!("{n} {}", k.trim())).collect::<Vec<_>>().join(", ")
}

/// Moves headers every request sends with the same value into `config.defaults.headers`.
fn hoist_headers(steps: &mut [steps::Step]) -> Vec<(String, String)> {
    if steps.len() < 2 {
        return Vec::new();
    }
    let common: Vec<(String, String)> = steps[0]
        .headers
        .iter()
        .filter(|(name, value)| {
            !value.contains("{{")
                && steps[1..].iter().all(|s| s.headers.iter().any(|(n, v)| n == name && v == value))
        })
        .cloned()
        .collect();
    for step in steps.iter_mut() {
        step.headers.retain(|h| !common.contains(h));
    }
    common
}

/// The `think` before each step.
fn thinks(steps: &[steps::Step], think: Think) -> Vec<Option<f64>> {
    let mut out = vec![None; steps.len()];
    for i in 1..steps.len() {
        let new_page = steps[i].page != steps[i - 1].page;
        let gap = (steps[i].start_ms - steps[i - 1].end_ms).max(0.0);
        out[i] = match think {
            Think::None => None,
            Think::Fixed(seconds) => (new_page && seconds > 0.0).then_some(seconds),
            Think::Recorded => {
                let seconds = (gap / 100.0).round() / 10.0;
                ((new_page || gap >= THINK_WITHIN_PAGE_MS) && seconds >= 0.1).then_some(seconds)
            }
        };
    }
    out
}
