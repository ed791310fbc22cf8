import type { FastifyError, FastifyInstance } from 'fastify';
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

/** The one place errors become responses. */
export function registerErrorHandling(app: FastifyInstance): void {
  app.setErrorHandler((error: FastifyError | FhirError, request, reply) => {
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
