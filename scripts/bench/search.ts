/**
 * Search benchmarks: each search shape of the issue under load (autocannon, concurrency from
 * the harness), plus the server's own time per search outside database calls (read from the
 * Server-Timing header of every measured response). Sizes: 10,000 patients / 30,000 documents, or
 * 100,000 / 300,000 with BENCH_SCALE=large. The data is generated once per database.
 */
import { MongoClient } from 'mongodb';
import { DOC_TYPES, dataSize, generateData, mrn, patientId } from '../generate-data.js';
import { load, percentiles, type BenchEnv, type BenchRow, type BenchSuite } from './harness.js';

interface Shape {
  name: string;
  /** Work before the measurement (finding page 50's token). */
  prepare?(): Promise<void>;
  /** The path and query of request number n (varied so caches do not flatter the numbers). */
  path(n: number): string;
}

function shapes(patients: number, baseUrl: string): Shape[] {
  let pageFifty = '';
  const pat = (n: number) => (n * 7919) % patients;
  return [
    { name: 'Patient by identifier', path: (n) => `Patient?identifier=urn:oid:1.2.36.146.595.217.0.1|${mrn(pat(n))}` },
    { name: 'Patient family prefix', path: (n) => `Patient?family=${encodeURIComponent(['smi', 'mül', 'gar', 'ngu', 'kow', 'ros'][n % 6])}&_count=20` },
    { name: 'Patient birthdate range', path: (n) => `Patient?birthdate=ge${1940 + (n % 60)}-01-01&birthdate=lt${1941 + (n % 60)}-01-01&_count=20` },
    {
      name: 'DocRef patient+type+date, sort -date',
      path: (n) => `DocumentReference?patient=Patient/${patientId(pat(n))}&type=http://loinc.org|${DOC_TYPES[n % DOC_TYPES.length]}&date=ge2016-01-01&_sort=-date`,
    },
    { name: 'Patient _revinclude DocRef', path: (n) => `Patient?_id=${patientId(pat(n))}&_revinclude=DocumentReference:subject` },
    { name: 'page 50 of status=current', prepare: async () => void (pageFifty = await pageFiftyUrl(baseUrl)), path: () => pageFifty },
    { name: 'DocRef chained subject.identifier', path: (n) => `DocumentReference?subject:Patient.identifier=${mrn(pat(n))}` },
  ];
}

/**
 * The URL of page 50 (`_count=20`) of a large result. Keyset tokens cannot be guessed, but they
 * hold a position, not a page size: the `next` link of one 980-row page, asked again with
 * `_count=20`, is page 50 (one request instead of 49).
 */
async function pageFiftyUrl(baseUrl: string): Promise<string> {
  const search = 'DocumentReference?status=current&_total=none';
  const bundle = (await (await fetch(`${baseUrl}/${search}&_count=980`)).json()) as { link: { relation: string; url: string }[] };
  const next = bundle.link.find((l) => l.relation === 'next');
  if (!next) throw new Error('page 50 needs more than 1,000 current documents: generate more (BENCH_DOCUMENTS)');
  const cursor = new URL(next.url).searchParams.get('_cursor')!;
  return `${search}&_count=20&_cursor=${encodeURIComponent(cursor)}`;
}

/** The server's own and database milliseconds of one response, from its Server-Timing header. */
function serverTiming(headers: Record<string, string | string[] | undefined> = {}): { app: number; db: number } {
  const name = Object.keys(headers).find((key) => key.toLowerCase() === 'server-timing');
  const timing = String(name ? headers[name] : '');
  return { app: Number(/app;dur=([\d.]+)/.exec(timing)?.[1] ?? NaN), db: Number(/db;dur=([\d.]+)/.exec(timing)?.[1] ?? NaN) };
}

export const searchSuite: BenchSuite = {
  name: 'search',
  async run(env: BenchEnv): Promise<BenchRow[]> {
    const size = dataSize();
    const client = await new MongoClient(env.mongoUri).connect();
    try {
      const db = client.db(env.dbName);
      if ((await db.collection('DocumentReference').estimatedDocumentCount()) < size.documents) {
        await generateData(db, size, env.baseUrl, (m) => console.log(`# ${m}`));
      }
    } finally {
      await client.close();
    }
    const rows: BenchRow[] = [];
    // BENCH_SHAPES: only the shapes whose names contain one of these comma-separated words.
    const only = (process.env.BENCH_SHAPES ?? '').split(',').map((w) => w.trim().toLowerCase()).filter(Boolean);
    const chosen = shapes(size.patients, env.baseUrl).filter((shape) => only.length === 0 || only.some((w) => shape.name.toLowerCase().includes(w)));
    for (const shape of chosen) {
      console.error(`# search: ${shape.name}`);
      await shape.prepare?.();
      let n = 0;
      const app: number[] = [];
      const dbMs: number[] = [];
      const url = `${env.baseUrl}/`;
      const result = await load({
        url,
        connections: env.concurrency,
        // A timed run (BENCH_SECONDS); BENCH_SEARCH_REQUESTS asks for a fixed number instead
        // (autocannon then ends on a whole second, so its rate is only a bound).
        ...(process.env.BENCH_SEARCH_REQUESTS ? { amount: Number(process.env.BENCH_SEARCH_REQUESTS) } : { duration: env.seconds }),
        // On a scanning database 16 queued searches take minutes: wait for each answer.
        timeout: Number(process.env.BENCH_TIMEOUT_SECONDS) || 3600,
        requests: [{
          method: 'GET',
          setupRequest: (req) => ({ ...req, path: `${new URL(url).pathname}${shape.path(n++).replace(/^\//, '')}` }),
          // The server's own time (outside database calls) of every measured request.
          onResponse: (_status, _body, _context, headers) => {
            const timing = serverTiming(headers);
            app.push(timing.app);
            dbMs.push(timing.db);
          },
        }],
      });
      const own = percentiles(app);
      const dbTime = percentiles(dbMs);
      const row: BenchRow = {
        suite: 'search',
        name: shape.name,
        rate: result.rate,
        p50Ms: result.p50Ms,
        p99Ms: result.p99Ms,
        note: `${size.patients}/${size.documents}; server own p50 ${own.p50Ms.toFixed(2)} ms p99 ${own.p99Ms.toFixed(2)} ms; db p50 ${dbTime.p50Ms.toFixed(0)} ms; errors ${result.errors}`,
      };
      // Each row as soon as it is measured: a long run that is stopped still leaves its figures.
      console.error(`# ${row.name}: ${row.rate?.toFixed(1)}/s p50 ${row.p50Ms} ms p99 ${row.p99Ms} ms; ${row.note}`);
      rows.push(row);
    }
    return rows;
  },
};
