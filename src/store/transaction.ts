import { MongoError, MongoServerError, type ClientSession, type Db } from 'mongodb';
import { FhirError, conflict, issue } from '../outcome.js';
import type { ChangeCounters } from './change-counters.js';
import { faultPoint } from './fault-points.js';
import { WriteRace, type Writer } from './write.js';

/**
 * An open MongoDB transaction of one request (a transaction bundle, a conditional write). Every
 * read and write of the request store made with it runs in its session, so they see one
 * snapshot and become visible together at the commit. `afterCommit` holds what must happen only
 * once the writes are visible (a profile-change notice, a change counter's second move).
 */
export interface StoreTransaction {
  session: ClientSession;
  afterCommit: (() => Promise<void>)[];
  /** Resources written so far in it, `Type/id` (a transaction writes each at most once). */
  written: Set<string>;
}

export interface TransactionOptions {
  /** Attempts before a conflict is answered 409 (TRANSACTION_MAX_ATTEMPTS). */
  maxAttempts: number;
}

const TRANSIENT = 'TransientTransactionError';
const UNKNOWN_COMMIT = 'UnknownTransactionCommitResult';
const NO_TRANSACTIONS_CODES = new Set([20 /* IllegalOperation */, 263 /* OperationNotSupportedInTransaction */]);

const isTransient = (error: unknown) =>
  error instanceof WriteRace || (error instanceof MongoError && error.hasErrorLabel(TRANSIENT));

/** Randomised exponential back-off, so that conflicting transactions do not retry in lock-step. */
function backOff(attempt: number): Promise<void> {
  const ms = Math.min(200, 5 * 2 ** attempt) * (0.5 + Math.random());
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * Runs `work` in a transaction and commits it; on a write conflict (another transaction or a
 * single writer touched the same documents) aborts and runs all of `work` again, with back-off,
 * at most `maxAttempts` times, then answers 409. Nothing of an aborted attempt is visible, so
 * `work` must only have effects through the transaction (and `afterCommit`).
 */
export async function runTransaction<T>(
  db: Db,
  writer: Writer,
  counters: ChangeCounters,
  options: TransactionOptions,
  work: (tx: StoreTransaction) => Promise<T>,
): Promise<T> {
  for (let attempt = 0; ; attempt++) {
    const session = db.client.startSession();
    const tx: StoreTransaction = { session, afterCommit: [], written: new Set() };
    try {
      session.startTransaction();
      const result = await work(tx);
      faultPoint('transaction-before-commit');
      await commit(session);
      faultPoint('transaction-after-commit');
      for (const type of new Set([...tx.written].map((key) => key.split('/')[0]))) await counters.bump(type);
      for (const after of tx.afterCommit) await after();
      return result;
    } catch (error) {
      if (session.inTransaction()) await session.abortTransaction().catch(() => {});
      if (!isTransient(error)) throw noTransactions(error) ?? error;
      if (error instanceof WriteRace && error.unfinishedVersion !== undefined) {
        await writer.rollForward(error.type, error.id, error.unfinishedVersion);
      }
      if (attempt + 1 >= options.maxAttempts) {
        throw conflict(`The transaction met concurrent changes of the same resources ${options.maxAttempts} times and was not applied; try again`);
      }
      await backOff(attempt);
    } finally {
      await session.endSession().catch(() => {});
    }
  }
}

/** Commits, repeating the commit itself while its result is unknown (commit is idempotent). */
async function commit(session: ClientSession): Promise<void> {
  for (let attempt = 0; ; attempt++) {
    try {
      await session.commitTransaction();
      return;
    } catch (error) {
      if (attempt < 3 && error instanceof MongoError && error.hasErrorLabel(UNKNOWN_COMMIT)) continue;
      throw error;
    }
  }
}

/** A database without transactions (a standalone mongod) answers the first command of one so. */
function noTransactions(error: unknown): FhirError | undefined {
  if (!(error instanceof MongoServerError) || !NO_TRANSACTIONS_CODES.has(Number(error.code))) return undefined;
  if (!/transaction/i.test(error.message)) return undefined;
  return transactionsUnavailable();
}

export function transactionsUnavailable(): FhirError {
  return new FhirError(
    501,
    issue('error', 'not-supported',
      'This server\'s database is a standalone MongoDB, which has no multi-document transactions, so transaction ' +
      'bundles (and conditional creates that must not race) cannot be applied all-or-nothing. Run MongoDB as a replica ' +
      'set (a single node is enough: mongod --replSet rs0, then rs.initiate()), or send the entries as a batch bundle.'),
  );
}

/**
 * Whether the database has multi-document transactions: a replica set member (its `hello` names
 * the set) or a mongos router. A standalone mongod has neither.
 */
export async function hasTransactions(db: Db): Promise<boolean> {
  const hello = await db.admin().command({ hello: 1 });
  return typeof hello.setName === 'string' || hello.msg === 'isdbgrid';
}
