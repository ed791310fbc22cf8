import { spawn, type ChildProcess } from 'node:child_process';
import { freePort } from '../../src/db/embedded.js';

/** A server running as a process of its own (src/main.ts). */
export interface ServerProcess {
  child: ChildProcess;
  /** The FHIR base URL it serves. */
  base: string;
  /** Resolves when the process has exited. */
  exited: Promise<void>;
}

/**
 * Starts the real server (authorization off) on the test engine's database `dbName`, with extra
 * environment settings, and waits until it is ready; teardown kills it if it still runs.
 */
export async function startServerProcess(
  t: { teardown(fn: () => unknown): void },
  dbName: string,
  extraEnv: Record<string, string> = {},
): Promise<ServerProcess> {
  const uri = process.env.MONGODB_URI;
  if (!uri) throw new Error('MONGODB_URI is unset: run tests with `npm test`');
  const port = await freePort();
  const base = `http://127.0.0.1:${port}/fhir`;
  const env: NodeJS.ProcessEnv = { ...process.env, MONGODB_URI: uri, MONGODB_DB: dbName, PORT: String(port), HOST: '127.0.0.1', BASE_URL: base, LOG_LEVEL: 'warn', ...extraEnv };
  delete env.AUTH_ISSUER;
  delete env.AUTH_JWKS_FILE;
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env, stdio: ['ignore', 'ignore', 'inherit'] });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  t.teardown(async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await exited;
  });
  const started = Date.now();
  while (!(await fetch(`http://127.0.0.1:${port}/readyz`).then((r) => r.ok, () => false))) {
    if (child.exitCode !== null) throw new Error('the server stopped during start-up');
    if (Date.now() - started > 60_000) throw new Error('the server did not start within 60 s');
    await new Promise((r) => setTimeout(r, 100));
  }
  return { child, base, exited };
}
