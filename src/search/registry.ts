import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4/index.js';
import { compileSimplePath } from './simple-path.js';
import type { Bundle, SearchParameter } from 'fhir/r4';
import type { DefinitionSource } from '../store/index.js';
import { readDefinitionFile } from '../fhir/definitions.js';
import { RESOURCE_TYPES } from '../fhir/resource-types.js';

export type ParamType = 'string' | 'token' | 'date' | 'reference' | 'uri' | 'number' | 'quantity' | 'composite' | 'special';

/** One search parameter as it applies to one resource type. */
export interface SearchParam {
  code: string;
  type: ParamType;
  url: string;
  description: string;
  /** The FHIRPath expression restricted to this resource type (the R4 files list many types in one). */
  expression?: string;
  target: string[];
  /** Composite parts: FHIRPath relative to each value of `expression`. */
  components: string[];
  custom: boolean;
  /** Evaluates the expression on a resource; undefined when the expression cannot run here. */
  evaluate?: (resource: unknown) => unknown[];
}

const SPECIAL_WITHOUT_EXPRESSION = new Set(['_text', '_content', '_query', '_list']);

/** FHIRPath `resolve()` needs the target resource; a reference's type is in its text, so test that instead. */
function withoutResolve(expression: string): string {
  return expression.replace(
    /resolve\(\)\s+is\s+([A-Za-z]+)/g,
    (_m, type: string) => `reference.matches('(^|/)${type}/[A-Za-z0-9.-]+(/_history/.*)?$')`,
  );
}

/** The `|`-separated parts of an expression at parenthesis depth 0. */
export function topLevelUnion(expression: string): string[] {
  const parts: string[] = [];
  let depth = 0;
  let quoted = false;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const ch = expression[i];
    if (ch === "'" && expression[i - 1] !== '\\') quoted = !quoted;
    if (quoted) continue;
    if (ch === '(') depth++;
    else if (ch === ')') depth--;
    else if (ch === '|' && depth === 0) {
      parts.push(expression.slice(start, i).trim());
      start = i + 1;
    }
  }
  parts.push(expression.slice(start).trim());
  return parts;
}

/** The parts of a multi-type expression that apply to `type` (evaluating the others would be wasted work). */
export function expressionFor(expression: string, type: string): string | undefined {
  const heads = new Set([type, 'Resource', 'DomainResource']);
  const parts = topLevelUnion(expression).filter((part) => {
    const head = /^\(*\s*([A-Za-z]+)/.exec(part)?.[1];
    return head !== undefined && heads.has(head);
  });
  return parts.length > 0 ? withoutResolve(parts.join(' | ')) : undefined;
}

function compile(expression: string): ((resource: unknown) => unknown[]) | undefined {
  const simple = compileSimplePath(expression);
  if (simple) return simple;
  try {
    const compiled = fhirpath.compile(expression, r4Model);
    return (resource) => compiled(resource as object) as unknown[];
  } catch {
    return undefined;
  }
}

function paramFrom(definition: SearchParameter, type: string, custom: boolean): SearchParam | undefined {
  const expression = definition.expression ? expressionFor(definition.expression, type) : undefined;
  if (!expression && !SPECIAL_WITHOUT_EXPRESSION.has(definition.code) && definition.code !== '_id') return undefined;
  const param: SearchParam = {
    code: definition.code,
    type: definition.type as ParamType,
    url: definition.url,
    description: definition.description ?? '',
    expression,
    target: definition.target ?? [],
    components: (definition.component ?? []).map((c) => c.expression),
    custom,
  };
  if (expression) param.evaluate = compile(expression);
  return param;
}

/** A FHIR parameter code becomes part of a MongoDB field name: only letters, digits, '-' and '_' may. */
export const SAFE_CODE = /^[A-Za-z_][A-Za-z0-9_-]{0,63}$/;

function appliesTo(definition: SearchParameter, type: string): boolean {
  return definition.base.some((b) => b === type || b === 'Resource' || b === 'DomainResource');
}

/** The most stored SearchParameters taken in. */
const MAX_CUSTOM_PARAMS = 10_000;

/** The parameters of every stored type: HL7's R4 definitions plus the SearchParameter resources stored here. */
export class SearchRegistry {
  private byType = new Map<string, Map<string, SearchParam>>();
  private loadedAt = -1;
  private checkedAt = 0;
  private readonly base: SearchParameter[];

  constructor(
    /** Where stored SearchParameters come from (none: HL7's definitions only). */
    private readonly source: DefinitionSource | undefined,
    /** How long a check of the stored SearchParameters stays fresh (ms); 0 checks on every request. */
    private readonly refreshMs = 1000,
  ) {
    const bundle = readDefinitionFile<Bundle>('search-parameters.json');
    this.base = (bundle.entry ?? []).map((e) => e.resource as SearchParameter).filter((r) => r.resourceType === 'SearchParameter');
    this.rebuild([]);
  }

  static storedTypes(): string[] {
    return RESOURCE_TYPES.map((entry) => entry.type);
  }

  param(type: string, code: string): SearchParam | undefined {
    return this.byType.get(type)?.get(code);
  }

  params(type: string): SearchParam[] {
    return [...(this.byType.get(type)?.values() ?? [])];
  }

  private rebuild(custom: SearchParameter[]): void {
    const next = new Map<string, Map<string, SearchParam>>();
    for (const entry of RESOURCE_TYPES) {
      const type = entry.type;
      const params = new Map<string, SearchParam>();
      for (const [definitions, isCustom] of [[this.base, false], [custom, true]] as const) {
        for (const definition of definitions) {
          if (!SAFE_CODE.test(definition.code ?? '') || !appliesTo(definition, type)) continue;
          if (!isCustom && entry.searchParams && !entry.searchParams.includes(definition.code!)) continue;
          const param = paramFrom(definition, type, isCustom);
          if (!param) continue;
          params.set(param.code, param);
        }
      }
      next.set(type, params);
    }
    this.byType = next;
  }

  /**
   * Brings custom parameters up to date with the database: the SearchParameter change counter
   * (moved by every write of one, on any server instance) says when to load them again.
   */
  async refresh(force = false): Promise<void> {
    const now = Date.now();
    if (!this.source || (!force && now - this.checkedAt < this.refreshMs)) return;
    this.checkedAt = now;
    const count = await this.source.changeCount('SearchParameter');
    if (count === this.loadedAt) return;
    const stored = await this.source.policyResources<SearchParameter>('SearchParameter', {}, MAX_CUSTOM_PARAMS);
    const custom = stored.filter((r) => r && r.status !== 'retired' && r.code && r.type && Array.isArray(r.base));
    this.rebuild(custom);
    this.loadedAt = count;
  }
}
