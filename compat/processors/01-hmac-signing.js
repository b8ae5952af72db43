// HMAC request signing with Node's crypto: the signature covers the method, the path, a
// timestamp, a nonce and a SHA-256 of the body, and goes out in headers.
'use strict';

const crypto = require('crypto');

const SECRET = process.env.CORPUS_SIGNING_SECRET || 'corpus-signing-secret';

function canonical(method, path, timestamp, nonce, bodyHash) {
  return [method.toUpperCase(), path, timestamp, nonce, bodyHash].join('\n');
}

function signRequest(requestParams, context, events, next) {
  requestParams.headers = requestParams.headers || {};
  // Artillery runs this hook before it renders the body's {{ }} templates, so the signed body
  // holds none: the order id is made here.
  requestParams.json = Object.assign({ orderId: crypto.randomUUID() }, requestParams.json);
  const body = JSON.stringify(requestParams.json);
  const bodyHash = crypto.createHash('sha256').update(body, 'utf8').digest('hex');
  const timestamp = String(Date.now());
  const nonce = crypto.randomBytes(8).toString('hex');
  const path = new URL(requestParams.url).pathname;
  const signature = crypto
    .createHmac('sha256', SECRET)
    .update(canonical(requestParams.method || 'GET', path, timestamp, nonce, bodyHash))
    .digest('base64');
  Object.assign(requestParams.headers, {
    'x-timestamp': timestamp,
    'x-nonce': nonce,
    'x-content-sha256': bodyHash,
    'x-signature': signature,
  });
  return next();
}

// The server's echo says what it received: verify it as the server would.
function verifyEcho(requestParams, response, context, events, next) {
  const seen = JSON.parse(response.body);
  const h = seen.headers;
  const bodyHash = crypto.createHash('sha256').update(seen.body).digest('hex');
  const expected = crypto
    .createHmac('sha256', SECRET)
    .update(canonical(seen.method, seen.path, h['x-timestamp'], h['x-nonce'], bodyHash))
    .digest('base64');
  const ok = bodyHash === h['x-content-sha256'] &&
    crypto.timingSafeEqual(Buffer.from(expected), Buffer.from(h['x-signature'] || ''));
  events.emit('counter', ok ? 'signing.verified' : 'signing.rejected', 1);
  return next();
}

module.exports = { signRequest, verifyEcho };
