import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import t from 'tap';
import { decodeJwt } from 'jose';
import { ClientRegistry, generateClientSecret } from '../../src/auth/index.js';
import { APP_REDIRECT, basicAuth, pkce, postForm, signInAndAllow, startAuthServer } from '../helpers/auth.js';

const server = await startAuthServer(t);
const secret = generateClientSecret();
await server.clients.add({ client_id: 'reporting', client_secret: secret, scope: 'system/*.cruds' });

const clientCredentials = (scope: string, headers: Record<string, string>, form: Record<string, string> = {}) =>
  postForm(server.tokenUrl, { grant_type: 'client_credentials', scope, ...form }, headers);

t.test('client_credentials with client_secret_basic gives an access token the FHIR API accepts', async (t) => {
  const response = await clientCredentials('system/*.cruds', basicAuth('reporting', secret));
  t.equal(response.status, 200);
  const body = await response.json();
  t.equal(body.token_type, 'Bearer');
  t.equal(body.scope, 'system/*.cruds');
  const claims = decodeJwt(body.access_token);
  t.equal(claims.client_id, 'reporting');
  t.equal(claims.aud, server.fhirBase);

  const auth = { authorization: `Bearer ${body.access_token}`, 'content-type': 'application/fhir+json' };
  const put = await fetch(`${server.fhirBase}/Patient/secret-1`, { method: 'PUT', headers: auth, body: JSON.stringify({ resourceType: 'Patient', id: 'secret-1' }) });
  t.equal(put.status, 201);
  t.equal((await fetch(`${server.fhirBase}/Patient/secret-1`, { headers: auth })).status, 200);
});

t.test('the secret may also be sent in the form (client_secret_post)', async (t) => {
  const response = await clientCredentials('system/Patient.rs', {}, { client_id: 'reporting', client_secret: secret });
  t.equal(response.status, 200);
  t.equal((await response.json()).scope, 'system/Patient.rs');
});

t.test('a wrong or missing secret is refused with 401 invalid_client', async (t) => {
  for (const [what, headers, form] of [
    ['wrong secret (Basic)', basicAuth('reporting', generateClientSecret()), {}],
    ['the secret with a character more', basicAuth('reporting', `${secret}x`), {}],
    ['wrong secret (form)', {}, { client_id: 'reporting', client_secret: 'not-the-secret' }],
    ['the secret of an unknown client', basicAuth('nobody', secret), {}],
  ] as const) {
    const response = await clientCredentials('system/*.rs', headers, form);
    t.equal(response.status, 401, what);
    t.equal((await response.json()).error, 'invalid_client', what);
  }
  const anonymous = await clientCredentials('system/*.rs', {}, { client_id: 'reporting' });
  t.equal(anonymous.status, 401, 'no secret at all');
});

t.test('a secret client gets only scopes it is registered for', async (t) => {
  const readerSecret = generateClientSecret();
  await server.clients.add({ client_id: 'observation-reader', client_secret: readerSecret, scope: 'system/Observation.rs' });
  for (const scope of ['system/*.rs', 'system/Observation.cruds', 'system/Patient.rs', 'patient/*.rs']) {
    const response = await clientCredentials(scope, basicAuth('observation-reader', readerSecret));
    t.equal(response.status, 400, scope);
    t.equal((await response.json()).error, 'invalid_scope', scope);
  }
  t.equal((await clientCredentials('system/Observation.rs', basicAuth('observation-reader', readerSecret))).status, 200);
});

t.test('a confidential web app: authorization code with PKCE, the code redeemed with its secret', async (t) => {
  const webSecret = generateClientSecret();
  await server.clients.add({ client_id: 'web-app', client_secret: webSecret, redirect_uris: [APP_REDIRECT], scope: 'launch/patient openid fhirUser patient/*.rs' });
  await server.users.add({ username: 'carol', password: 'carol password 1', fhirUser: 'Patient/carol' });
  const authorize = (challenge: string) =>
    `${server.authorizeUrl}?${new URLSearchParams({
      response_type: 'code',
      client_id: 'web-app',
      redirect_uri: APP_REDIRECT,
      scope: 'launch/patient patient/*.rs',
      state: 's',
      aud: server.fhirBase,
      code_challenge: challenge,
      code_challenge_method: 'S256',
    })}`;
  const redeem = async (headers: Record<string, string>, form: Record<string, string> = {}) => {
    const { verifier, challenge } = pkce();
    const back = await signInAndAllow(server, authorize(challenge), 'carol', 'carol password 1');
    return postForm(server.tokenUrl, { grant_type: 'authorization_code', code: back.searchParams.get('code')!, redirect_uri: APP_REDIRECT, code_verifier: verifier, ...form }, headers);
  };

  const response = await redeem(basicAuth('web-app', webSecret));
  t.equal(response.status, 200);
  const body = await response.json();
  t.equal(body.patient, 'carol');
  t.equal(decodeJwt(body.access_token).client_id, 'web-app');

  const wrong = await redeem(basicAuth('web-app', generateClientSecret()));
  t.equal(wrong.status, 401, 'a wrong secret cannot redeem the code');
  const publicStyle = await redeem({}, { client_id: 'web-app' });
  t.equal(publicStyle.status, 401, 'nor can the client as a public one, without its secret');
  t.equal((await publicStyle.json()).error, 'invalid_client');
});

t.test('a secret is refused when it is short, and a client cannot hold both a secret and a key set', async (t) => {
  await t.rejects(server.clients.add({ client_id: 'weak', client_secret: 'short secret', scope: 'system/*.rs' }), /at least 32 characters/);
  await t.rejects(
    server.clients.add({ client_id: 'both', client_secret: generateClientSecret(), jwks: { keys: [] }, scope: 'system/*.rs' }),
    /a key set or a secret, not both/,
  );
});

t.test('a clients file with a secret in clear is refused rather than read as a public client', async (t) => {
  const file = join(server.dir, 'hand-written-clients.json');
  writeFileSync(file, JSON.stringify({ clients: [{ client_id: 'by-hand', client_secret: generateClientSecret(), redirect_uris: [APP_REDIRECT], scope: 'patient/*.rs' }] }));
  await t.rejects(new ClientRegistry(file).list(), /kept only as client_secret_hash/);
});
