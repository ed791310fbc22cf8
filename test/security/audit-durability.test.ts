import type { ChildProcess } from 'node:child_process';
import { MongoClient, type Db } from 'mongodb';
import t, { type Test } from 'tap';
import { startServerProcess, type ServerProcess } from '../helpers/process.js';
import { uniqueDbName } from '../helpers/server.js';

/**
 * The real server as a process of its own (src/main.ts) on the test engine, killed with SIGKILL
 * the moment an answer arrives: the AuditEvent of every answered request must be in the database
 * (the answer is written only after its AuditEvent is durable). Authorization is off (no AUTH_ISSUER).
 */

interface Served extends ServerProcess {
  db: Db;
}

async function serve(t: Test): Promise<Served> {
  const dbName = uniqueDbName();
  const client = new MongoClient(process.env.MONGODB_URI!);
  await client.connect();
  const db = client.db(dbName);
  t.teardown(async () => {
    await db.dropDatabase().catch(() => {});
    await client.close();
  });
  // The readiness probe is not audited: the database holds only the test's own AuditEvents.
  return { ...(await startServerProcess(t, dbName)), db };
}

/** Kills the server at once and waits until it is gone. */
async function killNow(child: ChildProcess): Promise<void> {
  const gone = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  process.kill(child.pid!, 'SIGKILL');
  await gone;
}

const recordedIds = async (db: Db, requestIds: string[]) =>
  (await db.collection('AuditEvent').find({ 'resource.entity.what.identifier.value': { $in: requestIds } }).toArray())
    .map((doc) => doc.resource.entity.find((e: any) => e.type?.code === 'XrequestId').what.identifier.value as string);

t.test('the AuditEvent of an answered request survives a kill -9 of the server right after the answer', async (t) => {
  const { child, base, db } = await serve(t);
  const created = await fetch(`${base}/Patient`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Kill' }] }),
  });
  t.equal(created.status, 201);
  const { id } = (await created.json()) as { id: string };

  const requestId = `durable-read-${process.pid}`;
  const answer = await fetch(`${base}/Patient/${id}`, { headers: { 'x-request-id': requestId } });
  await killNow(child); // the moment the answer's head arrived, before its body is read
  t.equal(answer.status, 200);
  t.equal(child.signalCode, 'SIGKILL');

  const [doc] = await db.collection('AuditEvent').find({ 'resource.entity.what.identifier.value': requestId }).toArray();
  t.ok(doc, 'the AuditEvent is in the database');
  t.equal(doc?.resource.subtype[0].code, 'read');
  t.ok(doc?.resource.entity.some((e: any) => e.what?.reference === `Patient/${id}/_history/1`), 'naming the patient read');
});

t.test('kill -9 at the first answer of 20 concurrent requests: every answered request has its AuditEvent', async (t) => {
  const { child, base, db } = await serve(t);
  const ids = Array.from({ length: 20 }, (_, i) => `durable-burst-${process.pid}-${i}`);
  const answered: string[] = [];
  let killed: Promise<void> | undefined;
  await Promise.allSettled(
    ids.map(async (requestId) => {
      const response = await fetch(`${base}/metadata`, { headers: { 'x-request-id': requestId } });
      answered.push(requestId);
      killed ??= killNow(child);
      await response.arrayBuffer().catch(() => undefined);
    }),
  );
  await killed;
  t.ok(answered.length >= 1, `${answered.length} of 20 answered before the kill took effect`);
  const recorded = new Set(await recordedIds(db, ids));
  t.same(answered.filter((id) => !recorded.has(id)), [], 'no answered request lacks its AuditEvent');
  t.comment(`${answered.length} answered, ${recorded.size} recorded (requests in flight may be recorded without an answer)`);
});
