import type { ElementDefinition } from 'fhir/r4';
import { baseStructureDefinition } from './structure-definitions.js';

/**
 * What a search parameter's FHIRPath expression reaches, read from the base StructureDefinitions:
 * `Patient.gender` → code bound (required) to administrative-gender, `Patient.address.use` → code
 * (through Address), `(X.value as CodeableConcept)` → CodeableConcept. Only plain paths (with
 * `where(...)` filters, which do not change the type) are followed.
 */
export interface PathTarget {
  types: string[];
  /** The ValueSet of a required binding (canonical URL, possibly with `|version`). */
  requiredValueSet?: string;
}

const COMPLEX_CONTAINERS = new Set(['BackboneElement', 'Element']);

/** The element at a dotted path such as `Patient.address.use`. */
function elementAtPath(path: string): ElementDefinition | undefined {
  const [root, ...steps] = path.split('.');
  let definition = baseStructureDefinition(root);
  let prefix = root;
  for (const [i, step] of steps.entries()) {
    const element = definition?.snapshot?.element.find((e) => e.path === `${prefix}.${step}`);
    const types = (element?.type ?? []).map((t) => t.code);
    if (types.length === 0) return undefined;
    if (i === steps.length - 1) return element;
    if (types.length !== 1) return undefined;
    if (COMPLEX_CONTAINERS.has(types[0])) prefix = `${prefix}.${step}`;
    else {
      definition = baseStructureDefinition(types[0]);
      prefix = types[0];
    }
  }
  return undefined;
}

/**
 * What one part of a FHIRPath expression reaches (one `|`-separated part, e.g.
 * `Patient.telecom.where(system='email')` → ContactPoint), or undefined when it is not a plain path.
 */
export function pathTarget(part: string): PathTarget | undefined {
  const text = part.trim().replace(/\.where\([^()]*\)/g, '');
  const cast = /^\(?\s*[A-Za-z.]+\s+as\s+([A-Za-z]+)\s*\)?$/.exec(text);
  if (cast) return { types: [cast[1]] };
  const element = /^[A-Za-z]+(\.[A-Za-z]+)+$/.test(text) ? elementAtPath(text) : undefined;
  if (!element) return undefined;
  const binding = element.binding?.strength === 'required' ? element.binding.valueSet : undefined;
  return { types: element.type!.map((t) => t.code), ...(binding ? { requiredValueSet: binding } : {}) };
}
