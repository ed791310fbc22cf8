import { randomUUID } from 'node:crypto';
import Fastify, { LogController, type FastifyInstance, type FastifyRequest } from 'fastify';
import type { Db } from 'mongodb';
import { basePath, type Config } from './config.js';
import { registerAuthorizationServer } from './auth/index.js';
import { ensureIndexes } from './db/indexes.js';
import { assertJsonAccepted, registerJsonBodies } from './rest/content.js';
import { registerAuthentication } from './rest/authentication.js';
import { registerCors } from './rest/cors.js';
import { registerErrorHandling } from './rest/errors.js';
import { healthRoutes } from './rest/health.js';
import { registerMetrics } from './rest/metrics.js';
import { createMetrics, observeDatabaseCommands, timedValidator } from './metrics/index.js';
import { instanceRoutes } from './rest/instance-routes.js';
import { openApiRoutes } from './rest/openapi-routes.js';
import { operationRoutes } from './rest/operation-routes.js';
import { searchRoutes } from './rest/search-routes.js';
import { systemRoutes } from './rest/system-routes.js';
import { typeRoutes } from './rest/type-routes.js';
import { accessFields, createSecurity, unrestrictedCaller, type RequestContext } from './security/index.js';
import { newRequestAudit } from './security/audit-facts.js';
import { auditOnSend } from './security/audit-hook.js';
import { AuditTrail } from './security/audit-trail.js';
import type { ServiceDeps } from './services/deps.js';
import { ResourceStore, accessIndexes } from './store/index.js';
import { KeyStats, SearchRegistry, extractSearchValues, isSearchIndexName, searchIndexes, storedFields } from './search/index.js';
import { capabilitySearchParams } from './services/capabilities.js';
import { createValidator } from './validation/index.js';

declare module 'fastify' {
  interface FastifyRequest {
    ctx: RequestContext;
  }
}

export interface AppOptions {
  config: Config;
  db: Db;
  /** pino options or false (tests pass false to keep output quiet). */
  logger?: boolean | { level: string };
  /** Adjusts each request's security context (tests use it to narrow `accessFilter`). */
  contextHook?: (ctx: RequestContext, request: FastifyRequest) => RequestContext;
  /** How long custom SearchParameters are trusted before the database is checked again (ms). */
  searchParamRefreshMs?: number;
  /** Act as if the database had no transactions (tests of the standalone-mongod answers); detected otherwise. */
  withoutTransactions?: boolean;
}

