/** The end of a load, for a person: what was loaded, then each failure with its reason. */
import type { LoadReport } from './index.js';
import { seconds } from './progress.js';

export function printReport(report: LoadReport, print = (line: string) => console.log(line)): void {
  const rate = report.loaded / Math.max(report.ms / 1000, 0.001);
  print(
    `loaded ${report.loaded} of ${report.total} resources from ${report.files} file(s) in ${seconds(report.ms / 1000)} (${rate.toFixed(0)}/s); ` +
      `${report.failed} failed; ${report.retries} retried`,
  );
  if (report.failures.length === 0) return;
  print(`failures (${report.failures.length}):`);
  for (const f of report.failures) print(`  ${f.file} ${f.where}: ${f.status ? `${f.status} ` : ''}${f.reason}`);
}
