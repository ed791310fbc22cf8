import type { FastifyBaseLogger } from 'fastify';
import type { Document } from 'mongodb';

/**
 * Who is asking and on whose behalf, created once per request and passed down explicitly to
 * every service and store call. Authorization (SMART scopes, consent, labels) will be added
 * here, so that no path can forget it.
 */
export interface RequestContext {
  requestId: string;
  log: FastifyBaseLogger;
  /** Public base URL of the FHIR endpoint (no trailing slash). */
  baseUrl: string;
  /**
   * What this request may see of a resource type, as a MongoDB filter on current documents
   * that search ANDs into every query, include, chain and count. Absent or undefined: everything.
   */
  accessFilter?: (type: string) => Document | undefined;
}
