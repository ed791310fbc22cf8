import type { ClientRecord } from './clients.js';
import type { UserRecord } from './users.js';

/**
 * What users and clients of the built-in server are granted beyond their scopes, and the access
 * token claims that carry it, named and shaped as the resource server reads them
 * (src/security/authenticate.ts): `security_labels`, `roles` and `purpose_of_use`, arrays of codes.
 */

/** v3 codes (R, PSY, PRCP, TREAT, 42CFRPart2...): what the resource server keeps of a claim, less `:`. */
const CODE = /^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/;

/** The purpose of use that breaks the glass (v3 ActReason BTG). */
export const BREAK_THE_GLASS = 'BTG';

/** Codes as typed on the command line: separated by commas or spaces. */
export function splitCodes(text: string): string[] {
  return text.split(/[\s,]+/).filter(Boolean);
}

/** A stored list of codes (absent, or an array of codes), without repeats; undefined when empty. */
export function checkCodes(value: unknown, where: string, example: string): string[] | undefined {
  if (value === undefined) return undefined;
  if (!Array.isArray(value)) throw new Error(`${where} must be a list of codes, such as ${example}`);
  const bad = value.filter((code) => typeof code !== 'string' || !CODE.test(code));
  if (bad.length > 0) {
    throw new Error(`${where}: ${bad.map((code) => JSON.stringify(code)).join(', ')} is not a code (letters, digits, . _ -, such as ${example})`);
  }
  const codes = [...new Set(value as string[])];
  return codes.length > 0 ? codes : undefined;
}

function claims(labels: string[] | undefined, roles: string[] | undefined, purposes: string[]): Record<string, string[]> {
  return {
    ...(labels ? { security_labels: labels } : {}),
    ...(roles ? { roles } : {}),
    ...(purposes.length > 0 ? { purpose_of_use: purposes } : {}),
  };
}

/**
 * The grant claims of an access token: for a user's token (code flow) the user's labels and
 * roles; for a client_credentials token the client's. The purposes of use are the client's (what
 * the app is for), BTG only in the token of a user allowed to break the glass, checked at every
 * issue so that taking the permission away takes effect at the next token.
 */
export function grantClaims(client: ClientRecord | undefined, user?: UserRecord): Record<string, string[]> {
  const purposes = (client?.purpose_of_use ?? []).filter((code) => code !== BREAK_THE_GLASS || user?.breakGlass === true);
  if (user) return claims(user.securityLabels, user.roles, purposes);
  return claims(client?.security_labels, client?.roles, purposes);
}
