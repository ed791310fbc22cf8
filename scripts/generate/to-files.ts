/**
 * Writes the population as NDJSON, one file per type (`Patient.ndjson`...), for the loader
 * (`npm run load -- DIR`) or any bulk-data tool. AuditEvents are written without ids: the
 * trail is append-only, so they can only be created (POST), never PUT under an id of ours.
 */
import { once } from 'node:events';
import { createWriteStream, mkdirSync, type WriteStream } from 'node:fs';
import { join } from 'node:path';
import { resourceTypeEntry } from '../../src/fhir/resource-types.js';
import { DEFAULT_SEED, population, type DataSize } from './population.js';

/** Writes DIR/<type>.ndjson for each type with resources; returns the files written. */
export async function writeDataFiles(dir: string, size: DataSize, seed = DEFAULT_SEED): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const streams = new Map<string, WriteStream>();
  for (const resource of population(size, seed)) {
    const type = resource.resourceType;
    let stream = streams.get(type);
    if (!stream) streams.set(type, (stream = createWriteStream(join(dir, `${type}.ndjson`))));
    const line = resourceTypeEntry(type)?.appendOnly ? { ...resource, id: undefined } : resource;
    if (!stream.write(`${JSON.stringify(line)}\n`)) await once(stream, 'drain');
  }
  await Promise.all([...streams.values()].map((stream) => new Promise((resolve) => stream.end(resolve))));
  return [...streams.keys()].map((type) => join(dir, `${type}.ndjson`));
}
