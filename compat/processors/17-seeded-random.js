// Random data from Math.random only (no crypto), so a seeded run repeats.
function randomCart(context, events, done) {
  const n = 1 + Math.floor(Math.random() * 4);
  const lines = [];
  for (let i = 0; i < n; i += 1) {
    lines.push(`${String.fromCharCode(65 + Math.floor(Math.random() * 26))}-${Math.floor(Math.random() * 1000)}`);
  }
  context.vars.cart = lines.join(';');
  done();
}

module.exports = { randomCart };
