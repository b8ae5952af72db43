// A helper module for 08-commonjs-require.js: it requires JSON relative to itself.
const rates = require('../data/rates.json');

exports.withVat = function withVat(net, kind) {
  const rate = rates.vat[kind] !== undefined ? rates.vat[kind] : rates.vat.standard;
  return Math.round(net * (1 + rate) * 100) / 100;
};

exports.currency = rates.currency;
