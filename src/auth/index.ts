import type { FastifyInstance } from 'fastify';
import type { AuditEvent } from 'fhir/r4';
import type { Db } from 'mongodb';
import type { Config } from '../config.js';
import { ensureIndexes } from '../db/indexes.js';
import { ClientRegistry } from './clients.js';
import { loadOrCreateKeys } from './keys.js';
import { SignInThrottle } from './sign-in-throttle.js';
import { UserDirectory } from './users.js';

export { authMethodOf, ClientRegistry } from './clients.js';
export { generateClientSecret } from './client-secrets.js';
export { splitCodes } from './grants.js';
export { UserDirectory } from './users.js';

/**
 * AUTH_SERVER=on: the built-in SMART authorization server under /auth. Must run before the
 * resource server's authentication is registered: that reads the public key file written here.
 */
export async function registerAuthorizationServer(app: FastifyInstance, config: Config, db: Db, audit?: (event: AuditEvent) => Promise<void>): Promise<void> {
  const settings = config.authServer;
  if (!settings) return;
  // Loaded only when on: oidc-provider warns at import on Node 20 (it wants 22), and costs start-up time.
  const [{ createProvider }, { interactionRoutes }, { mountProvider, publicRequest }, { STATE_INDEXES }] = await Promise.all([
    import('./provider.js'),
    import('./interactions.js'),
    import('./mount.js'),
    import('./state-store.js'),
  ]);
  const keys = await loadOrCreateKeys(settings.keysFile, settings.jwksFile);
  await ensureIndexes(db, STATE_INDEXES);
  const users = new UserDirectory(settings.usersFile);
  const clients = new ClientRegistry(settings.clientsFile);
  const provider = createProvider({ settings, baseUrl: config.baseUrl, db, users, clients, keys });
  provider.on('server_error', (_ctx, error) => app.log.error({ reason: error.message }, 'authorization server error'));
  const asPublic = publicRequest(settings.issuer);
  mountProvider(app, provider, settings.mountPath, asPublic);
  const throttle = new SignInThrottle(db);
  await app.register(interactionRoutes({ provider, users, clients, mountPath: settings.mountPath, throttle, audit, baseUrl: config.baseUrl, asPublic }), { prefix: settings.mountPath });
  const [userCount, clientCount] = [(await users.list()).length, (await clients.list()).length];
  if (userCount === 0 || clientCount === 0) {
    app.log.warn({ users: userCount, clients: clientCount }, `the built-in authorization server has no ${userCount === 0 ? 'users' : 'clients'} yet: add them with npm run auth -- add-user / add-client`);
  }
  app.log.info({ issuer: settings.issuer }, 'built-in SMART authorization server on');
}
