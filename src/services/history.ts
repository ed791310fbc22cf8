import type { Bundle, BundleEntry, BundleLink } from 'fhir/r4';
import { parseInstantRange } from '../fhir/date-range.js';
import { badRequest } from '../outcome.js';
import { noteReturned } from '../security/audit-facts.js';
import type { RequestContext } from '../security/context.js';
import type { HistoryDocument, HistoryPosition, HistoryQuery } from '../store/index.js';
import type { ServiceDeps } from './deps.js';
import { decodePageToken, encodePageToken } from './page-token.js';
import { pageSize } from './page-size.js';
import { queryString } from './query-string.js';

/** The query parameters of a history interaction, as they came in. */
export interface HistoryParams {
  _count?: string;
  _since?: string;
  _at?: string;
  _cursor?: string;
}

interface Cursor extends HistoryPosition {
  /** Instant of the first page: later writes stay out of this paging session. */
  snapshot: number;
}

const isCursor = (v: unknown): v is Cursor => {
  const c = v as Cursor;
  return (
    typeof c === 'object' && c !== null &&
    (c.direction === 'next' || c.direction === 'previous') &&
    Number.isFinite(c.lastUpdated) && typeof c.key === 'string' && Number.isFinite(c.snapshot)
  );
};

function instantParam(name: string, value: string | undefined, end: 'low' | 'high'): Date | undefined {
  if (value === undefined) return undefined;
  const range = parseInstantRange(value);
  if (!range) throw badRequest(`${name} must be a FHIR instant or dateTime such as 2024-05-01T10:00:00Z; got "${value}"`, 'invalid');
  return range[end];
}

/**
 * history at instance, type or system level: a Bundle of type history, newest first, paged
 * by keyset. `_since` keeps versions made at or after the instant; `_at` keeps the history as it
 * stood at the end of the given time (versions made by then).
 */
export async function history(
  deps: ServiceDeps,
  ctx: RequestContext,
  scope: { type?: string; id?: string },
  params: HistoryParams,
): Promise<Bundle> {
  const count = pageSize(deps.config, params._count);
  const since = instantParam('_since', params._since, 'low');
  const at = instantParam('_at', params._at, 'high');
  const cursor = params._cursor === undefined ? undefined : decodePageToken(params._cursor, isCursor);
  const snapshot = cursor ? new Date(cursor.snapshot) : new Date();
  const until = at && at < snapshot ? at : snapshot;
  const query: HistoryQuery = { ...scope, since, until, count, position: cursor };
  const page = await deps.store.forRequest(ctx).history(query, deps.storedTypes);
  noteReturned(ctx, page.entries);

  const path = [scope.type, scope.id, '_history'].filter(Boolean).join('/');
  const linkTo = (extra: Record<string, string>) => {
    const search = new Map([['_count', String(count)]]);
    if (params._since !== undefined) search.set('_since', params._since);
    if (params._at !== undefined) search.set('_at', params._at);
    for (const [k, v] of Object.entries(extra)) search.set(k, v);
    return `${ctx.baseUrl}/${path}?${queryString(search)}`;
  };
  const tokenAt = (entry: HistoryDocument, direction: Cursor['direction']) =>
    encodePageToken({ direction, lastUpdated: entry.lastUpdated.getTime(), key: entry._id, snapshot: snapshot.getTime() });

  const link: BundleLink[] = [{ relation: 'self', url: linkTo(params._cursor ? { _cursor: params._cursor } : {}) }];
  link.push({ relation: 'first', url: linkTo({}) });
  const first = page.entries[0];
  const last = page.entries[page.entries.length - 1];
  if (page.hasNewer && first) link.push({ relation: 'previous', url: linkTo({ _cursor: tokenAt(first, 'previous') }) });
  if (page.hasOlder && last) link.push({ relation: 'next', url: linkTo({ _cursor: tokenAt(last, 'next') }) });

  const bundle: Bundle = { resourceType: 'Bundle', type: 'history', total: page.total, link };
  // FHIR JSON has no empty arrays: an empty page has no entry at all.
  if (page.entries.length > 0) bundle.entry = page.entries.map((entry) => historyEntry(ctx, entry));
  return bundle;
}

function historyEntry(ctx: RequestContext, doc: HistoryDocument): BundleEntry {
  const fullUrl = `${ctx.baseUrl}/${doc.type}/${doc.id}`;
  const entry: BundleEntry = { fullUrl };
  if (doc.resource) entry.resource = doc.resource;
  entry.request = {
    method: doc.method,
    url: doc.method === 'POST' ? doc.type : `${doc.type}/${doc.id}`,
  };
  entry.response = {
    status: doc.deleted ? '204' : doc.versionId === 1 ? '201' : '200',
    etag: `W/"${doc.versionId}"`,
    lastModified: doc.lastUpdated.toISOString(),
  };
  return entry;
}
