import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair, type CryptoKey, type JWK } from 'jose';

export const TEST_ISSUER = 'https://auth.test';
export const TEST_AUDIENCE = 'http://fhir.test/fhir';

/** `expiresIn: null` leaves `exp` out. */
type TokenOptions = { expiresIn?: string | null; audience?: string; issuer?: string; notBefore?: string };
type TokenFunction = (claims: Record<string, unknown>, options?: TokenOptions) => Promise<string>;

function signer(privateKey: CryptoKey, alg: string, kid: string): TokenFunction {
  return async (claims, options = {}) => {
    const jwt = new SignJWT(claims)
      .setProtectedHeader({ alg, kid })
      .setIssuer(options.issuer ?? TEST_ISSUER)
      .setAudience(options.audience ?? TEST_AUDIENCE)
      .setIssuedAt();
    if (options.expiresIn !== null) jwt.setExpirationTime(options.expiresIn ?? '5m');
    if (options.notBefore) jwt.setNotBefore(options.notBefore);
    return jwt.sign(privateKey);
  };
}

export interface TestIssuer {
  /** Environment for startTestServer: AUTH_ISSUER, AUTH_JWKS_FILE. */
  env: Record<string, string>;
  /** A signed access token with these claims (iss, aud, exp, kid filled in unless given). */
  token: TokenFunction;
  /** Authorization header of a token with these claims. */
  bearer(claims: Record<string, unknown>): Promise<{ authorization: string }>;
  jwk: JWK;
  /** The JWKS file the server reads (AUTH_JWKS_FILE). */
  file: string;
  /**
   * A new key pair (RS256 unless `alg` says otherwise) and a token function signing with it under
   * `kid`; `publish: true` appends its public half to the JWKS file, otherwise the server never knows it.
   */
  newKey(options: { kid: string; alg?: string; publish?: boolean }): Promise<TokenFunction>;
}

/** An RS256 key pair whose public half is written as a JWKS file the server trusts. */
export async function testIssuer(): Promise<TestIssuer> {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'test-key-1', alg: 'RS256', use: 'sig' };
  const dir = mkdtempSync(join(tmpdir(), 'fhir-jwks-'));
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [jwk] }));
  const token = signer(privateKey, 'RS256', jwk.kid);
  const newKey: TestIssuer['newKey'] = async ({ kid, alg = 'RS256', publish = false }) => {
    const pair = await generateKeyPair(alg);
    if (publish) {
      const set = JSON.parse(readFileSync(file, 'utf8')) as { keys: JWK[] };
      set.keys.push({ ...(await exportJWK(pair.publicKey)), kid, alg, use: 'sig' });
      writeFileSync(file, JSON.stringify(set));
    }
    return signer(pair.privateKey, alg, kid);
  };
  return {
    env: { AUTH_ISSUER: TEST_ISSUER, AUTH_JWKS_FILE: file },
    token,
    bearer: async (claims) => ({ authorization: `Bearer ${await token(claims)}` }),
    jwk,
    file,
    newKey,
  };
}
