//! `expect:` checks (the Artillery expect plugin) against a [`ResponseView`].
//!
//! Each check returns an [`ExpectFailure`] naming the kind and saying what was expected and what
//! came back. Response content quoted in messages is cut short, and nothing in the response can
//! make a check panic.

use std::fmt;

use hornet_script::plan::Expect;
use hornet_script::template::Vars;
use serde_json::Value;

use crate::capture::{ResponseView, excerpt};

/// A failed expectation.
#[derive(Debug, Clone, PartialEq)]
pub struct ExpectFailure {
    /// The kind as written in scripts ([`Expect::kind`]), e.g. `statusCode`.
    pub kind: &'static str,
    /// What went wrong, starting with the kind: `statusCode: expected 200, got 503`.
    pub message: String,
}

impl fmt::Display for ExpectFailure {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.message)
    }
}

impl std::error::Error for ExpectFailure {}

/// Checks one expectation against a response; `vars` renders the templates in it.
///
/// - `statusCode`: the status is one of the codes; `notStatusCode`: it is none of them. Codes
///   written as templates are rendered first, and one that does not render as a number fails.
/// - `contentType`: the `content-type` header contains the rendered value, ignoring case. The
///   value `json` instead accepts `application/json` and any `+json` type (`application/problem+json`).
///   Unlike Artillery, the body is not required to parse: this check reads headers only.
/// - `hasProperty` / `notHasProperty`: a lodash-style path (`data.items[0].id`, `a["b.c"]`, or a
///   top-level key written as is; a template is rendered first) exists / does not exist in the JSON
///   body. As in Artillery, both fail when the body is not a JSON object or array.
/// - `equals`: all rendered values are equal as strings.
/// - `hasHeader`: the header is present; `headerEquals`: its values, joined by `", "`, equal the
///   rendered value exactly.
/// - `matchesRegexp`: the body (as lossy UTF-8) matches.
pub fn check(e: &Expect, resp: &ResponseView<'_>, vars: &(impl Vars + ?Sized)) -> Result<(), ExpectFailure> {
    let fail =
        |message: String| Err(ExpectFailure { kind: e.kind(), message: format!("{}: {message}", e.kind()) });
    match e {
        Expect::StatusCode(codes) => {
            if codes.contains(&resp.status()) {
                Ok(())
            } else {
                let expected = match codes.as_slice() {
                    [one] => one.to_string(),
                    many => format!("one of {}", join_codes(many)),
                };
                fail(format!("expected {expected}, got {}", resp.status()))
            }
        }
        Expect::NotStatusCode(codes) => {
            if codes.contains(&resp.status()) {
                fail(format!("expected a status other than {}, got {}", join_codes(codes), resp.status()))
            } else {
                Ok(())
            }
        }
        Expect::StatusCodeRendered(templates) | Expect::NotStatusCodeRendered(templates) => {
            let mut codes = Vec::with_capacity(templates.len());
            for template in templates {
                let rendered = template.render(vars);
                match rendered.trim().parse::<u16>() {
                    Ok(code) => codes.push(code),
                    Err(_) => {
                        return fail(format!(
                            "`{}` rendered as {}, which is not a status code",
                            template.source(),
                            excerpt(&rendered)
                        ));
                    }
                }
            }
            let fixed = match e {
                Expect::StatusCodeRendered(_) => Expect::StatusCode(codes),
                _ => Expect::NotStatusCode(codes),
            };
            check(&fixed, resp, vars)
        }
        Expect::ContentType(template) => {
            let expected = template.render(vars);
            let Some(got) = resp.header(&http::header::CONTENT_TYPE) else {
                return fail(format!("expected {}, got no content-type header", excerpt(&expected)));
            };
            if content_type_matches(&got, &expected) {
                Ok(())
            } else {
                fail(format!("expected {}, got {}", excerpt(&expected), excerpt(&got)))
            }
        }
        Expect::HasProperty(path) | Expect::NotHasProperty(path) => {
            let want = matches!(e, Expect::HasProperty(_));
            let Some(json) = resp.json() else {
                return fail("response body is not JSON".to_string());
            };
            if !(json.is_object() || json.is_array()) {
                return fail("response body is not a JSON object or array".to_string());
            }
            match (has_property(json, path), want) {
                (true, true) | (false, false) => Ok(()),
                (false, true) => fail(format!("response body has no `{path}` property")),
                (true, false) => fail(format!("response body has a `{path}` property")),
            }
        }
        Expect::HasPropertyRendered(template) => {
            check(&Expect::HasProperty(template.render(vars)), resp, vars)
        }
        Expect::NotHasPropertyRendered(template) => {
            check(&Expect::NotHasProperty(template.render(vars)), resp, vars)
        }
        Expect::Equals(templates) => {
            let values: Vec<String> = templates.iter().map(|t| t.render(vars)).collect();
            if values.windows(2).all(|w| w[0] == w[1]) {
                Ok(())
            } else {
                let got: Vec<String> = values.iter().map(|v| format!("{:?}", excerpt(v))).collect();
                fail(format!("expected all values to be equal, got {}", got.join(", ")))
            }
        }
        Expect::HasHeader(name) => {
            if resp.headers().contains_key(name) {
                Ok(())
            } else {
                fail(format!("response has no {name} header"))
            }
        }
        Expect::HeaderEquals(name, template) => {
            let Some(got) = resp.header(name) else {
                return fail(format!("response has no {name} header"));
            };
            let expected = template.render(vars);
            if got == expected {
                Ok(())
            } else {
                fail(format!("expected {name} to be {:?}, got {:?}", excerpt(&expected), excerpt(&got)))
            }
        }
        Expect::MatchesRegexp(regex) => {
            if regex.is_match(&resp.text()) {
                Ok(())
            } else {
                fail(format!("response body does not match /{}/", regex.as_str()))
            }
        }
    }
}

