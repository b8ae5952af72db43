//! Unit tests of captures: JSON paths, regular expressions, headers, selectors and `match`, and
//! the response view's parse-once bodies.

use super::*;
use hornet_script::template::Template;
use http::{HeaderMap, HeaderName, HeaderValue};
use serde_json::json;

type TestVars = Vec<(String, Value)>;

fn no_vars() -> TestVars {
    Vec::new()
}

fn cap(source: CaptureSource, index: CaptureIndex) -> Capture {
    Capture { source, name: Some("v".to_string()), strict: true, index, equals: None }
}

fn json_src(path: &str) -> CaptureSource {
    CaptureSource::Json { path: serde_json_path::JsonPath::parse(path).unwrap(), source: path.to_string() }
}

fn regex_src(re: &str, group: Option<RegexGroup>) -> CaptureSource {
    CaptureSource::Regexp { regex: regex::Regex::new(re).unwrap(), group }
}

fn selector_src(sel: &str, attr: Option<&str>) -> CaptureSource {
    CaptureSource::Selector {
        selector: scraper::Selector::parse(sel).unwrap(),
        source: sel.to_string(),
        attr: attr.map(str::to_string),
    }
}

/// Runs `c` on a 200 response with `body` and no headers; `random` always returns `r`.
fn run(c: &Capture, body: &str, r: u64) -> Result<Value, CaptureError> {
    let headers = HeaderMap::new();
    let resp = ResponseView::new(200, &headers, body.as_bytes());
    capture(c, &resp, &no_vars(), &mut || r)
}

fn err(message: &str) -> Result<Value, CaptureError> {
    Err(CaptureError { message: message.to_string() })
}

const ITEMS: &str = r#"{"items": [{"id": 1}, {"id": "two"}, {"id": 3.5}], "token": "abc", "n": null}"#;

#[test]
fn json_single_match_keeps_its_type() {
    assert_eq!(run(&cap(json_src("$.token"), CaptureIndex::First), ITEMS, 0), Ok(json!("abc")));
    assert_eq!(run(&cap(json_src("$.items[0]"), CaptureIndex::First), ITEMS, 0), Ok(json!({"id": 1})));
    assert_eq!(run(&cap(json_src("$.items[2].id"), CaptureIndex::First), ITEMS, 0), Ok(json!(3.5)));
    assert_eq!(run(&cap(json_src("$.n"), CaptureIndex::First), ITEMS, 0), Ok(Value::Null));
}

#[test]
fn json_several_matches_by_index() {
    let path = "$.items[*].id";
    assert_eq!(run(&cap(json_src(path), CaptureIndex::First), ITEMS, 0), Ok(json!(1)));
    assert_eq!(run(&cap(json_src(path), CaptureIndex::Last), ITEMS, 0), Ok(json!(3.5)));
    assert_eq!(run(&cap(json_src(path), CaptureIndex::Nth(1)), ITEMS, 0), Ok(json!("two")));
    assert_eq!(run(&cap(json_src(path), CaptureIndex::Nth(2)), ITEMS, 0), Ok(json!(3.5)));
    // random() % 3 picks the element.
    assert_eq!(run(&cap(json_src(path), CaptureIndex::Random), ITEMS, 4), Ok(json!("two")));
    assert_eq!(run(&cap(json_src(path), CaptureIndex::Random), ITEMS, 5), Ok(json!(3.5)));
    assert_eq!(run(&cap(json_src(path), CaptureIndex::Random), ITEMS, u64::MAX), Ok(json!(1)));
}

#[test]
fn json_random_stays_within_the_matches() {
    let c = cap(json_src("$.items[*].id"), CaptureIndex::Random);
    let mut seen = Vec::new();
    for r in 0..30 {
        let v = run(&c, ITEMS, r * 7919).unwrap();
        assert!([json!(1), json!("two"), json!(3.5)].contains(&v), "{v}");
        if !seen.contains(&v) {
            seen.push(v);
        }
    }
    assert_eq!(seen.len(), 3, "every match can be drawn");
}

