//! JUnit XML: golden structure of a constructed report, escaping, counts, and well-formedness.

mod support;

use hornet_metrics::CheckReport;
use hornet_output::junit::render_junit;
use support::{assert_golden, empty_report, report};

/// Checks that `xml` is well-formed in the subset this writer produces (declaration, elements,
/// attributes in double quotes, text, entity and character references) and returns the element
/// names in document order.
fn well_formed(xml: &str) -> Vec<String> {
    fn check_refs(s: &str, what: &str) {
        let mut rest = s;
        while let Some(i) = rest.find('&') {
            let tail = &rest[i + 1..];
            let end = tail.find(';').unwrap_or_else(|| panic!("unterminated reference in {what}: {s:?}"));
            let name = &tail[..end];
            let ok = ["amp", "lt", "gt", "quot", "apos"].contains(&name)
                || name
                    .strip_prefix('#')
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()));
            assert!(ok, "bad reference &{name}; in {what}");
            rest = &tail[end + 1..];
        }
        assert!(!s.contains('<'), "raw < in {what}: {s:?}");
    }
    let body = xml.strip_prefix("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n").expect("XML declaration");
    let mut stack: Vec<String> = Vec::new();
    let mut names = Vec::new();
    let mut rest = body;
    while !rest.is_empty() {
        let lt = rest.find('<').unwrap_or(rest.len());
        check_refs(&rest[..lt], "text");
        assert!(!rest[..lt].contains('>'), "raw > in text");
        if !stack.is_empty() || rest[..lt].trim().is_empty() {
        } else {
            panic!("text outside the root element: {:?}", &rest[..lt]);
        }
        rest = &rest[lt..];
        if rest.is_empty() {
            break;
        }
        // A tag: scan to its '>' outside quoted attribute values.
        let mut in_quotes = false;
        let end = rest
            .char_indices()
            .find(|&(_, c)| {
                if c == '"' {
                    in_quotes = !in_quotes;
                }
                c == '>' && !in_quotes
            })
            .map(|(i, _)| i)
            .expect("unterminated tag");
        let tag = &rest[1..end];
        rest = &rest[end + 1..];
        if let Some(name) = tag.strip_prefix('/') {
            assert_eq!(stack.pop().as_deref(), Some(name), "mismatched end tag");
            continue;
        }
        let self_closing = tag.ends_with('/');
        let tag = tag.trim_end_matches('/');
        let (name, mut attrs) = tag.split_once(' ').unwrap_or((tag, ""));
        assert!(!name.is_empty() && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '-'), "{name}");
        let mut seen = Vec::new();
        loop {
            attrs = attrs.trim_start();
            if attrs.is_empty() {
                break;
            }
            let (key, after) = attrs.split_once("=\"").unwrap_or_else(|| panic!("bad attribute in <{tag}>"));
            let close = after.find('"').expect("unterminated attribute");
            check_refs(&after[..close], "an attribute");
            assert!(!seen.contains(&key), "duplicate attribute {key}");
            seen.push(key);
            attrs = &after[close + 1..];
        }
        names.push(name.to_owned());
        if !self_closing {
            stack.push(name.to_owned());
        }
        assert!(stack.len() <= 1 || names[0] == "testsuites");
    }
    assert!(stack.is_empty(), "unclosed elements {stack:?}");
    names
}

/// The value of `attr` on the first element `<elem` of `xml`.
fn attribute(xml: &str, elem: &str, attr: &str) -> String {
    let start = xml.find(&format!("<{elem} ")).unwrap_or_else(|| panic!("no <{elem}>"));
    let tag = &xml[start..start + xml[start..].find('>').unwrap()];
    let at =
        tag.find(&format!(" {attr}=\"")).unwrap_or_else(|| panic!("no {attr} on {tag}")) + attr.len() + 3;
    tag[at..at + tag[at..].find('"').unwrap()].to_owned()
}

