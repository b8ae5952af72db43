//! Damaged scripts never panic, and every error they produce has a position in the file.

use hornet_script::{LoadOptions, parse_str};

const SCRIPT: &str = r#"
config:
  target: "http://localhost:8080/api"
  phases:
    - &p { name: warm up, duration: 10, arrivalRate: 1, rampTo: 5 }
    - <<: *p
      arrivalRate: 2
    - pause: 500ms
  http: { timeout: "2.5s", pool: 8 }
  defaults:
    headers: { x-a: "{{ id }}" }
    think: { jitter: 1 }
  ensure: { p95: 100, thresholds: [ { a.b: 1 } ], conditions: [ { expression: "a > 1" } ] }
  plugins: { expect: {}, apdex: { threshold: 10 } }
  environments: { s: { target: "http://s" } }
  variables:
    id: [1, 2]
    é: 'ü'
scenarios:
  - name: browse
    weight: 3
    flow:
      - get: { url: "/items/{{ id }}", qs: { q: 1 } }
      - think: 0.5
      - loop:
          - post: { url: /o, json: { a: [1, "{{ id }}"] } }
        count: 3
      - put:
          url: "https://x/y"
          body: |
            text {{ id }}
  - flow:
      - post:
          url: /login
          form: { u: "{{ é }}" }
          capture:
            - { json: "$.t", as: tok, index: last }
            - { regexp: "a(?P<n>b)", group: n, flags: i, as: n }
            - { selector: "a.x", attr: href, as: link }
          match: { header: x-id, value: "1" }
          expect: [ { statusCode: [200, 201] }, { headerEquals: [a, "{{ tok }}"] } ]
          ifTrue: "id > 1"
      - loop:
          - parallel:
              - get: { url: "/{{ $loopElement }}", auth: { user: u, pass: p } }
        over: [1, 2]
      - think: 1
        jitter: "10%"
      - log: "{{ link }} {{ $uuid }}"
before:
  flow:
    - get: { url: /b, cookie: { c: "{{ n }}" } }
"#;

fn check(src: &str) {
    if let Err(e) = parse_str(src, "r.yaml", &LoadOptions::default()) {
        assert!(e.line >= 1 && e.column >= 1, "error without a position for {src:?}: {e}");
        assert!(e.to_string().starts_with("error: "));
    }
}

#[test]
fn the_base_script_is_valid() {
    if let Err(e) = parse_str(SCRIPT, "r.yaml", &LoadOptions::default()) {
        panic!("{e}");
    }
}

#[test]
fn every_truncation_is_handled() {
    for (i, _) in SCRIPT.char_indices() {
        check(&SCRIPT[..i]);
    }
}

#[test]
fn every_single_character_replacement_is_handled() {
    for (i, c) in SCRIPT.char_indices() {
        for with in ["", "-", ":", "{", "[", "\"", "'", "&", "*", "\t", "\n", "#", "9", "x"] {
            let mut s = String::with_capacity(SCRIPT.len() + 1);
            s.push_str(&SCRIPT[..i]);
            s.push_str(with);
            s.push_str(&SCRIPT[i + c.len_utf8()..]);
            check(&s);
        }
    }
}
