// Functions for processor.yaml, written as for Artillery: they run unchanged in hornet.
const crypto = require('crypto');

const SECRET = process.env.SIGNING_SECRET || 'example-secret';

// Module state is shared by the virtual users of one worker thread.
let ordersMade = 0;

function pickCustomer(context, events, done) {
  context.vars.customer = 'customer-' + crypto.randomInt(1, 10000);
  done();
}

function makeOrder(context, events, done) {
  ordersMade += 1;
  context.vars.itemId = 1 + Math.floor(Math.random() * 1000);
  context.vars.quantity = 1 + (ordersMade % 5);
  events.emit('counter', 'orders.made', 1);
  done();
}

function signature(body) {
  return crypto.createHmac('sha256', SECRET).update(body).digest('hex');
}

function signBody(requestParams, context, events, next) {
  const body = JSON.stringify(requestParams.json);
  requestParams.json = JSON.parse(body);
  requestParams.headers['x-signature'] = signature(body);
  next();
}

// An async function: awaited, no callback.
async function checkSignature(requestParams, response, context, events) {
  const echoed = JSON.parse(response.body);
  if (echoed.headers['x-signature'] !== signature(echoed.body)) {
    throw new Error('the server received a body that does not match its signature');
  }
  events.emit('counter', 'orders.signed', 1);
  events.emit('histogram', 'echo.body_bytes', echoed.body.length);
}

function wantsMore(context, next) {
  next(Math.random() < 0.7);
}

module.exports = { pickCustomer, makeOrder, signBody, checkSignature, wantsMore };
