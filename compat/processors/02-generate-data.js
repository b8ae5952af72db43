// Test data without faker: names from small lists, an e-mail made from them, an age drawn with
// crypto.randomInt and an id from crypto.randomUUID.
const { randomInt, randomUUID } = require('crypto');

const FIRST = ['ada', 'grace', 'alan', 'edsger', 'barbara', 'donald', 'margaret', 'ken'];
const LAST = ['lovelace', 'hopper', 'turing', 'dijkstra', 'liskov', 'knuth', 'hamilton', 'thompson'];
const TAGS = ['beta', 'newsletter', 'mobile', 'trial'];

function pick(list) {
  return list[Math.floor(Math.random() * list.length)];
}

function generateUser(context, events, done) {
  const firstName = pick(FIRST);
  const lastName = pick(LAST);
  context.vars.user = {
    id: randomUUID(),
    firstName,
    lastName,
    email: `${firstName}.${lastName}${randomInt(1, 1000)}@example.com`,
    age: randomInt(18, 91),
    tags: TAGS.filter(() => Math.random() < 0.5),
  };
  return done();
}

module.exports = { generateUser };
