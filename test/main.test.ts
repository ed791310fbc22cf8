import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import t from 'tap';
import { freePort } from '../src/db/embedded.js';
import { uniqueDbName } from './helpers/server.js';

/** The real server process (src/main.ts), as `npm start` runs it. */
function startProcess(env: Record<string, string | undefined>): { child: ChildProcess; output: () => string } {
  let output = '';
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], {
    env: { ...process.env, ...env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}


const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));

async function waitFor(check: () => Promise<boolean>, ms = 20_000): Promise<void> {
  const deadline = Date.now() + ms;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error('timed out');
}

t.test('the server process serves, logs one line per request without PHI, and stops cleanly on SIGTERM', async (t) => {
  const port = await freePort();
  const dbName = uniqueDbName();
  const base = `http://127.0.0.1:${port}`;
  const { child, output } = startProcess({ PORT: String(port), HOST: '127.0.0.1', MONGODB_DB: dbName, BASE_URL: `${base}/fhir` });
  t.teardown(() => child.kill('SIGKILL'));
  await waitFor(async () => (await fetch(`${base}/healthz`)).ok);
  t.equal((await fetch(`${base}/readyz`)).status, 200);

  const created = await fetch(`${base}/fhir/Patient`, {
    method: 'POST',
    headers: { 'content-type': 'application/fhir+json' },
    body: JSON.stringify({ resourceType: 'Patient', name: [{ family: 'Secretfamily' }] }),
  });
  t.equal(created.status, 201);
  t.equal(created.headers.get('location')?.startsWith(`${base}/fhir/Patient/`), true, 'Location uses BASE_URL');
  const id = ((await created.json()) as { id: string }).id;
  await fetch(`${base}/fhir/Patient/${id}?name=Secretgiven`);

  child.kill('SIGTERM');
  t.equal(await exited(child), 0, 'exit code 0 after SIGTERM');
  const lines = output().split('\n').filter((l) => l.includes('"msg":"request"'));
  t.ok(lines.length >= 3, 'one line per request');
  const line = JSON.parse(lines.find((l) => l.includes('"POST"'))!);
  t.match(line, { method: 'POST', route: '/fhir/:type', status: 201 });
  t.type(line.ms, 'number');
  t.type(line.reqId, 'string');
  t.notMatch(output(), /Secretfamily|Secretgiven/, 'no resource content or query values in the log');
  t.match(output(), /stopped/);
});

t.test('without MONGODB_URI, mongod or cargo the server fails at start-up with one clear message', async (t) => {
  const { child, output } = startProcess({
    MONGODB_URI: '',
    PATH: dirname(process.execPath),
    FHIR_SERVER_CACHE: mkdtempSync(join(tmpdir(), 'empty-cache-')),
    PORT: String(await freePort()),
  });
  t.equal(await exited(child), 1);
  t.match(output(), /set MONGODB_URI/);
  t.match(output(), /rustup\.rs/, 'says how to get cargo for the embedded engine');
});
