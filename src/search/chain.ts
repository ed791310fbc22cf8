import type { Document } from 'mongodb';
import { FhirError, issue } from '../outcome.js';
import type { Clause } from './ast.js';
import { field, splitLocalReference } from './encoding.js';
import { findDocuments, type SearchEnv } from './env.js';
import { storedValues, valuesProjection } from './layout.js';
import { planFilter } from './plan.js';

/**
 * Chains (`subject:Patient.name=x`, any depth) and reverse chains (`_has:...`) become plain
 * `$in` clauses: the inner search runs first (indexed, under the same access filter), and its
 * matches become the reference keys or ids the outer search looks for.
 */
export const MAX_CHAIN_MATCHES = 10_000;

function tooMany(what: string): FhirError {
  return new FhirError(400, issue('error', 'too-costly',
    `${what} matches more than ${MAX_CHAIN_MATCHES} resources; narrow it with more parameters`));
}

async function matchingDocs(env: SearchEnv, type: string, clause: Clause, projection: Document): Promise<Document[]> {
  const inner = await resolveClause(env, type, clause);
  const planned = planFilter(type, [inner], env.access(type));
  const found = await findDocuments(env, type, planned.filter, {
    projection: { ...projection, ...Object.fromEntries(planned.postFields.map((f) => [f, 1])) },
    limit: MAX_CHAIN_MATCHES + 1,
  });
  return found.filter((doc) => planned.postFilters.every((check) => check(doc)));
}

export async function resolveClause(env: SearchEnv, type: string, clause: Clause): Promise<Clause> {
  if (clause.kind === 'chain') {
    const keys: string[] = [];
    for (const target of clause.targetTypes) {
      const docs = await matchingDocs(env, target, clause.inner, { _id: 1 });
      keys.push(...docs.map((d) => `${target}/${d._id}`));
    }
    if (keys.length > MAX_CHAIN_MATCHES) throw tooMany(`The chained parameter ${clause.param.code}`);
    return { kind: 'resolved', field: field.values(clause.param.code), keys, code: clause.param.code };
  }
  if (clause.kind === 'has') {
    const code = clause.referenceParam.code;
    const docs = await matchingDocs(env, clause.sourceType, clause.inner, valuesProjection(clause.sourceType, code));
    if (docs.length > MAX_CHAIN_MATCHES) throw tooMany(`_has:${clause.sourceType}:${code}`);
    const ids = new Set<string>();
    for (const doc of docs) {
      for (const key of storedValues(clause.sourceType, doc, code) as string[]) {
        const local = splitLocalReference(key);
        if (local?.type === type) ids.add(local.id);
      }
    }
    return { kind: 'resolved', field: '_id', keys: [...ids], code: '_id' };
  }
  return clause;
}
