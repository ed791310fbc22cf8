import { createHash } from 'node:crypto';
import type { Document, Filter } from 'mongodb';
import type { SearchQuery } from './ast.js';
import { resolveChains } from './chain.js';
import { countDocuments, eachQuery, findDocuments, isTimeLimitReached, type SearchEnv } from './env.js';
import { dateRangeOf, walkDateWindows } from './date-windows.js';
import { walkIdWindows } from './id-windows.js';
import { chooseIndex, indexOrder } from './indexes.js';
import { NOTHING, afterPosition, decodePosition, fromScalar, mongoSort, positionOf, valueAt, type PagePosition } from './paging.js';
import { allOf, planFilter, planSort, type PlannedFilter, type SortSpec } from './plan.js';
import { badRequest } from '../outcome.js';

export interface MatchPage {
  /** Current documents (with `resource`) of this page, in order. */
  rows: Document[];
  total?: number;
  next?: PagePosition;
  previous?: PagePosition;
  /** Name of the declared index each type's query leads with. */
  indexes: Record<string, string>;
}

/** A date index's key: one end of a parameter's stored date range. */
const isDateEnd = (path: string) => /^sp\.[^.]+\.(lo|hi)$/.test(path);

/** Ties between types (system-level search) are broken by type name, then id. */
const TYPE_FIELD = '__type';

/**
 * What the probe found lately for each query shape (per instance: a hint for the next page, never
 * a result): whether it stopped the plain page query, and then the window share (per row of the
 * page) the shape's last windowed page ended with.
 */
const verdicts = new Map<string, { at: number; stopped: boolean; share?: number }>();
const PROBE_MEMORY_MS = 10_000;
/** The probe running for a shape without a verdict: the pages arriving meanwhile wait for it instead of probing too. */
const probing = new Map<string, Promise<unknown>>();
/**
 * A probe that answered only after this long counts as stopped: the embedded engine does not
 * always stop a query at `maxTimeMS` (a page read from cold data took 3 s under a 5 ms limit).
 * Far above the limit on purpose: under load a probe's time includes its wait for a connection
 * and for the engine, and a selective shape judged slow would be read in windows (a hundred
 * times its cost).
 */
const PROBE_OVERRUN_MS = 1000;

function remember(shape: string, stopped: boolean, share?: number): void {
  if (verdicts.size > 1000) verdicts.clear();
  verdicts.set(shape, { at: performance.now(), stopped, share });
}

function verdictOf(shape: string) {
  const verdict = verdicts.get(shape);
  return verdict && performance.now() - verdict.at < PROBE_MEMORY_MS ? verdict : undefined;
}

interface TypePlan {
  type: string;
  planned: PlannedFilter;
  sort: SortSpec;
  /** Set when the page may be read in `_id` windows (id-windows.ts); `shape` names the query without its values. */
  windows?: { minId: string; maxId: string; shape: string };
  /** Set when the page is a walk of a date index read in date windows (date-windows.ts). */
  dateWindows?: { low: Date; high: Date };
  /** The fields a page's rows are read with; undefined: whole documents. */
  projection?: Record<string, 1>;
}

/**
 * What a page's rows are read with: the resource and what paging, the post-filters and the audit
 * (compartments) read from a row — not the stored search values, about half of a document, which
 * the engine would send and the driver decode for nothing. Whole documents when an `_include`
 * starts from this type: it reads their reference values.
 */
function rowProjection(type: string, query: SearchQuery, sort: SortSpec, planned: PlannedFilter): Record<string, 1> | undefined {
  if (query.include.some((spec) => spec.sourceType === type || spec.sourceType === '*')) return undefined;
  const fields = ['resource', 'versionId', 'lastUpdated', 'deleted', 'compartments', 'labels', ...sort.fields.map((f) => f.path), ...planned.postFields];
  return Object.fromEntries(fields.map((f) => [f, 1]));
}


