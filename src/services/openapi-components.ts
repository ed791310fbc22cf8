import type { OpenAPIV3 } from 'openapi-types';

/**
 * The shared parts of the OpenAPI document: schemas, parameters, headers and responses.
 *
 * Resources are described loosely on purpose: each type's schema pins `resourceType` and the
 * elements every resource has (id, meta) and links to the R4 page of the type; its other
 * elements are allowed, not listed. The server validates bodies against the R4 definitions and
 * profiles itself, and the whole FHIR JSON schema (several megabytes) would slow start-up and
 * make the document too large to read in a browser.
 */

export const FHIR_MEDIA = ['application/fhir+json', 'application/json'] as const;

export const ref = (kind: 'schemas' | 'parameters' | 'responses' | 'headers', name: string) => ({ $ref: `#/components/${kind}/${name}` });

/** A body in both JSON media types the server takes and gives. */
export function fhirContent(schema: OpenAPIV3.ReferenceObject | OpenAPIV3.SchemaObject): Record<string, OpenAPIV3.MediaTypeObject> {
  return Object.fromEntries(FHIR_MEDIA.map((media) => [media, { schema }]));
}

const ID = { type: 'string', pattern: '^[A-Za-z0-9\\-.]{1,64}$', description: 'The logical id (given by the server on create)' } as const;

function resourceSchema(type: string, description: string): OpenAPIV3.SchemaObject {
  return {
    type: 'object',
    description,
    externalDocs: { url: `https://hl7.org/fhir/R4/${type.toLowerCase()}.html` },
    required: ['resourceType'],
    properties: { resourceType: { type: 'string', enum: [type] }, id: ID, meta: ref('schemas', 'Meta') },
    additionalProperties: true,
  };
}

const CODING: OpenAPIV3.SchemaObject = {
  type: 'object',
  properties: { system: { type: 'string' }, code: { type: 'string' }, display: { type: 'string' } },
};

const BUNDLE: OpenAPIV3.SchemaObject = {
  ...resourceSchema('Bundle', 'A FHIR R4 Bundle: search results, history, or a batch or transaction and its response.'),
  properties: {
    resourceType: { type: 'string', enum: ['Bundle'] },
    id: ID,
    meta: ref('schemas', 'Meta'),
    type: { type: 'string', enum: ['searchset', 'history', 'batch', 'transaction', 'batch-response', 'transaction-response'] },
    total: { type: 'integer', minimum: 0 },
    link: {
      type: 'array',
      description: 'Paging: `self`, `next` (follow it as it is; its `_cursor` is opaque).',
      items: { type: 'object', properties: { relation: { type: 'string' }, url: { type: 'string' } } },
    },
    entry: {
      type: 'array',
      items: {
        type: 'object',
        properties: {
          fullUrl: { type: 'string' },
          resource: ref('schemas', 'Resource'),
          search: { type: 'object', properties: { mode: { type: 'string', enum: ['match', 'include', 'outcome'] } } },
          request: {
            type: 'object',
            description: 'In a batch or transaction: the interaction of this entry.',
            properties: { method: { type: 'string', enum: ['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE'] }, url: { type: 'string' } },
          },
          response: { type: 'object', properties: { status: { type: 'string' }, location: { type: 'string' }, etag: { type: 'string' } } },
        },
      },
    },
  },
};

const OPERATION_OUTCOME: OpenAPIV3.SchemaObject = {
  ...resourceSchema('OperationOutcome', 'What went wrong (or, for deletes and operations, what was done).'),
  required: ['resourceType', 'issue'],
  properties: {
    resourceType: { type: 'string', enum: ['OperationOutcome'] },
    issue: {
      type: 'array',
      items: {
        type: 'object',
        required: ['severity', 'code'],
        properties: {
          severity: { type: 'string', enum: ['fatal', 'error', 'warning', 'information'] },
          code: { type: 'string', description: 'An IssueType code: invalid, structure, not-found, deleted, conflict, forbidden...' },
          diagnostics: { type: 'string' },
          expression: { type: 'array', items: { type: 'string' } },
        },
      },
    },
  },
};

const JSON_PATCH: OpenAPIV3.SchemaObject = {
  type: 'array',
  description: 'RFC 6902 JSON Patch operations.',
  items: {
    type: 'object',
    required: ['op', 'path'],
    properties: {
      op: { type: 'string', enum: ['add', 'remove', 'replace', 'move', 'copy', 'test'] },
      path: { type: 'string' },
      from: { type: 'string' },
      value: {},
    },
  },
};

export function componentSchemas(types: readonly string[]): Record<string, OpenAPIV3.SchemaObject> {
  const schemas: Record<string, OpenAPIV3.SchemaObject> = {
    Meta: {
      type: 'object',
      description: 'Set by the server: versionId and lastUpdated change on every write.',
      properties: {
        versionId: { type: 'string' },
        lastUpdated: { type: 'string', format: 'date-time' },
        profile: { type: 'array', items: { type: 'string' } },
        security: { type: 'array', items: CODING },
        tag: { type: 'array', items: CODING },
      },
    },
    Resource: {
      type: 'object',
      description: 'Any FHIR R4 resource; `resourceType` says which.',
      required: ['resourceType'],
      properties: { resourceType: { type: 'string' }, id: ID, meta: ref('schemas', 'Meta') },
      additionalProperties: true,
    },
    Bundle: BUNDLE,
    OperationOutcome: OPERATION_OUTCOME,
    CapabilityStatement: resourceSchema('CapabilityStatement', 'What this server does: types, interactions, search parameters, security.'),
    Parameters: resourceSchema('Parameters', 'Operation input, or a FHIRPath Patch (one `operation` parameter per change).'),
    JsonPatch: JSON_PATCH,
  };
  for (const type of types) schemas[type] = resourceSchema(type, `A FHIR R4 ${type}. Its elements are those of the R4 definition (see the link), checked by the server.`);
  return schemas;
}

