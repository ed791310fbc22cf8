/**
 * Validation speed, in-process (no server, no database): a few thousand realistic resources
 * of the four stored types, varied per iteration, validated against the base definitions,
 * and Patients also against US Core. Run alone with `npx tsx scripts/bench/validation.ts`.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { createValidator } from '../../src/validation/index.js';
import { javaAvailable, startHl7Validator } from '../validation-corpus/hl7-validator.js';
import { percentiles, type BenchRow, type BenchSuite } from './harness.js';

const fixtures = (name: string) => JSON.parse(readFileSync(new URL(`../../fixtures/${name}`, import.meta.url), 'utf8'));

/** The i-th variant of a fixture: other ids, names and dates, so no two resources are equal. */
function variant(resource: any, i: number): any {
  const copy = structuredClone(resource);
  copy.id = `${copy.id}-${i}`;
  if (copy.resourceType === 'Patient') {
    copy.name[0].family = `${copy.name[0].family}${i}`;
    copy.birthDate = `19${String(40 + (i % 60)).padStart(2, '0')}-0${1 + (i % 9)}-1${i % 10}`;
  }
  return copy;
}

async function measure(name: string, resources: any[], profiles?: string[]): Promise<BenchRow> {
  const validator = createValidator({ profilesDir: fileURLToPath(new URL('../../profiles', import.meta.url)) });
  for (const r of resources.slice(0, 500)) await validator.validate(r, { profiles }); // compile and warm up
  const samples: number[] = [];
  const start = performance.now();
  let errors = 0;
  for (const resource of resources) {
    const t0 = performance.now();
    const issues = await validator.validate(resource, { profiles });
    samples.push(performance.now() - t0);
    if (issues.some((i) => i.severity === 'error')) errors++;
  }
  const seconds = (performance.now() - start) / 1000;
  const { p50Ms, p99Ms } = percentiles(samples);
  return {
    suite: 'validation',
    name,
    rate: resources.length / seconds,
    p50Ms,
    p99Ms,
    note: `${resources.length} resources, ${((seconds * 1e6) / resources.length).toFixed(0)} µs each${errors ? `, ${errors} with errors` : ''}`,
  };
}

/**
 * HL7's validator (one JVM in --server mode, our profiles loaded) on the same resources, for
 * the speed ratio: p50 is its own time per resource (the `ms` it reports), the rate includes
 * the pipe to it. Left out when Java is missing.
 */
async function measureHl7(name: string, resources: any[]): Promise<BenchRow | undefined> {
  if (!javaAvailable()) return undefined;
  const validator = await startHl7Validator(['--any-extensions', '--display-warnings']);
  try {
    for (const r of resources.slice(0, 500)) await validator.validate(JSON.stringify(r)); // JIT warm-up
    const own: number[] = [];
    const start = performance.now();
    for (const resource of resources) own.push((await validator.validate(JSON.stringify(resource))).ms);
    const seconds = (performance.now() - start) / 1000;
    const { p50Ms, p99Ms } = percentiles(own);
    return { suite: 'validation', name, rate: resources.length / seconds, p50Ms, p99Ms, note: `${resources.length} resources, HL7's validator (HAPI FHIR 8.8.1, --server)` };
  } finally {
    await validator.close();
  }
}

export const validationSuite: BenchSuite = {
  name: 'validation',
  async run() {
    const count = 3000;
    const make = (file: string) => Array.from({ length: count }, (_, i) => variant(fixtures(file), i));
    const t0 = performance.now();
    await createValidator().validate(fixtures('patient-example.json'));
    const firstMs = performance.now() - t0;
    const mixed = ['patient-example.json', 'documentreference-example.json', 'consent-example-Out.json', 'audit-event-example-rest.json'];
    const patients = make('patient-example.json');
    const ours = await measure('Patient, base R4', patients);
    const hl7 = await measureHl7('Patient, base R4: HL7\'s validator', patients);
    return [
      { suite: 'validation', name: 'first validation (loads definitions)', p50Ms: firstMs, note: 'once per process' },
      ours,
      ...(hl7 ? [{ ...hl7, note: `${hl7.note}; ours ${(hl7.p50Ms! / ours.p50Ms!).toFixed(1)}× faster at p50` }] : []),
      await measure('Patient, US Core', make('us-core-patient-example.json')),
      await measure('DocumentReference, records profile', make('records-documentreference-example.json')),
      await measure('mixed four types, base R4', Array.from({ length: count }, (_, i) => variant(fixtures(mixed[i % 4]), i))),
    ];
  },
};