/** A fingerprint of the query a paging token belongs to (the parameters, without _cursor). */
export function queryFingerprint(query: SearchQuery, extra: string): string {
  const parts = JSON.stringify([query.types, query.clauses, query.sort, extra], (_k, v) => (v && v.evaluate ? v.code : v));
  return createHash('sha256').update(parts).digest('base64url').slice(0, 16);
}

function compareValues(a: unknown, b: unknown): number {
  const norm = (v: unknown) => (v instanceof Date ? v.getTime() : v ?? null);
  const x = norm(a);
  const y = norm(b);
  if (x === y) return 0;
  if (x === null) return -1;
  if (y === null) return 1;
  return (x as number | string) < (y as number | string) ? -1 : 1;
}

function compareRows(sort: SortSpec, a: Document, b: Document): number {
  const fields = sort.fields;
  for (const [i, f] of fields.entries()) {
    if (i === fields.length - 1) {
      const byType = compareValues(a[TYPE_FIELD], b[TYPE_FIELD]);
      if (byType !== 0) return f.descending ? -byType : byType;
    }
    const c = compareValues(valueAt(a, f.path), valueAt(b, f.path));
    if (c !== 0) return f.descending ? -c : c;
  }
  return 0;
}

/**
 * The "after" condition for one type when the position may belong to another type: equal sort
 * values come after the position when this type sorts after the position's type.
 */
function afterForType(sort: SortSpec, position: PagePosition, type: string, reverse: boolean): Filter<Document> {
  const values = position.values.slice(0, sort.fields.length);
  const positionType = position.values[sort.fields.length] as string;
  if (positionType === type || positionType === undefined) return afterPosition(sort, values, reverse);
  const withoutId: SortSpec = { fields: sort.fields.slice(0, -1) };
  const idDescending = sort.fields[sort.fields.length - 1].descending;
  const typeAfter = (type > positionType) !== (idDescending !== reverse);
  const strict = withoutId.fields.length > 0 ? afterPosition(withoutId, values, reverse) : undefined;
  if (!typeAfter) return strict ?? NOTHING;
  const equalAll = allOf(withoutId.fields.map((f, i) => ({ [f.path]: fromScalar(values[i]) ?? null })));
  return strict ? { $or: [strict, equalAll] } : equalAll;
}

async function fetchType(env: SearchEnv, plan: TypePlan, position: PagePosition | undefined, reverse: boolean, limit: number): Promise<Document[]> {
  const { planned, sort, type } = plan;
  if (plan.dateWindows) {
    // No probe first: SecantusDB does not stop this plan at its time limit (it checks the limit
    // while it scans, not while it reads the bounds' entries), so a probe would cost the whole read.
    const ascending = sort.fields[0].descending === reverse;
    const rows = await walkDateWindows(env, type, { filter: planned.filter, sort, mongoSort: mongoSort(sort, reverse), ascending, position, reverse, limit, projection: plan.projection, ...plan.dateWindows });
    for (const doc of rows) doc[TYPE_FIELD] = type;
    return rows;
  }
  if (plan.windows) {
    // A selective query answers within the probe's time; one that reads many entries for its page
    // is stopped there and read in windows instead (id-windows.ts). A shape stopped recently
    // skips the probe: it would be stopped again. The pages of a shape without a verdict wait
    // for the probe already running: sixteen slow first probes at once held the whole engine.
    const { shape, ...bounds } = plan.windows;
    let verdict = verdictOf(shape);
    if (!verdict && probing.has(shape)) {
      await probing.get(shape)!.catch(() => undefined);
      verdict = verdictOf(shape);
    }
    if (env.idWindowProbeMs > 0 && !verdict?.stopped) {
      const started = performance.now();
      const probe = readPage(env, plan, position, reverse, limit, env.idWindowProbeMs);
      if (!verdict && !probing.has(shape)) probing.set(shape, probe);
      try {
        const rows = await probe;
        remember(shape, performance.now() - started > Math.max(PROBE_OVERRUN_MS, env.idWindowProbeMs));
        return rows;
      } catch (error) {
        if (!isTimeLimitReached(error)) throw error;
        remember(shape, true);
      } finally {
        if (probing.get(shape) === probe) probing.delete(shape);
      }
    }
    const ascending = sort.fields[0].descending === reverse;
    const after = position ? String(position.values[0]) : undefined;
    // The share is remembered per row of the page, so a page of another size scales it.
    const first = verdict?.share === undefined ? undefined : verdict.share * limit;
    const { rows, share } = await walkIdWindows(env, type, { filter: planned.filter, sort: mongoSort(sort, reverse), ascending, after, limit, projection: plan.projection, ...bounds, share: first });
    remember(shape, true, share / limit);
    for (const doc of rows) doc[TYPE_FIELD] = type;
    return rows;
  }
  return readPage(env, plan, position, reverse, limit);
}

