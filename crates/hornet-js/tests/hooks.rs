//! Processors as Artillery users write them: each hook signature sync and async, errors with
//! their JavaScript stacks, the budget interrupt, load-time refusals and syntax errors.

use std::collections::HashMap;
use std::path::Path;
use std::time::Duration;

use hornet_js::{
    Emitted, HookFailure, Processor, ProcessorOptions, RequestBody, RequestParams, ResponseData,
};
use serde_json::{Value, json};

fn write(dir: &Path, name: &str, text: &str) {
    let path = dir.join(name);
    std::fs::create_dir_all(path.parent().unwrap()).unwrap();
    std::fs::write(path, text).unwrap();
}

fn load(dir: &Path, name: &str) -> Processor {
    Processor::load(&dir.join(name), ProcessorOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Processor source `js`, loaded from a folder of its own (kept while the processor is used).
fn loaded(js: &str) -> (tempfile::TempDir, Processor) {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.js", js);
    let processor = load(dir.path(), "p.js");
    (dir, processor)
}

fn vars(pairs: &[(&str, Value)]) -> HashMap<String, Value> {
    pairs.iter().map(|(k, v)| (k.to_string(), v.clone())).collect()
}

fn request() -> RequestParams {
    RequestParams {
        url: "http://127.0.0.1:1/items".into(),
        method: "POST".into(),
        headers: vec![("content-type".into(), "application/json".into())],
        json: Some(r#"{"a":1}"#.into()),
        ..RequestParams::default()
    }
}

const HOOKS: &str = r#"
const crypto = require('crypto');
let calls = 0;
module.exports = {
  setUser(context, events, done) {
    calls += 1;
    context.vars.user = 'u-' + context.vars.id;
    context.vars.calls = calls;
    done();
  },
  async setUserLater(context, events) {
    await new Promise((r) => setTimeout(r, 20));
    context.vars.later = context.vars.id * 2;
  },
  sign(req, context, events, next) {
    const body = JSON.stringify(req.json);
    req.headers['x-signature'] = crypto.createHmac('sha256', 'k').update(body).digest('hex');
    req.headers['x-user'] = context.vars.user;
    req.url = req.url + '?signed=1';
    return next();
  },
  reorder(req, context, events, next) {
    req.json = { z: 1, a: [2, req.json.a] };
    next();
  },
  async signAsync(req, context) {
    await null;
    req.body = Buffer.from('raw-' + context.vars.id);
    delete req.json;
  },
  parse(req, res, context, events, next) {
    const body = JSON.parse(res.body);
    context.vars.total = body.total;
    events.emit('histogram', 'body.total', body.total);
    events.emit('counter', 'status.' + res.statusCode, 1);
    events.emit('rate', 'parsed');
    context.vars.contentType = res.headers['content-type'];
    context.vars.wait = res.timings.phases.wait;
    setTimeout(next, 5);
  },
  parseAsync(req, res, context, events) {
    return Promise.resolve().then(() => { context.vars.status = res.statusCode; });
  },
  onErr(err, req, context, events, next) {
    context.vars.seen = err.message + ' on ' + req.url;
    next();
  },
  keepGoing(context, next) { next(context.vars.n < 3); },
  async keepGoingAsync(context) { return context.vars.n < 3; },
  returnsTrue(context) { return true; },
};
"#;

#[tokio::test]
async fn step_hooks_read_and_write_the_vus_variables_sync_and_async() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.js", HOOKS);
    let processor = load(dir.path(), "p.js");
    assert!(processor.has_function("setUser"));
    assert!(!processor.has_function("calls"));
    let vu = processor.new_vu("uid-1", Some("main"), 1).unwrap();
    let mut v = vars(&[("id", json!(21))]);
    processor.call_step(&vu, "setUser", &mut v).await.unwrap();
    assert_eq!(v["user"], json!("u-21"));
    assert_eq!(v["calls"], json!(1));
    processor.call_step(&vu, "setUserLater", &mut v).await.unwrap();
    assert_eq!(v["later"], json!(42));
    // Module state is shared by every VU of the thread, as one Node module is in Artillery.
    let other = processor.new_vu("uid-2", Some("main"), 2).unwrap();
    let mut w = vars(&[("id", json!(1))]);
    processor.call_step(&other, "setUser", &mut w).await.unwrap();
    assert_eq!(w["calls"], json!(2));
    assert_eq!(w["user"], json!("u-1"));
    assert!(!w.contains_key("later"), "each VU has its own variables");
}

#[tokio::test]
async fn before_request_changes_apply_to_the_request() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.js", HOOKS);
    let processor = load(dir.path(), "p.js");
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[("id", json!(7)), ("user", json!("alice"))]);
    let mut req = request();
    processor.before_request(&vu, "sign", &mut req, &mut v).await.unwrap();
    let expected =
        hex(&ring::hmac::sign(&ring::hmac::Key::new(ring::hmac::HMAC_SHA256, b"k"), br#"{"a":1}"#));
    let header = |name: &str| req.headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.clone());
    assert_eq!(header("x-signature"), Some(expected));
    assert_eq!(header("x-user").as_deref(), Some("alice"));
    assert_eq!(header("content-type").as_deref(), Some("application/json"));
    assert_eq!(req.url, "http://127.0.0.1:1/items?signed=1");

    let mut req = request();
    processor.before_request(&vu, "reorder", &mut req, &mut v).await.unwrap();
    assert_eq!(req.json.as_deref(), Some(r#"{"z":1,"a":[2,1]}"#), "JavaScript's key order is kept");

    let mut req = request();
    processor.before_request(&vu, "signAsync", &mut req, &mut v).await.unwrap();
    assert_eq!(req.body, Some(RequestBody::Bytes(b"raw-7".to_vec())));
    assert_eq!(req.json, None);
}

fn hex(bytes: &impl AsRef<[u8]>) -> String {
    bytes.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

#[tokio::test]
async fn after_response_sees_the_response_and_emits_metrics() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.js", HOOKS);
    let processor = load(dir.path(), "p.js");
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "application/json".parse().unwrap());
    let response = ResponseData {
        status: 201,
        headers: &headers,
        body: br#"{"total": 12.5}"#,
        url: "http://127.0.0.1:1/items",
        phases: &[("wait", 3.0), ("total", 4.0)],
    };
    let mut v = vars(&[]);
    let mut req = request();
    processor.after_response(&vu, "parse", &mut req, response, &mut v).await.unwrap();
    assert_eq!(v["total"], json!(12.5));
    assert_eq!(v["contentType"], json!("application/json"));
    assert_eq!(v["wait"], json!(3));
    assert_eq!(
        processor.take_emitted(),
        vec![
            Emitted::Histogram { name: "body.total".into(), value: 12.5 },
            Emitted::Counter { name: "status.201".into(), value: 1.0 },
            Emitted::Rate { name: "parsed".into() },
        ]
    );
    assert!(processor.take_emitted().is_empty());
    processor.after_response(&vu, "parseAsync", &mut req, response, &mut v).await.unwrap();
    assert_eq!(v["status"], json!(201));
}

#[tokio::test]
async fn listeners_added_to_events_after_metrics_were_emitted_get_every_argument() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.js",
        r#"
let heard = [];
module.exports = {
  before(context, events, done) { events.emit('counter', 'early', 2); done(); },
  listen(context, events, done) {
    events.on('counter', function () { heard.push(Array.from(arguments).join('/')); });
    events.emit('counter', 'late', 3, 'extra');
    context.vars.heard = heard.join(',');
    done();
  },
};
"#,
    );
    let processor = load(dir.path(), "p.js");
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[]);
    processor.call_step(&vu, "before", &mut v).await.unwrap();
    processor.call_step(&vu, "listen", &mut v).await.unwrap();
    assert_eq!(v["heard"], json!("late/3/extra"));
    assert_eq!(
        processor.take_emitted(),
        vec![
            Emitted::Counter { name: "early".into(), value: 2.0 },
            Emitted::Counter { name: "late".into(), value: 3.0 },
        ]
    );
}

