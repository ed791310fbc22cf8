import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { StructureDefinition } from 'fhir/r4';
import type { Db } from 'mongodb';

/**
 * The profiles the server knows: the StructureDefinitions of the profiles/ folder (read at
 * start-up) and those stored through the API. Every instance keeps the stored ones in memory
 * and reloads them when the `profiles` counter in the database moved: each write of a
 * StructureDefinition increments it, so a profile stored on one instance takes effect on all
 * of them at their next validation, at the cost of one small read by _id.
 */
const STATE_COLLECTION = 'validation_state';
const COUNTER_ID = 'profiles';

interface CounterDocument {
  _id: string;
  version: number;
}

export class ProfileRegistry {
  private readonly fromFiles = new Map<string, StructureDefinition>();
  private stored = new Map<string, StructureDefinition>();
  private storedVersions = new Map<string, number>();
  private seenCounter: number | undefined;

  constructor(private readonly db: Db | undefined) {}

  /** Reads every *.json file of the folder: a StructureDefinition, an array or a Bundle of them. */
  loadFolder(folder: string): number {
    let files: string[];
    try {
      files = readdirSync(folder).filter((f) => f.endsWith('.json'));
    } catch {
      return 0;
    }
    for (const file of files) {
      const parsed = JSON.parse(readFileSync(join(folder, file), 'utf8')) as unknown;
      for (const definition of definitionsIn(parsed)) this.fromFiles.set(definition.url, definition);
    }
    return this.fromFiles.size;
  }

  add(definition: StructureDefinition): void {
    this.fromFiles.set(definition.url, definition);
  }

  /** A known profile by canonical URL (`|version` ignored); stored ones win over files. */
  get(canonical: string): StructureDefinition | undefined {
    const url = canonical.split('|')[0];
    return this.stored.get(url) ?? this.fromFiles.get(url);
  }

  /** Reloads the stored profiles when another write changed them since the last look. */
  async refresh(): Promise<void> {
    if (!this.db) return;
    const counter = await this.db.collection<CounterDocument>(STATE_COLLECTION).findOne({ _id: COUNTER_ID });
    const version = counter?.version ?? 0;
    if (version === this.seenCounter) return;
    const docs = await this.db
      .collection<{ _id: string; versionId: number; resource?: StructureDefinition }>('StructureDefinition')
      .find({ deleted: false }, { projection: { _id: 1, versionId: 1, resource: 1 } })
      .toArray();
    const stored = new Map<string, StructureDefinition>();
    const versions = new Map<string, number>();
    for (const doc of docs) {
      if (!doc.resource?.url) continue;
      // Keep the same object for an unchanged version, so its compiled validator stays cached.
      const previous = this.stored.get(doc.resource.url);
      const unchanged = previous && this.storedVersions.get(doc.resource.url) === doc.versionId && previous.id === doc._id;
      stored.set(doc.resource.url, unchanged ? previous : doc.resource);
      versions.set(doc.resource.url, doc.versionId);
    }
    this.stored = stored;
    this.storedVersions = versions;
    this.seenCounter = version;
  }

  /** Called after a StructureDefinition was written or deleted: tells every instance to reload. */
  async changed(): Promise<void> {
    this.seenCounter = undefined;
    if (!this.db) return;
    await this.db
      .collection<CounterDocument>(STATE_COLLECTION)
      .updateOne({ _id: COUNTER_ID }, { $inc: { version: 1 } }, { upsert: true });
  }
}

function definitionsIn(parsed: unknown): StructureDefinition[] {
  if (Array.isArray(parsed)) return parsed.flatMap(definitionsIn);
  const resource = parsed as { resourceType?: string; entry?: { resource?: unknown }[] };
  if (resource?.resourceType === 'Bundle') return (resource.entry ?? []).flatMap((e) => definitionsIn(e.resource));
  if (resource?.resourceType === 'StructureDefinition') return [resource as StructureDefinition];
  return [];
}
