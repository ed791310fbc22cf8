import { mkdir, readFile, rename, stat, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * A JSON file read again whenever it has changed on disk (by modification time and size), so
 * that `npm run auth -- add-user ...` takes effect on a running server without a restart.
 * A missing file reads as `empty`.
 */
export class WatchedJsonFile<T> {
  private cached?: { stamp: string; value: T };

  constructor(
    readonly path: string,
    private readonly parse: (raw: unknown, path: string) => T,
    private readonly empty: () => T,
  ) {}

  async read(): Promise<T> {
    const info = await stat(this.path).catch((error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return undefined;
      throw error;
    });
    if (!info) return this.empty();
    const stamp = `${info.mtimeMs}:${info.size}`;
    if (this.cached?.stamp === stamp) return this.cached.value;
    let raw: unknown;
    try {
      raw = JSON.parse(await readFile(this.path, 'utf8'));
    } catch (error) {
      throw new Error(`${this.path} is not valid JSON: ${(error as Error).message}`);
    }
    const value = this.parse(raw, this.path);
    this.cached = { stamp, value };
    return value;
  }
}

/** Writes JSON through a temporary file and a rename, so a reader never sees half a file; owner-only. */
export async function writeJsonFile(path: string, value: unknown): Promise<void> {
  await mkdir(dirname(path), { recursive: true, mode: 0o700 });
  const temporary = `${path}.${process.pid}.tmp`;
  await writeFile(temporary, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
  await rename(temporary, path);
}
