import type { Resource } from 'fhir/r4';

/**
 * What access decisions need, kept on current and history documents (delete markers included)
 * so every read path can filter by index: the compartments a resource belongs to
 * (`Patient/123`) and its security label codes (`R`, `HIV`).
 */
export interface AccessFields {
  compartments: string[];
  labels: string[];
}

/** The current version of one resource, in the collection named after its type. */
export interface CurrentDocument extends Partial<AccessFields> {
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
export interface HistoryDocument extends Partial<AccessFields> {
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
export interface StoredVersion extends Partial<AccessFields> {
  type: string;
  id: string;
  versionId: number;
  lastUpdated: Date;
  deleted: boolean;
  resource?: Resource;
}

/** What is extracted from a resource when it is written. */
export interface ExtractedFields {
  /** The search fields of its current document (owned by src/search). */
  search: object;
  access: AccessFields;
}

/**
 * Extracts the search and access fields of a resource. Asynchronous: it may record facts the
 * searches rely on (the longest date span) before the document is written.
 */
export type IndexFieldsExtractor = (type: string, resource: Resource) => Promise<ExtractedFields>;

/** The current document of a version, with its fields as extracted (undefined for a delete marker). */
export function currentDocumentFrom(version: HistoryDocument, extracted: ExtractedFields | undefined): CurrentDocument {
  const doc: CurrentDocument = {
    _id: version.id,
    versionId: version.versionId,
    lastUpdated: version.lastUpdated,
    deleted: version.deleted,
  };
  if (version.compartments) doc.compartments = version.compartments;
  if (version.labels) doc.labels = version.labels;
  if (!version.deleted && version.resource && extracted) {
    doc.resource = version.resource;
    Object.assign(doc, extracted.search);
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
    compartments: doc.compartments,
    labels: doc.labels,
  };
}
