import { MongoServerError, type AnyBulkWriteOperation, type ClientSession, type Db } from 'mongodb';
import type { Resource } from 'fhir/r4';
import { FhirError, conflict, issue, preconditionFailed } from '../outcome.js';
import { faultPoint } from './fault-points.js';
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

/**
 * The request's check of a write, made before anything is written: `existing` is the current
 * document (null when none), `next` the document the write would make current (a delete
 * marker for a delete). It throws to refuse.
 */
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

const isDuplicateKey = (error: unknown) => error instanceof MongoServerError && error.code === DUPLICATE_KEY;

/**
 * A write that lost a race it may win when tried again: another writer made the version it
 * wanted first (the current document was moved up to it), or a transaction met a write of
 * another one. The Writer does not retry: its caller plans again (the state changed) and applies
 * again, a bounded number of times, and answers this 409 when it gives up.
 */
export class WriteRace extends FhirError {
  constructor(
    readonly type: string,
    readonly id: string,
    /** A version another writer committed in history but has not made current yet. */
    readonly unfinishedVersion?: number,
  ) {
    super(409, issue('error', 'conflict', `${type}/${id} is being changed by too many requests at once; try again`));
  }
}

/** A write refused by its precondition or the request's guard, naming the write (a bundle names its entry). */
export class RefusedWrite extends FhirError {
  constructor(
    readonly write: PlannedWrite,
    cause: FhirError,
  ) {
    super(cause.status, cause.issues, cause.headers);
  }
}

/** Options of one application of writes. */
export interface ApplyOptions {
  /** A session with an open transaction: the writes become visible with its commit, all or none. */
  session?: ClientSession;
}

