import type { Document, Filter } from 'mongodb';
import { escapeRegex } from './normalize.js';

/**
 * Where search values are stored, so that a collection's index count stays bounded whatever
 * SearchParameters are stored (MongoDB allows 64 per collection, and every index costs every write).
 *
 * - The parameters real traffic uses have a field and an index of their own: `sp.<code>`
 *   (dates: `sp.<code>.lo` / `.hi`).
 * - Every other value — the long tail of HL7's parameters, custom SearchParameters, and the
 *   modifier keys (`__exact`, `__text`, `__id`, `__unit`) of all of them — is kept in one of
 *   three shared arrays, served by the SHARED indexes (indexes.ts):
 *     `spx`: strings `key␟value` ("gender␟=male"), one index; every key present also has
 *            `key␟` alone when its values are numbers or dates, so `:missing` is one range;
 *     `spn`: numbers `{c, v}`;  `spd`: date hulls `{c, lo, hi}`.
 *   A string key and its value in one string make every string condition (equality, `$in`,
 *   prefix range, `:contains`, negations) a condition on one indexed field (SecantusDB builds no
 *   compound bounds for a two-field multikey `$elemMatch`); ranges stay in an `$elemMatch` so
 *   both bounds hold for one value.
 * - Sort keys (`sp.<code>__sort`), date hulls (`sp.<code>.lo/.hi`) and several-date lists
 *   (`sp.<code>.all`) stay scalar fields of `sp` for every parameter: sorting and paging need them.
 *
 * Extraction (extract.ts) and planning (plan.ts) speak of `sp.<key>` only; `storedFields` and
 * `routeFilter` translate between that and the stored shape, in this one place.
 */
export const DEDICATED_PARAMS: Readonly<Record<string, readonly string[]>> = {
  Patient: ['identifier', 'family', 'given', 'name', 'birthdate', 'gender', 'telecom', '_lastUpdated'],
  DocumentReference: ['patient', 'subject', 'type', 'status', 'date', 'identifier', 'category', 'author', '_lastUpdated'],
  Consent: ['patient', 'status', 'category', 'date', '_lastUpdated'],
  // Every request writes an AuditEvent, and every write updates every index of the collection:
  // only what audit searches select by ("who saw this patient / this resource", "what did this
  // user do", in a date range) has an index. See UNINDEXED_PARAMS for the rest it offers.
  AuditEvent: ['date', 'patient', 'agent', 'entity', 'type', 'subtype', 'action', 'outcome'],
  StructureDefinition: ['url', 'name', 'type', '_lastUpdated'],
  SearchParameter: ['url', 'code', 'base', '_lastUpdated'],
};

/**
 * Dedicated parameters kept without an index of their own: they narrow a search another
 * parameter leads (`AuditEvent?patient=...&outcome=4`), read off the rows that index walk finds.
 * The trail's interaction codes and outcomes have a handful of values each (every automatic
 * event is type `rest`): an index would select little and cost every event its entries.
 */
export const UNINDEXED_PARAMS: Readonly<Record<string, readonly string[]>> = {
  AuditEvent: ['type', 'subtype', 'action', 'outcome'],
};

/**
 * Types whose only search values are their dedicated parameters' and that declare no shared
 * indexes: the audit trail, written on every request (a custom SearchParameter on it is stored
 * in the shared arrays but has no index, so it only narrows what another parameter finds).
 */
export const WITHOUT_SHARED_INDEXES: readonly string[] = ['AuditEvent'];

/**
 * Date parameters whose every value is one instant (`meta.lastUpdated`, `AuditEvent.recorded`):
 * an instant has at least seconds, so its stored `lo` and `hi` are at most 999 ms apart (equal
 * for the milliseconds the server writes). One index over `lo` serves a bound on either end
 * (`hi ≥ X` implies `lo ≥ X − 999 ms`) and both sort directions, so every write of the type
 * maintains one date index for it rather than two.
 */
const INSTANT_PARAMS: Readonly<Record<string, readonly string[]>> = { AuditEvent: ['date'] };
export const INSTANT_SPAN_MS = 999;

