//! Generated scripts (proptest): keys hornet knows and random ones in any order, values of every
//! type where another is expected, unicode and control characters, deep nesting and YAML anchors
//! and aliases (some to anchors that do not exist) never panic the parser, and every error it
//! gives has a line and a column. The case count is bounded so the test runs in seconds.

use hornet_script::{LoadOptions, parse_str};
use proptest::prelude::*;
use proptest::test_runner::Config;

/// A YAML value to render: scalars are already rendered text.
#[derive(Debug, Clone)]
enum Yaml {
    Scalar(String),
    Seq(Vec<Yaml>),
    Map(Vec<(String, Yaml)>),
    /// `&aN value`.
    Anchored(u8, Box<Yaml>),
    /// `*aN`: an anchor that may or may not have been defined before.
    Alias(u8),
}

/// Keys hornet reads somewhere in a script besides those of phases, requests and steps (below),
/// so generated maps reach its checks, not only the unknown-key error.
const OTHER_KEYS: &[&str] = &[
    "config",
    "target",
    "phases",
    "requestRate",
    "http",
    "timeout",
    "pool",
    "expectedStatus",
    "maxCaptureBody",
    "defaults",
    "variables",
    "payload",
    "path",
    "fields",
    "ensure",
    "p95",
    "maxErrorRate",
    "thresholds",
    "plugins",
    "processor",
    "environments",
    "scenarios",
    "flow",
    "weight",
    "before",
    "after",
    "as",
    "regexp",
    "count",
    "over",
    "statusCode",
    "engine",
    "connect",
    "send",
    "<<",
];

/// A scalar: numbers (huge, negative, fractional, not finite), booleans and nulls, durations,
/// templates and expressions, and any string (control characters and unicode included) quoted.
fn scalar() -> impl Strategy<Value = String> {
    prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|f| f.to_string()),
        prop::sample::select(vec![
            "true",
            "false",
            "null",
            "~",
            ".inf",
            "-.inf",
            ".nan",
            "0",
            "-1",
            "1e309",
            "10s",
            "500ms",
            "2.5 min",
            "\"{{ id }}\"",
            "\"{{ $env.HOME || 'x' }}\"",
            "\"{{ $uuid }}\"",
            "\"{{\"",
            "\"$.items[0]\"",
            "http://127.0.0.1:8080",
            "\"/items/{{ n }}\"",
            "''",
            "\"\"",
            "!!str 1",
            "!!binary aGk=",
            "|\n  text",
        ])
        .prop_map(str::to_owned),
        "[a-zA-Z0-9_ ./-]{1,12}".prop_map(|s| format!("\"{s}\"")),
        any::<String>().prop_map(|s| quoted(&s)),
    ]
}

/// `text` as a YAML double-quoted string (JSON's escapes are YAML's).
fn quoted(text: &str) -> String {
    serde_json::to_string(text).unwrap_or_else(|_| "\"\"".to_owned())
}

/// A mapping key: mostly one hornet knows, sometimes any string.
fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        2 => prop::sample::select(OTHER_KEYS).prop_map(str::to_owned),
        1 => prop::sample::select(PHASE_KEYS).prop_map(str::to_owned),
        1 => prop::sample::select(REQUEST_KEYS).prop_map(str::to_owned),
        1 => prop::sample::select(ACTIONS).prop_map(str::to_owned),
        1 => any::<String>().prop_map(|s| quoted(&s)),
    ]
}

/// Any value, nested up to 6 levels.
fn value() -> impl Strategy<Value = Yaml> {
    let leaf = prop_oneof![8 => scalar().prop_map(Yaml::Scalar), 1 => (0u8..4).prop_map(Yaml::Alias)];
    leaf.prop_recursive(6, 48, 5, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..5).prop_map(Yaml::Seq),
            prop::collection::vec((key(), inner.clone()), 0..5).prop_map(Yaml::Map),
            (0u8..4, inner).prop_map(|(n, v)| Yaml::Anchored(n, Box::new(v))),
        ]
    })
}

/// Anchors defined so far in the text being rendered: an alias to another one is rendered as a
/// plain scalar, so most aliases resolve and the script reaches the checks behind YAML's.
#[derive(Default)]
struct Anchors([bool; 4]);

/// The entries of a map, each key once (the first).
fn unique(entries: &[(String, Yaml)]) -> impl Iterator<Item = &(String, Yaml)> {
    entries
        .iter()
        .enumerate()
        .filter(|(i, (k, _))| !entries[..*i].iter().any(|(seen, _)| seen == k))
        .map(|(_, e)| e)
}

/// Renders `v` in flow style.
fn flow(v: &Yaml, out: &mut String, anchors: &mut Anchors) {
    match v {
        Yaml::Scalar(s) if s.contains('\n') => out.push_str(&quoted(s)),
        Yaml::Scalar(s) => out.push_str(s),
        Yaml::Seq(items) => {
            out.push('[');
            for (i, item) in items.iter().enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                flow(item, out, anchors);
            }
            out.push(']');
        }
        Yaml::Map(entries) => {
            out.push('{');
            for (i, (k, item)) in unique(entries).enumerate() {
                if i > 0 {
                    out.push_str(", ");
                }
                out.push_str(k);
                out.push_str(": ");
                flow(item, out, anchors);
            }
            out.push('}');
        }
        Yaml::Anchored(n, item) => {
            out.push_str(&format!("&a{n} "));
            flow(item, out, anchors);
            anchors.0[usize::from(*n)] = true;
        }
        Yaml::Alias(n) if anchors.0[usize::from(*n)] => out.push_str(&format!("*a{n}")),
        Yaml::Alias(n) => out.push_str(&format!("a{n}")),
    }
}

