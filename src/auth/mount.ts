import type { FastifyInstance } from 'fastify';
import type { IncomingMessage } from 'node:http';
import type Provider from 'oidc-provider';

/**
 * A raw request as the provider must see it: scheme and host from the issuer (BASE_URL's
 * origin), whatever the client or a proxy sent, so every URL the provider builds (endpoints in
 * its metadata, the audience it accepts in client assertions, `secure` cookies) is the public one.
 */
export function publicRequest(issuer: string): (raw: IncomingMessage) => IncomingMessage {
  const { protocol, host } = new URL(issuer);
  return (raw) => {
    raw.headers['x-forwarded-proto'] = protocol.slice(0, -1);
    raw.headers['x-forwarded-host'] = host;
    delete raw.headers['x-forwarded-for'];
    return raw;
  };
}

/**
 * Hands every request under `mountPath` (but the interaction pages, which are routes of their
 * own) to the provider's Koa app, before Fastify parses a body: the provider reads its own.
 */
export function mountProvider(app: FastifyInstance, provider: Provider, mountPath: string, asPublic: (raw: IncomingMessage) => IncomingMessage): void {
  const callback = provider.callback();
  app.route({
    method: ['GET', 'HEAD', 'POST', 'OPTIONS'],
    url: `${mountPath}/*`,
    onRequest: async (request, reply) => {
      reply.hijack();
      const raw = asPublic(request.raw) as IncomingMessage & { originalUrl?: string };
      // Mounted the way Express mounts: the provider sees its own paths and learns the prefix from originalUrl.
      raw.originalUrl = raw.url;
      raw.url = raw.url!.slice(mountPath.length) || '/';
      await callback(raw, reply.raw);
    },
    handler: async () => {
      throw new Error('unreachable: the provider answers in onRequest');
    },
  });
}
