import type { Coding } from 'fhir/r4';
import { codeMembership, conceptDisplays } from '../fhir/value-sets.js';
import { issue } from '../outcome.js';
import { isSyntaxSystem, syntaxProblem } from './code-syntax.js';
import { quote } from './primitives.js';
import type { WalkContext } from './walk-context.js';

/**
 * What can be known of any Coding without a terminology server: a BCP-47 or BCP-13 code must
 * be well-formed; when the code system ships with the R4 definitions (or profiles/) complete, the
 * code must be one of it, whatever binding the element has (HL7's validator: "Unknown code"),
 * and a display must be one the code system gives the code (its display or a designation,
 * exactly: HL7's validator is as strict).
 * A wrong display is a warning unless DISPLAY_MISMATCH=error (validator_cli's
 * -display-issues-are-warnings is the same choice).
 */
export function checkCoding(ctx: WalkContext, value: unknown, location: string): void {
  const { system, code, display } = value as Coding;
  if (typeof system !== 'string' || typeof code !== 'string') return;
  if (isSyntaxSystem(system)) {
    const problem = syntaxProblem(system, code);
    if (problem) ctx.issues.push(issue('error', 'code-invalid', `${quote(code)} ${problem}`, [`${location}.code`]));
    return;
  }
  const isCode = codeMembership(system);
  if (isCode && !isCode(code)) {
    ctx.issues.push(issue('error', 'code-invalid', `${quote(code)} is not a code of ${system}`, [`${location}.code`]));
    return;
  }
  if (typeof display !== 'string') return;
  const known = conceptDisplays(system)?.get(code);
  if (!known || known.includes(display)) return;
  const text = `the display ${quote(display)} is not the one ${system}|${code} has: ${quote(known[0])}`;
  ctx.issues.push(issue(ctx.displayMismatch, 'invalid', text, [`${location}.display`]));
}
