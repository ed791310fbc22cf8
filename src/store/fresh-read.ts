/**
 * A read that concurrent callers share, each getting a value read after it asked: one read
 * runs at a time, and whoever asks while it runs waits for the next one, which starts when it
 * ends and serves them all. Under load a request pays about one read latency and the database
 * sees about one read per latency, not one per request, while no caller is ever answered from
 * a read that started before it asked.
 */
export class FreshRead<T> {
  private running: Promise<T> | undefined;
  private next: Promise<T> | undefined;

  constructor(private readonly read: () => Promise<T>) {}

  get(): Promise<T> {
    if (!this.running) return this.start();
    this.next ??= this.running
      .catch(() => undefined)
      .then(() => {
        this.next = undefined;
        return this.start();
      });
    return this.next;
  }

  private start(): Promise<T> {
    const reading: Promise<T> = this.read().finally(() => {
      if (this.running === reading) this.running = undefined;
    });
    this.running = reading;
    return reading;
  }
}