#[test]
fn golden_structure() {
    let xml = render_junit(&report());
    well_formed(&xml);
    assert_golden("junit.xml", &xml);
}

#[test]
fn counts_match_the_test_cases_and_the_exit_code() {
    let r = report();
    let xml = render_junit(&r);
    let names = well_formed(&xml);
    let count = |n: &str| names.iter().filter(|e| *e == n).count();
    // 4 checks, statusCode on search, contentType on login.
    assert_eq!(count("testsuite"), 1);
    assert_eq!(count("testcase"), 6);
    assert_eq!(count("failure"), 3, "errors.timeout, expectations, and contentType on login");
    assert_eq!(count("skipped"), 1, "the non-strict condition only warns");
    for elem in ["testsuites", "testsuite"] {
        assert_eq!(attribute(&xml, elem, "tests"), "6");
        assert_eq!(attribute(&xml, elem, "failures"), "3");
        assert_eq!(attribute(&xml, elem, "skipped"), "1");
        assert_eq!(attribute(&xml, elem, "errors"), "0");
        assert_eq!(attribute(&xml, elem, "time"), "3.500");
    }
    assert_eq!(attribute(&xml, "testsuite", "name"), "hornet");
    assert_eq!(attribute(&xml, "testsuite", "timestamp"), r.run.started_at);
    assert!(r.failed_checks() > 0);

    // Everything passing: no failure, no skipped, and expectations are plain passes.
    let mut passing = report();
    for c in &mut passing.checks {
        c.ok = true;
    }
    passing.endpoints[1].expectations.failed_by_kind.clear();
    let xml = render_junit(&passing);
    let names = well_formed(&xml);
    assert!(!names.iter().any(|n| n == "failure" || n == "skipped"), "{xml}");
    assert_eq!(attribute(&xml, "testsuite", "failures"), "0");
}

#[test]
fn failed_expectations_only_fail_when_they_fail_the_run() {
    let mut r = report();
    r.checks.retain(|c| c.name != "expectations");
    let xml = render_junit(&r);
    well_formed(&xml);
    assert!(xml.contains(
        "<testcase classname=\"hornet.expectations\" name=\"POST /login &quot;admin&quot;: contentType\" time=\"0\">\n      \
         <skipped message=\"warning: contentType failed 1 of 3 time(s)\"/>"
    ), "{xml}");
    assert_eq!(attribute(&xml, "testsuite", "failures"), "1");
}

#[test]
fn markup_in_names_and_details_is_escaped() {
    let mut r = report();
    r.checks = vec![CheckReport {
        name: "a < b && c > \"d\" 'e'".into(),
        ok: false,
        strict: true,
        detail: "line 1 <&>\nline 2\u{1}".into(),
    }];
    let xml = render_junit(&r);
    well_formed(&xml);
    assert!(xml.contains("name=\"a &lt; b &amp;&amp; c &gt; &quot;d&quot; &apos;e&apos;\""), "{xml}");
    assert!(
        xml.contains("<failure message=\"line 1 &lt;&amp;&gt;&#10;line 2\u{FFFD}\" type=\"check\">"),
        "{xml}"
    );
    assert!(xml.contains(">line 1 &lt;&amp;&gt;\nline 2\u{FFFD}</failure>"), "{xml}");
    assert!(xml.contains("<property name=\"run.script\" value=\"examples/shop &amp; co.yml\"/>"), "{xml}");
}

#[test]
fn a_run_without_checks_is_an_empty_suite() {
    let xml = render_junit(&empty_report());
    let names = well_formed(&xml);
    assert_eq!(
        names,
        ["testsuites", "testsuite", "properties"]
            .iter()
            .copied()
            .chain(std::iter::repeat_n("property", names.len() - 3))
            .collect::<Vec<_>>()
    );
    assert_eq!(attribute(&xml, "testsuite", "tests"), "0");
    assert!(!xml.contains("run.script"), "no property for an unknown script");
}
