import type { Document, Filter } from 'mongodb';
import { badRequest } from '../outcome.js';
import type { ChainClause, Clause, HasClause, ResolvedClause } from './ast.js';
import { field, splitLocalReference } from './encoding.js';
import { countDocuments, findDocuments, type SearchEnv } from './env.js';
import { storedValues, valuesProjection } from './layout.js';
import { planFilter, type PlannedFilter } from './plan.js';

/**
 * Chains (`subject:Patient.name=x`, any depth) and reverse chains (`_has:...`) become plain
 * clauses on ids or reference keys before planning, driven from whichever side is selective
 * (as Blaze estimates each clause's size so that the smallest drives the query):
 *  - the inner search matches at most the cap: its matches become the keys the outer search looks for;
 *  - else the rest of the outer search (its other clauses, compartment and access filter) matches
 *    at most the cap: those candidates are checked against the inner search restricted to what they
 *    point at (chain) or to what points at them (`_has`), through that reference's index, and only
 *    the candidates that pass remain;
 *  - else the search is too costly (400).
 * A side's size is counted through the index up to the cap + 1, never further, so a large side
 * costs cap + 1 index entries, not a read of its documents. The cap is MAX_CHAIN_MATCHES (config.ts).
 */

type ChainEnv = Pick<SearchEnv, 'db' | 'access' | 'timer' | 'maxChainMatches' | 'maxTimeMS' | 'session'>;
type Chaining = ChainClause | HasClause;

const isChaining = (clause: Clause): clause is Chaining => clause.kind === 'chain' || clause.kind === 'has';

/**
 * The clauses of a search on `type` with every chain and `_has` resolved. `restriction` (access
 * and compartment filter) is what every match must meet as well. Each chain is resolved knowing
 * the other clauses: the plain ones and the chains resolved before it.
 */
export async function resolveChains(env: ChainEnv, type: string, clauses: Clause[], restriction: Filter<Document> | undefined): Promise<Clause[]> {
  const resolved = [...clauses];
  for (const [i, clause] of clauses.entries()) {
    if (!isChaining(clause)) continue;
    const others = resolved.filter((c, j) => j !== i && !isChaining(c));
    resolved[i] = await resolveOrThrow(env, type, clause, planFilter(type, others, restriction));
  }
  return resolved;
}

/** How the client wrote the clause's name (`subject:Patient.identifier`, `_has:DocumentReference:subject:type`). */
function describe(clause: Clause): string {
  switch (clause.kind) {
    case 'chain': {
      const target = clause.targetTypes.length === 1 ? `:${clause.targetTypes[0]}` : '';
      return `${clause.param.code}${target}.${describe(clause.inner)}`;
    }
    case 'has': return `_has:${clause.sourceType}:${clause.referenceParam.code}:${describe(clause.inner)}`;
    case 'id': return '_id';
    case 'resolved': return clause.code;
    default: return clause.param.code;
  }
}

/** The clause as ids or reference keys; undefined when both its inner search and `outer` match more than the cap. */
const resolve = (env: ChainEnv, type: string, clause: Chaining, outer: PlannedFilter): Promise<ResolvedClause | undefined> =>
  clause.kind === 'chain' ? resolveChain(env, type, clause, outer) : resolveHas(env, type, clause, outer);

async function resolveOrThrow(env: ChainEnv, type: string, clause: Chaining, outer: PlannedFilter): Promise<ResolvedClause> {
  const resolved = await resolve(env, type, clause, outer);
  if (resolved) return resolved;
  const name = describe(clause);
  throw badRequest(
    `Both the inner search of ${name} and the other conditions on ${type} match more than ${env.maxChainMatches} resources; add parameters to narrow either`,
    'too-costly',
    [name],
  );
}

const withPostFields = (planned: PlannedFilter, projection: Document) => ({ ...projection, ...Object.fromEntries(planned.postFields.map((f) => [f, 1])) });
const passes = (planned: PlannedFilter, doc: Document) => planned.postFilters.every((check) => check(doc));

async function readAll(env: ChainEnv, type: string, planned: PlannedFilter, projection: Document): Promise<Document[]> {
  const docs = await findDocuments(env, type, planned.filter, { projection: withPostFields(planned, projection) });
  return docs.filter((doc) => passes(planned, doc));
}

/** The documents matching `planned`, or undefined when more than `cap` match (counted first, so a large set is never read). */
async function atMost(env: ChainEnv, type: string, planned: PlannedFilter, projection: Document, cap: number): Promise<Document[] | undefined> {
  const count = await countDocuments(env, type, planned.filter, cap + 1);
  return count > cap ? undefined : readAll(env, type, planned, projection);
}

