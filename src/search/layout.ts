import type { Document, Filter } from 'mongodb';

/**
 * Where search values are stored, so that a collection's index count stays bounded whatever
 * SearchParameters are stored (MongoDB allows 64 per collection, and every index costs every write).
 *
 * - The parameters real traffic uses have a field and an index of their own: `sp.<code>`
 *   (dates: `sp.<code>.lo` / `.hi`).
 * - Every other value — the long tail of HL7's parameters, custom SearchParameters, and the
 *   modifier keys (`__exact`, `__text`, `__id`, `__unit`) of all of them — is one entry of the
 *   shared array `spx`: `{c: 'gender', v: '=male'}`, dates `{c: 'death-date', lo, hi}`, served
 *   by the three SHARED_INDEXES and queried with `$elemMatch`.
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
  AuditEvent: ['date', 'patient', 'agent', 'entity', 'type', 'subtype', '_lastUpdated'],
  StructureDefinition: ['url', 'name', 'type', '_lastUpdated'],
  SearchParameter: ['url', 'code', 'base', '_lastUpdated'],
};

/** The most indexes any collection may have: dedicated ones, the shared ones, `_id` and a few of the store's. */
export const MAX_INDEXES_PER_COLLECTION = 24;

export const SHARED_FIELD = 'spx';

export function isDedicated(type: string, code: string): boolean {
  return DEDICATED_PARAMS[type]?.includes(code) ?? false;
}

type Obj = Record<string, unknown>;
const isDateValue = (v: unknown): v is { lo: Date; hi: Date } =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && (v as Obj).lo instanceof Date;

export interface StoredSearchFields {
  sp: Obj;
  spx?: Obj[];
}

/** The stored fields of one current document from its extracted values (`sp` keyed by `code[__suffix]`). */
export function storedFields(type: string, extracted: Obj): StoredSearchFields {
  const sp: Obj = {};
  const spx: Obj[] = [];
  for (const [key, value] of Object.entries(extracted)) {
    if (key.endsWith('__sort')) {
      sp[key] = value;
    } else if (isDateValue(value)) {
      sp[key] = value;
      if (!isDedicated(type, key)) spx.push({ c: key, lo: value.lo, hi: value.hi });
    } else if (isDedicated(type, key)) {
      sp[key] = value;
    } else {
      for (const v of value as unknown[]) spx.push({ c: key, v });
    }
  }
  return spx.length > 0 ? { sp, spx } : { sp };
}

/** The values of one key (`code` or `code__suffix`) of a stored document, wherever they are kept. */
export function storedValues(type: string, doc: Document, key: string): unknown[] {
  if (isDedicated(type, key)) return (doc.sp?.[key] as unknown[] | undefined) ?? [];
  return ((doc[SHARED_FIELD] as Obj[] | undefined) ?? []).filter((e) => e.c === key).map((e) => e.v);
}

/** The projection that carries `storedValues(type, doc, key)`. */
export function valuesProjection(type: string, key: string): Record<string, 1> {
  return isDedicated(type, key) ? { [`sp.${key}`]: 1 } : { [SHARED_FIELD]: 1 };
}

/** Where a planner path lives when it is not a dedicated field: the shared entry key and its member. */
function sharedTarget(type: string, path: string): { key: string; member: 'v' | 'lo' | 'hi' } | undefined {
  const match = /^sp\.([^.]+)(?:\.(lo|hi))?$/.exec(path);
  if (!match) return undefined;
  const [, key, end] = match;
  if (key.endsWith('__sort') || isDedicated(type, key)) return undefined;
  return { key, member: (end as 'lo' | 'hi' | undefined) ?? 'v' };
}

/** The index key paths a planner path is served by (for the index choice). */
export function indexPaths(type: string, path: string): string[] {
  const target = sharedTarget(type, path);
  return target ? [`${SHARED_FIELD}.c`, `${SHARED_FIELD}.${target.member}`] : [path];
}

const isOperatorDoc = (v: unknown): v is Obj =>
  typeof v === 'object' && v !== null && !Array.isArray(v) && !(v instanceof Date) && !(v instanceof RegExp) &&
  Object.keys(v).length > 0 && Object.keys(v).every((k) => k.startsWith('$'));

/**
 * A condition the planner put on an array field (`sp.x: cond`), as a condition on one shared
 * entry's member, and whether the whole condition is the negation of it ("no element matches").
 */
function memberCondition(condition: unknown): { negated: boolean; member?: unknown } {
  if (!isOperatorDoc(condition)) return { negated: false, member: condition };
  if ('$exists' in condition) return { negated: condition.$exists === false };
  if ('$ne' in condition) return { negated: true, member: condition.$ne };
  if ('$nin' in condition) return { negated: true, member: { $in: condition.$nin } };
  const not = condition.$not as Obj | undefined;
  if (not && '$elemMatch' in not) return { negated: true, member: not.$elemMatch };
  if ('$elemMatch' in condition) return { negated: false, member: condition.$elemMatch };
  return { negated: false, member: condition };
}

function sharedCondition(key: string, members: Partial<Record<'v' | 'lo' | 'hi', unknown>>): Filter<Document> {
  const entry: Obj = { c: key };
  let negated = false;
  for (const [name, condition] of Object.entries(members)) {
    const translated = memberCondition(condition);
    negated ||= translated.negated;
    if (translated.member !== undefined) entry[name] = translated.member;
  }
  const match = { $elemMatch: entry };
  if (negated) return { [SHARED_FIELD]: { $not: match } };
  // `$elemMatch` keeps the key and its value in one entry. The same conditions on the dotted
  // paths beside it say nothing more, but they are what SecantusDB builds index bounds from (it
  // scans the collection for a two-field `$elemMatch`); MongoDB takes its bounds from either.
  const dotted = Object.fromEntries(Object.entries(entry).map(([name, condition]) => [`${SHARED_FIELD}.${name}`, condition]));
  return { [SHARED_FIELD]: match, ...dotted };
}

/**
 * The planner's filter (over `sp.<key>` paths) as it must be sent for this type's stored shape:
 * conditions on keys without a dedicated field become `$elemMatch` on the shared entries
 * (a key's `lo` and `hi` conditions in one object stay together in one `$elemMatch`).
 */
export function routeFilter(type: string, filter: Filter<Document>): Filter<Document> {
  const routed: Obj = {};
  const shared = new Map<string, Partial<Record<'v' | 'lo' | 'hi', unknown>>>();
  for (const [path, condition] of Object.entries(filter)) {
    if (path === '$and' || path === '$or' || path === '$nor') {
      routed[path] = (condition as Filter<Document>[]).map((part) => routeFilter(type, part));
      continue;
    }
    const target = sharedTarget(type, path);
    if (!target) {
      routed[path] = condition;
      continue;
    }
    shared.set(target.key, { ...shared.get(target.key), [target.member]: condition });
  }
  const conditions = [...shared].map(([key, members]) => sharedCondition(key, members));
  if (conditions.length === 1 && !Object.keys(routed).some((k) => k.startsWith(SHARED_FIELD))) Object.assign(routed, conditions[0]);
  else if (conditions.length > 0) routed.$and = [...((routed.$and as Filter<Document>[]) ?? []), ...conditions];
  return routed as Filter<Document>;
}
