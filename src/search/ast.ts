import type { SearchParam } from './registry.js';

/** The typed form of a search query: what the planner turns into a MongoDB filter. */
export type DatePrefix = 'eq' | 'ne' | 'gt' | 'lt' | 'ge' | 'le' | 'sa' | 'eb' | 'ap';

export interface DateValue {
  prefix: DatePrefix;
  low: Date;
  high: Date;
}

export interface NumberValue {
  prefix: DatePrefix;
  /** The range the value's precision covers (100 = [99.5, 100.5)). */
  low: number;
  high: number;
  value: number;
  /** Quantity unit keys (token-encoded), if given. */
  unitKeys?: string[];
}

/** One parameter with its values (OR) — a resource matches when any value matches. */
export type ValueClause =
  | { kind: 'missing'; param: SearchParam; missing: boolean }
  | { kind: 'string'; param: SearchParam; mode: 'prefix' | 'exact' | 'contains'; values: string[] }
  | { kind: 'token'; param: SearchParam; field: 'values' | 'text'; not: boolean; keys: string[]; texts: string[] }
  | { kind: 'id'; ids: string[]; not: boolean }
  | { kind: 'date'; param: SearchParam; values: DateValue[] }
  | { kind: 'number'; param: SearchParam; values: NumberValue[] }
  | { kind: 'reference'; param: SearchParam; keys: string[]; identifierKeys: string[] }
  | { kind: 'uri'; param: SearchParam; mode: 'equal' | 'below' | 'above'; values: string[] }
  | { kind: 'composite'; param: SearchParam; keys: string[] };

/** `subject:Patient.name=x`: the reference must point at a resource of `targetType` matching `inner`. */
export interface ChainClause {
  kind: 'chain';
  param: SearchParam;
  targetTypes: string[];
  inner: Clause;
}

/** `_has:DocumentReference:subject:status=current`: some DocumentReference points here via subject and matches. */
export interface HasClause {
  kind: 'has';
  sourceType: string;
  referenceParam: SearchParam;
  inner: Clause;
}

/** Reference keys found by resolving a chain or _has (set by the chain resolver before planning). */
export interface ResolvedClause {
  kind: 'resolved';
  field: string;
  keys: string[];
  /** The parameter whose index serves it, for the planner's index choice. */
  code: string;
}

export type Clause = ValueClause | ChainClause | HasClause | ResolvedClause;

export interface SortKey {
  code: string;
  descending: boolean;
}

export interface IncludeSpec {
  /** Source type (for _revinclude: the type that holds the reference). */
  sourceType: string;
  /** Reference parameter code, or '*' for all. */
  code: string;
  targetType?: string;
  iterate: boolean;
}

export type TotalMode = 'none' | 'estimate' | 'accurate';

/** The whole query: clauses are ANDed (a repeated parameter is one more clause). */
export interface SearchQuery {
  types: string[];
  clauses: Clause[];
  sort: SortKey[];
  count: number;
  total?: TotalMode;
  summary?: string;
  elements?: string;
  include: IncludeSpec[];
  revinclude: IncludeSpec[];
  cursor?: string;
  /** Parameters ignored (lenient handling), reported back as an OperationOutcome. */
  ignored: string[];
}
