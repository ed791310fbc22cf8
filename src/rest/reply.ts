import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Resource } from 'fhir/r4';
import { parseSummary, shapeResource } from '../fhir/summary.js';
import type { StoredVersion } from '../store/index.js';
import { FHIR_JSON } from './content.js';

type Query = Record<string, string | string[] | undefined>;

/** The last value of a query parameter (repeats of single-valued parameters: last wins). */
export function queryValue(request: FastifyRequest, name: string): string | undefined {
  const value = (request.query as Query)[name];
  return Array.isArray(value) ? value[value.length - 1] : value;
}

export function sendJson(request: FastifyRequest, reply: FastifyReply, status: number, body: unknown): FastifyReply {
  const pretty = queryValue(request, '_pretty') === 'true';
  return reply
    .code(status)
    .header('content-type', FHIR_JSON)
    .send(JSON.stringify(body, null, pretty ? 2 : undefined));
}

export function etagOf(versionId: number): string {
  return `W/"${versionId}"`;
}

export function versionHeaders(reply: FastifyReply, version: StoredVersion): FastifyReply {
  return reply.header('etag', etagOf(version.versionId)).header('last-modified', version.lastUpdated.toUTCString());
}

/** A resource as the client asked to see it (`_summary`, `_elements`, `_pretty`). */
export function sendResource(request: FastifyRequest, reply: FastifyReply, status: number, resource: Resource): FastifyReply {
  const shaped = shapeResource(resource, parseSummary(queryValue(request, '_summary')), queryValue(request, '_elements'));
  return sendJson(request, reply, status, shaped);
}

/** The version a conditional read names in If-None-Match, If-Modified-Since: true means 304. */
export function notModified(request: FastifyRequest, version: StoredVersion): boolean {
  const ifNoneMatch = request.headers['if-none-match'];
  if (ifNoneMatch !== undefined) {
    const tags = ifNoneMatch.split(',').map((t) => t.trim());
    return tags.includes('*') || tags.some((t) => t.replace(/^W\//, '') === `"${version.versionId}"`);
  }
  const ifModifiedSince = request.headers['if-modified-since'];
  if (ifModifiedSince !== undefined) {
    const since = Date.parse(ifModifiedSince);
    // HTTP dates have whole seconds: compare at that precision.
    return Number.isFinite(since) && Math.floor(version.lastUpdated.getTime() / 1000) * 1000 <= since;
  }
  return false;
}
