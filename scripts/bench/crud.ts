import { randomUUID } from 'node:crypto';
import { MongoClient } from 'mongodb';
import { ensureIndexes } from '../../src/db/indexes.js';
import { ResourceStore } from '../../src/store/index.js';
import { driverLoad } from './driver-load.js';
import { load, type BenchEnv, type BenchRow, type BenchSuite } from './harness.js';

/** A realistic Patient (about 1 KB) numbered i. */
function patient(i: number, id?: string) {
  return {
    resourceType: 'Patient',
    ...(id ? { id } : {}),
    identifier: [{ system: 'http://hospital.example.org/mrn', value: `MRN${String(i).padStart(8, '0')}` }],
    active: true,
    name: [{ use: 'official', family: `Family${i % 997}`, given: [`Given${i % 113}`, 'Middle'] }],
    telecom: [{ system: 'phone', value: `555-${String(i % 10000).padStart(4, '0')}`, use: 'home' }],
    gender: i % 2 ? 'female' : 'male',
    birthDate: `19${String(30 + (i % 70)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`,
    address: [{ use: 'home', line: [`${i} Main Street`], city: 'Springfield', postalCode: `0${i % 9999}`, country: 'US' }],
  };
}

const json = { 'content-type': 'application/fhir+json' };

/** Loads `count` Patients through the API, 16 at a time; returns their ids. */
async function loadPatients(baseUrl: string, count: number): Promise<string[]> {
  const ids: string[] = [];
  for (let start = 0; start < count; start += 16) {
    const batch = Array.from({ length: Math.min(16, count - start) }, (_, k) =>
      fetch(`${baseUrl}/Patient`, { method: 'POST', headers: json, body: JSON.stringify(patient(start + k)) })
        .then((r) => r.json() as Promise<{ id: string }>)
        .then((p) => ids.push(p.id)),
    );
    await Promise.all(batch);
  }
  return ids;
}

export const crudSuite: BenchSuite = {
  name: 'crud',
  async run(env: BenchEnv): Promise<BenchRow[]> {
    const patients = Number(process.env.BENCH_PATIENTS ?? 3000);
    const ids = await loadPatients(env.baseUrl, patients);
    const pick = () => ids[Math.floor(Math.random() * ids.length)];
    const url = new URL(env.baseUrl);
    const common = { url: url.origin, connections: env.concurrency, duration: env.seconds };

    const reads = { requests: [{ method: 'GET' as const, setupRequest: (req: { path?: string }) => ({ ...req, path: `${url.pathname}/Patient/${pick()}` }) }] };
    // Loading warmed the write path; reads get a warm-up of their own (2 s, not counted).
    await load({ ...common, duration: 2, ...reads });
    const read = await load({ ...common, ...reads });
    let n = patients;
    const create = await load({
      ...common,
      requests: [{ method: 'POST', path: `${url.pathname}/Patient`, headers: json, setupRequest: (req) => ({ ...req, body: JSON.stringify(patient(n++)) }) }],
    });
    const update = await load({
      ...common,
      requests: [
        {
          method: 'PUT',
          headers: json,
          setupRequest: (req) => {
            const id = pick();
            return { ...req, path: `${url.pathname}/Patient/${id}`, body: JSON.stringify(patient(n++, id)) };
          },
        },
      ],
    });

    // The same database operations the store makes per interaction, straight through the
    // driver, on a twin database with the same indexes: the ratio is what the server adds.
    const client = await new MongoClient(env.mongoUri).connect();
    const db = client.db(`${env.dbName}_driver`);
    await ensureIndexes(db, ResourceStore.indexes);
    const current = db.collection<any>('Patient');
    const history = db.collection<any>('history');
    const version = (i: number, id: string, versionId: number, method: string) => {
      const lastUpdated = new Date();
      const resource = { ...patient(i, id), meta: { versionId: String(versionId), lastUpdated: lastUpdated.toISOString() } };
      return {
        history: { _id: `Patient/${id}/${versionId}`, type: 'Patient', id, versionId, lastUpdated, deleted: false, method, resource },
        current: { _id: id, versionId, lastUpdated, deleted: false, resource },
      };
    };
    const driverIds: string[] = [];
    for (let i = 0; i < patients; i += 500) {
      const chunk = Array.from({ length: Math.min(500, patients - i) }, (_, k) => version(i + k, randomUUID(), 1, 'POST'));
      await history.insertMany(chunk.map((c) => c.history));
      await current.insertMany(chunk.map((c) => c.current));
      driverIds.push(...chunk.map((c) => c.current._id));
    }
    const pickDriver = () => driverIds[Math.floor(Math.random() * driverIds.length)];
    const dRead = await driverLoad(env.concurrency, env.seconds, () => current.findOne({ _id: pickDriver() }));
    const dCreate = await driverLoad(env.concurrency, env.seconds, async (i) => {
      const v = version(i, randomUUID(), 1, 'POST');
      await current.findOne({ _id: v.current._id });
      await history.insertOne(v.history);
      await current.insertOne(v.current);
    });
    const dUpdate = await driverLoad(env.concurrency, env.seconds, async (i) => {
      const id = pickDriver();
      const existing = await current.findOne({ _id: id });
      const v = version(i, id, (existing?.versionId ?? 0) + 1, 'PUT');
      try {
        await history.insertOne(v.history);
        await current.replaceOne({ _id: id, versionId: existing?.versionId }, v.current);
      } catch {
        // Two workers picked the same id at once: the store would retry; the twin just moves on.
      }
    });
    await db.dropDatabase();
    await client.close();

    const row = (name: string, server: typeof read, driver: typeof dRead): BenchRow[] => [
      { suite: 'crud', name, rate: server.rate, p50Ms: server.p50Ms, p99Ms: server.p99Ms, note: server.errors ? `${server.errors} errors` : undefined },
      {
        suite: 'crud',
        name: `  driver: ${name}`,
        rate: driver.rate,
        p50Ms: driver.p50Ms,
        p99Ms: driver.p99Ms,
        note: `server/driver rate ${(server.rate / driver.rate).toFixed(2)}, p50 x${(server.p50Ms / Math.max(driver.p50Ms, 0.001)).toFixed(1)}`,
      },
    ];
    return [
      ...row('GET Patient/[id]', read, dRead),
      ...row('POST Patient', create, dCreate),
      ...row('PUT Patient/[id]', update, dUpdate),
    ];
  },
};
