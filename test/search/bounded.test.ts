import t, { type Test } from 'tap';
import type { LightMyRequestResponse } from 'fastify';
import type { CommandStartedEvent } from 'mongodb';
import { generateData, mrn, patientId } from '../../scripts/generate-data.js';
import { createAll, matchIds, searchBundle } from '../helpers/search.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Each `:contains` value is a regex the database runs over every stored name, so 100 of them
 * over 3,000 patients scan for about a second here, while a read by id or an indexed search
 * takes a few milliseconds: a 50 ms limit stops the first and never the others.
 */
const PATIENTS = 3000;
const TIGHT_LIMIT_MS = '50';
const COSTLY = `family:contains=${Array.from({ length: 100 }, (_, i) => `zq${i}`).join(',')}`;

function assertTooCostly(t: Test, s: TestServer, response: LightMyRequestResponse) {
  t.equal(response.statusCode, 400, 'a client error, not 500');
  const body = s.json(response);
  t.equal(body.resourceType, 'OperationOutcome');
  t.equal(body.issue[0].code, 'too-costly');
  t.match(body.issue[0].diagnostics, /Narrow the search: add selective parameters/, 'says what to do');
  t.notMatch(body.issue[0].diagnostics, /MaxTimeMS|Mongo|exceeded time limit/, 'no database internals');
}

t.test('queries past DB_QUERY_TIMEOUT_MS', async (t) => {
  // One database, two servers: one with a tight limit, one with the default (10 s).
  const normal = await startTestServer(t);
  await generateData(normal.db, { patients: PATIENTS, documents: 0 }, normal.config.baseUrl, () => {});
  const tight = await startTestServer(t, { dbName: normal.db.databaseName, env: { DB_QUERY_TIMEOUT_MS: TIGHT_LIMIT_MS } });
  const get = (s: TestServer, url: string) => s.request({ method: 'GET', url: `/fhir/${url}` });

  t.test('a search stopped at the limit answers 400 too-costly', async (t) => {
    assertTooCostly(t, tight, await get(tight, `Patient?${COSTLY}`));
  });

  t.test('counts, chains and _has are bounded too', async (t) => {
    const urls = {
      'count (_summary=count)': `Patient?${COSTLY}&_summary=count`,
      'chain': `DocumentReference?subject:Patient.${COSTLY}`,
      '_has': `Patient?_has:Patient:link:${COSTLY}`,
    };
    for (const [name, url] of Object.entries(urls)) t.test(name, async (t) => assertTooCostly(t, tight, await get(tight, url)));
  });

  t.test('the server keeps serving after a query was stopped', async (t) => {
    t.equal((await get(tight, `Patient/${patientId(7)}`)).statusCode, 200, 'read by id');
    t.same(await matchIds(tight, `Patient?identifier=${mrn(7)}`), [patientId(7)], 'indexed search');
  });

  t.test('a normal search under the default limit works', async (t) => {
    const bundle = await searchBundle(normal, 'Patient?family:contains=mit&_total=accurate&_count=5');
    t.ok(bundle.total > 0, 'a scan with an exact count');
    t.equal(bundle.entry.length, 5);
  });
});

/** The find, aggregate and count commands a server sends, by collection. */
function recordQueries(s: TestServer): CommandStartedEvent[] {
  const seen: CommandStartedEvent[] = [];
  s.client.on('commandStarted', (event) => {
    if (['find', 'aggregate', 'count'].includes(event.commandName)) seen.push(event);
  });
  return seen;
}

const collectionOf = (event: CommandStartedEvent) => event.command[event.commandName] as string;

t.test('every query a request makes carries maxTimeMS from DB_QUERY_TIMEOUT_MS', async (t) => {
  // The id-window probe (a page's first try, ID_WINDOW_PROBE_MS) has a shorter limit of its own on purpose: off here.
  const s = await startTestServer(t, { env: { DB_QUERY_TIMEOUT_MS: '4321', ID_WINDOW_PROBE_MS: '0' }, client: { monitorCommands: true } });
  const doc = { resourceType: 'DocumentReference', id: 'd1', status: 'current', subject: { reference: 'Patient/p1' }, content: [{ attachment: { contentType: 'text/plain' } }] };
  await createAll(s, [{ resourceType: 'Patient', id: 'p1', name: [{ family: 'Smith' }] }, doc]);
  const seen = recordQueries(s);
  for (const url of [
    'Patient/p1', 'Patient/p1/_history/1', 'Patient/p1/_history', 'Patient/_history', '_history',
    'DocumentReference?subject:Patient.name=smith&_include=DocumentReference:subject&_total=accurate',
    'Patient?_has:DocumentReference:subject:status=current&_revinclude=DocumentReference:subject',
    'Patient?_summary=count', 'Patient/p1/DocumentReference',
  ]) {
    t.equal((await s.request({ method: 'GET', url: `/fhir/${url}` })).statusCode, 200, url);
  }
  await createAll(s, [{ ...doc, status: 'superseded' }]);
  // Cache checks (stored SearchParameters and profiles) are the server's, not shaped by a request.
  const requests = seen.filter((e) => !['SearchParameter', 'StructureDefinition', 'change_counters'].includes(collectionOf(e)));
  t.ok(requests.length >= 15, `${requests.length} queries seen`);
  for (const event of requests) {
    t.equal(event.command.maxTimeMS, 4321, `${event.commandName} on ${collectionOf(event)}`);
  }
});

t.test('_total: counted with the page query filter only when asked, by default free', async (t) => {
  const s = await startTestServer(t, { client: { monitorCommands: true } });
  await createAll(s, Array.from({ length: 5 }, (_, i) => ({ resourceType: 'Patient', id: `p${i}`, gender: 'female' })));
  const seen = recordQueries(s);
  // The estimated size (a metadata count, cached for seconds) sizes id windows; it is not a query of the search.
  const onPatient = () => seen.filter((e) => collectionOf(e) === 'Patient' && e.commandName !== 'count');

  const free = await searchBundle(s, 'Patient?gender=female&_count=2');
  t.equal(free.total, undefined, 'more pages: no total');
  t.same(onPatient().map((e) => e.commandName), ['find'], 'by default: the page query alone');

  seen.length = 0;
  const accurate = await searchBundle(s, 'Patient?gender=female&_count=2&_total=accurate');
  t.equal(accurate.total, 5);
  const [count, find] = [onPatient().filter((e) => e.commandName === 'aggregate'), onPatient().filter((e) => e.commandName === 'find')];
  t.equal(count.length, 1, 'one countDocuments');
  t.equal(find.length, 1, 'and the page query');
  t.same(count[0].command.pipeline[0], { $match: find[0].command.filter }, 'the count matches with the page query filter (same index)');
});
