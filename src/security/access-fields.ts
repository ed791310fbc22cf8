import type { Resource } from 'fhir/r4';
import { patientCompartmentParams } from '../search/index.js';
import type { AccessFields } from '../store/index.js';

const PATIENT_KEY = /^Patient\/[A-Za-z0-9\-.]{1,64}$/;

/**
 * The access fields of a resource being written: the patient compartments it is in (by the
 * R4 Patient CompartmentDefinition's parameters, from its extracted search values `sp`) and
 * the codes of its `meta.security` labels.
 */
export function accessFields(type: string, resource: Resource, sp: Record<string, unknown>): AccessFields {
  const compartments = new Set<string>();
  if (type === 'Patient' && resource.id) compartments.add(`Patient/${resource.id}`);
  for (const code of patientCompartmentParams(type) ?? []) {
    const keys = sp[code];
    if (Array.isArray(keys)) for (const key of keys) if (typeof key === 'string' && PATIENT_KEY.test(key)) compartments.add(key);
  }
  const labels = new Set<string>();
  for (const coding of resource.meta?.security ?? []) if (coding.code) labels.add(coding.code);
  return { compartments: [...compartments], labels: [...labels] };
}
