/**
 * The Postman collection in postman/ runs green with newman against a real server listening on
 * loopback, as someone who imports it would run it: with authorization off (Sign in skipped),
 * with a token given, and with the built-in authorization server, where Sign in fetches it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { decodeJwt } from 'jose';
import { run, type NewmanRunSummary } from 'newman';
import t, { type Test } from 'tap';
import { generateClientSecret } from '../src/auth/index.js';
import { freePort } from '../src/db/embedded.js';
import { basicAuth, startAuthServer } from './helpers/auth.js';
import { startTestServer } from './helpers/server.js';
import { testIssuer } from './helpers/tokens.js';

const COLLECTION = fileURLToPath(new URL('../postman/fhir-records-server.postman_collection.json', import.meta.url));
const ENVIRONMENT = fileURLToPath(new URL('../postman/local.postman_environment.json', import.meta.url));

interface Item {
  item?: Item[];
}
const countRequests = (items: Item[]): number => items.reduce((n, i) => n + (i.item ? countRequests(i.item) : 1), 0);
const REQUESTS = countRequests((JSON.parse(readFileSync(COLLECTION, 'utf8')) as { item: Item[] }).item);
/** The request of the Sign in folder; it runs only when clientId is set. */
const SIGN_IN = 'Get a token (client credentials)';

/** The server on a loopback port, BASE_URL matching it; closed at teardown. */
async function listeningServer(t: Test, env: Record<string, string> = {}): Promise<string> {
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/fhir`;
  const server = await startTestServer(t, { env: { BASE_URL: base, ...env } });
  await server.app.listen({ host: '127.0.0.1', port });
  return base;
}

/** Runs the collection with the environment file, these variables overriding it. */
function runCollection(variables: Record<string, string>): Promise<NewmanRunSummary> {
  return new Promise((resolve, reject) => {
    run(
      {
        collection: COLLECTION,
        environment: ENVIRONMENT,
        envVar: Object.entries(variables).map(([key, value]) => ({ key, value })),
        timeoutRequest: 30_000,
      },
      (error, summary) => (error ? reject(error) : resolve(summary)),
    );
  });
}

/** "request name: test name: message" of every failed assertion, script error and request error. */
const failures = (summary: NewmanRunSummary): string[] =>
  summary.run.failures.map((f) => `${f.source?.name ?? '(collection)'}: ${f.error.test ?? f.at}: ${f.error.message}`);

/** A variable of the environment as the run left it (`values` is a postman-collection PropertyList, which has find). */
const environmentValue = (summary: NewmanRunSummary, key: string): unknown => summary.environment.values?.find((v) => v.key === key)?.value;

const signIns = (summary: NewmanRunSummary) => summary.run.executions.filter((e) => e.item.name === SIGN_IN);
const fhirExecutions = (summary: NewmanRunSummary) => summary.run.executions.filter((e) => e.item.name !== SIGN_IN);

/** Green, every request run (Sign in only when `signedIn`), every FHIR answer checked by the collection's test. */
function assertGreen(t: Test, summary: NewmanRunSummary, signedIn = false): void {
  t.same(failures(summary), [], 'no failed assertion, script or request');
  t.equal(summary.run.stats.items.total, REQUESTS, 'every request of the collection was reached');
  t.equal(signIns(summary).length, signedIn ? 1 : 0, signedIn ? 'Sign in ran' : 'Sign in was skipped');
  t.equal(summary.run.stats.requests.total, signedIn ? REQUESTS : REQUESTS - 1, 'every other request ran');
  t.equal(summary.run.stats.requests.failed, 0, 'every request got an answer');
  t.ok((summary.run.stats.assertions.total ?? 0) >= 3 * (REQUESTS - 1), 'the requests carry their tests');
  const unchecked = fhirExecutions(summary).filter((e) => !e.assertions?.some((a) => a.assertion === 'answers FHIR JSON without a server error'));
  t.same(unchecked.map((e) => e.item.name), [], 'the collection-level FHIR JSON test ran on every FHIR request');
}

const authorizationHeaders = (summary: NewmanRunSummary) =>
  summary.run.executions.map((e) => e.request.headers.get('Authorization') as string | undefined);

t.test('the collection passes, and passes again on the same database', async (t) => {
  const base = await listeningServer(t);
  const first = await runCollection({ baseUrl: base });
  assertGreen(t, first);
  t.notOk(environmentValue(first, 'token'), 'no token was fetched');
  t.same(authorizationHeaders(first).filter(Boolean), [], 'with token empty no Authorization header is sent');
  assertGreen(t, await runCollection({ baseUrl: base }));
});

t.test('with authorization on, the token variable authorizes every request', async (t) => {
  const issuer = await testIssuer();
  const base = await listeningServer(t, issuer.env);
  const token = await issuer.token({ scope: 'user/*.cruds', fhirUser: 'Practitioner/dr-postman' }, { audience: base });
  const summary = await runCollection({ baseUrl: base, token });
  assertGreen(t, summary);
  t.ok(authorizationHeaders(summary).every((h) => h === `Bearer ${token}`), 'every request sent the token');
});

t.test('with the built-in authorization server, Sign in fetches a token with the client\'s secret and every request uses it', async (t) => {
  const server = await startAuthServer(t);
  const clientSecret = generateClientSecret();
  await server.clients.add({ client_id: 'postman-runner', client_secret: clientSecret, scope: 'system/*.cruds' });
  const summary = await runCollection({ baseUrl: server.fhirBase, clientId: 'postman-runner', clientSecret });
  assertGreen(t, summary, true);

  const [signIn] = signIns(summary);
  t.equal(signIn.request.url.toString(), server.tokenUrl, 'Sign in posted to the token endpoint derived from baseUrl');
  t.equal(signIn.request.headers.get('Authorization'), basicAuth('postman-runner', clientSecret).authorization, 'with the client\'s Basic credentials');
  t.equal(signIn.response.code, 200);
  const token = JSON.parse(signIn.response.stream!.toString('utf8')).access_token as string;
  t.equal(decodeJwt(token).client_id, 'postman-runner');
  t.equal(environmentValue(summary, 'token'), token, 'the token is in the environment');
  const headers = fhirExecutions(summary).map((e) => e.request.headers.get('Authorization'));
  t.ok(headers.length === REQUESTS - 1 && headers.every((h) => h === `Bearer ${token}`), 'every later request sent Bearer <that token>');
});
