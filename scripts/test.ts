/**
 * The test command (`npm test`): starts a throwaway embedded database unless MONGODB_URI is
 * set, runs the whole tap suite against it (each test file uses databases of its own), stops
 * the database, and ends with the line `N passed, N failed`.
 */
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startEmbeddedDatabase, type EmbeddedDatabase } from '../src/db/embedded.js';

async function main(): Promise<number> {
  let embedded: EmbeddedDatabase | undefined;
  const dataDir = mkdtempSync(join(tmpdir(), 'fhir-test-db-'));
  if (!process.env.MONGODB_URI) {
    embedded = await startEmbeddedDatabase(dataDir, (m) => console.log(`# ${m}`));
  }
  const uri = process.env.MONGODB_URI ?? embedded!.uri;
  const args = ['tap', ...process.argv.slice(2)];
  let summary = '';
  const code = await new Promise<number>((resolve) => {
    const child = spawn('npx', args, { env: { ...process.env, MONGODB_URI: uri }, stdio: ['ignore', 'pipe', 'inherit'] });
    child.stdout.on('data', (chunk: Buffer) => {
      process.stdout.write(chunk);
      summary = (summary + chunk.toString('utf8')).slice(-4000);
    });
    child.on('close', (exit) => resolve(exit ?? 1));
  });
  await embedded?.stop();
  rmSync(dataDir, { recursive: true, force: true });
  // tap ends with a line like "# { total: 12, pass: 11, fail: 1 }".
  const counts = /#\s*\{([^}]*)\}\s*(?:#[^\n]*\s*)*$/.exec(summary)?.[1] ?? '';
  const count = (name: string) => Number(new RegExp(`${name}:\\s*(\\d+)`).exec(counts)?.[1] ?? 0);
  const failed = count('fail') + (code !== 0 && count('fail') === 0 ? 1 : 0);
  console.log(`${count('pass')} passed, ${failed} failed`);
  return code;
}

main().then(
  (code) => process.exit(code),
  (error: unknown) => {
    console.error(error);
    console.log('0 passed, 1 failed');
    process.exit(1);
  },
);
