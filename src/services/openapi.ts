import type { CapabilityStatementRestResourceSearchParam } from 'fhir/r4';
import type { OpenAPIV3 } from 'openapi-types';
import type { Config } from '../config.js';
import { RESOURCE_TYPES, type ResourceTypeEntry } from '../fhir/resource-types.js';
import { patientCompartmentParams } from '../search/index.js';
import { SOFTWARE } from './capabilities.js';
import { capabilitySecurity } from './capability-security.js';
import {
  COMPONENT_HEADERS,
  COMPONENT_PARAMETERS,
  COMPONENT_RESPONSES,
  HISTORY_PARAMETERS,
  RESULT_PARAMETERS,
  componentSchemas,
  fhirContent,
  ref,
} from './openapi-components.js';
import { searchParamKey, searchParameter, sharedParamCodes } from './openapi-search.js';
import { openApiSecurity } from './openapi-security.js';

type SearchParams = (type: string) => CapabilityStatementRestResourceSearchParam[];
type Operation = OpenAPIV3.OperationObject;
type Responses = OpenAPIV3.ResponsesObject;

const SYSTEM_TAG = 'System';

/** Every operation may fail with an OperationOutcome. */
const errors = (extra: Responses = {}): Responses => ({ ...extra, '4XX': ref('responses', 'Error'), '5XX': ref('responses', 'ServerError') });

const params = (...names: string[]) => names.map((name) => ref('parameters', name));

function resourceResponse(type: string, description: string, headers: string[]): OpenAPIV3.ResponseObject {
  return {
    description,
    headers: Object.fromEntries(headers.map((name) => [name, ref('headers', name)])),
    content: fhirContent(ref('schemas', type)),
  };
}

const resourceBody = (type: string): OpenAPIV3.RequestBodyObject => ({ required: true, content: fhirContent(ref('schemas', type)) });

const patchBody: OpenAPIV3.RequestBodyObject = {
  required: true,
  description: 'A JSON Patch (`application/json-patch+json`) or a FHIRPath Patch (a Parameters resource).',
  content: { 'application/json-patch+json': { schema: ref('schemas', 'JsonPatch') }, ...fhirContent(ref('schemas', 'Parameters')) },
};

const writeResponses = (type: string, created: boolean): Responses =>
  errors({
    '200': resourceResponse(type, 'Updated (the body follows Prefer: return=...)', ['ETag', 'Last-Modified', 'Location']),
    ...(created ? { '201': resourceResponse(type, 'Created', ['ETag', 'Last-Modified', 'Location']) } : {}),
    '409': ref('responses', 'Conflict'),
    '412': ref('responses', 'PreconditionFailed'),
  });

