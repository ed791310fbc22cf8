import { issue } from '../outcome.js';
import type { ElementNode } from './compile.js';
import type { WalkContext } from './walk-context.js';

/**
 * An extension whose definition is not known (not in profiles/, not stored, not one of HL7's
 * R4 extensions): its content was checked only as an Extension. UNKNOWN_EXTENSIONS says what
 * else happens: nothing (accept, as HAPI's validating interceptor does by default), a warning,
 * or an error (reject, as HL7's validator_cli does without -allow-extension).
 */
export function noteUnknownExtension(ctx: WalkContext, node: ElementNode, url: string, location: string): void {
  if (ctx.unknownExtensions === 'accept') return;
  // `ombCategory` inside us-core-race: a part of the complex extension around it, defined there.
  if (node.path === 'Extension.extension' && !url.includes(':')) return;
  ctx.sawUnknownExtension = true;
  const severity = ctx.unknownExtensions === 'reject' ? 'error' : 'warning';
  const text = `the extension ${url.slice(0, 200)} is not known to this server (no StructureDefinition defines it)`;
  ctx.issues.push(issue(severity, 'extension', text, [location]));
}
