import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4';
import { resourceTypeEntry } from '../fhir/resource-types.js';
import { badRequest, hasErrors, methodNotAllowed, unprocessable, type Issue } from '../outcome.js';
import type { RequestContext } from '../security/context.js';
import type { Precondition, WriteOutcome } from '../store/index.js';
import type { ServiceDeps } from './deps.js';

/** A write's result with the validation warnings that did not stop it. */
export interface WriteResult extends WriteOutcome {
  warnings: Issue[];
}

const CLIENT_ID = /^[A-Za-z0-9\-.]{1,64}$/;

function assertWritable(type: string, method: 'PUT' | 'DELETE'): void {
  if (resourceTypeEntry(type)?.appendOnly) {
    const verb = method === 'PUT' ? 'updated' : 'deleted';
    throw methodNotAllowed(`${type} resources are an audit trail: they cannot be ${verb}`, ['GET', 'POST']);
  }
}

/** The body must be a resource of the URL's type; then it must pass validation. */
async function checkedResource(deps: ServiceDeps, type: string, body: unknown): Promise<{ resource: Resource; warnings: Issue[] }> {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('The body must be a JSON object holding a FHIR resource', 'structure');
  }
  const resourceType = (body as { resourceType?: unknown }).resourceType;
  if (resourceType !== type) {
    throw badRequest(
      `The body's resourceType is ${JSON.stringify(resourceType ?? null)} but the URL is for ${type}`,
      'invalid',
      ['resourceType'],
    );
  }
  const issues = await deps.validator.validate(body);
  if (hasErrors(issues)) throw unprocessable(issues);
  return { resource: body as Resource, warnings: issues };
}

/** A written StructureDefinition is a profile that validation must see at once, on every instance. */
async function noteProfileChange(deps: ServiceDeps, type: string): Promise<void> {
  if (type === 'StructureDefinition') await deps.validator.profilesChanged();
}

/** create: POST [type]. The server picks a random id; any id in the body is ignored. */
export async function createResource(deps: ServiceDeps, ctx: RequestContext, type: string, body: unknown): Promise<WriteResult> {
  const { resource, warnings } = await checkedResource(deps, type, body);
  const id = randomUUID();
  const [outcome] = await deps.store.forRequest(ctx).applyWrites([{ type, id, method: 'POST', resource, precondition: { kind: 'absent' } }]);
  await noteProfileChange(deps, type);
  return { ...outcome, warnings };
}

/** update: PUT [type]/[id], also update-as-create for a new client-chosen id. */
export async function updateResource(
  deps: ServiceDeps,
  ctx: RequestContext,
  type: string,
  id: string,
  body: unknown,
  ifMatchVersion?: number,
): Promise<WriteResult> {
  assertWritable(type, 'PUT');
  if (!CLIENT_ID.test(id)) {
    throw badRequest(`"${id}" is not a valid id: use 1 to 64 letters, digits, "-" and "."`, 'value');
  }
  const bodyId = (body as { id?: unknown } | null)?.id;
  if (typeof body === 'object' && body !== null && bodyId !== id) {
    throw badRequest(
      bodyId === undefined
        ? `The body has no id; it must be "${id}" as in the URL`
        : `The body's id ${JSON.stringify(bodyId)} differs from the URL's id "${id}"`,
      'invalid',
      [`${type}.id`],
    );
  }
  const { resource, warnings } = await checkedResource(deps, type, body);
  const precondition: Precondition =
    ifMatchVersion === undefined ? { kind: 'none' } : { kind: 'version', versionId: ifMatchVersion };
  const [outcome] = await deps.store.forRequest(ctx).applyWrites([{ type, id, method: 'PUT', resource, precondition }]);
  await noteProfileChange(deps, type);
  return { ...outcome, warnings };
}

/** delete: DELETE [type]/[id]. Deleting what is missing or already deleted changes nothing. */
export async function deleteResource(deps: ServiceDeps, ctx: RequestContext, type: string, id: string): Promise<WriteOutcome> {
  assertWritable(type, 'DELETE');
  const [outcome] = await deps.store.forRequest(ctx).applyWrites([{ type, id, method: 'DELETE', precondition: { kind: 'none' } }]);
  if (outcome.changed) await noteProfileChange(deps, type);
  return outcome;
}
