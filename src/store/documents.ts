import type { Resource } from 'fhir/r4';

/** The current version of one resource, in the collection named after its type. */
export interface CurrentDocument {
  _id: string;
  versionId: number;
  lastUpdated: Date;
  deleted: boolean;
  /** The resource as stored (meta.versionId and meta.lastUpdated set); absent once deleted. */
  resource?: Resource;
  /** Search values extracted at write time (owned by src/search). */
  [indexField: string]: unknown;
}

/** One version (or delete marker) of one resource, in the shared history collection. */
export interface HistoryDocument {
  /** `Type/id/versionId`: its uniqueness is what keeps two writers from making the same version. */
  _id: string;
  type: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
  deleted: boolean;
  method: 'POST' | 'PUT' | 'DELETE';
  resource?: Resource;
}

export const HISTORY_COLLECTION = 'history';

export function historyKey(type: string, id: string, versionId: number): string {
  return `${type}/${id}/${versionId}`;
}

/** What a read returns: one version of one resource. */
export interface StoredVersion {
  type: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
  deleted: boolean;
  resource?: Resource;
}

/**
 * Turns a resource into the extra (search) fields of its current document. Asynchronous: it may
 * record facts the searches rely on (the longest date span) before the document is written.
 */
export type IndexFieldsExtractor = (type: string, resource: Resource) => Promise<object>;

export async function currentDocumentFrom(version: HistoryDocument, extract: IndexFieldsExtractor): Promise<CurrentDocument> {
  const doc: CurrentDocument = {
    _id: version.id,
    versionId: version.versionId,
    lastUpdated: version.lastUpdated,
    deleted: version.deleted,
  };
  if (!version.deleted && version.resource) {
    doc.resource = version.resource;
    Object.assign(doc, await extract(version.type, version.resource));
  }
  return doc;
}

export function storedVersionFrom(doc: HistoryDocument): StoredVersion {
  return {
    type: doc.type,
    id: doc.id,
    versionId: doc.versionId,
    lastUpdated: doc.lastUpdated,
    deleted: doc.deleted,
    resource: doc.resource,
  };
}
