import type { FastifyRequest } from 'fastify';
import { isStoredType } from '../fhir/resource-types.js';
import { badRequest, notFound } from '../outcome.js';

/** The resource type named in the URL, which must be one this server stores. */
export function storedType(type: string): string {
  if (!isStoredType(type)) throw notFound(`This server does not store resources of type "${type.slice(0, 64)}"`);
  return type;
}

/** If-Match: W/"n" (or "n") as a version number; undefined when absent. */
export function ifMatchVersion(request: FastifyRequest): number | undefined {
  const header = request.headers['if-match'];
  if (header === undefined) return undefined;
  const match = /^(?:W\/)?"([1-9]\d{0,9})"$/.exec(header.trim());
  if (!match) throw badRequest(`If-Match must be a version ETag such as W/"3"; got ${header}`, 'invalid');
  return Number(match[1]);
}

export type ReturnPreference = 'minimal' | 'representation' | 'OperationOutcome';

/** The value of one preference of the Prefer header (`return`, `handling`...), if given. */
function preference(request: FastifyRequest, name: string): string | undefined {
  const header = request.headers.prefer ?? '';
  const prefer = Array.isArray(header) ? header.join(',') : header;
  return new RegExp(`(?:^|[;,\\s])${name}=([A-Za-z]+)`).exec(prefer)?.[1];
}

/** Prefer: return=... (representation when absent or unknown). */
export function returnPreference(request: FastifyRequest): ReturnPreference {
  const value = preference(request, 'return');
  return value === 'minimal' || value === 'OperationOutcome' ? value : 'representation';
}

/** Prefer: handling=strict: unknown search parameters are errors instead of being ignored. */
export function strictHandling(request: FastifyRequest): boolean {
  return preference(request, 'handling') === 'strict';
}

/** The raw query string of the request (without "?"), as a conditional interaction's search. */
export function queryString(request: FastifyRequest): string {
  return request.url.split('?')[1] ?? '';
}

/** If-None-Exist: the search of a conditional create (a query string, "?" optional); undefined when absent. */
export function ifNoneExist(request: FastifyRequest): string | undefined {
  const header = request.headers['if-none-exist'];
  const value = Array.isArray(header) ? header[0] : header;
  if (value === undefined) return undefined;
  const query = value.trim();
  return query.includes('?') ? query.slice(query.indexOf('?') + 1) : query;
}
