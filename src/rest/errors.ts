import type { FastifyError, FastifyInstance, FastifyRequest } from 'fastify';
import { isTimeLimitReached } from '../search/index.js';
import { FhirError, issue, outcome, type IssueCode } from '../outcome.js';
import { sendJson } from './reply.js';

/** Fastify's own client errors, answered as OperationOutcomes with a fitting issue code. */
const FASTIFY_CODES: Record<string, IssueCode> = {
  FST_ERR_CTP_INVALID_MEDIA_TYPE: 'not-supported',
  FST_ERR_CTP_BODY_TOO_LARGE: 'too-costly',
  FST_ERR_CTP_EMPTY_JSON_BODY: 'structure',
  FST_ERR_CTP_INVALID_CONTENT_LENGTH: 'invalid',
};

const MESSAGES: Record<number, string> = {
  413: 'The request body is larger than this server accepts',
  415: 'Send the body as application/fhir+json (or application/json); XML is not supported',
};

/**
 * A query stopped at the time limit is the client's request being too costly, not a server
 * fault: 400 too-costly, as the chain cap answers (search/chain.ts). HL7's issue types put
 * too-costly under `processing` ("no point resubmitting the same content unchanged"), while
 * `timeout` and `throttled` sit under `transient`; a 503 would tell clients and load balancers
 * to retry the same search, which meets the same limit again. (Microsoft's FHIR server answers
 * its chained-search timeout with 400 too-costly too; HAPI answers its search timeout, HAPI-1163,
 * with a 500, which reports the client's costly search as a server fault.)
 */
function timeLimitReached(request: FastifyRequest): FhirError {
  // The route template only: URLs, queries and the database's message can carry health data.
  request.log.warn({ route: request.routeOptions.url }, 'a database query reached its time limit');
  return new FhirError(400, issue('error', 'too-costly',
    'A database query of this request ran past the time limit this server allows. Narrow the search: ' +
    'add selective parameters (an identifier, a patient, a date range), prefer exact or prefix matches ' +
    'to :contains, ask for a smaller _count, and leave out _total=accurate, _include and _revinclude'));
}

/** The one place errors become responses. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((thrown: FastifyError | FhirError, request, reply) => {
    const error = isTimeLimitReached(thrown) ? timeLimitReached(request) : thrown;
    if (error instanceof FhirError) {
      for (const [name, value] of Object.entries(error.headers)) reply.header(name, value);
      return sendJson(request, reply, error.status, outcome(error.issues));
    }
    const status = error.statusCode ?? 500;
    if (status >= 500) {
      request.log.error({ err: error }, 'server fault');
      const text = `The server failed to handle the request (request id ${request.id})`;
      return sendJson(request, reply, 500, outcome([issue('fatal', 'exception', text)]));
    }
    const code = FASTIFY_CODES[error.code] ?? 'invalid';
    const diagnostics = MESSAGES[status] ?? error.message;
    return sendJson(request, reply, status, outcome([issue('error', code, diagnostics)]));
  });

  app.setNotFoundHandler((request, reply) => {
    const text = `No FHIR interaction at ${request.method} ${request.url.split('?')[0]}`;
    return sendJson(request, reply, 404, outcome([issue('error', 'not-found', text)]));
  });
}
