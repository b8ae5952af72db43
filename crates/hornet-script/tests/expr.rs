//! The expression language of `ifTrue` and `ensure` conditions.

use std::cell::RefCell;
use std::collections::HashMap;

use hornet_script::expr::{Expr, truthy};
use hornet_script::rng::SplitMix64;
use serde_json::{Value, json};

fn compile(src: &str) -> Expr {
    Expr::compile(src).unwrap_or_else(|e| panic!("{src:?}: {e:?}"))
}

fn map(v: Value) -> HashMap<String, Value> {
    match v {
        Value::Object(m) => m.into_iter().collect(),
        _ => HashMap::new(),
    }
}

/// Evaluates `src` over the variables in `vars` (an object).
fn eval_with(src: &str, vars: &Value) -> Value {
    let m = map(vars.clone());
    compile(src).eval(&|n| m.get(n).cloned())
}

fn eval(src: &str) -> Value {
    eval_with(src, &json!({}))
}

#[test]
fn precedence_and_associativity() {
    for (src, want) in [
        ("1 + 2 * 3", json!(7)),
        ("(1 + 2) * 3", json!(9)),
        ("10 - 4 - 3", json!(3)),
        ("2 * 3 % 4", json!(2)),
        ("24 / 4 / 2", json!(3.0)),
        ("-2 * 3", json!(-6)),
        ("- (2 + 3)", json!(-5)),
        ("--4", json!(4)),
        ("1 + 2 < 4", json!(true)),
        ("1 < 2 == 2 < 3", json!(true)),
        ("true or false and false", json!(true)),
        ("(true or false) and false", json!(false)),
        ("not false and false", json!(false)),
        ("not (false and false)", json!(true)),
        // As in filtrex, `not` binds tighter than comparisons: (not 1) == false.
        ("not 1 == false", json!(true)),
        ("not not 3", json!(true)),
        ("1 == 1 and 2 != 3 or 0", json!(true)),
    ] {
        assert_eq!(eval(src), want, "{src}");
    }
}

#[test]
fn arithmetic_details() {
    assert_eq!(eval("7 / 2"), json!(3.5));
    assert_eq!(eval("-7 % 3"), json!(-1));
    assert_eq!(eval("7.5 % 2"), json!(1.5));
    assert_eq!(eval("0.1 + 0.2 > 0.3"), json!(true));
    assert_eq!(eval("1e2 + 1"), json!(101.0));
    assert_eq!(eval("2.5e-1"), json!(0.25));
    assert_eq!(eval("1 / 0"), Value::Null, "non-finite results are null");
    assert_eq!(eval("1 % 0"), Value::Null);
    assert_eq!(eval("9223372036854775807 + 1"), json!(9_223_372_036_854_775_808.0), "overflow goes float");
    assert_eq!(eval("'a' + 1 + 2"), json!("a12"));
    assert_eq!(eval("1 + 2 + 'a'"), json!("3a"));
    assert_eq!(eval("'x' + true"), json!("xtrue"));
    assert_eq!(eval("'5' * 2"), json!(10.0), "numeric strings convert");
    assert_eq!(eval("'five' * 2"), Value::Null);
    assert_eq!(eval("true + true"), json!(2));
    assert_eq!(eval_with("n + 1", &json!({})), Value::Null, "missing names are null");
    assert_eq!(eval_with("n + 'x'", &json!({})), json!("x"));
    assert_eq!(eval("-'3'"), json!(-3.0));
    assert_eq!(eval("-'a'"), Value::Null);
}

