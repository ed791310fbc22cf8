import type { Db, Document, Filter, FindOptions } from 'mongodb';
import type { IndexDeclaration } from '../db/indexes.js';
import type { DateSpans } from './date-spans.js';
import type { SearchRegistry } from './registry.js';
import type { AccessFilter } from './types.js';

/** Measures time spent waiting for the database, so the server's own share of a search can be reported. */
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
  /** The longest stored span of each date parameter (bounds both ends of date ranges). */
  spans: DateSpans;
  timer: DbTimer;
  /** The most matches a chain or `_has` side may have before it is too costly (MAX_CHAIN_MATCHES). */
  maxChainMatches: number;
  /** The database's time limit for each query (DB_QUERY_TIMEOUT_MS). */
  maxTimeMS: number;
}

/** What a bounded, timed read needs. */
export type QueryEnv = Pick<SearchEnv, 'db' | 'timer' | 'maxTimeMS'>;

/**
 * Every read a search makes (matches, counts, chains, `_has`, includes) goes through these two,
 * so each is timed and bounded by `maxTimeMS`: a query the database stops at the limit fails
 * with MaxTimeMSExpired, which the error handler answers as too-costly.
 */
export function findDocuments(env: QueryEnv, type: string, filter: Filter<Document>, options: FindOptions = {}): Promise<Document[]> {
  return env.timer.time(() => env.db.collection(type).find(filter, { ...options, maxTimeMS: env.maxTimeMS }).toArray());
}

export function countDocuments(env: QueryEnv, type: string, filter: Filter<Document>, limit?: number): Promise<number> {
  return env.timer.time(() => env.db.collection(type).countDocuments(filter, { maxTimeMS: env.maxTimeMS, ...(limit ? { limit } : {}) }));
}
