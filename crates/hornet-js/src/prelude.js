// The Node-compatible surface a processor sees, built once per runtime over the native helpers
// in `__hornet` (hashing, encodings, files, timers, metrics). Evaluated as a script; it installs
// globals (Buffer, process, console, timers, URL, TextEncoder...) and `__hornet_builtin(name)`,
// `__hornet_require(from)` and `__hornet_cjs(key)` for the Rust side.
(function (H) {
  'use strict';
  const G = globalThis;

  // ---- shapes kept alive ---------------------------------------------------------------------
  // QuickJS finds an object's next shape (its property names, in order) in a table when another
  // live object has it, and otherwise makes one, which costs several times as much, and frees it
  // with the last object that has it. An object made for each hook call (the `requestParams`, the
  // response, a `Hash`) dies before the next, so every call made all of its shapes again. These
  // objects keep each step of such a sequence of properties alive, so building it again only finds
  // them. `steps` are [name, kind]: 'v' a plain property, 'a' an enumerable, configurable
  // accessor, 'h' a hidden (non-writable, non-enumerable, non-configurable) value, 'c' a hidden
  // configurable value.
  const KEPT_SHAPES = [];
  const noop = () => {};
  function keepShapes(proto, steps) {
    for (let n = 0; n <= steps.length; n++) {
      const o = Object.create(proto);
      for (let i = 0; i < n; i++) {
        const [name, kind] = steps[i];
        if (kind === 'a') Object.defineProperty(o, name, { get: noop, set: noop, enumerable: true, configurable: true });
        else if (kind === 'h') Object.defineProperty(o, name, { value: undefined });
        else if (kind === 'c') Object.defineProperty(o, name, { value: undefined, configurable: true });
        else o[name] = undefined;
      }
      KEPT_SHAPES.push(o);
    }
  }
  // For the Rust side: the plain properties `names`, in order, on objects of Object.prototype.
  G.__hornet_keep_shapes = (names) => keepShapes(Object.prototype, names.map((name) => [name, 'v']));
  // The function a hook gets as its callback (a C closure: `length`, then `name`).
  keepShapes(Function.prototype, [['length', 'c'], ['name', 'c']]);

  // ---- Buffer -------------------------------------------------------------------------------
  const ENCODINGS = ['utf8', 'utf-8', 'hex', 'base64', 'base64url', 'latin1', 'binary', 'ascii', 'ucs2', 'ucs-2', 'utf16le', 'utf-16le'];
  function normEnc(enc) {
    const e = (enc === undefined || enc === null ? 'utf8' : String(enc)).toLowerCase();
    if (!ENCODINGS.includes(e)) throw new TypeError('Unknown encoding: ' + enc);
    return e;
  }
  function wrap(u8) {
    return new Buffer(u8.buffer, u8.byteOffset, u8.byteLength);
  }
  function fromString(s, enc) {
    switch (normEnc(enc)) {
      case 'utf8': case 'utf-8': return wrap(H.utf8Encode(s));
      case 'hex': {
        const n = s.length >> 1;
        const b = new Buffer(n);
        let i = 0;
        for (; i < n; i++) {
          const v = parseInt(s.substr(i * 2, 2), 16);
          if (Number.isNaN(v)) break;
          b[i] = v;
        }
        return i === n ? b : b.subarray(0, i);
      }
      case 'base64': case 'base64url': return wrap(H.base64Decode(s));
      case 'latin1': case 'binary': case 'ascii': {
        const b = new Buffer(s.length);
        for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 255;
        return b;
      }
      default: {
        const b = new Buffer(s.length * 2);
        for (let i = 0; i < s.length; i++) {
          const c = s.charCodeAt(i);
          b[i * 2] = c & 255;
          b[i * 2 + 1] = c >> 8;
        }
        return b;
      }
    }
  }
  function toStringEnc(u8, enc) {
    switch (normEnc(enc)) {
      case 'utf8': case 'utf-8': return H.utf8Decode(u8);
      case 'hex': return H.hexEncode(u8);
      case 'base64': return H.base64Encode(u8, false);
      case 'base64url': return H.base64Encode(u8, true);
      case 'ascii': case 'latin1': case 'binary': {
        let out = '';
        const mask = enc === 'ascii' ? 127 : 255;
        for (let i = 0; i < u8.length; i += 4096) {
          const part = Array.from(u8.subarray(i, i + 4096), (c) => c & mask);
          out += String.fromCharCode.apply(null, part);
        }
        return out;
      }
      default: {
        let out = '';
        for (let i = 0; i + 1 < u8.length; i += 2) out += String.fromCharCode(u8[i] | (u8[i + 1] << 8));
        return out;
      }
    }
  }
  class Buffer extends Uint8Array {
    static from(v, encOrOffset, length) {
      if (typeof v === 'string') return fromString(v, encOrOffset);
      if (v instanceof ArrayBuffer) {
        const off = encOrOffset || 0;
        return new Buffer(v, off, length === undefined ? v.byteLength - off : length);
      }
      if (ArrayBuffer.isView(v)) {
        const b = new Buffer(v.byteLength);
        b.set(new Uint8Array(v.buffer, v.byteOffset, v.byteLength));
        return b;
      }
      if (Array.isArray(v)) {
        const b = new Buffer(v.length);
        for (let i = 0; i < v.length; i++) b[i] = v[i] & 255;
        return b;
      }
      if (v && v.type === 'Buffer' && Array.isArray(v.data)) return Buffer.from(v.data);
      if (v && typeof v.length === 'number') return Buffer.from(Array.from(v));
      throw new TypeError('The first argument must be of type string, Buffer, ArrayBuffer, Array, or Array-like Object');
    }
    static alloc(n, fill, enc) {
      const b = new Buffer(n);
      if (fill !== undefined && fill !== 0) b.fill(fill, 0, n, enc);
      return b;
    }
    static allocUnsafe(n) { return new Buffer(n); }
    static allocUnsafeSlow(n) { return new Buffer(n); }
    static isBuffer(b) { return b instanceof Buffer; }
    static isEncoding(e) { return typeof e === 'string' && ENCODINGS.includes(e.toLowerCase()); }
    static byteLength(s, enc) { return typeof s === 'string' ? fromString(s, enc).length : s.byteLength; }
    static concat(list, total) {
      if (total === undefined) total = list.reduce((n, b) => n + b.length, 0);
      const out = new Buffer(total);
      let at = 0;
      for (const b of list) {
        if (at >= total) break;
        const part = b.length > total - at ? b.subarray(0, total - at) : b;
        out.set(part, at);
        at += part.length;
      }
      return out;
    }
    static compare(a, b) { return a.compare(b); }
    toString(enc, start, end) {
      const s = start || 0;
      const e = end === undefined ? this.length : end;
      return toStringEnc(s === 0 && e === this.length ? this : this.subarray(s, e), enc);
    }
    toJSON() { return { type: 'Buffer', data: Array.from(this) }; }
    equals(o) { return this.compare(o) === 0; }
    compare(o) {
      const n = Math.min(this.length, o.length);
      for (let i = 0; i < n; i++) if (this[i] !== o[i]) return this[i] < o[i] ? -1 : 1;
      return this.length === o.length ? 0 : this.length < o.length ? -1 : 1;
    }
    slice(s, e) { return this.subarray(s, e); }
    fill(v, s, e, enc) {
      if (typeof v === 'string') {
        const bytes = v.length === 1 && enc === undefined ? [v.charCodeAt(0) & 255] : fromString(v, enc);
        const start = s || 0;
        const end = e === undefined ? this.length : e;
        for (let i = start; i < end; i++) this[i] = bytes[(i - start) % bytes.length];
        return this;
      }
      return super.fill(v, s, e);
    }
    write(str, offset, length, enc) {
      if (typeof offset === 'string') { enc = offset; offset = 0; length = undefined; }
      if (typeof length === 'string') { enc = length; length = undefined; }
      const bytes = fromString(str, enc);
      const at = offset || 0;
      const n = Math.min(bytes.length, length === undefined ? this.length - at : length, this.length - at);
      this.set(bytes.subarray(0, n), at);
      return n;
    }
    copy(target, tStart, sStart, sEnd) {
      const part = this.subarray(sStart || 0, sEnd === undefined ? this.length : sEnd);
      const at = tStart || 0;
      const n = Math.min(part.length, target.length - at);
      target.set(part.subarray(0, n), at);
      return n;
    }
    includes(v, from, enc) { return this.indexOf(v, from, enc) !== -1; }
    indexOf(v, from, enc) {
      if (typeof v === 'number') return super.indexOf(v, from);
      const needle = typeof v === 'string' ? fromString(v, enc) : v;
      outer: for (let i = from || 0; i + needle.length <= this.length; i++) {
        for (let j = 0; j < needle.length; j++) if (this[i + j] !== needle[j]) continue outer;
        return i;
      }
      return -1;
    }
    readUInt8(o = 0) { return this[o]; }
    readUInt16BE(o = 0) { return (this[o] << 8) | this[o + 1]; }
    readUInt16LE(o = 0) { return this[o] | (this[o + 1] << 8); }
    readUInt32BE(o = 0) { return ((this[o] << 24) >>> 0) + ((this[o + 1] << 16) | (this[o + 2] << 8) | this[o + 3]); }
    readUInt32LE(o = 0) { return ((this[o + 3] << 24) >>> 0) + ((this[o + 2] << 16) | (this[o + 1] << 8) | this[o]); }
    readInt32BE(o = 0) { return (this[o] << 24) | (this[o + 1] << 16) | (this[o + 2] << 8) | this[o + 3]; }
    writeUInt8(v, o = 0) { this[o] = v; return o + 1; }
    writeUInt16BE(v, o = 0) { this[o] = v >>> 8; this[o + 1] = v; return o + 2; }
    writeUInt32BE(v, o = 0) { this[o] = v >>> 24; this[o + 1] = v >>> 16; this[o + 2] = v >>> 8; this[o + 3] = v; return o + 4; }
    writeUInt32LE(v, o = 0) { this[o + 3] = v >>> 24; this[o + 2] = v >>> 16; this[o + 1] = v >>> 8; this[o] = v; return o + 4; }
  }
  Buffer.poolSize = 8192;
  function toBytes(data, enc) {
    if (typeof data === 'string') return fromString(data, enc);
    if (data instanceof Uint8Array) return data;
    if (ArrayBuffer.isView(data) || data instanceof ArrayBuffer) return Buffer.from(data);
    throw new TypeError('The "data" argument must be of type string or an instance of Buffer, TypedArray, or DataView');
  }

  // ---- util ---------------------------------------------------------------------------------
  const inspectCustom = Symbol.for('nodejs.util.inspect.custom');
  function inspect(v, opts) {
    const depthLimit = opts && typeof opts.depth === 'number' ? opts.depth : 2;
    const seen = [];
    function show(x, depth, nested) {
      if (typeof x === 'string') return nested ? "'" + x.replace(/'/g, "\\'") + "'" : x;
      if (typeof x === 'bigint') return x + 'n';
      if (typeof x === 'symbol') return x.toString();
      if (typeof x === 'function') return '[Function: ' + (x.name || 'anonymous') + ']';
      if (x === null || typeof x !== 'object') return String(x);
      if (typeof x[inspectCustom] === 'function') return String(x[inspectCustom](depth, opts || {}));
      if (x instanceof Error) return x.stack ? String(x.name) + ': ' + x.message + '\n' + x.stack.replace(/\n$/, '') : String(x);
      if (x instanceof Date) return x.toISOString();
      if (x instanceof RegExp) return String(x);
      if (x instanceof Buffer) return '<Buffer ' + Array.from(x.subarray(0, 50), (c) => (c < 16 ? '0' : '') + c.toString(16)).join(' ') + (x.length > 50 ? ' ...' : '') + '>';
      if (seen.includes(x)) return '[Circular]';
      if (depth > depthLimit) return Array.isArray(x) ? '[Array]' : '[Object]';
      seen.push(x);
      let out;
      if (Array.isArray(x)) {
        out = x.length === 0 ? '[]' : '[ ' + x.map((i) => show(i, depth + 1, true)).join(', ') + ' ]';
      } else if (x instanceof Map) {
        out = 'Map(' + x.size + ') {' + Array.from(x, ([k, val]) => ' ' + show(k, depth + 1, true) + ' => ' + show(val, depth + 1, true)).join(',') + ' }';
      } else if (x instanceof Set) {
        out = 'Set(' + x.size + ') {' + Array.from(x, (val) => ' ' + show(val, depth + 1, true)).join(',') + ' }';
      } else {
        const keys = Object.keys(x);
        const name = x.constructor && x.constructor !== Object && x.constructor.name ? x.constructor.name + ' ' : '';
        out = keys.length === 0 ? name + '{}' : name + '{ ' + keys.map((k) => (/^[A-Za-z_$][\w$]*$/.test(k) ? k : "'" + k + "'") + ': ' + show(x[k], depth + 1, true)).join(', ') + ' }';
      }
      seen.pop();
      return out;
    }
    return show(v, 0, false);
  }
  inspect.custom = inspectCustom;
  function format(fmt, ...args) {
    if (typeof fmt !== 'string') return [fmt, ...args].map((a) => inspect(a)).join(' ');
    let i = 0;
    let out = fmt.replace(/%[sdifjoOc%]/g, (m) => {
      if (m === '%%') return '%';
      if (i >= args.length) return m;
      const a = args[i++];
      switch (m) {
        case '%s': return typeof a === 'string' ? a : typeof a === 'object' && a !== null ? inspect(a, { depth: 1 }) : String(a);
        case '%d': case '%i': return typeof a === 'object' ? 'NaN' : String(m === '%i' ? parseInt(a, 10) : Number(a));
        case '%f': return String(parseFloat(a));
        case '%j': try { return JSON.stringify(a); } catch (e) { return '[Circular]'; }
        case '%c': return '';
        default: return inspect(a);
      }
    });
    for (; i < args.length; i++) out += ' ' + (typeof args[i] === 'string' ? args[i] : inspect(args[i]));
    return out;
  }
  function isDeepStrictEqual(a, b) {
    if (Object.is(a, b)) return true;
    if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
    if (Object.getPrototypeOf(a) !== Object.getPrototypeOf(b)) return false;
    if (a instanceof Date) return a.getTime() === b.getTime();
    const ka = Object.keys(a);
    const kb = Object.keys(b);
    if (ka.length !== kb.length) return false;
    return ka.every((k) => Object.prototype.hasOwnProperty.call(b, k) && isDeepStrictEqual(a[k], b[k]));
  }
  class TextEncoder {
    get encoding() { return 'utf-8'; }
    encode(s) { return H.utf8Encode(s === undefined ? '' : String(s)); }
  }
  class TextDecoder {
    constructor(enc) { this.encoding = (enc || 'utf-8').toLowerCase(); }
    decode(b) {
      if (b === undefined) return '';
      const u8 = b instanceof Uint8Array ? b : ArrayBuffer.isView(b) ? new Uint8Array(b.buffer, b.byteOffset, b.byteLength) : new Uint8Array(b);
      return toStringEnc(u8, this.encoding === 'utf-8' || this.encoding === 'utf8' ? 'utf8' : this.encoding);
    }
  }
  const util = {
    format,
    inspect,
    isDeepStrictEqual,
    promisify(fn) {
      if (typeof fn[util.promisify.custom] === 'function') return fn[util.promisify.custom];
      return function (...args) {
        return new Promise((resolve, reject) => fn.call(this, ...args, (err, value) => (err ? reject(err) : resolve(value))));
      };
    },
    callbackify(fn) {
      return function (...args) {
        const cb = args.pop();
        fn.apply(this, args).then((v) => cb(null, v), (e) => cb(e || new Error('Promise was rejected with a falsy value')));
      };
    },
    inherits(ctor, superCtor) {
      Object.defineProperty(ctor, 'super_', { value: superCtor, writable: true, configurable: true });
      Object.setPrototypeOf(ctor.prototype, superCtor.prototype);
    },
    deprecate(fn) { return fn; },
    debuglog() { return function () {}; },
    isArray: Array.isArray,
    isString: (v) => typeof v === 'string',
    isNumber: (v) => typeof v === 'number',
    isFunction: (v) => typeof v === 'function',
    isObject: (v) => v !== null && typeof v === 'object',
    types: {
      isPromise: (v) => v instanceof Promise,
      isDate: (v) => v instanceof Date,
      isRegExp: (v) => v instanceof RegExp,
      isUint8Array: (v) => v instanceof Uint8Array,
      isAsyncFunction: (v) => typeof v === 'function' && v.constructor && v.constructor.name === 'AsyncFunction',
    },
    TextEncoder,
    TextDecoder,
  };
  util.promisify.custom = Symbol.for('nodejs.util.promisify.custom');

  // ---- console, timers, process ---------------------------------------------------------------
  const timeLabels = new Map();
  const console = {
    log: (...a) => H.print(1, format(...a)),
    info: (...a) => H.print(1, format(...a)),
    debug: (...a) => H.print(1, format(...a)),
    warn: (...a) => H.print(2, format(...a)),
    error: (...a) => H.print(2, format(...a)),
    trace: (...a) => H.print(2, 'Trace: ' + format(...a) + '\n' + new Error().stack),
    dir: (v, o) => H.print(1, inspect(v, o)),
    table: (v) => H.print(1, inspect(v)),
    assert: (ok, ...a) => { if (!ok) H.print(2, 'Assertion failed' + (a.length ? ': ' + format(...a) : '')); },
    time: (l = 'default') => { timeLabels.set(l, performance.now()); },
    timeEnd: (l = 'default') => { const t = timeLabels.get(l); if (t !== undefined) { timeLabels.delete(l); H.print(1, l + ': ' + (performance.now() - t).toFixed(3) + 'ms'); } },
    timeLog: (l = 'default') => { const t = timeLabels.get(l); if (t !== undefined) H.print(1, l + ': ' + (performance.now() - t).toFixed(3) + 'ms'); },
    count: () => {},
    group: () => {},
    groupEnd: () => {},
  };

  const timers = new Map();
  let nextTimerId = 1;
  class Timeout {
    constructor(id) { this._id = id; }
    ref() { return this; }
    unref() { return this; }
    hasRef() { return true; }
    refresh() { return this; }
    [Symbol.toPrimitive]() { return this._id; }
  }
  function addTimer(fn, ms, args, repeat) {
    if (typeof fn !== 'function') throw new TypeError('The "callback" argument must be of type function');
    const id = nextTimerId++;
    const delay = Math.max(0, Number(ms) || 0);
    timers.set(id, { fn, args, repeat: repeat ? Math.max(1, delay) : 0 });
    H.timerAdd(id, delay);
    return new Timeout(id);
  }
  function clearTimer(t) {
    if (t === undefined || t === null) return;
    timers.delete(typeof t === 'object' ? t._id : Number(t));
  }
  G.__hornet_fire = function (id) {
    const t = timers.get(id);
    if (!t) return;
    if (t.repeat) H.timerAdd(id, t.repeat);
    else timers.delete(id);
    t.fn(...t.args);
  };
  const setTimeout = (fn, ms, ...args) => addTimer(fn, ms, args, false);
  const setInterval = (fn, ms, ...args) => addTimer(fn, ms, args, true);
  const setImmediate = (fn, ...args) => addTimer(fn, 0, args, false);
  const timersModule = { setTimeout, setInterval, setImmediate, clearTimeout: clearTimer, clearInterval: clearTimer, clearImmediate: clearTimer };
  const timersPromises = {
    setTimeout: (ms, value) => new Promise((resolve) => setTimeout(() => resolve(value), ms)),
    setImmediate: (value) => new Promise((resolve) => setImmediate(() => resolve(value))),
  };
  // As in Node, util.promisify(setTimeout) and util.promisify(setImmediate) give these.
  setTimeout[Symbol.for('nodejs.util.promisify.custom')] = timersPromises.setTimeout;
  setImmediate[Symbol.for('nodejs.util.promisify.custom')] = timersPromises.setImmediate;

  // ---- events -------------------------------------------------------------------------------
  class EventEmitter {
    constructor() { this._events = new Map(); this._max = 10; }
    _list(name) { if (!this._events) this._events = new Map(); let l = this._events.get(name); if (!l) { l = []; this._events.set(name, l); } return l; }
    on(name, fn) { this._list(name).push({ fn, once: false }); return this; }
    addListener(name, fn) { return this.on(name, fn); }
    prependListener(name, fn) { this._list(name).unshift({ fn, once: false }); return this; }
    once(name, fn) { this._list(name).push({ fn, once: true }); return this; }
    prependOnceListener(name, fn) { this._list(name).unshift({ fn, once: true }); return this; }
    off(name, fn) { const l = this._list(name); const i = l.findIndex((e) => e.fn === fn); if (i >= 0) l.splice(i, 1); return this; }
    removeListener(name, fn) { return this.off(name, fn); }
    removeAllListeners(name) { if (name === undefined) this._events = new Map(); else this._list(name).length = 0; return this; }
    emit(name, ...args) {
      const l = this._list(name);
      if (l.length === 0) { if (name === 'error') throw args[0] instanceof Error ? args[0] : new Error('Unhandled error: ' + args[0]); return false; }
      for (const e of l.slice()) { if (e.once) this.off(name, e.fn); e.fn.apply(this, args); }
      return true;
    }
    listeners(name) { return this._list(name).map((e) => e.fn); }
    rawListeners(name) { return this.listeners(name); }
    listenerCount(name) { return this._list(name).length; }
    eventNames() { return Array.from(this._events.keys()).filter((k) => this._events.get(k).length); }
    setMaxListeners(n) { this._max = n; return this; }
    getMaxListeners() { return this._max; }
  }
  EventEmitter.EventEmitter = EventEmitter;
  EventEmitter.defaultMaxListeners = 10;
  EventEmitter.once = (em, name) => new Promise((resolve) => em.once(name, (...a) => resolve(a)));

  const hrStart = H.hrtime();
  function hrtime(prev) {
    const [s, ns] = H.hrtime();
    if (!prev) return [s, ns];
    let ds = s - prev[0];
    let dns = ns - prev[1];
    if (dns < 0) { ds -= 1; dns += 1e9; }
    return [ds, dns];
  }
  hrtime.bigint = () => { const [s, ns] = H.hrtime(); return BigInt(s) * 1000000000n + BigInt(ns); };
  const process = Object.assign(new EventEmitter(), {
    env: H.env(),
    argv: ['hornet', H.scriptPath],
    argv0: 'hornet',
    execArgv: [],
    platform: 'linux',
    arch: 'x64',
    pid: H.pid,
    ppid: 0,
    title: 'hornet',
    version: 'v20.0.0',
    versions: { node: '20.0.0' },
    release: { name: 'node' },
    exitCode: undefined,
    cwd: () => H.cwd(),
    chdir: () => { throw new Error('process.chdir() is not available in a hornet processor'); },
    exit: (code) => { throw new Error('process.exit(' + (code === undefined ? '' : code) + ') called in a processor'); },
    hrtime,
    uptime: () => { const [s, ns] = hrtime(hrStart); return s + ns / 1e9; },
    nextTick: (fn, ...args) => queueMicrotask(() => fn(...args)),
    memoryUsage: () => ({ rss: 0, heapTotal: 0, heapUsed: 0, external: 0, arrayBuffers: 0 }),
    cpuUsage: () => ({ user: 0, system: 0 }),
    emitWarning: (w) => H.print(2, 'Warning: ' + (w && w.message ? w.message : w)),
    stdout: { write: (s) => { H.write(1, String(s)); return true; }, isTTY: false },
    stderr: { write: (s) => { H.write(2, String(s)); return true; }, isTTY: false },
  });
  // `context.vars.$processEnvironment` and `$env`, as Artillery gives them: getters that are not
  // enumerable, so the environment is not copied into the VU's variables after each call.
  G.__hornet_vars_builtins = function (vars) {
    const env = { get() { return process.env; }, enumerable: false, configurable: true };
    Object.defineProperty(vars, '$processEnvironment', env);
    Object.defineProperty(vars, '$env', env);
  };
  // A VU's `context.vars`: a Proxy over the variables (`target`) that notes the names a function
  // sets, defines or deletes in `written`, so that after a call only those cross back. Reads go
  // straight to the target; the Rust side writes to the target, unnoticed. One handler serves
  // every VU (the list is on the target, under a symbol), so a VU costs a proxy and a list.
  const WRITTEN = Symbol('hornet.written');
  const note = (t, k) => { if (typeof k === 'string') t[WRITTEN].push(k); };
  const varsHandler = {
    set(t, k, v) { note(t, k); return Reflect.set(t, k, v); },
    defineProperty(t, k, d) { note(t, k); return Reflect.defineProperty(t, k, d); },
    deleteProperty(t, k) { note(t, k); return Reflect.deleteProperty(t, k); },
  };
  G.__hornet_vars_proxy = function (target) {
    const written = [];
    try {
      Object.defineProperty(target, WRITTEN, { value: written });
    } catch (e) {
      return [target, written]; // a frozen object: nothing can be written to it
    }
    return [new Proxy(target, varsHandler), written];
  };

  // ---- path (POSIX) -------------------------------------------------------------------------
  function normalizeParts(parts, absolute) {
    const out = [];
    for (const p of parts) {
      if (p === '' || p === '.') continue;
      if (p === '..') { if (out.length && out[out.length - 1] !== '..') out.pop(); else if (!absolute) out.push('..'); } else out.push(p);
    }
    return out;
  }
  const path = {
    sep: '/',
    delimiter: ':',
    normalize(p) {
      if (p === '') return '.';
      const abs = p.startsWith('/');
      const trailing = p.endsWith('/');
      let out = normalizeParts(p.split('/'), abs).join('/');
      if (!out && !abs) out = '.';
      if (out && trailing) out += '/';
      return (abs ? '/' : '') + out;
    },
    join(...parts) { const j = parts.filter((p) => p !== '').join('/'); return j === '' ? '.' : path.normalize(j); },
    resolve(...parts) {
      let r = '';
      for (let i = parts.length - 1; i >= 0 && !r.startsWith('/'); i--) if (parts[i]) r = parts[i] + (r ? '/' + r : '');
      if (!r.startsWith('/')) r = H.cwd() + (r ? '/' + r : '');
      return '/' + normalizeParts(r.split('/'), true).join('/');
    },
    isAbsolute: (p) => p.startsWith('/'),
    dirname(p) {
      if (p === '') return '.';
      const s = p.replace(/\/+$/, '');
      if (s === '') return '/';
      const i = s.lastIndexOf('/');
      return i < 0 ? '.' : i === 0 ? '/' : s.slice(0, i);
    },
    basename(p, ext) {
      const s = p.replace(/\/+$/, '');
      let b = s.slice(s.lastIndexOf('/') + 1);
      if (ext && b.endsWith(ext) && b !== ext) b = b.slice(0, -ext.length);
      return b;
    },
    extname(p) {
      const b = path.basename(p);
      const i = b.lastIndexOf('.');
      return i <= 0 ? '' : b.slice(i);
    },
    relative(from, to) {
      const f = path.resolve(from).split('/').filter(Boolean);
      const t = path.resolve(to).split('/').filter(Boolean);
      let i = 0;
      while (i < f.length && i < t.length && f[i] === t[i]) i++;
      return [...Array(f.length - i).fill('..'), ...t.slice(i)].join('/');
    },
    parse(p) {
      const root = p.startsWith('/') ? '/' : '';
      const base = path.basename(p);
      const ext = path.extname(p);
      const dir = p.includes('/') ? path.dirname(p) : '';
      return { root, dir, base, ext, name: ext ? base.slice(0, -ext.length) : base };
    },
    format(o) { const dir = o.dir || o.root || ''; const base = o.base || (o.name || '') + (o.ext || ''); return dir ? (dir.endsWith('/') ? dir + base : dir + '/' + base) : base; },
    toNamespacedPath: (p) => p,
  };
  path.posix = path;

  // ---- url, querystring ----------------------------------------------------------------------
  function decodeQs(s) { try { return decodeURIComponent(s.replace(/\+/g, ' ')); } catch (e) { return s; } }
  class URLSearchParams {
    constructor(init) {
      this._list = [];
      this._onChange = null;
      if (typeof init === 'string') this._parse(init);
      else if (init instanceof URLSearchParams) this._list = init._list.map((p) => p.slice());
      else if (Array.isArray(init)) for (const [k, v] of init) this._list.push([String(k), String(v)]);
      else if (init && typeof init === 'object') for (const k of Object.keys(init)) this._list.push([k, String(init[k])]);
    }
    _parse(s) {
      this._list = [];
      for (const part of s.replace(/^\?/, '').split('&')) {
        if (!part) continue;
        const i = part.indexOf('=');
        this._list.push(i < 0 ? [decodeQs(part), ''] : [decodeQs(part.slice(0, i)), decodeQs(part.slice(i + 1))]);
      }
    }
    _changed() { if (this._onChange) this._onChange(this.toString()); }
    append(k, v) { this._list.push([String(k), String(v)]); this._changed(); }
    delete(k) { this._list = this._list.filter((p) => p[0] !== k); this._changed(); }
    get(k) { const p = this._list.find((e) => e[0] === k); return p ? p[1] : null; }
    getAll(k) { return this._list.filter((p) => p[0] === k).map((p) => p[1]); }
    has(k) { return this._list.some((p) => p[0] === k); }
    set(k, v) {
      const i = this._list.findIndex((p) => p[0] === k);
      if (i < 0) this._list.push([String(k), String(v)]);
      else { this._list[i][1] = String(v); this._list = this._list.filter((p, j) => j <= i || p[0] !== k); }
      this._changed();
    }
    sort() { this._list.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0)); this._changed(); }
    forEach(fn, self) { for (const [k, v] of this._list) fn.call(self, v, k, this); }
    keys() { return this._list.map((p) => p[0])[Symbol.iterator](); }
    values() { return this._list.map((p) => p[1])[Symbol.iterator](); }
    entries() { return this._list.map((p) => [p[0], p[1]])[Symbol.iterator](); }
    [Symbol.iterator]() { return this.entries(); }
    get size() { return this._list.length; }
    toString() {
      const enc = (s) => encodeURIComponent(s).replace(/%20/g, '+').replace(/[!'()~]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());
      return this._list.map(([k, v]) => enc(k) + '=' + enc(v)).join('&');
    }
  }
  const URL_PARTS = ['href', 'protocol', 'username', 'password', 'host', 'hostname', 'port', 'pathname', 'search', 'hash'];
  class URL {
    constructor(input, base) {
      this._p = base === undefined ? H.urlParse(String(input)) : H.urlParse(String(input), String(base));
      this._sp = null;
    }
    static canParse(input, base) { try { new URL(input, base); return true; } catch (e) { return false; } }
    get origin() { return this._p.origin; }
    get searchParams() {
      if (!this._sp) {
        this._sp = new URLSearchParams(this._p.search);
        this._sp._onChange = (s) => { this._p = H.urlSet(this._p.href, 'search', s); };
      }
      return this._sp;
    }
    toString() { return this._p.href; }
    toJSON() { return this._p.href; }
  }
  for (const part of URL_PARTS) {
    Object.defineProperty(URL.prototype, part, {
      get() { return this._p[part]; },
      set(v) { this._p = H.urlSet(this._p.href, part, String(v)); if (part === 'search' || part === 'href') this._sp = null; },
      enumerable: true,
      configurable: true,
    });
  }
  const querystring = {
    escape: (s) => encodeURIComponent(s),
    unescape: (s) => decodeQs(s),
    parse(str, sep = '&', eq = '=') {
      const out = {};
      if (typeof str !== 'string' || str === '') return out;
      for (const part of str.split(sep)) {
        if (!part) continue;
        const i = part.indexOf(eq);
        const k = decodeQs(i < 0 ? part : part.slice(0, i));
        const v = i < 0 ? '' : decodeQs(part.slice(i + eq.length));
        if (!Object.prototype.hasOwnProperty.call(out, k)) out[k] = v;
        else if (Array.isArray(out[k])) out[k].push(v);
        else out[k] = [out[k], v];
      }
      return out;
    },
    stringify(obj, sep = '&', eq = '=') {
      if (!obj || typeof obj !== 'object') return '';
      const enc = (v) => encodeURIComponent(typeof v === 'string' ? v : typeof v === 'number' && isFinite(v) ? String(v) : typeof v === 'boolean' || typeof v === 'bigint' ? String(v) : '');
      return Object.keys(obj).map((k) => (Array.isArray(obj[k]) ? obj[k].map((v) => enc(k) + eq + enc(v)).join(sep) : enc(k) + eq + enc(obj[k]))).filter(Boolean).join(sep);
    },
  };
  querystring.decode = querystring.parse;
  querystring.encode = querystring.stringify;
  const url = {
    URL,
    URLSearchParams,
    parse(s, parseQuery) {
      let u;
      try { u = new URL(s); } catch (e) { u = null; }
      if (!u) {
        const hashAt = s.indexOf('#');
        const hash = hashAt >= 0 ? s.slice(hashAt) : null;
        const rest = hashAt >= 0 ? s.slice(0, hashAt) : s;
        const qAt = rest.indexOf('?');
        const search = qAt >= 0 ? rest.slice(qAt) : null;
        const pathname = qAt >= 0 ? rest.slice(0, qAt) : rest;
        return { protocol: null, slashes: null, auth: null, host: null, port: null, hostname: null, hash, search, query: parseQuery ? querystring.parse((search || '').slice(1)) : search ? search.slice(1) : null, pathname, path: pathname + (search || ''), href: s };
      }
      const query = u.search ? u.search.slice(1) : null;
      return {
        protocol: u.protocol, slashes: true, auth: u.username ? u.username + (u.password ? ':' + u.password : '') : null,
        host: u.host, port: u.port || null, hostname: u.hostname, hash: u.hash || null, search: u.search || null,
        query: parseQuery ? querystring.parse(query || '') : query, pathname: u.pathname, path: u.pathname + u.search, href: u.href,
      };
    },
    format(o) {
      if (o instanceof URL) return o.href;
      if (typeof o === 'string') return o;
      const proto = o.protocol ? (o.protocol.endsWith(':') ? o.protocol : o.protocol + ':') : '';
      const host = o.host || (o.hostname ? o.hostname + (o.port ? ':' + o.port : '') : '');
      const auth = o.auth ? o.auth + '@' : '';
      let search = o.search || '';
      if (!search && o.query && typeof o.query === 'object') { const q = querystring.stringify(o.query); search = q ? '?' + q : ''; }
      const hash = o.hash || '';
      return proto + (host || proto === 'file:' ? '//' : '') + auth + host + (o.pathname || '') + search + hash;
    },
    resolve(from, to) { return new URL(to, new URL(from, 'resolve://')).href.replace(/^resolve:\/\/\/?/, ''); },
    fileURLToPath(u) { const x = typeof u === 'string' ? new URL(u) : u; return decodeURIComponent(x.pathname); },
    pathToFileURL(p) { return new URL('file://' + path.resolve(p)); },
  };

  // ---- os, fs ---------------------------------------------------------------------------------
  const os = {
    EOL: '\n',
    hostname: () => H.hostname(),
    platform: () => 'linux',
    type: () => 'Linux',
    arch: () => 'x64',
    release: () => '',
    endianness: () => 'LE',
    tmpdir: () => process.env.TMPDIR || '/tmp',
    homedir: () => process.env.HOME || '/',
    cpus: () => Array.from({ length: H.cpus }, () => ({ model: '', speed: 0, times: { user: 0, nice: 0, sys: 0, idle: 0, irq: 0 } })),
    availableParallelism: () => H.cpus,
    totalmem: () => 0,
    freemem: () => 0,
    uptime: () => process.uptime(),
    loadavg: () => [0, 0, 0],
    networkInterfaces: () => ({}),
    userInfo: () => ({ username: process.env.USER || '', uid: -1, gid: -1, shell: null, homedir: os.homedir() }),
    constants: { signals: {}, errno: {} },
  };
  function fsEncoding(opts) { return typeof opts === 'string' ? opts : opts && opts.encoding ? opts.encoding : null; }
  function readFileSync(p, opts) {
    const bytes = wrap(H.readFile(String(typeof p === 'object' && p instanceof URL ? url.fileURLToPath(p) : p)));
    const enc = fsEncoding(opts);
    return enc ? bytes.toString(enc) : bytes;
  }
  function readOnly(name) {
    return () => { throw new Error('fs.' + name + ' is not available in a hornet processor (files are read-only)'); };
  }
  function statSync(p) {
    const s = H.stat(String(p));
    if (!s) { const e = new Error("ENOENT: no such file or directory, stat '" + p + "'"); e.code = 'ENOENT'; throw e; }
    return { size: s.size, isFile: () => s.file, isDirectory: () => s.dir, mtimeMs: s.mtime, mtime: new Date(s.mtime) };
  }
  const fsPromises = {
    readFile: async (p, o) => readFileSync(p, o),
    stat: async (p) => statSync(p),
    readdir: async (p) => H.readDir(String(p)),
    access: async (p) => { statSync(p); },
  };
  const fs = {
    readFileSync,
    existsSync: (p) => H.stat(String(p), true) != null,
    statSync,
    lstatSync: statSync,
    readdirSync: (p) => H.readDir(String(p)),
    accessSync: (p) => { statSync(p); },
    readFile(p, o, cb) {
      if (typeof o === 'function') { cb = o; o = undefined; }
      let out; let err = null;
      try { out = readFileSync(p, o); } catch (e) { err = e; }
      queueMicrotask(() => cb(err, out));
    },
    writeFileSync: readOnly('writeFileSync'),
    appendFileSync: readOnly('appendFileSync'),
    writeFile: readOnly('writeFile'),
    appendFile: readOnly('appendFile'),
    mkdirSync: readOnly('mkdirSync'),
    unlinkSync: readOnly('unlinkSync'),
    createWriteStream: readOnly('createWriteStream'),
    createReadStream: () => { throw new Error('fs.createReadStream is not available in a hornet processor (use fs.readFileSync)'); },
    promises: fsPromises,
    constants: { F_OK: 0, R_OK: 4, W_OK: 2, X_OK: 1 },
  };

  // ---- crypto ----------------------------------------------------------------------------------
  // No prototype: a name like 'constructor' is no hash.
  const HASHES = Object.assign(Object.create(null), { md5: 'md5', sha1: 'sha1', 'sha-1': 'sha1', sha256: 'sha256', 'sha-256': 'sha256', sha384: 'sha384', 'sha-384': 'sha384', sha512: 'sha512', 'sha-512': 'sha512' });
  function hashName(alg) {
    const name = HASHES[alg] || HASHES[String(alg).toLowerCase()];
    if (!name) throw new Error('Digest method not supported: ' + alg + ' (hornet provides md5, sha1, sha256, sha384, sha512)');
    return name;
  }
  // Digest outputs the native side encodes itself (the others are bytes, encoded here).
  const DIGEST_OUT = { hex: 1, base64: 2, base64url: 3 };
  const isUtf8 = (enc) => enc === undefined || enc === null || enc === 'utf8' || enc === 'utf-8';
  // Strings (UTF-8) and bytes go to the native digest as they are: no Buffer is made for them.
  class Hash {
    // `_chunks` is null before the first update, the one chunk after it (the usual case: no
    // list is made), and a list of chunks after more. The usual path (a known name, one string
    // of UTF-8) calls no helper: each JavaScript call costs the interpreter a frame.
    constructor(alg, key) { this._alg = HASHES[alg] || hashName(alg); this._key = key; this._chunks = null; this._done = false; }
    update(data, enc) {
      if (this._done) throw new Error('Digest already called');
      const chunk = typeof data === 'string' && (enc === undefined || isUtf8(enc)) ? data : toBytes(data, enc);
      const chunks = this._chunks;
      if (chunks === null) this._chunks = chunk;
      else if (Array.isArray(chunks)) chunks.push(chunk);
      else this._chunks = [chunks, chunk];
      return this;
    }
    digest(enc) {
      if (this._done) throw new Error('Digest already called');
      this._done = true;
      const chunks = this._chunks;
      let data;
      if (typeof chunks === 'string') data = chunks;
      else if (chunks === null) data = '';
      else if (!Array.isArray(chunks)) data = chunks;
      else if (chunks.every((c) => typeof c === 'string')) data = chunks.join('');
      else data = Buffer.concat(chunks.map((c) => (typeof c === 'string' ? fromString(c, 'utf8') : c)));
      const out = enc && enc !== 'buffer' ? DIGEST_OUT[enc] || 0 : 0;
      const result = H.digest(this._alg, this._key, data, out);
      if (out !== 0) return result;
      const bytes = wrap(result);
      return enc && enc !== 'buffer' ? bytes.toString(enc) : bytes;
    }
    copy() { const h = new Hash(this._alg, this._key); h._chunks = Array.isArray(this._chunks) ? this._chunks.slice() : this._chunks; return h; }
  }
  keepShapes(Hash.prototype, [['_alg', 'v'], ['_key', 'v'], ['_chunks', 'v'], ['_done', 'v']]);
  function randomBytes(n, cb) {
    const b = wrap(H.randomBytes(n));
    if (typeof cb === 'function') { queueMicrotask(() => cb(null, b)); return undefined; }
    return b;
  }
  function randomUUID() {
    const b = randomBytes(16);
    b[6] = (b[6] & 0x0f) | 0x40;
    b[8] = (b[8] & 0x3f) | 0x80;
    const h = b.toString('hex');
    return h.slice(0, 8) + '-' + h.slice(8, 12) + '-' + h.slice(12, 16) + '-' + h.slice(16, 20) + '-' + h.slice(20);
  }
  function randomInt(min, max, cb) {
    if (max === undefined || typeof max === 'function') { cb = max; max = min; min = 0; }
    if (!Number.isSafeInteger(min) || !Number.isSafeInteger(max) || max <= min) throw new RangeError('randomInt: expected safe integers with min < max');
    const b = randomBytes(6);
    const unit = (b.readUInt16BE(0) * 4294967296 + b.readUInt32BE(2)) / 281474976710656;
    const v = min + Math.floor(unit * (max - min));
    if (typeof cb === 'function') { queueMicrotask(() => cb(null, v)); return undefined; }
    return v;
  }
  function getRandomValues(arr) {
    const bytes = randomBytes(arr.byteLength);
    new Uint8Array(arr.buffer, arr.byteOffset, arr.byteLength).set(bytes);
    return arr;
  }
  const crypto = {
    createHash: (alg) => new Hash(alg),
    createHmac: (alg, key) => new Hash(alg, typeof key === 'string' ? key : toBytes(typeof key === 'object' && key !== null && !ArrayBuffer.isView(key) && key.export ? key.export() : key)),
    getHashes: () => ['md5', 'sha1', 'sha256', 'sha384', 'sha512'],
    randomBytes,
    pseudoRandomBytes: randomBytes,
    randomUUID,
    randomInt,
    getRandomValues,
    randomFillSync: (b) => getRandomValues(b),
    timingSafeEqual(a, b) {
      if (a.length !== b.length) throw new RangeError('Input buffers must have the same byte length');
      let d = 0;
      for (let i = 0; i < a.length; i++) d |= a[i] ^ b[i];
      return d === 0;
    },
    createSecretKey: (k) => ({ export: () => toBytes(k) }),
    webcrypto: { getRandomValues, randomUUID },
  };

  // ---- assert, string_decoder, perf_hooks -----------------------------------------------------
  class AssertionError extends Error {
    constructor(message) { super(message); this.name = 'AssertionError'; this.code = 'ERR_ASSERTION'; }
  }
  function fail(message, def) { throw message instanceof Error ? message : new AssertionError(message || def); }
  function assert(v, m) { if (!v) fail(m, 'The expression evaluated to a falsy value'); }
  Object.assign(assert, {
    AssertionError,
    ok: assert,
    fail: (m) => fail(m, 'Failed'),
    equal: (a, b, m) => { if (a != b) fail(m, inspect(a) + ' == ' + inspect(b)); }, // eslint-disable-line eqeqeq
    notEqual: (a, b, m) => { if (a == b) fail(m, inspect(a) + ' != ' + inspect(b)); }, // eslint-disable-line eqeqeq
    strictEqual: (a, b, m) => { if (!Object.is(a, b)) fail(m, 'Expected values to be strictly equal: ' + inspect(a) + ' !== ' + inspect(b)); },
    notStrictEqual: (a, b, m) => { if (Object.is(a, b)) fail(m, 'Expected values to be not strictly equal: ' + inspect(a)); },
    deepEqual: (a, b, m) => { if (!isDeepStrictEqual(a, b)) fail(m, 'Expected values to be loosely deep-equal'); },
    deepStrictEqual: (a, b, m) => { if (!isDeepStrictEqual(a, b)) fail(m, 'Expected values to be strictly deep-equal'); },
    notDeepStrictEqual: (a, b, m) => { if (isDeepStrictEqual(a, b)) fail(m, 'Expected values not to be deep-equal'); },
    throws: (fn, _e, m) => { try { fn(); } catch (e) { return; } fail(typeof _e === 'string' ? _e : m, 'Missing expected exception.'); },
    doesNotThrow: (fn) => { fn(); },
    match: (s, re, m) => { if (!re.test(s)) fail(m, 'The input did not match the regular expression ' + re); },
  });
  assert.strict = assert;
  // Keeps the bytes of a character (or base64 group) cut by the end of a chunk for the next one.
  class StringDecoder {
    constructor(enc) { this.encoding = normEnc(enc); this._rest = new Uint8Array(0); }
    write(b) {
      if (typeof b === 'string') return b;
      const bytes = new Uint8Array(this._rest.length + b.length);
      bytes.set(this._rest, 0);
      bytes.set(b, this._rest.length);
      let cut = bytes.length;
      const enc = this.encoding;
      if (enc === 'utf8' || enc === 'utf-8') {
        let i = bytes.length - 1;
        while (i >= 0 && bytes.length - i < 4 && (bytes[i] & 0xc0) === 0x80) i--;
        if (i >= 0 && bytes[i] >= 0xc0) {
          const need = bytes[i] >= 0xf0 ? 4 : bytes[i] >= 0xe0 ? 3 : 2;
          if (bytes.length - i < need) cut = i;
        }
      } else if (enc === 'base64' || enc === 'base64url') {
        cut -= bytes.length % 3;
      } else if (enc === 'utf16le' || enc === 'ucs2' || enc === 'ucs-2' || enc === 'utf-16le') {
        cut -= bytes.length % 2;
      }
      this._rest = bytes.slice(cut);
      return toStringEnc(bytes.subarray(0, cut), enc);
    }
    end(b) {
      const head = b ? this.write(b) : '';
      const rest = this._rest;
      this._rest = new Uint8Array(0);
      return rest.length ? head + toStringEnc(rest, this.encoding) : head;
    }
  }

  // ---- registry, require ----------------------------------------------------------------------
  const BUILTINS = {
    assert: () => assert,
    buffer: () => ({ Buffer, constants: { MAX_LENGTH: 2 ** 31 - 1 }, kMaxLength: 2 ** 31 - 1 }),
    console: () => console,
    crypto: () => crypto,
    events: () => EventEmitter,
    fs: () => fs,
    'fs/promises': () => fsPromises,
    os: () => os,
    path: () => path,
    'path/posix': () => path,
    perf_hooks: () => ({ performance }),
    process: () => process,
    querystring: () => querystring,
    string_decoder: () => ({ StringDecoder }),
    timers: () => timersModule,
    'timers/promises': () => timersPromises,
    url: () => url,
    util: () => util,
  };
  const builtinCache = new Map();
  function builtin(name) {
    let m = builtinCache.get(name);
    if (m === undefined) {
      const make = BUILTINS[name];
      if (!make) throw new Error("no built-in module '" + name + "'");
      m = make();
      builtinCache.set(name, m);
    }
    return m;
  }
  const moduleCache = new Map();
  function load(key, spec) {
    if (key.startsWith('node:')) return builtin(key.slice(5));
    const cached = moduleCache.get(key);
    if (cached) return cached.exports;
    if (key.endsWith('.mjs')) throw new Error("'" + spec + "' is an ES module and cannot be require()d (import it from an .mjs processor)");
    const m = { id: key, filename: key, path: path.dirname(key), exports: {}, loaded: false, children: [], paths: [], parent: null };
    moduleCache.set(key, m);
    try {
      if (key.endsWith('.json')) {
        const text = H.readText(key);
        try { m.exports = JSON.parse(text); } catch (e) { throw new SyntaxError(key + ': ' + e.message); }
      } else {
        const fn = H.compile(key);
        m.require = makeRequire(key);
        fn.call(m.exports, m.exports, m.require, m, key, path.dirname(key));
      }
    } catch (e) {
      moduleCache.delete(key);
      throw e;
    }
    m.loaded = true;
    return m.exports;
  }
  function makeRequire(from) {
    const require = function (spec) {
      if (typeof spec !== 'string') throw new TypeError('The "id" argument must be of type string');
      return load(H.resolve(from, spec), spec);
    };
    require.resolve = (spec) => { const k = H.resolve(from, spec); return k.startsWith('node:') ? k.slice(5) : k; };
    require.cache = {};
    require.main = undefined;
    return require;
  }

  // ---- globals --------------------------------------------------------------------------------
  Object.assign(G, {
    global: G,
    Buffer,
    process,
    console,
    setTimeout,
    setInterval,
    setImmediate,
    clearTimeout: clearTimer,
    clearInterval: clearTimer,
    clearImmediate: clearTimer,
    URL,
    URLSearchParams,
    TextEncoder,
    TextDecoder,
    crypto: { getRandomValues, randomUUID },
    __hornet_builtin: builtin,
    __hornet_require: makeRequire,
    __hornet_cjs: (key) => load(key, key),
  });
  // ---- the afterResponse `response` ------------------------------------------------------------
  // Its `headers` and `timings` are made when first read or written: until then they are accessors
  // (enumerable, so Object.keys, JSON.stringify and spreading see them) over the raw text kept
  // under a symbol; the first access turns each into a plain property.
  const RESPONSE_RAW = Symbol('hornet.response');
  function lazyPart(name, build) {
    const define = (o, value) => {
      Object.defineProperty(o, name, { value, writable: true, enumerable: true, configurable: true });
      return value;
    };
    return [function () { return define(this, build(this[RESPONSE_RAW])); }, function (value) { define(this, value); }];
  }
  G.__hornet_response_parts = [RESPONSE_RAW, ...lazyPart('headers', H.responseHeaders), ...lazyPart('timings', H.responseTimings)];
  // The response objects' shapes, lazy (afterResponse) and plain (context.http), in the order
  // processor/request.rs makes them.
  keepShapes(Object.prototype, [['statusCode', 'v'], ['url', 'v'], ['headers', 'a'], ['body', 'v'], ['timings', 'a'], [RESPONSE_RAW, 'h']]);
  keepShapes(Object.prototype, [['statusCode', 'v'], ['url', 'v'], ['headers', 'v'], ['body', 'v'], ['timings', 'v']]);
  if (typeof G.structuredClone !== 'function') G.structuredClone = (v) => (v === undefined ? undefined : JSON.parse(JSON.stringify(v)));
  Math.random = H.random;
})(globalThis.__hornet);
