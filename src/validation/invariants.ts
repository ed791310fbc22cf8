import type { ElementDefinitionConstraint } from 'fhir/r4';
import fhirpath from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { issue } from '../outcome.js';
import { containedAreReferenced } from './contained.js';
import type { WalkContext } from './walk-context.js';

/**
 * FHIRPath invariants (`constraint`), compiled once per element and evaluated on each value.
 * ele-1 and ext-1 hold on every element of every resource: they are checked natively in the
 * structure walk, which is much cheaper than evaluating them as FHIRPath everywhere.
 */
export interface CompiledConstraint {
  key: string;
  severity: 'error' | 'warning';
  human: string;
  evaluate: (value: unknown, env: Record<string, unknown>) => unknown[];
}

const NATIVE = new Set(['ele-1', 'ext-1']);
/** Invariants whose HL7 expression fhirpath.js cannot evaluate: same rule, in code. */
const REWRITTEN: Record<string, (value: unknown) => boolean> = { 'dom-3': containedAreReferenced };
const OPTIONS = { traceFn: () => undefined } as const;

export function compileConstraints(basePath: string, constraints: ElementDefinitionConstraint[] | undefined): CompiledConstraint[] {
  const compiled: CompiledConstraint[] = [];
  for (const constraint of constraints ?? []) {
    if (!constraint.expression || NATIVE.has(constraint.key)) continue;
    const rewritten = REWRITTEN[constraint.key];
    if (rewritten) {
      const severity = constraint.severity === 'warning' ? 'warning' : 'error';
      compiled.push({ key: constraint.key, severity, human: constraint.human, evaluate: (value) => [rewritten(value)] });
      continue;
    }
    try {
      const evaluate = fhirpath.compile({ base: basePath, expression: constraint.expression }, r4, OPTIONS as never);
      compiled.push({
        key: constraint.key,
        severity: constraint.severity === 'warning' ? 'warning' : 'error',
        human: constraint.human,
        evaluate: evaluate as CompiledConstraint['evaluate'],
      });
    } catch {
      // An expression fhirpath.js cannot parse is skipped rather than failing every write.
    }
  }
  return compiled;
}

export function checkInvariants(ctx: WalkContext, constraints: CompiledConstraint[], value: unknown, location: string): void {
  for (const constraint of constraints) {
    let result: unknown[];
    try {
      result = constraint.evaluate(value, ctx.fhirpathEnv);
    } catch {
      continue; // functions fhirpath.js does not implement (e.g. htmlChecks) cannot decide
    }
    if (result.length === 1 && result[0] === false) {
      ctx.issues.push(issue(constraint.severity, 'invariant', `${constraint.key}: ${constraint.human}`, [location]));
    }
  }
}
