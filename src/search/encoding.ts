/**
 * How token and reference values are encoded as plain strings in one array per parameter,
 * so each search is an equality (or `$in`) on a scalar array that an ordinary multikey index
 * serves. Both extraction (write time) and planning (query time) use these functions.
 *
 *   `=code`          the code (or value) in any system          query: code
 *   `system|code`    the code in that system ('' = no system)   query: system|code, |code
 *   `system|`        anything in that system                    query: system|
 *   `#ts|tc|value`   identifier value with that type coding     query: :of-type=ts|tc|value
 */
export const anySystem = (code: string) => `=${code}`;
export const inSystem = (system: string | undefined, code: string) => `${system ?? ''}|${code}`;
export const systemOnly = (system: string) => `${system}|`;
export const ofType = (typeSystem: string, typeCode: string, value: string) => `#${typeSystem}|${typeCode}|${value}`;

/** The field names under `sp` that one parameter uses. */
export const field = {
  values: (code: string) => `sp.${code}`,
  sort: (code: string) => `sp.${code}__sort`,
  exact: (code: string) => `sp.${code}__exact`,
  identifier: (code: string) => `sp.${code}__id`,
  dateLow: (code: string) => `sp.${code}.lo`,
  dateHigh: (code: string) => `sp.${code}.hi`,
  /** Every [lo, hi] when a resource has several date values (for the exact check in the server). */
  dateAll: (code: string) => `sp.${code}.all`,
};

const REFERENCE = /^(?:(.*)\/)?([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})(?:\/_history\/[^/]+)?$/;

/**
 * A reference as the key it is stored and found by: `Type/id` for local references (relative, or
 * absolute under our own base URL, with any `_history` part dropped); the URL itself otherwise.
 * A search by a bare id looks for `Type/id` of each type the parameter may point at (parse.ts),
 * so the bare id is not stored beside it: one index entry per reference, not two.
 */
export function referenceKey(reference: string, baseUrl: string): string {
  const match = REFERENCE.exec(reference);
  if (match) {
    const [, prefix, type, id] = match;
    if (prefix === undefined || prefix === baseUrl) return `${type}/${id}`;
  }
  return reference.split('|')[0];
}

/** `Type/id` of a local reference key, or undefined. */
export function splitLocalReference(key: string): { type: string; id: string } | undefined {
  const match = /^([A-Z][A-Za-z]+)\/([A-Za-z0-9\-.]{1,64})$/.exec(key);
  return match ? { type: match[1], id: match[2] } : undefined;
}
