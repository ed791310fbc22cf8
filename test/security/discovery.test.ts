import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { TEST_ISSUER, testIssuer } from '../helpers/tokens.js';

const issuer = await testIssuer();
const AUTHORIZE = 'https://auth.test/authorize';
const TOKEN = 'https://auth.test/token';

t.test('with an issuer, GET /metadata is public and describes SMART-on-FHIR security with the OAuth URIs', async (t) => {
  const server = await startTestServer(t, {
    env: { ...issuer.env, AUTH_AUTHORIZE_URL: AUTHORIZE, AUTH_TOKEN_URL: TOKEN, CORS_ORIGINS: 'https://app.example' },
  });
  const response = await server.request({ method: 'GET', url: '/fhir/metadata' });
  t.equal(response.statusCode, 200);
  const security = server.json(response).rest[0].security;
  t.equal(security.cors, true);
  t.same(security.service[0].coding[0], { system: 'http://terminology.hl7.org/CodeSystem/restful-security-service', code: 'SMART-on-FHIR' });
  const uris = security.extension.find((e: { url: string }) => e.url === 'http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris');
  t.same(uris.extension, [
    { url: 'authorize', valueUri: AUTHORIZE },
    { url: 'token', valueUri: TOKEN },
  ]);
  t.match(security.description, /bearer access token/);
});

t.test('with an issuer, GET /.well-known/smart-configuration is public and names the issuer, endpoints and capabilities', async (t) => {
  const server = await startTestServer(t, { env: { ...issuer.env, AUTH_AUTHORIZE_URL: AUTHORIZE, AUTH_TOKEN_URL: TOKEN } });
  const response = await server.request({ method: 'GET', url: '/fhir/.well-known/smart-configuration' });
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /^application\/json/);
  const body = server.json(response);
  t.equal(body.issuer, TEST_ISSUER);
  t.equal(body.authorization_endpoint, AUTHORIZE);
  t.equal(body.token_endpoint, TOKEN);
  t.notOk('jwks_uri' in body, 'no jwks_uri when the keys come from a file');
  t.same(body.code_challenge_methods_supported, ['S256']);
  t.same(body.response_types_supported, ['code']);
  t.ok(body.grant_types_supported.includes('authorization_code'));
  for (const capability of ['launch-standalone', 'client-public', 'context-standalone-patient', 'permission-patient', 'permission-user', 'permission-v1', 'permission-v2']) {
    t.ok(body.capabilities.includes(capability), capability);
  }
  t.ok(body.scopes_supported.includes('patient/*.rs'));
});

t.test('smart-configuration gives jwks_uri when the keys come from AUTH_JWKS_URL', async (t) => {
  const server = await startTestServer(t, { env: { AUTH_ISSUER: TEST_ISSUER, AUTH_JWKS_URL: 'https://auth.test/jwks' } });
  const body = server.json(await server.request({ method: 'GET', url: '/fhir/.well-known/smart-configuration' }));
  t.equal(body.jwks_uri, 'https://auth.test/jwks');
  t.notOk('authorization_endpoint' in body, 'no endpoints that were not configured');
});

t.test('health routes are public with an issuer', async (t) => {
  const server = await startTestServer(t, { env: { ...issuer.env } });
  t.equal((await server.request({ method: 'GET', url: '/healthz' })).statusCode, 200);
  t.equal((await server.request({ method: 'GET', url: '/readyz' })).statusCode, 200);
});

t.test('with authorization off, smart-configuration answers 404 saying authorization is not configured', async (t) => {
  const server = await startTestServer(t);
  const response = await server.request({ method: 'GET', url: '/fhir/.well-known/smart-configuration' });
  t.equal(response.statusCode, 404);
  t.match(response.headers['content-type'], /^application\/fhir\+json/);
  t.match(server.json(response).issue[0].diagnostics, /Authorization is not configured/);
});

t.test('with authorization off, metadata says so and offers no SMART service, and requests need no token', async (t) => {
  const server = await startTestServer(t);
  const security = server.json(await server.request({ method: 'GET', url: '/fhir/metadata' })).rest[0].security;
  t.equal(security.cors, false);
  t.notOk(security.service);
  t.match(security.description, /Authorization is off/);
  t.equal((await server.request({ method: 'GET', url: '/fhir/Patient' })).statusCode, 200);
});