/// Calls `afterResponse` function `function` of processor source `js` on a response with `headers`
/// and `phases`; returns the variables it left.
async fn after_response_to(
    js: &str,
    function: &str,
    headers: &http::HeaderMap,
    phases: &[(&str, f64)],
) -> HashMap<String, Value> {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.js", js);
    let processor = load(dir.path(), "p.js");
    let vu = processor.new_vu("u", None, 1).unwrap();
    let response = ResponseData { status: 200, headers, body: b"ok", url: "http://127.0.0.1:1/", phases };
    let mut v = vars(&[]);
    processor.after_response(&vu, function, &mut request(), response, &mut v).await.unwrap();
    v
}

#[tokio::test]
async fn response_headers_and_timings_behave_as_plain_properties() {
    let js = r#"
module.exports = {
  shape(req, res, context, events, next) {
    const keys = Object.keys(res).join(',');
    const copy = JSON.parse(JSON.stringify(res));
    res.headers['x-added'] = '1';
    const spread = { ...res };
    res.timings = 'replaced';
    Object.assign(context.vars, {
      keys,
      cookies: copy.headers['set-cookie'],
      type: copy.headers['content-type'],
      wait: copy.timings.phases.wait,
      added: res.headers['x-added'],
      spreadHeaders: Object.keys(spread.headers).join(','),
      timings: res.timings,
    });
    next();
  },
};
"#;
    let mut headers = http::HeaderMap::new();
    headers.insert("content-type", "text/plain".parse().unwrap());
    headers.append("set-cookie", "a=1".parse().unwrap());
    headers.append("set-cookie", "b=2".parse().unwrap());
    let v = after_response_to(js, "shape", &headers, &[("wait", 3.25), ("total", 4.0)]).await;
    assert_eq!(v["keys"], json!("statusCode,url,headers,body,timings"));
    assert_eq!(v["cookies"], json!(["a=1", "b=2"]));
    assert_eq!(v["type"], json!("text/plain"));
    assert_eq!(v["wait"], json!(3.25));
    assert_eq!(v["added"], json!("1"), "a change to response.headers stays");
    assert_eq!(v["spreadHeaders"], json!("content-type,set-cookie,x-added"));
    assert_eq!(v["timings"], json!("replaced"), "response.timings can be replaced");
}

