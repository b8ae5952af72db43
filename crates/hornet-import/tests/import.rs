//! `import_har` on hand-written HAR fragments: correlation (and the values it must leave alone),
//! noise filtering, redirects, structure, and bad input. Every script made here must load in
//! hornet's own parser.

use hornet_import::{CaptureKind, Imported, Options, Reason, Think, import_har};
use serde_json::{Value, json};

/// One HAR entry: `(method, url, request extras, status, response headers, mime, body)`.
struct E {
    method: &'static str,
    url: String,
    headers: Vec<(&'static str, String)>,
    post: Option<(&'static str, String)>,
    status: i64,
    response_headers: Vec<(&'static str, String)>,
    mime: &'static str,
    body: String,
    at_ms: u64,
    resource_type: Option<&'static str>,
}

fn get(url: &str) -> E {
    E {
        method: "GET",
        url: url.to_string(),
        headers: vec![("User-Agent", "Mozilla/5.0 test".into()), ("Accept-Language", "en".into())],
        post: None,
        status: 200,
        response_headers: vec![],
        mime: "text/html",
        body: String::new(),
        at_ms: 0,
        resource_type: None,
    }
}

impl E {
    fn post(mut self, mime: &'static str, text: &str) -> E {
        self.method = "POST";
        self.post = Some((mime, text.to_string()));
        self
    }
    fn method(mut self, method: &'static str) -> E {
        self.method = method;
        self
    }
    fn header(mut self, name: &'static str, value: &str) -> E {
        self.headers.push((name, value.to_string()));
        self
    }
    fn answer(mut self, status: i64, mime: &'static str, body: &str) -> E {
        self.status = status;
        self.mime = mime;
        self.body = body.to_string();
        self
    }
    fn response_header(mut self, name: &'static str, value: &str) -> E {
        self.response_headers.push((name, value.to_string()));
        self
    }
    fn at(mut self, ms: u64) -> E {
        self.at_ms = ms;
        self
    }
    fn kind(mut self, t: &'static str) -> E {
        self.resource_type = Some(t);
        self
    }
}

fn pairs(list: &[(&str, String)]) -> Value {
    Value::Array(list.iter().map(|(n, v)| json!({"name": n, "value": v})).collect())
}

fn har(entries: Vec<E>) -> String {
    let entries: Vec<Value> = entries
        .into_iter()
        .enumerate()
        .map(|(i, e)| {
            let at = if e.at_ms == 0 { i as u64 * 100 } else { e.at_ms };
            let mut request = json!({
                "method": e.method, "url": e.url, "httpVersion": "HTTP/1.1",
                "headers": pairs(&e.headers), "queryString": [], "cookies": [], "headersSize": -1, "bodySize": 0,
            });
            if let Some((mime, text)) = e.post {
                request["postData"] = json!({"mimeType": mime, "text": text});
            }
            let mut entry = json!({
                "startedDateTime": format!("2026-12-07T10:00:{:02}.{:03}Z", at / 1000, at % 1000),
                "time": 20,
                "request": request,
                "response": {
                    "status": e.status, "statusText": "", "httpVersion": "HTTP/1.1",
                    "headers": pairs(&e.response_headers), "cookies": [],
                    "content": {"size": e.body.len(), "mimeType": e.mime, "text": e.body},
                    "redirectURL": "", "headersSize": -1, "bodySize": -1,
                },
                "cache": {}, "timings": {"send": 0, "wait": 20, "receive": 0},
            });
            if let Some(t) = e.resource_type {
                entry["_resourceType"] = json!(t);
            }
            entry
        })
        .collect();
    json!({"log": {"version": "1.2", "creator": {"name": "test", "version": "1"}, "entries": entries}})
        .to_string()
}

/// Imports and checks that both scripts load in hornet.
fn import(text: &str, options: &Options) -> Imported {
    let imported = import_har(text, options).unwrap_or_else(|e| panic!("import failed: {e}"));
    for (which, yaml) in [("script", &imported.yaml), ("check script", &imported.check_yaml)] {
        if let Err(e) = hornet_script::parse_str(yaml, "imported.yaml", &Default::default()) {
            panic!("the {which} does not load:\n{e}\n---\n{yaml}");
        }
    }
    imported
}

fn opts() -> Options {
    Options::new("rec.har")
}

const H: &str = "http://127.0.0.1:9000";

#[test]
fn a_login_flow_is_correlated_with_the_right_capture_kinds() {
    let login_page = r#"<html><body><form action="/login" method="post">
        <input type="hidden" name="csrf" value="c5rf7a1b2c3d4e5"><input name="username"><input name="password" type="password">
        </form></body></html>"#;
    let home = r#"<html><body><a class="order" href="/orders/ord9x1k2">first</a>
        <a class="order" href="/orders/ord7q8w9">second</a><p>Page 1 of 1, 2026-12-07, 1000 items</p></body></html>"#;
    let text = har(vec![
        get(&format!("{H}/")).answer(200, "text/html", login_page).kind("document"),
        get(&format!("{H}/login"))
            .post("application/x-www-form-urlencoded", "csrf=c5rf7a1b2c3d4e5&username=alice&password=s3cret%21")
            .answer(200, "text/html", home)
            .response_header("Set-Cookie", "sid=5e55104aa1b2; Path=/; HttpOnly"),
        get(&format!("{H}/orders/ord7q8w9?page=1&sort=asc&fresh=true"))
            .header("Cookie", "sid=5e55104aa1b2")
            .answer(200, "text/html", "<p>order</p>")
            .kind("document"),
        get(&format!("{H}/api/login"))
            .post("application/json", r#"{"user":"alice","password":"s3cret!"}"#)
            .answer(200, "application/json", r#"{"token":"tok-8f14e45fceea167a","ttl":1000,"ok":true}"#)
            .response_header("X-Request-Token", "rq-55aa66bb77"),
        get(&format!("{H}/api/orders/ord7q8w9/items"))
            .header("Authorization", "Bearer tok-8f14e45fceea167a")
            .header("X-Request-Token", "rq-55aa66bb77")
            .answer(200, "application/json", r#"{"items":[{"sku":"SKU-00042a","qty":1}]}"#),
        get(&format!("{H}/api/cart"))
            .post("application/json", r#"{"sku":"SKU-00042a","order":"ord7q8w9","qty":1,"date":"2026-12-07","count":1000,"gift":true}"#)
            .header("Authorization", "Bearer tok-8f14e45fceea167a")
            .answer(201, "application/json", "{}"),
    ]);
    let imported = import(&text, &opts());
    let by_var = |name: &str| {
        imported.correlations.iter().find(|c| c.variable == name).unwrap_or_else(|| {
            panic!("no correlation `{name}` in {:#?}\n{}", imported.correlations, imported.yaml)
        })
    };
    assert_eq!(
        by_var("csrf").kind,
        CaptureKind::Selector { selector: "input[name=\"csrf\"]".into(), attr: Some("value".into()) }
    );
    assert_eq!(by_var("csrf").captured_at, 1);
    let order = by_var("orderId");
    assert!(matches!(order.kind, CaptureKind::Regexp(_)), "{:?}", order.kind);
    assert_eq!(order.captured_at, 2);
    assert_eq!(order.used_at.len(), 3, "path of #3 and #5, json of #6: {:?}", order.used_at);
    assert_eq!(by_var("token").kind, CaptureKind::Json("$.token".into()));
    assert_eq!(by_var("xRequestToken").kind, CaptureKind::Header("x-request-token".into()));
    assert_eq!(by_var("sku").kind, CaptureKind::Json("$.items[0].sku".into()));
    assert_eq!(imported.correlations.len(), 5, "{:#?}", imported.correlations);
    // The second link was clicked: the regexp takes the second match.
    assert!(imported.yaml.contains("index: 1"), "{}", imported.yaml);
    // The session cookie is the jar's: never written.
    assert!(!imported.yaml.contains("5e55104aa1b2"), "{}", imported.yaml);
    // The password is a variable, once, used by both logins.
    assert_eq!(imported.secrets, vec!["password".to_string()]);
    assert!(imported.yaml.contains("    password: \"s3cret!\""), "{}", imported.yaml);
    assert_eq!(imported.yaml.matches("s3cret").count(), 1, "{}", imported.yaml);
    assert_eq!(imported.yaml.matches("\"{{ password }}\"").count(), 2, "{}", imported.yaml);
    // Common values stay literal: small numbers, flags, dates, words.
    for literal in
        ["qty: 1", "count: 1000", "gift: true", "date: \"2026-12-07\"", "page=1&sort=asc&fresh=true"]
    {
        assert!(imported.yaml.contains(literal), "`{literal}` in\n{}", imported.yaml);
    }
    assert!(
        imported.yaml.contains("url: \"/orders/{{ orderId }}?page=1&sort=asc&fresh=true\""),
        "{}",
        imported.yaml
    );
    assert!(imported.yaml.contains("authorization: \"Bearer {{ token }}\""), "{}", imported.yaml);
    // Header sent by every request: hoisted; the target factored out.
    assert!(
        imported.yaml.contains("  defaults:\n    headers:\n      user-agent: \"Mozilla/5.0 test\"\n"),
        "{}",
        imported.yaml
    );
    assert!(imported.yaml.contains("  target: \"http://127.0.0.1:9000\""), "{}", imported.yaml);
    assert_eq!(imported.yaml.matches("Mozilla").count(), 1);
}

#[test]
fn values_typed_or_sent_before_any_response_are_not_captured() {
    // The search term goes out first and is echoed back; the later request resends it. It was
    // typed, not generated: no capture.
    let text = har(vec![
        get(&format!("{H}/search?q=widget2000x")).answer(
            200,
            "application/json",
            r#"{"query":"widget2000x","id":"r4nd0m1d"}"#,
        ),
        get(&format!("{H}/search/more?q=widget2000x&after=r4nd0m1d")).answer(200, "application/json", "{}"),
    ]);
    let imported = import(&text, &opts());
    assert_eq!(imported.correlations.len(), 1, "{:#?}", imported.correlations);
    assert_eq!(imported.correlations[0].kind, CaptureKind::Json("$.id".into()));
    assert!(imported.yaml.contains("q=widget2000x&after={{ id }}"), "{}", imported.yaml);
}

#[test]
fn short_common_values_in_responses_are_never_captured() {
    let text = har(vec![
        get(&format!("{H}/api/a")).answer(
            200,
            "application/json",
            r#"{"page":1,"ok":true,"year":2026,"day":"2026-12-07","lang":"en-US","kind":"items","price":"19.99","version":"1.2.3"}"#,
        ),
        get(&format!("{H}/api/items/1?ok=true&year=2026&day=2026-12-07&lang=en-US&kind=items&price=19.99&v=1.2.3")),
    ]);
    let imported = import(&text, &opts());
    assert!(imported.correlations.is_empty(), "{:#?}", imported.correlations);
    assert!(!imported.yaml.contains("capture"), "{}", imported.yaml);
}

#[test]
fn noise_is_left_out_and_listed() {
    let text = har(vec![
        get(&format!("{H}/")).kind("document").answer(200, "text/html", "<html></html>"),
        get(&format!("{H}/static/app.css")).answer(200, "text/css", "body{}"),
        get(&format!("{H}/static/app.js")).answer(200, "application/javascript", ""),
        get(&format!("{H}/logo")).kind("image").answer(200, "image/png", ""),
        get(&format!("{H}/font.woff2")).answer(200, "application/octet-stream", ""),
        get("https://www.google-analytics.com/g/collect?v=2").answer(204, "text/plain", ""),
        get("https://cdn.other-site.net/api/x").answer(200, "application/json", "{}"),
        get("chrome-extension://abcdef/page.js"),
        get(&format!("{H}/api/data"))
            .method("OPTIONS")
            .header("Access-Control-Request-Method", "GET")
            .answer(204, "text/plain", ""),
        get(&format!("{H}/api/beacon")).answer(0, "", ""),
        get(&format!("{H}/api/data")).answer(200, "application/json", "{}"),
        get(&format!("{H}/api/healthz")).answer(200, "application/json", "{}"),
    ]);
    let mut options = opts();
    options.exclude = vec!["/api/health*".into()];
    let imported = import(&text, &options);
    let urls: Vec<&str> = imported.requests.iter().map(|r| r.url.as_str()).collect();
    assert_eq!(urls, [format!("{H}/"), format!("{H}/api/data")]);
    let reasons: Vec<String> = imported.skipped.iter().map(|s| s.reason.to_string()).collect();
    assert_eq!(
        reasons,
        [
            "static asset (text/css)",
            "static asset (application/javascript)",
            "static asset (image)",
            "static asset (.woff2)",
            "third-party host www.google-analytics.com",
            "third-party host cdn.other-site.net",
            "browser-internal (chrome-extension: URL)",
            "browser-internal (CORS preflight)",
            "no response recorded (blocked, cancelled or failed)",
            "--exclude /api/health*",
        ]
    );
    assert!(
        imported.yaml.contains("#   GET https://www.google-analytics.com/g/collect?v=2: third-party host"),
        "{}",
        imported.yaml
    );
    // --include-host brings a host back, written with its full URL.
    options.include_hosts = vec!["cdn.other-site.net".into()];
    let imported = import(&text, &options);
    assert!(imported.yaml.contains("url: \"https://cdn.other-site.net/api/x\""), "{}", imported.yaml);
    assert!(
        imported
            .skipped
            .iter()
            .all(|s| !matches!(&s.reason, Reason::ThirdParty(h) if h == "cdn.other-site.net"))
    );
}

#[test]
fn a_redirect_and_its_follow_up_are_one_request() {
    let text = har(vec![
        get(&format!("{H}/login"))
            .post("application/x-www-form-urlencoded", "user=bob")
            .answer(303, "text/plain", "")
            .response_header("Location", "/home")
            .response_header("Set-Cookie", "sid=abc123def456; Path=/"),
        get(&format!("{H}/home")).answer(200, "text/html", r#"<a href="/doc/d0c5e7f1">doc</a>"#),
        get(&format!("{H}/doc/d0c5e7f1")).header("Cookie", "sid=abc123def456"),
    ]);
    let imported = import(&text, &opts());
    assert_eq!(imported.requests.len(), 2);
    assert_eq!(imported.requests[0].recorded_status, 200, "the status after the redirect");
    let revalidated =
        har(vec![get(&format!("{H}/page")).header("If-None-Match", "\"v1\"").answer(304, "text/html", "")]);
    let imported_304 = import(&revalidated, &opts());
    assert_eq!(imported_304.requests[0].recorded_status, 200, "no validators are sent, so 200 is expected");
    assert!(!imported_304.yaml.contains("if-none-match"), "{}", imported_304.yaml);
    // The link on the page the redirect led to is captured on the POST (hornet follows).
    assert_eq!(imported.correlations.len(), 1);
    assert_eq!(imported.correlations[0].captured_at, 1);
    assert!(imported.yaml.contains("1 redirect(s) are followed by hornet"), "{}", imported.yaml);
}

#[test]
fn think_comes_from_the_recorded_pauses_or_the_option() {
    let text = har(vec![
        get(&format!("{H}/")).kind("document").at(1000),
        get(&format!("{H}/api/a")).answer(200, "application/json", "{}").at(1100),
        get(&format!("{H}/next")).kind("document").at(4520),
        get(&format!("{H}/api/b")).answer(200, "application/json", "{}").at(4600),
    ]);
    let imported = import(&text, &opts());
    // 4520 - (1100 + 20) = 3400 ms before the second page; the 60 ms gap is not a think.
    assert_eq!(imported.yaml.matches("- think:").count(), 1, "{}", imported.yaml);
    assert!(
        imported.yaml.contains("- think: 3.4\n      # Page 2: http://127.0.0.1:9000/next"),
        "{}",
        imported.yaml
    );
    let mut options = opts();
    options.think = Think::None;
    assert!(!import(&text, &options).yaml.contains("think"));
    options.think = "2.5".parse().unwrap();
    assert!(import(&text, &options).yaml.contains("- think: 2.5\n"));
    assert!("soon".parse::<Think>().is_err());
    options.target = Some("https://staging.example.com".into());
    assert!(import(&text, &options).yaml.contains("target: \"https://staging.example.com\""));
}

#[test]
fn pages_of_the_file_group_the_requests() {
    let text = har(vec![get(&format!("{H}/a")), get(&format!("{H}/api/x")), get(&format!("{H}/b"))]);
    let mut doc: Value = serde_json::from_str(&text).unwrap();
    doc["log"]["pages"] = json!([{"id": "p1", "title": "First page"}, {"id": "p2", "title": "Second page"}]);
    for (i, page) in ["p1", "p1", "p2"].iter().enumerate() {
        doc["log"]["entries"][i]["pageref"] = json!(page);
    }
    let imported = import(&doc.to_string(), &opts());
    assert!(imported.yaml.contains("# Page 1: First page — http://127.0.0.1:9000/a"), "{}", imported.yaml);
    assert!(imported.yaml.contains("# Page 2: Second page — http://127.0.0.1:9000/b"), "{}", imported.yaml);
    assert_eq!(imported.yaml.matches("# Page").count(), 2);
}

#[test]
fn har_1_1_form_params_and_odd_bodies() {
    let mut doc: Value = serde_json::from_str(&har(vec![
        get(&format!("{H}/form")).post("application/x-www-form-urlencoded", ""),
        get(&format!("{H}/upload")).post("application/octet-stream", "\u{0}\u{1}PNG"),
        get(&format!("{H}/raw")).post("text/plain", "hello: world"),
        get(&format!("{H}/json")).post("application/json", "{not json"),
    ]))
    .unwrap();
    doc["log"]["version"] = json!("1.1");
    doc["log"]["entries"][0]["request"]["postData"] = json!({"mimeType": "application/x-www-form-urlencoded", "params": [{"name": "a", "value": "x+y"}, {"name": "b"}]});
    // A response body stored as base64 (HAR 1.2) with a token in it.
    doc["log"]["entries"][2]["response"]["content"] = json!({"mimeType": "application/json", "encoding": "base64", "text": "eyJrZXkiOiJrZXktMTIzNDVhYmMifQ=="});
    doc["log"]["entries"][3]["request"]["url"] = json!(format!("{H}/json?k=key-12345abc"));
    let imported = import(&doc.to_string(), &opts());
    let yaml = &imported.yaml;
    assert!(yaml.contains("# HAR 1.1"), "{yaml}");
    assert!(yaml.contains("form:\n            a: \"x y\"\n            b: \"\"\n"), "{yaml}");
    assert!(
        yaml.contains("binary body (application/octet-stream, 5 bytes as recorded) not imported"),
        "{yaml}"
    );
    assert!(yaml.contains("body: \"hello: world\"\n"), "{yaml}");
    assert!(yaml.contains("body: \"{not json\"\n"), "{yaml}");
    assert_eq!(imported.correlations.len(), 1, "{yaml}");
    assert_eq!(imported.correlations[0].kind, CaptureKind::Json("$.key".into()));
}

#[test]
fn bad_input_is_an_error_not_a_panic() {
    let err = |text: &str| import_har(text, &opts()).unwrap_err().to_string();
    assert!(err("").contains("rec.har:1:0: the JSON ends early"), "{}", err(""));
    let truncated = &har(vec![get(&format!("{H}/"))])[..150];
    assert!(err(truncated).contains("cut off"), "{}", err(truncated));
    assert!(err(r#"{"log": {"entries": []}}"#).contains("holds no requests"));
    assert!(
        err(r#"{"log": {"entries": "x"}}"#).starts_with("rec.har:1:"),
        "{}",
        err(r#"{"log": {"entries": "x"}}"#)
    );
    let only_noise = har(vec![
        get("https://www.google-analytics.com/collect").kind("document"),
        get(&format!("{H}/a.css")),
    ]);
    let message = err(&only_noise.replace("www.google-analytics.com", "127.0.0.1:9000/x.png?"));
    assert!(message.contains("were left out as noise"), "{message}");
    let no_web = har(vec![get("data:text/plain,hi")]);
    assert!(err(&no_web).contains("no http:// or https:// request"), "{}", err(&no_web));
}

#[test]
fn a_value_only_in_a_cookie_is_reported_not_guessed() {
    let text = har(vec![
        get(&format!("{H}/")).response_header("Set-Cookie", "XSRF-TOKEN=x5rf0a1b2c3; Path=/"),
        get(&format!("{H}/api/save"))
            .post("application/json", "{}")
            .header("X-XSRF-TOKEN", "x5rf0a1b2c3")
            .header("Cookie", "XSRF-TOKEN=x5rf0a1b2c3; consent=yes; _old=9z8y7x6w5v"),
    ]);
    let imported = import(&text, &opts());
    assert!(imported.correlations.is_empty());
    assert!(
        imported.unresolved.iter().any(|u| u.contains("cookie `XSRF-TOKEN` set by #1")),
        "{:?}",
        imported.unresolved
    );
    assert!(imported.unresolved.iter().any(|u| u.contains("cookie `_old`")), "{:?}", imported.unresolved);
    // A static cookie from before the recording starts every virtual user.
    assert!(imported.yaml.contains("    cookie:\n      consent: \"yes\"\n"), "{}", imported.yaml);
}

#[test]
fn recorded_braces_are_not_read_as_templates_and_a_bom_is_skipped() {
    let text = har(vec![
        get(&format!("{H}/save"))
            .post("application/json", r#"{"template":"Hello {{ name }}","tags":["{{x"]}"#)
            .header("X-Note", "a {{ b"),
        get(&format!("{H}/raw")).post("text/plain", "{{ unclosed"),
    ]);
    let imported = import(&format!("\u{feff}{text}"), &opts());
    assert!(
        !imported.yaml.lines().any(|l| !l.trim_start().starts_with('#') && l.contains("{{")),
        "{}",
        imported.yaml
    );
    assert!(imported.yaml.contains("template: \"Hello { { name }}\""), "{}", imported.yaml);
    assert!(imported.yaml.contains("x-note: \"a { { b\""), "{}", imported.yaml);
    assert_eq!(
        imported.yaml.matches("which hornet reads as the start of a template").count(),
        2,
        "{}",
        imported.yaml
    );
}

#[test]
fn a_json_body_nested_too_deep_for_a_script_is_kept_as_text() {
    let deep = format!("{}1{}", "[".repeat(60), "]".repeat(60));
    let shallow = format!("{}1{}", "[".repeat(40), "]".repeat(40));
    let text = har(vec![
        get(&format!("{H}/deep")).post("application/json", &deep),
        get(&format!("{H}/shallow")).post("application/json", &shallow),
    ]);
    let imported = import(&text, &opts());
    assert!(imported.yaml.contains("nested more than 50 levels: kept as text"), "{}", imported.yaml);
    assert!(imported.yaml.contains(&format!("body: \"{deep}\"")), "{}", imported.yaml);
    assert!(imported.yaml.contains("content-type: application/json"), "{}", imported.yaml);
    assert_eq!(imported.yaml.matches("kept as text").count(), 1, "the 40-deep body stays json");
}