async function readPage(env: SearchEnv, plan: TypePlan, position: PagePosition | undefined, reverse: boolean, limit: number, maxTimeMS?: number): Promise<Document[]> {
  const { planned, sort, type } = plan;
  const filter = position ? allOf([planned.filter, afterForType(sort, position, type, reverse)]) : planned.filter;
  const rows: Document[] = [];
  let after = filter;
  // Rows the filter cannot judge exactly are checked here; keep reading until the page is full.
  for (let round = 0; round < 20 && rows.length < limit; round++) {
    const batch = await findDocuments(env, type, after, { sort: mongoSort(sort, reverse), limit: limit - rows.length, projection: plan.projection, ...(maxTimeMS ? { maxTimeMS } : {}) });
    for (const doc of batch) {
      doc[TYPE_FIELD] = type;
      if (planned.postFilters.every((check) => check(doc))) rows.push(doc);
    }
    if (batch.length < limit - rows.length || planned.postFilters.length === 0 || batch.length === 0) break;
    const last = positionOf(batch[batch.length - 1], sort, 'next', '');
    after = allOf([filter, afterPosition(sort, last.values, reverse)]);
  }
  return rows;
}

async function countType(env: SearchEnv, plan: TypePlan, cap: number | undefined): Promise<number> {
  // The page query's filter (without the paging position), so the count can walk the same index.
  if (plan.planned.postFilters.length === 0) return countDocuments(env, plan.type, plan.planned.filter, cap);
  const projection = Object.fromEntries(plan.planned.postFields.map((f) => [f, 1]));
  const docs = await findDocuments(env, plan.type, plan.planned.filter, { projection, ...(cap ? { limit: cap } : {}) });
  return docs.filter((doc) => plan.planned.postFilters.every((check) => check(doc))).length;
}

/** `_total=estimate`: counted up to this many; beyond it the total is left out (counting is a scan of the matches). */
export const ESTIMATE_TOTAL_CAP = 10_000;

/**
 * How a search's total is found: counted exactly (`_total=accurate`, `_summary=count`,
 * `_count=0`), counted up to a cap (`_total=estimate`), or, by default, given only when it is
 * known without counting: the first page holds every match.
 */
function countMode(query: SearchQuery): 'exact' | 'capped' | 'free' | 'none' {
  if (query.summary === 'count' || query.total === 'accurate' || query.count === 0) return 'exact';
  if (query.total === 'estimate') return 'capped';
  return query.total === 'none' ? 'none' : 'free';
}

/**
 * Runs a parsed search on its types: chains first, then one indexed, keyset-paged query per
 * type (merged in order for system-level search), then the total the client asked for.
 */
