//! The plans and phases built in code: `Plan::single_request` and the `Phase` constructors.

use std::time::Duration;

use hornet_script::Plan;
use hornet_script::plan::{
    ArrivalMode, Body, HttpSettings, Phase, PhaseKind, Protocol, SingleRequest, Step, UserRamp,
};
use http::{HeaderName, Method};

fn request(url: &str) -> SingleRequest {
    SingleRequest {
        method: Method::POST,
        url: url.to_string(),
        headers: vec![(HeaderName::from_static("x-token"), "a {{ b }}".to_string())],
        body: Some("{{ not a template }}".to_string()),
        http: HttpSettings { timeout: Duration::from_secs(3), pool: Some(4), ..Default::default() },
        phases: vec![Phase::rate(5.0, Duration::from_secs(2))],
    }
}

#[test]
fn a_password_in_the_url_is_sent_but_never_named() {
    let plan = Plan::single_request(request("http://user:S3CR3T@127.0.0.1:8080/x")).unwrap();
    assert_eq!(plan.endpoint_names(), ["POST http://user:***@127.0.0.1:8080/x"]);
    let [Step::Request(step)] = plan.scenarios[0].flow.as_slice() else { panic!("one request step") };
    assert_eq!(step.url.as_constant(), Some("http://user:S3CR3T@127.0.0.1:8080/x"), "the request keeps it");
    assert_eq!(
        hornet_script::request_url::without_url_password("see http://u@h/ and https://a:b@c?d"),
        "see http://u@h/ and https://a:***@c?d"
    );
}

#[test]
fn a_single_request_plan_has_one_http_endpoint_named_by_method_and_url() {
    let plan = Plan::single_request(request("http://127.0.0.1:8080/items?q=1")).unwrap();
    assert_eq!(plan.endpoint_names(), ["POST http://127.0.0.1:8080/items?q=1"]);
    assert_eq!(plan.endpoints.iter().map(|e| e.protocol).collect::<Vec<_>>(), [Protocol::Http]);
    assert_eq!(plan.endpoints[0].method.as_deref(), Some("POST"));
    assert_eq!(plan.scenarios.len(), 1);
    assert_eq!(plan.scenarios[0].name, "quick");
    assert_eq!(plan.scenarios[0].weight, 1);
    let [Step::Request(step)] = plan.scenarios[0].flow.as_slice() else {
        panic!("one request step expected, got {:?}", plan.scenarios[0].flow)
    };
    assert_eq!(step.endpoint, 0);
    assert_eq!(step.method, Method::POST);
    assert_eq!(step.url.as_constant(), Some("http://127.0.0.1:8080/items?q=1"));
    assert!(!step.follow_redirect && !step.decompress);
    assert_eq!(step.headers.len(), 1);
    assert_eq!(step.headers[0].1.as_constant(), Some("a {{ b }}"), "headers are sent as written");
    let Some(Body::Raw(body)) = &step.body else { panic!("raw body expected, got {:?}", step.body) };
    assert_eq!(body.as_constant(), Some("{{ not a template }}"), "the body is sent as written");
    assert_eq!(plan.http.timeout, Duration::from_secs(3));
    assert_eq!(plan.http.pool, Some(4));
    assert_eq!(plan.graceful_stop, Duration::from_secs(3), "the graceful stop is the timeout");
    assert_eq!(plan.phases, [Phase::rate(5.0, Duration::from_secs(2))]);
    assert!(plan.target.is_none() && plan.before.is_none() && plan.after.is_none());
    assert!(plan.strict_capture);
}

#[test]
fn a_single_request_plan_refuses_a_url_it_cannot_send() {
    let err = |url: &str| Plan::single_request(request(url)).unwrap_err();
    assert_eq!(err("ftp://h/x"), "`ftp://h/x` is not an http:// or https:// URL");
    assert_eq!(err("127.0.0.1:8080"), "`127.0.0.1:8080` is not an http:// or https:// URL");
    assert!(err("http://[::1/").starts_with("`http://[::1/` is not a valid URL: "));
    assert!(err("http:// h/").starts_with("`http:// h/` is not a valid URL: "));
}

#[test]
fn phase_constructors_make_the_phases_a_script_would() {
    let secs = Duration::from_secs;
    let plain = |kind| Phase {
        name: None,
        duration: secs(3),
        kind,
        max_vusers: None,
        mode: ArrivalMode::Uniform,
        pacing: None,
    };
    assert_eq!(Phase::rate(2.0, secs(3)), plain(PhaseKind::Rate { rate: 2.0, ramp_to: None }));
    assert_eq!(Phase::ramp(1.0, 9.0, secs(3)), plain(PhaseKind::Rate { rate: 1.0, ramp_to: Some(9.0) }));
    assert_eq!(Phase::count(7, secs(3)), plain(PhaseKind::Count { count: 7 }));
    assert_eq!(Phase::pause(secs(3)), plain(PhaseKind::Pause));
    assert_eq!(
        Phase::users(4, UserRamp::Linear, secs(3)),
        plain(PhaseKind::Users { users: 4, ramp: UserRamp::Linear })
    );
    let named = Phase::pause(secs(3)).named("rest");
    assert_eq!(named.name.as_deref(), Some("rest"));
    assert_eq!(named.label(0), "rest");
}
