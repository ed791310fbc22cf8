import type { BundleEntry } from 'fhir/r4';
import { isStoredType } from '../fhir/resource-types.js';
import { badRequest, notFound } from '../outcome.js';
import type { QueryEntries } from '../search/index.js';
import type { HistoryParams } from './history.js';

/**
 * What one bundle entry asks for, read from its `request` (method, url, If-* fields): the same
 * interactions the REST routes serve, named so that the bundle service can call the same service
 * function as the route would.
 */
export type EntryRequest =
  | { kind: 'read'; type: string; id: string }
  | { kind: 'vread'; type: string; id: string; vid: string }
  | { kind: 'search'; types: string[] | 'all'; path: string; compartment?: { type: string; id: string }; query: QueryEntries }
  | { kind: 'history'; type?: string; id?: string; params: HistoryParams }
  | { kind: 'create'; type: string; ifNoneExist?: string }
  | { kind: 'update'; type: string; id: string; ifMatch?: number }
  | { kind: 'conditional-update'; type: string; query: string; ifMatch?: number }
  | { kind: 'patch'; type: string; id: string; ifMatch?: number }
  | { kind: 'conditional-patch'; type: string; query: string; ifMatch?: number }
  | { kind: 'delete'; type: string; id: string; ifMatch?: number }
  | { kind: 'conditional-delete'; type: string; query: string }
  | { kind: 'validate'; type: string; id?: string };

/** The HL7 restful-interaction code of an entry, for its AuditEvent. */
export function interactionCode(request: EntryRequest): string {
  switch (request.kind) {
    case 'search':
      return request.path === '' ? 'search-system' : request.compartment ? 'search' : 'search-type';
    case 'history':
      return request.id ? 'history-instance' : request.type ? 'history-type' : 'history-system';
    case 'conditional-update':
      return 'update';
    case 'patch':
    case 'conditional-patch':
      return 'patch';
    case 'conditional-delete':
      return 'delete';
    case 'validate':
      return 'operation';
    default:
      return request.kind;
  }
}

const METHODS = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']);

function typeOf(segment: string): string {
  if (!isStoredType(segment)) throw notFound(`This server does not store resources of type "${segment.slice(0, 64)}"`);
  return segment;
}

function ifMatchOf(value: string | undefined): number | undefined {
  if (value === undefined) return undefined;
  const match = /^(?:W\/)?"([1-9]\d{0,9})"$/.exec(value.trim());
  if (!match) throw badRequest(`ifMatch must be a version ETag such as W/"3"; got ${value.slice(0, 40)}`, 'invalid');
  return Number(match[1]);
}

/** The entry's URL relative to this server's base: "Patient/1", "Patient?identifier=x". */
function relativeUrl(url: string, baseUrl: string): string {
  let relative = url.trim();
  if (relative.startsWith(`${baseUrl}/`)) relative = relative.slice(baseUrl.length + 1);
  else if (relative === baseUrl) relative = '';
  else if (/^[a-z][a-z0-9+.-]*:/i.test(relative)) throw badRequest(`The entry's request.url ${relative.slice(0, 100)} is not on this server (${baseUrl})`, 'invalid');
  return relative.replace(/^\/+/, '');
}

/** Reads `entry.request` of entry `index`. */
export function parseEntryRequest(entry: BundleEntry, baseUrl: string): EntryRequest {
  const request = entry.request;
  if (!request || typeof request !== 'object') throw badRequest('The entry has no request (method and url)', 'required', ['request']);
  const method = String(request.method ?? '').toUpperCase();
  if (!METHODS.has(method)) throw badRequest(`The entry's request.method must be GET, POST, PUT, PATCH or DELETE; got ${JSON.stringify(request.method ?? null)}`, 'value');
  if (typeof request.url !== 'string') throw badRequest('The entry has no request.url', 'required', ['request.url']);
  const relative = relativeUrl(request.url, baseUrl);
  const [path, queryText = ''] = relative.split(/\?(.*)/s, 2);
  const segments = path.split('/').filter((s) => s !== '');
  const query: QueryEntries = [...new URLSearchParams(queryText)];
  const hasQuery = relative.includes('?');
  const ifMatch = ifMatchOf(request.ifMatch);
  const [first, second, third, fourth] = segments;
  const shape = segments.map((s, i) => (i === 0 ? 'T' : s === '_history' ? 'H' : s.startsWith('$') ? 'O' : s === '_search' ? 'S' : 'x')).join('');

  if (method === 'GET' || method === 'HEAD') {
    if (shape === '') return { kind: 'search', types: 'all', path: '', query };
    if (shape === 'T' && first === '_history') return { kind: 'history', params: Object.fromEntries(query) };
    if (shape === 'T') return { kind: 'search', types: [typeOf(first)], path: first, query };
    if (shape === 'TH') return { kind: 'history', type: typeOf(first), params: Object.fromEntries(query) };
    if (shape === 'Tx') return { kind: 'read', type: typeOf(first), id: second };
    if (shape === 'TxH') return { kind: 'history', type: typeOf(first), id: second, params: Object.fromEntries(query) };
    if (shape === 'TxHx') return { kind: 'vread', type: typeOf(first), id: second, vid: fourth };
    if (shape === 'Txx') return { kind: 'search', types: [typeOf(third)], path: `${first}/${second}/${third}`, compartment: { type: typeOf(first), id: second }, query };
  }
  if (method === 'POST') {
    if (shape === 'T') return { kind: 'create', type: typeOf(first), ifNoneExist: request.ifNoneExist };
    if (shape === 'TS') return { kind: 'search', types: [typeOf(first)], path: first, query };
    if (shape === 'TO' && second === '$validate') return { kind: 'validate', type: typeOf(first) };
    if (shape === 'TxO' && third === '$validate') return { kind: 'validate', type: typeOf(first), id: second };
  }
  if (method === 'PUT') {
    if (shape === 'T' && hasQuery) return { kind: 'conditional-update', type: typeOf(first), query: queryText, ifMatch };
    if (shape === 'Tx') return { kind: 'update', type: typeOf(first), id: second, ifMatch };
  }
  if (method === 'PATCH') {
    if (shape === 'T' && hasQuery) return { kind: 'conditional-patch', type: typeOf(first), query: queryText, ifMatch };
    if (shape === 'Tx') return { kind: 'patch', type: typeOf(first), id: second, ifMatch };
  }
  if (method === 'DELETE') {
    if (shape === 'T' && hasQuery) return { kind: 'conditional-delete', type: typeOf(first), query: queryText };
    if (shape === 'Tx') return { kind: 'delete', type: typeOf(first), id: second, ifMatch };
  }
  throw badRequest(`No FHIR interaction at ${method} ${relative.split('?')[0].slice(0, 100)}`, 'not-supported', ['request.url']);
}

/** Transaction processing order (http.html#trules): DELETE, then POST, then PUT and PATCH, then GET and HEAD. */
export function processingRank(entry: BundleEntry): number {
  const method = String(entry.request?.method ?? '').toUpperCase();
  return { DELETE: 0, POST: 1, PUT: 2, PATCH: 2, GET: 3, HEAD: 3 }[method] ?? 4;
}
