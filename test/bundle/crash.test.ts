import { randomUUID } from 'node:crypto';
import { MongoClient, type Db } from 'mongodb';
import t, { type Test } from 'tap';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { uniqueDbName } from '../helpers/server.js';

// The transaction of a killed server stays open in the engine until its lifetime limit (60 s,
// transactionLifetimeLimitSeconds, as on MongoDB) aborts it; until then a write to a document it
// wrote, and a drop of its database, waits. So the databases of those tests are not dropped
// (the test engine's files go at the end of the run).
t.setTimeout(120_000);

/**
 * The real server as a process of its own (src/main.ts), killed with SIGKILL at a fault point
 * of a transaction's commit (store/fault-points.ts, armed through FHIR_FAULT_POINT), then
 * started again on the same database: every write of the transaction is visible, or none is.
 */

/** The server on `dbName`, armed to die at `faultPoint` when given. */
function serve(t: Test, dbName: string, faultPoint?: string): Promise<ServerProcess> {
  return startServerProcess(t, dbName, faultPoint ? { FHIR_FAULT_POINT: faultPoint } : {});
}

/** A transaction: a patient and `n` documents, all carrying `marker`. */
function markedTransaction(marker: string, n: number) {
  const patientUrl = `urn:uuid:${randomUUID()}`;
  return {
    resourceType: 'Bundle',
    type: 'transaction',
    entry: [
      { fullUrl: patientUrl, resource: { resourceType: 'Patient', identifier: [{ system: 'http://crash.test', value: marker }] }, request: { method: 'POST', url: 'Patient' } },
      ...Array.from({ length: n }, (_, i) => ({
        fullUrl: `urn:uuid:${randomUUID()}`,
        resource: { resourceType: 'DocumentReference', status: 'current', description: marker, subject: { reference: patientUrl }, content: [{ attachment: { title: `doc ${i}` } }] },
        request: { method: 'POST', url: 'DocumentReference' },
      })),
    ],
  };
}

async function visible(db: Db, marker: string) {
  return {
    patients: await db.collection('Patient').countDocuments({ 'resource.identifier.value': marker }),
    documents: await db.collection('DocumentReference').countDocuments({ 'resource.description': marker }),
    history: await db.collection('history').countDocuments({ $or: [{ 'resource.identifier.value': marker }, { 'resource.description': marker }] }),
  };
}

async function crashAt(t: Test, point: string): Promise<{ db: Db; marker: string; base: string }> {
  const dbName = uniqueDbName();
  const client = new MongoClient(process.env.MONGODB_URI!);
  await client.connect();
  const db = client.db(dbName);
  const orphaned = point !== 'transaction-after-commit';
  t.teardown(async () => {
    if (!orphaned) await db.dropDatabase().catch(() => {});
    await client.close();
  });
  const marker = randomUUID();
  const first = await serve(t, dbName, point);
  const answer = await fetch(first.base, { method: 'POST', headers: { 'content-type': 'application/fhir+json' }, body: JSON.stringify(markedTransaction(marker, 40)) }).then(
    (r) => r.status,
    () => 'no answer',
  );
  await first.exited;
  t.equal(answer, 'no answer', 'the server died before answering');
  t.equal(first.child.signalCode, 'SIGKILL');
  const second = await serve(t, dbName);

  return { db, marker, base: second.base };
}

for (const point of ['transaction-after-history', 'transaction-before-commit']) {
  t.test(`killed at ${point}: after a restart nothing of the transaction is visible`, async (t) => {
    const { db, marker, base } = await crashAt(t, point);
    t.same(await visible(db, marker), { patients: 0, documents: 0, history: 0 });
    const search = await (await fetch(`${base}/DocumentReference?description=${marker}&_total=accurate`)).json();
    t.equal(search.total, 0);
  });
}

t.test('killed right after the commit: after a restart every write of the transaction is visible', async (t) => {
  const { db, marker, base } = await crashAt(t, 'transaction-after-commit');
  t.same(await visible(db, marker), { patients: 1, documents: 40, history: 41 });
  const search = await (await fetch(`${base}/DocumentReference?description=${marker}&_total=accurate`)).json();
  t.equal(search.total, 40);
});
