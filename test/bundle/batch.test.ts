import t from 'tap';
import { createResource, patient } from '../helpers/fhir.js';
import { createEntry, postBundle } from '../helpers/bundle.js';
import { startTestServer } from '../helpers/server.js';
import { asCaller, scope } from '../helpers/access.js';

t.test('a batch answers batch-response with one entry per entry, in order', async (t) => {
  const s = await startTestServer(t);
  const existing = await createResource(s, patient('Read'));
  const response = await postBundle(s, 'batch', [
    createEntry(patient('New')),
    { request: { method: 'GET', url: `Patient/${existing.id}` } },
    { request: { method: 'GET', url: 'Patient?family=Read' } },
    { request: { method: 'GET', url: `Patient/${existing.id}/_history` } },
  ]);
  t.equal(response.statusCode, 200, response.body);
  const body = s.json(response);
  t.equal(body.type, 'batch-response');
  t.same(body.entry.map((e: any) => e.response.status), ['201 Created', '200 OK', '200 OK', '200 OK']);
  t.equal(body.entry[1].resource.id, existing.id);
  t.equal(body.entry[1].response.etag, 'W/"1"');
  t.equal(body.entry[2].resource.type, 'searchset');
  t.equal(body.entry[3].resource.type, 'history');
});

t.test('a failing batch entry gets its own status and OperationOutcome; the others succeed', async (t) => {
  const s = await startTestServer(t);
  const response = await postBundle(s, 'batch', [
    createEntry(patient('Fine')),
    createEntry({ resourceType: 'Patient', gender: 'not-a-gender' }),
    { request: { method: 'GET', url: 'Patient/missing' } },
    { request: { method: 'GET', url: 'NoSuchType/1' } },
    { request: { method: 'FETCH', url: 'Patient' } },
    createEntry(patient('AlsoFine')),
  ]);
  t.equal(response.statusCode, 200);
  const body = s.json(response);
  t.same(body.entry.map((e: any) => e.response.status), ['201 Created', '422 Unprocessable Entity', '404 Not Found', '404 Not Found', '400 Bad Request', '201 Created']);
  t.equal(body.entry[1].response.outcome.resourceType, 'OperationOutcome');
  t.equal(await s.db.collection('Patient').countDocuments(), 2);
});

t.test('batch entries cover update, conditional create, conditional update, delete, vread and $validate', async (t) => {
  const s = await startTestServer(t);
  const existing = await createResource(s, patient('Many', { identifier: [{ system: 'http://hospital.test/mrn', value: 'b1' }] }));
  const response = await postBundle(s, 'batch', [
    { resource: { ...existing, active: true }, request: { method: 'PUT', url: `Patient/${existing.id}` } },
    createEntry(patient('Dup'), undefined, { ifNoneExist: 'identifier=http://hospital.test/mrn|b1' }),
    { resource: patient('Upserted', { identifier: [{ system: 'http://hospital.test/mrn', value: 'b2' }] }), request: { method: 'PUT', url: 'Patient?identifier=http://hospital.test/mrn|b2' } },
    { request: { method: 'GET', url: `Patient/${existing.id}/_history/1` } },
    { resource: patient('Check'), request: { method: 'POST', url: 'Patient/$validate' } },
    { request: { method: 'DELETE', url: `Patient/${existing.id}` } },
  ]);
  t.equal(response.statusCode, 200, response.body);
  const body = s.json(response);
  t.same(body.entry.map((e: any) => e.response.status), ['200 OK', '200 OK', '201 Created', '200 OK', '200 OK', '204 No Content']);
  t.equal(body.entry[1].resource.id, existing.id, 'the conditional create found the existing patient');
  t.equal(body.entry[4].resource.resourceType, 'OperationOutcome');
});

t.test('batch entries do not see each other\'s urn:uuid: references are not rewritten', async (t) => {
  const s = await startTestServer(t);
  const patientUrl = 'urn:uuid:6f0b7a5e-0d3f-4c54-9d8a-1f0f5c0b0a11';
  const response = await postBundle(s, 'batch', [
    createEntry(patient(), patientUrl),
    createEntry({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { title: 'x' } }], subject: { reference: patientUrl } }),
  ]);
  const body = s.json(response);
  t.equal(body.entry[1].resource.subject.reference, patientUrl);
});

t.test('each batch entry is authorized on its own: a missing scope refuses that entry only', async (t) => {
  const admin = await startTestServer(t);
  const s = await startTestServer(t, { dbName: admin.db.databaseName, app: asCaller({ scopes: [scope('system/Patient.cruds')] }) });
  const response = await postBundle(s, 'batch', [
    createEntry(patient()),
    createEntry({ resourceType: 'DocumentReference', status: 'current', content: [{ attachment: { title: 'x' } }] }),
  ]);
  t.same(s.json(response).entry.map((e: any) => e.response.status), ['201 Created', '403 Forbidden']);
});

t.test('a bundle that is not a batch or transaction is 400', async (t) => {
  const s = await startTestServer(t);
  const response = await s.request({ method: 'POST', url: s.base, headers: { 'content-type': 'application/fhir+json' }, payload: { resourceType: 'Bundle', type: 'collection' } });
  t.equal(response.statusCode, 400);
  const notBundle = await s.request({ method: 'POST', url: s.base, headers: { 'content-type': 'application/fhir+json' }, payload: patient() });
  t.equal(notBundle.statusCode, 400);
});

t.test('every batch entry gets an AuditEvent of its own besides the batch\'s', async (t) => {
  const s = await startTestServer(t);
  const existing = await createResource(s, patient('Audited'));
  const requestId = `batch-audit-${process.pid}`;
  await s.request({
    method: 'POST', url: s.base, headers: { 'content-type': 'application/fhir+json', 'x-request-id': requestId },
    payload: { resourceType: 'Bundle', type: 'batch', entry: [createEntry(patient('One')), { request: { method: 'GET', url: `Patient/${existing.id}` } }, { request: { method: 'GET', url: 'Patient/missing' } }] },
  });
  const events = await s.db.collection('AuditEvent').find({ 'resource.entity.what.identifier.value': requestId }).toArray();
  const subtypes = events.map((e) => e.resource.subtype[0].code).sort();
  t.same(subtypes, ['batch', 'create', 'read', 'read']);
  const outcomes = events.filter((e) => e.resource.subtype[0].code === 'read').map((e) => e.resource.outcome).sort();
  t.same(outcomes, ['0', '4'], 'the failed read is recorded as failed');
  const readEvent = events.find((e) => e.resource.subtype[0].code === 'read' && e.resource.outcome === '0');
  t.ok(readEvent?.resource.entity.some((en: any) => en.what?.reference === `Patient/${existing.id}/_history/1`), 'naming the patient read');
});
