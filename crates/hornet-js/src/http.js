// `context.http`: the measured HTTP client of function steps. Each method returns a Promise; the
// request is queued with `__hornet.httpSend` and sent by the VU's settle loop on the VU's own
// connection, which settles the Promise through `__hornet_http_settle`.
(function (H) {
  'use strict';
  const G = globalThis;
  const VU = Symbol('hornet.vu');
  const pending = new Map();
  let nextId = 1;

  function text(v) { return v === undefined || v === null ? '' : String(v); }

  class HttpResponse {
    constructor(r) {
      this.statusCode = r.statusCode;
      this.status = r.statusCode;
      this.url = r.url;
      this.headers = r.headers;
      this.body = r.body;
      this.timings = r.timings;
    }
    /** The body parsed as JSON (throws a SyntaxError naming the URL when it is not JSON). */
    json() {
      try {
        return JSON.parse(this.body);
      } catch (e) {
        throw new SyntaxError('context.http: the response of ' + this.url + ' is not JSON: ' + e.message);
      }
    }
  }

  function send(vu, method, url, options) {
    if (url instanceof URL) url = url.href;
    if (typeof url !== 'string' || url === '') {
      return Promise.reject(new TypeError('context.http: the URL must be a non-empty string, got ' + typeof url));
    }
    const o = options || {};
    if (typeof o !== 'object') {
      return Promise.reject(new TypeError('context.http: the options must be an object'));
    }
    const headers = new Map();
    for (const k of Object.keys(o.headers || {})) {
      const v = o.headers[k];
      if (v !== undefined && v !== null) headers.set(k.toLowerCase(), text(v));
    }
    const contentType = (t) => { if (!headers.has('content-type')) headers.set('content-type', t); };
    let body;
    if (o.json !== undefined) {
      body = JSON.stringify(o.json);
      contentType('application/json');
    } else if (o.form !== undefined) {
      const form = new URLSearchParams();
      for (const k of Object.keys(o.form)) form.append(k, text(o.form[k]));
      body = form.toString();
      contentType('application/x-www-form-urlencoded');
    } else if (o.body !== undefined && o.body !== null) {
      if (typeof o.body === 'object' && !(o.body instanceof Uint8Array)) {
        return Promise.reject(new TypeError('context.http: `body` must be a string or a Buffer (use `json` for an object)'));
      }
      body = typeof o.body === 'string' ? o.body : o.body instanceof Uint8Array ? o.body : String(o.body);
    }
    if (o.qs) {
      const qs = new URLSearchParams();
      for (const k of Object.keys(o.qs)) qs.append(k, text(o.qs[k]));
      const q = qs.toString();
      if (q) url += (url.includes('?') ? '&' : '?') + q;
    }
    const flat = [];
    for (const [k, v] of headers) flat.push(k, v);
    const call = {
      method: String(method).toUpperCase(),
      url,
      headers: flat,
      body,
      name: o.name === undefined || o.name === null ? undefined : String(o.name),
      follow: o.followRedirect !== false,
    };
    return new Promise((resolve, reject) => {
      const id = nextId++;
      pending.set(id, { resolve, reject });
      try {
        H.httpSend(vu, id, call);
      } catch (e) {
        pending.delete(id);
        reject(e);
      }
    });
  }

  const client = {
    request(method, url, options) {
      if (method !== null && typeof method === 'object') return send(this[VU], method.method || 'GET', method.url, method);
      return send(this[VU], method, url, options);
    },
    get(url, options) { return send(this[VU], 'GET', url, options); },
    post(url, options) { return send(this[VU], 'POST', url, options); },
    put(url, options) { return send(this[VU], 'PUT', url, options); },
    patch(url, options) { return send(this[VU], 'PATCH', url, options); },
    delete(url, options) { return send(this[VU], 'DELETE', url, options); },
    head(url, options) { return send(this[VU], 'HEAD', url, options); },
    options(url, options) { return send(this[VU], 'OPTIONS', url, options); },
  };

  G.__hornet_http_client = function (vu) {
    const c = Object.create(client);
    Object.defineProperty(c, VU, { value: vu });
    return c;
  };
  G.__hornet_http_settle = function (id, response, error) {
    const p = pending.get(id);
    if (!p) return;
    pending.delete(id);
    if (error !== undefined && error !== null) p.reject(new Error(error));
    else p.resolve(new HttpResponse(response));
  };
})(globalThis.__hornet);
