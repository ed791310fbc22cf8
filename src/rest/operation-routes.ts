import type { FastifyInstance, FastifyRequest } from 'fastify';
import { isR4ResourceType } from '../fhir/structure-definitions.js';
import { methodNotAllowed, notFound, notImplemented } from '../outcome.js';
import type { ServiceDeps } from '../services/deps.js';
import { validateOperation } from '../services/validate.js';
import { sendJson } from './reply.js';
import { storedType } from './request.js';

type OperationParams = { type?: string; id?: string; operation: string };

/** The name as the client wrote it, shortened: it is echoed in the answer. */
const shown = (operation: string) => `$${operation.slice(0, 64)}`;

/**
 * An operation no route serves (`Patient/1/$everything`, `Patient/$match`, `$export`): 501
 * not-supported, naming the operation, rather than the "unknown resource type" or "no such id"
 * the `[type]` and `[type]/[id]` routes would answer. An operation the server has at this level
 * with another method (`GET Patient/$validate`) is 405 with Allow.
 */
function unsupportedOperation(app: FastifyInstance) {
  return async (request: FastifyRequest<{ Params: OperationParams }>) => {
    const { type, operation } = request.params;
    if (type !== undefined) storedType(type);
    const level = request.params.id !== undefined ? `${type}/[id]` : type ?? 'the system level';
    const route = request.routeOptions.url?.replace('$:operation', `$${operation}`);
    const allow = ['GET', 'POST'].filter((method) => method !== request.method && route && app.hasRoute({ method, url: route }));
    if (allow.length > 0 && /^[A-Za-z][\w-]*$/.test(operation)) {
      throw methodNotAllowed(`The operation ${shown(operation)} on ${level} is invoked with ${allow.join(' or ')}`, allow);
    }
    throw notImplemented(`The operation ${shown(operation)} is not supported on ${level} by this server`);
  };
}

/** Validating stores nothing, so a body of any R4 type can be checked (a document Bundle, a Practitioner). */
function validatableType(type: string): string {
  if (!isR4ResourceType(type)) throw notFound(`"${type.slice(0, 64)}" is not an R4 resource type`);
  return type;
}

/** Operations on a type or an instance: $validate; and the answer to operations the server does not have. */
export function operationRoutes(deps: ServiceDeps) {
  return async (app: FastifyInstance) => {
    app.post<{ Params: { type: string } }>('/:type/$validate', async (request, reply) => {
      const report = await validateOperation(deps, request.ctx, validatableType(request.params.type), undefined, request.body);
      return sendJson(request, reply, 200, report);
    });

    app.post<{ Params: { type: string; id: string } }>('/:type/:id/$validate', async (request, reply) => {
      const { type, id } = request.params;
      const report = await validateOperation(deps, request.ctx, storedType(type), id, request.body);
      return sendJson(request, reply, 200, report);
    });

    // Routes of named operations are static, so they win over these wherever both match.
    for (const url of ['/$:operation', '/:type/$:operation', '/:type/:id/$:operation']) {
      app.route<{ Params: OperationParams }>({ method: ['GET', 'POST'], url, handler: unsupportedOperation(app) });
    }
  };
}
