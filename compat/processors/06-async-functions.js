// async functions and returned Promises: no done/next, the result is awaited.
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

// Not declared async, but returns a Promise: awaited the same way.
function promiseStep(context, events) {
  return later(1).then(() => {
    context.vars.batch = context.vars.batch * 6;
  });
}

async function addDigestLater(requestParams, context, events) {
  await later(1);
  requestParams.headers['x-parts'] = context.vars.parts;
  requestParams.headers['x-digest'] = crypto.createHash('md5').update(context.vars.parts).digest('hex');
}

module.exports = { prepareAsync, promiseStep, addDigestLater };