/// `200, 201`.
fn join_codes(codes: &[u16]) -> String {
    codes.iter().map(u16::to_string).collect::<Vec<_>>().join(", ")
}

/// Whether a `content-type` header value satisfies `contentType: expected`.
fn content_type_matches(header: &str, expected: &str) -> bool {
    let header = header.to_ascii_lowercase();
    let expected = expected.trim().to_ascii_lowercase();
    if expected == "json" {
        // Any of several values (joined by ", ") may be JSON; the media type is before `;`.
        header.split(',').any(|value| {
            let essence = value.split(';').next().unwrap_or("").trim();
            essence == "application/json" || essence.ends_with("+json")
        })
    } else {
        header.contains(&expected)
    }
}

/// Whether `path` exists in `root`, like lodash's `_.has`: a key equal to the whole path counts;
/// otherwise the path is split into keys at `.` and `[...]` (quoted brackets may hold any text).
/// Array elements are reached by number; scalars have no properties.
fn has_property(root: &Value, path: &str) -> bool {
    if root.as_object().is_some_and(|o| o.contains_key(path)) {
        return true;
    }
    let keys = property_keys(path);
    if keys.is_empty() {
        return false;
    }
    let mut node = root;
    for key in &keys {
        let next = match node {
            Value::Object(map) => map.get(key.as_str()),
            Value::Array(items) => key.parse::<usize>().ok().and_then(|i| items.get(i)),
            _ => None,
        };
        match next {
            Some(v) => node = v,
            None => return false,
        }
    }
    true
}

/// Splits `a.b[0]["c.d"]` into `a`, `b`, `0`, `c.d`. Empty unquoted keys are dropped; an
/// unclosed bracket or quote takes the rest of the path.
fn property_keys(path: &str) -> Vec<String> {
    let mut keys = Vec::new();
    let mut current = String::new();
    let mut chars = path.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '.' => {
                if !current.is_empty() {
                    keys.push(std::mem::take(&mut current));
                }
            }
            '[' => {
                if !current.is_empty() {
                    keys.push(std::mem::take(&mut current));
                }
                let quote = chars.next_if(|&q| q == '"' || q == '\'');
                let mut key = String::new();
                match quote {
                    Some(q) => {
                        while let Some(c) = chars.next() {
                            match c {
                                '\\' => key.extend(chars.next()),
                                c if c == q => break,
                                c => key.push(c),
                            }
                        }
                        // Skip to the closing bracket.
                        for c in chars.by_ref() {
                            if c == ']' {
                                break;
                            }
                        }
                        keys.push(key);
                    }
                    None => {
                        for c in chars.by_ref() {
                            if c == ']' {
                                break;
                            }
                            key.push(c);
                        }
                        if !key.is_empty() {
                            keys.push(key);
                        }
                    }
                }
            }
            c => current.push(c),
        }
    }
    if !current.is_empty() {
        keys.push(current);
    }
    keys
}

