import { issue } from '../outcome.js';
import type { ElementNode } from './compile.js';
import { checkExtensionContext } from './extension-context.js';
import type { WalkContext } from './walk-context.js';

/**
 * Where an extension is (the walk's innermost host): a top-level extension's url is absolute
 * (only the parts of a complex extension have names like `ombCategory`), and an extension whose
 * definition is known is used where its context allows.
 */
export function checkExtensionUse(ctx: WalkContext, node: ElementNode, extension: Record<string, unknown>, location: string): void {
  const url = extension.url;
  if (typeof url !== 'string') return;
  if (!isPartOfComplexExtension(node) && !ABSOLUTE.test(url)) {
    ctx.issues.push(issue('error', 'value', `the url of an extension must be absolute, not ${JSON.stringify(url.slice(0, 100))} (only the parts of a complex extension have relative names)`, [`${location}.url`]));
    return;
  }
  const definition = ctx.profileTree(url);
  if (definition) checkExtensionContext(ctx, definition, url, location);
}

/** A scheme first: `http://...`, `urn:uuid:...`. */
const ABSOLUTE = /^[A-Za-z][A-Za-z0-9+.-]*:\S/;

/** `ombCategory` inside us-core-race: a part of the complex extension around it, defined there. */
const isPartOfComplexExtension = (node: ElementNode) => node.path === 'Extension.extension';

/**
 * An extension whose definition is not known (not in profiles/, not stored, not one of HL7's
 * R4 extensions): its content was checked only as an Extension. UNKNOWN_EXTENSIONS says what
 * else happens: nothing (accept, as HAPI's validating interceptor does by default), a warning,
 * or an error (reject, as HL7's validator_cli does without -allow-extension).
 */
export function noteUnknownExtension(ctx: WalkContext, node: ElementNode, url: string, location: string): void {
  if (ctx.unknownExtensions === 'accept') return;
  if (isPartOfComplexExtension(node) && !url.includes(':')) return;
  ctx.sawUnknownExtension = true;
  const severity = ctx.unknownExtensions === 'reject' ? 'error' : 'warning';
  const text = `the extension ${url.slice(0, 200)} is not known to this server (no StructureDefinition defines it)`;
  ctx.issues.push(issue(severity, 'extension', text, [location]));
}
