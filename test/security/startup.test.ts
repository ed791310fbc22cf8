import { spawn, type ChildProcess } from 'node:child_process';
import t from 'tap';
import { freePort } from '../../src/db/embedded.js';
import { uniqueDbName } from '../helpers/server.js';

/** The real server process (src/main.ts) with only these settings of its own. */
function startProcess(env: Record<string, string>): { child: ChildProcess; output: () => string } {
  let output = '';
  const clean = Object.fromEntries(Object.entries(process.env).filter(([name]) => !name.startsWith('AUTH_') && name !== 'HOST' && name !== 'CORS_ORIGINS'));
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/main.ts'], { env: { ...clean, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  return { child, output: () => output };
}

const exited = (child: ChildProcess) =>
  new Promise<number | null>((resolve) => (child.exitCode !== null ? resolve(child.exitCode) : child.once('exit', resolve)));

t.test('the server refuses to start on a non-loopback HOST without AUTH_ISSUER', async (t) => {
  const { child, output } = startProcess({ HOST: '0.0.0.0', PORT: String(await freePort()) });
  t.teardown(() => child.kill('SIGKILL'));
  t.equal(await exited(child), 1);
  t.match(output(), /HOST=0\.0\.0\.0 is not a loopback address/);
  t.match(output(), /AUTH_ISSUER/);
  t.match(output(), /AUTH_DISABLED=true/);
});

t.test('a start with authorization off logs a warning that anyone reaching the port can read and write everything', async (t) => {
  const port = await freePort();
  const { child, output } = startProcess({ HOST: '127.0.0.1', PORT: String(port), MONGODB_DB: uniqueDbName(), BASE_URL: `http://127.0.0.1:${port}/fhir` });
  t.teardown(() => child.kill('SIGKILL'));
  const deadline = Date.now() + 20_000;
  while (!/AUTHORIZATION IS OFF/.test(output()) && child.exitCode === null && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
  const line = output().split('\n').find((l) => l.includes('AUTHORIZATION IS OFF'));
  t.ok(line, 'the warning is logged');
  const entry = JSON.parse(line!);
  t.equal(entry.level, 40, 'at warn level');
  t.match(entry.msg, /anyone who can reach this port can read and write every record/);
  child.kill('SIGTERM');
  await exited(child);
});
