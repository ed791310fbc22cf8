import type { Collection, Db } from 'mongodb';

/** Failed sign-ins of one username that lock it for a while: guessing passwords then takes years. */
export const MAX_FAILED_SIGN_INS = 5;
/** How long a username stays locked after its last failure (and how long failures are counted). */
export const LOCK_MINUTES = 15;

interface FailureDocument {
  _id: string;
  failures: number;
  /** The TTL index of the authorization server's state collection removes the document then. */
  expiresAt: Date;
}

/**
 * Counts failed sign-ins per username in the database (so every instance sees the same count,
 * and a restart does not reset it), in the authorization server's state collection under keys of
 * their own. Usernames are counted whether or not they exist, so a lock reveals nothing.
 */
export class SignInThrottle {
  private readonly collection: Collection<FailureDocument>;

  constructor(db: Db) {
    this.collection = db.collection<FailureDocument>('authServerState');
  }

  private key(username: string): string {
    return `SignInFailures:${username.toLowerCase()}`;
  }

  /** Minutes until the username may try again, or 0 when it is not locked. */
  async lockedFor(username: string): Promise<number> {
    const record = await this.collection.findOne({ _id: this.key(username) });
    if (!record || record.failures < MAX_FAILED_SIGN_INS) return 0;
    const ms = record.expiresAt.getTime() - Date.now();
    return ms > 0 ? Math.ceil(ms / 60_000) : 0;
  }

  async failed(username: string): Promise<void> {
    const now = new Date();
    // Failures older than the window start the count again (the TTL monitor may not have run yet).
    await this.collection.deleteOne({ _id: this.key(username), expiresAt: { $lte: now } });
    const expiresAt = new Date(now.getTime() + LOCK_MINUTES * 60_000);
    await this.collection.updateOne({ _id: this.key(username) }, { $inc: { failures: 1 }, $set: { expiresAt } }, { upsert: true });
  }

  async succeeded(username: string): Promise<void> {
    await this.collection.deleteOne({ _id: this.key(username) });
  }
}
