/**
 * The benchmark (`npm run bench [suite ...]`): starts a throwaway embedded database unless
 * MONGODB_URI is set, runs the server as its own process (so the load generator does not share
 * its event loop), runs the suites and prints one table. Figures are for this machine: see the README.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedDatabase } from '../../src/db/embedded.js';
import { bundlesSuite } from './bundles.js';
import { crudSuite } from './crud.js';
import { indexesSuite } from './indexes.js';
import { printTable, spawnServer, type BenchRow, type BenchServer, type BenchSuite } from './harness.js';
import { searchSuite } from './search.js';
import { securitySuite } from './security.js';
import { validationSuite } from './validation.js';

const SUITES: BenchSuite[] = [crudSuite, indexesSuite, validationSuite, searchSuite, securitySuite, bundlesSuite];


async function main(): Promise<void> {
  const wanted = process.argv.slice(2);
  const suites = wanted.length ? SUITES.filter((s) => wanted.includes(s.name)) : SUITES;
  const dataDir = mkdtempSync(join(tmpdir(), 'fhir-bench-db-'));
  const embedded = process.env.MONGODB_URI ? undefined : await startEmbeddedDatabase(dataDir);
  const mongoUri = process.env.MONGODB_URI ?? embedded!.uri;
  // BENCH_DB: reuse a database (and the data the search suite generated in it) across runs.
  const dbName = process.env.BENCH_DB || `bench_${Date.now()}`;
  let server: BenchServer | undefined;
  try {
    server = await spawnServer(mongoUri, dbName);
    const env = {
      baseUrl: server.baseUrl,
      mongoUri,
      dbName,
      concurrency: Number(process.env.BENCH_CONCURRENCY ?? 16),
      seconds: Number(process.env.BENCH_SECONDS ?? 10),
    };
    const rows: BenchRow[] = [];
    for (const suite of suites) {
      console.error(`running ${suite.name}...`);
      rows.push(...(await suite.run(env)));
    }
    console.log(`concurrency ${env.concurrency}, ${env.seconds} s per measurement, database: ${embedded?.kind ?? 'MONGODB_URI'}`);
    printTable(rows);
  } finally {
    await server?.stop();
    if (embedded) {
      await embedded.stop();
      rmSync(dataDir, { recursive: true, force: true });
    }
  }
}

main().catch((error: unknown) => {
  console.error(error);
  process.exit(1);
});
