// ES module processor: named exports are the functions, imports work as in Node.
import { createHash } from 'node:crypto';
import { format } from 'util';
import { slugify, TITLES } from './lib/slug.mjs';

export function chooseArticle(context, events, done) {
  const title = TITLES[Math.floor(Math.random() * TITLES.length)];
  context.vars.title = title;
  context.vars.slug = slugify(title);
  done();
}

export function stamp(requestParams, context, events, next) {
  requestParams.headers = requestParams.headers || {};
  requestParams.headers['x-article'] = format('%s (%d chars)', context.vars.slug, context.vars.title.length);
  requestParams.headers['x-etag'] = createHash('sha1').update(context.vars.slug).digest('hex').slice(0, 12);
  next();
}
