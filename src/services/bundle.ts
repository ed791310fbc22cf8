import { randomUUID } from 'node:crypto';
import type { Bundle, BundleEntry, Resource } from 'fhir/r4';
import { isStoredType } from '../fhir/resource-types.js';
import { FhirError, badRequest, issue, preconditionFailed } from '../outcome.js';
import { newRequestAudit, type EntryAudit } from '../security/audit-facts.js';
import type { RequestContext } from '../security/context.js';
import { RefusedWrite, WriteRace, transactionsUnavailable, type PlannedWrite, type StoredVersion } from '../store/index.js';
import {
  batchWriteEntry,
  deleteEntry,
  errorEntry,
  readEntry,
  statusOf,
  writeEntry,
  type ReturnPreference,
} from './bundle-entry.js';
import { conditionalReferences, rewriteReferences, type IdMap } from './bundle-references.js';
import { interactionCode, parseEntryRequest, processingRank, type EntryRequest } from './bundle-request.js';
import { conditionEntries, findConditionMatches } from './conditional.js';
import type { ServiceDeps } from './deps.js';
import { patchFromEntry, planPatch, resolveConditionalPatch } from './patch.js';
import {
  noteProfileChange,
  planConditionalDelete,
  planCreate,
  planDelete,
  planResolvedUpdate,
  planUpdate,
  resolveConditionalCreate,
  resolveConditionalUpdate,
  type WritePlan,
} from './write.js';

export type { ReturnPreference } from './bundle-entry.js';

/**
 * POST [base] with a Bundle of type batch or transaction (http.html#transaction). Each entry
 * runs through the same service functions as its route, with the request's context (its access
 * applies to each entry as it would outside the bundle); each gets its own AuditEvent
 * (`ctx.audit.entries`).
 */
export async function processBundle(deps: ServiceDeps, ctx: RequestContext, body: unknown, prefer: ReturnPreference): Promise<Bundle> {
  const bundle = body as Bundle | null;
  if (typeof bundle !== 'object' || bundle === null || Array.isArray(bundle) || bundle.resourceType !== 'Bundle') {
    throw badRequest('POST [base] takes a Bundle of type batch or transaction', 'structure', ['resourceType']);
  }
  if (bundle.type !== 'batch' && bundle.type !== 'transaction') {
    throw badRequest(`POST [base] takes a Bundle of type batch or transaction; got ${JSON.stringify(bundle.type ?? null).slice(0, 40)}`, 'value', ['Bundle.type']);
  }
  const entries = bundle.entry ?? [];
  if (!Array.isArray(entries)) throw badRequest('Bundle.entry must be a list', 'structure', ['Bundle.entry']);
  if (entries.length > deps.config.bundleMaxEntries) {
    throw new FhirError(413, issue('error', 'too-costly', `The bundle has ${entries.length} entries; this server takes at most ${deps.config.bundleMaxEntries} in one bundle (BUNDLE_MAX_ENTRIES): split it`));
  }
  if (ctx.audit) ctx.audit.interaction = bundle.type;
  return bundle.type === 'batch' ? runBatch(deps, ctx, entries, prefer) : runTransaction(deps, ctx, entries, prefer);
}

/** A context of its own for each entry: the same caller and access, its own audit facts. */
function entryContext(ctx: RequestContext, request: EntryRequest | undefined): RequestContext {
  const audit = newRequestAudit();
  if (request) audit.interaction = interactionCode(request);
  return { ...ctx, audit };
}

const entryAudit = (ctx: RequestContext, status: number): EntryAudit => ({ ...(ctx.audit ?? newRequestAudit()), status });

const isWrite = (request: EntryRequest) => !['read', 'vread', 'search', 'history', 'validate'].includes(request.kind);

// ---- batch ------------------------------------------------------------------------------

/** Batch: entries are independent, in bundle order; a failing entry answers its own status and OperationOutcome. */
async function runBatch(deps: ServiceDeps, ctx: RequestContext, entries: BundleEntry[], prefer: ReturnPreference): Promise<Bundle> {
  const answers: BundleEntry[] = [];
  const audits: EntryAudit[] = [];
  for (const entry of entries) {
    let request: EntryRequest | undefined;
    let entryCtx = entryContext(ctx, undefined);
    let answer: BundleEntry;
    try {
      request = parseEntryRequest(entry ?? {}, ctx.baseUrl);
      entryCtx = entryContext(ctx, request);
      answer = await batchWriteEntry(deps, entryCtx, request, entry.resource, prefer);
    } catch (error) {
      answer = errorEntry(entryCtx, error);
    }
    answers.push(answer);
    audits.push(entryAudit(entryCtx, statusOf(answer)));
  }
  if (ctx.audit) ctx.audit.entries = audits;
  return { resourceType: 'Bundle', type: 'batch-response', entry: answers };
}

// ---- transaction ------------------------------------------------------------------------

