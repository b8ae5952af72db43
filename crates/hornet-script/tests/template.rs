//! Templates: paths, built-ins, functions, typed whole values, compile errors, robustness and
//! allocation behaviour.

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::collections::HashMap;

use hornet_script::rng::SplitMix64;
use hornet_script::template::{
    JsonTemplate, MAX_RANDOM_STRING, PlaceholderKind, Template, TemplateError, Vars,
};
use serde_json::{Value, json};

/// Counts allocations made by the current thread, so a test can assert that rendering does not
/// allocate (tests run on parallel threads; a thread-local count keeps them apart).
struct CountingAlloc;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

// SAFETY: defers to the system allocator; the counter is a const-initialized thread-local `Cell`,
// which never allocates (`try_with` tolerates threads being torn down).
unsafe impl GlobalAlloc for CountingAlloc {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        let _ = ALLOCATIONS.try_with(|c| c.set(c.get() + 1));
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: CountingAlloc = CountingAlloc;

fn allocations_in(f: impl FnOnce()) -> usize {
    let before = ALLOCATIONS.with(Cell::get);
    f();
    ALLOCATIONS.with(Cell::get) - before
}

/// Variables plus a scripted `random()` sequence (repeating), to pin down random output.
struct Scripted {
    vars: Vec<(String, Value)>,
    seq: Vec<u64>,
    next: Cell<usize>,
}

impl Scripted {
    fn new(vars: Value, seq: &[u64]) -> Scripted {
        let vars = match vars {
            Value::Object(m) => m.into_iter().collect(),
            _ => Vec::new(),
        };
        Scripted { vars, seq: seq.to_vec(), next: Cell::new(0) }
    }

    fn draws(&self) -> usize {
        self.next.get()
    }
}

impl Vars for Scripted {
    fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }
    fn random(&self) -> u64 {
        let i = self.next.get();
        self.next.set(i + 1);
        self.seq[i % self.seq.len()]
    }
}

/// A seeded VU-like implementation, as the runner would write it.
struct Seeded {
    vars: HashMap<String, Value>,
    rng: SplitMix64,
}

impl Vars for Seeded {
    fn get(&self, name: &str) -> Option<&Value> {
        self.vars.get(name)
    }
    fn random(&self) -> u64 {
        self.rng.next_u64()
    }
}

fn vars(v: Value) -> Vec<(String, Value)> {
    match v {
        Value::Object(m) => m.into_iter().collect(),
        _ => Vec::new(),
    }
}

fn data() -> Vec<(String, Value)> {
    vars(json!({
        "user": {"name": "ann", "age": 31, "tags": ["a", "b"], "nil": null, "ok": true},
        "items": [{"id": 7, "sizes": [[1, 2], [3, 4]]}, {"id": 8}],
        "a": {"b": [10, 20, 30], "x.y": "dotted"},
        "id": 42,
        "s": "plain",
        "$uuid": "0d1b5b0e-8a3e-4d5c-9c3e-2f1f5f8f0a11",
        "$loopCount": 3,
        "$loopElement": {"id": 99, "name": "el"},
        "$testId": "t123",
        "$environment": "staging",
    }))
}

fn render(src: &str) -> String {
    Template::compile(src).unwrap_or_else(|e| panic!("{src}: {e:?}")).render(&data())
}

fn missing(src: &str) -> Option<String> {
    let t = Template::compile(src).unwrap();
    let mut out = String::new();
    t.render_into(&data(), &mut out).map(str::to_string)
}

fn err(src: &str) -> TemplateError {
    match Template::compile(src) {
        Ok(t) => panic!("{src:?} compiled: {t:?}"),
        Err(e) => e,
    }
}

