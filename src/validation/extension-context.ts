import { typeAndAncestors } from '../fhir/structure-definitions.js';
import { issue } from '../outcome.js';
import type { CompiledTree, ElementNode } from './compile.js';
import type { WalkContext } from './walk-context.js';

/**
 * Where a known extension may be used: its definition's `context` entries. An `element` context
 * names an element by path (`Patient.birthDate`, `HumanName.family`, `StructureDefinition.snapshot.element.binding`)
 * or a type (`Patient`, `Address`, `date`, `Resource`, `Element` for anywhere); an `extension`
 * context names the extension the new one must sit inside. `fhirpath` contexts are not evaluated:
 * such an extension is accepted anywhere.
 */

/**
 * Places R4's own definitions use two extensions that their context does not list (FHIR-13328):
 * the type of a primitive's value (`structuredefinition-fhir-type`, `regex`) sits on
 * ElementDefinition.type in every R4 StructureDefinition. Accepted there too, as HL7's validator does.
 */
const R4_CONTEXT_ERRATA: Record<string, { type: 'element'; expression: string }[]> = {
  'http://hl7.org/fhir/StructureDefinition/structuredefinition-fhir-type': [{ type: 'element', expression: 'ElementDefinition.type' }],
  'http://hl7.org/fhir/StructureDefinition/regex': [{ type: 'element', expression: 'ElementDefinition.type' }],
};

/** One value the walk is inside: the element it is the value of, and its type. */
export interface HostFrame {
  node: ElementNode;
  type: string;
  /** The url of an extension, for extensions inside it. */
  url?: string;
  /** The root of a resource (contained ones too): paths start again here. */
  resource?: boolean;
}

/** Runs `visit` with `frame` as the innermost value (the host of the extensions found in it). */
export function inside<T>(ctx: WalkContext, frame: HostFrame, visit: () => T): T {
  ctx.hosts.push(frame);
  try {
    return visit();
  } finally {
    ctx.hosts.pop();
  }
}

export function checkExtensionContext(ctx: WalkContext, definition: CompiledTree, url: string, location: string): void {
  const contexts = definition.context ?? [];
  if (definition.type !== 'Extension' || contexts.length === 0) return;
  const host = ctx.hosts.at(-1);
  if (!host) return;
  let paths: Set<string> | undefined;
  for (const context of [...contexts, ...(R4_CONTEXT_ERRATA[url] ?? [])]) {
    if (context.type === 'fhirpath' || (context.type === 'element' && context.expression === 'Element')) return;
    if (context.type === 'extension' && host.url !== undefined && withoutVersion(host.url) === withoutVersion(context.expression)) return;
    if (context.type === 'element') {
      paths ??= hostPaths(ctx.hosts);
      if (paths.has(context.expression)) return;
    }
  }
  const allowed = contexts.map((c) => (c.type === 'element' ? c.expression : `${c.type} ${c.expression}`)).join(', ');
  const here = hostPaths(ctx.hosts).values().next().value;
  const text = `the extension ${url.slice(0, 200)} is not allowed here (on ${here}); its definition allows it on ${allowed.slice(0, 300)}`;
  ctx.issues.push(issue('error', 'structure', text, [location]));
}

/**
 * The names the innermost value goes by: its path from the resource root (`Patient.contact.name.family`),
 * from each type on the way (`HumanName.family`), its element's path in the definition being
 * walked, and its type with the types that type specialises (`string`, `Element`).
 */
function hostPaths(frames: HostFrame[]): Set<string> {
  const last = frames.length - 1;
  let start = last;
  while (start > 0 && !frames[start].resource) start--;
  const paths = new Set<string>();
  for (let k = last; k >= start; k--) {
    let suffix = '';
    for (let j = k + 1; j <= last; j++) suffix += `.${frames[j].node.name}`;
    const frame = frames[k];
    for (const base of [frame.resource ? frame.type : frame.node.path, frame.type, frame.node.contentReference]) if (base) paths.add(base + suffix);
  }
  for (const type of typeAndAncestors(frames[last].type)) paths.add(type);
  return paths;
}

function withoutVersion(canonical: string): string {
  const bar = canonical.indexOf('|');
  return bar < 0 ? canonical : canonical.slice(0, bar);
}
