import type { Coding, Resource } from 'fhir/r4';
import { badRequest } from '../outcome.js';
import { topLevelElements } from './structure-definitions.js';

/**
 * `_summary` and `_elements`: the subsets of a resource a client may ask for, with the element
 * lists taken from the base StructureDefinitions (isSummary, min > 0), computed once per type.
 */
export type SummaryMode = 'true' | 'text' | 'data' | 'count' | 'false';

interface TypeElements {
  summary: string[];
  mandatory: string[];
}

const cache = new Map<string, TypeElements>();

function elementsOf(type: string): TypeElements {
  let found = cache.get(type);
  if (!found) {
    const top = topLevelElements(type);
    const name = (path: string) => path.slice(type.length + 1);
    found = {
      summary: top.filter((e) => e.isSummary).map((e) => name(e.path)),
      mandatory: top.filter((e) => (e.min ?? 0) > 0).map((e) => name(e.path)),
    };
    cache.set(type, found);
  }
  return found;
}

/** True when the JSON key belongs to the element name (choice types: `deceased[x]` has `deceasedBoolean`). */
function keyMatches(key: string, element: string): boolean {
  const plain = key.startsWith('_') ? key.slice(1) : key;
  if (element.endsWith('[x]')) {
    const stem = element.slice(0, -3);
    return plain.startsWith(stem) && /^[A-Z]/.test(plain.slice(stem.length));
  }
  return plain === element;
}

const SUBSETTED: Coding = {
  system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue',
  code: 'SUBSETTED',
  display: 'subsetted',
};

function keep(resource: Resource, elements: string[]): Resource {
  const kept: Record<string, unknown> = { resourceType: resource.resourceType };
  for (const [key, value] of Object.entries(resource)) {
    if (key === 'id' || key === 'meta' || elements.some((e) => keyMatches(key, e))) kept[key] = value;
  }
  const meta = { ...(resource.meta ?? {}) };
  meta.tag = [...(meta.tag ?? []), SUBSETTED];
  kept.meta = meta;
  return kept as unknown as Resource;
}

export function parseSummary(value: string | undefined): SummaryMode | undefined {
  if (value === undefined) return undefined;
  if (!['true', 'text', 'data', 'count', 'false'].includes(value)) {
    throw badRequest(`_summary must be one of true, text, data, count, false; got "${value}"`, 'invalid');
  }
  return value as SummaryMode;
}

/** The resource as the client asked to see it. `_summary` wins over `_elements`. */
export function shapeResource(resource: Resource, summary?: SummaryMode, elementsParam?: string): Resource {
  const type = resource.resourceType;
  if (summary === 'true') return keep(resource, elementsOf(type).summary);
  if (summary === 'text') return keep(resource, ['text', ...elementsOf(type).mandatory]);
  if (summary === 'data') {
    const { text: _text, ...rest } = resource as Resource & { text?: unknown };
    return keep(rest as Resource, Object.keys(rest));
  }
  if (elementsParam !== undefined && summary !== 'false') {
    const asked = elementsParam
      .split(',')
      .map((e) => e.trim())
      .filter(Boolean)
      .map((e) => (e.startsWith(`${type}.`) ? e.slice(type.length + 1) : e));
    return keep(resource, [...asked, ...elementsOf(type).mandatory]);
  }
  return resource;
}
