import type { FastifyInstance } from 'fastify';
import { issue, outcome } from '../outcome.js';
import type { ServiceDeps } from '../services/deps.js';
import { noteResource } from '../security/audit-facts.js';
import { history, type HistoryParams } from '../services/history.js';
import { readResource, readVersion } from '../services/read.js';
import { patchFromRequest, patchResource } from '../services/patch.js';
import { deleteResource, updateResource } from '../services/write.js';
import { sendJson, sendResource, versionHeaders, notModified } from './reply.js';
import { ifMatchVersion, storedType } from './request.js';
import { sendWriteResult } from './write-reply.js';

type InstanceParams = { type: string; id: string };

/** read, vread, update, delete and history of one resource: [type]/[id]... */
export function instanceRoutes(deps: ServiceDeps) {
  return async (app: FastifyInstance) => {
    app.get<{ Params: InstanceParams }>('/:type/:id', async (request, reply) => {
      const { type, id } = request.params;
      const version = await readResource(deps, request.ctx, storedType(type), id);
      noteResource(request.ctx, version);
      versionHeaders(reply, version);
      if (notModified(request, version)) return reply.code(304).send();
      return sendResource(request, reply, 200, version.resource!);
    });

    app.get<{ Params: InstanceParams & { vid: string } }>('/:type/:id/_history/:vid', async (request, reply) => {
      const { type, id, vid } = request.params;
      const version = await readVersion(deps, request.ctx, storedType(type), id, vid);
      noteResource(request.ctx, version);
      versionHeaders(reply, version);
      if (notModified(request, version)) return reply.code(304).send();
      return sendResource(request, reply, 200, version.resource!);
    });

    app.put<{ Params: InstanceParams }>('/:type/:id', async (request, reply) => {
      const { type, id } = request.params;
      const result = await updateResource(deps, request.ctx, storedType(type), id, request.body, ifMatchVersion(request));
      noteResource(request.ctx, result.version);
      return sendWriteResult(request.ctx, request, reply, result);
    });

    app.patch<{ Params: InstanceParams }>('/:type/:id', async (request, reply) => {
      const { type, id } = request.params;
      const patch = patchFromRequest(request.headers['content-type'], request.body);
      const result = await patchResource(deps, request.ctx, storedType(type), { id }, patch, ifMatchVersion(request));
      noteResource(request.ctx, result.version);
      return sendWriteResult(request.ctx, request, reply, result);
    });

    app.delete<{ Params: InstanceParams }>('/:type/:id', async (request, reply) => {
      const { type, id } = request.params;
      const result = await deleteResource(deps, request.ctx, storedType(type), id, ifMatchVersion(request));
      if (result.changed) noteResource(request.ctx, result.version);
      if (result.changed) reply.header('etag', `W/"${result.version.versionId}"`);
      const text = result.changed
        ? `${type}/${id} deleted (version ${result.version.versionId})`
        : `${type}/${id} did not exist or was already deleted: nothing to delete`;
      return sendJson(request, reply, 200, outcome([issue('information', 'informational', text)]));
    });

    app.get<{ Params: InstanceParams; Querystring: HistoryParams }>('/:type/:id/_history', async (request, reply) => {
      const { type, id } = request.params;
      const bundle = await history(deps, request.ctx, { type: storedType(type), id }, request.query);
      return sendJson(request, reply, 200, bundle);
    });
  };
}
