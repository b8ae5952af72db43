// CommonJS: exports.f, and require of a relative .js (which requires a .json) and of a .json.
const pricing = require('./lib/pricing');
const { vat } = require('./data/rates.json');

exports.priceBasket = function (context, events, done) {
  const net = 10 + Math.floor(Math.random() * 90);
  const kind = net % 2 === 0 ? 'standard' : 'reduced';
  context.vars.net = net;
  context.vars.gross = pricing.withVat(net, kind);
  context.vars.currency = pricing.currency;
  events.emit('histogram', 'quote.vat_rate_permille', vat[kind] * 1000);
  done();
};
