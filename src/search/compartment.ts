import type { CompartmentDefinition } from 'fhir/r4';
import type { Document, Filter } from 'mongodb';
import { readDefinitionFile } from '../fhir/definitions.js';
import { badRequest } from '../outcome.js';
import { field } from './encoding.js';

/** The R4 Patient CompartmentDefinition: which parameters of each type link a resource to a patient. */
let params: Map<string, string[]> | undefined;

export function patientCompartmentParams(type: string): string[] | undefined {
  if (!params) {
    const definition = readDefinitionFile<CompartmentDefinition>('compartmentdefinition-patient.json');
    params = new Map((definition.resource ?? []).filter((r) => r.param?.length).map((r) => [r.code, r.param!]));
  }
  return params.get(type);
}

/** `Patient/[id]/[type]`: resources of `type` in that patient's compartment (the patient itself for Patient). */
export function compartmentFilter(compartment: { type: string; id: string }, type: string): Filter<Document> {
  if (compartment.type !== 'Patient') throw badRequest(`Only the Patient compartment is supported; got ${compartment.type}`, 'not-supported');
  const codes = patientCompartmentParams(type);
  const key = `Patient/${compartment.id}`;
  const parts: Filter<Document>[] = (codes ?? []).map((code) => ({ [field.values(code)]: key }));
  if (type === 'Patient') parts.push({ _id: compartment.id } as unknown as Filter<Document>);
  if (parts.length === 0) throw badRequest(`${type} resources are not in the Patient compartment`, 'not-supported');
  return parts.length === 1 ? parts[0] : { $or: parts };
}
