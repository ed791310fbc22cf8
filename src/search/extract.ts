import fhirpath from 'fhirpath';
import r4Model from 'fhirpath/fhir-context/r4/index.js';
import type { Resource } from 'fhir/r4';
import { parseInstantRange } from '../fhir/date-range.js';
import { anySystem, inSystem, ofType, referenceKey, systemOnly, splitLocalReference } from './encoding.js';
import { foldText } from './normalize.js';
import type { SearchParam, SearchRegistry } from './registry.js';

/**
 * Write-time extraction: each parameter's FHIRPath values become plain, normalised values
 * under `sp` (see encoding.ts and DESIGN.md), so every search is an indexed comparison.
 */
type Obj = Record<string, any>;
const isObj = (v: unknown): v is Obj => typeof v === 'object' && v !== null && !Array.isArray(v);
const strings = (...values: unknown[]): string[] =>
  values.flat().filter((v): v is string => typeof v === 'string' && v.length > 0);

/** The lowest and highest instants a date search compares against. */
export const MIN_DATE = new Date(-8.64e15);
export const MAX_DATE = new Date(8.64e15);

function stringParts(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (!isObj(value)) return [];
  // HumanName and Address: every part is searchable on its own.
  return strings(value.text, value.family, value.given, value.prefix, value.suffix, value.line, value.city,
    value.district, value.state, value.postalCode, value.country);
}

interface TokenValues {
  keys: string[];
  texts: string[];
}

function tokenValues(value: unknown, out: TokenValues): void {
  if (typeof value === 'string' || typeof value === 'boolean' || typeof value === 'number') {
    out.keys.push(anySystem(String(value)));
    return;
  }
  if (!isObj(value)) return;
  if (Array.isArray(value.coding) || (typeof value.text === 'string' && value.value === undefined && value.code === undefined)) {
    for (const coding of value.coding ?? []) tokenValues(coding, out);
    out.texts.push(...strings(value.text));
    return;
  }
  const code = typeof value.code === 'string' ? value.code : typeof value.value === 'string' ? value.value : undefined;
  if (typeof value.system === 'string') out.keys.push(systemOnly(value.system));
  if (code === undefined) return;
  out.keys.push(anySystem(code), inSystem(value.system, code));
  out.texts.push(...strings(value.display));
  if (isObj(value.type)) {
    // Identifier.type: the `:of-type` modifier and its text.
    for (const coding of value.type.coding ?? []) {
      if (coding.system && coding.code) out.keys.push(ofType(coding.system, coding.code, code));
    }
    out.texts.push(...strings(value.type.text));
  }
}

function dateRanges(value: unknown): { lo: Date; hi: Date }[] {
  if (typeof value === 'string') {
    const range = parseInstantRange(value);
    return range ? [{ lo: range.low, hi: range.high }] : [];
  }
  if (!isObj(value)) return [];
  if (value.start !== undefined || value.end !== undefined) {
    // Period: an open end reaches to the beginning or end of time.
    const lo = typeof value.start === 'string' ? parseInstantRange(value.start)?.low : undefined;
    const hi = typeof value.end === 'string' ? parseInstantRange(value.end)?.high : undefined;
    return [{ lo: lo ?? MIN_DATE, hi: hi ?? MAX_DATE }];
  }
  if (Array.isArray(value.event)) return value.event.flatMap(dateRanges); // Timing
  return [];
}

function referenceValues(value: unknown, baseUrl: string, keys: string[], identifiers: TokenValues): void {
  if (typeof value === 'string') {
    keys.push(referenceKey(value, baseUrl));
    return;
  }
  if (!isObj(value)) return;
  if (typeof value.reference === 'string') keys.push(referenceKey(value.reference, baseUrl));
  if (isObj(value.identifier)) tokenValues(value.identifier, identifiers);
}

function quantityValue(value: unknown): number | undefined {
  if (typeof value === 'number') return value;
  if (isObj(value) && typeof value.value === 'number') return value.value;
  return undefined;
}

/** Equality keys of one composite part: its literal text forms. */
function compositePartKeys(value: unknown, baseUrl: string): string[] {
  const tokens: TokenValues = { keys: [], texts: [] };
  const references: string[] = [];
  referenceValues(value, baseUrl, references, tokens);
  // A composite's query text is matched as written, so a local reference part is also kept as its bare id.
  for (const key of [...references]) {
    const local = splitLocalReference(key);
    if (local) references.push(local.id);
  }
  tokenValues(value, tokens);
  const keys = tokens.keys.map((k) => (k.startsWith('=') ? k.slice(1) : k)).filter((k) => !k.startsWith('#'));
  return [...new Set([...keys, ...references])];
}

