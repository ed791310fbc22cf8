import type { Document, Filter } from 'mongodb';
import type { Clause, DateValue, SortKey, ValueClause } from './ast.js';
import { dateBounds, needsOneRange, rangeMatches, type Bounds } from './date-match.js';
import { field } from './encoding.js';
import { INSTANT_SPAN_MS, isInstantParam, routeFilter } from './layout.js';
import { escapeRegex } from './normalize.js';
import type { SearchRegistry } from './registry.js';

/**
 * Planning: clauses (already free of chains, see chain.ts) to one MongoDB filter, plus the
 * checks the server applies to rows the filter cannot judge exactly (several dates in one
 * parameter), plus the sort. Every value from the client reaches MongoDB as a value, never as
 * an operator or field name: codes are checked against the registry, regexes are escaped.
 */
/** The longest stored span (ms) of each date parameter of the type, when known (key-stats.ts). */
export type DateSpanMap = Record<string, number> | undefined;

export interface PlannedFilter {
  filter: Filter<Document>;
  /** Rows for which this returns false are dropped after the query. */
  postFilters: ((doc: Document) => boolean)[];
  /** Fields the post-filters need in the projection. */
  postFields: string[];
}

const orOf = (parts: Filter<Document>[]): Filter<Document> => (parts.length === 1 ? parts[0] : { $or: parts });

// One value is written as plain equality rather than a one-element `$in`: the same query to
// MongoDB, and the form every MongoDB-compatible engine can hand to its own indexes.
export const anyOf = (values: unknown[]): unknown => (values.length === 1 ? values[0] : { $in: values });
const noneOf = (values: unknown[]): unknown => (values.length === 1 ? { $ne: values[0] } : { $nin: values });

/**
 * The conjunction of parts as one filter document: parts on different fields side by side,
 * a field constrained twice (a repeated parameter) or a second `$or` kept apart in `$and`.
 */
export function allOf(parts: Filter<Document>[]): Filter<Document> {
  const merged: Record<string, unknown> = {};
  const apart: Filter<Document>[] = [];
  for (const part of parts) {
    const keys = Object.keys(part);
    if (keys.some((k) => k in merged || k === '$and')) apart.push(part);
    else Object.assign(merged, part);
  }
  if (apart.length > 0) merged.$and = apart;
  return merged as Filter<Document>;
}

type Bound = NonNullable<Bounds['lo']>[number];

/** The tightest of several bounds with the same operator (two `$gte` in one object would keep only the last). */
function tightest(list: Bound[]): Record<string, Date> {
  const out: Record<string, Date> = {};
  for (const { op, at } of list) {
    const kept = out[op];
    const lower = op === '$gt' || op === '$gte';
    if (!kept || (lower ? at > kept : at < kept)) out[op] = at;
  }
  return out;
}

const shifted = (at: Date, ms: number): Date | undefined => {
  const time = at.getTime() + ms;
  return Math.abs(time) <= 8.64e15 ? new Date(time) : undefined;
};

/**
 * With the longest stored span of the parameter (key-stats.ts), a bound on one end of the
 * stored range also bounds the other: `hi ≥ X` implies `lo ≥ X − span`, `lo ≤ Y` implies
 * `hi ≤ Y + span`. The implied bounds select nothing less; they make both index ends finite.
 */
function withImpliedBounds(bounds: Bounds, span: number | undefined): Bounds {
  if (span === undefined || bounds.negate) return bounds;
  const lo = [...(bounds.lo ?? [])];
  const hi = [...(bounds.hi ?? [])];
  for (const b of bounds.hi ?? []) {
    const at = (b.op === '$gte' || b.op === '$gt') && shifted(b.at, -span);
    if (at) lo.push({ op: '$gte', at });
  }
  for (const b of bounds.lo ?? []) {
    const at = (b.op === '$lte' || b.op === '$lt') && shifted(b.at, span);
    if (at) hi.push({ op: '$lte', at });
  }
  return { lo: lo.length > 0 ? lo : undefined, hi: hi.length > 0 ? hi : undefined };
}

function boundsFilter(code: string, bounds: Bounds): Filter<Document> {
  const conditions = (path: string, list: Bounds['lo']) => (list && list.length > 0 ? { [path]: tightest(list) } : {});
  if (bounds.negate) {
    const lo = bounds.lo![0].at;
    const hi = bounds.hi![0].at;
    return { $or: [{ [field.dateLow(code)]: { $lt: lo } }, { [field.dateHigh(code)]: { $gt: hi } }] };
  }
  return { ...conditions(field.dateLow(code), bounds.lo), ...conditions(field.dateHigh(code), bounds.hi) };
}

