import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import type { CapabilityStatementRestResourceSearchParam } from 'fhir/r4';
import type { FastifyInstance } from 'fastify';
import type { Config } from '../config.js';
import { openApiDocument } from '../services/openapi.js';

/** Both outside the FHIR base path, like the health probes, and public like [base]/metadata. */
export const OPENAPI_PATH = '/openapi.json';
export const DOCS_PREFIX = '/docs';

export interface OpenApiDeps {
  config: Config;
  searchParams: (type: string) => CapabilityStatementRestResourceSearchParam[];
  /** Brings custom SearchParameters up to date (SearchRegistry.refresh). */
  refreshSearchParams: () => Promise<void>;
}

const origin = (url: string) => new URL(url).origin;

/**
 * The Content-Security-Policy of the Swagger UI pages: scripts, styles and images from this
 * server only (the UI's files come from the @fastify/swagger-ui package, no CDN). Swagger UI
 * calls the FHIR API (BASE_URL) and the token endpoint from the browser, so connect-src names
 * them. Styles allow inline ones: the UI sets style attributes as it renders.
 */
function docsCsp(config: Config): string {
  const connect = new Set(["'self'", origin(config.baseUrl)]);
  if (config.auth.tokenUrl) connect.add(origin(config.auth.tokenUrl));
  return [
    "default-src 'self'",
    "base-uri 'self'",
    `connect-src ${[...connect].join(' ')}`,
    "font-src 'self' data:",
    "form-action 'self'",
    "frame-ancestors 'self'",
    "img-src 'self' data:",
    "object-src 'none'",
    "script-src 'self'",
    "script-src-attr 'none'",
    "style-src 'self' 'unsafe-inline'",
  ].join('; ');
}

/**
 * GET /openapi.json and Swagger UI at /docs. @fastify/swagger holds the document built at
 * start-up (static mode); both answers are rebuilt from the search registry per request, so
 * SearchParameters stored since then appear (building it takes a few milliseconds).
 */
export function openApiRoutes({ config, searchParams, refreshSearchParams }: OpenApiDeps) {
  return async (app: FastifyInstance) => {
    // Documentation is not a FHIR interaction: no AuditEvent (security/audit-hook.ts), even when BASE_URL has no path.
    app.addHook('onRoute', (route) => {
      route.config = { ...route.config, audit: false };
    });
    const current = () => openApiDocument(config, searchParams);

    app.get(OPENAPI_PATH, async (_request, reply) => {
      await refreshSearchParams();
      return reply.header('content-type', 'application/json; charset=utf-8').header('cache-control', 'no-cache').send(JSON.stringify(current()));
    });

    await app.register(swagger, { mode: 'static', specification: { document: current() } });
    await app.register(swaggerUi, {
      routePrefix: DOCS_PREFIX,
      staticCSP: docsCsp(config),
      uiHooks: { preHandler: async () => refreshSearchParams() },
      transformSpecification: () => current(),
      transformSpecificationClone: false,
      // SMART asks the authorization request to name the FHIR server it is for (`aud`); PKCE for public clients.
      initOAuth: { usePkceWithAuthorizationCodeGrant: true, additionalQueryStringParams: { aud: config.baseUrl } },
      uiConfig: { deepLinking: true, docExpansion: 'none', defaultModelsExpandDepth: 0 },
    });
  };
}
