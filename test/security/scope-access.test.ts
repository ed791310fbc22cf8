import t from 'tap';
import type { Interaction } from '../../src/security/context.js';
import { asCaller, patientApp, RESTRICTED, scope } from '../helpers/access.js';
import { createAll, matchIds } from '../helpers/search.js';
import { FHIR_JSON_HEADERS, startTestServer, type TestServer } from '../helpers/server.js';

const patient = (id: string, extra: Record<string, unknown> = {}) => ({ resourceType: 'Patient', id, gender: 'female', ...extra });

/** One request per interaction letter, each on its own resource so they can run in any order. */
const interactions: Record<Interaction, (s: TestServer) => Promise<number>> = {
  c: async (s) => (await s.request({ method: 'POST', url: '/fhir/Patient', headers: FHIR_JSON_HEADERS, payload: patient('ignored') })).statusCode,
  r: async (s) => (await s.request({ method: 'GET', url: '/fhir/Patient/p1' })).statusCode,
  u: async (s) => (await s.request({ method: 'PUT', url: '/fhir/Patient/p2', headers: FHIR_JSON_HEADERS, payload: patient('p2', { gender: 'male' }) })).statusCode,
  d: async (s) => (await s.request({ method: 'DELETE', url: '/fhir/Patient/p3' })).statusCode,
  s: async (s) => (await s.request({ method: 'GET', url: '/fhir/Patient?gender=female' })).statusCode,
};
const OK: Record<Interaction, number> = { c: 201, r: 200, u: 200, d: 200, s: 200 };

async function serverWith(t: Parameters<typeof startTestServer>[0], admin: TestServer, scopes: string[], extra = {}) {
  return startTestServer(t, { dbName: admin.db.databaseName, app: asCaller({ scopes: scopes.map(scope), ...extra }) });
}

t.test('each interaction needs its scope letter, and only that one', async (t) => {
  const letters: Interaction[] = ['c', 'r', 'u', 'd', 's'];
  for (const letter of letters) {
    const admin = await startTestServer(t);
    await createAll(admin, [patient('p1'), patient('p2'), patient('p3')]);
    const without = await serverWith(t, admin, [`system/Patient.${letters.filter((l) => l !== letter).join('')}`]);
    t.equal(await interactions[letter](without), 403, `${letter} refused without it`);
    const only = await serverWith(t, admin, [`system/Patient.${letter}`]);
    t.equal(await interactions[letter](only), OK[letter], `${letter} allowed with it alone`);
  }
});

t.test('a scope for another type grants nothing on this one; * grants every type', async (t) => {
  const admin = await startTestServer(t);
  await createAll(admin, [patient('p1'), patient('p2'), patient('p3')]);
  const other = await serverWith(t, admin, ['system/Observation.cruds']);
  for (const letter of Object.keys(interactions) as Interaction[]) t.equal(await interactions[letter](other), 403, letter);
  const any = await serverWith(t, admin, ['system/*.rs']);
  t.equal(await interactions.r(any), 200);
  t.equal(await interactions.u(any), 403);
});

t.test('the refusal is an OperationOutcome naming the missing scope', async (t) => {
  const admin = await startTestServer(t);
  const s = await serverWith(t, admin, ['system/Patient.rs']);
  const r = await s.request({ method: 'POST', url: '/fhir/Patient', headers: FHIR_JSON_HEADERS, payload: patient('x') });
  t.equal(r.statusCode, 403);
  t.match(s.json(r), { resourceType: 'OperationOutcome', issue: [{ code: 'forbidden', diagnostics: /create Patient/ }] });
});

t.test('history and vread need read access; a system search covers only the types it may search', async (t) => {
  const admin = await startTestServer(t);
  await createAll(admin, [patient('p1'), { resourceType: 'Consent', id: 'c1', status: 'active', scope: { text: 'privacy' }, category: [{ text: 'x' }], patient: { reference: 'Patient/p1' }, policyRule: { text: 'opt-in' } }]);
  const searchOnly = await serverWith(t, admin, ['system/*.s']);
  t.equal((await searchOnly.request({ method: 'GET', url: '/fhir/Patient/p1/_history' })).statusCode, 403);
  t.equal((await searchOnly.request({ method: 'GET', url: '/fhir/Patient/p1/_history/1' })).statusCode, 403);
  const patientsOnly = await serverWith(t, admin, ['system/Patient.rs']);
  t.same(await matchIds(patientsOnly, ''), ['p1'], 'the Consent is left out');
  t.equal((await patientsOnly.request({ method: 'GET', url: '/fhir/?_type=Consent' })).statusCode, 403);
});

