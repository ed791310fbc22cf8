import t from 'tap';
import { startTestServer, uniqueDbName, type TestServer } from '../helpers/server.js';
import { patient, putResource } from '../helpers/fhir.js';

/** Two server instances on one database, as behind a load balancer. */
async function twoInstances(t: Parameters<typeof startTestServer>[0]): Promise<[TestServer, TestServer]> {
  const dbName = uniqueDbName();
  const a = await startTestServer(t, { dbName });
  const b = await startTestServer(t, { dbName });
  t.teardown(() => a.db.dropDatabase());
  return [a, b];
}

async function versionsOf(s: TestServer, id: string): Promise<number[]> {
  const response = await s.request({ method: 'GET', url: `/fhir/Patient/${id}/_history?_count=1000` });
  return s.json(response).entry.map((e: any) => Number(e.resource.meta.versionId));
}

t.test('parallel PUTs without If-Match on two instances: every update lands, versions 1..n, no duplicates', async (t) => {
  const [a, b] = await twoInstances(t);
  const n = 40;
  const responses = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      putResource(i % 2 ? a : b, { ...patient(`Writer${i}`), id: 'contended' }),
    ),
  );
  const statuses = responses.map((r) => r.statusCode);
  t.equal(statuses.filter((s) => s === 201).length, 1, 'exactly one create');
  t.equal(statuses.filter((s) => s === 200).length, n - 1, 'every other PUT is an update');
  const versions = responses.map((r) => Number(JSON.parse(r.body).meta.versionId)).sort((x, y) => x - y);
  t.same(versions, Array.from({ length: n }, (_, i) => i + 1), 'each answer got its own version');
  t.same(await versionsOf(a, 'contended'), Array.from({ length: n }, (_, i) => n - i), 'history holds 1..n once each');
  const current = JSON.parse((await b.request({ method: 'GET', url: '/fhir/Patient/contended' })).body);
  t.equal(current.meta.versionId, String(n), 'the current version is the last');
});

t.test('parallel PUTs with the same If-Match: exactly one wins, the rest get 412', async (t) => {
  const [a, b] = await twoInstances(t);
  await putResource(a, { ...patient(), id: 'guarded' });
  const n = 30;
  const responses = await Promise.all(
    Array.from({ length: n }, (_, i) =>
      putResource(i % 2 ? a : b, { ...patient(`Writer${i}`), id: 'guarded' }, { 'if-match': 'W/"1"' }),
    ),
  );
  const statuses = responses.map((r) => r.statusCode);
  t.equal(statuses.filter((s) => s === 200).length, 1, 'one update wins');
  t.equal(statuses.filter((s) => s === 412).length, n - 1, 'the others are told they lost');
  t.same(await versionsOf(b, 'guarded'), [2, 1]);
});

t.test('parallel PUTs each carrying the version it read: no update is lost', async (t) => {
  const [a, b] = await twoInstances(t);
  await putResource(a, { ...patient(), id: 'counter', multipleBirthInteger: 0 });
  // Each client does read-modify-write with If-Match and retries on 412, like a careful EHR.
  const increment = async (s: TestServer) => {
    for (;;) {
      const read = await s.request({ method: 'GET', url: '/fhir/Patient/counter' });
      const body = JSON.parse(read.body);
      body.multipleBirthInteger += 1;
      const write = await putResource(s, body, { 'if-match': String(read.headers.etag) });
      if (write.statusCode === 200) return;
      if (write.statusCode !== 412) throw new Error(`unexpected ${write.statusCode}`);
    }
  };
  const n = 20;
  await Promise.all(Array.from({ length: n }, (_, i) => increment(i % 2 ? a : b)));
  const final = JSON.parse((await a.request({ method: 'GET', url: '/fhir/Patient/counter' })).body);
  t.equal(final.multipleBirthInteger, n, 'all increments are there');
  t.equal(final.meta.versionId, String(n + 1));
});
