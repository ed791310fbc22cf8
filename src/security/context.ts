import type { FastifyBaseLogger } from 'fastify';
import type { Document } from 'mongodb';
import type { RequestAudit } from './audit-facts.js';

/** SMART v2 interaction letters; v1 `read` is r+s, `write` is c+u+d, `*` is all five. */
export type Interaction = 'c' | 'r' | 'u' | 'd' | 's';

/** One SMART scope of a token: `patient/DocumentReference.rs?category=...`. */
export interface Scope {
  /** As written in the token. */
  text: string;
  context: 'patient' | 'user' | 'system';
  /** A resource type, or '*'. */
  type: string;
  interactions: ReadonlySet<Interaction>;
  /** v2 query restriction: search parameters the resources must match (`?category=...`). */
  query?: [string, string][];
}

/**
 * Who is calling, from the verified access token (never from anything else in the request).
 * With authorization off (no issuer configured: local development) the caller is `unrestricted`.
 */
export interface Caller {
  /** False only when authorization is off: then every interaction on everything is allowed. */
  authenticated: boolean;
  /** `client_id` or `azp`. */
  clientId?: string;
  /** `sub`. */
  subject?: string;
  /** `fhirUser`, e.g. `Practitioner/123` (for `user/` scopes and Consent actors). */
  fhirUser?: string;
  /** `patient`: the patient id that `patient/` scopes are limited to. */
  patient?: string;
  scopes: Scope[];
  /** Purpose-of-use codes (v3 PurposeOfUse, e.g. TREAT, HPAYMT, BTG) in force for this request. */
  purposeOfUse: string[];
  /** Security label codes (e.g. R, V, HIV) the token grants access to. */
  grantedLabels: string[];
  /** The network address the request came from. */
  address: string;
}

/** The caller when authorization is off: everything is allowed. */
export function unrestrictedCaller(address: string): Caller {
  return { authenticated: false, scopes: [], purposeOfUse: [], grantedLabels: [], address };
}

/**
 * Who is asking and on whose behalf, created once per request from the verified token and
 * passed down explicitly to every service; the store made for the request (`store.forRequest`)
 * applies its access filter to every read, search, include, history and count.
 */
export interface RequestContext {
  requestId: string;
  log: FastifyBaseLogger;
  /** Public base URL of the FHIR endpoint (no trailing slash). */
  baseUrl: string;
  caller: Caller;
  /**
   * What this request may see of a resource type, as a MongoDB filter on current and history
   * documents that every read path ANDs into its query. Absent or undefined: everything.
   */
  accessFilter?: (type: string) => Document | undefined;
  /** What the request's AuditEvent will say (security/audit-facts.ts); created with the context. */
  audit?: RequestAudit;
}