function dateFilter(code: string, values: DateValue[], planned: PlannedFilter, span: number | undefined): Filter<Document> {
  const all = values.map(dateBounds);
  const parts = all.map((bounds) => {
    const exactOnHull = boundsFilter(code, withImpliedBounds(bounds, span));
    if (!needsOneRange(bounds)) return exactOnHull;
    // Several dates in one parameter: the stored hull is not enough; check each range in the server.
    return { $or: [exactOnHull, { [field.dateAll(code)]: { $exists: true } }] };
  });
  if (all.some(needsOneRange)) {
    const path = field.dateAll(code);
    planned.postFields.push(path);
    planned.postFilters.push((doc) => {
      const ranges = doc.sp?.[code]?.all as { lo: Date; hi: Date }[] | undefined;
      if (!ranges) return true;
      return all.some((bounds) => ranges.some((range) => rangeMatches(bounds, range)));
    });
  }
  return orOf(parts);
}

function numberFilter(clause: Extract<ValueClause, { kind: 'number' }>): Filter<Document> {
  const path = field.values(clause.param.code);
  const parts = clause.values.map((v) => {
    const range = ((): Record<string, number> => {
      switch (v.prefix) {
        case 'eq': return { $gte: v.low, $lt: v.high };
        case 'ne': return {};
        case 'gt': case 'sa': return { $gt: v.value };
        case 'lt': case 'eb': return { $lt: v.value };
        case 'ge': return { $gte: v.value };
        case 'le': return { $lte: v.value };
        case 'ap': return { $gte: v.value * 0.9, $lte: v.value * 1.1 };
      }
    })();
    const condition: Filter<Document> =
      v.prefix === 'ne' ? { [path]: { $not: { $elemMatch: { $gte: v.low, $lt: v.high } } } } : { [path]: { $elemMatch: range } };
    return v.unitKeys ? { ...condition, [`${path}__unit`]: { $in: v.unitKeys } } : condition;
  });
  return orOf(parts);
}

/** The least string above every string that starts with `prefix` (undefined when its last character has no successor). */
function successor(prefix: string): string | undefined {
  const chars = [...prefix];
  const last = chars.pop()?.codePointAt(0);
  if (last === undefined || last === 0xd7ff || last >= 0xffff) return undefined;
  return chars.join('') + String.fromCodePoint(last + 1);
}

/**
 * Prefix matches as index ranges `[v, successor(v))` rather than anchored regexes: SecantusDB
 * evaluates a regex per document (about ten times the cost of a comparison); MongoDB turns both
 * into the same index bounds. `$elemMatch` keeps both bounds on one value of the array (two
 * bare bounds could be met by two different values), and SecantusDB bounds it tighter than a
 * bare range over a multi-valued field.
 */
function prefixFilter(key: string, values: string[]): Filter<Document> {
  const path = `sp.${key}`;
  return orOf(values.map((v) => {
    const upper = successor(v);
    return upper === undefined ? { [path]: { $regex: `^${escapeRegex(v)}` } } : { [path]: { $elemMatch: { $gte: v, $lt: upper } } };
  }));
}

function aboveUris(uri: string): string[] {
  const list: string[] = [];
  let current = uri;
  while (current.length > 0) {
    list.push(current);
    const cut = current.lastIndexOf('/');
    if (cut <= 0 || current.slice(0, cut).endsWith('/')) break;
    current = current.slice(0, cut);
  }
  return list;
}

function valueFilter(clause: Clause, planned: PlannedFilter, spans: DateSpanMap): Filter<Document> {
  switch (clause.kind) {
    case 'missing': {
      const path = field.values(clause.param.code);
      return { [path]: { $exists: !clause.missing } };
    }
    case 'id':
      return { _id: clause.not ? noneOf(clause.ids) : anyOf(clause.ids) } as Filter<Document>;
    case 'string': {
      const { code } = clause.param;
      if (clause.mode === 'exact') return { [field.exact(code)]: anyOf(clause.values) };
      if (clause.mode === 'contains') {
        return orOf(clause.values.map((v) => ({ [field.values(code)]: { $regex: escapeRegex(v) } })));
      }
      return prefixFilter(code, clause.values);
    }
    case 'token': {
      const { code } = clause.param;
      if (clause.field === 'text') {
        return prefixFilter(`${code}__text`, clause.texts);
      }
      return { [field.values(code)]: clause.not ? noneOf(clause.keys) : anyOf(clause.keys) };
    }
    case 'date':
      return dateFilter(clause.param.code, clause.values, planned, spans?.[clause.param.code]);
    case 'number':
      return numberFilter(clause);
    case 'reference': {
      const { code } = clause.param;
      if (clause.identifierKeys.length > 0) return { [field.identifier(code)]: anyOf(clause.identifierKeys) };
      return { [field.values(code)]: anyOf(clause.keys) };
    }
    case 'uri': {
      const path = field.values(clause.param.code);
      if (clause.mode === 'below') return orOf(clause.values.map((v) => ({ [path]: { $regex: `^${escapeRegex(v)}` } })));
      if (clause.mode === 'above') return { [path]: anyOf(clause.values.flatMap(aboveUris)) };
      return { [path]: anyOf(clause.values) };
    }
    case 'composite':
      return { [field.values(clause.param.code)]: anyOf(clause.keys) };
    case 'resolved':
      return { [clause.field]: anyOf(clause.keys) };
    case 'chain':
    case 'has':
      throw new Error('chains must be resolved before planning');
  }
}

