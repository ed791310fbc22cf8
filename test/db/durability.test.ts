import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isDeepStrictEqual } from 'node:util';
import t, { type Test } from 'tap';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../../src/db/embedded.js';
import { createResource, patient, putResource } from '../helpers/fhir.js';
import { FHIR_JSON_HEADERS, startTestServer, type TestServer } from '../helpers/server.js';

/**
 * Each test runs its own embedded engine on a fresh data folder (not the shared test database),
 * writes through the server, stops or kills the engine, starts it again on the same folder
 * (on a new port, so the server is built again on the new URI: start-up recovery runs then),
 * and asks the server the same questions.
 */

// Engines are started ten times, and every request waits for its AuditEvent to be written:
// more than tap's 30 s default on two busy cores.
t.setTimeout(300_000);

function dataFolder(t: Test): string {
  const dir = mkdtempSync(join(tmpdir(), 'fhir-durability-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}

async function startEngine(t: Test, dataDir: string): Promise<EmbeddedDatabase> {
  const started = Date.now();
  const engine = await startEmbeddedDatabase(dataDir);
  t.comment(`engine ready in ${Date.now() - started} ms`);
  t.teardown(() => engine.stop());
  return engine;
}

/** The server on the engine. Requests in flight when the engine dies fail after 1 s, not the driver's 30 s. */
async function serve(t: Test, engine: EmbeddedDatabase): Promise<TestServer> {
  const started = Date.now();
  const server = await startTestServer(t, { uri: engine.uri, dbName: 'fhir', client: { serverSelectionTimeoutMS: 1000 } });
  t.comment(`server built (indexes, start-up recovery) in ${Date.now() - started} ms`);
  return server;
}

async function closeServer(s: TestServer): Promise<void> {
  await s.app.close();
  await s.client.close();
}

async function get(s: TestServer, url: string): Promise<{ status: number; body: any }> {
  const response = await s.request({ method: 'GET', url: `${s.base}/${url}` });
  return { status: response.statusCode, body: s.json(response) };
}

const documentReference = (subject: string, description: string) => ({
  resourceType: 'DocumentReference',
  status: 'current',
  description,
  subject: { reference: `Patient/${subject}` },
  content: [{ attachment: { contentType: 'text/plain', data: 'aGVsbG8=' } }],
});

/** A resource written, with the answer to each of its writes: the resource as acknowledged, or 'deleted'. */
interface Written {
  type: string;
  id: string;
  versions: (Record<string, any> | 'deleted')[];
}

/** Creates, updates and a delete over several Patients and DocumentReferences, each acknowledged. */
async function writeRecords(s: TestServer): Promise<Written[]> {
  const written = new Map<string, Written>();
  const acknowledge = (type: string, id: string, version: Written['versions'][number]) => {
    const record = written.get(id) ?? { type, id, versions: [] };
    record.versions.push(version);
    written.set(id, record);
    return version as Record<string, any>;
  };
  const create = async (resource: Record<string, unknown>) => {
    const created = await createResource(s, resource);
    return acknowledge(created.resourceType, created.id, created);
  };
  const update = async (resource: Record<string, any>) => {
    const response = await putResource(s, resource);
    if (response.statusCode !== 200) throw new Error(`update failed: ${response.statusCode} ${response.body}`);
    return acknowledge(resource.resourceType, resource.id, s.json(response));
  };

  const aalto = await create(patient('Aalto'));
  const berg = await create(patient('Berg'));
  await create(patient('Castro'));
  const dahl = await create(patient('Dahl'));
  await update({ ...berg, gender: 'female' });
  await update({ ...berg, gender: 'female', birthDate: '1975-01-02' });
  const deleted = await s.request({ method: 'DELETE', url: `${s.base}/Patient/${dahl.id}` });
  if (deleted.statusCode !== 200) throw new Error(`delete failed: ${deleted.statusCode} ${deleted.body}`);
  acknowledge('Patient', dahl.id, 'deleted');
  await create(documentReference(aalto.id, 'discharge letter'));
  const referral = await create(documentReference(aalto.id, 'referral'));
  await create(documentReference(berg.id, 'lab report'));
  await update({ ...referral, status: 'superseded' });
  return [...written.values()];
}

/** Acknowledged writes the server does not answer with: each read, vread and history total is checked. */
async function missingWrites(s: TestServer, written: Written[]): Promise<string[]> {
  const missing: string[] = [];
  const check = (what: string, answered: { status: number; body: any }, acknowledged: Written['versions'][number]) => {
    const expected = acknowledged === 'deleted' ? { status: 410 } : { status: 200, body: acknowledged };
    if (answered.status !== expected.status || (expected.body && !isDeepStrictEqual(answered.body, expected.body))) {
      missing.push(`${what}: HTTP ${answered.status}, version ${answered.body.meta?.versionId ?? '-'}`);
    }
  };
  for (const { type, id, versions } of written) {
    check(`read ${type}/${id}`, await get(s, `${type}/${id}`), versions.at(-1)!);
    for (const [i, version] of versions.entries()) {
      const vread = `${type}/${id}/_history/${i + 1}`;
      if (version !== 'deleted') check(`vread ${vread}`, await get(s, vread), version);
    }
    const { total } = (await get(s, `${type}/${id}/_history`)).body;
    if (total !== versions.length) missing.push(`history of ${type}/${id}: total ${total}, ${versions.length} writes acknowledged`);
  }
  return missing;
}

/** A bundle without what differs between two identical answers (its id, meta, paging links). */
const bundleContent = (bundle: any) => ({ type: bundle.type, total: bundle.total, entry: bundle.entry ?? [] });

/** What the server answers about the records: reads, every vread, history at three levels, searches. */
async function answers(s: TestServer, records: Written[]): Promise<Record<string, unknown>> {
  const found: Record<string, unknown> = {};
  for (const { type, id } of records) {
    found[`${type}/${id}`] = await get(s, `${type}/${id}`);
    const history = (await get(s, `${type}/${id}/_history`)).body;
    found[`${type}/${id}/_history`] = bundleContent(history);
    for (let version = 1; version <= history.total; version++) {
      found[`${type}/${id}/_history/${version}`] = await get(s, `${type}/${id}/_history/${version}`);
    }
  }
  const aalto = records[0].id;
  const bundles = [
    'Patient/_history',
    'DocumentReference/_history',
    '_history',
    'Patient?gender=female',
    `DocumentReference?patient=Patient/${aalto}&_sort=description`,
  ];
  for (const url of bundles) found[url] = bundleContent((await get(s, url)).body);
  return found;
}

t.test('data written through the server survives a clean stop and restart of the engine', async (t) => {
  const dataDir = dataFolder(t);
  const engine = await startEngine(t, dataDir);
  const first = await serve(t, engine);
  const records = await writeRecords(first);
  const before = await answers(first, records);
  t.equal((before['Patient/_history'] as any).total, 7, 'the writes are there before the stop');
  await closeServer(first);
  await engine.stop();

  const second = await serve(t, await startEngine(t, dataDir));
  t.same(await answers(second, records), before, 'reads, vreads, history and searches answer as before');
});

t.test('stop() ends the engine on SIGTERM, well before the 5 s SIGKILL fallback', async (t) => {
  const engine = await startEngine(t, dataFolder(t));
  const s = await serve(t, engine);
  await writeRecords(s);
  await closeServer(s);
  const started = Date.now();
  await engine.stop();
  const took = Date.now() - started;
  t.comment(`clean stop took ${took} ms`);
  t.ok(took < 4000, `stopped in ${took} ms`);
});

t.test('acknowledged writes survive a kill -9 of the engine while the server is idle', async (t) => {
  const dataDir = dataFolder(t);
  const engine = await startEngine(t, dataDir);
  const first = await serve(t, engine);
  const written = await writeRecords(first);
  await engine.kill(); // at once: no request in flight, the last write acknowledged a moment ago
  await closeServer(first);

  const second = await serve(t, await startEngine(t, dataDir));
  t.same(await missingWrites(second, written), [], 'every acknowledged write is there after the restart');
});

interface Acknowledged {
  type: string;
  id: string;
  versionId: string;
  description: string;
}

/**
 * Writers that keep writing until told to stop: each updates a Patient of its own (PUT, so its
 * id is known even if no answer comes) or creates DocumentReferences (POST). Each write carries
 * a description unique to it; the acknowledged ones (201/200) are recorded.
 */
function burstOfWrites(s: TestServer, writers: number) {
  const acknowledged: Acknowledged[] = [];
  const failures: string[] = [];
  let stopped = false;
  const write = (w: number, description: string) =>
    w % 2 === 0
      ? putResource(s, { ...patient(`W${w}`), id: `burst-${w}`, name: [{ family: `W${w}`, text: description }] })
      : s.request({
          method: 'POST',
          url: `${s.base}/DocumentReference`,
          headers: FHIR_JSON_HEADERS,
          payload: documentReference(`burst-${w - 1}`, description),
        });
  const writer = async (w: number) => {
    for (let n = 0; !stopped; n++) {
      const description = `writer ${w} write ${n}`;
      const response = await write(w, description);
      if (response.statusCode !== 200 && response.statusCode !== 201) {
        failures.push(`HTTP ${response.statusCode}`);
        continue;
      }
      const body = s.json(response);
      acknowledged.push({ type: body.resourceType, id: body.id, versionId: body.meta.versionId, description });
    }
  };
  const running = Promise.all(Array.from({ length: writers }, (_, w) => writer(w)));
  return {
    acknowledged,
    failures,
    /** Resolves once n writes are acknowledged; throws if one fails first (the engine is still up). */
    async acknowledgedAtLeast(n: number) {
      while (acknowledged.length < n) {
        if (failures.length > 0) {
          stopped = true;
          throw new Error(`a write failed before the kill: ${failures[0]}`);
        }
        await new Promise((r) => setTimeout(r, 5));
      }
    },
    async stop() {
      stopped = true;
      await running;
    },
  };
}

const descriptionOf = (resource: any) => (resource.resourceType === 'Patient' ? resource.name[0].text : resource.description);

/**
 * Kills the engine (kill -9) while a burst of writes is in flight, once `n` of them are
 * acknowledged; starts it again on the same data folder and returns the server built on it
 * with the writes acknowledged before the kill.
 */
async function killDuringBurst(t: Test, n = 150): Promise<{ restarted: TestServer; acknowledged: Acknowledged[] }> {
  const dataDir = dataFolder(t);
  const engine = await startEngine(t, dataDir);
  const first = await serve(t, engine);
  const burst = burstOfWrites(first, 12);
  await burst.acknowledgedAtLeast(n);
  const acknowledged = burst.acknowledged.slice();
  await engine.kill();
  await burst.stop();
  await closeServer(first);
  const answered = [...new Set(burst.failures)].join(', ');
  t.comment(`${acknowledged.length} writes acknowledged before the kill; the ${burst.failures.length} in flight answered ${answered}`);
  return { restarted: await serve(t, await startEngine(t, dataDir)), acknowledged };
}

t.test('a kill -9 during a burst of writes loses no acknowledged write', async (t) => {
  const { restarted, acknowledged } = await killDuringBurst(t);
  const missing: string[] = [];
  for (const ack of acknowledged) {
    const version = await get(restarted, `${ack.type}/${ack.id}/_history/${ack.versionId}`);
    if (version.status !== 200 || descriptionOf(version.body) !== ack.description) {
      missing.push(`${ack.type}/${ack.id}/_history/${ack.versionId} (${ack.description}): HTTP ${version.status}`);
    }
  }
  t.same(missing, [], `all ${acknowledged.length} acknowledged writes are readable with their version`);
});

t.test('after a kill -9 during a burst of writes, every resource has its current version and history in agreement', async (t) => {
  const { restarted } = await killDuringBurst(t);
  for (const type of ['Patient', 'DocumentReference']) {
    const history = (await get(restarted, `${type}/_history?_count=1000`)).body;
    t.equal(history.entry.length, history.total, `the whole ${type} history fits one page`);
    // History comes newest first: collect each resource's versions oldest first.
    const versions = new Map<string, any[]>();
    for (const { resource } of [...history.entry].reverse()) {
      versions.set(resource.id, [...(versions.get(resource.id) ?? []), resource]);
    }
    const disagreements: string[] = [];
    for (const [id, resources] of versions) {
      const numbers = resources.map((r) => Number(r.meta.versionId));
      if (!isDeepStrictEqual(numbers, numbers.map((_, i) => i + 1))) {
        disagreements.push(`${type}/${id}: history holds versions ${numbers}`);
      }
      const current = await get(restarted, `${type}/${id}`);
      if (!isDeepStrictEqual(current.body, resources.at(-1))) {
        disagreements.push(`${type}/${id}: current is version ${current.body.meta?.versionId}, history's last is ${numbers.at(-1)}`);
      }
    }
    t.same(disagreements, [], `${versions.size} ${type} resources: versions 1..n in history, current = the last`);
    const searched = (await get(restarted, `${type}?_count=1000`)).body;
    const withoutHistory = (searched.entry ?? []).map((e: any) => e.resource.id).filter((id: string) => !versions.has(id));
    t.same(withoutHistory, [], `every current ${type} has its history`);
  }
});
