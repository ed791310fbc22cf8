import type { RequestContext } from './context.js';

/**
 * What one request contributes to its AuditEvent, filled in where each fact becomes known (the
 * routes' parameters, the services' results) and read once by the audit hook when the reply is
 * sent. Ids and references only: never a resource body.
 */
export interface RequestAudit {
  /** An HL7 restful-interaction code, when the code that runs it knows better than the route (a bundle entry). */
  interaction?: string;
  /** `Type/id` or `Type/id/_history/v` of each resource the request read or wrote. */
  resources: Set<string>;
  /** Ids of the patients whose records the request touched. */
  patients: Set<string>;
  /** The query string of a search, as received (URL and form body). */
  query?: string;
  /** A batch's or transaction's entries: each is recorded as an AuditEvent of its own (audit-hook.ts). */
  entries?: EntryAudit[];
}

/** What one entry of a batch or transaction contributes: its own facts, and the status it was answered with. */
export interface EntryAudit extends RequestAudit {
  status: number;
}

export function newRequestAudit(): RequestAudit {
  return { resources: new Set(), patients: new Set() };
}

/** A stored version or document as far as the audit looks at it. */
interface Touched {
  type?: string;
  id?: string;
  versionId?: number;
  resource?: { resourceType?: string; id?: string; meta?: { versionId?: string } };
  /** `Patient/123`-style compartments the store records with a document (when it does). */
  compartments?: unknown;
}

/** The patients a stored resource belongs to: its compartments, and a Patient's own id. */
function notePatients(audit: RequestAudit, type: string | undefined, id: string | undefined, compartments: unknown): void {
  if (type === 'Patient' && id) audit.patients.add(id);
  if (!Array.isArray(compartments)) return;
  for (const compartment of compartments) {
    if (typeof compartment === 'string' && compartment.startsWith('Patient/')) audit.patients.add(compartment.slice('Patient/'.length));
  }
}

/** One resource the request read, wrote or was refused: recorded as a resource entity, and its patients. */
export function noteResource(ctx: RequestContext | undefined, touched: Touched): void {
  const audit = ctx?.audit;
  if (!audit) return;
  const type = touched.type ?? touched.resource?.resourceType;
  const id = touched.id ?? touched.resource?.id;
  if (!type || !id) return;
  const versionId = touched.versionId ?? Number(touched.resource?.meta?.versionId ?? 0);
  audit.resources.add(versionId > 0 ? `${type}/${id}/_history/${versionId}` : `${type}/${id}`);
  notePatients(audit, type, id, touched.compartments);
}

/**
 * Resources a request returned in a bundle (search matches and includes, history entries): only
 * their patients are recorded, as BALP's query pattern does (the query entity says what was asked),
 * all of them in the request's one AuditEvent.
 */
export function noteReturned(ctx: RequestContext | undefined, docs: Iterable<Touched>): void {
  const audit = ctx?.audit;
  if (!audit) return;
  for (const doc of docs) {
    notePatients(audit, doc.type ?? doc.resource?.resourceType, doc.id ?? doc.resource?.id, doc.compartments);
  }
}

/** The query of a search: name/value pairs in the order received. */
export function noteQuery(ctx: RequestContext | undefined, entries: [string, string][]): void {
  if (ctx?.audit) ctx.audit.query = new URLSearchParams(entries).toString();
}
