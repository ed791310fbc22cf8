import type { IndexDeclaration } from '../db/indexes.js';
import type { Clause } from './ast.js';
import { field } from './encoding.js';
import { SHARED_DATES, SHARED_NUMBERS, SHARED_STRINGS, UNINDEXED_PARAMS, WITHOUT_SHARED_INDEXES, indexPaths, isDedicated, isInstantParam } from './layout.js';
import { equalityField, leadField, type SortSpec } from './plan.js';
import type { SearchParam, SearchRegistry } from './registry.js';

/**
 * The indexes searches rely on. Every dedicated parameter (layout.ts) gets one index leading
 * with its field and ending in `_id` (equality on the parameter, then the default `_id` order
 * and keyset paging); dates get one per end (instants one, layout.ts). Every other value is served by the shared indexes.
 * A few compound indexes serve the hottest shapes (see README).
 */
function paramIndexes(type: string, param: SearchParam): IndexDeclaration[] {
  if (!param.evaluate || !isDedicated(type, param.code) || UNINDEXED_PARAMS[type]?.includes(param.code)) return [];
  const { code } = param;
  if (param.type === 'date') {
    const low: IndexDeclaration = { collection: type, key: { [field.dateLow(code)]: 1, _id: 1 }, options: { name: `sp_${code}_lo` }, servesQuery: `${type}?${code}=lt|le|eq..., _sort=${code}` };
    if (isInstantParam(type, code)) return [{ ...low, servesQuery: `${type}?${code}=..., _sort=${code} or -${code}` }];
    return [
      low,
      { collection: type, key: { [field.dateHigh(code)]: -1, _id: -1 }, options: { name: `sp_${code}_hi` }, servesQuery: `${type}?${code}=gt|ge..., _sort=-${code}` },
    ];
  }
  return [{ collection: type, key: { [field.values(code)]: 1, _id: 1 }, options: { name: `sp_${code}` }, servesQuery: `${type}?${code}=...` }];
}

// At most one multi-valued (array) field per compound index: MongoDB refuses to index a
// document in which two fields of one index are both arrays ("parallel arrays"). So the
// patient+type+date shape leads with patient and the date, and checks the type on the index's rows.
export const COMPOUND_INDEXES: IndexDeclaration[] = [
  {
    collection: 'DocumentReference',
    key: { [field.values('patient')]: 1, [field.dateHigh('date')]: -1, _id: -1 },
    options: { name: 'sp_patient_date' },
    servesQuery: 'DocumentReference?patient=...[&type=...]&date=ge...&_sort=-date',
  },
];

/** The shared arrays of every value without a field of its own (layout.ts). */
function sharedIndexes(type: string): IndexDeclaration[] {
  if (WITHOUT_SHARED_INDEXES.includes(type)) return [];
  const query = (what: string) => `${type}?<any other parameter>${what}`;
  return [
    { collection: type, key: { [SHARED_STRINGS]: 1, _id: 1 }, options: { name: 'spx_value' }, servesQuery: query('=... (strings, tokens, references, uris; :exact, :text, :identifier, :missing)') },
    { collection: type, key: { [`${SHARED_NUMBERS}.c`]: 1, [`${SHARED_NUMBERS}.v`]: 1 }, options: { name: 'spn_value' }, servesQuery: query('=... (numbers, quantities)') },
    { collection: type, key: { [`${SHARED_DATES}.c`]: 1, [`${SHARED_DATES}.lo`]: 1, _id: 1 }, options: { name: 'spd_lo' }, servesQuery: query('=lt|le|eq... (dates)') },
    { collection: type, key: { [`${SHARED_DATES}.c`]: 1, [`${SHARED_DATES}.hi`]: -1, _id: -1 }, options: { name: 'spd_hi' }, servesQuery: query('=gt|ge... (dates)') },
  ];
}

/** Every search index of the types; custom SearchParameters add none (they use the shared ones). */
export function searchIndexes(registry: SearchRegistry, types: string[]): IndexDeclaration[] {
  const declared = types.flatMap((type) => [...registry.params(type).flatMap((param) => paramIndexes(type, param)), ...sharedIndexes(type)]);
  return [...declared, ...COMPOUND_INDEXES.filter((d) => types.includes(d.collection))];
}

/**
 * The declared index a search leads with: the one whose leading key fields are most covered by
 * the clauses' fields (then the sort). `_id_` when no clause has an index (a plain listing).
 */
export function chooseIndex(declared: IndexDeclaration[], type: string, clauses: Clause[], sort: SortSpec): IndexDeclaration | undefined {
  const leads = new Set(clauses.map((c) => leadField(c, type)).filter((f): f is string => f !== undefined).flatMap((f) => indexPaths(type, f)));
  let best: IndexDeclaration | undefined;
  let bestScore = 0;
  for (const declaration of declared) {
    if (declaration.collection !== type) continue;
    const keys = Object.keys(declaration.key);
    let score = 0;
    for (const key of keys) {
      if (leads.has(key)) score += 2;
      else if (key !== '_id' && sort.fields[0]?.path === key) score += 1;
      else break;
    }
    if (score > bestScore) {
      best = declaration;
      bestScore = score;
    }
  }
  return best;
}

/** Fields holding one value per document (date ends, sort keys, `_id`): an index over them can give an order. */
const isScalarPath = (path: string) => path === '_id' || /^sp\.[^.]+(\.lo|\.hi|__sort)$/.test(path);

/**
 * The order in which walking `index` meets the matches of `clauses`: its keys after those fixed
 * by one-value equalities, when all of them are scalar (a multi-valued field gives no order
 * across its values). Undefined when the index gives none.
 */
export function indexOrder(index: IndexDeclaration, clauses: Clause[]): SortSpec | undefined {
  const fixed = new Set(clauses.map(equalityField).filter((f): f is string => f !== undefined));
  const rest = Object.entries(index.key).filter(([path]) => !fixed.has(path));
  if (rest.length === 0 || !rest.every(([path]) => isScalarPath(path)) || rest[rest.length - 1][0] !== '_id') return undefined;
  return { fields: rest.map(([path, direction]) => ({ path, descending: direction === -1 })) };
}

/** The names search indexes are given here (dropped at start-up when no longer declared). */
export const isSearchIndexName = (name: string) => /^(sp|spx|spn|spd)_/.test(name);
