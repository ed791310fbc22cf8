import type { FastifyReply, FastifyRequest } from 'fastify';
import { issue, outcome } from '../outcome.js';
import type { RequestContext } from '../security/context.js';
import type { WriteResult } from '../services/write.js';
import { sendJson, sendResource, versionHeaders } from './reply.js';
import { returnPreference } from './request.js';

/** The answer to a create or update: status, version headers, Location, and the Prefer'd body. */
export function sendWriteResult(
  ctx: RequestContext,
  request: FastifyRequest,
  reply: FastifyReply,
  result: WriteResult,
): FastifyReply {
  const { version } = result;
  const status = result.created ? 201 : 200;
  versionHeaders(reply, version);
  reply.header('location', `${ctx.baseUrl}/${version.type}/${version.id}/_history/${version.versionId}`);
  const preference = returnPreference(request);
  if (preference === 'minimal') return reply.code(status).send();
  if (preference === 'OperationOutcome') {
    const verb = result.created ? 'created' : 'updated';
    const note = issue('information', 'informational', `${version.type}/${version.id} ${verb} as version ${version.versionId}`);
    return sendJson(request, reply, status, outcome([...result.warnings, note]));
  }
  return sendResource(request, reply, status, version.resource!);
}
