import { Query } from 'mingo';
import type { Document } from 'mongodb';

/**
 * A MongoDB filter applied to a document in memory (mingo), for the checks that cannot or
 * should not be a query: a write's guard on the document as it would be stored, and the access
 * filter of a read by id (request-store.ts, `findVisible`). Compiled once per filter object.
 */
const compiled = new WeakMap<Document, Query>();

export function documentMatches(filter: Document, doc: Document): boolean {
  let query = compiled.get(filter);
  if (!query) {
    query = new Query(filter as Record<string, unknown>);
    compiled.set(filter, query);
  }
  return query.test(doc);
}

/** The top-level fields a filter looks at (`sp` for `sp.patient`), to project what `documentMatches` needs. */
export function filterFields(filter: Document, into = new Set<string>()): Set<string> {
  for (const [key, value] of Object.entries(filter)) {
    if (!key.startsWith('$')) into.add(key.split('.')[0]);
    else if (Array.isArray(value)) for (const part of value) if (part && typeof part === 'object') filterFields(part as Document, into);
    else if (value && typeof value === 'object' && !(value instanceof Date)) filterFields(value as Document, into);
  }
  return into;
}
