import { randomUUID } from 'node:crypto';
import { percentiles, type BenchEnv, type BenchRow, type BenchSuite } from './harness.js';

/**
 * Transaction bundles as an EHR sends them at discharge: one patient (a conditional update on
 * its MRN) with ~30 resources, its documents (each appending to the first) and an AuditEvent,
 * linked through urn:uuid references. Sent by `BENCH_BUNDLE_CONCURRENCY` clients (default 6)
 * for BENCH_SECONDS; reports resources written per second and the latency per bundle.
 */
const DOCUMENTS = 28;

function dischargeBundle(n: number) {
  const patientUrl = `urn:uuid:${randomUUID()}`;
  const firstDocUrl = `urn:uuid:${randomUUID()}`;
  const mrn = `B${process.pid}-${n}`;
  const entry: unknown[] = [
    {
      fullUrl: patientUrl,
      resource: {
        resourceType: 'Patient',
        identifier: [{ system: 'http://hospital.example.org/mrn', value: mrn }],
        name: [{ use: 'official', family: `Family${n % 997}`, given: [`Given${n % 113}`] }],
        gender: n % 2 ? 'female' : 'male',
        birthDate: `19${String(30 + (n % 70)).padStart(2, '0')}-0${1 + (n % 9)}-1${n % 10}`,
        address: [{ line: [`${n} Main Street`], city: 'Springfield', country: 'US' }],
      },
      request: { method: 'PUT', url: `Patient?identifier=http://hospital.example.org/mrn|${mrn}` },
    },
  ];
  for (let i = 0; i < DOCUMENTS; i++) {
    entry.push({
      fullUrl: i === 0 ? firstDocUrl : `urn:uuid:${randomUUID()}`,
      resource: {
        resourceType: 'DocumentReference',
        status: 'current',
        type: { coding: [{ system: 'http://loinc.org', code: i === 0 ? '18842-5' : '11506-3', display: i === 0 ? 'Discharge summary' : 'Progress note' }] },
        category: [{ coding: [{ system: 'http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category', code: 'clinical-note' }] }],
        subject: { reference: patientUrl },
        date: new Date(Date.now() - i * 3_600_000).toISOString(),
        ...(i > 0 ? { relatesTo: [{ code: 'appends', target: { reference: firstDocUrl } }] } : {}),
        description: `Note ${i} of discharge ${n}`,
        content: [{ attachment: { contentType: 'text/plain', data: Buffer.from(`Clinical note ${i} for discharge ${n}. `.repeat(8)).toString('base64'), title: `note-${i}.txt` } }],
      },
      request: { method: 'POST', url: 'DocumentReference' },
    });
  }
  entry.push({
    fullUrl: `urn:uuid:${randomUUID()}`,
    resource: {
      resourceType: 'AuditEvent',
      type: { system: 'http://terminology.hl7.org/CodeSystem/audit-event-type', code: 'rest' },
      recorded: new Date().toISOString(),
      agent: [{ requestor: true, who: { display: 'EHR discharge workflow' } }],
      source: { observer: { display: 'EHR' } },
      entity: [{ what: { reference: patientUrl } }],
    },
    request: { method: 'POST', url: 'AuditEvent' },
  });
  return { resourceType: 'Bundle', type: 'transaction', entry };
}

export const bundlesSuite: BenchSuite = {
  name: 'bundles',
  async run(env: BenchEnv): Promise<BenchRow[]> {
    const concurrency = Number(process.env.BENCH_BUNDLE_CONCURRENCY ?? 6);
    const headers = { 'content-type': 'application/fhir+json', prefer: 'return=minimal' };
    let n = 0;
    let errors = 0;
    let resources = 0;
    const samples: number[] = [];
    const send = async () => {
      const bundle = dischargeBundle(n++);
      const body = JSON.stringify(bundle);
      const started = performance.now();
      const response = await fetch(env.baseUrl, { method: 'POST', headers, body });
      await response.arrayBuffer();
      if (response.status !== 200) errors++;
      else resources += bundle.entry.length;
      return performance.now() - started;
    };
    // Warm-up: the first writes make the indexes multikey, which conflicts by itself.
    for (let i = 0; i < concurrency; i++) await send();
    resources = 0;
    errors = 0;
    const until = performance.now() + env.seconds * 1000;
    const started = performance.now();
    await Promise.all(
      Array.from({ length: concurrency }, async () => {
        while (performance.now() < until) samples.push(await send());
      }),
    );
    const seconds = (performance.now() - started) / 1000;
    const { p50Ms, p99Ms } = percentiles(samples);
    return [
      {
        suite: 'bundles',
        name: `transaction of ${DOCUMENTS + 2} resources`,
        rate: resources / seconds,
        p50Ms,
        p99Ms,
        note: `resources/s; ${samples.length} bundles (${(samples.length / seconds).toFixed(1)}/s) at concurrency ${concurrency}, ${errors} failed; latency per bundle`,
      },
    ];
  },
};
