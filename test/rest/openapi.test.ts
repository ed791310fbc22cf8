import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import t from 'tap';
import { FHIR_JSON_HEADERS, startTestServer, type TestServer } from '../helpers/server.js';
import { testIssuer } from '../helpers/tokens.js';

const REDOCLY = fileURLToPath(new URL('../../node_modules/@redocly/cli/bin/cli.js', import.meta.url));
const REDOCLY_CONFIG = fileURLToPath(new URL('../../redocly.yaml', import.meta.url));

/** The document GET /openapi.json answers (which must be 200). */
async function openApi(s: TestServer): Promise<any> {
  const response = await s.request({ method: 'GET', url: '/openapi.json' });
  if (response.statusCode !== 200) throw new Error(`GET /openapi.json answered ${response.statusCode}: ${response.body.slice(0, 200)}`);
  return s.json(response);
}

/** The parameter objects of an operation, with `$ref`s to components resolved. */
function parametersOf(document: any, path: string, method: string): any[] {
  const operation = document.paths[path]?.[method];
  const resolve = (p: any) => (p.$ref ? document.components.parameters[p.$ref.split('/').pop()] : p);
  return [...(document.paths[path]?.parameters ?? []), ...(operation?.parameters ?? [])].map(resolve);
}

/** `redocly lint` on the document, offline: telemetry and update notices off, the repository's redocly.yaml. */
async function lint(document: unknown): Promise<{ totals: { errors: number; warnings: number }; problems: { ruleId: string; message: string }[] }> {
  const dir = mkdtempSync(join(tmpdir(), 'openapi-lint-'));
  try {
    const file = join(dir, 'openapi.json');
    writeFileSync(file, JSON.stringify(document));
    const env = { ...process.env, REDOCLY_TELEMETRY: 'off', REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true', REDOCLY_SUPPRESS_NOTIFICATIONS: 'true', NO_UPDATE_NOTIFIER: '1' };
    const run = promisify(execFile);
    // Exit code 1 means problems were found; the JSON report on stdout says which, so read it either way.
    const { stdout } = await run(process.execPath, [REDOCLY, 'lint', file, '--config', REDOCLY_CONFIG, '--format', 'json'], { env, timeout: 60_000 })
      .catch((error: { stdout?: string }) => ({ stdout: error.stdout ?? '' }));
    return JSON.parse(stdout);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

const server = await startTestServer(t, { app: { searchParamRefreshMs: 0 } });

t.test('GET /openapi.json is an OpenAPI 3 document of the FHIR base URL', async (t) => {
  const response = await server.request({ method: 'GET', url: '/openapi.json' });
  t.equal(response.statusCode, 200);
  t.match(response.headers['content-type'], /^application\/json/);
  const document = JSON.parse(response.body);
  t.match(document.openapi, /^3\./);
  t.same(document.servers, [{ url: 'http://fhir.test/fhir' }]);
});

t.test('every stored type has its instance, type and history interactions', async (t) => {
  const document = await openApi(server);
  t.same(Object.keys(document.paths['/Patient/{id}']).sort(), ['delete', 'get', 'parameters', 'patch', 'put']);
  t.same(Object.keys(document.paths['/Patient']).sort(), ['delete', 'get', 'patch', 'post', 'put'], 'search, create and the conditional writes');
  t.ok(document.paths['/Patient/_search'].post, 'POST _search');
  t.ok(document.paths['/Patient/{id}/_history/{vid}'].get, 'vread');
  t.ok(document.paths['/Patient/{id}/_history'].get && document.paths['/Patient/_history'].get, 'instance and type history');
  t.ok(document.paths['/Patient/$validate'].post && document.paths['/Patient/{id}/$validate'].post, '$validate');
  t.ok(document.paths['/Patient/$reindex'].post, '$reindex');
  t.ok(document.paths['/Patient/{id}/DocumentReference'].get, 'Patient compartment search');
  t.same(Object.keys(document.paths['/AuditEvent/{id}']).sort(), ['get', 'parameters'], 'append-only AuditEvent offers no update or delete');
  t.notOk(document.paths['/AuditEvent'].put, 'nor a conditional update');
});

t.test('system level: batch/transaction, search, history and metadata', async (t) => {
  const document = await openApi(server);
  t.ok(document.paths['/'].post, 'POST [base] takes batch and transaction bundles');
  t.ok(parametersOf(document, '/', 'get').some((p) => p.name === '_type'), 'system search with _type');
  t.ok(document.paths['/_history'].get);
  t.ok(document.paths['/metadata'].get);
});

t.test('type searches list the registry\'s parameters with their FHIR type and documentation', async (t) => {
  const document = await openApi(server);
  const patient = parametersOf(document, '/Patient', 'get');
  const family = patient.find((p) => p.name === 'family');
  t.equal(family?.in, 'query');
  t.match(family?.description, /family name of the patient/, 'Patient\'s line of HL7\'s shared description');
  t.notMatch(family?.description, /Practitioner/, 'not the other types\' lines');
  t.match(family?.description, /FHIR string parameter/);
  t.match(patient.find((p) => p.name === 'birthdate')?.description, /FHIR date parameter/);
  t.ok(patient.some((p) => p.name === '_count') && patient.some((p) => p.name === '_include'), 'result parameters too');
  const documents = parametersOf(document, '/DocumentReference', 'get');
  t.match(documents.find((p) => p.name === 'patient')?.description, /FHIR reference parameter/);
  const audit = parametersOf(document, '/AuditEvent', 'get').map((p) => p.name);
  t.notOk(audit.includes('_lastUpdated'), 'AuditEvent offers only the parameters its entry lists');
});

t.test('error answers are OperationOutcomes', async (t) => {
  const document = await openApi(server);
  const responses = document.paths['/Patient/{id}'].get.responses;
  t.same(responses['4XX'], { $ref: '#/components/responses/Error' });
  t.same(responses['410'], { $ref: '#/components/responses/Gone' });
  t.same(document.components.responses.Error.content['application/fhir+json'].schema, { $ref: '#/components/schemas/OperationOutcome' });
  t.same(document.components.schemas.Patient.properties.resourceType.enum, ['Patient'], 'each type has a small schema of its own');
});

t.test('without AUTH_ISSUER nothing is required and no scheme is offered', async (t) => {
  const document = await openApi(server);
  t.same(document.security, []);
  t.notOk(document.components.securitySchemes);
  t.match(document.info.description, /Authorization is off/);
});

t.test('the document passes redocly lint (recommended rules) without errors or warnings', async (t) => {
  const report = await lint(await openApi(server));
  t.equal(report.totals.errors, 0, JSON.stringify(report.problems.slice(0, 5)));
  t.equal(report.totals.warnings, 0, JSON.stringify(report.problems.slice(0, 5)));
});

t.test('a custom SearchParameter appears once stored', async (t) => {
  const sp = {
    resourceType: 'SearchParameter', url: 'http://example.org/sp/nickname', name: 'nickname', status: 'active',
    description: 'A nickname of the patient', code: 'nickname', base: ['Patient'], type: 'string', expression: "Patient.name.where(use = 'nickname').given",
  };
  t.notOk(parametersOf(await openApi(server), '/Patient', 'get').some((p) => p.name === 'nickname'), 'not there before');
  const created = await server.request({ method: 'POST', url: '/fhir/SearchParameter', headers: FHIR_JSON_HEADERS, payload: sp });
  t.equal(created.statusCode, 201);
  const nickname = parametersOf(await openApi(server), '/Patient', 'get').find((p) => p.name === 'nickname');
  t.match(nickname?.description, /A nickname of the patient/);
  const ui = await server.request({ method: 'GET', url: '/docs/json' });
  t.ok(parametersOf(JSON.parse(ui.body), '/Patient', 'get').some((p) => p.name === 'nickname'), 'Swagger UI reads the same, current document');
});

t.test('GET /docs is Swagger UI, its files served from the package under a same-origin CSP', async (t) => {
  const page = await server.request({ method: 'GET', url: '/docs/' });
  t.equal(page.statusCode, 200);
  t.match(page.headers['content-type'], /^text\/html/);
  t.match(page.body, /<div id="swagger-ui">/);
  t.notMatch(page.body, /src="https?:/, 'no script from a CDN');
  const csp = String(page.headers['content-security-policy']);
  t.match(csp, /script-src 'self'(;|$)/, 'scripts from this server only');
  t.match(csp, /connect-src 'self' http:\/\/fhir\.test/, 'the UI may call the FHIR base URL');
  const script = /src="([^"]*swagger-ui-bundle\.js)"/.exec(page.body)?.[1];
  t.ok(script, 'the page loads swagger-ui-bundle.js');
  const bundle = await server.request({ method: 'GET', url: new URL(script!, 'http://fhir.test/docs/').pathname });
  t.equal(bundle.statusCode, 200);
  t.match(bundle.headers['content-type'], /javascript/);
  t.ok(bundle.body.length > 100_000, 'the real Swagger UI bundle');
  const initializer = await server.request({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
  t.match(initializer.body, /resolveUrl\('\.\/json'\)/, 'the UI loads the document from /docs/json');
  const noSlash = await server.request({ method: 'GET', url: '/docs' });
  t.equal(noSlash.statusCode, 200, '/docs without a trailing slash works too');
});

t.test('with an issuer: the OAuth 2.0 endpoints from the config, a bearer JWT, and public documentation', async (t) => {
  const issuer = await testIssuer();
  const env = { ...issuer.env, AUTH_AUTHORIZE_URL: 'https://auth.test/authorize', AUTH_TOKEN_URL: 'https://auth.test/token' };
  const s = await startTestServer(t, { env });
  t.equal((await s.request({ method: 'GET', url: '/fhir/Patient' })).statusCode, 401, 'the API needs a token');
  const document = await openApi(s);
  const { smart, bearer } = document.components.securitySchemes;
  t.same(bearer, { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: bearer.description });
  t.equal(smart.flows.authorizationCode.authorizationUrl, 'https://auth.test/authorize');
  t.equal(smart.flows.authorizationCode.tokenUrl, 'https://auth.test/token');
  t.ok(smart.flows.authorizationCode.scopes['patient/Patient.rs']);
  t.same(document.security, [{ smart: [] }, { bearer: [] }]);
  t.same(document.paths['/metadata'].get.security, [], 'metadata needs no token');
  t.ok(document.paths['/.well-known/smart-configuration'], 'SMART discovery is listed');
  for (const url of ['/docs/', '/docs/json', '/docs/static/swagger-ui-bundle.js', '/docs/static/oauth2-redirect.html']) {
    t.equal((await s.request({ method: 'GET', url })).statusCode, 200, `${url} needs no token`);
  }
  t.match(String((await s.request({ method: 'GET', url: '/docs/' })).headers['content-security-policy']), /connect-src [^;]*https:\/\/auth\.test/, 'the UI may call the token endpoint');
  const initializer = await s.request({ method: 'GET', url: '/docs/static/swagger-initializer.js' });
  t.match(initializer.body, /"aud":"http:\/\/fhir\.test\/fhir"/, 'SMART\'s aud is sent with the authorization request');
  const report = await lint(document);
  t.equal(report.totals.errors + report.totals.warnings, 0, JSON.stringify(report.problems.slice(0, 5)));
});

t.test('with only an issuer: a bearer JWT and no OAuth flows', async (t) => {
  const issuer = await testIssuer();
  const document = await openApi(await startTestServer(t, { env: issuer.env }));
  t.same(Object.keys(document.components.securitySchemes), ['bearer']);
  t.same(document.security, [{ bearer: [] }]);
});

t.test('documentation requests are not audited, even when the FHIR base is the root', async (t) => {
  const s = await startTestServer(t, { env: { BASE_URL: 'http://fhir.test' } });
  for (const url of ['/openapi.json', '/docs/', '/docs/json', '/docs/static/swagger-ui.css']) {
    t.equal((await s.request({ method: 'GET', url })).statusCode, 200, url);
  }
  t.equal(await s.db.collection('AuditEvent').countDocuments(), 0, 'no AuditEvent for them');
  t.equal((await s.request({ method: 'GET', url: '/metadata' })).statusCode, 200);
  t.equal(await s.db.collection('AuditEvent').countDocuments(), 1, 'while metadata is audited');
});
