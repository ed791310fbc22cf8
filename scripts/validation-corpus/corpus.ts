/**
 * The validation corpus: valid resources (fixtures/, the hand-written ones in base/, the
 * StructureDefinitions of profiles/) and, from them, mutations that each break one rule.
 * Deterministic: the same files give the same cases in the same order.
 *
 *   npx tsx scripts/validation-corpus/corpus.ts [OUT_DIR]   writes one JSON file per case (and index.json)
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { CLAIMS, PROFILE_MUTATIONS, TARGETED, systematic, type Mutation, type Resource } from './mutations.js';

export interface CorpusCase {
  /** `base~family~n`, stable between runs. */
  id: string;
  base: string;
  family: string;
  rule: string;
  /** The resource, or (for cases JSON objects cannot express) the exact request text. */
  resource?: Resource;
  text?: string;
  /** What a correct validator answers. */
  expect: 'valid' | 'invalid';
}

const ROOT = fileURLToPath(new URL('../../', import.meta.url));

interface Base {
  name: string;
  resource: Resource;
  /** The hand-written bases also get the systematic mutations one level down, and the type-independent rules. */
  handWritten: boolean;
}

function readBases(): Base[] {
  const read = (dir: string, prefix: string, handWritten: boolean) =>
    readdirSync(join(ROOT, dir))
      .filter((f) => f.endsWith('.json'))
      .sort()
      .map((f) => ({ name: `${prefix}${f.replace(/\.json$/, '')}`, resource: JSON.parse(readFileSync(join(ROOT, dir, f), 'utf8')) as Resource, handWritten }));
  return [
    ...read('fixtures', 'fixture:', false),
    ...read('scripts/validation-corpus/base', 'base:', true),
    ...read('profiles', 'profile:', false).filter((b) => b.resource.resourceType === 'StructureDefinition'),
  ];
}

const applies = (mutation: Mutation, base: Base) =>
  (mutation.types === '*' || mutation.types.includes(base.resource.resourceType as string)) && (base.handWritten || !mutation.handWrittenOnly);

/** Request texts that a parsed object cannot show: duplicate keys, JSON errors. */
function rawCases(base: Base): Omit<CorpusCase, 'id' | 'base'>[] {
  if (base.resource.resourceType !== 'Patient') return [];
  const text = JSON.stringify(base.resource);
  const out: Omit<CorpusCase, 'id' | 'base'>[] = [];
  const dup = text.replace(/^\{"resourceType":"Patient",/, '{"resourceType":"Patient","active":true,"active":false,');
  out.push({ family: 'json-syntax', rule: 'duplicate key "active"', text: dup, expect: 'invalid' });
  out.push({ family: 'json-syntax', rule: 'duplicate key "resourceType"', text: text.replace(/^\{"resourceType":"Patient",/, '{"resourceType":"Patient","resourceType":"Patient",'), expect: 'invalid' });
  return out;
}

export function buildCorpus(): CorpusCase[] {
  const cases: CorpusCase[] = [];
  const seen = new Set<string>();
  const counters = new Map<string, number>();
  const add = (base: Base, c: Omit<CorpusCase, 'id' | 'base'>) => {
    const key = c.text ?? JSON.stringify(c.resource);
    if (seen.has(key)) return; // two rules that end in the same resource are one case
    seen.add(key);
    const prefix = `${base.name}~${c.family}`;
    const n = (counters.get(prefix) ?? 0) + 1;
    counters.set(prefix, n);
    cases.push({ id: `${prefix}~${n}`, base: base.name, ...c });
  };
  for (const base of readBases()) {
    add(base, { family: 'valid', rule: 'the base resource as it is', resource: base.resource, expect: 'valid' });
    const claimed = ((base.resource.meta as { profile?: string[] } | undefined)?.profile ?? []);
    const mutations = [
      // HL7's validator takes about a second per profile with a snapshot: only targeted mutations for those.
      ...(base.name.startsWith('profile:') ? [] : systematic(base.resource, base.handWritten ? 2 : 1)),
      ...TARGETED.filter((mutation) => applies(mutation, base)),
      ...PROFILE_MUTATIONS.filter((mutation) => claimed.includes(mutation.profile)),
      ...CLAIMS.filter((mutation) => applies(mutation, base)),
    ];
    for (const mutation of mutations) {
      const resource = mutation.apply(base.resource);
      if (resource === undefined) continue;
      add(base, { family: mutation.family, rule: mutation.rule, resource, expect: mutation.expect ?? 'invalid' });
    }
    for (const raw of rawCases(base)) add(base, raw);
  }
  return cases;
}

/** The text sent to a validator for the case. */
export const caseText = (c: CorpusCase): string => c.text ?? JSON.stringify(c.resource);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const out = process.argv[2] ?? join(ROOT, 'scripts/validation-corpus/generated');
  rmSync(out, { recursive: true, force: true });
  mkdirSync(out, { recursive: true });
  const cases = buildCorpus();
  for (const c of cases) writeFileSync(join(out, `${c.id.replace(/[^A-Za-z0-9._-]+/g, '_')}.json`), caseText(c) + '\n');
  writeFileSync(join(out, 'index.json'), JSON.stringify(cases.map(({ resource: _r, text: _t, ...meta }) => meta), null, 1) + '\n');
  console.log(`${cases.length} cases written to ${out}`);
}
