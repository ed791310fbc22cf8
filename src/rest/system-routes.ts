import type { FastifyInstance } from 'fastify';
import { capabilityStatement } from '../services/capabilities.js';
import type { ServiceDeps } from '../services/deps.js';
import { processBundle } from '../services/bundle.js';
import { history, type HistoryParams } from '../services/history.js';
import { sendJson } from './reply.js';
import { returnPreference } from './request.js';

/** System level: the CapabilityStatement, the history of everything, and batch/transaction bundles. */
export function systemRoutes(deps: ServiceDeps) {
  return async (app: FastifyInstance) => {
    app.get('/metadata', async (request, reply) => sendJson(request, reply, 200, capabilityStatement(deps.config, deps.searchParams)));

    app.get<{ Querystring: HistoryParams }>('/_history', async (request, reply) => {
      const bundle = await history(deps, request.ctx, {}, request.query);
      return sendJson(request, reply, 200, bundle);
    });

    // Bundles may be larger than single resources (BUNDLE_BODY_LIMIT_BYTES; beyond it 413).
    app.post('/', { bodyLimit: deps.config.bundleBodyLimitBytes }, async (request, reply) => {
      const bundle = await processBundle(deps, request.ctx, request.body, returnPreference(request));
      return sendJson(request, reply, 200, bundle);
    });
  };
}
