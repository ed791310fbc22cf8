/**
 * Write throughput against the number of indexes (the index budget, src/search/layout.ts): the
 * same inserts, at the benchmark's concurrency, into collections with 2 to 63 indexes, each over
 * a field holding two values as search fields do. Straight through the driver, so the figures
 * are the database's cost of each extra index.
 */
import { MongoClient } from 'mongodb';
import { driverLoad } from './driver-load.js';
import type { BenchEnv, BenchRow, BenchSuite } from './harness.js';

const FIELDS = 63;
const COUNTS = [2, 8, 16, 24, 36, 63];

function document(i: number) {
  const doc: Record<string, unknown> = { _id: `d${i}`, resource: { text: 'x'.repeat(800) } };
  for (let f = 0; f < FIELDS; f++) doc[`f${f}`] = [`value-${f}-${i % 997}`, `other-${f}-${i % 89}`];
  return doc;
}

export const indexesSuite: BenchSuite = {
  name: 'indexes',
  async run(env: BenchEnv): Promise<BenchRow[]> {
    const client = await new MongoClient(env.mongoUri).connect();
    const db = client.db(`${env.dbName}_indexes`);
    const rows: BenchRow[] = [];
    try {
      for (const count of COUNTS) {
        const collection = db.collection<Record<string, unknown>>(`with_${count}`);
        // _id is one index; the others are one per field.
        for (let f = 0; f < count - 1; f++) await collection.createIndex({ [`f${f}`]: 1, _id: 1 });
        const result = await driverLoad(env.concurrency, Math.min(env.seconds, 5), (i) => collection.insertOne(document(i)));
        rows.push({ suite: 'indexes', name: `insert, ${count} indexes`, rate: result.rate, p50Ms: result.p50Ms, p99Ms: result.p99Ms });
      }
    } finally {
      await db.dropDatabase();
      await client.close();
    }
    const first = rows[0].rate!;
    for (const row of rows) row.note = `${((row.rate! / first) * 100).toFixed(0)}% of the ${COUNTS[0]}-index rate`;
    return rows;
  },
};
