/**
 * What authorization, Consent and audit cost: the same reads and searches against a server
 * with none of them (AUDIT_TRAIL=off, no issuer), the benchmark's server (audit trail only),
 * and a server on the same database that verifies SMART tokens, applies the patient
 * compartment, labels and stored Consents, and audits every request. Patient apps use tokens of their own patient; a clinician uses
 * user/ scopes while Consents of other patients (denying another user) are stored.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { load, spawnServer, type BenchEnv, type BenchRow, type BenchSuite, type LoadResult } from './harness.js';

const ISSUER = 'https://auth.bench';
const LOINC = 'http://loinc.org';
const json = { 'content-type': 'application/fhir+json' };

const patient = (i: number) => ({ resourceType: 'Patient', id: `sec-${i}`, name: [{ family: `Family${i % 97}` }], gender: i % 2 ? 'female' : 'male' });
const documentOf = (i: number, k: number) => ({
  resourceType: 'DocumentReference', id: `sec-${i}-${k}`, status: 'current', subject: { reference: `Patient/sec-${i}` },
  type: { coding: [{ system: LOINC, code: k === 0 ? '11488-4' : '18842-5' }] }, date: '2024-01-0' + (1 + (k % 9)) + 'T10:00:00Z',
  content: [{ attachment: { contentType: 'text/plain', url: `https://docs.example/${i}/${k}` } }],
});
/** A privacy Consent of patient i that denies another clinician everything. */
const consentOf = (i: number) => ({
  resourceType: 'Consent', id: `sec-consent-${i}`, status: 'active',
  scope: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/consentscope', code: 'patient-privacy' }] },
  category: [{ coding: [{ system: LOINC, code: '59284-0' }] }], patient: { reference: `Patient/sec-${i}` },
  policyRule: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: 'OPTIN' }] },
  provision: { type: 'permit', provision: [{ type: 'deny', actor: [{ role: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ParticipationType', code: 'PRCP' }] }, reference: { reference: 'Practitioner/blocked' } }] }] },
});

async function put(baseUrl: string, resources: Record<string, unknown>[]): Promise<void> {
  for (let start = 0; start < resources.length; start += 16) {
    await Promise.all(resources.slice(start, start + 16).map(async (r) => {
      const response = await fetch(`${baseUrl}/${r.resourceType}/${r.id}`, { method: 'PUT', headers: json, body: JSON.stringify(r) });
      if (!response.ok) throw new Error(`loading ${r.resourceType}/${r.id}: ${response.status} ${await response.text()}`);
    }));
  }
}

async function issuer() {
  const { publicKey, privateKey } = await generateKeyPair('RS256');
  const jwk = { ...(await exportJWK(publicKey)), kid: 'bench', alg: 'RS256', use: 'sig' };
  const file = join(mkdtempSync(join(tmpdir(), 'bench-jwks-')), 'jwks.json');
  writeFileSync(file, JSON.stringify({ keys: [jwk] }));
  const token = (claims: Record<string, unknown>, audience: string) =>
    new SignJWT(claims).setProtectedHeader({ alg: 'RS256', kid: 'bench' }).setIssuer(ISSUER).setAudience(audience).setIssuedAt().setExpirationTime('2h').sign(privateKey);
  return { file, token };
}

export const securitySuite: BenchSuite = {
  name: 'security',
  async run(env: BenchEnv): Promise<BenchRow[]> {
    const patients = Number(process.env.BENCH_SECURITY_PATIENTS ?? 2000);
    const consents = Math.min(patients, Number(process.env.BENCH_SECURITY_CONSENTS ?? 200));
    await put(env.baseUrl, Array.from({ length: patients }, (_, i) => patient(i)));
    await put(env.baseUrl, Array.from({ length: patients }, (_, i) => [documentOf(i, 0), documentOf(i, 1)]).flat());
    await put(env.baseUrl, Array.from({ length: consents }, (_, i) => consentOf(patients - 1 - i)));

    const keys = await issuer();
    const secured = await spawnServer(env.mongoUri, env.dbName, { AUTH_ISSUER: ISSUER, AUTH_JWKS_FILE: keys.file });
    // The baseline: nothing of security at all (no token checks, no Consents, no audit trail).
    const bare = await spawnServer(env.mongoUri, env.dbName, { AUDIT_TRAIL: 'off' });
    try {
      const audience = secured.baseUrl;
      const apps = await Promise.all(
        Array.from({ length: 200 }, async (_, n) => {
          const i = Math.floor((n * patients) / 200);
          return { id: `sec-${i}`, authorization: `Bearer ${await keys.token({ scope: 'launch/patient patient/*.rs', patient: `sec-${i}`, client_id: 'bench-app' }, audience)}` };
        }),
      );
      const clinician = `Bearer ${await keys.token({ scope: 'user/*.rs', fhirUser: 'Practitioner/dr', client_id: 'bench-ehr' }, audience)}`;

      // Each measurement follows a warm-up of its own (2 s, not counted), so no server is measured while its JIT and caches warm.
      const run = async (baseUrl: string, path: (id: string) => string, authorization?: (n: number) => { id: string; authorization?: string }): Promise<LoadResult> => {
        await measure(baseUrl, path, 2, authorization);
        return measure(baseUrl, path, env.seconds, authorization);
      };
      const measure = (baseUrl: string, path: (id: string) => string, seconds: number, authorization?: (n: number) => { id: string; authorization?: string }): Promise<LoadResult> => {
        const url = new URL(baseUrl);
        return load({
          url: url.origin, connections: env.concurrency, duration: seconds,
          requests: [{
            method: 'GET',
            setupRequest: (req) => {
              const n = Math.floor(Math.random() * apps.length);
              const who = authorization ? authorization(n) : { id: apps[n].id };
              const headers = who.authorization ? { ...req.headers, authorization: who.authorization } : req.headers;
              return { ...req, path: `${url.pathname}/${path(who.id)}`, headers };
            },
          }],
        });
      };
      const asPatient = (n: number) => apps[n];
      const asClinician = (n: number) => ({ id: apps[n].id, authorization: clinician });
      const shapes: [string, (id: string) => string][] = [
        ['GET Patient/[id]', (id) => `Patient/${id}`],
        ['DocumentReference?subject&type', (id) => `DocumentReference?subject=Patient/${id}&type=${LOINC}|11488-4`],
      ];
      const rows: BenchRow[] = [];
      const row = (name: string, result: LoadResult, off?: LoadResult): BenchRow => ({
        suite: 'security', name, rate: result.rate, p50Ms: result.p50Ms, p99Ms: result.p99Ms,
        note: [off ? `/off ${(result.rate / off.rate).toFixed(2)}` : 'off: no tokens, no Consents, no audit', result.errors ? `${result.errors} errors` : ''].filter(Boolean).join(', '),
      });
      for (const [name, path] of shapes) {
        const off = await run(bare.baseUrl, path);
        rows.push(row(name, off));
        rows.push(row('  audit trail only', await run(env.baseUrl, path), off));
        rows.push(row(`  patient token`, await run(secured.baseUrl, path, asPatient), off));
        rows.push(row(`  user token, ${consents} Consents`, await run(secured.baseUrl, path, asClinician), off));
      }
      return rows;
    } finally {
      await Promise.all([secured.stop(), bare.stop()]);
    }
  },
};
