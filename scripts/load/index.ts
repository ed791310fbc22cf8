/**
 * Loads files of FHIR resources into a FHIR server over HTTP only (so any server will do):
 * units are sent by `concurrency` workers, transient failures retried (whole requests by
 * send.ts, single entries of a batch here), and every failure kept with its reason.
 */
import type { Bundle } from 'fhir/r4';
import type { Progress } from './progress.js';
import { judge, type Failure } from './results.js';
import { backoff, postBundle, type SendOptions } from './send.js';
import { countResources, listFiles, readUnits, type Item, type Unit } from './sources.js';

export type { Failure } from './results.js';

export interface LoadOptions {
  /** The FHIR base URL, e.g. http://localhost:8080/fhir. */
  base: string;
  token?: string;
  /** Requests in flight at once. */
  concurrency: number;
  /** Resources per batch Bundle made from NDJSON lines, collections and plain resources. */
  batchSize: number;
  /** Times a request (or a batch entry) is sent again after a transient failure. */
  retries: number;
  /** The first back-off between retries (ms). */
  backoffMs?: number;
  progress?: Progress;
}

export interface LoadReport {
  files: number;
  /** Resources found in the files. */
  total: number;
  loaded: number;
  failed: number;
  failures: Failure[];
  /** Requests sent again after a transient failure. */
  retries: number;
  /** Why the load stopped early: the server could not be reached even after the retries. */
  stopped?: string;
  ms: number;
}

async function* itemsOf(files: string[], batchSize: number): AsyncGenerator<Item> {
  for (const file of files) yield* readUnits(file, batchSize);
}

/** The unit with only the entries at `indexes` (a batch's entries that met a transient failure). */
function narrowed(unit: Unit, indexes: number[]): Unit {
  const bundle: Bundle = { ...unit.bundle, entry: indexes.map((i) => unit.bundle.entry![i]) };
  return { ...unit, bundle, origins: indexes.map((i) => unit.origins[i]) };
}

export async function loadFiles(paths: string[], options: LoadOptions): Promise<LoadReport> {
  const started = Date.now();
  const files = await listFiles(paths);
  const report: LoadReport = { files: files.length, total: await countResources(files), loaded: 0, failed: 0, failures: [], retries: 0, ms: 0 };
  const send: SendOptions = { base: options.base, token: options.token, retries: options.retries, backoffMs: options.backoffMs ?? 500, onRetry: () => report.retries++ };
  const fail = (failure: Failure) => {
    report.failures.push(failure);
    report.failed += failure.count;
  };
  options.progress?.start(report.total);

  const sendUnit = async (first: Unit) => {
    let unit = first;
    for (let attempt = 0; ; attempt++) {
      const sent = await postBundle(unit.bundle, send);
      // Unreachable after every retry: the units left would each wait just as long for nothing.
      if ('error' in sent) report.stopped ??= `${options.base} could not be reached (${sent.error})`;
      const judgement = judge(unit, sent);
      report.loaded += judgement.loaded;
      judgement.failures.forEach(fail);
      if (judgement.transient.length === 0) return;
      if (attempt >= options.retries) {
        for (const i of judgement.transient) fail({ file: unit.file, where: unit.origins[i], reason: 'the server kept answering with a transient failure', count: 1 });
        return;
      }
      // Only a batch answers per entry with success: its transient entries go again, alone.
      unit = narrowed(unit, judgement.transient);
      report.retries++;
      await new Promise((resolve) => setTimeout(resolve, backoff(attempt, send.backoffMs)));
    }
  };

  const items = itemsOf(files, options.batchSize);
  const worker = async () => {
    for (let next = await items.next(); !next.done && !report.stopped; next = await items.next()) {
      const item = next.value;
      if ('problem' in item) fail({ ...item.problem, count: 1 });
      else await sendUnit(item.unit);
      options.progress?.update(report.loaded + report.failed, report.failed);
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, options.concurrency) }, worker));
  options.progress?.update(report.loaded + report.failed, report.failed);
  options.progress?.stop();
  report.ms = Date.now() - started;
  return report;
}