export function isInstantParam(type: string, code: string): boolean {
  return code === '_lastUpdated' || (INSTANT_PARAMS[type]?.includes(code) ?? false);
}

/** The most indexes any collection may have: dedicated ones, the shared ones, `_id` and a few of the store's. */
export const MAX_INDEXES_PER_COLLECTION = 24;

export const SHARED_STRINGS = 'spx';
export const SHARED_NUMBERS = 'spn';
export const SHARED_DATES = 'spd';
/** Between a key and its value in a shared string (U+001F, unit separator: in no key). */
const SEP = '\u001f';

export function isDedicated(type: string, code: string): boolean {
  return DEDICATED_PARAMS[type]?.includes(code) ?? false;
}

type Obj = Record<string, unknown>;
const isDateValue = (v: unknown): v is { lo: Date; hi: Date } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && (v as Obj).lo instanceof Date;

export interface StoredSearchFields {
  sp: Obj;
  spx?: string[];
  spn?: Obj[];
  spd?: Obj[];
}

/** The stored fields of one current document from its extracted values (`sp` keyed by `code[__suffix]`). */
export function storedFields(type: string, extracted: Obj): StoredSearchFields {
  const sp: Obj = {};
  const strings: string[] = [];
  const numbers: Obj[] = [];
  const dates: Obj[] = [];
  for (const [key, value] of Object.entries(extracted)) {
    if (key.endsWith('__sort')) {
      sp[key] = value;
    } else if (isDateValue(value)) {
      sp[key] = value;
      if (!isDedicated(type, key)) {
        dates.push({ c: key, lo: value.lo, hi: value.hi });
        strings.push(key + SEP);
      }
    } else if (isDedicated(type, key)) {
      sp[key] = value;
    } else {
      const values = value as unknown[];
      if (values.some((v) => typeof v === 'number')) strings.push(key + SEP);
      for (const v of values) {
        if (typeof v === 'number') numbers.push({ c: key, v });
        else strings.push(key + SEP + String(v));
      }
    }
  }
  const fields: StoredSearchFields = { sp };
  if (strings.length > 0) fields.spx = strings;
  if (numbers.length > 0) fields.spn = numbers;
  if (dates.length > 0) fields.spd = dates;
  return fields;
}

/** The string values of one key (`code` or `code__suffix`) of a stored document, wherever they are kept. */
export function storedValues(type: string, doc: Document, key: string): string[] {
  if (isDedicated(type, key)) return (doc.sp?.[key] as string[] | undefined) ?? [];
  const prefix = key + SEP;
  return ((doc[SHARED_STRINGS] as string[] | undefined) ?? []).filter((s) => s.startsWith(prefix) && s.length > prefix.length).map((s) => s.slice(prefix.length));
}

/** The projection that carries `storedValues(type, doc, key)`. */
export function valuesProjection(type: string, key: string): Record<string, 1> {
  return isDedicated(type, key) ? { [`sp.${key}`]: 1 } : { [SHARED_STRINGS]: 1 };
}

/** Where a planner path lives when it is not a dedicated field: the shared key and which end of a date. */
function sharedTarget(type: string, path: string): { key: string; end?: 'lo' | 'hi' } | undefined {
  const match = /^sp\.([^.]+)(?:\.(lo|hi))?$/.exec(path);
  if (!match) return undefined;
  const [, key, end] = match;
  if (key.endsWith('__sort') || isDedicated(type, key)) return undefined;
  return { key, end: end as 'lo' | 'hi' | undefined };
}

/** The index key paths a planner path is served by (for the index choice). */
export function indexPaths(type: string, path: string): string[] {
  const target = sharedTarget(type, path);
  if (!target) return [path];
  return target.end ? [`${SHARED_DATES}.c`, `${SHARED_DATES}.${target.end}`] : [SHARED_STRINGS];
}

const isOperatorDoc = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof RegExp) &&
  Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith('$'));