#[tokio::test]
async fn response_headers_join_repeated_values_but_set_cookie() {
    let js = r#"
module.exports = {
  headers(req, res, context, events, next) {
    context.vars.headers = res.headers;
    context.vars.phases = res.timings.phases;
    next();
  },
};
"#;
    let mut headers = http::HeaderMap::new();
    headers.append("vary", "accept".parse().unwrap());
    headers.append("set-cookie", "a=1".parse().unwrap());
    headers.append("vary", "origin".parse().unwrap());
    headers.append("set-cookie", "b=2".parse().unwrap());
    headers.append("x-one", "1".parse().unwrap());
    let phases = [("wait", 0.1), ("total", 1e-9), ("download", 12345.678)];
    let v = after_response_to(js, "headers", &headers, &phases).await;
    assert_eq!(v["headers"], json!({ "vary": "accept, origin", "set-cookie": ["a=1", "b=2"], "x-one": "1" }));
    assert_eq!(v["phases"], json!({ "wait": 0.1, "total": 1e-9, "download": 12345.678 }), "exact numbers");
}

#[tokio::test]
async fn on_error_and_conditions_get_their_signatures() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.js", HOOKS);
    let processor = load(dir.path(), "p.js");
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[("n", json!(1))]);
    let mut req = request();
    processor.on_error(&vu, "onErr", "ECONNREFUSED", &mut req, &mut v).await.unwrap();
    assert_eq!(v["seen"], json!("ECONNREFUSED on http://127.0.0.1:1/items"));
    assert!(processor.condition(&vu, "keepGoing", &mut v).await.unwrap());
    assert!(processor.condition(&vu, "keepGoingAsync", &mut v).await.unwrap());
    assert!(processor.condition(&vu, "returnsTrue", &mut v).await.unwrap());
    v.insert("n".into(), json!(5));
    assert!(!processor.condition(&vu, "keepGoing", &mut v).await.unwrap());
    assert!(!processor.condition(&vu, "keepGoingAsync", &mut v).await.unwrap());
}

