import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { Resource } from 'fhir/r4';
import { currentDocumentFrom, storedVersionFrom, type CurrentDocument, type IndexFieldsExtractor, type StoredVersion } from './documents.js';
import { buildVersion } from './write.js';

/**
 * The append-only path (the audit trail): new resources of one type, each version 1 under a
 * server-chosen id, in one insert into the type's collection. They are never updated, so they
 * keep no history versions: their only version is the current document, which is where vread
 * and instance history read it (request-store.ts). Nothing is read first and no precondition
 * is checked (random ids never meet an existing one), and the one insert is the commit point:
 * there is no second step for a crash to leave behind.
 */
export async function appendNew(db: Db, extract: IndexFieldsExtractor, type: string, resources: Resource[]): Promise<StoredVersion[]> {
  if (resources.length === 0) return [];
  const versions = resources.map((resource) =>
    buildVersion({ type, id: randomUUID(), method: 'POST', resource, precondition: { kind: 'absent' } }, null),
  );
  const docs = await Promise.all(
    versions.map(async (version) => {
      // The extractor also records the key stats searches rely on, before the document is written.
      const extracted = await extract(type, version.resource!);
      return currentDocumentFrom({ ...version, ...extracted.access }, extracted);
    }),
  );
  await db.collection<CurrentDocument>(type).insertMany(docs, { ordered: false });
  return versions.map(storedVersionFrom);
}
