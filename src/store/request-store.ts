import type { Resource } from 'fhir/r4';
import type { ClientSession, Db, Document, Filter } from 'mongodb';
import { resourceTypeEntry } from '../fhir/resource-types.js';
import { documentMatches, filterFields } from './document-filter.js';
import { badRequest, forbidden } from '../outcome.js';
import { HISTORY_COLLECTION, historyKey, storedVersionFrom, type CurrentDocument, type HistoryDocument, type StoredVersion } from './documents.js';
import { countHistory, readHistoryPage, type HistoryPage, type HistoryQuery } from './history.js';
import type { StoreTransaction } from './transaction.js';
import type { PlannedWrite, WriteGuard, WriteOutcome, Writer } from './write.js';

/** Documents taken by conditional writes in a transaction (see `lockCondition`). */
export const CONDITION_LOCKS = 'condition_locks';

type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

/** What a read returns of a current document, and of a history one. */
const CURRENT_FIELDS = ['_id', 'versionId', 'lastUpdated', 'deleted', 'resource', 'compartments', 'labels'];
const HISTORY_FIELDS = [...CURRENT_FIELDS, 'type', 'id', 'method'];

const isAppendOnly = (type: string) => resourceTypeEntry(type)?.appendOnly === true;

/** What the store needs of a request's authorization (src/security/access.ts compiles it). */
export interface RequestAccess {
  /** Throws 403 unless the request may do `interaction` on `type`. */
  require(type: string, interaction: Interaction): void;
  grants(type: string, interaction: Interaction): boolean;
  /** ANDed into every read of current documents of `type` (undefined: everything). */
  filter(type: string, interaction: Interaction): Filter<Document> | undefined;
  /** ANDed into every read of history documents of `type`. */
  historyFilter(type: string, interaction: Interaction): Filter<Document> | undefined;
  /** The resource as the caller may see it (a patient app's AuditEvents name no other patient). */
  disclose<T extends Resource>(resource: T, interaction: 'r' | 's'): T;
  /** Throws 403 when a search of `types` would tell the caller what it may not see. */
  checkSearch(types: readonly string[], entries: readonly [string, string][]): void;
  guard: WriteGuard;
}

/** `filter` AND `access`: merged into one object when they share no field (a simpler query for the planner). */
const withAccess = (filter: Document, access: Filter<Document> | undefined): Filter<Document> => {
  if (!access) return filter;
  const apart = Object.keys(access).every((key) => !key.startsWith('$') && !(key in filter));
  return apart ? { ...filter, ...access } : { $and: [filter, access] };
};

/**
 * The store as one request sees it: every read ANDs the request's access filter (so what the
 * caller may not see answers as if it did not exist) and every write passes its guard.
 */
export class RequestStore {
  constructor(
    /** For the search engine (src/search), which ANDs `access.filter(type, 's')` into each of its queries. */
    readonly db: Db,
    private readonly writer: Writer,
    private readonly maxTimeMS: number,
    readonly access: RequestAccess,
    /** The request's open transaction: every read and write below runs in its session. */
    readonly transaction?: StoreTransaction,
  ) {}

  /** The session of the request's transaction, for the search engine's reads (undefined: none). */
  get session(): ClientSession | undefined {
    return this.transaction?.session;
  }

  /**
   * One document by `_id`, if the access filter admits it. The filter is applied in memory, not
   * in the query: a query on `_id` alone takes the engine's fast path, while any other is planned
   * (on the embedded engine that doubled a read's CPU there). The fields the filter looks at are
   * read along.
   */
  private async findVisible(collection: string, id: string, access: Document | undefined, fields: readonly string[]): Promise<Document | null> {
    const projection: Document = Object.fromEntries(fields.map((f) => [f, 1]));
    if (access) for (const field of filterFields(access)) projection[field] = 1;
    const doc = await this.db.collection<{ _id: string }>(collection).findOne({ _id: id }, { projection, maxTimeMS: this.maxTimeMS, session: this.session });
    return doc && (!access || documentMatches(access, doc)) ? doc : null;
  }

  /** The current version, or undefined when never written or not visible. Deleted ones come with deleted=true. */
  async readCurrent(type: string, id: string): Promise<StoredVersion | undefined> {
    this.access.require(type, 'r');
    const doc = await this.findVisible(type, id, this.access.filter(type, 'r'), CURRENT_FIELDS);
    if (!doc) return undefined;
    const { versionId, lastUpdated, deleted, resource, compartments, labels } = doc as unknown as CurrentDocument;
    return { type, id, versionId, lastUpdated, deleted, resource: resource && this.access.disclose(resource, 'r'), compartments, labels };
  }

