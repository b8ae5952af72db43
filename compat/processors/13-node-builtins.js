// util, url, querystring, path, os and events, as processors use them.
const util = require('util');
const url = require('url');
const querystring = require('querystring');
const path = require('path');
const os = require('os');
const EventEmitter = require('events');

// A module-level event bus, as some processors use to share state between hooks.
const bus = new EventEmitter();
let seen = 0;
bus.on('search', () => { seen += 1; });
let firstOnly = 0;
bus.once('search', () => { firstOnly += 1; });

function useBuiltins(context, events, done) {
  context.vars.query = querystring.stringify({ q: 'red shoes', page: 2, tags: ['a', 'b'] });
  bus.emit('search', context.vars.query);
  done();
}

const sleep = util.promisify((ms, cb) => setTimeout(() => cb(null, ms), ms));

async function builtinHeaders(requestParams, context, events) {
  requestParams.headers = requestParams.headers || {};
  const slept = await sleep(1);
  // Artillery gives hooks the URL before it renders its {{ }} templates: build it from the vars.
  const full = `http://127.0.0.1/search?${context.vars.query}`;
  const parsed = new url.URL(full);
  const legacy = url.parse(full, true);
  const back = querystring.parse(parsed.search.slice(1));
  Object.assign(requestParams.headers, {
    'x-format': util.format('%s has %d items: %j', 'cart', 3, { ok: true }),
    'x-inspect': util.inspect({ a: [1, 2], b: 'x' }),
    'x-types': String(util.types.isPromise(Promise.resolve()) && util.isDeepStrictEqual({ a: 1 }, { a: 1 })),
    'x-query': `${back.q}|${back.page}|${back.tags.join('+')}|${legacy.query.q}`,
    'x-path': [path.join('/srv/app', '../data', 'users.json'), path.basename('/a/b/c.tar.gz', '.gz'),
      path.extname('report.html'), path.resolve('/x', 'y', '..', 'z')].join(' '),
    'x-os': `${JSON.stringify(os.EOL)} ${typeof os.hostname()} ${os.hostname().length > 0}`,
    'x-events': `${seen >= 1} ${firstOnly} ${bus.listenerCount('search')}`,
    'x-buffer': Buffer.from('hornet:processor').toString('base64') + ' ' + Buffer.from('68690a', 'hex').toString().trim(),
    'x-slept': String(slept),
  });
}

module.exports = { useBuiltins, builtinHeaders };
