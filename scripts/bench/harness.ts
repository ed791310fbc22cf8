import { spawn } from 'node:child_process';
import autocannon from 'autocannon';
import { freePort } from '../../src/db/embedded.js';

/** One line of the benchmark table. */
export interface BenchRow {
  suite: string;
  name: string;
  /** Requests (or items) per second. */
  rate?: number;
  p50Ms?: number;
  p99Ms?: number;
  /** Free text: the driver-only comparison, the ratio, sizes. */
  note?: string;
}

/** A benchmark suite: runs against a server at baseUrl (its database at mongoUri/dbName). */
export interface BenchSuite {
  name: string;
  run(env: BenchEnv): Promise<BenchRow[]>;
}

export interface BenchEnv {
  /** e.g. http://127.0.0.1:PORT/fhir */
  baseUrl: string;
  mongoUri: string;
  dbName: string;
  /** Concurrency for load tests (16 unless BENCH_CONCURRENCY says otherwise). */
  concurrency: number;
  /** Seconds each load test runs. */
  seconds: number;
}

export interface LoadResult {
  rate: number;
  p50Ms: number;
  p99Ms: number;
  errors: number;
}

/**
 * Runs autocannon against one endpoint. `requests` may carry a setupRequest that varies each
 * request (e.g. a different id); non-2xx answers are counted as errors.
 */
export async function load(options: autocannon.Options): Promise<LoadResult> {
  const started = performance.now();
  const result = await autocannon({ ...options });
  const seconds = (performance.now() - started) / 1000;
  return {
    // Answers over the run's own wall time: autocannon's per-second figures count whole seconds.
    rate: result.requests.total / seconds,
    p50Ms: result.latency.p50,
    p99Ms: result.latency.p99,
    errors: result.errors + result.non2xx,
  };
}

/** Latency percentiles of timed operations, in milliseconds. */
export function percentiles(samplesMs: number[]): { p50Ms: number; p99Ms: number } {
  const sorted = [...samplesMs].sort((a, b) => a - b);
  const at = (q: number) => sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? 0;
  return { p50Ms: at(0.5), p99Ms: at(0.99) };
}

export function printTable(rows: BenchRow[]): void {
  const fmt = (n: number | undefined, digits = 1) => (n === undefined ? '' : n.toFixed(digits));
  const lines = [
    ['suite', 'measurement', 'rate/s', 'p50 ms', 'p99 ms', 'note'],
    ...rows.map((r) => [r.suite, r.name, fmt(r.rate, r.rate !== undefined && r.rate < 10 ? 2 : 0), fmt(r.p50Ms, 2), fmt(r.p99Ms, 2), r.note ?? '']),
  ];
  const widths = lines[0].map((_, i) => Math.max(...lines.map((l) => l[i].length)));
  for (const [i, line] of lines.entries()) {
    console.log(`| ${line.map((cell, j) => cell.padEnd(widths[j])).join(' | ')} |`);
    if (i === 0) console.log(`|${widths.map((w) => '-'.repeat(w + 2)).join('|')}|`);
  }
}

/** A server process of the benchmark: its base URL, and how to stop it. */
export interface BenchServer {
  baseUrl: string;
  stop(): Promise<void>;
}

/**
 * Starts the server as its own process (so the load generator does not share its event loop)
 * on the given database, with extra environment settings, and waits until it answers.
 */
export async function spawnServer(mongoUri: string, dbName: string, extraEnv: Record<string, string> = {}): Promise<BenchServer> {
  const port = await freePort();
  const baseUrl = `http://127.0.0.1:${port}/fhir`;
  const server = spawn(process.execPath, [...(process.env.BENCH_PROF ? ['--cpu-prof', '--cpu-prof-dir=' + process.env.BENCH_PROF] : []), '--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, MONGODB_URI: mongoUri, MONGODB_DB: dbName, PORT: String(port), HOST: '127.0.0.1', BASE_URL: baseUrl, LOG_LEVEL: 'warn', ...extraEnv },
    stdio: ['ignore', 'ignore', 'inherit'],
  });
  let exited = false;
  const exit = new Promise((resolve) => server.once('exit', () => resolve((exited = true))));
  const stop = async () => {
    server.kill('SIGTERM');
    await exit;
  };
  // Start-up creates the declared indexes, which takes minutes over a large existing data set.
  while (!(await fetch(`${baseUrl}/metadata`).then((r) => r.ok, () => false))) {
    if (exited) throw new Error('the server stopped during start-up');
    await new Promise((r) => setTimeout(r, 200));
  }
  return { baseUrl, stop };
}
