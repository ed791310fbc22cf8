import cors from '@fastify/cors';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';

/**
 * CORS for browser apps (SMART web apps), only when CORS_ORIGINS is set. Preflights are answered
 * in @fastify/cors's onRequest hook, before authentication (a preflight carries no token).
 */
export async function registerCors(app: FastifyInstance, config: Config): Promise<void> {
  const origins = config.auth.corsOrigins;
  if (!origins) return;
  await app.register(cors, {
    origin: origins === '*' ? '*' : origins,
    methods: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'],
    allowedHeaders: ['Authorization', 'Content-Type', 'Accept', 'If-Match', 'If-None-Exist', 'If-None-Match', 'If-Modified-Since', 'Prefer', 'X-Request-Id'],
    exposedHeaders: ['ETag', 'Location', 'Content-Location', 'Last-Modified', 'X-Request-Id', 'WWW-Authenticate'],
    maxAge: 600,
  });
}
