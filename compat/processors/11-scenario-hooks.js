// Scenario hooks with module-level state shared by the VUs of a worker thread.
const { randomUUID } = require('crypto');

let started = 0;

function openSession(context, events, done) {
  started += 1;
  context.vars.sessionId = `sess-${randomUUID()}`;
  context.vars.visit = started;
  context.vars.openedAt = Date.now();
  events.emit('counter', 'sessions.opened', 1);
  done();
}

function closeSession(context, events, done) {
  const lasted = Date.now() - context.vars.openedAt;
  events.emit('histogram', 'session.duration_ms', lasted);
  events.emit('counter', 'sessions.closed', 1);
  done();
}

module.exports = { openSession, closeSession };
