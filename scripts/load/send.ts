/**
 * POSTs one Bundle to a FHIR base URL, retrying what is worth retrying: network errors, 429
 * and 5xx other than 501 (which will not change), after `Retry-After` when the server sends
 * one, else after an exponential back-off with jitter.
 */
import type { Bundle } from 'fhir/r4';

export interface SendOptions {
  base: string;
  token?: string;
  /** How many times a request is sent again after a transient failure. */
  retries: number;
  /** The first back-off; it doubles per attempt, up to MAX_BACKOFF_MS. */
  backoffMs: number;
  /** Told of each retry (for the report's count). */
  onRetry?: () => void;
}

export interface Reply {
  status: number;
  /** The parsed JSON body, or the text when it is not JSON. */
  body: unknown;
}

export type Sent = { reply: Reply } | { error: string };

const MAX_BACKOFF_MS = 30_000;
/** A Retry-After further away than this is not waited for in full. */
const MAX_RETRY_AFTER_MS = 120_000;
/** A request not answered by then counts as a network error (large transactions take a while). */
const REQUEST_TIMEOUT_MS = 300_000;

export const isTransient = (status: number) => status === 429 || (status >= 500 && status !== 501);

/** Retry-After as seconds or an HTTP date; undefined when absent or unreadable. */
function retryAfterMs(header: string | null, now = Date.now()): number | undefined {
  if (!header) return undefined;
  const ms = /^\d+$/.test(header.trim()) ? Number(header.trim()) * 1000 : Date.parse(header) - now;
  return Number.isFinite(ms) ? Math.min(Math.max(ms, 0), MAX_RETRY_AFTER_MS) : undefined;
}

/** The wait before retry number attempt + 1: doubling from firstMs, capped, with jitter so clients spread out. */
export const backoff = (attempt: number, firstMs: number) => Math.min(MAX_BACKOFF_MS, firstMs * 2 ** attempt) * (0.5 + Math.random() / 2);
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

function headers(token: string | undefined): Record<string, string> {
  return {
    'content-type': 'application/fhir+json',
    accept: 'application/fhir+json',
    ...(token ? { authorization: `Bearer ${token}` } : {}),
  };
}

export async function postBundle(bundle: Bundle, options: SendOptions): Promise<Sent> {
  const body = JSON.stringify(bundle);
  for (let attempt = 0; ; attempt++) {
    let wait: number;
    try {
      const response = await fetch(options.base, { method: 'POST', headers: headers(options.token), body, signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      const text = await response.text();
      let parsed: unknown = text;
      try {
        parsed = JSON.parse(text);
      } catch {
        // Not JSON (a proxy's error page): kept as text for the report.
      }
      if (!isTransient(response.status) || attempt >= options.retries) return { reply: { status: response.status, body: parsed } };
      wait = retryAfterMs(response.headers.get('retry-after')) ?? backoff(attempt, options.backoffMs);
    } catch (error) {
      if (attempt >= options.retries) return { error: networkReason(error) };
      wait = backoff(attempt, options.backoffMs);
    }
    options.onRetry?.();
    await sleep(wait);
  }
}

/** fetch's "fetch failed" hides the reason in `cause` (ECONNREFUSED, ECONNRESET...). */
function networkReason(error: unknown): string {
  const cause = (error as { cause?: { code?: string; message?: string } }).cause;
  const name = (error as Error).name;
  if (name === 'TimeoutError') return `no answer within ${REQUEST_TIMEOUT_MS / 1000} s`;
  return cause?.code ?? cause?.message ?? (error as Error).message ?? String(error);
}
