//! Plans and phases built in code rather than read from a script: [`Plan::single_request`] (what
//! `hornet quick` runs) and the [`Phase`] constructors. They keep the invariants the parser keeps
//! (one endpoint per request name, its protocol recorded, the script defaults).

use std::time::Duration;

use super::{
    Body, Endpoint, HttpSettings, Phase, PhaseKind, Plan, Protocol, RequestStep, Scenario, Step, UserRamp,
};
use crate::template::Template;

/// What [`Plan::single_request`] sends: one request, sent over and over.
#[derive(Debug, Clone)]
pub struct SingleRequest {
    /// The method.
    pub method: http::Method,
    /// An absolute `http://` or `https://` URL with a host, sent as written (no templates).
    pub url: String,
    /// Headers, sent as written.
    pub headers: Vec<(http::HeaderName, String)>,
    /// The body, sent as written.
    pub body: Option<String>,
    /// Timeout, connection pool and TLS checking; the timeout is also the graceful stop.
    pub http: HttpSettings,
    /// The load phases (empty: the runner's closed model or functional mode decides).
    pub phases: Vec<Phase>,
}

impl SingleRequest {
    /// Checks that `url` is one [`Plan::single_request`] can send: absolute `http://` or
    /// `https://`, valid, with a host. The error names the URL and says what is wrong.
    pub fn check_url(url: &str) -> Result<(), String> {
        if !(url.starts_with("http://") || url.starts_with("https://")) {
            return Err(format!("`{url}` is not an http:// or https:// URL"));
        }
        let uri: http::Uri = url.parse().map_err(|e| format!("`{url}` is not a valid URL: {e}"))?;
        if uri.host().is_none() {
            return Err(format!("`{url}` has no host"));
        }
        Ok(())
    }
}

impl Plan {
    /// A plan with one scenario, `quick`, of one request named `METHOD URL` (a password in the URL
    /// shows as `***`). The request follows
    /// no redirects and asks for no compression, so that what is measured is the URL itself.
    /// An error says why the URL cannot be sent.
    pub fn single_request(request: SingleRequest) -> Result<Plan, String> {
        let SingleRequest { method, url, headers, body, http, phases } = request;
        SingleRequest::check_url(&url)?;
        let step = RequestStep {
            method: method.clone(),
            url: Template::literal(&url),
            endpoint: 0,
            headers: headers.into_iter().map(|(name, value)| (name, Template::literal(&value))).collect(),
            qs: Vec::new(),
            body: body.map(|b| Body::Raw(Template::literal(&b))),
            auth: None,
            cookies: Vec::new(),
            follow_redirect: false,
            decompress: false,
            probability: None,
            condition: None,
            captures: Vec::new(),
            expects: Vec::new(),
            hooks: Default::default(),
        };
        Ok(Plan {
            source: None,
            target: None,
            phases,
            graceful_stop: http.timeout,
            http,
            default_headers: Vec::new(),
            variables: Vec::new(),
            scenarios: vec![Scenario {
                name: "quick".into(),
                weight: 1,
                flow: vec![Step::Request(Box::new(step))],
                hooks: Default::default(),
                spec: Default::default(),
            }],
            endpoints: vec![Endpoint {
                name: format!("{method} {}", crate::request_url::without_url_password(&url)),
                method: Some(method.to_string()),
                protocol: Protocol::Http,
                scenario: Some("quick".into()),
            }],
            ws: Default::default(),
            before: None,
            after: None,
            payloads: Vec::new(),
            kept_form_files: Vec::new(),
            default_cookies: Vec::new(),
            strict_capture: true,
            ensure: Default::default(),
            apdex_threshold_ms: None,
            expect: Default::default(),
            publish_metrics: Vec::new(),
            environment: None,
            warnings: Vec::new(),
            processor: None,
            test_id: None,
            tracing: None,
        })
    }
}

impl Phase {
    /// A phase of `kind` lasting `duration`, unnamed, with evenly spaced arrivals, no VU cap and
    /// no pacing: what a script's phase is when it sets nothing else.
    pub fn new(duration: Duration, kind: PhaseKind) -> Phase {
        Phase { name: None, duration, kind, max_vusers: None, mode: Default::default(), pacing: None }
    }

    /// `arrivalRate: rate` for `duration`.
    pub fn rate(rate: f64, duration: Duration) -> Phase {
        Phase::new(duration, PhaseKind::Rate { rate, ramp_to: None })
    }

    /// `arrivalRate: from` with `rampTo: to` over `duration`.
    pub fn ramp(from: f64, to: f64, duration: Duration) -> Phase {
        Phase::new(duration, PhaseKind::Rate { rate: from, ramp_to: Some(to) })
    }

    /// `arrivalCount: count` spread over `duration`.
    pub fn count(count: u64, duration: Duration) -> Phase {
        Phase::new(duration, PhaseKind::Count { count })
    }

    /// `pause: duration`.
    pub fn pause(duration: Duration) -> Phase {
        Phase::new(duration, PhaseKind::Pause)
    }

    /// A closed-model phase of `users` users, reached as `ramp` says, for `duration`.
    pub fn users(users: u64, ramp: UserRamp, duration: Duration) -> Phase {
        Phase::new(duration, PhaseKind::Users { users, ramp })
    }

    /// This phase with `name` as its label.
    pub fn named(self, name: impl Into<String>) -> Phase {
        Phase { name: Some(name.into()), ..self }
    }
}