#[tokio::test]
async fn errors_carry_the_message_and_the_javascript_stack() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.js",
        "module.exports.viaDone = function (context, events, done) {\n  done(new Error('login failed'));\n};\n\
         module.exports.throws = function (context, events, done) {\n  null.x;\n};\n\
         module.exports.rejects = async function (context) {\n  await null;\n  throw new TypeError('bad token');\n};\n\
         module.exports.hangs = function (context, events, done) {};\n",
    );
    let processor = load(dir.path(), "p.js");
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[]);
    let file = dir.path().join("p.js").display().to_string();

    let e = processor.call_step(&vu, "viaDone", &mut v).await.unwrap_err();
    assert_eq!((e.failure, e.message.as_str()), (HookFailure::Failed, "login failed"));
    assert!(e.location().unwrap().starts_with(&format!("{file}:2:")), "{e:?}");

    let e = processor.call_step(&vu, "throws", &mut v).await.unwrap_err();
    assert!(e.message.contains("TypeError: cannot read property 'x' of null"), "{e:?}");
    assert!(e.location().unwrap().starts_with(&format!("{file}:5:")), "{e:?}");

    let e = processor.call_step(&vu, "rejects", &mut v).await.unwrap_err();
    assert_eq!(e.message, "TypeError: bad token");
    assert!(e.location().unwrap().starts_with(&format!("{file}:9:")), "{e:?}");
    assert!(e.to_string().contains("processor function 'rejects': TypeError: bad token (at "), "{e}");

    let e = processor.call_step(&vu, "hangs", &mut v).await.unwrap_err();
    assert_eq!(e.failure, HookFailure::NeverSettled);
    let e = processor.call_step(&vu, "nope", &mut v).await.unwrap_err();
    assert_eq!(e.failure, HookFailure::Missing);
}

#[tokio::test]
async fn a_call_over_its_budget_is_interrupted_and_the_runtime_goes_on() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.js",
        "exports.spin = (c, e, done) => { for (;;) {} };\n\
         exports.spinLater = async (c) => { await new Promise((r) => setTimeout(r, 1)); for (;;) {} };\n\
         exports.waitTooLong = (c, e, done) => { setTimeout(done, 60000); };\n\
         exports.ok = (c, e, done) => { c.vars.ok = true; done(); };\n",
    );
    let options = ProcessorOptions { budget: Duration::from_millis(200), ..ProcessorOptions::default() };
    let processor = Processor::load(&dir.path().join("p.js"), options).unwrap();
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[]);
    for name in ["spin", "spinLater", "waitTooLong"] {
        let e = processor.call_step(&vu, name, &mut v).await.unwrap_err();
        assert_eq!(e.failure, HookFailure::Budget, "{name}: {e:?}");
        assert!(e.to_string().contains("budget of 200ms"), "{e}");
    }
    processor.call_step(&vu, "ok", &mut v).await.unwrap();
    assert_eq!(v["ok"], json!(true));
}

#[test]
fn a_syntax_error_names_file_line_and_column() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.js", "module.exports = {\n  f() {\n    let x = ;\n  }\n};\n");
    let e = Processor::load(&dir.path().join("p.js"), ProcessorOptions::default()).err().unwrap();
    assert_eq!(e.file, dir.path().join("p.js").display().to_string());
    assert_eq!(e.position, Some((3, 13)), "{e}");
    assert!(e.message.contains("unexpected token"), "{e}");
}

