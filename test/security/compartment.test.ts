import t from 'tap';
import { asCaller, patientApp, scope } from '../helpers/access.js';
import { testIssuer } from '../helpers/tokens.js';
import { createAll, matchIds, searchBundle } from '../helpers/search.js';
import { FHIR_JSON_HEADERS, startTestServer, type TestServer } from '../helpers/server.js';

// Alice's app (patient/ scopes for alice) against a database holding Alice's and Bob's records.
const LOINC = 'http://loinc.org';
const doc = (id: string, subject: string, extra: Record<string, unknown> = {}) => ({
  resourceType: 'DocumentReference', id, status: 'current', subject: { reference: `Patient/${subject}` },
  type: { coding: [{ system: LOINC, code: '11488-4' }] }, content: [{ attachment: { contentType: 'text/plain' } }], ...extra,
});
const records = [
  { resourceType: 'Patient', id: 'alice', name: [{ family: 'Able' }], gender: 'female' },
  { resourceType: 'Patient', id: 'bob', name: [{ family: 'Baker' }], gender: 'male' },
  doc('a1', 'alice'),
  // Alice's document that Bob wrote: in both compartments (author is a Patient compartment parameter).
  doc('a2', 'alice', { author: [{ reference: 'Patient/bob' }] }),
  doc('b1', 'bob'),
  doc('b2', 'bob'),
];

const allEntryIds = (bundle: any): string[] => (bundle.entry ?? []).map((e: any) => e.resource?.id).filter(Boolean).sort();

async function setup(t: Parameters<typeof startTestServer>[0]): Promise<{ admin: TestServer; alice: TestServer }> {
  const admin = await startTestServer(t);
  await createAll(admin, records);
  // Bob's record changes once more, so his history has two versions.
  await createAll(admin, [{ ...records[1], gender: 'other' }]);
  const alice = await startTestServer(t, { dbName: admin.db.databaseName, app: patientApp('alice') });
  return { admin, alice };
}

t.test('a patient app reads its own records', async (t) => {
  const { alice } = await setup(t);
  t.equal((await alice.request({ method: 'GET', url: '/fhir/Patient/alice' })).statusCode, 200);
  t.equal((await alice.request({ method: 'GET', url: '/fhir/DocumentReference/a1' })).statusCode, 200);
  t.equal((await alice.request({ method: 'GET', url: '/fhir/Patient/alice/_history/1' })).statusCode, 200);
});

t.test("another patient's records answer 404, as if they did not exist", async (t) => {
  const { alice } = await setup(t);
  for (const url of ['Patient/bob', 'DocumentReference/b1', 'Patient/bob/_history/1', 'DocumentReference/b1/_history/1']) {
    const r = await alice.request({ method: 'GET', url: `/fhir/${url}` });
    t.equal(r.statusCode, 404, url);
    t.equal(alice.json(r).resourceType, 'OperationOutcome');
  }
});

t.test('searches, _id lists and totals are narrowed to the compartment', async (t) => {
  const { alice } = await setup(t);
  t.same(await matchIds(alice, 'Patient'), ['alice']);
  t.same(await matchIds(alice, 'Patient?_id=bob,alice'), ['alice']);
  t.same(await matchIds(alice, 'DocumentReference?type=11488-4'), ['a1', 'a2']);
  t.same(await matchIds(alice, 'DocumentReference?subject=Patient/bob'), []);
  t.equal((await searchBundle(alice, 'DocumentReference?_summary=count')).total, 2);
  t.equal((await searchBundle(alice, 'DocumentReference?_total=accurate')).total, 2);
});

t.test('_include and _revinclude do not reach into another patient', async (t) => {
  const { alice } = await setup(t);
  const included = await searchBundle(alice, 'DocumentReference?_id=a2&_include=DocumentReference:author&_include=DocumentReference:subject');
  t.same(allEntryIds(included), ['a2', 'alice'], "Bob, a2's author, is not included");
  const revincluded = await searchBundle(alice, 'Patient?_revinclude=DocumentReference:subject');
  t.same(allEntryIds(revincluded), ['a1', 'a2', 'alice']);
  const iterate = await searchBundle(alice, 'DocumentReference?_id=a2&_include=DocumentReference:author&_revinclude:iterate=DocumentReference:subject');
  t.same(allEntryIds(iterate), ['a2']);
});

