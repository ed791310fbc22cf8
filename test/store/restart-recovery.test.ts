import t from 'tap';
import { startTestServer, uniqueDbName, type TestServer } from '../helpers/server.js';
import { createResource, patient, putResource } from '../helpers/fhir.js';

/** Writes version 2 to history only, as a server that died between the two steps of an update would. */
async function writeUnfinishedVersion(s: TestServer, created: any, family: string): Promise<void> {
  const lastUpdated = new Date();
  await s.db.collection('history').insertOne({
    _id: `Patient/${created.id}/2` as any,
    type: 'Patient',
    id: created.id,
    versionId: 2,
    lastUpdated,
    deleted: false,
    method: 'PUT',
    resource: { ...created, name: [{ family }], meta: { versionId: '2', lastUpdated: lastUpdated.toISOString() } },
  });
}

t.test('data written before a restart is all there after it', async (t) => {
  const dbName = uniqueDbName();
  const first = await startTestServer(t, { dbName });
  const created = await createResource(first, patient());
  await putResource(first, { ...created, gender: 'female' });
  await first.app.close();

  const second = await startTestServer(t, { dbName });
  t.teardown(() => second.db.dropDatabase());
  const read = await second.request({ method: 'GET', url: `/fhir/Patient/${created.id}` });
  t.equal(read.statusCode, 200);
  t.equal(second.json(read).gender, 'female');
  const history = second.json(await second.request({ method: 'GET', url: `/fhir/Patient/${created.id}/_history` }));
  t.equal(history.total, 2);
});

t.test('a write committed to history but not to the current version is finished at start-up', async (t) => {
  const dbName = uniqueDbName();
  const first = await startTestServer(t, { dbName });
  const created = await createResource(first, patient('Before'));
  await writeUnfinishedVersion(first, created, 'After');
  await first.app.close();

  const second = await startTestServer(t, { dbName });
  t.teardown(() => second.db.dropDatabase());
  const read = second.json(await second.request({ method: 'GET', url: `/fhir/Patient/${created.id}` }));
  t.equal(read.meta.versionId, '2');
  t.equal(read.name[0].family, 'After');
});

t.test('a writer that finds an unfinished version finishes it before writing its own', async (t) => {
  const s = await startTestServer(t);
  const created = await createResource(s, patient('Before'));
  await writeUnfinishedVersion(s, created, 'Orphan');
  const response = await putResource(s, { ...created, name: [{ family: 'Next' }] });
  t.equal(response.statusCode, 200);
  t.equal(s.json(response).meta.versionId, '3', 'the new write comes after the unfinished one');
  const history = s.json(await s.request({ method: 'GET', url: `/fhir/Patient/${created.id}/_history` }));
  t.same(history.entry.map((e: any) => e.resource.name[0].family), ['Next', 'Orphan', 'Before']);
});