#[test]
fn json_failures() {
    assert_eq!(
        run(&cap(json_src("$.items[*].id"), CaptureIndex::Nth(3)), ITEMS, 0),
        err("capture `$.items[*].id` (json) found 3 values, none at index 3")
    );
    assert_eq!(
        run(&cap(json_src("$.items[0].id"), CaptureIndex::Nth(1)), ITEMS, 0),
        err("capture `$.items[0].id` (json) found 1 value, none at index 1")
    );
    for index in [CaptureIndex::First, CaptureIndex::Last, CaptureIndex::Random, CaptureIndex::Nth(0)] {
        assert_eq!(
            run(&cap(json_src("$.missing"), index), ITEMS, 0),
            err("capture `$.missing` (json) found nothing"),
            "{index:?}"
        );
    }
    for body in ["<html>nope</html>", "", "{\"a\": ", "\u{FFFD}"] {
        assert_eq!(
            run(&cap(json_src("$.token"), CaptureIndex::First), body, 0),
            err("capture `$.token` (json) failed: response body is not JSON"),
            "{body:?}"
        );
    }
}

#[test]
fn json_with_bom_and_invalid_utf8_bytes() {
    let headers = HeaderMap::new();
    let body = b"\xEF\xBB\xBF{\"token\": \"x\"}";
    let resp = ResponseView::new(200, &headers, body);
    assert_eq!(resp.json(), Some(&json!({"token": "x"})));
    let bad = b"{\"token\": \"\xFF\"}";
    let resp = ResponseView::new(200, &headers, bad);
    assert_eq!(resp.json(), None);
}

#[test]
fn json_is_parsed_once_for_several_captures() {
    let headers = HeaderMap::new();
    let resp = ResponseView::new(200, &headers, ITEMS.as_bytes());
    assert_eq!(resp.parses.get(), (0, 0), "nothing parsed before it is needed");
    let header_only = cap(CaptureSource::Header(HeaderName::from_static("x-a")), CaptureIndex::First);
    let _ = capture(&header_only, &resp, &no_vars(), &mut || 0);
    assert_eq!(resp.parses.get(), (0, 0), "a header capture does not parse the body");
    for path in ["$.token", "$.items[*].id", "$.missing", "$.n"] {
        let _ = capture(&cap(json_src(path), CaptureIndex::Last), &resp, &no_vars(), &mut || 0);
    }
    assert_eq!(resp.parses.get(), (1, 0));
    assert!(std::ptr::eq(resp.json().unwrap(), resp.json().unwrap()));

    // A body that is not JSON is also tried only once.
    let resp = ResponseView::new(200, &headers, b"not json");
    for _ in 0..3 {
        assert!(capture(&cap(json_src("$.a"), CaptureIndex::First), &resp, &no_vars(), &mut || 0).is_err());
    }
    assert_eq!(resp.parses.get(), (1, 0));
}

#[test]
fn regexp_default_group() {
    let body = "id=17; id=42; id=99";
    // With a group: group 1.
    assert_eq!(run(&cap(regex_src(r"id=(\d+)", None), CaptureIndex::First), body, 0), Ok(json!("17")));
    // Without: the whole match.
    assert_eq!(run(&cap(regex_src(r"id=\d+", None), CaptureIndex::First), body, 0), Ok(json!("id=17")));
    // Non-capturing groups do not count.
    assert_eq!(run(&cap(regex_src(r"id=(?:\d+)", None), CaptureIndex::First), body, 0), Ok(json!("id=17")));
}

#[test]
fn regexp_groups_by_number_and_name() {
    let body = "user=ann:7 user=bob:8";
    let re = r"user=(?P<name>\w+):(\d+)";
    let by = |g: RegexGroup, i: CaptureIndex| run(&cap(regex_src(re, Some(g)), i), body, 0);
    assert_eq!(by(RegexGroup::Index(0), CaptureIndex::First), Ok(json!("user=ann:7")));
    assert_eq!(by(RegexGroup::Index(1), CaptureIndex::First), Ok(json!("ann")));
    assert_eq!(by(RegexGroup::Index(2), CaptureIndex::First), Ok(json!("7")));
    assert_eq!(by(RegexGroup::Name("name".into()), CaptureIndex::Last), Ok(json!("bob")));
    assert_eq!(by(RegexGroup::Index(2), CaptureIndex::Nth(1)), Ok(json!("8")));
    assert_eq!(by(RegexGroup::Index(2), CaptureIndex::Random), Ok(json!("7")));
    assert_eq!(
        by(RegexGroup::Index(3), CaptureIndex::First),
        err(r"capture `user=(?P<name>\w+):(\d+)` (regexp) has no group 3")
    );
    assert_eq!(
        by(RegexGroup::Name("nope".into()), CaptureIndex::First),
        err(r"capture `user=(?P<name>\w+):(\d+)` (regexp) has no group named `nope`")
    );
}

