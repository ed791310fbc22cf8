import type { Document } from 'mongodb';
import type { IncludeSpec } from './ast.js';
import { field, splitLocalReference } from './encoding.js';
import { eachQuery, findDocuments, type SearchEnv } from './env.js';
import { routeFilter, storedValues } from './layout.js';
import { allOf, anyOf, planFilter } from './plan.js';

/**
 * `_include` and `_revinclude` (with `*` and `:iterate`): resources the page's matches point at,
 * and resources pointing at them, read through the same access filter as the matches. Reference
 * keys come from the stored `sp` values, so no resource is parsed again.
 */
export const MAX_REVINCLUDES = 1_000;
const MAX_ITERATIONS = 3;

const keyOf = (doc: Document) => `${doc.__type}/${doc._id}`;

function referenceCodes(env: SearchEnv, type: string, spec: IncludeSpec): string[] {
  if (spec.sourceType !== type && spec.sourceType !== '*') return [];
  if (spec.code !== '*') return [spec.code];
  return env.registry.params(type).filter((p) => p.type === 'reference' && p.evaluate).map((p) => p.code);
}

async function readByIds(env: SearchEnv, type: string, ids: string[]): Promise<Document[]> {
  if (ids.length === 0 || !env.registry.params(type).length) return [];
  const planned = planFilter(type, [{ kind: 'id', ids, not: false }], env.access(type));
  const docs = await findDocuments(env, type, planned.filter);
  for (const doc of docs) doc.__type = type;
  return docs;
}

async function forward(env: SearchEnv, sources: Document[], specs: IncludeSpec[]): Promise<Document[]> {
  const wanted = new Map<string, Set<string>>();
  for (const doc of sources) {
    for (const spec of specs) {
      for (const code of referenceCodes(env, doc.__type, spec)) {
        for (const key of storedValues(doc.__type, doc, code) as string[]) {
          const local = splitLocalReference(key);
          if (!local || (spec.targetType && local.type !== spec.targetType)) continue;
          if (!wanted.has(local.type)) wanted.set(local.type, new Set());
          wanted.get(local.type)!.add(local.id);
        }
      }
    }
  }
  const found = await eachQuery(env, [...wanted], ([type, ids]) => readByIds(env, type, [...ids]));
  return found.flat();
}

async function reverse(env: SearchEnv, targets: Document[], specs: IncludeSpec[], types: string[]): Promise<Document[]> {
  if (targets.length === 0) return [];
  const keys = targets.map(keyOf);
  const results: Document[] = [];
  for (const spec of specs) {
    const sourceTypes = spec.sourceType === '*' ? types : [spec.sourceType];
    for (const type of sourceTypes) {
      const codes = referenceCodes(env, type, { ...spec, sourceType: type });
      if (codes.length === 0) continue;
      const clauses = codes.map((code) => ({ [field.values(code)]: anyOf(keys) }));
      const planned = planFilter(type, [], env.access(type));
      const filter = allOf([planned.filter, routeFilter(type, clauses.length === 1 ? clauses[0] : { $or: clauses })]);
      const docs = await findDocuments(env, type, filter, { limit: MAX_REVINCLUDES });
      for (const doc of docs) doc.__type = type;
      results.push(...docs);
    }
  }
  return results;
}

/** The included documents of a page, each once and never one of the matches. */
export async function findIncludes(
  env: SearchEnv,
  matches: Document[],
  include: IncludeSpec[],
  revinclude: IncludeSpec[],
  allTypes: string[],
): Promise<Document[]> {
  if (include.length === 0 && revinclude.length === 0) return [];
  const seen = new Set(matches.map(keyOf));
  const included: Document[] = [];
  const add = (docs: Document[]) => {
    const fresh = docs.filter((d) => !seen.has(keyOf(d)));
    for (const d of fresh) seen.add(keyOf(d));
    included.push(...fresh);
    return fresh;
  };
  add(await forward(env, matches, include));
  add(await reverse(env, matches, revinclude, allTypes));
  let frontier = included.slice();
  const iterInclude = include.filter((s) => s.iterate);
  const iterRev = revinclude.filter((s) => s.iterate);
  for (let i = 0; i < MAX_ITERATIONS && frontier.length > 0 && (iterInclude.length || iterRev.length); i++) {
    const next = [...add(await forward(env, frontier, iterInclude)), ...add(await reverse(env, frontier, iterRev, allTypes))];
    frontier = next;
  }
  return included;
}
