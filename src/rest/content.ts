import type { FastifyInstance, FastifyRequest } from 'fastify';
import { FhirError, badRequest, issue } from '../outcome.js';
import { countingReviver, markRepeatedKeys, mayHaveRepeatedKeys } from './repeated-keys.js';

export const FHIR_JSON = 'application/fhir+json; charset=utf-8';

/**
 * JSON bodies (application/fhir+json, application/json, and application/json-patch+json for PATCH). Keys that MongoDB would read as
 * operators or paths (`$...`, `a.b`) and prototype keys are refused here, before anything else. A member name repeated in
 * an object is marked for validation to report where it is (422); in a JSON Patch document it makes the body a 400.
 */
export function registerJsonBodies(app: FastifyInstance): void {
  app.removeAllContentTypeParsers();
  const parse = (req: FastifyRequest, body: string | Buffer, done: (err: Error | null, value?: unknown) => void) => {
    const text = typeof body === 'string' ? body : body.toString('utf8');
    if (text.trim() === '') return done(badRequest('The request body is empty; send a FHIR resource as JSON', 'structure'));
    try {
      const { value, repeated } = parseJsonText(text);
      if (repeated.length > 0 && isJsonPatch(req)) {
        return done(badRequest(`"${repeated[0].slice(0, 64)}" appears twice in one object of the patch; send each member once`, 'structure'));
      }
      done(null, value);
    } catch (error) {
      if (error instanceof FhirError) return done(error);
      done(badRequest(`The body is not valid JSON: ${(error as Error).message}`, 'structure'));
    }
  };
  app.addContentTypeParser(['application/fhir+json', 'application/json', 'application/json-patch+json'], { parseAs: 'string' }, parse);
}

/**
 * A JSON text as the body parser reads it (the validation agreement script reads its cases with it
 * too): unsafe keys throw a FhirError, bad JSON a SyntaxError, and objects that repeated a member
 * name are marked for validation; `repeated` lists those names.
 */
export function parseJsonText(text: string): { value: unknown; repeated: string[] } {
  const counts = { members: 0, strings: 0 };
  const value: unknown = JSON.parse(text, countingReviver(counts, refuseUnsafeKeys));
  return { value, repeated: mayHaveRepeatedKeys(text, counts) ? markRepeatedKeys(text, value) : [] };
}

function refuseUnsafeKeys(key: string): void {
  if (key.startsWith('$') || key.includes('.') || key === '__proto__' || key === 'constructor') {
    throw badRequest(`"${key.slice(0, 64)}" is not a FHIR element name`, 'structure');
  }
}

const isJsonPatch = (req: FastifyRequest) => (req.headers['content-type'] ?? '').toLowerCase().startsWith('application/json-patch+json');

const JSON_FORMATS = new Set(['json', 'application/json', 'application/fhir+json']);
const XML_FORMATS = new Set(['xml', 'text/xml', 'application/xml', 'application/fhir+xml']);

/** `_format` and Accept: only JSON is served (XML is not supported, as the CapabilityStatement says). */
export function assertJsonAccepted(request: FastifyRequest): void {
  const format = (request.query as Record<string, unknown> | undefined)?._format;
  if (typeof format === 'string') {
    const base = format.split(';')[0].trim().toLowerCase();
    if (XML_FORMATS.has(base)) throw notAcceptable('XML is not supported; use _format=json');
    if (!JSON_FORMATS.has(base)) throw badRequest(`_format "${format}" is not known; use json`, 'invalid');
    return;
  }
  const accept = request.headers.accept;
  if (!accept) return;
  const types = accept.split(',').map((part) => part.split(';')[0].trim().toLowerCase());
  const acceptable = types.some(
    (t) => t === '*/*' || t === 'application/*' || t === 'application/json' || t === 'application/fhir+json',
  );
  if (!acceptable) throw notAcceptable(`This server answers in application/fhir+json only; Accept was "${accept}"`);
}

function notAcceptable(diagnostics: string): FhirError {
  return new FhirError(406, issue('error', 'not-supported', diagnostics));
}
