import type { FastifyInstance, FastifyRequest } from 'fastify';
import { basePath, type Config } from '../config.js';
import { FhirError, notFound } from '../outcome.js';
import { authenticate } from '../security/authenticate.js';
import { smartConfiguration } from '../security/smart-configuration.js';
import { TokenVerifier } from '../security/tokens.js';
import { DOCS_PREFIX, OPENAPI_PATH } from './openapi-routes.js';

/**
 * Routes anyone may call: discovery, API documentation, health, and metrics (guarded by
 * METRICS_TOKEN, not by access tokens). Everything else needs a valid access token.
 */
function publicRoutes(config: Config): Set<string> {
  const base = basePath(config);
  return new Set([`${base}/metadata`, `${base}/.well-known/smart-configuration`, '/healthz', '/readyz', '/metrics', OPENAPI_PATH]);
}

/** Route prefixes anyone may call: Swagger UI's page, files and OAuth redirect page (its API calls carry the token). */
const PUBLIC_PREFIXES = ['/health', DOCS_PREFIX];

function isPublic(request: FastifyRequest, routes: Set<string>, authServerPath?: string): boolean {
  // Preflights carry no token by design (browsers strip Authorization); CORS answers them, or 404.
  if (request.method === 'OPTIONS') return true;
  // The built-in authorization server authenticates its callers itself (clients, users).
  if (authServerPath !== undefined && request.routeOptions.url?.startsWith(`${authServerPath}/`)) return true;
  if (request.method !== 'GET' && request.method !== 'HEAD') return false;
  const route = request.routeOptions.url;
  return route !== undefined && (routes.has(route) || PUBLIC_PREFIXES.some((prefix) => route === prefix || route.startsWith(`${prefix}/`)));
}

/**
 * With AUTH_ISSUER set: an onRequest hook (added after the one that builds request.ctx) that
 * verifies the bearer token and puts its Caller in request.ctx.caller, for every route but the
 * public ones. Without an issuer the hook is not added: request.ctx keeps unrestrictedCaller.
 * Also serves `[base]/.well-known/smart-configuration` (404 when authorization is off).
 */
export async function registerAuthentication(app: FastifyInstance, config: Config): Promise<void> {
  const { auth } = config;
  const path = `${basePath(config)}/.well-known/smart-configuration`;
  const issuer = auth.issuer;
  if (!issuer) {
    app.get(path, async () => {
      throw notFound('Authorization is not configured on this server (no AUTH_ISSUER), so there is no SMART configuration');
    });
    return;
  }
  const verifier = await TokenVerifier.create(auth, config.baseUrl, app.log);
  const routes = publicRoutes(config);
  app.addHook('onRequest', async (request) => {
    if (isPublic(request, routes, config.authServer?.mountPath)) return;
    try {
      request.ctx.caller = await authenticate(request, verifier, config.baseUrl);
    } catch (error) {
      // Why, in words that never hold the token (wrong audience and clock skew are the usual set-up faults).
      if (error instanceof FhirError) request.log.info({ status: error.status, reason: error.issues[0]?.diagnostics }, 'request refused: access token');
      throw error;
    }
  });
  const document = JSON.stringify(smartConfiguration({ ...auth, issuer }, config.authServer !== undefined));
  app.get(path, async (_request, reply) =>
    reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'public, max-age=3600').send(document),
  );
}
