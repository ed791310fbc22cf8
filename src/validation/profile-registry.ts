import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CodeSystem, StructureDefinition, ValueSet } from 'fhir/r4';
import { addTerminology } from '../fhir/value-sets.js';
import type { DefinitionSource } from '../store/index.js';

/**
 * The profiles the server knows: the StructureDefinitions of the profiles/ folder (read at
 * start-up) and those stored through the API. Every instance keeps the stored ones in memory
 * and reloads them when the StructureDefinition change counter moved (the store moves it with
 * every write of one), so a profile stored on one instance takes effect on all of them at their
 * next validation, at the cost of one small read by _id shared by concurrent validations.
 */
const MAX_STORED_PROFILES = 10_000;

export class ProfileRegistry {
  private readonly fromFiles = new Map<string, StructureDefinition>();
  private stored = new Map<string, StructureDefinition>();
  private storedVersions = new Map<string, string>();
  private seenCounter: number | undefined;

  constructor(private readonly source: DefinitionSource | undefined) {}

  /**
   * Reads every *.json file of the folder: a StructureDefinition, an array or a Bundle of them.
   * ValueSets and CodeSystems there (an IG's terminology) join the R4 ones for binding checks.
   */
  loadFolder(folder: string): number {
    let files: string[];
    try {
      files = readdirSync(folder).filter((f) => f.endsWith('.json'));
    } catch {
      return 0;
    }
    for (const file of files) {
      const parsed = JSON.parse(readFileSync(join(folder, file), 'utf8')) as unknown;
      for (const resource of resourcesIn(parsed)) {
        if (resource.resourceType === 'StructureDefinition') this.fromFiles.set(resource.url, resource);
        else addTerminology(resource);
      }
    }
    return this.fromFiles.size;
  }

  /** A known profile by canonical URL (`|version` ignored); stored ones win over files. */
  get(canonical: string): StructureDefinition | undefined {
    const url = canonical.split('|')[0];
    return this.stored.get(url) ?? this.fromFiles.get(url);
  }

  /** Reloads the stored profiles when another write changed them since the last look; true when it did. */
  async refresh(): Promise<boolean> {
    if (!this.source) return false;
    const version = await this.source.changeCount('StructureDefinition');
    if (version === this.seenCounter) return false;
    const definitions = await this.source.policyResources<StructureDefinition>('StructureDefinition', {}, MAX_STORED_PROFILES);
    const stored = new Map<string, StructureDefinition>();
    const versions = new Map<string, string>();
    for (const definition of definitions) {
      if (!definition?.url) continue;
      // Keep the same object for an unchanged version, so its compiled validator stays cached.
      const previous = this.stored.get(definition.url);
      const versionId = `${definition.id}/${definition.meta?.versionId}`;
      const unchanged = previous && this.storedVersions.get(definition.url) === versionId;
      stored.set(definition.url, unchanged ? previous : definition);
      versions.set(definition.url, versionId);
    }
    this.stored = stored;
    this.storedVersions = versions;
    this.seenCounter = version;
    return true;
  }

  /** Called after a StructureDefinition was written or deleted here: this instance reloads at once (the store moved the counter for the others). */
  changed(): void {
    this.seenCounter = undefined;
  }
}

type FolderResource = StructureDefinition | ValueSet | CodeSystem;
const FOLDER_TYPES = new Set(['StructureDefinition', 'ValueSet', 'CodeSystem']);

function resourcesIn(parsed: unknown): FolderResource[] {
  if (Array.isArray(parsed)) return parsed.flatMap(resourcesIn);
  const resource = parsed as { resourceType?: string; url?: unknown; entry?: { resource?: unknown }[] };
  if (resource?.resourceType === 'Bundle') return (resource.entry ?? []).flatMap((e) => resourcesIn(e.resource));
  if (FOLDER_TYPES.has(resource?.resourceType ?? '') && typeof resource.url === 'string') return [resource as FolderResource];
  return [];
}
