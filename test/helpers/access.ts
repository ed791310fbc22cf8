import type { FastifyRequest } from 'fastify';
import type { Caller, Interaction, RequestContext, Scope } from '../../src/security/context.js';

/** A scope as a token would carry it, e.g. `system/*.cruds` or `patient/DocumentReference.rs?category=x` (v2 letters only). */
export function scope(text: string): Scope {
  const match = /^(patient|user|system)\/([A-Za-z*]+)\.([cruds]+)(?:\?(.*))?$/.exec(text);
  if (!match) throw new Error(`test scope "${text}" must look like system/*.cruds`);
  const result: Scope = { text, context: match[1] as Scope['context'], type: match[2], interactions: new Set(match[3].split('') as Interaction[]) };
  if (match[4] !== undefined) result.query = [...new URLSearchParams(match[4])];
  return result;
}

/** Callers of a patient app: `patient/` scopes for this patient. */
export const patientApp = (patient: string, ...scopes: string[]) =>
  asCaller({ patient, scopes: (scopes.length ? scopes : ['patient/*.cruds']).map(scope) });

/** An app option that makes every request come from this caller (authenticated, system/*.cruds unless given). */
export function asCaller(caller: Partial<Caller>) {
  return {
    contextHook: (ctx: RequestContext, _request: FastifyRequest): RequestContext => ({
      ...ctx,
      caller: {
        authenticated: true, scopes: [scope('system/*.cruds')], purposeOfUse: [], grantedLabels: [], roles: [], breakGlass: false, address: '127.0.0.1',
        ...caller,
      },
    }),
  };
}

/** meta.security with the confidentiality code R (restricted). */
export const RESTRICTED = { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-Confidentiality', code: 'R' }] };
