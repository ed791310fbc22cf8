import { freePort } from '../../src/db/embedded.js';
import { startTestServer, type TestServer, type TestServerOptions } from './server.js';

export interface ListeningServer extends TestServer {
  /** The FHIR base URL it answers on (a loopback port), also its BASE_URL, so links point back to it. */
  url: string;
}

/**
 * The app of startTestServer, listening on a free loopback port for clients that speak real
 * HTTP (third-party client libraries, other processes); closed at teardown.
 */
export async function startListeningServer(t: { teardown(fn: () => unknown): void }, options: TestServerOptions = {}): Promise<ListeningServer> {
  const port = await freePort();
  const url = `http://127.0.0.1:${port}/fhir`;
  const server = await startTestServer(t, { ...options, env: { BASE_URL: url, ...options.env } });
  await server.app.listen({ port, host: '127.0.0.1' });
  return { ...server, url };
}

/** How many resources a search matches (`_summary=count`). */
export async function countOf(s: TestServer, search: string): Promise<number> {
  const response = await s.request({ method: 'GET', url: `/fhir/${search}${search.includes('?') ? '&' : '?'}_summary=count` });
  if (response.statusCode !== 200) throw new Error(`${search} answered ${response.statusCode}: ${response.body}`);
  return s.json(response).total;
}
