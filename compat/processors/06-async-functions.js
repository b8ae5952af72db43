// async functions: no done/next, the returned Promise is awaited.
const crypto = require('crypto');
const { setTimeout: sleep } = require('timers/promises');

function later(ms, value) {
  return new Promise((resolve) => setTimeout(() => resolve(value), ms));
}

async function prepareAsync(context, events) {
  const [a, b] = await Promise.all([later(5, 'left'), later(1, 'right')]);
  await sleep(2);
  context.vars.parts = `${a}+${b}`;
  context.vars.batch = 7;
}

// A plain function (called with a callback, as Artillery decides by the function's type) that
// uses promises inside and calls done when they settle.
function promiseStep(context, events, done) {
  later(1)
    .then(() => {
      context.vars.batch = context.vars.batch * 6;
      done();
    })
    .catch(done);
}

async function addDigestLater(requestParams, context, events) {
  requestParams.headers = requestParams.headers || {};
  await later(1);
  requestParams.headers['x-parts'] = context.vars.parts;
  requestParams.headers['x-digest'] = crypto.createHash('md5').update(context.vars.parts).digest('hex');
}

module.exports = { prepareAsync, promiseStep, addDigestLater };
