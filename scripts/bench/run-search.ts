/**
 * Runs the search bench suite alone: an embedded database (or MONGODB_URI), the server on a free
 * port, the suite, and the table. `npx tsx scripts/bench/run-search.ts` (BENCH_SECONDS, BENCH_SCALE).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MongoClient } from 'mongodb';
import { buildApp } from '../../src/app.js';
import { loadConfig } from '../../src/config.js';
import { startEmbeddedDatabase } from '../../src/db/embedded.js';
import { printTable } from './harness.js';
import { searchSuite } from './search.js';

const dataDir = mkdtempSync(join(tmpdir(), 'fhir-bench-'));
const embedded = process.env.MONGODB_URI ? undefined : await startEmbeddedDatabase(dataDir, (m) => console.log(`# ${m}`));
const mongoUri = process.env.MONGODB_URI ?? embedded!.uri;
const client = await new MongoClient(mongoUri, { ignoreUndefined: true }).connect();
const dbName = process.env.MONGODB_DB || 'bench_search';
const config = loadConfig({ ...process.env, PORT: '0', MONGODB_URI: mongoUri, LOG_LEVEL: 'warn' });
const app = await buildApp({ config, db: client.db(dbName), logger: false });
const address = await app.listen({ port: 0, host: '127.0.0.1' });
const rows = await searchSuite.run({
  baseUrl: `${address}/fhir`,
  mongoUri,
  dbName,
  concurrency: Number(process.env.BENCH_CONCURRENCY || 16),
  seconds: Number(process.env.BENCH_SECONDS || 10),
});
printTable(rows);
await app.close();
await client.close();
await embedded?.stop();
rmSync(dataDir, { recursive: true, force: true });