t.test('chained and reverse-chained searches see only the compartment', async (t) => {
  const { alice } = await setup(t);
  t.same(await matchIds(alice, 'DocumentReference?subject:Patient.family=baker'), []);
  t.same(await matchIds(alice, 'DocumentReference?author:Patient.family=baker'), [], 'a2 is hers, but Bob is not visible to the chain');
  t.same(await matchIds(alice, 'Patient?_has:DocumentReference:subject:type=11488-4'), ['alice']);
  t.same(await matchIds(alice, 'Patient?_has:DocumentReference:author:_id=a2'), [], 'Bob is not revealed through his document');
});

t.test('a compartment search of another patient finds only what is also in her own', async (t) => {
  const { alice } = await setup(t);
  t.same(await matchIds(alice, 'Patient/bob/DocumentReference'), ['a2'], "only a2, hers, is also in Bob's compartment");
  t.same(await matchIds(alice, 'Patient/alice/DocumentReference'), ['a1', 'a2']);
});

t.test('system search with _type and without stays in the compartment', async (t) => {
  const { alice } = await setup(t);
  t.same(await matchIds(alice, '?_type=Patient,DocumentReference'), ['a1', 'a2', 'alice']);
  const everything = await searchBundle(alice, '?_count=1000');
  const types = new Set<string>(everything.entry.map((e: any) => e.resource.resourceType));
  t.same([...types].sort(), ['AuditEvent', 'DocumentReference', 'Patient'], 'her own accounting of disclosures too');
  const ids = everything.entry.filter((e: any) => e.resource.resourceType !== 'AuditEvent').map((e: any) => e.resource.id).sort();
  t.same(ids, ['a1', 'a2', 'alice']);
});

t.test('instance, type and system history show only the compartment', async (t) => {
  const { alice } = await setup(t);
  const ids = async (url: string) => {
    const r = await alice.request({ method: 'GET', url: `/fhir/${url}` });
    t.equal(r.statusCode, 200, url);
    const bundle = alice.json(r);
    return { ids: allEntryIds(bundle), total: bundle.total };
  };
  t.same(await ids('Patient/bob/_history'), { ids: [], total: 0 });
  t.same(await ids('Patient/_history'), { ids: ['alice'], total: 1 });
  t.same(await ids('DocumentReference/_history'), { ids: ['a1', 'a2'], total: 2 });
  t.same(await ids('_history'), { ids: ['a1', 'a2', 'alice'], total: 3 });
});

t.test("writes into another patient's compartment are refused", async (t) => {
  const { admin, alice } = await setup(t);
  const post = await alice.request({ method: 'POST', url: '/fhir/DocumentReference', headers: FHIR_JSON_HEADERS, payload: doc('x', 'bob') });
  t.equal(post.statusCode, 403, 'create for Bob');
  const moved = await alice.request({ method: 'PUT', url: '/fhir/DocumentReference/a1', headers: FHIR_JSON_HEADERS, payload: doc('a1', 'bob') });
  t.equal(moved.statusCode, 403, "moving her document into Bob's compartment");
  const put = await alice.request({ method: 'PUT', url: '/fhir/DocumentReference/b1', headers: FHIR_JSON_HEADERS, payload: doc('b1', 'alice') });
  t.equal(put.statusCode, 403, "taking over Bob's document");
  const del = await alice.request({ method: 'DELETE', url: '/fhir/DocumentReference/b2' });
  const missing = await alice.request({ method: 'DELETE', url: '/fhir/DocumentReference/nothing-here' });
  t.equal(del.statusCode, 200, "deleting Bob's document deletes nothing...");
  t.same([del.statusCode, alice.json(del).issue[0].code], [missing.statusCode, alice.json(missing).issue[0].code], '...and answers as for a missing id');
  const newId = await alice.request({ method: 'PUT', url: '/fhir/DocumentReference/new-id', headers: FHIR_JSON_HEADERS, payload: doc('new-id', 'alice') });
  t.equal(newId.statusCode, 403, 'a PUT creating a client-chosen id is refused as a PUT on a hidden one is: neither tells');
  t.equal((await admin.request({ method: 'GET', url: '/fhir/DocumentReference/b2' })).statusCode, 200, 'nothing of his changed');
  t.equal(admin.json(await admin.request({ method: 'GET', url: '/fhir/DocumentReference/b1' })).subject.reference, 'Patient/bob');
  const own = await alice.request({ method: 'POST', url: '/fhir/DocumentReference', headers: FHIR_JSON_HEADERS, payload: doc('y', 'alice') });
  t.equal(own.statusCode, 201, 'a document of her own');
});

