import { percentiles } from './harness.js';

/**
 * Runs `operation` from `concurrency` async workers for `seconds`, the driver-side twin of an
 * autocannon run, so server and driver figures are measured the same way.
 */
export async function driverLoad(
  concurrency: number,
  seconds: number,
  operation: (i: number) => Promise<unknown>,
): Promise<{ rate: number; p50Ms: number; p99Ms: number }> {
  const samples: number[] = [];
  const end = Date.now() + seconds * 1000;
  let counter = 0;
  const worker = async () => {
    while (Date.now() < end) {
      const started = performance.now();
      await operation(counter++);
      samples.push(performance.now() - started);
    }
  };
  const began = performance.now();
  await Promise.all(Array.from({ length: concurrency }, worker));
  const elapsed = (performance.now() - began) / 1000;
  return { rate: samples.length / elapsed, ...percentiles(samples) };
}
