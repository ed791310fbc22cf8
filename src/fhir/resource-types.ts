/**
 * The resource types this server stores, and what each allows. Routes, the CapabilityStatement
 * and the database collections are all built from this list: adding a type is one line here.
 */
export interface ResourceTypeEntry {
  type: string;
  /** Audit trails must not be rewritten: no update, no delete. */
  appendOnly?: boolean;
  /** The HL7 search parameters offered, when not all of them (custom SearchParameters always are). */
  searchParams?: readonly string[];
}

export const RESOURCE_TYPES: readonly ResourceTypeEntry[] = [
  { type: 'Patient' },
  { type: 'DocumentReference' },
  { type: 'Consent' },
  // Every request writes an AuditEvent, and each search parameter offered costs every one of
  // them its extraction and index entries: the trail offers what audit reviews select by (who
  // saw this patient or resource, what this user did, when, which interaction, how it ended).
  {
    type: 'AuditEvent',
    appendOnly: true,
    searchParams: ['_id', 'date', 'patient', 'entity', 'agent', 'type', 'subtype', 'action', 'outcome'],
  },
  { type: 'StructureDefinition' },
  { type: 'SearchParameter' },
];

const byName = new Map(RESOURCE_TYPES.map((entry) => [entry.type, entry]));

export function resourceTypeEntry(type: string): ResourceTypeEntry | undefined {
  return byName.get(type);
}

export function isStoredType(type: string): boolean {
  return byName.has(type);
}