t.test("bundles: a patient app's batch reads and searches stay in its compartment, and its transaction cannot write outside it", async (t) => {
  const { admin, alice } = await setup(t);
  const batch = {
    resourceType: 'Bundle', type: 'batch',
    entry: [
      { request: { method: 'GET', url: 'Patient/bob' } },
      { request: { method: 'GET', url: 'DocumentReference?subject=Patient/bob' } },
      { request: { method: 'GET', url: 'Patient/alice' } },
      { request: { method: 'GET', url: 'Patient/bob/_history' } },
    ],
  };
  const answer = alice.json(await alice.request({ method: 'POST', url: '/fhir', headers: FHIR_JSON_HEADERS, payload: batch }));
  t.same(answer.entry.map((e: any) => e.response.status.split(' ')[0]), ['404', '200', '200', '200']);
  t.equal(answer.entry[1].resource.entry, undefined, "Bob's documents are not found");
  t.equal(answer.entry[3].resource.total, 0, "nor his history");
  const transaction = {
    resourceType: 'Bundle', type: 'transaction',
    entry: [
      { fullUrl: 'urn:uuid:6f0b7b52-1d0e-4a4c-9d5e-1b2c3d4e5f60', resource: doc('t1', 'alice'), request: { method: 'POST', url: 'DocumentReference' } },
      { resource: doc('b1', 'alice'), request: { method: 'PUT', url: 'DocumentReference/b1' } },
    ],
  };
  const refused = await alice.request({ method: 'POST', url: '/fhir', headers: FHIR_JSON_HEADERS, payload: transaction });
  t.equal(refused.statusCode, 403, "taking over Bob's document fails the whole transaction");
  t.same(await matchIds(admin, 'DocumentReference?subject=Patient/alice'), ['a1', 'a2'], 'and nothing of it was written');
});

