//! End-to-end tests of what processor functions see and steer, judged by what a recording
//! `hornet target` received: `context.scenario` and `context._uid`, `ifTrue` naming a processor
//! function, and `requestParams` changes (form, multipart, cookies, name...) reaching the server.

mod common;

use common::{Case, counter, run_ok, with_target};
use hornet_target::{RunningTarget, TargetOptions};
use serde_json::Value;

fn recording_target() -> RunningTarget {
    RunningTarget::start_recording(TargetOptions { addr: ([127, 0, 0, 1], 0).into(), threads: 1 }, false)
        .expect("start recording target")
}

/// How many requests the recording target got on `route` (`GET /path`, digits as `{n}`).
fn route_count(log: &Value, route: &str) -> u64 {
    log["routes"][route]["count"].as_u64().unwrap_or(0)
}

/// The distinct values of `field` (`header:x-a`, `form:k`, `cookie:c`, ...) received on `route`.
fn field_values(log: &Value, route: &str, field: &str) -> Vec<String> {
    log["routes"][route]["fields"][field]["values"]
        .as_array()
        .map(|values| values.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
        .unwrap_or_default()
}

const CONDITIONS_JS: &str = r#"
module.exports = {
  pick(context, events, done) {
    context.vars.role = context.vars.$loopCount % 2 === 0 ? 'admin' : 'guest';
    if (context.vars.role === 'admin') context.vars.flag = true; else delete context.vars.flag;
    done();
  },
  // ifTrue functions get context.vars, as in Artillery, and answer with their return value.
  isAdmin(vars) {
    vars.checked = (vars.checked || 0) + 1;
    return vars.role === 'admin';
  },
  async isGuest(vars) { return vars.role === 'guest'; },
  throws(vars) { throw new Error('cannot decide'); },
  tagScenario(requestParams, context, events, next) {
    const s = context.scenario;
    requestParams.headers['x-scenario'] =
      [s.name, s.weight, s.flow.length, s.beforeRequest.join(','), s.afterScenario.length].join('/');
    requestParams.headers['x-uid'] = typeof context._uid === 'string' ? String(context._uid.length) : 'none';
    requestParams.headers['x-checked'] = String(context.vars.checked);
    next();
  },
};
"#;

#[test]
fn if_true_calls_a_processor_function_and_context_scenario_is_the_scenario_as_written() {
    let t = recording_target();
    let case = Case::new();
    case.script("conditions.js", CONDITIONS_JS);
    let script = case.script(
        "conditions.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  processor: ./conditions.js
  phases:
    - duration: 1
      arrivalCount: 2
scenarios:
  - name: shop
    weight: 3
    beforeRequest: tagScenario
    flow:
      - loop:
          - function: pick
          - get: { url: "/admin/{{ $loopCount }}", ifTrue: isAdmin }
          - get: { url: /guest, ifTrue: isGuest }
          - get: { url: /always, ifTrue: throws }
          - get: { url: /byvar, ifTrue: flag }
          - get: { url: /expr, ifTrue: "role == 'admin'" }
        count: 4
"#,
            &t,
        ),
    );
    let report = run_ok(&case, &script, &["-q"]);
    assert_eq!(counter(&report, "vusers.completed"), 2, "{report}");
    let log = t.requests().expect("recording");
    // Two VUs, four iterations each: admin on iterations 2 and 4, guest on 1 and 3.
    assert_eq!(route_count(&log, "GET /admin/{n}"), 4, "{log}");
    assert_eq!(route_count(&log, "GET /guest"), 4, "{log}");
    // A function that throws lets the request go, as in Artillery.
    assert_eq!(route_count(&log, "GET /always"), 8, "{log}");
    // A bare name the processor does not export is a variable.
    assert_eq!(route_count(&log, "GET /byvar"), 4, "{log}");
    assert_eq!(route_count(&log, "GET /expr"), 4, "{log}");
    assert_eq!(field_values(&log, "GET /guest", "header:x-scenario"), ["shop/3/1/tagScenario/0"], "{log}");
    assert_eq!(field_values(&log, "GET /guest", "header:x-uid"), ["36"], "{log}");
    // What the ifTrue function wrote to its vars stays: it ran once per iteration before /admin.
    let checked = field_values(&log, "GET /admin/{n}", "header:x-checked");
    assert_eq!(checked, ["2", "4"], "{log}");
}

