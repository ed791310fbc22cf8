import type { TestServer } from './server.js';
import { FHIR_JSON_HEADERS } from './server.js';

/** Short-hands for the interactions most tests arrange their data with (all over HTTP). */
export async function createResource(s: TestServer, resource: Record<string, unknown>) {
  const response = await s.request({
    method: 'POST',
    url: `${s.base}/${resource.resourceType}`,
    headers: FHIR_JSON_HEADERS,
    payload: resource,
  });
  if (response.statusCode !== 201) throw new Error(`create failed: ${response.statusCode} ${response.body}`);
  return s.json(response);
}

export function putResource(s: TestServer, resource: Record<string, unknown>, headers: Record<string, string> = {}) {
  return s.request({
    method: 'PUT',
    url: `${s.base}/${resource.resourceType}/${resource.id}`,
    headers: { ...FHIR_JSON_HEADERS, ...headers },
    payload: resource,
  });
}

export const patient = (family = 'Chalmers', extra: Record<string, unknown> = {}) => ({
  resourceType: 'Patient',
  name: [{ use: 'official', family, given: ['Peter', 'James'] }],
  gender: 'male',
  birthDate: '1974-12-25',
  ...extra,
});