#[test]
fn paths_follow_keys_and_indices() {
    assert_eq!(render("{{ user.name }}"), "ann");
    assert_eq!(render("{{user.tags[1]}}"), "b");
    assert_eq!(render("{{ items[0].id }}/{{ items[1].id }}"), "7/8");
    assert_eq!(render("{{ a.b[2] }}"), "30");
    assert_eq!(render("{{ items[0].sizes[1][0] }}"), "3", "nested arrays");
    assert_eq!(render("{{ items.1.id }}"), "8", "a numeric key indexes an array");
    assert_eq!(render("{{ a['x.y'] }}{{ a[\"x.y\"] }}"), "dotteddotted");
    assert_eq!(render("{{ a[ 1 ] }}"), "");
    assert_eq!(render("{{ a.b[ 1 ] }}"), "20", "spaces inside brackets");
}

#[test]
fn missing_paths_render_empty_and_are_reported_as_written() {
    for (src, rendered, reported) in [
        ("x{{ nope.name }}y", "xy", "nope.name"),
        ("x{{ user.nope }}y", "xy", "user.nope"),
        ("x{{ user.name.first }}y", "xy", "user.name.first"),
        ("x{{ a.b[3] }}y", "xy", "a.b[3]"),
        ("x{{ items[0].sizes[0][9] }}y", "xy", "items[0].sizes[0][9]"),
        ("x{{ user[0] }}y", "xy", "user[0]"),
        ("x{{ id.a }}y", "xy", "id.a"),
        ("{{ id }}{{ user.zz }}{{ qq }}", "42", "user.zz"),
    ] {
        assert_eq!(render(src), rendered, "{src}");
        assert_eq!(missing(src).as_deref(), Some(reported), "{src}");
    }
    // A value that exists but is null is not missing.
    assert_eq!(render("[{{ user.nil }}]"), "[]");
    assert_eq!(missing("[{{ user.nil }}]"), None);
}

