/**
 * The Postman collection in postman/ runs green with newman against a real server listening on
 * loopback, as someone who imports it would run it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { run, type NewmanRunSummary } from 'newman';
import t, { type Test } from 'tap';
import { freePort } from '../src/db/embedded.js';
import { startTestServer } from './helpers/server.js';
import { testIssuer } from './helpers/tokens.js';

const COLLECTION = fileURLToPath(new URL('../postman/fhir-records-server.postman_collection.json', import.meta.url));
const ENVIRONMENT = fileURLToPath(new URL('../postman/local.postman_environment.json', import.meta.url));

interface Item {
  item?: Item[];
}
const countRequests = (items: Item[]): number => items.reduce((n, i) => n + (i.item ? countRequests(i.item) : 1), 0);
const REQUESTS = countRequests((JSON.parse(readFileSync(COLLECTION, 'utf8')) as { item: Item[] }).item);

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

function assertGreen(t: Test, summary: NewmanRunSummary): void {
  t.same(failures(summary), [], 'no failed assertion, script or request');
  t.equal(summary.run.stats.requests.total, REQUESTS, 'every request of the collection ran');
  t.equal(summary.run.stats.requests.failed, 0, 'every request got an answer');
  t.ok((summary.run.stats.assertions.total ?? 0) >= 3 * REQUESTS, 'the requests carry their tests');
}

const authorizationHeaders = (summary: NewmanRunSummary) =>
  summary.run.executions.map((e) => e.request.headers.get('Authorization') as string | undefined);

t.test('the collection passes, and passes again on the same database', async (t) => {
  const base = await listeningServer(t);
  const first = await runCollection({ baseUrl: base });
  assertGreen(t, first);
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
