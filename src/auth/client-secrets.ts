import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * Client secrets (client_secret_basic / client_secret_post) are kept as a SHA-256 digest only,
 * never as given. A fast digest is enough here, unlike for passwords: a secret is long and random
 * (generated, or at least MIN_SECRET_LENGTH characters), so it cannot be guessed from its digest.
 */
export const MIN_SECRET_LENGTH = 32;
const PREFIX = 'sha256:';
const DIGEST = /^sha256:[A-Za-z0-9_-]{43}$/;

/** 32 random bytes, base64url (43 characters): nothing in it that Basic auth or a form must escape. */
export function generateClientSecret(): string {
  return randomBytes(32).toString('base64url');
}

/**
 * Characters that form-encoding leaves alone: RFC 6749 has clients form-encode the secret in
 * Basic auth and the provider decodes it, so a `+` or `%` would fail with clients that do not.
 */
const SECRET = /^[A-Za-z0-9._~-]+$/;

export function hashClientSecret(secret: string): string {
  if (secret.length < MIN_SECRET_LENGTH) throw new Error(`a client secret must have at least ${MIN_SECRET_LENGTH} characters (let --secret-generate make one)`);
  if (!SECRET.test(secret)) throw new Error('a client secret may hold only A-Z a-z 0-9 . _ ~ - (let --secret-generate make one)');
  return PREFIX + createHash('sha256').update(secret, 'utf8').digest('base64url');
}

export function isSecretDigest(value: unknown): value is string {
  return typeof value === 'string' && DIGEST.test(value);
}

/** Whether `given` is the secret whose digest is `stored`, in time that does not depend on where they differ. */
export function clientSecretMatches(stored: string, given: unknown): boolean {
  if (!isSecretDigest(stored) || typeof given !== 'string') return false;
  const digest = createHash('sha256').update(given, 'utf8').digest();
  return timingSafeEqual(digest, Buffer.from(stored.slice(PREFIX.length), 'base64url'));
}
