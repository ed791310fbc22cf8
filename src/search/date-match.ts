import type { DateValue } from './ast.js';

/**
 * Date prefixes as comparisons of the stored range [lo, hi] with the query range [low, high]
 * (R4 search.html, "date"). Used to build the MongoDB filter and, for resources with several
 * dates in one parameter, to check each stored range in the server.
 */
export interface Bounds {
  lo?: { op: '$gt' | '$gte' | '$lt' | '$lte'; at: Date }[];
  hi?: { op: '$gt' | '$gte' | '$lt' | '$lte'; at: Date }[];
  /** `ne`: the negation of `eq`. */
  negate?: boolean;
}

/** `ap`: within 10% of the distance between the value and now (at least a day), as HAPI does. */
function approximately(value: DateValue, now = Date.now()): { low: Date; high: Date } {
  const gap = Math.max(Math.abs(now - value.low.getTime()) * 0.1, 86_400_000);
  return { low: new Date(value.low.getTime() - gap), high: new Date(value.high.getTime() + gap) };
}

export function dateBounds(value: DateValue): Bounds {
  const { low, high } = value;
  switch (value.prefix) {
    case 'eq':
      return { lo: [{ op: '$gte', at: low }], hi: [{ op: '$lte', at: high }] };
    case 'ne':
      return { lo: [{ op: '$gte', at: low }], hi: [{ op: '$lte', at: high }], negate: true };
    case 'gt':
      return { hi: [{ op: '$gt', at: high }] };
    case 'ge':
      return { hi: [{ op: '$gte', at: low }] };
    case 'lt':
      return { lo: [{ op: '$lt', at: low }] };
    case 'le':
      return { lo: [{ op: '$lte', at: high }] };
    case 'sa':
      return { lo: [{ op: '$gt', at: high }] };
    case 'eb':
      return { hi: [{ op: '$lt', at: low }] };
    case 'ap': {
      const near = approximately(value);
      return { lo: [{ op: '$lte', at: near.high }], hi: [{ op: '$gte', at: near.low }] };
    }
  }
}

/** True when both bounds apply to one stored range (so a resource's hull of several ranges is not enough). */
export function needsOneRange(bounds: Bounds): boolean {
  return (bounds.lo !== undefined && bounds.hi !== undefined) || bounds.negate === true ||
    // sa / eb compare the "wrong" end: the hull's lowest lo is not every range's lo.
    bounds.lo?.some((b) => b.op === '$gt') === true || bounds.hi?.some((b) => b.op === '$lt') === true;
}

function compare(op: '$gt' | '$gte' | '$lt' | '$lte', a: Date, b: Date): boolean {
  const x = a.getTime();
  const y = b.getTime();
  return op === '$gt' ? x > y : op === '$gte' ? x >= y : op === '$lt' ? x < y : x <= y;
}

export function rangeMatches(bounds: Bounds, range: { lo: Date; hi: Date }): boolean {
  const inside = (bounds.lo ?? []).every((b) => compare(b.op, range.lo, b.at)) &&
    (bounds.hi ?? []).every((b) => compare(b.op, range.hi, b.at));
  return bounds.negate ? !inside : inside;
}
