/**
 * Places in the commit of a transaction where a test can have the server process killed, to
 * show that a crash there leaves all of the transaction visible or none of it
 * (test/bundle/crash.test.ts). Set by the test in the server's environment only; unset (the
 * normal case) every point is a no-op. Read here and nowhere else: it is not a setting.
 */
export type FaultPoint = 'transaction-after-history' | 'transaction-before-commit' | 'transaction-after-commit';

const armed = process.env.FHIR_FAULT_POINT as FaultPoint | undefined;

/** Kills this process at once (as a crash would: no clean-up, no answer) if the point is armed. */
export function faultPoint(point: FaultPoint): void {
  if (armed === point) process.kill(process.pid, 'SIGKILL');
}
