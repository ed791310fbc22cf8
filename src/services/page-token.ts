import { badRequest } from '../outcome.js';

/**
 * Opaque paging tokens: the position of a keyset page, as base64url JSON. They carry no
 * secrets (only sort keys and ids the client may see) and are checked when read back.
 */
export function encodePageToken(position: object): string {
  return Buffer.from(JSON.stringify(position), 'utf8').toString('base64url');
}

export function decodePageToken<T>(token: string, isValid: (value: unknown) => value is T): T {
  let value: unknown;
  try {
    value = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    value = undefined;
  }
  if (!isValid(value)) throw badRequest('The paging token is not valid: follow the links of the Bundle', 'invalid');
  return value;
}
