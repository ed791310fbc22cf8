import { randomUUID } from 'node:crypto';
import type { Resource } from 'fhir/r4';
import { resourceTypeEntry } from '../fhir/resource-types.js';
import { badRequest, hasErrors, methodNotAllowed, preconditionFailed, unprocessable, type Issue } from '../outcome.js';
import type { QueryEntries } from '../search/index.js';
import type { RequestContext } from '../security/context.js';
import type { PlannedWrite, Precondition, StoredVersion, WriteOutcome } from '../store/index.js';
import { afterCommit, commitWrites } from './commit.js';
import { conditionEntries, conditionKey, findConditionMatches } from './conditional.js';
import type { ServiceDeps } from './deps.js';

/** A write's result with the validation warnings that did not stop it. */
export interface WriteResult extends WriteOutcome {
  warnings: Issue[];
}

/**
 * What a write interaction wants done, decided before anything is written: the writes (none
 * when a conditional create found its resource), and what the answer needs besides their outcomes.
 */
export interface WritePlan {
  writes: PlannedWrite[];
  warnings: Issue[];
  /** A conditional create's match: nothing is written, the answer is this resource (200). */
  existing?: StoredVersion;
}

const CLIENT_ID = /^[A-Za-z0-9\-.]{1,64}$/;

export function assertWritable(type: string, method: 'PUT' | 'DELETE' | 'PATCH'): void {
  if (resourceTypeEntry(type)?.appendOnly) {
    const verb = method === 'DELETE' ? 'deleted' : 'updated';
    throw methodNotAllowed(`${type} resources are an audit trail: they cannot be ${verb}`, ['GET', 'POST']);
  }
}

export function assertClientId(id: string): void {
  if (!CLIENT_ID.test(id)) {
    throw badRequest(`"${id.slice(0, 80)}" is not a valid id: use 1 to 64 letters, digits, "-" and "."`, 'value');
  }
}

