import type { Binary, Parameters, Resource } from 'fhir/r4';
import jsonPatch, { type JsonPatchError, type Operation } from 'fast-json-patch';
import { FhirError, badRequest, gone, issue, notFound } from '../outcome.js';
import type { RequestContext } from '../security/context.js';
import { WriteRace, type StoredVersion } from '../store/index.js';
import { commitWrites } from './commit.js';
import { conditionEntries, findConditionMatches } from './conditional.js';
import type { ServiceDeps } from './deps.js';
import { applyFhirPathPatch } from './patch-fhirpath.js';
import { applyPlan, assertWritable, planUpdate, type WritePlan, type WriteResult } from './write.js';

/** A patch document: RFC 6902 JSON Patch operations, or a FHIRPath Patch Parameters resource. */
export type PatchDocument = { format: 'json-patch'; operations: Operation[] } | { format: 'fhirpath'; parameters: Parameters };

export const JSON_PATCH = 'application/json-patch+json';

/** Object keys MongoDB would read as operators or paths, and prototype keys: refused in what a patch adds. */
function assertSafeKeys(value: unknown): void {
  if (Array.isArray(value)) return value.forEach(assertSafeKeys);
  if (!value || typeof value !== 'object') return;
  for (const [key, child] of Object.entries(value)) {
    if (key.startsWith('$') || key.includes('.') || key === '__proto__' || key === 'constructor') {
      throw badRequest(`"${key.slice(0, 64)}" is not a FHIR element name`, 'structure');
    }
    assertSafeKeys(child);
  }
}

function jsonPatchOf(value: unknown): PatchDocument {
  if (!Array.isArray(value)) throw badRequest('A JSON Patch is an array of operations (RFC 6902)', 'structure');
  return { format: 'json-patch', operations: value as Operation[] };
}

/** The patch of a PATCH request from its content type and parsed body. */
export function patchFromRequest(contentType: string | undefined, body: unknown): PatchDocument {
  const media = (contentType ?? '').split(';')[0].trim().toLowerCase();
  if (media === JSON_PATCH) return jsonPatchOf(body);
  if ((body as { resourceType?: unknown } | null)?.resourceType === 'Parameters') return { format: 'fhirpath', parameters: body as Parameters };
  throw new FhirError(415, issue('error', 'not-supported', `PATCH takes a JSON Patch (${JSON_PATCH}) or a FHIRPath Patch (a Parameters resource as application/fhir+json)`));
}

/** The patch of a bundle entry: a Binary holding a JSON Patch, or a Parameters resource. */
export function patchFromEntry(resource: Resource | undefined): PatchDocument {
  if (resource?.resourceType === 'Parameters') return { format: 'fhirpath', parameters: resource as Parameters };
  if (resource?.resourceType === 'Binary') {
    const binary = resource as Binary;
    if ((binary.contentType ?? '').split(';')[0].trim().toLowerCase() !== JSON_PATCH) {
      throw badRequest(`A PATCH entry's Binary must have contentType ${JSON_PATCH}`, 'not-supported', ['Binary.contentType']);
    }
    let operations: unknown;
    try {
      operations = JSON.parse(Buffer.from(binary.data ?? '', 'base64').toString('utf8'));
    } catch {
      throw badRequest('The Binary data of a PATCH entry is not base64 of a JSON Patch document', 'structure', ['Binary.data']);
    }
    return jsonPatchOf(operations);
  }
  throw badRequest('A PATCH entry needs a resource: a Binary with a JSON Patch or a Parameters with a FHIRPath Patch', 'required', ['resource']);
}

const JSON_PATCH_ERRORS: Record<string, string> = {
  TEST_OPERATION_FAILED: 'a "test" operation failed',
  OPERATION_PATH_UNRESOLVABLE: 'a path does not exist in the resource',
  OPERATION_FROM_UNRESOLVABLE: 'a "from" path does not exist in the resource',
  OPERATION_PATH_ILLEGAL_ARRAY_INDEX: 'a path has an invalid list index',
  OPERATION_VALUE_OUT_OF_BOUNDS: 'a list index is beyond the end of the list',
};

