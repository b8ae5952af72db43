// fs reads relative to the script: a CSV parsed once at load, a text file read when needed.
const fs = require('fs');
const path = require('path');

const csv = fs.readFileSync(path.join(__dirname, 'data', 'products.csv'), 'utf8');
const [header, ...rows] = csv.trim().split(/\r?\n/);
const fields = header.split(',');
const products = rows
  .map((row) => Object.fromEntries(row.split(',').map((v, i) => [fields[i], v])))
  .filter((p) => Number(p.stock) > 0);

function pickProduct(context, events, done) {
  const p = products[Math.floor(Math.random() * products.length)];
  Object.assign(context.vars, { sku: p.sku, name: p.name, stock: Number(p.stock) });
  done();
}

function addGreeting(requestParams, context, events, next) {
  requestParams.headers = requestParams.headers || {};
  const file = './data/greeting.txt';
  if (!fs.existsSync(file)) {
    return next(new Error(`${file} is missing`));
  }
  requestParams.headers['x-greeting'] = fs.readFileSync(file, 'utf8').trim();
  next();
}

module.exports = { pickProduct, addGreeting };