/// Renders `v` in block style at `indent`, its values nested deeper than `depth_left` in flow
/// style.
fn block(v: &Yaml, indent: usize, depth_left: usize, out: &mut String, anchors: &mut Anchors) {
    let pad = " ".repeat(indent);
    match v {
        Yaml::Map(entries) if depth_left > 0 && !entries.is_empty() => {
            for (k, item) in unique(entries) {
                out.push_str(&format!("\n{pad}{k}:"));
                block_item(item, indent, depth_left, out, anchors);
            }
        }
        Yaml::Seq(items) if depth_left > 0 && !items.is_empty() => {
            for item in items {
                out.push_str(&format!("\n{pad}-"));
                block_item(item, indent, depth_left, out, anchors);
            }
        }
        _ => {
            out.push(' ');
            flow(v, out, anchors);
        }
    }
}

fn block_item(item: &Yaml, indent: usize, depth_left: usize, out: &mut String, anchors: &mut Anchors) {
    match item {
        Yaml::Map(e) if !e.is_empty() => block(item, indent + 2, depth_left - 1, out, anchors),
        Yaml::Seq(s) if !s.is_empty() => block(item, indent + 2, depth_left - 1, out, anchors),
        _ => {
            out.push(' ');
            flow(item, out, anchors);
        }
    }
}

/// Keys of a phase and of a step's request, which generated phases and steps are made of.
const PHASE_KEYS: &[&str] = &[
    "duration",
    "arrivalRate",
    "rampTo",
    "arrivalCount",
    "users",
    "pause",
    "maxVusers",
    "pacing",
    "name",
    "mode",
];
const REQUEST_KEYS: &[&str] = &[
    "url",
    "json",
    "body",
    "qs",
    "form",
    "headers",
    "capture",
    "expect",
    "ifTrue",
    "name",
    "followRedirect",
    "gzip",
    "cookie",
    "auth",
    "match",
    "beforeRequest",
    "afterResponse",
    "formData",
];
const ACTIONS: &[&str] =
    &["get", "post", "put", "patch", "delete", "loop", "think", "log", "function", "parallel"];

/// A map of some of `keys` (right names, any values), or now and then any value.
fn made_of(keys: &'static [&'static str]) -> impl Strategy<Value = Yaml> {
    let entry = (prop::sample::select(keys).prop_map(str::to_owned), value());
    prop_oneof![
        6 => prop::collection::vec(entry, 0..5).prop_map(Yaml::Map),
        1 => value(),
    ]
}

/// A step: an action whose value is a request map, with other keys beside it at times.
fn step() -> impl Strategy<Value = Yaml> {
    (prop::sample::select(ACTIONS), made_of(REQUEST_KEYS), prop::collection::vec((key(), value()), 0..2))
        .prop_map(|(action, request, extra)| {
            let mut entries = vec![(action.to_owned(), request)];
            entries.extend(extra);
            Yaml::Map(entries)
        })
}

/// A script: most of the time a target, phases and a scenario whose steps are generated, then
/// other sections of any value in any order; rendered in block style to a generated depth, in
/// flow style below it.
fn script() -> impl Strategy<Value = String> {
    let section = prop::sample::select(vec!["config", "scenarios", "before", "after", "x-extra"]);
    (
        prop::collection::vec(made_of(PHASE_KEYS), 0..3),
        prop::collection::vec(step(), 0..4),
        prop::collection::vec((section, value()), 0..3),
        prop::bool::weighted(0.8),
        0usize..4,
    )
        .prop_map(|(phases, steps, sections, skeleton, depth)| {
            let mut out = String::new();
            let mut anchors = Anchors::default();
            if skeleton {
                out.push_str("config:\n  target: \"http://127.0.0.1:8080\"\n  phases:");
                block(&Yaml::Seq(phases), 4, depth + 1, &mut out, &mut anchors);
                out.push_str("\nscenarios:\n  - flow:");
                block(&Yaml::Seq(steps), 6, depth + 1, &mut out, &mut anchors);
                out.push('\n');
            }
            for (name, v) in sections {
                out.push_str(name);
                out.push(':');
                block(&v, 2, depth, &mut out, &mut anchors);
                out.push('\n');
            }
            out
        })
}

/// Parses `src`; an error must have a position and the usual form.
fn parses_or_says_where(src: &str) -> Result<(), TestCaseError> {
    if let Err(e) = parse_str(src, "gen.yaml", &LoadOptions::default()) {
        prop_assert!(e.line >= 1 && e.column >= 1, "error without a position: {e}\n--- script:\n{src}");
        prop_assert!(e.to_string().starts_with("error: "), "{e}");
    }
    Ok(())
}

fn config(cases: u32) -> Config {
    Config { cases, failure_persistence: None, ..Config::default() }
}

proptest! {
    #![proptest_config(config(400))]

    #[test]
    fn generated_scripts_load_or_fail_with_a_position(src in script()) {
        parses_or_says_where(&src)?;
    }
}

proptest! {
    #![proptest_config(config(64))]

    #[test]
    fn deep_nesting_loads_or_fails_with_a_position(
        depth in 1usize..3000,
        open in prop::sample::select(vec!["[", "{a: ", "- "]),
        place in prop::sample::select(vec!["config:\n  variables:\n    v: ", "scenarios:\n  - flow:\n      - loop: "]),
    ) {
        let mut src = place.to_owned();
        if open == "- " {
            for level in 0..depth.min(400) {
                src.push('\n');
                src.push_str(&" ".repeat(8 + level * 2));
                src.push_str("- ");
            }
            src.push_str("1\n");
        } else {
            src.push_str(&open.repeat(depth));
            src.push('1');
            src.push_str(&(if open == "[" { "]" } else { "}" }).repeat(depth));
            src.push('\n');
        }
        parses_or_says_where(&src)?;
    }
}