t.test('accounting of disclosures: her app lists who accessed her records, and nothing else of the trail', async (t) => {
  const { admin, alice } = await setup(t);
  const clinician = await startTestServer(t, { dbName: admin.db.databaseName, app: asCaller({ fhirUser: 'Practitioner/dr', scopes: [scope('user/*.rs')] }) });
  await clinician.request({ method: 'GET', url: '/fhir/DocumentReference/a1' });
  await clinician.request({ method: 'GET', url: '/fhir/DocumentReference/b1' });
  await clinician.request({ method: 'GET', url: '/fhir/Patient?_id=alice,bob', headers: { 'x-request-id': 'both-found' } });
  const trail = await searchBundle(alice, 'AuditEvent?entity=Patient/alice&_count=1000');
  const patientsOf = (e: any) => e.entity.filter((x: any) => x.role?.code === '1').map((x: any) => x.what.reference);
  const requestOf = (e: any) => e.entity.find((x: any) => x.type?.code === 'XrequestId')?.what.identifier.value;
  const readers = trail.entry.flatMap((e: any) => e.resource.agent.map((a: any) => a.who?.reference)).filter(Boolean);
  t.ok(readers.includes('Practitioner/dr'), 'the clinician who read her record is named');
  t.notOk(trail.entry.some((e: any) => e.resource.entity.some((x: any) => x.what?.reference?.startsWith('DocumentReference/b1'))), "not the read of Bob's b1");

  // The search found both: one event, which she is shown without Bob.
  const search = trail.entry.map((e: any) => e.resource).find((e: any) => requestOf(e) === 'both-found');
  t.ok(search, 'the search that found her is listed');
  t.same(patientsOf(search), ['Patient/alice'], 'shown to her, the search event names no other patient');
  t.ok(search.meta.security?.some((c: any) => c.code === 'REDACTED'), 'and says it was redacted');
  const full = await clinician.request({ method: 'GET', url: `/fhir/AuditEvent/${search.id}` });
  t.same(patientsOf(clinician.json(full)).sort(), ['Patient/alice', 'Patient/bob'], 'the clinician sees the whole event');
  t.notOk(clinician.json(full).meta.security?.some((c: any) => c.code === 'REDACTED'));
  for (const url of [`AuditEvent/${search.id}`, `AuditEvent/${search.id}/_history/1`]) {
    const response = await alice.request({ method: 'GET', url: `/fhir/${url}` });
    t.equal(response.statusCode, 200, url);
    t.same(patientsOf(alice.json(response)), ['Patient/alice'], `${url} names no other patient`);
  }
  const history = await searchBundle(alice, `AuditEvent/${search.id}/_history`);
  t.same(patientsOf(history.entry[0].resource), ['Patient/alice'], 'nor does its history');
  const revincluded = await searchBundle(alice, 'Patient?_id=alice&_revinclude=AuditEvent:patient&_count=1000');
  const included = revincluded.entry.map((e: any) => e.resource).find((e: any) => e.id === search.id);
  t.same(included && patientsOf(included), ['Patient/alice'], 'nor as a _revinclude');

  // Asking the trail about another patient would tell her who appeared with her: refused.
  for (const query of ['AuditEvent?entity=Patient/bob', 'AuditEvent?patient=bob', 'AuditEvent?patient=Patient/alice,Patient/bob', 'AuditEvent?agent=Patient/bob', 'AuditEvent?entity:Patient=bob', 'AuditEvent?entity=bob', 'Patient/bob/AuditEvent', '?_type=AuditEvent&patient=bob', 'Patient?_has:AuditEvent:patient:entity=Patient/bob', 'Patient?_has:AuditEvent:entity:patient=bob']) {
    const response = await alice.request({ method: 'GET', url: `/fhir/${query}` });
    t.equal(response.statusCode, 403, query);
  }
  for (const query of ['AuditEvent?patient=alice', 'AuditEvent?entity=DocumentReference/a1', 'AuditEvent?agent=Practitioner/dr', 'Patient/alice/AuditEvent', 'AuditEvent?entity:Patient.family=Baker', 'Patient?_has:AuditEvent:patient:agent=Practitioner/dr']) {
    const response = await alice.request({ method: 'GET', url: `/fhir/${query}` });
    t.equal(response.statusCode, 200, query);
  }
  const chained = await searchBundle(alice, 'AuditEvent?entity:Patient.family=Baker');
  t.equal(chained.entry?.length ?? 0, 0, 'a chain into another patient finds nothing: its inner search sees only her');

  const write = await alice.request({ method: 'PUT', url: `/fhir/AuditEvent/${trail.entry[0].resource.id}`, headers: FHIR_JSON_HEADERS, payload: trail.entry[0].resource });
  t.equal(write.statusCode, 405, 'the trail cannot be rewritten');
  const { id: _id, meta: _meta, ...forged } = trail.entry[0].resource;
  const post = await alice.request({ method: 'POST', url: '/fhir/AuditEvent', headers: FHIR_JSON_HEADERS, payload: forged });
  t.equal(post.statusCode, 403, 'nor added to: a patient app cannot create AuditEvents');
});

t.test('patient/ scopes without a patient in the token see nothing', async (t) => {
  const admin = await startTestServer(t);
  await createAll(admin, records);
  const nobody = await startTestServer(t, { dbName: admin.db.databaseName, app: patientApp(undefined as unknown as string) });
  t.equal((await nobody.request({ method: 'GET', url: '/fhir/Patient/alice' })).statusCode, 404);
  t.same(await matchIds(nobody, 'DocumentReference'), []);
});

t.test('end to end: a SMART patient token (v1 scopes) reaches only its patient and cannot write', async (t) => {
  const issuer = await testIssuer();
  const admin = await startTestServer(t);
  await createAll(admin, records);
  const s = await startTestServer(t, { dbName: admin.db.databaseName, env: issuer.env });
  const headers = await issuer.bearer({ scope: 'openid fhirUser launch/patient patient/*.read', patient: 'alice', client_id: 'app' });
  t.equal((await s.request({ method: 'GET', url: '/fhir/Patient/alice', headers })).statusCode, 200);
  t.equal((await s.request({ method: 'GET', url: '/fhir/Patient/bob', headers })).statusCode, 404);
  const bundle = s.json(await s.request({ method: 'GET', url: '/fhir/DocumentReference', headers }));
  t.same(allEntryIds(bundle), ['a1', 'a2']);
  const write = await s.request({ method: 'POST', url: '/fhir/DocumentReference', headers: { ...headers, ...FHIR_JSON_HEADERS }, payload: doc('z', 'alice') });
  t.equal(write.statusCode, 403, 'read scopes do not write');
  const clinician = await issuer.bearer({ scope: 'user/*.*', fhirUser: 'Practitioner/dr' });
  t.same(allEntryIds(s.json(await s.request({ method: 'GET', url: '/fhir/Patient', headers: clinician }))), ['alice', 'bob']);
});