#[test]
fn regexp_index_and_failures() {
    let body = "a1 a2 a3";
    let c = |i| cap(regex_src(r"a(\d)", None), i);
    assert_eq!(run(&c(CaptureIndex::Last), body, 0), Ok(json!("3")));
    assert_eq!(run(&c(CaptureIndex::Random), body, 7), Ok(json!("2")));
    assert_eq!(
        run(&c(CaptureIndex::Nth(5)), body, 0),
        err(r"capture `a(\d)` (regexp) found 3 values, none at index 5")
    );
    assert_eq!(run(&c(CaptureIndex::First), "zzz", 0), err(r"capture `a(\d)` (regexp) found nothing"));
    // Matches where the group did not take part are skipped.
    let opt = cap(regex_src(r"b(\d)?", None), CaptureIndex::First);
    assert_eq!(run(&opt, "b bx b5", 0), Ok(json!("5")));
}

#[test]
fn regexp_over_invalid_utf8_is_lossy() {
    let headers = HeaderMap::new();
    let resp = ResponseView::new(200, &headers, b"\xFF\xFEtoken=abc\xFF");
    let c = cap(regex_src(r"token=(\w+)", None), CaptureIndex::First);
    assert_eq!(capture(&c, &resp, &no_vars(), &mut || 0), Ok(json!("abc")));
}

fn header_resp_map() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.append(HeaderName::from_bytes(b"X-Token").unwrap(), HeaderValue::from_static("t1"));
    h.append(HeaderName::from_static("x-token"), HeaderValue::from_static("t2"));
    h.append(HeaderName::from_static("x-token"), HeaderValue::from_static("t3"));
    h.append(HeaderName::from_static("x-bin"), HeaderValue::from_bytes(b"caf\xE9").unwrap());
    h
}

#[test]
fn header_capture() {
    let headers = header_resp_map();
    let resp = ResponseView::new(200, &headers, b"");
    let run_h = |name: &[u8], i| {
        let c = cap(CaptureSource::Header(HeaderName::from_bytes(name).unwrap()), i);
        capture(&c, &resp, &no_vars(), &mut || 1)
    };
    assert_eq!(run_h(b"X-TOKEN", CaptureIndex::First), Ok(json!("t1")));
    assert_eq!(run_h(b"x-token", CaptureIndex::Last), Ok(json!("t3")));
    assert_eq!(run_h(b"X-Token", CaptureIndex::Nth(1)), Ok(json!("t2")));
    assert_eq!(run_h(b"x-token", CaptureIndex::Random), Ok(json!("t2")));
    assert_eq!(
        run_h(b"x-token", CaptureIndex::Nth(3)),
        err("capture `x-token` (header) found 3 values, none at index 3")
    );
    assert_eq!(run_h(b"X-Missing", CaptureIndex::First), err("capture `x-missing` (header) found nothing"));
    assert_eq!(run_h(b"x-bin", CaptureIndex::First), Ok(json!("caf\u{FFFD}")));
    assert_eq!(resp.parses.get(), (0, 0));
    assert_eq!(resp.header(&HeaderName::from_static("x-token")).as_deref(), Some("t1, t2, t3"));
    assert_eq!(resp.header(&HeaderName::from_static("x-none")), None);
}

const PAGE: &str = r#"<!doctype html><html><head><title> Shop </title></head><body>
    <ul><li class="item" data-id="a1">
          First <b>item</b>
        </li>
        <li class="item" data-id="a2">Second</li>
        <li class="item">Third</li></ul>
    <form><input name="csrf" value="tok-123"></form>
    </body></html>"#;