const REQUEST_PARAMS_JS: &str = r#"
module.exports = {
  rewrite(requestParams, context, events, next) {
    const p = requestParams;
    requestParams.headers['x-seen'] = [
      p.form && p.form.user, p.formData && p.formData.note, p.cookie && p.cookie.session, p.qs && p.qs.page,
    ].join('|');
    if (p.form) { p.form.user = p.form.user.toUpperCase(); p.form.added = 'yes'; }
    if (p.formData) { p.formData.note = 'changed'; p.formData.extra = { value: 'v2' }; }
    if (p.cookie) p.cookie.session = 'hooked-' + p.cookie.session;
    if (p.qs) p.qs.page = Number(p.qs.page) + 1;
    requestParams.headers['x-name'] = String(p.name);
    next();
  },
  addForm(requestParams, context, events, next) {
    requestParams.method = 'POST';
    requestParams.form = { made: 'by-hook' };
    requestParams.cookie = { fresh: 'c1' };
    requestParams.name = 'plain, renamed';
    next();
  },
  // Later hooks see the request as beforeRequest left it; the echo says what the server got.
  checkMultipart(requestParams, response, context, events, next) {
    const body = JSON.parse(response.body).body;
    const got = body.includes('name="note"\r\n\r\nchanged') && body.includes('name="extra"\r\n\r\nv2');
    events.emit('counter', got && requestParams.formData.note === 'changed' ? 'multipart.ok' : 'multipart.bad', 1);
    next();
  },
  checkForm(requestParams, response, context, events, next) {
    events.emit('counter', 'after.form.' + requestParams.form.made, 1);
    next();
  },
};
"#;

#[test]
fn request_params_form_form_data_cookie_and_qs_changes_reach_the_server() {
    let t = recording_target();
    let case = Case::new();
    case.script("params.js", REQUEST_PARAMS_JS);
    let script = case.script(
        "params.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  processor: ./params.js
  variables: { who: alice }
  phases:
    - duration: 1
      arrivalCount: 2
scenarios:
  - flow:
      - post:
          url: /login
          name: log in
          form: { user: "{{ who }}" }
          cookie: { session: abc }
          qs: { page: 1, keep: k }
          beforeRequest: rewrite
      - post:
          url: /echo
          formData: { note: hello }
          beforeRequest: rewrite
          afterResponse: checkMultipart
      - get: { url: /plain, beforeRequest: addForm, afterResponse: checkForm }
"#,
            &t,
        ),
    );
    let report = run_ok(&case, &script, &["-q"]);
    assert_eq!(counter(&report, "vusers.completed"), 2, "{report}");
    assert_eq!(counter(&report, "multipart.ok"), 2, "{report}");
    assert_eq!(counter(&report, "after.form.by-hook"), 2, "{report}");
    let log = t.requests().expect("recording");
    let login = |field: &str| field_values(&log, "POST /login", field);
    // The hook read what the YAML set (rendered) ...
    assert_eq!(login("header:x-seen"), ["alice||abc|1"], "{log}");
    // ... and what it changed is what was sent.
    assert_eq!(login("form:user"), ["ALICE"], "{log}");
    assert_eq!(login("form:added"), ["yes"], "{log}");
    assert_eq!(login("cookie:session"), ["hooked-abc"], "{log}");
    assert_eq!(login("query:page"), ["2"], "{log}");
    assert_eq!(login("query:keep"), ["k"], "{log}");
    // A GET turned into a POST with a form and a cookie by its hook.
    assert_eq!(route_count(&log, "POST /plain"), 2, "{log}");
    assert_eq!(route_count(&log, "GET /plain"), 0, "{log}");
    assert_eq!(field_values(&log, "POST /plain", "form:made"), ["by-hook"], "{log}");
    assert_eq!(field_values(&log, "POST /plain", "cookie:fresh"), ["c1"], "{log}");
    // `name` is the step's own, and a hook that renames the request moves it to another row.
    assert_eq!(login("header:x-name"), ["log in"], "{log}");
    assert_eq!(field_values(&log, "POST /echo", "header:x-name"), ["undefined"], "{log}");
    assert_eq!(common::endpoint(&report, "plain, renamed")["requests"], 2, "{report}");
    assert_eq!(common::endpoint(&report, "GET /plain")["requests"], 0, "{report}");
}

/// How many requests on `route` carried `field`.
fn field_count(log: &Value, route: &str, field: &str) -> u64 {
    log["routes"][route]["fields"][field]["count"].as_u64().unwrap_or(0)
}