/** The operations of one stored type, keyed by path. */
function typePaths(entry: ResourceTypeEntry, searchParams: SearchParams, config: Config): Record<string, OpenAPIV3.PathItemObject> {
  const { type, appendOnly } = entry;
  const tags = [type];
  const search = searchParams(type).map((p) => ref('parameters', searchParamKey(type, p.name)));
  const searchAll = [...search, ...params(...RESULT_PARAMETERS, 'Prefer')];
  const writable = !appendOnly;
  const conditionNote = 'The search parameters in the query select the resource, as a search of this type would.';

  const paths: Record<string, OpenAPIV3.PathItemObject> = {};
  paths[`/${type}`] = {
    get: { tags, operationId: `search${type}`, summary: `Search ${type}`, parameters: searchAll, responses: errors({ '200': ref('responses', 'Bundle') }) },
    post: {
      tags,
      operationId: `create${type}`,
      summary: `Create a ${type}`,
      description: 'The server assigns the id. With If-None-Exist it creates only when no resource matches that search (one match: 200 with it; more: 412).',
      parameters: params('If-None-Exist', 'Prefer'),
      requestBody: resourceBody(type),
      responses: writeResponses(type, true),
    },
    ...(writable
      ? {
          put: {
            tags,
            operationId: `conditionalUpdate${type}`,
            summary: `Update the ${type} a search selects (conditional update)`,
            description: `${conditionNote} No match creates, one match is updated, several answer 412.`,
            parameters: [...search, ...params('If-Match', 'Prefer')],
            requestBody: resourceBody(type),
            responses: writeResponses(type, true),
          },
          patch: {
            tags,
            operationId: `conditionalPatch${type}`,
            summary: `Patch the ${type} a search selects (conditional patch)`,
            description: `${conditionNote} Exactly one must match.`,
            parameters: [...search, ...params('If-Match', 'Prefer')],
            requestBody: patchBody,
            responses: writeResponses(type, false),
          },
          delete: {
            tags,
            operationId: `conditionalDelete${type}`,
            summary: `Delete the ${type} resources a search selects (conditional delete)`,
            description: `${conditionNote} At most CONDITIONAL_DELETE_MAX (${config.conditionalDeleteMax}) may match; more answer 412.`,
            parameters: search,
            responses: errors({ '200': ref('responses', 'OperationOutcome'), '412': ref('responses', 'PreconditionFailed') }),
          },
        }
      : {}),
  };
  paths[`/${type}/_search`] = {
    post: {
      tags,
      operationId: `search${type}Post`,
      summary: `Search ${type} with the parameters in a form body`,
      description: `The parameters of GET /${type}, form-encoded in the body (and possibly in the URL too): keeps them out of URLs and logs.`,
      parameters: params('Prefer'),
      requestBody: {
        required: true,
        content: { 'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: { type: 'string' } } } },
      },
      responses: errors({ '200': ref('responses', 'Bundle') }),
    },
  };
  paths[`/${type}/_history`] = {
    get: { tags, operationId: `history${type}Type`, summary: `History of all ${type} resources`, parameters: params(...HISTORY_PARAMETERS), responses: errors({ '200': ref('responses', 'Bundle') }) },
  };
  paths[`/${type}/$validate`] = {
    post: {
      tags,
      operationId: `validate${type}`,
      summary: `Validate a ${type} without storing it ($validate)`,
      requestBody: { required: true, description: 'The resource, or Parameters with `resource` (and `mode`, `profile`).', content: fhirContent(ref('schemas', 'Resource')) },
      responses: errors({ '200': ref('responses', 'OperationOutcome') }),
    },
  };
  paths[`/${type}/$reindex`] = {
    post: {
      tags,
      operationId: `reindex${type}`,
      summary: `Extract the search values of every ${type} again ($reindex)`,
      description: 'After SearchParameters were added or changed: stored resources become searchable by them.',
      responses: errors({ '200': ref('responses', 'OperationOutcome') }),
    },
  };
  const read: Operation = {
    tags,
    operationId: `read${type}`,
    summary: `Read a ${type}`,
    parameters: params('If-None-Match', 'If-Modified-Since', '_summary', '_elements', '_pretty', '_format'),
    responses: errors({
      '200': resourceResponse(type, `The current version of the ${type}`, ['ETag', 'Last-Modified']),
      '304': ref('responses', 'NotModified'),
      '404': ref('responses', 'NotFound'),
      '410': ref('responses', 'Gone'),
    }),
  };
  paths[`/${type}/{id}`] = {
    parameters: params('id'),
    get: read,
    ...(writable
      ? {
          put: {
            tags,
            operationId: `update${type}`,
            summary: `Update a ${type} (or create it under this id)`,
            description: 'The body\'s id must be the id in the URL. With If-Match only that version is replaced (version-aware update).',
            parameters: params('If-Match', 'Prefer'),
            requestBody: resourceBody(type),
            responses: writeResponses(type, true),
          },
          patch: {
            tags,
            operationId: `patch${type}`,
            summary: `Patch a ${type}`,
            parameters: params('If-Match', 'Prefer'),
            requestBody: patchBody,
            responses: { ...writeResponses(type, false), '404': ref('responses', 'NotFound'), '410': ref('responses', 'Gone') },
          },
          delete: {
            tags,
            operationId: `delete${type}`,
            summary: `Delete a ${type}`,
            description: 'Its history stays readable. Deleting what does not exist is not an error.',
            parameters: params('If-Match'),
            responses: errors({ '200': ref('responses', 'OperationOutcome'), '412': ref('responses', 'PreconditionFailed') }),
          },
        }
      : {}),
  };
  paths[`/${type}/{id}/_history`] = {
    parameters: params('id'),
    get: { tags, operationId: `history${type}Instance`, summary: `History of one ${type}`, parameters: params(...HISTORY_PARAMETERS), responses: errors({ '200': ref('responses', 'Bundle') }) },
  };
  paths[`/${type}/{id}/_history/{vid}`] = {
    parameters: params('id', 'vid'),
    get: {
      ...read,
      operationId: `vread${type}`,
      summary: `Read one version of a ${type} (vread)`,
      responses: errors({
        '200': resourceResponse(type, 'That version', ['ETag', 'Last-Modified']),
        '304': ref('responses', 'NotModified'),
        '404': ref('responses', 'NotFound'),
        '410': ref('responses', 'Gone'),
      }),
    },
  };
  paths[`/${type}/{id}/$validate`] = {
    parameters: params('id'),
    post: {
      tags,
      operationId: `validate${type}Instance`,
      summary: `Validate a change to this ${type} ($validate)`,
      description: 'Parameters with `mode` = update (the body is the new version) or delete.',
      requestBody: { required: true, content: fhirContent(ref('schemas', 'Resource')) },
      responses: errors({ '200': ref('responses', 'OperationOutcome') }),
    },
  };
  return paths;
}

/** Patient/{id}/[type]: the stored types in the Patient compartment. */
function compartmentPaths(searchParams: SearchParams): Record<string, OpenAPIV3.PathItemObject> {
  const paths: Record<string, OpenAPIV3.PathItemObject> = {};
  for (const { type } of RESOURCE_TYPES) {
    if (type !== 'Patient' && !patientCompartmentParams(type)) continue;
    paths[`/Patient/{id}/${type}`] = {
      parameters: params('id'),
      get: {
        tags: ['Patient'],
        operationId: `searchPatientCompartment${type}`,
        summary: `Search ${type} in a patient's compartment`,
        description: `The ${type} resources that belong to the patient (by the R4 Patient CompartmentDefinition), with the parameters of GET /${type}.`,
        parameters: [...searchParams(type).map((p) => ref('parameters', searchParamKey(type, p.name))), ...params(...RESULT_PARAMETERS)],
        responses: errors({ '200': ref('responses', 'Bundle') }),
      },
    };
  }
  return paths;
}

function systemPaths(config: Config, searchParams: SearchParams): Record<string, OpenAPIV3.PathItemObject> {
  const tags = [SYSTEM_TAG];
  const types = RESOURCE_TYPES.map((entry) => entry.type);
  // A system search takes the parameters all types share, declared once here as the first type's.
  const shared = sharedParamCodes(types, searchParams).map((code) => ref('parameters', searchParamKey(types[0], code)));
  const paths: Record<string, OpenAPIV3.PathItemObject> = {
    '/': {
      get: {
        tags,
        operationId: 'searchSystem',
        summary: 'Search all stored types',
        parameters: [...params('_type'), ...shared, ...params(...RESULT_PARAMETERS, 'Prefer')],
        responses: errors({ '200': ref('responses', 'Bundle') }),
      },
      post: {
        tags,
        operationId: 'batchOrTransaction',
        summary: 'Process a batch or transaction Bundle',
        description:
          'A transaction applies all its entries or none (409 on a lasting conflict); a batch applies each on its own. ' +
          `At most BUNDLE_MAX_ENTRIES (${config.bundleMaxEntries}) entries.`,
        parameters: params('Prefer'),
        requestBody: { required: true, content: fhirContent(ref('schemas', 'Bundle')) },
        responses: errors({ '200': ref('responses', 'Bundle'), '409': ref('responses', 'Conflict') }),
      },
    },
    '/_history': {
      get: { tags, operationId: 'historySystem', summary: 'History of all stored resources', parameters: params(...HISTORY_PARAMETERS), responses: errors({ '200': ref('responses', 'Bundle') }) },
    },
    '/metadata': {
      get: {
        tags,
        operationId: 'capabilities',
        summary: 'The CapabilityStatement',
        security: [],
        responses: errors({ '200': { description: 'What this server does', content: fhirContent(ref('schemas', 'CapabilityStatement')) } }),
      },
    },
    '/$reindex': {
      post: {
        tags,
        operationId: 'reindexSystem',
        summary: 'Extract the search values of every stored resource again ($reindex)',
        responses: errors({ '200': ref('responses', 'OperationOutcome') }),
      },
    },
  };
  if (config.auth.issuer) {
    paths['/.well-known/smart-configuration'] = {
      get: {
        tags,
        operationId: 'smartConfiguration',
        summary: 'SMART App Launch discovery',
        security: [],
        responses: errors({ '200': { description: 'The SMART configuration', content: { 'application/json': { schema: { type: 'object' } } } } }),
      },
    };
  }
  return paths;
}

/** Every type's search parameters as components, so search, conditional and compartment operations share them. */
function searchParamComponents(searchParams: SearchParams): Record<string, OpenAPIV3.ParameterObject> {
  const components: Record<string, OpenAPIV3.ParameterObject> = {};
  for (const { type } of RESOURCE_TYPES) {
    for (const param of searchParams(type)) components[searchParamKey(type, param.name)] = searchParameter(type, param);
  }
  return components;
}

/**
 * The OpenAPI 3.0 document of the FHIR API, built from the same registry as the routes and the
 * CapabilityStatement (resource types, their interactions, the search parameters of the
 * SearchRegistry, custom ones included, and the AUTH_* settings).
 */
export function openApiDocument(config: Config, searchParams: SearchParams): OpenAPIV3.Document {
  const security = openApiSecurity(config.auth);
  const types = RESOURCE_TYPES.map((entry) => entry.type);
  return {
    openapi: '3.0.3',
    info: {
      title: 'FHIR R4 API',
      version: SOFTWARE.version,
      description:
        `The FHIR R4 REST API of ${SOFTWARE.name}. JSON only (application/fhir+json). ` +
        `The CapabilityStatement at [base]/metadata says the same in FHIR's terms.\n\n${capabilitySecurity(config.auth).description}`,
    },
    externalDocs: { description: 'FHIR R4 RESTful API', url: 'https://hl7.org/fhir/R4/http.html' },
    servers: [{ url: config.baseUrl }],
    tags: [
      { name: SYSTEM_TAG, description: 'Whole-server interactions: capabilities, batch and transaction, system search and history' },
      ...RESOURCE_TYPES.map(({ type, appendOnly }) => ({
        name: type,
        description: `${type} resources${appendOnly ? ' (append-only: no update, patch or delete)' : ''}`,
        externalDocs: { url: `https://hl7.org/fhir/R4/${type.toLowerCase()}.html` },
      })),
    ],
    security: security.requirement,
    paths: Object.assign(
      {},
      systemPaths(config, searchParams),
      ...RESOURCE_TYPES.map((entry) => typePaths(entry, searchParams, config)),
      compartmentPaths(searchParams),
    ),
    components: {
      schemas: componentSchemas(types),
      parameters: { ...COMPONENT_PARAMETERS, ...searchParamComponents(searchParams) },
      headers: COMPONENT_HEADERS,
      responses: COMPONENT_RESPONSES,
      ...(Object.keys(security.schemes).length > 0 ? { securitySchemes: security.schemes } : {}),
    },
  };
}
