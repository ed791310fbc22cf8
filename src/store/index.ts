import type { Db } from 'mongodb';
import type { Resource } from 'fhir/r4';
import type { IndexDeclaration } from '../db/indexes.js';
import {
  HISTORY_COLLECTION,
  historyKey,
  storedVersionFrom,
  type CurrentDocument,
  type HistoryDocument,
  type IndexFieldsExtractor,
  type StoredVersion,
} from './documents.js';
import { appendNew } from './append.js';
import { HISTORY_INDEXES, countHistory, readHistoryPage, type HistoryPage, type HistoryQuery } from './history.js';
import { recoverRecentWrites } from './recovery.js';
import { Writer, type PlannedWrite, type WriteOutcome } from './write.js';

export type { StoredVersion, HistoryDocument, CurrentDocument, IndexFieldsExtractor } from './documents.js';
export type { HistoryPage, HistoryQuery, HistoryPosition } from './history.js';
export type { PlannedWrite, Precondition, WriteOutcome } from './write.js';

/**
 * The resource repository: current versions, history, and the one write path. Every read it
 * makes for a request is bounded by `maxTimeMS` (DB_QUERY_TIMEOUT_MS).
 */
export class ResourceStore {
  private readonly writer: Writer;

  constructor(
    readonly db: Db,
    private readonly extract: IndexFieldsExtractor,
    private readonly maxTimeMS: number,
  ) {
    this.writer = new Writer(db, extract, maxTimeMS);
  }

  static readonly indexes: readonly IndexDeclaration[] = HISTORY_INDEXES;

  /** The current version, or undefined when the id was never written. Deleted ones are returned with deleted=true. */
  async readCurrent(type: string, id: string): Promise<StoredVersion | undefined> {
    const doc = await this.db
      .collection<CurrentDocument>(type)
      .findOne({ _id: id }, { projection: { _id: 1, versionId: 1, lastUpdated: 1, deleted: 1, resource: 1 }, maxTimeMS: this.maxTimeMS });
    if (!doc) return undefined;
    return { type, id, versionId: doc.versionId, lastUpdated: doc.lastUpdated, deleted: doc.deleted, resource: doc.resource };
  }

  async readVersion(type: string, id: string, versionId: number): Promise<StoredVersion | undefined> {
    const doc = await this.db
      .collection<HistoryDocument>(HISTORY_COLLECTION)
      .findOne({ _id: historyKey(type, id, versionId) }, { maxTimeMS: this.maxTimeMS });
    return doc ? storedVersionFrom(doc) : undefined;
  }

  applyWrites(writes: PlannedWrite[]): Promise<WriteOutcome[]> {
    return this.writer.applyWrites(writes);
  }

  /**
   * The audit trail's write: new AuditEvents, each stored as version 1 under a server-chosen id,
   * in one insert per collection (store/append.ts). They are never updated, so they skip the
   * versioned write path.
   */
  appendAuditEvents(resources: Resource[]): Promise<StoredVersion[]> {
    return appendNew(this.db, this.extract, 'AuditEvent', resources);
  }

  async history(query: HistoryQuery): Promise<HistoryPage & { total: number }> {
    const [page, total] = await Promise.all([
      readHistoryPage(this.db, query, this.maxTimeMS),
      countHistory(this.db, query, this.maxTimeMS),
    ]);
    return { ...page, total };
  }

  /** Start-up work, not a request's: its scan of recent history has no time limit. */
  recover(): Promise<number> {
    return recoverRecentWrites(this.db, this.writer);
  }
}