/** The field a clause fixes to one value (an equality with one value), if any. */
export function equalityField(clause: Clause): string | undefined {
  switch (clause.kind) {
    case 'token': return clause.field === 'values' && !clause.not && clause.keys.length === 1 ? field.values(clause.param.code) : undefined;
    case 'reference': return clause.identifierKeys.length === 0 && clause.keys.length === 1 ? field.values(clause.param.code) : undefined;
    case 'resolved': return clause.keys.length === 1 ? clause.field : undefined;
    case 'id': return !clause.not && clause.ids.length === 1 ? '_id' : undefined;
    default: return undefined;
  }
}

/** The index field a clause's condition leads with (for the index choice), if any. */
export function leadField(clause: Clause, type: string): string | undefined {
  switch (clause.kind) {
    case 'id': return clause.not ? undefined : '_id';
    case 'string': return clause.mode === 'prefix' ? field.values(clause.param.code) : undefined;
    case 'token': return clause.field === 'values' && !clause.not ? field.values(clause.param.code) : undefined;
    case 'date': {
      const { code } = clause.param;
      const high = !isInstantParam(type, code) && clause.values.every((v) => dateBounds(v).hi);
      return high ? field.dateHigh(code) : field.dateLow(code);
    }
    case 'reference': return clause.identifierKeys.length > 0 ? undefined : field.values(clause.param.code);
    case 'uri': case 'composite': return field.values(clause.param.code);
    case 'number': return field.values(clause.param.code);
    case 'resolved': return clause.field;
    default: return undefined;
  }
}

/** Spans with the most an instant can span for an instant parameter whose stored span is not known. */
function withInstantSpans(type: string, clause: Clause, spans: Record<string, number>): Record<string, number> {
  if (clause.kind !== 'date' || !isInstantParam(type, clause.param.code) || spans[clause.param.code] !== undefined) return spans;
  return { ...spans, [clause.param.code]: INSTANT_SPAN_MS };
}

/**
 * The filter of a search on one type: deleted documents never match; the access filter of the
 * request's security context is ANDed in last, so nothing can widen it. Paths are routed to
 * the type's stored shape (layout.ts).
 */
export function planFilter(type: string, clauses: Clause[], access: Filter<Document> | undefined, spans?: DateSpanMap): PlannedFilter {
  const planned: PlannedFilter = { filter: {}, postFilters: [], postFields: [] };
  const parts: Filter<Document>[] = clauses.map((c) => valueFilter(c, planned, spans && withInstantSpans(type, c, spans)));
  parts.push({ deleted: false });
  if (access && Object.keys(access).length > 0) parts.push(access);
  planned.filter = routeFilter(type, allOf(parts));
  return planned;
}

/**
 * A sort key's scalar field: dates sort by their start ascending and by their end descending
 * (R4 search.html); instants (layout.ts) by their start both ways, which their one index serves.
 */
export function sortField(registry: SearchRegistry, type: string, key: SortKey): string {
  if (key.code === '_id') return '_id';
  const param = registry.param(type, key.code);
  if (param?.type === 'date') return key.descending && !isInstantParam(type, key.code) ? field.dateHigh(key.code) : field.dateLow(key.code);
  return field.sort(key.code);
}

export interface SortSpec {
  fields: { path: string; descending: boolean }[];
}

/** The sort of a search, always ending in `_id` so the order is total and paging is stable. */
export function planSort(registry: SearchRegistry, type: string, keys: SortKey[]): SortSpec {
  const fields = keys.filter((k) => k.code !== '_id').map((k) => ({ path: sortField(registry, type, k), descending: k.descending }));
  const idKey = keys.find((k) => k.code === '_id');
  fields.push({ path: '_id', descending: idKey?.descending ?? (fields.length > 0 ? fields[fields.length - 1].descending : false) });
  return { fields };
}
