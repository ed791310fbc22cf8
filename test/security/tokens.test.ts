import { createPublicKey } from 'node:crypto';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import t, { type Test } from 'tap';
import { SignJWT } from 'jose';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { freePort } from '../../src/db/embedded.js';
import { startTestServer, uniqueDbName, type TestServer } from '../helpers/server.js';
import { TEST_AUDIENCE, TEST_ISSUER, testIssuer } from '../helpers/tokens.js';

const issuer = await testIssuer();
const server = await startTestServer(t, { env: { ...issuer.env } });
const REALM = `Bearer realm="${TEST_AUDIENCE}"`;

const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
const claims = { sub: 'user-1', client_id: 'app-1', scope: 'user/*.rs' };

async function get(s: TestServer, headers: Record<string, string> = {}) {
  return s.request({ method: 'GET', url: '/fhir/Patient', headers });
}

/** A refused token: 401, an OperationOutcome with issue code login, and the RFC 6750 challenge. */
function refused(t: Test, response: Awaited<ReturnType<typeof get>>, description: RegExp | undefined, token?: string) {
  t.equal(response.statusCode, 401);
  t.match(response.headers['content-type'], /^application\/fhir\+json/);
  const body = JSON.parse(response.body);
  t.equal(body.resourceType, 'OperationOutcome');
  t.equal(body.issue[0].code, 'login');
  const challenge = String(response.headers['www-authenticate']);
  if (description) {
    t.match(challenge, new RegExp(`^${REALM}, error="invalid_token", error_description="`));
    t.match(challenge, description);
    t.match(body.issue[0].diagnostics, description);
  } else {
    t.equal(challenge, REALM, 'a bare challenge: no error code when no token was sent');
  }
  if (token) t.notOk(response.body.includes(token) || challenge.includes(token), 'the token is not echoed');
}

t.test('a request without Authorization gets 401 with a bare Bearer challenge', async (t) => {
  refused(t, await get(server), undefined);
});

t.test('a non-Bearer scheme gets 401 with a bare Bearer challenge', async (t) => {
  refused(t, await get(server, { authorization: 'Basic dXNlcjpwYXNz' }), undefined);
});

t.test('a garbage token gets 401 invalid_token: malformed', async (t) => {
  refused(t, await get(server, { authorization: 'Bearer not-a-jwt' }), /malformed/, 'not-a-jwt');
  refused(t, await get(server, { authorization: `Bearer ${b64('x')}.${b64('y')}.zz` }), /malformed/);
  refused(t, await get(server, { authorization: 'Bearer a b' }), /malformed/);
});

t.test('an expired token gets 401 invalid_token: expired', async (t) => {
  const token = await issuer.token(claims, { expiresIn: '-10m' });
  refused(t, await get(server, { authorization: `Bearer ${token}` }), /expired/, token);
});

t.test('an expiry within the clock skew is still accepted', async (t) => {
  const token = await issuer.token(claims, { expiresIn: '-20s' });
  t.equal((await get(server, { authorization: `Bearer ${token}` })).statusCode, 200);
});

t.test('a token that is not valid yet (nbf) gets 401 invalid_token: not valid yet', async (t) => {
  const token = await issuer.token(claims, { notBefore: '10m' });
  refused(t, await get(server, { authorization: `Bearer ${token}` }), /not valid yet \(nbf\)/, token);
});

t.test('a token for another audience gets 401 invalid_token: audience', async (t) => {
  const token = await issuer.token(claims, { audience: 'https://other.example/fhir' });
  refused(t, await get(server, { authorization: `Bearer ${token}` }), /audience \(aud\)/, token);
});

t.test('a token from another issuer gets 401 invalid_token: issuer', async (t) => {
  const token = await issuer.token(claims, { issuer: 'https://evil.example' });
  refused(t, await get(server, { authorization: `Bearer ${token}` }), /issuer \(iss\)/, token);
});

t.test('a token signed with a key the issuer did not publish gets 401 invalid_token: unknown kid', async (t) => {
  const foreign = await issuer.newKey({ kid: 'not-published' });
  const token = await foreign(claims);
  refused(t, await get(server, { authorization: `Bearer ${token}` }), /unknown kid/, token);
});

t.test('a token with a forged signature under a known kid gets 401 invalid_token: signature', async (t) => {
  const forger = await issuer.newKey({ kid: issuer.jwk.kid! });
  const token = await forger(claims);
  refused(t, await get(server, { authorization: `Bearer ${token}` }), /signature does not verify/, token);
});

