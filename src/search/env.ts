import { MongoServerError, type ClientSession, type Db, type Document, type Filter, type FindOptions } from 'mongodb';
import type { IndexDeclaration } from '../db/indexes.js';
import type { KeyStats } from './key-stats.js';
import type { SearchRegistry } from './registry.js';
import type { AccessFilter } from './types.js';

/**
 * Measures time spent waiting for the database, so the server's own share of a search can be
 * reported; `observe` (the metrics' histogram) also gets each call's time, in seconds.
 */
export class DbTimer {
  ms = 0;
  async time<T>(work: () => Promise<T>): Promise<T> {
    const start = performance.now();
    try {
      return await work();
    } finally {
      this.ms += performance.now() - start;
    }
  }
}

/** What one search request works with. */
export interface SearchEnv {
  db: Db;
  registry: SearchRegistry;
  declared: IndexDeclaration[];
  access: AccessFilter;
  /** Date spans and id bounds of the stored keys (key-stats.ts). */
  keyStats: KeyStats;
  timer: DbTimer;
  /** The most matches a chain or `_has` side may have before it is too costly (MAX_CHAIN_MATCHES). */
  maxChainMatches: number;
  /** How long a page's plain query in `_id` order may run before id windows take over (0: at once). */
  idWindowProbeMs: number;
  /** The database's time limit for each query (DB_QUERY_TIMEOUT_MS). */
  maxTimeMS: number;
  /** The request's transaction (a bundle's searches see its snapshot and its own writes). */
  session?: ClientSession;
}

/** MongoDB's MaxTimeMSExpired: the database stopped a query at its `maxTimeMS`. */
const MAX_TIME_MS_EXPIRED = 50;

export const isTimeLimitReached = (error: unknown) => error instanceof MongoServerError && error.code === MAX_TIME_MS_EXPIRED;

/** What a bounded, timed read needs. */
export type QueryEnv = Pick<SearchEnv, 'db' | 'timer' | 'maxTimeMS' | 'session'>;

/**
 * Every read a search makes (matches, counts, chains, `_has`, includes) goes through these two,
 * so each is timed and bounded by `maxTimeMS`: a query the database stops at the limit fails
 * with MaxTimeMSExpired, which the error handler answers as too-costly.
 */
export function findDocuments(env: QueryEnv, type: string, filter: Filter<Document>, options: FindOptions = {}): Promise<Document[]> {
  return env.timer.time(() => env.db.collection(type).find(filter, { maxTimeMS: env.maxTimeMS, session: env.session, ...options }).toArray());
}

export function countDocuments(env: QueryEnv, type: string, filter: Filter<Document>, limit?: number): Promise<number> {
  return env.timer.time(() => env.db.collection(type).countDocuments(filter, { maxTimeMS: env.maxTimeMS, session: env.session, ...(limit ? { limit } : {}) }));
}

/** `work` for each item: at once, or one after the other in a transaction (a session takes one command at a time). */
export async function eachQuery<T, R>(env: Pick<SearchEnv, 'session'>, items: T[], work: (item: T) => Promise<R>): Promise<R[]> {
  if (!env.session) return Promise.all(items.map(work));
  const results: R[] = [];
  for (const item of items) results.push(await work(item));
  return results;
}
