// A helper module for 07-es-module.mjs.
export function slugify(title) {
  return title
    .toLowerCase()
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
}

export const TITLES = ['Hello, World!', 'Load Testing 101', 'Why p99 Matters'];
