import { isR4ResourceType } from '../fhir/structure-definitions.js';
import type { ElementNode, TypeRef } from './compile.js';
import { isPrimitiveType } from './primitives.js';

/**
 * Discriminator paths (R4 profiling §5.1.0.11): `$this`, element names, `extension('url')`,
 * `ofType(T)` and `resolve()`, followed twice: through a slice's elements to find what the
 * slice demands, and through an item's JSON to find what it has.
 */
export type Step =
  | { kind: 'name'; name: string }
  | { kind: 'extension'; url: string }
  | { kind: 'ofType'; type: string }
  | { kind: 'resolve' };

const EXTENSION = /^extension\(\s*'([^']+)'\s*\)$/;
const OF_TYPE = /^ofType\(\s*([A-Za-z][A-Za-z0-9]*)\s*\)$/;
const NAME = /^[A-Za-z][A-Za-z0-9]*$/;

/** The steps of a path, or undefined when it uses FHIRPath beyond what discriminators allow. */
export function parsePath(path: string): Step[] | undefined {
  if (path === '$this') return [];
  const steps: Step[] = [];
  // Split on dots outside quotes: extension('http://a.b/c').value
  for (const part of path.replace(/^\$this\./, '').match(/(?:[^.']|'[^']*')+/g) ?? []) {
    const extension = EXTENSION.exec(part);
    const ofType = OF_TYPE.exec(part);
    if (extension) steps.push({ kind: 'extension', url: extension[1] });
    else if (ofType) steps.push({ kind: 'ofType', type: ofType[1] });
    else if (part === 'resolve()') steps.push({ kind: 'resolve' });
    else if (NAME.test(part)) steps.push({ kind: 'name', name: part });
    else return undefined;
  }
  return steps;
}

/** Where a path leads in a slice's definition: the element, its types there, and whether it went through resolve(). */
export interface Located {
  node: ElementNode;
  types: TypeRef[];
  resolved: boolean;
}

/** Follows the steps through the slice's elements; undefined when the slice says nothing there. */
export function locate(slice: ElementNode, steps: Step[], dataTypeRoot: (type: string) => ElementNode | undefined): Located | undefined {
  let at: Located = { node: slice, types: slice.types, resolved: false };
  for (const step of steps) {
    if (step.kind === 'ofType') {
      at = { ...at, types: at.types.filter((t) => t.code === step.type) };
      continue;
    }
    if (step.kind === 'resolve') {
      at = { ...at, resolved: true };
      continue;
    }
    const children = at.node.children.length > 0 ? at.node.children : dataTypeRoot(at.types[0]?.code ?? '')?.children ?? [];
    const name = step.kind === 'name' ? step.name : 'extension';
    const child = children.find((c) => c.name === name);
    if (!child) return undefined;
    const node = step.kind === 'extension' ? child.slices.find((s) => s.types.some((t) => t.profiles.includes(step.url))) : child;
    if (!node) return undefined;
    at = { node, types: node.types, resolved: false };
  }
  return at;
}

/** A value found at a path in an item, with its FHIR type when the JSON tells it. */
export interface Found {
  value: unknown;
  type?: string;
  /** resolve() could not find the resource; `type` may still come from the reference. */
  unresolved?: boolean;
}

/** Resolves a reference string to a resource of the instance (contained `#id`, Bundle fullUrl). */
export type Resolver = (reference: string) => Record<string, unknown> | undefined;

export function select(item: Found, steps: Step[], resolve: Resolver): Found[] {
  let found: Found[] = [typed(item.value, item.type)];
  for (const step of steps) {
    found = found.flatMap((f) => follow(f, step, resolve));
    if (found.length === 0) break;
  }
  return found;
}

function follow(from: Found, step: Step, resolve: Resolver): Found[] {
  const value = from.value;
  if (step.kind === 'ofType') return from.type === step.type ? [from] : [];
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return [];
  const object = value as Record<string, unknown>;
  if (step.kind === 'resolve') {
    const reference = object.reference;
    if (typeof reference !== 'string') return [];
    const target = resolve(reference);
    if (target) return [typed(target)];
    return [{ value: undefined, type: typeOfReference(reference), unresolved: true }];
  }
  if (step.kind === 'extension') {
    const extensions = Array.isArray(object.extension) ? object.extension : [];
    return extensions.filter((e) => (e as { url?: unknown })?.url === step.url).map((e) => typed(e));
  }
  const own = object[step.name];
  if (own !== undefined) return (Array.isArray(own) ? own : [own]).map((v) => typed(v));
  // A choice element: `value` is present as `valueQuantity`, `valueString`...
  for (const [key, v] of Object.entries(object)) {
    if (key.length > step.name.length && key.startsWith(step.name) && /[A-Z]/.test(key[step.name.length])) {
      return [typed(v, choiceType(key.slice(step.name.length)))];
    }
  }
  return [];
}

function typed(value: unknown, type?: string): Found {
  const resourceType = (value as { resourceType?: unknown } | null)?.resourceType;
  return { value, type: typeof resourceType === 'string' ? resourceType : type };
}

/** `Quantity` stays, `DateTime` is the primitive `dateTime`. */
function choiceType(suffix: string): string {
  const lower = suffix.charAt(0).toLowerCase() + suffix.slice(1);
  return isPrimitiveType(lower) ? lower : suffix;
}

function typeOfReference(reference: string): string | undefined {
  const type = /(?:^|\/)([A-Z][A-Za-z]+)\/[A-Za-z0-9\-.]{1,64}(?:\/_history\/[^/]+)?$/.exec(reference)?.[1];
  return type && isR4ResourceType(type) ? type : undefined;
}
