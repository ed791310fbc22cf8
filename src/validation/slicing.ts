import { issue } from '../outcome.js';
import type { ElementNode } from './compile.js';
import { deepEqual, matchesPattern } from './fixed-pattern.js';
import type { WalkContext } from './walk-context.js';

/**
 * Slicing of repeating elements by `value` and `pattern` discriminators (identifier by
 * system, coding by system, extension by url...). Each item goes to the first slice whose
 * discriminator values it carries; the caller then validates it against that slice.
 */
export interface SliceAssignment {
  /** For each item, the slice it belongs to (undefined: no slice). */
  sliceOf: (ElementNode | undefined)[];
}

const SUPPORTED = new Set(['value', 'pattern']);

export function assignSlices(ctx: WalkContext, node: ElementNode, items: unknown[], location: string): SliceAssignment {
  const slicing = node.slicing!;
  const sliceOf: (ElementNode | undefined)[] = items.map(() => undefined);
  const unsupported = slicing.discriminators.find((d) => !SUPPORTED.has(d.type));
  if (unsupported) {
    const text = `slicing by a "${unsupported.type}" discriminator is not evaluated by this server`;
    ctx.issues.push(issue('information', 'informational', text, [location]));
    return { sliceOf };
  }
  const expectations = node.slices.map((slice) => slicing.discriminators.map((d) => expectedValue(slice, d.path)));
  items.forEach((item, i) => {
    const found = node.slices.findIndex((_, s) =>
      expectations[s].every((expected, d) => expected !== undefined && carries(item, slicing.discriminators[d].path, expected)),
    );
    if (found >= 0) sliceOf[i] = node.slices[found];
  });
  const name = location;
  node.slices.forEach((slice) => {
    const count = sliceOf.filter((s) => s === slice).length;
    if (count < slice.min) {
      ctx.issues.push(issue('error', 'required', `needs at least ${slice.min} item(s) of the slice "${slice.sliceName}"; found ${count}`, [name]));
    }
    if (count > slice.max) {
      ctx.issues.push(issue('error', 'structure', `allows at most ${slice.max} item(s) of the slice "${slice.sliceName}"; found ${count}`, [name]));
    }
  });
  if (slicing.rules === 'closed') {
    sliceOf.forEach((slice, i) => {
      if (!slice) ctx.issues.push(issue('error', 'structure', 'matches none of the slices of this closed slicing', [`${location}[${i}]`]));
    });
  }
  return { sliceOf };
}

/** The value a slice requires at the discriminator path, from its fixed/pattern values. */
function expectedValue(slice: ElementNode, path: string): unknown {
  if (path === '$this') return slice.fixed ?? slice.pattern;
  const segments = path.split('.');
  let current: ElementNode = slice;
  for (let i = 0; i < segments.length; i++) {
    const segment = segments[i];
    const type = current.types[0];
    if (segment === 'url' && i === segments.length - 1 && type?.code === 'Extension' && type.profiles[0]) {
      return type.profiles[0];
    }
    const child = current.children.find((c) => c.path.slice(c.path.lastIndexOf('.') + 1) === segment);
    if (child) {
      current = child;
      continue;
    }
    // The slice may state the value as a pattern on an ancestor: patternIdentifier {system}.
    let value = current.fixed ?? current.pattern;
    for (const rest of segments.slice(i)) value = (value as Record<string, unknown> | undefined)?.[rest];
    return value;
  }
  return current.fixed ?? current.pattern;
}

function carries(item: unknown, path: string, expected: unknown): boolean {
  let values: unknown[] = [item];
  if (path !== '$this') {
    for (const segment of path.split('.')) {
      values = values.flatMap((v) => {
        const next = (v as Record<string, unknown> | null)?.[segment];
        return next === undefined ? [] : Array.isArray(next) ? next : [next];
      });
    }
  }
  return values.some((v) => (typeof expected === 'object' ? matchesPattern(v, expected) : deepEqual(v, expected)));
}
