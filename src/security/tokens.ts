import { readFile } from 'node:fs/promises';
import type { FastifyBaseLogger } from 'fastify';
import {
  createLocalJWKSet,
  createRemoteJWKSet,
  errors,
  jwtVerify,
  type JSONWebKeySet,
  type JWTPayload,
  type JWTVerifyGetKey,
} from 'jose';
import type { AuthConfig } from '../config.js';
import { FhirError, issue, unauthorized } from '../outcome.js';

/** How often at most the JWKS file is read again for a token whose `kid` it does not hold. */
const FILE_RELOAD_INTERVAL_MS = 5_000;
/** Remote key sets: refetched at the latest after this long, and at most this often on an unknown `kid`. */
const REMOTE_CACHE_MAX_AGE_MS = 10 * 60_000;
const REMOTE_COOLDOWN_MS = 30_000;
const REMOTE_TIMEOUT_MS = 5_000;
/** Three base64url parts; anything else is not a compact JWS and never reaches jose. */
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$/;
const MAX_TOKEN_LENGTH = 16 * 1024;

/** The WWW-Authenticate challenge of RFC 6750 §3, with `realm` = the FHIR base URL. */
export function bearerChallenge(realm: string, description?: string): Record<string, string> {
  const quoted = (value: string) => `"${value.replace(/["\\]/g, '')}"`;
  const parts = [`realm=${quoted(realm)}`];
  if (description !== undefined) parts.push('error="invalid_token"', `error_description=${quoted(description)}`);
  return { 'www-authenticate': `Bearer ${parts.join(', ')}` };
}

/** 401 for a token that cannot be used; the description says why and never repeats the token. */
export function invalidToken(realm: string, description: string): FhirError {
  return unauthorized(`The access token was refused: ${description}`, bearerChallenge(realm, description));
}

/** The issuer's keys could not be had (JWKS endpoint down, file unreadable): the server's problem, not the token's. */
class KeySourceUnavailable extends Error {}

/** Failures of key look-up that say something about the token rather than the key source. */
const TOKEN_KEY_ERRORS = new Set<string>([
  errors.JWKSNoMatchingKey.code,
  errors.JWKSMultipleMatchingKeys.code,
  errors.JOSENotSupported.code,
]);

function guardKeySource(getKey: JWTVerifyGetKey, log: FastifyBaseLogger): JWTVerifyGetKey {
  return async (header, token) => {
    try {
      return await getKey(header, token);
    } catch (error) {
      if (error instanceof errors.JOSEError && TOKEN_KEY_ERRORS.has(error.code)) throw error;
      log.warn({ reason: error instanceof Error ? error.message : String(error) }, 'the issuer\'s signing keys could not be loaded');
      throw new KeySourceUnavailable();
    }
  };
}

async function readKeySet(file: string): Promise<JSONWebKeySet> {
  const parsed = JSON.parse(await readFile(file, 'utf8')) as JSONWebKeySet;
  if (!parsed || !Array.isArray(parsed.keys)) throw new Error(`${file} is not a JSON Web Key Set (no "keys" array)`);
  return parsed;
}

/** A key set read from a file, read again (at most every few seconds) when a token names a `kid` it lacks. */
async function fileKeySet(file: string, log: FastifyBaseLogger): Promise<JWTVerifyGetKey> {
  let keys: JWTVerifyGetKey;
  try {
    keys = createLocalJWKSet(await readKeySet(file));
  } catch (error) {
    throw new Error(`AUTH_JWKS_FILE ${file} could not be read as a JSON Web Key Set: ${(error as Error).message}`);
  }
  let lastReload = -Infinity;
  let reloading: Promise<void> | undefined;
  const reload = async () => {
    lastReload = Date.now();
    try {
      keys = createLocalJWKSet(await readKeySet(file));
    } catch (error) {
      // Keep the keys we have: a file being rewritten must not lock everyone out.
      log.warn({ file, reason: (error as Error).message }, 'AUTH_JWKS_FILE could not be read again; keeping the keys read before');
    }
  };
  return async (header, token) => {
    try {
      return await keys(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey)) throw error;
      if (!reloading && Date.now() - lastReload < FILE_RELOAD_INTERVAL_MS) throw error;
      reloading ??= reload().finally(() => (reloading = undefined));
      await reloading;
      return keys(header, token);
    }
  };
}

