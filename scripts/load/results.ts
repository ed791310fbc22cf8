/**
 * What a server's answer to a unit means per entry: loaded, failed (with the server's reason,
 * from the OperationOutcome), or transient (worth sending again).
 */
import type { Bundle, OperationOutcome } from 'fhir/r4';
import { isTransient, type Sent } from './send.js';
import type { Unit } from './sources.js';

export interface Failure {
  file: string;
  /** "line 17", "entry 3", "lines 1–100"... */
  where: string;
  /** The HTTP status, when the server answered. */
  status?: number;
  reason: string;
  /** How many resources this failure stands for (a rejected transaction: all of its entries). */
  count: number;
}

export interface Judgement {
  loaded: number;
  failures: Failure[];
  /** Indexes of the unit's entries that met a transient failure (429, 503...). */
  transient: number[];
}

/** The error issues of an OperationOutcome as one line: `expression: diagnostics; ...`. */
export function outcomeReason(body: unknown): string | undefined {
  if (typeof body !== 'object' || body === null || (body as { resourceType?: unknown }).resourceType !== 'OperationOutcome') return undefined;
  const issues = (body as OperationOutcome).issue ?? [];
  const errors = issues.filter((i) => i.severity === 'error' || i.severity === 'fatal');
  const text = (errors.length > 0 ? errors : issues).map((i) => {
    const what = i.diagnostics ?? i.details?.text ?? i.code;
    return i.expression?.length ? `${i.expression.join(', ')}: ${what}` : what;
  });
  return text.length > 0 ? text.join('; ') : undefined;
}

function bodyReason(status: number, body: unknown): string {
  return outcomeReason(body) ?? (typeof body === 'string' && body.trim() ? `HTTP ${status}: ${body.trim().slice(0, 200)}` : `HTTP ${status}`);
}

/** "lines 1–100" for a run of origins, or the one origin. */
export function span(origins: string[]): string {
  if (origins.length === 1) return origins[0];
  const first = /^(\w+) (\d+)$/.exec(origins[0]);
  const last = /^(\w+) (\d+)$/.exec(origins[origins.length - 1]);
  if (first && last && first[1] === last[1]) return `${first[1] === 'entry' ? 'entries' : `${first[1]}s`} ${first[2]}–${last[2]}`;
  return `${origins[0]} … ${origins[origins.length - 1]}`;
}

/** The entry a transaction's outcome names (`Bundle.entry[3]`), as the unit's origin. */
function namedEntry(unit: Unit, body: unknown): string | undefined {
  const match = /Bundle\.entry\[(\d+)\]/.exec(JSON.stringify(body ?? ''));
  return match ? unit.origins[Number(match[1])] : undefined;
}

const statusCode = (status: string | undefined) => Number(/^\s*(\d{3})/.exec(status ?? '')?.[1] ?? NaN);

export function judge(unit: Unit, sent: Sent): Judgement {
  const all = unit.origins.length;
  const whole = unit.kind === 'transaction' ? 'transaction' : span(unit.origins);
  if ('error' in sent) return { loaded: 0, transient: [], failures: [{ file: unit.file, where: whole, reason: `network: ${sent.error}`, count: all }] };
  const { status, body } = sent.reply;
  if (status < 200 || status >= 300) {
    const entry = unit.kind === 'transaction' ? namedEntry(unit, body) : undefined;
    const where = entry ? `${whole}, ${entry}` : whole;
    return { loaded: 0, transient: [], failures: [{ file: unit.file, where, status, reason: bodyReason(status, body), count: all }] };
  }
  const answers = (body as Bundle | undefined)?.entry ?? [];
  const judgement: Judgement = { loaded: 0, failures: [], transient: [] };
  unit.origins.forEach((origin, i) => {
    const response = answers[i]?.response;
    const code = statusCode(response?.status);
    if (code >= 200 && code < 300) judgement.loaded++;
    else if (isTransient(code)) judgement.transient.push(i);
    else {
      const reason = response ? bodyReason(code, response.outcome) : 'the server\'s answer has no entry for it';
      judgement.failures.push({ file: unit.file, where: origin, ...(Number.isNaN(code) ? {} : { status: code }), reason, count: 1 });
    }
  });
  return judgement;
}
