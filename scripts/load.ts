/**
 * npm run load -- <file or folder>... [--base URL] [--token T] [--concurrency N] [--batch-size N] [--retries N]
 *
 * Sends FHIR resources to a FHIR server over HTTP: transaction and batch Bundles as they are;
 * plain resources, other Bundles (collection, searchset...) and NDJSON lines (.ndjson, .jsonl)
 * as batch Bundles of --batch-size entries (PUT [type]/[id] when the resource has an id, else
 * POST [type]). Folders are searched recursively. Ends with the failures, each with the
 * server's reason, and exits 1 when anything failed (2: wrong arguments or no such path).
 */
import { parseArgs } from 'node:util';
import { loadFiles, type LoadReport } from './load/index.js';
import { progressOn } from './load/progress.js';
import { printReport } from './load/report.js';

const USAGE = `usage: npm run load -- <file or folder>... [options]
  --base URL          FHIR base URL (default: FHIR_BASE_URL or http://localhost:8080/fhir)
  --token T           bearer access token (default: FHIR_TOKEN)
  --concurrency N     requests in flight at once (default 4)
  --batch-size N      resources per batch made from NDJSON lines, collections, plain resources (default 100)
  --retries N         times a request is sent again after a network error, 429 or 5xx (default 5)`;

function positiveInt(name: string, raw: string | undefined, fallback: number, min = 1): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isInteger(value) || value < min) throw new Error(`--${name} must be a whole number of at least ${min}; got "${raw}"`);
  return value;
}

async function main(): Promise<number> {
  let args;
  try {
    args = parseArgs({
      allowPositionals: true,
      options: {
        base: { type: 'string' },
        token: { type: 'string' },
        concurrency: { type: 'string' },
        'batch-size': { type: 'string' },
        retries: { type: 'string' },
        help: { type: 'boolean', short: 'h' },
      },
    });
    if (args.values.help) {
      console.log(USAGE);
      return 0;
    }
    if (args.positionals.length === 0) throw new Error('name at least one file or folder to load');
  } catch (error) {
    console.error(`${(error as Error).message}\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = args;
  let options;
  try {
    const base = (values.base ?? process.env.FHIR_BASE_URL ?? 'http://localhost:8080/fhir').replace(/\/+$/, '');
    if (!/^https?:\/\//.test(base)) throw new Error(`--base must be an http(s) URL; got "${base}"`);
    options = {
      base,
      token: values.token ?? process.env.FHIR_TOKEN,
      concurrency: positiveInt('concurrency', values.concurrency, 4),
      batchSize: positiveInt('batch-size', values['batch-size'], 100),
      retries: positiveInt('retries', values.retries, 5, 0),
      progress: progressOn(process.stderr),
    };
  } catch (error) {
    console.error((error as Error).message);
    return 2;
  }
  let report: LoadReport;
  try {
    report = await loadFiles(positionals, options);
  } catch (error) {
    // A path that does not exist, a folder that cannot be read.
    console.error((error as Error).message);
    return 2;
  }
  printReport(report);
  return report.failed > 0 || report.stopped ? 1 : 0;
}

process.exitCode = await main();
