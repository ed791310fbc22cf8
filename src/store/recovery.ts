import type { Db } from 'mongodb';
import { HISTORY_COLLECTION, type CurrentDocument, type HistoryDocument } from './documents.js';
import type { Writer } from './write.js';

/**
 * Finishes writes whose history version was committed but whose current document was not
 * moved (the server stopped between the two steps). Only recent history is looked at: a write
 * left behind for longer would already have been finished by the next writer of that resource.
 */
export async function recoverRecentWrites(db: Db, writer: Writer, windowMs = 15 * 60_000): Promise<number> {
  const since = new Date(Date.now() - windowMs);
  const recent = db
    .collection<HistoryDocument>(HISTORY_COLLECTION)
    .find({ lastUpdated: { $gte: since } }, { projection: { type: 1, id: 1, versionId: 1 }, sort: { lastUpdated: 1 } });
  let repaired = 0;
  for await (const version of recent) {
    const current = await db
      .collection<CurrentDocument>(version.type)
      .findOne({ _id: version.id }, { projection: { versionId: 1 } });
    if (!current || current.versionId < version.versionId) {
      await writer.rollForward(version.type, version.id, version.versionId);
      repaired++;
    }
  }
  return repaired;
}