#[test]
fn a_module_that_cannot_work_is_refused_at_load_with_its_place() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.js", "const lib = require('./lib');\nmodule.exports = {};\n");
    write(
        dir.path(),
        "lib.js",
        "// helper\nfunction run() {\n  return require('child_process').execSync('ls');\n}\n",
    );
    let e = Processor::load(&dir.path().join("p.js"), ProcessorOptions::default()).err().unwrap();
    assert_eq!(e.file, dir.path().join("lib.js").display().to_string(), "{e}");
    assert_eq!(e.position, Some((3, 18)), "{e}");
    assert!(e.message.contains("module 'child_process' cannot be used"), "{e}");

    write(dir.path(), "q.js", "const http = require('node:http');\n");
    let e = Processor::load(&dir.path().join("q.js"), ProcessorOptions::default()).err().unwrap();
    assert_eq!(e.position, Some((1, 22)), "{e}");
    assert!(e.to_string().contains("q.js:1:22: module 'http' cannot be used"), "{e}");

    write(dir.path(), "r.js", "require('./addon.node');\n");
    write(dir.path(), "addon.node", "");
    let e = Processor::load(&dir.path().join("r.js"), ProcessorOptions::default()).err().unwrap();
    assert!(e.message.contains("native addon"), "{e}");
    assert_eq!(e.position.map(|p| p.0), Some(1), "{e}");

    write(dir.path(), "s.js", "require('left-pad');\n");
    let e = Processor::load(&dir.path().join("s.js"), ProcessorOptions::default()).err().unwrap();
    assert!(e.message.contains("cannot find module 'left-pad'"), "{e}");
}

#[tokio::test]
async fn relative_files_json_and_node_modules_packages_load() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "node_modules/greeter/package.json", r#"{"name":"greeter","main":"lib/index.js"}"#);
    write(
        dir.path(),
        "node_modules/greeter/lib/index.js",
        "const pad = require('padder');\nexports.greet = (n) => 'hello ' + pad(n);\n",
    );
    write(
        dir.path(),
        "node_modules/padder/package.json",
        r#"{"exports":{".":{"require":"./cjs.js","import":"./esm.mjs"}}}"#,
    );
    write(dir.path(), "node_modules/padder/cjs.js", "module.exports = (s) => '[' + s + ']';\n");
    write(dir.path(), "data/users.json", r#"[{"name":"ann"},{"name":"bob"}]"#);
    write(
        dir.path(),
        "lib/names.js",
        "const users = require('../data/users.json');\nmodule.exports = users.map((u) => u.name);\n",
    );
    write(
        dir.path(),
        "p.js",
        "const names = require('./lib/names');\nconst { greet } = require('greeter');\n\
         exports.f = (context, events, done) => { context.vars.out = names.map(greet).join(','); done(); };\n",
    );
    let processor = load(dir.path(), "p.js");
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[]);
    processor.call_step(&vu, "f", &mut v).await.unwrap();
    assert_eq!(v["out"], json!("hello [ann],hello [bob]"));
}

#[tokio::test]
async fn an_es_module_processor_imports_builtins_packages_and_files() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "node_modules/padder/package.json", r#"{"main":"index.js"}"#);
    write(dir.path(), "node_modules/padder/index.js", "module.exports = { pad: (s) => '<' + s + '>' };\n");
    write(dir.path(), "util.mjs", "export const twice = (s) => s + s;\n");
    write(
        dir.path(),
        "p.mjs",
        "import { createHash } from 'node:crypto';\nimport padder, { pad } from 'padder';\nimport { twice } from './util.mjs';\n\
         const ready = await Promise.resolve('ready');\n\
         export function f(context, events, done) {\n  context.vars.h = createHash('md5').update('abc').digest('hex');\n  \
         context.vars.p = pad(twice('x')) + padder.pad('y') + ready;\n  done();\n}\n\
         export async function g(context) { throw new Error('from esm'); }\n",
    );
    let processor = load(dir.path(), "p.mjs");
    assert_eq!(processor.function_names(), vec!["f", "g"]);
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[]);
    processor.call_step(&vu, "f", &mut v).await.unwrap();
    assert_eq!(v["h"], json!("900150983cd24fb0d6963f7d28e17f72"));
    assert_eq!(v["p"], json!("<xx><y>ready"));
    let e = processor.call_step(&vu, "g", &mut v).await.unwrap_err();
    assert!(e.location().unwrap().contains("p.mjs:10:"), "{e:?}");

    write(dir.path(), "bad.mjs", "import net from 'net';\nexport const x = 1;\n");
    let e = Processor::load(&dir.path().join("bad.mjs"), ProcessorOptions::default()).err().unwrap();
    assert_eq!(e.position, Some((1, 17)), "{e}");
}