function applyJsonPatch(resource: Resource, operations: Operation[]): Resource {
  assertSafeKeys(operations);
  const problem = jsonPatch.validate(operations, resource);
  const fail = (error: JsonPatchError) => {
    const known = JSON_PATCH_ERRORS[error.name];
    if (!known) throw badRequest(`The JSON Patch is malformed: ${error.message.split('\n')[0].slice(0, 200)}`, 'structure');
    const at = error.operation ? ` (operation ${(error.index ?? 0) + 1}: ${error.operation.op} ${error.operation.path})` : '';
    throw new FhirError(422, issue('error', 'processing', `The JSON Patch cannot be applied: ${known}${at}`));
  };
  if (problem) fail(problem);
  try {
    return withoutEmptyValues(jsonPatch.applyPatch(structuredClone(resource), operations, true, true).newDocument);
  } catch (error) {
    if (error instanceof jsonPatch.JsonPatchError) fail(error);
    throw error;
  }
}

/**
 * Drops the lists and objects a JSON Patch left empty (removing a patient's only name leaves
 * `name: []`), as FHIRPath Patch's delete does: FHIR JSON never holds an empty list or object,
 * and the element is then simply absent (HAPI's parser drops them the same way).
 */
function withoutEmptyValues<T>(value: T): T {
  if (Array.isArray(value)) {
    for (let i = value.length - 1; i >= 0; i--) {
      withoutEmptyValues(value[i]);
      if (isEmpty(value[i])) value.splice(i, 1);
    }
  } else if (value !== null && typeof value === 'object') {
    const record = value as Record<string, unknown>;
    for (const key of Object.keys(record)) {
      withoutEmptyValues(record[key]);
      if (isEmpty(record[key])) delete record[key];
    }
  }
  return value;
}

function isEmpty(value: unknown): boolean {
  return value !== null && typeof value === 'object' && Object.keys(value).length === 0;
}

/** The current resource with the patch applied; it must keep its type and id. */
export function patched(current: StoredVersion, patch: PatchDocument): Resource {
  const resource = current.resource!;
  const result = patch.format === 'json-patch' ? applyJsonPatch(resource, patch.operations) : applyFhirPathPatch(resource, patch.parameters);
  assertSafeKeys(result);
  if (result?.resourceType !== resource.resourceType || result.id !== resource.id) {
    throw new FhirError(422, issue('error', 'processing', 'A patch must not change the resource type or id'));
  }
  return result;
}

/**
 * Plans patch: PATCH [type]/[id]. The patch applies to the current version, and the result is
 * validated and written like an update on the condition that the version is still the one
 * patched (If-Match must name it, when given): a concurrent change is a race, planned again.
 */
export async function planPatch(deps: ServiceDeps, ctx: RequestContext, type: string, id: string, patch: PatchDocument, ifMatchVersion?: number): Promise<WritePlan> {
  assertWritable(type, 'PATCH');
  const current = await deps.store.forRequest(ctx).readCurrent(type, id);
  if (!current) throw notFound(`${type}/${id} is not known`);
  if (current.deleted) throw gone(`${type}/${id} was deleted (version ${current.versionId})`);
  if (ifMatchVersion !== undefined && ifMatchVersion !== current.versionId) {
    throw new FhirError(412, issue('error', 'conflict', `If-Match asked for version ${ifMatchVersion} of ${type}/${id}, but the server has version ${current.versionId}`));
  }
  return planUpdate(deps, ctx, type, id, patched(current, patch), current.versionId);
}

/** The one match of a conditional patch (PATCH [type]?search): none is 404, several 412. */
export async function resolveConditionalPatch(deps: ServiceDeps, ctx: RequestContext, type: string, query: string): Promise<string> {
  const matches = await findConditionMatches(deps.search, ctx, type, conditionEntries(query), 2);
  if (matches.length === 0) throw notFound(`No ${type} matches the conditional patch's search`);
  if (matches.length > 1) throw new FhirError(412, issue('error', 'conflict', `The conditional patch matches more than one ${type}: make the condition more selective`));
  return matches[0].id;
}

/**
 * patch: PATCH [type]/[id] or PATCH [type]?search. Without If-Match, a concurrent change of the
 * resource makes the patch apply again to the newer version; with it, the answer is 412.
 */
export function patchResource(
  deps: ServiceDeps,
  ctx: RequestContext,
  type: string,
  target: { id: string } | { query: string },
  patch: PatchDocument,
  ifMatchVersion?: number,
): Promise<WriteResult> {
  return commitWrites(deps, ctx, { transaction: false }, async (c) => {
    const id = 'id' in target ? target.id : await resolveConditionalPatch(deps, c, type, target.query);
    try {
      return await applyPlan(deps, c, type, await planPatch(deps, c, type, id, patch, ifMatchVersion));
    } catch (error) {
      // The version patched was replaced meanwhile: without If-Match, patch the new one.
      if (ifMatchVersion === undefined && error instanceof FhirError && error.status === 412 && !c.transaction) throw new WriteRace(type, id);
      throw error;
    }
  });
}
