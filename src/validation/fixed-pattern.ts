import { issue } from '../outcome.js';
import type { ElementNode } from './compile.js';
import { quote } from './primitives.js';
import type { WalkContext } from './walk-context.js';

/** fixed[x]: the value must be exactly this. pattern[x]: the value must contain at least this. */
export function checkFixedAndPattern(ctx: WalkContext, node: ElementNode, value: unknown, location: string): void {
  if (node.fixed !== undefined && !deepEqual(value, node.fixed)) {
    ctx.issues.push(issue('error', 'value', `must be exactly ${quote(node.fixed)} (fixed by the profile)`, [location]));
  }
  if (node.pattern !== undefined && !matchesPattern(value, node.pattern)) {
    ctx.issues.push(issue('error', 'value', `must match the pattern ${quote(node.pattern)} of the profile`, [location]));
  }
}

export function deepEqual(a: unknown, b: unknown): boolean {
  if (a === b) return true;
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return false;
  if (Array.isArray(a) !== Array.isArray(b)) return false;
  const keysA = Object.keys(a);
  const keysB = Object.keys(b);
  if (keysA.length !== keysB.length) return false;
  return keysA.every((k) => deepEqual((a as Record<string, unknown>)[k], (b as Record<string, unknown>)[k]));
}

/** Every property of the pattern is in the value; each pattern array item matches some value item. */
export function matchesPattern(value: unknown, pattern: unknown): boolean {
  if (typeof pattern !== 'object' || pattern === null) return value === pattern;
  if (typeof value !== 'object' || value === null) return false;
  if (Array.isArray(pattern)) {
    return Array.isArray(value) && pattern.every((p) => value.some((v) => matchesPattern(v, p)));
  }
  return Object.entries(pattern).every(([k, p]) => matchesPattern((value as Record<string, unknown>)[k], p));
}
