import type { TestServer } from './server.js';
import { FHIR_JSON_HEADERS } from './server.js';

/** Creates resources through the API and returns their ids, in order. */
export async function createAll(s: TestServer, resources: Record<string, unknown>[]): Promise<string[]> {
  const ids: string[] = [];
  for (const resource of resources) {
    const type = resource.resourceType as string;
    const id = resource.id as string | undefined;
    const response = await s.request(
      id
        ? { method: 'PUT', url: `/fhir/${type}/${id}`, headers: FHIR_JSON_HEADERS, payload: resource }
        : { method: 'POST', url: `/fhir/${type}`, headers: FHIR_JSON_HEADERS, payload: resource },
    );
    if (response.statusCode >= 300) throw new Error(`create failed ${response.statusCode}: ${response.body}`);
    ids.push(s.json(response).id);
  }
  return ids;
}

/** GET a search and return the bundle (throws on a non-200 unless `status` says otherwise). */
export async function searchBundle(s: TestServer, url: string, headers: Record<string, string> = {}): Promise<any> {
  const response = await s.request({ method: 'GET', url: `/fhir/${url}`, headers });
  if (response.statusCode !== 200) throw new Error(`search ${url} answered ${response.statusCode}: ${response.body}`);
  return s.json(response);
}

/** Ids of the matches of a search, sorted (for set comparisons) unless `ordered`. */
export async function matchIds(s: TestServer, url: string, ordered = false): Promise<string[]> {
  const bundle = await searchBundle(s, url);
  const ids = (bundle.entry ?? []).filter((e: any) => e.search?.mode === 'match').map((e: any) => e.resource.id as string);
  return ordered ? ids : ids.sort();
}
