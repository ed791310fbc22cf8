import { issue } from '../outcome.js';
import { baseTree, type ElementNode } from './compile.js';
import { deepEqual, matchesPattern } from './fixed-pattern.js';
import { locate, parsePath, select, type Found, type Resolver, type Step } from './slice-paths.js';
import type { WalkContext } from './walk-context.js';

/**
 * Slicing (R4 profiling §5.1.0.8-11): each item of a sliced element goes to the first slice
 * whose discriminators it satisfies, by `value`, `pattern`, `exists`, `type` or `profile`; then
 * slice cardinalities, `closed`/`openAtEnd` rules and `ordered` are checked. The caller
 * validates each item against its slice (or the sliced element when it has none). The tests of
 * each slice are worked out once per compiled element and kept with it.
 */
export interface SliceAssignment {
  /** For each item, the slice it belongs to (undefined: no slice). */
  sliceOf: (ElementNode | undefined)[];
}

/** Whether a value conforms to a profile; undefined when the profile is not known. */
export type ConformanceCheck = (url: string, value: unknown) => boolean | undefined;

interface Probe {
  resolve: Resolver;
  conforms: ConformanceCheck;
  /** Discriminators that could not be evaluated for an item (unknown profile, unresolvable reference). */
  undecided: Set<string>;
}

/** One discriminator of one slice: true when the item belongs to the slice by it. */
type Test = (item: Found, probe: Probe) => boolean;

interface CompiledSlicing {
  slices: { node: ElementNode; tests: Test[] }[];
  /** A discriminator this server cannot evaluate: reported, and items then go to no slice. */
  unsupported?: string;
}

const compiledSlicings = new WeakMap<ElementNode, CompiledSlicing>();

export function assignSlices(
  ctx: WalkContext,
  node: ElementNode,
  items: unknown[],
  itemType: string,
  location: string,
  conforms: ConformanceCheck,
): SliceAssignment {
  const slicing = node.slicing!;
  const sliceOf: (ElementNode | undefined)[] = items.map(() => undefined);
  let compiled = compiledSlicings.get(node);
  if (!compiled) compiledSlicings.set(node, (compiled = compileSlicing(node)));
  if (compiled.unsupported) {
    ctx.issues.push(issue('information', 'informational', compiled.unsupported, [location]));
    return { sliceOf };
  }
  const probe: Probe = { resolve: resolverFor(ctx), conforms, undecided: new Set() };
  const single = !node.repeats;
  items.forEach((value, i) => {
    const item: Found = { value, type: itemType };
    sliceOf[i] = compiled.slices.find((s) => s.tests.every((test) => test(item, probe)))?.node;
  });
  for (const text of probe.undecided) ctx.issues.push(issue('information', 'informational', text, [location]));

  for (const slice of compiled.slices) {
    const count = sliceOf.filter((s) => s === slice.node).length;
    const name = `the slice "${slice.node.sliceName}"`;
    if (count < slice.node.min) {
      const text = single ? `must be ${name} (minimum cardinality ${slice.node.min})` : `needs at least ${slice.node.min} item(s) of ${name}; found ${count}`;
      ctx.issues.push(issue('error', 'required', text, [location]));
    } else if (count > slice.node.max) {
      const text = slice.node.max === 0 ? `must not hold ${name} (maximum cardinality 0)` : `allows at most ${slice.node.max} item(s) of ${name}; found ${count}`;
      ctx.issues.push(issue('error', 'structure', text, [location]));
    }
  }
  const at = (i: number) => (single ? location : `${location}[${i}]`);
  if (slicing.rules === 'closed') {
    sliceOf.forEach((slice, i) => {
      if (!slice) ctx.issues.push(issue('error', 'structure', 'matches none of the slices of this closed slicing', [at(i)]));
    });
  }
  if (slicing.rules === 'openAtEnd') {
    const firstOpen = sliceOf.findIndex((s) => !s);
    const lateSliced = firstOpen < 0 ? -1 : sliceOf.findIndex((s, i) => i > firstOpen && s);
    if (lateSliced >= 0) {
      const text = `is in the slice "${sliceOf[lateSliced]!.sliceName}" but follows an item of no slice (items of no slice must come last: openAtEnd)`;
      ctx.issues.push(issue('error', 'structure', text, [at(lateSliced)]));
    }
  }
  if (slicing.ordered) checkOrder(ctx, compiled, sliceOf, at);
  return { sliceOf };
}

/** `ordered`: the items of each slice come in the order the profile lists the slices. */
function checkOrder(ctx: WalkContext, compiled: CompiledSlicing, sliceOf: (ElementNode | undefined)[], at: (i: number) => string): void {
  const rank = new Map(compiled.slices.map((s, i) => [s.node, i]));
  let highest = -1;
  let highestSlice: ElementNode | undefined;
  sliceOf.forEach((slice, i) => {
    if (!slice) return;
    const r = rank.get(slice)!;
    if (r < highest) {
      const text = `is in the slice "${slice.sliceName}", which must come before the slice "${highestSlice!.sliceName}" (the slicing is ordered)`;
      ctx.issues.push(issue('error', 'structure', text, [at(i)]));
    } else {
      highest = r;
      highestSlice = slice;
    }
  });
}

