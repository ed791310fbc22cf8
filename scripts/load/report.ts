/** The end of a load, for a person: what was loaded, then each failure with its reason. */
import type { Failure, LoadReport } from './index.js';
import { seconds } from './progress.js';

/** By file, then by the first line or entry number of where it happened (requests finish in any order). */
const position = (where: string) => Number(/\d+/.exec(where)?.[0] ?? 0);
const inFileOrder = (a: Failure, b: Failure) => a.file.localeCompare(b.file) || position(a.where) - position(b.where);

export function printReport(report: LoadReport, print = (line: string) => console.log(line)): void {
  const rate = report.loaded / Math.max(report.ms / 1000, 0.001);
  print(
    `loaded ${report.loaded} of ${report.total} resources from ${report.files} file(s) in ${seconds(report.ms / 1000)} (${rate.toFixed(0)}/s); ` +
      `${report.failed} failed; ${report.retries} retried`,
  );
  if (report.stopped) print(`stopped: ${report.stopped}; ${report.total - report.loaded - report.failed} resources were not sent`);
  if (report.failures.length === 0) return;
  print(`failures (${report.failures.length}):`);
  for (const f of [...report.failures].sort(inFileOrder)) print(`  ${f.file} ${f.where}: ${f.status ? `${f.status} ` : ''}${f.reason}`);
}
