import type { AddressInfo } from 'node:net';
import { startTestServer, type TestServer, type TestServerOptions } from './server.js';

/** A test server that also listens on a loopback port, for clients that speak real HTTP (the loader). */
export async function startListeningServer(t: { teardown(fn: () => unknown): void }, options: TestServerOptions = {}): Promise<TestServer & { url: string }> {
  const s = await startTestServer(t, options);
  await s.app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = s.app.server.address() as AddressInfo;
  return { ...s, url: `http://127.0.0.1:${port}/fhir` };
}

/** How many resources a search matches (`_summary=count`). */
export async function countOf(s: TestServer, search: string): Promise<number> {
  const response = await s.request({ method: 'GET', url: `/fhir/${search}${search.includes('?') ? '&' : '?'}_summary=count` });
  if (response.statusCode !== 200) throw new Error(`${search} answered ${response.statusCode}: ${response.body}`);
  return s.json(response).total;
}
