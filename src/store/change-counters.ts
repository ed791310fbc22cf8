import type { Db } from 'mongodb';

const COLLECTION = 'change_counters';

interface CounterDocument {
  _id: string;
  version: number;
}

/**
 * A counter per watched resource type, moved by every write of that type, so the caches that
 * each server instance keeps of those resources (Consent decisions) notice a change made on
 * any instance at the cost of one read by `_id`. A write moves it before and after it commits:
 * a reader that reloaded between the two (and missed the write) reloads again after it.
 */
export class ChangeCounters {
  constructor(
    private readonly db: Db,
    private readonly watched: ReadonlySet<string>,
  ) {}

  isWatched(type: string): boolean {
    return this.watched.has(type);
  }

  async bump(type: string): Promise<void> {
    if (!this.watched.has(type)) return;
    await this.db.collection<CounterDocument>(COLLECTION).updateOne({ _id: type }, { $inc: { version: 1 } }, { upsert: true });
  }

  /** After a restart: a write may have stopped between its commit and its second bump. */
  async bumpAll(): Promise<void> {
    for (const type of this.watched) await this.bump(type);
  }

  async read(type: string, maxTimeMS: number): Promise<number> {
    const doc = await this.db.collection<CounterDocument>(COLLECTION).findOne({ _id: type }, { maxTimeMS });
    return doc?.version ?? 0;
  }
}
