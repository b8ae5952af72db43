//! `context.http` as JavaScript sees it, against a scripted sender: what each option makes of the
//! request, the response object, rejections, and the hooks where it does not work.

use std::collections::HashMap;
use std::path::Path;

use hornet_js::{HttpCall, HttpFuture, HttpReply, HttpSender, Processor, ProcessorOptions};
use serde_json::{Value, json};

fn load(dir: &Path, source: &str) -> Processor {
    std::fs::write(dir.join("p.js"), source).unwrap();
    Processor::load(&dir.join("p.js"), ProcessorOptions::default()).unwrap_or_else(|e| panic!("{e}"))
}

/// Answers every call with the JSON of what it was asked (or fails for `/down`), keeping the calls.
#[derive(Default)]
struct Scripted {
    calls: Vec<HttpCall>,
}

impl HttpSender for Scripted {
    fn send(&mut self, call: HttpCall) -> HttpFuture<'_> {
        self.calls.push(call.clone());
        Box::pin(async move {
            if call.url.ends_with("/down") {
                return Err("connection refused".to_string());
            }
            let mut headers = http::HeaderMap::new();
            headers.insert("content-type", http::HeaderValue::from_static("application/json"));
            let body = json!({ "method": call.method, "url": call.url, "body": String::from_utf8_lossy(&call.body) });
            Ok(HttpReply {
                status: if call.url.contains("missing") { 404 } else { 200 },
                headers,
                body: body.to_string().into_bytes(),
                url: call.url.clone(),
                phases: vec![("total", 1.5)],
            })
        })
    }
}

const CLIENT: &str = r#"
module.exports = {
  async calls(context) {
    const http = context.http;
    const a = await http.post('/orders', { json: { id: 7 }, headers: { 'X-Trace': 't1' }, qs: { v: 2 }, name: 'order' });
    context.vars.a = { status: a.status, statusCode: a.statusCode, sent: a.json().body, type: a.headers['content-type'], total: a.timings.phases.total };
    const b = await http.put('http://127.0.0.1:1/form?x=1', { form: { name: 'ann lee', n: 3 }, followRedirect: false });
    context.vars.b = b.json().url;
    const c = await http.get('/missing');
    context.vars.c = c.statusCode;
    try {
      await http.delete('/down');
    } catch (e) {
      context.vars.rejected = e.message;
    }
    try {
      await http.get('/x', { body: { not: 'allowed' } });
      context.vars.bodyObject = 'sent';
    } catch (e) {
      context.vars.bodyObject = 'refused';
    }
  },
  async notJson(context) {
    const r = await context.http.get('/missing');
    JSON.parse('{');
  },
  sign(req, context, events, next) {
    context.http.get('/nope').then(() => next(), (e) => { req.headers['x-why'] = e.message; next(); });
  },
};
"#;

#[tokio::test]
async fn options_become_the_request_and_the_response_reads_like_k6s() {
    let dir = tempfile::tempdir().unwrap();
    let processor = load(dir.path(), CLIENT);
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut vars: HashMap<String, Value> = HashMap::new();
    let mut sender = Scripted::default();
    processor.call_step_with_http(&vu, "calls", &mut vars, &mut sender).await.unwrap();
    let calls = &sender.calls;
    assert_eq!(calls.len(), 4, "{calls:?}");
    // json, headers (lower-case), qs and name.
    assert_eq!(calls[0].method, "POST");
    assert_eq!(calls[0].url, "/orders?v=2");
    assert_eq!(calls[0].body, br#"{"id":7}"#);
    assert_eq!(calls[0].name.as_deref(), Some("order"));
    assert!(calls[0].headers.contains(&("x-trace".into(), "t1".into())), "{:?}", calls[0].headers);
    assert!(calls[0].headers.contains(&("content-type".into(), "application/json".into())));
    assert!(calls[0].follow_redirects);
    // form, an existing query, followRedirect.
    assert_eq!(calls[1].url, "http://127.0.0.1:1/form?x=1");
    assert_eq!(calls[1].body, b"name=ann+lee&n=3");
    assert!(calls[1].headers.contains(&("content-type".into(), "application/x-www-form-urlencoded".into())));
    assert!(!calls[1].follow_redirects);
    assert_eq!(calls[2].name, None);
    assert_eq!(
        vars["a"],
        json!({ "status": 200, "statusCode": 200, "sent": "{\"id\":7}", "type": "application/json", "total": 1.5 })
    );
    assert_eq!(vars["b"], json!("http://127.0.0.1:1/form?x=1"));
    // Any status resolves; no response rejects with the sender's message.
    assert_eq!(vars["c"], json!(404));
    assert_eq!(vars["rejected"], json!("connection refused"));
    // An object body is refused before anything is sent.
    assert_eq!(vars["bodyObject"], json!("refused"));
}

#[tokio::test]
async fn a_failure_after_a_request_carries_its_stack_and_other_hooks_cannot_send() {
    let dir = tempfile::tempdir().unwrap();
    let processor = load(dir.path(), CLIENT);
    let vu = processor.new_vu("u", None, 1).unwrap();
    let mut vars: HashMap<String, Value> = HashMap::new();
    let mut sender = Scripted::default();
    let err = processor.call_step_with_http(&vu, "notJson", &mut vars, &mut sender).await.unwrap_err();
    assert!(err.message.contains("SyntaxError"), "{err}");
    assert!(err.stack.contains("at notJson (") && err.stack.contains("p.js:25:"), "{err:?}");
    // beforeRequest gets a context.http whose Promise rejects, saying where it works.
    let mut request = hornet_js::RequestParams {
        url: "http://127.0.0.1:1/".into(),
        method: "GET".into(),
        ..Default::default()
    };
    processor.before_request(&vu, "sign", &mut request, &mut vars).await.unwrap();
    let why = request.headers.iter().find(|(k, _)| k == "x-why").map(|(_, v)| v.as_str()).unwrap_or("");
    assert!(why.contains("context.http works in function steps"), "{why}");
}