/** The error of a transaction whose entry `index` failed: the entry's status, naming it first. */
function entryFailed(index: number, entry: BundleEntry, error: FhirError): FhirError {
  const what = `${entry?.request?.method ?? '?'} ${String(entry?.request?.url ?? '?').slice(0, 120)}`;
  const first = error.issues[0];
  const text = `Entry ${index + 1} (${what}) failed, so nothing of the transaction was applied: ${first?.diagnostics ?? first?.code ?? ''}`;
  return new FhirError(error.status, [issue('error', first?.code ?? 'processing', text, [`Bundle.entry[${index}]`]), ...error.issues.slice(1)], error.headers);
}

/** Runs `work` for entry `index`, naming the entry in a FhirError it throws (others pass: conflicts are retried). */
async function forEntry<T>(index: number, entry: BundleEntry, work: () => Promise<T> | T): Promise<T> {
  try {
    return await work();
  } catch (error) {
    // A lost race is not the entry's fault: the transaction is run again.
    if (error instanceof FhirError && !(error instanceof WriteRace)) throw entryFailed(index, entry, error);
    throw error;
  }
}

/**
 * Transaction: all entries in one MongoDB transaction, retried as a whole on a write conflict;
 * any failing entry fails it all (nothing of it is ever visible).
 */
async function runTransaction(deps: ServiceDeps, ctx: RequestContext, entries: BundleEntry[], prefer: ReturnPreference): Promise<Bundle> {
  if (!deps.transactions) throw transactionsUnavailable();
  let contexts: RequestContext[] = [];
  try {
    const answer = await deps.store.transaction({ maxAttempts: deps.config.transactionMaxAttempts }, async (transaction) => {
      const txCtx: RequestContext = { ...ctx, transaction };
      const attempt = new TransactionAttempt(deps, txCtx, entries, prefer);
      contexts = attempt.contexts;
      return attempt.run();
    });
    if (ctx.audit) ctx.audit.entries = contexts.map((c, i) => entryAudit(c, statusOf(answer.entry![i])));
    return answer;
  } catch (error) {
    const status = error instanceof FhirError ? error.status : 500;
    if (ctx.audit) ctx.audit.entries = contexts.map((c) => entryAudit(c, status));
    throw error;
  }
}

/** What pass one found for an entry that names or finds its resource. */
interface Target {
  id: string;
  /** The resource a conditional create or update matched. */
  match?: StoredVersion;
}

/** One attempt at a transaction, inside its MongoDB transaction. */
class TransactionAttempt {
  readonly contexts: RequestContext[];
  private readonly requests: (EntryRequest | undefined)[] = [];
  private readonly order: number[];
  private readonly targets = new Map<number, Target>();
  private readonly ids: IdMap = new Map();
  private resources: (Resource | undefined)[] = [];

  constructor(
    private readonly deps: ServiceDeps,
    private readonly ctx: RequestContext,
    private readonly entries: BundleEntry[],
    private readonly prefer: ReturnPreference,
  ) {
    this.contexts = entries.map(() => entryContext(ctx, undefined));
    this.order = entries.map((_, i) => i).sort((a, b) => processingRank(entries[a]) - processingRank(entries[b]) || a - b);
  }

  async run(): Promise<Bundle> {
    for (const [i, entry] of this.entries.entries()) {
      const request = await forEntry(i, entry, () => parseEntryRequest(entry ?? {}, this.ctx.baseUrl));
      this.requests[i] = request;
      this.contexts[i] = entryContext(this.ctx, request);
    }
    for (const i of this.order) await forEntry(i, this.entries[i], () => this.findTarget(i));
    await this.resolveConditionalReferences();
    this.resources = this.entries.map((entry) => rewriteReferences(entry.resource, this.ids));

    const plans = new Map<number, { writes: PlannedWrite[]; plan?: WritePlan }>();
    for (const i of this.order) {
      if (!isWrite(this.requests[i]!)) continue;
      plans.set(i, await forEntry(i, this.entries[i], () => this.plan(i)));
    }
    const writes = [...plans.values()].flatMap((p) => p.writes);
    const outcomes = await this.deps.store.forRequest(this.ctx).applyWrites(writes).catch((error: unknown) => {
      // A write its precondition or the caller's access refused: name the entry that planned it.
      const owner = error instanceof RefusedWrite ? [...plans].find(([, p]) => p.writes.includes(error.write))?.[0] : undefined;
      throw owner === undefined ? error : entryFailed(owner, this.entries[owner], error as FhirError);
    });

    const answers: BundleEntry[] = new Array(this.entries.length);
    let next = 0;
    for (const [i, { writes: own, plan }] of plans) {
      const mine = outcomes.slice(next, next + own.length);
      next += own.length;
      const request = this.requests[i]!;
      const type = ('type' in request && request.type) || '';
      if (mine.some((o) => o.changed)) await noteProfileChange(this.deps, this.ctx, type);
      if (request.kind === 'delete' || request.kind === 'conditional-delete') answers[i] = deleteEntry(this.contexts[i], mine, type);
      else if (plan?.existing) answers[i] = writeEntry(this.contexts[i], { version: plan.existing, created: false, changed: false, warnings: [] }, this.prefer);
      else answers[i] = writeEntry(this.contexts[i], { ...mine[0], warnings: plan?.warnings ?? [] }, this.prefer);
    }
    // Reads last, in the same snapshot: they see what the transaction wrote.
    for (const i of this.order) {
      if (isWrite(this.requests[i]!)) continue;
      answers[i] = await forEntry(i, this.entries[i], () => readEntry(this.deps, { ...this.contexts[i], transaction: this.ctx.transaction }, this.requests[i]!, this.resources[i]));
    }
    return { resourceType: 'Bundle', type: 'transaction-response', entry: answers };
  }