t.test('restricted labels are hidden unless the token grants them', async (t) => {
  const admin = await startTestServer(t);
  await createAll(admin, [patient('open'), patient('secret', { meta: RESTRICTED })]);
  const clinician = { fhirUser: 'Practitioner/dr', scopes: [scope('user/*.cruds')] };
  const plain = await startTestServer(t, { dbName: admin.db.databaseName, app: asCaller(clinician) });
  t.equal((await plain.request({ method: 'GET', url: '/fhir/Patient/secret' })).statusCode, 404);
  t.same(await matchIds(plain, 'Patient'), ['open']);
  const write = await plain.request({ method: 'PUT', url: '/fhir/Patient/new', headers: FHIR_JSON_HEADERS, payload: patient('new', { meta: RESTRICTED }) });
  t.equal(write.statusCode, 403, 'it cannot write a label it may not read');
  const granted = await startTestServer(t, { dbName: admin.db.databaseName, app: asCaller({ ...clinician, grantedLabels: ['R'] }) });
  t.equal((await granted.request({ method: 'GET', url: '/fhir/Patient/secret' })).statusCode, 200);
  t.same(await matchIds(granted, 'Patient'), ['open', 'secret']);
});

t.test('break-the-glass sees restricted labels', async (t) => {
  const admin = await startTestServer(t);
  await createAll(admin, [patient('secret', { meta: RESTRICTED })]);
  const app = asCaller({ fhirUser: 'Practitioner/dr', scopes: [scope('user/*.rs')], purposeOfUse: ['BTG'], breakGlass: true });
  const btg = await startTestServer(t, { dbName: admin.db.databaseName, app });
  t.equal((await btg.request({ method: 'GET', url: '/fhir/Patient/secret' })).statusCode, 200);
});

t.test('a v2 query restriction narrows reads and searches; history under it is refused', async (t) => {
  const admin = await startTestServer(t);
  const doc = (id: string, code: string) => ({
    resourceType: 'DocumentReference', id, status: 'current', subject: { reference: 'Patient/alice' },
    type: { coding: [{ system: 'http://loinc.org', code }] }, content: [{ attachment: { contentType: 'text/plain' } }],
  });
  await createAll(admin, [patient('alice'), doc('note', '11488-4'), doc('summary', '18842-5')]);
  const app = patientApp('alice', 'patient/DocumentReference.rs?type=http://loinc.org|11488-4', 'patient/Patient.rs');
  const s = await startTestServer(t, { dbName: admin.db.databaseName, app });
  t.same(await matchIds(s, 'DocumentReference'), ['note']);
  t.equal((await s.request({ method: 'GET', url: '/fhir/DocumentReference/summary' })).statusCode, 404);
  t.equal((await s.request({ method: 'GET', url: '/fhir/DocumentReference/note' })).statusCode, 200);
  t.equal((await s.request({ method: 'GET', url: '/fhir/DocumentReference/note/_history' })).statusCode, 403);
  t.same(await matchIds(s, 'Patient?_revinclude=DocumentReference:subject'), ['alice']);
});

t.test('a patient signed in with user/ scopes is limited to her own compartment', async (t) => {
  const admin = await startTestServer(t);
  await createAll(admin, [patient('alice'), patient('bob')]);
  const s = await startTestServer(t, { dbName: admin.db.databaseName, app: asCaller({ fhirUser: 'Patient/alice', scopes: [scope('user/*.rs')] }) });
  t.same(await matchIds(s, 'Patient'), ['alice']);
});

t.test('$reindex needs a system/ scope to update the type', async (t) => {
  const admin = await startTestServer(t);
  const app = patientApp('alice', 'patient/*.cruds');
  const s = await startTestServer(t, { dbName: admin.db.databaseName, app });
  t.equal((await s.request({ method: 'POST', url: '/fhir/Patient/$reindex' })).statusCode, 403);
  const system = await serverWith(t, admin, ['system/Patient.u']);
  t.equal((await system.request({ method: 'POST', url: '/fhir/Patient/$reindex' })).statusCode, 200);
  t.equal((await system.request({ method: 'POST', url: '/fhir/$reindex' })).statusCode, 403, 'every type needs it');
});