/**
 * The inner search on `type`, narrowed by `restrict`, under the access filter; a chain inside it
 * is resolved with `restrict` as its outer side. Undefined when that inner chain is too costly.
 */
async function innerPlan(env: ChainEnv, type: string, inner: Clause, restrict: Clause[] = []): Promise<PlannedFilter | undefined> {
  const access = env.access(type);
  const clause = isChaining(inner) ? await resolve(env, type, inner, planFilter(type, restrict, access)) : inner;
  return clause && planFilter(type, [clause, ...restrict], access);
}

/** A restricted inner search has no other side to fall back on: a chain inside it that is too costly is a 400. */
async function restrictedPlan(env: ChainEnv, type: string, inner: Clause, restrict: Clause[]): Promise<PlannedFilter> {
  const access = env.access(type);
  const clause = isChaining(inner) ? await resolveOrThrow(env, type, inner, planFilter(type, restrict, access)) : inner;
  return planFilter(type, [clause, ...restrict], access);
}

/** Ids of `type` a document of `docType` points at through parameter `code`. */
function referencedIds(docType: string, doc: Document, code: string, type: string): string[] {
  const keys = storedValues(docType, doc, code) as string[];
  return keys.map(splitLocalReference).filter((local) => local?.type === type).map((local) => local!.id);
}

const byIds = (ids: string[]): ResolvedClause => ({ kind: 'resolved', field: '_id', keys: ids, code: '_id' });

async function resolveChain(env: ChainEnv, type: string, clause: ChainClause, outer: PlannedFilter): Promise<ResolvedClause | undefined> {
  const { code } = clause.param;
  const cap = env.maxChainMatches;
  let keys: string[] | undefined = [];
  for (const target of clause.targetTypes) {
    const inner = await innerPlan(env, target, clause.inner);
    const docs = inner && (await atMost(env, target, inner, { _id: 1 }, cap - keys.length));
    if (!docs) {
      keys = undefined;
      break;
    }
    keys.push(...docs.map((doc) => `${target}/${doc._id}`));
  }
  if (keys) return { kind: 'resolved', field: field.values(code), keys, code };

  const candidates = await atMost(env, type, outer, valuesProjection(type, code), cap);
  if (!candidates) return undefined;
  const matched = new Set<string>();
  for (const target of clause.targetTypes) {
    const ids = [...new Set(candidates.flatMap((doc) => referencedIds(type, doc, code, target)))];
    if (ids.length === 0) continue;
    const restricted = await restrictedPlan(env, target, clause.inner, [{ kind: 'id', ids, not: false }]);
    for (const doc of await readAll(env, target, restricted, { _id: 1 })) matched.add(`${target}/${doc._id}`);
  }
  const points = (doc: Document) => (storedValues(type, doc, code) as string[]).some((key) => matched.has(key));
  return byIds(candidates.filter(points).map((doc) => doc._id as string));
}

async function resolveHas(env: ChainEnv, type: string, clause: HasClause, outer: PlannedFilter): Promise<ResolvedClause | undefined> {
  const { sourceType } = clause;
  const { code } = clause.referenceParam;
  const cap = env.maxChainMatches;
  const projection = valuesProjection(sourceType, code);
  const inner = await innerPlan(env, sourceType, clause.inner);
  const docs = inner && (await atMost(env, sourceType, inner, projection, cap));
  if (docs) return byIds([...new Set(docs.flatMap((doc) => referencedIds(sourceType, doc, code, type)))]);

  const candidates = await atMost(env, type, outer, { _id: 1 }, cap);
  if (!candidates) return undefined;
  const ids = new Set(candidates.map((doc) => doc._id as string));
  if (ids.size === 0) return byIds([]);
  const pointingAt: ResolvedClause = { kind: 'resolved', field: field.values(code), keys: [...ids].map((id) => `${type}/${id}`), code };
  const restricted = await restrictedPlan(env, sourceType, clause.inner, [pointingAt]);
  // A candidate may have many matching documents: one is enough, so stop once every candidate passed.
  const passed = new Set<string>();
  await env.timer.time(async () => {
    const cursor = env.db.collection(sourceType).find(restricted.filter, { projection: withPostFields(restricted, projection), maxTimeMS: env.maxTimeMS, session: env.session });
    for await (const doc of cursor) {
      if (!passes(restricted, doc)) continue;
      // The document may point at others too (several authors): only candidates count.
      for (const id of referencedIds(sourceType, doc, code, type)) if (ids.has(id)) passed.add(id);
      if (passed.size === ids.size) break;
    }
  });
  return byIds([...passed]);
}
