import type { ElementDefinition, StructureDefinition } from 'fhir/r4';
import { parseDefinitionFile } from './definitions.js';

/**
 * HL7's base StructureDefinitions of resources and data types, by type name. The two files are
 * parsed once, on first use; only the StructureDefinitions are kept (the 35 MB bundle is not).
 */
let byType: Map<string, StructureDefinition> | undefined;
let resourceTypes: Set<string> | undefined;

function load(): Map<string, StructureDefinition> {
  if (!byType) {
    byType = new Map();
    resourceTypes = new Set();
    for (const file of ['profiles-types.json', 'profiles-resources.json'] as const) {
      for (const entry of parseDefinitionFile<{ entry?: { resource: StructureDefinition }[] }>(file).entry ?? []) {
        const resource = entry.resource;
        if (resource.resourceType === 'StructureDefinition' && resource.derivation !== 'constraint') {
          dropMedplumTargets(resource);
          byType.set(resource.type, resource);
          if (resource.kind === 'resource') resourceTypes.add(resource.type);
        }
      }
    }
  }
  return byType;
}

/**
 * Medplum's copy of R4 adds its own resource types (Bot, ClientApplication) as reference targets
 * of AuditEvent.source.observer; they are not R4 types, and an unknown target would make the
 * element accept a reference to anything.
 */
function dropMedplumTargets(definition: StructureDefinition): void {
  for (const element of definition.snapshot?.element ?? []) {
    for (const type of element.type ?? []) {
      if (type.targetProfile) type.targetProfile = type.targetProfile.filter((url) => !url.startsWith(MEDPLUM_PREFIX));
    }
  }
}
const MEDPLUM_PREFIX = 'https://medplum.com/';

export function baseStructureDefinition(type: string): StructureDefinition | undefined {
  return load().get(type);
}

/** True for every R4 resource type name (Patient, Organization, Resource...), stored here or not. */
export function isR4ResourceType(type: string): boolean {
  load();
  return resourceTypes!.has(type);
}

/** Every R4 resource type name, stored here or not. */
export function r4ResourceTypes(): string[] {
  load();
  return [...resourceTypes!];
}

/** `http://hl7.org/fhir/StructureDefinition/Patient` → Patient, for base definitions only. */
export function baseTypeOfUrl(url: string): string | undefined {
  const prefix = 'http://hl7.org/fhir/StructureDefinition/';
  if (!url.startsWith(prefix)) return undefined;
  const type = url.slice(prefix.length).split('|')[0];
  return load().has(type) ? type : undefined;
}

/** A type and the types it specialises: Age, Quantity, Element; Patient, DomainResource, Resource. */
export function typeAndAncestors(type: string): string[] {
  const chain = [type];
  for (let base = baseStructureDefinition(type)?.baseDefinition; base && chain.length < 10; ) {
    const next = baseTypeOfUrl(base);
    if (!next) break;
    chain.push(next);
    base = baseStructureDefinition(next)?.baseDefinition;
  }
  return chain;
}

/** The top-level elements of a resource type (`Patient.name`, `Patient.deceased[x]`...). */
export function topLevelElements(type: string): ElementDefinition[] {
  const definition = baseStructureDefinition(type);
  const elements = definition?.snapshot?.element ?? [];
  return elements.filter((e) => e.path.split('.').length === 2);
}

/** HL7's R4 extension definitions (patient-birthTime...), by URL; the file is read on first use. */
let extensions: Map<string, StructureDefinition> | undefined;

export function r4ExtensionDefinition(url: string): StructureDefinition | undefined {
  if (!extensions) {
    extensions = new Map();
    for (const entry of parseDefinitionFile<{ entry?: { resource: StructureDefinition }[] }>('extension-definitions.json').entry ?? []) {
      if (entry.resource.resourceType === 'StructureDefinition') extensions.set(entry.resource.url, entry.resource);
    }
  }
  return extensions.get(url);
}
