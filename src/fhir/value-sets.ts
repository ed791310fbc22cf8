import type { CodeSystem, CodeSystemConcept, ValueSet, ValueSetComposeInclude } from 'fhir/r4';
import { parseDefinitionFile, type DefinitionFile } from './definitions.js';

/**
 * The R4 ValueSets and CodeSystems shipped with the definitions, expanded on demand for
 * binding checks. Files are read lazily (the FHIR one first; the v3 and v2 ones only when a
 * URL is not found there) and each expansion is kept.
 */
export interface Expansion {
  /** `system|code` of every member. */
  members: Set<string>;
  /** The bare codes, for `code` elements whose system is implied. */
  codes: Set<string>;
}

const FILES: DefinitionFile[] = ['valuesets.json', 'v3-codesystems.json', 'v2-tables.json'];
const valueSets = new Map<string, ValueSet>();
const codeSystems = new Map<string, CodeSystem>();
let filesRead = 0;
const expansions = new Map<string, Expansion | null>();

function readNextFile(): boolean {
  if (filesRead >= FILES.length) return false;
  const bundle = parseDefinitionFile<{ entry?: { resource: ValueSet | CodeSystem }[] }>(FILES[filesRead++]);
  for (const { resource } of bundle.entry ?? []) {
    if (!resource.url) continue;
    if (resource.resourceType === 'ValueSet' && !valueSets.has(resource.url)) valueSets.set(resource.url, resource);
    if (resource.resourceType === 'CodeSystem' && !codeSystems.has(resource.url)) codeSystems.set(resource.url, resource);
  }
  return true;
}

/**
 * A ValueSet or CodeSystem of an implementation guide the server ships (profiles/): used like
 * the R4 ones. Registered at start-up, before any validation looks the URL up.
 */
export function addTerminology(resource: ValueSet | CodeSystem): void {
  if (!resource.url) return;
  if (resource.resourceType === 'ValueSet') valueSets.set(resource.url, resource);
  else codeSystems.set(resource.url, resource);
  expansions.delete(resource.url);
  displays.delete(resource.url);
  membership.delete(resource.url);
}

function find<T>(map: Map<string, T>, url: string): T | undefined {
  while (!map.has(url) && readNextFile());
  return map.get(url);
}

function allCodes(concepts: CodeSystemConcept[] | undefined, into: string[]): string[] {
  for (const concept of concepts ?? []) {
    into.push(concept.code);
    allCodes(concept.concept, into);
  }
  return into;
}

/** The codes one include/exclude names, or undefined when they cannot be listed here. */
function codesOf(part: ValueSetComposeInclude): Array<[string, string]> | undefined {
  const result: Array<[string, string]> = [];
  if (part.system) {
    if (part.filter?.length) return undefined;
    if (part.concept) {
      for (const c of part.concept) result.push([part.system, c.code]);
    } else {
      const system = find(codeSystems, part.system);
      if (!system || system.content !== 'complete') return undefined;
      for (const code of allCodes(system.concept, [])) result.push([part.system, code]);
    }
  }
  for (const url of part.valueSet ?? []) {
    const nested = expandValueSet(url);
    if (!nested) return undefined;
    const inner = [...nested.members].map((m) => m.split('|') as [string, string]);
    if (part.system) {
      const keys = new Set(inner.map(([s, c]) => `${s}|${c}`));
      return result.filter(([s, c]) => keys.has(`${s}|${c}`));
    }
    result.push(...inner);
  }
  return result;
}

/** The members of a ValueSet (canonical URL, `|version` ignored), or undefined when not enumerable. */
export function expandValueSet(canonical: string): Expansion | undefined {
  const url = canonical.split('|')[0];
  const known = expansions.get(url);
  if (known !== undefined) return known ?? undefined;
  expansions.set(url, null); // guards against ValueSets that include themselves
  const valueSet = find(valueSets, url);
  let expansion: Expansion | undefined;
  if (valueSet?.compose) {
    const members = new Set<string>();
    let complete = true;
    for (const include of valueSet.compose.include) {
      const codes = codesOf(include);
      if (!codes) complete = false;
      else for (const [s, c] of codes) members.add(`${s}|${c}`);
    }
    for (const exclude of valueSet.compose.exclude ?? []) {
      for (const [s, c] of codesOf(exclude) ?? []) members.delete(`${s}|${c}`);
    }
    if (complete) expansion = { members, codes: new Set([...members].map((m) => m.slice(m.lastIndexOf('|') + 1))) };
  }
  expansions.set(url, expansion ?? null);
  return expansion;
}

const displays = new Map<string, Map<string, string[]> | null>();

/**
 * The displays a code of a shipped CodeSystem may carry (its display and designations), by
 * code; undefined for a system that is not shipped. Built once per system.
 */
export function conceptDisplays(system: string): Map<string, string[]> | undefined {
  let known = displays.get(system);
  if (known === undefined) {
    const codeSystem = find(codeSystems, system);
    known = codeSystem?.concept ? new Map() : null;
    if (known) addDisplays(codeSystem!.concept, known);
    displays.set(system, known);
  }
  return known ?? undefined;
}

function addDisplays(concepts: CodeSystemConcept[] | undefined, into: Map<string, string[]>): void {
  for (const concept of concepts ?? []) {
    const names = [concept.display, ...(concept.designation ?? []).map((d) => d.value)].filter((d): d is string => typeof d === 'string');
    if (names.length > 0) into.set(concept.code, names);
    addDisplays(concept.concept, into);
  }
}

const membership = new Map<string, ((code: string) => boolean) | null>();

/**
 * Whether a code is one of a shipped CodeSystem that lists all its codes (content `complete`),
 * by the system's case rule (codes of a system that does not say it is case-sensitive, as v2's
 * tables, match in any case); undefined for other systems (not shipped, fragments, supplements,
 * examples), whose codes cannot be known here. Built once per system.
 */
export function codeMembership(system: string): ((code: string) => boolean) | undefined {
  let known = membership.get(system);
  if (known === undefined) {
    const codeSystem = find(codeSystems, system);
    known = codeSystem?.content === 'complete' && codeSystem.concept?.length ? membershipOf(codeSystem) : null;
    membership.set(system, known);
  }
  return known ?? undefined;
}

function membershipOf(codeSystem: CodeSystem): (code: string) => boolean {
  const codes = new Set(allCodes(codeSystem.concept, []));
  if (codeSystem.caseSensitive === true) return (code) => codes.has(code);
  const lowerCase = new Set([...codes].map((c) => c.toLowerCase()));
  // The exact spelling first: the usual case costs no new string.
  return (code) => codes.has(code) || lowerCase.has(code.toLowerCase());
}
