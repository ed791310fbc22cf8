import t from 'tap';
import { decodeJwt } from 'jose';
import { backendKeys, clientCredentials, startAuthServer } from '../helpers/auth.js';

const server = await startAuthServer(t);
const keys = await backendKeys('ES384');
await server.clients.add({ client_id: 'ehr-sync', client_name: 'EHR sync', jwks: keys.jwks, scope: 'system/*.cruds' });

t.test('client_credentials with private_key_jwt gives a JWT access token for the FHIR API with the system scope', async (t) => {
  const response = await clientCredentials(server, 'ehr-sync', keys, 'system/*.cruds');
  t.equal(response.status, 200);
  const body = await response.json();
  t.equal(body.token_type, 'Bearer');
  t.equal(body.scope, 'system/*.cruds');
  const claims = decodeJwt(body.access_token);
  t.equal(claims.iss, server.issuer);
  t.equal(claims.aud, server.fhirBase);
  t.equal(claims.client_id, 'ehr-sync');
  t.equal(claims.scope, 'system/*.cruds');
  t.ok(typeof claims.exp === 'number' && claims.exp - Math.floor(Date.now() / 1000) <= 300, 'lives 5 minutes at most');

  const auth = { authorization: `Bearer ${body.access_token}`, 'content-type': 'application/fhir+json' };
  const put = await fetch(`${server.fhirBase}/Patient/cc-1`, { method: 'PUT', headers: auth, body: JSON.stringify({ resourceType: 'Patient', id: 'cc-1' }) });
  t.equal(put.status, 201, 'the resource server accepts the token for a write');
  const read = await fetch(`${server.fhirBase}/Patient/cc-1`, { headers: auth });
  t.equal(read.status, 200);
});

t.test('a narrower system scope than the registered one is granted', async (t) => {
  const response = await clientCredentials(server, 'ehr-sync', keys, 'system/Patient.rs');
  t.equal(response.status, 200);
  t.equal((await response.json()).scope, 'system/Patient.rs');
});

t.test('a scope the client is not registered for is refused with invalid_scope', async (t) => {
  const readOnly = await backendKeys('RS384');
  await server.clients.add({ client_id: 'reader', jwks: readOnly.jwks, scope: 'system/Observation.rs' });
  for (const scope of ['system/*.rs', 'system/Observation.cruds', 'system/Patient.rs', 'patient/*.rs', 'openid']) {
    const response = await clientCredentials(server, 'reader', readOnly, scope);
    t.equal(response.status, 400, scope);
    t.equal((await response.json()).error, 'invalid_scope', scope);
  }
  t.equal((await clientCredentials(server, 'reader', readOnly, 'system/Observation.rs')).status, 200);
});

t.test('an assertion signed with another key, or replayed, is refused', async (t) => {
  const stranger = await backendKeys('ES384');
  const forged = await clientCredentials(server, 'ehr-sync', stranger, 'system/*.rs');
  t.equal(forged.status, 401);
  t.equal((await forged.json()).error, 'invalid_client');

  const assertion = await keys.assertion('ehr-sync', server.tokenUrl);
  const form = { grant_type: 'client_credentials', scope: 'system/*.rs', client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer', client_assertion: assertion };
  const post = () => fetch(server.tokenUrl, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  t.equal((await post()).status, 200);
  const again = await post();
  t.equal(again.status, 401, 'the same assertion (jti) twice');
});

t.test('the FHIR API still refuses requests without a token', async (t) => {
  t.equal((await fetch(`${server.fhirBase}/Patient/cc-1`)).status, 401);
});
