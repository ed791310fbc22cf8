import type { FastifyInstance } from 'fastify';
import type { ServiceDeps } from '../services/deps.js';
import { noteResource } from '../security/audit-facts.js';
import { history, type HistoryParams } from '../services/history.js';
import { createResource } from '../services/write.js';
import { sendJson } from './reply.js';
import { storedType } from './request.js';
import { sendWriteResult } from './write-reply.js';

type TypeParams = { type: string };

/** create and type-level history: [type], [type]/_history. */
export function typeRoutes(deps: ServiceDeps) {
  return async (app: FastifyInstance) => {
    app.post<{ Params: TypeParams }>('/:type', async (request, reply) => {
      const result = await createResource(deps, request.ctx, storedType(request.params.type), request.body);
      noteResource(request.ctx, result.version);
      return sendWriteResult(request.ctx, request, reply, result);
    });

    app.get<{ Params: TypeParams; Querystring: HistoryParams }>('/:type/_history', async (request, reply) => {
      const bundle = await history(deps, request.ctx, { type: storedType(request.params.type) }, request.query);
      return sendJson(request, reply, 200, bundle);
    });
  };
}