const header = (name: string, description: string): OpenAPIV3.ParameterObject => ({ name, in: 'header', description, schema: { type: 'string' } });

/** Parameters used by several operations. */
export const COMPONENT_PARAMETERS: Record<string, OpenAPIV3.ParameterObject> = {
  id: { name: 'id', in: 'path', required: true, description: 'Logical id of the resource', schema: ID },
  vid: { name: 'vid', in: 'path', required: true, description: 'Version id (meta.versionId)', schema: { type: 'string', pattern: '^[1-9][0-9]*$' } },
  'If-Match': header('If-Match', 'Update only this version: `W/"3"` (412 when it is not the current one)'),
  'If-None-Match': header('If-None-Match', 'Conditional read: `W/"3"`; 304 when that is still the current version'),
  'If-Modified-Since': header('If-Modified-Since', 'Conditional read: an HTTP date; 304 when not changed since'),
  'If-None-Exist': header('If-None-Exist', 'Conditional create: a search such as `identifier=http://x|1`; a single match is returned instead of creating'),
  Prefer: header('Prefer', '`return=minimal`, `return=representation` (default) or `return=OperationOutcome`; on searches `handling=strict` makes unknown parameters errors'),
  _summary: { name: '_summary', in: 'query', description: 'Return a subset of each resource', schema: { type: 'string', enum: ['true', 'text', 'data', 'count', 'false'] } },
  _elements: { name: '_elements', in: 'query', description: 'Comma-separated top-level elements to return', schema: { type: 'string' } },
  _pretty: { name: '_pretty', in: 'query', description: 'Indent the JSON', schema: { type: 'string', enum: ['true', 'false'] } },
  _format: { name: '_format', in: 'query', description: 'Only JSON is served: `json`, `application/fhir+json`', schema: { type: 'string' } },
  _count: { name: '_count', in: 'query', description: 'Page size (the server caps it at MAX_PAGE_SIZE)', schema: { type: 'integer', minimum: 0 } },
  _sort: { name: '_sort', in: 'query', description: 'Comma-separated parameters to sort by; `-` in front for descending', schema: { type: 'string' } },
  _total: { name: '_total', in: 'query', description: 'Whether Bundle.total is counted', schema: { type: 'string', enum: ['none', 'estimate', 'accurate'] } },
  _include: { name: '_include', in: 'query', description: 'Add referenced resources: `Type:param[:target]` or `*` (`_include:iterate` follows them further)', schema: { type: 'string' } },
  _revinclude: { name: '_revinclude', in: 'query', description: 'Add resources that reference the matches: `Type:param`', schema: { type: 'string' } },
  _cursor: { name: '_cursor', in: 'query', description: 'Paging position, from a Bundle `next` link: opaque, do not build it', schema: { type: 'string' } },
  _since: { name: '_since', in: 'query', description: 'Only versions written at or after this instant', schema: { type: 'string', format: 'date-time' } },
  _at: { name: '_at', in: 'query', description: 'Only versions current at this instant', schema: { type: 'string', format: 'date-time' } },
  _type: { name: '_type', in: 'query', description: 'Comma-separated types to search (all stored types when absent)', schema: { type: 'string' } },
};

export const RESULT_PARAMETERS = ['_count', '_sort', '_total', '_include', '_revinclude', '_summary', '_elements', '_cursor', '_pretty', '_format'];
export const HISTORY_PARAMETERS = ['_count', '_since', '_at', '_cursor', '_pretty', '_format'];

export const COMPONENT_HEADERS: Record<string, OpenAPIV3.HeaderObject> = {
  ETag: { description: 'The version: `W/"<versionId>"`', schema: { type: 'string' } },
  'Last-Modified': { description: 'meta.lastUpdated as an HTTP date', schema: { type: 'string' } },
  Location: { description: '`[base]/[type]/[id]/_history/[vid]` of the version written', schema: { type: 'string' } },
};

const outcomeResponse = (description: string): OpenAPIV3.ResponseObject => ({ description, content: fhirContent(ref('schemas', 'OperationOutcome')) });

/** Error answers: always an OperationOutcome. */
export const COMPONENT_RESPONSES: Record<string, OpenAPIV3.ResponseObject> = {
  Error: outcomeResponse('A client error (bad request, no or wrong token, not permitted, unsupported media type...): the OperationOutcome says why'),
  ServerError: outcomeResponse('A server fault or an unavailable dependency (503: the access could not be audited; retry)'),
  NotFound: outcomeResponse('No such resource, or not visible to the caller'),
  Gone: outcomeResponse('The resource (or this version) was deleted'),
  PreconditionFailed: outcomeResponse('If-Match names another version, or a condition matched more than one resource'),
  Conflict: outcomeResponse('A concurrent write of the same resource won; read it again and retry'),
  NotModified: { description: 'Not modified since the If-None-Match or If-Modified-Since the client sent' },
  OperationOutcome: outcomeResponse('What was done, as an OperationOutcome'),
  Bundle: { description: 'A Bundle', content: fhirContent(ref('schemas', 'Bundle')) },
};