#[test]
fn selector_text_and_attr() {
    let sel = |s: &str, attr: Option<&str>, i| run(&cap(selector_src(s, attr), i), PAGE, 5);
    assert_eq!(sel("title", None, CaptureIndex::First), Ok(json!("Shop")));
    assert_eq!(sel("li.item", None, CaptureIndex::First), Ok(json!("First item")));
    assert_eq!(sel("li.item", None, CaptureIndex::Last), Ok(json!("Third")));
    assert_eq!(sel("li.item", None, CaptureIndex::Nth(1)), Ok(json!("Second")));
    assert_eq!(sel("li.item", None, CaptureIndex::Random), Ok(json!("Third")));
    assert_eq!(sel("input[name=csrf]", Some("value"), CaptureIndex::First), Ok(json!("tok-123")));
    assert_eq!(sel("li.item", Some("data-id"), CaptureIndex::Nth(1)), Ok(json!("a2")));
    assert_eq!(
        sel("li.item", Some("data-id"), CaptureIndex::Last),
        err("capture `li.item` (selector) failed: the element has no `data-id` attribute")
    );
    assert_eq!(
        sel("li.item", None, CaptureIndex::Nth(3)),
        err("capture `li.item` (selector) found 3 values, none at index 3")
    );
    assert_eq!(
        sel("table td", None, CaptureIndex::First),
        err("capture `table td` (selector) found nothing")
    );
    // Not HTML at all still parses (as a document with a text node).
    assert_eq!(
        run(&cap(selector_src("a", None), CaptureIndex::First), "{\"a\":1}", 0),
        err("capture `a` (selector) found nothing")
    );
}

#[test]
fn html_is_parsed_once() {
    let headers = HeaderMap::new();
    let resp = ResponseView::new(200, &headers, PAGE.as_bytes());
    for s in ["title", "li.item", "input", "nothing"] {
        let _ = capture(&cap(selector_src(s, None), CaptureIndex::First), &resp, &no_vars(), &mut || 0);
    }
    assert_eq!(resp.parses.get(), (0, 1));
}

#[test]
fn match_equals() {
    let vars: TestVars = vec![("want".into(), json!("abc")), ("num".into(), json!(1))];
    let headers = HeaderMap::new();
    let resp = ResponseView::new(200, &headers, ITEMS.as_bytes());
    let with = |path: &str, name: Option<&str>, tpl: &str| {
        let mut c = cap(json_src(path), CaptureIndex::First);
        c.name = name.map(str::to_string);
        c.equals = Some(Template::compile(tpl).unwrap());
        capture(&c, &resp, &vars, &mut || 0)
    };
    assert_eq!(with("$.token", Some("token"), "abc"), Ok(json!("abc")));
    assert_eq!(with("$.token", Some("token"), "{{ want }}"), Ok(json!("abc")));
    // Non-string values compare by their text.
    assert_eq!(with("$.items[0].id", None, "{{ num }}"), Ok(json!(1)));
    assert_eq!(with("$.items[0]", None, r#"{"id":1}"#), Ok(json!({"id": 1})));
    assert_eq!(with("$.n", None, ""), Ok(Value::Null));
    assert_eq!(
        with("$.token", Some("token"), "b"),
        err(r#"capture `token` did not match: expected "b", got "abc""#)
    );
    assert_eq!(
        with("$.items[0].id", None, "{{ want }}"),
        err(r#"capture `$.items[0].id` (json) did not match: expected "abc", got "1""#)
    );
    // Finding nothing is reported as such, not as a mismatch.
    assert_eq!(with("$.missing", Some("m"), "x"), err("capture `$.missing` (json) found nothing"));
}

#[test]
fn long_values_are_cut_in_messages() {
    let long = "x".repeat(1000);
    let body = format!("{{\"t\": \"{long}\"}}");
    let mut c = cap(json_src("$.t"), CaptureIndex::First);
    c.equals = Some(Template::literal("y"));
    let message = run(&c, &body, 0).unwrap_err().message;
    assert!(message.len() < 300, "{message}");
    assert!(message.ends_with(&format!("got \"{}…\"", "x".repeat(EXCERPT_CHARS))), "{message}");
    assert_eq!(excerpt("héllo"), "héllo");
    assert_eq!(excerpt(&"é".repeat(EXCERPT_CHARS + 1)), format!("{}…", "é".repeat(EXCERPT_CHARS)));
}

#[test]
fn random_is_not_called_for_fixed_indexes() {
    let headers = HeaderMap::new();
    let resp = ResponseView::new(200, &headers, ITEMS.as_bytes());
    let mut calls = 0;
    for i in [CaptureIndex::First, CaptureIndex::Last, CaptureIndex::Nth(1)] {
        let _ = capture(&cap(json_src("$.items[*]"), i), &resp, &no_vars(), &mut || {
            calls += 1;
            0
        });
    }
    assert_eq!(calls, 0);
    let _ = capture(&cap(json_src("$.items[*]"), CaptureIndex::Random), &resp, &no_vars(), &mut || {
        calls += 1;
        0
    });
    assert_eq!(calls, 1);
}
