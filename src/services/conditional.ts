import { createHash } from 'node:crypto';
import type { Document } from 'mongodb';
import { badRequest } from '../outcome.js';
import { findMatches, parseSearch, queryFingerprint, DbTimer, type QueryEntries } from '../search/index.js';
import type { RequestContext } from '../security/context.js';
import type { StoredVersion } from '../store/index.js';
import { searchEnv, type SearchDeps } from './search.js';

/** Parameters that shape a result page, not which resources match: meaningless in a condition. */
const RESULT_PARAMS = new Set(['_count', '_sort', '_include', '_revinclude', '_summary', '_elements', '_total', '_cursor', '_format', '_pretty']);

/** The search of a conditional interaction (`If-None-Exist`, `PUT [type]?...`), from its query string. */
export function conditionEntries(query: string): QueryEntries {
  const entries = [...new URLSearchParams(query.startsWith('?') ? query.slice(1) : query)].filter(([name]) => !RESULT_PARAMS.has(name));
  if (entries.length === 0) throw badRequest('A conditional interaction needs search parameters that select the resource (e.g. identifier=...)', 'required');
  return entries;
}

/**
 * The current resources of `type` matching a condition, as the caller's searches would find
 * them (its access filter ANDed in: what it may not see does not match), at most `limit`.
 * Unknown parameters are errors (`strict`), never ignored: an ignored one would widen the match.
 */
export async function findConditionMatches(deps: SearchDeps, ctx: RequestContext, type: string, entries: QueryEntries, limit: number): Promise<StoredVersion[]> {
  await deps.registry.refresh();
  const store = deps.store.forRequest(ctx);
  store.access.require(type, 's');
  const query = parseSearch([type], [...entries, ['_count', String(limit)]], { registry: deps.registry, config: deps.config, strict: true });
  const env = searchEnv(deps, store, new DbTimer());
  const page = await findMatches(env, query, { fingerprint: queryFingerprint(query, 'condition') });
  return page.rows.map((doc: Document) => ({
    type,
    id: doc._id as string,
    versionId: doc.versionId as number,
    lastUpdated: doc.lastUpdated as Date,
    deleted: false,
    resource: doc.resource,
    compartments: doc.compartments,
    labels: doc.labels,
  }));
}

/**
 * The key two conditional writes with the same condition share (store: `lockCondition`): the
 * type and the condition's parameters in a canonical order, hashed to a short id.
 */
export function conditionKey(type: string, entries: QueryEntries): string {
  const canonical = new URLSearchParams([...entries].sort(([a, x], [b, y]) => (a === b ? x.localeCompare(y) : a.localeCompare(b)))).toString();
  return `${type}?${createHash('sha256').update(canonical).digest('base64url')}`;
}
