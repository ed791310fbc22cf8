import t from 'tap';
import type { CommandStartedEvent } from 'mongodb';
import { generateData } from '../../scripts/generate-data.js';
import { idAt, idPlace } from '../../src/search/id-windows.js';
import { searchBundle } from '../helpers/search.js';
import { startTestServer, type TestServer } from '../helpers/server.js';

t.test('the numeric image of ids keeps their order', async (t) => {
  const alphabet = '-.0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';
  const ids = Array.from({ length: 2000 }, (_, i) =>
    Array.from({ length: 1 + ((i * 7) % 20) }, (_, k) => alphabet[(i * 31 + k * 17 + i * k) % 64]).join(''),
  ).sort();
  for (let i = 1; i < ids.length; i++) {
    if (idPlace(ids[i - 1], '') > idPlace(ids[i], '')) t.fail(`${ids[i - 1]} < ${ids[i]} but its image is larger`);
  }
  for (const id of ids) {
    const at = idAt(idPlace(id, ''), '');
    if (at > id) t.fail(`idAt(image of ${id}) = ${at} sorts after it`);
  }
  t.equal(idAt(idPlace('doc-0001234', 'doc-'), 'doc-'), 'doc-0001234', 'a prefix shared by every id is kept');
  t.pass('orders agree');
});

/** Every id of a search, following `relation` links from its first page. */
async function walk(s: TestServer, url: string, relation: 'next' | 'previous', start?: string): Promise<{ ids: string[]; last: any }> {
  const ids: string[] = [];
  let bundle = await searchBundle(s, start ?? url);
  for (;;) {
    ids.push(...(bundle.entry ?? []).map((e: any) => e.resource.id));
    const link = bundle.link.find((l: any) => l.relation === relation);
    if (!link) return { ids, last: bundle };
    bundle = await searchBundle(s, link.url.replace('http://fhir.test/fhir/', ''));
  }
}

t.test('pages read in id windows are exactly the pages of the plain query', async (t) => {
  const s = await startTestServer(t, { client: { monitorCommands: true } });
  await generateData(s.db, { patients: 1000, documents: 4000 }, s.config.baseUrl, () => {});
  const windowed: CommandStartedEvent[] = [];
  // Restart so the key stats (id bounds) of the generated data are read.
  const server = await startTestServer(t, { dbName: s.db.databaseName, client: { monitorCommands: true }, env: { ID_WINDOW_PROBE_MS: '0' } });
  server.client.on('commandStarted', (e) => {
    if (e.commandName === 'find' && e.command.find === 'DocumentReference' && JSON.stringify(e.command.filter).includes('"_id":{"$gte"')) windowed.push(e);
  });

  for (const status of ['current', 'superseded']) {
    const expected = (await s.db.collection('DocumentReference').find({ 'sp.status': `=${status}` }, { projection: { _id: 1 }, sort: { _id: 1 } }).toArray()).map((d) => d._id);
    const forward = await walk(server, `DocumentReference?status=${status}&_count=50`, 'next');
    t.same(forward.ids, expected, `status=${status}: every match once, in id order, through next links`);
    const lastPage = forward.last.link.find((l: any) => l.relation === 'self').url.replace('http://fhir.test/fhir/', '');
    const back = await walk(server, '', 'previous', lastPage);
    const pages = back.ids;
    t.same(new Set(pages).size, expected.length, `status=${status}: previous links give back every match`);
    const descending = await walk(server, `DocumentReference?status=${status}&_count=50&_sort=-_id`, 'next');
    t.same(descending.ids, [...expected].reverse(), `status=${status}, _sort=-_id: the reverse order`);
  }
  t.ok(windowed.length > 0, `pages were read in id windows (${windowed.length} window queries)`);
});

