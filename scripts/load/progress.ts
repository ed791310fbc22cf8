/**
 * Progress of a load: a bar (count, rate, ETA) on a terminal, a plain line every few seconds
 * otherwise (logs, CI), nothing when not asked for.
 */
import cliProgress from 'cli-progress';

export interface Progress {
  start(total: number): void;
  /** Resources done so far (loaded or failed), and how many of them failed. */
  update(done: number, failed: number): void;
  stop(): void;
}

const PLAIN_EVERY_MS = 5_000;

const rate = (done: number, since: number) => done / Math.max((Date.now() - since) / 1000, 0.001);

export function seconds(value: number): string {
  if (!Number.isFinite(value)) return '?';
  if (value < 90) return `${Math.round(value)} s`;
  if (value < 5400) return `${Math.round(value / 60)} min`;
  return `${(value / 3600).toFixed(1)} h`;
}

function barProgress(stream: NodeJS.WriteStream): Progress {
  const bar = new cliProgress.SingleBar(
    {
      stream,
      format: ' {bar} {percentage}% | {value}/{total} resources | {rate}/s | ETA {eta_formatted} | {failed} failed',
      hideCursor: true,
      etaBuffer: 200,
      fps: 5,
    },
    cliProgress.Presets.shades_classic,
  );
  let since = Date.now();
  return {
    start(total) {
      since = Date.now();
      bar.start(total, 0, { rate: '0', failed: 0 });
    },
    update(done, failed) {
      bar.update(done, { rate: rate(done, since).toFixed(0), failed });
    },
    stop: () => bar.stop(),
  };
}

function plainProgress(stream: NodeJS.WritableStream): Progress {
  let since = Date.now();
  let total = 0;
  let last = 0;
  return {
    start(count) {
      since = last = Date.now();
      total = count;
      stream.write(`loading ${total} resources\n`);
    },
    update(done, failed) {
      if (Date.now() - last < PLAIN_EVERY_MS) return;
      last = Date.now();
      const perSecond = rate(done, since);
      const percent = total > 0 ? Math.floor((100 * done) / total) : 100;
      stream.write(`${done}/${total} resources (${percent}%), ${perSecond.toFixed(0)}/s, ETA ${seconds((total - done) / perSecond)}, ${failed} failed\n`);
    },
    stop() {},
  };
}

/** A bar when the stream is a terminal, plain lines when it is not. */
export function progressOn(stream: NodeJS.WriteStream): Progress {
  return stream.isTTY ? barProgress(stream) : plainProgress(stream);
}
