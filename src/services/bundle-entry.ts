import { STATUS_CODES } from 'node:http';
import type { BundleEntry, BundleEntryResponse, Resource } from 'fhir/r4';
import { isStoredType } from '../fhir/resource-types.js';
import { FhirError, badRequest, issue, outcome } from '../outcome.js';
import { noteResource } from '../security/audit-facts.js';
import type { RequestContext } from '../security/context.js';
import type { StoredVersion, WriteOutcome } from '../store/index.js';
import type { EntryRequest } from './bundle-request.js';
import type { ServiceDeps } from './deps.js';
import { history } from './history.js';
import { patchFromEntry, patchResource } from './patch.js';
import { readResource, readVersion } from './read.js';
import { search } from './search.js';
import { validateOperation } from './validate.js';
import { conditionalDelete, conditionalUpdate, createResource, deleteResource, updateResource, type WriteResult } from './write.js';

/** Prefer: return=... of the bundle request, applied to every entry's answer. */
export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

export const statusText = (status: number) => `${status} ${STATUS_CODES[status] ?? ''}`.trim();

function versionResponse(ctx: RequestContext, version: StoredVersion, status: number, location: boolean): BundleEntryResponse {
  const response: BundleEntryResponse = {
    status: statusText(status),
    etag: `W/"${version.versionId}"`,
    lastModified: version.lastUpdated.toISOString(),
  };
  if (location) response.location = `${ctx.baseUrl}/${version.type}/${version.id}/_history/${version.versionId}`;
  return response;
}

/** The answer entry of a create, update or patch, shaped by Prefer. */
export function writeEntry(ctx: RequestContext, result: WriteResult, prefer: ReturnPreference): BundleEntry {
  const { version } = result;
  noteResource(ctx, version);
  const entry: BundleEntry = { fullUrl: `${ctx.baseUrl}/${version.type}/${version.id}`, response: versionResponse(ctx, version, result.created ? 201 : 200, true) };
  if (prefer === 'representation' && version.resource) entry.resource = version.resource;
  if (prefer === 'OperationOutcome') {
    const verb = result.created ? 'created' : result.changed ? 'updated' : 'found (a conditional create matched it)';
    const note = issue('information', 'informational', `${version.type}/${version.id} ${verb} as version ${version.versionId}`);
    entry.response!.outcome = outcome([...result.warnings, note]);
  }
  return entry;
}

/** The answer entry of a delete (or a conditional delete of several). */
export function deleteEntry(ctx: RequestContext, outcomes: WriteOutcome[], type: string): BundleEntry {
  const changed = outcomes.filter((o) => o.changed);
  for (const o of changed) noteResource(ctx, o.version);
  const response: BundleEntryResponse = { status: statusText(changed.length > 0 ? 204 : 200) };
  if (changed.length === 1) response.etag = `W/"${changed[0].version.versionId}"`;
  if (changed.length === 0) {
    response.status = statusText(200);
    response.outcome = outcome([issue('information', 'informational', `No ${type} to delete: it did not exist or was already deleted`)]);
  }
  return { response };
}

/** The answer entry of a failed entry (a batch's): its status and OperationOutcome. */
export function errorEntry(ctx: RequestContext, error: unknown): BundleEntry {
  if (error instanceof FhirError) return { response: { status: statusText(error.status), outcome: outcome(error.issues) } };
  ctx.log.error({ err: error }, 'server fault in a batch entry');
  const text = `The server failed to handle this entry (request id ${ctx.requestId})`;
  return { response: { status: statusText(500), outcome: outcome([issue('fatal', 'exception', text)]) } };
}

/** The status number of an answer entry. */
export const statusOf = (entry: BundleEntry): number => Number.parseInt(entry.response?.status ?? '500', 10);

function searchTypes(deps: ServiceDeps, request: Extract<EntryRequest, { kind: 'search' }>): string[] {
  if (request.types !== 'all') return request.types;
  const named = request.query.filter(([n]) => n === '_type').flatMap(([, v]) => v.split(',')).filter(Boolean);
  if (named.length === 0) return deps.storedTypes;
  for (const type of named) if (!isStoredType(type)) throw badRequest(`_type: "${type.slice(0, 64)}" is not a type this server stores`, 'invalid', ['_type']);
  return [...new Set(named)];
}

/**
 * An entry that writes nothing (read, vread, search, history, $validate), through the same
 * service functions as the routes, under the request's access (and in its transaction, if any).
 */
export async function readEntry(deps: ServiceDeps, ctx: RequestContext, request: EntryRequest, resource: Resource | undefined): Promise<BundleEntry> {
  switch (request.kind) {
    case 'read':
    case 'vread': {
      const version = request.kind === 'read'
        ? await readResource(deps, ctx, request.type, request.id)
        : await readVersion(deps, ctx, request.type, request.id, request.vid);
      noteResource(ctx, version);
      return { fullUrl: `${ctx.baseUrl}/${version.type}/${version.id}`, resource: version.resource, response: versionResponse(ctx, version, 200, false) };
    }
    case 'search': {
      const scope = { types: searchTypes(deps, request), path: request.path, compartment: request.compartment };
      const result = await search(deps.search, ctx, scope, request.query, false);
      return { resource: result.bundle, response: { status: statusText(200) } };
    }
    case 'history': {
      const bundle = await history(deps, ctx, { type: request.type, id: request.id }, request.params);
      return { resource: bundle, response: { status: statusText(200) } };
    }
    case 'validate': {
      const report = await validateOperation(deps, ctx, request.type, request.id, resource);
      return { resource: report, response: { status: statusText(200) } };
    }
    default:
      throw new Error(`not a reading entry: ${request.kind}`);
  }
}

/** A batch entry that writes: the same service call as its route, committed on its own. */
export async function batchWriteEntry(deps: ServiceDeps, ctx: RequestContext, request: EntryRequest, resource: Resource | undefined, prefer: ReturnPreference): Promise<BundleEntry> {
  switch (request.kind) {
    case 'create':
      return writeEntry(ctx, await createResource(deps, ctx, request.type, resource, { ifNoneExist: request.ifNoneExist }), prefer);
    case 'update':
      return writeEntry(ctx, await updateResource(deps, ctx, request.type, request.id, resource, request.ifMatch), prefer);
    case 'conditional-update':
      return writeEntry(ctx, await conditionalUpdate(deps, ctx, request.type, request.query, resource, request.ifMatch), prefer);
    case 'patch':
      return writeEntry(ctx, await patchResource(deps, ctx, request.type, { id: request.id }, patchFromEntry(resource), request.ifMatch), prefer);
    case 'conditional-patch':
      return writeEntry(ctx, await patchResource(deps, ctx, request.type, { query: request.query }, patchFromEntry(resource), request.ifMatch), prefer);
    case 'delete':
      return deleteEntry(ctx, [await deleteResource(deps, ctx, request.type, request.id, request.ifMatch)], request.type);
    case 'conditional-delete':
      return deleteEntry(ctx, await conditionalDelete(deps, ctx, request.type, request.query), request.type);
    default:
      return readEntry(deps, ctx, request, resource);
  }
}
