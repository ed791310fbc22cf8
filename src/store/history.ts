import type { ClientSession, Db, Document, Filter } from 'mongodb';
import type { IndexDeclaration } from '../db/indexes.js';
import { HISTORY_COLLECTION, type HistoryDocument } from './documents.js';

export const HISTORY_INDEXES: IndexDeclaration[] = [
  {
    collection: HISTORY_COLLECTION,
    key: { type: 1, id: 1, lastUpdated: -1, _id: -1 },
    options: { name: 'instance_history' },
    servesQuery: 'GET [type]/[id]/_history (newest first, keyset paging)',
  },
  {
    collection: HISTORY_COLLECTION,
    key: { type: 1, lastUpdated: -1, _id: -1 },
    options: { name: 'type_history' },
    servesQuery: 'GET [type]/_history',
  },
  {
    collection: HISTORY_COLLECTION,
    key: { lastUpdated: -1, _id: -1 },
    options: { name: 'system_history' },
    servesQuery: 'GET /_history; start-up recovery of recent writes',
  },
  {
    collection: HISTORY_COLLECTION,
    key: { compartments: 1, lastUpdated: -1, _id: -1 },
    options: { name: 'compartment_history' },
    servesQuery: 'history under a patient/ scope (the patient compartment, newest first)',
  },
];

/** Where a page starts: just past the entry (lastUpdated, key), going older (next) or newer (previous). */
export interface HistoryPosition {
  direction: 'next' | 'previous';
  lastUpdated: number;
  key: string;
}

export interface HistoryQuery {
  type?: string;
  id?: string;
  /** Only versions made at or after this instant. */
  since?: Date;
  /** Only versions made at or before this instant (the `_at` bound and the paging snapshot). */
  until?: Date;
  count: number;
  position?: HistoryPosition;
}

export interface HistoryPage {
  /** Newest first. */
  entries: HistoryDocument[];
  /** True when older entries exist beyond this page. */
  hasOlder: boolean;
  /** True when newer entries (within the query's bounds) exist before this page. */
  hasNewer: boolean;
}

function baseFilter(query: HistoryQuery, access: Filter<Document> | undefined): Filter<HistoryDocument> {
  const filter: Filter<HistoryDocument> = access ? { $and: [access as Filter<HistoryDocument>] } : {};
  if (query.type) filter.type = query.type;
  if (query.id) filter.id = query.id;
  const range: { $gte?: Date; $lte?: Date } = {};
  if (query.since) range.$gte = query.since;
  if (query.until) range.$lte = query.until;
  if (range.$gte || range.$lte) filter.lastUpdated = range;
  return filter;
}

function beyond(position: HistoryPosition, older: boolean): Filter<HistoryDocument> {
  const at = new Date(position.lastUpdated);
  const op = older ? '$lt' : '$gt';
  return { $or: [{ lastUpdated: { [op]: at } }, { lastUpdated: at, _id: { [op]: position.key } }] };
}

/** One page of history, by keyset (lastUpdated, _id): no skip, stable while writes arrive. */
export async function readHistoryPage(db: Db, query: HistoryQuery, access: Filter<Document> | undefined, maxTimeMS: number, session?: ClientSession): Promise<HistoryPage> {
  const history = db.collection<HistoryDocument>(HISTORY_COLLECTION);
  const base = baseFilter(query, access);
  const goingNewer = query.position?.direction === 'previous';
  const filter = query.position ? { $and: [base, beyond(query.position, !goingNewer)] } : base;
  const order = goingNewer ? 1 : -1;
  const found = await history
    .find(filter, { sort: { lastUpdated: order, _id: order }, limit: query.count + 1, maxTimeMS, session })
    .toArray();
  const more = found.length > query.count;
  const entries = found.slice(0, query.count);
  if (goingNewer) entries.reverse();
  return {
    entries,
    hasOlder: goingNewer ? true : more,
    hasNewer: goingNewer ? more : query.position !== undefined,
  };
}

export async function countHistory(db: Db, query: HistoryQuery, access: Filter<Document> | undefined, maxTimeMS: number, session?: ClientSession): Promise<number> {
  return db.collection<HistoryDocument>(HISTORY_COLLECTION).countDocuments(baseFilter(query, access), { maxTimeMS, session });
}
