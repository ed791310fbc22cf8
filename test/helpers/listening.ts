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
