import type { OperationOutcome, Parameters, ParametersParameter } from 'fhir/r4';
import { badRequest, issue, outcome, type Issue } from '../outcome.js';
import type { RequestContext } from '../security/context.js';
import type { ValidationPurpose } from '../validation/index.js';
import type { ServiceDeps } from './deps.js';

/**
 * $validate: POST [type]/$validate and POST [type]/[id]/$validate. The body is a Parameters
 * (resource, mode, profile) or the bare resource. Nothing is stored: the answer is the
 * validation report, errors included, as an OperationOutcome.
 */
const MODES = new Set(['create', 'update', 'delete']);

interface ValidateRequest {
  resource?: unknown;
  mode?: string;
  profile?: string;
}

/**
 * Without a mode R4's $validate is general validation ("no action"), as HL7's validator does it:
 * what only the server's storage rules refuse (a reference it could never resolve) is a warning.
 * With mode=create or update the answer is the one the write would get.
 */
export function validationPurpose(mode: string | undefined): ValidationPurpose {
  return mode === undefined ? 'general' : 'store';
}

function parseRequest(body: unknown): ValidateRequest {
  if (typeof body !== 'object' || body === null || Array.isArray(body)) {
    throw badRequest('The body must be a Parameters resource or the resource to validate', 'structure');
  }
  if ((body as { resourceType?: unknown }).resourceType !== 'Parameters') return { resource: body };
  const parameters = ((body as Parameters).parameter ?? []) as ParametersParameter[];
  const named = (name: string) => parameters.find((p) => p.name === name);
  const mode = named('mode');
  const profile = named('profile');
  return {
    resource: named('resource')?.resource,
    mode: mode?.valueCode ?? mode?.valueString,
    profile: profile?.valueUri ?? profile?.valueCanonical ?? profile?.valueString,
  };
}

export async function validateOperation(
  deps: ServiceDeps,
  _ctx: RequestContext,
  type: string,
  id: string | undefined,
  body: unknown,
): Promise<OperationOutcome> {
  const request = parseRequest(body);
  // Without a mode an instance-level call still has its id checked as an update's would be.
  const mode = request.mode ?? (id ? 'update' : 'create');
  if (!MODES.has(mode)) throw badRequest(`mode must be create, update or delete; got "${String(mode).slice(0, 32)}"`, 'value');
  if (mode === 'delete') {
    if (!id) throw badRequest('mode=delete needs the instance: POST [type]/[id]/$validate', 'required');
    const text = `${type}/${id} may be deleted: this server has no rules that forbid it`;
    return outcome([issue('information', 'informational', text)]);
  }
  if (request.resource === undefined) throw badRequest('The Parameters have no "resource" to validate', 'required');
  const issues: Issue[] = [];
  const resourceType = (request.resource as { resourceType?: unknown } | null)?.resourceType;
  if (typeof resourceType === 'string' && resourceType !== type) {
    issues.push(issue('error', 'invalid', `The resource is a ${resourceType.slice(0, 64)} but the URL is for ${type}`, ['resourceType']));
  }
  if (mode === 'update') {
    const bodyId = (request.resource as { id?: unknown }).id;
    if (id !== undefined && bodyId !== id) {
      issues.push(issue('error', 'invalid', `For an update the resource's id must be "${id}" as in the URL`, [`${type}.id`]));
    } else if (bodyId === undefined) {
      issues.push(issue('error', 'required', 'An update needs the resource id', [`${type}.id`]));
    }
  }
  const profiles = request.profile ? [request.profile] : [];
  issues.push(...(await deps.validator.validate(request.resource, { profiles, purpose: validationPurpose(request.mode) })));
  return outcome(issues);
}
