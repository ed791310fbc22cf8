import type { Interaction, Scope } from './context.js';

/**
 * SMART App Launch resource scopes, v1 and v2:
 *
 *   context/type.permissions[?query]
 *   context      patient | user | system
 *   type         a resource type or *
 *   permissions  v1: read (r s), write (c u d), * (all); v2: letters of c r u d s, in that order
 *   query        v2 only: search parameters the resources must match, e.g. ?category=http://loinc.org|LP173421-1
 *
 * Anything else in the `scope` claim (openid, fhirUser, profile, launch, launch/patient,
 * offline_access, online_access, scopes of other APIs, garbage) grants no resource access and
 * is skipped, never an error: the authorization server decides what it issues.
 */

const ALL: readonly Interaction[] = ['c', 'r', 'u', 'd', 's'];
const V1: Record<string, readonly Interaction[]> = { read: ['r', 's'], write: ['c', 'u', 'd'], '*': ALL };
const RESOURCE_SCOPE = /^(patient|user|system)\/(\*|[A-Z][A-Za-z]{0,63})\.([a-z*]+)(?:\?(.*))?$/;
const V2_LETTERS = /^c?r?u?d?s?$/;

/** One scope string as a resource Scope, or undefined when it is not one. */
export function parseScope(text: string): Scope | undefined {
  const match = RESOURCE_SCOPE.exec(text);
  if (!match) return undefined;
  const [, context, type, permissions, query] = match;
  let interactions: readonly Interaction[];
  if (V1[permissions]) {
    if (query !== undefined) return undefined; // v1 has no query restrictions
    interactions = V1[permissions];
  } else if (V2_LETTERS.test(permissions)) {
    interactions = [...permissions] as Interaction[];
  } else {
    return undefined;
  }
  const scope: Scope = { text, context: context as Scope['context'], type, interactions: new Set(interactions) };
  if (query !== undefined) {
    const pairs = [...new URLSearchParams(query)].filter(([name]) => name !== '');
    if (pairs.length === 0) return undefined; // `?` with nothing usable: not a restriction anyone meant
    scope.query = pairs;
  }
  return scope;
}

/** The resource scopes of a token's `scope` claim (space-separated; an array of strings is accepted too). */
export function parseScopes(claim: unknown): Scope[] {
  const words = typeof claim === 'string' ? claim.split(/\s+/) : Array.isArray(claim) ? claim.filter((w) => typeof w === 'string') : [];
  const scopes: Scope[] = [];
  for (const word of words) {
    const scope = word.length <= 1024 ? parseScope(word) : undefined;
    if (scope) scopes.push(scope);
  }
  return scopes;
}
