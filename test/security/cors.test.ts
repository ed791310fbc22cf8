import t from 'tap';
import { startTestServer } from '../helpers/server.js';
import { testIssuer } from '../helpers/tokens.js';

const issuer = await testIssuer();
const APP = 'https://app.example';
const server = await startTestServer(t, { env: { ...issuer.env, CORS_ORIGINS: `${APP}, https://other-app.example` } });

const preflight = (origin: string) =>
  server.request({
    method: 'OPTIONS',
    url: '/fhir/Patient',
    headers: { origin, 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization, content-type, if-match' },
  });

t.test('a preflight from an allowed origin succeeds without a token and allows Authorization', async (t) => {
  const response = await preflight(APP);
  t.equal(response.statusCode, 204);
  t.equal(response.headers['access-control-allow-origin'], APP);
  t.match(String(response.headers['access-control-allow-methods']), /PUT/);
  t.match(String(response.headers['access-control-allow-headers']), /Authorization/);
  t.match(String(response.headers['access-control-allow-headers']), /If-None-Exist/);
});

t.test('a request from an allowed origin exposes ETag and Location to the browser', async (t) => {
  const response = await server.request({
    method: 'POST',
    url: '/fhir/Patient',
    headers: { origin: APP, 'content-type': 'application/fhir+json', ...(await issuer.bearer({ scope: 'user/*.cruds' })) },
    payload: JSON.stringify({ resourceType: 'Patient' }),
  });
  t.equal(response.statusCode, 201);
  t.equal(response.headers['access-control-allow-origin'], APP);
  const exposed = String(response.headers['access-control-expose-headers']);
  for (const name of ['ETag', 'Location', 'Content-Location', 'Last-Modified', 'X-Request-Id']) t.match(exposed, name);
});

t.test('a 401 to an allowed origin still carries the CORS headers, so the app can read why', async (t) => {
  const response = await server.request({ method: 'GET', url: '/fhir/Patient', headers: { origin: APP } });
  t.equal(response.statusCode, 401);
  t.equal(response.headers['access-control-allow-origin'], APP);
  t.match(String(response.headers['access-control-expose-headers']), /WWW-Authenticate/);
});

t.test('a disallowed origin gets no Access-Control-Allow-Origin header', async (t) => {
  t.notOk((await preflight('https://evil.example')).headers['access-control-allow-origin']);
  const response = await server.request({ method: 'GET', url: '/fhir/metadata', headers: { origin: 'https://evil.example' } });
  t.equal(response.statusCode, 200);
  t.notOk(response.headers['access-control-allow-origin']);
});

t.test('without CORS_ORIGINS there are no CORS headers', async (t) => {
  const plain = await startTestServer(t, { env: { ...issuer.env } });
  const response = await plain.request({ method: 'GET', url: '/fhir/metadata', headers: { origin: APP } });
  t.notOk(response.headers['access-control-allow-origin']);
});
