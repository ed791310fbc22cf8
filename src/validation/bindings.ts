import type { CodeableConcept, Coding } from 'fhir/r4';
import { expandValueSet } from '../fhir/value-sets.js';
import { issue } from '../outcome.js';
import type { ElementNode } from './compile.js';
import { syntaxProblem, syntaxSystemOf } from './code-syntax.js';
import { quote } from './primitives.js';
import type { WalkContext } from './walk-context.js';

/**
 * Terminology bindings against the R4 ValueSets shipped with the definitions: a `required`
 * binding is an error when broken, `extensible` and `preferred` ones are warnings. BCP-47
 * languages and MIME types are checked by their grammar; other ValueSets that cannot be listed
 * here (filters, code systems not shipped) are not checked.
 */
export function checkBinding(ctx: WalkContext, node: ElementNode, typeCode: string, value: unknown, location: string): void {
  const binding = node.binding!;
  if (binding.strength === 'example') return;
  if (binding.expansion === undefined) {
    binding.expansion = expandValueSet(binding.valueSet) ?? null;
    binding.syntaxSystem = syntaxSystemOf(binding.valueSet) ?? null;
  }
  const expansion = binding.expansion;
  const severity = binding.strength === 'required' ? 'error' : 'warning';
  const where = () => `the value set ${binding.valueSet.split('|')[0]} (${binding.strength})`;
  if (binding.syntaxSystem) {
    // R4's `languages` lists common tags for a preferred binding; any other well-formed tag may still be used.
    if (checkBySyntax(ctx, binding.syntaxSystem, severity, where, typeCode, value, location) || !expansion) return;
  }
  if (!expansion) return;
  const inSet = (c: Coding) => (c.system ? expansion.members.has(`${c.system}|${c.code}`) : expansion.codes.has(c.code ?? ''));
  if (typeCode === 'code' && typeof value === 'string') {
    if (!expansion.codes.has(value)) {
      ctx.issues.push(issue(severity, 'code-invalid', `${quote(value)} is not a code of ${where()}`, [location]));
    }
  } else if (typeCode === 'Coding') {
    const coding = value as Coding;
    if (coding.code !== undefined && !inSet(coding)) {
      ctx.issues.push(issue(severity, 'code-invalid', `${quote(`${coding.system ?? ''}|${coding.code}`)} is not in ${where()}`, [location]));
    }
  } else if (typeCode === 'CodeableConcept') {
    const codings = codingsOf(value as CodeableConcept);
    if (codings.length === 0) {
      if (severity === 'error') ctx.issues.push(issue('error', 'code-invalid', `needs a coding from ${where()}`, [location]));
    } else if (!codings.some((c) => inSet(c))) {
      ctx.issues.push(issue(severity, 'code-invalid', `none of its codings is in ${where()}`, [location]));
    }
  }
}

/**
 * A binding to all languages or all media types, which no file lists: a `code` must follow the
 * grammar (whatever the strength: the element's codes have no other system), and a Coding of
 * another system is judged by the strength. Codings of the system itself are checked with
 * every Coding (terminology.ts). True when it reported a problem.
 */
function checkBySyntax(
  ctx: WalkContext,
  system: string,
  severity: 'error' | 'warning',
  where: () => string,
  typeCode: string,
  value: unknown,
  location: string,
): boolean {
  if (typeCode === 'code' && typeof value === 'string') {
    const problem = syntaxProblem(system, value);
    if (problem) ctx.issues.push(issue('error', 'code-invalid', `${quote(value)} ${problem}`, [location]));
    return problem !== undefined;
  }
  const codings = typeCode === 'Coding' ? [value as Coding] : typeCode === 'CodeableConcept' ? codingsOf(value as CodeableConcept) : [];
  if (codings.length > 0 && !codings.some((c) => c.system === system)) {
    ctx.issues.push(issue(severity, 'code-invalid', `needs a coding of ${system} to be in ${where()}`, [location]));
    return true;
  }
  return false;
}

/**
 * A CodeableConcept's codings that are objects: a `coding` that is not a list (or holds
 * non-objects) is the structure walk's to report, and the binding is judged on what is usable.
 */
function codingsOf(concept: CodeableConcept): Coding[] {
  const coding: unknown = concept.coding;
  return Array.isArray(coding) ? coding.filter((c): c is Coding => c !== null && typeof c === 'object') : [];
}
