import type { FastifyBaseLogger } from 'fastify';

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
}
