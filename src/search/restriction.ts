import type { Document, Filter } from 'mongodb';
import type { Config } from '../config.js';
import { FhirError } from '../outcome.js';
import type { QueryEntries } from './parse.js';
import { parseSearch } from './parse.js';
import { planFilter } from './plan.js';
import type { SearchRegistry } from './registry.js';

/**
 * A SMART v2 scope's query restriction (`patient/DocumentReference.rs?category=...`) as a filter
 * on current documents of `type`; undefined when it cannot be one (an unknown parameter, a
 * chain or `_has`, or a value only checked after the query): such a scope then grants nothing.
 */
export function restrictionFilter(registry: SearchRegistry, config: Config, type: string, entries: QueryEntries): Filter<Document> | undefined {
  let clauses;
  try {
    const query = parseSearch([type], entries, { registry, config, strict: true });
    if (query.include.length > 0 || query.revinclude.length > 0) return undefined;
    clauses = query.clauses;
  } catch (error) {
    if (error instanceof FhirError) return undefined;
    throw error;
  }
  if (clauses.some((c) => c.kind === 'chain' || c.kind === 'has')) return undefined;
  const planned = planFilter(type, clauses, undefined);
  return planned.postFilters.length > 0 ? undefined : planned.filter;
}
