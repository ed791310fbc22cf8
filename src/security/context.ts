import type { FastifyBaseLogger } from 'fastify';
import type { RequestAccess, StoreTransaction } from '../store/index.js';
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
  /** Role codes of the user (claim `roles`), matched against Consent actors' roles. */
  roles: string[];
  /**
   * Break-the-glass: purpose of use BTG, honoured only for a token with `fhirUser` and at least
   * one `user/` scope (patient apps and system clients cannot break the glass). It overrides
   * security labels and Consent denials, and the AuditEvent is flagged.
   */
  breakGlass: boolean;
  /** The network address the request came from. */
  address: string;
}

/** The caller when authorization is off: everything is allowed. */
export function unrestrictedCaller(address: string): Caller {
  return { authenticated: false, scopes: [], purposeOfUse: [], grantedLabels: [], roles: [], breakGlass: false, address };
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
   * What the caller may do and see, compiled from `caller` once authentication is done (before
   * the handler runs): the store made for the request (`store.forRequest(ctx)`) applies it to
   * every read, search, include, history, count and write.
   */
  access: RequestAccess;
  /** What the request's AuditEvent will say (security/audit-facts.ts); created with the context. */
  audit?: RequestAudit;
  /**
   * The MongoDB transaction the request's reads and writes run in (a transaction bundle, a
   * conditional create), set by the services that open it (services/commit.ts); usually none.
   */
  transaction?: StoreTransaction;
}