#[tokio::test]
async fn the_environment_is_in_context_vars_without_becoming_a_variable() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "env.js",
        "module.exports = { read(context, events, done) {\n  context.vars.path = context.vars.$processEnvironment.PATH;\n  context.vars.same = context.vars.$env === context.vars.$processEnvironment;\n  done();\n} };\n",
    );
    let processor = load(dir.path(), "env.js");
    let vu = processor.new_vu("uid", None, 1).unwrap();
    let mut v = vars(&[]);
    processor.call_step(&vu, "read", &mut v).await.unwrap();
    assert_eq!(v["path"], json!(std::env::var("PATH").unwrap_or_default()));
    assert_eq!(v["same"], json!(true));
    assert!(!v.contains_key("$processEnvironment") && !v.contains_key("$env"), "{v:?}");
}

#[tokio::test]
async fn an_idle_vu_costs_the_runtime_a_few_hundred_bytes() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "idle.js", "module.exports = { step(context, events, done) { done(); } };\n");
    let processor = load(dir.path(), "idle.js");
    let before = processor.memory_used();
    let mut vus = Vec::new();
    for i in 0..2000u64 {
        let vu = processor.new_vu(&format!("uid-{i}"), Some("main"), i).unwrap();
        let mut v = vars(&[("id", json!(i)), ("name", json!("ann"))]);
        processor.call_step(&vu, "step", &mut v).await.unwrap();
        vus.push(vu);
    }
    let per_vu = (processor.memory_used() - before) / vus.len();
    println!("JavaScript memory per VU after one call: {per_vu} bytes");
    assert!(per_vu < 2048, "{per_vu} bytes per VU");
}

