// events.emit for custom metrics: counter, histogram and rate, with names chosen at run time.
function measure(requestParams, response, context, events, next) {
  const statusClass = `${Math.floor(response.statusCode / 100)}xx`;
  events.emit('counter', `response.status.${statusClass}`, 1);
  events.emit('histogram', 'response.body_bytes', Buffer.byteLength(response.body || ''));
  events.emit('rate', 'response.rate');
  if (response.timings && response.timings.phases) {
    events.emit('histogram', 'response.total_ms', response.timings.phases.total);
  }
  next();
}

function fillCart(context, events, done) {
  const size = 1 + Math.floor(Math.random() * 3);
  context.vars.cartSize = size;
  events.emit('counter', `cart.size.${size}`, 1);
  events.emit('histogram', 'cart.size', size);
  done();
}

module.exports = { measure, fillCart };
