//! Reading a HAR file (HTTP Archive 1.1 and 1.2): the typed model the importer walks, read
//! leniently (a field a browser leaves out gets its default), with syntax and shape errors that
//! name the file, line and column; and the recording's timestamps.

use serde::Deserialize;

use crate::ImportError;

/// The whole file: `{"log": {...}}`.
#[derive(Debug, Deserialize)]
struct HarFile {
    log: Log,
}

/// `log`: the recording.
#[derive(Debug, Deserialize)]
pub(crate) struct Log {
    /// `1.1` or `1.2` (absent in some exporters).
    #[serde(default)]
    pub version: Option<String>,
    /// The program that wrote the file.
    #[serde(default)]
    pub creator: Option<Creator>,
    /// Pages (optional since 1.2).
    #[serde(default)]
    pub pages: Option<Vec<Page>>,
    /// Every request, with its response.
    pub entries: Vec<Entry>,
}

/// `log.creator`.
#[derive(Debug, Deserialize)]
pub(crate) struct Creator {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub version: String,
}

/// One page of `log.pages`.
#[derive(Debug, Deserialize)]
pub(crate) struct Page {
    pub id: String,
    #[serde(default)]
    pub title: String,
}

/// One request and its response.
#[derive(Debug, Deserialize)]
pub(crate) struct Entry {
    #[serde(default)]
    pub pageref: Option<String>,
    #[serde(rename = "startedDateTime", default)]
    pub started: Option<String>,
    /// Total time in milliseconds (-1 or absent when unknown).
    #[serde(default)]
    pub time: Option<f64>,
    pub request: Request,
    /// Absent, or with status 0, when the request got no response (blocked, cancelled, failed).
    #[serde(default)]
    pub response: Option<Response>,
    /// Chromium's resource type (`document`, `xhr`, `fetch`, `script`, `image`...).
    #[serde(rename = "_resourceType", default)]
    pub resource_type: Option<String>,
}

/// `request`.
#[derive(Debug, Deserialize)]
pub(crate) struct Request {
    pub method: String,
    pub url: String,
    #[serde(default)]
    pub headers: Vec<NameValue>,
    #[serde(rename = "postData", default)]
    pub post_data: Option<PostData>,
}

/// A header, cookie or query pair.
#[derive(Debug, Deserialize)]
pub(crate) struct NameValue {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
}

impl NameValue {
    /// The value, empty when the file has none.
    pub fn value(&self) -> &str {
        self.value.as_deref().unwrap_or("")
    }
}

/// `request.postData`: `text`, or (HAR 1.1, and forms in some exporters) only `params`.
#[derive(Debug, Deserialize)]
pub(crate) struct PostData {
    #[serde(rename = "mimeType", default)]
    pub mime_type: String,
    #[serde(default)]
    pub text: Option<String>,
    #[serde(default)]
    pub params: Vec<Param>,
}

/// A posted form field (`postData.params`).
#[derive(Debug, Deserialize)]
pub(crate) struct Param {
    pub name: String,
    #[serde(default)]
    pub value: Option<String>,
    #[serde(rename = "fileName", default)]
    pub file_name: Option<String>,
}

/// `response`.
#[derive(Debug, Deserialize)]
pub(crate) struct Response {
    #[serde(default)]
    pub status: i64,
    #[serde(default)]
    pub headers: Vec<NameValue>,
    #[serde(default)]
    pub content: Option<Content>,
    #[serde(rename = "redirectURL", default)]
    pub redirect_url: Option<String>,
}

/// `response.content`.
#[derive(Debug, Deserialize, Default)]
pub(crate) struct Content {
    #[serde(rename = "mimeType", default)]
    pub mime_type: Option<String>,
    #[serde(default)]
    pub text: Option<String>,
    /// `base64` for a body the browser stored encoded (HAR 1.2).
    #[serde(default)]
    pub encoding: Option<String>,
}

/// Parses the text of a HAR file named `file` (for errors).
pub(crate) fn parse(text: &str, file: &str) -> Result<Log, ImportError> {
    // Some Windows tools start the file with a byte order mark.
    let text = text.strip_prefix('\u{feff}').unwrap_or(text);
    let at = |e: &serde_json::Error| format!("{file}:{}:{}", e.line(), e.column());
    let doc: serde_json::Value = serde_json::from_str(text).map_err(|e| {
        let what = if e.is_eof() {
            "the JSON ends early: the file is cut off (was the recording still being written?)".to_string()
        } else {
            format!("not valid JSON: {e}")
        };
        ImportError(format!("{}: {what}; expected a HAR file (JSON with a `log` object)", at(&e)))
    })?;
    let has_log = doc.as_object().and_then(|o| o.get("log")).is_some_and(serde_json::Value::is_object);
    if !has_log {
        return Err(ImportError(format!(
            "{file}:1:1: not a HAR file: expected a JSON object with a `log` object holding `entries` \
             (HTTP Archive 1.1 or 1.2, as the browser's DevTools save it)"
        )));
    }
    let har: HarFile = serde_json::from_str(text).map_err(|e| {
        let message = e.to_string();
        let message = message.split(" at line ").next().unwrap_or(&message).to_string();
        ImportError(format!("{}: {message} (in a HAR {} entry)", at(&e), "request/response"))
    })?;
    Ok(har.log)
}