#[tokio::test]
async fn request_changes_made_in_place_or_through_headers_alone_are_read_back() {
    let dir = tempfile::tempdir().unwrap();
    write(
        dir.path(),
        "p.js",
        r#"
module.exports = {
  readOnly(req, context, events, next) { context.vars.seen = req.method + ' ' + req.headers['content-type']; next(); },
  nestedJson(req, context, events, next) { req.json.a = 2; req.json.b = [1]; next(); },
  bufferByte(req, context, events, next) { req.body[0] = 0x41; next(); },
  extraObject(req, context, events, next) { req.qs.page = 2; next(); },
  assignHeaders(req, context, events, next) { Object.assign(req.headers, { 'x-a': '1' }); delete req.headers['content-type']; next(); },
  laterWrite(req, context, events, next) { setTimeout(() => { req.headers['x-late'] = 'yes'; next(); }, 5); },
};
"#,
    );
    let processor = load(dir.path(), "p.js");
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[]);

    let mut req = request();
    processor.before_request(&vu, "readOnly", &mut req, &mut v).await.unwrap();
    assert_eq!(req, request(), "a hook that only reads leaves the request as it was");
    assert_eq!(v["seen"], json!("POST application/json"));

    let mut req = request();
    processor.before_request(&vu, "nestedJson", &mut req, &mut v).await.unwrap();
    assert_eq!(req.json.as_deref(), Some(r#"{"a":2,"b":[1]}"#));

    let mut req = RequestParams { json: None, body: Some(RequestBody::Bytes(b"xyz".to_vec())), ..request() };
    processor.before_request(&vu, "bufferByte", &mut req, &mut v).await.unwrap();
    assert_eq!(req.body, Some(RequestBody::Bytes(b"Ayz".to_vec())));

    let mut req = request();
    req.extra.insert("qs".into(), json!({ "page": 1 }));
    processor.before_request(&vu, "extraObject", &mut req, &mut v).await.unwrap();
    assert_eq!(req.extra["qs"], json!({ "page": 2 }));

    let mut req = request();
    processor.before_request(&vu, "assignHeaders", &mut req, &mut v).await.unwrap();
    assert_eq!(req.headers, vec![("x-a".to_string(), "1".to_string())]);

    let mut req = request();
    processor.before_request(&vu, "laterWrite", &mut req, &mut v).await.unwrap();
    assert!(req.headers.iter().any(|(k, v)| k == "x-late" && v == "yes"), "{:?}", req.headers);
}

/// Hooks that keep their callback, call it late, twice, or in turn with other kinds of call: a
/// callback not kept is handed to the next call again, one kept never is.
const KEEPERS: &str = r#"
let kept = null;
module.exports = {
  keep(context, events, done) { kept = done; done(); },
  fresh(context, events, done) { context.vars.same = done === kept; done(); },
  callKept(context, events, done) { kept(new Error('late, for a call that settled')); done(); },
  plain(context, events, done) { done(); },
  failing(context, events, done) { done(new Error('this call fails')); },
  twice(context, events, done) { done(); done(new Error('second')); },
  condTrue(context, next) { next(true); },
  slow(context, events, done) { setTimeout(() => { context.vars.slow = 'done'; done(); }, 30); },
  slowFailing(context, events, done) { setTimeout(() => done(new Error('slow and failing')), 10); },
};
"#;

#[tokio::test]
async fn a_kept_callback_fills_only_its_own_call_and_is_not_handed_to_the_next() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.js", KEEPERS);
    let processor = load(dir.path(), "p.js");
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[]);
    processor.call_step(&vu, "keep", &mut v).await.unwrap();
    processor.call_step(&vu, "fresh", &mut v).await.unwrap();
    assert_eq!(v["same"], json!(false), "a kept callback is not the next call's");
    // Called after its call settled (and after another call), it changes no other call's outcome.
    processor.call_step(&vu, "callKept", &mut v).await.unwrap();
    processor.call_step(&vu, "plain", &mut v).await.unwrap();
    let e = processor.call_step(&vu, "failing", &mut v).await.unwrap_err();
    assert_eq!(e.message, "this call fails");
    assert_eq!(e.function, "failing");
    processor.call_step(&vu, "plain", &mut v).await.unwrap();
    // A callback called twice keeps its first outcome; the second is not the next call's.
    processor.call_step(&vu, "twice", &mut v).await.unwrap();
    processor.call_step(&vu, "plain", &mut v).await.unwrap();
    // A condition's `next(result)` and an error-first `done` in turn.
    assert!(processor.condition(&vu, "condTrue", &mut v).await.unwrap());
    let e = processor.call_step(&vu, "failing", &mut v).await.unwrap_err();
    assert_eq!(e.message, "this call fails", "after a condition, done's argument is an error again");
    assert!(processor.condition(&vu, "condTrue", &mut v).await.unwrap());
}

#[tokio::test]
async fn callbacks_of_calls_pending_at_once_settle_their_own_calls() {
    let dir = tempfile::tempdir().unwrap();
    write(dir.path(), "p.js", KEEPERS);
    let processor = load(dir.path(), "p.js");
    let (one, two, three) = (
        processor.new_vu("1", None, 1).unwrap(),
        processor.new_vu("2", None, 2).unwrap(),
        processor.new_vu("3", None, 3).unwrap(),
    );
    let (mut v1, mut v2, mut v3) = (vars(&[]), vars(&[]), vars(&[]));
    let (slow, failing, plain) = tokio::join!(
        processor.call_step(&one, "slow", &mut v1),
        processor.call_step(&two, "slowFailing", &mut v2),
        processor.call_step(&three, "plain", &mut v3),
    );
    slow.unwrap();
    assert_eq!(v1["slow"], json!("done"));
    assert_eq!(failing.unwrap_err().message, "slow and failing");
    plain.unwrap();
}