#[cfg(test)]
mod tests {
    use super::*;
    use hornet_script::template::Template;
    use http::{HeaderMap, HeaderName, HeaderValue};
    use serde_json::json;

    type TestVars = Vec<(String, Value)>;

    fn vars() -> TestVars {
        vec![("name".into(), json!("Tiki")), ("n".into(), json!(200)), ("ct".into(), json!("text/html"))]
    }

    fn tpl(s: &str) -> Template {
        Template::compile(s).unwrap()
    }

    fn headers(pairs: &[(&str, &str)]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (k, v) in pairs {
            h.append(HeaderName::from_bytes(k.as_bytes()).unwrap(), HeaderValue::from_str(v).unwrap());
        }
        h
    }

    /// Checks `e` against a response with `status`, `headers` and `body`.
    fn run(e: &Expect, status: u16, h: &[(&str, &str)], body: &str) -> Result<(), ExpectFailure> {
        let h = headers(h);
        let resp = ResponseView::new(status, &h, body.as_bytes());
        check(e, &resp, &vars())
    }

    fn fails(e: &Expect, message: &str) -> Result<(), ExpectFailure> {
        Err(ExpectFailure { kind: e.kind(), message: message.to_string() })
    }

    #[test]
    fn status_code() {
        let e = Expect::StatusCode(vec![200]);
        assert_eq!(run(&e, 200, &[], ""), Ok(()));
        assert_eq!(run(&e, 503, &[], ""), fails(&e, "statusCode: expected 200, got 503"));
        let e = Expect::StatusCode(vec![200, 201]);
        assert_eq!(run(&e, 201, &[], ""), Ok(()));
        assert_eq!(run(&e, 404, &[], ""), fails(&e, "statusCode: expected one of 200, 201, got 404"));
        assert_eq!(run(&e, 404, &[], "").unwrap_err().kind, "statusCode");
    }

    #[test]
    fn status_codes_written_as_templates_are_rendered_for_each_response() {
        let e = Expect::StatusCodeRendered(vec![tpl("{{ n }}"), tpl("201")]);
        assert_eq!(run(&e, 200, &[], ""), Ok(()));
        assert_eq!(run(&e, 201, &[], ""), Ok(()));
        assert_eq!(run(&e, 404, &[], ""), fails(&e, "statusCode: expected one of 200, 201, got 404"));
        let e = Expect::NotStatusCodeRendered(vec![tpl("{{ n }}")]);
        assert_eq!(run(&e, 503, &[], ""), Ok(()));
        assert_eq!(
            run(&e, 200, &[], ""),
            fails(&e, "notStatusCode: expected a status other than 200, got 200")
        );
        let e = Expect::StatusCodeRendered(vec![tpl("{{ name }}")]);
        assert_eq!(
            run(&e, 200, &[], ""),
            fails(&e, "statusCode: `{{ name }}` rendered as Tiki, which is not a status code")
        );
    }