const unique = <T>(list: T[]) => [...new Set(list)];

function extractParam(param: SearchParam, values: unknown[], baseUrl: string, sp: Obj): void {
  const { code } = param;
  switch (param.type) {
    case 'string': {
      const raw = unique(values.flatMap(stringParts));
      if (raw.length === 0) return;
      const folded = unique(raw.map(foldText));
      sp[code] = folded;
      sp[`${code}__exact`] = raw;
      sp[`${code}__sort`] = folded[0];
      return;
    }
    case 'token': {
      const out: TokenValues = { keys: [], texts: [] };
      for (const value of values) tokenValues(value, out);
      if (out.keys.length === 0) return;
      sp[code] = unique(out.keys);
      if (out.texts.length > 0) sp[`${code}__text`] = unique(out.texts.map(foldText));
      sp[`${code}__sort`] = out.keys.find((k) => k.startsWith('='))?.slice(1) ?? out.keys[0];
      return;
    }
    case 'date': {
      const ranges = values.flatMap(dateRanges);
      if (ranges.length === 0) return;
      const lo = new Date(Math.min(...ranges.map((r) => r.lo.getTime())));
      const hi = new Date(Math.max(...ranges.map((r) => r.hi.getTime())));
      sp[code] = ranges.length === 1 ? { lo, hi } : { lo, hi, all: ranges };
      return;
    }
    case 'reference': {
      const keys: string[] = [];
      const identifiers: TokenValues = { keys: [], texts: [] };
      for (const value of values) referenceValues(value, baseUrl, keys, identifiers);
      if (keys.length > 0) {
        sp[code] = unique(keys);
        sp[`${code}__sort`] = keys[0];
      }
      if (identifiers.keys.length > 0) sp[`${code}__id`] = unique(identifiers.keys);
      return;
    }
    case 'uri': {
      const uris = unique(strings(values));
      if (uris.length === 0) return;
      sp[code] = uris;
      sp[`${code}__sort`] = uris[0];
      return;
    }
    case 'number':
    case 'quantity': {
      const numbers = values.map(quantityValue).filter((n): n is number => n !== undefined);
      if (numbers.length === 0) return;
      sp[code] = unique(numbers);
      sp[`${code}__sort`] = Math.min(...numbers);
      if (param.type === 'quantity') {
        const units: TokenValues = { keys: [], texts: [] };
        for (const v of values) if (isObj(v) && typeof v.code === 'string') tokenValues(v, units);
        for (const v of values) if (isObj(v) && typeof v.unit === 'string') units.keys.push(anySystem(v.unit));
        if (units.keys.length > 0) sp[`${code}__unit`] = unique(units.keys);
      }
      return;
    }
    case 'composite': {
      const combos: string[] = [];
      for (const value of values) {
        let partial = [''];
        for (const [i, component] of param.components.entries()) {
          const parts = evaluateRelative(component, value).flatMap((v) => compositePartKeys(v, baseUrl));
          partial = partial.flatMap((prefix) => parts.map((p) => (i === 0 ? p : `${prefix}$${p}`)));
        }
        combos.push(...partial.filter((c) => c !== ''));
      }
      if (combos.length > 0) sp[code] = unique(combos);
      return;
    }
  }
}

const relativeCache = new Map<string, (v: unknown) => unknown[]>();

function evaluateRelative(expression: string, value: unknown): unknown[] {
  let compiled = relativeCache.get(expression);
  if (!compiled) {
    compiled = makeRelative(expression);
    relativeCache.set(expression, compiled);
  }
  return compiled(value);
}

function makeRelative(expression: string): (v: unknown) => unknown[] {
  try {
    const compiled = fhirpath.compile(expression, r4Model);
    return (v) => (isObj(v) ? (compiled(v) as unknown[]) : []);
  } catch {
    return () => [];
  }
}

/** The `sp` field of a current document: every parameter of the type, evaluated on the resource. */
export function extractSearchValues(registry: SearchRegistry, baseUrl: string, type: string, resource: Resource): Obj {
  const sp: Obj = {};
  for (const param of registry.params(type)) {
    // `_id` is searched and sorted by the document's own `_id`.
    if (!param.evaluate || param.code === '_id') continue;
    let values: unknown[];
    try {
      values = param.evaluate(resource);
    } catch {
      continue; // A custom expression that fails on this resource indexes nothing for it.
    }
    if (values.length > 0) extractParam(param, values, baseUrl, sp);
  }
  return sp;
}