#[test]
fn strings_and_escapes() {
    assert_eq!(eval(r#""a\"b" + 'c\'d' + "\\\n\t\r""#), json!("a\"bc'd\\\n\t\r"));
    assert_eq!(eval("'é😀'"), json!("é😀"));
    assert_eq!(eval("'' == \"\""), json!(true));
}

#[test]
fn mixed_type_comparisons() {
    for (src, want) in [
        ("200 == '200'", true),
        ("'200' == 200", true),
        ("200 == '200.0'", true),
        ("200 != ' 200 '", false),
        ("200 == 'abc'", false),
        ("1 == 1.0", true),
        ("10 < '9'", false),
        ("'10' < '9'", true), // two strings compare as text
        ("'abc' < 'abd'", true),
        ("'b' >= 'a'", true),
        ("3 > '2.5'", true),
        ("'a' < 1", false),
        ("'a' >= 1", false),
        ("true == 1", false),
        ("true > 0", true),
        ("true == true", true),
        ("'true' == true", false),
        ("9007199254740993 == 9007199254740992", false), // integers compare exactly
        ("-1 < 18446744073709551615", true),
    ] {
        assert_eq!(eval(src), json!(want), "{src}");
    }
    let v = json!({"nil": null, "arr": [1, 2], "obj": {"a": 1}, "arr2": [1, 2]});
    for (src, want) in [
        ("nil == nil", true),
        ("nil == 0", false),
        ("nil < 5", false),
        ("nil >= 5", false),
        ("nope < 5", false),
        ("nope > 5", false),
        ("nope == nil", true),
        ("arr == arr2", true),
        ("arr == obj", false),
        ("arr < 3", false),
    ] {
        assert_eq!(eval_with(src, &v), json!(want), "{src}");
    }
}

#[test]
fn truthiness() {
    let v = json!({"f": false, "n": null, "z": 0, "zf": 0.0, "e": "", "s": "0", "a": [], "o": {}, "one": 1});
    for (name, want) in [
        ("f", false),
        ("n", false),
        ("z", false),
        ("zf", false),
        ("e", false),
        ("s", true),
        ("a", true),
        ("o", true),
        ("one", true),
        ("missing", false),
    ] {
        let m = map(v.clone());
        assert_eq!(compile(name).eval_bool(&|n| m.get(n).cloned()), want, "{name}");
        assert_eq!(truthy(&v[name]), want, "{name}");
    }
}

#[test]
fn and_or_short_circuit() {
    let looked = RefCell::new(Vec::<String>::new());
    let lookup = |n: &str| {
        looked.borrow_mut().push(n.to_string());
        match n {
            "t" => Some(json!(true)),
            "f" => Some(json!(false)),
            _ => None,
        }
    };
    for (src, want, names) in [
        ("f and boom", false, vec!["f"]),
        ("t or boom", true, vec!["t"]),
        ("t and f", false, vec!["t", "f"]),
        ("f or t", true, vec!["f", "t"]),
        ("(f and boom) or (t or bang)", true, vec!["f", "t"]),
    ] {
        looked.borrow_mut().clear();
        assert_eq!(compile(src).eval_bool(&lookup), want, "{src}");
        assert_eq!(*looked.borrow(), names, "{src}");
    }
    // Skipped names are not reported missing; evaluated ones are.
    assert!(compile("f and boom").missing(&lookup).is_empty());
    assert_eq!(compile("t and boom").missing(&lookup), ["boom"]);
}

#[test]
fn dotted_metric_names_are_looked_up_whole() {
    let metrics = map(json!({
        "http.response_time.p99": 150.5,
        "http.request_rate": 1200,
        "vusers.failed": 0,
        "http.codes.200": 990,
        "http.codes.500": 10,
        "apdex": 0.93,
    }));
    let lookup = |n: &str| metrics.get(n).cloned();
    let e = compile("http.response_time.p99 < 200 and http.request_rate > 1000");
    assert!(e.eval_bool(&lookup));
    assert!(e.missing(&lookup).is_empty());
    assert!(compile("vusers.failed == 0").eval_bool(&lookup));
    assert_eq!(compile("http.codes.500 / (http.codes.200 + http.codes.500) * 100").eval(&lookup), json!(1.0));
    assert!(!compile("http.response_time.p99 < 100 or apdex > 0.95").eval_bool(&lookup));

    // A metric that does not exist makes the expression false-ish and is named by `missing`.
    let e = compile("http.response_time.p95 < 200 and http.request_rate > 1");
    assert!(!e.eval_bool(&lookup));
    assert_eq!(e.missing(&lookup), ["http.response_time.p95"]);
    let (value, missing) = compile("vusers.failed == 0 and nope.p99 < 1").eval_with_missing(&lookup);
    assert_eq!((value, missing), (json!(false), vec!["nope.p99".to_string()]));
}

#[test]
fn the_whole_name_wins_over_the_path() {
    let vars = json!({"a.b": 1, "a": {"b": 2, "c": 3}});
    assert_eq!(eval_with("a.b", &vars), json!(1));
    assert_eq!(eval_with("a.c", &vars), json!(3));
}

#[test]
fn paths_fall_back_to_root_and_steps() {
    let vars = json!({
        "user": {"name": "ann", "tags": ["x", "y"], "address": {"city": "Oslo"}},
        "items": [{"id": 7}, {"id": 8, "sub": [[1, 2], [3, 4]]}],
        "$loopElement": {"id": 5},
        "_n1": 2,
    });
    for (src, want) in [
        ("user.name == 'ann'", json!(true)),
        ("user.tags[1]", json!("y")),
        ("user.address.city + '!'", json!("Oslo!")),
        ("items[1].id - items[0].id", json!(1)),
        ("items[1].sub[1][0]", json!(3)),
        ("items.1.id", json!(8)),
        ("$loopElement.id * _n1", json!(10)),
        ("user.nope", Value::Null),
        ("user.tags[5]", Value::Null),
        ("user.name.first", Value::Null),
    ] {
        assert_eq!(eval_with(src, &vars), want, "{src}");
    }
    let m = map(vars);
    let lookup = |n: &str| m.get(n).cloned();
    assert_eq!(compile("user.nope or items[9] or user.name").missing(&lookup), ["user.nope", "items[9]"]);
}

#[test]
fn variables_are_listed_once_as_written() {
    let e = compile("http.codes.200 > 0 and (user.name == 'x' or http.codes.200 < items[0].id) and $uuid");
    assert_eq!(e.variables().collect::<Vec<_>>(), ["http.codes.200", "user.name", "items[0].id", "$uuid"]);
    assert_eq!(
        e.source(),
        "http.codes.200 > 0 and (user.name == 'x' or http.codes.200 < items[0].id) and $uuid"
    );
    assert_eq!(compile("1 + 2").variables().count(), 0);
    // Keywords are not names, but names may contain them.
    let e = compile("notice and order.and");
    assert_eq!(e.variables().collect::<Vec<_>>(), ["notice", "order.and"]);
}

#[test]
fn compile_errors_have_offsets_and_say_what_was_expected() {
    let table: &[(&str, usize, &str)] = &[
        ("", 0, "expected an expression, found the end"),
        ("   ", 3, "expected an expression, found the end"),
        ("a and", 5, "expected an operand after `and`, found the end"),
        ("a and or b", 6, "expected an operand after `and`, found `or`"),
        ("1 +", 3, "expected an operand after `+`"),
        ("1 * * 2", 4, "expected an operand after `*`, found `*`"),
        ("not", 3, "expected an operand after `not`"),
        ("-", 1, "expected an operand after `-`"),
        ("(1 + 2", 6, "expected `)` to close the `(` at offset 0, found the end"),
        ("(1 + 2 3", 7, "expected `)`"),
        ("()", 1, "expected an operand after `(`, found `)`"),
        ("1 + 2)", 5, "unmatched `)`"),
        ("1 2", 2, "expected an operator or the end of the expression, found `2`"),
        ("a b", 2, "expected an operator"),
        ("a = 1", 2, "compare with `==`"),
        ("a == = 1", 5, "compare with `==`"),
        ("!a", 0, "`not`"),
        ("a && b", 2, "`and`"),
        ("a || b", 2, "`or`"),
        ("a ^ 2", 2, "unexpected character `^`"),
        ("a in b", 2, "expected an operator"),
        ("x ? 1 : 2", 2, "unexpected character `?`"),
        ("'abc", 0, "not closed by `'`"),
        ("a == \"abc", 5, "not closed by `\"`"),
        ("'a\\", 0, "not closed"),
        ("'a\\qb'", 2, "unknown escape `\\q`"),
        ("1.2.3", 0, "invalid number"),
        ("2abc", 0, "invalid number"),
        ("1.", 0, "invalid number"),
        ("99999999999999999999999999e999", 0, "out of range"),
        ("a.", 2, "expected a name part after `.`, found the end"),
        ("a..b", 2, "expected a name part after `.`, found `.`"),
        ("a.b. > 1", 4, "expected a name part"),
        ("a[x]", 1, "expected an array index"),
        ("a[1", 1, "expected an array index"),
        ("a[99999999999999999999999]", 2, "too large"),
        ("é > 1", 0, "unexpected character `é`"),
        ("a > 1 and é", 10, "unexpected character `é`"),
        ("abs(1)", 3, "expected an operator"),
    ];
    for &(src, offset, message) in table {
        let e = match Expr::compile(src) {
            Ok(e) => panic!("{src:?} compiled: {e:?}"),
            Err(e) => e,
        };
        assert!(e.message.contains(message), "{src:?}: {:?} should contain {message:?}", e.message);
        assert_eq!(e.offset, offset, "{src:?}: {}", e.message);
    }
}

#[test]
fn deep_nesting_is_an_error_not_a_stack_overflow() {
    for src in [
        "(".repeat(100_000),
        format!("{}1{}", "(".repeat(100_000), ")".repeat(100_000)),
        "not ".repeat(100_000) + "1",
        "-".repeat(100_000) + "1",
        "1 + ".repeat(100_000) + "1",
        "a and ".repeat(10_000) + "b",
    ] {
        let e = Expr::compile(&src).unwrap_err();
        assert!(e.message.contains("nest"), "{}", e.message);
        assert!(e.offset <= src.len());
    }
    // Reasonable nesting still compiles and evaluates.
    let ok = format!("{}1{}", "(".repeat(60), ")".repeat(60));
    assert_eq!(compile(&ok).eval(&|_| None), json!(1));
    let chain = "1 + ".repeat(200) + "1";
    assert_eq!(compile(&chain).eval(&|_| None), json!(201));
}

/// Random token soup compiles or fails with an offset on a character boundary; whatever compiles
/// evaluates without panicking.
#[test]
fn generated_inputs_never_panic() {
    const PIECES: &[&str] = &[
        " ",
        "a",
        "b.c",
        "x[0]",
        "[",
        "]",
        "0",
        "1.5",
        "2e3",
        "'s'",
        "\"t\"",
        "'",
        "\"",
        "\\",
        "(",
        ")",
        "+",
        "-",
        "*",
        "/",
        "%",
        "<",
        "<=",
        ">",
        ">=",
        "==",
        "!=",
        "=",
        "!",
        "and",
        "or",
        "not",
        "true",
        "false",
        ".",
        "é",
        "😀",
        "$",
        "_",
        "http.codes.200",
        "&",
        "|",
        "^",
        "99999999999999999999",
    ];
    let rng = SplitMix64::new(7);
    let vars = map(json!({"a": 1, "b": {"c": "2"}, "x": [0, "s"], "http.codes.200": 5, "$": null}));
    let lookup = |n: &str| vars.get(n).cloned();
    let mut compiled = 0;
    for _ in 0..30_000 {
        let len = (rng.next_u64() % 10) as usize;
        let src: String = (0..len).map(|_| PIECES[(rng.next_u64() % PIECES.len() as u64) as usize]).collect();
        match Expr::compile(&src) {
            Ok(e) => {
                compiled += 1;
                let v = e.eval(&lookup);
                assert_eq!(e.eval_bool(&lookup), truthy(&v), "{src:?}");
                let _ = e.missing(&lookup);
                assert!(e.variables().all(|n| src.contains(n)), "{src:?}");
            }
            Err(err) => {
                assert!(err.offset <= src.len() && src.is_char_boundary(err.offset), "{src:?}: {err:?}");
                assert!(!err.message.is_empty());
            }
        }
    }
    assert!(compiled > 1000, "the generator should also produce valid expressions ({compiled})");
}
