import type { AuditEvent, Resource } from 'fhir/r4';
import { forbidden } from '../outcome.js';

/**
 * What of the audit trail a caller limited to one patient's compartment may see (its accounting
 * of disclosures). An AuditEvent records one interaction, and a search's names every patient it
 * returned; such an event is in each of their compartments, so each of them finds it. What the
 * caller must not learn from it is who else was there: the event it is shown names no other
 * patient, and its searches of the trail may not ask about another patient (an event that
 * matched would say that the two appeared together).
 */

/** AuditEvent search parameters whose values may name a Patient. */
const PATIENT_VALUED = new Set(['patient', 'entity', 'agent']);

/** HL7's security label for a resource shown with parts removed. */
const REDACTED = { system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED', display: 'redacted' };

/** `Patient/x`, `Patient/x/_history/2` or an absolute URL ending so: the patient id, else undefined. */
function patientOf(reference: string | undefined): string | undefined {
  const match = reference?.match(/(?:^|\/)Patient\/([^/]+)(?:\/_history\/[^/]+)?$/);
  return match?.[1];
}

/** The AuditEvent as `patient` may see it: without the patients other than `patient` it names. */
export function redactOtherPatients<T extends Resource>(resource: T, patient: string): T {
  if (resource.resourceType !== 'AuditEvent') return resource;
  const event = resource as unknown as AuditEvent;
  const isOther = (reference: string | undefined) => {
    const id = patientOf(reference);
    return id !== undefined && id !== patient;
  };
  const entity = event.entity?.filter((e) => !isOther(e.what?.reference));
  if (!event.entity || entity!.length === event.entity.length) return resource;
  const meta = { ...event.meta, security: [...(event.meta?.security ?? []), REDACTED] };
  return { ...event, meta, entity } as unknown as T;
}

/**
 * The AuditEvent conditions of a search's parameters: all of them when AuditEvent is searched,
 * and wherever AuditEvent is searched inside another search: `_has:AuditEvent:[link]:[param]`
 * and a chain through `[ref]:AuditEvent.[param]`.
 */
export function auditConditions(entries: readonly [string, string][], searchesAuditEvents: boolean): [string, string][] {
  const conditions: [string, string][] = [];
  for (const [name, value] of entries) {
    const inner = name.match(/(?:^|[:.])_has:AuditEvent:[^:]+:(.+)$/)?.[1] ?? name.match(/:AuditEvent\.(.+)$/)?.[1];
    if (inner !== undefined) conditions.push([inner, value]);
    else if (searchesAuditEvents) conditions.push([name, value]);
  }
  return conditions;
}

/**
 * Refuses (403) AuditEvent conditions of a caller limited to `patient` that name another patient
 * through `patient`, `entity` or `agent` (plain, with a type modifier, or as a bare id, which may
 * mean a Patient). Chains are left alone: their inner search sees only the caller's compartment.
 */
export function assertOwnPatientAuditQuery(entries: readonly [string, string][], patient: string): void {
  for (const [name, value] of entries) {
    const [param, modifier] = name.split(':');
    if (!PATIENT_VALUED.has(param) || name.includes('.') || modifier === 'missing' || modifier === 'identifier') continue;
    for (const item of value.split(',')) {
      const named = modifier !== undefined ? (modifier === 'Patient' ? item : undefined) : item.includes('/') ? patientOf(item) : item;
      if (named !== undefined && named !== patient) {
        throw forbidden(`A patient app's searches of the audit trail may name only its own patient (Patient/${patient}): ${name}=${item} is refused`);
      }
    }
  }
}
