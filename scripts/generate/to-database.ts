/**
 * Writes the population straight into an empty database, in the stored document shape
 * (current + history, search and access values extracted by the same code as the write path),
 * in bulk: far faster than the API for benchmark-sized data sets. The server should be started
 * after it (its caches, e.g. of Consents, are loaded at start-up).
 */
import type { Resource } from 'fhir/r4';
import type { Db } from 'mongodb';
import { resourceTypeEntry } from '../../src/fhir/resource-types.js';
import { KeyStats, SearchRegistry, extractSearchValues, storedFields } from '../../src/search/index.js';
import { accessFields } from '../../src/security/index.js';
import { HISTORY_COLLECTION, historyKey } from '../../src/store/documents.js';
import { DEFAULT_SEED, population, type DataSize } from './population.js';

const BATCH = 1000;

function stored(registry: SearchRegistry, baseUrl: string, resource: Resource, at: Date) {
  const type = resource.resourceType;
  const full = { ...resource, meta: { versionId: '1', lastUpdated: at.toISOString() } } as Resource;
  const sp = extractSearchValues(registry, baseUrl, type, full);
  const fields = storedFields(type, sp);
  return {
    current: { _id: resource.id!, versionId: 1, lastUpdated: at, deleted: false, ...accessFields(type, full, sp), resource: full, ...fields },
    history: { _id: historyKey(type, resource.id!, 1), type, id: resource.id!, versionId: 1, lastUpdated: at, deleted: false, method: 'PUT' as const, resource: full },
  };
}

/** Writes the data set into an empty database. */
export async function generateData(db: Db, size: DataSize, baseUrl: string, log = (m: string) => console.log(m), seed = DEFAULT_SEED): Promise<void> {
  const registry = new SearchRegistry(undefined);
  const keyStats = new KeyStats(db);
  const at = new Date(Date.UTC(2025, 0, 1));
  const counts: Record<string, number> = { Patient: size.patients, DocumentReference: size.documents, Consent: size.consents ?? 0, AuditEvent: size.auditEvents ?? 0 };
  for (const [type, count] of Object.entries(counts)) {
    if (count > 0 && (await db.collection(type).estimatedDocumentCount()) > 0) {
      throw new Error(`${db.databaseName} already holds ${type} resources: generate into an empty database`);
    }
  }
  const write = async (type: string, resources: Resource[]) => {
    const docs = resources.map((r) => stored(registry, baseUrl, r, at));
    // As the write path does: key stats (date spans, id bounds) are recorded before the documents exist.
    await keyStats.recordAll(type, docs.map((d) => ({ id: d.current._id, sp: d.current.sp })));
    // Plain bulk inserts: the data set goes into an empty database (upserts are far slower).
    await db.collection(type).insertMany(docs.map((d) => d.current) as never[], { ordered: false });
    // The append-only audit trail keeps no history versions: its current document is its only one.
    if (!resourceTypeEntry(type)?.appendOnly) await db.collection(HISTORY_COLLECTION).insertMany(docs.map((d) => d.history) as never[], { ordered: false });
  };
  let pending: Resource[] = [];
  const flush = async () => {
    if (pending.length === 0) return;
    const type = pending[0].resourceType;
    await write(type, pending);
    pending = [];
  };
  let previous = '';
  for (const resource of population(size, seed)) {
    if (resource.resourceType !== previous || pending.length >= BATCH) {
      await flush();
      if (previous && resource.resourceType !== previous) log(`${counts[previous]} ${previous} written`);
      previous = resource.resourceType;
    }
    pending.push(resource);
  }
  await flush();
  if (previous) log(`${counts[previous]} ${previous} written`);
  await keyStats.complete(SearchRegistry.storedTypes());
}
