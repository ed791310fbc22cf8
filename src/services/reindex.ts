import { forbidden } from '../outcome.js';
import type { RequestContext } from '../security/context.js';
import type { SearchDeps } from './search.js';

/**
 * `$reindex`: extracts the search and access values of existing resources again (after a
 * SearchParameter was added or changed). It rewrites every resource of the types, so the
 * caller needs update access to all of each type (a system/ scope).
 */
export async function reindex(deps: SearchDeps, ctx: RequestContext, types: string[]): Promise<Record<string, number>> {
  for (const type of types) {
    ctx.access.require(type, 'u');
    if (ctx.access.filter(type, 'u') !== undefined) throw forbidden(`$reindex rewrites every ${type}: it needs a system/ scope to update all of them`);
  }
  await deps.registry.refresh(true);
  const counts: Record<string, number> = {};
  for (const type of types) counts[type] = await deps.store.reindex(type);
  return counts;
}
