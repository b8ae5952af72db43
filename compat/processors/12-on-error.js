// onError(err, requestParams, context, events, next): classify the failure into a counter.
function recordFailure(err, requestParams, context, events, next) {
  const code = (err && (err.code || err.message)) || 'unknown';
  const kind = /refused|ECONNREFUSED/i.test(String(code)) ? 'refused' : 'other';
  events.emit('counter', `backend.error.${kind}`, 1);
  events.emit('counter', `backend.error.port.${new URL(requestParams.url).port}`, 1);
  next();
}

module.exports = { recordFailure };
