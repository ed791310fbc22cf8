/**
 * A synthetic population of any size (patients, documents, consents, audit events), the same
 * for the same seed, written one of three ways:
 *
 *   npm run generate-data -- [sizes]                     straight into MONGODB_URI / MONGODB_DB (an empty database)
 *   npm run generate-data -- [sizes] --out DIR           as NDJSON files, to load with `npm run load -- DIR`
 *   npm run generate-data -- [sizes] --via-api URL       through a FHIR server's API (the loader, from a temporary folder)
 *
 * sizes: --patients N --documents N --consents N --audit-events N --seed N; unset, the
 * benchmark's sizes (BENCH_SCALE, BENCH_PATIENTS, BENCH_DOCUMENTS) and no consents or audit events.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MongoClient } from 'mongodb';
import { DEFAULT_SEED, type DataSize } from './generate/population.js';
import { generateData } from './generate/to-database.js';
import { writeDataFiles } from './generate/to-files.js';
import { loadFiles } from './load/index.js';
import { progressOn } from './load/progress.js';
import { printReport } from './load/report.js';

export { DOC_TYPES, makeDocument, makePatient, mrn, patientId, population, type DataSize } from './generate/population.js';
export { generateData } from './generate/to-database.js';
export { writeDataFiles } from './generate/to-files.js';

/** The benchmark's sizes: 10,000 patients / 30,000 documents, or 100,000 / 300,000 with BENCH_SCALE=large. */
export function dataSize(env: NodeJS.ProcessEnv = process.env): DataSize {
  const base = env.BENCH_SCALE === 'large' ? { patients: 100_000, documents: 300_000 } : { patients: 10_000, documents: 30_000 };
  // BENCH_PATIENTS / BENCH_DOCUMENTS: other sizes (smaller smoke runs, larger scale checks).
  return { patients: Number(env.BENCH_PATIENTS) || base.patients, documents: Number(env.BENCH_DOCUMENTS) || base.documents };
}

function count(name: string, raw: string | undefined, fallback: number): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < 0) throw new Error(`--${name} must be a whole number; got "${raw}"`);
  return value;
}

async function main(): Promise<number> {
  const { values } = parseArgs({
    options: {
      patients: { type: 'string' },
      documents: { type: 'string' },
      consents: { type: 'string' },
      'audit-events': { type: 'string' },
      seed: { type: 'string' },
      out: { type: 'string' },
      'via-api': { type: 'string' },
      token: { type: 'string' },
    },
  });
  const bench = dataSize();
  const size: DataSize = {
    patients: count('patients', values.patients, bench.patients),
    documents: count('documents', values.documents, bench.documents),
    consents: count('consents', values.consents, 0),
    auditEvents: count('audit-events', values['audit-events'], 0),
  };
  const seed = count('seed', values.seed, DEFAULT_SEED);
  if (values.out && values['via-api']) throw new Error('--out and --via-api exclude each other: --out writes files, --via-api loads them');

  if (values.out) {
    const files = await writeDataFiles(values.out, size, seed);
    console.log(`wrote ${files.join(', ')}`);
    return 0;
  }
  if (values['via-api']) {
    const dir = mkdtempSync(join(tmpdir(), 'generated-fhir-'));
    try {
      await writeDataFiles(dir, size, seed);
      const base = values['via-api'].replace(/\/+$/, '');
      const report = await loadFiles([dir], { base, token: values.token ?? process.env.FHIR_TOKEN, concurrency: 4, batchSize: 100, retries: 5, progress: progressOn(process.stderr) });
      printReport(report);
      return report.failed > 0 || report.stopped ? 1 : 0;
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  const uri = process.env.MONGODB_URI;
  if (!uri) throw new Error('Set MONGODB_URI (and MONGODB_DB) to the database to fill, or use --out DIR or --via-api URL');
  const client = await new MongoClient(uri).connect();
  try {
    await generateData(client.db(process.env.MONGODB_DB || 'fhir'), size, (process.env.BASE_URL || 'http://localhost:8080/fhir').replace(/\/+$/, ''), undefined, seed);
  } finally {
    await client.close();
  }
  return 0;
}

if (process.argv[1]?.endsWith('generate-data.ts')) {
  process.exitCode = await main().catch((error: unknown) => {
    console.error((error as Error).message);
    return 2;
  });
}