/**
 * The one write path. The commit point of a single write is the insert of its history version:
 * the unique `_id` (Type/id/version) lets exactly one of two concurrent writers make version n+1.
 * The current document is then moved from n to n+1 on the condition that it is still at n.
 * A writer that finds version n+1 already taken helps move the current document forward first,
 * so a crashed or slow writer never blocks the others (and start-up recovery does the same).
 * Inside a transaction (a bundle, a conditional write) the same two documents are written in the
 * session, batched per collection, and the transaction's commit is the commit point of them all.
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

  /**
   * Applies the writes once, in order: no retry here (see WriteRace). Without a session each
   * write is committed on its own; with one, nothing is visible until the caller commits.
   */
  async applyWrites(writes: PlannedWrite[], guard?: WriteGuard, options: ApplyOptions = {}): Promise<WriteOutcome[]> {
    if (options.session) {
      // The counters are moved before (here) and after the commit (by the transaction's owner).
      for (const type of new Set(writes.map((w) => w.type))) await this.counters.bump(type);
      return this.applyInSession(writes, guard, options.session);
    }
    const outcomes: WriteOutcome[] = [];
    for (const write of writes) {
      const watched = this.counters.isWatched(write.type);
      if (watched) await this.counters.bump(write.type);
      outcomes.push(await this.applyWrite(write, guard));
      if (watched) await this.counters.bump(write.type);
    }
    return outcomes;
  }

  /**
   * The next version of a write, with its current document, checked by the guard; `existing` is
   * what of `found` the request may see (no `next`: nothing to write).
   */
  private async prepare(write: PlannedWrite, found: CurrentDocument | null, guard: WriteGuard | undefined) {
    const existing = guard ? guard.existing(write, found) : found;
    checkPrecondition(write, existing);
    if (write.method === 'DELETE' && (!existing || existing.deleted)) return { existing };
    const next = buildVersion(write, existing);
    const extracted = next.resource ? await this.extract(write.type, next.resource) : undefined;
    // A delete marker keeps the access fields of what it deletes, so it is filtered alike.
    const access = extracted?.access ?? { compartments: existing?.compartments ?? [], labels: existing?.labels ?? [] };
    next.compartments = access.compartments;
    next.labels = access.labels;
    const nextCurrent = currentDocumentFrom(next, extracted);
    guard?.next(write, nextCurrent);
    return { existing, next, nextCurrent };
  }

  private async applyWrite(write: PlannedWrite, guard: WriteGuard | undefined): Promise<WriteOutcome> {
    const current = this.db.collection<CurrentDocument>(write.type);
    // A create's random id meets nothing, but the read stays: on the embedded engine, reads by id
    // after 3,000 creates written without it ran at half the rate (692/s against 1,567/s).
    const found = await current.findOne({ _id: write.id }, { maxTimeMS: this.maxTimeMS });
    const { existing, next, nextCurrent } = await this.prepare(write, found, guard);
    if (!next) return { version: versionOf(write, existing), created: false, changed: false };
    try {
      await this.db.collection<HistoryDocument>(HISTORY_COLLECTION).insertOne(next);
    } catch (error) {
      if (!isDuplicateKey(error)) throw error;
      // Someone else made this version first: bring the current document up to it.
      await this.rollForward(write.type, write.id, next.versionId);
      if (write.precondition.kind === 'version') {
        throw preconditionFailed(`${write.type}/${write.id} was changed by another request; read it again`);
      }
      if (write.precondition.kind === 'absent') {
        throw conflict(`${write.type}/${write.id} already exists`);
      }
      throw new WriteRace(write.type, write.id);
    }
    await this.moveCurrent(write.type, nextCurrent, existing?.versionId);
    return outcomeOf(write, next, existing);
  }

  /**
   * The writes of a transaction: the current documents read in one query per type, the history
   * versions in one insert, the current documents in one bulk write per type, all in the session.
   * A resource written twice in the list gets two consecutive versions.
   */
  private async applyInSession(writes: PlannedWrite[], guard: WriteGuard | undefined, session: ClientSession): Promise<WriteOutcome[]> {
    const existing = new Map<string, CurrentDocument | null>();
    const key = (type: string, id: string) => `${type}/${id}`;
    // One operation at a time: a session does not take concurrent commands.
    for (const type of new Set(writes.map((w) => w.type))) {
      const ids = [...new Set(writes.filter((w) => w.type === type).map((w) => w.id))];
      const found = await this.db.collection<CurrentDocument>(type).find({ _id: { $in: ids } }, { session, maxTimeMS: this.maxTimeMS }).toArray();
      for (const id of ids) existing.set(key(type, id), found.find((d) => d._id === id) ?? null);
    }
    const outcomes: WriteOutcome[] = [];
    const versions: HistoryDocument[] = [];
    const moves = new Map<string, AnyBulkWriteOperation<CurrentDocument>[]>();
    for (const write of writes) {
      const before = existing.get(key(write.type, write.id)) ?? null;
      let prepared: Awaited<ReturnType<Writer['prepare']>>;
      try {
        prepared = await this.prepare(write, before, guard);
      } catch (error) {
        throw error instanceof FhirError && !(error instanceof WriteRace) ? new RefusedWrite(write, error) : error;
      }
      const { next, nextCurrent } = prepared;
      if (!next) {
        outcomes.push({ version: versionOf(write, prepared.existing), created: false, changed: false });
        continue;
      }
      versions.push(next);
      const ops = moves.get(write.type) ?? [];
      ops.push(before ? { replaceOne: { filter: { _id: write.id, versionId: before.versionId }, replacement: nextCurrent } } : { insertOne: { document: nextCurrent } });
      moves.set(write.type, ops);
      existing.set(key(write.type, write.id), nextCurrent);
      outcomes.push(outcomeOf(write, next, before));
    }
    if (versions.length === 0) return outcomes;
    try {
      await this.db.collection<HistoryDocument>(HISTORY_COLLECTION).insertMany(versions, { session, ordered: true });
      faultPoint('transaction-after-history');
      for (const [type, ops] of moves) {
        const result = await this.db.collection<CurrentDocument>(type).bulkWrite(ops, { session, ordered: true });
        const replaces = ops.filter((op) => 'replaceOne' in op).length;
        // The snapshot read every current document the replaces name: they cannot have moved on.
        if (result.matchedCount !== replaces) throw new WriteRace(type, 'unknown');
      }
    } catch (error) {
      // A single writer left a history version without its current document (it is slow or it
      // died): the transaction is aborted; the caller finishes that write and tries again.
      if (isDuplicateKey(error)) {
        const taken = /^([A-Za-z]+)\/([^/]+)\/(\d+)$/.exec(String((error as MongoServerError).keyValue?._id ?? ''));
        throw taken ? new WriteRace(taken[1], taken[2], Number(taken[3])) : new WriteRace('unknown', 'unknown');
      }
      throw error;
    }
    return outcomes;
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

function outcomeOf(write: PlannedWrite, next: HistoryDocument, existing: CurrentDocument | null): WriteOutcome {
  return {
    version: storedVersionFrom(next),
    created: !existing || (existing.deleted && write.method !== 'DELETE'),
    changed: true,
  };
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
