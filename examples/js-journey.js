// A scenario in JavaScript: log in, list the items, look at three of them, order the cheapest.
// `context.http` works in `function` steps (and beforeScenario/afterScenario); each call returns a
// Promise of { statusCode, headers, body, timings, json() } and rejects if no response came.

async function shop(context, events) {
  const http = context.http;

  // The target answers any credentials with a token, and sets a session cookie in the VU's jar.
  const login = await http.post('/login', {
    json: { username: 'shopper-' + context._uid.slice(0, 8), password: 'secret' },
    name: 'login',
  });
  if (login.statusCode !== 200) throw new Error('login failed with ' + login.statusCode);
  const auth = { authorization: 'Bearer ' + login.json().token };

  const list = await http.get('/items', { headers: auth, name: 'list items' });
  const items = list.json().items;

  // Requests of one VU go one after the other on its connection; each is counted under
  // `name` (without one, under the method and URL, as a YAML step without `name`).
  const viewed = [];
  for (let i = 0; i < 3; i++) {
    const id = items[Math.floor(Math.random() * items.length)].id;
    const item = await http.get('/items/' + id, { headers: auth, name: 'view item' });
    viewed.push(item.json());
    events.emit('counter', 'items.viewed', 1);
  }

  const cheapest = viewed.reduce((a, b) => (b.price < a.price ? b : a));
  const order = await http.post('/echo', {
    headers: auth,
    json: { item: cheapest.id, quantity: 1 + Math.floor(Math.random() * 3) },
    name: 'place order',
  });
  // /echo answers with what it received: the order went out with the session cookie.
  const received = order.json();
  events.emit('counter', received.headers.cookie ? 'orders.with_session' : 'orders.without_session', 1);
  events.emit('histogram', 'order.response_ms', order.timings.phases.total);

  // Variables set here are visible to the YAML steps after this one.
  context.vars.orderedItem = cheapest.id;
}

module.exports = { shop };
