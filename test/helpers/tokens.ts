import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type JWK } from 'jose';

export const TEST_ISSUER = 'https://auth.test';
export const TEST_AUDIENCE = 'http://fhir.test/fhir';

export interface TestIssuer {
  /** Environment for startTestServer: AUTH_ISSUER, AUTH_JWKS_FILE. */
  env: Record<string, string>;
  /** A signed access token with these claims (iss, aud, exp, kid filled in unless given). */
  token(claims: Record<string, unknown>, options?: { expiresIn?: string; audience?: string; issuer?: string; notBefore?: string }): Promise<string>;
  /** Authorization header of a token with these claims. */
  bearer(claims: Record<string, unknown>): Promise<{ authorization: string }>;
  jwk: JWK;
}

/** An RS256 key pair whose public half is written as a JWKS file the server trusts. */
export async function testIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  const dir = mkdtempSync(join(tmpdir(), 'fhir-jwks-'));
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [jwk] }));
  const token: TestIssuer['token'] = async (claims, options = {}) => {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg: 'RS256', kid: jwk.kid })
      .setIssuer(options.issuer ?? TEST_ISSUER)
      .setAudience(options.audience ?? TEST_AUDIENCE)
      .setIssuedAt()
      .setExpirationTime(options.expiresIn ?? '5m');
    if (options.notBefore) jwt.setNotBefore(options.notBefore);
    return jwt.sign(privateKey);
  };
  return {
    env: { AUTH_ISSUER: TEST_ISSUER, AUTH_JWKS_FILE: file },
    token,
    bearer: async (claims) => ({ authorization: `Bearer ${await token(claims)}` }),
    jwk,
  };
}
