import type { CapabilityStatement, CapabilityStatementRestResource, CapabilityStatementRestResourceSearchParam } from 'fhir/r4';
import type { SearchRegistry } from '../search/index.js';
import type { Config } from '../config.js';
import { RESOURCE_TYPES, type ResourceTypeEntry } from '../fhir/resource-types.js';
import { capabilitySecurity } from './capability-security.js';

type Interaction = NonNullable<CapabilityStatementRestResource['interaction']>[number]['code'];

function interactionsOf(entry: ResourceTypeEntry): Interaction[] {
  const all: Interaction[] = ['read', 'vread', 'create', 'search-type', 'history-instance', 'history-type'];
  if (!entry.appendOnly) all.push('update', 'patch', 'delete');
  return all;
}

/** The software both the CapabilityStatement and the OpenAPI document name. */
export const SOFTWARE = { name: 'fhir-records-server', version: '0.1.0' };

/** Every search parameter of a type, with its type and documentation, for the CapabilityStatement. */
export function capabilitySearchParams(registry: SearchRegistry) {
  return (type: string): CapabilityStatementRestResourceSearchParam[] =>
    registry
      .params(type)
      .filter((p) => p.evaluate || p.code === '_id')
      .map((p) => ({ name: p.code, definition: p.url, type: p.type as CapabilityStatementRestResourceSearchParam['type'], documentation: p.description }));
}

/** GET /metadata, built from the same registry as the routes, so it claims only what they do. */
export function capabilityStatement(
  config: Config,
  searchParams: (type: string) => CapabilityStatementRestResourceSearchParam[] = () => [],
): CapabilityStatement {
  const types = RESOURCE_TYPES.map((entry) => entry.type).join(', ');
  return {
    resourceType: 'CapabilityStatement',
    // A resource should have a narrative (R4 dom-6): what a person reading it first wants to know.
    text: {
      status: 'generated',
      div: `<div xmlns="http://www.w3.org/1999/xhtml"><p>${SOFTWARE.name} ${SOFTWARE.version}: a FHIR R4 server (JSON) for ${types}, ` +
        'with transaction and batch bundles, history and $validate.</p></div>',
    },
    status: 'active',
    date: new Date().toISOString(),
    publisher: SOFTWARE.name,
    kind: 'instance',
    software: SOFTWARE,
    implementation: {
      description: 'FHIR R4 health-records server on MongoDB. JSON only: XML is not supported yet.',
      url: config.baseUrl,
    },
    fhirVersion: '4.0.1',
    // MIME types only: format's binding to MimeType is required, and HL7's validator refuses the short 'json'.
    format: ['application/fhir+json', 'application/json'],
    rest: [
      {
        mode: 'server',
        security: capabilitySecurity(config.auth),
        resource: RESOURCE_TYPES.map((entry) => ({
          type: entry.type as CapabilityStatementRestResource['type'],
          profile: `http://hl7.org/fhir/StructureDefinition/${entry.type}`,
          interaction: interactionsOf(entry).map((code) => ({ code })),
          versioning: 'versioned-update',
          readHistory: true,
          updateCreate: !entry.appendOnly,
          conditionalRead: 'full-support',
          conditionalCreate: true,
          conditionalUpdate: !entry.appendOnly,
          conditionalDelete: entry.appendOnly ? 'not-supported' : config.conditionalDeleteMax > 1 ? 'multiple' : 'single',
          searchInclude: ['*', ...searchParams(entry.type).filter((p) => p.type === 'reference').map((p) => `${entry.type}:${p.name}`)],
          searchParam: searchParams(entry.type),
          ...(entry.appendOnly ? { documentation: 'Append-only audit trail: update and delete answer 405.' } : {}),
        })),
        interaction: [{ code: 'transaction' }, { code: 'batch' }, { code: 'history-system' }, { code: 'search-system' }],
        operation: [{ name: 'validate', definition: 'http://hl7.org/fhir/OperationDefinition/Resource-validate' }],
      },
    ],
  };
}
