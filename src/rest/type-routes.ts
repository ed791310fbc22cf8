import type { FastifyInstance } from 'fastify';
import type { ServiceDeps } from '../services/deps.js';
import { noteResource } from '../security/audit-facts.js';
import { history, type HistoryParams } from '../services/history.js';
import { issue, outcome } from '../outcome.js';
import { conditionalDelete, conditionalUpdate, createResource } from '../services/write.js';
import { patchFromRequest, patchResource } from '../services/patch.js';
import { sendJson } from './reply.js';
import { ifMatchVersion, ifNoneExist, queryString, storedType } from './request.js';
import { sendWriteResult } from './write-reply.js';

type TypeParams = { type: string };

/** create (conditional too), conditional update and delete, and type-level history: [type], [type]/_history. */
export function typeRoutes(deps: ServiceDeps) {
  return async (app: FastifyInstance) => {
    app.post<{ Params: TypeParams }>('/:type', async (request, reply) => {
      const options = { ifNoneExist: ifNoneExist(request) };
      const result = await createResource(deps, request.ctx, storedType(request.params.type), request.body, options);
      noteResource(request.ctx, result.version);
      return sendWriteResult(request.ctx, request, reply, result);
    });

    app.put<{ Params: TypeParams }>('/:type', async (request, reply) => {
      const type = storedType(request.params.type);
      if (request.ctx.audit) request.ctx.audit.interaction = 'update';
      const result = await conditionalUpdate(deps, request.ctx, type, queryString(request), request.body, ifMatchVersion(request));
      noteResource(request.ctx, result.version);
      return sendWriteResult(request.ctx, request, reply, result);
    });

    app.patch<{ Params: TypeParams }>('/:type', async (request, reply) => {
      const type = storedType(request.params.type);
      if (request.ctx.audit) request.ctx.audit.interaction = 'patch';
      const patch = patchFromRequest(request.headers['content-type'], request.body);
      const result = await patchResource(deps, request.ctx, type, { query: queryString(request) }, patch, ifMatchVersion(request));
      noteResource(request.ctx, result.version);
      return sendWriteResult(request.ctx, request, reply, result);
    });

    app.delete<{ Params: TypeParams }>('/:type', async (request, reply) => {
      const type = storedType(request.params.type);
      if (request.ctx.audit) request.ctx.audit.interaction = 'delete';
      const outcomes = (await conditionalDelete(deps, request.ctx, type, queryString(request))).filter((o) => o.changed);
      for (const o of outcomes) noteResource(request.ctx, o.version);
      const text = outcomes.length === 0
        ? `No ${type} matched the condition: nothing to delete`
        : `Deleted ${outcomes.map((o) => `${type}/${o.version.id} (version ${o.version.versionId})`).join(', ')}`;
      return sendJson(request, reply, 200, outcome([issue('information', 'informational', text)]));
    });

    app.get<{ Params: TypeParams; Querystring: HistoryParams }>('/:type/_history', async (request, reply) => {
      const bundle = await history(deps, request.ctx, { type: storedType(request.params.type) }, request.query);
      return sendJson(request, reply, 200, bundle);
    });
  };
}
