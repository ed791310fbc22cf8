import { createHash, randomBytes, randomUUID } from 'node:crypto';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { ClientRegistry, UserDirectory } from '../../src/auth/index.js';
import { freePort } from '../../src/db/embedded.js';
import { startTestServer, type TestServer } from './server.js';

/** An app's callback; never fetched (the fetch-driven flows stop at its URL). */
export const APP_REDIRECT = 'https://app.example/callback';

export interface AuthTestServer extends TestServer {
  /** http://127.0.0.1:<port> */
  origin: string;
  /** The FHIR base URL (BASE_URL). */
  fhirBase: string;
  issuer: string;
  tokenUrl: string;
  authorizeUrl: string;
  dir: string;
  users: UserDirectory;
  clients: ClientRegistry;
}

/** The real app with AUTH_SERVER=on, listening on a loopback port (real HTTP), its files in a temporary folder. */
export async function startAuthServer(t: { teardown(fn: () => unknown): void }, env: Record<string, string> = {}): Promise<AuthTestServer> {
  const dir = mkdtempSync(join(tmpdir(), 'fhir-auth-'));
  const port = await freePort();
  const origin = `http://127.0.0.1:${port}`;
  const server = await startTestServer(t, { env: { BASE_URL: `${origin}/fhir`, AUTH_SERVER: 'on', AUTH_SERVER_DIR: dir, ...env } });
  await server.app.listen({ port, host: '127.0.0.1' });
  const issuer = `${origin}/auth`;
  return {
    ...server,
    origin,
    fhirBase: `${origin}/fhir`,
    issuer,
    tokenUrl: `${issuer}/token`,
    authorizeUrl: `${issuer}/authorize`,
    dir,
    users: new UserDirectory(join(dir, 'users.json')),
    clients: new ClientRegistry(join(dir, 'clients.json')),
  };
}

/** A backend service's key pair, its public JWKS for registration, and client assertions signed with it. */
export async function backendKeys(alg = 'ES384') {
  const { publicKey, privateKey } = await generateKeyPair(alg);
  const kid = randomUUID();
  const jwks = { keys: [{ ...(await exportJWK(publicKey)), kid, alg, use: 'sig' }] };
  const assertion = (clientId: string, audience: string) =>
    new SignJWT({})
      .setProtectedHeader({ alg, kid, typ: 'JWT' })
      .setIssuer(clientId)
      .setSubject(clientId)
      .setAudience(audience)
      .setJti(randomUUID())
      .setIssuedAt()
      .setExpirationTime('5m')
      .sign(privateKey);
  return { jwks, assertion };
}

export async function postForm(url: string, form: Record<string, string>, headers: Record<string, string> = {}): Promise<Response> {
  return fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, body: new URLSearchParams(form), redirect: 'manual' });
}

/** client_credentials with private_key_jwt, as SMART Backend Services does it. */
export async function clientCredentials(server: AuthTestServer, clientId: string, keys: Awaited<ReturnType<typeof backendKeys>>, scope: string): Promise<Response> {
  return postForm(server.tokenUrl, {
    grant_type: 'client_credentials',
    scope,
    client_assertion_type: 'urn:ietf:params:oauth:client-assertion-type:jwt-bearer',
    client_assertion: await keys.assertion(clientId, server.tokenUrl),
  });
}

/** A PKCE pair (S256). */
export function pkce(): { verifier: string; challenge: string } {
  const verifier = randomBytes(32).toString('base64url');
  return { verifier, challenge: createHash('sha256').update(verifier).digest('base64url') };
}

/** fetch with a cookie jar and manual redirects: what a browser does, step by step. */
export class CookieBrowser {
  private readonly cookies = new Map<string, string>();

  async fetch(url: string, init: RequestInit = {}): Promise<Response> {
    const headers = new Headers(init.headers);
    if (this.cookies.size > 0) headers.set('cookie', [...this.cookies].map(([k, v]) => `${k}=${v}`).join('; '));
    const response = await fetch(url, { ...init, headers, redirect: 'manual' });
    for (const line of response.headers.getSetCookie()) {
      const [pair] = line.split(';');
      const at = pair.indexOf('=');
      const [name, value] = [pair.slice(0, at).trim(), pair.slice(at + 1).trim()];
      if (value === '' || /expires=Thu, 01 Jan 1970/i.test(line)) this.cookies.delete(name);
      else this.cookies.set(name, value);
    }
    return response;
  }

  /** Follows redirects from `url` until a page (non-redirect) or a Location starting with `stopAt`. */
  async follow(url: string, origin: string, stopAt: string): Promise<{ url: string; response?: Response }> {
    let next = url;
    for (let hops = 0; hops < 10; hops++) {
      if (next.startsWith(stopAt)) return { url: next };
      const response = await this.fetch(next);
      const location = response.headers.get('location');
      if (response.status < 300 || response.status >= 400 || !location) return { url: next, response };
      next = new URL(location, origin).href;
    }
    throw new Error('too many redirects');
  }

  async postForm(url: string, form: Record<string, string>): Promise<Response> {
    return this.fetch(url, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams(form) });
  }
}

/** The action of the form on a page whose action ends with `suffix`. */
export function formAction(html: string, suffix: string): string {
  const match = new RegExp(`action="([^"]*${suffix})"`).exec(html);
  if (!match) throw new Error(`no form posting to ...${suffix} on the page: ${html.replace(/<style>.*<\/style>/s, "").slice(0, 300)}`);
  return match[1];
}