#[tokio::test]
async fn headers_and_fields_are_read_back_by_text_whatever_string_holds_it() {
    let (_dir, processor) = loaded(
        r#"
module.exports = {
  sameText(req, context, events, next) {
    const part = 'json';
    req.headers['content-type'] = 'application/' + part;
    req.headers['x-name'] = 'caf' + '\u00e9';
    req.url = req.url.slice(0, 10) + req.url.slice(10);
    req.method = 'po' + 'st';
    next();
  },
  changeOne(req, context, events, next) { req.headers['x-name'] = 'cafe'; next(); },
  reorder(req, context, events, next) {
    const type = req.headers['content-type'];
    delete req.headers['content-type'];
    req.headers['content-type'] = type;
    next();
  },
  asNumber(req, context, events, next) { req.headers['x-name'] = 7; req.headers['x-added'] = 'a'; next(); },
  newObject(req, context, events, next) { req.headers = { ...req.headers }; next(); },
};
"#,
    );
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[]);
    let made = || {
        let mut req = request();
        req.headers.push(("x-name".into(), "café".into()));
        req
    };
    let header_list = |pairs: &[(&str, &str)]| -> Vec<(String, String)> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    };

    let mut req = made();
    processor.before_request(&vu, "sameText", &mut req, &mut v).await.unwrap();
    assert_eq!(req, made(), "strings of the same text leave the request as it was");

    let mut req = made();
    processor.before_request(&vu, "changeOne", &mut req, &mut v).await.unwrap();
    assert_eq!(req.headers, header_list(&[("content-type", "application/json"), ("x-name", "cafe")]));

    let mut req = made();
    processor.before_request(&vu, "reorder", &mut req, &mut v).await.unwrap();
    assert_eq!(req.headers, header_list(&[("x-name", "café"), ("content-type", "application/json")]));

    let mut req = made();
    processor.before_request(&vu, "asNumber", &mut req, &mut v).await.unwrap();
    assert_eq!(
        req.headers,
        header_list(&[("content-type", "application/json"), ("x-name", "7"), ("x-added", "a")])
    );

    let mut req = made();
    processor.before_request(&vu, "newObject", &mut req, &mut v).await.unwrap();
    assert_eq!(req, made(), "a copy of the headers with the same entries changes nothing");
}

#[tokio::test]
async fn json_is_written_out_again_only_when_a_hook_changed_it() {
    let (_dir, processor) = loaded(
        r#"
module.exports = {
  reads(req, context, events, next) { context.vars.user = req.json.user.name; next(); },
  sameValues(req, context, events, next) {
    const n = req.json.n;
    delete req.json.n;
    req.json.n = n;
    req.json.user = { name: 'a' + 'nn', admin: false };
    next();
  },
  changesText(req, context, events, next) { req.json.user.name = 'bob'; next(); },
  changesType(req, context, events, next) { req.json.n = '1.5'; next(); },
  addsToJson(req, context, events, next) { req.json.toJSON = () => ({ replaced: true }); next(); },
  replacesWithArray(req, context, events, next) { req.json = [1, 2]; next(); },
};
"#,
    );
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut v = vars(&[]);
    // Spaced out, as JSON.stringify would not write it: kept as it is while it is unchanged.
    let text = r#"{ "user": { "name": "ann", "admin": false }, "n": 1.5, "none": null }"#;
    let made = || RequestParams { json: Some(text.into()), ..request() };
    let json_after = |hook: &'static str| {
        let processor = &processor;
        let vu = &vu;
        async move {
            let mut req = made();
            let mut v = vars(&[]);
            processor.before_request(vu, hook, &mut req, &mut v).await.unwrap();
            req.json
        }
    };

    let mut req = made();
    processor.before_request(&vu, "reads", &mut req, &mut v).await.unwrap();
    assert_eq!(req, made());
    assert_eq!(v["user"], json!("ann"));
    assert_eq!(json_after("sameValues").await.as_deref(), Some(text), "equal values keep the text");
    assert_eq!(
        json_after("changesText").await.as_deref(),
        Some(r#"{"user":{"name":"bob","admin":false},"n":1.5,"none":null}"#)
    );
    assert_eq!(
        json_after("changesType").await.as_deref(),
        Some(r#"{"user":{"name":"ann","admin":false},"n":"1.5","none":null}"#)
    );
    assert_eq!(json_after("addsToJson").await.as_deref(), Some(r#"{"replaced":true}"#));
    assert_eq!(json_after("replacesWithArray").await.as_deref(), Some("[1,2]"));
}