#[test]
fn values_inside_larger_strings() {
    assert_eq!(render("n={{ user.age }} ok={{ user.ok }} s={{ s }}"), "n=31 ok=true s=plain");
    assert_eq!(render("t={{ user.tags }}"), r#"t=["a","b"]"#);
    assert_eq!(render("o={{ $loopElement }}"), r#"o={"id":99,"name":"el"}"#);
}

#[test]
fn builtin_variables_come_from_vars() {
    assert_eq!(render("{{ $uuid }}"), "0d1b5b0e-8a3e-4d5c-9c3e-2f1f5f8f0a11");
    assert_eq!(render("#{{ $loopCount }}"), "#3");
    assert_eq!(render("{{ $loopElement.id }}-{{ $loopElement.name }}"), "99-el");
    assert_eq!(render("{{ $testId }}@{{ $environment }}"), "t123@staging");
    assert_eq!(missing("{{ $loopElement.zz }}").as_deref(), Some("$loopElement.zz"));
    assert_eq!(
        missing("{{ $dirname }}").as_deref(),
        Some("$dirname"),
        "an unknown built-in is a missing variable"
    );

    let t =
        Template::compile("{{ $uuid }}{{ user.name }}{{ $loopElement.id }}{{ $randomNumber(1,2) }}{{ id }}")
            .unwrap();
    assert_eq!(t.variables().collect::<Vec<_>>(), ["user", "id"]);
    assert_eq!(t.builtins().collect::<Vec<_>>(), ["$uuid", "$loopElement"]);
}

#[test]
fn placeholders_carry_spans_and_kinds() {
    let src = "a {{ user.name }} {{$uuid}} {{ $randomString(3) }} {{ $env.HORNET_TPL_TEST_UNSET_1 || 'u' }}";
    let t = Template::compile(src).unwrap();
    let ps: Vec<_> = t.placeholders().collect();
    assert_eq!(ps.len(), 4);
    assert_eq!(&src[ps[0].span.clone()], "{{ user.name }}");
    assert_eq!(ps[0].text, "user.name");
    assert_eq!(ps[0].kind, PlaceholderKind::Variable { root: "user" });
    assert_eq!(&src[ps[1].span.clone()], "{{$uuid}}");
    assert_eq!(ps[1].kind, PlaceholderKind::Builtin { root: "$uuid" });
    assert_eq!(ps[2].text, "$randomString(3)");
    assert_eq!(ps[2].kind, PlaceholderKind::Function { name: "$randomString" });
    assert_eq!(ps[3].kind, PlaceholderKind::Env { name: "HORNET_TPL_TEST_UNSET_1" });
}

#[test]
fn whole_variable_is_the_path_as_written() {
    assert_eq!(Template::compile("{{ item.id }}").unwrap().whole_variable(), Some("item.id"));
    assert_eq!(Template::compile("{{$loopElement}}").unwrap().whole_variable(), Some("$loopElement"));
    assert_eq!(Template::compile("x{{ id }}").unwrap().whole_variable(), None);
    assert_eq!(Template::compile("{{ $timestamp }}").unwrap().whole_variable(), None);
}

#[test]
fn random_number_is_inclusive_and_follows_the_random_sequence() {
    let t = Template::compile("{{ $randomNumber(1, 10) }}").unwrap();
    // The draw maps u64 linearly onto the range: 0 → min, MAX → max, 2^63 → the middle.
    assert_eq!(t.render(&Scripted::new(json!({}), &[0])), "1");
    assert_eq!(t.render(&Scripted::new(json!({}), &[u64::MAX])), "10");
    assert_eq!(t.render(&Scripted::new(json!({}), &[1 << 63])), "6");
    let neg = Template::compile("{{ $randomNumber(-5,-3) }}").unwrap();
    assert_eq!(neg.render(&Scripted::new(json!({}), &[0])), "-5");
    assert_eq!(neg.render(&Scripted::new(json!({}), &[u64::MAX])), "-3");
    let same = Template::compile("{{$randomNumber(4,4)}}").unwrap();
    assert_eq!(same.render(&data()), "4");
    // Every value of a small range shows up, and nothing outside it.
    let v = Seeded { vars: HashMap::new(), rng: SplitMix64::new(1) };
    let t = Template::compile("{{ $randomNumber(-2, 2) }}").unwrap();
    let mut seen = [false; 5];
    for _ in 0..500 {
        let n: i64 = t.render(&v).parse().unwrap();
        assert!((-2..=2).contains(&n), "{n}");
        seen[(n + 2) as usize] = true;
    }
    assert_eq!(seen, [true; 5]);
    // Extreme bounds do not overflow.
    let wide = Template::compile("{{ $randomNumber(-9223372036854775808, 9223372036854775807) }}").unwrap();
    assert_eq!(wide.render(&Scripted::new(json!({}), &[5])), "5");
}

#[test]
fn random_string_is_alphanumeric_of_the_given_length() {
    let t = Template::compile("{{ $randomString(4) }}").unwrap();
    let v = Scripted::new(json!({}), &[0, u64::MAX, 1 << 63, 0]);
    assert_eq!(t.render(&v), "A9fA", "one draw per character");
    assert_eq!(v.draws(), 4);
    let long = Template::compile("{{ $randomString(200) }}").unwrap().render(&data());
    assert_eq!(long.len(), 200);
    assert!(long.bytes().all(|b| b.is_ascii_alphanumeric()));
    assert_eq!(Template::compile("<{{ $randomString(0) }}>").unwrap().render(&data()), "<>");
}

#[test]
fn placeholders_artillery_cannot_read_are_kept_as_written() {
    let src =
        "/s?d={{ $moment().format('YYYY-MM-DD') }}&z={{ zip[$randomIndex(zip)] }}&n={{ a + b }}&id={{ id }}";
    let t = Template::compile(src).unwrap();
    assert_eq!(
        t.render(&data()),
        "/s?d={{ $moment().format('YYYY-MM-DD') }}&z={{ zip[$randomIndex(zip)] }}&n={{ a + b }}&id=42"
    );
    let kept: Vec<&str> = t.verbatim().map(|r| &src[r]).collect();
    assert_eq!(kept, ["{{ $moment().format('YYYY-MM-DD') }}", "{{ zip[$randomIndex(zip)] }}", "{{ a + b }}"]);
    assert_eq!(t.variables().collect::<Vec<_>>(), ["id"]);
    // What Artillery would call, and hornet's own functions written wrongly, stay errors.
    assert!(Template::compile("{{ $nope(1, b) }}").is_err());
    assert!(Template::compile("{{ $randomNumber(1, 2 }}").is_err());
    assert!(Template::compile("{{ a[1 }}").is_err());
}

#[test]
fn random_string_without_a_length_has_artillerys_ten_characters() {
    let t = Template::compile("<{{ $randomString() }}>").unwrap();
    let v = Scripted::new(json!({}), &[0; 10]);
    assert_eq!(t.render(&v), "<AAAAAAAAAA>");
    assert_eq!(v.draws(), 10);
}

#[test]
fn seeded_vars_render_reproducibly() {
    let t = Template::compile("{{ $randomString(12) }}-{{ $randomNumber(0, 1000000) }}").unwrap();
    let run = |seed| {
        let v = Seeded { vars: HashMap::new(), rng: SplitMix64::new(seed) };
        (0..3).map(|_| t.render(&v)).collect::<Vec<_>>()
    };
    assert_eq!(run(42), run(42));
    assert_ne!(run(42), run(43));
    let first = run(42);
    assert_ne!(first[0], first[1], "successive renders differ");
}

#[test]
fn timestamp_is_wall_clock_millis() {
    let now =
        || std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_millis() as u64;
    for src in ["{{ $timestamp }}", "{{ $timestamp() }}", "{{$timestamp( )}}"] {
        let t = Template::compile(src).unwrap();
        let before = now();
        let n: u64 = t.render(&data()).parse().unwrap();
        let v = t.render_value(&data());
        let after = now();
        assert!(before <= n && n <= after, "{src}: {before} <= {n} <= {after}");
        assert!(v.as_u64().is_some_and(|x| before <= x && x <= after), "{src}: {v}");
    }
    assert!(Template::compile("t={{ $timestamp }}").unwrap().render(&data()).starts_with("t=1"));
}

#[test]
fn env_is_resolved_once_at_compile_time() {
    const NAME: &str = "HORNET_TEMPLATE_TEST_ENV_7F3A";
    // SAFETY: only this test touches this uniquely named variable.
    unsafe { std::env::set_var(NAME, "first") };
    let t =
        Template::compile(&format!("a={{{{ $env.{NAME} }}}} b={{{{$processEnvironment.{NAME}}}}}")).unwrap();
    let whole = Template::compile(&format!("{{{{ $env.{NAME} }}}}")).unwrap();
    // SAFETY: as above.
    unsafe { std::env::set_var(NAME, "second") };
    assert_eq!(t.render(&data()), "a=first b=first");
    assert_eq!(t.as_constant(), Some("a=first b=first"));
    assert!(!t.is_static(), "is_static means `renders its source`");
    assert_eq!(whole.render_value(&data()), json!("first"));
    assert_eq!(t.variables().count(), 0);
    // SAFETY: as above.
    unsafe { std::env::remove_var(NAME) };

    let unset = Template::compile("[{{ $env.HORNET_TEMPLATE_TEST_ENV_NEVER_SET_91 }}]").unwrap_err();
    assert_eq!(unset.offset, 9, "the error points at the variable's name");
    assert!(
        unset.message.contains("`HORNET_TEMPLATE_TEST_ENV_NEVER_SET_91` is not set"),
        "{}",
        unset.message
    );
    assert!(
        unset.message.contains("|| \"value\""),
        "the message shows the default syntax: {}",
        unset.message
    );

    let env = |n: &str| match n {
        "PORT" => Some("8080".to_string()),
        "EMPTY" => Some(String::new()),
        _ => None,
    };
    let t = Template::compile_with_env(
        "h:{{ $env.PORT }}/{{ $env['PORT'] || 'x' }}/{{ $env.NOPE || \"d e\" }}/{{$processEnvironment.EMPTY||'e'}}/{{ $env.NOPE || '' }}",
        &env,
    )
    .unwrap();
    assert_eq!(t.render(&data()), "h:8080/8080/d e/e/");
    let mut out = String::new();
    assert_eq!(t.render_into(&data(), &mut out), None, "an env var with a default is not a missing variable");
    let err = Template::compile_with_env("{{ $env.PORT }}{{ $env.NOPE }}", &env).unwrap_err();
    assert_eq!((err.offset, err.message.contains("`NOPE` is not set")), (23, true), "{}", err.message);
}

#[test]
fn env_defaults_must_be_one_quoted_string() {
    let env = |_: &str| None;
    for (source, offset, needle) in [
        (
            "{{ $env.A || b }}",
            13,
            "expected a quoted default after `||`, as in `$env.NAME || \"value\"`, found `b`",
        ),
        ("{{ $env.A || }}", 12, "found the end"),
        ("{{ $env.A || 'b }}", 13, "the default's `'` is not closed"),
        ("{{ $env.A || 'b' 'c' }}", 17, "unexpected `'` after the default"),
        ("{{ $env.A.B || 'b' }}", 3, "takes one environment variable name"),
        ("{{ $env || 'b' }}", 7, "expected `.NAME` after `$env`"),
    ] {
        let err = Template::compile_with_env(source, &env).unwrap_err();
        assert!(err.message.contains(needle), "{source}: {}", err.message);
        assert_eq!(err.offset, offset, "{source}: {}", err.message);
    }
}

#[test]
fn render_value_keeps_json_types_for_whole_placeholders() {
    let d = data();
    let value = |src: &str| Template::compile(src).unwrap().render_value(&d);
    assert_eq!(value("{{ id }}"), json!(42));
    assert_eq!(value("{{ items[0] }}"), json!({"id": 7, "sizes": [[1, 2], [3, 4]]}));
    assert_eq!(value("{{ user.tags }}"), json!(["a", "b"]));
    assert_eq!(value("{{ user.ok }}"), json!(true));
    assert_eq!(value("{{ user.nil }}"), Value::Null);
    assert_eq!(value("{{ $loopCount }}"), json!(3));
    assert_eq!(value("{{ nope }}"), json!(""));
    assert_eq!(value(" {{ id }}"), json!(" 42"), "anything around the placeholder makes a string");
    assert_eq!(value("{{ id }}{{ id }}"), json!("4242"));
    assert_eq!(value("plain"), json!("plain"));
    assert_eq!(value(""), json!(""));
    assert!(value("{{ $randomNumber(1, 5) }}").is_i64());
    assert!(value("{{ $randomString(5) }}").is_string());
    assert_eq!(Template::literal("{{ id }}").render_value(&d), json!("{{ id }}"));
}

#[test]
fn json_bodies_keep_types_and_escape_strings() {
    let body = json!({
        "id": "{{ items[1].id }}",
        "item": "{{ items[0] }}",
        "n": "{{ $randomNumber(5, 5) }}",
        "s": "{{ $randomString(3) }}",
        "label": "id \"{{ id }}\"\n{{ user.tags }}",
        "gone": "{{ nope }}",
        "nil": "{{ user.nil }}",
        "k\"ey": ["{{ $loopElement.name }}", 1, null],
    });
    let t = JsonTemplate::compile(&body).unwrap();
    assert!(!t.is_static());
    let mut out = String::new();
    let reported = t.render_into(&Scripted::new(Value::Object(data().into_iter().collect()), &[0]), &mut out);
    assert_eq!(reported, Some("nope"));
    let back: Value = serde_json::from_str(&out).unwrap_or_else(|e| panic!("{out}: {e}"));
    assert_eq!(
        back,
        json!({
            "id": 8,
            "item": {"id": 7, "sizes": [[1, 2], [3, 4]]},
            "n": 5,
            "s": "AAA",
            "label": "id \"42\"\n[\"a\",\"b\"]",
            "gone": "",
            "nil": null,
            "k\"ey": ["el", 1, null],
        })
    );
    // Only `$env` is constant: the body is then static, and holds the resolved text.
    let env =
        JsonTemplate::compile(&json!({"h": "{{ $env.HORNET_TEMPLATE_TEST_UNSET_2 || 'unset' }}x"})).unwrap();
    assert!(env.is_static());
    let mut out = String::new();
    env.render_into(&data(), &mut out);
    assert_eq!(out, r#"{"h":"unsetx"}"#);
}

#[test]
fn literal_is_not_parsed() {
    let t = Template::literal("{{ not closed");
    assert!(t.is_static());
    assert_eq!(t.render(&data()), "{{ not closed");
    assert_eq!(t.source(), "{{ not closed");
    assert_eq!(t.placeholders().count(), 0);
}

#[test]
fn compile_errors_point_at_the_problem() {
    let table: &[(&str, usize, &str)] = &[
        ("x {{ id", 2, "not closed"),
        ("{{ }}", 0, "empty"),
        ("{{ a..b }}", 5, "expected a key after `.`"),
        ("{{ a. }}", 5, "expected a key after `.`"),
        ("{{ a[x] }}", 5, "array index"),
        ("{{ a[-1] }}", 5, "array index"),
        ("{{ a[1 }}", 6, "expected `]`"),
        ("{{ a['k] }}", 5, "not closed"),
        ("{{ a[99999999999999999999999] }}", 5, "too large"),
        ("{{ first name }}", 8, "expected `.`, `[`"),
        ("{{ .a }}", 3, "expected a variable name"),
        ("ab{{ $randomNumber(1) }}", 20, "takes 2 arguments"),
        ("{{ $randomNumber(1, 2, 3) }}", 23, "takes 2 arguments"),
        ("{{ $randomNumber(1, x) }}", 20, "expected an integer"),
        ("{{ $randomNumber(1.5, 2) }}", 17, "expected an integer"),
        ("{{ $randomNumber(10, 1) }}", 17, "greater than max"),
        ("{{ $randomNumber(1, ) }}", 20, "expected an integer"),
        ("{{ $randomNumber(1 2) }}", 19, "expected `,` or `)`"),
        ("{{ $randomNumber(1, 2 }}", 16, "not closed"),
        ("{{ $randomNumber(1,2) x }}", 22, "unexpected"),
        ("{{ $randomNumber }}", 3, "is a function"),
        ("{{ $randomString(1, 2) }}", 20, "takes 1 argument"),
        ("{{ $randomString(-1) }}", 17, "between 0 and"),
        ("{{ $randomString(99999999) }}", 17, "between 0 and"),
        ("{{ $timestamp(1) }}", 14, "takes 0 arguments"),
        ("{{ $timestamp.x }}", 13, "unexpected"),
        ("{{ $nope(1) }}", 3, "unknown function `$nope`"),
        ("{{ $uuid() }}", 3, "unknown function"),
        ("{{ $env }}", 7, "expected `.NAME`"),
        ("{{ $env.A.B }}", 3, "one environment variable"),
        ("{{ $env(1) }}", 7, "not a function"),
        ("ok {{ a }} then {{ b[ }}", 21, "array index"),
        ("é{{ é. }}", 8, "expected a key"),
    ];
    for &(src, offset, message) in table {
        let e = err(src);
        assert!(e.message.contains(message), "{src:?}: {:?} should mention {message:?}", e.message);
        assert_eq!(e.offset, offset, "{src:?}: {}", e.message);
        assert!(src.is_char_boundary(e.offset));
    }
    assert!(err("{{ $randomString(1048577) }}").message.contains(&MAX_RANDOM_STRING.to_string()));
}

#[test]
fn odd_but_valid_inputs() {
    assert_eq!(render("}} {{ id }}}}"), "}} 42}}");
    assert_eq!(render("{ {{id}} }"), "{ 42 }");
    assert_eq!(render("{{id}}}"), "42}");
    assert_eq!(render("ü{{ s }}€"), "üplain€");
    let v = vars(json!({"名前": {"キー": "値"}}));
    assert_eq!(Template::compile("{{ 名前.キー }}").unwrap().render(&v), "値");
    assert_eq!(render(""), "");
}

#[test]
fn rendering_allocates_nothing_beyond_the_output() {
    let d = data();
    let mut out = String::with_capacity(4096);
    let t = Template::compile(
        "/u/{{ user.name }}/{{ items[0].sizes[1][0] }}?n={{ id }}&t={{ user.tags }}&r={{ $randomNumber(1, 9) }}&s={{ $randomString(8) }}&ts={{ $timestamp }}&m={{ nope.x }}",
    )
    .unwrap();
    assert_eq!(allocations_in(|| drop(String::from("x"))), 1, "the counter counts");
    // Warm up: the first draw initializes the thread-local generator.
    t.render_into(&d, &mut out);
    let n = allocations_in(|| {
        out.clear();
        t.render_into(&d, &mut out);
    });
    assert_eq!(n, 0, "rendered {out}");
    let j = JsonTemplate::compile(
        &json!({"a\"b": ["{{ items }}", "x {{ user }} \"{{ s }}\"", 1, {"z": "{{ id }}"}]}),
    )
    .unwrap();
    let n = allocations_in(|| {
        out.clear();
        j.render_into(&d, &mut out);
    });
    assert_eq!(n, 0, "rendered {out}");
    let back: Value = serde_json::from_str(&out).unwrap();
    let get = |n: &str| d.iter().find(|(k, _)| k == n).map(|(_, v)| v.clone()).unwrap();
    assert_eq!(back["a\"b"][0], get("items"));
    let embedded = back["a\"b"][1].as_str().unwrap();
    let inner = embedded.strip_prefix("x ").and_then(|r| r.strip_suffix(" \"plain\"")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(inner).unwrap(), get("user"));
    assert_eq!(back["a\"b"][3], json!({"z": 42}));
}

#[test]
fn plain_collections_implement_vars() {
    let v = data();
    let slice: &[(String, Value)] = &v;
    let map: HashMap<String, Value> = v.iter().cloned().collect();
    let t = Template::compile("{{ user.name }}:{{ $randomString(16) }}").unwrap();
    for out in [t.render(slice), t.render(&v), t.render(&map)] {
        assert!(out.starts_with("ann:") && out.len() == 20, "{out}");
    }
    // The thread-local generator does not repeat itself.
    assert_ne!(t.render(&v), t.render(&v));
    assert_ne!(slice.random(), slice.random());
}

/// Pseudo-random strings over template-ish characters never panic: they compile or fail with an
/// offset on a character boundary, and whatever compiles renders.
#[test]
fn generated_inputs_never_panic() {
    const PIECES: &[&str] = &[
        "{{",
        "}}",
        "{",
        "}",
        " ",
        "$",
        "a",
        "b.c",
        "[",
        "]",
        "0",
        "12",
        "-",
        ",",
        "(",
        ")",
        "'",
        "\"",
        ".",
        "é",
        "😀",
        "$randomNumber",
        "$randomString",
        "$timestamp",
        "$env",
        "$uuid",
        "$loopElement",
        "items",
        "\\",
        "\n",
        "99999999999999999999",
    ];
    let rng = SplitMix64::new(2024);
    let d = data();
    let mut compiled = 0;
    for _ in 0..20_000 {
        let len = (rng.next_u64() % 12) as usize;
        let src: String = (0..len).map(|_| PIECES[(rng.next_u64() % PIECES.len() as u64) as usize]).collect();
        match Template::compile(&src) {
            Ok(t) => {
                compiled += 1;
                let mut out = String::new();
                t.render_into(&d, &mut out);
                let _ = t.render_value(&d);
                let mut json = String::new();
                t.render_json_into(&d, &mut json);
                assert!(serde_json::from_str::<Value>(&json).is_ok(), "{src:?} rendered invalid JSON {json}");
                for p in t.placeholders() {
                    assert!(src.get(p.span.clone()).is_some(), "{src:?}");
                }
            }
            Err(e) => {
                assert!(e.offset <= src.len() && src.is_char_boundary(e.offset), "{src:?}: {e:?}");
                assert!(!e.message.is_empty());
            }
        }
    }
    assert!(compiled > 1000, "the generator should also produce valid templates ({compiled})");
}
