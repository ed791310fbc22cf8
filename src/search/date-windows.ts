import type { Document, Filter } from 'mongodb';
import { findDocuments, type QueryEnv } from './env.js';
import { afterPosition, type PagePosition } from './paging.js';
import type { SortSpec } from './plan.js';

/**
 * A page of a walk of a date index (`birthdate=ge1950&birthdate=lt1951`, in date order) read
 * window by window over the walked date end: `{end: [a, b)} AND filter`, windows growing until
 * the page is full. The same reason as id-windows.ts: SecantusDB reads every entry inside a
 * query's bounds before its limit, so a page of a year of birth dates cost the whole year. The
 * walk's own bounds (the filter's range on that end, both sides known from key-stats.ts) are
 * where the windows start and end.
 */
const FIRST_WINDOW_SHARE = 1 / 64;
const MAX_WINDOWS = 12;

export interface DateWalk {
  filter: Filter<Document>;
  /** The sort: the date end, then `_id`. */
  sort: SortSpec;
  mongoSort: [string, 1 | -1][];
  /** The fields rows are read with (undefined: whole documents). */
  projection?: Record<string, 1>;
  ascending: boolean;
  position?: PagePosition;
  reverse: boolean;
  limit: number;
  /** The filter's bounds on the date end. */
  low: Date;
  high: Date;
}

/** The filter's bounds on `path` (from its own conditions and those of its `$and`), when it has both ends. */
export function dateRangeOf(filter: Filter<Document>, path: string): { low: Date; high: Date } | undefined {
  const parts = [filter, ...(((filter as Record<string, unknown>).$and as Filter<Document>[] | undefined) ?? [])];
  let low: Date | undefined;
  let high: Date | undefined;
  for (const part of parts) {
    const condition = (part as Record<string, unknown>)[path] as Record<string, unknown> | undefined;
    if (!condition || typeof condition !== 'object') continue;
    const from = (condition.$gte ?? condition.$gt) as Date | undefined;
    const to = (condition.$lt ?? condition.$lte) as Date | undefined;
    if (from instanceof Date && (!low || from > low)) low = from;
    if (to instanceof Date && (!high || to < high)) high = to;
  }
  return low && high ? { low, high } : undefined;
}

export async function walkDateWindows(env: QueryEnv, type: string, walk: DateWalk): Promise<Document[]> {
  const { ascending, limit } = walk;
  const path = walk.sort.fields[0].path;
  const low = walk.low.getTime();
  const high = walk.high.getTime() + 1;
  const at = walk.position?.values[0];
  const start = at !== null && typeof at === 'object' && 'd' in at ? at.d : ascending ? low : high;
  let width = Math.max(1, (high - low) * FIRST_WINDOW_SHARE);
  let edge = start;
  const rows: Document[] = [];
  for (let window = 0; window < MAX_WINDOWS && rows.length < limit; window++) {
    const far = ascending ? edge + width : edge - width;
    const last = ascending ? far >= high : far <= low;
    // The near side: from the position's date (the first window), or just past the last window.
    const near = ascending ? { $gte: new Date(edge) } : { $lt: new Date(edge + (window === 0 ? 1 : 0)) };
    const farSide = last ? {} : ascending ? { $lt: new Date(far) } : { $gte: new Date(far) };
    const range: Filter<Document> = { [path]: { ...near, ...farSide } };
    const parts: Filter<Document>[] = [range, { $or: [walk.filter] }];
    // The first window holds the position itself: rows at its date up to its id were on earlier pages.
    if (window === 0 && walk.position) parts.push(afterPosition(walk.sort, walk.position.values.slice(0, walk.sort.fields.length), walk.reverse));
    const batch = await findDocuments(env, type, { $and: parts }, { sort: walk.mongoSort, limit: limit - rows.length, projection: walk.projection });
    rows.push(...batch);
    if (last) break;
    const needed = limit - rows.length;
    width *= batch.length === 0 ? 8 : Math.min(16, Math.max(2, (1.5 * needed) / batch.length));
    edge = far;
  }
  return rows;
}