/** Builds the server (without listening): the database must already be connected. */
export async function buildApp({ config, db, logger, contextHook, searchParamRefreshMs, withoutTransactions }: AppOptions): Promise<FastifyInstance> {
  const app = Fastify({
    logger: logger ?? { level: config.logLevel },
    bodyLimit: config.bodyLimitBytes,
    // Fastify's own request lines would log URLs with search parameters (PHI); see onResponse.
    logController: new LogController({ disableRequestLogging: true }),
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[\w.-]{1,64}$/.test(given) ? given : randomUUID();
    },
    routerOptions: { ignoreTrailingSlash: true, maxParamLength: 200 },
  });

  const storedTypes = SearchRegistry.storedTypes();
  const keyStats = new KeyStats(db, config.dbQueryTimeoutMs);
  // The registry reads stored SearchParameters from the store; the store extracts with the registry.
  let registry: SearchRegistry;
  const store = new ResourceStore(
    db,
    async (type, resource) => {
      const sp = extractSearchValues(registry, config.baseUrl, type, resource);
      const search = storedFields(type, sp);
      await keyStats.record(type, resource.id!, search.sp);
      return { search, access: accessFields(type, resource, sp) };
    },
    config.dbQueryTimeoutMs,
    // Writes of these move their change counter: the caches of them on every instance reload.
    ['Consent', 'StructureDefinition', 'SearchParameter'],
  );
  registry = new SearchRegistry(store, searchParamRefreshMs);
  const declared = searchIndexes(registry, storedTypes);
  await ensureIndexes(db, [...ResourceStore.indexes, ...accessIndexes(storedTypes), ...declared], isSearchIndexName);
  await registry.refresh(true);
  await keyStats.complete(storedTypes);
  const repaired = await store.recover();
  if (repaired > 0) app.log.warn({ repaired }, 'finished writes left incomplete by an earlier stop');
  const security = createSecurity(config, registry, store, (message) => app.log.warn(message));
  const transactions = !withoutTransactions && (await store.supportsTransactions());
  if (transactions) await store.prepareCollections(storedTypes);
  else {
    app.log.warn('the database is a standalone MongoDB without multi-document transactions: transaction bundles will be refused ' +
      '(batches work) and simultaneous conditional creates may both create; run it as a replica set (one node is enough)');
  }
  const metrics = config.metrics.enabled ? createMetrics() : undefined;
  if (metrics) observeDatabaseCommands(db.client, metrics.dbCommands);
  const searchDeps = { config, store, registry, declared, storedTypes, keyStats };
  const validator = createValidator({ definitions: store, ...config.validation });
  const searchParams = capabilitySearchParams(registry);
  const deps: ServiceDeps = {
    config,
    store,
    validator: metrics ? timedValidator(validator, metrics.validations) : validator,
    storedTypes,
    searchParams,
    search: searchDeps,
    transactions,
  };
  // One AuditEvent per request, group-committed through the store's append-only path.
  const auditTrail = new AuditTrail((events) => store.appendAuditEvents(events), metrics && ((size) => metrics.auditBatches.observe(size)));

  registerJsonBodies(app);
  registerErrorHandling(app);

  app.decorateRequest('ctx', null as unknown as RequestContext);
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    const caller = unrestrictedCaller(request.ip);
    const ctx: RequestContext = { requestId: request.id, log: request.log, baseUrl: config.baseUrl, caller, access: security.denyAll, audit: newRequestAudit() };
    request.ctx = contextHook ? contextHook(ctx, request) : ctx;
  });
  // After the context hook: CORS answers preflights, then the verified token sets ctx.caller.
  await registerCors(app, config);
  // The built-in authorization server (AUTH_SERVER=on) writes the key file authentication reads.
  // Sign-ins are audited like requests: written before the page is answered.
  await registerAuthorizationServer(app, config, db, config.auditTrail ? (event) => auditTrail.record(event) : undefined);
  await registerAuthentication(app, config);
  // Authentication (onRequest) has set the caller: compile what it may do before any handler runs.
  app.addHook('preHandler', async (request) => {
    request.ctx.access = await security.accessFor(request.ctx.caller);
  });
  // One line per request: ids, route template, status, duration. Never URLs with queries or bodies (PHI).
  app.addHook('onResponse', async (request, reply) => {
    request.log.info(
      {
        method: request.method,
        route: request.routeOptions.url ?? 'unmatched',
        status: reply.statusCode,
        ms: Math.round(reply.elapsedTime * 10) / 10,
      },
      'request',
    );
  });

  // Awaited before the answer is written: see security/audit-hook.ts.
  if (config.auditTrail) app.addHook('onSend', auditOnSend(auditTrail, config.baseUrl, basePath(config)));
  else app.log.warn('AUDIT_TRAIL=off: accesses are not audited (local development only)');
  app.addHook('onClose', () => auditTrail.drain());

  if (metrics) registerMetrics(app, metrics, config.metrics, basePath(config));
  await app.register(healthRoutes(db));
  await app.register(openApiRoutes({ config, searchParams, refreshSearchParams: () => registry.refresh() }));
  await app.register(
    async (fhir) => {
      fhir.addHook('preHandler', async (request) => assertJsonAccepted(request));
      // Writes extract with, and searches use, the SearchParameters stored on any instance.
      fhir.addHook('preHandler', async () => registry.refresh());
      await fhir.register(systemRoutes(deps));
      await fhir.register(typeRoutes(deps));
      await fhir.register(operationRoutes(deps));
      await fhir.register(instanceRoutes(deps));
      await fhir.register(searchRoutes(searchDeps));
    },
    { prefix: basePath(config) },
  );
  return app;
}
