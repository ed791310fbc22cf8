import type { FastifyInstance } from 'fastify';
import { capabilityStatement } from '../services/capabilities.js';
import type { ServiceDeps } from '../services/deps.js';
import { history, type HistoryParams } from '../services/history.js';
import { sendJson } from './reply.js';

/** System level: the CapabilityStatement and the history of everything. */
export function systemRoutes(deps: ServiceDeps) {
  return async (app: FastifyInstance) => {
    app.get('/metadata', async (request, reply) => sendJson(request, reply, 200, capabilityStatement(deps.config, deps.searchParams)));

    app.get<{ Querystring: HistoryParams }>('/_history', async (request, reply) => {
      const bundle = await history(deps, request.ctx, {}, request.query);
      return sendJson(request, reply, 200, bundle);
    });
  };
}