/** The body must be a resource of the URL's type; then it must pass validation. */
export async function checkedResource(deps: ServiceDeps, type: string, body: unknown): Promise<{ resource: Resource; warnings: Issue[] }> {
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

/** A written StructureDefinition is a profile that validation must see at once, on every instance: after the commit. */
export async function noteProfileChange(deps: ServiceDeps, ctx: RequestContext, type: string): Promise<void> {
  if (type === 'StructureDefinition') await afterCommit(ctx, () => deps.validator.profilesChanged());
}

/** Applies a plan through the request store and shapes the answer of its first write. */
export async function applyPlan(deps: ServiceDeps, ctx: RequestContext, type: string, plan: WritePlan): Promise<WriteResult> {
  if (plan.existing) return { version: plan.existing, created: false, changed: false, warnings: plan.warnings };
  const [outcome] = await deps.store.forRequest(ctx).applyWrites(plan.writes);
  if (outcome.changed) await noteProfileChange(deps, ctx, type);
  return { ...outcome, warnings: plan.warnings };
}

// ---- create -----------------------------------------------------------------------------

export interface CreateOptions {
  /** The id to create under (a transaction bundle assigns ids first); a random one otherwise. */
  id?: string;
  /** If-None-Exist: the query string of the conditional create. */
  ifNoneExist?: string;
}

/**
 * Plans create: POST [type]. Any id in the body is ignored. With If-None-Exist: no match
 * creates, one match answers it (nothing written), several are 412.
 */
export async function planCreate(deps: ServiceDeps, ctx: RequestContext, type: string, body: unknown, options: CreateOptions = {}): Promise<WritePlan> {
  if (options.ifNoneExist !== undefined) {
    const existing = await resolveConditionalCreate(deps, ctx, type, options.ifNoneExist);
    if (existing) return { writes: [], warnings: [], existing };
  }
  const { resource, warnings } = await checkedResource(deps, type, body);
  const id = options.id ?? randomUUID();
  return { writes: [{ type, id, method: 'POST', resource, precondition: { kind: 'absent' } }], warnings };
}

/**
 * The match of a conditional create's If-None-Exist (undefined: none, so create), taking the
 * condition's lock first when in a transaction; several matches are 412.
 */
export async function resolveConditionalCreate(deps: ServiceDeps, ctx: RequestContext, type: string, ifNoneExist: string): Promise<StoredVersion | undefined> {
  const entries = conditionEntries(ifNoneExist);
  await deps.store.forRequest(ctx).lockCondition(conditionKey(type, entries));
  const matches = await findConditionMatches(deps.search, ctx, type, entries, 2);
  if (matches.length > 1) throw preconditionFailed(`If-None-Exist matches more than one ${type}: make the condition more selective`);
  return matches[0];
}

/** create: POST [type], conditional with If-None-Exist (in a transaction, so two at once make one). */
export function createResource(deps: ServiceDeps, ctx: RequestContext, type: string, body: unknown, options: CreateOptions = {}): Promise<WriteResult> {
  return commitWrites(deps, ctx, { transaction: options.ifNoneExist !== undefined }, async (c) =>
    applyPlan(deps, c, type, await planCreate(deps, c, type, body, options)));
}

// ---- update -----------------------------------------------------------------------------

function checkBodyId(type: string, id: string, body: unknown): void {
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
}

const preconditionOf = (ifMatchVersion: number | undefined): Precondition =>
  ifMatchVersion === undefined ? { kind: 'none' } : { kind: 'version', versionId: ifMatchVersion };

/** Plans update: PUT [type]/[id], also update-as-create for a new client-chosen id. */
export async function planUpdate(deps: ServiceDeps, _ctx: RequestContext, type: string, id: string, body: unknown, ifMatchVersion?: number): Promise<WritePlan> {
  assertWritable(type, 'PUT');
  assertClientId(id);
  checkBodyId(type, id, body);
  const { resource, warnings } = await checkedResource(deps, type, body);
  return { writes: [{ type, id, method: 'PUT', resource, precondition: preconditionOf(ifMatchVersion) }], warnings };
}

export function updateResource(deps: ServiceDeps, ctx: RequestContext, type: string, id: string, body: unknown, ifMatchVersion?: number): Promise<WriteResult> {
  return commitWrites(deps, ctx, { transaction: false }, async (c) =>
    applyPlan(deps, c, type, await planUpdate(deps, c, type, id, body, ifMatchVersion)));
}

/**
 * Plans conditional update: PUT [type]?search. No match: create (under the body's id if it
 * has one, else a new one); one match: update it (the body's id, if any, must be its id);
 * several: 412.
 */
export async function planConditionalUpdate(deps: ServiceDeps, ctx: RequestContext, type: string, query: string, body: unknown, ifMatchVersion?: number): Promise<WritePlan> {
  assertWritable(type, 'PUT');
  const match = await resolveConditionalUpdate(deps, ctx, type, query);
  return planResolvedUpdate(deps, ctx, type, match, body, ifMatchVersion);
}

/** The one match of a conditional update's search (undefined: none), under its lock; several are 412. */
export async function resolveConditionalUpdate(deps: ServiceDeps, ctx: RequestContext, type: string, query: string): Promise<StoredVersion | undefined> {
  const entries = conditionEntries(query);
  await deps.store.forRequest(ctx).lockCondition(conditionKey(type, entries));
  const matches = await findConditionMatches(deps.search, ctx, type, entries, 2);
  if (matches.length > 1) throw preconditionFailed(`The conditional update matches more than one ${type}: make the condition more selective`);
  return matches[0];
}

/** A conditional update once its match is known: update it, or create (under `newId` unless the body has an id). */
export async function planResolvedUpdate(deps: ServiceDeps, ctx: RequestContext, type: string, match: StoredVersion | undefined, body: unknown, ifMatchVersion?: number, newId?: string): Promise<WritePlan> {
  const bodyId = (body as { id?: unknown } | null)?.id;
  if (match) {
    if (bodyId !== undefined && bodyId !== match.id) {
      throw badRequest(`The body's id ${JSON.stringify(bodyId)} is not the id of the ${type} the condition matches (${match.id})`, 'invalid', [`${type}.id`]);
    }
    const withId = typeof body === 'object' && body !== null ? { ...body, id: match.id } : body;
    return planUpdate(deps, ctx, type, match.id, withId, ifMatchVersion);
  }
  if (typeof bodyId === 'string') return planUpdate(deps, ctx, type, bodyId, body, ifMatchVersion);
  return planCreate(deps, ctx, type, body, { id: newId });
}

/** conditional update: PUT [type]?search (in a transaction, so two at once make one). */
export function conditionalUpdate(deps: ServiceDeps, ctx: RequestContext, type: string, query: string, body: unknown, ifMatchVersion?: number): Promise<WriteResult> {
  return commitWrites(deps, ctx, { transaction: true }, async (c) =>
    applyPlan(deps, c, type, await planConditionalUpdate(deps, c, type, query, body, ifMatchVersion)));
}

// ---- delete -----------------------------------------------------------------------------

/** Plans delete: DELETE [type]/[id]. Deleting what is missing or already deleted changes nothing. */
export function planDelete(type: string, id: string, ifMatchVersion?: number): PlannedWrite[] {
  assertWritable(type, 'DELETE');
  return [{ type, id, method: 'DELETE', precondition: preconditionOf(ifMatchVersion) }];
}

export function deleteResource(deps: ServiceDeps, ctx: RequestContext, type: string, id: string, ifMatchVersion?: number): Promise<WriteOutcome> {
  return commitWrites(deps, ctx, { transaction: false }, async (c) => {
    const [outcome] = await deps.store.forRequest(c).applyWrites(planDelete(type, id, ifMatchVersion));
    if (outcome.changed) await noteProfileChange(deps, c, type);
    return outcome;
  });
}

/**
 * Plans conditional delete: DELETE [type]?search. No match deletes nothing; one match is
 * deleted; several are deleted when CONDITIONAL_DELETE_MAX allows that many, else 412.
 */
export async function planConditionalDelete(deps: ServiceDeps, ctx: RequestContext, type: string, query: string): Promise<PlannedWrite[]> {
  assertWritable(type, 'DELETE');
  const entries: QueryEntries = conditionEntries(query);
  const max = deps.config.conditionalDeleteMax;
  const matches = await findConditionMatches(deps.search, ctx, type, entries, max + 1);
  if (matches.length > max) {
    throw preconditionFailed(
      max === 1
        ? `The conditional delete matches more than one ${type}: make the condition more selective`
        : `The conditional delete matches more than ${max} ${type} resources, the most this server deletes at once`,
    );
  }
  return matches.map((m) => ({ type, id: m.id, method: 'DELETE' as const, precondition: { kind: 'version' as const, versionId: m.versionId } }));
}

/** conditional delete: all matches deleted together (in a transaction when there is more than one to delete). */
export function conditionalDelete(deps: ServiceDeps, ctx: RequestContext, type: string, query: string): Promise<WriteOutcome[]> {
  return commitWrites(deps, ctx, { transaction: deps.config.conditionalDeleteMax > 1 }, async (c) => {
    const outcomes = await deps.store.forRequest(c).applyWrites(await planConditionalDelete(deps, c, type, query));
    if (outcomes.some((o) => o.changed)) await noteProfileChange(deps, c, type);
    return outcomes;
  });
}