function compileSlicing(node: ElementNode): CompiledSlicing {
  const discriminators = node.slicing!.discriminators;
  const paths: Step[][] = [];
  for (const d of discriminators) {
    const steps = parsePath(d.path);
    if (!steps) return { slices: [], unsupported: `the discriminator path "${d.path}" is not evaluated by this server` };
    if (!['value', 'pattern', 'exists', 'type', 'profile'].includes(d.type)) {
      return { slices: [], unsupported: `slicing by a "${d.type}" discriminator is not evaluated by this server` };
    }
    paths.push(steps);
  }
  const dataTypeRoot = (type: string) => baseTree(type)?.root;
  const slices = node.slices.map((slice) => ({
    node: slice,
    tests: discriminators.map((d, i) => testFor(d.type, d.path, paths[i], slice, dataTypeRoot)),
  }));
  return { slices };
}

const never: Test = () => false;

function testFor(kind: string, path: string, steps: Step[], slice: ElementNode, dataTypeRoot: (type: string) => ElementNode | undefined): Test {
  if (kind === 'value' || kind === 'pattern') {
    const expected = expectedValue(slice, steps, dataTypeRoot);
    if (expected === undefined) return never; // the slice states no value: nothing belongs to it by this
    const equal = typeof expected === 'object' ? matchesPattern : deepEqual;
    return (item, probe) => select(item, steps, probe.resolve).some((f) => equal(f.value, expected));
  }
  const located = locate(slice, steps, dataTypeRoot);
  if (kind === 'exists') {
    // present when the slice requires the element, absent when it forbids it
    const present = located ? (located.node.min > 0 ? true : located.node.max === 0 ? false : undefined) : undefined;
    if (present === undefined) return never;
    return (item, probe) => select(item, steps, probe.resolve).some((f) => f.value !== undefined) === present;
  }
  if (!located) return never;
  if (kind === 'type') {
    const allowed = new Set(located.resolved ? located.types.flatMap((t) => t.targetTypes ?? []) : located.types.map((t) => t.code));
    if (allowed.size === 0) return never;
    return (item, probe) => select(item, steps, probe.resolve).some((f) => f.type !== undefined && allowed.has(f.type));
  }
  const profiles = located.types.flatMap((t) => (located.resolved ? t.targetProfiles ?? [] : t.profiles));
  if (profiles.length === 0) return never;
  return (item, probe) =>
    select(item, steps, probe.resolve).some((f) => {
      if (f.unresolved) {
        probe.undecided.add(`could not resolve a reference to check the "profile" discriminator ${path}`);
        return false;
      }
      return profiles.some((url) => {
        const verdict = probe.conforms(url, f.value);
        if (verdict === undefined) probe.undecided.add(`profile ${url} of a slice is not known, so no item was sliced by it`);
        return verdict === true;
      });
    });
}

/** The value a slice requires at the discriminator path, from its fixed/pattern values. */
function expectedValue(slice: ElementNode, steps: Step[], dataTypeRoot: (type: string) => ElementNode | undefined): unknown {
  let current: ElementNode = slice;
  for (let i = 0; i < steps.length; i++) {
    const step = steps[i];
    if (step.kind !== 'name') {
      const rest = locate(current, steps.slice(i, i + 1), dataTypeRoot);
      if (!rest) return undefined;
      current = rest.node;
      continue;
    }
    const type = current.types[0];
    if (step.name === 'url' && i === steps.length - 1 && type?.code === 'Extension' && type.profiles[0]) {
      return type.profiles[0];
    }
    const child = current.children.find((c) => c.name === step.name);
    if (child) {
      current = child;
      continue;
    }
    // The slice may state the value as a pattern on an ancestor: patternIdentifier {system}.
    let value = current.fixed ?? current.pattern;
    for (const rest of steps.slice(i)) value = rest.kind === 'name' ? (value as Record<string, unknown> | undefined)?.[rest.name] : undefined;
    return value;
  }
  return current.fixed ?? current.pattern;
}

/** resolve(): a contained resource of the resource being checked, or an entry of the Bundle it belongs to. */
function resolverFor(ctx: WalkContext): Resolver {
  const resource = ctx.fhirpathEnv.resource as Record<string, unknown> | undefined;
  const root = ctx.fhirpathEnv.rootResource as Record<string, unknown> | undefined;
  return (reference) => {
    if (reference.startsWith('#')) {
      const contained = Array.isArray(resource?.contained) ? resource.contained : [];
      return contained.find((c) => (c as { id?: unknown })?.id === reference.slice(1)) as Record<string, unknown> | undefined;
    }
    if (root?.resourceType !== 'Bundle' || !Array.isArray(root.entry)) return undefined;
    for (const entry of root.entry as { fullUrl?: unknown; resource?: Record<string, unknown> }[]) {
      const fullUrl = entry?.fullUrl;
      if (typeof fullUrl === 'string' && (fullUrl === reference || fullUrl.endsWith(`/${reference}`))) return entry.resource;
      const r = entry?.resource;
      if (r && `${r.resourceType}/${r.id}` === reference) return r;
    }
    return undefined;
  };
}
