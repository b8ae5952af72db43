// Hook lists: each function appends its name to x-hooks, so the server sees the order they ran in.
const crypto = require('crypto');

function mark(requestParams, name) {
  // Artillery leaves `headers` undefined on a request that sets none.
  requestParams.headers = requestParams.headers || {};
  const before = requestParams.headers['x-hooks'];
  requestParams.headers['x-hooks'] = before ? `${before},${name}` : name;
}

function addTraceId(requestParams, context, events, next) {
  mark(requestParams, 'trace');
  requestParams.headers['x-trace-id'] = crypto.randomUUID();
  next();
}

function addTimestamp(requestParams, context, events, next) {
  mark(requestParams, 'time');
  requestParams.headers['x-sent-at'] = new Date().toISOString();
  next();
}

function signTrace(requestParams, context, events, next) {
  mark(requestParams, 'sign');
  const h = requestParams.headers;
  h['x-trace-sig'] = crypto.createHmac('sha256', 'trace-key').update(h['x-trace-id'] + h['x-sent-at']).digest('hex');
  next();
}

function checkTraceEchoed(requestParams, response, context, events, next) {
  const echoed = JSON.parse(response.body).headers;
  events.emit('counter', echoed['x-trace-id'] === requestParams.headers['x-trace-id'] ? 'trace.echoed' : 'trace.lost', 1);
  next();
}

function countStatus(requestParams, response, context, events, next) {
  events.emit('counter', `status.${response.statusCode}`, 1);
  next();
}

module.exports = { addTraceId, addTimestamp, signTrace, checkTraceEchoed, countStatus };
