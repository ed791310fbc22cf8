import type { ElementDefinitionConstraint } from 'fhir/r4';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { issue } from '../outcome.js';
import { containedAreReferenced } from './contained.js';
import type { WalkContext } from './walk-context.js';

/**
 * FHIRPath invariants (`constraint`), compiled once per element and evaluated on each value.
 * ele-1 and ext-1 hold on every element of every resource: they are checked natively in the
 * structure walk, which is much cheaper than evaluating them as FHIRPath everywhere. txt-1 and
 * txt-2 call htmlChecks(), which fhirpath.js lacks: narrative.ts checks them.
 */
export interface CompiledConstraint {
  key: string;
  severity: 'error' | 'warning';
  human: string;
  evaluate: (value: unknown, env: Record<string, unknown>) => unknown[];
  /**
   * The child elements the expression reads. When none is present the value looks empty to the
   * expression, so its result is the one computed once on `{}`: most invariants (dom-2, dom-4,
   * dom-5 on a resource without contained) are then free. Undefined when that does not hold.
   */
  reads?: string[];
  passesWhenEmpty?: boolean;
}

const NATIVE = new Set(['ele-1', 'ext-1', 'txt-1', 'txt-2']);
/** Invariants whose HL7 expression fhirpath.js cannot evaluate (dom-3) or is slow (ref-1): same rule, in code. */
const REWRITTEN: Record<string, (value: unknown, env: Record<string, unknown>) => boolean> = {
  'dom-3': containedAreReferenced,
  'ref-1': localReferenceResolves,
};
const OPTIONS = { traceFn: () => undefined } as const;

export function compileConstraints(basePath: string, constraints: ElementDefinitionConstraint[] | undefined): CompiledConstraint[] {
  const compiled: CompiledConstraint[] = [];
  for (const constraint of constraints ?? []) {
    if (!constraint.expression || NATIVE.has(constraint.key)) continue;
    const severity = constraint.severity === 'warning' ? 'warning' : 'error';
    const rewritten = REWRITTEN[constraint.key];
    if (rewritten) {
      compiled.push({ key: constraint.key, severity, human: constraint.human, evaluate: (value, env) => [rewritten(value, env)] });
      continue;
    }
    try {
      const evaluate = fhirpath.compile({ base: basePath, expression: constraint.expression }, r4, OPTIONS as never);
      compiled.push({
        key: constraint.key,
        severity,
        human: constraint.human,
        evaluate: evaluate as CompiledConstraint['evaluate'],
        reads: elementsRead(constraint.expression),
      });
    } catch {
      // An expression fhirpath.js cannot parse is skipped rather than failing every write.
    }
  }
  return compiled;
}

export function checkInvariants(ctx: WalkContext, constraints: CompiledConstraint[], value: unknown, location: string): void {
  for (const constraint of constraints) {
    if (constraint.reads && !readsAny(value, constraint.reads)) {
      constraint.passesWhenEmpty ??= !failed(safeEvaluate(constraint, {}, ctx.fhirpathEnv));
      if (constraint.passesWhenEmpty) continue;
    }
    if (failed(safeEvaluate(constraint, value, ctx.fhirpathEnv))) {
      ctx.issues.push(issue(constraint.severity, 'invariant', `${constraint.key}: ${constraint.human}`, [location]));
    }
  }
}

function safeEvaluate(constraint: CompiledConstraint, value: unknown, env: Record<string, unknown>): unknown[] | undefined {
  try {
    return constraint.evaluate(value, env);
  } catch {
    return undefined; // functions fhirpath.js does not implement (e.g. htmlChecks) cannot decide
  }
}

const failed = (result: unknown[] | undefined) => result !== undefined && result.length === 1 && result[0] === false;

const KEYWORDS = new Set(['and', 'or', 'xor', 'implies', 'not', 'true', 'false', 'is', 'as', 'in', 'contains', 'div', 'mod']);

/**
 * The names of the child elements an expression starts its paths from, or undefined when the
 * expression may look at more than its context's children (%vars, $this, functions applied
 * to the context itself such as `hasValue()` or `descendants()`).
 */
function elementsRead(expression: string): string[] | undefined {
  if (/[%$]/.test(expression)) return undefined;
  const code = expression.replace(/'(?:[^'\\]|\\.)*'/g, "''").replace(/`/g, '');
  const names = new Set<string>();
  for (const match of code.matchAll(/(\.\s*)?\b([A-Za-z_][A-Za-z0-9_]*)\s*(\()?/g)) {
    const [, dotted, name, call] = match;
    if (dotted || /^\d/.test(name)) continue;
    if (call) return undefined;
    if (!KEYWORDS.has(name)) names.add(name);
  }
  return [...names];
}

/** True when the value has an element the expression reads (`value` matches valueQuantity). */
function readsAny(value: unknown, names: string[]): boolean {
  if (typeof value !== 'object' || value === null) return true;
  for (const key of Object.keys(value)) {
    const plain = key.charCodeAt(0) === 95 ? key.slice(1) : key;
    for (const name of names) {
      if (plain === name) return true;
      if (plain.startsWith(name) && plain.length > name.length) {
        const next = plain.charCodeAt(name.length);
        if (next >= 65 && next <= 90) return true;
      }
    }
  }
  return false;
}

/** ref-1: a `#id` reference names a contained resource of the root (`#` alone: the container). */
function localReferenceResolves(value: unknown, env: Record<string, unknown>): boolean {
  const reference = (value as { reference?: unknown }).reference;
  if (typeof reference !== 'string' || !reference.startsWith('#')) return true;
  const root = env.rootResource as { contained?: Array<{ id?: string }> } | undefined;
  if (reference === '#') return root !== env.resource;
  return (root?.contained ?? []).some((c) => c?.id === reference.slice(1));
}