export async function findMatches(
  env: SearchEnv,
  query: SearchQuery,
  options: { extraFilter?: (type: string) => Filter<Document> | undefined; fingerprint: string; countOnly?: boolean },
): Promise<MatchPage> {
  const position = query.cursor === undefined ? undefined : decodePosition(query.cursor);
  if (position && position.query !== options.fingerprint) {
    throw badRequest('The paging token belongs to another search: follow the links of the Bundle', 'invalid', ['_cursor']);
  }
  const plans: TypePlan[] = [];
  const indexes: Record<string, string> = {};
  for (const type of query.types) {
    const extra = options.extraFilter?.(type);
    const access = env.access(type);
    const restriction = extra && access ? allOf([extra, access]) : (extra ?? access);
    const clauses = await resolveChains(env, type, query.clauses, restriction);
    const requested = planSort(env.registry, type, query.sort);
    const index = chooseIndex(env.declared, type, clauses, requested);
    const lead = index ? Object.keys(index.key)[0] : undefined;
    // A walk of a date index gets its other end bounded too (key-stats.ts); read fresh, since a
    // span wider than any known would otherwise exclude its document. Nowhere else: a second
    // range beside another index's walk makes SecantusDB abandon that walk (69 s instead of 24 ms
    // for patient+type+date at 300,000 documents).
    const walksDates = lead !== undefined && isDateEnd(lead);
    const spans = walksDates ? ((await env.timer.time(() => env.keyStats.read(type)))?.spans ?? {}) : undefined;
    const planned = planFilter(type, clauses, restriction, spans);
    // FHIR fixes no order without _sort: then the order is the walked index's, so a page costs a page.
    const sort = (query.sort.length === 0 && index && indexOrder(index, clauses)) || requested;
    indexes[type] = index?.options?.name ?? '_id_';
    const windowed = query.types.length === 1 && sort.fields.length === 1 && sort.fields[0].path === '_id' && planned.postFilters.length === 0;
    const bounds = windowed ? await env.timer.time(() => env.keyStats.bounds(type)) : undefined;
    const shape = `${type}?${clauses.map((c) => ('param' in c ? `${c.kind}:${c.param.code}` : c.kind)).join('&')} ${index?.options?.name ?? ''}`;
    const windows = bounds?.minId !== undefined && bounds.maxId !== undefined ? { minId: bounds.minId, maxId: bounds.maxId, shape } : undefined;
    // Date windows only where the walk is that date index: beside a selective walk (patient=…) they would read past it.
    const datePath = walksDates && sort.fields.length === 2 && sort.fields[0].path === lead && sort.fields[1].path === '_id' ? lead : undefined;
    const dateWindows = datePath && query.types.length === 1 && planned.postFilters.length === 0 ? dateRangeOf(planned.filter, datePath) : undefined;
    plans.push({ type, planned, sort, windows, dateWindows, projection: rowProjection(type, query, sort, planned) });
  }

  const page: MatchPage = { rows: [], indexes };
  const mode = countMode(query);
  if (mode === 'exact' || mode === 'capped') {
    const cap = mode === 'capped' ? ESTIMATE_TOTAL_CAP : undefined;
    const counts = await eachQuery(env, plans, (plan) => countType(env, plan, cap));
    const total = counts.reduce((a, b) => a + b, 0);
    if (cap === undefined || total < cap) page.total = total;
  }
  if (options.countOnly || query.count === 0) return page;

  const reverse = position?.direction === 'previous';
  const perType = await eachQuery(env, plans, (plan) => fetchType(env, plan, position, reverse, query.count + 1));
  const sortForMerge = plans[0].sort;
  const merged = perType.flat().sort((a, b) => (reverse ? -1 : 1) * compareRows(sortForMerge, a, b));
  const more = merged.length > query.count;
  const rows = merged.slice(0, query.count);
  if (reverse) rows.reverse();
  page.rows = rows;
  if (mode === 'free' && !position && !more) page.total = rows.length;
  const at = (doc: Document, direction: PagePosition['direction']) => {
    const p = positionOf(doc, plans.find((pl) => pl.type === doc[TYPE_FIELD])!.sort, direction, options.fingerprint);
    p.values.push(doc[TYPE_FIELD]);
    return p;
  };
  const hasNext = reverse ? true : more;
  const hasPrevious = reverse ? more : position !== undefined;
  if (hasNext && rows.length > 0) page.next = at(rows[rows.length - 1], 'next');
  if (hasPrevious && rows.length > 0) page.previous = at(rows[0], 'previous');
  return page;
}
