/**
 * The Caller of a request, from its `Authorization: Bearer <jwt>` header and nothing else.
 *
 * Claims read from the verified access token (SMART App Launch v1/v2, SMART Backend Services):
 *   client_id | azp     the client (clientId)
 *   sub                 the subject (subject)
 *   fhirUser            the user's FHIR resource, `Practitioner/123` or an absolute URL ending in
 *                       it; kept as the last `Type/id` (fhirUser)
 *   patient             the patient id `patient/` scopes are limited to (patient); a token with
 *                       `patient/` scopes and no patient claim is left without one here (the
 *                       authorization step refuses it with 403)
 *   scope               space-separated SMART scopes (security/scopes.ts)
 *   purpose_of_use      v3 PurposeOfUse codes (TREAT, HPAYMT, BTG...): an array or a
 *                       space-separated string (purposeOfUse)
 *   security_labels     security label codes the token grants (R, V, HIV, ETH...): an array or a
 *                       space-separated string (grantedLabels)
 *   roles               the user's role codes (v3 RoleCode / ParticipationType, e.g. PRCP, ECON),
 *                       matched against Consent actors' roles: an array or a space-separated string
 * breakGlass is true only when purpose_of_use holds BTG and the token has a fhirUser and at
 * least one `user/` scope: patient apps and system clients cannot break the glass.
 */
import type { FastifyRequest } from 'fastify';
import type { JWTPayload } from 'jose';
import type { Caller } from './context.js';
import { parseScopes } from './scopes.js';
import { bearerChallenge, invalidToken, type TokenVerifier } from './tokens.js';
import { unauthorized } from '../outcome.js';

const FHIR_USER = /(?:^|\/)([A-Z][A-Za-z]{0,63}\/[A-Za-z0-9\-.]{1,64})(?:\/_history\/[A-Za-z0-9\-.]{1,64})?$/;
const CODE = /^[A-Za-z0-9_.:-]{1,64}$/;

function stringClaim(payload: JWTPayload, name: string): string | undefined {
  const value = payload[name];
  return typeof value === 'string' && value !== '' ? value : undefined;
}

/** An array of codes or a space-separated string of them; anything that is not a short code is dropped. */
function codesClaim(payload: JWTPayload, name: string): string[] {
  const value = payload[name];
  const words = typeof value === 'string' ? value.split(/\s+/) : Array.isArray(value) ? value : [];
  return [...new Set(words.filter((w): w is string => typeof w === 'string' && CODE.test(w)))];
}

/** `Practitioner/123` from `Practitioner/123` or `https://ehr.example/fhir/Practitioner/123`. */
export function fhirUserReference(value: string | undefined): string | undefined {
  return value === undefined ? undefined : FHIR_USER.exec(value)?.[1];
}

/** The Caller a verified token's claims describe. */
export function callerFromClaims(payload: JWTPayload, address: string): Caller {
  const scopes = parseScopes(payload.scope);
  const fhirUser = fhirUserReference(stringClaim(payload, 'fhirUser'));
  const purposeOfUse = codesClaim(payload, 'purpose_of_use');
  return {
    authenticated: true,
    clientId: stringClaim(payload, 'client_id') ?? stringClaim(payload, 'azp'),
    subject: typeof payload.sub === 'string' ? payload.sub : undefined,
    fhirUser,
    patient: stringClaim(payload, 'patient'),
    scopes,
    purposeOfUse,
    grantedLabels: codesClaim(payload, 'security_labels'),
    roles: codesClaim(payload, 'roles'),
    breakGlass: purposeOfUse.includes('BTG') && fhirUser !== undefined && scopes.some((s) => s.context === 'user'),
    address,
  };
}

/** The bearer token of a request; a 401 with a bare challenge when there is none (RFC 6750 §3.1). */
export function bearerToken(request: FastifyRequest, realm: string): string {
  const header = request.headers.authorization;
  if (header === undefined || header.trim() === '') {
    throw unauthorized('This server requires an access token: send Authorization: Bearer <token>', bearerChallenge(realm));
  }
  const [scheme, ...rest] = header.trim().split(/\s+/);
  if (scheme.toLowerCase() !== 'bearer') {
    throw unauthorized('The Authorization header must use the Bearer scheme: Authorization: Bearer <token>', bearerChallenge(realm));
  }
  if (rest.length !== 1) throw invalidToken(realm, 'it is malformed (not a signed JWT)');
  return rest[0];
}

/** Verifies the request's token and returns its Caller (401 FhirError when it cannot be used). */
export async function authenticate(request: FastifyRequest, verifier: TokenVerifier, realm: string): Promise<Caller> {
  const payload = await verifier.verify(bearerToken(request, realm));
  return callerFromClaims(payload, request.ip);
}
