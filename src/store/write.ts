import { MongoServerError, type Db } from 'mongodb';
import type { Resource } from 'fhir/r4';
import { conflict, preconditionFailed } from '../outcome.js';
import type { ChangeCounters } from './change-counters.js';
import {
  HISTORY_COLLECTION,
  currentDocumentFrom,
  historyKey,
  storedVersionFrom,
  type CurrentDocument,
  type HistoryDocument,
  type IndexFieldsExtractor,
  type StoredVersion,
} from './documents.js';

/** What must hold before a write is applied. */
export type Precondition =
  | { kind: 'none' }
  /** If-Match: the current version must be this one. */
  | { kind: 'version'; versionId: number }
  /** Create: no version of the id may exist. */
  | { kind: 'absent' };

/** A write a service wants done: put this resource (or delete it) on this precondition. */
export interface PlannedWrite {
  type: string;
  id: string;
  method: HistoryDocument['method'];
  /** The new content; undefined for a delete. */
  resource?: Resource;
  precondition: Precondition;
}

/** The request's checks of a write, made before anything is written; each throws to refuse it. */
export interface WriteGuard {
  /**
   * What the request may know of the current document `found`: it, or null when the request may
   * not see it (the write then goes on as if there were none, so its answer does not tell).
   */
  existing(write: PlannedWrite, found: CurrentDocument | null): CurrentDocument | null;
  /** Checks the document the write would make current (a delete marker for a delete). */
  next(write: PlannedWrite, next: CurrentDocument): void;
}

export interface WriteOutcome {
  version: StoredVersion;
  /** True when this write made the first version of the id (or revived a deleted one, for PUT). */
  created: boolean;
  /** False when nothing was written (delete of a missing or already deleted resource). */
  changed: boolean;
}

const DUPLICATE_KEY = 11000;
const MAX_ATTEMPTS = 100;

const isDuplicateKey = (error: unknown) => error instanceof MongoServerError && error.code === DUPLICATE_KEY;

/**
 * The one write path. The commit point of a write is the insert of its history version: the
 * unique `_id` (Type/id/version) lets exactly one of two concurrent writers make version n+1.
 * The current document is then moved from n to n+1 on the condition that it is still at n.
 * A writer that finds version n+1 already taken helps move the current document forward first,
 * so a crashed or slow writer never blocks the others (and start-up recovery does the same).
 */
export class Writer {
  /**
   * `maxTimeMS` bounds the reads of a write. Its insert and replace have no limit: stopping a
   * write between its two steps would only leave the roll-forward to the next writer.
   */
  constructor(
    private readonly db: Db,
    private readonly extract: IndexFieldsExtractor,
    private readonly maxTimeMS: number,
    private readonly counters: ChangeCounters,
  ) {}

  async applyWrites(writes: PlannedWrite[], guard?: WriteGuard): Promise<WriteOutcome[]> {
    const outcomes: WriteOutcome[] = [];
    for (const write of writes) {
      const watched = this.counters.isWatched(write.type);
      if (watched) await this.counters.bump(write.type);
      outcomes.push(await this.applyWrite(write, guard));
      if (watched) await this.counters.bump(write.type);
    }
    return outcomes;
  }

  private async applyWrite(write: PlannedWrite, guard: WriteGuard | undefined): Promise<WriteOutcome> {
    const current = this.db.collection<CurrentDocument>(write.type);
    for (let attempt = 0; attempt < MAX_ATTEMPTS; attempt++) {
      const found = await current.findOne({ _id: write.id }, { maxTimeMS: this.maxTimeMS });
      const existing = guard ? guard.existing(write, found) : found;
      checkPrecondition(write, existing);
      if (write.method === 'DELETE' && (!existing || existing.deleted)) {
        return { version: versionOf(write, existing), created: false, changed: false };
      }
      const next = buildVersion(write, existing);
      const extracted = next.resource ? await this.extract(write.type, next.resource) : undefined;
      // A delete marker keeps the access fields of what it deletes, so it is filtered alike.
      const access = extracted?.access ?? { compartments: existing?.compartments ?? [], labels: existing?.labels ?? [] };
      next.compartments = access.compartments;
      next.labels = access.labels;
      const nextCurrent = currentDocumentFrom(next, extracted);
      guard?.next(write, nextCurrent);
      try {
        await this.db.collection<HistoryDocument>(HISTORY_COLLECTION).insertOne(next);
      } catch (error) {
        if (!isDuplicateKey(error)) throw error;
        // Someone else made this version first: bring the current document up to it, then retry.
        await this.rollForward(write.type, write.id, next.versionId);
        if (write.precondition.kind === 'version') {
          throw preconditionFailed(`${write.type}/${write.id} was changed by another request; read it again`);
        }
        if (write.precondition.kind === 'absent') {
          throw conflict(`${write.type}/${write.id} already exists`);
        }
        await pause(attempt);
        continue;
      }
      await this.moveCurrent(write.type, nextCurrent, existing?.versionId);
      return {
        version: storedVersionFrom(next),
        created: !existing || (existing.deleted && write.method !== 'DELETE'),
        changed: true,
      };
    }
    throw conflict(`${write.type}/${write.id} is being changed by too many requests at once; try again`);
  }

