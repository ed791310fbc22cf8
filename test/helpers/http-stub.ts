import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FHIR_JSON_HEADERS } from './server.js';

interface TestLike {
  teardown(fn: () => unknown): void;
}

/**
 * A stand-in for another FHIR server (or a proxy in front of ours) on a loopback port: answers
 * as `handle` says, keeping every request body it was sent.
 */
export async function stubServer(t: TestLike, handle: (n: number, body: any, req: IncomingMessage, res: ServerResponse) => void | Promise<void>) {
  const seen: any[] = [];
  const server = createServer((req, res) => {
    let text = '';
    req.on('data', (chunk) => (text += chunk));
    req.on('end', () => {
      const body = text ? JSON.parse(text) : undefined;
      seen.push(body);
      void handle(seen.length, body, req, res);
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.teardown(() => new Promise((resolve) => server.close(resolve)));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/fhir`, seen };
}

/** Passes a POST on to a real server and its answer back. */
export async function forward(target: string, body: any, res: ServerResponse): Promise<void> {
  const answer = await fetch(target, { method: 'POST', headers: FHIR_JSON_HEADERS, body: JSON.stringify(body) });
  res.writeHead(answer.status, { 'content-type': 'application/fhir+json' }).end(await answer.text());
}

/** A folder of the test's own, removed at teardown. */
export function tempDir(t: TestLike): string {
  const dir = mkdtempSync(join(tmpdir(), 'fhir-test-files-'));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  return dir;
}