  private entryCtx(i: number): RequestContext {
    return { ...this.contexts[i], transaction: this.ctx.transaction };
  }

  private mapFullUrl(i: number, type: string, id: string): void {
    const fullUrl = this.entries[i].fullUrl;
    if (typeof fullUrl === 'string' && fullUrl !== '') this.ids.set(fullUrl, `${type}/${id}`);
  }

  /** Pass one: the id each creating or updating entry will have, so references to its fullUrl can be rewritten. */
  private async findTarget(i: number): Promise<void> {
    const request = this.requests[i]!;
    const ctx = this.entryCtx(i);
    const bodyId = (this.entries[i].resource as { id?: unknown } | undefined)?.id;
    let target: Target | undefined;
    if (request.kind === 'create') {
      const match = request.ifNoneExist !== undefined ? await resolveConditionalCreate(this.deps, ctx, request.type, request.ifNoneExist) : undefined;
      target = { id: match?.id ?? randomUUID(), match };
    } else if (request.kind === 'update' || request.kind === 'patch') {
      target = { id: request.id };
    } else if (request.kind === 'conditional-update') {
      const match = await resolveConditionalUpdate(this.deps, ctx, request.type, request.query);
      target = { id: match?.id ?? (typeof bodyId === 'string' ? bodyId : randomUUID()), match };
    } else if (request.kind === 'conditional-patch') {
      target = { id: await resolveConditionalPatch(this.deps, ctx, request.type, request.query) };
    }
    if (!target) return;
    this.targets.set(i, target);
    this.mapFullUrl(i, (request as { type: string }).type, target.id);
  }

  /** Conditional references (`Patient?identifier=...`) become the one resource they match; none or several fail the transaction. */
  private async resolveConditionalReferences(): Promise<void> {
    for (const [i, entry] of this.entries.entries()) {
      const references = conditionalReferences(entry.resource, isStoredType);
      await forEntry(i, entry, async () => {
        for (const reference of references) {
          if (this.ids.has(reference)) continue;
          const [type, query] = [reference.slice(0, reference.indexOf('?')), reference.slice(reference.indexOf('?') + 1)];
          const matches = await findConditionMatches(this.deps.search, this.entryCtx(i), type, conditionEntries(query), 2);
          if (matches.length !== 1) {
            throw preconditionFailed(`The conditional reference ${reference.slice(0, 200)} matches ${matches.length === 0 ? 'no' : 'more than one'} ${type}: it must match exactly one`);
          }
          this.ids.set(reference, `${type}/${matches[0].id}`);
        }
      });
    }
  }

  /** Pass two: what the entry writes, planned by the same service functions as its route. */
  private async plan(i: number): Promise<{ writes: PlannedWrite[]; plan?: WritePlan }> {
    const request = this.requests[i]!;
    const ctx = this.entryCtx(i);
    const resource = this.resources[i];
    const target = this.targets.get(i);
    const withPlan = (plan: WritePlan) => ({ writes: plan.writes, plan });
    switch (request.kind) {
      case 'delete':
        return { writes: planDelete(request.type, request.id, request.ifMatch) };
      case 'conditional-delete':
        return { writes: await planConditionalDelete(this.deps, ctx, request.type, request.query) };
      case 'create':
        if (target?.match) return { writes: [], plan: { writes: [], warnings: [], existing: target.match } };
        return withPlan(await planCreate(this.deps, ctx, request.type, resource, { id: target!.id }));
      case 'update':
        return withPlan(await planUpdate(this.deps, ctx, request.type, request.id, resource, request.ifMatch));
      case 'conditional-update':
        return withPlan(await planResolvedUpdate(this.deps, ctx, request.type, target?.match, resource, request.ifMatch, target!.id));
      case 'patch':
      case 'conditional-patch':
        return withPlan(await planPatch(this.deps, ctx, request.type, target!.id, patchFromEntry(resource), request.ifMatch));
      default:
        return { writes: [] };
    }
  }
}