  /** Makes `doc` (a version's current document) current if the current one is still at version `from` (or absent). */
  private async moveCurrent(type: string, doc: CurrentDocument, from: number | undefined): Promise<void> {
    const current = this.db.collection<CurrentDocument>(type);
    if (from === undefined) {
      try {
        await current.insertOne(doc);
      } catch (error) {
        // A helper already inserted it from the same history version.
        if (!isDuplicateKey(error)) throw error;
      }
      return;
    }
    // Matching nothing means a helper moved it on already: the version is committed either way.
    await current.replaceOne({ _id: doc._id, versionId: from }, doc);
  }

  /**
   * Makes the current document reflect history version `versionId` of the resource if it is
   * still behind it (the writer of that version is slow or died between its two steps).
   */
  async rollForward(type: string, id: string, versionId: number): Promise<void> {
    const history = this.db.collection<HistoryDocument>(HISTORY_COLLECTION);
    const version = await history.findOne({ _id: historyKey(type, id, versionId) }, { maxTimeMS: this.maxTimeMS });
    if (!version) return;
    const extracted = version.resource && !version.deleted ? await this.extract(type, version.resource) : undefined;
    await this.moveCurrent(type, currentDocumentFrom(version, extracted), versionId > 1 ? versionId - 1 : undefined);
  }
}

function checkPrecondition(write: PlannedWrite, existing: CurrentDocument | null): void {
  const { precondition } = write;
  if (precondition.kind === 'version' && existing?.versionId !== precondition.versionId) {
    const actual = existing ? `version ${existing.versionId}` : 'no version';
    throw preconditionFailed(
      `If-Match asked for version ${precondition.versionId} of ${write.type}/${write.id}, but the server has ${actual}`,
    );
  }
  if (precondition.kind === 'absent' && existing) {
    throw conflict(`${write.type}/${write.id} already exists`);
  }
}

/** The history document of the next version of a write (version 1 when nothing exists). */
export function buildVersion(write: PlannedWrite, existing: CurrentDocument | null): HistoryDocument {
  const versionId = (existing?.versionId ?? 0) + 1;
  // Each version of a resource is strictly later than the one before, even if clocks disagree.
  const lastUpdated = new Date(Math.max(Date.now(), (existing?.lastUpdated.getTime() ?? 0) + 1));
  const doc: HistoryDocument = {
    _id: historyKey(write.type, write.id, versionId),
    type: write.type,
    id: write.id,
    versionId,
    lastUpdated,
    deleted: write.method === 'DELETE',
    method: write.method,
  };
  if (write.resource) {
    const { resourceType, id: _ignored, meta, ...rest } = write.resource;
    const stamped = { ...meta, versionId: String(versionId), lastUpdated: lastUpdated.toISOString() };
    doc.resource = { resourceType, id: write.id, meta: stamped, ...rest } as Resource;
  }
  return doc;
}

function versionOf(write: PlannedWrite, existing: CurrentDocument | null): StoredVersion {
  return {
    type: write.type,
    id: write.id,
    versionId: existing?.versionId ?? 0,
    lastUpdated: existing?.lastUpdated ?? new Date(0),
    deleted: true,
  };
}

/** Short randomised back-off so that many writers of one id do not retry in lock-step. */
function pause(attempt: number): Promise<void> {
  const ms = Math.min(50, 1 + attempt * 2) * Math.random();
  return new Promise((resolve) => setTimeout(resolve, ms));
}
