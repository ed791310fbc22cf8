import type { Document, Filter } from 'mongodb';
import { decodePageToken, encodePageToken } from '../services/page-token.js';
import { allOf, type SortSpec } from './plan.js';

/**
 * Keyset paging: a page starts just past the sort values (and `_id`) of the row before it, so
 * page 500 costs what page 1 costs (an index seek, no skip) and writes between pages neither
 * repeat nor skip rows. Missing sort values sort first ascending and last descending (MongoDB's
 * order for null), and the "after" condition handles them explicitly.
 */
type Scalar = string | number | boolean | null | { d: number };

export interface PagePosition {
  direction: 'next' | 'previous';
  values: Scalar[];
  /** Which query the token belongs to: a token used with another query is refused. */
  query: string;
}

const isPosition = (v: unknown): v is PagePosition => {
  const p = v as PagePosition;
  return typeof p === 'object' && p !== null && (p.direction === 'next' || p.direction === 'previous') &&
    Array.isArray(p.values) && typeof p.query === 'string' &&
    p.values.every((x) => x === null || ['string', 'number', 'boolean'].includes(typeof x) ||
      (typeof x === 'object' && Number.isFinite((x as { d: number }).d) && Object.keys(x as object).length === 1));
};

export const encodePosition = (position: PagePosition) => encodePageToken(position);
export const decodePosition = (token: string) => decodePageToken(token, isPosition);

function toScalar(value: unknown): Scalar {
  if (value instanceof Date) return { d: value.getTime() };
  if (value === undefined || value === null) return null;
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return value;
  return null;
}

export function fromScalar(value: Scalar): unknown {
  return value !== null && typeof value === 'object' ? new Date(value.d) : value;
}

export function valueAt(doc: Document, path: string): unknown {
  let current: unknown = doc;
  for (const part of path.split('.')) {
    if (current === null || typeof current !== 'object') return undefined;
    current = (current as Record<string, unknown>)[part];
  }
  return current;
}

export function positionOf(doc: Document, sort: SortSpec, direction: PagePosition['direction'], query: string): PagePosition {
  return { direction, values: sort.fields.map((f) => toScalar(valueAt(doc, f.path))), query };
}

/** Rows strictly after `values` in the order `sort` (with `reverse`, strictly before). */
export function afterPosition(sort: SortSpec, values: Scalar[], reverse: boolean): Filter<Document> {
  const branches: Filter<Document>[] = [];
  for (let i = 0; i < sort.fields.length; i++) {
    const branch: Filter<Document>[] = [];
    for (let j = 0; j < i; j++) branch.push({ [sort.fields[j].path]: fromScalar(values[j]) ?? null });
    const { path, descending } = sort.fields[i];
    const value = fromScalar(values[i]);
    const forward = descending === reverse; // ascending order in the direction we read
    if (value === null) {
      // null is the lowest value: nothing is before it ascending; everything non-null is after it.
      if (!forward) continue;
      branch.push({ [path]: { $ne: null } });
    } else if (forward) {
      branch.push({ [path]: { $gt: value } });
    } else {
      branch.push({ $or: [{ [path]: { $lt: value } }, { [path]: null }] });
    }
    branches.push(allOf(branch));
  }
  // Nothing comes before a null read backwards: a filter no document meets.
  if (branches.length === 0) return NOTHING;
  return branches.length === 1 ? branches[0] : { $or: branches };
}

/** Matches no document (every stored document has an `_id`). */
export const NOTHING: Filter<Document> = { _id: { $exists: false } };

export function mongoSort(sort: SortSpec, reverse: boolean): [string, 1 | -1][] {
  return sort.fields.map((f) => [f.path, (f.descending !== reverse ? -1 : 1) as 1 | -1]);
}
