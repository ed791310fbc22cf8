import t from 'tap';
import { postBundle } from '../helpers/bundle.js';
import { startTestServer } from '../helpers/server.js';

/**
 * Readers that poll while a large transaction commits (on another server instance, as behind
 * a load balancer) never see a part of it: a read, a search count and a history either show
 * nothing of it or all of it, and once they have shown it they keep showing it.
 */
t.test('readers polling during a large transaction see none of it or all of it, never a part', async (t) => {
  const admin = await startTestServer(t);
  const writer = await startTestServer(t, { dbName: admin.db.databaseName });
  const reader = await startTestServer(t, { dbName: admin.db.databaseName });
  const n = 300;
  const patientId = `iso-${Date.now()}`;
  const entries = [
    { resource: { resourceType: 'Patient', id: patientId, name: [{ family: 'Isolated' }] }, request: { method: 'PUT', url: `Patient/${patientId}` } },
    ...Array.from({ length: n }, (_, i) => ({
      resource: { resourceType: 'DocumentReference', id: `${patientId}-d${i}`, status: 'current', subject: { reference: `Patient/${patientId}` }, content: [{ attachment: { title: `doc ${i}` } }] },
      request: { method: 'PUT', url: `DocumentReference/${patientId}-d${i}` },
    })),
  ];
  let done = false;
  const seen = { search: new Set<number>(), history: new Set<number>(), reads: new Set<string>() };
  let partial = 0;
  const poll = async () => {
    let sawAll = false;
    while (!done) {
      const search = reader.json(await reader.request({ method: 'GET', url: `/fhir/DocumentReference?subject=Patient/${patientId}&_total=accurate&_count=1` }));
      const history = reader.json(await reader.request({ method: 'GET', url: `/fhir/_history?_count=1000&_since=2000-01-01` }));
      const earlier = (await reader.request({ method: 'GET', url: `/fhir/DocumentReference/${patientId}-d${n - 1}` })).statusCode;
      const later = (await reader.request({ method: 'GET', url: `/fhir/DocumentReference/${patientId}-d0` })).statusCode;
      const inHistory = (history.entry ?? []).filter((e: any) => e.resource?.id?.startsWith(patientId)).length;
      seen.search.add(search.total);
      seen.history.add(inHistory);
      seen.reads.add(`${earlier}/${later}`);
      // Each observation on its own shows none or all; in the order made, never all and then none.
      const observations = [search.total === 0 ? 'none' : search.total === n ? 'all' : 'part', inHistory === 0 ? 'none' : inHistory === n + 1 ? 'all' : 'part', earlier === 404 ? 'none' : 'all', later === 404 ? 'none' : 'all'];
      for (const observation of observations) {
        if (observation === 'part' || (sawAll && observation === 'none')) partial++;
        if (observation === 'all') sawAll = true;
      }
    }
  };
  const readers = [poll(), poll()];
  const response = await postBundle(writer, 'transaction', entries);
  // A few more rounds after the answer.
  await new Promise((r) => setTimeout(r, 300));
  done = true;
  await Promise.all(readers);
  t.equal(response.statusCode, 200);
  t.equal(partial, 0, `no poll saw a part of the transaction (search totals seen: ${[...seen.search].join(', ')}; history counts: ${[...seen.history].join(', ')})`);
  t.ok(seen.search.has(n), 'the readers saw all of it in the end');
  t.notOk(seen.reads.has('200/404'), `a read after one that saw the transaction sees it too: ${[...seen.reads].join(', ')}`);
});
