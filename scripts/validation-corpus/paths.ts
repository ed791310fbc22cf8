/**
 * Reading and changing a JSON value at a path such as `name[0].given[1]` (object keys and
 * array indexes), for the corpus mutations. Every change works on a copy.
 */
type Json = unknown;
type Step = string | number;

export function parsePath(path: string): Step[] {
  if (path === '') return [];
  const steps: Step[] = [];
  for (const part of path.split('.')) {
    const match = /^([^[\]]+)((?:\[\d+\])*)$/.exec(part);
    if (!match) throw new Error(`bad corpus path ${path}`);
    steps.push(match[1]);
    for (const index of match[2].matchAll(/\[(\d+)\]/g)) steps.push(Number(index[1]));
  }
  return steps;
}

const isContainer = (v: Json): v is Record<string | number, Json> => typeof v === 'object' && v !== null;

/** The value at the path, or undefined when any step is missing. */
export function getAt(root: Json, path: string): Json {
  let current = root;
  for (const step of parsePath(path)) {
    if (!isContainer(current)) return undefined;
    current = (current as Record<string | number, Json>)[step];
  }
  return current;
}

export const hasAt = (root: Json, path: string): boolean => getAt(root, path) !== undefined;

/** A copy with the value at the path replaced (the parent must exist), or undefined when it does not. */
export function setAt(root: Json, path: string, value: Json): Json | undefined {
  const steps = parsePath(path);
  const copy = structuredClone(root);
  const parent = getAt(copy, stepsToPath(steps.slice(0, -1)));
  if (!isContainer(parent)) return undefined;
  const last = steps[steps.length - 1];
  if (Array.isArray(parent) && (typeof last !== 'number' || last > parent.length)) return undefined;
  (parent as Record<string | number, Json>)[last] = value;
  return copy;
}

/** A copy without the value at the path, or undefined when there is none. */
export function deleteAt(root: Json, path: string): Json | undefined {
  if (!hasAt(root, path)) return undefined;
  const steps = parsePath(path);
  const copy = structuredClone(root);
  const parent = getAt(copy, stepsToPath(steps.slice(0, -1))) as Record<string | number, Json> | Json[];
  const last = steps[steps.length - 1];
  if (Array.isArray(parent)) parent.splice(last as number, 1);
  else delete parent[last as string];
  return copy;
}

export function stepsToPath(steps: Step[]): string {
  return steps.map((s, i) => (typeof s === 'number' ? `[${s}]` : i === 0 ? s : `.${s}`)).join('');
}

/** Paths of the object's own elements and of the elements one level below (first array item only). */
export function elementPaths(resource: Record<string, Json>, depth: 1 | 2): string[] {
  const out: string[] = [];
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'resourceType') continue;
    out.push(key);
    if (depth === 1) continue;
    const first = Array.isArray(value) ? value[0] : value;
    const prefix = Array.isArray(value) ? `${key}[0]` : key;
    if (isContainer(first) && !Array.isArray(first) && key !== 'contained') {
      for (const child of Object.keys(first)) out.push(`${prefix}.${child}`);
    }
  }
  return out;
}
