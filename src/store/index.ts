import type { Resource } from 'fhir/r4';
import type { Db, Document } from 'mongodb';
import { appendNew } from './append.js';
import { ChangeCounters } from './change-counters.js';
import { FreshRead } from './fresh-read.js';
import type { IndexDeclaration } from '../db/indexes.js';
import { HISTORY_COLLECTION, currentDocumentFrom, type CurrentDocument, type IndexFieldsExtractor, type StoredVersion } from './documents.js';
import { HISTORY_INDEXES } from './history.js';
import { recoverRecentWrites } from './recovery.js';
import { CONDITION_LOCKS, RequestStore, type RequestAccess } from './request-store.js';
import { hasTransactions, runTransaction, type StoreTransaction, type TransactionOptions } from './transaction.js';
import { Writer } from './write.js';

export type { StoredVersion, HistoryDocument, CurrentDocument, IndexFieldsExtractor, AccessFields, ExtractedFields } from './documents.js';
export type { HistoryPage, HistoryQuery, HistoryPosition } from './history.js';
export type { PlannedWrite, Precondition, WriteOutcome, WriteGuard } from './write.js';
export { RefusedWrite, WriteRace } from './write.js';
export { documentMatches } from './document-filter.js';
export { transactionsUnavailable, type StoreTransaction, type TransactionOptions } from './transaction.js';
export type { RequestStore, RequestAccess } from './request-store.js';

/**
 * Where the caches every instance keeps of stored definitions (profiles, SearchParameters,
 * Consents) read them, and the counter that says when to read them again.
 */
export interface DefinitionSource {
  changeCount(type: string): Promise<number>;
  policyResources<T extends Resource>(type: string, filter: Document, limit: number): Promise<T[]>;
}

/** Every stored type's current documents can be filtered by compartment through this index. */
export function accessIndexes(types: string[]): IndexDeclaration[] {
  return types.map((type) => ({
    collection: type,
    key: { compartments: 1, _id: 1 },
    options: { name: 'access_compartments' },
    servesQuery: 'reads and searches under a patient/ scope (the patient compartment)',
  }));
}

/**
 * The resource repository: current versions, history, and the one write path. Requests see
 * it through `forRequest`, which applies their access to every read and write. Every read it
 * makes for a request is bounded by `maxTimeMS` (DB_QUERY_TIMEOUT_MS).
 */
export class ResourceStore implements DefinitionSource {
  private readonly writer: Writer;

  private readonly counters: ChangeCounters;

  /** `watched`: the types whose writes move a change counter (see change-counters.ts). */
  constructor(
    private readonly db: Db,
    private readonly extract: IndexFieldsExtractor,
    private readonly maxTimeMS: number,
    watched: readonly string[] = [],
  ) {
    this.counters = new ChangeCounters(db, new Set(watched));
    this.writer = new Writer(db, extract, maxTimeMS, this.counters);
  }

  private readonly counterReads = new Map<string, FreshRead<number>>();

  /**
   * The change counter of a watched type: it moves whenever a resource of the type is written,
   * on any instance. Concurrent callers share one read, each getting a value read after it asked.
   */
  changeCount(type: string): Promise<number> {
    let read = this.counterReads.get(type);
    if (!read) this.counterReads.set(type, (read = new FreshRead(() => this.counters.read(type, this.maxTimeMS))));
    return read.get();
  }

  /**
   * Current resources of `type` matching `filter`, for the server's own policy decisions (the
   * active Consents): not a request's read, so no access filter applies. At most `limit`.
   */
  async policyResources<T extends Resource>(type: string, filter: Document, limit: number): Promise<T[]> {
    const docs = await this.db
      .collection(type)
      .find({ $and: [{ deleted: false }, filter] }, { projection: { resource: 1 }, limit, maxTimeMS: this.maxTimeMS })
      .toArray();
    return docs.map((doc) => doc.resource as T);
  }

  static readonly indexes: readonly IndexDeclaration[] = HISTORY_INDEXES;

  /**
   * The store as seen by one request with this access (compiled from its token), inside the
   * request's transaction when it has one (`ctx.transaction`, opened by `transaction`).
   */
  forRequest(ctx: { access: RequestAccess; transaction?: StoreTransaction }): RequestStore {
    return new RequestStore(this.db, this.writer, this.maxTimeMS, ctx.access, ctx.transaction);
  }

  /**
   * Runs `work` in one MongoDB multi-document transaction: what it writes through
   * `forRequest({ ...ctx, transaction })` becomes visible at once at the commit, or not at all.
   * Write conflicts run all of `work` again, a bounded number of times (store/transaction.ts).
   */
  transaction<T>(options: TransactionOptions, work: (tx: StoreTransaction) => Promise<T>): Promise<T> {
    return runTransaction(this.db, this.writer, this.counters, options, work);
  }

  /** Whether the database has multi-document transactions (a replica set or mongos; not a standalone mongod). */
  supportsTransactions(): Promise<boolean> {
    return hasTransactions(this.db);
  }

  /** Finishes a write another writer left between its two steps (see Writer.rollForward). */
  rollForward(type: string, id: string, versionId: number): Promise<void> {
    return this.writer.rollForward(type, id, versionId);
  }

  /**
   * Creates the collections a transaction writes to: MongoDB before 4.4 cannot create a
   * collection inside a transaction, and creating one there conflicts with every concurrent
   * transaction that creates it too.
   */
  async prepareCollections(types: string[]): Promise<void> {
    const existing = new Set((await this.db.listCollections({}, { nameOnly: true }).toArray()).map((c) => c.name));
    for (const name of [...types, HISTORY_COLLECTION, CONDITION_LOCKS]) {
      if (!existing.has(name)) await this.db.createCollection(name).catch(() => {});
    }
  }

  /**
   * `$reindex`: extracts the search and access fields of every current resource of `type`
   * again (after a SearchParameter was added or changed). Each document is replaced only if
   * it is still the version read, so a concurrent write is never overwritten with stale values.
   */
  async reindex(type: string): Promise<number> {
    const collection = this.db.collection<CurrentDocument>(type);
    let done = 0;
    let batch: CurrentDocument[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await collection.bulkWrite(
        batch.map((doc) => ({ replaceOne: { filter: { _id: doc._id, versionId: doc.versionId }, replacement: doc } })),
        { ordered: false },
      );
      batch = [];
    };
    // No maxTimeMS: a cursor's limit covers all its batches, and this one walks the whole collection.
    const cursor = collection.find({ deleted: false }, { projection: { _id: 1, versionId: 1, lastUpdated: 1, resource: 1 } });
    for await (const doc of cursor) {
      const version = { ...doc, type, id: doc._id, deleted: false, method: 'PUT' as const, _id: `${type}/${doc._id}/${doc.versionId}` };
      const extracted = await this.extract(type, doc.resource!);
      batch.push(currentDocumentFrom({ ...version, ...extracted.access }, extracted));
      done++;
      if (batch.length >= 500) await flush();
    }
    await flush();
    return done;
  }

  /**
   * The audit trail's write: new AuditEvents, each stored once as version 1 under a
   * server-chosen id, in one insert (store/append.ts). Not a request's write: no access applies.
   */
  appendAuditEvents(resources: Resource[]): Promise<StoredVersion[]> {
    return appendNew(this.db, this.extract, 'AuditEvent', resources);
  }

  /** Start-up work, not a request's: its scan of recent history has no time limit. */
  async recover(): Promise<number> {
    await this.counters.bumpAll();
    return recoverRecentWrites(this.db, this.writer);
  }
}
