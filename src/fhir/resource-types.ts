/**
 * The resource types this server stores, and what each allows. Routes, the CapabilityStatement
 * and the database collections are all built from this list: adding a type is one line here.
 */
export interface ResourceTypeEntry {
  type: string;
  /** Audit trails must not be rewritten: no update, no delete. */
  appendOnly?: boolean;
}

export const RESOURCE_TYPES: readonly ResourceTypeEntry[] = [
  { type: 'Patient' },
  { type: 'DocumentReference' },
  { type: 'Consent' },
  { type: 'AuditEvent', appendOnly: true },
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
