import { issue } from '../outcome.js';
import type { ElementNode } from './compile.js';
import type { WalkContext } from './walk-context.js';

/** min/max of an element, counted over all its JSON keys (a choice's keys count together). */
export function checkCardinality(ctx: WalkContext, node: ElementNode, count: number, location: string): void {
  if (count < node.min) {
    const text = node.min === 1 ? 'is required (minimum cardinality 1)' : `needs at least ${node.min} values; found ${count}`;
    ctx.issues.push(issue('error', 'required', text, [location]));
  } else if (count > node.max) {
    const text = node.max === 0 ? 'is not allowed here (maximum cardinality 0)' : `allows at most ${node.max} value(s); found ${count}`;
    ctx.issues.push(issue('error', 'structure', text, [location]));
  }
}
