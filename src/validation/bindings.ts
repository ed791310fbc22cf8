import type { CodeableConcept, Coding } from 'fhir/r4';
import { expandValueSet } from '../fhir/value-sets.js';
import { issue } from '../outcome.js';
import type { ElementNode } from './compile.js';
import { quote } from './primitives.js';
import type { WalkContext } from './walk-context.js';

/**
 * Terminology bindings against the R4 ValueSets shipped with the definitions: a `required`
 * binding is an error when broken, `extensible` and `preferred` ones are warnings. ValueSets
 * that cannot be listed here (BCP-47 languages, MIME types, filters) are not checked.
 */
export function checkBinding(ctx: WalkContext, node: ElementNode, typeCode: string, value: unknown, location: string): void {
  const binding = node.binding!;
  if (binding.strength === 'example') return;
  if (binding.expansion === undefined) binding.expansion = expandValueSet(binding.valueSet) ?? null;
  const expansion = binding.expansion;
  if (!expansion) return;
  const severity = binding.strength === 'required' ? 'error' : 'warning';
  const where = () => `the value set ${binding.valueSet.split('|')[0]} (${binding.strength})`;
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
    const codings = (value as CodeableConcept).coding ?? [];
    if (codings.length === 0) {
      if (severity === 'error') ctx.issues.push(issue('error', 'code-invalid', `needs a coding from ${where()}`, [location]));
    } else if (!codings.some((c) => inSet(c))) {
      ctx.issues.push(issue(severity, 'code-invalid', `none of its codings is in ${where()}`, [location]));
    }
  }
}