t.test('an unsigned token (alg none) gets 401 invalid_token: algorithm not allowed', async (t) => {
  const now = Math.floor(Date.now() / 1000);
  const token = `${b64({ alg: 'none', typ: 'JWT' })}.${b64({ ...claims, iss: TEST_ISSUER, aud: TEST_AUDIENCE, iat: now, exp: now + 300 })}.`;
  refused(t, await get(server, { authorization: `Bearer ${token}` }), /algorithm \(alg\) is not allowed/, token);
});

t.test('an HS256 token signed with the public key as secret gets 401 invalid_token: algorithm not allowed', async (t) => {
  const pem = createPublicKey({ key: issuer.jwk as never, format: 'jwk' }).export({ type: 'spki', format: 'pem' });
  const token = await new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', kid: issuer.jwk.kid })
    .setIssuer(TEST_ISSUER)
    .setAudience(TEST_AUDIENCE)
    .setIssuedAt()
    .setExpirationTime('5m')
    .sign(new TextEncoder().encode(String(pem)));
  refused(t, await get(server, { authorization: `Bearer ${token}` }), /algorithm \(alg\) is not allowed/, token);
});

t.test('a token without an expiry (exp) gets 401 invalid_token', async (t) => {
  const token = await issuer.token(claims, { expiresIn: null });
  refused(t, await get(server, { authorization: `Bearer ${token}` }), /no valid expiry \(exp\)/, token);
});

t.test('a token verified before is refused once it expires (the verified-token cache ends at exp)', async (t) => {
  const strict = await startTestServer(t, { env: { ...issuer.env, AUTH_CLOCK_SKEW_SECONDS: '0' } });
  const token = await issuer.token(claims, { expiresIn: '2s' });
  t.equal((await get(strict, { authorization: `Bearer ${token}` })).statusCode, 200);
  await new Promise((resolve) => setTimeout(resolve, 2500));
  refused(t, await get(strict, { authorization: `Bearer ${token}` }), /expired/, token);
});

t.test('a valid token is accepted: GET /fhir/Patient answers 200', async (t) => {
  const response = await get(server, await issuer.bearer(claims));
  t.equal(response.statusCode, 200);
  t.equal(JSON.parse(response.body).resourceType, 'Bundle');
});

t.test('the Bearer scheme name is case-insensitive', async (t) => {
  const token = await issuer.token(claims);
  t.equal((await get(server, { authorization: `bearer ${token}` })).statusCode, 200);
});

t.test('a key added to the JWKS file later is picked up for its new kid', async (t) => {
  const own = await testIssuer();
  const fresh = await startTestServer(t, { env: { ...own.env } });
  t.equal((await get(fresh, await own.bearer(claims))).statusCode, 200, 'the first key works');
  const rotated = await own.newKey({ kid: 'test-key-2', alg: 'ES256', publish: true });
  const response = await get(fresh, { authorization: `Bearer ${await rotated(claims)}` });
  t.equal(response.statusCode, 200, 'a token under the new kid is accepted without a restart');
});

t.test('routes outside the FHIR API need a token too, and get 401 rather than 404', async (t) => {
  const response = await server.request({ method: 'GET', url: '/no-such-route' });
  t.equal(response.statusCode, 401);
});

t.test('writes need a token: POST without one gets 401 and writes nothing', async (t) => {
  const response = await server.request({
    method: 'POST',
    url: '/fhir/Patient',
    headers: { 'content-type': 'application/fhir+json' },
    payload: JSON.stringify({ resourceType: 'Patient' }),
  });
  t.equal(response.statusCode, 401);
  t.equal(await server.db.collection('Patient').countDocuments(), 0);
});

t.test('an unreachable JWKS URL answers 503 transient, not 401 or 500', async (t) => {
  const down = await startTestServer(t, { env: { AUTH_ISSUER: TEST_ISSUER, AUTH_JWKS_URL: `http://127.0.0.1:${await freePort()}/jwks` } });
  const response = await get(down, await issuer.bearer(claims));
  t.equal(response.statusCode, 503);
  t.equal(JSON.parse(response.body).issue[0].code, 'transient');
});

t.test('an AUTH_JWKS_FILE that is not a key set stops start-up with a clear message', async (t) => {
  const file = join(mkdtempSync(join(tmpdir(), 'bad-jwks-')), 'jwks.json');
  writeFileSync(file, '{"not":"keys"}');
  const config = loadConfig({ BASE_URL: TEST_AUDIENCE, AUTH_ISSUER: TEST_ISSUER, AUTH_JWKS_FILE: file });
  const db = server.client.db(uniqueDbName());
  t.teardown(() => db.dropDatabase().catch(() => {}));
  await t.rejects(buildApp({ config, db, logger: false }), /AUTH_JWKS_FILE .* could not be read as a JSON Web Key Set/);
});