const JOURNEY_JS: &str = r#"
module.exports = {
  // A whole journey in JavaScript, each request measured like a YAML step.
  async journey(context, events) {
    const http = context.http;
    const login = await http.post('/login', { json: { username: 'ann' }, name: 'login' });
    if (login.statusCode !== 200) throw new Error('login answered ' + login.statusCode);
    const { token, user } = login.json();
    context.vars.user = user;
    for (let page = 1; page <= 3; page++) {
      const r = await http.get('/echo/items', {
        headers: { authorization: 'Bearer ' + token.slice(0, 8) },
        qs: { page },
        name: 'items',
      });
      events.emit('counter', r.status === 200 && r.json().query === 'page=' + page ? 'items.ok' : 'items.bad', 1);
    }
    await http.request('PUT', context.vars.target + '/echo/profile', { body: 'plain text' });
    // Several at once are sent one after the other on the VU's connection, and all resolve.
    const pair = await Promise.all([http.get('/json', { name: 'pair' }), http.request({ url: '/json', name: 'pair' })]);
    events.emit('counter', pair.every((r) => r.json().name === 'hornet') ? 'pair.ok' : 'pair.bad', 1);
    try {
      await http.get('http://127.0.0.1:9/', { name: 'closed' });
    } catch (e) {
      events.emit('counter', e.message.includes('context.http: GET http://127.0.0.1:9/') ? 'rejected.clearly' : 'rejected.vaguely', 1);
    }
  },
};
"#;

#[test]
fn context_http_sends_measured_requests_on_the_vus_connection_and_cookie_jar() {
    let t = recording_target();
    let case = Case::new();
    case.script("journey.js", JOURNEY_JS);
    let script = case.script(
        "journey.yaml",
        &with_target(
            r#"
config:
  target: "TARGET"
  processor: ./journey.js
  defaults:
    headers:
      x-run: "journey-{{ $testId }}"
      user-agent: journey-agent
  phases:
    - duration: 1
      arrivalCount: 3
scenarios:
  - flow:
      - function: journey
      - get: { url: "/after/{{ user }}", name: after }
"#,
            &t,
        ),
    );
    let report = run_ok(&case, &script, &["-q"]);
    assert_eq!(counter(&report, "vusers.completed"), 3, "{report}");
    assert_eq!(counter(&report, "items.ok"), 9, "{report}");
    assert_eq!(counter(&report, "rejected.clearly"), 3, "{report}");
    // Counted under their names like YAML requests, the unnamed one under its method and URL.
    assert_eq!(common::endpoint(&report, "login")["requests"], 3, "{report}");
    assert_eq!(common::endpoint(&report, "items")["requests"], 9, "{report}");
    assert_eq!(common::endpoint(&report, "items")["codes"]["200"], 9, "{report}");
    let profile = format!("PUT {}/echo/profile", t.url());
    assert_eq!(common::endpoint(&report, &profile)["requests"], 3, "{report}");
    assert_eq!(common::endpoint(&report, "closed")["failures"], 3, "{report}");
    assert_eq!(common::endpoint(&report, "pair")["requests"], 6, "{report}");
    assert_eq!(counter(&report, "pair.ok"), 3, "{report}");
    assert_eq!(counter(&report, "http.requests"), 3 + 9 + 3 + 6 + 3 + 3, "{report}");
    let log = t.requests().expect("recording");
    assert_eq!(route_count(&log, "POST /login"), 3, "{log}");
    assert_eq!(field_values(&log, "POST /login", "json:username"), ["\"ann\""], "{log}");
    assert_eq!(route_count(&log, "GET /echo/items"), 9, "{log}");
    assert_eq!(field_values(&log, "GET /echo/items", "query:page"), ["1", "2", "3"], "{log}");
    // The session cookie /login set is in the VU's jar: the JavaScript requests and the YAML
    // step after them carry it.
    assert_eq!(field_count(&log, "GET /echo/items", "cookie:session"), 9, "{log}");
    assert_eq!(field_count(&log, "PUT /echo/profile", "cookie:session"), 3, "{log}");
    assert_eq!(field_values(&log, "PUT /echo/profile", "body:text"), ["plain text"], "{log}");
    assert_eq!(route_count(&log, "GET /after/ann"), 3, "{log}");
    assert_eq!(field_count(&log, "GET /after/ann", "cookie:session"), 3, "{log}");
    // config.defaults.headers go with JavaScript requests as with YAML ones, rendered.
    let run = field_values(&log, "GET /after/ann", "header:x-run");
    assert!(run.len() == 1 && run[0].starts_with("journey-") && run[0] != "journey-", "{log}");
    assert_eq!(field_values(&log, "GET /echo/items", "header:x-run"), run, "{log}");
    assert_eq!(field_values(&log, "GET /echo/items", "header:user-agent"), ["journey-agent"], "{log}");
}

