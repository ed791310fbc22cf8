import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { definitionResources } from './definitions.js';

/** HL7's base StructureDefinitions of resources and data types, by type name (loaded once). */
let byType: Map<string, StructureDefinition> | undefined;

export function baseStructureDefinition(type: string): StructureDefinition | undefined {
  if (!byType) {
    byType = new Map();
    for (const file of ['profiles-types.json', 'profiles-resources.json'] as const) {
      for (const resource of definitionResources(file)) {
        if (resource.resourceType === 'StructureDefinition' && resource.derivation !== 'constraint') {
          byType.set(resource.type, resource);
        }
      }
    }
  }
  return byType.get(type);
}

/** The top-level elements of a resource type (`Patient.name`, `Patient.deceased[x]`...). */
export function topLevelElements(type: string): ElementDefinition[] {
  const definition = baseStructureDefinition(type);
  const elements = definition?.snapshot?.element ?? [];
  return elements.filter((e) => e.path.split('.').length === 2);
}
