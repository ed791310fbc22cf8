import type { Resource } from 'fhir/r4';
import { searchFields } from '../search/index.js';
import type { SearchDeps } from './search.js';

/**
 * `$reindex`: extracts the search values of existing resources again (after a SearchParameter
 * was added or changed). Each document is updated only if it is still the version read, so a
 * concurrent write (which extracts its own values) is never overwritten with stale ones.
 */
export async function reindex(deps: SearchDeps, types: string[]): Promise<Record<string, number>> {
  await deps.registry.refresh(true);
  const counts: Record<string, number> = {};
  for (const type of types) {
    const collection = deps.db.collection(type);
    let done = 0;
    let batch: { filter: object; update: object }[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await collection.bulkWrite(batch.map((b) => ({ updateOne: b })), { ordered: false });
      batch = [];
    };
    // No maxTimeMS: a cursor's limit covers all its batches, and this one walks the whole collection.
    const cursor = collection.find({ deleted: false }, { projection: { _id: 1, versionId: 1, resource: 1 } });
    for await (const doc of cursor) {
      const fields = searchFields(deps.registry, deps.config.baseUrl, type, doc.resource as Resource);
      await deps.keyStats.record(type, String(doc._id), fields.sp);
      // Shared arrays a document no longer has values for go.
      const absent = ['spx', 'spn', 'spd'].filter((name) => !(name in fields));
      const update = absent.length > 0 ? { $set: fields, $unset: Object.fromEntries(absent.map((name) => [name, ''])) } : { $set: fields };
      batch.push({ filter: { _id: doc._id, versionId: doc.versionId }, update });
      done++;
      if (batch.length >= 500) await flush();
    }
    await flush();
    counts[type] = done;
  }
  return counts;
}
