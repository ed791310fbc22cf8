import type { FastifyInstance } from 'fastify';
import type { ServiceDeps } from '../services/deps.js';
import { validateOperation } from '../services/validate.js';
import { sendJson } from './reply.js';
import { storedType } from './request.js';

/** Operations on a type or an instance: $validate. */
export function operationRoutes(deps: ServiceDeps) {
  return async (app: FastifyInstance) => {
    app.post<{ Params: { type: string } }>('/:type/$validate', async (request, reply) => {
      const report = await validateOperation(deps, request.ctx, storedType(request.params.type), undefined, request.body);
      return sendJson(request, reply, 200, report);
    });

    app.post<{ Params: { type: string; id: string } }>('/:type/:id/$validate', async (request, reply) => {
      const { type, id } = request.params;
      const report = await validateOperation(deps, request.ctx, storedType(type), id, request.body);
      return sendJson(request, reply, 200, report);
    });
  };
}
