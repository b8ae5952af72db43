// Preloaded into Artillery by ./record (NODE_OPTIONS=--require): Artillery 2.0.21 sends a telemetry
// event even with ARTILLERY_DISABLE_TELEMETRY set, and the record runs must reach no host but the
// local target. This replaces the telemetry client with one that does nothing.
'use strict';

const Module = require('node:module');
const load = Module._load;

class SilentPostHog {
  capture() {}
  async shutdownAsync() {}
}

Module._load = function (request, parent, isMain) {
  if (request === 'posthog-node') return { PostHog: SilentPostHog };
  return load.call(this, request, parent, isMain);
};