    #[test]
    fn a_property_path_written_as_a_template_is_rendered_for_each_response() {
        let e = Expect::HasPropertyRendered(tpl("items[0].{{ name }}"));
        assert_eq!(run(&e, 200, &[], r#"{"items": [{"Tiki": 1}]}"#), Ok(()));
        assert_eq!(
            run(&e, 200, &[], r#"{"items": [{"Kon": 1}]}"#),
            fails(&e, "hasProperty: response body has no `items[0].Tiki` property")
        );
        let e = Expect::NotHasPropertyRendered(tpl("{{ name }}"));
        assert_eq!(run(&e, 200, &[], r#"{"other": 1}"#), Ok(()));
        assert_eq!(run(&e, 200, &[], r#"{"Tiki": 1}"#).unwrap_err().kind, "notHasProperty");
    }

    #[test]
    fn not_status_code() {
        let e = Expect::NotStatusCode(vec![500, 502]);
        assert_eq!(run(&e, 200, &[], ""), Ok(()));
        assert_eq!(
            run(&e, 502, &[], ""),
            fails(&e, "notStatusCode: expected a status other than 500, 502, got 502")
        );
        assert_eq!(run(&e, 502, &[], "").unwrap_err().kind, "notStatusCode");
    }

    #[test]
    fn content_type() {
        let json_ct = Expect::ContentType(tpl("json"));
        assert_eq!(run(&json_ct, 200, &[("content-type", "application/json")], ""), Ok(()));
        assert_eq!(run(&json_ct, 200, &[("Content-Type", "Application/JSON; charset=utf-8")], ""), Ok(()));
        assert_eq!(run(&json_ct, 200, &[("content-type", "application/problem+json")], ""), Ok(()));
        assert_eq!(
            run(&json_ct, 200, &[("content-type", "text/html")], "{}"),
            fails(&json_ct, "contentType: expected json, got text/html")
        );
        // `json` means the media type, not any mention of json.
        assert_eq!(
            run(&json_ct, 200, &[("content-type", "text/plain; note=json")], ""),
            fails(&json_ct, "contentType: expected json, got text/plain; note=json")
        );
        assert_eq!(
            run(&json_ct, 200, &[], "{}"),
            fails(&json_ct, "contentType: expected json, got no content-type header")
        );

        let html = Expect::ContentType(tpl("{{ ct }}"));
        assert_eq!(run(&html, 200, &[("content-type", "TEXT/HTML; charset=UTF-8")], ""), Ok(()));
        assert_eq!(
            run(&html, 200, &[("content-type", "text/plain")], ""),
            fails(&html, "contentType: expected text/html, got text/plain")
        );
        let exact = Expect::ContentType(tpl("application/json"));
        assert_eq!(run(&exact, 200, &[("content-type", "application/json; charset=utf-8")], ""), Ok(()));
    }

    const BODY: &str = r#"{"results": [{"id": 1, "tags": ["a"]}], "a.b": true, "n": null, "x": {"y z": 0}}"#;

    #[test]
    fn has_property_passes() {
        for path in [
            "results",
            "results[0]",
            "results[0].id",
            "results.0.id",
            "results[0].tags[0]",
            "a.b",
            "n",
            "x['y z']",
            "x[\"y z\"]",
        ] {
            let e = Expect::HasProperty(path.to_string());
            assert_eq!(run(&e, 200, &[], BODY), Ok(()), "{path}");
        }
        assert_eq!(run(&Expect::HasProperty("[1]".into()), 200, &[], "[0, 1]"), Ok(()));
    }

    #[test]
    fn has_property_fails() {
        for path in
            ["missing", "results[1]", "results[0].name", "results[0].id.more", "results.x", "a", "x.y", ""]
        {
            let e = Expect::HasProperty(path.to_string());
            assert_eq!(
                run(&e, 200, &[], BODY),
                fails(&e, &format!("hasProperty: response body has no `{path}` property"))
            );
        }
        let e = Expect::HasProperty("results".into());
        assert_eq!(run(&e, 200, &[], "<html></html>"), fails(&e, "hasProperty: response body is not JSON"));
        assert_eq!(run(&e, 200, &[], ""), fails(&e, "hasProperty: response body is not JSON"));
        assert_eq!(
            run(&e, 200, &[], "\"results\""),
            fails(&e, "hasProperty: response body is not a JSON object or array")
        );
    }

    #[test]
    fn not_has_property() {
        let e = Expect::NotHasProperty("error".into());
        assert_eq!(run(&e, 200, &[], BODY), Ok(()));
        assert_eq!(
            run(&e, 200, &[], r#"{"error": "boom"}"#),
            fails(&e, "notHasProperty: response body has a `error` property")
        );
        let e = Expect::NotHasProperty("results[0].id".into());
        assert_eq!(
            run(&e, 200, &[], BODY),
            fails(&e, "notHasProperty: response body has a `results[0].id` property")
        );
        assert_eq!(run(&e, 200, &[], "oops"), fails(&e, "notHasProperty: response body is not JSON"));
        assert_eq!(run(&e, 200, &[], "{}"), Ok(()));
        assert_eq!(
            run(&e, 200, &[], "12"),
            fails(&e, "notHasProperty: response body is not a JSON object or array")
        );
        assert_eq!(run(&e, 200, &[], "12").unwrap_err().kind, "notHasProperty");
    }

    #[test]
    fn equals() {
        let e = Expect::Equals(vec![tpl("Tiki"), tpl("{{ name }}")]);
        assert_eq!(run(&e, 200, &[], ""), Ok(()));
        let e = Expect::Equals(vec![tpl("200"), tpl("{{ n }}"), tpl("{{n}}")]);
        assert_eq!(run(&e, 200, &[], ""), Ok(()));
        let e = Expect::Equals(vec![tpl("Tiki"), tpl("{{ name }}"), tpl("{{ missing }}")]);
        assert_eq!(
            run(&e, 200, &[], ""),
            fails(&e, r#"equals: expected all values to be equal, got "Tiki", "Tiki", """#)
        );
        assert_eq!(run(&Expect::Equals(vec![tpl("alone")]), 200, &[], ""), Ok(()));
    }

    #[test]
    fn has_header() {
        let e = Expect::HasHeader(HeaderName::from_static("x-request-id"));
        assert_eq!(run(&e, 200, &[("X-Request-Id", "r1")], ""), Ok(()));
        assert_eq!(
            run(&e, 200, &[("x-other", "r1")], ""),
            fails(&e, "hasHeader: response has no x-request-id header")
        );
    }

    #[test]
    fn header_equals() {
        let e = Expect::HeaderEquals(HeaderName::from_static("x-pet"), tpl("{{ name }}"));
        assert_eq!(run(&e, 200, &[("X-Pet", "Tiki")], ""), Ok(()));
        assert_eq!(
            run(&e, 200, &[("x-pet", "tiki")], ""),
            fails(&e, r#"headerEquals: expected x-pet to be "Tiki", got "tiki""#)
        );
        assert_eq!(
            run(&e, 200, &[("x-pet", "Tiki"), ("x-pet", "Bob")], ""),
            fails(&e, r#"headerEquals: expected x-pet to be "Tiki", got "Tiki, Bob""#)
        );
        assert_eq!(run(&e, 200, &[], ""), fails(&e, "headerEquals: response has no x-pet header"));
        let both = Expect::HeaderEquals(HeaderName::from_static("vary"), tpl("a, b"));
        assert_eq!(run(&both, 200, &[("vary", "a"), ("vary", "b")], ""), Ok(()));
    }

    #[test]
    fn matches_regexp() {
        let e = Expect::MatchesRegexp(regex::Regex::new(r"^\{.*ok").unwrap());
        assert_eq!(run(&e, 200, &[], r#"{"status": "ok"}"#), Ok(()));
        assert_eq!(
            run(&e, 200, &[], "fail"),
            fails(&e, r"matchesRegexp: response body does not match /^\{.*ok/")
        );
        let h = HeaderMap::new();
        let resp = ResponseView::new(200, &h, b"{\xFF ok");
        assert_eq!(check(&e, &resp, &vars()), Ok(()));
    }

    #[test]
    fn json_body_is_parsed_once_across_checks() {
        let h = HeaderMap::new();
        let resp = ResponseView::new(200, &h, BODY.as_bytes());
        for path in ["results", "missing", "a.b"] {
            let _ = check(&Expect::HasProperty(path.into()), &resp, &vars());
            let _ = check(&Expect::NotHasProperty(path.into()), &resp, &vars());
        }
        assert_eq!(resp.parses.get(), (1, 0));
    }

    #[test]
    fn property_paths_split_like_lodash() {
        assert_eq!(property_keys("a.b[0].c"), ["a", "b", "0", "c"]);
        assert_eq!(property_keys(r#"a["b.c"]['d\'e'].f"#), ["a", "b.c", "d'e", "f"]);
        assert_eq!(property_keys("[0][1]"), ["0", "1"]);
        assert_eq!(property_keys("a..b."), ["a", "b"]);
        assert_eq!(property_keys(r#"a[""]"#), ["a", ""]);
        assert_eq!(property_keys("a[1"), ["a", "1"]);
        assert_eq!(property_keys("a[\"x"), ["a", "x"]);
        assert!(property_keys("").is_empty());
    }
}
