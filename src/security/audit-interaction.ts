import { isStoredType } from '../fhir/resource-types.js';

/** AuditEvent.action: Create, Read, Update, Delete, Execute. */
export type AuditAction = 'C' | 'R' | 'U' | 'D' | 'E';

/** The interaction a request was, as HL7's restful-interaction code and the audit action. */
export interface AuditedInteraction {
  /** Undefined when no route matched (a 404 for an unknown path). */
  code?: string;
  action: AuditAction;
}

/** Route templates below the FHIR base path, by method: the interaction each one is. */
const ROUTES: Record<string, Record<string, string>> = {
  GET: {
    '/metadata': 'capabilities',
    '/_history': 'history-system',
    '/:type/_history': 'history-type',
    '/:type/:id/_history': 'history-instance',
    '/:type/:id/_history/:vid': 'vread',
    '/:type/:id': 'read',
    '/:type': 'search-type',
    '/': 'search-system',
    '': 'search-system',
    // Compartment search (Patient/1/DocumentReference): neither type nor system level, so the parent code.
    '/:type/:id/:target': 'search',
  },
  POST: { '/:type': 'create', '/:type/_search': 'search-type' },
  PUT: { '/:type/:id': 'update' },
  PATCH: { '/:type/:id': 'patch' },
  DELETE: { '/:type/:id': 'delete' },
};

const ACTIONS: Record<string, AuditAction> = {
  create: 'C',
  update: 'U',
  patch: 'U',
  delete: 'D',
  operation: 'E',
  batch: 'E',
  transaction: 'E',
};

function actionOfMethod(method: string): AuditAction {
  if (method === 'GET' || method === 'HEAD') return 'R';
  if (method === 'PUT' || method === 'PATCH') return 'U';
  if (method === 'DELETE') return 'D';
  return 'E';
}

/**
 * The interaction of a request from its method and route template (`routeOptions.url`, which
 * includes the base path). `given` is what a service set itself (a bundle says batch or transaction).
 */
export function interactionOf(method: string, routeUrl: string | undefined, base: string, given?: string): AuditedInteraction {
  const verb = method === 'HEAD' ? 'GET' : method;
  let code = given;
  if (!code && routeUrl !== undefined) {
    const route = routeUrl.startsWith(base) ? routeUrl.slice(base.length) : routeUrl;
    if (/\/\$[^/]+$/.test(route)) code = 'operation';
    else code = ROUTES[verb]?.[route];
  }
  return { code, action: code ? (ACTIONS[code] ?? 'R') : actionOfMethod(verb) };
}

const ID = /^[A-Za-z0-9\-.]{1,64}$/;
const VERSION = /^[1-9]\d{0,9}$/;

/**
 * What the URL names, before any service ran (so refused and failed requests name it too):
 * the resource of an instance-level route, and the patient of a Patient compartment search.
 * Only well-formed ids of stored types: anything else the client typed stays out of the record.
 */
export function targetOf(code: string | undefined, params: unknown): { resource?: string; patient?: string } {
  const { type, id, vid } = (params ?? {}) as Record<string, string | undefined>;
  if (!type || !id || !isStoredType(type) || !ID.test(id)) return {};
  if (code === 'search') return type === 'Patient' ? { patient: id } : {};
  if (code === 'vread') return VERSION.test(vid ?? '') ? { resource: `${type}/${id}/_history/${vid}` } : { resource: `${type}/${id}` };
  return { resource: `${type}/${id}` };
}
