import type { Document } from 'mongodb';

/** Boolean algebra over MongoDB filters, folding the constants, for the access rules. */

/** Every document. */
export const MATCH_ALL: Document = {};
/** No document: what a type the token has no scope for shows. */
export const MATCH_NOTHING: Document = { _id: { $in: [] } };

export const matchesAll = (f: Document) => Object.keys(f).length === 0;
export const matchesNothing = (f: Document) => f === MATCH_NOTHING;

export function allOf(parts: Document[]): Document {
  if (parts.some(matchesNothing)) return MATCH_NOTHING;
  const kept = parts.filter((p) => !matchesAll(p));
  return kept.length === 0 ? MATCH_ALL : kept.length === 1 ? kept[0] : { $and: kept };
}

export function anyOf(parts: Document[]): Document {
  if (parts.some(matchesAll)) return MATCH_ALL;
  const kept = parts.filter((p) => !matchesNothing(p));
  return kept.length === 0 ? MATCH_NOTHING : kept.length === 1 ? kept[0] : { $or: kept };
}

export const noneOf = (f: Document): Document => (matchesAll(f) ? MATCH_NOTHING : matchesNothing(f) ? MATCH_ALL : { $nor: [f] });
