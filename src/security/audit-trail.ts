import type { AuditEvent } from 'fhir/r4';

/** Writes a batch of AuditEvents durably (the store's append-only path); resolves once they are. */
export type AuditWriter = (events: AuditEvent[]) => Promise<unknown>;

interface Pending {
  event: AuditEvent;
  resolve: () => void;
  reject: (error: unknown) => void;
}

/** The most events one flush writes; the rest wait for the next flush. */
const MAX_BATCH = 1000;

/**
 * Group commit of AuditEvents: the records of concurrent requests are written together, one
 * write per flush, and each request's `record` resolves when the flush holding its event is
 * durable (the store's writes use the client's default write concern: journaled on MongoDB,
 * and the embedded engine syncs on commit).
 *
 * One flush runs at a time. The first record after an idle moment schedules a flush for the
 * next turn of the event loop (`setImmediate`), so the requests finishing in the same turn share
 * it; records arriving while a flush is being written wait for it to finish and go into the next
 * one, which starts at once. Under load the batches grow with the write's latency, so the number
 * of writes per second stays near 1 / latency whatever the request rate.
 */
export class AuditTrail {
  private queue: Pending[] = [];
  private scheduled = false;
  private flushing: Promise<void> | undefined;

  /** `onBatch` gets the size of each batch as it is written (the metrics' histogram). */
  constructor(
    private readonly write: AuditWriter,
    private readonly onBatch?: (size: number) => void,
  ) {}

  /** Queues the event; resolves when it is durably written, rejects if its batch could not be. */
  record(event: AuditEvent): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.queue.push({ event, resolve, reject });
      this.schedule();
    });
  }

  /** Resolves once every event recorded so far is written (or failed): for a clean shutdown. */
  async drain(): Promise<void> {
    while (this.flushing || this.queue.length > 0 || this.scheduled) {
      if (this.flushing) await this.flushing;
      else await new Promise((resolve) => setImmediate(resolve));
    }
  }

  private schedule(): void {
    if (this.scheduled || this.flushing) return;
    this.scheduled = true;
    setImmediate(() => {
      this.scheduled = false;
      this.startFlush();
    });
  }

  private startFlush(): void {
    if (this.flushing || this.queue.length === 0) return;
    const batch = this.queue.splice(0, MAX_BATCH);
    this.flushing = this.flush(batch).finally(() => {
      this.flushing = undefined;
      // What arrived meanwhile is the next batch, written at once.
      this.startFlush();
    });
  }

  private async flush(batch: Pending[]): Promise<void> {
    this.onBatch?.(batch.length);
    try {
      await this.write(batch.map((p) => p.event));
      for (const p of batch) p.resolve();
    } catch (error) {
      for (const p of batch) p.reject(error);
    }
  }
}
