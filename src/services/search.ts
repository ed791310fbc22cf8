import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, BundleLink, Resource } from 'fhir/r4';
import type { Document } from 'mongodb';
import type { Config } from '../config.js';
import type { IndexDeclaration } from '../db/indexes.js';
import { parseSummary, shapeResource } from '../fhir/summary.js';
import { issue, outcome } from '../outcome.js';
import { forbidden } from '../outcome.js';
import { noteQuery, noteReturned } from '../security/audit-facts.js';
import type { RequestContext } from '../security/context.js';
import type { RequestAccess, RequestStore, ResourceStore } from '../store/index.js';
import {
  KeyStats,
  DbTimer,
  compartmentFilter,
  encodePosition,
  findIncludes,
  findMatches,
  parseSearch,
  queryFingerprint,
  type QueryEntries,
  type SearchEnv,
  type SearchRegistry,
} from '../search/index.js';
import { queryString } from './query-string.js';

/** What the search service works with; built once at start-up. */
export interface SearchDeps {
  config: Config;
  store: ResourceStore;
  registry: SearchRegistry;
  declared: IndexDeclaration[];
  storedTypes: string[];
  keyStats: KeyStats;
}

export interface SearchScope {
  types: string[];
  /** `Patient/[id]/[type]`: the compartment the search is limited to. */
  compartment?: { type: string; id: string };
  /** URL path of the search, for links ("Patient", "Patient/1/DocumentReference", ""). */
  path: string;
}

export interface SearchResult {
  bundle: Bundle;
  /** Milliseconds: waiting for the database, and the rest (the server's own work). */
  timing: { dbMs: number; appMs: number };
  /** Index each type's query led with (for the bench and tests). */
  indexes: Record<string, string>;
}

function link(ctx: RequestContext, scope: SearchScope, entries: QueryEntries, cursor?: string): string {
  const params: [string, string][] = entries.filter(([name]) => name !== '_cursor');
  if (cursor) params.push(['_cursor', cursor]);
  const text = queryString(params);
  const path = scope.path ? `/${scope.path}` : '';
  return `${ctx.baseUrl}${path}${text ? `?${text}` : ''}`;
}

function entryOf(ctx: RequestContext, doc: Document, mode: 'match' | 'include', summary: string | undefined, elements: string | undefined): BundleEntry {
  const resource = ctx.access.disclose(doc.resource as Resource, 's');
  return {
    fullUrl: `${ctx.baseUrl}/${resource.resourceType}/${resource.id}`,
    resource: shapeResource(resource, parseSummary(summary), elements),
    search: { mode },
  };
}

/** What the search engine works with for one request: its store's database, session and access. */
export function searchEnv(deps: SearchDeps, store: RequestStore, timer: DbTimer): SearchEnv {
  return {
    db: store.db,
    registry: deps.registry,
    declared: deps.declared,
    access: (type) => store.access.filter(type, 's'),
    keyStats: deps.keyStats,
    timer,
    maxTimeMS: deps.config.dbQueryTimeoutMs,
    maxChainMatches: deps.config.maxChainMatches,
    idWindowProbeMs: deps.config.idWindowProbeMs,
    session: store.session,
  };
}

/**
 * The types a search covers: a type-level or compartment search needs a scope for its type
 * (403); a system search covers the types the token may search (403 when none).
 */
function searchableTypes(access: RequestAccess, scope: SearchScope): string[] {
  if (scope.path !== '') {
    for (const type of scope.types) access.require(type, 's');
    return scope.types;
  }
  const types = scope.types.filter((type) => access.grants(type, 's'));
  if (types.length === 0) throw forbidden('The access token has no scope to search any of these resource types');
  return types;
}

/**
 * search-type, search-system and compartment search: parse, run, and answer a searchset
 * Bundle with opaque keyset paging links, includes, and an outcome entry for ignored parameters.
 */
export async function search(
  deps: SearchDeps,
  ctx: RequestContext,
  scope: SearchScope,
  entries: QueryEntries,
  strict: boolean,
): Promise<SearchResult> {
  const started = performance.now();
  const timer = new DbTimer();
  noteQuery(ctx, entries);
  await deps.registry.refresh();
  const store = deps.store.forRequest(ctx);
  const types = searchableTypes(store.access, scope);
  const query = parseSearch(types, entries, { registry: deps.registry, config: deps.config, strict });
  // A compartment search names its patient as a `patient` condition would.
  const compartment: [string, string][] = scope.compartment?.type === 'Patient' ? [['patient', `Patient/${scope.compartment.id}`]] : [];
  store.access.checkSearch(types, [...entries, ...compartment]);
  const env = searchEnv(deps, store, timer);
  const summary = query.summary;
  parseSummary(summary);
  const fingerprint = queryFingerprint(query, JSON.stringify(scope.compartment ?? null));
  const page = await findMatches(env, query, {
    fingerprint,
    extraFilter: scope.compartment ? (type) => compartmentFilter(scope.compartment!, type) : undefined,
    countOnly: summary === 'count',
  });
  const included = await findIncludes(env, page.rows, query.include, query.revinclude, deps.storedTypes);
  noteReturned(ctx, [...page.rows, ...included]);

  const links: BundleLink[] = [{ relation: 'self', url: link(ctx, scope, entries, query.cursor) }];
  links.push({ relation: 'first', url: link(ctx, scope, entries) });
  if (page.previous) links.push({ relation: 'previous', url: link(ctx, scope, entries, encodePosition(page.previous)) });
  if (page.next) links.push({ relation: 'next', url: link(ctx, scope, entries, encodePosition(page.next)) });

  const entry: BundleEntry[] = [
    ...page.rows.map((doc) => entryOf(ctx, doc, 'match', summary, query.elements)),
    ...included.map((doc) => entryOf(ctx, doc, 'include', summary, query.elements)),
  ];
  if (query.ignored.length > 0) {
    const text = `These search parameters are unknown or unsupported here and were ignored: ${query.ignored.join(', ')}`;
    // Every searchset entry has a fullUrl (its identity); the outcome has no id of its own.
    entry.push({ fullUrl: `urn:uuid:${randomUUID()}`, resource: outcome([issue('warning', 'not-supported', text, query.ignored)]), search: { mode: 'outcome' } });
  }
  const bundle: Bundle = { resourceType: 'Bundle', type: 'searchset', link: links };
  if (page.total !== undefined) bundle.total = page.total;
  // FHIR JSON has no empty arrays: a search without matches has no entry at all.
  if (summary !== 'count' && entry.length > 0) bundle.entry = entry;
  const totalMs = performance.now() - started;
  return { bundle, timing: { dbMs: timer.ms, appMs: Math.max(0, totalMs - timer.ms) }, indexes: page.indexes };
}
