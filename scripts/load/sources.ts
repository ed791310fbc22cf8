/**
 * What the loader sends, read from files: each file becomes one or more units, a unit being
 * one Bundle to POST to the base URL and, for each of its entries, where it came from (for
 * the report). Transaction and batch Bundles are sent as they are; anything else (a resource, a
 * collection or searchset Bundle, NDJSON lines) is grouped into batch Bundles whose entries
 * PUT a resource that has an id and POST one that has none.
 */
import { createReadStream } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { extname, join } from 'node:path';
import { createInterface } from 'node:readline';
import type { Bundle, BundleEntry, Resource } from 'fhir/r4';

export interface Unit {
  file: string;
  kind: 'transaction' | 'batch';
  bundle: Bundle;
  /** Where entry i of the bundle came from: "entry 3" (1-based) or "line 17". */
  origins: string[];
}

/** Something wrong in a file before anything is sent (not JSON, not a resource). */
export interface LocalProblem {
  file: string;
  where: string;
  reason: string;
}

export type Item = { unit: Unit } | { problem: LocalProblem };

const NDJSON = new Set(['.ndjson', '.jsonl']);
const LOADABLE = new Set(['.json', ...NDJSON]);

/** The loadable files of the paths given: files as named, folders searched recursively, each sorted by name. */
export async function listFiles(paths: string[]): Promise<string[]> {
  const files: string[] = [];
  for (const path of paths) {
    const info = await stat(path);
    if (info.isDirectory()) files.push(...(await filesUnder(path)));
    else files.push(path);
  }
  return files;
}

async function filesUnder(dir: string): Promise<string[]> {
  const entries = (await readdir(dir, { withFileTypes: true })).sort((a, b) => a.name.localeCompare(b.name));
  const files: string[] = [];
  for (const entry of entries) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) files.push(...(await filesUnder(path)));
    else if (entry.isFile() && LOADABLE.has(extname(entry.name).toLowerCase())) files.push(path);
  }
  return files;
}

const isNdjson = (file: string) => NDJSON.has(extname(file).toLowerCase());

/** The entry that stores a resource: PUT when it has an id (loading twice changes nothing), else POST. */
export function entryFor(resource: Resource): BundleEntry {
  const url = resource.id ? `${resource.resourceType}/${encodeURIComponent(resource.id)}` : resource.resourceType;
  return { resource, request: { method: resource.id ? 'PUT' : 'POST', url } };
}

function asResource(value: unknown): Resource | string {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return 'not a JSON object';
  const type = (value as { resourceType?: unknown }).resourceType;
  if (typeof type !== 'string' || !/^[A-Z][A-Za-z]+$/.test(type)) return 'no resourceType';
  return value as Resource;
}

/** Groups resources into batch units of `size` entries. */
class Batcher {
  private entries: BundleEntry[] = [];
  private origins: string[] = [];
  constructor(
    private readonly file: string,
    private readonly size: number,
  ) {}

  add(resource: Resource, origin: string): Unit | undefined {
    this.entries.push(entryFor(resource));
    this.origins.push(origin);
    return this.entries.length >= this.size ? this.flush() : undefined;
  }

  flush(): Unit | undefined {
    if (this.entries.length === 0) return undefined;
    const unit: Unit = { file: this.file, kind: 'batch', bundle: { resourceType: 'Bundle', type: 'batch', entry: this.entries }, origins: this.origins };
    this.entries = [];
    this.origins = [];
    return unit;
  }
}

/** The units of one file, in order; NDJSON is read line by line, so files of any size stream. */
export async function* readUnits(file: string, batchSize: number): AsyncGenerator<Item> {
  const batcher = new Batcher(file, batchSize);
  if (isNdjson(file)) {
    let line = 0;
    for await (const text of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) {
      line++;
      if (text.trim() === '') continue;
      let parsed: unknown;
      try {
        parsed = JSON.parse(text);
      } catch (error) {
        yield { problem: { file, where: `line ${line}`, reason: `not JSON: ${(error as Error).message}` } };
        continue;
      }
      const resource = asResource(parsed);
      if (typeof resource === 'string') yield { problem: { file, where: `line ${line}`, reason: resource } };
      else {
        const unit = batcher.add(resource, `line ${line}`);
        if (unit) yield { unit };
      }
    }
    const rest = batcher.flush();
    if (rest) yield { unit: rest };
    return;
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(await readFile(file, 'utf8'));
  } catch (error) {
    yield { problem: { file, where: 'file', reason: `not JSON: ${(error as Error).message}` } };
    return;
  }
  const resource = asResource(parsed);
  if (typeof resource === 'string') {
    yield { problem: { file, where: 'file', reason: resource } };
    return;
  }
  if (resource.resourceType !== 'Bundle') {
    yield { unit: batcher.add(resource, 'resource') ?? batcher.flush()! };
    return;
  }
  const bundle = resource as Bundle;
  const entries = bundle.entry ?? [];
  if (bundle.type === 'transaction' || bundle.type === 'batch') {
    yield { unit: { file, kind: bundle.type, bundle, origins: entries.map((_, i) => `entry ${i + 1}`) } };
    return;
  }
  // A collection, searchset, document...: store each entry's resource.
  for (const [i, entry] of entries.entries()) {
    const inner = asResource(entry.resource);
    if (typeof inner === 'string') yield { problem: { file, where: `entry ${i + 1}`, reason: inner } };
    else {
      const unit = batcher.add(inner, `entry ${i + 1}`);
      if (unit) yield { unit };
    }
  }
  const rest = batcher.flush();
  if (rest) yield { unit: rest };
}

/** How many resources the files hold (for the progress bar): entries, lines, or 1. */
export async function countResources(files: string[]): Promise<number> {
  let total = 0;
  for (const file of files) {
    if (isNdjson(file)) {
      for await (const text of createInterface({ input: createReadStream(file, 'utf8'), crlfDelay: Infinity })) if (text.trim() !== '') total++;
      continue;
    }
    try {
      const parsed = JSON.parse(await readFile(file, 'utf8')) as { resourceType?: string; entry?: unknown[] };
      total += parsed.resourceType === 'Bundle' ? (parsed.entry ?? []).length : 1;
    } catch {
      total += 1;
    }
  }
  return total;
}
