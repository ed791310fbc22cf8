import { forbidden } from '../outcome.js';
import type { RequestContext } from '../security/context.js';
import type { SearchDeps } from './search.js';

/**
 * `$reindex`: extracts the search and access values of existing resources again (after a
 * SearchParameter was added or changed). It rewrites every resource of the types, so the
 * caller needs update access to all of each type (a system/ scope).
 */
export async function reindex(deps: SearchDeps, ctx: RequestContext, types: string[]): Promise<Record<string, number>> {
  // It discloses nothing (counts only), but rewrites every resource: a system/ scope without query restriction.
  const mayRewrite = (type: string) =>
    !ctx.caller.authenticated ||
    ctx.caller.scopes.some((s) => s.context === 'system' && (s.type === '*' || s.type === type) && s.interactions.has('u') && !s.query);
  for (const type of types) {
    if (!mayRewrite(type)) throw forbidden(`$reindex rewrites every ${type}: it needs a system/ scope to update ${type} (system/${type}.u)`);
  }
  await deps.registry.refresh(true);
  const counts: Record<string, number> = {};
  for (const type of types) counts[type] = await deps.store.reindex(type);
  return counts;
}