t.test('pages of a date-index walk read in date windows are exactly the ordered matches', async (t) => {
  const s = await startTestServer(t);
  await generateData(s.db, { patients: 3000, documents: 0 }, s.config.baseUrl, () => {});
  const server = await startTestServer(t, { dbName: s.db.databaseName });
  const within = { 'sp.birthdate.lo': { $gte: new Date('1950-01-01'), $lt: new Date('1960-01-01') } };
  const ordered = async (sort: Record<string, 1 | -1>) =>
    (await s.db.collection('Patient').find(within, { projection: { _id: 1 }, sort }).toArray()).map((d) => d._id);
  const url = 'Patient?birthdate=ge1950-01-01&birthdate=lt1960-01-01&_count=25';

  const forward = await walk(server, url, 'next');
  t.ok(forward.ids.length > 100, `${forward.ids.length} matches over several pages`);
  t.same(forward.ids, await ordered({ 'sp.birthdate.lo': 1, _id: 1 }), 'without _sort: birth-date order (the walked index), every match once');
  const lastPage = forward.last.link.find((l: any) => l.relation === 'self').url.replace('http://fhir.test/fhir/', '');
  const back = await walk(server, '', 'previous', lastPage);
  t.same(new Set(back.ids).size, forward.ids.length, 'previous links give back every match');
  const descending = await walk(server, `${url}&_sort=-birthdate`, 'next');
  t.same(descending.ids, await ordered({ 'sp.birthdate.hi': -1, _id: -1 }), '_sort=-birthdate: by the end of the day, newest first');
});

t.test("the first pages of a shape wait for its first probe's verdict instead of probing all at once", async (t) => {
  const s = await startTestServer(t);
  await generateData(s.db, { patients: 500, documents: 0 }, s.config.baseUrl, () => {});
  const probeMs = 2000;
  const server = await startTestServer(t, { dbName: s.db.databaseName, client: { monitorCommands: true }, env: { ID_WINDOW_PROBE_MS: String(probeMs) } });
  const events: string[] = [];
  const probes = new Set<number>();
  server.client.on('commandStarted', (e) => {
    if (e.commandName !== 'find' || e.command.find !== 'Patient' || e.command.maxTimeMS !== probeMs) return;
    probes.add(e.requestId);
    events.push('start');
  });
  const ended = (e: { requestId: number }) => {
    if (probes.has(e.requestId)) events.push('end');
  };
  server.client.on('commandSucceeded', ended);
  server.client.on('commandFailed', ended);

  const pages = await Promise.all(Array.from({ length: 16 }, () => server.request({ method: 'GET', url: '/fhir/Patient?family=a&_count=20' })));
  t.ok(pages.every((p) => p.statusCode === 200), 'every page answered');
  t.same(events.slice(0, 2), ['start', 'end'], 'the first probe runs alone');
  t.equal(probes.size, 16, 'it answered in time, so each page then probed (its plain query) on its own');
});

t.test('concurrent selective pages of one shape are each answered by their plain query, not by id windows', async (t) => {
  const s = await startTestServer(t);
  await generateData(s.db, { patients: 500, documents: 0 }, s.config.baseUrl, () => {});
  const server = await startTestServer(t, { dbName: s.db.databaseName, client: { monitorCommands: true }, env: { ID_WINDOW_PROBE_MS: '2000' } });
  const identifiers = (await s.db.collection('Patient').find({}, { projection: { 'resource.identifier': 1 }, limit: 16 }).toArray()).map((d) => d.resource.identifier[0]);
  const windowed: CommandStartedEvent[] = [];
  server.client.on('commandStarted', (e) => {
    if (e.commandName === 'find' && e.command.find === 'Patient' && JSON.stringify(e.command.filter).includes('"_id":{"$gte"')) windowed.push(e);
  });
  const pages = await Promise.all(identifiers.map((i) => searchBundle(server, `Patient?identifier=${encodeURIComponent(`${i.system}|${i.value}`)}`)));
  t.same(pages.map((p) => p.entry?.length ?? 0), identifiers.map(() => 1), 'each finds its patient');
  t.equal(windowed.length, 0, 'no page was read in id windows');
});