  async readVersion(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    // An append-only resource's one version is its current document (store/append.ts).
    if (isAppendOnly(type)) return versionId === 1 ? this.readCurrent(type, id) : (this.access.require(type, 'r'), undefined);
    this.access.require(type, 'r');
    const doc = await this.findVisible(HISTORY_COLLECTION, historyKey(type, id, versionId), this.access.historyFilter(type, 'r'), HISTORY_FIELDS);
    return doc ? storedVersionFrom(doc as HistoryDocument) : undefined;
  }

  /** Instance, type or system history of what the request may read (`types`: the stored types, for system history). */
  async history(query: HistoryQuery, types: string[]): Promise<HistoryPage & { total: number }> {
    if (query.type && isAppendOnly(query.type)) return this.appendOnlyHistory(query);
    const filter = this.historyAccess(query.type ? [query.type] : types);
    // A session takes one command at a time: in a transaction, one after the other.
    const [page, total] = this.session
      ? [await readHistoryPage(this.db, query, filter, this.maxTimeMS, this.session), await countHistory(this.db, query, filter, this.maxTimeMS, this.session)]
      : await Promise.all([readHistoryPage(this.db, query, filter, this.maxTimeMS), countHistory(this.db, query, filter, this.maxTimeMS)]);
    return { ...page, total };
  }

  private historyAccess(types: string[]): Filter<Document> | undefined {
    const readable = types.filter((t) => this.access.grants(t, 'r'));
    if (readable.length === 0) {
      if (types.length === 1) this.access.require(types[0], 'r');
      throw forbidden('The access token has no scope to read any resource type');
    }
    const filters = readable.map((t) => this.access.historyFilter(t, 'r'));
    if (readable.length === types.length && filters.every((f) => f === undefined)) return undefined;
    // The same rule for every type (a patient compartment, labels): one clause, not one per type.
    const same = filters.every((f) => JSON.stringify(f) === JSON.stringify(filters[0]));
    if (same) return withAccess(readable.length === types.length ? {} : { type: { $in: readable } }, filters[0]);
    return { $or: readable.map((t, i) => withAccess({ type: t }, filters[i])) };
  }

  /** The history of an append-only resource is its one version; the type keeps none of its own. */
  private async appendOnlyHistory(query: HistoryQuery): Promise<HistoryPage & { total: number }> {
    if (!query.id) {
      throw badRequest(`${query.type} resources are written once and never changed, so the server keeps no ${query.type}/_history: search ${query.type}?date=... instead`, 'not-supported');
    }
    const version = query.position ? undefined : await this.readCurrent(query.type!, query.id);
    const inBounds = version && (!query.since || version.lastUpdated >= query.since) && (!query.until || version.lastUpdated <= query.until);
    if (!version || !inBounds) return { entries: [], hasOlder: false, hasNewer: false, total: 0 };
    const entry: HistoryDocument = { ...version, _id: historyKey(version.type, version.id, 1), method: 'POST' };
    return { entries: [entry], hasOlder: false, hasNewer: false, total: 1 };
  }

  /**
   * Applies planned writes through the one write path, each checked by the request's guard:
   * in the request's transaction when it has one (visible at its commit), else each on its own.
   * A transaction writes a resource at most once (two entries of a bundle naming it are refused).
   */
  async applyWrites(writes: PlannedWrite[]): Promise<WriteOutcome[]> {
    const tx = this.transaction;
    if (!tx) return this.writer.applyWrites(writes, this.access.guard);
    for (const write of writes) {
      const key = `${write.type}/${write.id}`;
      if (tx.written.has(key)) throw badRequest(`${key} is written by more than one entry of the transaction`, 'business-rule');
      tx.written.add(key);
    }
    return this.writer.applyWrites(writes, this.access.guard, { session: tx.session });
  }

  /**
   * Serialises conditional writes that share a condition (the same type and search): a
   * transaction that searched for the condition's matches takes the condition's document, so
   * two transactions acting on one condition conflict and one is retried, and then sees what
   * the other created. Without a transaction there is nothing to take.
   */
  async lockCondition(key: string): Promise<void> {
    if (!this.transaction) return;
    await this.db
      .collection<{ _id: string; n: number }>(CONDITION_LOCKS)
      .updateOne({ _id: key }, { $inc: { n: 1 } }, { upsert: true, session: this.transaction.session });
  }
}