/// Milliseconds since the Unix epoch of an ISO 8601 time such as `2026-12-07T16:51:03.123Z` or
/// `2026-12-07T17:51:03.123+01:00`; `None` when it is not one.
pub(crate) fn timestamp_ms(text: &str) -> Option<f64> {
    let text = text.trim();
    let (date, rest) = text.split_once('T')?;
    let mut date_parts = date.split('-');
    let year: i64 = date_parts.next()?.parse().ok()?;
    let month: i64 = date_parts.next()?.parse().ok()?;
    let day: i64 = date_parts.next()?.parse().ok()?;
    let zone_at = rest.find(['Z', 'z', '+', '-']).unwrap_or(rest.len());
    let (clock, zone) = rest.split_at(zone_at);
    let mut clock_parts = clock.split(':');
    let hour: f64 = clock_parts.next()?.parse().ok()?;
    let minute: f64 = clock_parts.next()?.parse().ok()?;
    let second: f64 = clock_parts.next().unwrap_or("0").parse().ok()?;
    let offset_minutes = match zone.chars().next() {
        None | Some('Z' | 'z') => 0.0,
        Some(sign) => {
            let digits = zone[1..].replace(':', "");
            let hours: f64 = digits.get(0..2)?.parse().ok()?;
            let minutes: f64 = digits.get(2..4).unwrap_or("0").parse().ok()?;
            let total = hours * 60.0 + minutes;
            if sign == '-' { -total } else { total }
        }
    };
    if !(1..=12).contains(&month) || !(1..=31).contains(&day) {
        return None;
    }
    let days = days_from_civil(year, month, day) as f64;
    let seconds = days * 86_400.0 + hour * 3600.0 + minute * 60.0 + second - offset_minutes * 60.0;
    Some(seconds * 1000.0)
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(year: i64, month: i64, day: i64) -> i64 {
    let year = if month <= 2 { year - 1 } else { year };
    let era = year.div_euclid(400);
    let year_of_era = year - era * 400;
    let day_of_year = (153 * (month + if month > 2 { -3 } else { 9 }) + 2) / 5 + day - 1;
    let day_of_era = year_of_era * 365 + year_of_era / 4 - year_of_era / 100 + day_of_year;
    era * 146_097 + day_of_era - 719_468
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_with_zones_and_fractions() {
        assert_eq!(timestamp_ms("1970-01-01T00:00:00Z"), Some(0.0));
        assert_eq!(timestamp_ms("1970-01-01T00:00:01.5Z"), Some(1500.0));
        assert_eq!(timestamp_ms("1970-01-01T01:00:00+01:00"), Some(0.0));
        assert_eq!(timestamp_ms("1969-12-31T23:00:00-01:00"), Some(0.0));
        assert_eq!(timestamp_ms("2000-03-01T00:00:00Z"), Some(951_868_800_000.0));
        assert_eq!(timestamp_ms("yesterday"), None);
        assert_eq!(timestamp_ms("2000-13-01T00:00:00Z"), None);
    }

    #[test]
    fn truncated_json_names_line_and_column() {
        let text = "{\"log\": {\n  \"entries\": [\n    {\"request\": ";
        let err = parse(text, "rec.har").unwrap_err().0;
        assert!(err.starts_with("rec.har:3:"), "{err}");
        assert!(err.contains("cut off"), "{err}");
    }

    #[test]
    fn json_that_is_not_a_har_is_told_so() {
        let err = parse("{\"items\": []}", "x.json").unwrap_err().0;
        assert!(err.starts_with("x.json:1:1: not a HAR file"), "{err}");
        let err = parse("[1, 2]", "x.json").unwrap_err().0;
        assert!(err.contains("not a HAR file"), "{err}");
        let err = parse("<html>", "page.html").unwrap_err().0;
        assert!(err.starts_with("page.html:1:1: not valid JSON"), "{err}");
    }

    #[test]
    fn a_missing_field_names_where() {
        let text = "{\"log\": {\"entries\": [\n {\"request\": {\"method\": \"GET\"}}\n]}}";
        let err = parse(text, "r.har").unwrap_err().0;
        assert!(err.starts_with("r.har:2:"), "{err}");
        assert!(err.contains("missing field `url`"), "{err}");
    }
}