/** A condition on the string values of `key`, as the same condition on its shared `key␟value` strings. */
function onSharedStrings(key: string, condition: unknown): unknown {
  const prefix = key + SEP;
  const withKey = (v: unknown) => (typeof v === 'string' ? prefix + v : v);
  if (!isOperatorDoc(condition)) return withKey(condition);
  const out: Obj = {};
  for (const [op, operand] of Object.entries(condition)) {
    if (op === '$elemMatch' || op === '$not') out[op] = onSharedStrings(key, operand);
    else if (op === '$in' || op === '$nin') out[op] = (operand as unknown[]).map(withKey);
    else if (op === '$regex') {
      const source = String(operand);
      out.$regex = source.startsWith('^') ? `^${escapeRegex(prefix)}${source.slice(1)}` : `^${escapeRegex(prefix)}[\\s\\S]*${source}`;
    } else out[op] = withKey(operand);
  }
  return out;
}

/** Every key present (whatever its values) has a string in `[key␟, successor)`. */
const presentRange = (key: string) => ({ $elemMatch: { $gte: key + SEP, $lt: key + '\u0020' } });

const isNumericCondition = (condition: unknown): boolean =>
  typeof condition === 'number' || (isOperatorDoc(condition) && Object.values(condition).some(isNumericCondition));

function sharedCondition(key: string, condition: unknown): Filter<Document> {
  if (isOperatorDoc(condition) && '$exists' in condition) {
    const present = presentRange(key);
    return { [SHARED_STRINGS]: condition.$exists === false ? { $not: present } : present };
  }
  if (!isNumericCondition(condition)) return { [SHARED_STRINGS]: onSharedStrings(key, condition) };
  // Numbers (number.ts conditions are `$elemMatch` ranges, or their `$not`).
  const not = isOperatorDoc(condition) ? (condition.$not as Obj | undefined) : undefined;
  const range = not ? not.$elemMatch : isOperatorDoc(condition) ? condition.$elemMatch : condition;
  const match = { $elemMatch: { c: key, v: range } };
  return { [SHARED_NUMBERS]: not ? { $not: match } : match };
}

/** Both ends of a shared date in one `$elemMatch`; the dotted copies beside it are what SecantusDB builds bounds from. */
function sharedDateCondition(key: string, ends: Partial<Record<'lo' | 'hi', unknown>>): Filter<Document> {
  const entry: Obj = { c: key, ...ends };
  const dotted = Object.fromEntries(Object.entries(entry).map(([name, condition]) => [`${SHARED_DATES}.${name}`, condition]));
  return { [SHARED_DATES]: { $elemMatch: entry }, ...dotted };
}

/**
 * The planner's filter (over `sp.<key>` paths) as it must be sent for this type's stored shape:
 * conditions on keys without a dedicated field become conditions on the shared arrays (a date's
 * `lo` and `hi` conditions in one object stay together in one `$elemMatch`).
 */
export function routeFilter(type: string, filter: Filter<Document>): Filter<Document> {
  const routed: Obj = {};
  const conditions: Filter<Document>[] = [];
  const dates = new Map<string, Partial<Record<'lo' | 'hi', unknown>>>();
  for (const [path, condition] of Object.entries(filter)) {
    if (path === '$and' || path === '$or' || path === '$nor') {
      routed[path] = (condition as Filter<Document>[]).map((part) => routeFilter(type, part));
      continue;
    }
    const target = sharedTarget(type, path);
    if (!target) routed[path] = condition;
    else if (target.end) dates.set(target.key, { ...dates.get(target.key), [target.end]: condition });
    else conditions.push(sharedCondition(target.key, condition));
  }
  for (const [key, ends] of dates) conditions.push(sharedDateCondition(key, ends));
  const apart: Filter<Document>[] = [];
  for (const condition of conditions) {
    if (Object.keys(condition).some((k) => k in routed)) apart.push(condition);
    else Object.assign(routed, condition);
  }
  if (apart.length > 0) routed.$and = [...((routed.$and as Filter<Document>[]) ?? []), ...apart];
  return routed as Filter<Document>;
}
