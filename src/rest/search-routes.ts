import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { badRequest, issue, outcome } from '../outcome.js';
import { reindex } from '../services/reindex.js';
import { search, type SearchDeps, type SearchScope } from '../services/search.js';
import type { QueryEntries } from '../search/index.js';
import { sendJson } from './reply.js';
import { storedType, strictHandling } from './request.js';

/** The query string as ordered name/value pairs (order and repeats matter to search). */
function queryEntries(request: FastifyRequest): QueryEntries {
  const text = request.url.split('?')[1] ?? '';
  return [...new URLSearchParams(text)];
}

async function answer(deps: SearchDeps, request: FastifyRequest, reply: FastifyReply, scope: SearchScope, entries: QueryEntries) {
  const result = await search(deps, request.ctx, scope, entries, strictHandling(request));
  // Which declared index each type's query leads with: for tests, benchmarks and operators.
  reply.header('x-search-index', Object.values(result.indexes).join(','));
  reply.header('server-timing', `db;dur=${result.timing.dbMs.toFixed(2)}, app;dur=${result.timing.appMs.toFixed(2)}`);
  return sendJson(request, reply, 200, result.bundle);
}

function typesParam(deps: SearchDeps, entries: QueryEntries): string[] {
  const named = entries.filter(([n]) => n === '_type').flatMap(([, v]) => v.split(',')).filter(Boolean);
  if (named.length === 0) return deps.storedTypes;
  for (const type of named) if (!deps.storedTypes.includes(type)) throw badRequest(`_type: "${type.slice(0, 64)}" is not a type this server stores`, 'invalid', ['_type']);
  return [...new Set(named)];
}

/** search-type (GET and POST _search), search-system, compartment search, and $reindex. */
export function searchRoutes(deps: SearchDeps) {
  return async (app: FastifyInstance) => {
    app.get<{ Params: { type: string } }>('/:type', async (request, reply) => {
      const type = storedType(request.params.type);
      return answer(deps, request, reply, { types: [type], path: type }, queryEntries(request));
    });

    app.get('/', async (request, reply) => {
      const entries = queryEntries(request);
      return answer(deps, request, reply, { types: typesParam(deps, entries), path: '' }, entries);
    });

    app.get<{ Params: { type: string; id: string; target: string } }>('/:type/:id/:target', async (request, reply) => {
      const { type, id, target } = request.params;
      const compartment = { type: storedType(type), id };
      const path = `${type}/${id}/${storedType(target)}`;
      return answer(deps, request, reply, { types: [target], compartment, path }, queryEntries(request));
    });

    // POST [type]/_search: parameters in a form-encoded body (and possibly the URL too).
    await app.register(async (form) => {
      form.addContentTypeParser('application/x-www-form-urlencoded', { parseAs: 'string' }, (_req, body, done) => {
        done(null, [...new URLSearchParams(body as string)]);
      });
      form.post<{ Params: { type: string } }>('/:type/_search', async (request, reply) => {
        const type = storedType(request.params.type);
        const fromBody = Array.isArray(request.body) ? (request.body as QueryEntries) : [];
        return answer(deps, request, reply, { types: [type], path: type }, [...queryEntries(request), ...fromBody]);
      });
    });

    const runReindex = async (request: FastifyRequest, reply: FastifyReply, types: string[]) => {
      const counts = await reindex(deps, request.ctx, types);
      const text = Object.entries(counts).map(([t, n]) => `${t}: ${n}`).join(', ');
      return sendJson(request, reply, 200, outcome([issue('information', 'informational', `Search values extracted again: ${text}`)]));
    };
    app.post('/$reindex', async (request, reply) => runReindex(request, reply, deps.storedTypes));
    app.post<{ Params: { type: string } }>('/:type/$reindex', async (request, reply) =>
      runReindex(request, reply, [storedType(request.params.type)]));
  };
}
