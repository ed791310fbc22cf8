import { randomUUID } from 'node:crypto';
import type { Db } from 'mongodb';
import type { Resource } from 'fhir/r4';
import {
  HISTORY_COLLECTION,
  currentDocumentFrom,
  storedVersionFrom,
  type CurrentDocument,
  type HistoryDocument,
  type IndexFieldsExtractor,
  type StoredVersion,
} from './documents.js';
import { buildVersion } from './write.js';

/**
 * The append-only path: version 1 of many new resources of one type, with server-chosen ids,
 * in one insert into history and one into the current collection. Nothing is read first and no
 * precondition is checked: random ids never meet an existing one, and nothing on this path is
 * ever updated, so the versioned write's read-then-insert-then-replace is not needed.
 *
 * The search values are extracted first (the extractor records the key stats searches rely on
 * before any document is written); then history, the commit point as on the versioned path, then
 * the current documents. A stop between the two inserts leaves history versions whose current
 * document start-up recovery inserts (store/recovery.ts), as for any write.
 */
export async function appendNew(db: Db, extract: IndexFieldsExtractor, type: string, resources: Resource[]): Promise<StoredVersion[]> {
  if (resources.length === 0) return [];
  const versions = resources.map((resource) =>
    buildVersion({ type, id: randomUUID(), method: 'POST', resource, precondition: { kind: 'absent' } }, null),
  );
  const current = await Promise.all(versions.map((version) => currentDocumentFrom(version, extract)));
  await db.collection<HistoryDocument>(HISTORY_COLLECTION).insertMany(versions, { ordered: false });
  await db.collection<CurrentDocument>(type).insertMany(current, { ordered: false });
  return versions.map(storedVersionFrom);
}
