import { parseScope } from '../security/scopes.js';

/**
 * The scopes the built-in authorization server knows besides SMART resource scopes
 * (`patient/*.rs`, `system/Observation.read`...), which are unbounded and checked by pattern.
 */
export const STATIC_SCOPES = ['openid', 'fhirUser', 'launch/patient', 'offline_access'] as const;
const STATICS = new Set<string>(STATIC_SCOPES);

/**
 * Whether a client registered for `registered` may be given `requested`: a static scope only by
 * name; a resource scope when a registered one covers it: the same context, the same type or
 * `*`, no interaction beyond it, and (when the registered one has a query) the same query.
 * So `patient/*.cruds` covers `patient/Observation.rs` and `patient/*.read`.
 */
export function scopeCovered(requested: string, registered: readonly string[]): boolean {
  if (STATICS.has(requested)) return registered.includes(requested);
  const wanted = parseScope(requested);
  if (!wanted) return false;
  return registered.some((text) => {
    const given = parseScope(text);
    if (!given || given.context !== wanted.context) return false;
    if (given.type !== '*' && given.type !== wanted.type) return false;
    if ([...wanted.interactions].some((letter) => !given.interactions.has(letter))) return false;
    if (given.query === undefined) return true;
    return wanted.query !== undefined && text.slice(text.indexOf('?')) === requested.slice(requested.indexOf('?'));
  });
}

/** True for a scope the server can issue at all (a static one or a well-formed SMART resource scope). */
export function isKnownScope(scope: string): boolean {
  return STATICS.has(scope) || parseScope(scope) !== undefined;
}

/** Space-separated scopes as a list without repeats or empty words. */
export function scopeList(value: unknown): string[] {
  return typeof value === 'string' ? [...new Set(value.split(' ').filter(Boolean))] : [];
}
