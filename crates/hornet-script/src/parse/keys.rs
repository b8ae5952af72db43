//! The key schema as data: which keys each kind of mapping allows, which Artillery keys hornet
//! knows but does not implement, and which call JavaScript. [`Cx::map`](super::Cx) checks a
//! mapping against one of these tables.

use super::{flow, processor, ws};
use crate::plan::Expect;

/// The keys allowed in one kind of mapping.
pub(super) struct Keys {
    /// For messages: "unknown key `x` {place}".
    pub(super) place: &'static str,
    /// For hints about a key used in the wrong place: "`x` belongs {home}".
    pub(super) home: &'static str,
    pub(super) known: &'static [&'static str],
    /// Artillery keys that hornet recognises but does not implement (yet).
    pub(super) unsupported: &'static [&'static str],
    /// Artillery keys that call JavaScript processor functions.
    pub(super) javascript: &'static [&'static str],
}

pub(super) const ROOT: Keys = Keys {
    place: "at the top level",
    home: "at the top level of the script",
    // `processor` at the top level is Artillery's older place for it, still accepted.
    known: &["config", "scenarios", "before", "after", "processor"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const CONFIG: Keys = Keys {
    place: "in `config`",
    home: "under `config`",
    known: &[
        "target",
        "phases",
        "stages",
        "startRate",
        "http",
        "timeout",
        "tls",
        "defaults",
        "variables",
        "gracefulStop",
        "mode",
        "payload",
        "plugins",
        "ensure",
        "apdex",
        "expect",
        "environments",
        "ws",
        "processor",
        "processorLimits",
        "tracing",
    ],
    unsupported: &["engines", "includeFiles", "socketio", "statsInterval", "bundling"],
    javascript: &[],
};
pub(super) const TRACING: Keys = Keys {
    place: "in `config.tracing`",
    home: "under `config.tracing`",
    known: &["propagate", "sampleRate", "perIteration"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const PROCESSOR_LIMITS: Keys = Keys {
    place: "in `config.processorLimits`",
    home: "under `config.processorLimits`",
    known: &["timeout", "memory"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const PHASE: Keys = Keys {
    place: "in a phase",
    home: "in a phase (an item of `config.phases`)",
    known: &[
        "name",
        "duration",
        "arrivalRate",
        "rampTo",
        "arrivalCount",
        "pause",
        "maxVusers",
        "mode",
        "users",
        "spawnRate",
        "rampUsers",
        "pacing",
        "throughput",
        "requestRate",
    ],
    unsupported: &[],
    javascript: &[],
};
pub(super) const STAGE: Keys = Keys {
    place: "in a stage",
    home: "in a stage (an item of `config.stages`)",
    known: &["name", "duration", "target", "rate", "pacing", "throughput"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const HTTP: Keys = Keys {
    place: "in `config.http`",
    home: "under `config.http`",
    known: &["timeout", "pool", "defaults", "sourceAddresses", "expectedStatus", "maxCaptureBody"],
    unsupported: &["maxSockets", "extendedMetrics", "distributedTracing", "cookieJarOptions"],
    javascript: &[],
};
pub(super) const TLS: Keys = Keys {
    place: "in `config.tls`",
    home: "under `config.tls`",
    known: &["rejectUnauthorized"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const DEFAULTS: Keys = Keys {
    place: "in `config.defaults`",
    home: "under `config.defaults`",
    known: &["headers", "cookie", "think", "strictCapture"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const THINK_DEFAULTS: Keys = Keys {
    place: "in `config.defaults.think`",
    home: "under `config.defaults.think`",
    known: &["jitter"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const PAYLOAD: Keys = Keys {
    place: "in a payload",
    home: "in `config.payload`",
    known: &[
        "path",
        "fields",
        "order",
        "skipHeader",
        "delimiter",
        "cast",
        "skipEmptyLines",
        "loadAll",
        "name",
    ],
    unsupported: &["options"],
    javascript: &[],
};
pub(super) const PUBLISH_PROMETHEUS: Keys = Keys {
    place: "in a `prometheus` entry of `publish-metrics`",
    home: "in a `prometheus` entry of `config.plugins.publish-metrics`",
    known: &["type", "pushgateway", "tags", "prefix"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const PUBLISH_OTEL: Keys = Keys {
    place: "in an `open-telemetry` entry of `publish-metrics`",
    home: "in an `open-telemetry` entry of `config.plugins.publish-metrics`",
    known: &["type", "serviceName", "metrics", "traces"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const PUBLISH_OTEL_METRICS: Keys = Keys {
    place: "in the `metrics` of an `open-telemetry` entry",
    home: "under `metrics` in an `open-telemetry` entry of `publish-metrics`",
    known: &["endpoint", "exporter", "headers", "includeOnly", "excluded", "attributes"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const PUBLISH_OTEL_TRACES: Keys = Keys {
    place: "in the `traces` of an `open-telemetry` entry",
    home: "under `traces` in an `open-telemetry` entry of `publish-metrics`",
    known: &[
        "endpoint",
        "exporter",
        "headers",
        "sampleRate",
        "useRequestNames",
        "attributes",
        "replaceSpanNameRegex",
        "smartSampling",
    ],
    unsupported: &[],
    javascript: &[],
};
pub(super) const ENSURE: Keys = Keys {
    place: "in `ensure`",
    home: "under `config.ensure`",
    known: &[
        "thresholds",
        "conditions",
        "maxErrorRate",
        "min",
        "max",
        "median",
        "p50",
        "p75",
        "p90",
        "p95",
        "p99",
        "p999",
    ],
    unsupported: &[],
    javascript: &[],
};
pub(super) const CONDITION: Keys = Keys {
    place: "in an ensure condition",
    home: "in an item of `ensure.conditions`",
    known: &["expression", "strict"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const APDEX: Keys = Keys {
    place: "in `apdex`",
    home: "under `config.apdex`",
    known: &["threshold"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const EXPECT_PLUGIN: Keys = Keys {
    place: "in the `expect` plugin settings",
    home: "under `config.plugins.expect`",
    known: &["outputFormat", "expectDefault200", "reportFailuresAsErrors", "useOnlyRequestNames"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const BEFORE_AFTER: Keys = Keys {
    place: "in `before` or `after`",
    home: "under `before` or `after`",
    known: &["flow"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const SCENARIO: Keys = Keys {
    place: "in a scenario",
    home: "in a scenario (an item of `scenarios`)",
    known: &SCENARIO_KEYS,
    unsupported: &[],
    javascript: &[],
};
/// `a` then `b`, for building one constant key list from others (`C` must be `A + B`).
pub(super) const fn concat<const A: usize, const B: usize, const C: usize>(
    a: [&'static str; A],
    b: [&'static str; B],
) -> [&'static str; C] {
    assert!(A + B == C, "concat: the lengths do not add up");
    let mut out = [""; C];
    let mut i = 0;
    while i < A {
        out[i] = a[i];
        i += 1;
    }
    while i < C {
        out[i] = b[i - A];
        i += 1;
    }
    out
}

/// Every key of a scenario, its processor hooks included.
const SCENARIO_KEYS: [&str; 9] = concat(["name", "weight", "flow", "engine"], processor::SCENARIO_HOOKS);
/// Every key of a step: its action, and the options of `loop` and `think`.
pub(super) const STEP_KEYS: [&str; 21] =
    concat(concat::<12, 4, 16>(flow::FLOW_ACTIONS, ["count", "over", "jitter", "whileTrue"]), ws::WS_ACTIONS);
pub(super) const STEP: Keys =
    Keys { place: "in a step", home: "in a flow step", known: &STEP_KEYS, unsupported: &[], javascript: &[] };
pub(super) const REQUEST: Keys = Keys {
    place: "in a request",
    home: "in a request (under `get`, `post`, ...)",
    known: &[
        "url",
        "name",
        "headers",
        "qs",
        "json",
        "body",
        "form",
        "formData",
        "auth",
        "cookie",
        "followRedirect",
        "gzip",
        "probability",
        "ifTrue",
        "capture",
        "match",
        "expect",
        "beforeRequest",
        "afterResponse",
    ],
    unsupported: &["setContentLengthHeader", "http2"],
    javascript: &[],
};
pub(super) const AUTH: Keys = Keys {
    place: "in `auth`",
    home: "under a request's `auth`",
    known: &["user", "pass"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const FORM_PART: Keys = Keys {
    place: "in a `formData` field",
    home: "in a `formData` field",
    known: &["value", "fromFile", "contentType"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const CAPTURE: Keys = Keys {
    place: "in a capture",
    home: "in a `capture` or `match`",
    known: &[
        "json", "regexp", "header", "selector", "as", "strict", "index", "group", "flags", "attr", "value",
    ],
    unsupported: &["xpath"],
    javascript: &[],
};
pub(super) const EXPECT: Keys = Keys {
    place: "in `expect`",
    home: "in a request's `expect` list",
    known: &Expect::KINDS,
    unsupported: &["cdnHit", "jmespath"],
    javascript: &[],
};
pub(super) const WS_CONFIG: Keys = Keys {
    place: "in `config.ws`",
    home: "under `config.ws`",
    known: &["subprotocols", "headers", "timeout"],
    unsupported: &["proxy"],
    javascript: &[],
};
pub(super) const WS_CONNECT: Keys = Keys {
    place: "in `connect`",
    home: "under a `connect` step",
    known: &["target", "url", "headers", "subprotocols", "name"],
    unsupported: &["proxy"],
    javascript: &["function"],
};
pub(super) const WS_SEND: Keys = Keys {
    place: "in `send`",
    home: "under a `send` step",
    known: &["payload", "capture", "match", "name", "timeout"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const WS_SEND_BYTES: Keys = Keys {
    place: "in `sendBytes`",
    home: "under a `sendBytes` step",
    known: &["base64", "hex", "capture", "match", "name", "timeout"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const WS_WAIT: Keys = Keys {
    place: "in `wait`",
    home: "under a `wait` step",
    known: &["match", "regexp", "capture", "name", "timeout"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const WS_CLOSE: Keys = Keys {
    place: "in `close`",
    home: "under a `close` step",
    known: &["code"],
    unsupported: &[],
    javascript: &[],
};
pub(super) const ALL_KEYS: [&Keys; 29] = [
    &ROOT,
    &CONFIG,
    &TRACING,
    &PROCESSOR_LIMITS,
    &PHASE,
    &STAGE,
    &HTTP,
    &TLS,
    &DEFAULTS,
    &THINK_DEFAULTS,
    &PAYLOAD,
    &ENSURE,
    &CONDITION,
    &APDEX,
    &EXPECT_PLUGIN,
    &BEFORE_AFTER,
    &SCENARIO,
    &STEP,
    &REQUEST,
    &AUTH,
    &FORM_PART,
    &CAPTURE,
    &EXPECT,
    &WS_CONFIG,
    &WS_CONNECT,
    &WS_SEND,
    &WS_SEND_BYTES,
    &WS_WAIT,
    &WS_CLOSE,
];

/// Hints for unsupported keys that have a hornet equivalent or a common workaround.
pub(super) fn unsupported_help(keys: &Keys, key: &str) -> Option<String> {
    let h = match (keys.place, key) {
        ("in `config.http`", "maxSockets") => "use `pool` to cap the number of connections",
        ("in `config.http`", "extendedMetrics") => {
            "remove it; hornet always reports DNS, connect and TLS times when it opens a connection"
        }
        ("in `config.ws`", "proxy") | ("in `connect`", "proxy") => "hornet connects directly; remove `proxy`",
        ("in a capture", "xpath") => "capture from HTML with `selector` (a CSS selector) instead",
        ("in `expect`", "cdnHit") => "check the CDN's header with `hasHeader` or `headerEquals` instead",
        ("in `expect`", "jmespath") => {
            "check a property with `hasProperty`, or capture it and compare with `equals`"
        }
        _ => return None,
    };
    Some(h.to_string())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_keys_table_lists_distinct_keys() {
        for keys in ALL_KEYS {
            let all: Vec<&str> =
                keys.known.iter().chain(keys.unsupported).chain(keys.javascript).copied().collect();
            let mut sorted = all.clone();
            sorted.sort_unstable();
            sorted.dedup();
            assert_eq!(sorted.len(), all.len(), "duplicate key {}", keys.place);
        }
    }
}