/** What is wrong with a token, from jose's error, in words a client developer can act on. */
function describe(error: unknown, allowed: string[]): string {
  if (error instanceof errors.JWTExpired) return 'it has expired (exp)';
  if (error instanceof errors.JWTClaimValidationFailed) {
    if (error.claim === 'nbf') return 'it is not valid yet (nbf)';
    if (error.claim === 'aud') return 'its audience (aud) is not this server';
    if (error.claim === 'iss') return 'its issuer (iss) is not the one this server trusts';
    if (error.claim === 'exp') return 'it has no valid expiry (exp)';
    if (error.claim === 'iat') return 'its issue time (iat) is invalid';
    return `its claim ${error.claim.replace(/[^\w-]/g, '').slice(0, 32)} is invalid`;
  }
  if (error instanceof errors.JOSEAlgNotAllowed) return `its algorithm (alg) is not allowed; allowed: ${allowed.join(', ')}`;
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return 'it is not signed with a known key of the issuer (unknown kid)';
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'its signature does not verify';
  if (error instanceof errors.JOSENotSupported) return 'it uses an algorithm or key type this server does not support';
  return 'it is malformed (not a signed JWT)';
}

/**
 * Verifies access tokens (JWTs) against the configured issuer, audience, algorithms and keys.
 * Every failure is a 401 FhirError carrying a WWW-Authenticate challenge; an unreachable key
 * source is a 503, so that clients do not throw away good tokens during an outage.
 */
/** How long a verified token is trusted without checking its signature again. */
const VERIFIED_TTL_MS = 60_000;
/** The most verified tokens remembered (the oldest is forgotten first). */
const MAX_VERIFIED = 10_000;

export class TokenVerifier {
  private constructor(
    private readonly auth: AuthConfig & { issuer: string },
    private readonly realm: string,
    private readonly keys: JWTVerifyGetKey,
  ) {}

  static async create(auth: AuthConfig, realm: string, log: FastifyBaseLogger): Promise<TokenVerifier> {
    const { issuer } = auth;
    if (!issuer) throw new Error('TokenVerifier needs AUTH_ISSUER');
    let keys: JWTVerifyGetKey;
    if (auth.jwksUrl) {
      keys = createRemoteJWKSet(new URL(auth.jwksUrl), {
        cacheMaxAge: REMOTE_CACHE_MAX_AGE_MS,
        cooldownDuration: REMOTE_COOLDOWN_MS,
        timeoutDuration: REMOTE_TIMEOUT_MS,
      });
    } else if (auth.jwksFile) {
      keys = await fileKeySet(auth.jwksFile, log);
    } else {
      throw new Error('AUTH_ISSUER needs AUTH_JWKS_URL or AUTH_JWKS_FILE');
    }
    return new TokenVerifier({ ...auth, issuer }, realm, guardKeySource(keys, log));
  }

  /**
   * Tokens verified lately, with the instant until which each stays valid: an app sends the same
   * token with every request, and a signature check costs more than the rest of a read's work.
   * An entry lasts until the token's `exp` (plus the skew) and at most VERIFIED_TTL_MS, so a key
   * withdrawn from the issuer's set stops being trusted within that time.
   */
  private readonly verified = new Map<string, { payload: JWTPayload; until: number }>();

  /** The claims of a valid token; throws a 401 (or 503) FhirError otherwise. */
  async verify(token: string): Promise<JWTPayload> {
    const now = Date.now();
    const known = this.verified.get(token);
    if (known && known.until > now) return known.payload;
    if (known) this.verified.delete(token);
    const payload = await this.check(token);
    const until = Math.min(now + VERIFIED_TTL_MS, (payload.exp! + this.auth.clockSkewSeconds) * 1000);
    if (this.verified.size >= MAX_VERIFIED) this.verified.delete(this.verified.keys().next().value!);
    this.verified.set(token, { payload, until });
    return payload;
  }

  private async check(token: string): Promise<JWTPayload> {
    if (token.length > MAX_TOKEN_LENGTH || !COMPACT_JWS.test(token)) {
      throw invalidToken(this.realm, 'it is malformed (not a signed JWT)');
    }
    try {
      const { payload } = await jwtVerify(token, this.keys, {
        issuer: this.auth.issuer,
        audience: this.auth.audience,
        algorithms: this.auth.algorithms,
        clockTolerance: this.auth.clockSkewSeconds,
        requiredClaims: ['exp'],
      });
      return payload;
    } catch (error) {
      if (error instanceof KeySourceUnavailable) {
        throw new FhirError(503, issue('error', 'transient', 'The issuer\'s signing keys could not be loaded to check the access token; try again shortly'), {
          'retry-after': '5',
        });
      }
      throw invalidToken(this.realm, describe(error, this.auth.algorithms));
    }
  }
}
