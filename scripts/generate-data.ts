/**
 * Deterministic test data for search benchmarks: patients with names, identifiers, birth dates
 * and addresses, and several DocumentReferences per patient with types, dates and authors.
 * Written directly in the stored document shape (current + history, search values extracted by
 * the same code as the write path), in bulk. Same seed, same data.
 *
 *   MONGODB_URI=mongodb://... MONGODB_DB=bench [BENCH_SCALE=large] npx tsx scripts/generate-data.ts
 */
import type { DocumentReference, Patient, Resource } from 'fhir/r4';
import { MongoClient, type Db } from 'mongodb';
import { KeyStats, SearchRegistry, searchFields } from '../src/search/index.js';
import { HISTORY_COLLECTION, historyKey } from '../src/store/documents.js';

export interface DataSize {
  patients: number;
  documents: number;
}

export function dataSize(env: NodeJS.ProcessEnv = process.env): DataSize {
  const base = env.BENCH_SCALE === 'large' ? { patients: 100_000, documents: 300_000 } : { patients: 10_000, documents: 30_000 };
  // BENCH_PATIENTS / BENCH_DOCUMENTS: other sizes (smaller smoke runs, larger scale checks).
  return { patients: Number(env.BENCH_PATIENTS) || base.patients, documents: Number(env.BENCH_DOCUMENTS) || base.documents };
}

/** mulberry32: a small seeded generator, so every run makes the same data. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const FAMILIES = ['Smith', 'Müller', 'García', 'Nguyen', 'Johnson', 'Okafor', 'Kowalski', 'Rossi', 'Dubois', 'Tanaka', 'Silva', 'Jensen', 'Brown', 'Ivanova', 'Haddad', 'Kim'];
const GIVEN = ['Anna', 'José', 'Li', 'Mohammed', 'Olivia', 'Noah', 'Émile', 'Sara', 'Jonas', 'Amara', 'Yuki', 'Lucas', 'Fatima', 'Mia'];
const CITIES = ['Springfield', 'Köln', 'Lyon', 'Osaka', 'Lagos', 'Porto', 'Aarhus', 'Denver'];
export const DOC_TYPES = ['11506-3', '18842-5', '34117-2', '11488-4', '28570-0'];

// Zero-padded, so ids spread evenly in their sort order as server-assigned UUIDs do.
export const patientId = (i: number) => `pat-${String(i).padStart(7, '0')}`;
export const mrn = (i: number) => `MRN${String(i).padStart(7, '0')}`;

export function makePatient(i: number, rnd: () => number): Patient {
  const pick = <T>(list: T[]) => list[Math.floor(rnd() * list.length)];
  const year = 1930 + Math.floor(rnd() * 90);
  const month = 1 + Math.floor(rnd() * 12);
  const day = 1 + Math.floor(rnd() * 28);
  return {
    resourceType: 'Patient',
    id: patientId(i),
    identifier: [{ system: 'urn:oid:1.2.36.146.595.217.0.1', value: mrn(i), type: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'MR' }] } }],
    name: [{ family: pick(FAMILIES), given: [pick(GIVEN)] }],
    gender: rnd() < 0.5 ? 'female' : 'male',
    birthDate: `${year}-${String(month).padStart(2, '0')}-${String(day).padStart(2, '0')}`,
    address: [{ line: [`${1 + Math.floor(rnd() * 200)} Main Street`], city: pick(CITIES), postalCode: String(10000 + Math.floor(rnd() * 89999)) }],
  };
}

export function makeDocument(j: number, patient: number, rnd: () => number): DocumentReference {
  const day = new Date(Date.UTC(2015, 0, 1) + Math.floor(rnd() * 3650) * 86_400_000 + Math.floor(rnd() * 86_400_000));
  return {
    resourceType: 'DocumentReference',
    id: `doc-${String(j).padStart(7, '0')}`,
    status: rnd() < 0.9 ? 'current' : 'superseded',
    type: { coding: [{ system: 'http://loinc.org', code: DOC_TYPES[Math.floor(rnd() * DOC_TYPES.length)] }] },
    subject: { reference: `Patient/${patientId(patient)}` },
    date: day.toISOString(),
    author: [{ reference: `Practitioner/prac-${Math.floor(rnd() * 500)}` }],
    content: [{ attachment: { contentType: 'text/plain', url: `http://example.org/docs/${j}` } }],
  };
}

function stored(registry: SearchRegistry, baseUrl: string, resource: Resource, at: Date) {
  const type = resource.resourceType;
  const full = { ...resource, meta: { versionId: '1', lastUpdated: at.toISOString() } } as Resource;
  return {
    current: { _id: resource.id!, versionId: 1, lastUpdated: at, deleted: false, resource: full, ...searchFields(registry, baseUrl, type, full) },
    history: { _id: historyKey(type, resource.id!, 1), type, id: resource.id!, versionId: 1, lastUpdated: at, deleted: false, method: 'PUT' as const, resource: full },
  };
}

/** Writes the data set into an empty database. */
export async function generateData(db: Db, size: DataSize, baseUrl: string, log = (m: string) => console.log(m)): Promise<void> {
  const registry = new SearchRegistry(undefined);
  const keyStats = new KeyStats(db);
  const rnd = random(20240501);
  const at = new Date(Date.UTC(2025, 0, 1));
  const write = async (type: string, resources: Resource[]) => {
    const docs = resources.map((r) => stored(registry, baseUrl, r, at));
    // As the write path does: key stats (date spans, id bounds) are recorded before the documents exist.
    await keyStats.recordAll(type, docs.map((d) => ({ id: d.current._id, sp: d.current.sp })));
    // Plain bulk inserts: the data set goes into an empty database (upserts are far slower).
    await db.collection(type).insertMany(docs.map((d) => d.current) as never[], { ordered: false });
    await db.collection(HISTORY_COLLECTION).insertMany(docs.map((d) => d.history) as never[], { ordered: false });
  };
  for (const type of ['Patient', 'DocumentReference']) {
    if ((await db.collection(type).estimatedDocumentCount()) > 0) {
      throw new Error(`${db.databaseName} already holds ${type} resources: generate into an empty database`);
    }
  }
  const batch = 1000;
  for (let i = 0; i < size.patients; i += batch) {
    const list: Resource[] = [];
    for (let k = i; k < Math.min(size.patients, i + batch); k++) list.push(makePatient(k, rnd));
    await write('Patient', list);
  }
  log(`${size.patients} patients written`);
  for (let j = 0; j < size.documents; j += batch) {
    const list: Resource[] = [];
    for (let k = j; k < Math.min(size.documents, j + batch); k++) list.push(makeDocument(k, Math.floor(rnd() * size.patients), rnd));
    await write('DocumentReference', list);
  }
  log(`${size.documents} documents written`);
  await keyStats.complete(SearchRegistry.storedTypes());
}

if (process.argv[1]?.endsWith('generate-data.ts')) {
  const uri = process.env.MONGODB_URI;
  if (!uri) throw new Error('Set MONGODB_URI (and MONGODB_DB) to the database to fill');
  const client = await new MongoClient(uri).connect();
  await generateData(client.db(process.env.MONGODB_DB || 'fhir'), dataSize(), (process.env.BASE_URL || 'http://localhost:8080/fhir').replace(/\/+$/, ''));
  await client.close();
}
