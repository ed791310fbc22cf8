import type { Document, Filter } from 'mongodb';
import { countDocuments, findDocuments, type QueryEnv } from './env.js';

/**
 * A page in `_id` order read window by window: `{_id: [a, b)} AND filter`, windows growing until
 * the page is full. Why: SecantusDB (the embedded engine) reads every index entry inside a
 * query's bounds before it applies the limit, so `status=current` sorted by `_id` costs every
 * current document for a page of 20; a window bounds that to the window. Where the filter is
 * selective (few matches per window), walking windows would cost more than the filter's own
 * index, so after the first windows the walk measures the share of matches and, below
 * √(page / size) (the size estimated from the windows' own counts), finishes with one plain
 * query. MongoDB serves either form from an index.
 *
 * Windows are cut in an order-preserving numeric image of ids (their place): FHIR ids use 64
 * characters, each read as a base-65 digit (0 = end of the id), over 8 characters.
 */
const ALPHABET = '-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
const BASE = ALPHABET.length + 1;
const DIGITS = 8;
/** Places are whole numbers below BASE^DIGITS (about 3.2e14: exact in a double). */
const PLACES = BASE ** DIGITS;
const MAX_WINDOWS = 12;

/**
 * The id's place among ids that start with `prefix` (the common start of a type's ids, so the
 * 8 characters read are the ones that vary): equal for ids that share their next 8 characters;
 * ids below every such id are 0, ids above them the last place.
 */
export function idPlace(id: string, prefix = ''): number {
  if (!id.startsWith(prefix)) return id < prefix ? 0 : PLACES - 1;
  let place = 0;
  for (let i = 0; i < DIGITS; i++) {
    const ch = id[prefix.length + i];
    place = place * BASE + (ch === undefined ? 0 : ALPHABET.indexOf(ch) + 1);
  }
  return place;
}

/** The shortest id string at `place`: ids whose place is below it sort before it, the rest from it. */
export function idAt(place: number, prefix = ''): string {
  const digits: number[] = [];
  let rest = Math.min(Math.max(Math.floor(place), 0), PLACES - 1);
  for (let i = 0; i < DIGITS; i++) {
    digits.unshift(rest % BASE);
    rest = Math.floor(rest / BASE);
  }
  const end = digits.indexOf(0);
  return prefix + (end === -1 ? digits : digits.slice(0, end)).map((d) => ALPHABET[d - 1]).join('');
}

function commonPrefix(a: string, b: string): string {
  let i = 0;
  while (i < a.length && i < b.length && a[i] === b[i]) i++;
  return a.slice(0, i);
}

export interface IdWalk {
  filter: Filter<Document>;
  sort: [string, 1 | -1][];
  /** The fields rows are read with (undefined: whole documents). */
  projection?: Record<string, 1>;
  ascending: boolean;
  /** Exclusive start (the paging position), or undefined for the first page. */
  after?: string;
  limit: number;
  minId: string;
  maxId: string;
  /** The first window's share of the ids' span (what the last page of this shape ended with). */
  share?: number;
}

/** The first window's share of the ids' span; later ones are sized from what the windows held. */
const FIRST_WINDOW_SHARE = 1 / 65536;

/** The rows of one page, in `_id` order, read by growing windows (see above). */
/**
 * The rows of one page, and the share of the ids' span its last window had (the next page of
 * the same shape can start there).
 */
export async function walkIdWindows(env: QueryEnv, type: string, walk: IdWalk): Promise<{ rows: Document[]; share: number }> {
  const { ascending, limit } = walk;
  const prefix = commonPrefix(walk.minId, walk.maxId);
  const low = idPlace(walk.minId, prefix);
  const high = idPlace(walk.maxId, prefix) + 1;
  let width = Math.max(1, (high - low) * (walk.share ?? FIRST_WINDOW_SHARE));
  const shareOf = () => width / Math.max(high - low, 1);
  let covered = 0;
  // The edge of the next window; the first starts at the position (exclusive) or the end of the ids.
  let edge: { id: string; inclusive: boolean } = walk.after !== undefined ? { id: walk.after, inclusive: false } : { id: ascending ? '' : '\uffff', inclusive: true };
  let place = walk.after !== undefined ? idPlace(walk.after, prefix) : ascending ? low : high;
  const rows: Document[] = [];
  let found = 0;
  let examined = 0;
  for (let window = 0; window < MAX_WINDOWS; window++) {
    place = ascending ? place + width : place - width;
    const last = ascending ? place >= high : place <= low;
    const far = last ? undefined : idAt(place, prefix);
    const bounds: Record<string, string> = { [ascending ? (edge.inclusive ? '$gte' : '$gt') : edge.inclusive ? '$lte' : '$lt']: edge.id };
    if (far !== undefined) bounds[ascending ? '$lt' : '$gte'] = far;
    const range = { _id: bounds };
    const batch = await findDocuments(env, type, { $and: [range, { $or: [walk.filter] }] }, { sort: walk.sort, limit: limit - rows.length, projection: walk.projection });
    rows.push(...batch);
    if (rows.length >= limit || far === undefined) return { rows, share: shareOf() };
    // Past this window: the next starts at its far edge.
    edge = { id: far, inclusive: ascending };
    found += batch.length;
    const held = await countDocuments(env, type, range);
    examined += held;
    covered += width;
    const share = found > 0 ? found / examined : 0.5 / Math.max(examined, 1);
    // The collection's size, as the windows seen so far suggest.
    const size = (examined * (high - low)) / covered;
    if (examined >= 4 * limit && share < Math.sqrt(limit / Math.max(size, 1))) break;
    // The next window: wide enough for the rows still missing at the density and share seen so
    // far (ids cluster, so at most 16 times wider), or 8 times wider after an empty one.
    const wanted = held === 0 ? width * 8 : (1.5 * (limit - rows.length) * width) / (held * share);
    width = Math.min(Math.max(wanted, width), width * 16);
  }
  const rest = { _id: { [ascending ? (edge.inclusive ? '$gte' : '$gt') : edge.inclusive ? '$lte' : '$lt']: edge.id } };
  rows.push(...(await findDocuments(env, type, { $and: [walk.filter, rest] }, { sort: walk.sort, limit: limit - rows.length, projection: walk.projection })));
  return { rows, share: shareOf() };
}
