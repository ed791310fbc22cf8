import type { RequestContext } from '../security/context.js';
import { WriteRace } from '../store/index.js';
import type { ServiceDeps } from './deps.js';

/** How often a single write that lost a race is planned and applied again before it answers 409. */
const MAX_SINGLE_ATTEMPTS = 100;

/**
 * Runs a write interaction (`work` plans its writes and applies them through the request store)
 * and owns its retries, which the store's Writer does not make:
 * - inside a request's transaction already (a bundle entry): `work` runs once, in it; the
 *   transaction's owner retries the whole of it on a conflict;
 * - `transaction: true` (conditional writes, several deletes) and the database has transactions:
 *   `work` runs in a transaction of its own, retried as a whole on a conflict;
 * - otherwise each write commits on its own, and `work` is planned and applied again when a
 *   write lost a race to another writer of the same resource (WriteRace).
 */
export async function commitWrites<T>(
  deps: ServiceDeps,
  ctx: RequestContext,
  options: { transaction: boolean },
  work: (ctx: RequestContext) => Promise<T>,
): Promise<T> {
  if (ctx.transaction) return work(ctx);
  if (options.transaction && deps.transactions) {
    return deps.store.transaction({ maxAttempts: deps.config.transactionMaxAttempts }, (transaction) => work({ ...ctx, transaction }));
  }
  for (let attempt = 1; ; attempt++) {
    try {
      return await work(ctx);
    } catch (error) {
      if (!(error instanceof WriteRace) || attempt >= MAX_SINGLE_ATTEMPTS) throw error;
      await pause(attempt);
    }
  }
}

/** Runs `notice` once the request's writes are visible: now, or after its transaction commits. */
export async function afterCommit(ctx: RequestContext, notice: () => Promise<void>): Promise<void> {
  if (ctx.transaction) ctx.transaction.afterCommit.push(notice);
  else await notice();
}

/** Short randomised back-off so that many writers of one id do not retry in lock-step. */
function pause(attempt: number): Promise<void> {
  const ms = Math.min(50, 1 + attempt * 2) * Math.random();
  return new Promise((resolve) => setTimeout(resolve, ms));
}