#[test]
fn awaiting_context_http_does_not_block_the_other_vus_of_the_thread() {
    let t = recording_target();
    let case = Case::new();
    case.script(
        "slow.js",
        "module.exports = { async slow(context) { await context.http.get('/delay/1500', { name: 'slow' }); } };\n",
    );
    let yaml = "config:\n  target: \"TARGET\"\n  processor: ./slow.js\n  phases:\n    - duration: 1\n      arrivalRate: 4\nscenarios:\n  - flow:\n      - function: slow\n";
    let script = case.script("slow.yaml", &with_target(yaml, &t));
    let started = std::time::Instant::now();
    let report = run_ok(&case, &script, &["-q", "--threads", "1"]);
    let took = started.elapsed();
    assert_eq!(common::endpoint(&report, "slow")["requests"], 4, "{report}");
    // One after the other, four 1.5 s requests would take 6 s; on one thread, together, about 2.3 s.
    assert!(took < std::time::Duration::from_millis(4500), "took {took:?}");
}

#[test]
fn context_http_requests_keep_their_names_when_workers_send_them_to_a_controller() {
    let t = recording_target();
    let case = Case::new();
    case.script("journey.js", JOURNEY_JS);
    let yaml = "config:\n  target: \"TARGET\"\n  processor: ./journey.js\n  phases:\n    - duration: 1\n      arrivalCount: 4\nscenarios:\n  - flow:\n      - function: journey\n";
    let script = case.script("journey.yaml", &with_target(yaml, &t));
    let report = run_ok(&case, &script, &["-q", "--local-workers", "2"]);
    assert_eq!(counter(&report, "vusers.completed"), 4, "{report}");
    assert_eq!(common::endpoint(&report, "login")["requests"], 4, "{report}");
    assert_eq!(common::endpoint(&report, "items")["requests"], 12, "{report}");
    assert_eq!(common::endpoint(&report, "closed")["failures"], 4, "{report}");
    let names: Vec<&str> = report["endpoints"]
        .as_array()
        .map_or(Vec::new(), |e| e.iter().filter_map(|e| e["name"].as_str()).collect());
    assert!(!names.iter().any(|n| n.starts_with("endpoint #")), "{names:?}");
}

#[test]
fn the_context_http_example_runs_against_the_target() {
    let t = recording_target();
    let case = Case::new();
    let example = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("../../examples/js-journey.yaml");
    let phases = r#"{"phases": [{"duration": 1, "arrivalCount": 4}]}"#;
    let (out, report) = common::run_script(&case, &example, &["-q", "-t", &t.url(), "--overrides", phases]);
    assert!(out.status.success(), "{}", common::text(&out));
    let report = report.expect("report written");
    assert_eq!(counter(&report, "vusers.completed"), 4, "{report}");
    assert_eq!(counter(&report, "items.viewed"), 12, "{report}");
    assert_eq!(counter(&report, "orders.with_session"), 4, "{report}");
    for (name, requests) in
        [("login", 4), ("list items", 4), ("view item", 12), ("place order", 4), ("ordered item", 4)]
    {
        assert_eq!(common::endpoint(&report, name)["requests"], requests, "{name}: {report}");
    }
    let log = t.requests().expect("recording");
    assert_eq!(route_count(&log, "GET /items/{n}"), 16, "{log}");
    assert_eq!(field_count(&log, "GET /items/{n}", "header:authorization"), 12, "{log}");
    assert_eq!(field_count(&log, "GET /items/{n}", "cookie:session"), 16, "{log}");
}

#[test]
fn timers_fire_while_a_context_http_request_is_out() {
    let t = recording_target();
    let case = Case::new();
    case.script(
        "race.js",
        r#"
module.exports = {
  async race(context, events) {
    let ticks = 0;
    const ticker = setInterval(() => { ticks += 1; }, 50);
    const slow = context.http.get('/delay/600', { name: 'slow' });
    const first = await Promise.race([slow.then(() => 'response'), new Promise((r) => setTimeout(() => r('timer'), 100))]);
    await slow;
    clearInterval(ticker);
    events.emit('counter', 'first.' + first, 1);
    events.emit('counter', ticks >= 3 ? 'ticked.during' : 'ticked.not', 1);
  },
};
"#,
    );
    let yaml = "config:\n  target: \"TARGET\"\n  processor: ./race.js\n  phases:\n    - duration: 1\n      arrivalCount: 2\nscenarios:\n  - flow:\n      - function: race\n";
    let script = case.script("race.yaml", &with_target(yaml, &t));
    let report = run_ok(&case, &script, &["-q"]);
    assert_eq!(counter(&report, "first.timer"), 2, "{report}");
    assert_eq!(counter(&report, "ticked.during"), 2, "{report}");
    assert_eq!(common::endpoint(&report, "slow")["requests"], 2, "{report}");
}
